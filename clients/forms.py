"""HTTP input for admissions, bed moves, discharges and leaves. Times are entered in the
facility's local time (the active time zone) and every error names its field."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from clients.models import Admission, Client, DischargeType, LeaveKind, LevelOfCare
from clients.services import leave_max
from facility.forms import HavenForm, HavenModelForm
from facility.models import Bed, Facility
from facility.validators import PlausibleDateValidator


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def local_datetime_field(label: str, **kwargs) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=LocalDateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        error_messages={
            "required": f"{label}: enter a date and time.",
            "invalid": f"{label}: enter a valid date and time.",
        },
        **kwargs,
    )


class BedChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Bed) -> str:
        return f"{obj.unit.name} · {obj.label}"


def free_beds(facility: Facility):
    """Active beds of the facility with nobody admitted to them."""
    occupied = Admission.objects.current().filter(facility=facility).values("bed_id")
    return (
        Bed.objects.filter(unit__facility=facility, active=True)
        .exclude(pk__in=occupied)
        .select_related("unit")
        .order_by("unit__name", "label")
    )


class PlacementForm(HavenForm):
    """Where and when a client is admitted."""

    bed = BedChoiceField(
        queryset=Bed.objects.none(),
        error_messages={
            "required": "Bed: choose a free bed.",
            "invalid_choice": "Bed: that bed is not free in this facility.",
        },
    )
    level_of_care = forms.ChoiceField(
        choices=[("", "Choose…"), *LevelOfCare.choices],
        error_messages={"required": "Level of care: choose one."},
    )
    admitted_at = local_datetime_field("Admitted at")

    def __init__(self, *args, facility: Facility, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bed"].queryset = free_beds(facility)
        if not self.is_bound:
            self.initial.setdefault("admitted_at", timezone.localtime().replace(second=0))


class NewClientForm(HavenModelForm):
    """A person's identity at first admission."""

    date_of_birth = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[
            PlausibleDateValidator(
                "Date of birth",
                future=timedelta(0),
                too_early="Date of birth: must be 1900 or later.",
                too_late="Date of birth: cannot be in the future.",
            )
        ],
        error_messages={
            "required": "Date of birth: required.",
            "invalid": "Date of birth: enter a valid date.",
        },
    )
    allergies = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=Client._meta.get_field("allergies").help_text,
    )
    confirm_new_person = forms.BooleanField(
        required=False,
        label="I checked the possible matches: this is a different person",
    )

    class Meta:
        model = Client
        fields = [
            "legal_first_name",
            "legal_last_name",
            "preferred_name",
            "date_of_birth",
            "sex",
            "pronouns",
            "allergies",
            "emergency_contact_name",
            "emergency_contact_relationship",
            "emergency_contact_phone",
            "photo",
        ]
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}),
            "allergies": forms.Textarea(attrs={"rows": 2}),
        }
        error_messages = {
            "legal_first_name": {"required": "Legal first name: required."},
            "legal_last_name": {"required": "Legal last name: required."},
            "date_of_birth": {
                "required": "Date of birth: required.",
                "invalid": "Date of birth: enter a valid date.",
            },
            "sex": {"required": "Sex: choose one."},
        }


class MoveBedForm(HavenForm):
    bed = BedChoiceField(
        queryset=Bed.objects.none(),
        error_messages={
            "required": "Bed: choose a free bed.",
            "invalid_choice": "Bed: that bed is not free in this facility.",
        },
    )
    moved_at = local_datetime_field("Moved at")
    reason = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, facility: Facility, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bed"].queryset = free_beds(facility)
        if not self.is_bound:
            self.initial.setdefault("moved_at", timezone.localtime().replace(second=0))


class DischargeForm(HavenForm):
    discharged_at = local_datetime_field("Discharged at")
    discharge_type = forms.ChoiceField(
        choices=[("", "Choose…"), *DischargeType.choices],
        error_messages={"required": "Discharge type: choose how the stay ended."},
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("discharged_at", timezone.localtime().replace(second=0))


class LeaveForm(HavenForm):
    kind = forms.ChoiceField(
        choices=[("", "Choose…"), *LeaveKind.choices],
        error_messages={"required": "Kind of leave: choose one."},
    )
    destination = forms.CharField(max_length=200, required=False)
    left_at = local_datetime_field("Left at")
    expected_back_at = local_datetime_field(
        "Expected back",
        validators=[PlausibleDateValidator("Expected back", past=timedelta(days=1))],
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=1000
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("left_at", timezone.localtime().replace(second=0))

    def clean(self):
        data = super().clean()
        left, back = data.get("left_at"), data.get("expected_back_at")
        if left and back and back <= left:
            self.add_error("expected_back_at", "Expected back: must be after the time left.")
        elif left and back and back - left > leave_max():
            self.add_error(
                "expected_back_at",
                f"Expected back: a leave lasts at most {leave_max().days} days; "
                "discharge the client for a longer absence.",
            )
        return data


class ReturnForm(HavenForm):
    returned_at = local_datetime_field("Returned at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("returned_at", timezone.localtime().replace(second=0))
