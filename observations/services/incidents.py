"""Incident reports (specs/charting.md, Incidents; issue 12 item 4).

An incident report is an administrative quality record, not part of the chart: it is read by
supervisors, its reporter and the staff it names (policy rule "incident.view"), and never printed
with the chart or disclosed with it. What the chart gets is one objective, signed progress note
per client named, written when the report is submitted, saying only that an event happened and
that the incident log holds it.

The life of a report: a draft (opened by staff, or prefilled from a round, a naloxone dose or a
controlled-count loss through `facility.registry.open_incident_draft`), completed and submitted by
its reporter, then reviewed and signed off by a supervisor who is not the reporter. After submit
the report is not edited; notifications, follow-ups and the debrief are added to it.

Supervisor notification (spec: "supervisor, always, at once"): submitting raises an alert for the
supervisors in Haven and logs it as a notification (party supervisor, method portal, "recorded
by Haven at submission"); a call or a word in person is logged on top of it as usual. A draft
opened by another app's event alerts the supervisors at once too (the banner is only the
reporter's), and any draft still unsubmitted 24 hours after it was opened alerts them from the
scan; submitting closes both. Incident alerts name clients by initials only and carry no client
public id, so they never show on the rounds board or a client's census row.
"""

import contextvars
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from clients.models import Admission, Client
from facility import policy
from facility.models import Alert, AlertSeverity, Facility, User
from facility.registry import IncidentDraft
from facility.services import alert_raise, alerts_raise_many
from observations.models import (
    FamilyBasis,
    Incident,
    IncidentClient,
    IncidentFollowUp,
    IncidentNotification,
    IncidentSeverity,
    IncidentSource,
    IncidentStaff,
    IncidentStatus,
    IncidentType,
    Intervention,
    NotifiedParty,
    NotifyMethod,
    ProgressNote,
)
from observations.notes import is_late_entry

# Critical for the state licensing agency (specs/charting.md): death, suicide attempt, elopement,
# abuse allegation, serious injury (Haven reads "serious injury" as severity major).
CRITICAL_TYPES = frozenset(
    {IncidentType.SUICIDE_ATTEMPT, IncidentType.ELOPEMENT, IncidentType.ABUSE_ALLEGATION}
)
CRITICAL_SEVERITIES = frozenset({IncidentSeverity.DEATH, IncidentSeverity.MAJOR})
UNREVIEWED_AFTER = timedelta(hours=24)
UNSUBMITTED_AFTER = timedelta(hours=24)
CLOCK_SLACK = timedelta(minutes=1)

SUBMITTED_KIND = "incident_submitted"
UNREVIEWED_KIND = "incident_unreviewed"
STATE_KIND = "incident_state_report"
DEBRIEF_KIND = "incident_debrief"
DRAFT_KIND = "incident_draft_opened"
STALE_DRAFT_KIND = "incident_draft_unsubmitted"
SUPERVISOR = "supervisor"
# Each alert closes only when its condition is answered (facility.registry workflow alerts).
WORKFLOW_ALERTS = {
    SUBMITTED_KIND: "the supervisor's sign-off of the incident report",
    UNREVIEWED_KIND: "the supervisor's sign-off of the incident report",
    STATE_KIND: "a state licensing agency notification logged on the incident report",
    DEBRIEF_KIND: "the debrief recorded on the incident report",
    DRAFT_KIND: "the reporter's submission of the incident report",
    STALE_DRAFT_KIND: "the reporter's submission of the incident report",
}

# The fields a draft holds besides its links, as the services and the form name them.
TEXT_LIMITS = {
    "location": 200, "visitors": 300, "description": 4000, "antecedents": 4000,
    "injuries": 2000, "ems_agency": 120, "ems_outcome": 300,
}  # fmt: skip
CHART_NOTE_MAX = Incident._meta.get_field("chart_note_text").max_length


def incident_url(incident: Incident) -> str:
    return reverse("observations:incident_detail", args=[incident.public_id])


def is_critical(incident: Incident) -> bool:
    return incident.incident_type in CRITICAL_TYPES or incident.severity in CRITICAL_SEVERITIES


