"""Observation levels, round charting and the missed-check scan (specs/rounds.md)."""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from clients.models import Admission
from clients.services import leaves_overlapping
from facility.models import AlertSeverity, Facility, User
from facility.services import alert_raise, alerts_raise_many
from observations.models import (
    CONTINUOUS_LEVELS,
    LEVEL_INTERVAL,
    LEVEL_RANK,
    CodeKind,
    Level,
    LevelOrder,
    LevelOrderKind,
    ObserverAssignment,
    RoundCheck,
    RoundCode,
    ScanMark,
    SecurityArea,
    SecurityCheck,
    SecurityRound,
)
from observations.rounds import block_floor, missed_blocks
from observations.security import window_at, windows_between

# Facility defaults (specs/rounds.md): q15 for the first 72 hours, then q60.
ADMISSION_LEVEL = Level.Q15
ADMISSION_LEVEL_HOURS = 72
DEFAULT_LEVEL = Level.Q60
MAX_BACKDATE = timedelta(minutes=5)
LATE_AFTER_BLOCK = timedelta(minutes=5)
# A nurse's raise must be confirmed by a clinician's order within this time.
NURSE_RAISE_ORDER_WITHIN = timedelta(minutes=getattr(settings, "HAVEN_LEVEL_ORDER_MINUTES", 60))
SCAN_LOOKBACK = timedelta(hours=24)
MISSED_SCAN = "missed-checks"

DEFAULT_LOCATIONS = [
    ("RM", "Own room"), ("BR", "Bathroom"), ("SH", "Shower"), ("DR", "Dining room"),
    ("DAY", "Day room"), ("GRP", "Group room"), ("HALL", "Hallway"), ("NS", "Nurses' station"),
    ("MED", "Medication window"), ("PH", "Phone"), ("OUT", "Outdoors with staff"),
    ("GYM", "Recreation"), ("OFF", "Off unit with escort"), ("SR", "Safety room"),
]  # fmt: skip
DEFAULT_STATUSES = [
    ("S", "Sleeping"), ("RB", "Resting in bed, eyes open"), ("A", "Awake, calm"),
    ("T", "Talking/socializing"), ("G", "In group"), ("E", "Eating"), ("R", "Reading/TV"),
    ("W", "Walking"), ("P", "Pacing"), ("AN", "Anxious"), ("AG", "Agitated"), ("CR", "Crying"),
    ("IS", "Isolative"), ("RIS", "Responding to internal stimuli"),
    ("V", "Verbally aggressive"), ("PA", "Physically aggressive"),
    ("SIB", "Self-injurious behavior"), ("REF", "Refused interaction"), ("TOIL", "Toileting"),
]  # fmt: skip


def codes_seed_defaults(facility: Facility) -> int:
    """Give a facility the spec's default location and status codes (idempotent)."""
    created = 0
    for kind, rows in ((CodeKind.LOCATION, DEFAULT_LOCATIONS), (CodeKind.STATUS, DEFAULT_STATUSES)):
        for position, (code, label) in enumerate(rows):
            _, made = RoundCode.objects.get_or_create(
                facility=facility,
                kind=kind,
                code=code,
                defaults={
                    "label": label,
                    "position": position,
                    "needs_respirations": code == "S",
                    "raises_alert": code == "SIB",
                },
            )
            created += made
    return created


# ---------------------------------------------------------------- levels


@dataclass(frozen=True)
class CurrentLevel:
    level: str
    order: LevelOrder | None  # None: the facility default applies
    since: datetime

    @property
    def label(self) -> str:
        return Level(self.level).label

    @property
    def is_continuous(self) -> bool:
        return self.level in CONTINUOUS_LEVELS

    @property
    def awaiting_order(self) -> bool:
        return (
            self.order is not None
            and self.order.kind == LevelOrderKind.NURSE_RAISE
            and (self.order.confirmed_at is None)
        )


