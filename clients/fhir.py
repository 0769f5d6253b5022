"""FHIR R4 (4.0.1) export of one client (issue 16 item 6, specs/privacy.md).

The export is a Bundle of type "document": a fixed, point-in-time record packet (its SHA-256
goes in the disclosure log, like a PDF packet's), which FHIR models as a document. The first
entry is a Composition that lists every resource by section and carries, as narrative, what a
FHIR Bundle has no free-text slot for: 42 CFR Part 2 statement 1 (word for word, §2.32) and,
for a disclosure on consent, a summary of the consent's scope. Every resource, the Bundle
included, carries the security labels 42CFRPart2 (v3-ActCode), NORDSCLCD (no redisclosure
without consent) and the confidentiality R (restricted).

This module builds Patient, Organization (the program), Encounter (one per stay),
AllergyIntolerance and Consent, and collects the other apps' resources through
`registry.fhir_sources` (medications/fhir.py, observations/fhir.py), each source being one record
category a consent names. SUD counseling notes and incident reports are never a source.

The Bundle is checked with fhirclient's R4 models (strict) before it is returned. A fixed number
of queries whatever the size of the record: one per resource type.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from fhirclient.models.bundle import Bundle
from fhirclient.models.fhirabstractbase import FHIRValidationError

from clients import consent_rules
from clients.disclosures import disclosure_record
from clients.models import (
    AllergenKind,
    AllergySeverity,
    AllergyStatus,
    Client,
    Consent,
    DisclosureMethod,
    Leave,
    LegalBasis,
)
from facility import policy
from facility.pdf import (
    PART2_STATEMENT_1,
    PART2_STATEMENT_1_CLOSE,
    PART2_STATEMENT_1_ITEMS,
    PART2_STATEMENT_2,
)
from facility.registry import registry

CAPABILITY = "records.fhir"

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
PART2_URL = "https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2"

# On meta.security of every resource (and of the Bundle).
SECURITY_LABELS = (
    {"system": ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"},
    {
        "system": ACT_CODE,
        "code": "NORDSCLCD",
        "display": "no redisclosure without consent directive",
    },
    {"system": CONFIDENTIALITY, "code": "R", "display": "restricted"},
)

# The record categories (facility/registry.py RecordCategory keys) an export may hold. This
# module's resources are "demographics"; each registered FhirSource's key is its category.
CATEGORIES = ("demographics", "medications", "vitals", "observation")

PURPOSE_CLIENT_REQUEST = "At the request of the patient (right of access)"


# ---------------------------------------------------------------- helpers for every source


def instant(value: datetime | None) -> str | None:
    """An aware datetime as an R4 dateTime (UTC, to the second)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds")


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def text_concept(text: str) -> dict:
    return {"text": text}


def rid(prefix: str, public_id: Any, suffix: str = "") -> str:
    """A resource id unique within the bundle ([A-Za-z0-9-.]{1,64})."""
    return f"{prefix}-{public_id}{'-' + suffix if suffix else ''}"


def narrative(*paragraphs: str) -> dict:
    """Generated narrative: each paragraph escaped, in XHTML."""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs if p)
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def part2_statement_1_lines() -> list[str]:
    return [PART2_STATEMENT_1, *PART2_STATEMENT_1_ITEMS, PART2_STATEMENT_1_CLOSE]


# ---------------------------------------------------------------- this app's resources


def _organization(client: Client) -> dict:
    facility = client.facility
    return {
        "resourceType": "Organization",
        "id": rid("org", facility.public_id),
        "active": True,
        "name": facility.name,
        "address": [{"text": facility.address}] if facility.address else [],
    }


GENDER = {"F": "female", "M": "male", "X": "other", "U": "unknown"}


