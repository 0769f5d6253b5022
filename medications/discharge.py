"""What a discharge settles in the MAR (issue 9 item 3), as a step `clients` runs inside the
discharge without importing this app (facility/registry.py):

- every order still running is discontinued with reason "discharge", its undocumented doses
  cancelled (`order_discontinue`);
- each of the client's own controlled stocks still holding a quantity is disposed of: returned
  to the client, destroyed with a witness, or sent with the client. A DISPOSITION movement takes
  its count to 0, and a disposed stock owes no more shift counts.

It refuses a discharge time before a live dose of the stay, and a stock whose last count's
variance is still open (a supervisor signs it off first: the disposition takes the book
quantity).
"""

from datetime import timedelta

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from facility import policy
from facility.access import verify_cosigner
from facility.registry import DischargeStep, register_discharge_step
from medications.models import (
    Administration,
    ControlledCount,
    ControlledStock,
    Disposition,
    MovementKind,
    Order,
)
from medications.services import order_discontinue
from medications.services.controlled import _fmt, _move

REASON = "discharge"
WITNESS, WITNESS_PASSWORD, NOTE = (
    "disposition_witness",
    "disposition_witness_password",
    "disposition_note",
)


# What each disposition means at the bedside: "returned" and "sent" both leave with the client,
# so the choice says to whom the stock goes (the model's short labels stay on the records).
DISPOSITION_LABELS = {
    Disposition.RETURNED: "Returned to the client (handed to them at discharge)",
    Disposition.DESTROYED: "Destroyed on site with a witness",
    Disposition.SENT: "Sent with the client to the receiving program or hospital (sealed, with "
    "the transfer papers)",
}


def field_name(stock: ControlledStock) -> str:
    return f"disposition-{stock.public_id}"


def own_stocks(admission):
    """The client's own controlled supply that still holds something, or has an open count
    variance (which must not vanish with an empty stock), to be disposed of."""
    open_variance = ControlledCount.objects.filter(
        stock=OuterRef("pk"), completed_at__isnull=True, superseded_at__isnull=True
    )
    return (
        ControlledStock.objects.filter(admission=admission, disposition="")
        .filter(Q(quantity__gt=0) | Exists(open_variance))
        .annotate(open_variance=Exists(open_variance))
        .select_related("medication")
        .order_by("medication__name")
    )


def running_orders(admission, at):
    """Orders not yet discontinued or stopped at `at`: verified or not, started or not."""
    return Order.objects.filter(admission=admission, discontinued_at__isnull=True).filter(
        Q(stop_at__isnull=True) | Q(stop_at__gt=at)
    )


def _fields(admission) -> dict:
    fields = {}
    choices = [("", "Choose…"), *[(k, DISPOSITION_LABELS[k]) for k, _ in Disposition.choices if k]]
    for stock in own_stocks(admission):
        name = f"{stock.medication}, {_fmt(stock.quantity)} on hand"
        fields[field_name(stock)] = forms.ChoiceField(
            label=f"Client's own {name}",
            choices=choices,
            help_text="Its last count differs: a supervisor must sign off the open count first."
            if stock.open_variance
            else "",
            error_messages={
                "required": f"{name}: choose returned, destroyed or sent with the client.",
                "invalid_choice": f"{name}: choose returned, destroyed or sent with the client.",
            },
        )
    if fields:
        fields[WITNESS] = forms.CharField(
            label="Witness of destruction", max_length=150, required=False,
            help_text="Only for stock destroyed: a second person signs with their password.",
        )  # fmt: skip
        fields[WITNESS_PASSWORD] = forms.CharField(
            label="Witness password", required=False, widget=forms.PasswordInput
        )
        fields[NOTE] = forms.CharField(
            label="Disposition note", max_length=300, required=False,
            help_text="e.g. who received it, or how it was destroyed.",
        )  # fmt: skip
    return fields


