"""Forms of the point-of-care results, breath alcohol, belongings searches and the positives
report (issue 13 items 4-8). Every POST and query string is bound to one of these
(docs/architecture.md); each inherits HavenForm for the shared input checks."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from clients.forms import local_datetime_field
from facility import policy
from facility.forms import HavenForm, harden_field
from facility.models import User
from screening.defaults import ANALYTE_NAMES, ordered_analytes
from screening.models import (
    BreathKind,
    Device,
    DeviceLot,
    Disposition,
    ItemCategory,
    Reading,
    SearchReason,
)
from screening.services.searches import AT_SEARCH

READING_CHOICES = [
    (Reading.NEGATIVE, "Neg"),
    (Reading.PRESUMPTIVE_POSITIVE, "Pos"),
    (Reading.INVALID, "Invalid"),
]
PAD_CHOICES = [("normal", "Normal"), ("abnormal", "Abnormal")]


def pad_field(pad: str) -> str:
    return "pad-" + "_".join(pad.lower().split())


def floor_staff(facility, *, exclude: User | None = None):
    """Active staff of the facility who chart on the floor: who may witness a search."""
    staff = User.objects.filter(
        facilities=facility, is_active=True, role__in=policy.roles_with("floor.chart")
    ).order_by("full_name", "username")
    return staff.exclude(pk=exclude.pk) if exclude is not None else staff


class StaffChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", "Choose…")
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj) -> str:
        return obj.signature


def _harden(form: forms.Form, *, static) -> None:
    """Fields built per device or per row, after SafeInputMixin ran, get the same checks."""
    for name, field in form.fields.items():
        if name not in static:
            harden_field(field, name)


def _now_field(label: str, **kwargs):
    return local_datetime_field(label, required=False, **kwargs)


# ---------------------------------------------------------------- point-of-care cup


class DevicePickForm(HavenForm):
    """`?device=` on the result page: which of the facility's cups was used."""

    device = forms.UUIDField(required=False)


class PocResultForm(HavenForm):
    """One screen for a cup: the device and lot, then "All negative" and the exceptions, then
    the adulterant pads ("All normal" and the exceptions). Nothing is pre-marked: a reading is a
    tap the reader makes (the "All negative" tap is theirs too)."""

    device = forms.UUIDField(widget=forms.HiddenInput)
    lot = forms.TypedChoiceField(
        label="Lot", coerce=int, error_messages={"required": "Lot: choose the lot on the pouch.",
                                                 "invalid_choice": "Lot: choose from the list."},
    )  # fmt: skip
    tested_at = _now_field("Read at", help_text="Leave empty for now.")
    all_negative = forms.BooleanField(label="All negative, except those I mark", required=False)
    all_normal = forms.BooleanField(label="All pads normal, except those I mark", required=False)

    def __init__(self, *args, device: Device, lots: list[DeviceLot], today, **kwargs):
        super().__init__(*args, **kwargs)
        self.device = device
        self.analytes = ordered_analytes(device.cutoffs)
        self.pads = list(device.adulterant_pads or [])
        self.fields["device"].initial = device.public_id
        self.fields["lot"].choices = [("", "Choose…")] + [
            (lot.pk, f"{lot.lot} · exp. {lot.expires_on:%Y-%m-%d}"
             + (" (expired)" if lot.expires_on < today else ""))
            for lot in lots
        ]  # fmt: skip
        live = [lot for lot in lots if lot.expires_on >= today]
        if len(live) == 1 and not self.is_bound:
            self.initial["lot"] = live[0].pk
        for code in self.analytes:
            self.fields[f"r-{code}"] = forms.ChoiceField(
                label=f"{code} · {ANALYTE_NAMES.get(code, code)} ({device.cutoffs[code]} ng/mL)",
                choices=READING_CHOICES,
                required=False,
                widget=forms.RadioSelect,
                error_messages={"invalid_choice": f"{code}: choose Neg, Pos or Invalid."},
            )
        for pad in self.pads:
            self.fields[pad_field(pad)] = forms.ChoiceField(
                label=pad if pad[1:2].isupper() else pad[:1].upper() + pad[1:],
                choices=PAD_CHOICES,
                required=False,
                widget=forms.RadioSelect,
                error_messages={"invalid_choice": f"{pad}: choose normal or abnormal."},
            )
        _harden(self, static=self.base_fields)

    def clean_device(self):
        value = self.cleaned_data["device"]
        if value != self.device.public_id:
            raise ValidationError("Device: the page changed; choose the cup again.")
        return value

    def readings(self) -> dict[str, str]:
        data = self.cleaned_data
        default = Reading.NEGATIVE if data.get("all_negative") else ""
        return {code: data.get(f"r-{code}") or default for code in self.analytes}

    def adulterants(self) -> dict[str, str]:
        data = self.cleaned_data
        default = "normal" if data.get("all_normal") else ""
        return {pad: data.get(pad_field(pad)) or default for pad in self.pads}

    def analyte_rows(self, explained: dict | None = None) -> list[dict]:
        explained = explained or {}
        return [
            {"code": code, "name": ANALYTE_NAMES.get(code, ""), "field": self[f"r-{code}"],
             "cutoff": self.device.cutoffs[code], "expected": explained.get(code, "")}
            for code in self.analytes
        ]  # fmt: skip

    def pad_rows(self):
        return [(pad, self[pad_field(pad)]) for pad in self.pads]


