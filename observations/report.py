"""The observations app's sections of the shift report (issue 15; specs/shift-report.md): levels
and round checks, security rounds, notes flagged for handoff, risk and the C-SSRS, vitals and
NEWS2, withdrawal scores and their trend, incidents, groups.

Each section reads all the stays of the report at once, in a fixed number of queries whatever
the census. Concern follows facility/registry.py ReportItem; Haven's choices:
- Level: 1 on a continuous level (line of sight, 1:1), on any level above routine q60 (ordered,
  or the q15 admission default of the first 72 hours, which says until when), or when it changed
  in the shift; 2 while a nurse's raise waits past its clinician-order due time.
- Rounds: the windows the compliance report and the scan judge (observations.compliance), those
  beginning in the shift and ended by now; missed 2, late only 1.
- Notes: behavior notes flagged for handoff, 1. Progress notes have no handoff flag, so none.
- Risk: C-SSRS high 3, moderate 2, low or none 0; a screen owed 1, overdue 2; a risk flag in a
  behavior note 3 for suicidal or homicidal thoughts (a critical alert), else 2.
- Vitals: NEWS2 ≥ 7 3; 5–6 or a single red parameter 2; a value past a notify threshold 1.
- Withdrawal: the severe band 3 (it alerts nurse and clinician); rising over the shift in a treat
  band 2 (CIWA-Ar from 8, COWS from 13: where the protocol reassesses hourly); in a treat band 1.
- Incidents: with an injury recorded or severity major or death 3, others 2. Incident reports are
  not chart records (specs/charting.md): the report names type, severity and status only, and
  links to the report, which only its readers may open.
- Groups: information (0).
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from clients.models import Admission
from facility.registry import ReportItem, ReportSection, register_report_section
from observations import withdrawal as rules
from observations.compliance import Tally, _load, admission_blocks
from observations.models import (
    CONTINUOUS_LEVELS,
    LEVEL_RANK,
    BehaviorNote,
    CssrsRequest,
    CssrsScreen,
    GroupAttendance,
    Incident,
    IncidentClient,
    IncidentSeverity,
    IncidentStatus,
    Level,
    LevelOrder,
    LevelOrderKind,
    RiskFlag,
    ScaleAssessment,
    SecurityArea,
    SecurityCheck,
    SecurityFinding,
    SecurityRound,
    VitalSigns,
)
from observations.rounds import (
    ADMISSION_LEVEL,
    ADMISSION_LEVEL_HOURS,
    DEFAULT_LEVEL,
    level_events,
)
from observations.security import windows_between
from observations.services.behavior_notes import CRITICAL_FLAGS, note_sections, note_summary
from observations.services.cssrs import ADMISSION_DUE
from observations.services.incidents import UNREVIEWED_AFTER, incident_url
from observations.services.scans import observer_at
from observations.services.vitals import flag_text

# Where symptom-triggered treatment starts (observations.withdrawal: the hourly reassessment).
TREAT_BANDS = {
    "ciwa_ar": {"mild", "moderate", "severe"},
    "cows": {"moderate", "moderately_severe", "severe"},
}
HIGH_SEVERITIES = {IncidentSeverity.MAJOR, IncidentSeverity.DEATH}
TEXT_MAX = 300


def _until(scope) -> datetime:
    """The moment "now" questions are asked at: the shift's end, or now while it runs."""
    return min(scope.end, scope.now) if scope.now is not None else scope.end


def _hm(moment: datetime, tz) -> str:
    return f"{timezone.localtime(moment, tz):%H:%M}"


def _when(moment: datetime, tz, ref: datetime) -> str:
    """HH:MM on the facility clock, with the date when it is not the day of `ref`."""
    local, day = timezone.localtime(moment, tz), timezone.localtime(ref, tz).date()
    return f"{local:%H:%M}" if local.date() == day else f"{local:%Y-%m-%d %H:%M}"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"


