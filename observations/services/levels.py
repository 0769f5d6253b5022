"""Observation levels: the level in force, ordering a change, confirming a nurse's raise, and the
observer of a continuous level (specs/rounds.md, Levels). The time math is in
observations.rounds."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from clients.models import Admission
from facility import policy
from facility.models import User
from observations.models import (
    CONTINUOUS_LEVELS,
    LEVEL_INTERVAL,
    LEVEL_RANK,
    Level,
    LevelOrder,
    LevelOrderKind,
    ObserverAssignment,
)
from observations.rounds import (
    ADMISSION_LEVEL,
    ADMISSION_LEVEL_HOURS,
    DEFAULT_LEVEL,
    block_state,
    stay_segments,
)

# A nurse's raise must be confirmed by a clinician's order within this time.
NURSE_RAISE_ORDER_WITHIN = timedelta(minutes=getattr(settings, "HAVEN_LEVEL_ORDER_MINUTES", 60))


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
            result[admission.pk] = CurrentLevel(ADMISSION_LEVEL, None, admission.admitted_at)
        else:
            result[admission.pk] = CurrentLevel(DEFAULT_LEVEL, None, default_from)
    return result


def owed_periods(admission, orders, leaves, *, start, end):
    """(from, to, interval) periods in which checks are owed: level in force, on site. The
    windows owed in them, first checks after events included, are
    observations.services.scans.stay_windows (one rule for the scan and the reports)."""
    return [
        (a, b, LEVEL_INTERVAL[level])
        for a, b, level, *_ in stay_segments(admission, orders, leaves, start=start, end=end)
    ]


@transaction.atomic
def level_order(
    *, actor: User, admission: Admission, level: str, reason: str, now: datetime | None = None
) -> LevelOrder:
    """Change a client's level now. Clinicians order any change; nurses may only raise, and their
    raise asks for a clinician's order within NURSE_RAISE_ORDER_WITHIN (specs/rounds.md).

    The observer's watch follows the level (observers.watch_follow_level): it ends on a level
    that is not continuous, and a continuous client nobody holds alerts at once. A raise is never
    refused for staffing."""
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
    policy.require(actor, "level.change", admission)
    if policy.allows(actor, "level.order"):
        kind, due = LevelOrderKind.ORDER, None
    elif LEVEL_RANK[level] < LEVEL_RANK[current.level]:
        raise PermissionDenied("Lowering a level needs a clinician's order.")
    else:
        kind, due = LevelOrderKind.NURSE_RAISE, now + NURSE_RAISE_ORDER_WITHIN
    order = LevelOrder.objects.create(
        admission=admission,
        level=level,
        kind=kind,
        reason=reason,
        effective_from=now,
        ordered_by=actor,
        clinician_order_due_at=due,
    )
    # The watch follows the level: ended, kept, or the client alerts as without observer.
    from observations.services.observers import watch_follow_level  # imports this module

    watch_follow_level(
        admission=admission, level=CurrentLevel(level, order, order.effective_from), now=now
    )
    return order


@transaction.atomic
def level_confirm(*, actor: User, order: LevelOrder) -> LevelOrder:
    """A clinician's order confirming a nurse's raise."""
    policy.require(actor, "level.order", order)
    order = LevelOrder.objects.select_for_update().get(pk=order.pk)
    if order.kind != LevelOrderKind.NURSE_RAISE or order.confirmed_at is not None:
        raise ValidationError("This level does not await a clinician's order.")
    order.confirmed_by = actor
    order.confirmed_at = timezone.now()
    order.save(update_fields=["confirmed_by", "confirmed_at"])
    return order


def current_observers(admissions) -> dict[int, ObserverAssignment]:
    """The observer holding each of these stays now (stays with none are absent), in one query."""
    return {
        a.admission_id: a
        for a in ObserverAssignment.objects.filter(
            admission__in=[adm.pk for adm in admissions], ended_at__isnull=True
        ).select_related("observer")
    }


# The board's state says "due soon" this long before a deadline (specs/rounds.md, *default*).
DUE_SOON = timedelta(minutes=3)
# Returns from leave further back than this are older than any first window.
RETURN_LOOKBACK = timedelta(hours=24)


def first_check_deadline(admission, level: CurrentLevel, leaves) -> tuple[datetime, datetime]:
    """(event, deadline) of the first check owed after the latest event that owes one (the
    admission, the level's start, a return from leave among `leaves`): due within the level's
    interval of the event (issue 10 item 1). A check before `event` does not answer it."""
    returns = [lv.returned_at for lv in leaves if lv.returned_at is not None]
    event = max([admission.admitted_at, level.since, *returns])
    return event, event + timedelta(minutes=LEVEL_INTERVAL[level.level])


def round_state(
    now: datetime, tz, admission, level: CurrentLevel, check, leaves, has_missed
) -> tuple[str, datetime | None]:
    """What the board and the census say of one client on site: (state, due_by).

    The latest event that owes a first check (the admission, the level's start, a return from
    leave among `leaves`) makes the first check due by event + interval and missed after it,
    whatever the clock block says (issue 10 item 1); once checked since, the clock block decides,
    and an open missed alert keeps an unchecked block "missed". `due_by` is local, or None."""
    event, deadline = first_check_deadline(admission, level, leaves)
    interval = LEVEL_INTERVAL[level.level]
    if check is None or check.observed_at < event:
        if now >= deadline:
            return "missed", None
        state = "due_soon" if deadline - now <= DUE_SOON else "due"
        return state, timezone.localtime(deadline, tz)
    state = block_state(
        timezone.localtime(now, tz), last_check=check.observed_at, interval_minutes=interval
    )
    if state != "done" and has_missed:
        state = "missed"
    return state, None
