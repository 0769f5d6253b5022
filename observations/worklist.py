"""The observations app's sections of "My work" (issue 17 item 1; facility/registry.py
WorklistSection): rounds on each unit, My 1:1, vitals, withdrawal scores, groups and C-SSRS
screens owed, nurse-raised levels awaiting a clinician's order, notes to co-sign, high-risk
screens for the clinician and incident reports to review.

Nothing here decides what is owed: each section asks the rule the app's own pages use
(services.round_state for rounds, my_watches for My 1:1, vitals_status, protocol_statuses,
screens_owed, notes_to_cosign, CurrentLevel.awaiting_order) and only sorts and words the answer.
Each section reads the whole facility in a fixed number of queries, whatever the census.

Haven has no unit per staff member, so the rounds section lists every unit of the facility that
has clients on rounds, the most urgent first.
"""

from datetime import UTC, datetime, time, timedelta
from typing import NamedTuple

from django.db.models import Case, F, IntegerField, Q, Value, When
from django.urls import reverse

from clients.models import Admission, Leave
from facility.models import Alert, Unit
from facility.registry import WorkItem, WorklistSection, register_worklist_section
from facility.worklist import CAP
from observations import services
from observations.census import VITALS_TONES
from observations.models import (
    LEVEL_INTERVAL,
    LEVEL_RANK,
    CssrsResult,
    CssrsScreen,
    GroupSession,
    Incident,
    IncidentSeverity,
    IncidentStatus,
    LevelOrder,
    LevelOrderKind,
    WithdrawalProtocol,
)
from observations.rounds import block_floor
from observations.services.cssrs import screens_owed
from observations.services.progress_notes import age_text, notes_to_cosign
from observations.services.withdrawal import score_url
from observations.timeline import FORMAT_SHORT
from observations.views.cssrs import SUGGESTED_LEVEL
from observations.views.notes import OLD_IN_QUEUE
from observations.views.rounds import my_watches

# Most urgent first, the same words as the boards.
STATE_RANK = {"overdue": 0, "missed": 0, "due": 1, "due_soon": 2}
DUE_WORDS = {"overdue": "overdue since", "due": "due since", "due_soon": "due"}
WITHDRAWAL_TONES = {"overdue": "alert", "due": "due", "due_soon": "late"}
FAR = datetime.max.replace(tzinfo=UTC)


def _chart(admission) -> str:
    return reverse("clients:chart", args=[admission.client.public_id])


def _where(admission) -> str:
    """ "East E03": where to find the client."""
    bed = f" {admission.bed.label}" if admission.bed_id else ""
    return f"{admission.unit.name}{bed}"


def _current_stays(facility):
    """The facility's open stays with their client, unit and bed: one query."""
    return list(
        Admission.objects.current()
        .filter(facility=facility)
        .select_related("client", "unit", "bed")
        .order_by("unit__name", "bed__label", "pk")
    )


# ---------------------------------------------------------------- rounds on each unit


class _Stay(NamedTuple):
    """What current_levels, last_checks and round_state read of a stay."""

    pk: int
    unit_id: int
    admitted_at: datetime
    client_public_id: object


class _UnitRounds:
    """One unit's clients on rounds now, counted by what the board says of each."""

    def __init__(self, unit):
        self.unit = unit
        self.missed = self.due = self.seen = 0
        self.due_soon = False
        self.deadline = FAR  # the earliest check due among those not yet seen this block
        self.next_round = FAR  # when a client seen this block is owed again

    @property
    def on_rounds(self) -> int:
        return self.missed + self.due + self.seen

    def item(self) -> WorkItem:
        href = reverse("observations:board", args=[self.unit.public_id])
        due_by = self.deadline if self.deadline < FAR else None
        if self.missed:
            detail = f"{self.missed} missed" + (f" · {self.due} due by" if self.due else "")
            return WorkItem(self.unit.name, href, detail, due_by, "alert")
        if self.due:
            tone = "late" if self.due_soon else "due"
            return WorkItem(self.unit.name, href, f"{self.due} due by", due_by, tone)
        return WorkItem(
            self.unit.name, href, f"all {self.seen} seen; next round from", self.next_round
        )

    def rank(self) -> tuple:
        if self.missed:
            return (0, -self.missed, self.deadline)
        if self.due:
            return (1, self.deadline)
        return (2, self.next_round)


