"""End-to-end journeys through a real browser: signing in, charting, staff accounts, MFA."""

import re
import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail
from playwright.sync_api import Page, expect

from facility.models import Role, User
from tests.browser.conftest import login
from tests.conftest import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CENSUS = re.compile(r"/census/$")
HOME = re.compile(r"://[^/]+/$")


def test_technician_signs_in_and_opens_a_clients_chart(page: Page, cast, admission):
    technician = cast["technician"]
    client = admission.client

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Login").fill(technician.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Sign-in lands on "My work" (issue 17); the census is one tap away in the navigation.
    expect(page).to_have_url(HOME)
    expect(page.get_by_role("heading", level=1)).to_contain_text("My work")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Census").click()
    expect(page).to_have_url(CENSUS)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Census")
    link = page.get_by_role("link", name=re.compile(r"Robin A\."))
    expect(link).to_be_visible()

    link.click()
    expect(page).to_have_url(re.compile(rf"/clients/{client.public_id}/$"))
    band = page.get_by_role("region", name="Client identity")
    expect(band.get_by_role("heading", level=1)).to_have_text(re.compile(r"Robin"))
    expect(band).to_contain_text(client.mrn)
    expect(band.locator(".id-allergies")).to_contain_text("Penicillin")
    expect(page.get_by_role("note")).to_contain_text("42 CFR Part 2")


def test_admin_adds_a_technician_who_sets_a_password_and_signs_in(new_page, cast, facility):
    admin = cast["admin"]
    page = new_page()
    login(page, admin)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Staff").click()
    expect(page.get_by_role("heading", name="Staff", level=1)).to_be_visible()
    page.get_by_role("link", name="Add staff member").click()

    page.get_by_label("Username").fill("jordan.lee")
    page.get_by_label("Full name").fill("Jordan Lee")
    page.get_by_label("Email").fill("jordan.lee@example.test")
    page.get_by_label("Initials").fill("JL")
    page.get_by_label("Credentials").fill("BHT")
    page.get_by_label("Role").select_option(label="Technician")
    page.get_by_label(facility.name).check()
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Jordan Lee can now set a password from the link sent to jordan.lee@example.test"
    )
    expect(page.get_by_role("cell", name="jordan.lee", exact=True)).to_be_visible()
    person = User.objects.get(username="jordan.lee")
    assert person.role == Role.TECHNICIAN
    assert not person.has_usable_password()

    assert [m.to for m in mail.outbox] == [["jordan.lee@example.test"]]
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", mail.outbox[0].body)
    assert link, mail.outbox[0].body

    newcomer = new_page()  # a fresh context: the new person's own browser
    newcomer.goto(link.group(0))
    new_password = "quiet-harbour-lantern-1987"
    newcomer.get_by_label(re.compile(r"^New password:?$", re.I)).fill(new_password)
    newcomer.get_by_label(re.compile(r"^New password \(again\):?$", re.I)).fill(new_password)
    newcomer.get_by_role("button", name="Change password").click()
    expect(newcomer.get_by_role("heading", level=1)).to_contain_text(re.compile("password", re.I))
    person.refresh_from_db()
    assert person.has_usable_password()

    login(newcomer, person, password=new_password)
    expect(newcomer).to_have_url(HOME)
    expect(newcomer.get_by_role("heading", level=1)).to_contain_text("My work")
    expect(newcomer.get_by_role("heading", level=1)).to_contain_text(facility.name)


def test_supervisor_without_mfa_must_enrol_before_reaching_the_census(page: Page, cast, facility):
    supervisor = make_user("sam_super", Role.SUPERVISOR, facility, mfa=False)
    activate = re.compile(r"/accounts/2fa/totp/activate/")

    login(page, supervisor)
    # Sent to enrolment; allauth first asks for the password again before showing a TOTP secret.
    expect(page).to_have_url(
        re.compile(r"/accounts/reauthenticate/\?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F")
    )
    expect(page.get_by_role("status")).to_contain_text("requires two-factor authentication")
    page.goto("/census/")
    expect(page).not_to_have_url(CENSUS)
    expect(page.get_by_role("heading", level=1)).not_to_contain_text("Census")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(activate)

    for blocked in ("/census/", "/alerts/", "/"):
        page.goto(blocked)
        expect(page).to_have_url(activate)

    secret = page.get_by_label("Authenticator secret").input_value()
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    page.get_by_label("Authenticator code").fill(code)
    page.get_by_role("button", name="Activate").click()
    expect(page).not_to_have_url(activate)

    page.goto("/census/")
    expect(page).to_have_url(CENSUS)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Census")


def test_admin_adds_a_supervisor_who_sets_a_password_enrols_totp_and_reaches_home(
    new_page, cast, facility
):
    """Issue 7: a new supervisor was locked out ("verify your email address") after using the
    set-password link; an anonymous reset request for them must not lock them out either."""
    page = new_page()
    login(page, cast["admin"])
    page.goto("/staff/new/")
    page.get_by_label("Username").fill("casey.super")
    page.get_by_label("Full name").fill("Casey Super")
    page.get_by_label("Email").fill("casey.super@example.test")
    page.get_by_label("Initials").fill("CS")
    page.get_by_label("Role").select_option(label="Supervisor")
    page.get_by_label(facility.name).check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status")).to_contain_text("Casey Super can now set a password")
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", mail.outbox[-1].body)

    prankster = new_page()  # anyone may ask for a reset of the same address
    prankster.goto("/accounts/password/reset/")
    prankster.get_by_label(re.compile("e-?mail", re.I)).fill("casey.super@example.test")
    prankster.get_by_role("button", name=re.compile("reset", re.I)).click()

    newcomer = new_page()
    newcomer.goto(link.group(0))
    new_password = "quiet-harbour-lantern-2026"
    newcomer.get_by_label(re.compile(r"^New password:?$", re.I)).fill(new_password)
    newcomer.get_by_label(re.compile(r"^New password \(again\):?$", re.I)).fill(new_password)
    newcomer.get_by_role("button", name="Change password").click()
    person = User.objects.get(username="casey.super")
    login(newcomer, person, password=new_password)

    activate = re.compile(r"/accounts/2fa/totp/activate/")
    if "/accounts/reauthenticate/" in newcomer.url:
        newcomer.get_by_label("Password").fill(new_password)
        newcomer.get_by_role("button", name="Confirm").click()
    expect(newcomer).to_have_url(activate)
    expect(newcomer.get_by_text("verified your email")).to_have_count(0)
    secret = newcomer.get_by_label("Authenticator secret").input_value()
    newcomer.get_by_label("Authenticator code").fill(
        format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    )
    newcomer.get_by_role("button", name="Activate").click()
    expect(newcomer).not_to_have_url(activate)
    newcomer.goto("/")
    expect(newcomer).to_have_url(HOME)
    expect(newcomer.get_by_role("heading", level=1)).to_contain_text("My work")
