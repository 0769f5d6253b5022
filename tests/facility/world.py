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

from tests.clock import local_today
from tests.conftest import (
    admit,
    away_facility,
    base_world,
    cast_users,
    form_time,
    home_facility,
    make_user,
)


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
    base_world()
    home = home_facility()
    # Technicians hold "mar.follow_up"; the facility's policy lets them use it here (issue 9).
    home.tech_prn_effect = True
    home.save(update_fields=["tech_prn_effect"])
    other = away_facility()
    cast = cast_users()
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


# ---------------------------------------------------------------- C-SSRS (issue 12 item 3)


def cssrs_body(w: World) -> dict:
    """A C-SSRS screen with every question asked answered no (3-5 not asked: 2 is no)."""
    return {"q1": "no", "q2": "no", "q6": "no", "reason": "other", "screened_at": now_field(w),
            "remark": ""}  # fmt: skip


def a_high_cssrs_screen(w: World):
    """A high-risk C-SSRS screen of the home client with no safety plan recorded yet (made the
    first time it is asked for, within the calling test)."""
    from observations.models import CssrsScreen
    from observations.services.cssrs import cssrs_screen_record

    found = CssrsScreen.objects.filter(
        admission=w.admission, result="high", struck_at__isnull=True
    ).last()
    return found or cssrs_screen_record(
        actor=w.cast["nurse"], admission=w.admission, reason="other",
        answers={"q1": True, "q2": True, "q3": True, "q4": True, "q5": False, "q6": False},
    )  # fmt: skip


# ---------------------------------------------------------------- groups (issue 12 item 5)


def a_group_session(w: World):
    """A whole-facility process group of the home facility that began 30 minutes ago and lasts
    an hour, run by the nurse (made the first time it is asked for, within the calling test)."""
    from observations.models import GroupSession, GroupTopic
    from observations.services.groups import group_session_create

    found = GroupSession.objects.filter(facility=w.facility).first()
    starts = timezone.now() - timedelta(minutes=30)
    return found or group_session_create(
        actor=w.cast["nurse"], facility=w.facility, facilitator=w.cast["nurse"],
        topic=GroupTopic.objects.filter(facility=w.facility, group_type="process").first(),
        starts_at=starts, ends_at=starts + timedelta(hours=1), location="Group room",
    )  # fmt: skip


def group_new_body(w: World) -> dict:
    from observations.models import GroupTopic

    topic = GroupTopic.objects.filter(facility=w.facility, group_type="skills").first()
    return {"topic": str(topic.pk), "starts_at": now_field(w), "length": "60",
            "facilitator": str(w.cast["nurse"].pk), "co_facilitator": "", "unit": "",
            "location": "Group room"}  # fmt: skip


def attendance_body(w: World, status: str = "present") -> dict:
    """Every client on the session's roster present (the home client partial, 20 minutes, when
    `status` is "partial"); the clients on leave for the whole group are left to the service."""
    from observations.services.groups import session_roster

    body = {"reason": ""}
    for line in session_roster(a_group_session(w)):
        if line.locked:
            continue
        pid = line.admission.public_id
        body[f"status-{pid}"] = "present"
        body.update({f"minutes-{pid}": "", f"participation-{pid}": "",
                     f"excuse_reason-{pid}": "", f"note-{pid}": ""})  # fmt: skip
    if status == "partial":
        pid = w.admission.public_id
        body.update({f"status-{pid}": "partial", f"minutes-{pid}": "20"})
    return body


# ---------------------------------------------------------------- progress notes (issue 12 item 2)


def a_note_draft(w: World, who: str = "technician"):
    """A draft progress note of the home client by `who` (the one made the first time it is
    asked for, within the calling test). Only its author sees it: anyone else gets 404."""
    from observations.models import ProgressNote
    from observations.services.progress_notes import progress_note_start

    author = w.cast[who]
    found = ProgressNote.objects.filter(
        admission=w.admission, author=author, signed_at__isnull=True
    ).first()
    return found or progress_note_start(actor=author, admission=w.admission)


