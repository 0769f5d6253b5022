"""Every URL of the project × anonymous, every role, and every role at another facility.

Who may use a URL is not written here: each view declares the capability it asks for
(`@policy.requires`, read back from `view.capabilities`), and facility/roles.py says which roles
hold it; the same two declarations the policy enforces. This file says only how to call each URL:
its arguments, for a POST a valid body, and how to see that the POST did its work.

For each URL, method and person:
- anonymous: a redirect to sign in, nothing written;
- a role without the capability: 403, nothing written;
- a role with it, at the other facility: 404 for a URL naming an object of the home facility
  (nothing written); for a URL of "my facility" the status in `other`, and nothing written in
  the home facility even though the body names its objects;
- a role with it, at home: the status in `ok`, and for a POST the row created or state changed.

Every POST runs in a savepoint rolled back after it, so each person starts from the same world,
built once per module (tests/facility/world.py, with the valid bodies test_hostile_input shares).
"""

import importlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from facility import policy
from facility.roles import CAPABILITIES
from tests.conftest import PASSWORD, ROLES, form_time
from tests.facility.world import (
    World,
    a_behavior_note,
    a_breath_result,
    a_collected_specimen,
    a_driver,
    a_flagged_specimen,
    a_given_handoff,
    a_grounded_vehicle,
    a_group_session,
    a_high_cssrs_screen,
    a_note_draft,
    a_poc_result,
    a_received_handoff,
    a_returned_leave,
    a_search,
    a_search_item,
    a_signed_note,
    a_specimen_at_the_lab,
    a_trip,
    a_vehicle,
    a_vitals_set,
    a_withdrawal_protocol,
    a_withdrawal_score,
    admit_body,
    allergy_body,
    an_allergy,
    an_incident,
    an_ordered_specimen,
    an_out_trip,
    an_outing_restriction,
    attendance_body,
    behavior_note_body,
    breath_body,
    ciwa_form_body,
    cssrs_body,
    custody_body,
    debrief_body,
    downtime_body,
    driver_body,
    free_bed,
    group_new_body,
    handoff_body,
    incident_body,
    inspection_body,
    item_move_body,
    lab_result_body,
    matrix_world,
    note_editor_body,
    notification_body,
    now_field,
    order_body,
    poc_record_body,
    protocol_body,
    round_body,
    search_form_body,
    security_body,
    specimen_collect_body,
    specimen_order_body,
    specimen_refuse_body,
    specimen_start_body,
    staff_body,
    trip_depart_body,
    trip_plan_body,
    trip_return_body,
    unrecorded_client,
    vehicle_body,
    vitals_body,
)