def _block_end(now: datetime, interval: int, tz) -> datetime:
    """The end of the clock block of `interval` minutes holding `now` (as the board blocks
    them, on the facility's wall clock), in UTC."""
    end = block_floor((now + timedelta(minutes=interval)).astimezone(tz), interval, tz)
    end = end.astimezone(UTC)
    return end if end > now else now + timedelta(minutes=interval)


def _rounds_on_units(*, user, facility, now) -> list[WorkItem]:
    """Per unit: clients whose check is missed or due now (services.round_state, the board's
    and the census's rule) and the earliest deadline, or when the next round is owed once all
    are seen. Clients on a continuous level are left out (their observer charts them on My
    1:1), and so are clients off site. Six queries for the whole facility."""
    tz = facility.tz
    units = {u.pk: _UnitRounds(u) for u in Unit.objects.filter(facility=facility)}
    stays = [
        _Stay(*row)
        for row in Admission.objects.current()
        .filter(facility=facility)
        .order_by()
        .values_list("pk", "unit_id", "admitted_at", "client__public_id")
    ]
    levels = services.current_levels(stays, now)
    last = services.last_checks(stays)
    leaves: dict[int, list] = {}
    for leave in Leave.objects.filter(admission__in=[s.pk for s in stays]).filter(
        Q(returned_at__isnull=True) | Q(returned_at__gte=now - services.RETURN_LOOKBACK)
    ):
        leaves.setdefault(leave.admission_id, []).append(leave)
    flagged = set(
        Alert.objects.open()
        .filter(facility=facility, kind="missed_check")
        .values_list("client_public_id", flat=True)
    )
    for stay in stays:
        level, mine = levels[stay.pk], leaves.get(stay.pk, [])
        row = units.get(stay.unit_id)
        if row is None or level.is_continuous or any(lv.returned_at is None for lv in mine):
            continue
        check = last.get(stay.pk)
        state, due_by = services.round_state(
            now, tz, stay, level, check, mine, stay.client_public_id in flagged
        )
        block_end = _block_end(now, LEVEL_INTERVAL[level.level], tz)
        if state == "missed":
            row.missed += 1
        elif state == "done":
            row.seen += 1
            row.next_round = min(row.next_round, block_end)
        else:
            row.due += 1
            row.due_soon |= state == "due_soon"
            row.deadline = min(row.deadline, due_by.astimezone(UTC) if due_by else block_end)
    rows = sorted(
        (r for r in units.values() if r.on_rounds), key=lambda r: (*r.rank(), r.unit.name)
    )
    return [r.item() for r in rows[:CAP]]


# ---------------------------------------------------------------- My 1:1


def _my_one_to_one(*, user, facility, now) -> list[WorkItem]:
    """The clients this user observes on a continuous level, with their next entry due (My
    1:1's own rule), and the watches offered to them to accept. A handful of queries."""
    watches, offers = my_watches(user, facility, now)
    href = reverse("observations:my_observation")
    rows = []
    for watch in watches:
        client = watch.admission.client
        label = f"{client.display_name} · {watch.level.label} · {_where(watch.admission)}"
        if watch.overdue:
            item = WorkItem(label, href, "entry overdue since", watch.due_by, "alert")
        elif watch.done:
            item = WorkItem(label, href, "seen; next entry by", watch.due_by)
        else:
            item = WorkItem(label, href, "entry due by", watch.due_by, "due")
        rows.append(((0 if watch.overdue else 2, watch.due_by), item))
    for offer in offers:
        client = offer.admission.client
        by = offer.offered_by.full_name or offer.offered_by.username
        # The offers are read with the bed but not the unit (my_watches): the bed says where.
        bed = offer.admission.bed.label if offer.admission.bed_id else ""
        label = f"{client.display_name} · {offer.level.label} · bed {bed}"
        item = WorkItem(label, href, f"offered to you by {by}: accept", offer.offered_at, "due")
        rows.append(((1, offer.offered_at), item))
    return [item for _, item in sorted(rows, key=lambda r: r[0])][:CAP]


# ---------------------------------------------------------------- vitals and withdrawal scores


def _vitals_due(*, user, facility, now) -> list[WorkItem]:
    """Each client whose vitals are owed now (due soon, due, overdue: VitalsStatus.owed, the
    board's and the census's rule), overdue first. Three queries."""
    stays = _current_stays(facility)
    statuses = services.vitals_status(stays, now, facility=facility)
    owed = [(a, statuses[a.pk]) for a in stays if statuses[a.pk].owed]
    owed.sort(key=lambda row: (STATE_RANK[row[1].state], row[1].due_at))
    return [
        WorkItem(
            f"{a.client.display_name} · {_where(a)}",
            reverse("observations:vitals_record", args=[a.public_id]),
            f"vitals {DUE_WORDS[status.state]}",
            status.due_at,
            VITALS_TONES[status.state],
        )
        for a, status in owed[:CAP]
    ]