def _draft_severity(incident: Incident) -> str:
    """An unsubmitted overdose (naloxone given) is critical for the supervisor; others warn."""
    overdose = (
        incident.source == IncidentSource.NALOXONE
        or incident.incident_type == IncidentType.OVERDOSE
    )
    return AlertSeverity.CRITICAL if overdose else AlertSeverity.WARNING


def incidents_visible_to(user: User, facility: Facility):
    """The incident reports of a facility this user may read: every one for a supervisor (who
    reviews), else those they reported or are named in (facility/policy.py "incident.view")."""
    found = Incident.objects.filter(facility=facility, facility__staff=user)
    if policy.allows(user, "incident.review"):
        return found
    named = IncidentStaff.objects.filter(user=user).values("incident_id")
    return found.filter(Q(reported_by=user) | Q(pk__in=named))


# ---------------------------------------------------------------- the banner of opened drafts

# The drafts opened for the signed-in person during one request (a round, a naloxone dose, a
# count sign-off in another app): observations.middleware shows each as "Draft incident opened".
_opened: contextvars.ContextVar[list | None] = contextvars.ContextVar("incident_drafts_opened")


def collect_opened_drafts() -> contextvars.Token:
    return _opened.set([])


def opened_drafts(token: contextvars.Token) -> list:
    found = _opened.get(None) or []
    _opened.reset(token)
    return found


# ---------------------------------------------------------------- drafts


@dataclass
class IncidentFields:
    """What a draft says, as the form or another app's event gives it. `clients` are admissions
    and `staff` users of the incident's facility; `interventions` Intervention values."""

    incident_type: str
    occurred_at: datetime
    severity: str = ""
    location: str = ""
    visitors: str = ""
    description: str = ""
    antecedents: str = ""
    interventions: tuple = ()
    hold_started_at: datetime | None = None
    hold_ended_at: datetime | None = None
    injuries: str = ""
    ems_called_at: datetime | None = None
    ems_agency: str = ""
    ems_outcome: str = ""
    clients: tuple = ()
    staff: tuple = ()


def _field_errors(incident: Incident, f: IncidentFields, now: datetime) -> dict[str, str]:
    facility = incident.facility
    errors: dict[str, str] = {}
    if f.incident_type not in IncidentType.values:
        errors["incident_type"] = "Type: choose one."
    if f.severity and f.severity not in IncidentSeverity.values:
        errors["severity"] = "Severity: choose one."
    if f.occurred_at is None:
        errors["occurred_at"] = "When: enter the date and time."
    elif f.occurred_at > now + CLOCK_SLACK:
        errors["occurred_at"] = "When: cannot be in the future."
    for name, limit in TEXT_LIMITS.items():
        if len(getattr(f, name)) > limit:
            errors[name] = f"{name.replace('_', ' ').capitalize()}: at most {limit} characters."
    unknown = set(f.interventions) - set(Intervention.values)
    if unknown:
        errors["interventions"] = "Interventions: choose from the list."
    held = Intervention.HOLD in f.interventions or f.hold_started_at or f.hold_ended_at
    if held and not facility.emergency_holds_permitted:
        errors["interventions"] = "Emergency hold: this facility does not permit emergency holds."
    elif held:
        if Intervention.HOLD not in f.interventions:
            errors["interventions"] = "Interventions: tick emergency hold to record its times."
        elif f.hold_started_at is None:
            errors["hold_started_at"] = "Hold started: enter when the emergency hold began."
        elif f.hold_ended_at is not None and f.hold_ended_at < f.hold_started_at:
            errors["hold_ended_at"] = "Hold ended: not before it started."
        elif f.hold_ended_at is not None and f.hold_ended_at > now + CLOCK_SLACK:
            errors["hold_ended_at"] = "Hold ended: cannot be in the future."
        if f.occurred_at and f.hold_started_at and f.hold_started_at < f.occurred_at:
            errors.setdefault("hold_started_at", "Hold started: not before the incident.")
    if (f.ems_agency or f.ems_outcome) and f.ems_called_at is None:
        errors["ems_called_at"] = "Emergency services called at: enter when they were called."
    if f.ems_called_at is not None and f.ems_called_at > now + CLOCK_SLACK:
        errors["ems_called_at"] = "Emergency services called at: cannot be in the future."
    for admission in f.clients:
        if admission.facility_id != facility.pk:
            errors["clients"] = "Clients: choose clients of this facility."
    for person in f.staff:
        if facility.pk not in person.facility_ids() or not person.is_active:
            errors["staff"] = "Staff: choose active staff of this facility."
    return errors


