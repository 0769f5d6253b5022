"""Controlled substances: stock, receipts, waste, two-signer counts, discrepancies and the
shift-change count scan (specs/mar.md, Controlled substances)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from facility import policy
from facility.models import AlertSeverity, User
from facility.services import alert_raise
from medications.models import Administration, Order, Outcome

MAX_STOCK_CHANGE = Decimal("10000")
COUNT_GRACE = timedelta(minutes=60)


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

    policy.require(actor, "controlled.receive", stock)
    q = _quantity(quantity, "quantity")
    return _move(stock, kind=MovementKind.RECEIPT, change=q, by=actor, at=timezone.now(),
                 note=note.strip())  # fmt: skip


@transaction.atomic
def stock_open_and_receive(
    *, actor: User, facility, medication, admission=None, quantity, note: str = ""
):
    """Start keeping a count of a controlled medication, for the house or one admitted client,
    with its first receipt; a refused receipt leaves no empty stock behind. Returns the stock."""
    from medications.models import ControlledStock

    policy.require(actor, "controlled.receive", facility)
    if not medication.is_controlled or medication.facility_id != facility.pk:
        raise ValidationError(
            {"medication": "Medication: choose a controlled medication of this facility."}
        )
    if admission is not None and (admission.facility_id != facility.pk or not admission.is_open):
        raise ValidationError({"admission": "For: choose a client admitted here, or house stock."})
    stock, _ = ControlledStock.objects.get_or_create(
        facility=facility, medication=medication, admission=admission
    )
    return stock_receive(actor=actor, stock=stock, quantity=quantity, note=note).stock


@transaction.atomic
def stock_waste(*, actor: User, witness: User | None, stock, quantity, reason: str):
    """Waste part of a dose, witnessed by a different person."""
    from medications.models import MovementKind

    for person in (actor, witness):
        if person is not None and not policy.allows(person, "controlled.sign", stock):
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
        if not policy.allows(person, "controlled.sign", stock):
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

    policy.require(actor, "controlled.sign_off", count)
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
        # The facility's own shift changes (its shift pattern, on its clock).
        for change in facility.shift_changes_between(
            now - timedelta(hours=24) - COUNT_GRACE, now - COUNT_GRACE
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