WHO = ["anonymous", *ROLES, *[f"other_{r}" for r in ROLES]]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once in a transaction that is rolled back when the module is done; each test runs
    in a savepoint inside it (pytest-django's `db`)."""
    with django_db_blocker.unblock(), transaction.atomic():
        world = matrix_world()
        # One signed-in session per person for the whole module: signing in again for each of
        # some 4,000 walks was a quarter of the matrix's time. Each walk's writes, a session's
        # changes included, are rolled back, so every walk starts from the same session.
        SESSIONS.clear()
        for who in WHO[1:]:
            signed_in = Client()
            signed_in.force_login(world.cast[who])
            SESSIONS[who] = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
        yield world
        transaction.set_rollback(True)


SESSIONS: dict[str, str] = {}


# ---------------------------------------------------------------- how to call each URL


def count(model: str, **filters) -> Callable[[World], int]:
    def effect(w: World) -> int:
        from django.apps import apps

        return apps.get_model(model).objects.filter(**filters).count()

    return effect


def field_of(attr: str, name: str) -> Callable[[World], Any]:
    def effect(w: World) -> Any:
        obj = getattr(w, attr)
        return type(obj).objects.filter(pk=obj.pk).values_list(name, flat=True).get()

    return effect


@dataclass(frozen=True)
class Post:
    body: Callable[[World], dict]
    effect: Callable[[World], Any] | None  # what changes when the POST does its work
    ok: int = 302
    other: int = 404  # for a URL of "my facility": the other facility posting home's objects
    # People at home who hold the capability but whom a rule on the object refuses (403,
    # nothing written): e.g. only its reporter completes a draft incident report.
    forbidden: frozenset = frozenset()


@dataclass(frozen=True)
class Url:
    args: Callable[[World], list] = lambda w: []
    scoped: bool = False  # names an object of one facility: the other facility gets 404
    get: int | None = 200  # the status of a GET at home (None: GET not served)
    post: Post | None = None
    forbidden: frozenset = frozenset()  # as Post.forbidden, for the GET


def cosigned(**body) -> Callable[[World], dict]:
    return lambda w: {**body, "second_nurse": "witness", "second_password": PASSWORD}


def seen_body(w):
    from observations.models import RoundCode

    codes = RoundCode.objects.filter(facility=w.facility)
    return {
        "submission_key": str(uuid.uuid4()),
        "admission": str(w.admission.public_id),
        "location": codes.filter(kind="location").values_list("pk", flat=True).first(),
        "status": codes.filter(kind="status", needs_respirations=False)
        .values_list("pk", flat=True)
        .first(),
    }


def client_pid(w):
    return [w.admission.client.public_id]


def admission_pid(w):
    return [w.admission.public_id]


URLS: dict[str, Url] = {
    "home": Url(),
    "ping": Url(),
    "facility_switch": Url(
        get=None, post=Post(lambda w: {"facility": str(w.facility.public_id)}, None)
    ),
    "alerts": Url(),
    "dashboard": Url(),
    "dashboard_live": Url(),
    "alert_resolve": Url(
        lambda w: [w.alert.public_id],
        True,
        None,
        Post(lambda w: {"note": "Checked on the client."}, field_of("alert", "resolved_at")),
    ),  # fmt: skip
    # The shift report and its handoff (issue 15). Giving names home's unit: the other facility
    # gets 404. Receiving is the whole facility's report, given by the witness: the other
    # facility's staff receive nothing of theirs (a message, 302) and nothing of home's.
    "shift_report": Url(),
    "shift_report_pdf": Url(),
    "survey_bundle": Url(),  # the form page; the PDF itself: tests/facility/test_survey_bundle.py
    "handoff_give": Url(
        get=None,
        post=Post(
            lambda w: handoff_body(w, w.unit),
            count("facility.Handoff", facility__name="Alder House", given_at__isnull=False),
        ),
    ),
    "handoff_receive": Url(
        get=None,
        post=Post(
            lambda w: a_given_handoff(w) and handoff_body(w),
            count("facility.Handoff", facility__name="Alder House", received_at__isnull=False),
            other=302,
        ),
    ),
    "handoff_detail": Url(lambda w: [a_received_handoff(w).public_id], True),
    "handoff_pdf": Url(lambda w: [a_received_handoff(w).public_id], True),
    "audit_trail": Url(),
    "staff_list": Url(),
    "staff_create": Url(
        post=Post(staff_body, count("facility.User"), other=200),
    ),
    "staff_edit": Url(
        lambda w: [w.member.public_id],
        True,
        200,
        Post(
            lambda w: staff_body(
                w, username="member", full_name="Renamed Person", email="member@example.test"
            ),
            field_of("member", "full_name"),
        ),
    ),  # fmt: skip
    "staff_deactivate": Url(
        lambda w: [w.member.public_id],
        True,
        200,
        Post(lambda w: {"confirm": "yes"}, field_of("member", "is_active")),
    ),
    "staff_reactivate": Url(
        lambda w: [w.inactive.public_id],
        True,
        None,
        Post(lambda w: {}, field_of("inactive", "is_active")),
    ),
    "staff_reset_mfa": Url(
        lambda w: [w.cast["supervisor"].public_id],
        True,
        None,
        Post(lambda w: {}, count("mfa.Authenticator", user__username="supervisor")),
    ),
    "clients:census": Url(),
    "clients:census_pdf": Url(),
    "clients:admit": Url(post=Post(admit_body, count("clients.Client"), other=200)),
    "clients:chart": Url(client_pid, True),
    "clients:allergies": Url(
        client_pid, True, 200, Post(allergy_body, count("clients.Allergy", allergen="Bactrim"))
    ),
    "clients:allergy_remove": Url(
        lambda w: [an_allergy(w).public_id],
        True,
        None,
        Post(lambda w: {"reason": "Wrong"}, count("clients.Allergy", removed_reason="Wrong")),
    ),
    "clients:allergies_nkda": Url(
        lambda w: [unrecorded_client(w).public_id],
        True,
        None,
        Post(lambda w: {}, count("clients.Client", allergy_status="nkda")),
    ),
    "clients:photo": Url(client_pid, True, 404),  # no photo on file → 404 for all
    "clients:readmit": Url(
        lambda w: [w.gone.client.public_id],
        True,
        200,
        Post(
            lambda w: {"bed": free_bed(w).pk, "level_of_care": "3.5", "admitted_at": now_field(w)},
            count("clients.Admission"),
        ),
    ),
    "clients:move_bed": Url(
        admission_pid,
        True,
        200,
        Post(
            lambda w: {"bed": free_bed(w).pk, "moved_at": now_field(w), "reason": "Quieter"},
            field_of("admission", "bed_id"),
        ),
    ),  # fmt: skip
    "clients:discharge": Url(
        admission_pid,
        True,
        200,
        Post(
            lambda w: {
                "discharged_at": now_field(w),
                "discharge_type": "completed",
                "note": "Done",
            },
            field_of("admission", "discharged_at"),
        ),
    ),  # fmt: skip
    "clients:leave_start": Url(
        admission_pid,
        True,
        200,
        Post(
            lambda w: {
                "kind": "appointment",
                "destination": "Dentist",
                "left_at": now_field(w),
                "expected_back_at": form_time(timezone.now() + timedelta(hours=2), w.facility),
                "note": "",
            },
            count("clients.Leave"),
        ),
    ),  # fmt: skip
    "clients:orientation_tick": Url(
        lambda w: [w.admission.public_id, w.item.pk],
        True,
        None,
        Post(lambda w: {}, count("clients.OrientationTick")),
    ),
    "clients:leave_return": Url(
        lambda w: [w.leave.public_id],
        True,
        200,
        Post(lambda w: {"returned_at": now_field(w)}, field_of("leave", "returned_at")),
    ),
    "observations:rounds": Url(get=302),
    "observations:board": Url(
        lambda w: [w.unit.public_id], True, 200, Post(round_body, count("observations.RoundCheck"))
    ),
    "observations:board_status": Url(lambda w: [w.unit.public_id], True),
    "observations:downtime_home": Url(get=302),
    "observations:downtime": Url(
        lambda w: [w.unit.public_id],
        True,
        200,
        Post(downtime_body, count("observations.RoundCheck", source="downtime")),
    ),
    "observations:level_change": Url(
        admission_pid,
        True,
        200,
        Post(
            lambda w: {"level": "one_to_one", "reason": "Self-harm risk"},
            count("observations.LevelOrder"),
        ),
    ),  # fmt: skip
    "observations:observer_assign": Url(
        admission_pid,
        True,
        None,
        Post(lambda w: {"observer": w.cast["witness"].pk}, count("observations.ObserverHandoff")),
    ),  # fmt: skip
    # Only the person offered (the witness, who is none of these) accepts or declines: 403.
    "observations:handoff_accept": Url(
        lambda w: [w.handoff.public_id], True, None, Post(lambda w: {}, None, ok=403)
    ),
    "observations:handoff_decline": Url(
        lambda w: [w.handoff.public_id], True, None, Post(lambda w: {}, None, ok=403)
    ),
    "observations:handoff_withdraw": Url(
        lambda w: [w.handoff.public_id],
        True,
        None,
        Post(lambda w: {}, field_of("handoff", "closed_at")),
    ),
    # Nobody here observes the posted client: the entry is refused with a message (400).
    "observations:my_observation": Url(post=Post(seen_body, None, ok=400, other=400)),
    "observations:level_confirm": Url(
        lambda w: [w.raise_.public_id],
        True,
        None,
        Post(lambda w: {}, field_of("raise_", "confirmed_at")),
    ),
    "observations:compliance": Url(),
    "observations:security": Url(
        post=Post(security_body, count("observations.SecurityRound"), other=400)
    ),
    # The other facility's staff post home's area: not one of theirs, a field message (400).
    "observations:security_finding": Url(
        get=None,
        post=Post(
            lambda w: {
                "area": str(w.areas[0].pk),
                "found_at": form_time(timezone.now(), w.facility),
                "finding": "Lighter",
                "location_detail": "Lounge",
                "action_taken": "Taken",
            },
            count("observations.SecurityFinding"),
            other=400,
        ),
    ),
    "observations:observation_sheet": Url(admission_pid, True),
    "observations:vitals_record": Url(
        admission_pid, True, 200, Post(vitals_body, count("observations.VitalSigns"))
    ),
    "observations:vitals_schedule": Url(
        admission_pid,
        True,
        200,
        Post(
            lambda w: {"every_minutes": "240", "reason": "CIWA-Ar protocol"},
            count("observations.VitalsSchedule"),
        ),
    ),
    "observations:vitals_result": Url(lambda w: [a_vitals_set(w).public_id], True),
    # Starting a round keeps its list in the session (nothing written to the chart).
    "observations:vitals_round": Url(
        lambda w: [w.unit.public_id], True, 200, Post(lambda w: {"everyone": "on"}, None)
    ),
    "observations:vitals_review_home": Url(get=302),
    "observations:vitals_review": Url(lambda w: [w.unit.public_id], True),
    "observations:vitals_trends": Url(admission_pid, True),
    "observations:withdrawal_board": Url(),
    "observations:withdrawal_start": Url(
        admission_pid, True, 200, Post(protocol_body, count("observations.WithdrawalProtocol"))
    ),
    "observations:withdrawal_end": Url(
        lambda w: [a_withdrawal_protocol(w).public_id],
        True,
        None,
        Post(
            lambda w: {"reason": "Withdrawal resolved"},
            count("observations.WithdrawalProtocol", ended_at__isnull=False),
        ),
    ),
    "observations:withdrawal_score": Url(
        lambda w: [w.admission.public_id, "ciwa_ar"],
        True,
        200,
        Post(ciwa_form_body, count("observations.ScaleAssessment")),
    ),
    "observations:withdrawal_result": Url(lambda w: [a_withdrawal_score(w).public_id], True),
    "observations:withdrawal_strike": Url(
        lambda w: [a_withdrawal_score(w).public_id],
        True,
        None,
        Post(
            lambda w: {"reason": "Wrong client"},
            count("observations.ScaleAssessment", struck_at__isnull=False),
        ),
    ),
    # C-SSRS (issue 12 item 3). A screen answers nothing in the matrix's world (no request
    # open), so each POST is seen by the row it writes.
    "observations:cssrs_screen": Url(
        admission_pid, True, 200, Post(cssrs_body, count("observations.CssrsScreen"))
    ),
    "observations:cssrs_order": Url(
        admission_pid,
        True,
        None,
        Post(
            lambda w: {"detail": "Talked of hopelessness in group"},
            count("observations.CssrsRequest", reason="ordered"),
        ),
    ),
    "observations:cssrs_due": Url(),
    "observations:cssrs_result": Url(lambda w: [a_high_cssrs_screen(w).public_id], True),
    "observations:cssrs_safety_plan": Url(
        lambda w: [a_high_cssrs_screen(w).public_id],
        True,
        None,
        Post(
            lambda w: {"safety_plan": "yes"},
            count("observations.CssrsScreen", safety_plan=True),
        ),
    ),
    "observations:cssrs_strike": Url(
        lambda w: [a_high_cssrs_screen(w).public_id],
        True,
        None,
        Post(
            lambda w: {"reason": "Wrong client"},
            count("observations.CssrsScreen", struck_at__isnull=False),
            # Someone else's screen (a nurse recorded it): its recorder, a nurse or a
            # supervisor strikes it (tests/observations/test_review_issue12.py).
            forbidden=frozenset({"technician", "clinician"}),
        ),
    ),
    # Groups (issue 12 item 5). The other facility's staff post home's topic on their own
    # "new group" page: not one of theirs, a field message (400).
    "observations:groups": Url(),
    "observations:group_new": Url(
        post=Post(group_new_body, count("observations.GroupSession"), other=400)
    ),
    "observations:group_attendance": Url(
        lambda w: [a_group_session(w).public_id],
        True,
        200,
        Post(attendance_body, count("observations.GroupAttendance")),
    ),
    # Progress notes and the timeline (issue 12 item 2). A draft exists only for its author
    # (the witness here, who is none of the people walked): everyone else gets 404 for it.
    "observations:note_new": Url(
        admission_pid, True, None, Post(lambda w: {}, count("observations.ProgressNote"))
    ),
    "observations:note": Url(lambda w: [a_signed_note(w).public_id], True),
    "observations:note_autosave": Url(
        lambda w: [a_note_draft(w, "witness").public_id],
        True,
        None,
        Post(lambda w: note_editor_body(w, "witness"), None, ok=404),
    ),
    "observations:note_sign": Url(
        lambda w: [a_note_draft(w, "witness").public_id],
        True,
        None,
        Post(lambda w: note_editor_body(w, "witness"), None, ok=404),
    ),
    "observations:note_discard": Url(
        lambda w: [a_note_draft(w, "witness").public_id],
        True,
        None,
        Post(lambda w: {"confirm": "on"}, None, ok=404),
    ),
    "observations:note_addendum": Url(
        lambda w: [a_signed_note(w).public_id],
        True,
        None,
        Post(
            lambda w: {"text": "Client asked to add: ate dinner."},
            count("observations.NoteAddendum"),
        ),
    ),
    # The technician's own note: its author, a nurse and a clinician strike it; a supervisor
    # (neither) is refused with a message on the note (302, nothing written): one status for
    # all, so the row's writing is checked in tests/observations/test_progress_notes.py.
    "observations:note_strike": Url(
        lambda w: [a_signed_note(w).public_id],
        True,
        None,
        Post(lambda w: {"reason": "Wrong client"}, None),
    ),
    "observations:note_cosign": Url(
        lambda w: [a_signed_note(w).public_id],
        True,
        None,
        Post(
            lambda w: {"back": "queue"},
            count("observations.ProgressNote", cosigned_at__isnull=False),
        ),
    ),
    "observations:cosign_queue": Url(),
    "observations:timeline": Url(admission_pid, True),
    # Behavior notes (issue 12 item 1). The note struck is the technician's own: its author, a
    # nurse and a supervisor strike it, so every role allowed the URL writes.
    "observations:behavior_note_new": Url(
        admission_pid, True, 200, Post(behavior_note_body, count("observations.BehaviorNote"))
    ),
    "observations:behavior_note": Url(lambda w: [a_behavior_note(w).public_id], True),
    "observations:behavior_note_strike": Url(
        lambda w: [a_behavior_note(w).public_id],
        True,
        None,
        Post(
            lambda w: {"reason": "Wrong client"},
            count("observations.BehaviorNote", struck_at__isnull=False),
        ),
    ),
    # Incident reports (issue 12 item 4): the technician's, naming the nurse and the clinician;
    # supervisors read every one. Only the reporter completes and submits a draft (a named nurse
    # or a supervisor: 403); refusals of readers not named are in tests/observations.
    "observations:incidents": Url(),
    # The other facility's staff name home's client on their own form: a field message (400).
    "observations:incident_new": Url(
        post=Post(incident_body, count("observations.Incident"), other=400)
    ),
    "observations:incident_detail": Url(lambda w: [an_incident(w).public_id], True),
    "observations:incident_edit": Url(
        lambda w: [an_incident(w, draft=True).public_id],
        True,
        200,
        Post(
            lambda w: incident_body(w, description="Edited in the matrix."),
            count("observations.Incident", description="Edited in the matrix."),
            forbidden=frozenset({"nurse", "supervisor"}),
        ),
        forbidden=frozenset({"nurse", "supervisor"}),
    ),
    "observations:incident_submit": Url(
        lambda w: [an_incident(w, draft=True).public_id],
        True,
        None,
        Post(
            lambda w: {},
            count("observations.Incident", status="submitted"),
            forbidden=frozenset({"nurse", "supervisor"}),
        ),
    ),
    "observations:incident_notify": Url(
        lambda w: [an_incident(w).public_id],
        True,
        None,
        Post(notification_body, count("observations.IncidentNotification")),
    ),
    "observations:incident_follow_up": Url(
        lambda w: [an_incident(w).public_id],
        True,
        None,
        Post(lambda w: {"text": "Peer seen by the nurse."}, count("observations.IncidentFollowUp")),
    ),
    "observations:incident_debrief": Url(
        lambda w: [an_incident(w).public_id],
        True,
        None,
        Post(debrief_body, count("observations.Incident", debrief_at__isnull=False)),
    ),
    "observations:incident_review": Url(
        lambda w: [an_incident(w).public_id],
        True,
        None,
        Post(
            lambda w: {"review_note": "Reviewed."},
            count("observations.Incident", status="reviewed"),
        ),
    ),
    "observations:incident_pdf": Url(lambda w: [an_incident(w).public_id], True),
    "medications:mar": Url(),
    "medications:med_pass": Url(admission_pid, True),
    "medications:mar_pdf": Url(admission_pid, True),
    "medications:order_detail": Url(lambda w: [w.order.public_id], True),
    "medications:order_new": Url(
        admission_pid, True, 200, Post(order_body, count("medications.Order"))
    ),
    "medications:order_prescribe": Url(
        admission_pid, True, 200, Post(order_body, count("medications.Order"))
    ),
    "medications:orders_to_verify": Url(),
    "medications:orders_to_cosign": Url(),
    "medications:order_release": Url(
        lambda w: [w.stat.public_id],
        True,
        None,
        Post(
            lambda w: {"no_second_nurse": "on", "reason": "Alone on nights"},
            field_of("stat", "released_at"),
        ),
    ),
    "medications:order_cosign": Url(
        lambda w: [w.verbal.public_id],
        True,
        None,
        Post(lambda w: {}, field_of("verbal", "prescriber_signed_at")),
    ),
    "medications:order_verify": Url(
        lambda w: [w.unverified.public_id],
        True,
        None,
        Post(lambda w: {}, field_of("unverified", "verified_at")),
    ),
    "medications:order_discontinue": Url(
        lambda w: [w.order.public_id],
        True,
        None,
        Post(lambda w: {"reason": "Stopped"}, field_of("order", "discontinued_at")),
    ),
    "medications:dose_document": Url(
        lambda w: [w.dose.public_id],
        True,
        None,
        Post(
            lambda w: {"outcome": "given", "self_administered": "on", "reason": "", "given_at": ""},
            lambda w: w.dose.administrations.count(),
        ),
    ),  # fmt: skip
    "medications:administration_strike": Url(
        lambda w: [w.administration.public_id],
        True,
        None,
        Post(lambda w: {"reason": "Wrong client"}, field_of("administration", "struck_at")),
    ),
    "medications:prn_give": Url(
        lambda w: [w.prn.public_id],
        True,
        200,
        Post(
            lambda w: {
                "indication": "Nausea",
                "pre_assessment": "Nausea 6/10",
                "override_reason": "",
                "second_nurse": "",
                "second_password": "",
            },
            count("medications.Administration", dose__isnull=True),
        ),
    ),  # fmt: skip
    "medications:prn_follow_up": Url(
        lambda w: [w.prn_given.public_id],
        True,
        200,
        Post(
            lambda w: {
                "result": "effective",
                "post_assessment": "Settled",
                "score": "2",
                "early_reason": "Going to group",
                "note": "",
            },  # fmt: skip
            count("medications.PrnFollowUp"),
        ),
    ),  # fmt: skip
    "medications:controlled": Url(),
    "medications:stock_new": Url(
        get=None,
        post=Post(
            lambda w: {
                "medication": w.house_med.pk,
                "admission": "",
                "quantity": "5",
                "note": "",
                "source_document": "INV-9",
                "second_nurse": "witness",
                "second_password": PASSWORD,
            },  # fmt: skip
            count("medications.ControlledStock"),
            other=200,  # the refused form is shown again, with what was typed
        ),
    ),  # fmt: skip
    "medications:stock_receive": Url(
        lambda w: [w.stock.public_id],
        True,
        None,
        Post(
            cosigned(quantity="5", note="From pharmacy", source_document="INV-9"),
            count("medications.StockMovement"),
        ),
    ),  # fmt: skip
    "medications:stock_waste": Url(
        lambda w: [w.stock.public_id],
        True,
        None,
        Post(cosigned(quantity="1", reason="Dropped"), count("medications.StockMovement")),
    ),
    "medications:count_submit": Url(
        lambda w: [w.stock.public_id],
        True,
        None,
        Post(cosigned(counted_quantity="10"), count("medications.ControlledCount")),
    ),
    "medications:discharge_med_list": Url(admission_pid, True),
    "medications:discrepancy_sign_off": Url(
        lambda w: [w.variance.public_id],
        True,
        None,
        Post(lambda w: {"explanation": "Recount found it."}, field_of("variance", "completed_at")),
    ),
    "medications:count_dea_106": Url(
        lambda w: [w.loss.public_id],
        True,
        None,
        Post(
            lambda w: {"dea_106_filed_on": str(w.loss.counted_at.astimezone(w.facility.tz).date())},
            field_of("loss", "dea_106_filed_on"),
        ),
    ),
    # Specimens, the random list, custody, labels and lab results (issue 13 items 1-4).
    "screening:specimens": Url(),
    # A scan with nothing typed is refused on the field (400) for everyone who may scan.
    "screening:specimen_scan": Url(get=400),
    # The other facility's staff draw nobody: their census is empty in this world (400).
    "screening:random_list": Url(
        post=Post(
            lambda w: {"percent": "10"},
            count("screening.RandomDraw", facility__name="Alder House"),
            other=400,
        )
    ),
    "screening:awaiting_lab": Url(),
    "screening:specimen_start": Url(
        admission_pid,
        True,
        200,
        Post(specimen_start_body, count("screening.Specimen", reason="admission")),
    ),
    "screening:specimen_order": Url(
        admission_pid,
        True,
        200,
        Post(specimen_order_body, count("screening.Specimen", reason="for_cause")),
    ),
    "screening:specimen": Url(lambda w: [a_collected_specimen(w).public_id], True),
    "screening:specimen_collect": Url(
        lambda w: [an_ordered_specimen(w).public_id],
        True,
        200,
        Post(specimen_collect_body, count("screening.Specimen", status="collected")),
    ),
    "screening:specimen_refuse": Url(
        lambda w: [an_ordered_specimen(w).public_id],
        True,
        None,
        Post(specimen_refuse_body, count("screening.Specimen", status="refused")),
    ),
    "screening:specimen_recollect": Url(
        lambda w: [a_flagged_specimen(w).public_id],
        True,
        None,
        Post(lambda w: {}, count("screening.Specimen", recollection_of__isnull=False)),
    ),
    "screening:specimen_label": Url(lambda w: [an_ordered_specimen(w).public_id], True),
    "screening:specimen_custody": Url(
        lambda w: [a_collected_specimen(w).public_id],
        True,
        200,
        Post(custody_body, count("screening.CustodyEvent")),
    ),
    "screening:custody_pdf": Url(lambda w: [a_collected_specimen(w).public_id], True),
    "screening:lab_result": Url(
        lambda w: [a_specimen_at_the_lab(w).public_id],
        True,
        200,
        Post(lab_result_body, count("screening.LabResult")),
    ),
    # Cup results, breath alcohol, belongings searches and the positives report (items 4-8).
    "screening:poc_record": Url(
        lambda w: [a_collected_specimen(w).public_id],
        True,
        200,
        Post(poc_record_body, count("screening.PocTest")),
    ),
    "screening:poc_result": Url(lambda w: [a_poc_result(w).public_id], True),
    "screening:poc_send_to_lab": Url(
        lambda w: [a_poc_result(w).public_id],
        True,
        None,
        Post(lambda w: {}, count("screening.PocTest", sent_to_lab=True)),
    ),
    "screening:poc_strike": Url(
        lambda w: [a_poc_result(w).public_id],
        True,
        None,
        Post(
            lambda w: {"reason": "Wrong cup"},
            count("screening.PocTest", struck_at__isnull=False),
        ),
    ),
    "screening:breath_record": Url(
        admission_pid, True, 200, Post(breath_body, count("screening.BreathTest"))
    ),
    "screening:breath_result": Url(lambda w: [a_breath_result(w).public_id], True),
    "screening:search_record": Url(
        admission_pid, True, 200, Post(search_form_body, count("screening.BelongingsSearch"))
    ),
    "screening:search_detail": Url(lambda w: [a_search(w).public_id], True),
    "screening:item_move": Url(
        lambda w: [a_search_item(w).public_id],
        True,
        200,
        Post(item_move_body, count("screening.ItemMovement")),
    ),
    "screening:meds_brought_in": Url(),
    "screening:pass_return": Url(
        lambda w: [a_returned_leave(w).public_id],
        True,
        200,
        Post(lambda w: {}, count("screening.Specimen", reason="return_from_pass")),
    ),
    "screening:positives_report": Url(),
    "screening:positives_pdf": Url(),
    "screening:positives_csv": Url(),
    # Outing restriction (issue 14 item 3): a nurse's or clinician's, on an open stay.
    "clients:outing_restriction_set": Url(
        admission_pid,
        True,
        200,
        Post(
            lambda w: {"reason": "Matrix restriction"},
            count("clients.OutingRestriction", reason="Matrix restriction"),
        ),
    ),
    "clients:outing_restriction_lift": Url(
        lambda w: [an_outing_restriction(w).admission.public_id],
        True,
        200,
        Post(
            lambda w: {"lift_reason": "Matrix lift"},
            count("clients.OutingRestriction", lift_reason="Matrix lift"),
        ),
    ),
    # The driver's manifest (anyone on the floor) and the reports (issue 14 items 5-6); another
    # facility's supervisor reads their own facility's reports.
    "transport:manifest": Url(lambda w: [a_trip(w).public_id], True),
    "transport:manifest_pdf": Url(lambda w: [a_trip(w).public_id], True),
    "transport:trip_log": Url(),
    "transport:mileage": Url(),
    # Vehicles, drivers and the pre-trip inspection (issue 14 items 1-2). Another facility's
    # supervisor adds a vehicle at their own; the home nurse is no staff of theirs to drive (400).
    "transport:vehicles": Url(),
    "transport:vehicle_new": Url(
        post=Post(vehicle_body, count("transport.Vehicle", facility__name="Alder House"), other=302)
    ),
    "transport:vehicle": Url(lambda w: [a_vehicle(w).public_id], True),
    "transport:vehicle_edit": Url(
        lambda w: [a_vehicle(w).public_id],
        True,
        200,
        Post(
            lambda w: vehicle_body(w, name="Matrix van", seats="9", active="on"),
            count("transport.Vehicle", name="Matrix van", seats=9),
        ),
    ),
    "transport:vehicle_out": Url(
        lambda w: [a_vehicle(w).public_id],
        True,
        None,
        Post(
            lambda w: {"out-reason": "Flat tire"},
            count("transport.Vehicle", name="Matrix van", in_service=False),
        ),
    ),
    "transport:vehicle_clear": Url(
        lambda w: [a_grounded_vehicle(w).public_id],
        True,
        None,
        Post(
            lambda w: {"clear-reason": "Tire replaced"},
            count("transport.Vehicle", name="Grounded van", in_service=True),
        ),
    ),
    "transport:drivers": Url(),
    "transport:driver_new": Url(
        post=Post(driver_body, count("transport.Driver", facility__name="Alder House"), other=400)
    ),
    "transport:driver_edit": Url(
        lambda w: [a_driver(w).public_id],
        True,
        200,
        Post(
            lambda w: driver_body(w, licence_class="D", active="on"),
            count("transport.Driver", licence_class="D"),
        ),
    ),
    "transport:inspect": Url(),
    "transport:inspection": Url(
        lambda w: [a_vehicle(w).public_id],
        True,
        200,
        Post(inspection_body, count("transport.Inspection")),
    ),
    # Trips (issue 14 items 3-4): the board and the trip page for anyone who reads the census;
    # planning, departure and return for the floor. The other facility's staff post home's driver
    # and van on their own "plan a trip" page: not theirs, a field message (400).
    "transport:board": Url(),
    "transport:trip_new": Url(
        post=Post(trip_plan_body, count("transport.Trip", facility__name="Alder House"), other=400)
    ),
    "transport:trip": Url(lambda w: [a_trip(w).public_id], True),
    "transport:trip_edit": Url(
        lambda w: [a_trip(w).public_id],
        True,
        200,
        Post(
            lambda w: trip_plan_body(w, purpose_note="Edited in the matrix"),
            count("transport.Trip", purpose_note="Edited in the matrix"),
        ),
    ),
    "transport:trip_cancel": Url(
        lambda w: [a_trip(w).public_id],
        True,
        200,
        Post(lambda w: {"reason": "Clinic closed"}, count("transport.Trip", status="cancelled")),
    ),
    "transport:trip_depart": Url(
        lambda w: [a_trip(w).public_id],
        True,
        200,
        Post(trip_depart_body, count("transport.Trip", status="out")),
    ),
    "transport:passenger_stay": Url(
        lambda w: [a_trip(w).public_id, a_trip(w).passengers.get().public_id],
        True,
        200,
        Post(lambda w: {"reason": "Unwell"}, count("transport.TripPassenger", status="stayed")),
    ),
    "transport:trip_return": Url(
        lambda w: [an_out_trip(w).public_id],
        True,
        200,
        Post(trip_return_body, count("transport.Trip", status="returned")),
    ),
    "transport:passenger_sign_in": Url(
        lambda w: [an_out_trip(w).public_id, an_out_trip(w).passengers.get().public_id],
        True,
        200,
        Post(lambda w: {"at": ""}, count("transport.TripPassenger", status="back")),
    ),
}

# Issue 16's URLs (Part 2), one module per part, written beside each feature; they use the
# Url and Post above.
for _part in ("consents", "disclosures", "glass", "audit", "counseling", "fhir", "search"):
    URLS.update(importlib.import_module(f"tests.facility.access_urls_{_part}").URLS)

# Third-party pages, by name prefix: reachable without a session (login, reset, MFA steps) or
# redirecting to login. They must never error.
PREFIX_RULES = {"account_": "public", "mfa_": "public", "admin:": "admin_site"}


def all_url_names():
    names = []

    def walk(patterns, namespace=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, ns)
            elif isinstance(p, URLPattern) and p.name:
                names.append(f"{namespace}{p.name}")

    walk(get_resolver().url_patterns)
    return sorted(set(names))


def project_url_names():
    return [n for n in all_url_names() if not any(n.startswith(p) for p in PREFIX_RULES)]


def test_every_url_has_an_expectation():
    missing = [name for name in project_url_names() if name not in URLS]
    assert missing == [], f"Add these URL names to the access matrix: {missing}"


def test_every_view_asks_the_policy():
    """A view without `@policy.requires` declares no capability and has no place in the matrix."""
    undeclared = [n for n in project_url_names() if not getattr(_view(n), "capabilities", None)]
    assert undeclared == []
    for name in project_url_names():
        for capability in _view(name).capabilities.values():
            assert capability in CAPABILITIES, f"{name} asks for an undeclared {capability}"


@pytest.mark.django_db
def test_every_capability_names_a_permission_that_exists():
    from django.contrib.auth.models import Permission

    for capability, permission in CAPABILITIES.items():
        if permission is not None:
            app_label, codename = permission.split(".")
            assert Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).exists(), capability


