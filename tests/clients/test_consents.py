"""Part 2 consents (issue 16 item 1, specs/privacy.md §2.31): the ten elements, the four types,
the signature drawn or uploaded, revocation, expiry by date or by discharge, the consent page,
the signed copy's download and the chart's "Consents" section."""

import hashlib
from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from clients import consents
from clients.consent_rules import unusable_reason
from clients.models import Consent
from clients.services import admission_discharge
from facility.models import AccessEvent
from facility.registry import RecordCategory, registry
from tests.conftest import admit, form_time

pytestmark = pytest.mark.django_db

PATH = "M10 20 L40 60 L80 30 M100 100 L150 120"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def categories():
    """The categories a consent can name; the SUD counseling notes need their own consent.
    Registered for the test (another part registers the real ones) and put back after."""
    saved = list(registry.record_categories)
    for key, label, own in (
        ("medications", "Medications", ""),
        ("uds_results", "Urine drug screen results", ""),
        ("counseling_notes", "SUD counseling notes", "counseling"),
    ):
        if registry.record_category(key) is None:
            registry.register_record_category(
                RecordCategory(key=key, label=label, template="", render=dict, own_consent=own)
            )
    yield
    registry.record_categories = saved


def today(client):
    return consents.facility_today(client)


def body(client, **changes) -> dict:
    """A complete single-purpose consent as the form posts it, signed on the tablet today."""
    data = {
        "consent_type": "single",
        "client_name": client.legal_name,
        "program_name": client.facility.name,
        "categories": ["medications", "uds_results"],
        "information_detail": "",
        "recipient_name": "Dr. Ana Ruiz, Eastside Primary Care",
        "recipient_address": "12 Elm St, Asheville",
        "purpose": "Coordination of care with the primary care doctor",
        "revocation_explained": "on",
        "expiry": "date",
        "expires_on": (today(client) + timedelta(days=365)).isoformat(),
        "signature_kind": "drawn",
        "signature": PATH,
        "signer": "client",
        "signed_by_name": client.legal_name,
        "signer_role": "",
        "signed_on": today(client).isoformat(),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def service_data(client, **changes) -> dict:
    data = body(client, **changes)
    data["signature_path"] = data.pop("signature", "")
    data["revocation_explained"] = bool(data.get("revocation_explained"))
    for name in ("consequences_explained", "redisclosure_explained"):
        data[name] = bool(data.get(name))
    for name in ("expires_on", "signed_on"):
        data[name] = date.fromisoformat(data[name]) if data.get(name) else None
    return data


def make(actor, client, **changes) -> Consent:
    return consents.consent_create(actor=actor, client=client, **service_data(client, **changes))


def post(http, user, client, data):
    http.force_login(user)
    return http.post(reverse("clients:consent_new", args=[client.public_id]), data)


def field_errors(response, name):
    return response.context["form"].errors.get(name, [])


# ---------------------------------------------------------------- a complete consent


def test_a_complete_consent_is_saved_and_leads_to_the_chart(client, cast, admission):
    c = admission.client
    response = post(client, cast["clinician"], c, body(c))
    assert response.status_code == 302
    assert response["Location"].endswith(
        reverse("clients:chart", args=[c.public_id]) + "#section-consents"
    )
    consent = Consent.objects.get()
    assert consent.categories == ["medications", "uds_results"]
    assert consent.recorded_by == cast["clinician"]
    assert consent.admission == admission
    # The SVG is built on the server around the path data; nothing else was sent in.
    assert consent.signature_svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert f'<path d="{PATH}"' in consent.signature_svg


def test_the_form_comes_pre_filled_with_the_client_and_the_program(client, cast, admission):
    client.force_login(cast["supervisor"])
    response = client.get(reverse("clients:consent_new", args=[admission.client.public_id]))
    form = response.context["form"]
    assert form["client_name"].value() == admission.client.legal_name
    assert form["program_name"].value() == "Alder House"
    html = response.content.decode()
    assert "SUD counseling notes" in html
    assert "js/signature-pad.js" in html and "<script>" not in html


@pytest.mark.parametrize("role", ["nurse", "technician", "admin"])
def test_only_clinicians_and_supervisors_write_consents(client, cast, admission, role):
    assert post(client, cast[role], admission.client, body(admission.client)).status_code == 403
    with pytest.raises(PermissionDenied):
        make(cast[role], admission.client)
    assert not Consent.objects.exists()


# ---------------------------------------------------------------- every element, by number

ELEMENT_CASES = [
    (1, "client_name", {"client_name": ""}),
    (2, "program_name", {"program_name": "   "}),
    (3, "categories", {"categories": []}),
    (4, "recipient_name", {"recipient_name": ""}),
    (5, "purpose", {"purpose": ""}),
    (6, "revocation_explained", {"revocation_explained": None}),
    (7, "expires_on", {"expires_on": ""}),
    (8, "signature", {"signature": ""}),
    (9, "signed_on", {"signed_on": ""}),
    (10, "consequences_explained", {"consent_type": "tpo", "consequences_explained": "on"}),
]


@pytest.mark.parametrize(
    "element, field, changes", ELEMENT_CASES, ids=[str(c[0]) for c in ELEMENT_CASES]
)
def test_a_consent_missing_an_element_is_refused_naming_it(
    client, cast, admission, element, field, changes
):
    c = admission.client
    response = post(client, cast["clinician"], c, body(c, **changes))
    assert response.status_code == 200
    messages = field_errors(response, field)
    assert any(m.startswith(f"Missing element {element}:") for m in messages), messages
    assert f"Missing element {element}:" in response.content.decode()
    assert not Consent.objects.exists()
    with pytest.raises(ValidationError) as refused:
        make(cast["clinician"], c, **changes)
    assert any(
        m.startswith(f"Missing element {element}:") for m in refused.value.message_dict[field]
    )


def test_element_7_names_the_expiry_when_none_is_chosen(client, cast, admission):
    response = post(client, cast["clinician"], admission.client, body(admission.client, expiry=""))
    assert field_errors(response, "expiry") == ["Missing element 7: an expiration date or event."]


def test_element_8_needs_the_signers_name_too(client, cast, admission):
    c = admission.client
    response = post(client, cast["clinician"], c, body(c, signed_by_name=""))
    # The drawn signature is there: the name is what is missing, said on the name's field.
    assert field_errors(response, "signed_by_name") == [
        "Missing element 8: the name of the person signing."
    ]
    assert field_errors(response, "signature") == []
    assert not Consent.objects.exists()


def test_element_8_on_the_pad_only_when_nothing_is_signed(client, cast, admission):
    c = admission.client
    response = post(client, cast["clinician"], c, body(c, signature=""))
    assert any(
        m.startswith("Missing element 8: the signature")
        for m in field_errors(response, "signature")
    )
    assert field_errors(response, "signed_by_name") == []


def test_all_records_alone_is_not_specific(client, cast, admission):
    c = admission.client
    response = post(
        client, cast["clinician"], c, body(c, categories=[], information_detail="All records")
    )
    assert any("not specific" in m for m in field_errors(response, "categories"))


# ---------------------------------------------------------------- TPO


def test_a_tpo_consent_shows_both_statements_and_needs_both(client, cast, admission):
    c = admission.client
    client.force_login(cast["clinician"])
    html = client.get(reverse("clients:consent_new", args=[c.public_id])).content.decode()
    assert "Consequences of refusing to sign" in html
    assert "may no longer be protected by 42 CFR Part 2" in html
    tpo = {"consent_type": "tpo", "recipient_name": "My treating providers, health plans, "
           "third-party payers, and people helping to operate this program"}  # fmt: skip
    for only in ("consequences_explained", "redisclosure_explained"):
        response = post(client, cast["clinician"], c, body(c, **tpo, **{only: "on"}))
        assert response.status_code == 200
        assert not Consent.objects.exists()
    response = post(
        client, cast["clinician"], c,
        body(c, **tpo, consequences_explained="on", redisclosure_explained="on"),
    )  # fmt: skip
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert (consent.consequences_explained, consent.redisclosure_explained) == (True, True)


# ---------------------------------------------------------------- SUD counseling notes


def test_counseling_notes_only_on_a_counseling_consent(client, cast, admission):
    c = admission.client
    response = post(
        client, cast["clinician"], c, body(c, categories=["medications", "counseling_notes"])
    )
    assert "SUD counseling notes can only be named on their own separate consent." in (
        field_errors(response, "categories")
    )
    assert not Consent.objects.exists()


def test_a_counseling_consent_holds_nothing_else(client, cast, admission):
    c = admission.client
    response = post(
        client, cast["clinician"], c,
        body(c, consent_type="counseling", categories=["counseling_notes", "medications"]),
    )  # fmt: skip
    assert any("counseling notes only" in m for m in field_errors(response, "categories"))
    assert not Consent.objects.exists()
    response = post(
        client,
        cast["clinician"],
        c,
        body(c, consent_type="counseling", categories=["counseling_notes"]),
    )
    assert response.status_code == 302
    assert Consent.objects.get().categories == ["counseling_notes"]


# ---------------------------------------------------------------- signature and signer


def test_a_representative_signs_with_their_role(client, cast, admission):
    c = admission.client
    response = post(
        client, cast["clinician"], c, body(c, signer="representative", signed_by_name="Pat Ashdown")
    )
    assert any("Representative's role" in m for m in field_errors(response, "signer_role"))
    guardian = {"signed_by_name": "Pat Ashdown", "signer_role": "Legal guardian"}
    response = post(client, cast["clinician"], c, body(c, signer="representative", **guardian))
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert (consent.signed_by_name, consent.signer_role) == ("Pat Ashdown", "Legal guardian")


def test_a_signed_paper_copy_is_kept_with_its_digest_and_its_download_is_audited(
    client, cast, admission
):
    c = admission.client
    upload = SimpleUploadedFile("consent.pdf", PDF, content_type="application/pdf")
    response = post(
        client,
        cast["clinician"],
        c,
        body(c, signature_kind="paper", signature="", signed_copy=upload),
    )
    assert response.status_code == 302, response.context["form"].errors
    consent = Consent.objects.get()
    assert bytes(consent.signed_copy) == PDF
    assert consent.signed_copy_type == "application/pdf"
    assert consent.signed_copy_sha256 == hashlib.sha256(PDF).hexdigest()
    assert consent.signature_svg == ""
    download = client.get(reverse("clients:consent_signed_copy", args=[consent.public_id]))
    assert download.status_code == 200
    assert download.content == PDF
    assert download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"]
    assert AccessEvent.objects.filter(
        action="export", client_public_id=c.public_id, what="signed consent copy"
    ).exists()


def test_a_drawn_consent_has_no_copy_to_download(client, cast, admission):
    consent = make(cast["clinician"], admission.client)
    client.force_login(cast["clinician"])
    assert (
        client.get(reverse("clients:consent_signed_copy", args=[consent.public_id])).status_code
        == 404
    )


# ---------------------------------------------------------------- expiry


def test_an_expiry_date_after_signing_and_within_ten_years(client, cast, admission):
    c = admission.client
    for expires, words in (
        (today(c), "must be after the date signed"),
        (today(c) - timedelta(days=3), "must be after the date signed"),
        (today(c) + timedelta(days=366 * 10 + 3), "at most 10 years"),
    ):
        response = post(client, cast["clinician"], c, body(c, expires_on=expires.isoformat()))
        assert any(words in m for m in field_errors(response, "expires_on")), expires
    assert not Consent.objects.exists()


def test_expiry_by_date(cast, admission):
    c = admission.client
    consent = make(cast["clinician"], c, expires_on=(today(c) + timedelta(days=10)).isoformat())
    assert consents.consent_row(consent).status == "usable"
    with time_machine.travel(timezone.now() + timedelta(days=12), tick=False):
        row = consents.consent_row(consent)
    assert row.status == "expired"
    assert "expired on" in row.reason


def test_expiry_at_the_end_of_treatment_is_the_discharge(cast, admission):
    c = admission.client
    consent = make(cast["clinician"], c, expiry="end_of_treatment", expires_on="")
    assert (consent.expiry, consent.admission, consent.expires_on) == (
        "end_of_treatment",
        admission,
        None,
    )
    assert consents.consent_row(consent).status == "usable"
    admission_discharge(
        actor=cast["nurse"],
        admission=admission,
        discharged_at=timezone.now(),
        discharge_type="completed",
    )
    consent.refresh_from_db()
    row = consents.consent_row(
        Consent.objects.select_related("admission", "client__facility").get()
    )
    assert row.status == "expired"
    assert "end of treatment" in row.reason


def test_end_of_treatment_needs_an_open_stay(client, cast, admission):
    c = admission.client
    admission_discharge(
        actor=cast["nurse"],
        admission=admission,
        discharged_at=timezone.now(),
        discharge_type="completed",
    )
    response = post(client, cast["clinician"], c, body(c, expiry="end_of_treatment", expires_on=""))
    assert any("not admitted" in m for m in field_errors(response, "expiry"))
    assert not Consent.objects.exists()


# ---------------------------------------------------------------- revocation


def test_a_revocation_stops_the_consent_from_that_moment(client, cast, admission):
    c = admission.client
    consent = make(cast["clinician"], c)
    now = timezone.now()
    assert unusable_reason(consent, now=now, today=today(c), discharged_at=None) is None
    client.force_login(cast["supervisor"])
    response = client.post(
        reverse("clients:consent_revoke", args=[consent.public_id]),
        {"revoked_at": "", "note": "Letter from the client, handed to the front desk"},
    )
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.revocation_received_by == cast["supervisor"]
    assert consent.revoked_at is not None
    later = timezone.now() + timedelta(seconds=1)
    reason = unusable_reason(consent, now=later, today=today(c), discharged_at=None)
    assert reason.startswith("The consent was revoked on")
    assert consents.consent_row(consent, now=later).status == "revoked"
    # Before the revocation was received, it still covered what was disclosed.
    before = consent.revoked_at - timedelta(minutes=5)
    assert unusable_reason(consent, now=before, today=today(c), discharged_at=None) is None


def test_a_consent_is_revoked_once(cast, admission):
    consent = make(cast["clinician"], admission.client)
    consents.consent_revoke(
        actor=cast["clinician"], consent=consent, revoked_at=None, note="Orally"
    )
    with pytest.raises(ValidationError, match="already revoked"):
        consents.consent_revoke(
            actor=cast["supervisor"], consent=consent, revoked_at=None, note="Again"
        )
    consent.refresh_from_db()
    assert consent.revocation_received_by == cast["clinician"]


@pytest.mark.parametrize(
    "when, note, field",
    [
        (timedelta(hours=2), "Phoned in", "revoked_at"),  # in the future
        (-timedelta(days=3), "Phoned in", "revoked_at"),  # before it was signed (today)
        (None, "", "note"),
        (None, "Bad\x00note", "note"),
        (None, "x" * 501, "note"),
    ],
)
def test_a_revocation_needs_a_plausible_time_and_a_note(client, cast, admission, when, note, field):
    c = admission.client
    consent = make(cast["clinician"], c)
    client.force_login(cast["clinician"])
    at = "" if when is None else form_time(timezone.now() + when, c.facility)
    response = client.post(
        reverse("clients:consent_revoke", args=[consent.public_id]),
        {"revoked_at": at, "note": note},
    )
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    consent.refresh_from_db()
    assert consent.revoked_at is None


@pytest.mark.parametrize(
    "when",
    [timedelta(hours=2), timedelta(days=800), -timedelta(days=3), -timedelta(days=5000)],
    ids=["later-today", "far-future", "before-signing", "far-past"],
)
def test_a_revocation_out_of_range_gets_one_message_stating_the_range(
    client, cast, admission, when
):
    c = admission.client
    consent = make(cast["clinician"], c)
    client.force_login(cast["clinician"])
    response = client.post(
        reverse("clients:consent_revoke", args=[consent.public_id]),
        {"revoked_at": form_time(timezone.now() + when, c.facility), "note": "Phoned in"},
    )
    signed = f"{consent.signed_on:%Y-%m-%d}"
    assert response.context["form"].errors["revoked_at"] == [
        f"Received at: between the day the consent was signed ({signed}) and now; "
        "not in the future."
    ]


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"signed_on": "2999-01-01"}, "signed_on", "Date signed: cannot be after today."),
        ({"signed_on": "1990-01-01"}, "signed_on", "Date signed: at most 10 years ago (a consent "
         "lasts at most 10 years)."),
        ({"expires_on": "2999-01-01"}, "expires_on", "Expiration date: at most 10 years after the "
         "date signed."),
        ({"expires_on": "1800-01-01"}, "expires_on", "Expiration date: already past; this consent "
         "would never be usable."),
    ],
)  # fmt: skip
def test_consent_dates_out_of_range_state_the_rule_once(
    client, cast, admission, changes, field, message
):
    c = admission.client
    response = post(client, cast["clinician"], c, body(c, **changes))
    assert field_errors(response, field) == [message]