class StrikeForm(HavenForm):
    reason = forms.CharField(
        label="Reason (entered in error)", max_length=300,
        error_messages={"required": "Reason: say why the result is entered in error."},
    )  # fmt: skip


# ---------------------------------------------------------------- breath alcohol


class BreathForm(HavenForm):
    device = forms.TypedChoiceField(
        label="Device", coerce=int,
        error_messages={"required": "Device: choose the breath alcohol device.",
                        "invalid_choice": "Device: choose from the list."},
    )  # fmt: skip
    refused = forms.BooleanField(label="The client refused the test", required=False)
    observation_started_at = _now_field(
        "Observation started",
        help_text="When the 15-minute observation began (no eating, drinking or smoking).",
    )
    tested_at = _now_field("Tested at", help_text="Leave empty for now.")
    brac = forms.DecimalField(
        label="BrAC (g/210 L)", required=False, max_digits=4, decimal_places=3,
        min_value=Decimal("0"), max_value=Decimal("0.600"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off",
                                      "placeholder": "0.000", "size": "6"}),
        help_text="Three decimals, as the device shows it.",
        error_messages={"invalid": "BrAC: enter the reading, e.g. 0.023.",
                        "min_value": "BrAC: the reading must be between 0.000 and 0.600.",
                        "max_value": "BrAC: the reading must be between 0.000 and 0.600."},
    )  # fmt: skip
    kind = forms.ChoiceField(
        label="Test", choices=BreathKind.choices, initial=BreathKind.SCREENING,
        widget=forms.RadioSelect,
        error_messages={"required": "Test: choose screening or confirmation.",
                        "invalid_choice": "Test: choose screening or confirmation."},
    )  # fmt: skip
    repeat_of = forms.UUIDField(
        required=False, widget=forms.HiddenInput,
        error_messages={"invalid": "Repeat of: not a test of this client."},
    )  # fmt: skip
    client_signature = forms.CharField(
        label="Client's signature", max_length=120, required=False,
        help_text="The client types their full name.",
    )  # fmt: skip
    client_declined_to_sign = forms.BooleanField(
        label="The client declined to sign", required=False
    )
    remarks = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, devices: list[Device], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["device"].choices = [("", "Choose…")] + [
            (d.pk, f"{d} · serial {d.serial}") for d in devices
        ]
        if len(devices) == 1 and not self.is_bound:
            self.initial["device"] = devices[0].pk

    def clean(self):
        data = super().clean()
        raw = (self.data.get("brac") or "").strip()
        if not data.get("refused") and raw and "brac" not in self.errors:
            whole, _, decimals = raw.partition(".")
            if len(decimals) != 3:
                self.add_error(
                    "brac", "BrAC: three decimals, as the device shows it (e.g. 0.023, 0.000)."
                )
        return data