def a_signed_note(w: World):
    """A technician's signed progress note of the home client, waiting for its co-signature."""
    from observations.models import ProgressNote
    from observations.services.progress_notes import progress_note_sign, progress_note_start

    tech = w.cast["technician"]
    found = ProgressNote.objects.filter(
        admission=w.admission, author=tech, signed_at__isnull=False, struck_at__isnull=True,
        cosigned_at__isnull=True,
    ).first()  # fmt: skip
    if found:
        return found
    note = progress_note_start(actor=tech, admission=w.admission)
    return progress_note_sign(
        actor=tech, note=note, sections={"behavior": "Calm in group, joined the discussion."},
        event_at=note.event_at, version=note.version,
    )  # fmt: skip


def note_editor_body(w: World, who: str = "technician") -> dict:
    """The editor of `who`'s draft as the page posts it (BIRP, the facility default)."""
    draft = a_note_draft(w, who)
    return {
        "behavior": "Paced the hall after a phone call.", "intervention": "Offered space.",
        "response": "Settled within 10 minutes.", "plan": "Check in after dinner.",
        "event_at": now_field(w), "version": str(draft.version),
    }  # fmt: skip


# ---------------------------------------------------------------- behavior notes (issue 12)


def a_behavior_note(w: World):
    """The home technician's behavior note on the home client, to read or strike (made the
    first time it is asked for, within the calling test)."""
    from observations.models import BehaviorNote
    from observations.services.behavior_notes import behavior_note_record

    found = BehaviorNote.objects.filter(
        admission=w.admission, recorded_by=w.cast["technician"], struck_at__isnull=True
    ).first()
    return found or behavior_note_record(
        actor=w.cast["technician"], admission=w.admission, observed_at=timezone.now(),
        behaviors=["calm"], narrative={"behavior": "Calm in the day room."},
    )  # fmt: skip


def behavior_note_body(w: World) -> dict:
    """A valid behavior note: calm and cooperative, lunch half eaten, a line of narrative."""
    return {
        "observed_at": now_field(w), "behaviors": ["calm", "cooperative"], "meal_lunch": "50",
        "cravings": "2", "narrative_behavior": "Calm in the day room.",
    }  # fmt: skip


# ---------------------------------------------------------------- incident reports (issue 12)


def an_incident(w: World, *, draft: bool = False):
    """The technician's report of an incident with the home client that names the nurse and the
    clinician, so everyone whose role reads reports may read it: submitted, or a complete draft
    (made the first time it is asked for, within the calling test)."""
    from observations.models import Incident
    from observations.services.incidents import IncidentFields, incident_open, incident_submit

    marker = "Matrix draft room" if draft else "Matrix room"
    found = Incident.objects.filter(facility=w.facility, location=marker).first()
    if found is not None:
        return found
    cast = w.cast
    incident = incident_open(
        actor=cast["technician"], facility=w.facility,
        fields=IncidentFields(
            "aggression_peer", timezone.now() - timedelta(minutes=20), severity="minor",
            location=marker, description="Pushed a peer in the hallway.",
            clients=(w.admission,), staff=(cast["nurse"], cast["clinician"]),
        ),
    )  # fmt: skip
    return incident if draft else incident_submit(actor=cast["technician"], incident=incident)


def incident_body(w: World, **changes) -> dict:
    """A complete report of an incident with the home client, as the report form posts it."""
    body = {
        "incident_type": "fall", "severity": "minor",
        "occurred_at": form_time(timezone.now() - timedelta(minutes=30), w.facility),
        "location": "Hallway", "clients": [str(w.admission.public_id)], "staff": [],
        "visitors": "", "description": "Slipped on a wet floor; got up unaided.",
        "antecedents": "", "interventions": ["first_aid"], "injuries": "Graze, cleaned.",
        "ems_called_at": "", "ems_agency": "", "ems_outcome": "",
    }  # fmt: skip
    return {**body, **changes}


def notification_body(w: World, **changes) -> dict:
    return {
        "party": "clinician", "person": "Dr. On-Call", "method": "phone",
        "notified_at": now_field(w), "family_basis": "", "consent_reference": "", "note": "",
        **changes,
    }  # fmt: skip


def debrief_body(w: World) -> dict:
    return {"debrief_at": now_field(w), "debrief_note": "Client, peer and staff; agreed a plan."}


# ---------------------------------------------------------------- specimens and custody (issue 13)