def _patient(client: Client, org_ref: str) -> dict:
    names = [
        {"use": "official", "family": client.legal_last_name, "given": [client.legal_first_name]}
    ]
    if client.preferred_name:
        names.append(
            {"use": "usual", "family": client.legal_last_name, "given": [client.preferred_name]}
        )
    patient = {
        "resourceType": "Patient",
        "id": rid("pt", client.public_id),
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "code": "MR",
                            "display": "Medical record number",
                        }
                    ],
                    "text": "MRN",
                },
                # The facility's MRN namespace: MRNs are unique per facility.
                "system": f"urn:uuid:{client.facility.public_id}",
                "value": client.mrn,
            }
        ],
        "active": True,
        "name": names,
        "gender": GENDER.get(client.sex, "unknown"),
        "birthDate": day(client.date_of_birth),
        "managingOrganization": {"reference": org_ref, "display": client.facility.name},
    }
    if client.emergency_contact_name:
        contact = {
            "relationship": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0131",
                            "code": "C",
                            "display": "Emergency Contact",
                        }
                    ],
                    "text": client.emergency_contact_relationship or "Emergency contact",
                }
            ],
            "name": {"text": client.emergency_contact_name},
        }
        if client.emergency_contact_phone:
            contact["telecom"] = [{"system": "phone", "value": client.emergency_contact_phone}]
        patient["contact"] = [contact]
    return patient


def _encounter_status(admission, on_leave: set[int]) -> str:
    if admission.discharged_at is not None:
        return "finished"
    return "onleave" if admission.pk in on_leave else "in-progress"


def _encounter(admission, *, patient_ref: str, org_ref: str, on_leave: set[int]) -> dict:
    encounter = {
        "resourceType": "Encounter",
        "id": rid("enc", admission.public_id),
        "status": _encounter_status(admission, on_leave),
        # Residential treatment: an inpatient, non-acute stay (v3 ActEncounterCode).
        "class": {"system": ACT_CODE, "code": "NONAC", "display": "inpatient non-acute"},
        "type": [text_concept(f"Residential treatment: {admission.get_level_of_care_display()}")],
        "subject": {"reference": patient_ref},
        "period": {"start": instant(admission.admitted_at)},
        "location": [
            {"location": {"display": f"{admission.facility.name}, {admission.unit.name}"}}
        ],
        "serviceProvider": {"reference": org_ref},
    }
    if admission.discharged_at is not None:
        encounter["period"]["end"] = instant(admission.discharged_at)
        if admission.discharge_type:
            encounter["hospitalization"] = {
                "dischargeDisposition": text_concept(admission.get_discharge_type_display())
            }
    return encounter


ALLERGY_CATEGORY = {
    AllergenKind.DRUG: "medication",
    AllergenKind.FOOD: "food",
    AllergenKind.ENVIRONMENTAL: "environment",
}
CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"


def _allergy(row, *, patient_ref: str) -> dict:
    resource = {
        "resourceType": "AllergyIntolerance",
        "id": rid("al", row.public_id),
        "type": "allergy",
        "category": [ALLERGY_CATEGORY.get(row.kind, "medication")],
        "code": text_concept(row.allergen),
        "patient": {"reference": patient_ref},
        "recordedDate": instant(row.recorded_at),
    }
    if row.removed_at is not None:
        # Removed in error: ait-2 forbids a clinical status then.
        resource["verificationStatus"] = {
            "coding": [{"system": VERIFICATION, "code": "entered-in-error"}]
        }
        resource["note"] = [{"text": f"Removed in error: {row.removed_reason}"}]
        return resource
    resource["clinicalStatus"] = {"coding": [{"system": CLINICAL, "code": "active"}]}
    resource["verificationStatus"] = {"coding": [{"system": VERIFICATION, "code": "confirmed"}]}
    if row.severity == AllergySeverity.SEVERE:
        resource["criticality"] = "high"
    if row.reaction or row.severity != AllergySeverity.UNKNOWN:
        reaction: dict[str, Any] = {"manifestation": [text_concept(row.reaction or "Reaction")]}
        if row.severity in (
            AllergySeverity.MILD,
            AllergySeverity.MODERATE,
            AllergySeverity.SEVERE,
        ):
            reaction["severity"] = row.severity
        resource["reaction"] = [reaction]
    return resource


