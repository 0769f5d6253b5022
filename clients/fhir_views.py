"""The FHIR R4 export of one client (issue 16 item 6): a small form, then the JSON download.

The export is a disclosure: at the client's own request (right of access) or on a consent that
is usable now for the chosen categories. Either way it is logged (clients/disclosures.py) with
the SHA-256 of the exact bytes sent. clients/fhir.py builds and validates the bundle.
"""

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from clients import consent_rules
from clients.access import client_for
from clients.fhir import CAPABILITY, CATEGORIES, category_labels, fhir_export
from clients.models import Consent, LegalBasis
from facility import policy
from facility.access import client_ip
from facility.forms import HavenForm, add_service_errors
from facility.validators import PlausibleDateValidator

BASIS_CHOICES = [
    (LegalBasis.CLIENT_REQUEST, "The client's own request (right of access)"),
    (LegalBasis.CONSENT, "A disclosure on the client's written consent"),
]


def _day_field(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[
            PlausibleDateValidator(
                label,
                future=timedelta(0),
                too_early=f"{label}: must be 1900 or later.",
                too_late=f"{label}: cannot be in the future.",
            )
        ],
        error_messages={"invalid": f"{label}: enter a valid date."},
    )


class ConsentChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, usable_reasons=None, **kwargs):
        self.usable_reasons = usable_reasons or {}
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError as exc:  # a malformed id says which field, like a stranger's
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from exc

    def label_from_instance(self, consent: Consent) -> str:
        reason = self.usable_reasons.get(consent.pk)
        state = f"not usable: {reason}" if reason else "usable now"
        return (
            f"{consent.get_consent_type_display()} — {consent.recipient_name}, signed "
            f"{consent.signed_on:%Y-%m-%d} ({state})"
        )


class FhirExportForm(HavenForm):
    basis = forms.ChoiceField(
        label="Why it is made",
        choices=BASIS_CHOICES,
        initial=LegalBasis.CLIENT_REQUEST,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Why it is made: choose one.",
            "invalid_choice": "Why it is made: choose from the list.",
        },
    )
    start = _day_field("From (leave empty for the whole record)")
    end = _day_field("To (leave empty for today)")
    categories = forms.MultipleChoiceField(
        label="Information to include",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one category.",
            "invalid_choice": "Information to include: choose from the list.",
        },
    )

    def __init__(self, *args, client, now, **kwargs):
        super().__init__(*args, **kwargs)
        labels = category_labels()
        self.fields["categories"].choices = [(c, labels.get(c, c)) for c in CATEGORIES]
        self.fields["categories"].initial = list(CATEGORIES)
        consents = list(client.consents.select_related("admission").order_by("-signed_on", "-id"))
        today = timezone.localtime(now, client.facility.tz).date()
        reasons = {
            c.pk: consent_rules.unusable_reason(
                c,
                now=now,
                today=today,
                discharged_at=c.admission.discharged_at if c.admission_id else None,
            )
            for c in consents
        }
        self.fields["consent"] = ConsentChoiceField(
            label="The consent (for a disclosure on consent)",
            queryset=client.consents.select_related("admission"),
            to_field_name="public_id",
            required=False,
            usable_reasons=reasons,
            empty_label="—",
            error_messages={"invalid_choice": "The consent: choose one of this client's."},
        )

    def clean(self):
        data = super().clean()
        if data.get("basis") == LegalBasis.CONSENT and not data.get("consent"):
            self.add_error("consent", "Choose the consent this disclosure is made on.")
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", "To: the period ends before it starts.")
        return data


@policy.requires(CAPABILITY)
@require_http_methods(["GET", "POST"])
def fhir_export_view(request, public_id):
    """GET: the form. POST: the bundle as an `application/fhir+json` download, logged as a
    disclosure; a refusal (an unusable consent) shows the form again with the reason."""
    client = client_for(request, public_id)
    now = timezone.now()
    form = FhirExportForm(request.POST or None, client=client, now=now)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        consent = data["consent"] if data["basis"] == LegalBasis.CONSENT else None
        try:
            content, disclosure = fhir_export(
                actor=request.user,
                client=client,
                categories=data["categories"],
                start_day=data["start"],
                end_day=data["end"],
                consent=consent,
                base_url=request.build_absolute_uri("/fhir/R4/"),
                ip=client_ip(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            response = HttpResponse(content, content_type="application/fhir+json")
            response["Content-Disposition"] = f'attachment; filename="{disclosure.file_name}"'
            response["Cache-Control"] = "no-store"
            return response
    return render(
        request,
        "clients/fhir_export.html",
        {"client": client, "form": form},
        status=400 if request.method == "POST" else 200,
    )