# ---------------------------------------------------------------- pages


def test_the_consent_page_shows_scope_signature_and_status(client, cast, admission):
    c = admission.client
    consent = make(cast["clinician"], c)
    client.force_login(cast["nurse"])
    response = client.get(reverse("clients:consent_detail", args=[consent.public_id]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Usable now" in html
    assert f'<path d="{PATH}"' in html
    assert "Dr. Ana Ruiz, Eastside Primary Care" in html and "Urine drug screen results" in html
    assert "Record a revocation" not in html  # a nurse sees it, but does not manage consents
    assert AccessEvent.objects.filter(
        action="view", client_public_id=c.public_id, what="consent"
    ).exists()


def test_a_tampered_stored_signature_is_never_shown(client, cast, admission):
    consent = make(cast["clinician"], admission.client)
    from django.db import connection

    with connection.cursor() as cursor:  # the database refuses any edit of a consent
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE clients_consent DISABLE TRIGGER clients_consent_frozen")
    Consent.objects.filter(pk=consent.pk).update(
        signature_svg='<svg><path d="M1 1 L2 2" onload="alert(1)"/><script>alert(1)</script></svg>'
    )
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE clients_consent ENABLE TRIGGER clients_consent_frozen")
    client.force_login(cast["clinician"])
    html = client.get(reverse("clients:consent_detail", args=[consent.public_id])).content.decode()
    assert "<script>alert" not in html and "onload" not in html


def test_the_chart_shows_which_consents_are_usable_and_why_not(client, cast, admission):
    c = admission.client
    usable = make(cast["clinician"], c, recipient_name="Eastside Primary Care")
    revoked = make(cast["clinician"], c, recipient_name="Blue Cross")
    consents.consent_revoke(
        actor=cast["clinician"], consent=revoked, revoked_at=None, note="Letter"
    )
    client.force_login(cast["technician"])
    html = client.get(reverse("clients:chart", args=[c.public_id])).content.decode()
    assert 'id="section-consents"' in html
    usable_part, unusable_part = html.split("Not usable")[0], html.split("Not usable")[1]
    assert "Eastside Primary Care" in usable_part and "Medications" in usable_part
    assert "Blue Cross" in unusable_part and "Revoked on" in unusable_part
    revoked.refresh_from_db()
    local = timezone.localtime(revoked.revoked_at, c.facility.tz)
    assert f"Revoked on {local:%Y-%m-%d %H:%M}, received by" in unusable_part
    assert reverse("clients:consent_new", args=[c.public_id]) not in html  # technician
    client.force_login(cast["clinician"])
    html = client.get(reverse("clients:chart", args=[c.public_id])).content.decode()
    assert reverse("clients:consent_new", args=[c.public_id]) in html
    assert usable.public_id


# ---------------------------------------------------------------- hostile input

BAD_PATHS = [
    "<script>alert(1)</script>",
    'M1 1 L2 2"/><script>alert(1)</script>',
    "M1 1",  # a dot is not a signature
    "L1 1 L2 2",  # no move first
    "M1 1 L900 2",  # outside the pad
    "M1 1 L-2 2",
    "M1 1 C2 2 3 3 4 4",  # curves are not what the pad makes
    "M1.5 1 L2 2",
    "M1 1 " + "L2 2 " * 5000,  # too long
]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_a_bad_signature_path_is_refused(client, cast, admission, path):
    c = admission.client
    response = post(client, cast["clinician"], c, body(c, signature=path))
    assert response.status_code == 200
    assert field_errors(response, "signature")
    assert not Consent.objects.exists()
    with pytest.raises(ValidationError):
        make(cast["clinician"], c, signature=path)


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("consent.pdf", b"GIF89a" + b"\x00" * 20, "a PDF, JPEG or PNG"),
        ("consent.pdf", b"<html><script>alert(1)</script>", "a PDF, JPEG or PNG"),
        ("consent.png", b"%PDF" + b"\x00" * (5 * 1024 * 1024), "at most 5 MB"),
    ],
)
def test_a_wrong_signed_copy_is_refused(client, cast, admission, name, content, words):
    c = admission.client
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = post(
        client,
        cast["clinician"],
        c,
        body(c, signature_kind="paper", signature="", signed_copy=upload),
    )
    assert response.status_code == 200
    assert any(words in m for m in field_errors(response, "signed_copy"))
    assert not Consent.objects.exists()


