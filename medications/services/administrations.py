"""Documenting a scheduled dose, and striking an entry made in error (specs/mar.md,
Documenting a dose)."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from facility import policy
from facility.models import User
from facility.services import violated_constraint
from medications.models import Administration, Outcome, ScheduledDose, Timing
from medications.services.controlled import _move, decrement_for_administration

FUTURE_TOLERANCE = timedelta(minutes=1)


class DoseAlreadyCharted(ValidationError):
    """Someone documented this dose first."""


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
    policy.require(actor, "mar.record")
    dose = ScheduledDose.objects.select_related("order__admission", "order__medication").get(
        pk=dose.pk
    )
    order, admission = dose.order, dose.order.admission
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": "Outcome: choose one."})
    reason = reason.strip()
    # Scope, and without "mar.give" only observed self-administration (facility/policy.py).
    charting = Administration(
        order=order, dose=dose, outcome=outcome, self_administered=self_administered
    )
    policy.require(actor, "mar.record", charting)
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
        if violated_constraint(exc) != "medications_administration_one_per_dose":
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
    policy.require(actor, "mar.strike", admin)
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
