"""HTTP input for level orders, observer hand-offs, rounds (one row of fields per client) and
security rounds (one row per area); every error names its field or its client."""

from django import forms

from facility import policy
from facility.forms import HavenForm, harden_field
from facility.models import User
from observations.models import Level

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
    unit = forms.ModelChoiceField(queryset=None, required=False, empty_label="All units")

    def __init__(self, *args, facility, **kwargs):
        super().__init__(*args, **kwargs)
        from facility.models import Unit

        self.fields["unit"].queryset = Unit.objects.filter(facility=facility).order_by("name")
        self.fields["unit"].to_field_name = "public_id"

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


class RoundForm(HavenForm):
    """A whole round of a unit: per admitted client `include`, `loc-<id>`, `st-<id>`,
    `resp-<id>`, `safety-<id>`, `remark-<id>` (the names the board's chips post)."""

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
            }
        return typed

    def entries(self):
        """The included clients' lines, once the form is valid."""
        from observations.services import RoundEntry

        data = self.cleaned_data
        return [
            RoundEntry(
                admission=row.admission,
                location=self.codes[data[f"loc-{pid}"]],
                status=self.codes[data[f"st-{pid}"]],
                respirations_observed=data[f"resp-{pid}"],
                safety_concern=data[f"safety-{pid}"],
                remark=data[f"remark-{pid}"],
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


class SecurityRoundForm(HavenForm):
    """One walk of the building: per active area `ok-<pk>` (ok or finding, always chosen),
    `finding-<pk>`, `where-<pk>`, `action-<pk>`, `alert-<pk>`."""

    def __init__(self, *args, areas, **kwargs):
        super().__init__(*args, **kwargs)
        self.areas = areas
        for area in areas:
            pk, name = area.pk, area.name
            fields = {
                f"ok-{pk}": forms.ChoiceField(
                    choices=[("ok", "OK"), ("finding", "Finding")],
                    error_messages={
                        "required": f"{name}: mark it OK or record a finding.",
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

    def clean(self):
        data = super().clean()
        for area in self.areas:
            typed = any(
                (data.get(f"{part}-{area.pk}") or "").strip()
                for part in ("finding", "where", "action")
            )
            if data.get(f"ok-{area.pk}") == "ok" and (typed or data.get(f"alert-{area.pk}")):
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
        from observations.services import AreaResult

        data = self.cleaned_data
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