def _apply(incident: Incident, f: IncidentFields, now: datetime) -> None:
    """Validate the fields (every refusal at once, keyed by field) and store them with links."""
    errors = _field_errors(incident, f, now)
    if errors:
        raise ValidationError(errors)
    incident.incident_type = f.incident_type
    incident.severity = f.severity
    incident.occurred_at = min(f.occurred_at, now)
    for name in TEXT_LIMITS:
        setattr(incident, name, getattr(f, name).strip())
    incident.interventions = [v for v in Intervention.values if v in set(f.interventions)]
    incident.hold_started_at = f.hold_started_at
    incident.hold_ended_at = f.hold_ended_at
    incident.ems_called_at = f.ems_called_at
    incident.save()
    _set_links(incident, f.clients, f.staff)


def _set_links(incident: Incident, admissions, staff) -> None:
    wanted = {a.pk for a in admissions}
    incident.client_links.exclude(admission_id__in=wanted).delete()
    have = set(incident.client_links.values_list("admission_id", flat=True))
    IncidentClient.objects.bulk_create(
        IncidentClient(incident=incident, admission_id=pk, role="involved")
        for pk in sorted(wanted - have)
    )
    people = {u.pk for u in staff}
    incident.staff_links.exclude(user_id__in=people).delete()
    have = set(incident.staff_links.values_list("user_id", flat=True))
    IncidentStaff.objects.bulk_create(
        IncidentStaff(incident=incident, user_id=pk) for pk in sorted(people - have)
    )


@transaction.atomic
def incident_open(
    *, actor: User, facility: Facility, fields: IncidentFields, now: datetime | None = None
) -> Incident:
    """A new draft report by the actor (its reporter), at their facility."""
    policy.require(actor, "incident.report", facility)
    now = now or timezone.now()
    incident = Incident(
        facility=facility,
        incident_type=fields.incident_type,
        occurred_at=fields.occurred_at or now,
        reported_by=actor,
        recorded_at=now,
    )
    _apply(incident, fields, now)
    return incident


def _locked(incident: Incident) -> Incident:
    return (
        Incident.objects.select_for_update(of=("self",))
        .select_related("facility", "reported_by")
        .get(pk=incident.pk)
    )


def _reporter_draft(actor: User, incident: Incident) -> None:
    if incident.reported_by_id != actor.pk:
        raise PermissionDenied("Only the reporter completes a draft incident report.")
    if incident.status != IncidentStatus.DRAFT:
        raise ValidationError(
            "This report was submitted: it is not edited; add a follow-up instead."
        )


@transaction.atomic
def incident_update(
    *, actor: User, incident: Incident, fields: IncidentFields, now: datetime | None = None
) -> Incident:
    """Save a draft again (its reporter only; a submitted report is not edited)."""
    policy.require(actor, "incident.report", incident)
    incident = _locked(incident)
    _reporter_draft(actor, incident)
    _apply(incident, fields, now or timezone.now())
    return incident


def chart_note_text(incident: Incident) -> str:
    """The objective line each named client's chart gets: that an event happened, its kind and
    time, and where the report is; never what the report says about anyone."""
    at = timezone.localtime(incident.occurred_at, incident.facility.tz)
    what = incident.get_incident_type_display().lower()
    acted = "Staff intervened" if incident.interventions else "Staff responded"
    text = f"Incident {at:%H:%M}: {what}. {acted}; see the incident log (administrative record)."
    return text[:CHART_NOTE_MAX]


