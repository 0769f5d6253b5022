"""The MAR in a client's FHIR R4 export (issue 16 item 6; clients/fhir.py builds the bundle).

Orders become MedicationRequest, documented doses MedicationAdministration, with R4's status
codes: a dose given is "completed"; refused, held, unavailable, off unit, omitted or missed is
"not-done" with the reason (R4's "on-hold" is a paused administration in progress, such as an
infusion, not a dose held by its parameter); a dose sent with the client for a trip is
"unknown" (Haven does not know whether it was taken); a documentation struck in error is
"entered-in-error". Two queries whatever the size of the record.
"""

from django.db.models import Q
from django.utils import timezone

from clients.fhir import instant, rid, text_concept
from facility.registry import FhirSource, register_fhir_source
from medications.models import Administration, Frequency, Order, OrderSource, Outcome, Priority

PRIORITY = {Priority.ROUTINE: "routine", Priority.STAT: "stat", Priority.NOW: "asap"}

NOT_DONE = {
    Outcome.REFUSED,
    Outcome.HELD,
    Outcome.UNAVAILABLE,
    Outcome.OFF_UNIT,
    Outcome.OMITTED,
    Outcome.NOT_GIVEN,
}


def request_status(order: Order, *, now) -> str:
    """R4 medicationrequest-status."""
    if order.discontinued_at is not None:
        return "stopped"
    if order.verified_at is None and order.released_at is None:
        # Awaiting the second nurse's check (or the prescriber's acknowledgement).
        return "draft"
    if order.admission.discharged_at is not None or (order.stop_at and order.stop_at <= now):
        return "completed"
    return "active"


def medication_text(order: Order) -> str:
    med = order.medication
    return f"{med.name} {med.strength} {med.form}".strip()


def _request(order: Order, *, patient_ref, encounters, now) -> dict:
    timing = order.get_frequency_display() + (f": {order.times}" if order.times else "")
    dosage = {
        "text": f"{order.dose} {order.get_route_display()} {timing}",
        "timing": {
            "code": text_concept(timing),
            "repeat": {"boundsPeriod": {"start": instant(order.start_at)}},
        },
        "asNeededBoolean": order.frequency == Frequency.PRN,
        "route": text_concept(order.get_route_display()),
    }
    if order.stop_at:
        dosage["timing"]["repeat"]["boundsPeriod"]["end"] = instant(order.stop_at)
    if order.frequency == Frequency.PRN and order.indication:
        dosage["asNeededCodeableConcept"] = text_concept(order.indication)
        del dosage["asNeededBoolean"]
    if order.hold_parameters:
        dosage["additionalInstruction"] = [text_concept(f"Hold: {order.hold_parameters}")]
    resource = {
        "resourceType": "MedicationRequest",
        "id": rid("mr", order.public_id),
        "status": request_status(order, now=now),
        "intent": "order",
        "priority": PRIORITY.get(order.priority, "routine"),
        "medicationCodeableConcept": text_concept(medication_text(order)),
        "subject": {"reference": patient_ref},
        "authoredOn": instant(order.prescriber_signed_at or order.transcribed_at),
        "requester": {
            "display": ", ".join(
                p for p in (order.prescriber_name, order.prescriber_credentials) if p
            )
            or "Prescriber"
        },
        "reasonCode": [text_concept(order.indication)] if order.indication else [],
        "dosageInstruction": [dosage],
    }
    if order.source in (OrderSource.VERBAL, OrderSource.TELEPHONE):
        resource["note"] = [{"text": order.get_source_display()}]
    if order.discontinued_at is not None:
        resource["statusReason"] = text_concept(f"Discontinued: {order.discontinue_reason}")
    encounter = encounters.get(order.admission_id)
    if encounter:
        resource["encounter"] = {"reference": encounter}
    return resource


def administration_status(row: Administration) -> str:
    """R4 medication-admin-status."""
    if row.struck_at is not None:
        return "entered-in-error"
    if row.outcome == Outcome.GIVEN:
        return "completed"
    if row.outcome in NOT_DONE:
        return "not-done"
    return "unknown"  # sent with the client


def _administration(row: Administration, *, patient_ref, encounters, requests) -> dict:
    order = row.order
    effective = row.given_at or (row.dose.scheduled_at if row.dose_id else None) or row.recorded_at
    status = administration_status(row)
    resource = {
        "resourceType": "MedicationAdministration",
        "id": rid("ma", row.public_id),
        "status": status,
        "medicationCodeableConcept": text_concept(medication_text(order)),
        "subject": {"reference": patient_ref},
        "effectiveDateTime": instant(effective),
        "dosage": {"text": order.dose, "route": text_concept(order.get_route_display())},
        "reasonCode": [text_concept(row.prn_indication)] if row.prn_indication else [],
    }
    if status == "not-done":
        reason = row.get_outcome_display() + (f": {row.reason}" if row.reason else "")
        resource["statusReason"] = [text_concept(reason)]
    notes = []
    if row.outcome == Outcome.SENT:
        notes.append(f"Sent with the client: {row.reason}")
    elif status == "completed" and row.reason:
        notes.append(f"{row.get_timing_display()}: {row.reason}")
    if row.self_administered:
        notes.append("Observed self-administration.")
    if row.struck_at is not None:
        notes.append(f"Entered in error: {row.struck_reason}")
    resource["note"] = [{"text": n} for n in notes]
    if order.pk in requests:
        resource["request"] = {"reference": requests[order.pk]}
    encounter = encounters.get(order.admission_id)
    if encounter:
        resource["context"] = {"reference": encounter}
    return resource


def build(*, client, patient_ref, encounters, start, end) -> list[dict]:
    now = timezone.now()
    orders = list(
        Order.objects.filter(admission__client=client, start_at__lt=end)
        .exclude(stop_at__lt=start)
        .exclude(discontinued_at__lt=start)
        .select_related("medication", "admission")
        .order_by("start_at", "id")
    )
    requests = {o.pk: f"MedicationRequest/{rid('mr', o.public_id)}" for o in orders}
    given_in = Q(given_at__gte=start, given_at__lt=end)
    recorded_in = Q(given_at__isnull=True, recorded_at__gte=start, recorded_at__lt=end)
    rows = (
        Administration.objects.filter(order__admission__client=client)
        .filter(given_in | recorded_in)
        .select_related("order__medication", "dose")
        .order_by("recorded_at", "id")
    )
    resources = [
        _request(o, patient_ref=patient_ref, encounters=encounters, now=now) for o in orders
    ]
    resources += [
        _administration(r, patient_ref=patient_ref, encounters=encounters, requests=requests)
        for r in rows
    ]
    return resources


register_fhir_source(FhirSource(key="medications", build=build, order=20))
