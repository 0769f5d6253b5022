"""HTTP input of progress notes and the chart timeline (issue 12 item 2): the editor (one text
box per section of the facility's format, the event time and the version the page holds), an
addendum, an entered-in-error strike, a co-signature, discarding a draft, and the timeline's
query string (kinds as checkbox chips, the period)."""

from django import forms

from clients.forms import local_datetime_field
from facility.forms import HavenForm, harden_field
from facility.registry import registry
from observations.notes import SECTION_MAX, sections_of


class NoteEditorForm(HavenForm):
    """A draft's text in its format's sections, its event time, and the version it was loaded
    at (a save from an older version is refused by the service)."""

    event_at = local_datetime_field("Event time")
    version = forms.IntegerField(
        min_value=1,
        widget=forms.HiddenInput,
        error_messages={
            "required": "This page is out of date: reload the note.",
            "invalid": "This page is out of date: reload the note.",
            "min_value": "This page is out of date: reload the note.",
        },
    )

    def __init__(self, *args, note_format: str, **kwargs):
        self.section_keys = []
        super().__init__(*args, **kwargs)
        for key, label in sections_of(note_format):
            self.fields[key] = forms.CharField(
                label=label,
                max_length=SECTION_MAX,
                required=False,
                strip=True,
                widget=forms.Textarea(attrs={"rows": 4}),
            )
            self.section_keys.append(key)
        # Fields added after SafeInputMixin ran: give them the same checks.
        for key in self.section_keys:
            harden_field(self.fields[key], key)
        # Sections first, then the event time, as the page reads.
        self.order_fields([*self.section_keys, "event_at", "version"])

    def sections(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(key) or "" for key in self.section_keys}

    def section_fields(self):
        return [self[key] for key in self.section_keys]


class AddendumForm(HavenForm):
    text = forms.CharField(
        label="Addendum",
        max_length=SECTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Addendum: write the text."},
    )


class StrikeForm(HavenForm):
    reason = forms.CharField(
        label="Reason",
        max_length=300,
        error_messages={"required": "Reason: say why the note was entered in error."},
    )


class CosignForm(HavenForm):
    """Where to go back after co-signing: the queue or the note."""

    back = forms.ChoiceField(
        choices=[("note", "note"), ("queue", "queue")],
        required=False,
        error_messages={"invalid_choice": "Back: choose the note or the queue."},
    )


class DiscardForm(HavenForm):
    confirm = forms.BooleanField(
        label="Delete this draft: it was never signed and nobody else has seen it",
        error_messages={"required": "Discard: tick the box to confirm the draft is deleted."},
    )


PERIODS = [
    ("stay", "Whole stay"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
]


class TimelineForm(HavenForm):
    """The timeline's query string: which kinds (none ticked: all) and which period."""

    kind = forms.MultipleChoiceField(
        label="Show",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Show: choose from the kinds listed."},
    )
    period = forms.ChoiceField(
        label="Period",
        choices=PERIODS,
        required=False,
        error_messages={"invalid_choice": "Period: choose the whole stay, 24 hours, 7 or 30 days."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(registry.timeline_labels.items())
