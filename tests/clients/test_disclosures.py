"""Disclosures (issue 16, specs/privacy.md): a packet on a consent only within its scope, other
legal bases, the client's own copy, and the accounting of exactly the logged disclosures."""

import hashlib
import io
from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from clients import disclosures
from clients.models import Admission, Consent, Disclosure
from facility.models import AccessEvent
from facility.registry import RecordCategory, registry
from tests.conftest import admit
from tests.facility.test_pdf import STATEMENT_1, STATEMENT_2, collapse
from tests.facility.world import World, a_signed_note, an_incident

RECIPIENT = "Dr. Lee, Valley Clinic"
PURPOSE = "Continuing care after discharge"
NOTE_TEXT = "Calm in group, joined the discussion."
INCIDENT_TEXT = "Pushed a peer in the hallway."


def today_at(facility) -> date:
    return timezone.localtime(timezone.now(), facility.tz).date()


def make_consent(admission, actor, **changes) -> Consent:
    client = admission.client
    fields = {
        "client": client,
        "admission": admission,
        "consent_type": "tpo",
        "client_name": client.legal_name,
        "program_name": admission.facility.name,
        "categories": ["demographics", "medications", "progress_notes"],
        "recipient_name": RECIPIENT,
        "recipient_address": "2 Main Street, Springfield",
        "purpose": PURPOSE,
        "revocation_explained": True,
        "expiry": "date",
        "expires_on": today_at(admission.facility) + timedelta(days=90),
        "signature_kind": "drawn",
        "signature_svg": "<svg xmlns='http://www.w3.org/2000/svg'><path d='M0 0L9 9'/></svg>",
        "signed_by_name": client.legal_name,
        "signed_on": today_at(admission.facility) - timedelta(days=1),
        "consequences_explained": True,
        "redisclosure_explained": True,
        "recorded_by": actor,
    }
    fields.update(changes)
    return Consent.objects.create(**fields)


def body(the_consent, **changes) -> dict:
    day = today_at(the_consent.client.facility)
    data = {
        "consent": str(the_consent.public_id),
        "categories": ["demographics", "progress_notes"],
        "period_start": (day - timedelta(days=2)).isoformat(),
        "period_end": day.isoformat(),
        "recipient_name": the_consent.recipient_name,
        "recipient_address": the_consent.recipient_address,
        "purpose": the_consent.purpose,
        "method": "fax",
    }
    data.update(changes)
    return data


def pdf_pages(content: bytes) -> list[str]:
    return [collapse(p.extract_text()) for p in PdfReader(io.BytesIO(content)).pages]


def url(name, client):
    return reverse(f"clients:{name}", args=[client.public_id])


@pytest.fixture
def world(cast, facility, admission):
    return World(facility=facility, cast=cast, admission=admission)


@pytest.fixture
def consent(admission, cast):
    return make_consent(admission, cast["clinician"])


@pytest.fixture
def records(world):
    """A signed progress note and an incident report naming the client."""
    a_signed_note(world)
    an_incident(world)


# ---------------------------------------------------------------- a packet on a consent


@pytest.mark.django_db
def test_a_packet_on_a_consent_is_the_pdf_logged(client, cast, admission, consent, records):
    client.force_login(cast["clinician"])
    response = client.post(url("disclosure_consent", admission.client), body(consent))
    assert response.status_code == 200, response.content[:2000]
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    row = Disclosure.objects.get()
    assert row.sha256 == hashlib.sha256(response.content).hexdigest()
    assert row.consent == consent and row.legal_basis == "consent"
    assert row.recipient_name == RECIPIENT and row.purpose == PURPOSE and row.method == "fax"
    assert row.categories == ["demographics", "progress_notes"] and row.user == cast["clinician"]
    assert "Progress notes and behavior notes" in row.description
    pages = pdf_pages(response.content)
    whole = " ".join(pages)
    assert whole.count(STATEMENT_1) == 1
    assert all(STATEMENT_2 in page for page in pages)
    # The consent's scope, then the records.
    for text in (RECIPIENT, PURPOSE, "Treatment, payment and health care operations",
                 "Medications and administrations", "Robin Ashdown", NOTE_TEXT):  # fmt: skip
        assert text in whole, text
    assert INCIDENT_TEXT not in whole and "Matrix room" not in whole
    event = AccessEvent.objects.get(action="disclosure")
    assert event.user == cast["clinician"] and event.client_public_id == admission.client.public_id


