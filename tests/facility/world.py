"""The objects and the valid request bodies that the endpoint tables share.

test_access_matrix.py walks every URL with a valid body and checks who may use it;
test_hostile_input.py takes the same bodies and poisons one field at a time. Both name the
objects of the home facility through one `World`: the matrix builds a full one once per module
(`matrix_world`), the hostile-input tests a smaller one per test (`form_world`).
"""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tests.conftest import ROLES, admit, form_time, make_facility, make_user


@dataclass
class World:
    """Objects of the home facility that a URL or a body can name."""

    facility: Any
    cast: dict = field(default_factory=dict)
    other_facility: Any = None
    admission: Any = None  # open, on site
    away: Any = None  # open, off site on `leave`
    leave: Any = None
    gone: Any = None  # a discharged client, to readmit
    unit: Any = None
    item: Any = None
    alert: Any = None
    member: Any = None  # a technician an admin edits or deactivates
    inactive: Any = None
    raise_: Any = None  # a nurse's raise awaiting a clinician's order
    handoff: Any = None  # a 1:1 watch offered to the witness, not yet accepted
    rounded: Any = None  # a client on a timed level, charted on the bulk round
    med: Any = None
    order: Any = None  # verified, scheduled
    dose: Any = None  # not yet documented (matrix); documented by `administration` (forms)
    administration: Any = None
    unverified: Any = None
    stat: Any = None  # a STAT order awaiting its second check (given before it: "release")
    verbal: Any = None  # a verbal order from the clinician (an MD), not yet co-signed
    prn: Any = None  # a PRN order never given
    prn_given: Any = None  # a PRN dose without its follow-up
    stock: Any = None
    variance: Any = None  # an open count variance
    loss: Any = None  # a signed-off significant loss whose DEA Form 106 is not yet recorded
    house_med: Any = None  # a controlled medication without a stock yet
    areas: list = field(default_factory=list)


# ---------------------------------------------------------------- building blocks


def ondansetron(facility):
    from medications.models import Medication

    return Medication.objects.create(
        facility=facility, name="Ondansetron", strength="4 mg", form="tablet", routes="oral"
    )


def other_drug(facility, name: str):
    from medications.models import Medication

    return Medication.objects.create(
        facility=facility, name=name, strength="25 mg", form="tablet", routes="oral"
    )


def controlled(facility, name: str):
    from medications.models import Medication

    return Medication.objects.create(
        facility=facility, name=name, strength="1 mg", form="tablet", routes="oral",
        controlled_schedule="IV",
    )  # fmt: skip


def transcribe(by, admission, med, **extra):
    """An order for a dose ten minutes from now, transcribed by `by` (not yet verified)."""
    from medications.services import order_transcribe

    soon = timezone.localtime(timezone.now() + timedelta(minutes=10), admission.facility.tz)
    fields = {
        "dose": "4 mg", "dose_units": Decimal("1"), "route": "oral", "frequency": "times",
        "times": soon.strftime("%H:%M"), "start_at": admission.admitted_at,
        "prescriber_name": "Dr. Matrix", "prescriber_credentials": "MD",
    }  # fmt: skip
    fields.update(extra)
    return order_transcribe(actor=by, admission=admission, medication=med, **fields)


def received_stock(nurse, facility, name: str, witness):
    """A controlled stock of a new medication `name`, 10 received (witnessed, with a slip)."""
    from medications.models import ControlledStock
    from medications.services import stock_receive

    stock = ControlledStock.objects.create(facility=facility, medication=controlled(facility, name))
    stock_receive(
        actor=nurse, stock=stock, quantity="10", witness=witness, source_document="INV-1001"
    )
    return stock


def first_dose(order):
    return order.doses.order_by("scheduled_at").first()


# ---------------------------------------------------------------- the matrix's world


def significant_loss(cast, facility):
    """A count 2 short, signed off as a significant loss: its DEA Form 106 is still to file."""
    from medications.services import count_submit, discrepancy_sign_off

    stock = received_stock(cast["nurse"], facility, "Oxycodone", cast["technician"])
    short = count_submit(
        actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="8"
    )
    return discrepancy_sign_off(
        actor=cast["supervisor"], count=short, explanation="Two missing", significant_loss=True
    )