def level_events(admitted_at: datetime, orders: list[LevelOrder]) -> list[tuple[datetime, str]]:
    """(from, level) in time order: the admission default until the first order, then orders."""
    first_order = orders[0].effective_from if orders else None
    defaults = [
        (admitted_at, ADMISSION_LEVEL.value),
        (admitted_at + timedelta(hours=ADMISSION_LEVEL_HOURS), DEFAULT_LEVEL.value),
    ]
    events = [e for e in defaults if first_order is None or e[0] < first_order]
    events += [(o.effective_from, o.level) for o in orders]
    return events


def level_segments(
    admission: Admission, orders: list[LevelOrder], *, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, str]]:
    """The level in force over [start, end), as (from, to, level), clipped to the stay."""
    lo = max(start, admission.admitted_at)
    hi = min(end, admission.discharged_at) if admission.discharged_at else end
    events = level_events(admission.admitted_at, orders)
    segments = []
    for i, (since, level) in enumerate(events):
        until = events[i + 1][0] if i + 1 < len(events) else hi
        a, b = max(since, lo), min(until, hi)
        if a < b:
            segments.append((a, b, level))
    return segments


def current_levels(admissions, now: datetime) -> dict[int, CurrentLevel]:
    """The level in force now for each admission, in one query."""
    by_admission = defaultdict(list)
    for order in LevelOrder.objects.filter(
        admission__in=[a.pk for a in admissions], effective_from__lte=now
    ).order_by("effective_from", "id"):
        by_admission[order.admission_id].append(order)
    result = {}
    for admission in admissions:
        orders = by_admission.get(admission.pk, [])
        if orders:
            result[admission.pk] = CurrentLevel(
                orders[-1].level, orders[-1], orders[-1].effective_from
            )
            continue
        default_from = admission.admitted_at + timedelta(hours=ADMISSION_LEVEL_HOURS)
        if now < default_from:
            result[admission.pk] = CurrentLevel(ADMISSION_LEVEL.value, None, admission.admitted_at)
        else:
            result[admission.pk] = CurrentLevel(DEFAULT_LEVEL.value, None, default_from)
    return result


@transaction.atomic
def level_order(
    *, actor: User, admission: Admission, level: str, reason: str, now: datetime | None = None
) -> LevelOrder:
    """Change a client's level now. Clinicians order any change; nurses may only raise, and their
    raise asks for a clinician's order within NURSE_RAISE_ORDER_WITHIN (specs/rounds.md)."""
    now = now or timezone.now()
    admission = Admission.objects.select_for_update().get(pk=admission.pk)
    if not admission.is_open:
        raise ValidationError("This client has been discharged.")
    if level not in Level.values:
        raise ValidationError({"level": "Level: choose one of the observation levels."})
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Reason: say why the level changes."})
    current = current_levels([admission], now)[admission.pk]
    if level == current.level:
        raise ValidationError({"level": f"Level: the client is already on {current.label}."})
    if actor.has_perm("facility.order_observation_level"):
        kind, due = LevelOrderKind.ORDER, None
    elif actor.has_perm("facility.raise_observation_level"):
        if LEVEL_RANK[level] < LEVEL_RANK[current.level]:
            raise PermissionDenied("Lowering a level needs a clinician's order.")
        kind, due = LevelOrderKind.NURSE_RAISE, now + NURSE_RAISE_ORDER_WITHIN
    else:
        raise PermissionDenied("Your role cannot change observation levels.")
    order = LevelOrder.objects.create(
        admission=admission,
        level=level,
        kind=kind,
        reason=reason,
        effective_from=now,
        ordered_by=actor,
        clinician_order_due_at=due,
    )
    if level not in CONTINUOUS_LEVELS:
        ObserverAssignment.objects.filter(admission=admission, ended_at__isnull=True).update(
            ended_at=now
        )
    return order


