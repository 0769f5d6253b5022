"""HTTP input for orders and dose documentation; every error names its field."""

from django import forms

from clients.forms import local_datetime_field
from medications.models import Effect, Frequency, Medication, Outcome, Route


class OrderForm(forms.Form):
    medication = forms.ModelChoiceField(
        queryset=Medication.objects.none(),
        error_messages={"required": "Medication: choose one from the catalog."},
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
        help_text="Required for “At specific times”; otherwise overrides the default times, "
        "e.g. 08:00,20:00",
    )
    start_at = local_datetime_field("Start")
    stop_at = local_datetime_field("Stop", required=False)
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


class DocumentForm(forms.Form):
    outcome = forms.ChoiceField(choices=Outcome.choices)
    given_at = local_datetime_field("Given at", required=False)
    reason = forms.CharField(max_length=300, required=False)
    self_administered = forms.BooleanField(required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, error_messages={"required": "Reason: required."})


class PrnGiveForm(forms.Form):
    indication = forms.CharField(
        max_length=200, error_messages={"required": "Indication: say why the dose is needed."}
    )
    pre_assessment = forms.CharField(
        label="Pre-dose assessment",
        max_length=200,
        error_messages={"required": "Pre-dose assessment: record pain, anxiety or the score."},
    )
    override_reason = forms.CharField(max_length=300, required=False)
    second_nurse = forms.CharField(label="Second nurse (username)", required=False)
    second_password = forms.CharField(
        label="Second nurse's password", required=False, widget=forms.PasswordInput
    )


class FollowUpForm(forms.Form):
    result = forms.ChoiceField(
        choices=Effect.choices, error_messages={"required": "Result: choose one."}
    )
    post_assessment = forms.CharField(max_length=200, required=False)
    note = forms.CharField(max_length=500, required=False)