def _in_shift(scope, field: str) -> Q:
    return Q(**{f"{field}__gte": scope.start, f"{field}__lt": scope.end})


# ----------------------------------------------------------------------- levels and rounds


def _level_items(stay, orders, changes, watches, observers, *, at, tz) -> list[ReportItem]:
    events = level_events(stay.admitted_at, orders)
    in_force = [(since, level) for since, level in events if since <= at]
    if not in_force:
        return []
    since, level = in_force[-1]
    order = next((o for o in reversed(orders) if o.effective_from <= at), None)
    ordered = order is not None and order.effective_from == since
    concern = 0
    notes = []
    if level in CONTINUOUS_LEVELS:
        concern = 1
        who = observer_at(watches, at)
        notes.append(f"observer {observers[who].signature}" if who else "no observer assigned")
    elif LEVEL_RANK[level] > LEVEL_RANK[DEFAULT_LEVEL]:
        # Above routine, by an order or by the admission default: never a quiet line.
        concern = 1
    if order is None and level == ADMISSION_LEVEL:
        until = stay.admitted_at + timedelta(hours=ADMISSION_LEVEL_HOURS)
        notes.append(f"admission default until {_when(until, tz, at)}")
    if (
        ordered
        and order.kind == LevelOrderKind.NURSE_RAISE
        and (order.confirmed_at is None or order.confirmed_at > at)
    ):
        due = order.clinician_order_due_at
        overdue = due is not None and due < at
        concern = max(concern, 2 if overdue else 1)
        notes.append(f"nurse's raise, clinician order {'overdue since' if overdue else 'due'} "
                     f"{_when(due, tz, at)}")  # fmt: skip
    items = [
        ReportItem(
            text=f"{Level(level).label} since {_when(since, tz, at)}"
            + (f" ({'; '.join(notes)})" if notes else ""),
            tag="Level",
            concern=concern,
        )
    ]
    n_default = len(events) - len(orders)
    for change in changes:
        index = n_default + next(i for i, o in enumerate(orders) if o.pk == change.pk)
        before = events[index - 1][1] if index > 0 else None
        was = f"{Level(before).label} → " if before else ""
        kind = " (nurse's raise)" if change.kind == LevelOrderKind.NURSE_RAISE else ""
        items.append(
            ReportItem(
                text=f"{was}{Level(change.level).label} at {_hm(change.effective_from, tz)} by "
                f"{change.ordered_by.signature}{kind}: {_short(change.reason)}",
                tag="Level change",
                at=change.effective_from,
                concern=1,
            )
        )
    return items


def _rounds_items(blocks) -> list[ReportItem]:
    items = []
    missed = [b for b in blocks if b.missed]
    if missed:
        runs = Tally(missed_windows=missed).missed_runs
        items.append(
            ReportItem(
                text=f"{len(missed)} missed: {', '.join(runs)}",
                tag="Missed checks",
                weight=len(missed),
                at=missed[0].start,
                concern=2,
            )
        )
    late = [b for b in blocks if b.late]
    if late:
        times = ", ".join(
            f"{b.start:%H:%M} (charted {_hm(b.check.recorded_at, b.start.tzinfo)})" for b in late
        )
        items.append(
            ReportItem(text=f"{len(late)} late: {times}", tag="Late checks", at=late[0].start)
        )
    return items