def matrix_world() -> World:
    """Two facilities, everyone of every role at each, and an object for every URL to name."""
    from clients.models import OrientationItem
    from clients.services import admission_discharge, leave_start
    from facility.services import alert_raise, roles_sync
    from observations.models import SecurityArea
    from observations.services import handoff_offer, level_order

    roles_sync()
    home = make_facility("Alder House", "America/New_York")
    # Technicians hold "mar.follow_up"; the facility's policy lets them use it here (issue 9).
    home.tech_prn_effect = True
    home.save(update_fields=["tech_prn_effect"])
    other = make_facility("Birch House", "America/Chicago")
    cast = {}
    for role in ROLES:
        cast[role] = make_user(role, role, home)
        cast[f"other_{role}"] = make_user(f"other_{role}", role, other)
    # The second person at the cart or the cabinet, for co-signed POSTs.
    witness = make_user("witness", "technician", home, mfa=False)
    member = make_user("member", "technician", home, mfa=False)
    inactive = make_user("inactive", "technician", home, mfa=False)
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    cast["witness"] = witness
    _prescribers(cast)
    make_user("mfa_member", "supervisor", home, mfa=True)

    nurse = cast["nurse"]
    admission = admit(home, nurse, first="Robin", last="Ashdown", allergies="NKDA")
    away = admit(home, nurse, n=2)
    now = timezone.now()
    # Left ten minutes ago: a return charted "now" (to the minute, as the form sends it) is after.
    leave = leave_start(
        actor=nurse, admission=away, kind="appointment", left_at=now - timedelta(minutes=10),
        expected_back_at=now + timedelta(hours=4), backdate_reason="Entered after the door",
    )  # fmt: skip
    gone = admit(home, nurse, n=3)
    admission_discharge(actor=nurse, admission=gone, discharged_at=now, discharge_type="completed")
    raise_ = level_order(actor=nurse, admission=admission, level="los", reason="Agitated")
    watched = admit(home, nurse, n=4)
    level_order(actor=nurse, admission=watched, level="one_to_one", reason="Self-harm risk")
    handoff = handoff_offer(actor=nurse, admission=watched, to_observer=witness)
    # Continuous clients are charted only by their observer: the bulk round charts this one.
    rounded = admit(home, nurse, n=5)
    alert, _ = alert_raise(
        facility=home, kind="test", severity="warning", message="Test alert",
        dedupe_key="test:matrix", client_public_id=admission.client.public_id,
    )  # fmt: skip
    return World(
        facility=home,
        other_facility=other,
        cast=cast,
        admission=admission,
        away=away,
        leave=leave,
        gone=gone,
        unit=admission.unit,
        item=OrientationItem.objects.filter(facility=home).first(),
        alert=alert,
        member=member,
        inactive=inactive,
        raise_=raise_,
        handoff=handoff,
        rounded=rounded,
        areas=list(SecurityArea.objects.filter(facility=home, active=True)),
        **_matrix_medications(cast, home, admission),
    )


def _matrix_medications(cast, facility, admission) -> dict:
    from medications.services import administration_record, count_submit, order_verify, prn_give

    nurse, helper = cast["nurse"], make_user("matrix_nurse", "nurse", facility, mfa=False)
    med = ondansetron(facility)

    def order(**extra):
        return transcribe(helper, admission, med, **extra)

    first = order()
    order_verify(actor=nurse, order=first)
    administration = administration_record(
        actor=cast["technician"], dose=first_dose(first), outcome="given", self_administered=True
    )
    # Another drug: a second dose of ondansetron minutes after the first is too soon (issue 9).
    second = transcribe(helper, admission, other_drug(facility, "Famotidine"))
    order_verify(actor=nurse, order=second)
    unverified = order()
    stat = order(frequency="once", times="", priority="stat", start_at=timezone.now())
    verbal = order(
        source="verbal", read_back=True, prescriber=cast["clinician"], prescriber_name="",
        prescriber_credentials="",
    )  # fmt: skip
    prn_fields = {
        "frequency": "prn", "times": "", "indication": "Nausea",
        "prn_min_interval_minutes": 240, "prn_max_per_24h": 3,
    }  # fmt: skip
    # PRN limits are shared by every order of one drug (issue 9): each PRN has a drug of its own.
    prn = transcribe(helper, admission, other_drug(facility, "Hydroxyzine"), **prn_fields)
    prn_used = transcribe(helper, admission, other_drug(facility, "Meclizine"), **prn_fields)
    order_verify(actor=nurse, order=prn)
    order_verify(actor=nurse, order=prn_used)
    prn_given = prn_give(actor=nurse, order=prn_used, indication="Nausea", pre_assessment="6/10")
    stock = received_stock(nurse, facility, "Lorazepam", cast["technician"])
    varied = received_stock(nurse, facility, "Diazepam", cast["technician"])
    variance = count_submit(
        actor=nurse, second=cast["technician"], stock=varied, counted_quantity="9"
    )
    return {
        "med": med,
        "order": first,
        "dose": first_dose(second),
        "administration": administration,
        "unverified": unverified,
        "stat": stat,
        "verbal": verbal,
        "prn": prn,
        "prn_given": prn_given,
        "stock": stock,
        "variance": variance,
        "loss": significant_loss(cast, facility),
        "house_med": controlled(facility, "Clonazepam"),
    }


