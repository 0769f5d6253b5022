"""HTTP input for admissions, bed moves, discharges and leaves. Times are entered in the
facility's local time (the active time zone) and every error names its field."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from clients.models import (
    Admission,
    AllergenKind,
    AllergySeverity,
    AllergyStatus,
    Client,
    DischargeType,
    LeaveKind,
    LevelOfCare,
)
from clients.services import leave_max
from facility.forms import HavenForm, HavenModelForm, harden_field
from facility.models import Bed, Facility
from facility.registry import registry
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
            "emergency_contact_name",
            "emergency_contact_relationship",
            "emergency_contact_phone",
            "photo",
        ]
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}),
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


def allergy_fields(suffix: str = "", *, required: bool = True) -> dict[str, forms.Field]:
    """One allergy's fields (allergen, kind, reaction, severity), named with `suffix`."""
    return {
        f"allergen{suffix}": forms.CharField(
            label="Allergen",
            max_length=120,
            required=required,
            help_text="A drug, class or brand (penicillin, sulfa, Bactrim), a food or other.",
            error_messages={"required": "Allergen: name the drug, food or substance."},
        ),
        f"kind{suffix}": forms.ChoiceField(
            label="Type",
            choices=AllergenKind.choices,
            initial=AllergenKind.DRUG,
            required=required,
            error_messages={"required": "Type: choose drug, food or environmental."},
        ),
        f"reaction{suffix}": forms.CharField(
            label="Reaction", max_length=200, required=False, help_text="hives, anaphylaxis…"
        ),
        f"severity{suffix}": forms.ChoiceField(
            label="Severity",
            choices=AllergySeverity.choices,
            initial=AllergySeverity.UNKNOWN,
            required=required,
        ),
    }


def _add_fields(form: forms.Form, fields: dict[str, forms.Field]) -> None:
    """Fields built per form get the project's input checks like the declared ones."""
    for name, field in fields.items():
        harden_field(field, name)
        form.fields[name] = field


class AllergyForm(HavenForm):
    """One allergy added on the chart's allergy page."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _add_fields(self, allergy_fields())


class AllergyRemoveForm(HavenForm):
    reason = forms.CharField(
        max_length=300, error_messages={"required": "Reason: say why this entry was wrong."}
    )


ADMISSION_ALLERGY_ROWS = 3


class AdmissionAllergiesForm(HavenForm):
    """The allergy answer at admission: "no known drug allergies", or the drug allergies listed
    (up to three here; more on the chart's allergy page). Food and environmental allergies may
    be listed with either answer. A blank is refused: "not yet recorded" is not an answer."""

    allergy_status = forms.ChoiceField(
        label="Drug allergies",
        choices=[
            ("", "Choose…"),
            (AllergyStatus.NKDA, "No known drug allergies (NKDA)"),
            (AllergyStatus.LISTED, "Has drug allergies: listed below"),
        ],
        error_messages={
            "required": "Drug allergies: choose NKDA, or list the drug allergies below.",
            "invalid_choice": "Drug allergies: choose NKDA, or list the drug allergies below.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for n in range(1, ADMISSION_ALLERGY_ROWS + 1):
            fields = allergy_fields(f"_{n}", required=False)
            for field in fields.values():
                field.label = f"{field.label} {n}"
            fields[f"kind_{n}"].choices = [("", "—"), *AllergenKind.choices]
            fields[f"severity_{n}"].choices = [("", "—"), *AllergySeverity.choices]
            _add_fields(self, fields)

    def clean(self):
        data = super().clean()
        rows = []
        for n in range(1, ADMISSION_ALLERGY_ROWS + 1):
            allergen = data.get(f"allergen_{n}", "").strip()
            if not allergen:
                if data.get(f"reaction_{n}", "").strip():
                    self.add_error(f"allergen_{n}", "Allergen: name what caused this reaction.")
                continue
            rows.append(
                {
                    "allergen": allergen,
                    "kind": data.get(f"kind_{n}") or AllergenKind.DRUG,
                    "reaction": data.get(f"reaction_{n}", "").strip(),
                    "severity": data.get(f"severity_{n}") or AllergySeverity.UNKNOWN,
                }
            )
        drug = [r for r in rows if r["kind"] == AllergenKind.DRUG]
        status = data.get("allergy_status")
        if status == AllergyStatus.LISTED and not drug:
            self.add_error(
                "allergen_1", "Allergen: list at least one drug allergy, or choose NKDA."
            )
        elif status == AllergyStatus.NKDA and drug:
            self.add_error(
                "allergy_status",
                f"Drug allergies: {drug[0]['allergen']} is listed as a drug allergy; "
                "NKDA cannot be chosen with it.",
            )
        data["allergies"] = rows
        return data


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

    def __init__(self, *args, admission=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("discharged_at", timezone.localtime().replace(second=0))
        # What other apps ask at discharge (e.g. the disposition of the client's own controlled
        # stock), by their registered discharge steps.
        for step in registry.discharge_steps if admission is not None else []:
            for name, field in step.fields(admission).items():
                harden_field(field, name)
                self.fields[name] = field

    def step_answers(self, request, admission) -> dict:
        """Each step's answers for `admission_discharge(steps=...)`; may raise ValidationError."""
        return {
            step.key: step.prepare(request, admission, self.cleaned_data)
            for step in registry.discharge_steps
        }


class LeaveForm(HavenForm):
    kind = forms.ChoiceField(
        choices=[("", "Choose…"), *LeaveKind.choices],
        error_messages={
            "required": "Kind of leave: choose one.",
            "invalid_choice": "Kind of leave: choose one of the list (pass, appointment, …).",
        },
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
    backdate_reason = forms.CharField(
        label="Reason for the earlier time",
        max_length=200,
        required=False,
        help_text="Needed when the client left more than 5 minutes ago.",
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


class OutingRestrictionForm(HavenForm):
    """Set "no outings" on a client (issue 14 item 3): the reason is required."""

    reason = forms.CharField(
        label="Reason",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the client may not go on passes or outings (shown on the chart).",
        error_messages={"required": "Reason: say why the client may not go on outings."},
    )


class OutingRestrictionLiftForm(HavenForm):
    lift_reason = forms.CharField(
        label="Reason for lifting",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Reason for lifting: say why it is lifted."},
    )