@transaction.atomic
def level_confirm(*, actor: User, order: LevelOrder) -> LevelOrder:
    """A clinician's order confirming a nurse's raise."""
    if not actor.has_perm("facility.order_observation_level"):
        raise PermissionDenied("Only a clinician can confirm a level.")
    order = LevelOrder.objects.select_for_update().get(pk=order.pk)
    if order.kind != LevelOrderKind.NURSE_RAISE or order.confirmed_at is not None:
        raise ValidationError("This level does not await a clinician's order.")
    order.confirmed_by = actor
    order.confirmed_at = timezone.now()
    order.save(update_fields=["confirmed_by", "confirmed_at"])
    return order


@transaction.atomic
def observer_assign(
    *, actor: User, admission: Admission, observer: User, now: datetime | None = None
) -> ObserverAssignment:
    """Hand a client on a continuous level to an observer; the previous one's watch ends."""
    now = now or timezone.now()
    admission = Admission.objects.select_for_update().get(pk=admission.pk)
    if not admission.is_open:
        raise ValidationError("This client has been discharged.")
    if not observer.is_active or admission.facility_id not in observer.facility_ids():
        raise ValidationError({"observer": "Observer: choose active staff of this facility."})
    if not observer.has_perm("facility.chart_floor"):
        raise ValidationError({"observer": "Observer: this person cannot chart rounds."})
    ObserverAssignment.objects.filter(admission=admission, ended_at__isnull=True).update(
        ended_at=now
    )
    return ObserverAssignment.objects.create(
        admission=admission, observer=observer, started_at=now, assigned_by=actor
    )


# ---------------------------------------------------------------- charting a round


@dataclass
class RoundEntry:
    """One client's line of a round as posted."""

    admission: Admission
    location: RoundCode
    status: RoundCode
    respirations_observed: bool = False
    safety_concern: bool = False
    remark: str = ""


def last_checks(admissions) -> dict[int, RoundCheck]:
    """The latest check of each admission, in two index-only-sized queries."""
    latest = (
        Admission.objects.filter(pk__in=[a.pk for a in admissions])
        .annotate(
            last_id=Subquery(
                RoundCheck.objects.filter(admission=OuterRef("pk"))
                .order_by("-observed_at", "-id")
                .values("id")[:1]
            )
        )
        .values_list("pk", "last_id")
    )
    ids = {last: pk for pk, last in latest if last}
    checks = RoundCheck.objects.filter(pk__in=ids).select_related("location", "status")
    return {ids[c.pk]: c for c in checks}


# What makes two posts of one submission key the same round.
ROUND_CONTENT = (
    "admission_id", "recorded_by_id", "location_id", "status_id", "respirations_observed",
    "safety_concern", "remark",
)  # fmt: skip


def _round_content(entries: list[RoundEntry], actor: User) -> list[tuple]:
    return [
        (e.admission.pk, actor.pk, e.location.pk, e.status.pk, e.respirations_observed,
         e.safety_concern, e.remark.strip())
        for e in entries
    ]  # fmt: skip