def _chart_notes(incident: Incident, text: str, now: datetime) -> None:
    tz = incident.facility.tz
    late = is_late_entry(incident.occurred_at, now, incident.facility.shift_pattern, tz)
    ProgressNote.objects.bulk_create(
        ProgressNote(
            admission_id=link.admission_id,
            author=incident.reported_by,
            note_format="narrative",
            sections={"narrative": text},
            event_at=incident.occurred_at,
            created_at=now,
            saved_at=now,
            signed_at=now,
            late_entry=late,
            cosign_required=False,
        )
        for link in incident.client_links.order_by("pk")
    )


@transaction.atomic
def incident_submit(*, actor: User, incident: Incident, now: datetime | None = None) -> Incident:
    """The reporter submits a complete draft: severity and an objective description required.

    Each client named gets a signed, objective progress note; the supervisors are alerted at once
    in Haven and that alert is logged as the supervisor notification."""
    policy.require(actor, "incident.report", incident)
    now = now or timezone.now()
    incident = _locked(incident)
    _reporter_draft(actor, incident)
    errors = {}
    if not incident.severity:
        errors["severity"] = "Severity: choose one before submitting."
    if not incident.description.strip():
        errors["description"] = "What happened: describe it objectively before submitting."
    if errors:
        raise ValidationError(errors)
    incident.status = IncidentStatus.SUBMITTED
    incident.submitted_at = now
    incident.chart_note_text = chart_note_text(incident)
    incident.save(update_fields=["status", "submitted_at", "chart_note_text"])
    _chart_notes(incident, incident.chart_note_text, now)
    pid = incident.public_id
    _close(
        [f"incident-draft:{pid}", f"incident-draft-unsubmitted:{pid}"],
        actor=actor,
        note=f"Incident report submitted by {actor.initials}.",
        now=now,
    )
    at = timezone.localtime(incident.occurred_at, incident.facility.tz)
    alert_raise(
        facility=incident.facility,
        kind=SUBMITTED_KIND,
        severity=AlertSeverity.CRITICAL if is_critical(incident) else AlertSeverity.WARNING,
        message=f"Incident report submitted: {incident.get_incident_type_display()} at "
        f"{at:%Y-%m-%d %H:%M} ({incident.get_severity_display().lower()}), by "
        f"{actor.initials}. Review and sign it off.",
        dedupe_key=f"incident-submitted:{incident.public_id}",
        link=incident_url(incident),
        now=now,
        audience=SUPERVISOR,
    )
    IncidentNotification.objects.create(
        incident=incident,
        party=NotifiedParty.SUPERVISOR,
        person="Supervisors on the Haven alert list",
        method=NotifyMethod.PORTAL,
        notified_at=now,
        note="Recorded by Haven at submission.",
        recorded_at=now,
        recorded_by=actor,
    )
    return incident


# ---------------------------------------------------------------- after submission


def _readable(actor: User, incident: Incident, capability: str = "incident.report") -> Incident:
    policy.require(actor, capability, incident)
    policy.require(actor, "incident.view", incident)
    return _locked(incident)


def _close(keys: list[str], *, actor: User, note: str, now: datetime) -> None:
    """Close the workflow alerts the answer settles (not by the alerts page's Resolve)."""
    Alert.objects.open().filter(dedupe_key__in=keys).update(
        resolved_at=now, resolved_by=actor, resolution_note=note
    )


