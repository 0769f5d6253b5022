"""The FHIR R4 export of one client (issue 16 item 6): the bundle validates with fhirclient's R4
models, holds every resource type with the right codes, resolves its references, leaves out
other clients and counseling notes, and is logged as a disclosure with its exact SHA-256."""

import hashlib
import json
import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from fhirclient.models.bundle import Bundle

from clients.fhir import Export, build_bundle, fhir_export, instant
from clients.models import Allergy, Consent, Disclosure
from facility.models import AccessAction, AccessEvent
from facility.pdf import part2_statement_1
from tests.clock import local_today
from tests.conftest import admit, make_user
from tests.facility.world import first_dose, transcribe
from tests.observations.vitals_data import vitals_set

BASE = "http://testserver/fhir/R4/"


# ---------------------------------------------------------------- seeding


def consent_for(stay, by, **extra) -> Consent:
    client = stay.client
    fields = {
        "client": client,
        "admission": stay,
        "consent_type": "single",
        "client_name": client.legal_name,
        "program_name": stay.facility.name,
        "categories": ["medications", "vitals"],
        "recipient_name": "Dr. Rowan Hale, Cedar Clinic",
        "recipient_address": "9 Cedar Street",
        "purpose": "Continuity of care",
        "revocation_explained": True,
        "expiry": "date",
        "expires_on": local_today(stay.facility) + timedelta(days=90),
        "signature_kind": "drawn",
        "signature_svg": "<svg xmlns='http://www.w3.org/2000/svg'><path d='M0 0L9 9'/></svg>",
        "signed_by_name": client.legal_name,
        "signed_on": local_today(stay.facility),
        "recorded_by": by,
    }
    fields.update(extra)
    return Consent.objects.create(**fields)


def drug(facility, name):
    from medications.models import Medication

    return Medication.objects.get_or_create(
        facility=facility, name=name, strength="4 mg", form="tablet", defaults={"routes": "oral"}
    )[0]


def seed(stay, cast, *, n_sets=1):
    """Vitals, a CIWA-Ar score, a round check, two orders with a given and a refused dose, an
    allergy with a reaction, and a consent."""
    from medications.services import administration_record, order_verify
    from observations.models import RoundCheck, RoundCode, ScaleAssessment

    nurse, helper = cast["nurse"], make_user(f"helper{stay.pk}", "nurse", stay.facility)
    now = timezone.now()
    for i in range(n_sets):
        vitals_set(
            stay, now - timedelta(minutes=50 - i), nurse, weight_kg=72.5, pain=3,
            remark="Sitting up",
        )  # fmt: skip
    ScaleAssessment.objects.create(
        admission=stay, scale="ciwa_ar", items={"nausea": 2, "tremor": 3}, total=12,
        band="moderate", assessed_at=now - timedelta(minutes=40),
        recorded_at=now - timedelta(minutes=39), recorded_by=nurse,
    )  # fmt: skip
    codes = RoundCode.objects.filter(facility=stay.facility)
    RoundCheck.objects.create(
        admission=stay, observed_at=now - timedelta(minutes=30),
        recorded_at=now - timedelta(minutes=30), recorded_by=cast["technician"],
        location=codes.filter(kind="location").first(),
        status=codes.filter(kind="status", needs_respirations=False).first(),
        submission_key=uuid.uuid4(), remark="Reading in the lounge",
    )  # fmt: skip
    given = transcribe(helper, stay, drug(stay.facility, "Ondansetron"))
    order_verify(actor=nurse, order=given)
    administration_record(actor=nurse, dose=first_dose(given), outcome="given")
    refused = transcribe(helper, stay, drug(stay.facility, "Famotidine"))
    order_verify(actor=nurse, order=refused)
    administration_record(
        actor=nurse, dose=first_dose(refused), outcome="refused", reason="Says it upsets him",
        prescriber_notified="no", prescriber_not_notified_reason="Routine dose",
    )  # fmt: skip
    Allergy.objects.filter(client=stay.client).update(reaction="Hives", severity="moderate")
    return consent_for(stay, cast["clinician"])


