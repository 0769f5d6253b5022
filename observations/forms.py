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
