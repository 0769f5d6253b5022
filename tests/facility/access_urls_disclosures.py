"""The access matrix's rows for issue 16's disclosures URLs (test_access_matrix.py)."""

from datetime import timedelta

from django.utils import timezone

from tests.facility.test_access_matrix import Post, Url, count, field_of  # noqa: F401


def client_pid(w):
    return [w.admission.client.public_id]


def a_tpo_consent(w):
    """A TPO consent of the home client for a clinic, usable now (made the first time it is
    asked for, within the calling test)."""
    from clients.models import Consent

    client = w.admission.client
    found = Consent.objects.filter(client=client, recipient_name="Matrix Clinic").first()
    today = timezone.localtime(timezone.now(), w.facility.tz).date()
    return found or Consent.objects.create(
        client=client, admission=w.admission, consent_type="tpo", client_name=client.legal_name,
        program_name=w.facility.name, categories=["demographics", "medications"],
        recipient_name="Matrix Clinic", purpose="Continuing care", revocation_explained=True,
        expiry="date", expires_on=today + timedelta(days=30), signature_kind="drawn",
        signature_svg="<svg xmlns='http://www.w3.org/2000/svg'/>", signed_by_name=client.legal_name,
        signed_on=today, consequences_explained=True, redisclosure_explained=True,
        recorded_by=w.cast["clinician"],
    )  # fmt: skip


def _today(w) -> str:
    return timezone.localtime(timezone.now(), w.facility.tz).date().isoformat()


def consent_disclosure_body(w) -> dict:
    consent = a_tpo_consent(w)
    return {
        "consent": str(consent.public_id), "categories": ["demographics"],
        "period_start": _today(w), "period_end": _today(w), "recipient_name": "Matrix Clinic",
        "recipient_address": "", "purpose": "Continuing care", "method": "print",
    }  # fmt: skip


def emergency_body(w) -> dict:
    return {
        "legal_basis": "medical_emergency", "recipient_name": "Dr. Matrix",
        "recipient_affiliation": "Matrix Hospital ED", "recipient_address": "",
        "basis_detail": "Collapsed in the day room", "purpose": "Emergency treatment",
        "disclosed_by": "", "when": "now", "disclosed_at": "", "method": "print",
        "content": "description", "description": "Medication list read by phone.",
    }  # fmt: skip


def client_copy_body(w) -> dict:
    return {"period_start": _today(w), "period_end": _today(w), "method": "print"}


URLS: dict[str, Url] = {
    "clients:disclosure_consent": Url(
        client_pid, True, 200, Post(consent_disclosure_body, count("clients.Disclosure"), ok=200)
    ),
    "clients:disclosure_other": Url(
        client_pid, True, 200, Post(emergency_body, count("clients.Disclosure"))
    ),
    "clients:client_copy": Url(
        client_pid, True, 200, Post(client_copy_body, count("clients.Disclosure"), ok=200)
    ),
    "clients:accounting": Url(client_pid, True),
    "clients:accounting_pdf": Url(client_pid, True),
}
