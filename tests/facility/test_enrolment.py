"""New supervisors and admins can enrol their authenticator, and nobody can stop them (issue 7).

The set-password link proves the e-mail address; an anonymous password-reset request, or a
bad reset link, never un-verifies an address or blocks enrolment.
"""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from facility.models import AccessAction, AccessEvent, Role, User
from tests.conftest import PASSWORD, make_user

BLOCKED = "You cannot activate two-factor authentication"


def enrolment_page(browser: Client, password: str) -> str:
    """Sign in, confirm the password again as allauth asks, and open the TOTP enrolment page."""
    reauth = browser.get(reverse("mfa_activate_totp"))
    if reauth.status_code == 302 and reauth["Location"].startswith("/accounts/reauthenticate/"):
        browser.post(reauth["Location"], {"password": password})
    page = browser.get(reverse("mfa_activate_totp"), follow=True)
    return page.content.decode()


def sign_in(browser: Client, username: str, password: str):
    return browser.post("/accounts/login/", {"login": username, "password": password})


@pytest.mark.django_db
def test_a_new_supervisor_sets_a_password_from_the_link_and_can_enrol(client, cast, facility):
    client.force_login(cast["admin"])
    response = client.post(
        reverse("staff_create"),
        {
            "username": "pat.supervisor",
            "full_name": "Pat Supervisor",
            "email": "pat@example.test",
            "initials": "PS",
            "credentials": "",
            "role": "supervisor",
            "facilities": [facility.pk],
        },
    )
    assert response.status_code == 302
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", mail.outbox[-1].body)
    newcomer = Client()
    form_page = newcomer.get(link.group(0), follow=True)
    set_url = form_page.redirect_chain[-1][0]
    password = "harbor-lantern-1729-pat"
    newcomer.post(set_url, {"password1": password, "password2": password})
    person = User.objects.get(username="pat.supervisor")
    assert person.has_usable_password()
    assert EmailAddress.objects.get(user=person).verified

    assert sign_in(newcomer, "pat.supervisor", password).status_code == 302
    body = enrolment_page(newcomer, password)
    assert BLOCKED not in body
    assert "Authenticator code" in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "prank",
    [
        lambda browser, user: browser.post("/accounts/password/reset/", {"email": user.email}),
        lambda browser, user: browser.get(f"/accounts/password/reset/key/{user.pk:x}-x/"),
        lambda browser, user: browser.get(f"/accounts/password/reset/key/{user.pk}-x/"),
    ],
    ids=["reset-request", "bad-key-hex", "bad-key"],
)
def test_an_anonymous_reset_request_cannot_block_enrolment(client, roles, facility, prank):
    supervisor = make_user("unenrolled", Role.SUPERVISOR, facility, mfa=False)
    verified_before = list(EmailAddress.objects.filter(user=supervisor, verified=True))
    prank(Client(), supervisor)
    assert not EmailAddress.objects.filter(user=supervisor, verified=False).exists()
    assert list(EmailAddress.objects.filter(user=supervisor, verified=True)) == verified_before

    assert sign_in(client, "unenrolled", PASSWORD).status_code == 302
    body = enrolment_page(client, PASSWORD)
    assert BLOCKED not in body
    assert "Authenticator code" in body


# Addresses are the admins' to manage; set-password links go only to the account's address -------


@pytest.mark.django_db
def test_staff_cannot_manage_their_own_addresses(client, cast):
    client.force_login(cast["nurse"])
    assert client.get("/accounts/email/").status_code == 404
    response = client.post("/accounts/email/", {"action_add": "", "email": "mallory@evil.test"})
    assert response.status_code == 404
    assert not EmailAddress.objects.filter(email="mallory@evil.test").exists()
    assert client.get("/accounts/confirm-email/some-key/").status_code == 404


@pytest.mark.django_db
def test_a_reset_goes_only_to_the_accounts_own_address(cast):
    nurse = cast["nurse"]
    EmailAddress.objects.create(user=nurse, email="mallory@evil.test", verified=True)
    Client().post("/accounts/password/reset/", {"email": "mallory@evil.test"})
    assert not [m for m in mail.outbox if "mallory@evil.test" in m.to]
    Client().post("/accounts/password/reset/", {"email": nurse.email})
    assert [m.to for m in mail.outbox] == [[nurse.email]]


@pytest.mark.django_db
def test_using_the_link_proves_the_address_and_is_audited(cast):
    nurse = cast["nurse"]
    EmailAddress.objects.create(user=nurse, email="stray@example.test", verified=False)
    Client().post("/accounts/password/reset/", {"email": nurse.email})
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", mail.outbox[-1].body)
    browser = Client()
    set_url = browser.get(link.group(0), follow=True).redirect_chain[-1][0]
    password = "harbor-lantern-1729-nurse"
    browser.post(set_url, {"password1": password, "password2": password})
    assert list(EmailAddress.objects.filter(user=nurse).values_list("email", "verified")) == [
        (nurse.email, True)
    ]
    event = AccessEvent.objects.get(action=AccessAction.EMAIL_PROVEN)
    assert event.user == nurse
    assert nurse.email in event.what
    assert "removed stray@example.test" in event.what