def _levels_and_rounds(scope) -> dict[int, list[ReportItem]]:
    """The level at the shift's end (now, while it runs) with its observer, changes in the shift
    with who and why, and the missed and late windows. Six queries whatever the census: stays,
    level orders, checks, leaves, observer assignments (observations.compliance), and the
    shift's level changes with their authors."""
    tz, until = scope.facility.tz, _until(scope)
    ids = list(scope.admission_ids)
    stays = list(Admission.objects.filter(pk__in=ids).select_related("facility"))
    orders, checks, leaves, watches, observers = _load(stays, start=scope.start, end=scope.end)
    changes = defaultdict(list)
    for change in (
        LevelOrder.objects.filter(admission_id__in=ids)
        .filter(_in_shift(scope, "effective_from"))
        .select_related("ordered_by")
        .order_by("effective_from", "id")
    ):
        changes[change.admission_id].append(change)
    out = {}
    for stay in stays:
        # The last instant of the shift (or of the stay, when it ended in the shift).
        at = min(until, scope.end - timedelta(microseconds=1))
        if stay.discharged_at is not None:
            at = min(at, stay.discharged_at - timedelta(microseconds=1))
        items = _level_items(
            stay, orders[stay.pk], changes[stay.pk], watches[stay.pk], observers, at=at, tz=tz
        )
        blocks = admission_blocks(
            stay, orders[stay.pk], leaves[stay.pk], checks[stay.pk],
            start=scope.start, end=scope.end, watches=watches[stay.pk], now=until,
        )  # fmt: skip
        out[stay.pk] = items + _rounds_items(blocks)
    return out


def _security(scope) -> list[ReportItem]:
    """The security round windows that begin in the shift, walked or not, and the findings of
    the shift (on rounds and between them). Four queries: areas, rounds, failed area checks,
    findings. A facility with no areas to walk owes no rounds."""
    facility, tz, until = scope.facility, scope.facility.tz, _until(scope)
    if not SecurityArea.objects.filter(facility=facility, active=True).exists():
        return []
    lo, hi = scope.start.astimezone(UTC), scope.end.astimezone(UTC)
    windows = [
        (a, b)
        for a, b in windows_between(
            scope.start, scope.end + timedelta(days=1), tz, facility.shift_pattern
        )  # fmt: skip
        if lo <= a.astimezone(UTC) < hi
    ]
    rounds = {
        r.window_start.astimezone(UTC): r
        for r in SecurityRound.objects.filter(facility=facility)
        .filter(_in_shift(scope, "window_start"))
        .select_related("completed_by")
    }
    findings = defaultdict(list)
    for check in SecurityCheck.objects.filter(
        round__in=[r.pk for r in rounds.values()], ok=False
    ).select_related("area"):
        findings[check.round_id].append(check)
    lines = []
    for a, b in windows:
        span = f"{a:%H:%M}–{b:%H:%M}"
        walked = rounds.get(a.astimezone(UTC))
        if walked is None:
            if b.astimezone(UTC) <= until.astimezone(UTC):
                lines.append(ReportItem(text=f"Round {span} not recorded", tag="Security round",
                                        at=a, concern=2))  # fmt: skip
            else:
                lines.append(ReportItem(text=f"Round {span} due", tag="Security round", at=a,
                                        concern=0))  # fmt: skip
            continue
        found = findings[walked.pk]
        result = f"{len(found)} finding{'s' if len(found) != 1 else ''}" if found else "all OK"
        lines.append(
            ReportItem(
                text=f"Round {span} walked {_hm(walked.completed_at, tz)} by "
                f"{walked.completed_by.signature}: {result}",
                tag="Security round",
                at=a,
                concern=1 if found else 0,
            )
        )
        for check in found:
            where = f" ({check.location_detail})" if check.location_detail else ""
            lines.append(
                ReportItem(
                    text=f"{check.area.name}{where}: {_short(check.finding)}; action: "
                    f"{_short(check.action_taken)}",
                    tag="Finding",
                    at=walked.completed_at,
                    concern=2 if check.alert_raised else 1,
                )
            )
    for f in (
        SecurityFinding.objects.filter(facility=facility)
        .filter(_in_shift(scope, "found_at"))
        .select_related("area", "recorded_by")
    ):
        where = f" ({f.location_detail})" if f.location_detail else ""
        lines.append(
            ReportItem(
                text=f"{f.area.name}{where}, {_hm(f.found_at, tz)} by {f.recorded_by.signature}: "
                f"{_short(f.finding)}; action: {_short(f.action_taken)}",
                tag="Finding",
                at=f.found_at,
                concern=2 if f.alert_raised else 1,
            )
        )
    return lines


