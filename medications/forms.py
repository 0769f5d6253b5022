"""HTTP input for orders, dose documentation and controlled stock; every error names its
field."""

from datetime import timedelta
from decimal import Decimal

from django import forms

from clients.forms import local_datetime_field
from clients.models import Admission
from facility.forms import HavenForm
from facility.validators import PlausibleDateValidator
from medications.models import Effect, Frequency, Medication, Outcome, Route

# An order runs from around now: not from last decade, not from next year.
ORDER_DATES = {"past": timedelta(days=31), "future": timedelta(days=366)}


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
    prescriber_name = forms.CharField(
        max_length=120, error_messages={"required": "Prescriber: required."}
    )
    prescriber_credentials = forms.CharField(
        max_length=40, error_messages={"required": "Prescriber credentials: required."}
    )
    prn_min_interval_minutes = forms.IntegerField(
        label="PRN minimum interval (minutes)", required=False, min_value=1, max_value=10080
    )
    prn_max_per_24h = forms.IntegerField(
        label="PRN maximum doses per 24 hours", required=False, min_value=1, max_value=48
    )
    allergy_override_reason = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, facility, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["medication"].queryset = Medication.objects.filter(
            facility=facility, active=True
        )


class DocumentForm(HavenForm):
    outcome = forms.ChoiceField(choices=Outcome.choices)
    given_at = local_datetime_field("Given at", required=False)
    reason = forms.CharField(max_length=300, required=False)
    self_administered = forms.BooleanField(required=False)


class ReasonForm(HavenForm):
    reason = forms.CharField(max_length=300, error_messages={"required": "Reason: required."})


class PrnGiveForm(HavenForm):
    indication = forms.CharField(
        max_length=200, error_messages={"required": "Indication: say why the dose is needed."}
    )
    pre_assessment = forms.CharField(
        label="Pre-dose assessment",
        max_length=200,
        error_messages={"required": "Pre-dose assessment: record pain, anxiety or the score."},
    )
    override_reason = forms.CharField(max_length=300, required=False)
    second_nurse = forms.CharField(label="Second nurse (username)", required=False, max_length=150)
    second_password = forms.CharField(
        label="Second nurse's password", required=False, widget=forms.PasswordInput
    )


class FollowUpForm(HavenForm):
    result = forms.ChoiceField(
        choices=Effect.choices,
        error_messages={"required": "Result: choose one.", "invalid_choice": "Result: choose one."},
    )
    post_assessment = forms.CharField(max_length=200, required=False)
    note = forms.CharField(max_length=500, required=False)


def quantity_field(label: str, *, minimum: str = "0.01") -> forms.DecimalField:
    """Units of a controlled stock: stored with 2 decimals, so a third is refused, not rounded."""
    return forms.DecimalField(
        label=label,
        min_value=Decimal(minimum),
        max_value=Decimal("10000"),
        max_digits=7,
        decimal_places=2,
        error_messages={
            "required": f"{label}: enter a number.",
            "invalid": f"{label}: enter a number.",
            "min_value": f"{label}: at least {minimum}.",
            "max_value": f"{label}: at most 10,000.",
            "max_digits": f"{label}: at most 10,000.",
            "max_whole_digits": f"{label}: at most 10,000.",
            "max_decimal_places": f"{label}: at most 2 decimal places (stock is kept to 0.01).",
        },
    )


class CosignerForm(HavenForm):
    """The second person at the cabinet proves it with their own password."""

    second_nurse = forms.CharField(label="Second signer", max_length=150, required=False)
    second_password = forms.CharField(
        label="Their password", required=False, widget=forms.PasswordInput
    )


class ReceiveForm(HavenForm):
    quantity = quantity_field("Quantity")
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
