"""Forms of specimens, the random list, custody and laboratory results (issue 13 items 1–4).
Point-of-care, breath alcohol and search forms live in screening/result_forms.py."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from clients.forms import local_datetime_field
from clients.models import Leave
from facility import policy
from facility.forms import HavenForm, harden_field
from facility.models import User
from screening.draw import DEFAULT_RANDOM_PERCENT
from screening.models import CustodyEvent, CustodyPurpose, SpecimenReason, SpecimenType
from screening.services.specimens import SIGNATURE_MAX, Collection, LabRow

YES_NO = [("yes", "Yes"), ("no", "No")]
# Why a collection is observed (specs/screening.md): offered as suggestions, any text allowed.
OBSERVED_REASONS = [
    "Recollection after a flagged temperature",
    "Signs of tampering",
    "Dilute or invalid history",
    "Program policy",
]
LAB_ROWS = 6


def _now_field(tz) -> str:
    now = timezone.localtime(timezone.now(), tz) if tz else timezone.localtime()
    return now.strftime("%Y-%m-%dT%H:%M")


def _choice(label: str, choices, *, required: bool = True, **kwargs) -> forms.ChoiceField:
    message = f"{label}: choose one."
    return forms.ChoiceField(
        label=label,
        choices=choices,
        required=required,
        widget=forms.RadioSelect,
        error_messages={"required": message, "invalid_choice": message},
        **kwargs,
    )


def _yes_no(label: str, message: str, yes="yes", choices=YES_NO) -> forms.TypedChoiceField:
    """A question answered by a tap, never pre-set."""
    return forms.TypedChoiceField(
        label=label,
        choices=choices,
        coerce=lambda v: v == yes,
        empty_value=None,
        widget=forms.RadioSelect,
        error_messages={"required": message, "invalid_choice": message},
    )


def _text(label: str, max_length: int, *, required: bool = False, **kwargs) -> forms.CharField:
    kwargs.setdefault("error_messages", {"required": f"{label}: required."})
    return forms.CharField(label=label, max_length=max_length, required=required, **kwargs)


def staff_choices(facility):
    """Active staff of the facility who collect specimens: who may observe a collection."""
    return User.objects.filter(
        facilities=facility, is_active=True, role__in=policy.roles_with("screening.collect")
    ).order_by("full_name")


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.signature


class LeaveChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Leave) -> str:
        back = timezone.localtime(obj.returned_at).strftime("%Y-%m-%d %H:%M")
        return f"{obj.get_kind_display()} · back {back}"


class EntryChoiceField(forms.ModelChoiceField):
    """A custody entry by its public id: a malformed id is the same field message as an unknown
    one (Django lets the UUID field's own "is not a valid UUID" through)."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None


# ---------------------------------------------------------------- starting a specimen


class SpecimenStartForm(HavenForm):
    """A specimen the floor starts (admission, return from pass) or a nurse or clinician orders
    (for cause, scheduled): `reasons` says which."""

    reason = _choice("Reason", [])
    reason_detail = _text("Why (for cause)", 300)
    leave = LeaveChoiceField(
        label="Return from",
        queryset=Leave.objects.none(),
        required=False,
        empty_label=None,
        error_messages={"invalid_choice": "Leave: choose the pass the client returned from."},
    )
    specimen_type = _choice("Specimen", SpecimenType.choices, initial=SpecimenType.URINE)

    def __init__(self, *args, admission, reasons, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [
            (r, label) for r, label in SpecimenReason.choices if r in reasons
        ]
        if len(reasons) == 1:
            self.fields["reason"].initial = reasons[0]
        leaves = admission.leaves.filter(returned_at__isnull=False).order_by("-returned_at")[:10]
        self.fields["leave"].queryset = Leave.objects.filter(pk__in=[lv.pk for lv in leaves])
        if SpecimenReason.RETURN_FROM_PASS not in reasons:
            del self.fields["leave"]
        if SpecimenReason.FOR_CAUSE not in reasons:
            del self.fields["reason_detail"]


class RandomDrawForm(HavenForm):
    percent = forms.IntegerField(
        label="Percent of the census",
        min_value=1,
        max_value=100,
        initial=DEFAULT_RANDOM_PERCENT,
        error_messages={
            "required": "Percent: a whole number from 1 to 100.",
            "invalid": "Percent: a whole number from 1 to 100.",
            "min_value": "Percent: a whole number from 1 to 100.",
            "max_value": "Percent: a whole number from 1 to 100.",
        },
    )


class ScanForm(HavenForm):
    """What a keyboard-wedge scanner types (the specimen ID, then Enter)."""

    specimen_id = forms.CharField(
        label="Scan a specimen",
        max_length=40,
        error_messages={"required": "Scan a specimen: scan the label or type its ID."},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


# ---------------------------------------------------------------- collection


class CollectForm(HavenForm):
    """Every field of the spec's collection: observed (observer, reason), temperature and when
    it was read, volume, split or single, the seal, and the client's signature or refusal to
    sign. The service judges the rules that need the specimen (recollections are observed)."""

    collected_at = local_datetime_field("Collected at")
    observed = _yes_no("Observed collection", "Observed: say whether the collection was observed.")
    observer = StaffChoiceField(
        label="Observer",
        queryset=User.objects.none(),
        required=False,
        error_messages={"invalid_choice": "Observer: choose a staff member from the list."},
    )
    observed_reason = _text(
        "Why observed", 200, widget=forms.TextInput(attrs={"list": "observed-reasons"})
    )
    temperature = forms.DecimalField(
        label="Temperature",
        required=False,
        max_digits=4,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
        error_messages={"invalid": "Temperature: enter a number."},
    )
    temperature_unit = _choice(
        "Temperature unit", [("F", "°F"), ("C", "°C")], required=False, initial="F"
    )
    temperature_read_at = local_datetime_field("Temperature read at", required=False)
    volume_adequate = _yes_no("Volume adequate", "Volume: say whether it is adequate.")
    split = _yes_no(
        "Split or single",
        "Split or single: choose one.",
        yes="split",
        choices=[("split", "Split"), ("single", "Single")],
    )
    seal_applied = forms.BooleanField(label="Tamper-evident seal applied", required=False)
    seal_initialed = forms.BooleanField(label="Seal initialed by the client", required=False)
    client_signature = forms.CharField(
        label="Client's signature",
        required=False,
        max_length=SIGNATURE_MAX,
        widget=forms.HiddenInput(attrs={"data-signature-value": ""}),
    )
    client_declined_to_sign = forms.BooleanField(
        label="The client declined to sign", required=False
    )
    remarks = _text("Remarks", 500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, facility, tz=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["observer"].queryset = staff_choices(facility)
        if not self.is_bound:
            self.initial.setdefault("collected_at", _now_field(tz))
            self.initial.setdefault("temperature_read_at", _now_field(tz))

    def collection(self) -> Collection:
        d = self.cleaned_data
        return Collection(
            collected_at=d["collected_at"],
            observed=d["observed"],
            observer=d.get("observer"),
            observed_reason=d.get("observed_reason", ""),
            temperature=d.get("temperature"),
            temperature_unit=d.get("temperature_unit", ""),
            temperature_read_at=d.get("temperature_read_at"),
            volume_adequate=d["volume_adequate"],
            split=d["split"],
            seal_applied=d["seal_applied"],
            seal_initialed=d["seal_initialed"],
            client_signature=d.get("client_signature", ""),
            client_declined_to_sign=d["client_declined_to_sign"],
            remarks=d.get("remarks", ""),
        )


class RefusalForm(HavenForm):
    """A client's refusal to provide a specimen: a result, with what was said."""

    refused_at = local_datetime_field("Refused at")
    refusal_note = _text(
        "What the client said or did",
        300,
        required=True,
        error_messages={"required": "Refusal: record what the client said or did."},
    )

    def __init__(self, *args, tz=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("refused_at", _now_field(tz))


# ---------------------------------------------------------------- custody


class CustodyForm(HavenForm):
    """One hand-over, or a correction of an entry (`corrects`), on the CCF's terms."""

    at = local_datetime_field("Date and time")
    purpose = _choice(
        "Purpose of change",
        [(v, label) for v, label in CustodyPurpose.choices if v != CustodyPurpose.COLLECTED],
    )
    released_by = _text(
        "Released by",
        160,
        required=True,
        error_messages={"required": "Released by: name who hands the specimen over."},
    )
    received_by = _text(
        "Received by",
        160,
        required=True,
        error_messages={"required": "Received by: name who takes the specimen."},
        widget=forms.TextInput(attrs={"list": "custody-holders", "autocomplete": "off"}),
    )
    seal_intact = _yes_no("Seal intact", "Seal intact: say whether the seal is intact.")
    storage_location = _text("Storage location", 120)
    remarks = _text("Remarks", 300)
    corrects = EntryChoiceField(
        label="Corrects entry",
        queryset=CustodyEvent.objects.none(),
        to_field_name="public_id",
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "Corrects: choose an entry of this specimen."},
    )

    def __init__(self, *args, specimen, tz=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["corrects"].queryset = CustodyEvent.objects.filter(specimen=specimen)
        if not self.is_bound:
            self.initial.setdefault("at", _now_field(tz))

    def set_correcting(self, event: CustodyEvent) -> None:
        """Correcting the collection itself offers its purpose too."""
        if event.purpose == CustodyPurpose.COLLECTED:
            self.fields["purpose"].choices = [
                (CustodyPurpose.COLLECTED.value, CustodyPurpose.COLLECTED.label)
            ]


# ---------------------------------------------------------------- laboratory result


class LabResultForm(HavenForm):
    """A laboratory's report: the lab, when it reported, and up to six analytes, each with the
    lab's cutoff, its value and whether it is positive. Empty rows are skipped."""

    lab_name = _text(
        "Laboratory",
        120,
        required=True,
        error_messages={"required": "Laboratory: name the lab that reported."},
    )
    reported_at = local_datetime_field("Reported at")

    def __init__(self, *args, tz=None, **kwargs):
        super().__init__(*args, **kwargs)
        for n in range(1, LAB_ROWS + 1):
            self.fields[f"analyte_{n}"] = _text(
                f"Analyte {n}",
                20,
                widget=forms.TextInput(attrs={"list": "lab-analytes", "autocomplete": "off"}),
            )
            self.fields[f"cutoff_{n}"] = forms.DecimalField(
                label=f"Cutoff {n} (ng/mL)",
                required=False,
                min_value=0,
                max_digits=9,
                decimal_places=2,
                widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
                error_messages={
                    "invalid": f"Cutoff {n}: enter a number.",
                    "min_value": f"Cutoff {n}: cannot be negative.",
                },
            )
            self.fields[f"value_{n}"] = forms.DecimalField(
                label=f"Value {n} (ng/mL)",
                required=False,
                min_value=0,
                max_digits=11,
                decimal_places=2,
                widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
                error_messages={
                    "invalid": f"Value {n}: enter a number.",
                    "min_value": f"Value {n}: cannot be negative.",
                },
            )
            self.fields[f"positive_{n}"] = forms.TypedChoiceField(
                label=f"Result {n}",
                choices=[("positive", "Positive"), ("negative", "Negative")],
                coerce=lambda v: v == "positive",
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
                error_messages={"invalid_choice": f"Result {n}: positive or negative."},
            )
            # Added after SafeInputMixin hardened the class's fields: harden these too.
            for name in (f"analyte_{n}", f"cutoff_{n}", f"value_{n}", f"positive_{n}"):
                harden_field(self.fields[name], name)
        if not self.is_bound:
            self.initial.setdefault("reported_at", _now_field(tz))

    def row_numbers(self):
        return range(1, LAB_ROWS + 1)

    def rows_bound(self):
        """(analyte, cutoff, value, positive) bound fields per row, for the template."""
        return [
            (self[f"analyte_{n}"], self[f"cutoff_{n}"], self[f"value_{n}"], self[f"positive_{n}"])
            for n in self.row_numbers()
        ]

    def clean(self):
        data = super().clean()
        rows = []
        for n in self.row_numbers():
            analyte = " ".join((data.get(f"analyte_{n}") or "").split()).upper()
            cutoff = data.get(f"cutoff_{n}")
            value = data.get(f"value_{n}")
            positive = data.get(f"positive_{n}")
            if any(self.has_error(f"{k}_{n}") for k in ("analyte", "cutoff", "value", "positive")):
                continue
            if not analyte and cutoff is None and value is None and positive is None:
                continue
            if not analyte:
                self.add_error(f"analyte_{n}", f"Analyte {n}: name the analyte.")
            if cutoff is None:
                self.add_error(f"cutoff_{n}", f"Cutoff {n}: enter the lab's cutoff.")
            if positive is None:
                self.add_error(f"positive_{n}", f"Result {n}: positive or negative.")
            if analyte and cutoff is not None and positive is not None:
                rows.append(LabRow(analyte, Decimal(cutoff), value, positive))
        if not rows and not self.errors:
            self.add_error("analyte_1", "Enter at least one analyte.")
        data["rows"] = rows
        return data