def _withdrawal_due(*, user, facility, now) -> list[WorkItem]:
    """Each CIWA-Ar or COWS score owed now on an open protocol (protocol_statuses, the
    withdrawal board's rule; nothing while the client is off site). Three queries."""
    protocols = list(
        WithdrawalProtocol.objects.filter(
            ended_at__isnull=True,
            started_at__lte=now,
            admission__facility=facility,
            admission__discharged_at__isnull=True,
        ).select_related("admission__client", "admission__unit", "admission__bed")
    )
    statuses = services.protocol_statuses(
        {p.admission_id for p in protocols}, now=now, protocols=protocols
    )
    owed = [s for s in statuses.values() if s.state in STATE_RANK]
    owed.sort(key=lambda s: (STATE_RANK[s.state], s.due_at))
    items = []
    for status in owed[:CAP]:
        admission = status.protocol.admission
        what = status.scale_name + (" first score" if status.first_due else "")
        items.append(
            WorkItem(
                f"{admission.client.display_name} · {_where(admission)}",
                score_url(admission, status.protocol.scale),
                f"{what} {DUE_WORDS[status.state]}",
                status.due_at,
                WITHDRAWAL_TONES[status.state],
            )
        )
    return items


# ---------------------------------------------------------------- groups today


def _groups_today(*, user, facility, now) -> list[WorkItem]:
    """The facility's groups of today (its clock) whose attendance is not yet documented:
    ended ones first, then those running, then those still to start. One query."""
    tz = facility.tz
    today = now.astimezone(tz).date()
    start = datetime.combine(today, time.min, tzinfo=tz)
    end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz)
    sessions = (
        GroupSession.objects.filter(
            facility=facility, starts_at__gte=start, starts_at__lt=end, documented_at__isnull=True
        )
        .select_related("topic", "unit")
        .order_by("starts_at", "pk")
    )
    rows = []
    for session in sessions:
        where = session.unit.name if session.unit_id else "whole facility"
        label = f"{session.topic.title} · {where}"
        href = reverse("observations:group_attendance", args=[session.public_id])
        if now >= session.ends_at:
            rows.append(
                (0, WorkItem(label, href, "ended, attendance owed", session.ends_at, "late"))
            )
        elif now >= session.starts_at:
            rows.append((1, WorkItem(label, href, "running: attendance", session.starts_at, "due")))
        else:
            rows.append((2, WorkItem(label, href, "starts", session.starts_at)))
    return [item for _, item in sorted(rows, key=lambda r: r[0])][:CAP]


# ---------------------------------------------------------------- C-SSRS


def _screens_owed(*, user, facility, now) -> list[WorkItem]:
    """The stays that owe a C-SSRS screen (screens_owed: the admission screen, a risk flag's,
    a clinician's order), overdue first, as the screens-due page orders them. Three queries."""
    stays = _current_stays(facility)
    owed = screens_owed(stays, now)
    rows = sorted(
        ((a, owed[a.pk]) for a in stays if a.pk in owed),
        key=lambda row: (not row[1].overdue, row[1].due_at or row[1].since),
    )
    return [
        WorkItem(
            f"{a.client.display_name} · {_where(a)}",
            reverse("observations:cssrs_screen", args=[a.public_id]),
            f"{o.reason_label}: " + ("overdue since" if o.overdue else "due by"),
            o.due_at,
            "alert" if o.overdue else "due",
        )
        for a, o in rows[:CAP]
    ]


# Needs the clinician (issue 17; specs/charting.md, C-SSRS triage): the stay's latest live
# screen is high or moderate and what the result calls for is not yet done, i.e.
# - high and no safety plan recorded as started or reviewed (the result page's prompt), or
# - the level: the client is on a less restrictive level than the result suggests (1:1 for high,
#   q15 for moderate) or on a nurse's raise still awaiting an order, unless a clinician has
#   ordered or confirmed the level in force since the screen (their review: they may decide on
#   another level, and a level cannot be ordered twice).
# A later low or none screen, or a struck one, ends it. Haven keeps no "reviewed" mark on a
# screen, so the clinician's order is the review.


