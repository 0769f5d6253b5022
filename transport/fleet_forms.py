"""Forms of vehicles, drivers, status changes and the pre-trip inspection (issue 14 items 1-2).
The services check the same rules again; a form's job is a message on the field."""

from datetime import timedelta

from django import forms

from facility.forms import HavenForm, harden_field
from facility.models import User
from facility.validators import PlausibleDateValidator
from transport.form_fields import text_field as _text
from transport.form_fields import whole_field as _whole
from transport.rules import INSPECTION_ITEMS
from transport.services.fleet import FUTURE_LIMIT, ODOMETER_MAX, PAST_LIMIT

OK, DEFECT = "ok", "defect"


def _date(label: str, *, required: bool = True, future=FUTURE_LIMIT) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[PlausibleDateValidator(label, past=PAST_LIMIT, future=future)],
        error_messages={
            "required": f"{label}: enter a date.",
            "invalid": f"{label}: enter a valid date.",
        },
    )


class VehicleForm(HavenForm):
    name = _text("Name", 60, help_text="What staff call it, e.g. Van 2.")
    plate = _text("Plate", 15)
    vin = _text("VIN", 17, required=False, help_text="17 characters; optional.")
    seats = _whole("Passenger seats", 1, 15, help_text="Not counting the driver's seat.")
    registration_expires = _date("Registration expires")
    insurance_expires = _date("Insurance expires")
    service_due_on = _date("Service due on", required=False)
    service_due_odometer = _whole("Service due at (miles)", 1, ODOMETER_MAX, required=False)
    odometer = _whole("Odometer (miles)", 0, ODOMETER_MAX)
    active = forms.BooleanField(
        label="In the fleet", required=False, initial=True,
        help_text="Untick to retire the vehicle; its trips stay in the log.",
    )  # fmt: skip

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not editing:
            del self.fields["active"]


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.signature


class DriverForm(HavenForm):
    user = StaffChoiceField(
        label="Staff member",
        queryset=User.objects.none(),
        error_messages={
            "required": "Staff member: choose who drives.",
            "invalid_choice": "Staff member: choose from the list.",
        },
    )
    licence_number = _text("Licence number", 30)
    licence_class = _text("Licence class", 10)
    licence_state = _text("Licence state", 2, help_text="Two letters, e.g. NY.")
    licence_expires = _date("Licence expires")
    mvr_checked_on = _date("Motor-vehicle-record check", future=timedelta(0))
    training_on = _date("Van / defensive-driving training", future=timedelta(0))
    first_aid_expires = _date("First Aid/CPR expires")
    active = forms.BooleanField(label="Authorized to drive", required=False, initial=True)

    def __init__(self, *args, facility=None, driver=None, **kwargs):
        super().__init__(*args, **kwargs)
        if driver is not None:
            del self.fields["user"]
            return
        del self.fields["active"]
        taken = facility.drivers.values("user_id") if facility is not None else []
        self.fields["user"].queryset = (
            User.objects.filter(facilities=facility, is_active=True)
            .exclude(pk__in=taken)
            .order_by("full_name")
        )


class ReasonForm(HavenForm):
    reason = _text("Reason", 300, widget=forms.TextInput(attrs={"autocomplete": "off"}))


class InspectionForm(HavenForm):
    """One OK / Defect choice and one note per item of the checklist, and the odometer."""

    odometer = _whole("Odometer (miles)", 0, ODOMETER_MAX, required=False)
    # Issue 14 review: "All items OK" in one confirmed action (as security rounds' "All areas
    # OK"): every item not marked Defect is OK; only the defects need taps.
    action = forms.ChoiceField(
        required=False,
        choices=[("items", "Submit inspection"), ("all_ok", "All other items OK")],
        error_messages={"invalid_choice": "This inspection form is out of date; reload it."},
    )
    checked_all = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label, critical in INSPECTION_ITEMS:
            message = f"{label}: OK or defect?"
            self.fields[key] = forms.ChoiceField(
                label=label,
                choices=[(OK, "OK"), (DEFECT, "Defect")],
                widget=forms.RadioSelect,
                required=False,
                error_messages={"required": message, "invalid_choice": message},
            )
            self.fields[key].critical = critical
            self.fields[f"note_{key}"] = forms.CharField(
                label=f"{label}: what is wrong", max_length=300, required=False
            )
            harden_field(self.fields[f"note_{key}"], f"note_{key}")
        # Odometer last: it is read at the end of the walk-around.
        self.order_fields([k for k, _, _ in INSPECTION_ITEMS] + ["odometer"])

    @property
    def all_ok(self) -> bool:
        return self.data.get("action") == "all_ok"

    def clean(self):
        data = super().clean()
        if self.all_ok and not data.get("checked_all"):
            self.add_error(
                "checked_all",
                "All items OK: tick “I checked every item” first, or mark each item.",
            )
        for key, label, _ in INSPECTION_ITEMS:
            if key in self.errors:
                continue
            if not data.get(key):
                if self.all_ok:
                    data[key] = OK
                else:
                    self.add_error(key, f"{label}: OK or defect?")
            elif data.get(key) == DEFECT and not (data.get(f"note_{key}") or "").strip():
                self.add_error(f"note_{key}", f"{label}: say what is wrong.")
        return data

    def rows(self):
        """(choice field, note field, critical) per item, in checklist order."""
        return [(self[key], self[f"note_{key}"], crit) for key, _, crit in INSPECTION_ITEMS]

    def results(self) -> dict[str, tuple[bool, str]]:
        d = self.cleaned_data
        return {key: (d[key] == OK, d.get(f"note_{key}", "")) for key, _, _ in INSPECTION_ITEMS}
