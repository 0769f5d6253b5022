"""Disclosure pages (issue 16, specs/privacy.md): a packet on a consent, a disclosure under
another legal basis, the client's own copy, and the accounting of disclosures.

Thin views: the client is found through `client_for` (404 for strangers), the services in
clients/disclosures.py check Part 2 and log; a packet is returned as the PDF in the same request
that logged it, so the bytes the log's SHA-256 covers are the bytes sent.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from clients import disclosures
from clients.access import client_for
from clients.disclosure_forms import (
    AccountingForm,
    ClientCopyForm,
    ConsentDisclosureForm,
    OtherBasisForm,
)
from clients.models import Consent
from facility import policy
from facility.access import client_ip
from facility.forms import add_service_errors
from facility.models import AccessAction
from facility.pdf import pdf_response
from facility.services import access_log


def _viewed(request, client, what: str) -> None:
    access_log(
        action=AccessAction.VIEW,
        actor=request.user,
        facility=client.facility,
        client=client,
        what=what,
        ip=client_ip(request),
    )


def _packet_response(packet: disclosures.Packet) -> HttpResponse:
    """The packet exactly as logged: these bytes are what the SHA-256 covers."""
    response = HttpResponse(packet.content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{packet.file_name}"'
    return response


def _consents(client) -> list[Consent]:
    """The client's consents, newest first, each with `unusable` (why not, or None)."""
    consents = list(
        Consent.objects.filter(client=client).select_related("admission", "client__facility")
    )
    for consent in consents:
        consent.unusable = disclosures.consent_problems(consent).get("consent")
    return consents


def _links(request, client) -> dict:
    return {
        "may_disclose": policy.allows(request.user, "disclosure.make"),
        "may_copy": policy.allows(request.user, "records.client_copy"),
        "may_account": policy.allows(request.user, "disclosure.accounting"),
    }


@policy.requires("disclosure.make")
@require_http_methods(["GET", "POST"])
def disclosure_consent(request, public_id):
    """Choose a usable consent, the categories and the period; the packet comes back as a PDF."""
    client = client_for(request, public_id)
    consents = _consents(client)
    if request.method == "POST":
        form = ConsentDisclosureForm(request.POST, client=client, consents=consents)
        if form.is_valid():
            data = form.cleaned_data
            try:
                _disclosure, packet = disclosures.disclose_on_consent(
                    actor=request.user,
                    client=client,
                    consent=data["consent_obj"],
                    categories=data["categories"],
                    start=data["period_start"],
                    end=data["period_end"],
                    recipient_name=data["recipient_name"],
                    recipient_address=data["recipient_address"],
                    purpose=data["purpose"],
                    method=data["method"],
                    ip=client_ip(request),
                    recipient_in_class=bool(data.get("recipient_in_class")),
                )
            except (ValidationError, PermissionDenied) as exc:
                add_service_errors(form, exc)
            else:
                return _packet_response(packet)
    else:
        start, end = disclosures.stay_period(client)
        initial = {"period_start": start, "period_end": end}
        chosen = next((c for c in consents if str(c.public_id) == request.GET.get("consent")), None)
        if chosen is None:
            chosen = next((c for c in consents if not c.unusable), None)
        if chosen is not None:
            initial.update(
                consent=str(chosen.public_id),
                # A consent naming a class: the discloser names the actual recipient.
                recipient_name="" if chosen.recipient_is_class else chosen.recipient_name,
                recipient_address="" if chosen.recipient_is_class else chosen.recipient_address,
                purpose=chosen.purpose,
                categories=list(chosen.categories or []),
            )
        form = ConsentDisclosureForm(initial=initial, client=client, consents=consents)
    _viewed(request, client, "disclosure on consent")
    return render(
        request,
        "clients/disclosure_form.html",
        {
            "client": client,
            "form": form,
            "consents": consents,
            "usable": [c for c in consents if not c.unusable],
            "chosen": form.chosen(),
            **_links(request, client),
        },
        status=400 if form.is_bound else 200,
    )