def _needs_clinician(screen, level) -> list[str]:
    needs = []
    if screen.result == CssrsResult.HIGH and screen.safety_plan is not True:
        needs.append("no safety plan yet")
    order = level.order
    ordered_since = order is not None and (
        (order.kind == LevelOrderKind.ORDER and order.effective_from >= screen.screened_at)
        or (order.confirmed_at is not None and order.confirmed_at >= screen.screened_at)
    )
    target = SUGGESTED_LEVEL[screen.result]
    below = LEVEL_RANK[level.level] < LEVEL_RANK[target]
    if not ordered_since and (below or level.awaiting_order):
        needs.append(f"level to order ({target.label.split()[0]} suggested)")
    return needs


def _high_risk_screens(*, user, facility, now) -> list[WorkItem]:
    """Recent high and moderate C-SSRS results that still need the clinician (see above), high
    first, then the longest waiting. Two queries."""
    latest = (
        CssrsScreen.objects.filter(
            admission__facility=facility,
            admission__discharged_at__isnull=True,
            struck_at__isnull=True,
        )
        .order_by("admission_id", "-screened_at", "-id")
        .distinct("admission_id")
        .values("pk")
    )
    screens = list(
        CssrsScreen.objects.filter(
            pk__in=latest, result__in=[CssrsResult.HIGH, CssrsResult.MODERATE]
        ).select_related("admission__client", "admission__unit", "admission__bed")
    )
    levels = services.current_levels([s.admission for s in screens], now)
    rows = []
    for screen in screens:
        needs = _needs_clinician(screen, levels[screen.admission_id])
        if not needs:
            continue
        high = screen.result == CssrsResult.HIGH
        admission = screen.admission
        item = WorkItem(
            f"{admission.client.display_name} · {_where(admission)} · {screen.result} risk",
            reverse("observations:cssrs_result", args=[screen.public_id]),
            "; ".join(needs),
            screen.screened_at,
            "alert" if high else "late",
        )
        rows.append(((not high, screen.screened_at), item))
    return [item for _, item in sorted(rows, key=lambda r: r[0])][:CAP]


# ---------------------------------------------------------------- levels awaiting an order


def _levels_awaiting_order(*, user, facility, now) -> list[WorkItem]:
    """Nurses' raises still in force and awaiting a clinician's order (CurrentLevel.awaiting
    _order, as the chart shows it), the earliest due first, each to the client's chart where
    the clinician confirms it. Two queries."""
    raises = list(
        LevelOrder.objects.filter(
            kind=LevelOrderKind.NURSE_RAISE,
            confirmed_at__isnull=True,
            effective_from__lte=now,
            admission__facility=facility,
            admission__discharged_at__isnull=True,
        )
        .select_related("admission__client", "admission__unit", "admission__bed")
        .order_by("clinician_order_due_at", "pk")
    )
    levels = services.current_levels([o.admission for o in raises], now)
    items = []
    for order in raises:
        level = levels[order.admission_id]
        if not level.awaiting_order or level.order.pk != order.pk:
            continue  # a later order replaced it
        due = order.clinician_order_due_at
        late = due is not None and due < now
        items.append(
            WorkItem(
                f"{order.admission.client.display_name} · {_where(order.admission)} · "
                f"raised to {order.get_level_display()}",
                _chart(order.admission) + "#section-rounds",
                "order overdue since" if late else "order due by",
                due,
                "alert" if late else "due",
            )
        )
    return items[:CAP]


# ---------------------------------------------------------------- notes to co-sign


def _notes_to_cosign(*, user, facility, now) -> list[WorkItem]:
    """Signed notes waiting for a co-signature (notes_to_cosign, the queue's read: never the
    user's own), oldest first. One query."""
    return [
        WorkItem(
            f"{note.admission.client.display_name} · "
            f"{FORMAT_SHORT.get(note.note_format, note.note_format)} by {note.author.full_name}",
            reverse("observations:note", args=[note.public_id]),
            f"waiting {age_text(now - note.signed_at)}",
            note.signed_at,
            "late" if now - note.signed_at > OLD_IN_QUEUE else "due",
        )
        for note in notes_to_cosign(user=user, facility=facility)[:CAP]
    ]


# ---------------------------------------------------------------- incidents to review

