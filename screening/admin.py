"""Admins keep each facility's test devices in the Django admin (issue 13 item 4): cups with
their per-analyte cutoffs and adulterant pads, their lots with expiry dates, and breath alcohol
devices with serial, calibration date and the vendor's calibration interval. No deletes: a
device is retired by unticking "active"; an expired lot is refused by the result form."""

from datetime import timedelta

from django.contrib import admin
from django.core.exceptions import ValidationError

from facility.admin import NoDeleteAdmin, admin_site
from facility.forms import HavenModelForm
from facility.validators import PlausibleDateValidator
from screening.models import Device, DeviceKind, DeviceLot

# An analyte code as a cup's label prints it: capitals and digits (AMP, EDDP, K2).
CODE_MAX = 8
LOT_FUTURE = timedelta(days=6 * 366)


class DeviceForm(HavenModelForm):
    class Meta:
        model = Device
        fields = [
            "facility", "kind", "make", "model", "cutoffs", "adulterant_pads", "serial",
            "last_calibrated_on", "calibration_interval_days", "active",
        ]  # fmt: skip
        help_texts = {
            "cutoffs": 'Cups: each analyte and its cutoff in ng/mL, e.g. {"AMP": 1000, "BUP": 10}.',
            "adulterant_pads": 'Cups: the pads, e.g. ["creatinine", "pH", "oxidants"].',
            "serial": "Breath devices: required.",
            "calibration_interval_days": "Breath devices: the vendor's interval; older warns.",
        }

    def clean_cutoffs(self):
        cutoffs = self.cleaned_data.get("cutoffs") or {}
        if not isinstance(cutoffs, dict):
            raise ValidationError('Cutoffs: an object of analyte codes, e.g. {"AMP": 1000}.')
        for code, value in cutoffs.items():
            if not (isinstance(code, str) and code.isalnum() and code.upper() == code
                    and len(code) <= CODE_MAX):  # fmt: skip
                raise ValidationError(f"Cutoffs: {code!r} is not an analyte code (e.g. AMP).")
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**7:
                raise ValidationError(f"Cutoffs: {code} needs a whole number of ng/mL above 0.")
        return cutoffs

    def clean_adulterant_pads(self):
        pads = self.cleaned_data.get("adulterant_pads") or []
        if not isinstance(pads, list) or not all(
            isinstance(p, str) and 0 < len(p.strip()) <= 40 for p in pads
        ):
            raise ValidationError('Adulterant pads: a list of names, e.g. ["creatinine", "pH"].')
        return [p.strip() for p in pads]

    def clean(self):
        data = super().clean()
        if data.get("kind") == DeviceKind.CUP and not data.get("cutoffs"):
            self.add_error("cutoffs", "Cutoffs: a cup lists at least one analyte.")
        if data.get("kind") == DeviceKind.BREATH and not (data.get("serial") or "").strip():
            self.add_error("serial", "Serial: a breath alcohol device needs its serial number.")
        return data


class DeviceLotForm(HavenModelForm):
    """A lot is printed with an expiry years ahead: the plausible window reaches 6 years."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("expires_on")
        if field is not None:
            field.validators = [
                v for v in field.validators if not isinstance(v, PlausibleDateValidator)
            ] + [PlausibleDateValidator("Expires on", future=LOT_FUTURE)]


class DeviceLotInline(admin.TabularInline):
    model = DeviceLot
    form = DeviceLotForm
    extra = 1
    can_delete = False


class DeviceAdmin(NoDeleteAdmin):
    form = DeviceForm
    list_display = ["make", "model", "kind", "facility", "serial", "last_calibrated_on", "active"]
    list_filter = ["facility", "kind", "active"]
    inlines = [DeviceLotInline]


class DeviceLotAdmin(NoDeleteAdmin):
    form = DeviceLotForm
    facility_path = "device__facility"
    list_display = ["lot", "device", "expires_on"]
    list_filter = ["device__facility"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "device":
            kwargs["queryset"] = Device.objects.filter(
                facility__in=request.user.facility_ids(), kind=DeviceKind.CUP
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


admin_site.register(Device, DeviceAdmin)
admin_site.register(DeviceLot, DeviceLotAdmin)
