"""Incident reports (issue 12 item 4, specs/charting.md "Incidents"): drafts opened by rounds,
naloxone and count losses; the reporter completes and submits; the chart gets only an objective
note; supervisors, the reporter and named staff read the report, nobody else; family is told
only on consent or an emergency; the scans for unreviewed reports, late state reports and
debriefs; the PDF with the Part 2 notice, never the chart's prints."""

import re
import subprocess
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from facility.models import AccessEvent, Alert
from facility.pdf import PART2_STATEMENT_2, part2_statement_1
from facility.registry import IncidentDraft, open_incident_draft
from observations.models import (
    Incident,
    IncidentNotification,
    IncidentStaff,
    ProgressNote,
    RoundCode,
)
from observations.services import RoundEntry, round_submit
from observations.services import incidents as svc
from tests.conftest import admit, form_time, make_user
from tests.facility.world import first_dose, transcribe, with_ingredients

DESCRIPTION = "Client struck a peer twice on the left arm after a dispute over the phone."
ANTECEDENTS = "Argued about phone time for ten minutes; peer mocked the client's family."


def code(facility, kind, value):
    return RoundCode.objects.get(facility=facility, kind=kind, code=value)


def sib_round(technician, facility, admission, *, safety=False, status="SIB", remark=""):
    key = uuid.uuid4()
    round_submit(
        actor=technician,
        facility=facility,
        submission_key=key,
        entries=[
            RoundEntry(
                admission, code(facility, "location", "DAY"), code(facility, "status", status),
                safety_concern=safety, remark=remark,
            )
        ],
    )  # fmt: skip
    return key