def _a_specimen(w: World, tag: str, *, collect: bool = False, **collection):
    """The home client's specimen tagged `tag` (in its reason text), started by the technician
    and, with `collect`, collected by them 20 minutes ago (made the first time it is asked for,
    within the calling test)."""
    from screening.models import Specimen
    from screening.services.specimens import Collection, specimen_collect, specimen_order

    found = Specimen.objects.filter(admission=w.admission, reason_detail=tag).first()
    if found is not None:
        return found
    tech = w.cast["technician"]
    specimen = specimen_order(actor=tech, admission=w.admission, reason="admission",
                              reason_detail=tag)  # fmt: skip
    if not collect:
        return specimen
    at = timezone.now() - timedelta(minutes=20)
    fields = {
        "collected_at": at, "observed": False, "temperature": Decimal("96.4"),
        "temperature_unit": "F", "temperature_read_at": at + timedelta(minutes=2),
        "volume_adequate": True, "split": False, "seal_applied": True, "seal_initialed": True,
        "client_signature": "M20 120 L60 80 L100 130",
    }  # fmt: skip
    fields.update(collection)
    return specimen_collect(actor=tech, specimen=specimen, collection=Collection(**fields))


def an_ordered_specimen(w: World):
    return _a_specimen(w, "matrix: to collect")


def a_collected_specimen(w: World):
    """Collected by the technician, who holds it: custody #1 only."""
    return _a_specimen(w, "matrix: collected", collect=True)


def a_flagged_specimen(w: World):
    """Collected at 101.0 °F: flagged, an observed recollection to offer."""
    return _a_specimen(w, "matrix: flagged", collect=True, temperature=Decimal("101.0"))


def a_specimen_at_the_lab(w: World):
    """Collected, stored, couriered and received by the lab: ready for its result."""
    from screening.services.custody import custody_append

    specimen = _a_specimen(w, "matrix: at the lab", collect=True)
    if specimen.custody.count() > 1:
        return specimen
    tech, start = w.cast["technician"], specimen.collected_at
    for minutes, released, received, purpose in (
        (5, "Technician, BHT", "Storage fridge 2", "to_storage"),
        (10, "Storage fridge 2", "Sam Rivera, Quest courier", "to_courier"),
        (15, "Sam Rivera, Quest courier", "Quest Diagnostics", "lab_received"),
    ):
        custody_append(
            actor=tech, specimen=specimen, at=start + timedelta(minutes=minutes),
            released_by=released, received_by=received, purpose=purpose, seal_intact=True,
            storage_location="Med room" if purpose == "to_storage" else "",
        )  # fmt: skip
    return specimen


def specimen_start_body(w: World) -> dict:
    return {"reason": "admission", "specimen_type": "urine", "leave": ""}


def specimen_order_body(w: World) -> dict:
    return {"reason": "for_cause", "reason_detail": "Smelled of alcohol after group",
            "specimen_type": "urine"}  # fmt: skip


def specimen_collect_body(w: World) -> dict:
    return {
        "collected_at": now_field(w), "observed": "no", "observer": "", "observed_reason": "",
        "temperature": "96.4", "temperature_unit": "F", "temperature_read_at": now_field(w),
        "volume_adequate": "yes", "split": "single", "seal_applied": "on",
        "seal_initialed": "on", "client_signature": "M20 120 L60 80 L100 130", "remarks": "",
    }  # fmt: skip


def specimen_refuse_body(w: World) -> dict:
    return {"refused_at": now_field(w), "refusal_note": "Said no and walked away"}


def custody_body(w: World) -> dict:
    """The technician, who holds the collected specimen, puts it in the fridge."""
    return {
        "at": now_field(w), "purpose": "to_storage", "released_by": "Technician, BHT",
        "received_by": "Storage fridge 2", "seal_intact": "yes",
        "storage_location": "Med room, locked", "remarks": "", "corrects": "",
    }  # fmt: skip


def lab_result_body(w: World) -> dict:
    return {
        "lab_name": "Quest Diagnostics", "reported_at": now_field(w), "analyte_1": "THC",
        "cutoff_1": "15", "value_1": "48.2", "positive_1": "positive",
    }  # fmt: skip


# ---------------------------------------------------------------- cup results, breath alcohol,
# belongings searches (issue 13 items 4-7)


