"""Orders, scheduled doses and their documentation (specs/mar.md)."""

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import (
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Subquery,
    Value,
)
from django.utils import timezone

from clients.models import Admission
from facility.models import AlertSeverity, User
from facility.services import alert_raise, alerts_raise_many
from medications.models import (
    Administration,
    Frequency,
    Medication,
    Order,
    Outcome,
    ScheduledDose,
    Timing,
)
from medications.timing import dose_status, window_minutes

HORIZON = timedelta(hours=48)
NO_WINDOW_DUE_BEFORE = timedelta(minutes=60)
SCAN_LOOKBACK = timedelta(hours=48)
FUTURE_TOLERANCE = timedelta(minutes=1)
TECH_SELF_ADMIN = getattr(settings, "HAVEN_TECH_OBSERVED_SELF_ADMINISTRATION", True)

# Default local administration times per frequency (facility pharmacy schedule, *default*).
DEFAULT_TIMES = {
    Frequency.DAILY: ["09:00"],
    Frequency.BID: ["09:00", "21:00"],
    Frequency.TID: ["09:00", "13:00", "17:00"],
    Frequency.QID: ["09:00", "13:00", "17:00", "21:00"],
    Frequency.Q4H: ["02:00", "06:00", "10:00", "14:00", "18:00", "22:00"],
    Frequency.Q6H: ["00:00", "06:00", "12:00", "18:00"],
    Frequency.Q8H: ["06:00", "14:00", "22:00"],
    Frequency.Q12H: ["09:00", "21:00"],
    Frequency.WEEKLY: ["09:00"],
}
TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class DoseAlreadyCharted(ValidationError):
    """Someone documented this dose first."""


def parse_times(text: str) -> list[time]:
    """ "09:00, 21:00" → sorted unique times; refuses anything that is not HH:MM."""
    found = set()
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        match = TIME_RE.match(part)
        if not match:
            raise ValidationError({"times": f"Times: “{part}” is not a time like 09:00."})
        found.add(time(int(match[1]), int(match[2])))
    return sorted(found)


def order_times(order: Order) -> list[time]:
    if order.frequency in (Frequency.PRN, Frequency.ONCE):
        return []
    if order.frequency == Frequency.TIMES or order.times:
        return parse_times(order.times)
    return [time.fromisoformat(t) for t in DEFAULT_TIMES[order.frequency]]


def doses_per_day(order: Order) -> float:
    if order.frequency == Frequency.WEEKLY:
        return 1 / 7
    if order.frequency == Frequency.ONCE:
        return 1
    return max(len(order_times(order)), 1)


def order_window(order: Order) -> int:
    return window_minutes(doses_per_day=doses_per_day(order), time_critical=order.time_critical)


def allergy_conflicts(client, medication: Medication) -> list[str]:
    """Allergies on the chart that name this medication (a simple, cautious match)."""
    name = medication.name.lower()
    return [a for a in client.allergy_list if a.lower() in name or name.split()[0] in a.lower()]