def _lock_submission_key(key: uuid.UUID) -> None:
    """Hold a lock on this key until the transaction ends: a racing post of the same key waits
    here and then sees what the first one saved."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(key.bytes[:8], "big", signed=True)]
        )


def is_late(observed_at: datetime, recorded_at: datetime, interval_minutes: int = 15) -> bool:
    """Recorded more than 5 minutes after the end of the block observed in (specs/rounds.md)."""
    from observations.rounds import block_floor

    block = block_floor(observed_at, interval_minutes)
    return recorded_at > block + timedelta(minutes=interval_minutes) + LATE_AFTER_BLOCK


@transaction.atomic
def round_submit(
    *,
    actor: User,
    facility: Facility,
    submission_key: uuid.UUID,
    observed_at: datetime,
    entries: list[RoundEntry],
    late_reason: str = "",
    now: datetime | None = None,
) -> tuple[int, bool]:
    """Record a round: one check per entry, all or none. Returns (checks recorded, was_repeat).

    The same submission key posted again with the same round records nothing and says so (a
    network retry or double tap); the key reused for a different round is refused, never
    silently dropped. Posts of one key are serialized by a transaction-level advisory lock, so
    of ten identical posts racing, exactly one is told "recorded" (issue 7).
    Safety concerns and alerting statuses (SIB) raise an alert in the same transaction.
    """
    now = now or timezone.now()
    _lock_submission_key(submission_key)
    earlier = sorted(
        RoundCheck.objects.filter(submission_key=submission_key).values_list(*ROUND_CONTENT)
    )
    if earlier:
        if earlier == sorted(_round_content(entries, actor)):
            return 0, True
        raise ValidationError(
            "This round form was already used to record a different round; nothing was saved. "
            "Reload the board and chart again."
        )
    if not entries:
        raise ValidationError("Tap at least one client to record a round.")
    if observed_at > now + timedelta(seconds=30):
        raise ValidationError({"observed_at": "Observed at: cannot be in the future."})
    if observed_at < now - MAX_BACKDATE:
        raise ValidationError({"observed_at": "Observed at: at most 5 minutes back."})
    if now - observed_at > timedelta(minutes=1) and not late_reason.strip():
        raise ValidationError({"late_reason": "Reason: say why the time was moved back."})
    errors = []
    for entry in entries:
        name = entry.admission.client.initials
        if entry.admission.facility_id != facility.pk or not entry.admission.is_open:
            errors.append(f"{name}: not admitted in this facility.")
        for code, kind in ((entry.location, CodeKind.LOCATION), (entry.status, CodeKind.STATUS)):
            if code.facility_id != facility.pk or code.kind != kind or not code.active:
                errors.append(f"{name}: {kind} code {code.code} is not in use here.")
        if entry.status.needs_respirations and not entry.respirations_observed:
            errors.append(f"{name}: sleeping needs “respirations observed”.")
    if errors:
        raise ValidationError(errors)
    checks = [
        RoundCheck(
            admission=entry.admission,
            observed_at=observed_at,
            recorded_at=now,
            recorded_by=actor,
            location=entry.location,
            status=entry.status,
            respirations_observed=entry.respirations_observed,
            safety_concern=entry.safety_concern,
            remark=entry.remark.strip(),
            late_reason=late_reason.strip(),
            submission_key=submission_key,
        )
        for entry in entries
    ]
    # ON CONFLICT DO NOTHING: a retry racing this very request cannot double the round.
    RoundCheck.objects.bulk_create(checks, ignore_conflicts=True)
    _close_missed_alerts(entries, observed_at, actor, now, facility.tz)
    for entry in entries:
        if entry.safety_concern or entry.status.raises_alert:
            client = entry.admission.client
            what = "safety concern" if entry.safety_concern else entry.status.label
            alert_raise(
                facility=facility,
                kind="round_safety",
                severity=AlertSeverity.CRITICAL,
                message=f"{client.display_name}: {what} on rounds"
                + (f" — {entry.remark.strip()}" if entry.remark.strip() else ""),
                dedupe_key=f"round-safety:{submission_key}:{entry.admission.public_id}",
                client_public_id=client.public_id,
                client_label=client.mrn,
                now=now,
            )
    return len(checks), False


def _close_missed_alerts(entries, observed_at, actor, now, tz) -> None:
    """A check moved back into a block the scan already called missed closes that alert: the
    block was checked after all (a late entry, shown as such)."""
    from facility.models import Alert

    keys = []
    for entry in entries:
        for interval in sorted(set(LEVEL_INTERVAL.values())):
            block = block_floor(observed_at.astimezone(tz), interval)
            keys.append(f"missed:{entry.admission.public_id}:{block.astimezone(UTC).isoformat()}")
    when = timezone.localtime(observed_at, tz)
    Alert.objects.open().filter(dedupe_key__in=keys).update(
        resolved_at=now,
        resolved_by=actor,
        resolution_note=f"Checked at {when:%H:%M} (late entry by {actor.initials}).",
    )


# ---------------------------------------------------------------- the minute scan


def _subtract(segment_start, segment_end, holes):
    """[start, end) minus the holes (sorted (from, to) pairs)."""
    pieces, cursor = [], segment_start
    for a, b in holes:
        if b <= cursor or a >= segment_end:
            continue
        if a > cursor:
            pieces.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < segment_end:
        pieces.append((cursor, segment_end))
    return pieces


def owed_periods(admission, orders, leaves, *, start, end):
    """(from, to, interval) periods in which checks are owed: level in force, on site."""
    holes = sorted((lv.left_at, lv.returned_at or end) for lv in leaves)
    periods = []
    for a, b, level in level_segments(admission, orders, start=start, end=end):
        for x, y in _subtract(a, b, holes):
            periods.append((x, y, LEVEL_INTERVAL[level]))
    return periods


def scan_missed_checks(*, now: datetime | None = None) -> int:
    """Raise one alert per client per missed block since the last scan (at most 24 hours back).

    The mark only moves forward after a complete pass, and alerts are keyed by client and
    block, so a rerun, a late run or a run that died halfway loses nothing and repeats nothing.
    """
    now = now or timezone.now()
    mark = ScanMark.objects.filter(name=MISSED_SCAN).first()
    extras = _scan_level_orders_overdue(now) + _scan_observer_gaps(now)
    extras += scan_security_rounds(now=now)
    if mark is None:
        # The first scan ever starts the clock: blocks before Haven watched are not "missed"
        # (a new installation would otherwise raise a day of alerts for every client).
        ScanMark.objects.create(name=MISSED_SCAN, scanned_until=now)
        return extras
    if not _block_ended_since(mark.scanned_until, now):
        # Blocks end on quarter hours: in the other 14 minutes there is nothing new to judge.
        return extras
    start = max(mark.scanned_until, now - SCAN_LOOKBACK)
    # Blocks are at most 60 minutes: look back one more hour so a block that started before the
    # mark and ended after it is judged whole.
    window_start = start - timedelta(hours=1)
    # Only the fields the block rules read; names are fetched later for the few candidates.
    in_window = (
        Admission.objects.filter(admitted_at__lt=now)
        .exclude(discharged_at__lt=window_start)
        .only("id", "public_id", "facility_id", "client_id", "admitted_at", "discharged_at")
        .order_by()
    )
    admissions = list(in_window)
    ids = in_window.values("id")  # a subquery, not thousands of literals
    from facility.models import Facility

    zones = {f.pk: f.tz for f in Facility.objects.all()}
    orders, checks, leaves = defaultdict(list), defaultdict(list), defaultdict(list)
    for order in LevelOrder.objects.filter(admission__in=ids).order_by("effective_from", "id"):
        orders[order.admission_id].append(order)
    for adm_id, observed in (
        RoundCheck.objects.filter(
            admission__in=ids, observed_at__gte=window_start, observed_at__lt=now
        )
        .order_by()  # the model's default ordering would join and sort for nothing
        .values_list("admission_id", "observed_at")
    ):
        checks[adm_id].append(observed)
    for leave in leaves_overlapping(ids, start=window_start, end=now):
        leaves[leave.admission_id].append(leave)
    candidates = []
    for admission in admissions:
        tz = zones[admission.facility_id]
        for a, b, interval in owed_periods(
            admission, orders[admission.pk], leaves[admission.pk], start=window_start, end=now
        ):
            for block in missed_blocks(
                checks[admission.pk],
                start=a.astimezone(tz),
                end=b.astimezone(tz),
                interval_minutes=interval,
            ):
                block_end = block + timedelta(minutes=interval)
                if block_end.astimezone(UTC) > start.astimezone(UTC):
                    candidates.append((admission, block, interval))
    raised = _raise_missed(candidates, now)
    ScanMark.objects.update_or_create(name=MISSED_SCAN, defaults={"scanned_until": now})
    return raised + extras


def _block_ended_since(mark: datetime, now: datetime) -> bool:
    """Whether a quarter-hour boundary (which every block ends on) lies in (mark, now], on the
    wall clock of any facility's zone (zones with a 45-minute offset differ from UTC)."""
    from facility.models import Facility

    zones = set(Facility.objects.values_list("time_zone", flat=True))
    for zone in zones:
        boundary = block_floor(now.astimezone(ZoneInfo(zone)), 15)
        if boundary.astimezone(UTC) > mark.astimezone(UTC):
            return True
    return False


