"""Forms of break-the-glass (facility/glass.py): open an emergency access, sign one off."""

from django import forms

from facility import glass
from facility.forms import HavenForm
from facility.models import Facility

MRN_MAX = 20


class FacilityChoiceField(forms.ModelChoiceField):
    """A facility by public id; anything else (not even a UUID) is "not on the list"."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError as exc:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from exc


class GlassOpenForm(HavenForm):
    mrn = forms.CharField(
        label="Client's MRN",
        max_length=MRN_MAX,
        help_text=(
            "As on the client's wristband or face sheet (case, dashes and spaces do not matter)."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    facility = FacilityChoiceField(
        label="Client's facility",
        queryset=Facility.objects.order_by("name"),
        to_field_name="public_id",
        required=False,
        empty_label="Any (the MRN is enough)",
        help_text="Needed only when two facilities use the same MRN.",
        error_messages={"invalid_choice": "Client's facility: choose one from the list."},
    )
    reason = forms.CharField(
        label="Reason",
        min_length=glass.REASON_MIN,
        max_length=glass.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "Why you need this chart now. The supervisors of the client's facility read it at once."
        ),
        error_messages={
            "required": "Reason: say why you need this chart now.",
            "min_length": glass.REASON_SHORT,
        },
    )

    def clean_mrn(self) -> str:
        value = self.cleaned_data["mrn"].strip()
        if not value:
            raise forms.ValidationError("Client's MRN: type it.")
        return value


class GlassReviewForm(HavenForm):
    note = forms.CharField(
        label="Review note",
        max_length=glass.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What you checked: the reason, the pages opened.",
        error_messages={"required": "Review note: say what you checked."},
    )