def report_body(facility, admission=None, staff=(), **changes):
    body = {
        "incident_type": "aggression_peer",
        "severity": "minor",
        "occurred_at": form_time(timezone.now() - timedelta(minutes=20), facility),
        "location": "Day room",
        "clients": [str(admission.public_id)] if admission else [],
        "staff": [str(s.public_id) for s in staff],
        "visitors": "",
        "description": DESCRIPTION,
        "antecedents": ANTECEDENTS,
        "interventions": ["verbal", "space"],
        "injuries": "Peer: redness, ice pack given.",
        "ems_called_at": "",
        "ems_agency": "",
        "ems_outcome": "",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def submitted(cast, facility, admission, *, staff=(), reporter="technician", **changes):
    """A report by the technician naming `admission`, submitted."""
    fields = svc.IncidentFields(
        incident_type=changes.pop("incident_type", "aggression_peer"),
        occurred_at=changes.pop("occurred_at", timezone.now() - timedelta(minutes=20)),
        severity=changes.pop("severity", "minor"),
        description=DESCRIPTION,
        antecedents=ANTECEDENTS,
        interventions=("verbal",),
        clients=(admission,),
        staff=tuple(staff),
        **changes,
    )
    incident = svc.incident_open(actor=cast[reporter], facility=facility, fields=fields)
    return svc.incident_submit(actor=cast[reporter], incident=incident)


def page(response) -> str:
    return response.content.decode()


def pdf_text(content: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True)
    return re.sub(r"\s+", " ", out.stdout.decode())


# ---------------------------------------------------------------- drafts from other events


@pytest.mark.django_db
def test_an_sib_on_a_round_opens_a_prefilled_draft_and_tells_the_checker(
    client, cast, facility, admission
):
    technician = cast["technician"]
    client.force_login(technician)
    pid = admission.public_id
    body = {
        "submission_key": str(uuid.uuid4()), "minutes_back": "0", "include": [str(pid)],
        f"loc-{pid}": str(code(facility, "location", "DAY").pk),
        f"st-{pid}": str(code(facility, "status", "SIB").pk), "late_reason": "",
        f"remark-{pid}": "Scratching forearm with a pen cap",
    }  # fmt: skip
    response = client.post(reverse("observations:board", args=[admission.unit.public_id]), body)
    incident = Incident.objects.get()
    assert (incident.status, incident.incident_type, incident.source) == (
        "draft", "self_harm", "round"
    )  # fmt: skip
    assert incident.reported_by == technician
    assert incident.location == "Day room"
    assert "Self-injurious behavior recorded on rounds" in incident.description
    assert "Scratching forearm with a pen cap" in incident.description
    assert list(incident.client_links.values_list("admission", flat=True)) == [admission.pk]
    shown = page(client.get(response["Location"]))
    assert "Draft incident opened (self-harm)" in shown
    edit = reverse("observations:incident_edit", args=[incident.public_id])
    assert f'<a href="{edit}">complete it</a>' in shown
    # The same round posted again (a retry) opens nothing more.
    client.post(reverse("observations:board", args=[admission.unit.public_id]), body)
    assert Incident.objects.count() == 1
    # Nobody else is told: the banner is the checker's.
    client.force_login(cast["nurse"])
    assert "Draft incident opened" not in page(client.get(reverse("observations:incidents")))


@pytest.mark.django_db
def test_a_safety_concern_opens_a_draft_of_type_other_and_a_quiet_round_none(
    cast, facility, admission
):
    sib_round(cast["technician"], facility, admission, status="A")
    assert not Incident.objects.exists()
    sib_round(cast["technician"], facility, admission, status="AG", safety=True)
    incident = Incident.objects.get()
    assert incident.incident_type == "other"
    assert incident.description.startswith("Safety concern (agitated) recorded on rounds at ")


@pytest.mark.django_db
def test_the_opener_is_idempotent_by_source_ref(cast, facility, admission):
    draft = IncidentDraft(
        facility_id=facility.pk, source="trip", source_ref="trip:1", incident_type="elopement",
        occurred_at=timezone.now(), description="Head count short by one", reporter=cast["nurse"],
        client_public_ids=(admission.client.public_id,),
    )  # fmt: skip
    first = open_incident_draft(draft)
    assert first[1] is True
    assert open_incident_draft(draft) == (first[0], False)
    assert Incident.objects.count() == 1


@pytest.mark.django_db
def test_a_hook_opened_draft_alerts_the_supervisor_at_once_until_it_is_submitted(
    client, cast, facility, admission
):
    """The banner tells only the checker; the supervisors are told at once in Haven (spec:
    "supervisor, always, at once"), by initials, off the rounds board, closed by submission."""
    technician, supervisor = cast["technician"], cast["supervisor"]
    sib_round(technician, facility, admission, remark="Scratching forearm")
    incident = Incident.objects.get()
    alert = Alert.objects.get(kind="incident_draft_opened")
    initials = admission.client.initials
    assert alert.message.startswith(
        f"Draft incident opened from a round check for {initials}: not yet submitted (self-harm"
    )
    assert (alert.audience, alert.severity, alert.resolved_at) == ("supervisor", "warning", None)
    assert alert.link == reverse("observations:incident_detail", args=[incident.public_id])
    # Not tied to the client: it never shows on the board's row or the census.
    assert alert.client_public_id is None
    assert admission.client.legal_last_name not in alert.message
    assert "Scratching forearm" not in alert.message
    client.force_login(supervisor)
    assert "Draft incident opened from a round check" in page(client.get(reverse("alerts")))
    client.force_login(cast["nurse"])
    assert "Draft incident opened from a round check" not in page(client.get(reverse("alerts")))
    # The same round again opens nothing more and alerts nothing more.
    open_incident_draft(
        IncidentDraft(facility_id=facility.pk, source="round", source_ref=incident.source_ref,
                      incident_type="self_harm", occurred_at=timezone.now(), description="x",
                      reporter=technician)
    )  # fmt: skip
    assert Alert.objects.filter(kind="incident_draft_opened").count() == 1
    # Resolve on the alerts page does not close it: only the submission does.
    client.force_login(supervisor)
    client.post(reverse("alert_resolve", args=[alert.public_id]), {"note": "Seen"})
    alert.refresh_from_db()
    assert alert.resolved_at is None
    fields = svc.IncidentFields("self_harm", incident.occurred_at, severity="minor",
                                description=DESCRIPTION, clients=(admission,))  # fmt: skip
    svc.incident_update(actor=technician, incident=incident, fields=fields)
    svc.incident_submit(actor=technician, incident=incident)
    alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.resolved_by == technician
    assert alert.resolution_note == f"Incident report submitted by {technician.initials}."


@pytest.mark.django_db
def test_a_draft_with_no_client_alerts_saying_so(cast, facility):
    open_incident_draft(
        IncidentDraft(facility_id=facility.pk, source="trip", source_ref="trip:9",
                      incident_type="elopement", occurred_at=timezone.now(),
                      description="Head count short by one", reporter=cast["nurse"])
    )  # fmt: skip
    alert = Alert.objects.get(kind="incident_draft_opened")
    assert alert.message.startswith(
        "Draft incident opened from a transport head count (no client named): not yet submitted"
    )


def _naloxone(facility, name="Naloxone", routes="intranasal", **ingredients):
    from medications.models import Medication

    med = Medication.objects.create(
        facility=facility, name=name, strength="4 mg", form="nasal spray", routes=routes
    )
    return with_ingredients(med, ingredients) if ingredients else med


@pytest.mark.django_db
def test_a_naloxone_dose_opens_an_overdose_draft_for_the_nurse(client, cast, facility, admission):
    from medications.services import order_verify, prn_give

    nurse = cast["nurse"]
    order = transcribe(
        make_user("nurse_two", "nurse", facility), admission, _naloxone(facility, naloxone=4),
        route="intranasal", frequency="prn", times="", indication="Opioid overdose",
        prn_min_interval_minutes=3, prn_max_per_24h=3,
    )  # fmt: skip
    order_verify(actor=nurse, order=order)
    prn_give(actor=nurse, order=order, indication="Unresponsive", pre_assessment="RR 6")
    incident = Incident.objects.get()
    assert (incident.incident_type, incident.source, incident.reported_by) == (
        "overdose", "naloxone", nurse
    )  # fmt: skip
    assert incident.interventions == ["naloxone"]
    assert incident.description.startswith("Naloxone given at ")
    assert incident.client_links.get().admission == admission
    # An overdose draft tells the supervisors at once, critically.
    alert = Alert.objects.get(kind="incident_draft_opened")
    assert (alert.severity, alert.audience) == ("critical", "supervisor")
    assert alert.message.startswith(
        f"Draft incident opened from a naloxone dose for {admission.client.initials}: "
    )


@pytest.mark.django_db
def test_buprenorphine_naloxone_is_a_treatment_dose_and_opens_nothing(cast, facility, admission):
    from medications.services import administration_record, order_verify

    film = _naloxone(
        facility, name="Buprenorphine/naloxone", routes="sublingual", buprenorphine=8, naloxone=2
    )
    order = transcribe(make_user("nurse_two", "nurse", facility), admission, film,
                       route="sublingual")  # fmt: skip
    order_verify(actor=cast["nurse"], order=order)
    administration_record(actor=cast["nurse"], dose=first_dose(order), outcome="given")
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_a_count_signed_off_as_significant_loss_opens_a_controlled_loss_draft(cast, facility):
    from tests.facility.world import significant_loss

    count = significant_loss(cast, facility)
    incident = Incident.objects.get()
    assert (incident.incident_type, incident.source) == ("controlled_loss", "count")
    assert incident.source_ref == f"count:{count.public_id}"
    assert incident.reported_by == cast["supervisor"]
    assert "counted 8, expected 10 (2 missing)" in incident.description
    assert not incident.client_links.exists()  # house stock: no client named


# ---------------------------------------------------------------- the journey


@pytest.mark.django_db
def test_the_reporter_completes_and_submits_and_a_supervisor_signs_it_off(
    client, cast, facility, admission
):
    technician, supervisor = cast["technician"], cast["supervisor"]
    sib_round(technician, facility, admission)
    incident = Incident.objects.get()
    client.force_login(technician)
    edit = reverse("observations:incident_edit", args=[incident.public_id])
    assert client.get(edit).status_code == 200
    body = report_body(facility, admission, staff=[cast["nurse"]], incident_type="self_harm",
                       severity="minor", submit="1")  # fmt: skip
    response = client.post(edit, body, follow=True)
    assert "Incident report submitted. The supervisors were alerted; 1 chart got an objective" in (
        page(response)
    )
    incident.refresh_from_db()
    assert incident.status == "submitted" and incident.submitted_at is not None
    assert incident.description == DESCRIPTION
    # The chart's note: signed, by the reporter, neutral.
    note = ProgressNote.objects.get(admission=admission)
    text = note.sections["narrative"]
    assert text == incident.chart_note_text
    assert re.fullmatch(
        r"Incident \d\d:\d\d: self-harm\. Staff intervened; see the incident log "
        r"\(administrative record\)\.",
        text,
    )
    assert (note.author, note.signed_at is not None, note.cosign_required) == (
        technician, True, False
    )  # fmt: skip
    # The supervisors are alerted at once, and that is logged as the supervisor notification.
    alert = Alert.objects.get(kind="incident_submitted")
    assert alert.audience == "supervisor" and alert.resolved_at is None
    assert (
        DESCRIPTION not in alert.message and admission.client.legal_last_name not in alert.message
    )
    told = IncidentNotification.objects.get(incident=incident)
    assert (told.party, told.method) == ("supervisor", "portal")
    # Submitted: no more editing.
    assert client.get(edit).status_code == 302
    client.post(edit, report_body(facility, admission, description="Changed"))
    incident.refresh_from_db()
    assert incident.description == DESCRIPTION
    # The reporter sees no sign-off form, and a supervisor does and signs off.
    detail = reverse("observations:incident_detail", args=[incident.public_id])
    assert "Sign off" not in page(client.get(detail))
    client.force_login(supervisor)
    assert "Sign off" in page(client.get(detail))
    response = client.post(
        reverse("observations:incident_review", args=[incident.public_id]),
        {"review_note": "Reviewed with the team; plan updated."},
        follow=True,
    )
    assert "Incident report signed off." in page(response)
    incident.refresh_from_db()
    assert (incident.status, incident.reviewed_by) == ("reviewed", supervisor)
    alert.refresh_from_db()
    assert alert.resolved_by == supervisor


@pytest.mark.django_db
def test_submitting_needs_severity_and_an_objective_description(client, cast, facility, admission):
    client.force_login(cast["technician"])
    response = client.post(
        reverse("observations:incident_new"),
        report_body(facility, admission, severity="", description="", submit="1"),
    )
    assert response.status_code == 400
    assert "Severity: choose one before submitting." in page(response)
    assert "What happened: describe it objectively before submitting." in page(response)
    incident = Incident.objects.get()  # kept as a draft, nothing charted
    assert incident.status == "draft"
    assert not ProgressNote.objects.exists()
    assert not Alert.objects.filter(kind="incident_submitted").exists()


@pytest.mark.django_db
def test_only_the_reporter_edits_or_submits_a_draft(client, cast, facility, admission):
    incident = svc.incident_open(
        actor=cast["technician"], facility=facility,
        fields=svc.IncidentFields("fall", timezone.now(), staff=(cast["nurse"],)),
    )  # fmt: skip
    client.force_login(cast["nurse"])  # named, so may read it, but not complete it
    detail = reverse("observations:incident_detail", args=[incident.public_id])
    assert client.get(detail).status_code == 200
    response = client.get(reverse("observations:incident_edit", args=[incident.public_id]))
    assert response.status_code == 403
    assert "Only the reporter completes a draft incident report." in page(response)
    with pytest.raises(PermissionDenied):
        svc.incident_submit(actor=cast["nurse"], incident=incident)


@pytest.mark.django_db
def test_the_reporter_cannot_sign_off_their_own_report(cast, facility, admission):
    incident = submitted(cast, facility, admission, reporter="supervisor")
    with pytest.raises(ValidationError, match="you reported this incident"):
        svc.incident_review(actor=cast["supervisor"], incident=incident, note="Fine")
    other = make_user("supervisor_two", "supervisor", facility)
    svc.incident_review(actor=other, incident=incident, note="Fine")
    assert Incident.objects.get().status == "reviewed"


@pytest.mark.django_db
def test_an_emergency_hold_is_refused_where_the_facility_does_not_permit_one(cast, facility):
    now = timezone.now()
    fields = svc.IncidentFields(
        "aggression_staff",
        now - timedelta(minutes=30),
        interventions=("hold",),
        hold_started_at=now - timedelta(minutes=25),
    )
    with pytest.raises(ValidationError) as refused:
        svc.incident_open(actor=cast["technician"], facility=facility, fields=fields)
    assert "does not permit emergency holds" in str(refused.value)
    facility.emergency_holds_permitted = True
    facility.save(update_fields=["emergency_holds_permitted"])
    incident = svc.incident_open(actor=cast["technician"], facility=facility, fields=fields)
    assert incident.hold_started_at is not None


# ---------------------------------------------------------------- who reads it


@pytest.mark.django_db
def test_a_technician_not_named_gets_403_and_a_named_one_reads_it(
    client, cast, facility, admission
):
    named = make_user("named_tech", "technician", facility)
    stranger = make_user("stranger_tech", "technician", facility)
    incident = submitted(cast, facility, admission, staff=[named], reporter="nurse")
    urls = [
        reverse(f"observations:{name}", args=[incident.public_id])
        for name in ("incident_detail", "incident_pdf")
    ]
    client.force_login(stranger)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403
        assert response["Content-Type"].startswith("text/html")
        assert DESCRIPTION not in page(response)
    response = client.post(
        reverse("observations:incident_follow_up", args=[incident.public_id]), {"text": "Saw it"}
    )
    assert response.status_code == 403
    assert "read by supervisors, the reporter and the staff named" in page(response)
    assert not incident.follow_ups.exists()
    assert str(incident.public_id) not in page(client.get(reverse("observations:incidents")))
    client.force_login(named)
    assert DESCRIPTION in page(client.get(urls[0]))
    assert str(incident.public_id) in page(client.get(reverse("observations:incidents")))
    # Staff of another facility do not even learn it exists.
    client.force_login(cast["other_supervisor"])
    assert client.get(urls[0]).status_code == 404


@pytest.mark.django_db
def test_the_list_shows_supervisors_all_and_others_their_own_in_fixed_queries(
    client, cast, facility, admission, django_assert_max_num_queries
):
    submitted(cast, facility, admission)
    client.force_login(cast["supervisor"])
    client.get(reverse("observations:incidents"))
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("observations:incidents"))
    for n in range(1, 6):
        other = admit(facility, cast["nurse"], n=n + 10)
        submitted(cast, facility, other, staff=[cast["clinician"]], reporter="nurse")
    with django_assert_max_num_queries(len(few.captured_queries)):
        listed = page(client.get(reverse("observations:incidents")))
    assert listed.count("incident-row") == 6
    client.force_login(cast["technician"])
    assert page(client.get(reverse("observations:incidents"))).count("incident-row") == 1
    client.force_login(cast["clinician"])
    assert page(client.get(reverse("observations:incidents"))).count("incident-row") == 5


