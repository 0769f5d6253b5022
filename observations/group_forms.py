"""HTTP input for groups (issue 12 item 5): a new session from the facility's curriculum, the day
shown on the groups page, and the attendance of a whole roster in one post (per client
`status-<id>`, `minutes-<id>`, `participation-<id>`, `excuse_reason-<id>`, `note-<id>`, the
names the service's errors use). The rules (partial minutes within the session, a reason to
excuse, everyone documented) are the service's; every error names its client."""

from datetime import timedelta

from django import forms

from clients.forms import local_datetime_field
from facility.forms import HavenForm, harden_field
from observations import groups as rules
from observations.forms import facility_unit_field, limit_units
from observations.models import AttendanceStatus, GroupParticipation, GroupTopic
from observations.services.groups import AttendanceRow, facilitator_choices

LENGTHS = [
    (30, "30 minutes"), (45, "45 minutes"), (60, "1 hour"), (75, "1¼ hours"), (90, "1½ hours"),
    (120, "2 hours"), (150, "2½ hours"), (180, "3 hours"), (240, "4 hours"),
]  # fmt: skip


class TopicChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: GroupTopic) -> str:
        return obj.title


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.signature


def topic_choices(facility):
    """The active curriculum, grouped by type for the picker: [(type label, [(pk, title)])]."""
    topics = GroupTopic.objects.filter(facility=facility, active=True).order_by(
        "group_type", "title"
    )
    grouped: dict[str, list] = {}
    for topic in topics:
        grouped.setdefault(topic.get_group_type_display(), []).append((topic.pk, topic.title))
    return [("", "Choose a topic…"), *grouped.items()]


class GroupSessionForm(HavenForm):
    """A group held (or about to be): topic, start and length, facilitators, unit and place."""

    topic = TopicChoiceField(
        queryset=GroupTopic.objects.none(),
        error_messages={
            "required": "Topic: choose one from the curriculum.",
            "invalid_choice": "Topic: choose one from the curriculum.",
        },
    )
    starts_at = local_datetime_field("Starts")
    length = forms.TypedChoiceField(
        label="Length",
        coerce=int,
        choices=LENGTHS,
        initial=60,
        error_messages={
            "required": "Length: choose how long the group lasts.",
            "invalid_choice": "Length: choose how long the group lasts.",
        },
    )
    facilitator = StaffChoiceField(
        queryset=None,
        error_messages={
            "required": "Facilitator: choose who runs the group.",
            "invalid_choice": "Facilitator: choose a staff member here who runs groups.",
        },
    )
    co_facilitator = StaffChoiceField(
        queryset=None,
        required=False,
        label="Co-facilitator",
        empty_label="None",
        error_messages={
            "invalid_choice": "Co-facilitator: choose a staff member here who runs groups."
        },
    )
    unit = facility_unit_field()
    location = forms.CharField(
        max_length=120, required=False, help_text="e.g. Group room, Day room, Outdoors"
    )

    def __init__(self, *args, facility, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = GroupTopic.objects.filter(facility=facility, active=True)
        self.fields["topic"].choices = topic_choices(facility)
        staff = facilitator_choices(facility)
        self.fields["facilitator"].queryset = staff
        self.fields["co_facilitator"].queryset = staff
        unit = self.fields["unit"]
        limit_units(unit, facility)
        unit.empty_label = "Whole facility"

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("length"):
            data["ends_at"] = data["starts_at"] + timedelta(minutes=data["length"])
        return data


class GroupDayForm(HavenForm):
    """The day the groups page shows (default today on the facility's clock)."""

    day = forms.DateField(required=False, error_messages={"invalid": "Day: enter a valid date."})


STATUS_CHOICES = AttendanceStatus.choices
PARTICIPATION_CHOICES = GroupParticipation.choices


class AttendanceForm(HavenForm):
    """The whole roster of a session: each unlocked client's fields, named by their stay's
    public id, and the reason for changes when the session was documented before."""

    reason = forms.CharField(label="Reason for the changes", max_length=300, required=False)

    def __init__(self, *args, roster, **kwargs):
        super().__init__(*args, **kwargs)
        self.roster = roster
        added = {}
        for line in roster:
            if line.locked:
                continue
            pid, name = line.admission.public_id, line.admission.client.display_name
            added[f"status-{pid}"] = forms.ChoiceField(
                label=f"{name}: Attendance",
                choices=STATUS_CHOICES,
                required=False,
                error_messages={
                    "invalid_choice": f"{name}: choose present, partial, absent, refused or "
                    "excused."
                },
            )
            added[f"minutes-{pid}"] = forms.IntegerField(
                label=f"{name}: Minutes",
                required=False,
                min_value=0,
                max_value=rules.MAX_SESSION_MINUTES,
                error_messages={
                    "invalid": f"{name}: minutes: enter a whole number.",
                    "min_value": f"{name}: minutes: enter a whole number.",
                    "max_value": f"{name}: minutes: at most the group's length.",
                },
            )
            added[f"participation-{pid}"] = forms.ChoiceField(
                label=f"{name}: Participation",
                choices=[("", "–"), *PARTICIPATION_CHOICES],
                required=False,
                error_messages={
                    "invalid_choice": f"{name}: participation: choose active, minimal, none or "
                    "disruptive."
                },
            )
            added[f"excuse_reason-{pid}"] = forms.CharField(
                label=f"{name}: Reason excused", max_length=200, required=False
            )
            added[f"note-{pid}"] = forms.CharField(
                label=f"{name}: Note", max_length=200, required=False
            )
        self.fields.update(added)
        for field_name, field in added.items():
            harden_field(field, field_name)

    def rows(self) -> list[AttendanceRow]:
        """One row per client with a status chosen. Minutes count only for partial, the reason
        only for excused, participation only for a client who attended: the page hides those
        fields otherwise, so what they hold then was not meant (a status tapped, then changed)."""
        data = self.cleaned_data
        out = []
        for line in self.roster:
            pid = line.admission.public_id
            status = data.get(f"status-{pid}") if not line.locked else ""
            if not status:
                continue
            out.append(
                AttendanceRow(
                    admission=line.admission,
                    status=status,
                    minutes=data[f"minutes-{pid}"] if status == AttendanceStatus.PARTIAL else None,
                    participation=data[f"participation-{pid}"] if status in rules.ATTENDED else "",
                    excuse_reason=data[f"excuse_reason-{pid}"]
                    if status == AttendanceStatus.EXCUSED
                    else "",
                    note=data[f"note-{pid}"],
                )
            )
        return out

    def messages(self) -> list[str]:
        """Every error, each naming its client or field, in the order of the page."""
        out = []
        for errors in self.errors.values():
            out.extend(errors)
        return out
