"""The trip pages (issue 14 items 3 and 4): the trips board (today's trips, the late ones in
words and colour, who is on each, in a fixed number of queries), planning and changing a trip
with field messages for anything posted, the departure and return screens from the van, a client
not going, a late sign-in, a cancellation; other facilities get 404."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from clients.models import Leave, OutingRestriction
from tests.conftest import admit, form_time, make_user
from tests.transport.fleet_helpers import make_driver, make_vehicle, passed_inspection
from tests.transport.test_trips import back, clients, depart, fleet, plan
from transport.models import Trip

NY = ZoneInfo("America/New_York")
# A Friday afternoon in Alder House.
AFTERNOON = datetime(2026, 11, 20, 14, 0, tzinfo=NY)


def page(response) -> str:
    return response.content.decode()


def trip_body(facility, van, driver, admissions, /, **extra) -> dict:
    now = timezone.now()
    body = {
        "purpose": "medical", "purpose_note": "",
        "planned_departure": form_time(now + timedelta(minutes=10), facility),
        "planned_return": form_time(now + timedelta(hours=2), facility),
        "driver": str(driver.pk), "vehicle": str(van.pk), "pickup": "",
        "stop-1-place": "Eastside Clinic", "stop-1-address": "12 Elm St",
        "passengers": [str(a.public_id) for a in admissions],
    }  # fmt: skip
    for a in admissions:
        body[f"dest-{a.public_id}"] = "1"
    body.update(extra)
    return body


# ---------------------------------------------------------------- the board


def a_day_of_trips(cast, facility):
    """At AFTERNOON: one trip late 20 minutes, one 75, one out on time, one planned, one back,
    and one out since yesterday."""
    trips = {}
    people = clients(cast, facility, 7, admitted_at=AFTERNOON - timedelta(days=2))
    people[0].client.preferred_name = "Bo"
    people[0].client.save(update_fields=["preferred_name"])
    drivers = ["technician", "nurse", "supervisor"]
    for name, returning, who in (
        ("yesterday", AFTERNOON - timedelta(hours=20), 0),
        ("critical", AFTERNOON - timedelta(minutes=75), 1),
        ("late", AFTERNOON - timedelta(minutes=20), 2),
    ):
        with time_machine.travel(returning - timedelta(hours=2), tick=False):
            van, driver = fleet(cast, facility, driver_user=cast[drivers[who]])
            trips[name] = plan(
                cast, facility, [people[who]], van=van, driver=driver,
                planned_departure=timezone.now(), planned_return=returning,
            )  # fmt: skip
            depart(cast, trips[name], by=drivers[who])
    with time_machine.travel(AFTERNOON - timedelta(hours=1), tick=False):
        van = make_vehicle(facility)
        passed_inspection(van, cast["nurse"])
        dana = make_user("dana", "technician", facility, mfa=False)
        dana.full_name = "Dana Driver"
        dana.save(update_fields=["full_name"])
        driver = make_driver(facility, dana)
        trips["out"] = plan(cast, facility, [people[3]], van=van, driver=driver,
                            escorts=[cast["clinician"]])  # fmt: skip
        depart(cast, trips["out"], by="nurse")
        trips["back"] = plan(
            cast, facility, [people[4]], van=make_vehicle(facility),
            driver=make_driver(facility, make_user("eli", "technician", facility, mfa=False)),
            planned_departure=timezone.now(),
            planned_return=timezone.now() + timedelta(minutes=30),
        )  # fmt: skip
        passed_inspection(trips["back"].vehicle, cast["nurse"])
        depart(cast, trips["back"], by="nurse")
        back(cast, trips["back"], by="nurse")
    return trips


@pytest.mark.django_db
def test_the_board_shows_late_trips_in_words_and_who_is_on_each(client, cast, facility):
    with time_machine.travel(AFTERNOON, tick=False):
        trips = a_day_of_trips(cast, facility)
        trips["planned"] = plan(
            cast, facility, [], van=make_vehicle(facility), driver=trips["out"].driver,
            planned_departure=AFTERNOON + timedelta(hours=3),
            planned_return=AFTERNOON + timedelta(hours=4), purpose="outing",
        )  # fmt: skip
        client.force_login(cast["clinician"])
        html = page(client.get(reverse("transport:board")))
    assert "Trips · Friday, Nov 20" in html
    assert "Late: not back (3)" in html  # yesterday's, 75 min and 20 min
    assert 'class="pill trip-state tone-late">Late: 20 min past the planned return' in html
    assert 'class="pill trip-state tone-alert">Very late: 75 min past the planned return' in html
    assert "Very late: 1200 min past the planned return" in html  # out since yesterday
    assert "Out (1)" in html and "Planned (1)" in html and "Back (1)" in html
    # Who is on each: driver, escorts, clients by preferred name, vehicle.
    assert "<dt>Driver</dt><dd>Dana Driver</dd>" in html
    assert "<dt>Escorts</dt><dd>Clinician</dd>" in html
    assert "Bo Person1" in html
    assert escape("Van 4") in html
    # The clinician views; planning is the floor's.
    assert "Plan a trip" not in html
    client.force_login(cast["nurse"])
    assert "Plan a trip" in page(client.get(reverse("transport:board")))


@pytest.mark.django_db
def test_the_board_reads_in_a_fixed_number_of_queries(client, cast, facility):
    url = reverse("transport:board")
    with time_machine.travel(AFTERNOON, tick=False):
        client.force_login(cast["nurse"])
        van, driver = fleet(cast, facility)
        plan(cast, facility, clients(cast, facility, 2), van=van, driver=driver)
        client.get(url)
        with CaptureQueriesContext(connection) as few:
            assert client.get(url).status_code == 200
        later = AFTERNOON + timedelta(hours=3)
        for n, who in enumerate(("supervisor", "nurse"), start=2):
            plan(
                cast, facility, clients(cast, facility, 2, start=n * 2), van=make_vehicle(facility),
                driver=make_driver(facility, cast[who]), planned_departure=later,
                planned_return=later + timedelta(hours=1),
                escorts=[cast["clinician"]] if who == "nurse" else [],
            )  # fmt: skip
        with CaptureQueriesContext(connection) as many:
            html = page(client.get(url))
    assert "Planned (3)" in html
    assert len(many.captured_queries) == len(few.captured_queries)
    # session, user, facilities, permissions, trips, escorts, stops, passengers
    assert len(many.captured_queries) <= 8, [q["sql"][:90] for q in many.captured_queries]


# ---------------------------------------------------------------- planning


@pytest.mark.django_db
def test_a_nurse_plans_a_trip_from_the_form(client, cast, facility):
    robin = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    van, driver = fleet(cast, facility)
    client.force_login(cast["nurse"])
    form = page(client.get(reverse("transport:trip_new")))
    assert "Robin Ashdown" in form and "Van 1 (7 seats)" in form
    body = trip_body(facility, van, driver, [robin], **{"stop-2-place": "Pharmacy"})
    body[f"dest-{robin.public_id}"] = "2"
    response = client.post(reverse("transport:trip_new"), body)
    trip = Trip.objects.get()
    assert response["Location"] == reverse("transport:trip", args=[trip.public_id])
    assert [s.place for s in trip.stops.all()] == ["Eastside Clinic", "Pharmacy"]
    assert trip.passengers.get().stop.place == "Pharmacy"
    detail = page(client.get(response["Location"]))
    assert "Robin Ashdown" in detail and "to Pharmacy" in detail


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("purpose_note", "Dentist\x00", "Purpose note: remove the control characters"),
        ("stop-1-place", "Clinic\u202e", "Destination 1: remove the control characters"),
        ("stop-1-address", "x" * 301, "Address 1: at most 300 characters (this has 301)."),
        ("planned_departure", "9999-01-01T10:00", "Planned departure: enter a date between"),
        ("planned_return", "tomorrow", "Planned return: enter a valid date and time."),
        ("driver", "abc", "Driver: choose a driver of this facility."),
        ("vehicle", "999999", "Vehicle: choose a vehicle of this facility."),
        ("passengers", ["not-a-uuid"], "Clients: choose clients of this facility."),
        ("escorts", ["x"], "Escorts: choose staff of this facility."),
        ("purpose", "joyride", "Purpose: choose from the list."),
    ],
)
def test_hostile_input_to_the_plan_gets_a_field_message(
    client, cast, facility, field, value, message
):
    robin = admit(facility, cast["nurse"])
    van, driver = fleet(cast, facility)
    client.force_login(cast["nurse"])
    body = trip_body(facility, van, driver, [robin], **{field: value})
    response = client.post(reverse("transport:trip_new"), body)
    assert response.status_code == 400
    assert escape(message) in page(response)
    assert not Trip.objects.exists()


@pytest.mark.django_db
def test_the_services_refusals_appear_on_the_plans_fields(client, cast, facility):
    robin = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    OutingRestriction.objects.create(
        admission=robin, reason="Court order", set_at=timezone.now(), set_by=cast["nurse"]
    )
    van, driver = fleet(cast, facility)
    client.force_login(cast["nurse"])
    body = trip_body(facility, van, driver, [robin], purpose="outing", **{"stop-1-place": ""})
    body["stop-1-address"] = ""
    response = client.post(reverse("transport:trip_new"), body)
    html = page(response)
    assert response.status_code == 400
    assert "Robin Ashdown may not go on outings: Court order" in html
    assert "Destinations: add at least one." in html
    # The planner sees it before posting too.
    assert "Restricted, no outings: Court order" in page(client.get(reverse("transport:trip_new")))
    # A medical trip takes a restricted client only with an escort besides the driver; the
    # page warns with the reason.
    response = client.post(reverse("transport:trip_new"), trip_body(facility, van, driver, [robin]))
    html = page(response)
    assert response.status_code == 400
    assert "Robin Ashdown is restricted from outings: Court order. They may go on this trip" in html
    assert "an escort besides the driver goes with a restricted client" in html


@pytest.mark.django_db
def test_a_planned_trip_is_changed_then_cancelled(client, cast, facility):
    robin, sky = clients(cast, facility, 2)
    van, driver = fleet(cast, facility)
    trip = plan(cast, facility, [robin], van=van, driver=driver)
    client.force_login(cast["nurse"])
    edit = reverse("transport:trip_edit", args=[trip.public_id])
    form = page(client.get(edit))
    assert 'value="Eastside Clinic"' in form
    assert f'value="{robin.public_id}" id="client-{robin.public_id}" checked' in form
    # Taking Robin off asks why; Robin stays on the trip as not going, with the reason.
    body = trip_body(facility, van, driver, [sky], purpose_note="Dental")
    response = client.post(edit, body)
    assert response.status_code == 400
    assert escape(f"say why {robin.client.display_name} no longer go") in page(response)
    response = client.post(edit, {**body, "removed_reason": "Appointment moved"})
    assert response.status_code == 302
    trip.refresh_from_db()
    assert trip.purpose_note == "Dental"
    assert [(p.admission_id, p.status, p.stayed_reason) for p in trip.passengers.all()] == [
        (robin.pk, "stayed", "Appointment moved"),
        (sky.pk, "planned", ""),
    ]
    cancel = reverse("transport:trip_cancel", args=[trip.public_id])
    assert client.post(cancel, {"reason": ""}).status_code == 400
    assert client.post(cancel, {"reason": "Clinic closed"}).status_code == 302
    trip.refresh_from_db()
    assert (trip.status, trip.cancel_reason) == ("cancelled", "Clinic closed")
    # A cancelled trip is not changed.
    assert client.get(edit)["Location"] == reverse("transport:trip", args=[trip.public_id])


# ---------------------------------------------------------------- departure and return


@pytest.mark.django_db
def test_the_van_screens_sign_clients_out_and_in(client, cast, facility):
    robin = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    sky = admit(facility, cast["nurse"], first="Sky", last="Moreno")
    trip = plan(cast, facility, [robin, sky])
    client.force_login(cast["technician"])
    url = reverse("transport:trip_depart", args=[trip.public_id])
    screen = page(client.get(url))
    # One large tick per client, numeric keypads for the numbers.
    assert f'<input type="checkbox" name="signed_out" value="{robin.public_id}"' in screen
    assert screen.count('inputmode="numeric"') == 2
    assert 'name="odometer_out" value="10000"' in screen
    # Sky is not going: kept on the trip with the reason.
    sky_seat = trip.passengers.get(admission=sky)
    stay = reverse("transport:passenger_stay", args=[trip.public_id, sky_seat.public_id])
    assert f'href="{stay}"' in screen
    assert client.post(stay, {"reason": "Family visit"})["Location"] == url
    response = client.post(
        url,
        {"odometer_out": "10005", "head_count": "2", "signed_out": [str(robin.public_id)],
         "count_confirmed": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    detail = page(client.get(response["Location"]))
    assert "Head count 2, but 1 client(s) signed out" in detail
    assert "Family visit" in detail
    assert Leave.objects.get(admission=robin).returned_at is None
    # Back: an odometer less than out is refused on its field.
    url = reverse("transport:trip_return", args=[trip.public_id])
    refused = client.post(url, {"odometer_in": "10004", "head_count": "1",
                                "signed_in": [str(robin.public_id)]})  # fmt: skip
    assert refused.status_code == 400
    assert "Odometer in: cannot be less than the odometer out (10,005)." in page(refused)
    response = client.post(url, {"odometer_in": "10020", "head_count": "1",
                                 "signed_in": [str(robin.public_id)]})  # fmt: skip
    assert response.status_code == 302
    assert Leave.objects.get(admission=robin).returned_at is not None
    assert Trip.objects.get(pk=trip.pk).miles == 15


@pytest.mark.django_db
def test_a_client_not_back_is_shown_and_signed_in_later(client, cast, facility):
    robin = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    trip = plan(cast, facility, [robin])
    depart(cast, trip)
    client.force_login(cast["technician"])
    response = client.post(
        reverse("transport:trip_return", args=[trip.public_id]),
        {"odometer_in": "10010", "head_count": "0"},
    )
    detail = page(client.get(response["Location"]))
    assert "Not signed in: Robin Ashdown" in detail
    assert "An incident report draft is open for the supervisor." in detail
    seat = trip.passengers.get()
    sign_in = reverse("transport:passenger_sign_in", args=[trip.public_id, seat.public_id])
    assert f'href="{sign_in}"' in detail
    refused = client.post(sign_in, {"at": "2099-01-01T10:00"})
    assert refused.status_code == 400 and "Back at: enter a date between" in page(refused)
    assert client.post(sign_in, {"at": ""}).status_code == 302
    assert Leave.objects.get(admission=robin).returned_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"odometer_out": "-1", "head_count": "1"}, "Odometer out (miles): at least 0."),
        ({"odometer_out": "1e9", "head_count": "1"}, "Odometer out (miles): a whole number."),
        ({"odometer_out": "10000", "head_count": "99"}, "at most 30."),
        ({"odometer_out": "10000", "head_count": ""}, "required."),
        ({"odometer_out": "10000", "head_count": "1", "signed_out": ["x\x00"]},
         "Signed out: tick clients of this trip."),
    ],
)  # fmt: skip
def test_hostile_input_to_the_departure_gets_a_field_message(client, cast, facility, body, message):
    trip = plan(cast, facility, clients(cast, facility, 1))
    client.force_login(cast["technician"])
    response = client.post(reverse("transport:trip_depart", args=[trip.public_id]), body)
    assert response.status_code == 400
    assert message in page(response)
    assert Trip.objects.get(pk=trip.pk).status == "planned"


@pytest.mark.django_db
def test_another_facilitys_trip_does_not_exist_for_them(client, cast, facility):
    trip = plan(cast, facility, clients(cast, facility, 1))
    seat = trip.passengers.get()
    client.force_login(cast["other_nurse"])
    for name, args in (
        ("transport:trip", [trip.public_id]),
        ("transport:trip_edit", [trip.public_id]),
        ("transport:trip_depart", [trip.public_id]),
        ("transport:passenger_stay", [trip.public_id, seat.public_id]),
    ):
        assert client.get(reverse(name, args=args)).status_code == 404
    assert "Alder" not in page(client.get(reverse("transport:board")))