def _prescribers(cast) -> None:
    """The clinicians are MDs: they enter and sign orders and co-sign verbal ones (issue 9)."""
    for who in ("clinician", "other_clinician"):
        if who in cast:
            cast[who].credentials = "MD"
            cast[who].save(update_fields=["credentials"])


# ---------------------------------------------------------------- the hostile-input world


def mar_objects(cast, facility, admission) -> dict:
    """A verified order whose first dose a nurse gave, and a controlled stock counted short."""
    from medications.services import administration_record, count_submit, order_verify

    med = ondansetron(facility)
    order = transcribe(cast["nurse"], admission, med)
    order_verify(actor=make_user("matrix_nurse", "nurse", facility), order=order)
    dose = first_dose(order)
    administration = administration_record(actor=cast["nurse"], dose=dose, outcome="given")
    stock = received_stock(cast["nurse"], facility, "Lorazepam", cast["technician"])
    variance = count_submit(
        actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="9"
    )
    return {
        "med": med,
        "order": order,
        "dose": dose,
        "administration": administration,
        "stock": stock,
        "variance": variance,
        "loss": significant_loss(cast, facility),
    }


def form_world(cast, facility, admission) -> World:
    """The objects every form of the hostile-input table names, at the `facility` fixture."""
    from clients.services import leave_start
    from facility.services import alert_raise
    from observations.models import SecurityArea
    from observations.services import security_areas_seed_defaults

    _prescribers(cast)
    mar = mar_objects(cast, facility, admission)
    away = admit(facility, cast["nurse"], n=7)
    now = timezone.now()
    leave = leave_start(
        actor=cast["nurse"], admission=away, kind="appointment",
        left_at=now - timedelta(minutes=10), expected_back_at=now + timedelta(hours=2),
        backdate_reason="Entered after the door",
    )  # fmt: skip
    alert, _ = alert_raise(
        facility=facility, kind="test", severity="warning", message="Test", dedupe_key="t:hostile"
    )
    security_areas_seed_defaults(facility)
    return World(
        facility=facility,
        cast=cast,
        admission=admission,
        away=away,
        leave=leave,
        unit=admission.unit,
        alert=alert,
        member=cast["technician"],
        rounded=admission,
        areas=list(SecurityArea.objects.filter(facility=facility, active=True)),
        **mar,
    )


# ---------------------------------------------------------------- valid bodies


def now_field(w: World) -> str:
    return form_time(timezone.now(), w.facility)


def free_bed(w: World):
    from clients.forms import free_beds

    return free_beds(w.facility).first()


def staff_body(w: World, **extra) -> dict:
    body = {
        "username": "new.person", "full_name": "New Person", "email": "new@example.test",
        "initials": "NP", "credentials": "BHT", "role": "technician",
        "facilities": [w.facility.pk],
    }  # fmt: skip
    return {**body, **extra}


def admit_body(w: World) -> dict:
    return {
        "legal_first_name": "Morgan", "legal_last_name": "Tillbury", "preferred_name": "",
        "date_of_birth": "1988-04-12", "sex": "X", "pronouns": "", "allergy_status": "listed",
        "allergen_1": "Sulfa", "kind_1": "drug", "reaction_1": "Rash", "severity_1": "mild",
        "emergency_contact_name": "", "emergency_contact_relationship": "",
        "emergency_contact_phone": "", "bed": free_bed(w).pk, "level_of_care": "3.5",
        "admitted_at": form_time(timezone.now() - timedelta(minutes=5), w.facility),
    }  # fmt: skip


def round_body(w: World) -> dict:
    from observations.models import RoundCode

    pid = w.rounded.public_id
    codes = RoundCode.objects.filter(facility=w.facility)
    return {
        "submission_key": str(uuid.uuid4()), "minutes_back": "0",
        "include": [str(pid)], f"loc-{pid}": str(codes.get(kind="location", code="RM").pk),
        f"st-{pid}": str(codes.get(kind="status", code="A").pk), "late_reason": "",
        f"remark-{pid}": "",
    }  # fmt: skip


def downtime_body(w: World) -> dict:
    """One row of a paper downtime sheet: the client seen in their room half an hour ago."""
    from observations.models import RoundCode

    codes = RoundCode.objects.filter(facility=w.facility)
    return {
        "submission_key": str(uuid.uuid4()), "rows": "1", "reason": "Network outage",
        "client-1": str(w.admission.public_id),
        "time-1": form_time(timezone.now() - timedelta(minutes=30), w.facility),
        "loc-1": str(codes.get(kind="location", code="RM").pk),
        "st-1": str(codes.get(kind="status", code="A").pk), "remark-1": "",
    }  # fmt: skip


def security_body(w: World) -> dict:
    return {f"ok-{a.pk}": "ok" for a in w.areas}


