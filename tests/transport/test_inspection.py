"""The pre-trip inspection (specs/transport.md "Pre-trip inspection"; issue 14 item 2): every
item OK or a defect with a note; a failed critical item takes the vehicle out of service."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from facility.models import Alert
from tests.transport.fleet_helpers import local_today, make_vehicle, passed_inspection
from transport.models import Inspection, StatusSource
from transport.rules import CRITICAL_ITEMS, INSPECTION_ITEMS
from transport.services import fleet

pytestmark = pytest.mark.django_db


def all_ok(**defects) -> dict:
    """Every item OK except the named ones, which are defects with the given note."""
    results = {key: (True, "") for key, _, _ in INSPECTION_ITEMS}
    results.update({key: (False, note) for key, note in defects.items()})
    return results


def form_body(odometer="", **defects) -> dict:
    body = {"odometer": odometer}
    for key, _, _ in INSPECTION_ITEMS:
        body[key] = "defect" if key in defects else "ok"
        body[f"note_{key}"] = defects.get(key, "")
    return body


# ---------------------------------------------------------------- the service


def test_all_ok_passes_and_is_todays_inspection(cast, facility):
    v = make_vehicle(facility)
    inspection = fleet.inspection_record(cast["technician"], v, all_ok())
    assert inspection.passed
    assert inspection.day == local_today(facility)
    assert inspection.items.count() == len(INSPECTION_ITEMS) == 15
    assert fleet.inspection_for_today(v) == inspection
    v.refresh_from_db()
    assert v.in_service


def test_every_item_must_be_answered_and_the_missing_are_named(cast, facility):
    v = make_vehicle(facility)
    results = all_ok()
    del results["brakes"], results["horn"]
    with pytest.raises(ValidationError) as e:
        fleet.inspection_record(cast["technician"], v, results)
    errors = e.value.message_dict
    assert errors["brakes"] == ["Brakes: OK or defect?"]
    assert errors["horn"] == ["Horn: OK or defect?"]
    assert errors["__all__"] == ["Not answered: Brakes, Horn."]
    assert not Inspection.objects.exists()


def test_a_defect_needs_a_note(cast, facility):
    v = make_vehicle(facility)
    with pytest.raises(ValidationError) as e:
        fleet.inspection_record(cast["technician"], v, all_ok(wipers="  "))
    assert e.value.message_dict["wipers"] == ["Wipers: say what is wrong."]


def test_a_failed_critical_item_grounds_the_vehicle_and_alerts_the_supervisor(cast, facility):
    v = make_vehicle(facility)
    inspection = fleet.inspection_record(
        cast["technician"], v, all_ok(brakes="Grinding noise", mirrors="Cracked")
    )
    assert not inspection.passed
    v.refresh_from_db()
    assert not v.in_service
    assert v.out_of_service_reason == "Failed pre-trip inspection: Brakes — Grinding noise"
    event = v.status_events.get()
    assert (event.source, event.by) == (StatusSource.INSPECTION, cast["technician"])
    alert = Alert.objects.open().get(kind=fleet.ALERT_OUT)
    assert alert.audience == "supervisor" and "Brakes — Grinding noise" in alert.message
    assert fleet.failure_summary(inspection) == "Brakes — Grinding noise"
    assert fleet.defects_of(inspection) == [
        ("Brakes", "Grinding noise", True),
        ("Mirrors", "Cracked", False),
    ]


@pytest.mark.parametrize("key", sorted(CRITICAL_ITEMS))
def test_each_critical_item_grounds_the_vehicle(cast, facility, key):
    v = make_vehicle(facility)
    assert not fleet.inspection_record(cast["nurse"], v, {**all_ok(), key: (False, "Bad")}).passed
    v.refresh_from_db()
    assert not v.in_service


def test_a_non_critical_defect_passes_and_is_listed_on_the_vehicle_page(client, cast, facility):
    v = make_vehicle(facility)
    inspection = fleet.inspection_record(cast["technician"], v, all_ok(wipers="Streaking"))
    assert inspection.passed
    v.refresh_from_db()
    assert v.in_service
    client.force_login(cast["nurse"])
    page = client.get(reverse("transport:vehicle", args=[v.public_id])).content.decode()
    assert "Wipers — Streaking" in page


def test_the_odometer_cannot_go_backwards_and_a_reading_raises_it(cast, facility):
    v = make_vehicle(facility, odometer=12_000)
    with pytest.raises(ValidationError) as e:
        fleet.inspection_record(cast["technician"], v, all_ok(), odometer=11_999)
    assert e.value.message_dict["odometer"] == [
        "Odometer: at least 12,000 miles (the last known reading)."
    ]
    fleet.inspection_record(cast["technician"], v, all_ok(), odometer=12_000)
    fleet.inspection_record(cast["technician"], v, all_ok(), odometer=12_050)
    v.refresh_from_db()
    assert v.odometer == 12_050


def test_a_reading_past_the_service_mileage_grounds_the_vehicle(cast, facility):
    v = make_vehicle(facility, odometer=29_990, service_due_odometer=30_000)
    inspection = fleet.inspection_record(cast["technician"], v, all_ok(), odometer=30_001)
    assert inspection.passed
    v.refresh_from_db()
    assert not v.in_service and "Service overdue" in v.out_of_service_reason
    assert v.status_events.get().source == StatusSource.EXPIRY


def test_only_the_floor_inspects_and_only_its_own_facilitys_vehicles(cast, facility):
    v = make_vehicle(facility)
    for who in ("clinician", "admin", "other_technician"):
        with pytest.raises(PermissionDenied):
            fleet.inspection_record(cast[who], v, all_ok())


def test_the_day_is_the_facilitys_local_day(cast, facility):
    v = make_vehicle(facility)
    # 23:30 in New York on 9 March 2026 is 03:30 UTC on the 10th.
    late = datetime(2026, 3, 10, 3, 30, tzinfo=UTC)
    with time_machine.travel(late, tick=False):
        inspection = fleet.inspection_record(cast["technician"], v, all_ok(), now=late)
        assert str(inspection.day) == "2026-03-09"
        assert fleet.inspection_for_today(v, late) == inspection
    after_midnight = datetime(2026, 3, 10, 4, 30, tzinfo=UTC)  # 00:30 local on the 10th
    assert fleet.inspection_for_today(v, after_midnight) is None


def test_the_latest_inspection_of_the_day_counts(cast, facility):
    v = make_vehicle(facility)
    first = passed_inspection(v, cast["technician"])
    failed = fleet.inspection_record(cast["technician"], v, all_ok(tires="Flat"))
    assert fleet.inspection_for_today(v) == failed != first
    yesterday = passed_inspection(v, cast["technician"], day=local_today(facility) - timedelta(1))
    assert fleet.inspection_for_today(v) != yesterday


# ---------------------------------------------------------------- the phone screen


def test_the_inspection_screen_has_every_item_as_big_ok_or_defect_buttons(client, cast, facility):
    v = make_vehicle(facility)
    client.force_login(cast["technician"])
    response = client.get(reverse("transport:inspection", args=[v.public_id]))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('type="radio"') == 2 * len(INSPECTION_ITEMS)
    assert page.count('class="seg seg-defect"') == len(INSPECTION_ITEMS)
    assert page.count("Critical</span>") == len(CRITICAL_ITEMS)
    assert page.count('name="note_') == len(INSPECTION_ITEMS)
    assert page.index("Submit inspection") > page.index("Interior clean")


def test_submitting_all_ok_shows_passed(client, cast, facility):
    v = make_vehicle(facility)
    client.force_login(cast["technician"])
    url = reverse("transport:inspection", args=[v.public_id])
    response = client.post(url, form_body(odometer="10100"))
    assert response.status_code == 302
    inspection = Inspection.objects.get()
    assert response["Location"] == f"{url}?done={inspection.public_id}"
    page = client.get(response["Location"]).content.decode()
    assert "Passed" in page
    v.refresh_from_db()
    assert v.odometer == 10_100


def test_a_failed_brake_check_says_the_vehicle_is_out_of_service(client, cast, facility):
    v = make_vehicle(facility)
    client.force_login(cast["technician"])
    url = reverse("transport:inspection", args=[v.public_id])
    response = client.post(url, form_body(brakes="Pedal soft"), follow=True)
    assert "Vehicle out of service: Brakes — Pedal soft" in response.content.decode()
    v.refresh_from_db()
    assert not v.in_service


def test_an_unanswered_item_or_a_defect_without_note_is_shown_on_the_item(client, cast, facility):
    v = make_vehicle(facility)
    client.force_login(cast["technician"])
    url = reverse("transport:inspection", args=[v.public_id])
    body = form_body(wipers="")
    del body["brakes"]
    response = client.post(url, body)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Brakes: OK or defect?" in page
    assert "Wipers: say what is wrong." in page
    assert not Inspection.objects.exists()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"note_tires": "Flat\x00"}, "remove the control characters"),
        ({"note_tires": "x" * 301}, "at most 300 characters"),
        ({"tires": "maybe"}, "Tires: OK or defect?"),
        ({"odometer": "1e9"}, "Odometer (miles): a whole number."),
        ({"odometer": "99999999999999999999"}, "Odometer (miles): at most 2,000,000."),
        ({"odometer": "9"}, "Odometer: at least 10,000 miles"),
    ],
)
def test_hostile_inspection_input_gets_a_message_never_a_500(
    client, cast, facility, change, message
):
    v = make_vehicle(facility)
    client.force_login(cast["technician"])
    body = {**form_body(tires="Flat"), **change}
    response = client.post(reverse("transport:inspection", args=[v.public_id]), body)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Inspection.objects.exists()


def test_a_made_up_done_id_shows_the_form(client, cast, facility):
    v = make_vehicle(facility)
    client.force_login(cast["technician"])
    url = reverse("transport:inspection", args=[v.public_id])
    for done in ("nonsense", "\x00", "0" * 5000, "5d8e4a4e-9f5e-4c4f-8d2e-1c1a9b0e0f00"):
        response = client.get(url, {"done": done})
        assert response.status_code == 200 and "Submit inspection" in response.content.decode()


def test_the_pick_page_lists_the_facilitys_vehicles_with_todays_state(
    client, cast, facility, other_facility
):
    done = make_vehicle(facility, name="Blue van")
    passed_inspection(done, cast["technician"])
    make_vehicle(facility, name="Grey van")
    make_vehicle(other_facility, name="Birch bus")
    client.force_login(cast["nurse"])
    page = client.get(reverse("transport:inspect")).content.decode()
    assert "Blue van" in page and "Grey van" in page and "Birch bus" not in page
    assert "Not done today" in page and "Passed" in page
    client.force_login(cast["clinician"])
    assert client.get(reverse("transport:inspect")).status_code == 403