@pytest.fixture
def stay(cast, facility):
    return admit(facility, cast["nurse"], first="Robin", last="Ashdown", allergies="Penicillin")


@pytest.fixture
def seeded(stay, cast):
    seed(stay, cast)
    return stay


def export_bundle(stay, categories=("demographics", "medications", "vitals", "observation")):
    now = timezone.now()
    export = Export(start=now - timedelta(days=2), end=now, categories=tuple(categories))
    return build_bundle(stay.client, export, base_url=BASE, now=now)


def resources(bundle, kind=None):
    found = [e["resource"] for e in bundle["entry"]]
    return [r for r in found if kind is None or r["resourceType"] == kind]


def post_export(client, stay, **body):
    data = {
        "basis": "client_request",
        "categories": ["demographics", "medications", "vitals", "observation"],
        **body,
    }
    return client.post(reverse("clients:fhir_export", args=[stay.client.public_id]), data)


# ---------------------------------------------------------------- the bundle


def test_the_bundle_validates_strictly_with_fhirclient_r4(seeded):
    bundle = export_bundle(seeded)
    text = json.dumps(bundle)
    parsed = Bundle(json.loads(text), strict=True)  # raises on anything R4 does not allow
    assert parsed.type == "document"
    assert parsed.entry[0].resource.resource_type == "Composition"
    assert parsed.identifier.value.startswith("urn:uuid:")
    assert parsed.timestamp is not None
    # Round-trips: what the library reads back is what was written.
    assert parsed.as_json()["entry"][1]["resource"]["resourceType"] == "Patient"


def test_every_resource_type_is_present_for_a_seeded_client(seeded):
    kinds = {r["resourceType"] for r in resources(export_bundle(seeded))}
    assert {
        "Composition", "Patient", "Organization", "Encounter", "MedicationRequest",
        "MedicationAdministration", "Observation", "AllergyIntolerance", "Consent",
    } <= kinds  # fmt: skip


def test_every_reference_resolves_inside_the_bundle_and_ids_are_unique(seeded):
    bundle = export_bundle(seeded)
    full_urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(full_urls) == len(set(full_urls))
    local = {u.removeprefix(BASE) for u in full_urls}
    refs = re.findall(r'"reference": "([^"]+)"', json.dumps(bundle))
    assert refs
    assert [r for r in refs if r not in local] == []
    for resource in resources(bundle):
        assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", resource["id"]), resource["id"]


def test_each_vital_carries_its_loinc_code_and_ucum_unit(seeded):
    observations = resources(export_bundle(seeded), "Observation")
    by_code = {}
    for o in observations:
        for coding in o["code"].get("coding", []):
            by_code.setdefault(coding["code"], o)
    expect = {
        "8867-4": ("/min", 72),
        "9279-1": ("/min", 16),
        "8310-5": ("Cel", 36.8),
        "2708-6": ("%", 98),
        "59408-5": ("%", 98),
        "29463-7": ("kg", 72.5),
    }
    for code, (unit, value) in expect.items():
        o = by_code[code]
        assert o["valueQuantity"] == {
            "value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit
        }  # fmt: skip
        assert o["category"][0]["coding"][0]["code"] == "vital-signs"
        assert o["code"]["coding"][0]["system"] == "http://loinc.org"
    bp = by_code["85354-9"]
    assert "valueQuantity" not in bp
    parts = {c["code"]["coding"][0]["code"]: c["valueQuantity"] for c in bp["component"]}
    assert parts["8480-6"]["value"] == 120 and parts["8480-6"]["code"] == "mm[Hg]"
    assert parts["8462-4"]["value"] == 78
    assert by_code["72514-3"]["valueQuantity"]["value"] == 3  # pain 0-10
    texts = {o["code"].get("text") for o in observations}
    assert {"CIWA-Ar total score", "Observation round check", "NEWS2 total score"} <= texts
    ciwa = next(o for o in observations if o["code"].get("text") == "CIWA-Ar total score")
    assert ciwa["valueInteger"] == 12