# ---------------------------------------------------------------- never in the chart


@pytest.mark.django_db
def test_the_chart_and_its_prints_never_hold_the_report(client, cast, facility, admission):
    sib_round(cast["technician"], facility, admission)
    incident = Incident.objects.get()
    svc.incident_update(
        actor=cast["technician"], incident=incident,
        fields=svc.IncidentFields("self_harm", incident.occurred_at, severity="minor",
                                  description=DESCRIPTION, antecedents=ANTECEDENTS,
                                  interventions=("verbal",), clients=(admission,)),
    )  # fmt: skip
    svc.incident_submit(actor=cast["technician"], incident=incident)
    incident.refresh_from_db()
    client.force_login(cast["supervisor"])  # who may read the report itself
    chart = page(client.get(reverse("clients:chart", args=[admission.client.public_id])))
    assert incident.chart_note_text in chart
    day = timezone.localdate(timezone.now(), facility.tz).isoformat()
    prints = [
        client.get(reverse("observations:observation_sheet", args=[admission.public_id]),
                   {"date": day}),
        client.get(reverse("medications:mar_pdf", args=[admission.public_id])),
    ]  # fmt: skip
    for html in (chart,):
        for secret in (DESCRIPTION, ANTECEDENTS, "Argued about phone", "incident-row"):
            assert secret not in html
        assert reverse("observations:incident_detail", args=[incident.public_id]) not in html
    for response in prints:
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        text = pdf_text(response.content)
        assert admission.client.mrn in text
        assert "struck a peer" not in text and "phone time" not in text
    # The report's own print holds it, so the absence above is not for want of text.
    own_print = client.get(reverse("observations:incident_pdf", args=[incident.public_id]))
    report = pdf_text(own_print.content)
    assert "struck a peer twice" in report


