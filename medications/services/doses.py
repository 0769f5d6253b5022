"""Scheduled doses: when an order's doses fall, materializing them ahead, the MAR's reading of a
dose, and the minute scan for late and missed doses (specs/mar.md, Windows)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import (
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.utils import timezone

from facility.models import AlertSeverity
from facility.services import alerts_raise_many
from medications import timing
from medications.models import (
    Administration,
    DoseKind,
    Frequency,
    Order,
    OrderSource,
    Outcome,
    Priority,
    ScheduledDose,
    Timing,
)
from medications.timing import deadline_status, dose_status, minutes_between, window_minutes

HORIZON = timedelta(hours=48)
# Kept for importers; no dose is without a window or deadline any more (issue 9).
STAT_DEADLINE = timedelta(minutes=30)  # from the order (specs/mar.md, Windows)
FIRST_DEADLINE = timedelta(minutes=60)  # NOW and first doses, from verification
SCAN_LOOKBACK = timedelta(hours=48)
# The most a dose's deadline falls after its time: a first dose's, from the day's midnight to
# an hour after verification (26 h with a daylight-saving hour).
DEADLINE_REACH = timedelta(hours=26)


def order_times(order: Order) -> list[time]:
    """The wall-clock times of a day the order is given (none for PRN and one-time orders)."""
    return timing.scheduled_times(order.frequency, order.times)


def order_window(order: Order) -> int:
    """The ± window in minutes of the order's scheduled doses."""
    per_day = timing.doses_per_day(order.frequency, order.times)
    return window_minutes(doses_per_day=per_day, time_critical=order.time_critical)


def dose_times_between(order: Order, tz, start: datetime, end: datetime) -> list[datetime]:
    """The order's due times in [start, end), on the facility's wall clock (timing.py)."""
    return timing.dose_times_between(
        frequency=order.frequency, times=order.times, first_at=order.start_at, tz=tz,
        start=start, end=end,
    )  # fmt: skip


def opened_at(order: Order) -> datetime | None:
    """When the order could first be given: verified, or released before verification."""
    moments = [m for m in (order.verified_at, order.released_at) if m is not None]
    return min(moments) if moments else None


def order_time(order: Order) -> datetime:
    """When the order was written: signed by its prescriber, else transcribed."""
    if order.source == OrderSource.PRESCRIBER and order.prescriber_signed_at is not None:
        return order.prescriber_signed_at
    return order.transcribed_at


def _once_row(order: Order, opened: datetime) -> ScheduledDose:
    """The one dose of a one-time order (specs/mar.md, Windows): STAT within 30 minutes of the
    order; NOW within 60 minutes of verification, or at its time if later; a routine one-time
    dose at its time with a daily dose's window."""
    if order.priority == Priority.STAT:
        at = order_time(order)
        return ScheduledDose(
            order=order, scheduled_at=at, window_minutes=STAT_DEADLINE.seconds // 60,
            kind=DoseKind.STAT, deadline_at=at + STAT_DEADLINE,
        )  # fmt: skip
    window = order_window(order)
    if order.priority == Priority.NOW and order.start_at <= opened:
        return ScheduledDose(
            order=order, scheduled_at=opened, window_minutes=FIRST_DEADLINE.seconds // 60,
            kind=DoseKind.NOW, deadline_at=opened + FIRST_DEADLINE,
        )  # fmt: skip
    kind = DoseKind.NOW if order.priority == Priority.NOW else DoseKind.ONCE
    return ScheduledDose(order=order, scheduled_at=order.start_at, window_minutes=window, kind=kind)


