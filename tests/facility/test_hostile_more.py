"""The rest of the hostile-input checks (issue 7): a security round with nothing marked, a
repeated and a raced round, a leave past thirty days, a count with a third decimal, and that
every form and every endpoint taking input is in the table of tests/facility/test_hostile_input.py.

They live apart from the table's parametrized test, whose module builds its objects once and
runs every case inside that one rolled-back transaction (its `world` fixture).
"""

import importlib
import inspect
import threading
import uuid
from datetime import timedelta

import pytest
from django import forms
from django.db import close_old_connections
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from facility.forms import SafeInputMixin
from facility.models import Alert, Bed
from facility.services import alert_raise
from medications.models import ControlledCount, StockMovement
from observations.models import RoundCheck, RoundCode, SecurityRound
from observations.services import RoundEntry, round_submit
from tests.conftest import admit, form_time
from tests.facility.test_hostile_input import ENDPOINTS, page_text, snapshot
from tests.facility.world import form_world, round_body


@pytest.fixture
def world(cast, facility, admission):
    return form_world(cast, facility, admission)


@pytest.mark.django_db
def test_an_empty_security_round_is_refused_area_by_area(client, cast, world):
    client.force_login(cast["technician"])
    response = client.post(reverse("observations:security"), {})
    assert response.status_code == 400
    body = page_text(response)
    for area in world.areas:
        assert escape(f"{area.name}: mark it OK or record a finding.") in body
    assert SecurityRound.objects.count() == 0
    # Nothing is pre-marked OK on the page either.
    assert "checked" not in page_text(client.get(reverse("observations:security")))


@pytest.mark.django_db
def test_a_repeated_round_says_already_recorded_and_a_reused_key_is_refused(client, cast, world):
    client.force_login(cast["technician"])
    url = reverse("observations:board", args=[world.unit.public_id])
    data = round_body(world)
    first = client.post(url, data, follow=True)
    assert "Round recorded for 1 client." in page_text(first)
    again = client.post(url, data, follow=True)
    assert "This round was already recorded." in page_text(again)
    assert "Round recorded" not in page_text(again)
    # The same key for another client: refused, not silently dropped as "already recorded".
    other = admit(world.facility, cast["nurse"], n=9, bed=Bed.objects.filter(
        unit=world.unit).exclude(admissions__isnull=False).first())  # fmt: skip
    pid = other.public_id
    data.update({"include": [str(pid)], f"loc-{pid}": data[f"loc-{world.admission.public_id}"],
                 f"st-{pid}": data[f"st-{world.admission.public_id}"]})  # fmt: skip
    reused = client.post(url, data)
    assert reused.status_code == 400
    assert "already used to record a different round" in page_text(reused)
    assert RoundCheck.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_identical_rounds_racing_record_one_and_say_so_once(cast, facility, admission):
    rm = RoundCode.objects.get(facility=facility, kind="location", code="RM")
    awake = RoundCode.objects.get(facility=facility, kind="status", code="A")
    key, barrier, results = uuid.uuid4(), threading.Barrier(10), []

    def post():
        try:
            barrier.wait()
            results.append(
                round_submit(
                    actor=cast["technician"],
                    facility=facility,
                    submission_key=key,
                    observed_at=timezone.now(),
                    entries=[RoundEntry(admission, rm, awake)],
                )  # fmt: skip
            )
        finally:
            close_old_connections()

    threads = [threading.Thread(target=post) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [(0, True)] * 9 + [(1, False)]
    assert RoundCheck.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("days, saved", [(30, True), (31, False), (365 * 73, False)])
def test_a_leave_lasts_at_most_thirty_days(client, cast, world, days, saved):
    client.force_login(cast["technician"])
    now = timezone.now()
    response = client.post(
        reverse("clients:leave_start", args=[world.admission.public_id]),
        {
            "kind": "pass",
            "left_at": form_time(now, world.facility),
            "expected_back_at": form_time(now + timedelta(days=days), world.facility),
        },  # fmt: skip
    )
    assert (response.status_code == 302) is saved
    assert world.admission.leaves.exists() is saved
    if not saved:
        assert "Expected back:" in page_text(response)


@pytest.mark.django_db
def test_a_count_with_a_third_decimal_is_refused_not_rounded_into_a_variance(client, cast, world):
    from medications.services import discrepancy_sign_off, stock_receive

    discrepancy_sign_off(actor=cast["supervisor"], count=world.variance, explanation="Recount")
    stock_receive(
        actor=cast["nurse"],
        stock=world.stock,
        quantity="51",
        witness=cast["supervisor"],
        source_document="INV-2",
    )  # 60 on hand
    client.force_login(cast["nurse"])
    counts, alerts = ControlledCount.objects.count(), Alert.objects.count()
    response = client.post(
        reverse("medications:count_submit", args=[world.stock.public_id]),
        {"counted_quantity": "59.996", "second_nurse": "technician", "second_password": "x"},
        follow=True,
    )
    assert "Counted: at most 2 decimal places" in page_text(response)
    assert (ControlledCount.objects.count(), Alert.objects.count()) == (counts, alerts)
    assert StockMovement.objects.filter(change__lt="0.01", change__gt="-0.01").count() == 0


def test_every_form_is_hardened():
    """Every form class of the project gets the shared text, length and date checks."""
    missing = []
    # Apps whose forms grew past one module keep the others beside it (observations.group_forms).
    modules = ["facility.forms", "clients.forms", "observations.forms", "medications.forms",
               "observations.group_forms", "observations.behavior_forms",
               "screening.forms", "screening.result_forms", "transport.fleet_forms",
               "transport.trip_forms", "transport.reports", "observations.note_forms",
               "observations.incident_forms", "facility.report_views",
               "facility.bundle_views", "clients.consent_forms", "clients.disclosure_forms",
               "observations.counseling_forms", "facility.glass_forms", "clients.fhir_views",
               "facility.audit_views"]  # fmt: skip
    for name in modules:
        module = importlib.import_module(name)
        label = name.split(".")[0]
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, forms.BaseForm)
                and cls.__module__ == module.__name__
                and not issubclass(cls, SafeInputMixin)
            ):
                missing.append(f"{label}.forms.{name}")
    assert missing == []