@transaction.atomic
def order_transcribe(
    *,
    actor: User,
    admission: Admission,
    medication: Medication,
    dose: str,
    dose_units: Decimal,
    route: str,
    frequency: str,
    start_at: datetime,
    prescriber_name: str,
    prescriber_credentials: str,
    times: str = "",
    stop_at: datetime | None = None,
    indication: str = "",
    time_critical: bool = False,
    hold_parameters: str = "",
    prn_min_interval_minutes: int | None = None,
    prn_max_per_24h: int | None = None,
    allergy_override_reason: str = "",
) -> Order:
    """Enter a prescriber's order as written. It gives no dose until another nurse verifies it."""
    if not actor.has_perm("facility.transcribe_order"):
        raise PermissionDenied("Only nurses transcribe orders.")
    if not admission.is_open:
        raise ValidationError("This client has been discharged.")
    errors = {}
    if medication.facility_id != admission.facility_id or not medication.active:
        errors["medication"] = "Medication: not in this facility's catalog."
    if not route:
        errors["route"] = "Route: choose how the dose is given."
    elif route not in medication.route_list:
        errors["route"] = f"Route: {medication.name} is not given {route}."
    if dose_units is None or dose_units <= 0 or dose_units > 100:
        errors["dose_units"] = "Units per dose: between 0 and 100."
    if stop_at and stop_at <= start_at:
        errors["stop_at"] = "Stop: must be after the start."
    if frequency == Frequency.PRN:
        if not prn_min_interval_minutes or prn_min_interval_minutes <= 0:
            errors["prn_min_interval_minutes"] = "Minimum interval: required for a PRN order."
        if not prn_max_per_24h or prn_max_per_24h <= 0:
            errors["prn_max_per_24h"] = "Maximum per 24 hours: required for a PRN order."
        if not indication.strip():
            errors["indication"] = "Indication: required for a PRN order."
    if frequency == Frequency.TIMES and not times.strip():
        errors["times"] = "Times: list the administration times, e.g. 09:00,21:00."
    if times.strip():
        try:
            parse_times(times)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if start_at < admission.admitted_at - timedelta(minutes=1):
        errors["start_at"] = "Start: cannot be before admission."
    conflicts = allergy_conflicts(admission.client, medication) if not errors else []
    if conflicts and not allergy_override_reason.strip():
        errors["allergy_override_reason"] = (
            f"Allergy: the chart lists {', '.join(conflicts)}. Give a reason to override."
        )
    if errors:
        raise ValidationError(errors)
    return Order.objects.create(
        admission=admission,
        medication=medication,
        dose=dose.strip(),
        dose_units=dose_units,
        route=route,
        frequency=frequency,
        times=times.strip(),
        start_at=start_at,
        stop_at=stop_at,
        indication=indication.strip(),
        time_critical=time_critical or medication.time_critical,
        hold_parameters=hold_parameters.strip(),
        prescriber_name=prescriber_name.strip(),
        prescriber_credentials=prescriber_credentials.strip(),
        prn_min_interval_minutes=prn_min_interval_minutes if frequency == Frequency.PRN else None,
        prn_max_per_24h=prn_max_per_24h if frequency == Frequency.PRN else None,
        allergy_override_reason=allergy_override_reason.strip(),
        transcribed_by=actor,
        transcribed_at=timezone.now(),
    )


@transaction.atomic
def order_verify(*, actor: User, order: Order, now: datetime | None = None) -> Order:
    """A second nurse checks the transcription; doses are materialized at once."""
    now = now or timezone.now()
    if not actor.has_perm("facility.verify_order"):
        raise PermissionDenied("Only nurses verify orders.")
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.verified_at is not None:
        raise ValidationError(f"Already verified by {order.verified_by}.")
    if order.discontinued_at is not None:
        raise ValidationError("This order was discontinued.")
    if order.transcribed_by_id == actor.pk:
        raise ValidationError("Verify: a different nurse must verify the order you transcribed.")
    order.verified_by = actor
    order.verified_at = now
    order.save(update_fields=["verified_by", "verified_at"])
    doses_materialize(order, until=now + HORIZON, now=now)
    return order


@transaction.atomic
def order_discontinue(
    *, actor: User, order: Order, reason: str, now: datetime | None = None
) -> Order:
    """Stop an order; its future undocumented doses are cancelled at once."""
    now = now or timezone.now()
    if not actor.has_perm("facility.discontinue_order"):
        raise PermissionDenied("Only nurses discontinue orders.")
    if not reason.strip():
        raise ValidationError({"reason": "Reason: say why the order is discontinued."})
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.discontinued_at is not None:
        raise ValidationError("This order is already discontinued.")
    order.discontinued_at = now
    order.discontinued_by = actor
    order.discontinue_reason = reason.strip()
    order.save(update_fields=["discontinued_at", "discontinued_by", "discontinue_reason"])
    ScheduledDose.objects.filter(
        order=order, scheduled_at__gt=now, cancelled_at__isnull=True, administrations__isnull=True
    ).update(cancelled_at=now)
    return order


