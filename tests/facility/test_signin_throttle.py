"""The sign-in lock-out: per account from one address, a higher ceiling per address, wrong sign-in
codes counted like wrong passwords, a separate counter for second-person passwords, kept in
PostgreSQL (a Redis restart does not lift it) and working while Redis is down. Browsers that
trust an account (device cookie) have their own counter, so nobody can lock a station out."""

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

from facility import throttle
from facility.access import verify_cosigner
from facility.models import AccessAction, AccessEvent, Alert, SignInFailure, SignInFailureKind
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


def cosign(facility, username, password, *, actor=None):
    request = RequestFactory().post("/medications/", REMOTE_ADDR=STATION)
    if actor is not None:
        request.user = actor
    return verify_cosigner(request, username=username, password=password, facility=facility)


@pytest.mark.django_db
def test_wrong_second_person_passwords_block_co_signing_not_sign_in(cast, facility):
    for _ in range(5):
        with pytest.raises(ValidationError, match="username or password is not correct"):
            cosign(facility, "nurse", "wrong-password-wrong", actor=cast["clinician"])
    with pytest.raises(
        ValidationError, match="Second person: too many failed attempts; try later."
    ):
        cosign(facility, "nurse", PASSWORD, actor=cast["clinician"])
    # Another nurse can still co-sign.
    assert cosign(facility, "technician", PASSWORD, actor=cast["clinician"]) == cast["technician"]
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


# Device cookies: a browser where the account signed in before is trusted for it ------------------


def trusted_tablet(login, *, ip=STATION) -> Client:
    """A tablet where `login` signed in and out again: it keeps the device cookie."""
    tablet = Client(REMOTE_ADDR=ip)
    assert signed_in(tablet.post(LOGIN, {"login": login, "password": PASSWORD}))
    assert tablet.post(reverse("account_logout")).status_code == 302
    assert throttle.DEVICE_COOKIE in tablet.cookies
    return tablet


def sign_in_on(tablet: Client, login, password=PASSWORD):
    return tablet.post(LOGIN, {"login": login, "password": password})


@pytest.mark.django_db
def test_the_device_cookie_is_signed_httponly_and_names_the_account(cast):
    tablet = trusted_tablet("nurse")
    cookie = tablet.cookies[throttle.DEVICE_COOKIE]
    assert cookie["httponly"]
    assert cookie["max-age"] == settings.HAVEN_DEVICE_COOKIE_DAYS * 86400
    request = RequestFactory().get("/", HTTP_COOKIE=f"{throttle.DEVICE_COOKIE}={cookie.value}")
    device = throttle.device_for(request, throttle.user_key(cast["nurse"]))
    assert device
    assert throttle.device_for(request, throttle.user_key(cast["technician"])) == ""
    # A second account on the same tablet joins the same cookie and device.
    assert signed_in(sign_in_on(tablet, "technician"))
    request.COOKIES[throttle.DEVICE_COOKIE] = tablet.cookies[throttle.DEVICE_COOKIE].value
    assert throttle.device_for(request, throttle.user_key(cast["nurse"])) == device
    assert throttle.device_for(request, throttle.user_key(cast["technician"])) == device
    # A forged or altered cookie trusts nothing.
    request.COOKIES[throttle.DEVICE_COOKIE] = cookie.value[:-2] + "xx"
    assert throttle.device_for(request, throttle.user_key(cast["nurse"])) == ""


@pytest.mark.django_db
def test_guessing_at_a_nurse_does_not_lock_her_out_of_her_own_tablet(cast):
    tablet = trusted_tablet("nurse")
    fail("nurse", 5)  # someone else, at the same station, on a browser she never used
    assert LOCKED in sign_in("nurse").content.decode()
    assert signed_in(sign_in_on(tablet, "nurse"))


@pytest.mark.django_db
@override_settings(HAVEN_SIGNIN_ADDRESS_LIMIT=10)
def test_the_address_ceiling_does_not_block_trusted_tablets(cast):
    tablet = trusted_tablet("nurse")
    for n in range(10):
        fail(f"made-up-{n}", 1)
    assert LOCKED in sign_in("technician").content.decode()
    assert signed_in(sign_in_on(tablet, "nurse"))


@pytest.mark.django_db
def test_a_trusted_tablet_has_its_own_five_failures(cast):
    tablet = trusted_tablet("nurse")
    for _ in range(5):
        assert "not correct" in sign_in_on(tablet, "nurse", "wrong-password-wrong").content.decode()
    assert LOCKED in sign_in_on(tablet, "nurse").content.decode()
    # Those failures do not count against untrusted browsers, nor the station's ceiling.
    assert signed_in(sign_in("nurse"))
    assert signed_in(sign_in("technician"))


