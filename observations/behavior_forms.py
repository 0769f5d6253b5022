"""HTTP input for behavior and mood notes (issue 12 item 1): the note form, built for a tablet
(behavior chips and risk flags as multi-select chips, the single picks and meals as radio pills,
the narrative sections of the facility's format as textareas), and the query string that says
where it was opened from. Every choice field names itself in its message; the service judges
the rules (at least one field, observed time within 24 hours)."""

from django import forms
from django.utils import timezone

from clients.forms import local_datetime_field
from facility.forms import HavenForm, harden_field
from observations import notes
from observations.models import (
    MEAL_PERCENTS,
    Affect,
    Behavior,
    Mood,
    Participation,
    RiskFlag,
    SleepQuality,
)

# The "not noted" pill that lets a tapped single pick be taken back without a script.
NOT_NOTED = ("", "–")


def _pick(label: str, choices, *, coerce=None, message: str = "") -> forms.Field:
    """An optional single pick shown as radio pills, with a "not noted" pill first."""
    message = message or f"{label}: choose from the list."
    if coerce is not None:
        return forms.TypedChoiceField(
            label=label,
            choices=[NOT_NOTED, *choices],
            coerce=coerce,
            empty_value=None,
            required=False,
            widget=forms.RadioSelect,
            error_messages={"invalid_choice": message},
        )
    return forms.ChoiceField(
        label=label,
        choices=[NOT_NOTED, *choices],
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": message},
    )


def _chips(label: str, choices) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": f"{label}: choose from the list."},
    )


def _meal(label: str) -> forms.Field:
    return _pick(
        label,
        [(p, f"{p} %") for p in MEAL_PERCENTS],
        coerce=int,
        # Django formats a choice field's message with the value: "%%" is a percent sign.
        message=f"{label}: choose 0, 25, 50, 75 or 100 %%.",
    )


class BehaviorNoteForm(HavenForm):
    """One behavior and mood note. The narrative's fields (`narrative_<section>`) are the
    sections of the facility's format, added per form."""

    observed_at = local_datetime_field("Observed at")
    mood = _pick("Mood", Mood.choices)
    mood_words = forms.CharField(label="In the client's words", max_length=200, required=False)
    affect = _pick("Affect", Affect.choices)
    affect_congruent = _pick(
        "Congruent with mood",
        [("yes", "Congruent"), ("no", "Not congruent")],
        coerce=lambda v: v == "yes",
    )
    behaviors = _chips("Behavior", Behavior.choices)
    participation = _pick("Participation", Participation.choices)
    sleep_hours = forms.DecimalField(
        label="Sleep (hours)",
        required=False,
        max_digits=3,
        decimal_places=1,
        min_value=0,
        max_value=24,
        widget=forms.NumberInput(
            attrs={"inputmode": "decimal", "step": "0.5", "min": "0", "max": "24"}
        ),
        error_messages={
            "invalid": "Sleep: enter hours between 0 and 24.",
            "min_value": "Sleep: enter hours between 0 and 24.",
            "max_value": "Sleep: enter hours between 0 and 24.",
        },
    )
    sleep_quality = _pick("Sleep quality", SleepQuality.choices)
    meal_breakfast = _meal("Breakfast")
    meal_lunch = _meal("Lunch")
    meal_dinner = _meal("Dinner")
    cravings = _pick(
        "Cravings",
        [(n, str(n)) for n in range(11)],
        coerce=int,
        message="Cravings: choose a number from 0 to 10.",
    )
    risk_flags = _chips("Risk flags", RiskFlag.choices)
    handoff = forms.BooleanField(label="Flag for handoff", required=False)

    def __init__(self, *args, note_format: str, tz=None, **kwargs):
        self.note_format = note_format
        super().__init__(*args, **kwargs)
        for key, label in notes.sections_of(note_format):
            field = forms.CharField(
                label=label,
                max_length=notes.SECTION_MAX,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            # The shared input checks, for a field added after the form was built.
            harden_field(field, f"narrative_{key}")
            self.fields[f"narrative_{key}"] = field
        if not self.is_bound:
            now = timezone.localtime(timezone.now(), tz) if tz else timezone.localtime()
            self.initial.setdefault("observed_at", now.strftime("%Y-%m-%dT%H:%M"))

    @property
    def meal_fields(self) -> list:
        return [self["meal_breakfast"], self["meal_lunch"], self["meal_dinner"]]

    @property
    def narrative_fields(self) -> list:
        return [self[f"narrative_{key}"] for key, _label in notes.sections_of(self.note_format)]

    def note_values(self) -> dict:
        """The cleaned values as observations.services.behavior_note_record takes them."""
        data = self.cleaned_data
        names = (
            "observed_at", "mood", "mood_words", "affect", "affect_congruent", "behaviors",
            "participation", "sleep_hours", "sleep_quality", "meal_breakfast", "meal_lunch",
            "meal_dinner", "cravings", "risk_flags", "handoff",
        )  # fmt: skip
        values = {name: data.get(name) for name in names}
        for name in ("mood", "affect", "participation", "sleep_quality"):
            values[name] = values[name] or ""
        values["narrative"] = {
            key: data.get(f"narrative_{key}") or ""
            for key, _label in notes.sections_of(self.note_format)
        }
        return values


class BehaviorContextForm(HavenForm):
    """The note form's query string: opened from the rounds board or the chart."""

    came_from = forms.ChoiceField(
        required=False, choices=[("", ""), ("board", "Rounds board"), ("chart", "Chart")]
    )


class StrikeNoteForm(HavenForm):
    """Strike a behavior note entered in error: why."""

    reason = forms.CharField(
        label="Why it was entered in error",
        max_length=300,
        error_messages={"required": "Reason: say what was wrong."},
    )
