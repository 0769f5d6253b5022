"""Forms of the facility core: staff accounts, alert resolution, audit filters."""

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.forms.utils import pretty_name
from django.http import HttpRequest

from facility.models import Facility, Role, User
from facility.validators import PlausibleDateValidator, SafeTextValidator

# Text fields that name no limit get this one: the form, not PostgreSQL, refuses a novel.
DEFAULT_TEXT_MAX_LENGTH = 1000


def harden_field(field: forms.Field, name: str) -> None:
    """Give one field the project's input checks (see SafeInputMixin)."""
    label = str(field.label or pretty_name(name))
    # UUID and JSON fields are CharFields that clean to something other than text.
    if isinstance(field, forms.CharField) and not isinstance(
        field, forms.UUIDField | forms.JSONField
    ):
        if not isinstance(field.widget, forms.PasswordInput):
            # Ours refuses NUL too, with a message that names the field.
            field.validators = [
                v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)
            ]
            field.validators.append(SafeTextValidator(label))
        if field.max_length is None:
            field.max_length = DEFAULT_TEXT_MAX_LENGTH
            field.validators.append(MaxLengthValidator(DEFAULT_TEXT_MAX_LENGTH))
            field.widget.attrs.setdefault("maxlength", str(DEFAULT_TEXT_MAX_LENGTH))
        field.error_messages["max_length"] = (
            f"{label}: at most %(limit_value)d characters (this has %(show_value)d)."
        )
    elif isinstance(field, forms.DecimalField):
        # Django's own wording ("Ensure that there are no more than 2 decimal places.") does
        # not say which field; a quantity is refused, never rounded.
        field.error_messages.setdefault(
            "max_decimal_places", f"{label}: at most %(max)s decimal places."
        )
        field.error_messages.setdefault("max_digits", f"{label}: too many digits.")
        field.error_messages.setdefault("max_whole_digits", f"{label}: too large.")
    elif isinstance(field, forms.DateField | forms.DateTimeField) and not any(
        isinstance(v, PlausibleDateValidator) for v in field.validators
    ):
        field.validators.append(PlausibleDateValidator(label))


class SafeInputMixin:
    """Every form of the project: each text field has a maximum length and refuses NUL and
    bidirectional control characters; each date is within a plausible range (issue 7).

    Applied when the form is built, so a field added later, or built per row, gets it too.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            harden_field(field, name)


class HavenForm(SafeInputMixin, forms.Form):
    """The base of every plain form."""


class HavenModelForm(SafeInputMixin, forms.ModelForm):
    """The base of every model form."""


def _route_choices():
    """The MAR's routes, read through the app registry (facility imports no leaf app)."""
    from django.apps import apps

    return apps.get_model("medications", "Order")._meta.get_field("route").choices


class FacilitySetupForm(HavenModelForm):
    """The facility setup page (/manage/): the technician scope on the MAR is facility policy
    (issue 9 item 9), read by facility/policy.py."""

    tech_observed_routes = forms.MultipleChoiceField(
        label="Routes technicians may chart as observed self-administration",
        choices=_route_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Routes: choose from the list."},
    )

    class Meta:
        model = Facility
        fields = [
            "name", "time_zone", "address", "shift_pattern",
            "tech_observed_routes", "tech_observed_controlled", "tech_prn_effect",
            "ciwa_profile",
        ]  # fmt: skip
        labels = {
            "ciwa_profile": "CIWA-Ar bands",
            "tech_observed_controlled": "Technicians may chart observed self-administration of "
            "controlled substances",
            "tech_prn_effect": "Technicians may chart a PRN dose's effectiveness",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A new facility's instance already holds the model's default list.
        routes = self.instance.tech_observed_routes or ""
        self.initial["tech_observed_routes"] = [r.strip() for r in routes.split(",") if r.strip()]
        if "ciwa_profile" in self.fields:
            self.fields["ciwa_profile"].required = False

    def clean_ciwa_profile(self) -> str:
        """Left out of a post (an older setup page), the profile in force stays (issue 11)."""
        return self.cleaned_data["ciwa_profile"] or self.instance.ciwa_profile or "default"

    def clean_tech_observed_routes(self) -> str:
        return ",".join(self.cleaned_data["tech_observed_routes"])


def service_error_messages(exc: ValidationError | PermissionDenied) -> dict[str | None, list[str]]:
    """A service's refusal as {field or None: messages}: a ValidationError names its fields (or
    none), a PermissionDenied from the access policy is a refusal of the whole request."""
    if isinstance(exc, PermissionDenied):
        return {None: [str(exc) or "Your role does not allow this."]}
    if hasattr(exc, "error_dict"):
        return {
            (None if field == NON_FIELD_ERRORS else field): errors
            for field, errors in exc.message_dict.items()
        }
    return {None: exc.messages}


def add_service_errors(
    target: forms.Form | HttpRequest, exc: ValidationError | PermissionDenied
) -> None:
    """The one way a view shows a service's refusal (issue 8).

    On a form: each message on the field it names, else on the form. On a request (a view that
    redirects instead of showing a form): each message as an error message on the next page.
    """
    errors = service_error_messages(exc)
    if isinstance(target, HttpRequest):
        for field_errors in errors.values():
            for message in field_errors:
                messages.error(target, message)
        return
    for field, field_errors in errors.items():
        target.add_error(field if field in target.fields else None, field_errors)


class StaffForm(HavenForm):
    """Create or edit a staff account. Every field names itself in its errors."""

    username = forms.RegexField(
        regex=r"^[a-z0-9._-]{3,40}$",
        max_length=40,
        help_text="Lower-case letters, digits, dot, dash or underscore; 3 to 40 characters.",
        error_messages={"invalid": "Username: use 3–40 lower-case letters, digits, . - or _."},
    )
    full_name = forms.CharField(max_length=150)
    email = forms.EmailField()
    initials = forms.RegexField(
        regex=r"^[A-Za-z]{2,4}$",
        error_messages={"invalid": "Initials: 2 to 4 letters."},
    )
    credentials = forms.CharField(max_length=60, required=False, help_text="e.g. BHT, RN, LCSW")
    role = forms.ChoiceField(choices=Role.choices)
    facilities = forms.ModelMultipleChoiceField(
        queryset=Facility.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Facilities: choose at least one.",
            "invalid_choice": "Facilities: choose facilities you administer.",
            "invalid_pk_value": "Facilities: choose facilities you administer.",
        },
    )

    def __init__(self, *args, instance: User | None = None, **kwargs):
        self.instance = instance
        super().__init__(*args, **kwargs)
        if instance is not None:
            self.fields["username"].disabled = True

    def clean_username(self):
        username = self.cleaned_data["username"]
        if self.instance is None and User.objects.filter(username__iexact=username).exists():
            raise ValidationError("Username: this username is taken.")
        return username

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        others = User.objects.filter(email__iexact=email)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError("Email: another staff account uses this address.")
        return email


class ResolveAlertForm(HavenForm):
    note = forms.CharField(
        label="What was done",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        error_messages={"required": "What was done: say how the alert was handled."},
    )