def _view(name: str):
    """The view a URL name resolves to, found through a path with made-up arguments."""
    for args in ([], [uuid.uuid4()], [uuid.uuid4(), 1], [uuid.uuid4(), uuid.uuid4()]):
        try:
            return resolve(reverse(name, args=args)).func
        except NoReverseMatch:
            continue
    raise AssertionError(f"cannot reverse {name}")


def allowed_roles(name: str, method: str) -> set[str]:
    return policy.roles_with(_view(name).capabilities[method])


def expected_status(name: str, url: Url, method: str, who: str) -> int:
    role = who.removeprefix("other_")
    if who == "anonymous":
        return 302
    if role not in allowed_roles(name, method):
        return 403
    if who in (url.forbidden if method == "GET" else url.post.forbidden):
        return 403
    home_status = url.get if method == "GET" else url.post.ok
    if who.startswith("other_"):
        if url.scoped:
            return 404
        return home_status if method == "GET" else url.post.other
    return home_status


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(URLS))
def test_access(world, name):
    """One URL, walked by everyone in turn; every mismatch is listed at once."""
    url = URLS[name]
    path = reverse(name, args=url.args(world))
    wrong = []
    methods = [m for m, served in (("GET", url.get), ("POST", url.post)) if served is not None]
    for method in methods:
        for who in WHO:
            problem = _walk(world, name, url, path, method, who)
            if problem:
                wrong.append(f"{method} {who}: {problem}")
    assert wrong == [], f"{name} ({path}):\n" + "\n".join(wrong)


