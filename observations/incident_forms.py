"""HTTP input for incident reports (issue 12 item 4): the report (a draft, saved and completed by
its reporter), and what is added after submission: a notification, a follow-up, the debrief and
the supervisor's sign-off. Clients and staff are picked among the facility's by public id; every
error names its field. The service judges the rules (observations.services.incidents)."""

from django import forms

from clients.forms import local_datetime_field
from clients.models import Admission
from facility import policy
from facility.forms import HavenForm
from facility.models import User
from observations.models import (
    FamilyBasis,
    IncidentSeverity,
    IncidentType,
    Intervention,
    NotifiedParty,
    NotifyMethod,
)
from observations.services.incidents import TEXT_LIMITS, IncidentFields


def _text(label: str, name: str, *, rows: int = 0, help_text: str = "") -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(
        label=label,
        max_length=TEXT_LIMITS[name],
        required=False,
        widget=widget,
        help_text=help_text,
    )


class IncidentForm(HavenForm):
    """The report: what, when, where, who, what happened, what was done. A draft may be saved
    incomplete; submitting needs the severity and the description (the service says so)."""

    incident_type = forms.ChoiceField(
        label="Type",
        choices=[("", "Choose…"), *IncidentType.choices],
        error_messages={"required": "Type: choose one.", "invalid_choice": "Type: choose one."},
    )
    severity = forms.ChoiceField(
        label="Severity",
        choices=IncidentSeverity.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Severity: choose one."},
    )
    occurred_at = local_datetime_field("When")
    location = _text("Where", "location")
    clients = forms.MultipleChoiceField(
        label="Clients involved",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Clients: choose clients of this facility."},
    )
    staff = forms.MultipleChoiceField(
        label="Staff involved or present",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Staff: choose staff of this facility."},
        help_text="Named staff may read this report.",
    )
    visitors = _text("Visitors involved", "visitors")
    description = _text(
        "What happened (objective)",
        "description",
        rows=5,
        help_text="What was seen and heard, in order; no opinions or diagnoses.",
    )
    antecedents = _text("Antecedents (what came before)", "antecedents", rows=3)
    interventions = forms.MultipleChoiceField(
        label="Interventions",
        choices=Intervention.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Interventions: choose from the list."},
    )
    hold_started_at = local_datetime_field("Hold started", required=False)
    hold_ended_at = local_datetime_field("Hold ended", required=False)
    injuries = _text("Injuries (who, what, first aid given)", "injuries", rows=3)
    ems_called_at = local_datetime_field("Emergency services called at", required=False)
    ems_agency = _text("Agency", "ems_agency")
    ems_outcome = _text("Outcome", "ems_outcome")

    def __init__(self, *args, facility, reporter, incident=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.facility = facility
        admissions = Admission.objects.filter(facility=facility).select_related("client")
        linked = incident.client_links.values("admission_id") if incident else []
        self.admissions = {
            str(a.public_id): a
            for a in admissions.filter(discharged_at__isnull=True)
            | admissions.filter(pk__in=linked)
        }
        self.fields["clients"].choices = [
            (pid, f"{a.client.display_name} ({a.client.mrn})")
            for pid, a in sorted(self.admissions.items(), key=lambda kv: kv[1].client.display_name)
        ]
        # Who may be named: staff who read incident reports (admins do not read records).
        # The reporter reads their own report already: not offered.
        people = User.objects.filter(
            facilities=facility, is_active=True, role__in=policy.roles_with("incident.view")
        ).exclude(pk=reporter.pk)
        named = incident.staff_links.values("user_id") if incident else []
        self.people = {
            str(u.public_id): u
            for u in (people | User.objects.filter(pk__in=named)).distinct().order_by("full_name")
        }
        self.fields["staff"].choices = [
            (pid, f"{u.full_name or u.username} ({u.get_role_display()})")
            for pid, u in self.people.items()
        ]
        if not facility.emergency_holds_permitted:
            self.fields["interventions"].choices = [
                c for c in Intervention.choices if c[0] != Intervention.HOLD
            ]
            for name in ("hold_started_at", "hold_ended_at"):
                del self.fields[name]

    @classmethod
    def initial_from(cls, incident) -> dict:
        data = {
            name: getattr(incident, name)
            for name in (
                "incident_type", "severity", "occurred_at", "location", "visitors",
                "description", "antecedents", "interventions", "hold_started_at",
                "hold_ended_at", "injuries", "ems_called_at", "ems_agency", "ems_outcome",
            )
        }  # fmt: skip
        data["clients"] = [
            str(pid) for pid in incident.client_links.values_list("admission__public_id", flat=True)
        ]
        data["staff"] = [
            str(pid) for pid in incident.staff_links.values_list("user__public_id", flat=True)
        ]
        return data

    def fields_for_service(self) -> IncidentFields:
        data = self.cleaned_data
        return IncidentFields(
            incident_type=data["incident_type"],
            occurred_at=data["occurred_at"],
            severity=data["severity"],
            location=data["location"],
            visitors=data["visitors"],
            description=data["description"],
            antecedents=data["antecedents"],
            interventions=tuple(data["interventions"]),
            hold_started_at=data.get("hold_started_at"),
            hold_ended_at=data.get("hold_ended_at"),
            injuries=data["injuries"],
            ems_called_at=data["ems_called_at"],
            ems_agency=data["ems_agency"],
            ems_outcome=data["ems_outcome"],
            clients=tuple(self.admissions[pid] for pid in data["clients"]),
            staff=tuple(self.people[pid] for pid in data["staff"]),
        )


class NotificationForm(HavenForm):
    party = forms.ChoiceField(
        label="Who was told",
        choices=[("", "Choose…"), *NotifiedParty.choices],
        error_messages={
            "required": "Who was told: choose one.",
            "invalid_choice": "Who was told: choose one.",
        },
    )
    person = forms.CharField(
        label="Name",
        max_length=120,
        help_text="Name, agency or badge number, as told.",
        error_messages={"required": "Name: say who was told (name, agency or badge)."},
    )
    method = forms.ChoiceField(
        label="How",
        choices=[("", "Choose…"), *NotifyMethod.choices],
        error_messages={"required": "How: choose one.", "invalid_choice": "How: choose one."},
    )
    notified_at = local_datetime_field("When")
    family_basis = forms.ChoiceField(
        label="Basis (family or guardian only)",
        choices=[("", "Not family"), *FamilyBasis.choices],
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Basis: choose one."},
    )
    consent_reference = forms.CharField(
        label="Consent reference",
        max_length=120,
        required=False,
        help_text="Consents are not yet kept in Haven: type the reference of the client's signed "
        "consent (form and date) after checking it is signed, unexpired, unrevoked and names "
        "this person.",
    )
    note = forms.CharField(
        label="Note",
        max_length=300,
        required=False,
        help_text="For a medical emergency: what the emergency is.",
    )


class FollowUpForm(HavenForm):
    text = forms.CharField(
        label="Follow-up",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Follow-up: say what was learnt or done."},
    )


class DebriefForm(HavenForm):
    debrief_at = local_datetime_field("Debrief held at")
    debrief_note = forms.CharField(
        label="Who took part, what was agreed",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Debrief: say who took part and what was agreed."},
    )


class ReviewForm(HavenForm):
    review_note = forms.CharField(
        label="Review and sign-off",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Review: say what was reviewed and decided."},
    )