def dose_times_between(order: Order, tz, start: datetime, end: datetime) -> list[datetime]:
    """The order's due times in [start, end), on the facility's wall clock.

    A wall time that does not exist on a spring-forward day falls an hour later; a wall time
    that happens twice on a fall-back day is given once, at its first occurrence.
    """
    if order.frequency == Frequency.ONCE:
        return [order.start_at] if start <= order.start_at < end else []
    local_start = start.astimezone(tz).date()
    local_end = end.astimezone(tz).date()
    start_weekday = order.start_at.astimezone(tz).weekday()
    found = []
    day = local_start
    while day <= local_end:
        if order.frequency != Frequency.WEEKLY or day.weekday() == start_weekday:
            for t in order_times(order):
                moment = datetime.combine(day, t, tzinfo=tz)
                # Normalize through UTC so a non-existent wall time becomes a real instant.
                moment = moment.astimezone(UTC)
                if start <= moment < end:
                    found.append(moment)
        day += timedelta(days=1)
    return found


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


# ---------------------------------------------------------------- documenting


@transaction.atomic
def administration_record(
    *,
    actor: User,
    dose: ScheduledDose,
    outcome: str,
    given_at: datetime | None = None,
    reason: str = "",
    self_administered: bool = False,
    now: datetime | None = None,
) -> Administration:
    """Document one scheduled dose (specs/mar.md, Documenting a dose).

    The partial unique index lets exactly one of two people charting the same dose succeed; the
    other is told who charted it.
    """
    now = now or timezone.now()
    if not actor.has_perm("facility.record_administration"):
        raise PermissionDenied("Your role does not record administrations.")
    dose = ScheduledDose.objects.select_related("order__admission", "order__medication").get(
        pk=dose.pk
    )
    order, admission = dose.order, dose.order.admission
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": "Outcome: choose one."})
    reason = reason.strip()
    tech_allowed = TECH_SELF_ADMIN and outcome == Outcome.GIVEN and self_administered
    if actor.role == "technician" and not tech_allowed:
        raise PermissionDenied(
            "Technicians document observed self-administration only; call the nurse."
        )
    if outcome == Outcome.GIVEN:
        given_at = given_at or now
        if given_at > now + FUTURE_TOLERANCE:
            raise ValidationError({"given_at": "Given at: cannot be in the future."})
        if given_at < dose.scheduled_at - timedelta(hours=12):
            raise ValidationError({"given_at": "Given at: too far before the scheduled time."})
        given_at = min(given_at, now)  # a tablet clock a few seconds fast is not the future
    else:
        given_at = None
        if not reason:
            raise ValidationError({"reason": f"Reason: say why the dose was {outcome}."})
    moment = given_at or now
    if admission.discharged_at is not None and moment >= admission.discharged_at:
        raise ValidationError("The MAR is closed: this client has been discharged.")
    if dose.cancelled_at is not None:
        raise ValidationError("This dose was cancelled when the order was discontinued.")
    timing = Timing.NONE
    if given_at is not None and not dose.window_minutes:
        timing = Timing.ON_TIME  # one-time and first doses have no window (specs/mar.md)
    elif given_at is not None:
        w = timedelta(minutes=dose.window_minutes)
        if given_at < dose.scheduled_at - w:
            timing = Timing.EARLY
        elif given_at > dose.scheduled_at + w:
            timing = Timing.LATE
        else:
            timing = Timing.ON_TIME
        if timing != Timing.ON_TIME and not reason:
            raise ValidationError({"reason": f"Reason: the dose is given {timing}; say why."})
    existing = _live_documentation(dose)
    if existing is not None:
        raise DoseAlreadyCharted(_charted_by(existing))
    try:
        with transaction.atomic():
            admin = Administration.objects.create(
                order=order,
                dose=dose,
                outcome=outcome,
                given_at=given_at,
                timing=timing,
                reason=reason,
                self_administered=self_administered,
                recorded_at=now,
                recorded_by=actor,
            )
    except IntegrityError as exc:
        if "one_per_dose" not in str(exc):
            raise
        raise DoseAlreadyCharted(_charted_by(_live_documentation(dose))) from exc
    decrement_for_administration(admin)
    return admin