def _raise_missed(candidates, now) -> int:
    from facility.models import Alert

    if not candidates:
        return 0
    # Names and facilities only for the stays that missed a block.
    full = Admission.objects.select_related("client", "facility").in_bulk(
        {adm.pk for adm, _, _ in candidates}
    )
    candidates = [(full[adm.pk], block, n) for adm, block, n in candidates]
    return alerts_raise_many(
        [
            Alert(
                facility=adm.facility,
                kind="missed_check",
                severity=AlertSeverity.WARNING,
                message=(
                    f"Missed check: {adm.client.display_name}, "
                    f"{timezone.localtime(block, adm.facility.tz):%H:%M} block (q{n})."
                ),
                dedupe_key=f"missed:{adm.public_id}:{block.astimezone(UTC).isoformat()}",
                client_public_id=adm.client.public_id,
                client_label=adm.client.mrn,
                raised_at=now,
            )
            for adm, block, n in candidates
        ]
    )


def _scan_level_orders_overdue(now) -> int:
    raised = 0
    overdue = LevelOrder.objects.filter(
        kind=LevelOrderKind.NURSE_RAISE,
        confirmed_at__isnull=True,
        clinician_order_due_at__lt=now,
        admission__discharged_at__isnull=True,
    ).select_related("admission__client", "admission__facility")
    for order in overdue:
        client = order.admission.client
        _, created = alert_raise(
            facility=order.admission.facility,
            kind="level_order_overdue",
            severity=AlertSeverity.WARNING,
            message=f"{client.display_name}: raise to {order.get_level_display()} "
            "still has no clinician's order.",
            dedupe_key=f"level-order:{order.public_id}",
            client_public_id=client.public_id,
            client_label=client.mrn,
            now=now,
        )
        raised += created
    return raised


