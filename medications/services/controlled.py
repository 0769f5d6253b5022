"""Controlled substances: stock, receipts, waste, two-signer counts, discrepancies and the
shift-change count scan (specs/mar.md, Controlled substances)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Min
from django.urls import reverse
from django.utils import timezone

from facility import policy
from facility.models import Alert, AlertSeverity, User
from facility.services import alert_raise, alert_resolve
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


def _move(
    stock, *, kind, change, by, at, witness=None, administration=None, note="", source_document=""
):
    """Apply a signed change to a locked stock row and record it. Refuses a negative balance."""
    from medications.models import ControlledStock, StockMovement

    stock = ControlledStock.objects.select_for_update().get(pk=stock.pk)
    if stock.disposition:
        raise ValidationError(f"{stock} was disposed of at discharge; it is no longer counted.")
    balance = stock.quantity + change
    if balance < 0:
        raise ValidationError(
            {"quantity": f"Stock: only {_fmt(stock.quantity)} on hand for {stock}."}
        )
    stock.quantity = balance
    stock.save(update_fields=["quantity"])
    return StockMovement.objects.create(
        stock=stock, kind=kind, change=change, balance=balance, at=at, by=by, witness=witness,
        administration=administration, note=note, source_document=source_document,
    )  # fmt: skip


def owing_counts(queryset=None):
    """Stocks that still owe shift counts: not disposed of at discharge, and not the emptied own
    supply of a discharged client."""
    from medications.models import ControlledStock

    queryset = ControlledStock.objects.all() if queryset is None else queryset
    return queryset.filter(disposition="").exclude(
        admission__discharged_at__isnull=False, quantity=0
    )


def stocks_owing_shift_count(facility, *, shift_start: datetime, now: datetime):
    """The facility's stocks that owe the count of the shift starting at `shift_start` and have
    no completed count since its window opened (COUNT_GRACE before the change, as the count
    scan allows): those received before the change, not disposed of. One query; the supervisor
    dashboard's "Not yet counted" and the nurse's "My work" read it."""
    from django.db.models import Exists, OuterRef

    from medications.models import ControlledCount, ControlledStock

    counted = ControlledCount.objects.filter(
        stock=OuterRef("pk"),
        completed_at__isnull=False,
        counted_at__gte=shift_start - COUNT_GRACE,
        counted_at__lte=now,
    )
    return (
        owing_counts(ControlledStock.objects.filter(facility=facility))
        .annotate(first=Min("movements__at"))
        .filter(first__lte=shift_start)
        .exclude(Exists(counted))
    )


def _variance_alert_key(count) -> str:
    return f"count-variance:{count.public_id}"


def _resolve_variance_alert(count, *, by: User, note: str) -> None:
    """Close the count's variance alert, saying who and why (a scan never reopens it)."""
    alert = Alert.objects.filter(dedupe_key=_variance_alert_key(count)).open().first()
    if alert is not None:
        alert_resolve(alert=alert, user=by, note=note[:500], workflow=True)


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
    """A given dose of a controlled medication comes off its count, in the same transaction; so
    does one sent with the client (issue 14): it left the cabinet, though not given here."""
    if admin.outcome not in (Outcome.GIVEN, Outcome.SENT):
        return
    stock = stock_for(admin.order)
    if admin.order.medication.is_controlled and stock is None:
        raise ValidationError("Stock: no count is kept for this controlled medication yet.")
    if stock is not None:
        from medications.models import MovementKind

        note = f"Sent with client: {admin.reason}"[:300] if admin.outcome == Outcome.SENT else ""
        _move(stock, kind=MovementKind.ADMINISTRATION, change=-admin.order.dose_units,
              by=admin.recorded_by, at=admin.given_at or admin.recorded_at, administration=admin,
              note=note)  # fmt: skip


def _require_signer(person: User, stock) -> None:
    if not policy.allows(person, "controlled.sign", stock):
        raise PermissionDenied(f"{person} cannot sign for controlled substances.")