def _nkda(client: Client, *, patient_ref: str) -> dict:
    """ "No known drug allergies" is a finding (SNOMED CT 409137002), not a blank."""
    return {
        "resourceType": "AllergyIntolerance",
        "id": rid("al", client.public_id, "nkda"),
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
        "category": ["medication"],
        "code": {
            "coding": [{"system": SNOMED, "code": "409137002", "display": "No known drug allergy"}],
            "text": "NKDA",
        },
        "patient": {"reference": patient_ref},
    }


def consent_status(consent: Consent, *, now: datetime, discharged_at: datetime | None) -> str:
    """R4 consent-state-codes. Revoked or expired: "inactive" (terminated); "rejected" is a
    consent a party refused, which Haven never stores (an unsigned consent is not saved); a
    consent dated in the future is not yet in force: "proposed"."""
    today = timezone.localtime(now, consent.client.facility.tz).date()
    if consent.revoked_at is not None and consent.revoked_at <= now:
        return "inactive"
    if consent_rules.expired(consent, now=now, today=today, discharged_at=discharged_at):
        return "inactive"
    if consent.signed_on > today:
        return "proposed"
    return "active"


def consent_scope_lines(consent: Consent, labels: dict[str, str]) -> list[str]:
    """The consent's scope in words (specs/privacy.md: a disclosure carries a summary)."""
    if consent.expiry == "date":
        ends = f"on {consent.expires_on:%Y-%m-%d}"
    else:
        ends = "at the end of treatment (discharge)"
    lines = [
        f"{consent.get_consent_type_display()} consent signed on {consent.signed_on:%Y-%m-%d} "
        f"by {consent.signed_by_name}"
        + (f" ({consent.signer_role})" if consent.signer_role else "")
        + ".",
        f"Who may disclose: {consent.program_name}.",
        "What may be disclosed: "
        + ", ".join(labels.get(c, c) for c in consent.categories or [])
        + (f"; {consent.information_detail}" if consent.information_detail else "")
        + ".",
        f"To: {consent.recipient_name}"
        + (f", {consent.recipient_address}" if consent.recipient_address else "")
        + ".",
        f"Purpose: {consent.purpose}.",
        f"Expires {ends}.",
        "The client may revoke it in writing; revocation does not undo disclosures already made.",
    ]
    if consent.revoked_at is not None:
        lines.append(f"Revoked on {consent.revoked_at:%Y-%m-%d %H:%M} UTC.")
    return lines


def _consent(consent: Consent, *, patient_ref: str, org_ref: str, now, labels) -> dict:
    discharged_at = consent.admission.discharged_at if consent.admission_id else None
    end = None
    if consent.expiry == "date" and consent.expires_on is not None:
        end = day(consent.expires_on)
    elif discharged_at is not None:
        end = instant(discharged_at)
    if consent.revoked_at is not None:
        revoked = instant(consent.revoked_at)
        end = revoked if end is None or revoked < end else end
    period = {"start": day(consent.signed_on)}
    if end is not None:
        period["end"] = end
    return {
        "resourceType": "Consent",
        "id": rid("cn", consent.public_id),
        "text": narrative(*consent_scope_lines(consent, labels)),
        "status": consent_status(consent, now=now, discharged_at=discharged_at),
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                    "display": "Privacy Consent",
                }
            ]
        },
        "category": [
            {
                "coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}],
                "text": consent.get_consent_type_display(),
            }
        ],
        "patient": {"reference": patient_ref},
        "dateTime": day(consent.signed_on),
        # Signed by the client, or by a representative (named, with their role).
        "performer": [
            {"display": f"{consent.signed_by_name} ({consent.signer_role})"}
            if consent.signer_role
            else {"reference": patient_ref, "display": consent.signed_by_name}
        ],
        "organization": [{"reference": org_ref, "display": consent.program_name}],
        "policy": [{"authority": PART2_URL, "uri": f"{PART2_URL}/subpart-C/section-2.31"}],
        "provision": {
            "type": "permit",
            "period": period,
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                "code": "IRCP",
                                "display": "information recipient",
                            }
                        ]
                    },
                    "reference": {"display": consent.recipient_name},
                }
            ],
            "code": [text_concept(labels.get(c, c)) for c in consent.categories or []],
        },
    }