def _new_dose_rows(order: Order, until: datetime) -> list[ScheduledDose]:
    """Unsaved dose rows of an order from where it was last materialized up to `until`."""
    opened = opened_at(order)
    if opened is None or order.frequency == Frequency.PRN:
        return []
    first_ever = order.materialized_until is None
    limits = [m for m in (order.stop_at, order.discontinued_at, order.admission.discharged_at) if m]
    if order.frequency == Frequency.ONCE:
        # Its one dose, however far ahead: the horizon top-up skips one-time orders.
        row = _once_row(order, opened) if first_ever else None
        return [row] if row and all(row.scheduled_at < m for m in limits) else []
    tz = order.admission.facility.tz
    window = order_window(order)
    # From the order's start less its window, so a time whose window holds the start counts;
    # today's times passed before verification are created too (due, late or missed), unless
    # the verifying nurse chose to start with the next time.
    start = order.start_at - timedelta(minutes=window)
    if order.start_with_next_time:
        start = max(start, opened)
    else:
        today = timezone.localtime(opened, tz).date()
        start = max(start, datetime.combine(today, time.min, tzinfo=tz))
    if not first_ever:
        start = max(start, order.materialized_until)
    end = min([until, *limits])
    if end <= start:
        return []
    rows = [
        ScheduledDose(order=order, scheduled_at=moment, window_minutes=window)
        for moment in dose_times_between(order, tz, start, end)
    ]
    if first_ever and rows:
        # The order's first dose: the latest time already passed at verification is given
        # within 60 minutes of it (earlier passed times are judged by the table); otherwise
        # the first time ahead is an ordinary windowed dose.
        passed = [r for r in rows if r.scheduled_at < opened]
        first = passed[-1] if passed else rows[0]
        first.kind = DoseKind.FIRST
        if passed:
            first.deadline_at = opened + FIRST_DEADLINE
    return rows


def doses_materialize(order: Order, *, until: datetime, now: datetime | None = None) -> int:
    """Create the order's dose rows up to `until` (idempotent; a rerun adds nothing).

    Called when an order is verified, or released before verification (one nurse on shift).
    """
    rows = _new_dose_rows(order, until)
    # A concurrent run may insert the same rows: the unique (order, time) index drops them.
    ScheduledDose.objects.bulk_create(rows, ignore_conflicts=True)
    if opened_at(order) is not None:
        Order.objects.filter(pk=order.pk).update(materialized_until=until)
        order.materialized_until = until
    # A STAT or one-time dose created more than the scan's lookback after its time (an order
    # verified days late) is judged at once: the minute scan would never see it.
    now = now or timezone.now()
    if any(max(r.scheduled_at, r.deadline_at or r.scheduled_at) < now - SCAN_LOOKBACK
           for r in rows):  # fmt: skip
        scan_doses(now=now, order=order)
    return len(rows)


TOP_UP_BATCH = 500


@transaction.atomic
def doses_extend_horizon(*, now: datetime | None = None) -> int:
    """Keep active scheduled orders materialized 48 hours ahead (beat task).

    Each order is topped up about once an hour, at most TOP_UP_BATCH orders a run (those
    furthest behind first), in three queries: the orders, one insert, one update.
    """
    now = now or timezone.now()
    until = now + HORIZON
    orders = list(
        Order.objects.filter(Q(verified_at__isnull=False) | Q(released_at__isnull=False))
        .filter(
            discontinued_at__isnull=True,
            admission__discharged_at__isnull=True,
            materialized_until__lt=until - timedelta(hours=1),
        )
        .exclude(frequency__in=[Frequency.PRN, Frequency.ONCE])
        .exclude(stop_at__lte=now)
        .select_related("admission__facility")
        .order_by("materialized_until")[:TOP_UP_BATCH]
    )
    rows = [row for order in orders for row in _new_dose_rows(order, until)]
    ScheduledDose.objects.bulk_create(rows, ignore_conflicts=True)
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(materialized_until=until)
    return len(rows)


# ---------------------------------------------------------------- the MAR's reading of a dose