# ----------------------------------------------------------------------- notes and risk


def _notes(scope) -> dict[int, list[ReportItem]]:
    """Behavior notes flagged for handoff, observed in the shift, not struck. One query."""
    tz = scope.facility.tz
    out = defaultdict(list)
    for note in (
        BehaviorNote.objects.filter(
            admission_id__in=scope.admission_ids, handoff=True, struck_at__isnull=True
        )  # fmt: skip
        .filter(_in_shift(scope, "observed_at"))
        .select_related("recorded_by")
    ):
        parts = [f"{label}: {text}" for label, text in note_summary(note)]
        parts += [f"{label}: {text}" for label, text in note_sections(note)]
        out[note.admission_id].append(
            ReportItem(
                text=_short(
                    f"{_hm(note.observed_at, tz)} {note.recorded_by.signature}: " + "; ".join(parts)
                ),  # fmt: skip
                tag="Behavior note",
                at=note.observed_at,
                concern=1,
                href=reverse("observations:behavior_note", args=[note.public_id]),
            )
        )
    return dict(out)


SCREEN_CONCERN = {"high": 3, "moderate": 2, "low": 0, "none": 0}


def _risk(scope) -> dict[int, list[ReportItem]]:
    """C-SSRS screens of the shift, screens owed at its end, and risk flags in the shift's
    behavior notes. Four queries: stays, their screens, open requests, flagged notes."""
    tz, until = scope.facility.tz, _until(scope)
    ids = list(scope.admission_ids)
    stays = list(Admission.objects.filter(pk__in=ids))
    out = defaultdict(list)
    screened = set()
    for screen in (
        CssrsScreen.objects.filter(admission_id__in=ids, struck_at__isnull=True)
        .select_related("recorded_by")
        .order_by("screened_at")
    ):
        if screen.recorded_at < until:
            screened.add(screen.admission_id)
        if not (scope.start <= screen.screened_at < scope.end):
            continue
        plan = ""
        if screen.result == "high":
            plan = {True: "; safety plan started", False: "; no safety plan yet"}.get(
                screen.safety_plan, ""
            )
        out[screen.admission_id].append(
            ReportItem(
                text=f"C-SSRS {screen.get_result_display().lower()} at "
                f"{_hm(screen.screened_at, tz)} ({screen.get_reason_display().lower()}, "
                f"{screen.recorded_by.signature}){plan}",
                tag="C-SSRS",
                at=screen.screened_at,
                concern=SCREEN_CONCERN.get(screen.result, 1),
                href=reverse("observations:cssrs_result", args=[screen.public_id]),
            )
        )
    requests = {}
    for request in (
        CssrsRequest.objects.filter(admission_id__in=ids, requested_at__lt=until)
        .filter(Q(answered_by__isnull=True) | Q(answered_by__recorded_at__gte=until))
        .filter(Q(cancelled_at__isnull=True) | Q(cancelled_at__gte=until))
        .order_by("due_at")
    ):
        requests.setdefault(request.admission_id, request)
    for stay in stays:
        if stay.admitted_at > until or (stay.discharged_at and stay.discharged_at <= until):
            continue
        request = requests.get(stay.pk)
        if request is not None:
            reason, due = request.get_reason_display().lower(), request.due_at
        elif stay.pk not in screened:
            reason, due = "at admission", stay.admitted_at + ADMISSION_DUE
        else:
            continue
        overdue = due < until
        out[stay.pk].append(
            ReportItem(
                text=f"C-SSRS screen owed ({reason}), {'overdue since' if overdue else 'due'} "
                f"{_when(due, tz, until)}",
                tag="C-SSRS owed",
                at=due,
                concern=2 if overdue else 1,
            )
        )
    for note in (
        BehaviorNote.objects.filter(admission_id__in=ids, struck_at__isnull=True)
        .exclude(risk_flags=[])
        .filter(_in_shift(scope, "observed_at"))
        .select_related("recorded_by")
    ):
        labels = [RiskFlag(f).label for f in note.risk_flags]
        critical = any(f in CRITICAL_FLAGS for f in note.risk_flags)
        out[note.admission_id].append(
            ReportItem(
                text=f"{', '.join(labels)} ({_hm(note.observed_at, tz)}, "
                f"{note.recorded_by.signature})",
                tag="Risk flag",
                at=note.observed_at,
                concern=3 if critical else 2,
                href=reverse("observations:behavior_note", args=[note.public_id]),
            )
        )
    return dict(out)