class RepeatContextForm(HavenForm):
    """`?repeat_of=` on the breath test page: the test this one repeats."""

    repeat_of = forms.UUIDField(required=False)


# ---------------------------------------------------------------- belongings searches

ITEM_ROWS = 3
ITEM_ROWS_MAX = 40
ITEM_FIELDS = ("category", "description", "quantity", "contraband", "disposition", "location",
               "bag_id", "witness")  # fmt: skip


class SearchForm(HavenForm):
    """A search with its items, one row each; "More rows" re-shows the form with three more."""

    reason = forms.ChoiceField(
        label="Reason", choices=SearchReason.choices, widget=forms.RadioSelect,
        error_messages={"required": "Reason: choose admission, return from pass, or as needed.",
                        "invalid_choice": "Reason: choose from the list."},
    )  # fmt: skip
    reason_detail = forms.CharField(label="Why (as needed)", max_length=300, required=False)
    leave = forms.UUIDField(
        label="Pass returned from", required=False,
        error_messages={"invalid": "Pass: choose the leave the client came back from."},
        widget=forms.Select,
    )  # fmt: skip
    searched_at = _now_field("Searched at", help_text="Leave empty for now.")
    witness = StaffChoiceField(
        label="Witness", queryset=User.objects.none(), required=False,
        error_messages={"invalid_choice": "Witness: choose a staff member of this facility."},
    )  # fmt: skip
    client_present = forms.TypedChoiceField(
        label="Client present", choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda v: v == "yes", widget=forms.RadioSelect,
        error_messages={"required": "Client present: say whether the client was there.",
                        "invalid_choice": "Client present: yes or no."},
    )  # fmt: skip
    remarks = forms.CharField(max_length=500, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    rows = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=ITEM_ROWS_MAX,
        error_messages={"min_value": "Rows: 1 to 40.", "max_value": "Rows: at most 40 items.",
                        "invalid": "Rows: a whole number."},
    )  # fmt: skip

    def __init__(self, *args, facility, actor: User, leaves, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["witness"].queryset = floor_staff(facility, exclude=actor)
        tz = facility.tz
        self.fields["leave"].widget.choices = [("", "Choose…")] + [
            (str(leave.public_id), f"{leave.get_kind_display()} · back "
             f"{timezone.localtime(leave.returned_at, tz):%b %-d %H:%M}")
            for leave in leaves
        ]  # fmt: skip
        try:
            n = int(self.data.get("rows") or ITEM_ROWS) if self.is_bound else ITEM_ROWS
        except (TypeError, ValueError):
            n = ITEM_ROWS
        n = max(1, min(n, ITEM_ROWS_MAX))
        if self.is_bound and self.data.get("more"):
            n = min(n + 3, ITEM_ROWS_MAX)
        self.row_count = n
        self.fields["rows"].initial = n
        staff = floor_staff(facility, exclude=actor)
        dispositions = [("", "Choose…")] + [(d, Disposition(d).label) for d in AT_SEARCH]
        for i in range(1, n + 1):
            p = f"item-{i}-"
            self.fields[p + "category"] = forms.ChoiceField(
                label="Category", required=False,
                choices=[("", "Choose…"), *ItemCategory.choices],
                error_messages={"invalid_choice": f"Item {i}: choose a category."},
            )  # fmt: skip
            self.fields[p + "description"] = forms.CharField(
                label="Description", max_length=200, required=False
            )
            self.fields[p + "quantity"] = forms.IntegerField(
                label="Qty", required=False, min_value=1, max_value=999,
                error_messages={"min_value": f"Item {i}: quantity from 1 to 999.",
                                "max_value": f"Item {i}: quantity from 1 to 999.",
                                "invalid": f"Item {i}: quantity, a whole number."},
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )  # fmt: skip
            self.fields[p + "contraband"] = forms.BooleanField(label="Contraband", required=False)
            self.fields[p + "disposition"] = forms.ChoiceField(
                label="What became of it", required=False, choices=dispositions,
                error_messages={"invalid_choice": f"Item {i}: choose from the list."},
            )  # fmt: skip
            self.fields[p + "location"] = forms.CharField(
                label="Stored where", max_length=70, required=False
            )
            self.fields[p + "bag_id"] = forms.CharField(
                label="Sealed bag ID", max_length=40, required=False
            )
            self.fields[p + "witness"] = StaffChoiceField(
                label="Destruction witness", queryset=staff, required=False,
                error_messages={"invalid_choice": f"Item {i}: choose a staff member."},
            )  # fmt: skip
        _harden(self, static=self.base_fields)

    def item_rows(self):
        return [
            (i, {name: self[f"item-{i}-{name}"] for name in ITEM_FIELDS})
            for i in range(1, self.row_count + 1)
        ]

    def items(self):
        """The filled rows, renumbered from 1 as the service names them."""
        from screening.services.searches import ItemEntry

        data = self.cleaned_data
        out = []
        for i in range(1, self.row_count + 1):
            p = f"item-{i}-"
            if not (data.get(p + "description") or data.get(p + "category")):
                continue
            out.append(
                ItemEntry(
                    row=i,
                    category=data.get(p + "category") or "",
                    description=data.get(p + "description") or "",
                    quantity=data.get(p + "quantity") or 1,
                    contraband=bool(data.get(p + "contraband")),
                    disposition=data.get(p + "disposition") or "",
                    location=data.get(p + "location") or "",
                    bag_id=data.get(p + "bag_id") or "",
                    witness=data.get(p + "witness"),
                )
            )
        return out


class SearchContextForm(HavenForm):
    """The search page's query string: the return-from-pass flow names the reason and leave."""

    reason = forms.ChoiceField(required=False, choices=[("", ""), *SearchReason.choices])
    leave = forms.UUIDField(required=False)


class ItemMoveForm(HavenForm):
    disposition = forms.ChoiceField(
        label="Now", choices=[("", "Choose…")] + [
            (d, label) for d, label in Disposition.choices if d != Disposition.SENT_AT_DISCHARGE
        ],
        error_messages={"required": "Now: choose what becomes of it.",
                        "invalid_choice": "Now: choose from the list."},
    )  # fmt: skip
    location = forms.CharField(label="Stored where", max_length=70, required=False)
    bag_id = forms.CharField(label="Sealed bag ID", max_length=40, required=False)
    witness = StaffChoiceField(
        label="Destruction witness", queryset=User.objects.none(), required=False,
        error_messages={"invalid_choice": "Witness: choose a staff member."},
    )  # fmt: skip
    client_signature = forms.CharField(
        label="Client's signature (returned to the client)", max_length=120, required=False,
        help_text="The client types their full name.",
    )  # fmt: skip
    at = _now_field("When", help_text="Leave empty for now.")

    def __init__(self, *args, facility, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["witness"].queryset = floor_staff(facility, exclude=actor)


# ---------------------------------------------------------------- reports


class PositivesFilterForm(HavenForm):
    """The positives report's period: dates in the facility's calendar, at most a year."""

    start = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "From: enter a date."},
    )  # fmt: skip
    end = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "To: enter a date."},
    )  # fmt: skip

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise ValidationError({"end": "To: not before the start date."})
        if start and end and end - start > timedelta(days=366):
            raise ValidationError({"end": "To: a period of at most a year."})
        return data
