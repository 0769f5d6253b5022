"""What a discharge settles in screening (issue 13 item 7), as a step `clients` runs inside the
discharge without importing this app (facility/registry.py):

stored property and what the nurse holds from a search are reconciled (specs/screening.md,
"Belongings searches"): each item is returned to the client (who signs), returned to family,
destroyed with a witness, handed to law enforcement, or sent with the client. While any item is
left unsettled the discharge is refused, unless a supervisor (property.override) gives a reason:
then the item stays where it is and a movement records who overrode, when and why.
"""

from django import forms
from django.core.exceptions import ValidationError

from facility import policy
from facility.models import User
from facility.registry import DischargeStep, register_discharge_step
from screening.models import Disposition
from screening.result_forms import StaffChoiceField
from screening.services.searches import held_items, item_move, item_override

SIGNATURE, WITNESS, OVERRIDE = (
    "property_client_signature",
    "property_witness",
    "property_override_reason",
)
# What a discharge may do with a held item.
AT_DISCHARGE = (
    Disposition.RETURNED_TO_CLIENT,
    Disposition.SENT_AT_DISCHARGE,
    Disposition.RETURNED_TO_FAMILY,
    Disposition.DESTROYED,
    Disposition.LAW_ENFORCEMENT,
)
LABELS = {
    Disposition.RETURNED_TO_CLIENT: "Returned to the client (the client signs below)",
    Disposition.SENT_AT_DISCHARGE: "Sent with the client (sealed, with the transfer papers; "
    "the client signs below)",
    Disposition.RETURNED_TO_FAMILY: "Returned to family",
    Disposition.DESTROYED: "Destroyed, with a witness",
    Disposition.LAW_ENFORCEMENT: "Handed to law enforcement",
}
# The client signs for these.
SIGNED = (Disposition.RETURNED_TO_CLIENT, Disposition.SENT_AT_DISCHARGE)


def field_name(item) -> str:
    return f"property-{item.public_id}"


def item_words(item) -> str:
    where = f"{item.location} · bag {item.bag_id}" if item.bag_id else item.location
    held = item.get_disposition_display().lower() + (f", {where}" if where else "")
    return f"{item.quantity} × {item.description} ({held})"


def _staff(admission):
    return User.objects.filter(facilities=admission.facility, is_active=True).order_by("full_name")


def _fields(admission) -> dict:
    items = list(held_items(admission))
    if not items:
        return {}
    choices = [("", "Still held: choose…"), *[(k, LABELS[k]) for k in AT_DISCHARGE]]
    fields = {}
    for item in items:
        fields[field_name(item)] = forms.ChoiceField(
            label=f"Property: {item_words(item)}",
            choices=choices,
            required=False,
            error_messages={"invalid_choice": f"{item.description}: choose from the list."},
        )
    fields[SIGNATURE] = forms.CharField(
        label="Client's signature for property returned or sent", max_length=120, required=False,
        help_text="The client types their full name.",
    )  # fmt: skip
    fields[WITNESS] = StaffChoiceField(
        label="Witness of destruction", queryset=_staff(admission), required=False,
        error_messages={"invalid_choice": "Witness of destruction: choose a staff member."},
    )  # fmt: skip
    fields[OVERRIDE] = forms.CharField(
        label="Supervisor override: reason to leave property unsettled", max_length=300,
        required=False,
        help_text="Supervisors only: e.g. left AMA, family collects the stored bag on Friday.",
    )  # fmt: skip
    return fields


def _prepare(request, admission, cleaned_data) -> dict:
    return {
        "dispositions": {
            name.removeprefix("property-"): value
            for name, value in cleaned_data.items()
            if name.startswith("property-") and value
        },
        "signature": cleaned_data.get(SIGNATURE, "") or "",
        "witness": cleaned_data.get(WITNESS),
        "override": cleaned_data.get(OVERRIDE, "") or "",
    }


def _run(*, actor, admission, at, data) -> None:
    items = list(held_items(admission).select_for_update(of=("self",)))
    if not items:
        return
    chosen = data.get("dispositions", {})
    signature = (data.get("signature") or "").strip()
    override = (data.get("override") or "").strip()
    witness = data.get("witness")
    errors: dict[str, str] = {}
    unsettled = [i for i in items if not chosen.get(str(i.public_id))]
    if unsettled and not override:
        for item in unsettled:
            errors[field_name(item)] = (
                f"Property: {item_words(item)} is still held. Return it to the client, dispose of "
                "it, or a supervisor overrides with a reason."
            )
    elif unsettled and not policy.allows(actor, "property.override", admission):
        errors[OVERRIDE] = (
            "Supervisor override: only a supervisor can discharge with property unsettled."
        )
    if any(chosen.get(str(i.public_id)) in SIGNED for i in items) and not signature:
        errors[SIGNATURE] = (
            "Client's signature: the client signs for the property returned or sent with them."
        )
    if errors:
        raise ValidationError(errors)
    for item in items:
        value = chosen.get(str(item.public_id))
        if not value:
            item_override(actor=actor, item=item, reason=override, at=at)
            continue
        try:
            item_move(
                actor=actor, item=item, disposition=value, witness=witness, at=at,
                client_signature=signature if value in SIGNED else "", allowed=AT_DISCHARGE,
            )  # fmt: skip
        except ValidationError as exc:
            keys = {"disposition": field_name(item), "witness": WITNESS,
                    "client_signature": SIGNATURE, "at": "discharged_at"}  # fmt: skip
            for key, messages in exc.message_dict.items():
                errors[keys.get(key, field_name(item))] = " ".join(messages)
    if errors:
        raise ValidationError(errors)


register_discharge_step(DischargeStep(key="screening", run=_run, fields=_fields,
                                      prepare=_prepare, order=20))  # fmt: skip