# ----------------------------------------------------------------------- vitals, withdrawal


def _vitals(scope) -> dict[int, list[ReportItem]]:
    """Sets of the shift with a value past a notify threshold, a red parameter or NEWS2 ≥ 5.
    One query."""
    tz = scope.facility.tz
    out = defaultdict(list)
    for v in (
        VitalSigns.objects.filter(admission_id__in=scope.admission_ids, struck_at__isnull=True)
        .filter(_in_shift(scope, "taken_at"))
        .filter(~Q(flags="") | Q(news2_total__gte=5) | Q(news2_red=True))
        .order_by("taken_at")
    ):
        total = v.news2_total
        concern = 1
        if total is not None and total >= 7:
            concern = 3
        elif (total is not None and total >= 5) or v.news2_red:
            concern = 2
        parts = [flag_text(v, key) for key in v.flags.split(",") if key]
        head = f"NEWS2 {total} ({v.news2_band})" if total is not None else ""
        out[v.admission_id].append(
            ReportItem(
                text=f"{_hm(v.taken_at, tz)} " + "; ".join(p for p in [head, *parts] if p),
                tag=f"NEWS2 {total}" if total is not None and total >= 5 else "Vitals",
                at=v.taken_at,
                concern=concern,
                href=reverse("observations:vitals_result", args=[v.public_id]),
            )
        )
    return dict(out)


def _withdrawal(scope) -> dict[int, list[ReportItem]]:
    """Per stay and scale: the scores of the shift after the last one before it, the band of the
    last, and the trend over the shift (last against the first of that series). Two queries."""
    tz = scope.facility.tz
    ids = list(scope.admission_ids)
    series = defaultdict(list)
    before = {
        (a.admission_id, a.scale): a
        for a in ScaleAssessment.objects.filter(
            admission_id__in=ids, struck_at__isnull=True, assessed_at__lt=scope.start
        )
        .order_by("admission_id", "scale", "-assessed_at")
        .distinct("admission_id", "scale")
    }
    for a in (
        ScaleAssessment.objects.filter(admission_id__in=ids, struck_at__isnull=True)
        .filter(_in_shift(scope, "assessed_at"))
        .order_by("assessed_at", "id")
    ):
        series[(a.admission_id, a.scale)].append(a)
    out = defaultdict(list)
    for (admission_id, scale), scores in series.items():
        last, base = scores[-1], before.get((admission_id, scale))
        first = base or scores[0]
        trend = rules.trend([first.total, last.total]) if last is not first else ""
        word = {"up": "rising", "down": "falling", "same": "unchanged"}.get(trend, "")
        treat = last.band in TREAT_BANDS[scale]
        concern = 0
        if last.band in rules.SEVERE_BANDS[scale]:
            concern = 3
        elif treat and trend == "up":
            concern = 2
        elif treat:
            concern = 1
        shown = " → ".join(f"{_hm(a.assessed_at, tz)} {a.total}" for a in scores)
        since = f"from {base.total} at {_hm(base.assessed_at, tz)} → " if base else ""
        band = rules.BAND_NAMES.get(last.band, last.band)
        out[admission_id].append(
            ReportItem(
                text=f"{rules.SCALE_NAMES[scale]} {since}{shown} ({band})"
                + (f", {word}" if word else ""),
                tag=f"{rules.SCALE_NAMES[scale]} {last.total}",
                at=last.assessed_at,
                concern=concern,
                href=reverse("observations:withdrawal_result", args=[last.public_id]),
            )
        )
    return dict(out)