def a_cup_lot(w: World):
    """A lot of the home facility's default cup, good for years."""
    from datetime import date

    from screening.models import Device, DeviceLot

    cup = Device.objects.get(facility=w.facility, kind="cup")
    lot, _ = DeviceLot.objects.get_or_create(
        device=cup, lot="MATRIX-LOT", defaults={"expires_on": date(2099, 12, 31)}
    )
    return lot


def poc_record_body(w: World) -> dict:
    """The home client's collected specimen read: all negative but cocaine, pads normal."""
    a_collected_specimen(w)
    lot = a_cup_lot(w)
    return {"device": str(lot.device.public_id), "lot": str(lot.pk), "tested_at": "",
            "all_negative": "on", "all_normal": "on", "r-COC": "presumptive_positive"}  # fmt: skip


def a_poc_result(w: World):
    """The cup result of the home client's collected specimen (made the first time it is asked
    for, within the calling test): presumptive positive for cocaine."""
    from screening.models import PocTest
    from screening.services.results import poc_test_record

    specimen = a_collected_specimen(w)
    found = PocTest.objects.filter(specimen=specimen, struck_at__isnull=True).first()
    if found:
        return found
    lot = a_cup_lot(w)
    readings = dict.fromkeys(lot.device.cutoffs, "negative") | {"COC": "presumptive_positive"}
    return poc_test_record(
        actor=w.cast["technician"], specimen=specimen, device=lot.device, lot=lot,
        readings=readings, adulterants=dict.fromkeys(lot.device.adulterant_pads, "normal"),
    )  # fmt: skip


def a_breath_device(w: World):
    from screening.models import Device

    device, _ = Device.objects.get_or_create(
        facility=w.facility, kind="breath", serial="MATRIX-BR",
        defaults={"make": "Lifeloc", "model": "FC10", "calibration_interval_days": 180,
                  "last_calibrated_on": local_today(w.facility) - timedelta(days=10)},
    )  # fmt: skip
    return device


def breath_body(w: World) -> dict:
    """A negative breath test after 20 minutes of observation, signed by the client."""
    return {
        "device": str(a_breath_device(w).pk), "kind": "screening", "brac": "0.000",
        "observation_started_at": form_time(timezone.now() - timedelta(minutes=20), w.facility),
        "tested_at": now_field(w), "client_signature": "Robin Ashdown", "remarks": "",
    }  # fmt: skip


def a_breath_result(w: World):
    from screening.models import BreathTest
    from screening.services.breath import breath_test_record

    found = BreathTest.objects.filter(admission=w.admission).first()
    now = timezone.now()
    return found or breath_test_record(
        actor=w.cast["technician"], admission=w.admission, device=a_breath_device(w),
        tested_at=now, observation_started_at=now - timedelta(minutes=20),
        brac=Decimal("0.000"), client_signature="Robin Ashdown",
    )  # fmt: skip


def _second(w: World):
    """A witness who is none of the posters: the matrix's second technician, else the nurse."""
    return w.cast.get("witness") or w.cast["nurse"]


def search_form_body(w: World) -> dict:
    """An admission search witnessed by the second technician: one stored contraband item."""
    return {
        "reason": "admission", "reason_detail": "", "leave": "", "searched_at": "",
        "witness": str(_second(w).pk), "client_present": "yes", "remarks": "",
        "rows": "1", "item-1-category": "drugs", "item-1-description": "Baggie",
        "item-1-quantity": "1", "item-1-contraband": "on", "item-1-disposition": "stored",
        "item-1-location": "Property safe", "item-1-bag_id": "B-1", "item-1-witness": "",
    }  # fmt: skip


def a_search(w: World):
    """The home client's admission search with a stored item (made the first time it is asked
    for, within the calling test)."""
    from screening.models import BelongingsSearch
    from screening.services.searches import ItemEntry, search_record

    found = BelongingsSearch.objects.filter(admission=w.admission).first()
    return found or search_record(
        actor=w.cast["technician"], admission=w.admission, reason="admission",
        searched_at=timezone.now(), client_present=True, witness=_second(w),
        items=[ItemEntry(category="electronics", description="Phone", disposition="stored",
                         location="Locker 3", bag_id="B-3")],
    )  # fmt: skip


def a_search_item(w: World):
    return a_search(w).items.first()


def strike_body(w: World) -> dict:
    a_poc_result(w)
    return {"reason": "Wrong cup"}


