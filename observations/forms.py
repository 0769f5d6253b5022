"""HTTP input for level orders, observer hand-offs, rounds (one row of fields per client) and
security rounds (one row per area); every error names its field or its client."""

from datetime import UTC, datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from clients.forms import local_datetime_field
from facility import policy
from facility.forms import HavenForm, harden_field
from facility.models import User
from facility.validators import PlausibleDateValidator
from observations.models import Level, SecurityArea

OUT_OF_DATE = "This round form is out of date; reload the board."
MOVED_BACK = "Observed at: choose now or up to 5 minutes back."


class LevelOrderForm(HavenForm):
    level = forms.ChoiceField(
        choices=[("", "Choose…"), *Level.choices],
        error_messages={"required": "Level: choose one.", "invalid_choice": "Level: choose one."},
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        error_messages={"required": "Reason: say why the level changes."},
    )


def observer_choices(facility):
    """Active staff of the facility who chart rounds: who may hold a client on a continuous
    level. The service checks the same (observations.services.observer_assign)."""
    return User.objects.filter(
        facilities=facility, is_active=True, role__in=policy.roles_with("floor.chart")
    ).order_by("full_name")


class ObserverForm(HavenForm):
    observer = forms.ModelChoiceField(queryset=User.objects.none())

    def __init__(self, *args, facility, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["observer"].queryset = observer_choices(facility)


class UnitChoiceField(forms.ModelChoiceField):
    """A unit by public id; a garbled id gets the field's own message, not "“x” is not a valid
    UUID." (the UUID check raises before Django's invalid-choice handling)."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None


def facility_unit_field() -> UnitChoiceField:
    """An optional unit of the facility (empty: every unit); the form limits it to the
    facility with limit_units."""
    return UnitChoiceField(
        queryset=None,
        required=False,
        empty_label="All units",
        error_messages={"invalid_choice": "Unit: choose one of this facility's units."},
    )


def limit_units(field: UnitChoiceField, facility) -> None:
    from facility.models import Unit

    field.queryset = Unit.objects.filter(facility=facility).order_by("name")
    field.to_field_name = "public_id"


class PeriodForm(HavenForm):
    """A period of whole local days, at most 31."""

    start = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "From: choose a date.", "invalid": "From: enter a valid date."},
    )
    end = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "To: choose a date.", "invalid": "To: enter a valid date."},
    )
    unit = facility_unit_field()

    def __init__(self, *args, facility, **kwargs):
        super().__init__(*args, **kwargs)
        limit_units(self.fields["unit"], facility)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "To: must not be before From.")
            elif (end - start).days > 30:
                self.add_error("end", "To: a report covers at most 31 days.")
        return data


class SheetDayForm(HavenForm):
    date = forms.DateField(
        error_messages={"required": "Date: choose a day.", "invalid": "Date: enter a valid date."}
    )


class SeenAtField(forms.Field):
    """The moment a client was tapped "seen" on the board, as the browser's epoch milliseconds
    (issue 10 item 6). Empty without JavaScript: the round's time is used. Whether the moment is
    acceptable (not in the future, at most 5 minutes old) is the service's rule."""

    def __init__(self, name: str):
        self.invalid = f"{name}: the time seen was not understood; tap Seen again."
        super().__init__(required=False, label=f"{name}: Seen at")

    def to_python(self, value):
        value = value.strip() if isinstance(value, str) else ""
        if not value:
            return None
        if len(value) > 16 or not value.isascii() or not value.isdigit():
            raise forms.ValidationError(self.invalid)
        try:
            return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise forms.ValidationError(self.invalid) from None


class RoundForm(HavenForm):
    """A whole round of a unit: per admitted client `include`, `loc-<id>`, `st-<id>`,
    `resp-<id>`, `safety-<id>`, `remark-<id>` (the names the board's chips post) and `seen-<id>`
    (when the client was tapped, set by the board's script)."""

    submission_key = forms.UUIDField(
        error_messages={"required": OUT_OF_DATE, "invalid": OUT_OF_DATE}
    )
    minutes_back = forms.TypedChoiceField(
        coerce=int,
        choices=[(str(m), str(m)) for m in range(6)],
        error_messages={"required": MOVED_BACK, "invalid_choice": MOVED_BACK},
    )
    late_reason = forms.CharField(label="Reason", max_length=200, required=False)
    include = forms.MultipleChoiceField(
        required=False,
        error_messages={"invalid_choice": "A client in this round is not admitted to this unit."},
    )

    def __init__(self, *args, rows, locations, statuses, **kwargs):
        self.rows = rows
        self.codes = {str(c.pk): c for c in [*locations, *statuses]}
        base = {
            "include": forms.MultipleChoiceField(
                required=False,
                choices=[(str(r.admission.public_id),) * 2 for r in rows],
                error_messages=self.base_fields["include"].error_messages,
            )
        }
        for row in rows:
            pid, name = row.admission.public_id, row.admission.client.display_name
            for prefix, what, codes in (("loc", "Location", locations), ("st", "Status", statuses)):
                base[f"{prefix}-{pid}"] = forms.ChoiceField(
                    required=False,
                    choices=[("", ""), *[(str(c.pk), c.code) for c in codes]],
                    error_messages={"invalid_choice": f"{name}: {what}: choose one in use here."},
                )

            base[f"seen-{pid}"] = SeenAtField(name)
            base[f"resp-{pid}"] = forms.BooleanField(required=False)
            base[f"safety-{pid}"] = forms.BooleanField(required=False)
            base[f"remark-{pid}"] = forms.CharField(
                label=f"{name}: Remark", max_length=500, required=False
            )
        super().__init__(*args, **kwargs)
        self.fields.update(base)
        for field_name, field in base.items():
            harden_field(field, field_name)

    def clean(self):
        data = super().clean()
        included = set(data.get("include") or [])
        for row in self.rows:
            pid, name = str(row.admission.public_id), row.admission.client.display_name
            if pid not in included:
                continue
            if row.leave is not None:
                self.add_error(None, f"{name}: off site, not charted.")
                continue
            if not data.get(f"loc-{pid}"):
                self.add_error(f"loc-{pid}", f"{name}: Location: choose one in use here.")
            if not data.get(f"st-{pid}"):
                self.add_error(f"st-{pid}", f"{name}: Status: choose one in use here.")
        return data

    def as_typed(self) -> dict:
        """What was entered per client, as typed, so a refused round loses nothing on the page."""
        data = self.data
        included = set(data.getlist("include"))
        typed = {}
        for row in self.rows:
            pid = str(row.admission.public_id)
            typed[pid] = {
                "include": pid in included,
                "loc": data.get(f"loc-{pid}", ""),
                "st": data.get(f"st-{pid}", ""),
                "resp": data.get(f"resp-{pid}") == "on",
                "safety": data.get(f"safety-{pid}") == "on",
                "remark": data.get(f"remark-{pid}", ""),
                "seen": data.get(f"seen-{pid}", "")[:20],
            }
        return typed

    def entries(self):
        """The included clients' lines, once the form is valid. Each carries the moment it was
        tapped, unless the whole round was moved back (then the round's time is everyone's)."""
        from observations.services import RoundEntry

        data = self.cleaned_data
        own_times = data["minutes_back"] == 0
        return [
            RoundEntry(
                admission=row.admission,
                location=self.codes[data[f"loc-{pid}"]],
                status=self.codes[data[f"st-{pid}"]],
                respirations_observed=data[f"resp-{pid}"],
                safety_concern=data[f"safety-{pid}"],
                remark=data[f"remark-{pid}"],
                observed_at=data[f"seen-{pid}"] if own_times else None,
            )
            for row in self.rows
            if (pid := str(row.admission.public_id)) in data["include"]
        ]

    def messages(self) -> list[str]:
        """Every error, each naming its client or field, in the order of the page."""
        out = []
        for errors in self.errors.values():
            out.extend(errors)
        return out


ALL_OK_CONFIRM = "All areas OK: tick “I walked every area” first, or mark each area."


class SecurityRoundForm(HavenForm):
    """One walk of the building: per active area `ok-<pk>` (ok or finding; nothing is pre-set),
    `finding-<pk>`, `where-<pk>`, `action-<pk>`, `alert-<pk>`. `action` says which button:
    "round" (each area marked; also when absent) or "all_ok" (the single "all OK" action, which
    needs the `walked_all` tick as its confirmation and carries no finding)."""

    action = forms.ChoiceField(
        required=False,
        choices=[("round", "Record security round"), ("all_ok", "All areas OK")],
        error_messages={
            "invalid_choice": "This security round form is out of date; reload the page.",
        },
    )
    walked_all = forms.BooleanField(required=False)

    def __init__(self, *args, areas, **kwargs):
        super().__init__(*args, **kwargs)
        self.areas = areas
        for area in areas:
            pk, name = area.pk, area.name
            fields = {
                # Required only for an area-by-area round: checked in clean().
                f"ok-{pk}": forms.ChoiceField(
                    required=False,
                    choices=[("ok", "OK"), ("finding", "Finding")],
                    error_messages={
                        "invalid_choice": f"{name}: mark it OK or record a finding.",
                    },
                ),
                f"finding-{pk}": forms.CharField(
                    label=f"{name}: What was found", max_length=300, required=False
                ),
                f"where-{pk}": forms.CharField(
                    label=f"{name}: Where exactly", max_length=200, required=False
                ),
                f"action-{pk}": forms.CharField(
                    label=f"{name}: Action taken", max_length=300, required=False
                ),
                f"alert-{pk}": forms.BooleanField(required=False),
            }
            for field_name, field in fields.items():
                harden_field(field, field_name)
            self.fields.update(fields)

    @property
    def all_ok(self) -> bool:
        """The walker used the single "all OK" action."""
        return self.data.get("action") == "all_ok"

    def _typed(self, data, area) -> bool:
        return any(
            (data.get(f"{part}-{area.pk}") or "").strip() for part in ("finding", "where", "action")
        ) or bool(data.get(f"alert-{area.pk}"))

    def clean(self):
        data = super().clean()
        if self.all_ok:
            if not data.get("walked_all"):
                self.add_error("walked_all", ALL_OK_CONFIRM)
            for area in self.areas:
                if data.get(f"ok-{area.pk}") == "finding" or self._typed(data, area):
                    # "All OK" must never drop a finding someone started to type.
                    self.add_error(
                        f"ok-{area.pk}",
                        f"{area.name}: a finding is marked, so the round is not all OK; "
                        "record it area by area.",
                    )
            return data
        for area in self.areas:
            mark = data.get(f"ok-{area.pk}")
            if not mark and f"ok-{area.pk}" not in self.errors:
                self.add_error(f"ok-{area.pk}", f"{area.name}: mark it OK or record a finding.")
            elif mark == "ok" and self._typed(data, area):
                # A finding typed under "OK" would be saved as OK and raise nothing.
                self.add_error(
                    f"ok-{area.pk}",
                    f"{area.name}: marked OK but a finding was typed; mark it a finding or "
                    "clear the finding.",
                )
        return data

    def as_typed(self) -> dict:
        """What was entered per area, as typed, so a refused walk loses nothing on the page."""
        data = self.data
        return {
            area.pk: {
                "ok": {"ok": True, "finding": False}.get(data.get(f"ok-{area.pk}")),
                "finding": data.get(f"finding-{area.pk}", ""),
                "location_detail": data.get(f"where-{area.pk}", ""),
                "action_taken": data.get(f"action-{area.pk}", ""),
                "raise_alert": data.get(f"alert-{area.pk}") == "on",
            }
            for area in self.areas
        }

    def results(self):
        """Each area as marked; with "all OK", every area OK."""
        from observations.services import AreaResult

        data = self.cleaned_data
        if self.all_ok:
            return [AreaResult(area=area, ok=True) for area in self.areas]
        return [
            AreaResult(
                area=area,
                ok=data[f"ok-{area.pk}"] == "ok",
                finding=data[f"finding-{area.pk}"],
                location_detail=data[f"where-{area.pk}"],
                action_taken=data[f"action-{area.pk}"],
                raise_alert=data[f"alert-{area.pk}"],
            )
            for area in self.areas
        ]

    def messages(self) -> list[str]:
        out = []
        for errors in self.errors.values():
            out.extend(errors)
        return out


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class SecurityFindingForm(HavenForm):
    """A finding between rounds: the area, when it was found (now by default; not ahead, at most
    24 hours back), what, where, and the action taken. Every finding alerts the supervisor
    (observations.services.security_finding_record)."""

    area = AreaChoiceField(
        queryset=None,
        empty_label="Choose…",
        error_messages={
            "required": "Area: choose one.",
            "invalid_choice": "Area: choose one walked at this facility.",
            "invalid_pk_value": "Area: choose one walked at this facility.",
        },
    )
    found_at = local_datetime_field(
        "Found at",
        # Coarse (whole days) first, so year 9999 or 0001 reads like the precise rule below.
        validators=[
            PlausibleDateValidator(
                "Found at",
                past=timedelta(days=2),
                future=timedelta(days=1),
                too_early="Found at: at most 24 hours back.",
                too_late="Found at: cannot be in the future.",
            )
        ],
    )
    finding = forms.CharField(
        label="What was found",
        max_length=300,
        error_messages={"required": "What was found: say what it was."},
    )
    location_detail = forms.CharField(
        label="Where exactly",
        max_length=200,
        error_messages={"required": "Where exactly: say where it was."},
    )
    action_taken = forms.CharField(
        label="Action taken",
        max_length=300,
        error_messages={"required": "Action taken: say what was done."},
    )

    def __init__(self, *args, facility, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = SecurityArea.objects.filter(
            facility=facility, active=True
        ).select_related("facility")
        if not self.is_bound:
            self.initial.setdefault("found_at", timezone.localtime().replace(second=0))

    def clean_found_at(self):
        from observations.services import FINDING_MAX_BACKDATE

        found_at = self.cleaned_data["found_at"]
        now = timezone.now()
        # The field holds minutes: the minute in progress is "now", not the future.
        if found_at > now.replace(second=59, microsecond=999999):
            raise ValidationError("Found at: cannot be in the future.")
        # 24 real hours, also across a DST change (the wall clock may show 23 or 25).
        if found_at < now - FINDING_MAX_BACKDATE:
            raise ValidationError("Found at: at most 24 hours back.")
        return min(found_at, now)


DOWNTIME_OUT_OF_DATE = "This downtime sheet is out of date; reload the page."


class DowntimeForm(HavenForm):
    """A paper downtime sheet: a reason, then rows of `client-<n>`, `time-<n>` (local wall time),
    `loc-<n>`, `st-<n>`, `resp-<n>`, `remark-<n>`; an empty row is skipped, a partly filled one
    is refused naming its row and field (issue 10 item 5)."""

    submission_key = forms.UUIDField(
        error_messages={"required": DOWNTIME_OUT_OF_DATE, "invalid": DOWNTIME_OUT_OF_DATE}
    )
    reason = forms.CharField(
        label="Reason",
        max_length=190,
        help_text="Why the checks were charted on paper, e.g. “network outage 02:10–03:40”.",
        error_messages={"required": "Reason: say why the checks were charted on paper."},
    )

    def __init__(self, *args, rows: int, admissions, locations, statuses, now, **kwargs):
        from observations.services import DOWNTIME_MAX_ROWS, DOWNTIME_WINDOW

        super().__init__(*args, **kwargs)
        self.count, self.now, self.window = rows, now, DOWNTIME_WINDOW
        self.max_rows = DOWNTIME_MAX_ROWS
        self.admissions = {str(a.public_id): a for a in admissions}
        self.codes = {str(c.pk): c for c in [*locations, *statuses]}
        clients = [("", "Client…")] + [
            (pid, f"{a.bed.label if a.bed_id else '–'} · {a.client.display_name} · {a.client.mrn}")
            for pid, a in self.admissions.items()
        ]
        earliest = timezone.localtime(now - DOWNTIME_WINDOW).strftime("%Y-%m-%dT%H:%M")
        latest = timezone.localtime(now).strftime("%Y-%m-%dT%H:%M")
        for n in range(1, rows + 1):
            row = f"Row {n}"
            fields = {
                f"client-{n}": forms.ChoiceField(
                    label=f"{row}: Client",
                    required=False,
                    choices=clients,
                    error_messages={
                        "invalid_choice": f"{row}: Client: choose a client of this unit."
                    },
                ),
                f"time-{n}": local_datetime_field(f"{row}: Observed at", required=False),
                f"loc-{n}": forms.ChoiceField(
                    label=f"{row}: Location",
                    required=False,
                    choices=[("", "Location…")]
                    + [(str(c.pk), f"{c.code} {c.label}") for c in locations],
                    error_messages={"invalid_choice": f"{row}: Location: choose one in use here."},
                ),
                f"st-{n}": forms.ChoiceField(
                    label=f"{row}: Status",
                    required=False,
                    choices=[("", "Status…")]
                    + [(str(c.pk), f"{c.code} {c.label}") for c in statuses],
                    error_messages={"invalid_choice": f"{row}: Status: choose one in use here."},
                ),
                f"resp-{n}": forms.BooleanField(
                    label=f"{row}: Respirations observed", required=False
                ),
                f"remark-{n}": forms.CharField(
                    label=f"{row}: Remark", max_length=500, required=False
                ),
            }
            fields[f"time-{n}"].widget.attrs.update(min=earliest, max=latest)
            for name, field in fields.items():
                field.widget.attrs["aria-label"] = str(field.label)
                harden_field(field, name)
            self.fields.update(fields)

    def _filled(self, n: int) -> bool:
        data = self.data
        return any(
            (data.get(f"{part}-{n}") or "").strip()
            for part in ("client", "time", "loc", "st", "remark")
        ) or bool(data.get(f"resp-{n}"))

    def clean(self):
        data = super().clean()
        for n in range(1, self.count + 1):
            if not self._filled(n):
                continue
            row = f"Row {n}"
            for part, what in (("client", "Client"), ("loc", "Location"), ("st", "Status")):
                name = f"{part}-{n}"
                if name not in self.errors and not data.get(name):
                    self.add_error(name, f"{row}: {what}: choose one.")
            name = f"time-{n}"
            when = data.get(name)
            if name in self.errors:
                continue
            if when is None:
                self.add_error(name, f"{row}: Observed at: enter the time on the sheet.")
            elif when > self.now:
                self.add_error(name, f"{row}: Observed at: cannot be in the future.")
            elif when < self.now - self.window:
                self.add_error(name, f"{row}: Observed at: at most 24 hours back.")
        return data

    def rows(self):
        """The typed rows as DowntimeRow, once the form is valid."""
        from observations.services import DowntimeRow

        data = self.cleaned_data
        return [
            DowntimeRow(
                number=n,
                admission=self.admissions[data[f"client-{n}"]],
                observed_at=data[f"time-{n}"],
                location=self.codes[data[f"loc-{n}"]],
                status=self.codes[data[f"st-{n}"]],
                respirations_observed=data[f"resp-{n}"],
                remark=data[f"remark-{n}"],
            )
            for n in range(1, self.count + 1)
            if self._filled(n)
        ]

    def table(self) -> list[dict]:
        """One dict of bound fields per row, for the page."""
        return [
            {
                "number": n,
                **{
                    part: self[f"{part}-{n}"]
                    for part in ("client", "time", "loc", "st", "resp", "remark")
                },
            }
            for n in range(1, self.count + 1)
        ]

    def messages(self) -> list[str]:
        out = []
        for errors in self.errors.values():
            out.extend(errors)
        return out


class SeenForm(HavenForm):
    """One entry on "My 1:1": the client the observer holds (`admission`, their stay's public
    id), where and how they are, and "breathing seen" when the status needs it (sleeping)."""

    submission_key = forms.UUIDField(
        error_messages={"required": OUT_OF_DATE, "invalid": OUT_OF_DATE}
    )
    admission = forms.UUIDField(
        error_messages={
            "required": "Client: this entry names no client; reload the page.",
            "invalid": "Client: this entry names no client; reload the page.",
        }
    )
    location = forms.TypedChoiceField(
        coerce=int,
        error_messages={
            "required": "Location: choose where the client is.",
            "invalid_choice": "Location: choose one in use here.",
        },
    )
    status = forms.TypedChoiceField(
        coerce=int,
        error_messages={
            "required": "Status: choose how the client is.",
            "invalid_choice": "Status: choose one in use here.",
        },
    )
    respirations_observed = forms.BooleanField(label="Breathing seen", required=False)
    safety_concern = forms.BooleanField(label="Safety concern", required=False)
    remark = forms.CharField(label="Remark", max_length=500, required=False)

    def __init__(self, *args, locations, statuses, **kwargs):
        super().__init__(*args, **kwargs)
        self.codes = {c.pk: c for c in [*locations, *statuses]}
        self.fields["location"].choices = [(c.pk, c.label) for c in locations]
        self.fields["status"].choices = [(c.pk, c.label) for c in statuses]

    def clean(self):
        data = super().clean()
        status = self.codes.get(data.get("status"))
        if (
            status is not None
            and status.needs_respirations
            and not data.get("respirations_observed")
        ):
            self.add_error(
                "respirations_observed",
                f"Breathing seen: {status.label.lower()} needs a fresh look at the breathing.",
            )
        return data

    def entry(self, admission, observed_at):
        from observations.services import RoundEntry

        data = self.cleaned_data
        return RoundEntry(
            admission=admission,
            location=self.codes[data["location"]],
            status=self.codes[data["status"]],
            respirations_observed=data["respirations_observed"],
            safety_concern=data["safety_concern"],
            remark=data["remark"],
            observed_at=observed_at,
        )


# --- Vital signs (issue 11 items 1 and 3) ------------------------------------------------------


def _vital_int(label: str) -> forms.IntegerField:
    """A whole-number vital sign, optional; the plausible range is the service's to judge, so
    one message names the field and the range (specs/scales.md)."""
    return forms.IntegerField(
        label=label,
        required=False,
        widget=forms.NumberInput(
            attrs={
                "inputmode": "numeric",
                "pattern": "[0-9]*",
                "class": "vital-input",
                "autocomplete": "off",
            }
        ),
        error_messages={"invalid": f"{label}: enter a whole number."},
    )


def _vital_decimal(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=4,
        decimal_places=1,
        widget=forms.NumberInput(
            attrs={
                "inputmode": "decimal",
                "step": "0.1",
                "class": "vital-input",
                "autocomplete": "off",
            }
        ),
        error_messages={"invalid": f"{label}: enter a number."},
    )


VITAL_VALUE_FIELDS = ("sbp", "dbp", "hr", "rr", "temp", "spo2", "pain", "weight_kg", "acvpu")


class VitalsForm(HavenForm):
    """One set of vital signs: every value optional but at least one; the service refuses an
    implausible value with the field's name and range."""

    # No placeholders: a grey "120/80" reads as a value already entered (the legend says mmHg).
    sbp = _vital_int("Systolic BP")
    dbp = _vital_int("Diastolic BP")
    hr = _vital_int("Heart rate")
    rr = _vital_int("Respiratory rate")
    temp = _vital_decimal("Temperature")
    temp_unit = forms.ChoiceField(
        label="Unit",
        choices=[("C", "°C"), ("F", "°F")],
        initial="C",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Temperature unit: choose °C or °F.",
            "invalid_choice": "Temperature unit: choose °C or °F.",
        },
    )
    spo2 = _vital_int("SpO2 (%)")
    on_oxygen = forms.TypedChoiceField(
        label="Air or oxygen",
        choices=[("air", "Air"), ("oxygen", "Oxygen")],
        coerce=lambda v: v == "oxygen",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Air or oxygen: choose one."},
    )
    pain = _vital_int("Pain (0–10)")
    weight_kg = _vital_decimal("Weight (kg)")
    acvpu = forms.ChoiceField(
        label="Consciousness (ACVPU)",
        choices=[("A", "A · Alert"), ("C", "C · New confusion"), ("V", "V · Voice"),
                 ("P", "P · Pain"), ("U", "U · Unresponsive")],
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Consciousness: choose A, C, V, P or U."},
    )  # fmt: skip
    taken_at = local_datetime_field("Taken at")
    late_reason = forms.CharField(label="Reason for late entry", max_length=200, required=False)
    remark = forms.CharField(label="Remark", max_length=300, required=False)

    def __init__(self, *args, tz=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            now = timezone.localtime(timezone.now(), tz) if tz else timezone.localtime()
            self.initial.setdefault("taken_at", now.strftime("%Y-%m-%dT%H:%M"))

    def clean(self):
        data = super().clean()
        values = [data.get(k) for k in VITAL_VALUE_FIELDS]
        if not self.errors and all(v in (None, "") for v in values):
            raise ValidationError("Enter at least one vital sign.")
        return data

    def values(self) -> dict:
        """The values as observations.services.vitals_record takes them."""
        data = self.cleaned_data
        out = {k: data.get(k) for k in VITAL_VALUE_FIELDS}
        out["on_oxygen"] = data.get("on_oxygen")
        return out


class VitalsSkipForm(HavenForm):
    """A client skipped on the vitals round, and why (charted, so nobody drops off silently)."""

    skip_reason = forms.CharField(
        label="Why skipped",
        max_length=200,
        error_messages={"required": "Why skipped: say why (asleep, refused, off the unit…)."},
    )


class VitalsRoundStartForm(HavenForm):
    """Start a vitals round: the due clients, or everyone on site."""

    everyone = forms.BooleanField(label="Include everyone on the unit", required=False)


class VitalsContextForm(HavenForm):
    """The query string of the vitals entry page: where it was opened from and why (a breath
    alcohol reading links here with `?reason=breath_alcohol`)."""

    reason = forms.ChoiceField(
        required=False, choices=[("", ""), ("breath_alcohol", "Breath alcohol reading")]
    )
    came_from = forms.ChoiceField(
        required=False, choices=[("", ""), ("board", "Rounds board"), ("chart", "Chart")]
    )


VITALS_EVERY_CHOICES = [
    (60, "Every hour"),
    (120, "Every 2 hours"),
    (240, "Every 4 hours"),
    (360, "Every 6 hours"),
    (480, "Every 8 hours"),
    (720, "Every 12 hours"),
    (1440, "Daily"),
]


class VitalsScheduleForm(HavenForm):
    """How often a client's vitals are owed, and what NEWS2 must know (SpO2 scale 2, pregnancy)."""

    every_minutes = forms.TypedChoiceField(
        label="Vitals",
        choices=VITALS_EVERY_CHOICES,
        coerce=int,
        initial=240,
        error_messages={
            "required": "Every: choose how often.",
            "invalid_choice": "Every: choose from the list.",
        },
    )
    spo2_scale2 = forms.BooleanField(
        label="Target SpO2 88–92 % documented by a clinician (NEWS2 SpO2 scale 2)", required=False
    )
    pregnant = forms.BooleanField(label="Pregnant (NEWS2 is not validated)", required=False)
    effective_from = local_datetime_field("From", required=False)
    reason = forms.CharField(
        label="Reason",
        max_length=300,
        error_messages={"required": "Reason: say why (for example: CIWA-Ar protocol)."},
    )


# --- Vitals review (issue 11 item 4): query strings of the chart's vitals section and unit view

VITALS_RANGES = [("7d", "7 days"), ("30d", "30 days"), ("stay", "Whole stay")]
VITALS_RANGE_DAYS = {"7d": 7, "30d": 30, "stay": None}


class VitalsRangeForm(HavenForm):
    """The chart's vitals section: how far back the trends go, and which page of the history."""

    vitals_range = forms.ChoiceField(
        label="Show",
        choices=VITALS_RANGES,
        required=False,
        error_messages={"invalid_choice": "Show: choose 7 days, 30 days or the whole stay."},
    )
    vitals_page = forms.IntegerField(
        min_value=1,
        max_value=10_000,
        required=False,
        error_messages={
            "invalid": "History page: enter a whole number.",
            "min_value": "History page: enter a whole number from 1.",
            "max_value": "History page: enter a whole number up to 10000.",
        },
    )


VITALS_SORTS = [
    ("news2", "NEWS2, highest first"),
    ("name", "Name"),
    ("bed", "Bed"),
    ("time", "Last set, oldest first"),
]


class VitalsReviewForm(HavenForm):
    """The unit's vitals review: its sort order."""

    sort = forms.ChoiceField(
        label="Sort by",
        choices=VITALS_SORTS,
        required=False,
        error_messages={"invalid_choice": "Sort by: choose NEWS2, name, bed or last set."},
    )


# --- CIWA-Ar and COWS (issue 11 item 5) --------------------------------------------------------


def _scale_item_field(scale: str, key: str) -> forms.TypedChoiceField:
    """One item of a withdrawal scale: only its allowed values, each with its anchor text. Left
    empty, the service lists it with the other missing items."""
    from observations import withdrawal

    item = withdrawal.ITEM_TEXT[scale][key]
    allowed = withdrawal.ALLOWED[scale][key]
    message = f"{item.label}: choose one of {', '.join(str(v) for v in allowed)}."
    return forms.TypedChoiceField(
        label=item.label,
        help_text=item.prompt,
        choices=[(str(v), item.anchors.get(v, "")) for v in allowed],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": message, "required": message},
    )


class ScaleForm(HavenForm):
    """A CIWA-Ar or COWS assessment (CiwaForm, CowsForm): one radio group per item, when, and a
    reason if charted more than an hour later."""

    scale = ""
    assessed_at = local_datetime_field("Assessed at", required=False)
    late_reason = forms.CharField(
        label="Reason for late entry", max_length=200, required=False,
        help_text="Needed when charted more than an hour after the assessment.",
    )  # fmt: skip
    remark = forms.CharField(
        label="Remark", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from observations import withdrawal

        self.items = list(withdrawal.ITEM_TEXT[self.scale])

    def item_fields(self):
        return [self[key] for key in self.items]

    def other_fields(self):
        return [self[name] for name in self.fields if name not in self.items]

    def item_values(self) -> dict:
        return {key: self.cleaned_data.get(key) for key in self.items}

    def running_total(self) -> int:
        """The sum of the values chosen so far (shown again with a refused form)."""
        total = 0
        for key in self.items:
            try:
                total += int(self.data.get(key, "") or 0)
            except (TypeError, ValueError):
                continue
        return total


def _scale_form(name: str, scale: str, extra: dict) -> type:
    from observations import withdrawal

    fields = {key: _scale_item_field(scale, key) for key in withdrawal.ITEM_TEXT[scale]}
    attrs = {"__module__": __name__, "__qualname__": name, "scale": scale, **fields, **extra}
    return type(name, (ScaleForm,), attrs)


CiwaForm = _scale_form("CiwaForm", "ciwa_ar", {"__doc__": "A CIWA-Ar (Sullivan 1989)."})
CowsForm = _scale_form(
    "CowsForm",
    "cows",
    {
        "__doc__": "A COWS (Wesson & Ling 2003); the pulse item may come from a pulse in bpm.",
        "pulse_bpm": forms.IntegerField(
            label="Pulse (bpm)",
            required=False,
            help_text="Optional: leave the pulse item empty and it is scored from this.",
            widget=forms.NumberInput(attrs={"inputmode": "numeric", "pattern": "[0-9]*"}),
            error_messages={"invalid": "Pulse: enter a whole number of beats per minute."},
        ),
    },
)
SCALE_FORMS = {"ciwa_ar": CiwaForm, "cows": CowsForm}


class ProtocolForm(HavenForm):
    """Start a withdrawal protocol; the numbers default to the scale's (observations.withdrawal)."""

    scale = forms.ChoiceField(
        label="Scale",
        choices=[("ciwa_ar", "CIWA-Ar (alcohol)"), ("cows", "COWS (opioids)")],
        widget=forms.RadioSelect,
        error_messages={"required": "Scale: choose CIWA-Ar or COWS.",
                        "invalid_choice": "Scale: choose CIWA-Ar or COWS."},
    )  # fmt: skip
    every_hours = forms.IntegerField(
        label="Reassess every (hours)", required=False, min_value=1, max_value=24,
        help_text="Empty: 4 hours.",
        error_messages={"invalid": "Every: enter whole hours, 1 to 24.",
                        "min_value": "Every: 1 to 24 hours.", "max_value": "Every: 1 to 24 hours."},
    )  # fmt: skip
    tight_from = forms.IntegerField(
        label="Reassess sooner from a score of", required=False, min_value=1, max_value=67,
        help_text="Empty: 8 for CIWA-Ar, 13 for COWS.",
        error_messages={"invalid": "Sooner from: enter a whole score.",
                        "min_value": "Sooner from: 1 or more.",
                        "max_value": "Sooner from: at most the scale's top score."},
    )  # fmt: skip
    tight_hours = forms.IntegerField(
        label="Then every (hours)", required=False, min_value=1, max_value=24,
        help_text="Empty: 1 hour.",
        error_messages={"invalid": "Tighter interval: enter whole hours.",
                        "min_value": "Tighter interval: 1 hour or more.",
                        "max_value": "Tighter interval: at most 24 hours."},
    )  # fmt: skip
    reason = forms.CharField(
        label="Reason", max_length=300,
        error_messages={"required": "Reason: say why the client is monitored."},
    )  # fmt: skip
    started_at = local_datetime_field("Started at", required=False)


class ReasonForm(HavenForm):
    """End a protocol, or strike an assessment entered in error: why."""

    reason = forms.CharField(
        label="Reason", max_length=300, error_messages={"required": "Reason: say why."}
    )


class WithdrawalBoardForm(HavenForm):
    """The withdrawal board's query string: which unit (empty: every unit)."""

    unit = facility_unit_field()

    def __init__(self, *args, facility, **kwargs):
        super().__init__(*args, **kwargs)
        limit_units(self.fields["unit"], facility)


class SuggestedForm(HavenForm):
    """Why a scoring page was opened from elsewhere (`?reason=breath_alcohol`: a breath-alcohol
    reading suggested it, issue 11 item 8); anything else is ignored."""

    reason = forms.ChoiceField(
        choices=[("breath_alcohol", "A breath-alcohol reading suggested this assessment.")],
        required=False,
    )

    def text(self) -> str:
        if not self.is_valid() or not self.cleaned_data["reason"]:
            return ""
        return dict(self.fields["reason"].choices)[self.cleaned_data["reason"]]


# --- C-SSRS screen version (issue 12 item 3) ---------------------------------------------------

# The questions in the words of specs/charting.md; the recall period of 1-5 is the past month.
CSSRS_WORDING = {
    "q1": "Wish to be dead",
    "q2": "Non-specific active suicidal thoughts",
    "q3": "Active suicidal ideation with any methods, without intent to act",
    "q4": "Active suicidal ideation with some intent to act, without a specific plan",
    "q5": "Active suicidal ideation with a specific plan and intent",
    "q6": "Suicidal behavior ever (any act, start, or preparation)",
    "q6_recent": "Within the past 3 months?",
}
YES_NO = [("yes", "Yes"), ("no", "No")]


def _yes_no(number: str) -> forms.TypedChoiceField:
    """A yes/no question, unanswered until tapped (never pre-set to "no")."""
    return forms.TypedChoiceField(
        label=f"Question {number}",
        choices=YES_NO,
        coerce=lambda v: v == "yes",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": f"Question {number}: answer yes or no."},
    )


def _cssrs_reasons():
    from observations.models import CssrsReason

    return CssrsReason.choices


class CssrsScreenForm(HavenForm):
    """The six questions of the C-SSRS screen version (3-5 only after a yes to 2, the 3-month
    follow-up only after a yes to 6), why it is done, when, and a remark. What must be answered
    and what contradicts is judged by the service (observations.services.cssrs.clean_answers)."""

    q1 = _yes_no("1")
    q2 = _yes_no("2")
    q3 = _yes_no("3")
    q4 = _yes_no("4")
    q5 = _yes_no("5")
    q6 = _yes_no("6")
    q6_recent = _yes_no("6 (past 3 months)")
    reason = forms.ChoiceField(
        label="Why this screen",
        choices=_cssrs_reasons,
        error_messages={
            "required": "Why: choose why this screen is done.",
            "invalid_choice": "Why: choose why this screen is done.",
        },
    )
    screened_at = local_datetime_field("Screened at", required=False)
    remark = forms.CharField(
        label="Remark", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    QUESTIONS = ("q1", "q2", "q3", "q4", "q5", "q6", "q6_recent")

    def __init__(self, *args, tz=None, **kwargs):
        super().__init__(*args, **kwargs)
        for key in self.QUESTIONS:
            self.fields[key].help_text = CSSRS_WORDING[key]
        if not self.is_bound:
            now = timezone.localtime(timezone.now(), tz) if tz else timezone.localtime()
            self.initial.setdefault("screened_at", now.strftime("%Y-%m-%dT%H:%M"))

    def answers(self) -> dict:
        """{question: True, False or None (unanswered)} as the service takes them."""
        return {key: self.cleaned_data.get(key) for key in self.QUESTIONS}

    def raw(self, key: str):
        """What was posted for a question ("yes", "no" or None), for showing a follow-up the
        client already answered even when the form refused something else."""
        value = self.data.get(key) if self.is_bound else None
        return value if value in ("yes", "no") else None


class CssrsSafetyPlanForm(HavenForm):
    """The high-risk screen's prompt: safety plan started or reviewed, yes or no."""

    safety_plan = forms.TypedChoiceField(
        label="Safety plan started or reviewed",
        choices=YES_NO,
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Safety plan: answer yes or no.",
            "invalid_choice": "Safety plan: answer yes or no.",
        },
    )


class CssrsOrderForm(HavenForm):
    """A clinician orders a C-SSRS screen: what prompted it (optional)."""

    detail = forms.CharField(label="What prompted it", max_length=300, required=False)