@transaction.atomic
def incident_notify(
    *,
    actor: User,
    incident: Incident,
    party: str,
    person: str,
    method: str,
    notified_at: datetime,
    family_basis: str = "",
    consent_reference: str = "",
    note: str = "",
    now: datetime | None = None,
) -> IncidentNotification:
    """Log who was told, how and when.

    Family or a guardian is told only with the client's consent or in a medical emergency
    (42 CFR 2.51; specs/privacy.md). Consents are not yet records in Haven (issue 16): the
    consent relied on is the reference staff type, after checking it is signed, unexpired,
    unrevoked and names this person. An emergency needs its nature in the note (2.51(c))."""
    incident = _readable(actor, incident)
    now = now or timezone.now()
    person, consent_reference, note = person.strip(), consent_reference.strip(), note.strip()
    errors: dict[str, str] = {}
    if party not in NotifiedParty.values:
        errors["party"] = "Who was told: choose one."
    if method not in NotifyMethod.values:
        errors["method"] = "How: choose one."
    if not person:
        errors["person"] = "Name: say who was told (name, agency or badge)."
    if notified_at is None:
        errors["notified_at"] = "When: enter the date and time."
    elif notified_at > now + CLOCK_SLACK:
        errors["notified_at"] = "When: cannot be in the future."
    elif notified_at < incident.occurred_at:
        errors["notified_at"] = "When: not before the incident."
    if party == NotifiedParty.FAMILY:
        if family_basis not in FamilyBasis.values:
            errors["family_basis"] = (
                "Basis: family is told only with the client's written consent or in a medical "
                "emergency; choose which."
            )
        elif family_basis == FamilyBasis.CONSENT and not consent_reference:
            errors["consent_reference"] = (
                "Consent reference: name the signed consent that covers this person."
            )
        elif family_basis == FamilyBasis.EMERGENCY and not note:
            errors["note"] = "Note: say what the medical emergency is (42 CFR 2.51)."
    elif family_basis or consent_reference:
        errors["family_basis"] = "Basis: only for a family or guardian notification."
    if errors:
        raise ValidationError(errors)
    row = IncidentNotification.objects.create(
        incident=incident,
        party=party,
        person=person,
        method=method,
        notified_at=min(notified_at, now),
        family_basis=family_basis if party == NotifiedParty.FAMILY else "",
        consent_reference=consent_reference if family_basis == FamilyBasis.CONSENT else "",
        note=note,
        recorded_at=now,
        recorded_by=actor,
    )
    if party == NotifiedParty.STATE:
        _close(
            [f"incident-state:{incident.public_id}"],
            actor=actor,
            note=f"State agency notified ({row.get_method_display().lower()}).",
            now=now,
        )
    return row


@transaction.atomic
def incident_follow_up(
    *, actor: User, incident: Incident, text: str, now: datetime | None = None
) -> IncidentFollowUp:
    """Something learnt or done after submission (append-only; the report itself stays)."""
    incident = _readable(actor, incident)
    text = text.strip()
    if incident.status == IncidentStatus.DRAFT:
        raise ValidationError("A draft is completed, not followed up: edit it.")
    if not text:
        raise ValidationError({"text": "Follow-up: say what was learnt or done."})
    return IncidentFollowUp.objects.create(
        incident=incident, text=text, recorded_at=now or timezone.now(), recorded_by=actor
    )


@transaction.atomic
def incident_debrief(
    *, actor: User, incident: Incident, debrief_at: datetime, note: str, now: datetime | None = None
) -> Incident:
    """The debrief with the people involved (specs: within the facility's debrief hours)."""
    incident = _readable(actor, incident)
    now = now or timezone.now()
    errors = {}
    if incident.status == IncidentStatus.DRAFT:
        raise ValidationError("Submit the report before recording its debrief.")
    if incident.debrief_at is not None:
        raise ValidationError("The debrief is already recorded; add a follow-up instead.")
    if debrief_at is None:
        errors["debrief_at"] = "Debrief held at: enter the date and time."
    elif debrief_at > now + CLOCK_SLACK:
        errors["debrief_at"] = "Debrief held at: cannot be in the future."
    elif debrief_at < incident.occurred_at:
        errors["debrief_at"] = "Debrief held at: not before the incident."
    if not note.strip():
        errors["debrief_note"] = "Debrief: say who took part and what was agreed."
    if errors:
        raise ValidationError(errors)
    incident.debrief_at = min(debrief_at, now)
    incident.debrief_note = note.strip()
    incident.save(update_fields=["debrief_at", "debrief_note"])
    _close(
        [f"incident-debrief:{incident.public_id}"],
        actor=actor,
        note="Debrief recorded.",
        now=now,
    )
    return incident