def item_move_body(w: World) -> dict:
    a_search_item(w)
    return {"disposition": "returned_to_family", "location": "", "bag_id": "", "witness": "",
            "client_signature": "", "at": ""}  # fmt: skip


def a_returned_leave(w: World):
    """The away client's leave, with their return recorded (within the calling test)."""
    from clients.models import Leave
    from clients.services import leave_return

    leave = Leave.objects.get(pk=w.leave.pk)
    if leave.returned_at is None:
        leave = leave_return(actor=w.cast["nurse"], leave=leave, returned_at=timezone.now())
    return leave


# ---------------------------------------------------------------- transport: fleet (issue 14)


def a_vehicle(w: World):
    """An in-service van of the home facility, every document valid for a year."""
    from tests.transport.fleet_helpers import make_vehicle
    from transport.models import Vehicle

    return Vehicle.objects.filter(facility=w.facility, name="Matrix van").first() or make_vehicle(
        w.facility, name="Matrix van"
    )


def a_grounded_vehicle(w: World):
    """A van taken out of service by hand, nothing lapsed: a supervisor may clear it."""
    from tests.transport.fleet_helpers import make_vehicle
    from transport.models import Vehicle

    found = Vehicle.objects.filter(facility=w.facility, name="Grounded van").first()
    return found or make_vehicle(
        w.facility, name="Grounded van", in_service=False, out_of_service_reason="Flat tire"
    )


def a_driver(w: World):
    from tests.transport.fleet_helpers import make_driver
    from transport.models import Driver

    found = Driver.objects.filter(facility=w.facility, user=w.cast["technician"]).first()
    return found or make_driver(w.facility, w.cast["technician"])


def vehicle_body(w: World, **extra) -> dict:
    day = timezone.localtime(timezone.now(), w.facility.tz).date()
    return {
        "name": "Body van", "plate": "BDY 1", "vin": "", "seats": "7",
        "registration_expires": str(day + timedelta(days=200)),
        "insurance_expires": str(day + timedelta(days=200)),
        "service_due_on": "", "service_due_odometer": "", "odometer": "100", **extra,
    }  # fmt: skip


def driver_body(w: World, **extra) -> dict:
    day = timezone.localtime(timezone.now(), w.facility.tz).date()
    return {
        "user": str(w.cast["nurse"].pk), "licence_number": "D7654321", "licence_class": "C",
        "licence_state": "NY", "licence_expires": str(day + timedelta(days=300)),
        "mvr_checked_on": str(day - timedelta(days=20)), "training_on": str(day),
        "first_aid_expires": str(day + timedelta(days=300)), **extra,
    }  # fmt: skip


def inspection_body(w: World) -> dict:
    """Every item of the pre-trip inspection OK."""
    from transport.rules import INSPECTION_ITEMS

    body = {"odometer": ""}
    for key, _, _ in INSPECTION_ITEMS:
        body[key], body[f"note_{key}"] = "ok", ""
    return body


def a_trip(w: World):
    """A planned trip of the home facility with the home client on board (the manifest)."""
    from transport.models import Trip, TripPassenger, TripStop

    found = Trip.objects.filter(facility=w.facility, purpose_note="Matrix trip").first()
    if found is not None:
        return found
    now = timezone.now()
    trip = Trip.objects.create(
        facility=w.facility, purpose="medical", purpose_note="Matrix trip",
        planned_departure=now + timedelta(hours=1), planned_return=now + timedelta(hours=3),
        driver=a_driver(w), vehicle=a_vehicle(w), planned_by=w.cast["nurse"], planned_at=now,
    )  # fmt: skip
    stop = TripStop.objects.create(trip=trip, position=1, place="Clinic")
    TripPassenger.objects.create(trip=trip, admission=w.admission, stop=stop)
    return trip


def an_outing_restriction(w: World):
    """A "no outings" restriction in force on the home client (within the calling test)."""
    from clients.models import OutingRestriction

    found = OutingRestriction.objects.filter(admission=w.admission, lifted_at__isnull=True)
    return found.first() or OutingRestriction.objects.create(
        admission=w.admission, reason="Court order", set_at=timezone.now(),
        set_by=w.cast["nurse"],
    )  # fmt: skip


# ---------------------------------------------------------------- transport: trips (issue 14)