def _live_documentation(dose) -> Administration | None:
    return (
        Administration.objects.filter(dose=dose, struck_at__isnull=True)
        .select_related("recorded_by", "order__admission__facility")
        .first()
    )


def _charted_by(admin: Administration | None) -> str:
    if admin is None:
        return "This dose was just charted by someone else."
    local = timezone.localtime(admin.recorded_at, admin.order.admission.facility.tz)
    return (
        f"Already charted by {admin.recorded_by.signature} at {local:%H:%M}: "
        f"{admin.get_outcome_display().lower()}."
    )


@transaction.atomic
def administration_strike(*, actor: User, administration: Administration, reason: str):
    """Entered in error: the entry stays visible, struck, and the dose can be charted again."""
    if not reason.strip():
        raise ValidationError({"reason": "Reason: say what was wrong."})
    admin = Administration.objects.select_for_update().get(pk=administration.pk)
    if admin.struck_at is not None:
        raise ValidationError("Already struck.")
    if admin.recorded_by_id != actor.pk and not actor.has_perm("facility.verify_order"):
        raise PermissionDenied("Only the person who charted it or a nurse can strike it.")
    admin.struck_at = timezone.now()
    admin.struck_by = actor
    admin.struck_reason = reason.strip()
    admin.save(update_fields=["struck_at", "struck_by", "struck_reason"])
    _restore_stock(admin, actor)
    return admin


def _restore_stock(admin: Administration, actor: User) -> None:
    """A struck controlled dose was never taken from the count: put it back, recorded."""
    from medications.models import MovementKind, StockMovement

    taken = StockMovement.objects.filter(
        administration=admin, kind=MovementKind.ADMINISTRATION
    ).first()
    if taken is not None:
        _move(taken.stock, kind=MovementKind.ADJUSTMENT, change=-taken.change, by=actor,
              at=timezone.now(), administration=admin,
              note=f"Entered in error: {admin.struck_reason}")  # fmt: skip


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