def _scan_observer_gaps(now) -> int:
    """A client on a continuous level with no assigned observer is a critical deviation."""
    # The default levels are never continuous: only stays with a continuous order can be.
    ordered = LevelOrder.objects.filter(level__in=CONTINUOUS_LEVELS, effective_from__lte=now)
    open_admissions = list(
        Admission.objects.current()
        .filter(admitted_at__lt=now, pk__in=ordered.values("admission_id"))
        .select_related("client", "facility")
    )
    levels = current_levels(open_admissions, now)
    continuous = [a for a in open_admissions if levels[a.pk].is_continuous]
    if not continuous:
        return 0
    watched = set(
        ObserverAssignment.objects.filter(
            admission__in=continuous, ended_at__isnull=True
        ).values_list("admission_id", flat=True)
    )
    raised = 0
    for admission in continuous:
        if admission.pk in watched:
            continue
        current = levels[admission.pk]
        client = admission.client
        _, created = alert_raise(
            facility=admission.facility,
            kind="no_observer",
            severity=AlertSeverity.CRITICAL,
            message=f"{client.display_name} is on {current.label} with no assigned observer.",
            dedupe_key=f"no-observer:{admission.public_id}:{current.since.isoformat()}",
            client_public_id=client.public_id,
            client_label=client.mrn,
            once=False,
            now=now,
        )
        raised += created
    return raised


# ---------------------------------------------------------------- facility security rounds