def test_the_table_covers_every_form_and_query_endpoint():
    """A URL that takes input but has no line in ENDPOINTS fails here."""
    takes_input = {
        "facility_switch", "alert_resolve", "audit_trail", "staff_create", "staff_edit",
        "census", "census_pdf", "admit", "readmit", "move_bed", "discharge", "leave_start",
        "leave_return", "board", "downtime", "level_change", "observer_assign", "compliance",
        "security", "security_finding",
        "observation_sheet", "mar", "mar_pdf", "order_new", "order_prescribe", "order_release",
        "order_discontinue", "dose_document",
        "administration_strike", "prn_give", "prn_follow_up", "stock_new", "stock_receive",
        "stock_waste", "count_submit", "discrepancy_sign_off", "count_dea_106",
        "vitals_review", "chart_vitals", "vitals_record", "vitals_schedule", "vitals_round",
        "withdrawal_board", "withdrawal_start", "withdrawal_end", "withdrawal_score",
        "withdrawal_strike", "cssrs_screen", "cssrs_order", "cssrs_safety_plan", "cssrs_strike",
        "note_autosave", "note_sign", "note_addendum", "note_strike", "note_cosign", "timeline",
        "group_new", "groups", "group_attendance", "behavior_note_new", "behavior_note_strike",
        "incident_new", "incident_edit", "incident_notify", "incident_follow_up",
        "incident_debrief", "incident_review",
        "specimen_scan", "random_list", "specimen_start", "specimen_order", "specimen_collect",
        "specimen_refuse", "specimen_custody", "lab_result",
        "poc_record", "poc_strike", "breath_record", "search_record", "item_move",
        "positives_report", "positives_csv", "positives_pdf",
        "outing_restriction_set", "outing_restriction_lift", "vehicle_new", "vehicle_edit",
        "vehicle_out", "vehicle_clear", "driver_new", "driver_edit", "inspection", "trip_new",
        "trip_edit", "trip_cancel", "trip_depart", "trip_return", "passenger_stay",
        "passenger_sign_in", "trip_log", "mileage", "survey_bundle",
        "shift_report", "shift_report_pdf", "handoff_give", "handoff_receive",
        "consent_new", "consent_revoke", "amendment_new", "amendment_decide",
        "disclosure_consent", "disclosure_other", "client_copy", "accounting",
        "counseling_note_new", "counseling_note_addendum", "counseling_note_strike",
        "counseling_grant", "search", "alerts",
    }  # fmt: skip
    assert takes_input <= {e.name for e in ENDPOINTS}


@pytest.mark.django_db
def test_the_snapshot_the_table_compares_sees_a_row_added_changed_or_removed(cast, admission):
    """The table's "saves nothing" rests on snapshot(): it must tell any write apart."""
    before = snapshot()
    alert, _ = alert_raise(
        facility=admission.facility, kind="test", severity="info", message="One", dedupe_key="s"
    )
    added = snapshot()
    assert added != before
    Alert.objects.filter(pk=alert.pk).update(message="Two")
    assert snapshot() not in (before, added)
    Alert.objects.filter(pk=alert.pk).delete()
    assert snapshot() == before