@pytest.mark.django_db
def test_guessing_from_many_addresses_locks_the_account_for_untrusted_browsers(cast):
    tablet = trusted_tablet("nurse")
    limit = settings.HAVEN_SIGNIN_UNTRUSTED_ACCOUNT_LIMIT
    for n in range(limit):
        fail("nurse", 1, ip=f"10.30.{n // 200}.{n % 200 + 1}")
    # Every address is under its own limit, but the account's ceiling is reached.
    response = sign_in("nurse", ip="10.99.0.1")
    assert LOCKED in response.content.decode()
    assert signed_in(sign_in_on(tablet, "nurse"))


@pytest.mark.django_db
def test_allauths_per_address_login_limit_does_not_answer_429_to_a_station(cast):
    for n in range(31):
        response = sign_in(f"made-up-{n}", "wrong-password-wrong")
        assert response.status_code == 200, n
    assert signed_in(sign_in("nurse"))


@pytest.mark.django_db
def test_a_lock_out_alerts_the_facility_and_refused_attempts_are_audited(cast, facility):
    nurse = cast["nurse"]
    fail("nurse", 4)
    assert not Alert.objects.filter(kind="signin_lockout").exists()
    fail("nurse", 1)
    alert = Alert.objects.get(kind="signin_lockout")
    assert alert.facility == facility
    assert alert.dedupe_key == f"signin-lockout:{facility.pk}:{nurse.pk}"
    assert "nurse" in alert.message
    assert LOCKED in sign_in("nurse").content.decode()
    assert LOCKED in sign_in("nurse").content.decode()
    assert Alert.objects.filter(kind="signin_lockout").count() == 1
    refused = AccessEvent.objects.filter(action=AccessAction.LOGIN_FAILED, outcome="locked")
    assert refused.count() == 2
    assert all(e.username == "nurse" and "locked out" in e.what for e in refused)
    assert {e.ip for e in refused} == {STATION}


@pytest.mark.django_db
def test_the_address_ceiling_raises_no_account_alert(cast):
    with override_settings(HAVEN_SIGNIN_ADDRESS_LIMIT=10):
        for n in range(10):
            fail(f"made-up-{n}", 1)
    assert not Alert.objects.exists()


# Co-signing ---------------------------------------------------------------------------------------

COSIGN_WRONG = "Second person: username or password is not correct, or they do not work here."
COSIGN_LOCKED = "Second person: too many failed attempts; try later."


@pytest.mark.django_db
def test_co_signing_is_no_password_oracle(cast, facility):
    # The right password of someone from another facility, and a wrong one: the same answer.
    for username, password in [("other_nurse", PASSWORD), ("other_nurse", "wrong-one-here")]:
        with pytest.raises(ValidationError) as caught:
            cosign(facility, username, password, actor=cast["nurse"])
        assert caught.value.messages == [COSIGN_WRONG]
    with pytest.raises(ValidationError) as caught:
        cosign(facility, "nobody-by-this-name", PASSWORD, actor=cast["nurse"])
    assert caught.value.messages == [COSIGN_WRONG]


@pytest.mark.django_db
def test_one_colleague_cannot_lock_out_anothers_co_signing(cast, facility):
    nurse, technician, clinician = cast["nurse"], cast["technician"], cast["clinician"]
    for _ in range(5):
        with pytest.raises(ValidationError, match="not correct"):
            cosign(facility, "nurse", "wrong-password-wrong", actor=technician)
    with pytest.raises(ValidationError) as caught:
        cosign(facility, "nurse", PASSWORD, actor=technician)
    assert caught.value.messages == [COSIGN_LOCKED]
    # Another colleague still gets the nurse's co-signature; the nurse still gets one herself.
    assert cosign(facility, "nurse", PASSWORD, actor=clinician) == nurse
    assert cosign(facility, "clinician", PASSWORD, actor=nurse) == clinician
    # The technician may still ask someone else.
    assert cosign(facility, "clinician", PASSWORD, actor=technician) == clinician


