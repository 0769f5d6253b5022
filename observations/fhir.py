"""Vitals, withdrawal scores and observation checks in a client's FHIR R4 export (issue 16
item 6; clients/fhir.py builds the bundle).

Two sources, one per record category a consent names:
- "vitals": each measured value of a vital-signs set as its own Observation, coded as the R4
  vital-signs profile requires (LOINC code, UCUM unit, category vital-signs): heart rate 8867-4,
  respiratory rate 9279-1, body temperature 8310-5, oxygen saturation 2708-6 with pulse
  oximetry 59408-5, blood pressure panel 85354-9 with systolic 8480-6 and diastolic 8462-4 as
  components, body weight 29463-7. Pain is LOINC 72514-3 (0-10 numeric rating). ACVPU, NEWS2
  and the CIWA-Ar and COWS totals carry a text code: no LOINC code for them could be verified.
- "observation": the observation rounds' checks (where the client was, how they were), with a
  text code.
A struck (entered-in-error) row keeps its place with status "entered-in-error". A fixed number
of queries whatever the size of the record.
"""

import uuid

from clients.fhir import LOINC, instant, rid, text_concept
from facility.registry import FhirSource, register_fhir_source
from observations.models import RoundCheck, ScaleAssessment, VitalSigns

CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
UCUM = "http://unitsofmeasure.org"
PROFILE = "http://hl7.org/fhir/StructureDefinition/"

# key: (LOINC code, display, UCUM unit, profile)
VITALS = {
    "hr": ("8867-4", "Heart rate", "/min", "heartrate"),
    "rr": ("9279-1", "Respiratory rate", "/min", "resprate"),
    "temp_c": ("8310-5", "Body temperature", "Cel", "bodytemp"),
    "spo2": ("2708-6", "Oxygen saturation in Arterial blood", "%", "oxygensat"),
    "weight_kg": ("29463-7", "Body weight", "kg", "bodyweight"),
}
PULSE_OXIMETRY = "59408-5"
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")
PAIN = ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")


def category(code: str, display: str) -> list[dict]:
    return [{"coding": [{"system": CATEGORY, "code": code, "display": display}]}]


VITAL_SIGNS = category("vital-signs", "Vital Signs")
SURVEY = category("survey", "Survey")
EXAM = category("exam", "Exam")


def loinc(code: str, display: str) -> dict:
    return {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display}


def quantity(value, unit: str) -> dict:
    number = float(value)
    return {
        "value": int(number) if number.is_integer() else number,
        "unit": unit,
        "system": UCUM,
        "code": unit,
    }


def _base(row, suffix: str, *, patient_ref, encounters, at) -> dict:
    resource = {
        "resourceType": "Observation",
        "id": rid("ob", row.public_id, suffix),
        "status": "entered-in-error" if row.struck_at is not None else "final",
        "subject": {"reference": patient_ref},
        "effectiveDateTime": instant(at),
        "issued": instant(row.recorded_at),
    }
    encounter = encounters.get(row.admission_id)
    if encounter:
        resource["encounter"] = {"reference": encounter}
    notes = []
    if getattr(row, "remark", ""):
        notes.append(row.remark)
    if row.struck_at is not None:
        notes.append(f"Entered in error: {row.struck_reason}")
    if notes:
        resource["note"] = [{"text": n} for n in notes]
    return resource