@pytest.mark.django_db
def test_the_incident_pdf_carries_the_part2_notice_and_is_audited(
    client, cast, facility, admission
):
    incident = submitted(cast, facility, admission)
    client.force_login(cast["technician"])
    response = client.get(reverse("observations:incident_pdf", args=[incident.public_id]))
    text = pdf_text(response.content)
    assert " ".join(part2_statement_1().split()) in text
    assert PART2_STATEMENT_2 in text
    assert "not part of the client record" in text
    event = AccessEvent.objects.get(action="print")
    assert (event.user, event.client_public_id, event.what) == (
        cast["technician"], admission.client.public_id, "Incident report"
    )  # fmt: skip


# ---------------------------------------------------------------- notifications


@pytest.mark.django_db
def test_family_is_told_only_with_a_consent_reference_or_in_an_emergency(
    client, cast, facility, admission
):
    incident = submitted(cast, facility, admission)
    client.force_login(cast["technician"])
    url = reverse("observations:incident_notify", args=[incident.public_id])
    base = {"party": "family", "person": "Pat Ashdown (mother)", "method": "phone",
            "notified_at": form_time(timezone.now(), facility), "family_basis": "",
            "consent_reference": "", "note": ""}  # fmt: skip
    cases = [
        ({}, "Basis: family is told only with the client"),
        ({"family_basis": "consent"}, "Consent reference: name the signed consent"),
        ({"family_basis": "emergency"}, "Note: say what the medical emergency is"),
    ]
    for changes, message in cases:
        response = client.post(url, {**base, **changes})
        assert response.status_code == 400
        assert message in page(response)
    assert incident.notifications.filter(party="family").count() == 0
    response = client.post(
        url, {**base, "family_basis": "consent", "consent_reference": "ROI-2026-014 signed 05-02"}
    )
    assert response.status_code == 302
    told = incident.notifications.get(party="family")
    assert (told.family_basis, told.consent_reference) == ("consent", "ROI-2026-014 signed 05-02")
    # The database refuses a family row without a basis, whatever the code path.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        IncidentNotification.objects.create(
            incident=incident, party="family", person="X", method="phone",
            notified_at=timezone.now(), recorded_at=timezone.now(), recorded_by=cast["nurse"],
        )  # fmt: skip