def test_administrations_carry_r4_status_codes_and_point_at_their_order(seeded):
    bundle = export_bundle(seeded)
    requests = {f"MedicationRequest/{r['id']}": r for r in resources(bundle, "MedicationRequest")}
    given, refused = sorted(
        resources(bundle, "MedicationAdministration"), key=lambda r: r["status"]
    )
    assert given["status"] == "completed"
    assert refused["status"] == "not-done"
    assert "Says it upsets him" in refused["statusReason"][0]["text"]
    for admin in (given, refused):
        assert admin["request"]["reference"] in requests
        assert admin["context"]["reference"].startswith("Encounter/")
    assert {r["status"] for r in requests.values()} == {"active"}
    assert {r["intent"] for r in requests.values()} == {"order"}


def test_allergy_encounter_patient_and_consent_follow_r4(seeded):
    bundle = export_bundle(seeded)
    (patient,) = resources(bundle, "Patient")
    assert patient["birthDate"] == seeded.client.date_of_birth.isoformat()
    assert patient["identifier"][0]["value"] == seeded.client.mrn
    (encounter,) = resources(bundle, "Encounter")
    assert encounter["status"] == "in-progress"
    assert encounter["class"]["code"] == "NONAC"
    (allergy,) = resources(bundle, "AllergyIntolerance")
    assert allergy["code"]["text"] == "Penicillin"
    assert allergy["clinicalStatus"]["coding"][0]["code"] == "active"
    assert allergy["reaction"][0]["severity"] == "moderate"
    (consent,) = resources(bundle, "Consent")
    assert consent["status"] == "active"
    assert consent["scope"]["coding"][0]["code"] == "patient-privacy"
    assert consent["category"][0]["coding"][0] == {
        "system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"
    }  # fmt: skip
    assert consent["provision"]["period"]["start"] == local_today(seeded.facility).isoformat()
    assert "Dr. Rowan Hale" in consent["provision"]["actor"][0]["reference"]["display"]


def test_a_revoked_or_expired_consent_is_inactive(stay, cast):
    revoked = consent_for(
        stay, cast["clinician"], revoked_at=timezone.now() - timedelta(minutes=1),
        revocation_received_by=cast["clinician"],
    )  # fmt: skip
    expired = consent_for(
        stay, cast["clinician"], signed_on=local_today(stay.facility) - timedelta(days=30),
        expires_on=local_today(stay.facility) - timedelta(days=1),
    )  # fmt: skip
    by_id = {r["id"]: r for r in resources(export_bundle(stay), "Consent")}
    assert by_id[f"cn-{revoked.public_id}"]["status"] == "inactive"
    assert by_id[f"cn-{expired.public_id}"]["status"] == "inactive"


def test_every_resource_carries_the_part2_label_and_the_composition_statement_1(seeded):
    bundle = export_bundle(seeded)
    for resource in [bundle, *resources(bundle)]:
        codes = {s["code"] for s in resource["meta"]["security"]}
        assert {"42CFRPart2", "R"} <= codes, resource["resourceType"]
    composition = resources(bundle, "Composition")[0]
    notice = composition["section"][0]
    plain = " ".join(re.sub(r"<[^>]+>", " ", notice["text"]["div"]).split())
    assert plain == " ".join(part2_statement_1().split())


def test_nothing_from_another_client_and_no_counseling_note(seeded, cast, facility):
    from observations.models import CounselingNote, ProgressNote  # noqa: F401

    other = admit(facility, cast["nurse"], first="Quinn", last="Oakes", n=5)
    seed(other, cast)
    CounselingNote.objects.create(
        admission=seeded, author=cast["clinician"], occurred_at=timezone.now(),
        recorded_at=timezone.now(), body="COUNSELING-SECRET about the family",
    )  # fmt: skip
    text = json.dumps(export_bundle(seeded))
    assert "COUNSELING-SECRET" not in text
    assert str(other.public_id) not in text and other.client.mrn not in text
    assert "Quinn" not in text
    mine = json.loads(text)
    assert {r["id"] for r in resources(mine, "Encounter")} == {f"enc-{seeded.public_id}"}