# ---------------------------------------------------------------- the bundle


@dataclass(frozen=True)
class Export:
    """What one export holds: the period as UTC instants [start, end), the categories, and the
    consent it is disclosed on (None for the client's own request)."""

    start: datetime
    end: datetime
    categories: tuple[str, ...]
    consent: Consent | None = None


def category_labels() -> dict[str, str]:
    return {c.key: c.label for c in registry.record_categories}


def whole_record_start(client: Client) -> datetime:
    first = client.admissions.order_by("admitted_at").values_list("admitted_at", flat=True).first()
    return min(first, client.created_at) if first else client.created_at


def build_bundle(client: Client, export: Export, *, base_url: str, now: datetime) -> dict:
    """The R4 document Bundle for `client` (a JSON dict), validated with fhirclient (strict).

    `base_url` ends with "/": fullUrls are `<base_url><type>/<id>`, so the relative references
    ("Patient/<id>") resolve inside the bundle."""
    labels = category_labels()
    org = _organization(client)
    org_ref = f"Organization/{org['id']}"
    patient = _patient(client, org_ref)
    patient_ref = f"Patient/{patient['id']}"
    start, end = export.start, export.end

    stays = list(
        client.admissions.filter(admitted_at__lt=end)
        .exclude(discharged_at__lt=start)
        .select_related("facility", "unit")
        .order_by("admitted_at")
    )
    on_leave = set(
        Leave.objects.filter(
            admission__in=[s.pk for s in stays], returned_at__isnull=True
        ).values_list("admission_id", flat=True)
    )
    encounters = [
        _encounter(s, patient_ref=patient_ref, org_ref=org_ref, on_leave=on_leave) for s in stays
    ]
    encounter_refs = {s.pk: f"Encounter/{e['id']}" for s, e in zip(stays, encounters, strict=True)}

    sections: list[tuple[str, str, list[dict]]] = []  # (title, summary, resources)
    if "demographics" in export.categories:
        sections.append(("Client", "Identity and the program.", [patient, org]))
        sections.append(("Stays", f"{len(encounters)} stay(s) in the period.", encounters))
        allergy_rows = list(client.allergy_rows.filter(recorded_at__lt=end).order_by("recorded_at"))
        allergies = [_allergy(a, patient_ref=patient_ref) for a in allergy_rows]
        if client.allergy_status == AllergyStatus.NKDA and not any(
            a.kind == AllergenKind.DRUG and a.removed_at is None for a in allergy_rows
        ):
            allergies.insert(0, _nkda(client, patient_ref=patient_ref))
        if client.allergy_status == AllergyStatus.NOT_RECORDED and not allergies:
            summary = "The allergy history has not been recorded."
        else:
            summary = f"{len(allergies)} allergy record(s)."
        sections.append(("Allergies", summary, allergies))
    else:
        # Demographics not disclosed: the subject is named (as the consent names them) and
        # nothing else about them; the stays are demographics too, so no Encounter is sent.
        patient = {
            "resourceType": "Patient",
            "id": patient["id"],
            "identifier": patient["identifier"],
            "name": patient["name"][:1],
        }
        encounter_refs = {}
        sections.append(("Client", "The client's name and MRN only.", [patient, org]))

    for source in registry.fhir_sources:
        if source.key not in export.categories:
            continue
        resources = source.build(
            client=client,
            patient_ref=patient_ref,
            encounters=encounter_refs,
            start=start,
            end=end,
        )
        title = labels.get(source.key, source.key.replace("_", " ").capitalize())
        sections.append((title, f"{len(resources)} resource(s).", resources))

    if export.consent is not None:
        consents = [export.consent]
        consent_summary = "The consent this disclosure is made on."
    else:
        consents = list(
            client.consents.filter(recorded_at__lt=end)
            .select_related("admission", "client__facility")
            .order_by("signed_on", "id")
        )
        consent_summary = f"{len(consents)} consent(s) to disclose."
    consent_resources = [
        _consent(c, patient_ref=patient_ref, org_ref=org_ref, now=now, labels=labels)
        for c in consents
    ]
    sections.append(("Consents", consent_summary, consent_resources))

    composition = _composition(
        client, export, sections, patient_ref=patient_ref, org_ref=org_ref, now=now, labels=labels
    )
    resources = [composition] + [r for _, _, rs in sections for r in rs]
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"security": [dict(s) for s in SECURITY_LABELS]},
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
        "type": "document",
        "timestamp": instant(now),
        "entry": [],
    }
    seen: set[str] = set()
    for resource in resources:
        key = f"{resource['resourceType']}/{resource['id']}"
        if key in seen:
            continue
        seen.add(key)
        meta = resource.setdefault("meta", {})
        meta["security"] = [dict(s) for s in SECURITY_LABELS]
        bundle["entry"].append({"fullUrl": f"{base_url}{key}", "resource": _clean(resource)})
    validate(bundle)
    return bundle


