"""HTTP input of SUD counseling notes (issue 16 item 8): the note, an addendum, an
entered-in-error strike, and a grant to a colleague. Every field refuses NUL and bidi control
characters and too much text, with a message naming it (facility/forms.py SafeInputMixin); the
session time is on the facility clock, plausible, and checked against the stay by the service."""

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError

from clients.forms import local_datetime_field
from facility.forms import HavenForm
from facility.validators import PlausibleDateValidator
from observations.counseling import ADDENDUM_MAX, STRIKE_REASON_MAX, colleague_label
from observations.models import COUNSELING_BODY_MAX


class CounselingNoteForm(HavenForm):
    # Out of the window, the validator says what the service says (never a date range that the
    # service then contradicts): the session is during the stay, and not in the future.
    occurred_at = local_datetime_field(
        "Session time",
        validators=[
            PlausibleDateValidator(
                "Session time",
                future=timedelta(days=1),
                too_early="Session time: cannot be before the client was admitted.",
                too_late="Session time: cannot be in the future.",
            )
        ],
    )
    body = forms.CharField(
        label="Note",
        max_length=COUNSELING_BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 12}),
        error_messages={"required": "Note: write the text."},
    )


class CounselingAddendumForm(HavenForm):
    text = forms.CharField(
        label="Addendum",
        max_length=ADDENDUM_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Addendum: write the text."},
    )


class CounselingStrikeForm(HavenForm):
    reason = forms.CharField(
        label="Reason",
        max_length=STRIKE_REASON_MAX,
        error_messages={"required": "Reason: say why the note was entered in error."},
    )


class ColleagueField(forms.ModelChoiceField):
    """A colleague by public id: anything that is not one of the choices (not even a UUID) is
    "choose from the list", never the model field's own message."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None


class CounselingGrantForm(HavenForm):
    """A colleague, by their public id, from those the author may grant (name and role, sorted
    by role then name; never the author)."""

    grantee = ColleagueField(
        label="Colleague",
        queryset=None,
        to_field_name="public_id",
        empty_label="Choose a colleague",
        error_messages={
            "required": "Colleague: choose who may read your notes.",
            "invalid_choice": "Colleague: choose from the list.",
        },
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grantee"].queryset = choices
        self.fields["grantee"].label_from_instance = colleague_label