@transaction.atomic
def incident_review(
    *, actor: User, incident: Incident, note: str, now: datetime | None = None
) -> Incident:
    """A supervisor who did not report it reviews and signs off a submitted report."""
    incident = _readable(actor, incident, "incident.review")
    now = now or timezone.now()
    if incident.status == IncidentStatus.DRAFT:
        raise ValidationError("This report is still a draft: its reporter submits it first.")
    if incident.status == IncidentStatus.REVIEWED:
        raise ValidationError("This report is already signed off.")
    if incident.reported_by_id == actor.pk:
        raise ValidationError("Sign-off: you reported this incident; another supervisor signs off.")
    if not note.strip():
        raise ValidationError({"review_note": "Review: say what was reviewed and decided."})
    incident.status = IncidentStatus.REVIEWED
    incident.reviewed_at = now
    incident.reviewed_by = actor
    incident.review_note = note.strip()
    incident.save(update_fields=["status", "reviewed_at", "reviewed_by", "review_note"])
    pid = incident.public_id
    _close(
        [f"incident-submitted:{pid}", f"incident-unreviewed:{pid}"],
        actor=actor,
        note=f"Incident report signed off by {actor.initials}.",
        now=now,
    )
    return incident


# ---------------------------------------------------------------- drafts from other events

SOURCE_INTERVENTIONS = {IncidentSource.NALOXONE: (Intervention.NALOXONE,)}
# How the supervisors' alert names the event that opened a draft.
SOURCE_WORDS = {
    IncidentSource.ROUND: "a round check",
    IncidentSource.NALOXONE: "a naloxone dose",
    IncidentSource.COUNT: "a controlled-count loss",
    IncidentSource.TRIP: "a transport head count",
    IncidentSource.MANUAL: "another record",
}


def _alert_draft_opened(incident: Incident, admissions: list, now: datetime) -> None:
    """Tell the supervisors at once that an event opened a draft (the banner tells only the
    person whose action opened it). By initials, with no client public id: the report stays out
    of the rounds board and the census. Closed by the report's submission."""
    initials = ", ".join(a.client.initials for a in admissions)
    who = f" for {initials}" if initials else " (no client named)"
    at = timezone.localtime(incident.occurred_at, incident.facility.tz)
    alert_raise(
        facility=incident.facility,
        kind=DRAFT_KIND,
        severity=_draft_severity(incident),
        message=f"Draft incident opened from {SOURCE_WORDS[incident.source]}{who}: not yet "
        f"submitted ({incident.get_incident_type_display().lower()} at {at:%Y-%m-%d %H:%M}; "
        f"reporter {incident.reported_by.initials}).",
        dedupe_key=f"incident-draft:{incident.public_id}",
        link=incident_url(incident),
        now=now,
        audience=SUPERVISOR,
    )


@transaction.atomic
def incident_draft_open(draft: IncidentDraft) -> tuple:
    """Open (or find, by `source_ref`) a draft prefilled from another app's event; returns
    (public id, created). Registered as facility.registry's incident opener. The event's
    actor is the reporter; the clients are linked by their stay at the facility."""
    found = Incident.objects.filter(source_ref=draft.source_ref).first()
    if found is not None:
        return found.public_id, False
    facility = Facility.objects.get(pk=draft.facility_id)
    now = timezone.now()
    admissions = list(
        Admission.objects.filter(
            facility=facility,
            client__in=Client.objects.filter(public_id__in=list(draft.client_public_ids)),
        )
        .filter(Q(discharged_at__isnull=True) | Q(discharged_at__gte=draft.occurred_at))
        .select_related("client")
        .order_by("client_id", "-admitted_at")
        .distinct("client_id")
    )
    source = draft.source if draft.source in IncidentSource.values else IncidentSource.MANUAL
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                facility=facility,
                incident_type=draft.incident_type,
                occurred_at=min(draft.occurred_at, now),
                location=draft.location[: TEXT_LIMITS["location"]],
                description=draft.description[: TEXT_LIMITS["description"]],
                interventions=list(SOURCE_INTERVENTIONS.get(source, ())),
                source=source,
                source_ref=draft.source_ref,
                reported_by=draft.reporter,
                recorded_at=now,
            )
    except IntegrityError:  # the same event's hook racing this one opened it first
        return Incident.objects.get(source_ref=draft.source_ref).public_id, False
    _set_links(incident, admissions, ())
    _alert_draft_opened(incident, admissions, now)
    collected = _opened.get(None)
    if collected is not None:
        collected.append((incident.public_id, draft.reporter.pk))
    return incident.public_id, True