def trip_plan_body(w: World, **extra) -> dict:
    """A medical trip leaving in 10 minutes for 2 hours in the matrix van, the technician
    driving, the home client going to the one stop."""
    now = timezone.now()
    pid = str(w.admission.public_id)
    return {
        "purpose": "medical", "purpose_note": "",
        "planned_departure": form_time(now + timedelta(minutes=10), w.facility),
        "planned_return": form_time(now + timedelta(hours=2), w.facility),
        "driver": str(a_driver(w).pk), "vehicle": str(a_vehicle(w).pk), "pickup": "",
        "stop-1-place": "Eastside Clinic", "stop-1-address": "12 Elm St",
        "passengers": [pid], f"dest-{pid}": "1", **extra,
    }  # fmt: skip


def trip_depart_body(w: World) -> dict:
    """The planned matrix trip leaves with the home client, its van inspected today."""
    from tests.transport.fleet_helpers import passed_inspection

    van = a_trip(w).vehicle
    passed_inspection(van, w.cast["technician"])
    return {"odometer_out": str(van.odometer), "head_count": "1",
            "signed_out": [str(w.admission.public_id)]}  # fmt: skip


def an_out_trip(w: World):
    """A trip out now with the rounded client, in a second van the supervisor drives (made the
    first time it is asked for, within the calling test)."""
    from tests.transport.fleet_helpers import make_driver, make_vehicle, passed_inspection
    from transport.models import Trip
    from transport.services.trips import trip_depart, trip_plan

    found = Trip.objects.filter(facility=w.facility, purpose_note="Matrix trip out").first()
    if found is not None:
        return found
    now = timezone.now()
    van = make_vehicle(w.facility, name="Matrix van out")
    passed_inspection(van, w.cast["supervisor"])
    trip = trip_plan(
        actor=w.cast["nurse"], facility=w.facility, purpose="outing",
        purpose_note="Matrix trip out", planned_departure=now,
        planned_return=now + timedelta(hours=2), vehicle=van,
        driver=make_driver(w.facility, w.cast["supervisor"]), stops=[("Park", "")],
        passengers=[(w.rounded, 1)],
    )  # fmt: skip
    return trip_depart(
        actor=w.cast["supervisor"], trip=trip, odometer_out=van.odometer, head_count=1,
        signed_out=[w.rounded.pk],
    ).trip  # fmt: skip


def trip_return_body(w: World) -> dict:
    trip = an_out_trip(w)
    return {"odometer_in": str(trip.odometer_out + 12), "head_count": "1",
            "signed_in": [str(w.rounded.public_id)]}  # fmt: skip


# ---------------------------------------------------------------- the shift handoff (issue 15)


def last_shift(facility):
    """The shift that ended last: its report may be handed over at any hour of the test run (a
    shift's report is given only from its last hour on)."""
    day, key = facility.current_shift(timezone.now())
    start, _ = facility.shift_bounds(day, key)
    return facility.current_shift(start - timedelta(minutes=1))


def handoff_body(w: World, unit=None) -> dict:
    """The shift that ended last, for `unit` (None: the whole facility)."""
    day, key = last_shift(w.facility)
    return {"unit": str(unit.public_id) if unit else "", "day": day.isoformat(), "shift": key}


def a_given_handoff(w: World):
    """The whole facility's report of the shift that ended last, given by the witness (who walks
    none of the URLs), so anyone else may receive it."""
    from facility.handoff import handoff_for, handoff_give

    day, key = last_shift(w.facility)
    return handoff_for(w.facility, None, day, key) or handoff_give(
        actor=w.cast["witness"], facility=w.facility, unit=None, day=day, shift_key=key
    )


def a_received_handoff(w: World):
    """The other unit's report of the shift that ended last, given by the witness and received by
    the nurse: frozen, with its PDF (made the first time it is asked for, within the test)."""
    from facility.handoff import handoff_for, handoff_give, handoff_receive
    from facility.models import Unit

    unit = Unit.objects.filter(facility=w.facility).exclude(pk=w.unit.pk).order_by("name")[0]
    day, key = last_shift(w.facility)
    found = handoff_for(w.facility, unit, day, key)
    if found is not None and found.received_at is not None:
        return found
    shift = {"facility": w.facility, "unit": unit, "day": day, "shift_key": key}
    handoff_give(actor=w.cast["witness"], **shift)
    return handoff_receive(actor=w.cast["nurse"], **shift)
