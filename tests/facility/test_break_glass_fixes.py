"""Break-the-glass and audit pages after the user review (issue 16): every page opened under an
emergency access is logged, the emergency chart offers no actions, one expiry time, any-case
MRN, a 404 that says the access ended, readable supervisor pages."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from facility import glass
from facility.models import AccessAction, AccessEvent, BreakGlassAccess
from facility.services import access_log
from tests.conftest import make_user

REASON = "Client collapsed at our door, need allergies and meds."
# 15:00 UTC on 10 March 2026: 11:00 EDT at the client's facility (New York), 10:00 CDT at the
# nurse's own (Chicago).
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
WRITE_LABELS = [
    "Record vitals",
    "Move bed",
    "Discharge",
    "Record leave off site",
    "Open the med pass",
    "Record allergies",
    "Done: Tour of the unit",
]


def chart(client_obj) -> str:
    return reverse("clients:chart", args=[client_obj.public_id])


def as_(client, user):
    client.logout()
    client.force_login(user)
    return client


def glass_views(user):
    return AccessEvent.objects.filter(
        user=user, action=AccessAction.VIEW, what__startswith="break-the-glass: "
    )


@pytest.fixture
def glass_nurse(client, cast, admission):
    nurse = cast["other_nurse"]
    glass.glass_open(actor=nurse, mrn=admission.client.mrn, reason=REASON)
    as_(client, nurse)
    return nurse


def test_pages_other_than_the_chart_are_logged_under_the_grant(
    client, cast, admission, glass_nurse
):
    allergies = reverse("clients:allergies", args=[admission.client.public_id])
    vitals = reverse("observations:vitals_record", args=[admission.public_id])
    assert client.get(allergies).status_code == 200
    assert client.get(vitals).status_code == 200
    logged = list(glass_views(glass_nurse).values_list("what", "client_public_id"))
    assert sorted(logged) == sorted(
        [
            (f"break-the-glass: {allergies}", admission.client.public_id),
            (f"break-the-glass: {vitals}", admission.client.public_id),
        ]
    )
    # The chart logs itself once, as before (not twice).
    client.get(chart(admission.client))
    assert glass_views(glass_nurse).count() == 2
    assert AccessEvent.objects.filter(user=glass_nurse, what__contains="client chart").count() == 1
    # The client's own staff are not logged as break-the-glass.
    as_(client, cast["nurse"]).get(allergies)
    assert not glass_views(cast["nurse"]).exists()
    # The supervisor's review lists them.
    page = as_(client, cast["supervisor"]).get(reverse("glass_review")).content.decode()
    assert allergies in page and vitals in page


def test_emergency_chart_is_read_only_and_says_so(client, cast, admission, glass_nurse):
    body = client.get(chart(admission.client)).content.decode()
    assert "Emergency access: read only" in body
    for label in WRITE_LABELS:
        assert label not in body, label
    normal = as_(client, cast["nurse"]).get(chart(admission.client)).content.decode()
    assert "Emergency access: read only" not in normal
    for label in ["Record vitals", "Move bed", "Discharge", "Record leave off site"]:
        assert label in normal, label


def test_one_expiry_time_on_the_clients_clock(client, cast, admission):
    as_(client, cast["other_nurse"])
    with time_machine.travel(NOW, tick=False):
        response = client.post(
            reverse("glass_open"), {"mrn": admission.client.mrn, "reason": REASON}, follow=True
        )
        body = response.content.decode()
    assert "open until 12:00 EDT" in body  # the message
    assert "until 12:00 EDT (" in body  # the banner
    assert "CDT" not in body


@pytest.mark.parametrize("typed", ["lower", "compact", "spaced"])
def test_mrn_case_dashes_and_spaces_do_not_matter(client, cast, admission, typed):
    mrn = admission.client.mrn
    typed_mrn = {
        "lower": mrn.lower(),
        "compact": mrn.replace("-", ""),
        "spaced": " ".join(mrn.replace("-", "")).lower(),
    }[typed][:20]
    as_(client, cast["other_nurse"])
    response = client.post(reverse("glass_open"), {"mrn": typed_mrn, "reason": REASON})
    assert response.status_code == 302
    assert BreakGlassAccess.objects.get().client_public_id == admission.client.public_id


def test_an_ended_access_is_a_404_that_says_so(client, cast, admission):
    nurse = cast["other_nurse"]
    with time_machine.travel(NOW, tick=False):
        glass.glass_open(actor=nurse, mrn=admission.client.mrn, reason=REASON)
    allergies = reverse("clients:allergies", args=[admission.client.public_id])
    with time_machine.travel(NOW + timedelta(minutes=61), tick=False):
        for url in (chart(admission.client), allergies):
            response = as_(client, nurse).get(url)
            assert response.status_code == 404
            body = response.content.decode()
            assert f"Your emergency access to {admission.client.mrn} ended at 12:00 EDT" in body
            assert "Open a new one from Emergency" in body
    with time_machine.travel(NOW + timedelta(hours=25), tick=False):
        response = as_(client, nurse).get(chart(admission.client))
        assert response.status_code == 404
        assert "Your emergency access" not in response.content.decode()
    # A stranger with no access gets the plain 404.
    stranger = make_user("stranger", "nurse", cast["other_nurse"].facilities.first())
    response = as_(client, stranger).get(chart(admission.client))
    assert response.status_code == 404 and "Your emergency access" not in response.content.decode()


def test_review_names_the_client_and_keeps_a_failed_sign_off_at_its_item(
    client, cast, admission, glass_nurse
):
    access = BreakGlassAccess.objects.get()
    as_(client, cast["supervisor"])
    page = client.get(reverse("glass_review")).content.decode()
    assert admission.client.display_name in page
    sign_off = reverse("glass_sign_off", args=[access.public_id])
    assert f'action="{sign_off}#access-{access.public_id}"' in page
    failed = client.post(sign_off, {"note": ""})
    assert failed.status_code == 400
    assert f'id="access-{access.public_id}"' in failed.content.decode()


def test_audit_export_is_a_supervisors(client, cast):
    assert as_(client, cast["nurse"]).get(reverse("audit_trail")).status_code == 200
    assert as_(client, cast["nurse"]).get(reverse("audit_export")).status_code == 403
    assert "Export CSV" not in client.get(reverse("audit_trail")).content.decode()
    assert as_(client, cast["supervisor"]).get(reverse("audit_export")).status_code == 200


def test_audit_page_names_people_on_the_facility_clock(client, cast, facility, admission):
    nurse = cast["nurse"]
    with time_machine.travel(NOW, tick=False):
        access_log(action="view", actor=nurse, facility=facility, client=admission.client)
    body = as_(client, cast["supervisor"]).get(reverse("audit_trail")).content.decode()
    assert nurse.full_name and nurse.full_name in body
    assert nurse.username in body
    assert "11:00:00 EDT" in body
    # A user id inside a data change reads as the person's name.
    from clients.models import Client

    rows = [r for r in _trail_rows(facility) if r.is_change and r.changes]
    assert rows  # the admission's changes
    named = [c for r in rows for c in r.changes if c.names_user]
    assert named, "no change names a person"
    assert all(not c.new.isdigit() for c in named), "a user id was left as a number"
    assert str(nurse) in [c.new for c in named]
    assert Client.objects.exists()


def _trail_rows(facility):
    from facility import audit

    query = audit.TrailQuery(start=None, end=None, staff="", client="", action="", sort="-when")
    rows = [audit.present(row) for row in audit.trail_rows(facility, query)[:200]]
    audit.name_people(rows)
    return rows


def test_the_banner_is_drawn_on_a_page_opened_through_an_access_even_with_both_hints_lost(
    client, cast, admission, glass_nurse
):
    """The hints only spare a query on other pages: a page that opens a client through an
    emergency access always draws the banner (here the cache was flushed and this browser's
    session never held a hint: the access was opened elsewhere)."""
    from django.core.cache import cache

    cache.clear()
    session = client.session
    session.pop(glass.SESSION_KEY, None)
    session.save()
    for path in (
        chart(admission.client),
        reverse("clients:allergies", args=[admission.client.public_id]),
    ):
        page = client.get(path).content.decode()
        assert "glass-banner" in page, path
        assert admission.client.mrn in page
    # The page remembered it in this browser: any later page draws the banner too.
    cache.clear()
    assert "glass-banner" in client.get(reverse("glass_mine")).content.decode()