def test_a_png_signed_copy_is_accepted(cast, admission):
    data = service_data(admission.client, signature_kind="paper", signature="")
    consent = consents.consent_create(
        actor=cast["clinician"], client=admission.client, **{**data, "signed_copy": PNG}
    )
    assert consent.signed_copy_type == "image/png"


@pytest.mark.parametrize(
    "field, value",
    [
        ("recipient_name", "Dr. Ruiz\x00"),
        ("purpose", "Care \u202ecoordination"),
        ("client_name", "x" * 10_000),
        ("information_detail", "y" * 10_000),
        ("recipient_address", "z" * 10_000),
        ("signer_role", "Guardian\u2066"),
        ("expires_on", "9999-12-31"),
        ("expires_on", "not a date"),
        ("signed_on", "1800-01-01"),
        ("signed_on", "2999-01-01"),
        ("consent_type", "everything"),
        ("expiry", "never"),
        ("signature_kind", "telepathy"),
        ("signer", "the cat"),
        ("categories", ["medications", "00000000-0000-0000-0000-000000000000"]),
        ("categories", ["' OR 1=1 --"]),
    ],
)
def test_hostile_input_is_refused_on_its_field(client, cast, admission, field, value):
    c = admission.client
    response = post(client, cast["clinician"], c, body(c, **{field: value}))
    assert response.status_code == 200
    assert field_errors(response, field), response.context["form"].errors
    assert not Consent.objects.exists()


