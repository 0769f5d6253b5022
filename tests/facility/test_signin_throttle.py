"""The sign-in lock-out: per account from one address, a higher ceiling per address, wrong sign-in
codes counted like wrong passwords, a separate counter for second-person passwords, kept in
PostgreSQL (a Redis restart does not lift it) and working while Redis is down."""

from datetime import timedelta

import pytest
import time_machine
from asgiref.local import Local
from django.conf import settings
from django.core.cache import cache, caches
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from facility.access import verify_cosigner
from facility.models import SignInFailure, SignInFailureKind
from tests.conftest import PASSWORD, totp_code

LOGIN = "/accounts/login/"
MFA = "/accounts/2fa/authenticate/"
STATION = "10.20.0.5"  # the nursing station's tablets, behind one address
ELSEWHERE = "10.20.9.9"
LOCKED = "Too many failed sign-in attempts. Try again in 15 minutes."


def sign_in(login, password=PASSWORD, *, ip=STATION):
    """A fresh tablet (no session) posting the sign-in form from `ip`."""
    return Client(REMOTE_ADDR=ip).post(LOGIN, {"login": login, "password": password})


def fail(login, times, *, ip=STATION):
    for _ in range(times):
        response = sign_in(login, "wrong-password-wrong", ip=ip)
        assert response.status_code == 200
        assert "not correct" in response.content.decode()


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == reverse("home")


@pytest.mark.django_db
def test_five_failures_lock_that_account_from_that_address_only(cast):
    fail("nurse", 5)
    response = sign_in("nurse")
    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    # The next tablet user at the same station is not locked out with them.
    assert signed_in(sign_in("technician"))
    # Nor is the nurse on another workstation.
    assert signed_in(sign_in("nurse", ip=ELSEWHERE))


@pytest.mark.django_db
def test_four_failures_then_the_right_password_signs_in(cast):
    fail("nurse", 4)
    assert signed_in(sign_in("nurse"))


@pytest.mark.django_db
def test_username_and_email_share_one_counter(cast):
    fail("nurse", 3)
    fail("NURSE@example.test", 2)
    assert LOCKED in sign_in("nurse").content.decode()


@pytest.mark.django_db
@override_settings(HAVEN_SIGNIN_ADDRESS_LIMIT=10)
def test_the_address_ceiling_blocks_everyone_from_that_address(cast):
    for login, times in [("nurse", 2), ("technician", 2), ("clinician", 2), ("other_nurse", 2)]:
        fail(login, times)
    fail("nobody-by-this-name", 1)
    # Nine failures across accounts: below the ceiling, and no account reached its own limit.
    assert signed_in(sign_in("other_technician"))
    fail("other_clinician", 1)
    # The tenth reaches the ceiling: nobody signs in from the station, not even a clean account.
    response = sign_in("other_technician")
    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert signed_in(sign_in("other_technician", ip=ELSEWHERE))


@pytest.mark.django_db
def test_five_wrong_sign_in_codes_lock_the_account(cast):
    supervisor = cast["supervisor"]
    tablet = Client(REMOTE_ADDR=STATION)
    response = tablet.post(LOGIN, {"login": "supervisor", "password": PASSWORD})
    assert response["Location"] == MFA
    for _ in range(5):
        response = tablet.post(MFA, {"code": "000000"})
        assert response.status_code == 200
        assert "Incorrect code" in response.content.decode()
    # The right code is refused now, and the password step too from this address.
    response = tablet.post(MFA, {"code": totp_code(supervisor)})
    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert tablet.get(reverse("alerts")).status_code == 302
    assert LOCKED in sign_in("supervisor").content.decode()
    assert SignInFailure.objects.filter(username_key=f"user:{supervisor.pk}").count() == 5
    # From another address the supervisor gets through both steps.
    elsewhere = Client(REMOTE_ADDR=ELSEWHERE)
    assert elsewhere.post(LOGIN, {"login": "supervisor", "password": PASSWORD})["Location"] == MFA
    response = elsewhere.post(MFA, {"code": totp_code(supervisor)})
    assert response.status_code == 302
    assert elsewhere.get(reverse("alerts")).status_code == 200


def cosign(facility, username, password):
    request = RequestFactory().post("/medications/", REMOTE_ADDR=STATION)
    return verify_cosigner(request, username=username, password=password, facility=facility)


@pytest.mark.django_db
def test_wrong_second_person_passwords_block_co_signing_not_sign_in(cast, facility):
    for _ in range(5):
        with pytest.raises(ValidationError, match="username or password is not correct"):
            cosign(facility, "nurse", "wrong-password-wrong")
    with pytest.raises(
        ValidationError, match="Second person: too many failed attempts; try later."
    ):
        cosign(facility, "nurse", PASSWORD)
    # Another nurse can still co-sign.
    assert cosign(facility, "technician", PASSWORD) == cast["technician"]
    # The nurse's own sign-in, from the same station, is untouched.
    assert signed_in(sign_in("nurse"))
    assert not SignInFailure.objects.filter(kind=SignInFailureKind.SIGN_IN).exists()


@pytest.mark.django_db
def test_a_locked_sign_in_does_not_block_co_signing(cast, facility):
    fail("nurse", 5)
    assert LOCKED in sign_in("nurse").content.decode()
    assert cosign(facility, "nurse", PASSWORD) == cast["nurse"]


@pytest.mark.django_db
def test_a_deactivated_colleague_cannot_co_sign(cast, facility):
    cast["nurse"].is_active = False
    cast["nurse"].save()
    with pytest.raises(ValidationError, match="not correct"):
        cosign(facility, "nurse", PASSWORD)


@pytest.mark.django_db
def test_lock_out_survives_a_redis_restart(cast):
    fail("nurse", 5)
    cache.clear()  # what a Redis restart does to everything in it
    assert LOCKED in sign_in("nurse").content.decode()
    assert SignInFailure.objects.filter(kind=SignInFailureKind.SIGN_IN).count() == 5


@pytest.mark.django_db
def test_sign_in_works_while_redis_is_unreachable(cast):
    unreachable = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}}
    with override_settings(CACHES=unreachable):
        # override_settings resets the cache handler too; be explicit that no old client survives.
        caches._connections = Local()
        assert signed_in(sign_in("nurse"))
        response = sign_in("technician", "wrong-password-wrong")
        assert response.status_code == 200
        assert "not correct" in response.content.decode()
        fail("technician", 4)
        assert LOCKED in sign_in("technician").content.decode()


@pytest.mark.django_db
def test_old_failures_stop_counting_and_are_pruned(cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        fail("nurse", 5)
        traveller.move_to(start + timedelta(minutes=14))
        response = sign_in("nurse")
        assert "Try again in 1 minute." in response.content.decode()
        traveller.move_to(start + timedelta(minutes=15, seconds=1))
        assert signed_in(sign_in("nurse"))
        fail("technician", 1)
    # Recording a new failure removed the ones that no longer count.
    assert SignInFailure.objects.count() == 1