@pytest.mark.django_db
def test_the_signed_in_person_has_a_ceiling_across_co_signers(cast, facility):
    actor = cast["nurse"]
    names = ["technician", "clinician", "supervisor", "admin", "other_nurse"]
    for name in names * 2:  # two failures each: no pair reaches five
        with pytest.raises(ValidationError, match="not correct"):
            cosign(facility, name, "wrong-password-wrong", actor=actor)
    with pytest.raises(ValidationError) as caught:
        cosign(facility, "technician", PASSWORD, actor=actor)
    assert caught.value.messages == [COSIGN_LOCKED]
    assert cosign(facility, "technician", PASSWORD, actor=cast["clinician"]) == cast["technician"]


@pytest.mark.django_db
def test_failed_co_signs_are_audited_under_the_signed_in_person(cast, facility):
    actor = cast["technician"]
    with pytest.raises(ValidationError):
        cosign(facility, "nurse", "wrong-password-wrong", actor=actor)
    event = AccessEvent.objects.get(action=AccessAction.COSIGN_FAILED)
    assert event.user == actor
    assert event.facility == facility
    assert "nurse" in event.what
    assert event.outcome == "failed"
    # Not recorded as a failed sign-in by the nurse.
    assert not AccessEvent.objects.filter(action=AccessAction.LOGIN_FAILED).exists()


# Other places a secret is checked count towards the same lock-out --------------------------------


@pytest.mark.django_db
def test_wrong_codes_at_re_authentication_count(cast):
    supervisor = cast["supervisor"]
    browser = Client(REMOTE_ADDR=STATION)
    browser.force_login(supervisor)
    for _ in range(5):
        response = browser.post(reverse("mfa_reauthenticate"), {"code": "000000"})
        assert response.status_code == 200
    assert SignInFailure.objects.filter(username_key=f"user:{supervisor.pk}").count() == 5
    response = browser.post(reverse("mfa_reauthenticate"), {"code": totp_code(supervisor)})
    assert LOCKED in response.content.decode()
    assert LOCKED in sign_in("supervisor").content.decode()


@pytest.mark.django_db
def test_wrong_current_passwords_at_password_change_count(cast):
    nurse = cast["nurse"]
    browser = Client(REMOTE_ADDR=STATION)
    browser.force_login(nurse)
    change = reverse("account_change_password")
    new = {"password1": "a-new-long-password-77", "password2": "a-new-long-password-77"}
    for _ in range(5):
        response = browser.post(change, {"oldpassword": "wrong-password-wrong", **new})
        assert response.status_code == 200
    cache.clear()  # allauth's own limit of 5 password changes a minute per person, in the cache
    response = browser.post(change, {"oldpassword": PASSWORD, **new})
    assert LOCKED in response.content.decode()
    nurse.refresh_from_db()
    assert nurse.check_password(PASSWORD)
    assert LOCKED in sign_in("nurse").content.decode()


@pytest.mark.django_db
def test_a_password_change_revokes_every_browsers_trust(cast):
    """A browser that signed in with a stolen password loses its own counter once the password is
    reset (review of issue 7)."""
    tablet = trusted_tablet("nurse")
    request = RequestFactory().get(
        "/", HTTP_COOKIE=f"{throttle.DEVICE_COOKIE}={tablet.cookies[throttle.DEVICE_COOKIE].value}"
    )
    key = throttle.user_key(cast["nurse"])
    assert throttle.device_for(request, key)
    nurse = cast["nurse"]
    nurse.set_password("a-brand-new-password-2026")
    nurse.save()
    assert throttle.device_for(request, key) == ""
    nurse.set_password(PASSWORD)
    nurse.is_active = False
    nurse.save()
    assert throttle.device_for(request, key) == ""


@pytest.mark.django_db
def test_many_colleagues_guessing_one_persons_password_pause_its_co_signing_and_alert(
    cast, facility, settings
):
    from facility.models import Alert
    from tests.conftest import make_user

    settings.HAVEN_SIGNIN_UNTRUSTED_ACCOUNT_LIMIT = 10
    guessers = [make_user(f"guesser_{n}", "nurse", facility) for n in range(2)]
    for guesser in guessers:
        for _ in range(5):
            with pytest.raises(ValidationError, match="not correct"):
                cosign(facility, "nurse", "wrong-password-wrong", actor=guesser)
    # A third colleague, who typed nothing wrong, cannot use the nurse's co-signature for now.
    with pytest.raises(ValidationError) as caught:
        cosign(facility, "nurse", PASSWORD, actor=cast["technician"])
    assert caught.value.messages == [COSIGN_LOCKED]
    assert Alert.objects.filter(kind="cosign_lockout", facility=facility).exists()
    # Her own sign-in is untouched.
    assert signed_in(sign_in("nurse"))