def _prepare(request, admission, cleaned_data) -> dict:
    """The chosen dispositions; a witness of destruction proves it with their password here,
    outside the discharge's transaction, so a failed attempt is counted and audited."""
    dispositions = {
        name.removeprefix("disposition-"): value
        for name, value in cleaned_data.items()
        if name.startswith("disposition-") and value
    }
    witness = None
    if Disposition.DESTROYED in dispositions.values() and cleaned_data.get(WITNESS):
        try:
            witness = verify_cosigner(
                request,
                username=cleaned_data[WITNESS],
                password=cleaned_data.get(WITNESS_PASSWORD, ""),
                facility=admission.facility,
            )
        except ValidationError as exc:
            raise ValidationError({WITNESS: exc.messages}) from exc
    return {"dispositions": dispositions, "witness": witness, "note": cleaned_data.get(NOTE, "")}


def _stop(order: Order, *, actor, at) -> None:
    """Discontinue for discharge: whoever may discharge (a supervisor too) closes the MAR."""
    order_discontinue(actor=actor, order=order, reason=REASON, now=at, for_discharge=True)


def _late_dose_error(admission, at) -> dict:
    """A discharge time before a live dose of the stay would leave that dose after it. A time
    typed to the minute (the form's precision) covers that whole minute."""
    after = (
        Q(given_at__gte=at + timedelta(minutes=1))
        if at.second == 0 and at.microsecond == 0
        else Q(given_at__gt=at)
    )
    late = (
        Administration.objects.filter(after, order__admission=admission, struck_at__isnull=True)
        .order_by("-given_at")
        .first()
    )
    if late is None:
        return {}
    tz = admission.facility.tz
    given = timezone.localtime(late.given_at, tz)
    day = "" if given.date() == timezone.localtime(at, tz).date() else f"{given:%Y-%m-%d} "
    return {"discharged_at": f"Discharge time: a dose was given at {day}{given:%H:%M} after it."}


def _run(*, actor, admission, at, data) -> None:
    late = _late_dose_error(admission, at)
    if late:
        raise ValidationError(late)
    for order in running_orders(admission, at).select_for_update():
        _stop(order, actor=actor, at=at)
    stocks = list(own_stocks(admission).select_for_update(of=("self",)))
    if not stocks:
        return
    chosen = data.get("dispositions", {})
    witness = data.get("witness")
    errors = {}
    for stock in stocks:
        value = chosen.get(str(stock.public_id), "")
        if stock.open_variance:
            errors[field_name(stock)] = (
                f"{stock.medication}: the last count differs; a supervisor must sign off the "
                "open count first."
            )
        elif value not in Disposition.values or not value:
            errors[field_name(stock)] = (
                f"{stock.medication}, {_fmt(stock.quantity)} on hand: choose returned, "
                "destroyed or sent with the client."
            )
        elif value == Disposition.DESTROYED and (witness is None or witness.pk == actor.pk):
            errors[WITNESS] = (
                "Witness of destruction: a second person signs with their name and password."
            )
    if errors:
        raise ValidationError(errors)
    for person in {actor, witness} - {None}:
        if not policy.allows(person, "controlled.sign", stocks[0]):
            raise PermissionDenied(f"{person} cannot sign for controlled substances.")
    now = timezone.now()
    note = data.get("note", "").strip()
    for stock in stocks:
        value = chosen[str(stock.public_id)]
        by_witness = witness if value == Disposition.DESTROYED else None
        label = Disposition(value).label
        _move(stock, kind=MovementKind.DISPOSITION, change=-stock.quantity, by=actor, at=now,
              witness=by_witness, note=f"Discharge: {label}. {note}".strip())  # fmt: skip
        ControlledStock.objects.filter(pk=stock.pk).update(
            disposition=value, disposed_at=now, disposed_by=actor,
            disposition_witness=by_witness, disposition_note=note,
        )  # fmt: skip


def _links(request, admission) -> list[tuple[str, str]]:
    if not policy.allows(request.user, "mar.use"):
        return []
    url = reverse("medications:discharge_med_list", args=[admission.public_id])
    return [("Print the discharge medication list", url)]


register_discharge_step(
    DischargeStep(
        key="medications", run=_run, fields=_fields, prepare=_prepare, links=_links, order=10
    )
)