def order_body(w: World) -> dict:
    return {
        "medication": w.med.pk, "dose": "4 mg", "dose_units": "1", "route": "oral",
        "frequency": "times", "times": "09:00", "indication": "", "hold_parameters": "",
        "start_at": now_field(w), "stop_at": "", "prescriber_name": "Dr. Table",
        "prescriber_credentials": "MD", "allergy_override_reason": "",
    }  # fmt: skip


# ---------------------------------------------------------------- allergies and ingredients


def with_ingredients(med, amounts: dict):
    """Give a catalog medication its ingredients, {generic name: mg per unit or None}; the
    facility's Ingredient rows are made as needed. Returns the medication."""
    from medications.models import Ingredient, MedicationIngredient

    for name, mg in amounts.items():
        ingredient, _ = Ingredient.objects.get_or_create(facility=med.facility, name=name)
        MedicationIngredient.objects.update_or_create(
            medication=med, ingredient=ingredient,
            defaults={"mg_per_unit": None if mg is None else Decimal(str(mg))},
        )  # fmt: skip
    return med


def an_allergy(w: World):
    """A drug allergy on the home client's list, to strike (made within the calling test)."""
    from clients.models import Allergy

    return Allergy.objects.create(
        client=w.admission.client, allergen=f"Allergen {uuid.uuid4().hex[:6]}", kind="drug",
        recorded_at=timezone.now(), recorded_by=w.cast["nurse"],
    )  # fmt: skip


def unrecorded_client(w: World):
    """A client of the home facility whose allergies are not yet recorded."""
    from clients.models import Client

    return Client.objects.create(
        facility=w.facility, mrn=f"T-{uuid.uuid4().hex[:8]}", legal_first_name="Ren",
        legal_last_name="Unasked", date_of_birth="1980-01-01", sex="U",
    )  # fmt: skip


def allergy_body(w: World) -> dict:
    return {"allergen": "Bactrim", "kind": "drug", "reaction": "Hives", "severity": "moderate"}


def vitals_body(w: World) -> dict:
    """A valid set of vitals for the home client (issue 11)."""
    return {
        "sbp": "120", "dbp": "80", "hr": "72", "rr": "16", "temp": "37.0", "temp_unit": "C",
        "spo2": "98", "on_oxygen": "air", "acvpu": "A", "taken_at": now_field(w),
    }  # fmt: skip


def a_vitals_set(w: World):
    """A set of vitals of the home client, to read (made within the calling test)."""
    from observations.services import vitals_record

    return vitals_record(
        actor=w.cast["nurse"], admission=w.admission, taken_at=timezone.now(), values={"hr": 80}
    )


def a_withdrawal_protocol(w: World):
    """The home client's open CIWA-Ar protocol, started the first time it is asked for (within
    the calling test) (issue 11)."""
    from observations.models import WithdrawalProtocol
    from observations.services import protocol_start

    found = WithdrawalProtocol.objects.filter(
        admission=w.admission, scale="ciwa_ar", ended_at__isnull=True
    ).first()
    return found or protocol_start(
        actor=w.cast["nurse"], admission=w.admission, scale="ciwa_ar", reason="Alcohol"
    )


def a_withdrawal_score(w: World):
    """A CIWA-Ar of the home client (the latest one, made the first time it is asked for)."""
    from observations.models import ScaleAssessment
    from observations.services import assessment_record

    found = ScaleAssessment.objects.filter(admission=w.admission, struck_at__isnull=True).last()
    return found or assessment_record(
        actor=w.cast["nurse"], admission=w.admission, scale="ciwa_ar", items=ciwa_body(w, 0)
    )


def ciwa_body(w: World, value=0) -> dict:
    """Every CIWA-Ar item scored `value` (issue 11): a valid body for the scoring page."""
    from observations.scales import CIWA_ITEMS

    return dict.fromkeys(CIWA_ITEMS, value)


def ciwa_form_body(w: World) -> dict:
    return {**{k: str(v) for k, v in ciwa_body(w).items()}, "assessed_at": now_field(w),
            "late_reason": "", "remark": ""}  # fmt: skip


def protocol_body(w: World) -> dict:
    return {"scale": "cows", "reason": "Opioid withdrawal", "every_hours": "", "tight_from": "",
            "tight_hours": "", "started_at": now_field(w)}  # fmt: skip


def cows_form_body(w: World) -> dict:
    """A COWS of 4 (none) on the scoring page, the pulse item chosen (issue 11)."""
    items = {
        "resting_pulse_rate": "0", "sweating": "1", "restlessness": "1", "pupil_size": "0",
        "bone_or_joint_aches": "1", "runny_nose_or_tearing": "0", "gi_upset": "1", "tremor": "0",
        "yawning": "0", "anxiety_or_irritability": "0", "gooseflesh_skin": "0",
    }  # fmt: skip
    return {**items, "pulse_bpm": "", "assessed_at": now_field(w), "late_reason": "", "remark": ""}