@pytest.mark.django_db
def test_the_form_is_prefilled_from_the_consent(client, cast, admission, consent):
    client.force_login(cast["clinician"])
    page = client.get(url("disclosure_consent", admission.client)).content.decode()
    assert f'value="{RECIPIENT}"' in page and f'value="{PURPOSE}"' in page
    assert "Usable now" in page
    assert AccessEvent.objects.filter(
        action="view", client_public_id=admission.client.public_id
    ).exists()


@pytest.mark.django_db
def test_the_chart_links_disclosures_for_those_who_may_disclose(client, cast, admission):
    link = url("disclosure_consent", admission.client)
    client.force_login(cast["clinician"])
    assert link in client.get(url("chart", admission.client)).content.decode()
    client.force_login(cast["technician"])
    assert link not in client.get(url("chart", admission.client)).content.decode()
    assert client.get(link).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"recipient_name": "Acme Insurance"}, "recipient_name", "does not name this recipient"),
        ({"purpose": "Marketing"}, "purpose", "does not cover this purpose"),
        ({"categories": ["demographics", "drug_screens"]}, "categories", "does not cover"),
    ],
)
def test_out_of_scope_is_refused_with_the_reason(
    client, cast, admission, consent, changes, field, words
):
    client.force_login(cast["clinician"])
    response = client.post(url("disclosure_consent", admission.client), body(consent, **changes))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and words in " ".join(errors[field])
    assert not Disclosure.objects.exists()
    assert not AccessEvent.objects.filter(action="disclosure").exists()


CLASS = "my treating providers and health plans"


