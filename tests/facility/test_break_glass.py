"""Break-the-glass (issue 16 item 5, specs/privacy.md "Emergency access")."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from facility import glass
from facility.models import AccessAction, AccessEvent, Alert, BreakGlassAccess
from facility.policy import OutOfScope
from tests.conftest import admit, form_time, make_user

REASON = "Client collapsed at our door, need allergies and meds."
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def chart(client_obj) -> str:
    return reverse("clients:chart", args=[client_obj.public_id])


def open_(client, mrn, reason=REASON, facility=""):
    return client.post(reverse("glass_open"), {"mrn": mrn, "reason": reason, "facility": facility})


def as_(client, user):
    client.logout()  # a fresh session: 15 idle minutes sign one out
    client.force_login(user)
    return client


@pytest.fixture
def home_client(admission):
    return admission.client


def test_other_facility_nurse_404_before_chart_during_404_after(client, cast, home_client):
    nurse = cast["other_nurse"]
    as_(client, nurse)
    with time_machine.travel(NOW, tick=False):
        assert client.get(chart(home_client)).status_code == 404
        response = open_(client, home_client.mrn)
        assert response.status_code == 302
        assert response["Location"] == chart(home_client)
        access = BreakGlassAccess.objects.get()
        assert (access.user, access.client_public_id) == (nurse, home_client.public_id)
        assert access.facility_id == home_client.facility_id
        assert access.expires_at - access.opened_at == timedelta(minutes=60)
        assert access.reason == REASON
        opened = AccessEvent.objects.get(action=AccessAction.BREAK_GLASS)
        assert REASON in opened.what and opened.client_label == home_client.mrn
        # The alert reaches the supervisors of the client's facility at once.
        alert = Alert.objects.get(kind=glass.ALERT_KIND)
        assert alert.facility_id == home_client.facility_id
        assert alert.audience == "supervisor" and alert.resolved_at is None
        assert alert.link == reverse("glass_review")
        assert alert.severity in ("warning", "critical")
        assert list(Client.objects.visible_to(nurse).filter(facility=home_client.facility)) == [
            home_client
        ]
        page = client.get(chart(home_client))
        assert page.status_code == 200
        assert "Emergency access" in page.content.decode()
        view = AccessEvent.objects.filter(action=AccessAction.VIEW).latest("id")
        assert "break-the-glass" in view.what
    # (Signed in again each time: 15 idle minutes sign a session out.)
    with time_machine.travel(NOW + timedelta(minutes=59), tick=False):
        assert as_(client, nurse).get(chart(home_client)).status_code == 200
    with time_machine.travel(NOW + timedelta(minutes=60, seconds=1), tick=False):
        assert as_(client, nurse).get(chart(home_client)).status_code == 404
        assert not Client.objects.visible_to(nurse).filter(pk=home_client.pk).exists()
        assert "Emergency access to" not in client.get(reverse("home")).content.decode()


def test_the_grant_opens_that_client_only(client, cast, facility, home_client):
    second = admit(facility, cast["nurse"], n=3).client
    nurse = cast["other_nurse"]
    glass.glass_open(actor=nurse, mrn=home_client.mrn, reason=REASON)
    as_(client, nurse)
    assert client.get(chart(home_client)).status_code == 200
    assert client.get(chart(second)).status_code == 404
    # Their own facility's clients stay visible.
    assert (
        Client.objects.visible_to(nurse).count()
        == 1 + Client.objects.filter(facility__in=nurse.facilities.all()).count()
    )


def test_writes_stay_refused_during_the_access(client, cast, admission):
    from medications.models import Administration
    from medications.services import administration_record, order_verify
    from observations.models import RoundCheck, RoundCode, VitalSigns
    from observations.services.rounds import RoundEntry, round_submit
    from tests.facility.world import first_dose, ondansetron, transcribe

    facility = admission.facility
    order = transcribe(cast["nurse"], admission, ondansetron(facility))
    order_verify(actor=make_user("verifier", "nurse", facility), order=order)
    dose = first_dose(order)
    nurse = cast["other_nurse"]
    glass.glass_open(actor=nurse, mrn=admission.client.mrn, reason=REASON)
    as_(client, nurse)
    assert client.get(chart(admission.client)).status_code == 200
    # A round: the service refuses the facility.
    codes = RoundCode.objects.filter(facility=facility)
    entry = RoundEntry(
        admission=admission,
        location=codes.filter(kind="location").first(),
        status=codes.filter(kind="status", needs_respirations=False).first(),
    )
    with pytest.raises(OutOfScope):
        round_submit(actor=nurse, facility=facility, submission_key=uuid.uuid4(), entries=[entry])
    with pytest.raises(OutOfScope):
        administration_record(actor=nurse, dose=dose, outcome="given")
    # Through the pages: vitals and the dose.
    response = client.post(
        reverse("observations:vitals_record", args=[admission.public_id]),
        {"sbp": "120", "dbp": "80", "hr": "72", "rr": "16", "temp": "37.0", "temp_unit": "C",
         "spo2": "98", "on_oxygen": "air", "acvpu": "A",
         "taken_at": form_time(timezone.now(), facility)},
    )  # fmt: skip
    # The form shows the service's refusal.
    assert response.status_code == 400
    assert "another facility" in response.content.decode()
    response = client.post(
        reverse("medications:dose_document", args=[dose.public_id]),
        {"outcome": "given", "self_administered": "", "reason": "", "given_at": ""},
        follow=True,
    )
    # Back on the client's MAR (a read page the access opens) with the refusal.
    assert "another facility" in response.content.decode()
    assert not RoundCheck.objects.filter(admission=admission).exists()
    assert not VitalSigns.objects.filter(admission=admission).exists()
    assert not Administration.objects.filter(dose=dose).exists()


def test_admin_chart_only_during_the_access(client, cast, home_client):
    admin = cast["admin"]
    as_(client, admin)
    assert client.get(chart(home_client)).status_code == 403
    assert not Client.objects.visible_to(admin).exists()
    with time_machine.travel(NOW, tick=False):
        assert open_(client, home_client.mrn).status_code == 302
        page = client.get(chart(home_client))
        assert page.status_code == 200
        body = page.content.decode()
        assert home_client.mrn in body
        # The chart's read sections, not its writing buttons.
        assert "Vital signs" in body and "Observation level" in body
        assert reverse("clients:allergies", args=[home_client.public_id]) not in body
        assert list(Client.objects.visible_to(admin)) == [home_client]
        # Nothing else: the pages behind other capabilities stay closed.
        admission = home_client.admissions.get()
        vitals = reverse("observations:vitals_record", args=[admission.public_id])
        assert client.get(vitals).status_code == 403
        assert client.get(reverse("clients:census")).status_code == 403
    with time_machine.travel(NOW + timedelta(minutes=61), tick=False):
        assert as_(client, admin).get(chart(home_client)).status_code == 403


def test_a_client_one_can_already_see(client, cast, home_client):
    as_(client, cast["nurse"])
    response = open_(client, home_client.mrn)
    assert response.status_code == 302 and response["Location"] == chart(home_client)
    page = client.get(response["Location"])
    assert "You already have access" in page.content.decode()
    assert not BreakGlassAccess.objects.exists()
    assert not Alert.objects.filter(kind=glass.ALERT_KIND).exists()


def test_unknown_mrn_is_a_field_message_and_audited(client, cast, home_client):
    as_(client, cast["other_nurse"])
    response = open_(client, "NOPE-0000")
    assert response.status_code == 400
    assert "No client has this MRN" in response.content.decode()
    assert not BreakGlassAccess.objects.exists()
    failed = AccessEvent.objects.get(action=AccessAction.BREAK_GLASS)
    assert failed.outcome != "ok" and "NOPE-0000" in failed.what


def test_second_open_extends_nothing(client, cast, home_client):
    as_(client, cast["other_nurse"])
    with time_machine.travel(NOW, tick=False):
        open_(client, home_client.mrn)
    with time_machine.travel(NOW + timedelta(minutes=30), tick=False):
        response = open_(
            as_(client, cast["other_nurse"]),
            home_client.mrn,
            reason="Again, still need the chart please.",
        )
        assert response.status_code == 302
        page = client.get(response["Location"])
        assert "not extended" in page.content.decode()
    access = BreakGlassAccess.objects.get()
    assert access.expires_at == NOW + timedelta(minutes=60)
    assert Alert.objects.filter(kind=glass.ALERT_KIND).count() == 1


def test_a_repeated_mrn_needs_the_facility(client, cast, facility, other_admission, home_client):
    Client.objects.filter(pk=other_admission.client_id).update(mrn=home_client.mrn)
    as_(client, cast["admin"])
    response = open_(client, home_client.mrn)
    assert response.status_code == 400
    assert "choose the client&#x27;s facility" in response.content.decode()
    assert open_(client, home_client.mrn, facility=str(facility.public_id)).status_code == 302
    assert BreakGlassAccess.objects.get().client_public_id == home_client.public_id


def test_review_waits_then_signs_off_once(client, cast, home_client):
    nurse = cast["other_nurse"]
    as_(client, nurse)
    open_(client, home_client.mrn)
    client.get(chart(home_client))
    access = BreakGlassAccess.objects.get()
    supervisor = cast["supervisor"]
    as_(client, supervisor)
    page = client.get(reverse("glass_review")).content.decode()
    assert home_client.mrn in page and REASON in page and str(nurse) in page
    assert "break-the-glass" in page  # the chart view, from the access log
    sign_off = reverse("glass_sign_off", args=[access.public_id])
    empty = client.post(sign_off, {"note": ""})
    assert empty.status_code == 400 and "Review note" in empty.content.decode()
    assert client.post(sign_off, {"note": "Called them: real emergency."}).status_code == 302
    access.refresh_from_db()
    assert access.reviewed_by == supervisor and access.review_note
    assert Alert.objects.get(kind=glass.ALERT_KIND).resolved_by == supervisor
    assert AccessEvent.objects.filter(action=AccessAction.BREAK_GLASS_REVIEW).count() == 1
    assert "Nothing waiting" in client.get(reverse("glass_review")).content.decode()
    again = client.post(sign_off, {"note": "Twice."}, follow=True)
    assert "already been signed off" in again.content.decode()
    assert AccessEvent.objects.filter(action=AccessAction.BREAK_GLASS_REVIEW).count() == 1
    # The holder sees it signed off in their own list.
    as_(client, nurse)
    mine = client.get(reverse("glass_mine")).content.decode()
    assert "Signed off by" in mine and home_client.mrn in mine


def test_reviewing_ones_own_access_is_refused(client, cast, facility, home_client):
    supervisor = cast["other_supervisor"]
    access, _ = glass.glass_open(actor=supervisor, mrn=home_client.mrn, reason=REASON)
    # Later assigned to the client's facility too: still not their own reviewer.
    supervisor.facilities.add(facility)
    as_(client, supervisor)
    assert "Nothing waiting for sign-off" in client.get(reverse("glass_review")).content.decode()
    response = client.post(reverse("glass_sign_off", args=[access.public_id]), {"note": "Fine."})
    assert response.status_code == 403
    access.refresh_from_db()
    assert access.reviewed_at is None


def test_other_facility_supervisor_cannot_review(client, cast, home_client):
    access, _ = glass.glass_open(actor=cast["other_nurse"], mrn=home_client.mrn, reason=REASON)
    as_(client, cast["other_supervisor"])
    response = client.post(reverse("glass_sign_off", args=[access.public_id]), {"note": "Fine."})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("reason", "short", "at least 10"),
        ("reason", "Need it\x00 now for the client", "control characters"),
        ("reason", "Need it \u202e now for the client", "control characters"),
        ("reason", "x" * 501, "at most 500"),
        ("reason", "          ", "Reason"),
        ("mrn", "A" * 21, "at most 20"),
        ("mrn", "MRN\x00", "control characters"),
        ("mrn", "", "required"),
        ("facility", "not-a-uuid", "choose one from the list"),
        ("facility", "59c1e87a-fc93-48bf-b2f4-1d307f8ccb4c", "choose one from the list"),
    ],
)
def test_hostile_input_is_a_field_message(client, cast, home_client, field, value, message):
    as_(client, cast["other_nurse"])
    body = {"mrn": home_client.mrn, "reason": REASON, "facility": ""}
    body[field] = value
    response = client.post(reverse("glass_open"), body)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BreakGlassAccess.objects.exists()


@pytest.mark.parametrize(
    "note, message", [("x" * 1001, "at most 1000"), ("ok\u2066", "control characters")]
)
def test_hostile_review_note(client, cast, home_client, note, message):
    access, _ = glass.glass_open(actor=cast["other_nurse"], mrn=home_client.mrn, reason=REASON)
    as_(client, cast["supervisor"])
    response = client.post(reverse("glass_sign_off", args=[access.public_id]), {"note": note})
    assert response.status_code == 400 and message in response.content.decode()


def test_banner_on_every_page_and_no_query_without_an_access(client, cast, home_client):
    nurse = cast["other_nurse"]
    as_(client, nurse)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("home"))
    banner_reads = [q for q in queries if 'FROM "facility_breakglassaccess"' in q["sql"][:400]]
    assert banner_reads == []
    with time_machine.travel(NOW, tick=False):
        open_(client, home_client.mrn)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("glass_mine")).content.decode()
        assert "Emergency access</strong> to" in page and "every view is logged" in page
        reads = [
            q
            for q in queries
            if q["sql"].startswith("SELECT") and '"facility_breakglassaccess"' in q["sql"][:300]
        ]
        assert len(reads) <= 2  # the banner's one, and the page's own list
    # Another device (no session hint) still shows it: the cache hint.
    other = type(client)()
    as_(other, nurse)
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        assert "every view is logged" in other.get(reverse("glass_mine")).content.decode()


def test_own_list_shows_running_and_past(client, cast, facility, home_client):
    nurse = cast["other_nurse"]
    second = admit(facility, cast["nurse"], n=3).client
    with time_machine.travel(NOW, tick=False):
        glass.glass_open(actor=nurse, mrn=second.mrn, reason=REASON)
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        glass.glass_open(actor=nurse, mrn=home_client.mrn, reason=REASON)
        as_(client, nurse)
        page = client.get(reverse("glass_mine")).content.decode()
    running, past = page.split("<h2>Past</h2>")
    assert home_client.mrn in running and second.mrn in past
    assert "Waiting for a supervisor" in past


@pytest.mark.parametrize("role", ["nurse", "supervisor", "admin"])
def test_the_grant_is_the_only_way_through(client, db, role):
    """Every URL of the access matrix naming a home object: a stranger holding an emergency
    access to another home client still gets what the matrix says for strangers (404, or 403
    without the capability) — the grant opens its own client's chart and nothing else."""
    from tests.facility.test_access_matrix import URLS, expected_status
    from tests.facility.world import matrix_world

    w = matrix_world()
    stranger = w.cast[f"other_{role}"]
    granted = admit(w.facility, w.cast["nurse"], n=9).client
    glass.glass_open(actor=stranger, mrn=granted.mrn, reason=REASON)
    as_(client, stranger)
    assert client.get(chart(granted)).status_code == 200
    wrong = []
    for name, url in URLS.items():
        if not url.scoped or url.get is None:
            continue
        path = reverse(name, args=url.args(w))
        status = client.get(path).status_code
        expected = expected_status(name, url, "GET", f"other_{role}")
        if status != expected:
            wrong.append(f"{name} {path}: {status}, expected {expected}")
    assert wrong == []