def _composition(client, export, sections, *, patient_ref, org_ref, now, labels) -> dict:
    period = f"{export.start:%Y-%m-%d %H:%M} to {export.end:%Y-%m-%d %H:%M} UTC"
    scope = [
        f"Records of {client.legal_name} (MRN {client.mrn}) from {period}: "
        + ", ".join(labels.get(c, c) for c in export.categories)
        + ".",
        "SUD counseling notes and incident reports are never included.",
    ]
    if export.consent is not None:
        scope.append(f"Disclosed on consent to {export.consent.recipient_name}.")
        scope.extend(consent_scope_lines(export.consent, labels))
    else:
        scope.append("Disclosed at the client's own request (right of access).")
    notice = {
        "title": "42 CFR part 2 notice",
        "text": narrative(*part2_statement_1_lines()),
    }
    body = []
    for title, summary, resources in sections:
        section: dict[str, Any] = {"title": title, "text": narrative(summary)}
        refs = [{"reference": f"{r['resourceType']}/{r['id']}"} for r in resources]
        if refs:
            section["entry"] = refs
        body.append(section)
    return {
        "resourceType": "Composition",
        "id": rid("doc", uuid.uuid4()),
        "text": narrative(*part2_statement_1_lines(), PART2_STATEMENT_2),
        "status": "final",
        "type": {
            "coding": [{"system": LOINC, "code": "34133-9", "display": "Summary of episode note"}],
            "text": "Record export (FHIR R4)",
        },
        "subject": {"reference": patient_ref},
        "date": instant(now),
        "author": [{"reference": org_ref}],
        "title": "Client record export — 42 CFR Part 2 protected",
        "confidentiality": "R",
        "custodian": {"reference": org_ref},
        "section": [notice, {"title": "Scope", "text": narrative(*scope)}, *body],
    }


def _clean(value):
    """Drop empty lists, dicts, strings and None: FHIR forbids empty elements."""
    if isinstance(value, dict):
        cleaned = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        cleaned = [_clean(v) for v in value]
        return [v for v in cleaned if v not in (None, "", [], {})]
    return value


def validate(bundle: dict) -> Bundle:
    """Parse the bundle through fhirclient's R4 models, strictly; raise if anything is off."""
    try:
        return Bundle(bundle, strict=True)
    except FHIRValidationError as exc:  # a bug here, never the user's input
        raise ValueError(f"The FHIR bundle does not validate: {exc}") from exc


def to_bytes(bundle: dict) -> bytes:
    return json.dumps(bundle, ensure_ascii=False, indent=1).encode("utf-8")


# ---------------------------------------------------------------- the export service


def period_bounds(client: Client, start_day: date | None, end_day: date | None, *, now):
    """The period as UTC instants [start, end): whole days on the facility's calendar; the
    whole record when no day is given."""
    tz = client.facility.tz
    start = (
        timezone.make_aware(datetime.combine(start_day, time.min), tz)
        if start_day
        else whole_record_start(client)
    )
    end = (
        timezone.make_aware(datetime.combine(end_day + timedelta(days=1), time.min), tz)
        if end_day
        else now
    )
    return start, min(end, now)