@transaction.atomic
def stock_receive(
    *, actor: User, stock, quantity, note: str = "", witness: User | None = None,
    source_document: str = "",
):  # fmt: skip
    """Stock arrives from the pharmacy: two signatures and the source document's number (invoice,
    DEA 222 or packing slip); the count goes up."""
    from medications.models import MovementKind

    policy.require(actor, "controlled.receive", stock)
    if witness is not None:
        _require_signer(witness, stock)
    errors = {}
    if witness is None or witness.pk == actor.pk:
        errors["witness"] = "Witness: a second person must sign the receipt with you."
    source_document = source_document.strip()
    if not source_document:
        errors["source_document"] = (
            "Source document: enter the invoice, DEA 222 or packing slip number."
        )
    try:
        q = _quantity(quantity, "quantity")
    except ValidationError as exc:
        errors.update({f: m[0] for f, m in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    return _move(stock, kind=MovementKind.RECEIPT, change=q, by=actor, at=timezone.now(),
                 witness=witness, note=note.strip(), source_document=source_document)  # fmt: skip


@transaction.atomic
def stock_open_and_receive(
    *, actor: User, facility, medication, admission=None, quantity, note: str = "",
    witness: User | None = None, source_document: str = "",
):  # fmt: skip
    """Start keeping a count of a controlled medication, for the house or one admitted client,
    with its first (two-signer) receipt; a refused receipt leaves no empty stock behind. Returns
    the stock."""
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
    return stock_receive(
        actor=actor, stock=stock, quantity=quantity, note=note, witness=witness,
        source_document=source_document,
    ).stock  # fmt: skip


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
def count_submit(
    *, actor: User, second: User | None, stock, counted_quantity, now=None, recount_of=None,
    allow_recount: bool = True,
):  # fmt: skip
    """Two distinct staff count together; the quantity is compared with the hidden expected one.

    A match completes the count; a variance saves it incomplete, alerts, and waits for a
    supervisor's signed-off discrepancy record. While a variance is open, a new count is its
    recount (once): the first count is kept, marked superseded, and its alert stays open. A
    recount never closes the variance by itself, even if it matches (its counters have seen the
    expected figure): a supervisor who counted neither count signs it off. `allow_recount=False`
    refuses a recount (the view's kept second signer does not sign one).
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
    if stock.disposition:
        raise ValidationError(f"{stock} was disposed of at discharge; it is no longer counted.")
    open_count = ControlledCount.objects.filter(
        stock=stock, completed_at__isnull=True, superseded_at__isnull=True
    ).first()
    if recount_of is not None and (open_count is None or open_count.pk != recount_of.pk):
        raise ValidationError("Recount: only the open variance of this stock can be recounted.")
    if open_count is not None and open_count.recount_of_id is not None:
        raise ValidationError(
            "This stock was already recounted: a supervisor must sign off the variance."
        )
    if open_count is not None and not allow_recount:
        raise ValidationError(
            {"second_password": "Their password: a recount needs the second signer's password."}
        )
    count = ControlledCount.objects.create(
        stock=stock, counted_at=now, first_signer=actor, second_signer=second,
        counted_quantity=counted, expected_quantity=stock.quantity,
        completed_at=now if counted == stock.quantity and open_count is None else None,
        recount_of=open_count,
    )  # fmt: skip
    if open_count is not None:
        # The variance stays open, and so does its alert, until a supervisor signs it off.
        open_count.superseded_at = now
        open_count.save(update_fields=["superseded_at"])
    elif count.completed_at is None:
        alert_raise(
            facility=stock.facility,
            kind="count_variance",
            severity=AlertSeverity.CRITICAL,
            message=f"Controlled count variance: {stock} counted {_fmt(counted)}, "
            f"expected {_fmt(stock.quantity)}. A supervisor must sign off a discrepancy "
            "(two people may recount once first).",
            dedupe_key=_variance_alert_key(count),
            # Acted on where the variance is recounted or signed off (issue 17).
            link=f"{reverse('medications:controlled')}#count-{count.public_id}",
            now=now,
        )
    return count


DEA_106_DAYS = 45  # 21 CFR 1301.76(b): DEA Form 106 within 45 days of discovering the loss


def _dea_106_due(count) -> date:
    return timezone.localtime(count.counted_at, count.stock.facility.tz).date() + timedelta(
        days=DEA_106_DAYS
    )


def _dea_106_date_error(count, filed_on: date) -> str:
    """Why a DEA Form 106 filing date cannot be right ("" if it can): not in the future, not
    before the count that found the loss."""
    tz = count.stock.facility.tz
    counted_on = timezone.localtime(count.counted_at, tz).date()
    if filed_on > timezone.localtime(timezone.now(), tz).date():
        return "DEA Form 106 filed on: not a future date."
    if filed_on < counted_on:
        return f"DEA Form 106 filed on: not before the count ({counted_on})."
    return ""


def _incident_key(count) -> str:
    return f"incident-required:{count.public_id}"


def _record_dea_106(count, *, actor: User, filed_on: date) -> None:
    count.dea_106_filed_on = filed_on
    count.save(update_fields=["dea_106_filed_on"])
    alert = Alert.objects.filter(dedupe_key=_incident_key(count)).open().first()
    if alert is not None:
        note = f"DEA Form 106 filed on {filed_on}, recorded by {actor.initials}."
        alert_resolve(alert=alert, user=actor, note=note, workflow=True)


@transaction.atomic
def discrepancy_sign_off(
    *, actor: User, count, explanation: str, significant_loss: bool = False,
    dea_106_filed_on: date | None = None,
):  # fmt: skip
    """A supervisor who did not count explains a variance; the count completes, the stock takes
    the variance as an adjustment, and the count's alert is resolved. A recount is signed off by
    someone who counted neither count, and adjusts by its own variance (none if it matched; the
    explanation is still required).

    A significant loss opens an incident (until incidents exist: a critical alert) saying when
    the DEA Form 106 is due (45 days after the count); it needs no filing date now. The alert
    closes when the filing is recorded (`count_dea_106_record`, or a date given here)."""
    from medications.models import ControlledCount, MovementKind

    policy.require(actor, "controlled.sign_off", count)
    count = (
        ControlledCount.objects.select_for_update(of=("self",))
        .select_related(
            "stock__facility", "stock__medication", "stock__admission__client", "recount_of"
        )
        .get(pk=count.pk)
    )
    counters = {count.first_signer_id, count.second_signer_id}
    if count.recount_of is not None:
        counters |= {count.recount_of.first_signer_id, count.recount_of.second_signer_id}
    if actor.pk in counters:
        raise ValidationError(
            "Sign-off: you counted this stock; a supervisor who did not count signs off."
        )
    if count.superseded_at is not None:
        raise ValidationError("This count was recounted: sign off the recount.")
    if count.completed_at is not None:
        raise ValidationError("This count is already complete.")
    now = timezone.now()
    stock = count.stock
    # What the count found missing or extra, not a reset to the count: doses given since the
    # count have already moved the stock.
    change = count.counted_quantity - count.expected_quantity
    errors = {}
    if not explanation.strip():
        errors["explanation"] = "Explanation: say what happened."
    if significant_loss and change >= 0:
        errors["significant_loss"] = "Significant loss: this count found nothing missing."
    elif significant_loss and dea_106_filed_on is not None:
        if message := _dea_106_date_error(count, dea_106_filed_on):
            errors["dea_106_filed_on"] = message
    elif dea_106_filed_on is not None:
        errors["significant_loss"] = (
            "Significant loss: tick it if a DEA Form 106 was filed for this variance."
        )
    if errors:
        raise ValidationError(errors)
    if change:
        _move(stock, kind=MovementKind.ADJUSTMENT, change=change, by=actor, at=now,
              note=f"Discrepancy: {explanation.strip()}")  # fmt: skip
    count.discrepancy_explanation = explanation.strip()
    count.signed_off_by = actor
    count.signed_off_at = now
    count.completed_at = now
    count.significant_loss = significant_loss
    count.save(
        update_fields=[
            "discrepancy_explanation", "signed_off_by", "signed_off_at", "completed_at",
            "significant_loss",
        ]
    )  # fmt: skip
    note = f"Discrepancy signed off by {actor.initials}: {explanation.strip()}"
    for counted in (count, count.recount_of):
        if counted is not None:
            _resolve_variance_alert(counted, by=actor, note=note)
    if significant_loss:
        alert_raise(
            facility=stock.facility,
            kind="incident_required",
            severity=AlertSeverity.CRITICAL,
            message=f"Significant loss of {stock.medication}: {_fmt(-change)} missing at the "
            f"count of {timezone.localtime(count.counted_at, stock.facility.tz):%Y-%m-%d %H:%M}. "
            f"DEA Form 106 due by {_dea_106_due(count)}; file an incident report.",
            dedupe_key=_incident_key(count),
            link=f"{reverse('medications:controlled')}#h-dea",  # where the filing is recorded
            now=now,
        )
        _open_loss_incident(count, actor=actor, missing=-change)
        if dea_106_filed_on is not None:
            _record_dea_106(count, actor=actor, filed_on=dea_106_filed_on)
    return count


def _open_loss_incident(count, *, actor: User, missing: Decimal) -> None:
    """A variance signed off as a significant loss opens a draft incident report (type
    controlled-substance loss), prefilled, with the signing supervisor as its reporter; through
    the registry, as medications does not import the incidents app."""
    from facility.registry import IncidentDraft, open_incident_draft

    stock = count.stock
    at = timezone.localtime(count.counted_at, stock.facility.tz)
    own = stock.admission.client.public_id if stock.admission_id else None
    open_incident_draft(
        IncidentDraft(
            facility_id=stock.facility_id,
            source="count",
            source_ref=f"count:{count.public_id}",
            incident_type="controlled_loss",
            occurred_at=count.counted_at,
            description=f"Controlled count of {stock} at {at:%Y-%m-%d %H:%M}: counted "
            f"{_fmt(count.counted_quantity)}, expected {_fmt(count.expected_quantity)} "
            f"({_fmt(missing)} missing). Signed off as a significant loss by {actor.initials}: "
            f"{count.discrepancy_explanation}. DEA Form 106 due by {_dea_106_due(count)}.",
            reporter=actor,
            client_public_ids=(own,) if own else (),
        )
    )


@transaction.atomic
def count_dea_106_record(*, actor: User, count, filed_on: date | None):
    """A supervisor records the DEA Form 106 filing of a signed-off significant loss (not a
    future date, not before the count); the loss's incident alert is resolved."""
    from medications.models import ControlledCount

    policy.require(actor, "controlled.sign_off", count)
    count = (
        ControlledCount.objects.select_for_update(of=("self",))
        .select_related("stock__facility")
        .get(pk=count.pk)
    )
    if not count.significant_loss or count.signed_off_at is None:
        raise ValidationError("DEA Form 106: only a signed-off significant loss is filed.")
    if count.dea_106_filed_on is not None:
        raise ValidationError(
            f"DEA Form 106: already recorded as filed on {count.dea_106_filed_on}."
        )
    if filed_on is None:
        raise ValidationError({"dea_106_filed_on": "DEA Form 106 filed on: enter the date."})
    if message := _dea_106_date_error(count, filed_on):
        raise ValidationError({"dea_106_filed_on": message})
    _record_dea_106(count, actor=actor, filed_on=filed_on)
    return count


def dea_106_pending(facility):
    """Signed-off significant losses whose DEA Form 106 filing is not yet recorded, each with
    `due` (45 days after the count)."""
    from medications.models import ControlledCount

    pending = list(
        ControlledCount.objects.filter(
            stock__facility=facility, significant_loss=True, dea_106_filed_on__isnull=True,
            signed_off_at__isnull=False,
        ).select_related("stock__facility", "stock__medication", "stock__admission__client",
                         "signed_off_by").order_by("counted_at")
    )  # fmt: skip
    for count in pending:
        count.due = _dea_106_due(count)
    return pending


def scan_shift_counts(*, now: datetime | None = None) -> int:
    """A shift change with no completed count of every controlled stock (within an hour of
    it) raises one alert per facility and shift change."""
    from facility.models import Facility
    from medications.models import ControlledCount, ControlledStock

    # Looks back 24 hours every run; the dedupe key keeps each shift change to one alert.
    now = now or timezone.now()
    raised = 0
    owing = owing_counts()
    for facility in Facility.objects.filter(pk__in=owing.values("facility_id")):
        # A stock owes counts from its first receipt on, until it is disposed of at discharge.
        first_at = dict(
            owing_counts(ControlledStock.objects.filter(facility=facility))
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
                link=reverse("medications:controlled"),  # where the count is done
                now=now,
            )[1]
    return raised
