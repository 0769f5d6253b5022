"""Part 2 consents and amendment requests (issue 16 items 1 and 9): the consent form, its page,
the signed copy, revocation; recording and deciding a request to amend. Thin: the rules are in
clients/consents.py. Every page showing a consent or a request is in the access log."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from clients import consents
from clients.access import client_for
from clients.consent_forms import AmendmentDecisionForm, AmendmentForm, ConsentForm, RevokeForm
from clients.models import AmendmentRequest, AmendmentStatus, Client, Consent, ConsentType
from facility import policy
from facility.access import client_ip
from facility.forms import add_service_errors
from facility.models import AccessAction
from facility.services import access_log


def _consent_for(request, public_id) -> Consent:
    """A consent of a client the user may see, else 404; the client's facility clock."""
    consent = get_object_or_404(
        Consent.objects.select_related(
            "client__facility", "admission", "recorded_by", "revocation_received_by"
        ),
        public_id=public_id,
        client__in=Client.objects.visible_to(request.user),
    )
    timezone.activate(consent.client.facility.tz)
    return consent


def _amendment_for(request, public_id) -> AmendmentRequest:
    amendment = get_object_or_404(
        AmendmentRequest.objects.select_related("client__facility", "received_by", "decided_by"),
        public_id=public_id,
        client__in=Client.objects.visible_to(request.user),
    )
    timezone.activate(amendment.client.facility.tz)
    return amendment


def _log(request, client, what: str, action: str = AccessAction.VIEW) -> None:
    access_log(
        action=action,
        actor=request.user,
        facility=client.facility,
        client=client,
        what=what,
        ip=client_ip(request),
    )


def _chart(client, section: str):
    return redirect(reverse("clients:chart", args=[client.public_id]) + f"#section-{section}")


@policy.requires("consents.manage")
@require_http_methods(["GET", "POST"])
def consent_new(request, public_id):
    """A new consent: type, the ten elements, the signature drawn on the tablet or uploaded."""
    client = client_for(request, public_id)
    policy.require(request.user, "consents.manage", client)
    today = consents.facility_today(client)
    form = ConsentForm(request.POST or None, request.FILES or None, client=client, today=today)
    if request.method == "POST" and form.is_valid():
        try:
            consent = consents.consent_create(
                actor=request.user, client=client, **form.service_data()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Saved: {consent.get_consent_type_display()} consent for "
                f"{consent.recipient_name}.",
            )  # fmt: skip
            return _chart(client, "consents")
    return render(
        request,
        "clients/consent_form.html",
        {
            "client": client,
            "form": form,
            "open_stay": consents.open_stay(client),
            "tpo": ConsentType.TPO,
        },
    )


@policy.requires("consents.view")
@require_GET
def consent_detail(request, public_id):
    """One consent: its scope, the signature, whether it is usable now and why not."""
    consent = _consent_for(request, public_id)
    row = consents.consent_row(consent)
    _log(request, consent.client, "consent")
    return render(
        request,
        "clients/consent_detail.html",
        {
            "client": consent.client,
            "consent": consent,
            "row": row,
            "signature_path": consents.stored_signature_path(consent),
            "pad_width": consents.PAD_WIDTH,
            "pad_height": consents.PAD_HEIGHT,
            "can_manage": policy.allows(request.user, "consents.manage", consent.client),
        },
    )


@policy.requires("consents.manage")
@require_GET
def consent_signed_copy(request, public_id):
    """The uploaded signed paper copy, as it was received; the download is audited."""
    consent = _consent_for(request, public_id)
    if consent.signed_copy is None or not consent.signed_copy_type:
        raise Http404("No signed copy on file.")
    content = bytes(consent.signed_copy)
    found = consents.signed_copy_type(content)
    if found is None:
        raise Http404("No signed copy on file.")
    _log(request, consent.client, "signed consent copy", AccessAction.EXPORT)
    response = HttpResponse(content, content_type=found[0])
    response["Content-Disposition"] = (
        f'attachment; filename="consent-{consent.client.mrn}-{consent.signed_on:%Y%m%d}.{found[1]}"'
    )
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@policy.requires("consents.manage")
@require_http_methods(["GET", "POST"])
def consent_revoke(request, public_id):
    """Record a revocation: received by the signed-in user, now or at a stated earlier time."""
    consent = _consent_for(request, public_id)
    form = RevokeForm(request.POST or None, consent=consent)
    if request.method == "POST" and form.is_valid():
        try:
            consents.consent_revoke(
                actor=request.user,
                consent=consent,
                revoked_at=form.cleaned_data["revoked_at"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Revoked: the consent for {consent.recipient_name}.")
            return _chart(consent.client, "consents")
    _log(request, consent.client, "consent revocation")
    return render(
        request,
        "clients/consent_revoke.html",
        {"client": consent.client, "consent": consent, "form": form},
    )


@policy.requires("amendment.record")
@require_http_methods(["GET", "POST"])
def amendment_new(request, public_id):
    """Record a client's request to amend their record (received now, by the user)."""
    client = client_for(request, public_id)
    form = AmendmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consents.amendment_record(actor=request.user, client=client, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Recorded the request to amend; it waits for a decision.")
            return _chart(client, "amendments")
    return render(request, "clients/amendment_form.html", {"client": client, "form": form})


@policy.requires("amendment.decide")
@require_http_methods(["GET", "POST"])
def amendment_decide(request, public_id):
    """Accept (the amendment is appended) or deny (the request and the denial are appended)."""
    amendment = _amendment_for(request, public_id)
    form = AmendmentDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consents.amendment_decide(actor=request.user, amendment=amendment, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Decision recorded and appended to the record.")
            return _chart(amendment.client, "amendments")
    _log(request, amendment.client, "amendment request")
    return render(
        request,
        "clients/amendment_decide.html",
        {
            "client": amendment.client,
            "amendment": amendment,
            "form": form,
            "pending": amendment.status == AmendmentStatus.PENDING,
        },
    )
