"""HTTP input for orders, dose documentation and controlled stock; every error names its
field."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from clients.forms import local_datetime_field
from clients.models import Admission
from facility.forms import HavenForm
from facility.models import User
from facility.validators import PlausibleDateValidator
from medications import holds as hold_rules
from medications import triggers
from medications.holds import MAX_HOLDS
from medications.models import (
    Comparator,
    Effect,
    Frequency,
    HoldVital,
    Medication,
    OrderSource,
    Outcome,
    Priority,
    Route,
)
from medications.services import prescribers_of

# An order runs from around now: not from last decade, not from next year.
ORDER_DATES = {"past": timedelta(days=31), "future": timedelta(days=366)}


class PrescriberField(forms.ModelChoiceField):
    """A user by public id; an id that is not a UUID reads as any other wrong choice."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError as exc:
            raise ValidationError(self.error_messages["invalid_choice"], "invalid_choice") from exc


class OrderForm(HavenForm):
    medication = forms.ModelChoiceField(
        queryset=Medication.objects.none(),
        error_messages={
            "required": "Medication: choose one from the catalog.",
            "invalid_choice": "Medication: choose one from the catalog.",
        },
    )
    dose = forms.CharField(max_length=60, error_messages={"required": "Dose: required."})
    dose_units = forms.DecimalField(
        label="Units per dose",
        min_value=0.01,
        max_value=100,
        decimal_places=2,
        error_messages={
            "required": "Units per dose: required.",
            "min_value": "Units per dose: must be more than 0.",
            "max_value": "Units per dose: at most 100.",
            "invalid": "Units per dose: enter a number.",
        },
    )
    route = forms.ChoiceField(
        choices=[("", "Choose…"), *Route.choices],
        required=False,
    )
    frequency = forms.ChoiceField(
        choices=[("", "Choose…"), *Frequency.choices],
        error_messages={"required": "Frequency: choose one."},
    )
    priority = forms.ChoiceField(
        choices=Priority.choices,
        initial=Priority.ROUTINE,
        required=False,
        help_text="STAT and NOW are one-time orders only: choose the frequency “Once”.",
        error_messages={"invalid_choice": "Priority: choose routine, STAT or NOW."},
    )
    times = forms.CharField(
        required=False,
        max_length=120,
        help_text="Required for “At specific times”; otherwise overrides the default times, "
        "e.g. 08:00,20:00",
    )
    start_at = local_datetime_field(
        "Start", validators=[PlausibleDateValidator("Start", **ORDER_DATES)]
    )
    stop_at = local_datetime_field(
        "Stop",
        required=False,
        validators=[
            PlausibleDateValidator("Stop", past=timedelta(days=31), future=timedelta(days=731))
        ],
    )
    indication = forms.CharField(max_length=200, required=False)
    time_critical = forms.BooleanField(required=False)
    hold_parameters = forms.CharField(max_length=300, required=False)
    source = forms.ChoiceField(
        label="How the order arrived",
        choices=[c for c in OrderSource.choices if c[0] != OrderSource.PRESCRIBER],
        initial=OrderSource.WRITTEN,
        required=False,
        error_messages={"invalid_choice": "How the order arrived: choose one."},
    )
    prescriber = PrescriberField(
        label="Prescriber (verbal and telephone orders)",
        queryset=User.objects.none(),
        to_field_name="public_id",
        required=False,
        help_text="The prescriber who gave the order; they co-sign it in Haven.",
        error_messages={"invalid_choice": "Prescriber: choose one of this facility's prescribers."},
    )
    read_back = forms.BooleanField(
        label="I read the whole order back to the prescriber, who confirmed it", required=False
    )
    prescriber_name = forms.CharField(
        max_length=120, required=False, help_text="Written orders: as signed on the order."
    )
    prescriber_credentials = forms.CharField(max_length=40, required=False)
    prn_min_interval_minutes = forms.IntegerField(
        label="PRN minimum interval (minutes)", required=False, min_value=1, max_value=10080
    )
    prn_max_per_24h = forms.IntegerField(
        label="PRN maximum doses per 24 hours", required=False, min_value=1, max_value=48
    )
    allergy_override_reason = forms.CharField(max_length=300, required=False)
    # Issue 11: a PRN given on a withdrawal score, and structured hold parameters (the rows are
    # added in __init__: hold_vital_N, hold_comparator_N, hold_value_N).
    prn_trigger_scale = forms.ChoiceField(
        label="PRN score trigger",
        choices=[("", "No score trigger"), *triggers.SCALES.items()],
        required=False,
        help_text="PRN only: the dose is indicated when the latest score reaches the minimum.",
        error_messages={"invalid_choice": "Score trigger: choose CIWA-Ar or COWS."},
    )
    prn_trigger_min_score = forms.IntegerField(
        label="Minimum score",
        required=False,
        min_value=0,
        max_value=max(triggers.SCALE_MAX.values()),
        error_messages={
            "invalid": "Minimum score: a whole number.",
            "min_value": "Minimum score: 0 or more.",
            "max_value": "Minimum score: CIWA-Ar runs to 67, COWS to 48.",
        },
    )

    def __init__(self, *args, facility, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hold_parameters"].label = "Hold parameters as written"
        self.fields["hold_parameters"].help_text = "The prescriber's words, kept with the order."
        for n in range(1, MAX_HOLDS + 1):
            self.fields.update(hold_row_fields(n))
        self.fields["medication"].queryset = Medication.objects.filter(
            facility=facility, active=True
        )
        if "prescriber" in self.fields:
            self.fields["prescriber"].queryset = User.objects.filter(
                pk__in=[u.pk for u in prescribers_of(facility)]
            )

    def clean(self):
        data = super().clean()
        # Left out (an older page or client): a routine, written order.
        for name, default in (("priority", Priority.ROUTINE), ("source", OrderSource.WRITTEN)):
            if name in self.fields and data.get(name) == "":
                data[name] = default
        if data.get("priority", Priority.ROUTINE) != Priority.ROUTINE and data.get(
            "frequency"
        ) not in (None, Frequency.ONCE):
            self.add_error("priority", "Priority: STAT and NOW orders are one-time orders; "
                           "choose the frequency “Once”.")  # fmt: skip
        source = data.get("source")
        if source in (OrderSource.VERBAL, OrderSource.TELEPHONE):
            if not data.get("prescriber") and "prescriber" not in self.errors:
                self.add_error("prescriber", "Prescriber: choose who gave the order.")
            if not data.get("read_back"):
                self.add_error("read_back", "Read-back: read the whole order back to the "
                               "prescriber and tick it.")  # fmt: skip
        elif source == OrderSource.WRITTEN:
            if not data.get("prescriber_name", "x").strip():
                self.add_error("prescriber_name", "Prescriber: required.")
            if not data.get("prescriber_credentials", "x").strip():
                self.add_error("prescriber_credentials", "Prescriber credentials: required.")
        self._clean_trigger(data)
        data["holds"] = self._clean_holds(data)
        return data

    def _clean_trigger(self, data) -> None:
        scale, score = data.get("prn_trigger_scale") or "", data.get("prn_trigger_min_score")
        if "prn_trigger_scale" in self.errors or "prn_trigger_min_score" in self.errors:
            return
        if not scale and score is None:
            return
        if data.get("frequency") != Frequency.PRN:
            self.add_error(
                "prn_trigger_scale",
                "Score trigger: only a PRN order is given on a score; choose the frequency "
                "“PRN” or leave the trigger empty.",
            )
        elif not scale:
            self.add_error("prn_trigger_scale", "Score trigger: choose CIWA-Ar or COWS.")
        elif score is None:
            top = triggers.SCALE_MAX[scale]
            self.add_error("prn_trigger_min_score", f"Minimum score: give the score that "
                           f"triggers the dose (0–{top}).")  # fmt: skip
        elif score > triggers.SCALE_MAX[scale]:
            self.add_error("prn_trigger_min_score", f"Minimum score: {triggers.SCALES[scale]} "
                           f"runs from 0 to {triggers.SCALE_MAX[scale]}.")  # fmt: skip

    def _clean_holds(self, data) -> list:
        """The filled hold rows as (vital, comparator, value); a row filled in part, or a
        value outside the vital's plausible range, is refused on its own field."""
        rows = []
        for n in range(1, MAX_HOLDS + 1):
            names = (f"hold_vital_{n}", f"hold_comparator_{n}", f"hold_value_{n}")
            if any(name in self.errors for name in names):
                continue
            vital, comparator, value = (data.pop(name, None) for name in names)
            if not vital and not comparator and value is None:
                continue
            if not vital:
                self.add_error(names[0], f"Hold {n}: choose the vital.")
            elif not comparator:
                self.add_error(names[1], f"Hold {n}: choose <, ≤, > or ≥.")
            elif value is None:
                self.add_error(names[2], f"Hold {n}: give the value.")
            elif message := hold_rules.out_of_range(vital, value):
                self.add_error(names[2], f"Hold {n}: {message}")
            else:
                rows.append((vital, comparator, value))
        return rows

    def main_fields(self):
        """The visible fields but the hold rows, which the template lays out as rows."""
        return [f for f in self.visible_fields() if not f.name.startswith("hold_") or
                f.name == "hold_parameters"]  # fmt: skip

    def hold_rows(self):
        return [
            (n, self[f"hold_vital_{n}"], self[f"hold_comparator_{n}"], self[f"hold_value_{n}"])
            for n in range(1, MAX_HOLDS + 1)
        ]


def hold_row_fields(n: int) -> dict:
    """One row of a structured hold: vital, comparator, value (issue 11 item 7)."""
    value_message = f"Hold {n} value: a number with at most one decimal."
    return {
        f"hold_vital_{n}": forms.ChoiceField(
            label=f"Hold {n}: vital",
            choices=[("", "—"), *HoldVital.choices],
            required=False,
            error_messages={"invalid_choice": f"Hold {n}: choose the vital."},
        ),
        f"hold_comparator_{n}": forms.ChoiceField(
            label=f"Hold {n}: if",
            choices=[("", "—"), *Comparator.choices],
            required=False,
            error_messages={"invalid_choice": f"Hold {n}: choose <, ≤, > or ≥."},
        ),
        f"hold_value_{n}": forms.DecimalField(
            label=f"Hold {n}: value",
            required=False,
            max_digits=4,
            decimal_places=1,
            error_messages={
                "invalid": value_message,
                "max_digits": value_message,
                "max_whole_digits": value_message,
                "max_decimal_places": f"Hold {n} value: at most 1 decimal places.",
            },
        ),
    }


class PrescriberOrderForm(OrderForm):
    """A prescriber's own order: who signs it is the signed-in prescriber."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("source", "prescriber", "read_back", "prescriber_name",
                     "prescriber_credentials"):  # fmt: skip
            del self.fields[name]


class VerifyForm(HavenForm):
    start_with_next_time = forms.BooleanField(
        label="Start with the next time: do not create today's passed dose", required=False
    )


class ReleaseForm(HavenForm):
    """Give a STAT or PRN order before its second check (no second nurse on shift)."""

    no_second_nurse = forms.BooleanField(
        label="No second nurse is on shift to check this order",
        error_messages={"required": "Confirm that no second nurse is on shift to check it."},
    )
    # Stored after "No second nurse on shift: " in a 300-character field.
    reason = forms.CharField(
        label="Why it cannot wait",
        max_length=270,
        error_messages={"required": "Reason: say why it cannot wait for a second nurse."},
    )


class DiscontinueForm(HavenForm):
    """Stop an order: its undocumented doses are cancelled."""

    reason = forms.CharField(
        label="Reason to discontinue",
        max_length=300,
        error_messages={"required": "Reason: say why the order is discontinued."},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "dc_%s")  # not the release form's "id_reason" on one page
        super().__init__(*args, **kwargs)


class DocumentForm(HavenForm):
    """One dose's outcome; a refusal says whether the prescriber was told, a hold which
    parameter was met, and a dose given too soon names a second nurse who co-signs."""

    outcome = forms.ChoiceField(
        choices=Outcome.choices,
        error_messages={
            "required": "Outcome: choose one.",
            "invalid_choice": "Outcome: choose one.",
        },
    )
    given_at = local_datetime_field("Given at", required=False)
    reason = forms.CharField(max_length=300, required=False)
    self_administered = forms.BooleanField(required=False)
    prescriber_notified = forms.ChoiceField(
        label="Prescriber notified",
        choices=[("", "—"), ("yes", "Yes"), ("no", "No")],
        required=False,
        error_messages={"invalid_choice": "Prescriber notified: say yes or no."},
    )
    prescriber_notified_name = forms.CharField(label="Who was told", max_length=120, required=False)
    prescriber_notified_at = local_datetime_field("Notified at", required=False)
    prescriber_not_notified_reason = forms.CharField(
        label="Why not notified", max_length=300, required=False
    )
    hold_parameter = forms.CharField(label="Hold parameter met", max_length=300, required=False)
    second_nurse = forms.CharField(label="Second nurse (username)", required=False, max_length=150)
    second_password = forms.CharField(
        label="Second nurse's password", required=False, widget=forms.PasswordInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The vitals an order's structured holds are judged on (issue 11): hold_sbp, hold_hr …
        for key in hold_rules.VITALS:
            self.fields[f"hold_{key}"] = hold_vital_field(key)

    def hold_values(self) -> dict:
        """{vital: value or None} for the service; removed from cleaned_data."""
        return {key: self.cleaned_data.pop(f"hold_{key}", None) for key in hold_rules.VITALS}


def hold_vital_field(key: str) -> forms.DecimalField:
    """The value of one hold vital typed at the med pass (hold_sbp …), issue 11."""
    spec = hold_rules.VITALS[key]
    message = f"{spec.name}: a number with at most one decimal ({spec.range_text})."
    return forms.DecimalField(
        label=f"{spec.name} ({spec.unit})", required=False, max_digits=4, decimal_places=1,
        error_messages={
            "invalid": message, "max_digits": message, "max_whole_digits": message,
            "max_decimal_places": f"{spec.name}: at most 1 decimal places.",
        },
    )  # fmt: skip


class ReasonForm(HavenForm):
    reason = forms.CharField(max_length=300, error_messages={"required": "Reason: required."})


def score_field(label: str) -> forms.IntegerField:
    """A 0-10 pain or symptom score."""
    message = f"{label}: a whole number from 0 to 10."
    return forms.IntegerField(
        label=label, required=False, min_value=0, max_value=10,
        error_messages={"invalid": message, "min_value": message, "max_value": message},
    )  # fmt: skip


class PrnGiveForm(HavenForm):
    indication = forms.CharField(
        max_length=200, error_messages={"required": "Indication: say why the dose is needed."}
    )
    pre_assessment = forms.CharField(
        label="Pre-dose assessment",
        max_length=200,
        error_messages={"required": "Pre-dose assessment: record pain, anxiety or the score."},
    )
    # Written into the pre-dose assessment as "score N/10"; the follow-up then needs a score.
    pre_score = score_field("Pre-dose score (0-10)")
    # A dose given earlier and charted now; more than 60 minutes ago, a late entry with a reason.
    given_at = local_datetime_field("Given at, if not now", required=False)
    reason = forms.CharField(label="Late entry: why charted now", max_length=300, required=False)
    override_reason = forms.CharField(max_length=300, required=False)
    second_nurse = forms.CharField(label="Second nurse (username)", required=False, max_length=150)
    second_password = forms.CharField(
        label="Second nurse's password", required=False, widget=forms.PasswordInput
    )
    # A score-triggered PRN given when the score does not indicate it (issue 11).
    trigger_reason = forms.CharField(
        label="Not indicated by the score: why give it", max_length=200, required=False
    )

    def __init__(self, *args, hold_vitals=(), **kwargs):
        """`hold_vitals`: the vitals the order's structured holds are judged on (issue 11); each
        gets a field (hold_sbp …), and "why give it anyway" for a met rule."""
        super().__init__(*args, **kwargs)
        self.hold_vitals = [v for v in hold_rules.VITALS if v in set(hold_vitals)]
        for key in self.hold_vitals:
            self.fields[f"hold_{key}"] = hold_vital_field(key)
        if self.hold_vitals:
            self.fields["hold_reason"] = forms.CharField(
                label="Hold parameter met: why give it anyway", max_length=200, required=False
            )

    def hold_values(self) -> dict:
        """{vital: value or None} for the service."""
        return {key: self.cleaned_data.get(f"hold_{key}") for key in self.hold_vitals}


class FollowUpForm(HavenForm):
    result = forms.ChoiceField(
        label="Effect",
        choices=[("", "Choose…"), *Effect.choices],  # nothing preselected: the nurse chooses
        error_messages={"required": "Effect: choose one.", "invalid_choice": "Effect: choose one."},
    )
    post_assessment = forms.CharField(
        label="What was observed",
        max_length=200,
        error_messages={"required": "What was observed: describe the client after the dose."},
    )
    score = score_field("Score after the dose (0-10)")
    early_reason = forms.CharField(
        label="Why assess before the reassessment time", max_length=300, required=False
    )
    note = forms.CharField(max_length=500, required=False)


def quantity_field(label: str, *, minimum: str = "0.01") -> forms.DecimalField:
    """Units of a controlled stock: stored with 2 decimals, so a third is refused, not rounded."""
    return forms.DecimalField(
        label=label,
        min_value=Decimal(minimum),
        max_value=Decimal("10000"),
        # No max_digits: the maximum already bounds the digits, and a second validator saying
        # "at most 10,000" again showed the message twice.
        decimal_places=2,
        error_messages={
            "required": f"{label}: enter a number.",
            "invalid": f"{label}: enter a number.",
            "min_value": f"{label}: at least {minimum}.",
            "max_value": f"{label}: at most 10,000.",
            "max_decimal_places": f"{label}: at most 2 decimal places (stock is kept to 0.01).",
        },
    )


class CosignerForm(HavenForm):
    """The second person at the cabinet proves it with their own password."""

    second_nurse = forms.CharField(label="Second signer", max_length=150, required=False)
    second_password = forms.CharField(
        label="Their password", required=False, widget=forms.PasswordInput
    )


class ReceiveForm(CosignerForm):
    """A receipt: two signatures (the second person's password) and the source document."""

    second_nurse = forms.CharField(
        label="Second signer",
        max_length=150,
        error_messages={"required": "Witness: a second person must sign the receipt with you."},
    )
    quantity = quantity_field("Quantity")
    source_document = forms.CharField(
        label="Source document",
        max_length=60,
        help_text="Invoice, DEA 222 or packing slip number",
        error_messages={
            "required": "Source document: enter the invoice, DEA 222 or packing slip number."
        },
    )
    note = forms.CharField(label="Note", max_length=300, required=False)


class StockNewForm(ReceiveForm):
    """Start counting a controlled medication, for the house or one admitted client."""

    medication = forms.ModelChoiceField(
        queryset=Medication.objects.none(),
        error_messages={
            "required": "Medication: choose a controlled medication.",
            "invalid_choice": "Medication: choose a controlled medication of this facility.",
        },
    )
    admission = forms.ModelChoiceField(
        queryset=Admission.objects.none(),
        required=False,
        to_field_name="public_id",
        error_messages={"invalid_choice": "For: choose a client admitted here, or house stock."},
    )

    def __init__(self, *args, facility, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["medication"].queryset = Medication.objects.filter(
            facility=facility, active=True
        ).exclude(controlled_schedule="")
        self.fields["admission"].queryset = Admission.objects.current().filter(facility=facility)


class WasteForm(CosignerForm):
    quantity = quantity_field("Amount")
    reason = forms.CharField(
        label="Reason",
        max_length=300,
        error_messages={"required": "Reason: say what was wasted and why."},
    )


class CountForm(CosignerForm):
    counted_quantity = quantity_field("Counted", minimum="0")


class SignOffForm(HavenForm):
    # The explanation is also the note of the adjustment ("Discrepancy: …", 300 characters).
    explanation = forms.CharField(
        label="Explanation",
        max_length=280,
        error_messages={"required": "Explanation: say what happened."},
    )
    # The DEA Form 106 is filed later (DEA allows 45 days): its date is recorded with Dea106Form.
    significant_loss = forms.BooleanField(label="Significant loss", required=False)


class Dea106Form(HavenForm):
    dea_106_filed_on = forms.DateField(
        label="DEA Form 106 filed on",
        error_messages={
            "required": "DEA Form 106 filed on: enter the date.",
            "invalid": "DEA Form 106 filed on: enter a date (YYYY-MM-DD).",
        },
    )