@dataclass
class DoseView:
    dose: ScheduledDose
    documentation: Administration | None
    status: str
    # Real minutes from the scheduled time to now: negative before it (the five rights show it).
    minutes: int = 0
    # What was typed into this dose's form when it was refused (the med pass shows it again).
    typed: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def needs_outcome(self) -> bool:
        """Undocumented and past its window or deadline: stays on the med pass until charted."""
        return self.documentation is None and self.status in ("late", "missed")

    @property
    def early(self) -> bool:
        """Before its window opens: giving it now needs a reason and a second nurse."""
        return self.minutes < -self.dose.window_minutes and self.dose.deadline_at is None

    @property
    def timing_note(self) -> str:
        """How early or late it is now, in minutes (issue 9: the screen said "±0 min")."""
        if self.minutes < 0:
            return f"{-self.minutes} min before its time"
        if self.minutes > 0:
            return f"{self.minutes} min after its time"
        return "at its time"


STATUS_LABELS = {
    "scheduled": "Scheduled",
    "due": "Due",
    "late": "Late",
    "missed": "Missed",
    "cancelled": "Cancelled",
    "given": "Given",
    "given_early": "Given early",
    "given_late": "Given late",
    "refused": "Refused",
    "held": "Held",
    "unavailable": "Unavailable",
    "off_unit": "Off unit",
    "sent": "Sent with client",
    "omitted": "Omitted",
}


def dose_views(doses, now: datetime) -> list[DoseView]:
    """Status of each dose: its documentation if any, else the spec's rule against `now`.

    `doses` must be ordered by (order, scheduled_at) and carry `live` (prefetched live
    documentation); the next dose of the same order bounds the late period. A STAT, NOW or
    first dose with a deadline is due until it, then missed.
    """
    by_order = defaultdict(list)
    for d in doses:
        by_order[d.order_id].append(d)
    views = {}
    for order_doses in by_order.values():
        for i, d in enumerate(order_doses):
            doc = d.live[0] if d.live else None
            if d.cancelled_at is not None and doc is None:
                status = "cancelled"
            elif doc is not None:
                status = doc.outcome
                if doc.outcome == Outcome.GIVEN and doc.timing in (Timing.EARLY, Timing.LATE):
                    status = f"given_{doc.timing}"
            elif d.deadline_at is not None:
                status = deadline_status(d.deadline_at, now)
            else:
                nxt = order_doses[i + 1] if i + 1 < len(order_doses) else None
                status = dose_status(
                    d.scheduled_at,
                    now,
                    window=d.window_minutes,
                    next_scheduled_at=nxt.scheduled_at if nxt else None,
                    next_window=nxt.window_minutes if nxt else None,
                )
            views[d.pk] = DoseView(d, doc, status, minutes_between(d.scheduled_at, now))
    return [views[d.pk] for d in doses]


def live_prefetch(*, printed: bool = False):
    """The live documentation of doses. Only what the MAR and med pass show: a shift view reads
    hundreds of these. `printed`: the MAR print's too (second nurse and override reason, hold
    parameter, prescriber told or why not)."""
    from django.db.models import Prefetch

    fields = [
        "id", "public_id", "dose_id", "order_id", "outcome", "timing", "given_at", "reason",
        "self_administered", "struck_at", "recorded_at", "recorded_by__initials",
        "recorded_by__full_name", "recorded_by__credentials", "recorded_by__username",
    ]  # fmt: skip
    related = ["recorded_by"]
    if printed:
        related.append("override_by")
        fields += [
            "override_reason", "override_by__initials", "override_by__full_name",
            "override_by__credentials", "override_by__username", "hold_parameter",
            "prescriber_notified", "prescriber_notified_name", "prescriber_notified_at",
            "prescriber_not_notified_reason",
        ]  # fmt: skip
    return Prefetch(
        "administrations",
        queryset=Administration.objects.filter(struck_at__isnull=True)
        .select_related(*related)
        .only(*fields),
        to_attr="live",
    )


# ---------------------------------------------------------------- the minute scan


def _dose_alert(dose: ScheduledDose, kind: str, severity: str, message: str, now):
    """An unsaved alert of `kind` for a dose (dedupe key: kind and dose)."""
    from facility.models import Alert

    admission = dose.order.admission
    return Alert(
        facility=admission.facility, kind=kind, severity=severity, message=message,
        dedupe_key=f"{kind.replace('_', '-')}:{dose.public_id}",
        client_public_id=admission.client.public_id, client_label=admission.client.mrn,
        raised_at=now,
    )  # fmt: skip


