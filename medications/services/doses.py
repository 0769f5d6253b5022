"""Scheduled doses: when an order's doses fall, materializing them ahead, the MAR's reading of a
dose, and the minute scan for late and missed doses (specs/mar.md, Windows)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import (
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Subquery,
    Value,
)
from django.utils import timezone

from facility.models import AlertSeverity
from facility.services import alerts_raise_many
from medications import timing
from medications.models import Administration, Frequency, Order, Outcome, ScheduledDose, Timing
from medications.timing import dose_status, window_minutes

HORIZON = timedelta(hours=48)
NO_WINDOW_DUE_BEFORE = timedelta(minutes=60)
SCAN_LOOKBACK = timedelta(hours=48)


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


def _new_dose_rows(order: Order, until: datetime) -> list[ScheduledDose]:
    """Unsaved dose rows of an order from where it was last materialized up to `until`."""
    if order.verified_at is None or order.frequency == Frequency.PRN:
        return []
    # Doses before verification were never given under this order; a one-time dose keeps its time.
    start = order.start_at
    if order.frequency != Frequency.ONCE:
        start = max(order.start_at, order.verified_at)
    first_ever = order.materialized_until is None
    if not first_ever:
        start = max(start, order.materialized_until)
    end = until
    for limit in (order.stop_at, order.discontinued_at, order.admission.discharged_at):
        if limit is not None:
            end = min(end, limit)
    if end <= start:
        return []
    window = order_window(order)
    rows = [
        ScheduledDose(order=order, scheduled_at=moment, window_minutes=window)
        for moment in dose_times_between(order, order.admission.facility.tz, start, end)
    ]
    if rows and (first_ever or order.frequency == Frequency.ONCE):
        # One-time and first doses have no window (specs/mar.md): they are due until given.
        rows[0].window_minutes = 0
    return rows


def doses_materialize(order: Order, *, until: datetime, now: datetime | None = None) -> int:
    """Create the order's dose rows up to `until` (idempotent; a rerun adds nothing)."""
    rows = _new_dose_rows(order, until)
    # A concurrent run may insert the same rows: the unique (order, time) index drops them.
    ScheduledDose.objects.bulk_create(rows, ignore_conflicts=True)
    if order.verified_at is not None:
        Order.objects.filter(pk=order.pk).update(materialized_until=until)
        order.materialized_until = until
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
        Order.objects.filter(
            verified_at__isnull=False,
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

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


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
    "omitted": "Omitted",
}


def dose_views(doses, now: datetime) -> list[DoseView]:
    """Status of each dose: its documentation if any, else the spec's rule against `now`.

    `doses` must be ordered by (order, scheduled_at) and carry `live` (prefetched live
    documentation); the next dose of the same order bounds the late period.
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
            elif not d.window_minutes:
                # No window (one-time or first dose): due from an hour before its time until
                # documented; never late or missed (specs/mar.md, Windows).
                status = "due" if now >= d.scheduled_at - NO_WINDOW_DUE_BEFORE else "scheduled"
            else:
                nxt = order_doses[i + 1] if i + 1 < len(order_doses) else None
                status = dose_status(
                    d.scheduled_at,
                    now,
                    window=d.window_minutes,
                    next_scheduled_at=nxt.scheduled_at if nxt else None,
                    next_window=nxt.window_minutes if nxt else None,
                )
            views[d.pk] = DoseView(d, doc, status)
    return [views[d.pk] for d in doses]


def live_prefetch():
    from django.db.models import Prefetch

    # Only what the MAR, med pass and MAR print show: a shift view reads hundreds of these.
    return Prefetch(
        "administrations",
        queryset=Administration.objects.filter(struck_at__isnull=True)
        .select_related("recorded_by")
        .only(
            "id", "public_id", "dose_id", "order_id", "outcome", "timing", "given_at", "reason",
            "self_administered", "struck_at", "recorded_at", "recorded_by__initials",
            "recorded_by__full_name", "recorded_by__credentials", "recorded_by__username",
        ),
        to_attr="live",
    )  # fmt: skip


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


def scan_doses(*, now: datetime | None = None) -> int:
    """Late doses alert the nurse; missed doses are marked and alert (time-critical: supervisor).

    The database picks the candidates (undocumented, windowed doses whose window has passed),
    so the scan's work follows the number of late doses, not of doses. Idempotent by dedupe
    key: reruns and late runs raise nothing twice.
    """
    now = now or timezone.now()
    minute = Value(timedelta(minutes=1), output_field=DurationField())
    later = ScheduledDose.objects.filter(
        order=OuterRef("order"), scheduled_at__gt=OuterRef("scheduled_at")
    ).order_by("scheduled_at")
    live = Administration.objects.filter(dose=OuterRef("pk"), struck_at__isnull=True)
    doses = list(
        ScheduledDose.objects.filter(
            scheduled_at__gte=now - SCAN_LOOKBACK,
            scheduled_at__lt=now,
            window_minutes__gt=0,
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
        .filter(window_end__lt=now)
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
        if d.order.time_critical:
            alerts.append(_dose_alert(
                d, "dose_missed_critical", AlertSeverity.CRITICAL,
                f"Time-critical dose missed: {what}. Supervisor: act now.", now,
            ))  # fmt: skip
    if newly_missed:
        ScheduledDose.objects.filter(pk__in=newly_missed, marked_missed_at__isnull=True).update(
            marked_missed_at=now
        )
    return alerts_raise_many(alerts)