@pytest.mark.django_db
def test_a_notification_cannot_be_in_the_future_or_before_the_incident(cast, facility, admission):
    incident = submitted(cast, facility, admission)
    for when, message in [
        (timezone.now() + timedelta(hours=1), "cannot be in the future"),
        (incident.occurred_at - timedelta(hours=1), "not before the incident"),
    ]:
        with pytest.raises(ValidationError, match=message):
            svc.incident_notify(actor=cast["technician"],
                                incident=incident, party="police", person="Officer 4411",
                                method="phone", notified_at=when)  # fmt: skip


# ---------------------------------------------------------------- scans


@pytest.mark.django_db
def test_an_unreviewed_report_alerts_the_supervisor_after_24_hours_until_signed_off(
    cast, facility, admission
):
    start = timezone.now()
    incident = submitted(cast, facility, admission)
    with time_machine.travel(start + timedelta(hours=23, minutes=50), tick=False):
        assert svc.scan_incidents() == 0
    with time_machine.travel(start + timedelta(hours=24, minutes=5), tick=False):
        assert svc.scan_incidents() == 1
        assert svc.scan_incidents() == 0  # once
        alert = Alert.objects.get(kind="incident_unreviewed")
        assert alert.audience == "supervisor"
        svc.incident_review(actor=cast["supervisor"], incident=incident, note="Done")
    alert.refresh_from_db()
    assert alert.resolved_by == cast["supervisor"]


