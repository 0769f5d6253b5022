"""Signing in: username or e-mail, MFA for supervisors and admins, throttling, idle timeout,
deactivation, and the headers that keep PHI out of caches."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from facility.models import AccessEvent, Role
from facility.services import staff_deactivate
from tests.conftest import PASSWORD, make_user, totp_code

LOGIN = "/accounts/login/"


def sign_in(client, login, password=PASSWORD):
    return client.post(LOGIN, {"login": login, "password": password})


@pytest.mark.django_db
def test_technician_signs_in_with_username_and_lands_on_my_work(client, cast):
    response = sign_in(client, "technician")
    assert response.status_code == 302
    landing = client.get(response["Location"], follow=True)
    assert landing.request["PATH_INFO"] == "/" and "<h1>My work" in landing.content.decode()
    assert AccessEvent.objects.filter(username="technician", action="login").count() == 1


@pytest.mark.django_db
def test_staff_can_sign_in_with_email(client, cast):
    response = sign_in(client, "nurse@example.test")
    assert response.status_code == 302
    assert client.get(reverse("clients:census")).status_code == 200


@pytest.mark.django_db
def test_wrong_password_is_refused_and_logged(client, cast):
    response = sign_in(client, "nurse", "not-the-password-at-all")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert client.get(reverse("clients:census")).status_code == 302
    assert AccessEvent.objects.filter(action="login_failed", username="nurse").exists()


@pytest.mark.django_db
def test_sign_up_is_closed(client, cast):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    assert "Sign Up Closed" in response.content.decode()
    client.post(
        "/accounts/signup/",
        {"username": "intruder", "email": "i@x.test", "password1": "x" * 14, "password2": "x" * 14},
    )
    from facility.models import User

    assert not User.objects.filter(username="intruder").exists()


@pytest.mark.django_db
def test_sixth_failed_login_in_fifteen_minutes_is_throttled(client, cast):
    for _ in range(5):
        response = sign_in(client, "nurse", "wrong-password-wrong")
        assert response.status_code == 200
    # Even the right password is refused while throttled (more in test_signin_throttle.py).
    response = sign_in(client, "nurse")
    assert response.status_code == 200
    assert "Too many failed sign-in attempts. Try again in 15 minutes." in response.content.decode()
    assert client.get(reverse("clients:census")).status_code == 302


@pytest.mark.django_db
def test_supervisor_without_mfa_must_enrol_before_any_page(client, roles, facility):
    make_user("newsup", Role.SUPERVISOR, facility, mfa=False)
    assert sign_in(client, "newsup").status_code == 302
    response = client.get(reverse("clients:census"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    # allauth asks for the password once more before an authenticator can be added.
    reauth = client.get(reverse("mfa_activate_totp"))
    assert reauth["Location"].startswith("/accounts/reauthenticate/")
    client.post(reauth["Location"], {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "requires two-factor authentication" in body
    assert "Authenticator code" in body


@pytest.mark.django_db
def test_admin_without_mfa_is_sent_to_enrolment(client, roles, facility):
    admin = make_user("newadmin", Role.ADMIN, facility, mfa=False)
    client.force_login(admin)
    assert client.get(reverse("staff_list"))["Location"] == reverse("mfa_activate_totp")


@pytest.mark.django_db
def test_technician_is_not_forced_into_mfa(client, roles, facility):
    tech = make_user("plaintech", Role.TECHNICIAN, facility, mfa=False)
    client.force_login(tech)
    assert client.get(reverse("clients:census")).status_code == 200


@pytest.mark.django_db
def test_supervisor_with_totp_needs_the_code_after_the_password(client, cast):
    response = sign_in(client, "supervisor")
    assert response["Location"] == "/accounts/2fa/authenticate/"
    # Password alone is not a session.
    assert client.get(reverse("alerts")).status_code == 302
    response = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert client.get(reverse("alerts")).status_code == 302
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(cast["supervisor"])})
    assert response.status_code == 302
    assert client.get(reverse("alerts")).status_code == 200


@pytest.mark.django_db
def test_idle_session_ends_after_timeout(client, cast):
    start = timezone.now()
    limit = settings.HAVEN_IDLE_TIMEOUT_MINUTES
    with time_machine.travel(start, tick=False) as traveller:
        client.force_login(cast["nurse"])
        assert client.get(reverse("clients:census")).status_code == 200
        traveller.move_to(start + timedelta(minutes=limit - 1))
        assert client.get(reverse("clients:census")).status_code == 200
        # Activity moved the clock forward; another limit-1 minutes is still fine.
        traveller.move_to(start + timedelta(minutes=2 * limit - 2))
        assert client.get(reverse("clients:census")).status_code == 200
        traveller.move_to(start + timedelta(minutes=3 * limit))
        response = client.get(reverse("clients:census"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
        # The session is gone, not just this request.
        assert client.get(reverse("clients:census")).status_code == 302


@pytest.mark.django_db
def test_background_polls_do_not_keep_a_session_alive(client, cast):
    start = timezone.now()
    limit = settings.HAVEN_IDLE_TIMEOUT_MINUTES
    with time_machine.travel(start, tick=False) as traveller:
        client.force_login(cast["nurse"])
        client.get(reverse("clients:census"))
        for minute in range(5, limit, 5):
            traveller.move_to(start + timedelta(minutes=minute))
            assert (
                client.get(
                    reverse("clients:census"), HTTP_HX_REQUEST="true", HTTP_X_HAVEN_POLL="1"
                ).status_code
                == 200
            )
        traveller.move_to(start + timedelta(minutes=limit + 1))
        assert client.get(reverse("clients:census")).status_code == 302


@pytest.mark.django_db
def test_page_carries_the_idle_warning_settings(client, cast):
    client.force_login(cast["technician"])
    body = client.get(reverse("clients:census")).content.decode()
    assert f'data-idle-timeout="{settings.HAVEN_IDLE_TIMEOUT_MINUTES * 60}"' in body
    assert 'id="idle-warning"' in body


@pytest.mark.django_db
def test_deactivating_a_user_ends_their_session_at_once(client, cast):
    client.force_login(cast["technician"])
    assert client.get(reverse("clients:census")).status_code == 200
    staff_deactivate(actor=cast["admin"], user=cast["technician"])
    assert client.get(reverse("clients:census")).status_code == 302
    # Signing in again with the right password does not open a session.
    sign_in(client, "technician")
    assert client.get(reverse("clients:census")).status_code == 302
    assert AccessEvent.objects.filter(action="deactivate").count() == 1


@pytest.mark.django_db
def test_phi_pages_are_not_cached_and_carry_a_strict_csp(client, cast, admission):
    client.force_login(cast["nurse"])
    response = client.get(reverse("clients:chart", args=[admission.client.public_id]))
    assert response["Cache-Control"] == "no-store"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "<script>" not in response.content.decode()


@pytest.mark.parametrize(
    "password, ok",
    [
        ("short-pass1", False),
        ("password1234", False),
        ("123456789012", False),
        ("lantern-orbit-947", True),
    ],
)
def test_passwords_need_twelve_characters_and_not_common(password, ok):
    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)


@pytest.mark.django_db
def test_the_sign_in_page_offers_password_reset_once(client):
    body = client.get("/accounts/login/").content.decode()
    assert body.count("Forgot your password?") == 1
    assert reverse("account_reset_password") in body


@pytest.mark.django_db
def test_only_the_security_tab_is_current_on_the_security_page(client, cast):
    client.force_login(cast["technician"])
    body = client.get(reverse("observations:security")).content.decode()
    assert body.count('aria-current="page"') == 1
    assert 'aria-current="page">Security' in body
