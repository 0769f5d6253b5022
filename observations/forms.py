"""HTTP input for level orders and observer hand-offs; the round itself is parsed in the view
(one row per client)."""

from django import forms

from facility.models import User
from observations.models import Level


class LevelOrderForm(forms.Form):
    level = forms.ChoiceField(
        choices=[("", "Choose…"), *Level.choices],
        error_messages={"required": "Level: choose one.", "invalid_choice": "Level: choose one."},
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        error_messages={"required": "Reason: say why the level changes."},
    )


class ObserverForm(forms.Form):
    observer = forms.ModelChoiceField(queryset=User.objects.none())

    def __init__(self, *args, facility, **kwargs):
        super().__init__(*args, **kwargs)
        from observations.views import observer_choices

        self.fields["observer"].queryset = observer_choices(facility)


class PeriodForm(forms.Form):
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


class SheetDayForm(forms.Form):
    date = forms.DateField(
        error_messages={"required": "Date: choose a day.", "invalid": "Date: enter a valid date."}
    )