@pytest.mark.django_db
def test_a_draft_left_24_hours_alerts_the_supervisor_once_until_submitted(
    cast, facility, admission
):
    """Any draft, opened by hand too (no alert at opening: its reporter is writing it), alerts
    the supervisors when still a draft 24 hours after it was opened; submitting closes it."""
    technician = cast["technician"]
    start = timezone.now()
    incident = svc.incident_open(
        actor=technician, facility=facility,
        fields=svc.IncidentFields("fall", start - timedelta(minutes=5), clients=(admission,)),
    )  # fmt: skip
    assert not Alert.objects.exists()
    submitted(cast, facility, admission)  # another report, submitted: not a stale draft
    with time_machine.travel(start + timedelta(hours=23, minutes=50), tick=False):
        svc.scan_incidents()
        assert not Alert.objects.filter(kind="incident_draft_unsubmitted").exists()
    with time_machine.travel(start + timedelta(hours=24, minutes=5), tick=False):
        svc.scan_incidents()
        svc.scan_incidents()  # once per draft
        alert = Alert.objects.get(kind="incident_draft_unsubmitted")
        assert (alert.audience, alert.severity, alert.client_public_id) == (
            "supervisor", "warning", None
        )  # fmt: skip
        assert alert.message.startswith(
            "Draft incident report not submitted 24 hours after it was opened: Fall at "
        )
        assert alert.message.endswith(f"reporter {technician.initials}.")
        assert admission.client.legal_last_name not in alert.message
        assert alert.link == reverse("observations:incident_detail", args=[incident.public_id])
        fields = svc.IncidentFields(
            "fall",
            incident.occurred_at,
            severity="no_harm",
            description="Slipped in the hallway.",
            clients=(admission,),
        )
        svc.incident_update(actor=technician, incident=incident, fields=fields)
        svc.incident_submit(actor=technician, incident=incident)
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    with time_machine.travel(start + timedelta(hours=30), tick=False):
        svc.scan_incidents()
    assert Alert.objects.filter(kind="incident_draft_unsubmitted").count() == 1