def scan_doses(*, now: datetime | None = None, order: Order | None = None) -> int:
    """Late doses alert the nurse; missed doses are marked and alert (time-critical or STAT:
    the supervisor too, critical). A STAT, NOW or first dose past its deadline is missed.

    The database picks the candidates (undocumented doses whose window or deadline has passed),
    so the scan's work follows the number of late doses, not of doses. Idempotent by dedupe
    key: reruns and late runs raise nothing twice. `order`: that order's doses of any age
    (doses_materialize, for doses created after the lookback).
    """
    now = now or timezone.now()
    minute = Value(timedelta(minutes=1), output_field=DurationField())
    later = ScheduledDose.objects.filter(
        order=OuterRef("order"), scheduled_at__gt=OuterRef("scheduled_at")
    ).order_by("scheduled_at")
    live = Administration.objects.filter(dose=OuterRef("pk"), struck_at__isnull=True)
    # A dose whose deadline is in the lookback though its time is not (a first dose: from its
    # day's midnight to an hour after verification) counts too. Bounded on scheduled_at, so the
    # time index serves the scan; older doses created late are scanned by doses_materialize.
    since = now - SCAN_LOOKBACK
    recent = Q(scheduled_at__gte=since - DEADLINE_REACH) & (
        Q(scheduled_at__gte=since) | Q(deadline_at__gte=since)
    )
    doses = list(
        ScheduledDose.objects.filter(
            Q(order=order) if order is not None else recent,
            scheduled_at__lt=now,
            cancelled_at__isnull=True,
            order__admission__discharged_at__isnull=True,
        )
        .annotate(
            window_end=ExpressionWrapper(
                F("scheduled_at")
                + ExpressionWrapper(F("window_minutes") * minute, output_field=DurationField()),
                output_field=DateTimeField(),
            )
        )
        .filter(Q(deadline_at__isnull=True, window_end__lt=now) | Q(deadline_at__lt=now))
        .exclude(Exists(live))
        .annotate(
            next_at=Subquery(later.values("scheduled_at")[:1]),
            next_window=Subquery(later.values("window_minutes")[:1]),
        )
        .select_related(
            "order__admission__client", "order__admission__facility", "order__medication"
        )
        .order_by()
    )
    alerts = []
    newly_missed = []
    for d in doses:
        if d.deadline_at is not None:
            status = deadline_status(d.deadline_at, now)
        else:
            status = dose_status(
                d.scheduled_at, now, window=d.window_minutes,
                next_scheduled_at=d.next_at, next_window=d.next_window or None,
            )  # fmt: skip
        client = d.order.admission.client
        when = timezone.localtime(d.scheduled_at, d.order.admission.facility.tz)
        what = f"{d.order.medication} {d.order.dose} due {when:%H:%M} for {client.display_name}"
        if status == "late":
            alerts.append(_dose_alert(d, "dose_late", AlertSeverity.WARNING,
                                      f"Late dose: {what}.", now))  # fmt: skip
            continue
        if status != "missed":
            continue
        if d.marked_missed_at is None:
            newly_missed.append(d.pk)
        alerts.append(_dose_alert(d, "dose_missed", AlertSeverity.WARNING,
                                  f"Missed dose: {what}. File an incident.", now))  # fmt: skip
        if d.order.time_critical or d.kind == DoseKind.STAT:
            alerts.append(_dose_alert(
                d, "dose_missed_critical", AlertSeverity.CRITICAL,
                f"{'STAT' if d.kind == DoseKind.STAT else 'Time-critical'} dose missed: {what}. "
                "Supervisor: act now.", now,
            ))  # fmt: skip
    if newly_missed:
        ScheduledDose.objects.filter(pk__in=newly_missed, marked_missed_at__isnull=True).update(
            marked_missed_at=now
        )
    return alerts_raise_many(alerts)