def _walk(world: World, name: str, url: Url, path: str, method: str, who: str) -> str | None:
    expect = expected_status(name, url, method, who)
    client = Client()
    if who != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = SESSIONS[who]
    with transaction.atomic():
        if method == "GET":
            response = client.get(path)
            before = after = None
        else:
            effect = url.post.effect or (lambda w: None)
            before = effect(world)
            response = client.post(path, url.post.body(world))
            after = effect(world)
        transaction.set_rollback(True)
    if response.status_code != expect:
        return f"got {response.status_code}, expected {expect}"
    if who == "anonymous" and not response["Location"].startswith(reverse("account_login")):
        return f"redirected to {response['Location']}, not to login"
    if method == "POST" and url.post.effect is not None:
        # At home, with the capability, and no rule on the object refusing them.
        allowed = who in allowed_roles(name, method) and who not in url.post.forbidden
        if allowed and before == after:
            return f"nothing written ({before!r}); a message said: {_messages(response)}"
        if not allowed and before != after:
            return f"refused but written: {before!r} -> {after!r}"
    return None


def _messages(response) -> list[str]:
    from django.contrib.messages import get_messages

    return [str(m) for m in get_messages(response.wsgi_request)]


def _reversible_account_urls():
    """allauth's pages that take no argument (the e-mailed key pages are walked in the journeys)."""
    from django.urls import NoReverseMatch

    urls = []
    for name in all_url_names():
        if name.startswith(("account_", "mfa_")):
            try:
                urls.append((name, reverse(name)))
            except NoReverseMatch:
                continue
    return urls


@pytest.mark.django_db
@pytest.mark.parametrize("name, url", _reversible_account_urls())
def test_account_pages_never_error_for_anonymous(client, name, url):
    response = client.get(url)
    assert response.status_code in (200, 302, 404, 405), name


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", *ROLES])
def test_django_admin_is_for_admins_only(client, world, who):
    if who != "anonymous":
        client.force_login(world.cast[who])
    for name in (
        "admin:index",
        "admin:facility_bed_changelist",
        "admin:clients_orientationitem_changelist",
    ):
        response = client.get(reverse(name))
        if who == "admin":
            assert response.status_code == 200
        else:
            assert response.status_code == 302
            # Anonymous users pass through the admin's login URL, which sends them to ours.
            assert response["Location"].startswith((reverse("account_login"), "/manage/login/"))
    if who == "anonymous":
        assert client.get("/manage/login/")["Location"].startswith(reverse("account_login"))