def shift_bounds(day: date, shift: str, tz) -> tuple[datetime, datetime]:
    """Day 07–15, evening 15–23, night 23–07 (next day), on the facility's clock."""
    starts = {"day": (0, 7, 15), "evening": (0, 15, 23), "night": (0, 23, 31)}
    _, a, b = starts[shift]
    start = datetime.combine(day, time(a), tzinfo=tz)
    end_day = day + timedelta(days=b // 24)
    end = datetime.combine(end_day, time(b % 24), tzinfo=tz)
    return start, end


def current_shift(now: datetime, tz) -> tuple[date, str]:
    local = now.astimezone(tz)
    if 7 <= local.hour < 15:
        return local.date(), "day"
    if 15 <= local.hour < 23:
        return local.date(), "evening"
    day = local.date() if local.hour >= 23 else local.date() - timedelta(days=1)
    return day, "night"


# ---------------------------------------------------------------- PRN


def prn_last_and_count(order: Order, at: datetime) -> tuple[Administration | None, int]:
    """The latest live PRN dose given after `at` less 24 hours, and how many there are.

    Every dose from 24 hours before `at` onwards counts, later ones included (a dose exactly
    24 hours earlier has rolled off). A dose stamped a moment after `at` (another nurse's, on
    another server's clock) must block this one, not slip past the limits (issue 7).
    """
    recent = Administration.objects.filter(
        order=order,
        outcome=Outcome.GIVEN,
        struck_at__isnull=True,
        given_at__gt=at - timedelta(hours=24),
    )
    last = recent.order_by("-given_at").first()
    return last, recent.count()


def prn_blocks(order: Order, at: datetime) -> list[str]:
    """Why a PRN dose at `at` is not allowed without an override (empty: allowed)."""
    last, count = prn_last_and_count(order, at)
    reasons = []
    if last is not None:
        allowed_from = last.given_at + timedelta(minutes=order.prn_min_interval_minutes)
        if at < allowed_from:
            local = timezone.localtime(allowed_from, order.admission.facility.tz)
            reasons.append(f"Too soon: the next dose is allowed from {local:%H:%M}.")
    if count + 1 > order.prn_max_per_24h:
        reasons.append(f"Maximum reached: {count} of {order.prn_max_per_24h} in 24 hours.")
    return reasons


@transaction.atomic
def prn_give(
    *,
    actor: User,
    order: Order,
    indication: str,
    pre_assessment: str,
    given_at: datetime | None = None,
    override_reason: str = "",
    override_by: User | None = None,
    now: datetime | None = None,
) -> Administration:
    """Give a PRN dose within its limits; past a limit, a reason and a second nurse override.

    The order row is locked first, and only then is the clock read and the limits counted, so
    two nurses giving the same PRN at once are judged one after the other: the second sees the
    first dose (issue 7: reading the clock before the lock let both through).
    """
    if not actor.has_perm("facility.record_administration") or actor.role == "technician":
        raise PermissionDenied("PRN doses are given by a nurse.")
    order = Order.objects.select_for_update().select_related("admission__facility").get(pk=order.pk)
    now = now or timezone.now()
    given_at = given_at or now
    admission = order.admission
    errors = {}
    if not order.is_prn:
        raise ValidationError("This is not a PRN order.")
    if given_at > now + FUTURE_TOLERANCE:
        errors["given_at"] = "Given at: cannot be in the future."
    given_at = min(given_at, now)
    if not indication.strip():
        errors["indication"] = "Indication: say why the dose is needed."
    if not pre_assessment.strip():
        errors["pre_assessment"] = "Pre-dose assessment: record pain, anxiety or the score."
    if errors:
        raise ValidationError(errors)
    if admission.discharged_at is not None and given_at >= admission.discharged_at:
        raise ValidationError("The MAR is closed: this client has been discharged.")
    if not Order.objects.active_at(given_at).filter(pk=order.pk).exists():
        raise ValidationError("This order is not active (unverified, stopped or discontinued).")
    blocks = prn_blocks(order, given_at)
    if blocks:
        if not override_reason.strip() or override_by is None:
            raise ValidationError(blocks + ["An override needs a reason and a second nurse."])
        if override_by.pk == actor.pk or not override_by.has_perm("facility.verify_order"):
            raise ValidationError({"override_by": "Second nurse: a different nurse must agree."})
    else:
        override_reason, override_by = "", None
    admin = Administration.objects.create(
        order=order,
        outcome=Outcome.GIVEN,
        given_at=given_at,
        recorded_at=now,
        recorded_by=actor,
        prn_indication=indication.strip(),
        pre_assessment=pre_assessment.strip(),
        override_reason=override_reason.strip(),
        override_by=override_by,
    )
    decrement_for_administration(admin)
    return admin


@transaction.atomic
def prn_follow_up(
    *, actor: User, administration: Administration, result: str, post_assessment: str = "",
    note: str = "",
):  # fmt: skip
    """Record how well a PRN dose worked."""
    from medications.models import Effect, PrnFollowUp

    if result not in Effect.values:
        raise ValidationError({"result": "Result: effective, partially or not effective."})
    if administration.dose_id is not None or administration.struck_at is not None:
        raise ValidationError("Only a live PRN dose takes a follow-up.")
    try:
        with transaction.atomic():
            return PrnFollowUp.objects.create(
                administration=administration,
                result=result,
                post_assessment=post_assessment.strip(),
                note=note.strip(),
                recorded_at=timezone.now(),
                recorded_by=actor,
            )
    except IntegrityError as exc:
        raise ValidationError("This dose already has its follow-up.") from exc


def prn_pending(admission_ids, now: datetime):
    """Live PRN doses of the last day without a follow-up, with their reassessment status."""
    from medications.timing import prn_reassessment_status

    doses = (
        Administration.objects.filter(
            order__admission__in=admission_ids,
            dose__isnull=True,
            outcome=Outcome.GIVEN,
            struck_at__isnull=True,
            follow_up__isnull=True,
            given_at__gte=now - timedelta(hours=24),
        )
        .select_related("order__medication", "order__admission__client",
                        "order__admission__facility", "recorded_by")
        .order_by("given_at")
    )  # fmt: skip
    return [(a, prn_reassessment_status(a.given_at, now, route=a.order.route)) for a in doses]


def scan_prn_reassessments(*, now: datetime | None = None) -> int:
    """Alert once for each PRN dose whose effectiveness reassessment is overdue."""
    now = now or timezone.now()
    open_ids = Admission.objects.current().values_list("pk", flat=True)
    from facility.models import Alert

    alerts = []
    for admin, status in prn_pending(open_ids, now):
        if status != "overdue":
            continue
        client = admin.order.admission.client
        facility = admin.order.admission.facility
        alerts.append(
            Alert(
                facility=facility,
                kind="prn_reassessment_overdue",
                severity=AlertSeverity.WARNING,
                message=f"PRN follow-up overdue: {admin.order.medication} given "
                f"{timezone.localtime(admin.given_at, facility.tz):%H:%M} "
                f"to {client.display_name}.",
                dedupe_key=f"prn-followup:{admin.public_id}",
                client_public_id=client.public_id,
                client_label=client.mrn,
                raised_at=now,
            )
        )
    return alerts_raise_many(alerts)


# ---------------------------------------------------------------- controlled substances

MAX_STOCK_CHANGE = Decimal("10000")
COUNT_GRACE = timedelta(minutes=60)
SHIFT_CHANGE_HOURS = (7, 15, 23)
COUNT_SCAN = "shift-counts"


def _fmt(q: Decimal) -> str:
    """30.00 → "30", 0.50 → "0.5"."""
    return format(q.normalize(), "f")


def _quantity(value, field: str) -> Decimal:
    try:
        q = Decimal(str(value))
    except (ArithmeticError, ValueError) as exc:
        raise ValidationError({field: "Quantity: enter a number."}) from exc
    if not q.is_finite() or q <= 0 or q > MAX_STOCK_CHANGE:
        raise ValidationError({field: "Quantity: more than 0 and at most 10,000."})
    return q


def _move(stock, *, kind, change, by, at, witness=None, administration=None, note=""):
    """Apply a signed change to a locked stock row and record it. Refuses a negative balance."""
    from medications.models import ControlledStock, StockMovement

    stock = ControlledStock.objects.select_for_update().get(pk=stock.pk)
    balance = stock.quantity + change
    if balance < 0:
        raise ValidationError(
            {"quantity": f"Stock: only {_fmt(stock.quantity)} on hand for {stock}."}
        )
    stock.quantity = balance
    stock.save(update_fields=["quantity"])
    return StockMovement.objects.create(
        stock=stock, kind=kind, change=change, balance=balance, at=at, by=by, witness=witness,
        administration=administration, note=note,
    )  # fmt: skip


def stock_for(order: Order):
    """The count a dose of this order comes out of: the client's own, else the house's."""
    from medications.models import ControlledStock

    if not order.medication.is_controlled:
        return None
    own = ControlledStock.objects.filter(
        medication=order.medication, admission=order.admission
    ).first()
    return (
        own
        or ControlledStock.objects.filter(
            medication=order.medication, admission__isnull=True, facility=order.admission.facility
        ).first()
    )


def decrement_for_administration(admin: Administration) -> None:
    """A given dose of a controlled medication comes off its count, in the same transaction."""
    if admin.outcome != Outcome.GIVEN:
        return
    stock = stock_for(admin.order)
    if admin.order.medication.is_controlled and stock is None:
        raise ValidationError("Stock: no count is kept for this controlled medication yet.")
    if stock is not None:
        from medications.models import MovementKind

        _move(stock, kind=MovementKind.ADMINISTRATION, change=-admin.order.dose_units,
              by=admin.recorded_by, at=admin.given_at, administration=admin)  # fmt: skip


@transaction.atomic
def stock_receive(*, actor: User, stock, quantity, note: str = ""):
    """Stock arrives from the pharmacy: the count goes up."""
    from medications.models import MovementKind

    if not actor.has_perm("facility.verify_order"):
        raise PermissionDenied("Nurses receive controlled stock.")
    q = _quantity(quantity, "quantity")
    return _move(stock, kind=MovementKind.RECEIPT, change=q, by=actor, at=timezone.now(),
                 note=note.strip())  # fmt: skip


@transaction.atomic
def stock_waste(*, actor: User, witness: User | None, stock, quantity, reason: str):
    """Waste part of a dose, witnessed by a different person."""
    from medications.models import MovementKind

    for person in (actor, witness):
        if person is not None and not person.has_perm("facility.sign_controlled_count"):
            raise PermissionDenied(f"{person} cannot sign for controlled substances.")
    if witness is None or witness.pk == actor.pk:
        raise ValidationError({"witness": "Witness: a different person must witness the waste."})
    if not reason.strip():
        raise ValidationError({"reason": "Reason: say what was wasted and why."})
    q = _quantity(quantity, "quantity")
    return _move(stock, kind=MovementKind.WASTE, change=-q, by=actor, witness=witness,
                 at=timezone.now(), note=reason.strip())  # fmt: skip


@transaction.atomic
def count_submit(*, actor: User, second: User | None, stock, counted_quantity, now=None):
    """Two distinct staff count together; the quantity is compared with the hidden expected one.

    A match completes the count; a variance saves it incomplete, alerts, and waits for a
    supervisor's signed-off discrepancy record.
    """
    from medications.models import ControlledCount, ControlledStock

    now = now or timezone.now()
    if second is None or second.pk == actor.pk:
        raise ValidationError({"second": "Second signer: a different person must count with you."})
    for person in (actor, second):
        if not person.has_perm("facility.sign_controlled_count"):
            raise PermissionDenied(f"{person} cannot sign a controlled count.")
    try:
        counted = Decimal(str(counted_quantity))
    except (ArithmeticError, ValueError) as exc:
        raise ValidationError({"counted_quantity": "Counted: enter a number."}) from exc
    if not counted.is_finite() or counted < 0 or counted > MAX_STOCK_CHANGE:
        raise ValidationError({"counted_quantity": "Counted: 0 to 10,000."})
    stock = (
        ControlledStock.objects.select_for_update().select_related("medication").get(pk=stock.pk)
    )
    if ControlledCount.objects.filter(stock=stock, completed_at__isnull=True).exists():
        raise ValidationError(
            "A variance on this stock is still open: a supervisor must sign it off first."
        )
    count = ControlledCount.objects.create(
        stock=stock, counted_at=now, first_signer=actor, second_signer=second,
        counted_quantity=counted, expected_quantity=stock.quantity,
        completed_at=now if counted == stock.quantity else None,
    )  # fmt: skip
    if count.completed_at is None:
        alert_raise(
            facility=stock.facility,
            kind="count_variance",
            severity=AlertSeverity.CRITICAL,
            message=f"Controlled count variance: {stock} counted {_fmt(counted)}, "
            f"expected {_fmt(stock.quantity)}. A supervisor must sign off a discrepancy.",
            dedupe_key=f"count-variance:{count.public_id}",
            now=now,
        )
    return count


@transaction.atomic
def discrepancy_sign_off(*, actor: User, count, explanation: str):
    """A supervisor explains a variance; the count completes and the stock takes the counted
    quantity, recorded as an adjustment."""
    from medications.models import ControlledCount, MovementKind

    if not actor.has_perm("facility.resolve_alert"):
        raise PermissionDenied("A supervisor signs off discrepancies.")
    if not explanation.strip():
        raise ValidationError({"explanation": "Explanation: say what happened."})
    count = ControlledCount.objects.select_for_update().get(pk=count.pk)
    if count.completed_at is not None:
        raise ValidationError("This count is already complete.")
    now = timezone.now()
    stock = count.stock
    # What the count found missing or extra, not a reset to the count: doses given since the
    # count have already moved the stock.
    change = count.counted_quantity - count.expected_quantity
    if change:
        _move(stock, kind=MovementKind.ADJUSTMENT, change=change, by=actor, at=now,
              note=f"Discrepancy: {explanation.strip()}")  # fmt: skip
    count.discrepancy_explanation = explanation.strip()
    count.signed_off_by = actor
    count.signed_off_at = now
    count.completed_at = now
    count.save(
        update_fields=["discrepancy_explanation", "signed_off_by", "signed_off_at", "completed_at"]
    )
    return count


def shift_changes_between(start: datetime, end: datetime, tz) -> list[datetime]:
    """Shift changes (07:00, 15:00, 23:00 local) in (start, end]."""
    out = []
    day = start.astimezone(tz).date() - timedelta(days=1)
    while day <= end.astimezone(tz).date():
        for hour in SHIFT_CHANGE_HOURS:
            moment = datetime.combine(day, time(hour), tzinfo=tz)
            if start < moment <= end:
                out.append(moment)
        day += timedelta(days=1)
    return out


def scan_shift_counts(*, now: datetime | None = None) -> int:
    """A shift change with no completed count of every controlled stock (within an hour of
    it) raises one alert per facility and shift change."""
    from facility.models import Facility
    from medications.models import ControlledCount, ControlledStock

    # Looks back 24 hours every run; the dedupe key keeps each shift change to one alert.
    now = now or timezone.now()
    raised = 0
    for facility in Facility.objects.filter(pk__in=ControlledStock.objects.values("facility_id")):
        # A stock owes counts from its first receipt on.
        first_at = dict(
            ControlledStock.objects.filter(facility=facility)
            .annotate(first=Min("movements__at"))
            .values_list("pk", "first")
        )
        for change in shift_changes_between(
            now - timedelta(hours=24) - COUNT_GRACE, now - COUNT_GRACE, facility.tz
        ):
            stocks = {pk for pk, first in first_at.items() if first and first <= change}
            if not stocks:
                continue
            counted = set(
                ControlledCount.objects.filter(
                    stock__facility=facility,
                    completed_at__isnull=False,
                    counted_at__gte=change - COUNT_GRACE,
                    counted_at__lte=change + COUNT_GRACE,
                ).values_list("stock_id", flat=True)
            )
            if stocks <= counted:
                continue
            raised += alert_raise(
                facility=facility,
                kind="count_missing",
                severity=AlertSeverity.WARNING,
                message=f"No completed controlled-substance count at the "
                f"{timezone.localtime(change, facility.tz):%H:%M} shift change "
                f"({len(stocks - counted)} of {len(stocks)} stocks not counted).",
                dedupe_key=f"count-missing:{facility.public_id}:{change.astimezone(UTC).isoformat()}",
                now=now,
            )[1]
    return raised