def _vital_set(row: VitalSigns, **context) -> list[dict]:
    found = []

    def vital(suffix, code, *, profile=None, cat=VITAL_SIGNS, **fields):
        resource = _base(row, suffix, at=row.taken_at, **context)
        if profile:
            resource["meta"] = {"profile": [PROFILE + profile]}
        resource.update({"category": cat, "code": code, **fields})
        found.append(resource)
        return resource

    if row.sbp is not None or row.dbp is not None:
        components = []
        for value, (code, display) in ((row.sbp, SYSTOLIC), (row.dbp, DIASTOLIC)):
            if value is not None:
                components.append(
                    {"code": loinc(code, display), "valueQuantity": quantity(value, "mm[Hg]")}
                )
        vital("bp", loinc(*BP_PANEL), profile="bp", component=components)
    for key, (code, display, unit, profile) in VITALS.items():
        value = getattr(row, key)
        if value is None:
            continue
        code_concept = loinc(code, display)
        if key == "spo2":
            code_concept["coding"].append(
                {
                    "system": LOINC,
                    "code": PULSE_OXIMETRY,
                    "display": "Oxygen saturation in Arterial blood by Pulse oximetry",
                }
            )
        resource = vital(
            key.replace("_", ""),
            code_concept,
            profile=profile,
            valueQuantity=quantity(value, unit),
        )
        if key == "spo2" and row.on_oxygen is not None:
            oxygen = "On supplemental oxygen" if row.on_oxygen else "On room air"
            resource.setdefault("note", []).insert(0, {"text": oxygen})
    if row.pain is not None:
        vital("pain", loinc(*PAIN), valueQuantity=quantity(row.pain, "{score}"), cat=SURVEY)
    if row.acvpu:
        vital(
            "acvpu",
            text_concept("Level of consciousness (ACVPU)"),
            cat=EXAM,
            valueCodeableConcept=text_concept(row.get_acvpu_display()),
        )
    if row.news2_total is not None:
        fields = {"valueInteger": row.news2_total}
        if row.news2_band:
            fields["interpretation"] = [text_concept(f"NEWS2 {row.news2_band}")]
        vital("news2", text_concept("NEWS2 total score"), cat=SURVEY, **fields)
    return found


SCALE_NAMES = {"ciwa_ar": "CIWA-Ar total score", "cows": "COWS total score"}


def _scale(row: ScaleAssessment, **context) -> dict:
    resource = _base(row, "score", at=row.assessed_at, **context)
    resource.update(
        {
            "category": SURVEY,
            "code": text_concept(SCALE_NAMES.get(row.scale, row.get_scale_display())),
            "valueInteger": row.total,
        }
    )
    if row.band:
        resource["interpretation"] = [text_concept(row.band)]
    return resource


def vitals(*, client, patient_ref, encounters, start, end) -> list[dict]:
    context = {"patient_ref": patient_ref, "encounters": encounters}
    sets = VitalSigns.objects.filter(
        admission__client=client, taken_at__gte=start, taken_at__lt=end
    ).order_by("taken_at", "id")
    scores = ScaleAssessment.objects.filter(
        admission__client=client, assessed_at__gte=start, assessed_at__lt=end
    ).order_by("assessed_at", "id")
    resources = [r for row in sets for r in _vital_set(row, **context)]
    resources += [_scale(row, **context) for row in scores]
    return resources


def checks(*, client, patient_ref, encounters, start, end) -> list[dict]:
    rows = (
        RoundCheck.objects.filter(
            admission__client=client, observed_at__gte=start, observed_at__lt=end
        )
        .select_related("location", "status")
        .order_by("observed_at", "id")
    )
    resources = []
    for row in rows:
        resource = {
            "resourceType": "Observation",
            # Checks have no public id: one derived from the round's submission and the row.
            "id": rid("ck", uuid.uuid5(row.submission_key, str(row.pk))),
            "status": "final",
            "code": text_concept("Observation round check"),
            "subject": {"reference": patient_ref},
            "effectiveDateTime": instant(row.observed_at),
            "issued": instant(row.recorded_at),
            "valueString": f"{row.location.label}; {row.status.label}",
        }
        encounter = encounters.get(row.admission_id)
        if encounter:
            resource["encounter"] = {"reference": encounter}
        notes = [
            text
            for text in (
                "Respirations observed." if row.respirations_observed else "",
                "Safety concern." if row.safety_concern else "",
                row.remark,
                f"Late: {row.late_reason}" if row.late_reason else "",
            )
            if text
        ]
        if notes:
            resource["note"] = [{"text": n} for n in notes]
        resources.append(resource)
    return resources


register_fhir_source(FhirSource(key="vitals", build=vitals, order=30))
register_fhir_source(FhirSource(key="observation", build=checks, order=50))