SECURITY_SCAN = "security-rounds"
DEFAULT_SECURITY_AREAS = [
    "Exterior doors", "Windows and screens", "Bathrooms", "Outdoor areas", "Medication room",
    "Sharps storage", "Laundry and chemicals",
]  # fmt: skip


def security_areas_seed_defaults(facility: Facility) -> int:
    """Give a facility the default security round areas (idempotent)."""
    made = 0
    for position, name in enumerate(DEFAULT_SECURITY_AREAS):
        made += SecurityArea.objects.get_or_create(
            facility=facility, name=name, defaults={"position": position}
        )[1]
    return made


@dataclass
class AreaResult:
    area: SecurityArea
    ok: bool
    finding: str = ""
    location_detail: str = ""
    action_taken: str = ""
    raise_alert: bool = False


@transaction.atomic
def security_round_complete(
    *, actor: User, facility: Facility, results: list[AreaResult], now: datetime | None = None
) -> SecurityRound:
    """Record the walk of the window in progress: every active area OK or a finding."""
    now = now or timezone.now()
    start, end = window_at(now, facility.tz)
    active = set(
        SecurityArea.objects.filter(facility=facility, active=True).values_list("pk", flat=True)
    )
    if {r.area.pk for r in results} != active:
        raise ValidationError("Mark every area OK or record a finding.")
    errors = []
    for r in results:
        if not r.ok and not (r.finding.strip() and r.action_taken.strip()):
            errors.append(f"{r.area.name}: a finding needs what was found and the action taken.")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            walk = SecurityRound.objects.create(
                facility=facility, window_start=start, window_end=end, completed_at=now,
                completed_by=actor,
            )  # fmt: skip
    except IntegrityError as exc:
        raise ValidationError("This window's security round is already recorded.") from exc
    for r in results:
        SecurityCheck.objects.create(
            round=walk,
            area=r.area,
            ok=r.ok,
            finding=r.finding.strip(),
            location_detail=r.location_detail.strip(),
            action_taken=r.action_taken.strip(),
            alert_raised=r.raise_alert and not r.ok,
        )
        if r.raise_alert and not r.ok:
            alert_raise(
                facility=facility,
                kind="security_finding",
                severity=AlertSeverity.WARNING,
                message=f"Security round: {r.area.name} — {r.finding.strip()} "
                f"(action: {r.action_taken.strip()})",
                dedupe_key=f"security-finding:{walk.public_id}:{r.area.pk}",
                now=now,
            )
    return walk


def scan_security_rounds(*, now: datetime | None = None) -> int:
    """Alert once per facility window that ended with no security round recorded."""
    now = now or timezone.now()
    mark = ScanMark.objects.filter(name=SECURITY_SCAN).first()
    # The first run ever starts the clock: windows before Haven watched are not "missed".
    since = max(mark.scanned_until if mark else now, now - SCAN_LOOKBACK)
    raised = 0
    for facility in Facility.objects.filter(security_areas__active=True).distinct():
        # Compared as UTC instants: in the repeated fall-back hour a local time never equals
        # anything in another zone.
        done = {
            ws.astimezone(UTC)
            for ws in SecurityRound.objects.filter(
                facility=facility, window_start__gte=since - timedelta(days=1)
            ).values_list("window_start", flat=True)
        }
        for start, end in windows_between(since, now, facility.tz):
            if start.astimezone(UTC) in done:
                continue
            _, created = alert_raise(
                facility=facility,
                kind="security_round_overdue",
                severity=AlertSeverity.WARNING,
                message=f"Security round {start:%H:%M}–{end:%H:%M} was not recorded.",
                dedupe_key=f"security-round:{facility.public_id}:{start.astimezone(UTC).isoformat()}",
                now=now,
            )
            raised += created
    ScanMark.objects.update_or_create(name=SECURITY_SCAN, defaults={"scanned_until": now})
    return raised