_SEVERITY_RANK = Case(
    When(severity=IncidentSeverity.DEATH, then=Value(0)),
    When(severity=IncidentSeverity.MAJOR, then=Value(1)),
    When(severity=IncidentSeverity.MODERATE, then=Value(2)),
    When(severity=IncidentSeverity.MINOR, then=Value(3)),
    default=Value(4),
    output_field=IntegerField(),
)
INCIDENT_TONES = {
    IncidentSeverity.DEATH: "alert",
    IncidentSeverity.MAJOR: "alert",
    IncidentSeverity.MODERATE: "late",
}


def _incidents_to_review(*, user, facility, now) -> list[WorkItem]:
    """Submitted incident reports awaiting a supervisor's review and sign-off, most severe
    first, then the longest waiting; not the user's own (another supervisor signs those off,
    services.incidents.incident_review). One query."""
    waiting = (
        Incident.objects.filter(facility=facility, status=IncidentStatus.SUBMITTED)
        .exclude(reported_by=user)
        .annotate(rank=_SEVERITY_RANK)
        .order_by("rank", F("submitted_at").asc(nulls_last=True), "pk")[:CAP]
    )
    items = []
    for incident in waiting:
        where = f" · {incident.location}" if incident.location else ""
        items.append(
            WorkItem(
                f"{incident.get_incident_type_display()}{where}",
                reverse("observations:incident_detail", args=[incident.public_id]),
                f"{incident.get_severity_display() or 'severity not set'}, awaiting review",
                incident.submitted_at,
                INCIDENT_TONES.get(incident.severity, "due"),
            )
        )
    return items


# ---------------------------------------------------------------- the sections

for section in (
    WorklistSection(
        "rounds_on_units",
        "Rounds on each unit",
        _rounds_on_units,
        roles=("technician",),
        capability="floor.chart",
        order=20,
        more="observations:rounds",
        empty="No client is on rounds at this facility now.",
    ),
    WorklistSection(
        "my_one_to_one",
        "My 1:1",
        _my_one_to_one,
        roles=("technician", "nurse"),
        capability="floor.chart",
        order=25,
        more="observations:my_observation",
        empty="You observe no one now, and no watch is offered to you.",
    ),
    WorklistSection(
        "levels_awaiting_order",
        "Levels awaiting a clinician's order",
        _levels_awaiting_order,
        roles=("nurse",),
        capability="level.change",
        order=35,
        empty="No nurse's raise is waiting for an order.",
    ),
    WorklistSection(
        "levels_to_order",
        "Levels to order",
        _levels_awaiting_order,
        roles=("clinician",),
        capability="level.order",
        order=20,
        empty="No nurse's raise is waiting for your order.",
    ),
    WorklistSection(
        "vitals_due",
        "Vitals due",
        _vitals_due,
        roles=("technician", "nurse"),
        capability="vitals.record",
        order=40,
        empty="No client's vitals are due now.",
    ),
    WorklistSection(
        "withdrawal_due",
        "Withdrawal scores due",
        _withdrawal_due,
        roles=("nurse",),
        capability="withdrawal.assess",
        order=42,
        more="observations:withdrawal_board",
        empty="No CIWA-Ar or COWS score is due now.",
    ),
    WorklistSection(
        "groups_today",
        "Groups today",
        _groups_today,
        roles=("technician",),
        capability="groups.document",
        order=50,
        more="observations:groups",
        empty="Every group of today is documented.",
    ),
    WorklistSection(
        "cssrs_owed",
        "C-SSRS screens owed",
        _screens_owed,
        roles=("technician", "nurse"),
        capability="cssrs.screen",
        order=45,
        more="observations:cssrs_due",
        empty="No C-SSRS screen is owed.",
    ),
    WorklistSection(
        "notes_to_cosign",
        "Notes to co-sign",
        _notes_to_cosign,
        roles=("nurse", "clinician"),
        capability="note.cosign",
        order=55,
        more="observations:cosign_queue",
        empty="No note is waiting for your co-signature.",
    ),
    WorklistSection(
        "high_risk_screens",
        "High-risk screens",
        _high_risk_screens,
        roles=("clinician",),
        capability="cssrs.order",
        order=10,
        empty="No high or moderate C-SSRS result is waiting for you.",
    ),
    WorklistSection(
        "incidents_to_review",
        "Incidents to review",
        _incidents_to_review,
        roles=("supervisor",),
        capability="incident.review",
        order=30,
        more="observations:incidents",
        empty="No incident report is waiting for review.",
    ),
):
    register_worklist_section(section)