def test_the_query_count_does_not_grow_with_the_record(stay, cast, facility):
    seed(stay, cast, n_sets=1)
    with CaptureQueriesContext(connection) as small:
        export_bundle(stay)
    bigger = admit(facility, cast["nurse"], first="Lee", last="Marsh", n=7)
    seed(bigger, cast, n_sets=6)
    with CaptureQueriesContext(connection) as large:
        export_bundle(bigger)
    assert len(large) == len(small)


def test_without_demographics_only_the_name_and_mrn_go(seeded):
    bundle = export_bundle(seeded, categories=("medications",))
    (patient,) = resources(bundle, "Patient")
    assert set(patient) == {"resourceType", "id", "identifier", "name", "meta"}
    kinds = {r["resourceType"] for r in resources(bundle)}
    assert "Encounter" not in kinds and "AllergyIntolerance" not in kinds
    assert "Observation" not in kinds and "MedicationRequest" in kinds
    Bundle(bundle, strict=True)


# ---------------------------------------------------------------- the page


def test_the_clients_own_request_downloads_fhir_json_logged_with_its_sha256(client, seeded, cast):
    client.force_login(cast["clinician"])
    page = client.get(reverse("clients:chart", args=[seeded.client.public_id]))
    assert reverse("clients:fhir_export", args=[seeded.client.public_id]).encode() in page.content
    response = post_export(client, seeded)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "no-store"
    body = response.content
    Bundle(json.loads(body), strict=True)
    row = Disclosure.objects.get(client=seeded.client)
    assert row.sha256 == hashlib.sha256(body).hexdigest()
    assert row.legal_basis == "client_request" and row.method == "api"
    assert row.categories == ["demographics", "medications", "vitals", "observation"]
    assert row.user == cast["clinician"]
    assert AccessEvent.objects.filter(
        action=AccessAction.DISCLOSURE, client_public_id=seeded.client.public_id
    ).exists()


def test_a_disclosure_on_a_usable_consent_holds_only_its_categories(client, seeded, cast):
    consent = Consent.objects.get(client=seeded.client)
    client.force_login(cast["supervisor"])
    response = post_export(
        client, seeded, basis="consent", consent=str(consent.public_id),
        categories=["medications", "vitals"],
    )  # fmt: skip
    assert response.status_code == 200
    bundle = json.loads(response.content)
    kinds = {r["resourceType"] for r in resources(bundle)}
    assert "MedicationRequest" in kinds and "Observation" in kinds
    assert "AllergyIntolerance" not in kinds
    assert [c["id"] for c in resources(bundle, "Consent")] == [f"cn-{consent.public_id}"]
    row = Disclosure.objects.get(client=seeded.client)
    assert row.consent == consent and row.legal_basis == "consent"
    assert row.recipient_name == consent.recipient_name
    assert row.sha256 == hashlib.sha256(response.content).hexdigest()


def test_a_category_outside_the_consent_or_a_revoked_consent_is_refused(client, seeded, cast):
    consent = Consent.objects.get(client=seeded.client)
    client.force_login(cast["clinician"])
    response = post_export(
        client, seeded, basis="consent", consent=str(consent.public_id),
        categories=["medications", "demographics"],
    )  # fmt: skip
    assert response.status_code == 400
    assert "does not cover" in response.content.decode()
    Consent.objects.filter(pk=consent.pk).update(
        revoked_at=timezone.now() - timedelta(seconds=1), revocation_received_by=cast["clinician"]
    )
    response = post_export(
        client, seeded, basis="consent", consent=str(consent.public_id), categories=["vitals"]
    )
    assert response.status_code == 400
    assert "revoked" in response.content.decode()
    assert not Disclosure.objects.exists()


@pytest.mark.parametrize(
    "body, message",
    [
        ({"basis": "consent"}, "Choose the consent"),
        ({"basis": "court"}, "choose from the list"),
        ({"categories": []}, "Choose at least one category"),
        ({"categories": ["counseling"]}, "choose from the list"),
        ({"consent": "not-a-uuid", "basis": "consent"}, "choose one of this client"),
        ({"consent": str(uuid.uuid4()), "basis": "consent"}, "choose one of this client"),
        ({"start": "2026-02-30"}, "enter a valid date"),
        ({"start": "1850-01-01"}, "1900 or later"),
        ({"end": "2099-01-01"}, "cannot be in the future"),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "ends before it starts"),
        ({"basis": "client_request\x00"}, "choose from the list"),
    ],
)
def test_hostile_input_gets_a_field_message(client, seeded, cast, body, message):
    client.force_login(cast["clinician"])
    response = post_export(client, seeded, **body)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Disclosure.objects.exists()