# ----------------------------------------------------------------------- incidents, groups


def _incident_words(incident: Incident) -> str:
    parts = [incident.get_incident_type_display()]
    if incident.severity:
        parts.append(incident.get_severity_display().lower())
    if incident.injuries.strip():
        parts.append("injury recorded")
    parts.append(incident.get_status_display().lower())
    return ", ".join(parts)


def _incidents(scope) -> dict[int, list[ReportItem]]:
    """Incidents of the shift naming each client. One query."""
    tz = scope.facility.tz
    out = defaultdict(list)
    for link in (
        IncidentClient.objects.filter(admission_id__in=scope.admission_ids)
        .filter(_in_shift(scope, "incident__occurred_at"))
        .select_related("incident")
    ):
        incident = link.incident
        urgent = bool(incident.injuries.strip()) or incident.severity in HIGH_SEVERITIES
        out[link.admission_id].append(
            ReportItem(
                text=f"{_hm(incident.occurred_at, tz)} {_incident_words(incident)}",
                tag="Incident",
                at=incident.occurred_at,
                concern=3 if urgent else 2,
                href=incident_url(incident),
            )
        )
    return dict(out)


def _incidents_awaiting_review(scope) -> list[ReportItem]:
    """Submitted incident reports of the facility not yet signed off, at the shift's end; past
    UNREVIEWED_AFTER a warning. One query."""
    tz, until = scope.facility.tz, _until(scope)
    lines = []
    for incident in Incident.objects.filter(
        facility=scope.facility, status__in=[IncidentStatus.SUBMITTED, IncidentStatus.REVIEWED],
        submitted_at__lt=until,
    ).filter(Q(reviewed_at__isnull=True) | Q(reviewed_at__gte=until)):  # fmt: skip
        waited = until - incident.submitted_at
        day = timezone.localtime(incident.occurred_at, tz)
        lines.append(
            ReportItem(
                text=f"{incident.get_incident_type_display()} of {day:%Y-%m-%d %H:%M}, "
                f"submitted {int(waited.total_seconds() // 3600)} h ago",
                tag="Awaiting review",
                at=incident.submitted_at,
                concern=2 if waited >= UNREVIEWED_AFTER else 1,
                href=incident_url(incident),
            )
        )
    return lines


def _groups(scope) -> dict[int, list[ReportItem]]:
    """Group attendance documented for sessions that began in the shift. One query."""
    tz = scope.facility.tz
    out = defaultdict(list)
    for row in (
        GroupAttendance.objects.filter(admission_id__in=scope.admission_ids, struck_at__isnull=True)
        .filter(_in_shift(scope, "session__starts_at"))
        .select_related("session__topic")
    ):
        session = row.session
        minutes = f" ({row.minutes} min)" if row.minutes else ""
        out[row.admission_id].append(
            ReportItem(
                text=f"{row.get_status_display()}{minutes}: {session.topic}, "
                f"{_hm(session.starts_at, tz)}",
                tag="Group",
                at=session.starts_at,
                concern=0,
            )
        )
    return dict(out)


for _section in (
    ReportSection(key="levels", title="Level and rounds", clients=_levels_and_rounds, order=20),
    ReportSection(key="security", title="Security rounds", facility=_security, order=21),
    ReportSection(key="notes", title="Notes for handoff", clients=_notes, order=30),
    ReportSection(key="risk", title="Risk and C-SSRS", clients=_risk, order=40),
    ReportSection(key="vitals", title="Vitals and NEWS2", clients=_vitals, order=50),
    ReportSection(key="withdrawal", title="Withdrawal scores", clients=_withdrawal, order=60),
    ReportSection(
        key="incidents",
        title="Incidents",
        clients=_incidents,
        facility=_incidents_awaiting_review,
        order=90,
    ),
    ReportSection(key="groups", title="Groups", clients=_groups, order=95),
):
    register_report_section(_section)