def fhir_export(
    *,
    actor,
    client: Client,
    categories: list[str],
    start_day: date | None = None,
    end_day: date | None = None,
    consent: Consent | None = None,
    base_url: str,
    ip: str | None = None,
) -> tuple[bytes, Any]:
    """Build the export and log it as a disclosure (the client's own request, or on a consent
    usable now for these categories). Returns the JSON bytes and the Disclosure row, whose
    sha256 is the digest of exactly these bytes."""
    policy.require(actor, CAPABILITY, client)
    now = timezone.now()
    categories = [c for c in CATEGORIES if c in set(categories)]
    if not categories:
        raise ValidationError({"categories": "Choose at least one category."})
    if start_day and end_day and start_day > end_day:
        raise ValidationError({"end": "The period ends before it starts."})
    start, end = period_bounds(client, start_day, end_day, now=now)
    if start >= end:
        raise ValidationError({"start": "The period starts in the future."})
    with transaction.atomic():
        return _export_logged(
            actor=actor, client=client, categories=categories, start=start, end=end,
            consent=consent, base_url=base_url, ip=ip, now=now,
        )  # fmt: skip


def _export_logged(
    *, actor, client: Client, categories, start, end, consent, base_url, ip, now
) -> tuple[bytes, Any]:
    """Inside fhir_export's transaction: the consent re-read under its row lock (as the packet
    does: a revocation committed first refuses the export, one coming after waits for it), the
    scope checked, the bundle built and logged."""
    if consent is not None:
        if consent.client_id != client.pk:
            raise ValidationError({"consent": "This consent is another client's."})
        consent = (
            Consent.objects.select_for_update(of=("self",))
            .select_related("admission", "client__facility")
            .filter(pk=consent.pk, client=client)
            .first()
        )
        if consent is None:
            raise ValidationError({"consent": "The consent: choose one of this client's."})
        now = timezone.now()  # after the lock: a revocation received while waiting counts
        if consent.recipient_is_class:
            raise ValidationError(
                {
                    "consent": "This consent names a class of recipients: disclose on it as a "
                    "record packet, naming the actual recipient."
                }
            )
        own = {c.key: c.own_consent for c in registry.record_categories if c.own_consent}
        reason = consent_rules.unusable_reason(
            consent,
            now=now,
            today=timezone.localtime(now, client.facility.tz).date(),
            discharged_at=consent.admission.discharged_at if consent.admission_id else None,
            recipient=consent.recipient_name,
            purpose=consent.purpose,
            categories=categories,
            own_consent_categories=own,
        )
        if reason:
            for key, label in category_labels().items():  # name categories as the form does
                reason = reason.replace(f"“{key}”", f"“{label}”")
            raise ValidationError({"consent": reason})
    export = Export(start=start, end=end, categories=tuple(categories), consent=consent)
    content = to_bytes(build_bundle(client, export, base_url=base_url, now=now))
    labels = category_labels()
    tz = client.facility.tz
    local = timezone.localtime(now, tz)
    file_name = f"haven-fhir-{client.mrn}-{local:%Y%m%d-%H%M}.json"
    description = "FHIR R4 export (JSON): " + ", ".join(labels.get(c, c) for c in categories)
    common = {
        "actor": actor,
        "client": client,
        "description": description,
        "method": DisclosureMethod.API,
        "content": content,
        "file_name": file_name,
        "categories": categories,
        "period_start": timezone.localtime(start, tz).date(),
        "period_end": timezone.localtime(end - timedelta(microseconds=1), tz).date(),
        "ip": ip,
        "capability": CAPABILITY,
    }
    if consent is not None:
        disclosure = disclosure_record(
            **common,
            recipient_name=consent.recipient_name,
            recipient_address=consent.recipient_address,
            purpose=consent.purpose,
            legal_basis=LegalBasis.CONSENT,
            consent=consent,
        )
    else:
        disclosure = disclosure_record(
            **common,
            recipient_name=f"{client.legal_name} (the client)",
            purpose=PURPOSE_CLIENT_REQUEST,
            legal_basis=LegalBasis.CLIENT_REQUEST,
        )
    return content, disclosure


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