def test_another_clients_consent_cannot_be_used(client, seeded, cast, facility):
    other = admit(facility, cast["nurse"], first="Quinn", last="Oakes", n=5)
    theirs = consent_for(other, cast["clinician"])
    client.force_login(cast["clinician"])
    response = post_export(client, seeded, basis="consent", consent=str(theirs.public_id))
    assert response.status_code == 400
    assert not Disclosure.objects.exists()


def test_the_service_checks_the_capability(seeded, cast):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        fhir_export(actor=cast["nurse"], client=seeded.client, categories=["vitals"], base_url=BASE)


def test_a_discharged_stay_struck_vitals_and_doses_not_given_keep_r4_codes(cast, facility):
    from clients.models import Admission
    from medications.models import Administration
    from medications.services import administration_record, order_verify

    stay = admit(facility, cast["nurse"], first="Ari", last="Vance", n=3)  # NKDA
    helper = make_user("helper_d", "nurse", facility)
    vitals_set(stay, timezone.now() - timedelta(minutes=20), cast["nurse"], struck_reason="Wrong")
    order = transcribe(helper, stay, drug(facility, "Clonidine"))
    order_verify(actor=cast["nurse"], order=order)
    held = administration_record(
        actor=cast["nurse"], dose=first_dose(order), outcome="held", reason="SBP 88",
        prescriber_notified="no", prescriber_not_notified_reason="Per hold parameter",
        hold_parameter="SBP 88",
    )  # fmt: skip
    Administration.objects.filter(pk=held.pk).update(outcome="sent")
    consent = consent_for(stay, cast["clinician"], expiry="end_of_treatment", expires_on=None)
    gone = timezone.now() - timedelta(minutes=1)
    Admission.objects.filter(pk=stay.pk).update(discharged_at=gone, discharge_type="completed")
    bundle = export_bundle(stay)
    Bundle(json.loads(json.dumps(bundle)), strict=True)
    (encounter,) = resources(bundle, "Encounter")
    assert encounter["status"] == "finished"
    assert encounter["hospitalization"]["dischargeDisposition"]["text"] == "Completed treatment"
    (request,) = resources(bundle, "MedicationRequest")
    assert request["status"] == "completed"
    (sent,) = resources(bundle, "MedicationAdministration")
    assert sent["status"] == "unknown" and "Sent with the client" in sent["note"][0]["text"]
    assert {o["status"] for o in resources(bundle, "Observation") if "coding" in o["code"]} == {
        "entered-in-error"
    }
    (c,) = resources(bundle, "Consent")
    assert c["id"] == f"cn-{consent.public_id}" and c["status"] == "inactive"
    assert c["provision"]["period"]["end"] == instant(gone)  # ended at the discharge
    (nkda,) = resources(bundle, "AllergyIntolerance")
    assert nkda["code"]["coding"][0]["code"] == "409137002"


def test_a_held_dose_is_not_done_with_its_reason(stay, cast, facility):
    from medications.services import administration_record, order_verify

    helper = make_user("helper_h", "nurse", facility)
    order = transcribe(helper, stay, drug(facility, "Clonidine"))
    order_verify(actor=cast["nurse"], order=order)
    administration_record(
        actor=cast["nurse"], dose=first_dose(order), outcome="held", reason="SBP 88",
        prescriber_notified="no", prescriber_not_notified_reason="Per hold parameter",
        hold_parameter="SBP 88",
    )  # fmt: skip
    (held,) = resources(export_bundle(stay), "MedicationAdministration")
    assert held["status"] == "not-done"
    assert held["statusReason"][0]["text"] == "Held: SBP 88"
