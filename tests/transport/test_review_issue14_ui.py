"""User-level review of issue 14 (transport): each test showed a defect seen on the screens of
3ae5170 (the pre-trip inspection unreachable, an inspection before a clear counted, a trip back
without a client shown green, upcoming trips not findable, a typo in the head count opening an
incident, fleet records accepting duplicates, "ZZ" and an overloaded plan)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from facility.models import Alert
from tests.clock import local_today
from tests.conftest import make_user
from tests.transport.fleet_helpers import make_driver, make_vehicle, passed_inspection
from tests.transport.test_trips import back, clients, depart, fleet, plan
from transport.models import Vehicle
from transport.services import fleet as fleet_services
from transport.services.trips import passenger_sign_in

pytestmark = pytest.mark.django_db


def page(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- the inspection reachable


def test_the_board_and_the_trip_page_link_to_the_pre_trip_inspection(client, cast, facility):
    trip = plan(cast, facility, clients(cast, facility, 1))
    client.force_login(cast["technician"])
    board = page(client.get(reverse("transport:board")))
    assert reverse("transport:inspect") in board and "Pre-trip inspection" in board
    detail = page(client.get(reverse("transport:trip", args=[trip.public_id])))
    assert reverse("transport:inspection", args=[trip.vehicle.public_id]) in detail


def test_the_board_links_vehicles_and_drivers_for_the_fleet_keepers_only(client, cast, facility):
    client.force_login(cast["supervisor"])
    board = page(client.get(reverse("transport:board")))
    assert reverse("transport:vehicles") in board and reverse("transport:drivers") in board
    client.force_login(cast["technician"])
    assert reverse("transport:drivers") not in page(client.get(reverse("transport:board")))


def test_the_depart_page_says_before_the_submit_that_the_van_needs_its_inspection(
    client, cast, facility
):
    van = make_vehicle(facility)
    driver = make_driver(facility, cast["technician"])
    trip = plan(cast, facility, clients(cast, facility, 1), van=van, driver=driver)
    client.force_login(cast["technician"])
    html = page(client.get(reverse("transport:trip_depart", args=[trip.public_id])))
    assert "has no pre-trip inspection today" in html
    assert html.index("has no pre-trip inspection today") < html.index("Depart now")
    assert reverse("transport:inspection", args=[van.public_id]) in html


def test_an_admin_has_a_fleet_entry_in_the_nav(client, cast, facility):
    client.force_login(cast["admin"])
    html = page(client.get(reverse("transport:vehicles")))
    assert f'href="{reverse("transport:vehicles")}" aria-current="page">Fleet</a>' in html


# ---------------------------------------------------------------- inspection after a clear


# Midday in New York: the test moves the clock a few minutes on and must stay on one local day.
@time_machine.travel(datetime(2026, 6, 10, 16, 0, tzinfo=UTC), tick=True)
def test_an_inspection_before_a_clear_does_not_let_the_van_depart(client, cast, facility):
    van, driver = fleet(cast, facility)  # inspected (passed) now
    fleet_services.vehicle_take_out_of_service(
        cast["technician"], van, "Brake light out", now=timezone.now() + timedelta(minutes=1)
    )
    fleet_services.vehicle_clear(
        cast["supervisor"], van, "Bulb replaced", now=timezone.now() + timedelta(minutes=2)
    )
    later = timezone.now() + timedelta(minutes=3)
    assert fleet_services.inspection_for_today(van, later) is None
    trip = plan(cast, facility, clients(cast, facility, 1), van=van, driver=driver)
    with pytest.raises(ValidationError) as exc:
        depart(cast, trip)
    assert "no pre-trip inspection today" in str(exc.value)
    client.force_login(cast["supervisor"])
    assert "Needs a new pre-trip inspection" in page(
        client.get(reverse("transport:vehicle", args=[van.public_id]))
    )
    with time_machine.travel(later, tick=False):
        passed_inspection(Vehicle.objects.get(pk=van.pk), cast["technician"])
        assert fleet_services.inspection_for_today(van) is not None


# ---------------------------------------------------------------- back without a client


def test_a_trip_back_without_a_client_is_not_a_green_back_and_raises_a_critical_alert(
    client, cast, facility
):
    one, two = clients(cast, facility, 2)
    two.client.preferred_name = "Mo"
    two.client.save(update_fields=["preferred_name"])
    trip = plan(cast, facility, [one, two], purpose="pharmacy")
    depart(cast, trip)
    back(cast, trip, [one])
    alert = Alert.objects.open().get(kind="trip_not_back")
    assert alert.severity == "critical" and alert.audience == ""
    assert alert.message.startswith(f"Mo {two.client.legal_last_name} not back with the van from")
    client.force_login(cast["supervisor"])
    board = page(client.get(reverse("transport:board")))
    assert "Back — 1 client NOT back" in board and "tone-alert" in board
    assert "Back — 1 client NOT back" in page(
        client.get(reverse("transport:trip", args=[trip.public_id]))
    )
    log = page(client.get(reverse("transport:trip_log")))
    assert "NOT back" in log
    passenger = trip.passengers.get(admission=two)
    passenger_sign_in(actor=cast["nurse"], passenger=passenger)
    assert not Alert.objects.open().filter(kind="trip_not_back").exists()


# ---------------------------------------------------------------- upcoming trips


def test_the_board_lists_trips_planned_for_the_next_seven_days(client, cast, facility):
    later = timezone.now() + timedelta(days=3)
    trip = plan(
        cast, facility, clients(cast, facility, 1), planned_departure=later,
        planned_return=later + timedelta(hours=2), purpose_note="Dentist Thursday",
    )  # fmt: skip
    client.force_login(cast["nurse"])
    board = page(client.get(reverse("transport:board")))
    assert "Upcoming" in board and "Dentist Thursday" in board
    assert reverse("transport:trip", args=[trip.public_id]) in board


# ---------------------------------------------------------------- head count typo


def test_a_head_count_that_differs_from_the_ticks_asks_to_confirm_before_departing(
    client, cast, facility
):
    three = clients(cast, facility, 3)
    trip = plan(cast, facility, three)
    url = reverse("transport:trip_depart", args=[trip.public_id])
    body = {
        "odometer_out": "10000", "head_count": "2",
        "signed_out": [str(a.public_id) for a in three],
    }  # fmt: skip
    client.force_login(cast["technician"])
    response = client.post(url, body)
    assert response.status_code == 400
    assert "You counted 2, 3 are ticked" in page(response)
    trip.refresh_from_db()
    assert trip.status == "planned"
    assert client.post(url, {**body, "count_confirmed": "on"}).status_code == 302
    trip.refresh_from_db()
    assert trip.status == "out" and trip.head_count_out == 2


# ---------------------------------------------------------------- the inspection in one action


def test_all_items_ok_is_one_confirmed_action_and_only_defects_need_taps(client, cast, facility):
    van = make_vehicle(facility)
    url = reverse("transport:inspection", args=[van.public_id])
    client.force_login(cast["technician"])
    refused = client.post(url, {"action": "all_ok", "odometer": "10000"})
    assert refused.status_code == 400 and "I checked every item" in page(refused)
    done = client.post(
        url,
        {"action": "all_ok", "checked_all": "on", "odometer": "10000",
         "wipers": "defect", "note_wipers": "Streaks"},
    )  # fmt: skip
    assert done.status_code == 302
    inspection = van.inspections.get()
    assert inspection.items.filter(ok=False).count() == 1
    assert inspection.items.filter(ok=True).count() == inspection.items.count() - 1


# ---------------------------------------------------------------- plan form and fleet records


def test_the_driver_dropdown_marks_a_driver_who_cannot_drive_and_escorts_leave_out_admins(
    client, cast, facility
):
    today = local_today(facility)
    make_driver(facility, cast["nurse"], licence_expires=today - timedelta(days=1))
    make_driver(facility, cast["technician"])
    client.force_login(cast["nurse"])
    html = page(client.get(reverse("transport:trip_new")))
    assert f"{cast['nurse'].full_name}: cannot drive" in html
    assert f"{cast['technician'].full_name}: cannot drive" not in html
    escorts = html[html.index('name="escorts"') - 2000 : html.index('name="escorts"') + 4000]
    assert cast["admin"].full_name not in escorts


def test_a_plate_is_once_per_facility_and_a_licence_state_is_a_us_code(cast, facility):
    van = make_vehicle(facility, plate="ABC 123")
    with pytest.raises(ValidationError) as exc:
        fleet_services.vehicle_create(
            actor=cast["supervisor"], facility=facility, name="Other", plate="abc-123", seats=5,
            registration_expires=van.registration_expires,
            insurance_expires=van.insurance_expires,
        )  # fmt: skip
    assert "plate" in exc.value.message_dict
    today = local_today(facility)
    with pytest.raises(ValidationError) as exc:
        fleet_services.driver_create(
            actor=cast["supervisor"], facility=facility, user=cast["nurse"],
            licence_number="D1", licence_class="C", licence_state="ZZ",
            licence_expires=today + timedelta(days=300), mvr_checked_on=today,
            training_on=today, first_aid_expires=today + timedelta(days=300),
        )  # fmt: skip
    assert "not a US state" in exc.value.message_dict["licence_state"][0]


def test_seats_cannot_drop_below_a_planned_trips_load(cast, facility):
    van, driver = fleet(cast, facility)
    plan(cast, facility, clients(cast, facility, 4), van=van, driver=driver)
    with pytest.raises(ValidationError) as exc:
        fleet_services.vehicle_update(
            actor=cast["supervisor"], vehicle=van, name=van.name, plate=van.plate, seats=3,
            registration_expires=van.registration_expires,
            insurance_expires=van.insurance_expires, service_due_on=van.service_due_on,
        )  # fmt: skip
    assert "carries 4" in exc.value.message_dict["seats"][0]


def test_drivers_and_the_manifest_name_staff_by_their_full_name(client, cast, facility):
    user = make_user("jdoe", "technician", facility, mfa=False)
    user.full_name = "Jordan Avery"
    user.save(update_fields=["full_name"])
    van = make_vehicle(facility)
    passed_inspection(van, user)
    trip = plan(cast, facility, clients(cast, facility, 1), van=van,
                driver=make_driver(facility, user))  # fmt: skip
    client.force_login(cast["supervisor"])
    drivers = page(client.get(reverse("transport:drivers")))
    assert "Jordan Avery" in drivers and ">jdoe<" not in drivers
    manifest = page(client.get(reverse("transport:manifest", args=[trip.public_id])))
    assert "Jordan Avery" in manifest and "jdoe" not in manifest