@pytest.mark.django_db
def test_an_overdose_draft_left_24_hours_alerts_critically(cast, facility, admission):
    start = timezone.now()
    open_incident_draft(
        IncidentDraft(facility_id=facility.pk, source="naloxone", source_ref="naloxone:x",
                      incident_type="overdose", occurred_at=start, description="Naloxone given",
                      reporter=cast["nurse"], client_public_ids=(admission.client.public_id,))
    )  # fmt: skip
    with time_machine.travel(start + timedelta(hours=24, minutes=1), tick=False):
        svc.scan_incidents()
    assert Alert.objects.get(kind="incident_draft_unsubmitted").severity == "critical"
    assert Alert.objects.get(kind="incident_draft_opened").resolved_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incident_type, severity, critical",
    [
        ("suicide_attempt", "minor", True),
        ("elopement", "no_harm", True),
        ("abuse_allegation", "no_harm", True),
        ("fall", "major", True),  # serious injury
        ("medical_emergency", "death", True),
        ("fall", "moderate", False),
        ("aggression_peer", "minor", False),
    ],
)
def test_a_critical_incident_with_no_state_notification_in_time_alerts(
    cast, facility, admission, incident_type, severity, critical
):
    start = timezone.now()
    incident = submitted(cast, facility, admission, incident_type=incident_type,
                         severity=severity, occurred_at=start)  # fmt: skip
    hours = facility.incident_state_report_hours
    with time_machine.travel(start + timedelta(hours=hours) - timedelta(minutes=5), tick=False):
        svc.scan_incidents()
        assert not Alert.objects.filter(kind="incident_state_report").exists()
    with time_machine.travel(start + timedelta(hours=hours, minutes=1), tick=False):
        svc.scan_incidents()
        found = Alert.objects.filter(kind="incident_state_report")
        assert found.exists() is critical
        if critical:
            assert found.get().severity == "critical"
            svc.incident_notify(actor=cast["technician"], incident=incident, party="state",
                                person="State licensing, intake line", method="portal",
                                notified_at=timezone.now())  # fmt: skip
            assert found.get().resolved_at is not None