def register() -> None:
    from facility.registry import register_incident_opener, register_workflow_alert

    register_incident_opener(incident_draft_open)
    for kind, closed_by in WORKFLOW_ALERTS.items():
        register_workflow_alert(kind, closed_by)


# ---------------------------------------------------------------- the scan


def _alert(incident: Incident, kind: str, key: str, severity: str, message: str, now) -> Alert:
    return Alert(
        facility_id=incident.facility_id,
        kind=kind,
        severity=severity,
        message=message,
        dedupe_key=f"{key}:{incident.public_id}",
        link=incident_url(incident),
        raised_at=now,
        audience=SUPERVISOR,
    )


def _label(incident: Incident) -> str:
    at = timezone.localtime(incident.occurred_at, incident.facility.tz)
    return f"{incident.get_incident_type_display()} at {at:%Y-%m-%d %H:%M}"


def scan_incidents(*, now: datetime | None = None) -> int:
    """Drafts not submitted 24 hours after they were opened (by staff or by an event); submitted
    reports not reviewed 24 hours after submission; critical incidents with no state
    notification within the facility's state-report hours of the event; debriefs not recorded
    within the facility's debrief hours. Each alerts the supervisors once; the answer closes it.
    Returns how many alerts were raised."""
    now = now or timezone.now()
    alerts = []
    stale = Incident.objects.filter(
        status=IncidentStatus.DRAFT, recorded_at__lte=now - UNSUBMITTED_AFTER
    ).select_related("facility", "reported_by")
    for incident in stale:
        alerts.append(
            _alert(
                incident,
                STALE_DRAFT_KIND,
                "incident-draft-unsubmitted",
                _draft_severity(incident),
                f"Draft incident report not submitted 24 hours after it was opened: "
                f"{_label(incident)}, reporter {incident.reported_by.initials}.",
                now,
            )
        )
    unreviewed = Incident.objects.filter(
        status=IncidentStatus.SUBMITTED, submitted_at__lte=now - UNREVIEWED_AFTER
    ).select_related("facility")
    for incident in unreviewed:
        alerts.append(
            _alert(
                incident,
                UNREVIEWED_KIND,
                "incident-unreviewed",
                AlertSeverity.WARNING,
                f"Incident report not reviewed 24 hours after submission: {_label(incident)}.",
                now,
            )
        )
    critical = Q(incident_type__in=CRITICAL_TYPES) | Q(severity__in=CRITICAL_SEVERITIES)
    told = IncidentNotification.objects.filter(party=NotifiedParty.STATE).values("incident_id")
    lapsed = []
    for facility in Facility.objects.filter(incidents__isnull=False).distinct():
        state_by = now - timedelta(hours=facility.incident_state_report_hours)
        debrief_by = now - timedelta(hours=facility.incident_debrief_hours)
        lapsed += [
            (i, STATE_KIND)
            for i in Incident.objects.filter(critical, facility=facility, occurred_at__lte=state_by)
            .exclude(pk__in=told)
            .select_related("facility")
        ]
        lapsed += [
            (i, DEBRIEF_KIND)
            for i in Incident.objects.filter(
                facility=facility, occurred_at__lte=debrief_by, debrief_at__isnull=True
            )
            .exclude(status=IncidentStatus.DRAFT)
            .select_related("facility")
        ]
    for incident, kind in lapsed:
        if kind == STATE_KIND:
            hours = incident.facility.incident_state_report_hours
            alerts.append(
                _alert(
                    incident,
                    STATE_KIND,
                    "incident-state",
                    AlertSeverity.CRITICAL,
                    f"Critical incident not reported to the state licensing agency within "
                    f"{hours} hours: {_label(incident)}. Report it and log the notification.",
                    now,
                )
            )
        else:
            hours = incident.facility.incident_debrief_hours
            alerts.append(
                _alert(
                    incident,
                    DEBRIEF_KIND,
                    "incident-debrief",
                    AlertSeverity.INFO,
                    f"No debrief recorded within {hours} hours: {_label(incident)}.",
                    now,
                )
            )
    return alerts_raise_many(alerts) if alerts else 0
