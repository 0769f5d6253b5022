"""The access matrix's rows for issue 16's consents URLs (test_access_matrix.py): the consent
form, a consent's page, its signed copy, revocation; recording and deciding a request to amend.
The objects are built lazily on the matrix World's home client."""

from datetime import timedelta

from tests.facility.test_access_matrix import Post, Url, count, field_of  # noqa: F401

SIGNATURE = "M10 20 L40 60 L80 30"


def _category(w) -> str:
    from facility.registry import RecordCategory, registry

    found = next((c.key for c in registry.record_categories if not c.own_consent), None)
    if found is None:  # no app has registered one yet: a category for the matrix alone
        registry.register_record_category(
            RecordCategory(key="matrix", label="Matrix records", template="", render=dict)
        )
        found = "matrix"
    return found


def _today(w):
    from clients.consents import facility_today

    return facility_today(w.admission.client)


def a_consent(w, **fields):
    """A usable drawn single-purpose consent of the home client (within the calling test)."""
    from clients.consents import signature_svg
    from clients.models import Consent

    client = w.admission.client
    values = {
        "client": client, "admission": w.admission, "consent_type": "single",
        "client_name": client.legal_name, "program_name": w.facility.name,
        "categories": [_category(w)], "recipient_name": "Matrix Clinic",
        "purpose": "Coordination of care", "revocation_explained": True, "expiry": "date",
        "expires_on": _today(w) + timedelta(days=365), "signature_kind": "drawn",
        "signature_svg": signature_svg(SIGNATURE), "signed_by_name": client.legal_name,
        "signed_on": _today(w), "recorded_by": w.cast["clinician"],
    }  # fmt: skip
    values.update(fields)
    return Consent.objects.create(**values)


def a_paper_consent(w):
    return a_consent(
        w, signature_kind="paper", signature_svg="", signed_copy=b"%PDF-1.4\n%%EOF\n",
        signed_copy_type="application/pdf", signed_copy_sha256="0" * 64,
    )  # fmt: skip


def an_amendment_request(w):
    from django.utils import timezone

    from clients.models import AmendmentRequest

    return AmendmentRequest.objects.create(
        client=w.admission.client, received_at=timezone.now(), received_by=w.cast["clinician"],
        record_description="Progress note", requested_change="I was at the dentist.",
    )  # fmt: skip


def consent_body(w) -> dict:
    client = w.admission.client
    return {
        "consent_type": "single", "client_name": client.legal_name,
        "program_name": w.facility.name, "categories": [_category(w)],
        "recipient_name": "Matrix Recipient", "purpose": "Coordination of care",
        "revocation_explained": "on", "expiry": "date",
        "expires_on": (_today(w) + timedelta(days=90)).isoformat(), "signature_kind": "drawn",
        "signature": SIGNATURE, "signer": "client", "signed_by_name": client.legal_name,
        "signed_on": _today(w).isoformat(),
    }  # fmt: skip


def _client(w):
    return [w.admission.client.public_id]


URLS: dict[str, Url] = {
    "clients:consent_new": Url(
        _client,
        True,
        200,
        Post(consent_body, count("clients.Consent", recipient_name="Matrix Recipient")),
    ),  # fmt: skip
    "clients:consent_detail": Url(lambda w: [a_consent(w).public_id], True),
    "clients:consent_signed_copy": Url(lambda w: [a_paper_consent(w).public_id], True),
    "clients:consent_revoke": Url(
        lambda w: [a_consent(w, recipient_name="Revoked Clinic").public_id],
        True,
        200,
        Post(
            lambda w: {"revoked_at": "", "note": "Letter from the client"},
            count("clients.Consent", recipient_name="Revoked Clinic", revoked_at__isnull=False),
        ),
    ),  # fmt: skip
    "clients:amendment_new": Url(
        _client,
        True,
        200,
        Post(
            lambda w: {
                "category": "demographics",
                "record_description": "Allergy list",
                "requested_change": "Add latex.",
            },
            count("clients.AmendmentRequest", record_description="Allergy list"),
        ),
    ),  # fmt: skip
    "clients:amendment_decide": Url(
        lambda w: [an_amendment_request(w).public_id],
        True,
        200,
        Post(
            lambda w: {"decision": "accept", "text": "Addendum appended."},
            count("clients.AmendmentRequest", status="accepted"),
        ),
    ),  # fmt: skip
}