@pytest.mark.django_db
def test_a_state_notification_in_time_means_no_alert(cast, facility, admission):
    start = timezone.now()
    incident = submitted(cast, facility, admission, incident_type="elopement", occurred_at=start)
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        svc.incident_notify(
            actor=cast["technician"],
            incident=incident,
            party="state",
            person="Intake",
            method="fax",
            notified_at=start + timedelta(minutes=5),
        )
    with time_machine.travel(start + timedelta(hours=30), tick=False):
        svc.scan_incidents()
    assert not Alert.objects.filter(kind="incident_state_report").exists()


@pytest.mark.django_db
def test_a_debrief_not_recorded_in_time_raises_an_info_alert_that_the_debrief_closes(
    client, cast, facility, admission
):
    start = timezone.now()
    incident = submitted(cast, facility, admission, occurred_at=start)
    hours = facility.incident_debrief_hours
    with time_machine.travel(start + timedelta(hours=hours, minutes=1), tick=False):
        svc.scan_incidents()
        alert = Alert.objects.get(kind="incident_debrief")
        assert alert.severity == "info"
        client.force_login(cast["nurse"])  # not named: may not record it
        url = reverse("observations:incident_debrief", args=[incident.public_id])
        body = {"debrief_at": form_time(timezone.now(), facility),
                "debrief_note": "Client, peer and two staff; agreed phone rota."}  # fmt: skip
        assert client.post(url, body).status_code == 403
        client.force_login(cast["technician"])
        assert client.post(url, body).status_code == 302
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert Incident.objects.get().debrief_note.startswith("Client, peer")


@pytest.mark.django_db
def test_scan_alerts_close_only_by_their_answer_not_by_resolve(client, cast, facility, admission):
    submitted(cast, facility, admission)
    alert = Alert.objects.get(kind="incident_submitted")
    client.force_login(cast["supervisor"])
    client.post(reverse("alert_resolve", args=[alert.public_id]), {"note": "Seen"})
    alert.refresh_from_db()
    assert alert.resolved_at is None


# ---------------------------------------------------------------- input


@pytest.mark.django_db
def test_a_client_of_another_facility_cannot_be_named(client, cast, facility, other_admission):
    client.force_login(cast["technician"])
    response = client.post(
        reverse("observations:incident_new"), report_body(facility, other_admission)
    )
    assert response.status_code == 400
    assert "Clients: choose clients of this facility." in page(response)
    assert not Incident.objects.exists()


def test_every_incident_form_is_hardened():
    import inspect

    from django import forms

    from facility.forms import SafeInputMixin
    from observations import incident_forms

    for _name, cls in inspect.getmembers(incident_forms, inspect.isclass):
        if issubclass(cls, forms.BaseForm) and cls.__module__ == incident_forms.__name__:
            assert issubclass(cls, SafeInputMixin), cls


@pytest.mark.django_db
def test_incident_staff_named_are_of_the_facility(cast, facility, admission):
    with pytest.raises(ValidationError, match="Staff: choose active staff of this facility"):
        svc.incident_open(
            actor=cast["technician"], facility=facility,
            fields=svc.IncidentFields("fall", timezone.now(), staff=(cast["other_nurse"],)),
        )  # fmt: skip
    assert not IncidentStaff.objects.exists()