@pytest.mark.django_db
def test_a_class_consent_asks_to_confirm_the_recipient_is_in_the_class(client, cast, admission):
    consent = make_consent(
        admission, cast["clinician"], recipient_name=CLASS, recipient_is_class=True
    )
    client.force_login(cast["clinician"])
    link = url("disclosure_consent", admission.client)
    page = client.get(link, {"consent": consent.public_id}).content.decode()
    assert f"I confirm the recipient is one of: {CLASS}" in page
    sheriff = body(consent, recipient_name="Buncombe County Sheriff")
    response = client.post(link, sheriff)
    assert response.status_code == 400
    assert response.context["form"].errors["recipient_in_class"] == [
        f"Tick the box to confirm the recipient is one of: {CLASS}."
    ]
    assert not Disclosure.objects.exists()
    response = client.post(link, {**sheriff, "recipient_in_class": "on"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    row = Disclosure.objects.get()
    assert row.recipient_name == "Buncombe County Sheriff"
    assert f"Recipient class: {CLASS}; {cast['clinician'].signature} confirmed" in row.description


@pytest.mark.django_db
def test_a_single_recipient_consent_has_no_class_box(client, cast, admission, consent):
    client.force_login(cast["clinician"])
    page = client.get(url("disclosure_consent", admission.client)).content.decode()
    assert "I confirm the recipient is one of" not in page


@pytest.mark.django_db
def test_an_uncovered_category_is_named_by_its_label(client, cast, admission, consent):
    client.force_login(cast["clinician"])
    changes = {"categories": ["demographics", "drug_screens"]}
    response = client.post(url("disclosure_consent", admission.client), body(consent, **changes))
    (message,) = response.context["form"].errors["categories"]
    label = registry.record_category("drug_screens").label
    assert message == f"The consent does not cover “{label}”." and label != "drug_screens"


@pytest.mark.django_db
def test_the_service_refuses_out_of_scope_too(cast, admission, consent):
    day = today_at(admission.facility)
    with pytest.raises(Exception) as refused:
        disclosures.disclose_on_consent(
            actor=cast["clinician"], client=admission.client, consent=consent,
            categories=["drug_screens"], start=day, end=day, recipient_name=RECIPIENT,
            recipient_address="", purpose=PURPOSE, method="print",
        )  # fmt: skip
    assert "categories" in refused.value.message_dict
    assert not Disclosure.objects.exists()


@pytest.mark.django_db
def test_a_revoked_consent_stops_the_next_disclosure(client, cast, admission, consent):
    from clients.consents import consent_revoke

    client.force_login(cast["clinician"])
    assert (
        client.post(url("disclosure_consent", admission.client), body(consent)).status_code == 200
    )
    consent_revoke(actor=cast["clinician"], consent=consent, revoked_at=None, note="In writing.")
    response = client.post(url("disclosure_consent", admission.client), body(consent))
    assert response.status_code == 400
    assert "revoked" in " ".join(response.context["form"].errors["consent"])
    assert Disclosure.objects.count() == 1


@pytest.mark.django_db
def test_a_revocation_committed_first_is_seen_under_the_lock(cast, admission, consent):
    """The service re-reads the consent under its row lock: the caller's copy, loaded before the
    revocation, does not carry the disclosure through."""
    stale = Consent.objects.get(pk=consent.pk)
    Consent.objects.filter(pk=consent.pk).update(
        revoked_at=timezone.now(), revocation_received_by=cast["clinician"]
    )
    day = today_at(admission.facility)
    with pytest.raises(ValidationError) as refused:
        disclosures.disclose_on_consent(
            actor=cast["clinician"], client=admission.client, consent=stale,
            categories=["demographics"], start=day, end=day, recipient_name=RECIPIENT,
            recipient_address="", purpose=PURPOSE, method="print",
        )  # fmt: skip
    assert "revoked" in " ".join(refused.value.message_dict["consent"])
    assert not Disclosure.objects.exists()


@pytest.mark.django_db
def test_a_consent_expired_by_date_is_refused(client, cast, admission):
    expired = make_consent(
        admission, cast["clinician"], expires_on=today_at(admission.facility) + timedelta(days=1)
    )
    client.force_login(cast["clinician"])
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        response = client.post(url("disclosure_consent", admission.client), body(expired))
    assert response.status_code == 400
    assert "expired on" in " ".join(response.context["form"].errors["consent"])
    assert not Disclosure.objects.exists()


@pytest.mark.django_db
def test_a_consent_expired_by_discharge_is_refused(client, cast, admission):
    ending = make_consent(admission, cast["clinician"], expiry="end_of_treatment", expires_on=None)
    Admission.objects.filter(pk=admission.pk).update(
        discharged_at=timezone.now() - timedelta(minutes=5), discharge_type="completed"
    )
    client.force_login(cast["clinician"])
    response = client.post(url("disclosure_consent", admission.client), body(ending))
    assert response.status_code == 400
    assert "end of treatment" in " ".join(response.context["form"].errors["consent"])
    assert not Disclosure.objects.exists()


@pytest.mark.django_db
def test_another_clients_consent_cannot_be_used(client, cast, facility, admission):
    someone = admit(facility, cast["nurse"], n=7)
    theirs = make_consent(someone, cast["clinician"])
    client.force_login(cast["clinician"])
    response = client.post(url("disclosure_consent", admission.client), body(theirs))
    assert response.status_code == 400
    assert "Choose a consent of this client." in response.context["form"].errors["consent"]
    assert not Disclosure.objects.exists()


# ---------------------------------------------------------------- counseling notes


@pytest.fixture
def counseling_category(monkeypatch):
    """A category needing its own consent, as the counseling notes register it."""
    marker = RecordCategory(
        key="counseling_notes_test", label="SUD counseling notes (test)",
        template="clients/records/demographics.html", render=lambda **kw: {"client": kw["client"]},
        order=99, own_consent="counseling",
    )  # fmt: skip
    monkeypatch.setattr(registry, "record_categories", [*registry.record_categories, marker])
    return marker


@pytest.mark.django_db
def test_counseling_notes_are_never_in_a_tpo_packet(client, cast, admission, counseling_category):
    tpo = make_consent(
        admission, cast["clinician"], categories=["demographics", "counseling_notes_test"]
    )
    client.force_login(cast["clinician"])
    response = client.post(
        url("disclosure_consent", admission.client),
        body(tpo, categories=["demographics", "counseling_notes_test"]),
    )
    assert response.status_code == 400
    assert "categories" in response.context["form"].errors
    assert not Disclosure.objects.exists()
    # Nor in the client's own copy, nor under another legal basis.
    assert "counseling_notes_test" not in [c.key for c in disclosures.categories_for()]
    assert "counseling_notes_test" in [c.key for c in disclosures.categories_for("counseling")]


@pytest.mark.django_db
def test_a_counseling_consent_discloses_counseling_notes_only(
    client, cast, admission, counseling_category
):
    own = make_consent(
        admission, cast["clinician"], consent_type="counseling",
        categories=["counseling_notes_test", "demographics"],
    )  # fmt: skip
    client.force_login(cast["clinician"])
    mixed = client.post(
        url("disclosure_consent", admission.client),
        body(own, categories=["counseling_notes_test", "demographics"]),
    )
    assert mixed.status_code == 400
    alone = client.post(
        url("disclosure_consent", admission.client), body(own, categories=["counseling_notes_test"])
    )
    assert alone.status_code == 200
    assert "SUD counseling notes (test)" in " ".join(pdf_pages(alone.content))


@pytest.mark.django_db
def test_the_real_counseling_notes_stay_out_of_tpo_copies_and_other_bases(client, cast, admission):
    assert registry.record_category("counseling_notes").own_consent == "counseling"
    tpo = make_consent(
        admission, cast["clinician"], categories=["demographics", "counseling_notes"]
    )
    client.force_login(cast["clinician"])
    response = client.post(
        url("disclosure_consent", admission.client),
        body(tpo, categories=["demographics", "counseling_notes"]),
    )
    assert response.status_code == 400 and "categories" in response.context["form"].errors
    page = client.get(url("disclosure_consent", admission.client)).content.decode()
    assert 'value="counseling_notes"' not in page
    other = client.get(url("disclosure_other", admission.client)).content.decode()
    assert 'value="counseling_notes"' not in other
    day = today_at(admission.facility)
    copy = client.post(
        url("client_copy", admission.client),
        {"period_start": day.isoformat(), "period_end": day.isoformat(), "method": "print"},
    )
    assert copy.status_code == 200
    row = Disclosure.objects.get()
    assert "counseling_notes" not in row.categories
    assert "SUD counseling notes" not in " ".join(pdf_pages(copy.content))


# ---------------------------------------------------------------- other legal bases


@pytest.mark.django_db
def test_a_medical_emergency_is_logged_at_once_with_a_description(client, cast, admission):
    client.force_login(cast["clinician"])
    text = "Current medications and allergies read by phone to the ED physician."
    response = client.post(
        url("disclosure_other", admission.client),
        {
            "legal_basis": "medical_emergency", "recipient_name": "Dr. Ortiz",
            "recipient_affiliation": "Mercy Hospital ED", "recipient_address": "",
            "basis_detail": "Unresponsive after a seizure", "purpose": "Emergency treatment",
            "disclosed_by": "Nurse on duty", "when": "now", "disclosed_at": "",
            "method": "phone", "content": "description", "description": text,
        },
    )  # fmt: skip
    assert response.status_code == 302, response.context["form"].errors
    row = Disclosure.objects.get()
    assert row.get_method_display() == "Telephone"  # read by phone, not "Printed"
    assert row.legal_basis == "medical_emergency" and row.consent is None
    assert row.sha256 == hashlib.sha256(text.encode()).hexdigest() and row.file_name == ""
    assert row.recipient_affiliation == "Mercy Hospital ED"
    assert "Unresponsive after a seizure" in row.basis_detail
    assert "Nurse on duty" in row.basis_detail
    assert abs((row.disclosed_at - timezone.now()).total_seconds()) < 60


@pytest.mark.django_db
def test_an_emergency_at_a_stated_time_never_in_the_future(client, cast, facility, admission):
    client.force_login(cast["clinician"])
    when = timezone.now() - timedelta(hours=2)
    base = {
        "legal_basis": "medical_emergency", "recipient_name": "Dr. Ortiz",
        "recipient_affiliation": "Mercy Hospital ED", "basis_detail": "Overdose",
        "purpose": "Emergency treatment", "when": "stated", "method": "print",
        "content": "description", "description": "Medication list.",
    }  # fmt: skip
    later = timezone.now() + timedelta(hours=3)
    future = client.post(
        url("disclosure_other", admission.client),
        {**base, "disclosed_at": timezone.localtime(later, facility.tz).strftime("%Y-%m-%dT%H:%M")},
    )
    assert future.status_code == 400 and "disclosed_at" in future.context["form"].errors
    past = client.post(
        url("disclosure_other", admission.client),
        {**base, "disclosed_at": timezone.localtime(when, facility.tz).strftime("%Y-%m-%dT%H:%M")},
    )
    assert past.status_code == 302
    row = Disclosure.objects.get()
    assert abs((row.disclosed_at - when).total_seconds()) < 60


@pytest.mark.django_db
def test_a_court_order_needs_its_reference_and_may_attach_a_packet(
    client, cast, admission, records
):
    client.force_login(cast["clinician"])
    day = today_at(admission.facility)
    base = {
        "legal_basis": "court_order", "recipient_name": "Clerk of Court",
        "recipient_affiliation": "County Superior Court", "purpose": "Court-ordered disclosure",
        "when": "now", "method": "print", "content": "packet",
        "categories": ["progress_notes"], "period_start": (day - timedelta(days=1)).isoformat(),
        "period_end": day.isoformat(),
    }  # fmt: skip
    missing = client.post(url("disclosure_other", admission.client), {**base, "basis_detail": ""})
    assert missing.status_code == 400 and "basis_detail" in missing.context["form"].errors
    response = client.post(
        url("disclosure_other", admission.client), {**base, "basis_detail": "Order 2026-CV-114"}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    row = Disclosure.objects.get()
    assert row.legal_basis == "court_order" and "2026-CV-114" in row.basis_detail
    assert row.sha256 == hashlib.sha256(response.content).hexdigest()
    whole = " ".join(pdf_pages(response.content))
    assert whole.count(STATEMENT_1) == 1 and NOTE_TEXT in whole and "2026-CV-114" in whole
    assert INCIDENT_TEXT not in whole


# ---------------------------------------------------------------- the client's own copy


@pytest.mark.django_db
def test_the_clients_own_copy_is_logged_at_their_request(client, cast, admission, records):
    client.force_login(cast["clinician"])
    day = today_at(admission.facility)
    response = client.post(
        url("client_copy", admission.client),
        {"period_start": (day - timedelta(days=3)).isoformat(), "period_end": day.isoformat(),
         "method": "print"},
    )  # fmt: skip
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    row = Disclosure.objects.get()
    assert row.legal_basis == "client_request" and row.recipient_name == "Robin Ashdown"
    assert row.sha256 == hashlib.sha256(response.content).hexdigest()
    assert set(row.categories) == {c.key for c in disclosures.categories_for()}
    whole = " ".join(pdf_pages(response.content))
    assert whole.count(STATEMENT_1) == 1 and NOTE_TEXT in whole
    # A plain sentence for the client, above the notice that speaks to those they share it with.
    preface = collapse(disclosures.OWN_COPY_PREFACE)
    assert preface in whole and whole.index(preface) < whole.index(STATEMENT_1)
    assert INCIDENT_TEXT not in whole
    # The incident report stays out; the progress note the incident service wrote is clinical.
    assert "Matrix room" not in whole


# ---------------------------------------------------------------- the accounting


def log(actor, client, recipient, **extra):
    return disclosures.disclosure_record(
        actor=actor, client=client, recipient_name=recipient, description=f"To {recipient}",
        purpose="Care", legal_basis="client_request", method="print",
        content=recipient.encode(), file_name="", **extra,
    )  # fmt: skip


@pytest.mark.django_db
def test_the_accounting_lists_exactly_the_logged_disclosures(client, cast, facility, admission):
    other = admit(facility, cast["nurse"], n=5).client
    mine = admission.client
    clinician = cast["clinician"]
    in_period = [
        log(clinician, mine, "First Recipient"),
        log(clinician, mine, "Second Recipient",
            disclosed_at=timezone.now() - timedelta(days=40)),
    ]  # fmt: skip
    log(clinician, mine, "Too Old Recipient", disclosed_at=timezone.now() - timedelta(days=400))
    log(clinician, other, "Other Client Recipient")
    client.force_login(clinician)
    day = today_at(facility)
    query = {"period_start": (day - timedelta(days=100)).isoformat(), "period_end": day.isoformat()}
    response = client.get(url("accounting", mine), query)
    assert response.status_code == 200
    assert [d.pk for d in response.context["rows"]] == [d.pk for d in in_period]
    page = response.content.decode().replace("<wbr>", "")
    for row in in_period:
        assert row.recipient_name in page and row.sha256 in page
    assert "Too Old Recipient" not in page and "Other Client Recipient" not in page
    # Default period: the last three years holds the old one too, never another client's.
    default = client.get(url("accounting", mine))
    assert len(default.context["rows"]) == 3
    # The PDF: the same rows, the notice, and the print audited.
    printed = client.get(url("accounting_pdf", mine), query)
    assert printed["Content-Type"] == "application/pdf"
    pages = pdf_pages(printed.content)
    whole = " ".join(pages)
    assert whole.count(STATEMENT_1) == 1 and all(STATEMENT_2 in p for p in pages)
    assert "First Recipient" in whole and "Second Recipient" in whole
    assert "Too Old Recipient" not in whole and "Other Client Recipient" not in whole
    event = AccessEvent.objects.get(action="print")
    assert event.client_public_id == mine.public_id and event.what == "Accounting of disclosures"


@pytest.mark.django_db
def test_the_accounting_of_a_stranger_is_404(client, cast, other_admission):
    client.force_login(cast["clinician"])
    assert client.get(url("accounting", other_admission.client)).status_code == 404


# ---------------------------------------------------------------- the log is append-only


@pytest.mark.django_db
def test_disclosure_rows_cannot_be_changed_or_deleted(cast, admission):
    row = log(cast["clinician"], admission.client, "Someone")
    with pytest.raises(DatabaseError), transaction.atomic():
        Disclosure.objects.filter(pk=row.pk).update(purpose="Changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        Disclosure.objects.filter(pk=row.pk).delete()
    assert Disclosure.objects.get(pk=row.pk).purpose == "Care"


@pytest.mark.django_db
def test_a_disclosure_cannot_be_logged_in_the_future(cast, admission):
    with pytest.raises(Exception) as refused:
        log(
            cast["clinician"],
            admission.client,
            "X",
            disclosed_at=timezone.now() + timedelta(hours=1),
        )
    assert "disclosed_at" in refused.value.message_dict


# ---------------------------------------------------------------- hostile input


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes, field",
    [
        ({"recipient_name": RECIPIENT + "\x00"}, "recipient_name"),
        ({"purpose": PURPOSE + "\u202e"}, "purpose"),
        ({"recipient_address": "x" * 5000}, "recipient_address"),
        ({"period_end": "9999-12-31"}, "period_end"),
        ({"period_start": "1850-01-01"}, "period_start"),
        ({"period_start": "not a date"}, "period_start"),
        ({"consent": "00000000-0000-0000-0000-000000000000"}, "consent"),
        ({"consent": "'; DROP TABLE clients_disclosure; --"}, "consent"),
        ({"categories": ["incidents"]}, "categories"),
        ({"categories": []}, "categories"),
        ({"method": "pigeon"}, "method"),
    ],
)
def test_hostile_input_gets_a_field_message(client, cast, admission, consent, changes, field):
    client.force_login(cast["clinician"])
    response = client.post(url("disclosure_consent", admission.client), body(consent, **changes))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Disclosure.objects.exists()


@pytest.mark.django_db
def test_the_period_is_ordered_not_future_and_at_most_ten_years(client, cast, admission, consent):
    client.force_login(cast["clinician"])
    day = today_at(admission.facility)
    for changes, field, words in [
        ({"period_start": day.isoformat(), "period_end": (day - timedelta(days=1)).isoformat()},
         "period_start", "on or before"),
        ({"period_end": (day + timedelta(days=1)).isoformat()}, "period_end", "future"),
        ({"period_start": (day - timedelta(days=3700)).isoformat()}, "period_start", "ten years"),
    ]:  # fmt: skip
        response = client.post(
            url("disclosure_consent", admission.client), body(consent, **changes)
        )
        assert response.status_code == 400, changes
        assert words in " ".join(response.context["form"].errors[field]), changes
    assert not Disclosure.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes, field",
    [
        ({"legal_basis": "consent"}, "legal_basis"),
        ({"legal_basis": "medical_emergency", "basis_detail": ""}, "basis_detail"),
        ({"recipient_affiliation": "ED\x00"}, "recipient_affiliation"),
        ({"description": ""}, "description"),
        ({"description": "y" * 5000}, "description"),
        ({"when": "stated", "disclosed_at": ""}, "disclosed_at"),
        ({"when": "stated", "disclosed_at": "9999-01-01T00:00"}, "disclosed_at"),
        ({"content": "packet", "categories": []}, "categories"),
        ({"content": "packet", "categories": ["incidents"]}, "categories"),
    ],
)
def test_hostile_input_on_other_bases(client, cast, admission, changes, field):
    client.force_login(cast["clinician"])
    data = {
        "legal_basis": "medical_emergency", "recipient_name": "Dr. Ortiz",
        "recipient_affiliation": "Mercy ED", "basis_detail": "Overdose", "purpose": "Treatment",
        "when": "now", "method": "print", "content": "description", "description": "Meds.",
    }  # fmt: skip
    data.update(changes)
    response = client.post(url("disclosure_other", admission.client), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Disclosure.objects.exists()


@pytest.mark.django_db
def test_hostile_accounting_period_is_a_message(client, cast, admission):
    client.force_login(cast["clinician"])
    for query in (
        {"period_start": "9999-99-99", "period_end": "2026-01-01"},
        {"period_start": "2026-02-01", "period_end": "2026-01-01"},
        {"period_start": "1000-01-01", "period_end": "2026-01-01"},
    ):
        response = client.get(url("accounting", admission.client), query)
        assert response.status_code == 400, query
        assert response.context["form"].errors


@pytest.mark.django_db
def test_a_technician_cannot_disclose(client, cast, admission, consent):
    client.force_login(cast["technician"])
    assert (
        client.post(url("disclosure_consent", admission.client), body(consent)).status_code == 403
    )
    assert not Disclosure.objects.exists()
