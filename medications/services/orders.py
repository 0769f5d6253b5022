"""Medication orders: transcribe as written, verify by a second nurse, discontinue
(specs/mar.md, Orders)."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clients.models import Admission
from facility import policy
from facility.models import User
from medications import timing
from medications.models import Frequency, Medication, Order, ScheduledDose
from medications.services.doses import HORIZON, doses_materialize


def parse_times(text: str) -> list[time]:
    """ "09:00, 21:00" → sorted unique times; refuses anything that is not HH:MM."""
    try:
        return timing.parse_times(text)
    except ValueError as exc:
        raise ValidationError({"times": str(exc)}) from exc


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
    policy.require(actor, "order.transcribe", admission)
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
    policy.require(actor, "order.verify", order)
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
    policy.require(actor, "order.discontinue", order)
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