@policy.requires("disclosure.make")
@require_http_methods(["GET", "POST"])
def disclosure_other(request, public_id):
    """Log a disclosure under another legal basis (§2.51 emergency, court order, ...), with a
    packet PDF built now or a description only."""
    client = client_for(request, public_id)
    if request.method == "POST":
        form = OtherBasisForm(request.POST, client=client)
        if form.is_valid():
            data = form.cleaned_data
            with_packet = data["content"] == "packet"
            try:
                disclosure, packet = disclosures.disclose_other_basis(
                    actor=request.user,
                    client=client,
                    legal_basis=data["legal_basis"],
                    recipient_name=data["recipient_name"],
                    recipient_address=data["recipient_address"],
                    recipient_affiliation=data["recipient_affiliation"],
                    purpose=data["purpose"],
                    basis_detail=data["basis_detail"],
                    disclosed_by=data["disclosed_by"],
                    disclosed_at=data.get("disclosed_at"),
                    method=data["method"],
                    packet=with_packet,
                    categories=data.get("categories") or [],
                    start=data.get("period_start"),
                    end=data.get("period_end"),
                    description=data.get("description") or "",
                    ip=client_ip(request),
                )
            except (ValidationError, PermissionDenied) as exc:
                add_service_errors(form, exc)
            else:
                if packet is not None:
                    return _packet_response(packet)
                messages.success(
                    request,
                    f"Disclosure to {disclosure.recipient_name} logged "
                    f"({disclosure.get_legal_basis_display()}).",
                )
                return redirect(reverse("clients:accounting", args=[client.public_id]))
    else:
        start, end = disclosures.stay_period(client)
        form = OtherBasisForm(
            initial={"period_start": start, "period_end": end, "when": "now"}, client=client
        )
    _viewed(request, client, "disclosure under another legal basis")
    return render(
        request,
        "clients/disclosure_other.html",
        {"client": client, "form": form, **_links(request, client)},
        status=400 if form.is_bound else 200,
    )


@policy.requires("records.client_copy")
@require_http_methods(["GET", "POST"])
def client_copy(request, public_id):
    """The client's own copy of their record for a period (right of access), as a PDF."""
    client = client_for(request, public_id)
    if request.method == "POST":
        form = ClientCopyForm(request.POST, client=client)
        if form.is_valid():
            data = form.cleaned_data
            try:
                _disclosure, packet = disclosures.client_copy(
                    actor=request.user,
                    client=client,
                    start=data["period_start"],
                    end=data["period_end"],
                    method=data["method"],
                    ip=client_ip(request),
                )
            except (ValidationError, PermissionDenied) as exc:
                add_service_errors(form, exc)
            else:
                return _packet_response(packet)
    else:
        start, end = disclosures.stay_period(client)
        form = ClientCopyForm(initial={"period_start": start, "period_end": end}, client=client)
    _viewed(request, client, "client's own copy")
    return render(
        request,
        "clients/disclosure_client_copy.html",
        {
            "client": client,
            "form": form,
            "categories": disclosures.categories_for(),
            **_links(request, client),
        },
        status=400 if form.is_bound else 200,
    )


def _accounting(request, client):
    """The period asked for (default the last three years) and the rows, or the invalid form."""
    start, end = disclosures.accounting_period(client)
    form = AccountingForm(
        request.GET if "period_start" in request.GET else None,
        initial={"period_start": start, "period_end": end},
        client=client,
    )
    if form.is_bound:
        if not form.is_valid():
            return form, None, None, None
        start, end = form.cleaned_data["period_start"], form.cleaned_data["period_end"]
    rows = disclosures.accounting(actor=request.user, client=client, start=start, end=end)
    return form, rows, start, end


@policy.requires("disclosure.accounting")
@require_GET
def accounting(request, public_id):
    """Every logged disclosure of the client in the period, on screen."""
    client = client_for(request, public_id)
    form, rows, start, end = _accounting(request, client)
    _viewed(request, client, "accounting of disclosures")
    return render(
        request,
        "clients/accounting.html",
        {
            "client": client,
            "form": form,
            "rows": rows,
            "start": start,
            "end": end,
            "query": request.GET.urlencode(),
            **_links(request, client),
        },
        status=400 if rows is None else 200,
    )


@policy.requires("disclosure.accounting")
@require_GET
def accounting_pdf(request, public_id):
    """The accounting as a PDF with the notice; the print is audited (pdf_response)."""
    client = client_for(request, public_id)
    form, rows, start, end = _accounting(request, client)
    if rows is None:
        return redirect(reverse("clients:accounting", args=[client.public_id]))
    return pdf_response(
        request,
        filename=f"{client.mrn}-accounting-{start:%Y%m%d}-{end:%Y%m%d}.pdf",
        client=client,
        template="clients/accounting_pdf.html",
        context={"client": client, "rows": rows, "start": start, "end": end},
        facility=client.facility,
        title="Accounting of disclosures",
        period=f"{start:%Y-%m-%d} to {end:%Y-%m-%d}",
    )