def test_another_facilitys_client_and_consent_are_not_found(
    client, cast, admission, other_admission
):
    theirs = make(cast["other_clinician"], other_admission.client)
    response = post(client, cast["clinician"], other_admission.client, body(other_admission.client))
    assert response.status_code == 404
    client.force_login(cast["clinician"])
    for name in ("consent_detail", "consent_revoke", "consent_signed_copy"):
        assert client.get(reverse(f"clients:{name}", args=[theirs.public_id])).status_code == 404
    response = client.post(
        reverse("clients:consent_revoke", args=[theirs.public_id]), {"note": "x"}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert Consent.objects.count() == 1
    with pytest.raises(PermissionDenied):
        make(cast["clinician"], other_admission.client)


def test_a_made_up_consent_id_is_not_found(client, cast, admission):
    client.force_login(cast["clinician"])
    assert client.get("/consents/not-a-uuid/").status_code == 404
    assert client.get("/consents/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_a_client_from_another_stay_does_not_change_the_scope(cast, admission, facility):
    """The stay "end of treatment" ends with is the client's own open stay, never another's."""
    other = admit(facility, cast["nurse"], n=7)
    consent = make(cast["clinician"], admission.client, expiry="end_of_treatment", expires_on="")
    assert consent.admission == admission != other


# ---------------------------------------------------------------- expiring soon


def test_a_consent_expiring_within_14_days_alerts_clinicians_and_supervisors(cast, admission):
    from django.conf import settings

    from facility.models import Alert

    c = admission.client
    soon = make(cast["clinician"], c, expires_on=(today(c) + timedelta(days=14)).isoformat())
    make(cast["clinician"], c, expires_on=(today(c) + timedelta(days=40)).isoformat())
    gone = make(cast["clinician"], c, expires_on=(today(c) + timedelta(days=3)).isoformat())
    consents.consent_revoke(actor=cast["clinician"], consent=gone, revoked_at=None, note="Letter")
    make(cast["clinician"], c, expiry="end_of_treatment", expires_on="")
    assert consents.scan_consents_expiring() == 1
    assert consents.scan_consents_expiring() == 0  # once per consent
    alert = Alert.objects.get(kind="consent_expiring")
    assert alert.audience == "clinician,supervisor"
    assert "Dr. Ana Ruiz" in alert.message and "in 14 days" in alert.message
    assert alert.link == reverse("clients:consent_detail", args=[soon.public_id])
    tasks = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "clients.tasks.scan_consents_expiring" in tasks


def test_a_discharged_clients_consents_do_not_alert(cast, admission):
    from facility.models import Alert

    c = admission.client
    make(cast["clinician"], c, expires_on=(today(c) + timedelta(days=5)).isoformat())
    admission_discharge(
        actor=cast["nurse"], admission=admission, discharged_at=timezone.now(),
        discharge_type="completed",
    )  # fmt: skip
    assert consents.scan_consents_expiring() == 0
    assert not Alert.objects.filter(kind="consent_expiring").exists()
