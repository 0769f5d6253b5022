""" "My work" sections of transport (issue 17 item 1): the trips today a person drives or
escorts, and the admin's drivers whose documents lapsed or expire within 30 days. Each: the
right rows and links for its role, absent for other roles, nothing of another facility, gone
once done. The clock stands at 09:10 on an ordinary Tuesday in New York."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import make_user
from tests.my_work_page import home, section
from tests.transport.fleet_helpers import make_driver, make_vehicle
from transport.models import Trip, TripStatus
from transport.services.fleet import driver_update

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 5, 12, 9, 10, tzinfo=NY)
TODAY = date(2026, 5, 12)


def trip_url(trip) -> str:
    return reverse("transport:trip", args=[trip.public_id])


def make_trip(facility, planner, driver, vehicle, departure, **extra) -> Trip:
    return Trip.objects.create(
        facility=facility, purpose=extra.pop("purpose", "medical"), planned_departure=departure,
        planned_return=departure + timedelta(hours=3), driver=driver, vehicle=vehicle,
        planned_by=planner, planned_at=departure - timedelta(days=1), **extra,
    )  # fmt: skip


@pytest.mark.django_db
def test_the_trips_today_a_person_drives_or_escorts_link_to_the_trip(
    client, cast, facility, other_facility
):
    tech, nurse = cast["technician"], cast["nurse"]
    floater = make_user("floater", "technician", facility, other_facility)
    with time_machine.travel(NOW, tick=False):
        van, far_van = make_vehicle(facility), make_vehicle(other_facility)
        driving, colleague = make_driver(facility, tech), make_driver(facility, floater)
        far_driver = make_driver(other_facility, floater)
        drives = make_trip(facility, nurse, driving, van, datetime(2026, 5, 12, 10, 0, tzinfo=NY))
        escorts = make_trip(
            facility, nurse, colleague, van, datetime(2026, 5, 12, 13, 0, tzinfo=NY),
            purpose="outing",
        )  # fmt: skip
        escorts.escorts.add(tech)
        tomorrow = make_trip(facility, nurse, driving, van, datetime(2026, 5, 13, 10, 0, tzinfo=NY))
        cancelled = make_trip(
            facility, nurse, driving, van, datetime(2026, 5, 12, 11, 0, tzinfo=NY),
            status=TripStatus.CANCELLED, cancelled_at=NOW, cancel_reason="Clinic closed",
        )  # fmt: skip
        left = datetime(2026, 5, 11, 17, 0, tzinfo=NY)
        still_out = make_trip(
            facility, nurse, driving, van, left, status=TripStatus.OUT, departed_at=left,
            departed_by=tech, odometer_out=10_000,
        )  # fmt: skip
        elsewhere = make_trip(
            other_facility, cast["other_nurse"], far_driver, far_van,
            datetime(2026, 5, 12, 10, 0, tzinfo=NY),
        )  # fmt: skip

        rows = section(home(client, tech), "my_trips")
        for trip in (drives, escorts, still_out):
            assert f'href="{trip_url(trip)}"' in rows
        for trip in (tomorrow, cancelled, elsewhere):
            assert trip_url(trip) not in rows
        assert client.get(trip_url(drives)).status_code == 200
        # Yesterday's trip still out comes first, very late; then today's by departure.
        assert rows.index(trip_url(still_out)) < rows.index(trip_url(drives))
        assert rows.index(trip_url(drives)) < rows.index(trip_url(escorts))
        assert "very late" in rows and "work-alert" in rows
        assert "Outing · Van 1 · escorting" in rows
        assert "Medical or dental appointment · Van 1 · driving" in rows
        # The floater drives in both houses: only this facility's trip (their first, by name).
        floating = section(home(client, floater), "my_trips")
        assert trip_url(escorts) in floating and trip_url(elsewhere) not in floating
        for role in ("clinician", "supervisor", "admin"):
            assert section(home(client, cast[role]), "my_trips") == ""

        Trip.objects.filter(pk=still_out.pk).update(
            status=TripStatus.RETURNED, returned_at=NOW, returned_by=tech, odometer_in=10_040
        )
        rows = section(home(client, tech), "my_trips")
        assert trip_url(still_out) not in rows and trip_url(drives) in rows


@pytest.mark.django_db
def test_a_trip_that_never_left_stays_late_and_the_cap_never_drops_a_trip_out(
    client, cast, facility
):
    tech, nurse = cast["technician"], cast["nurse"]
    with time_machine.travel(NOW, tick=False):
        van, driving = make_vehicle(facility), make_driver(facility, tech)
        never_left = make_trip(facility, nurse, driving, van, datetime(2026, 5, 11, 10, tzinfo=NY))
        rows = section(home(client, tech), "my_trips")
        assert trip_url(never_left) in rows
        assert "never left: sign it out, change its times or cancel it" in rows
        assert "work-late" in rows
        # The trips board, the section's "full list", shows it too, until signed out or
        # cancelled; so does the trip's own page.
        board = client.get(reverse("transport:board")).content.decode()
        assert "Never left: sign out, change times or cancel (1)" in board
        assert trip_url(never_left) in board
        trip_page = client.get(trip_url(never_left)).content.decode()
        assert (
            "Never left: planned for Mon May 11 10:00; sign it out, change its times or cancel it"
            in trip_page
        )
        # 60 trips planned to leave before the one out left: it is listed all the same (the query
        # takes trips out first, then the planned ones by departure, then caps at 50).
        for _ in range(60):
            make_trip(facility, nurse, driving, van, datetime(2026, 5, 12, 6, 0, tzinfo=NY))
        left = datetime(2026, 5, 12, 8, 0, tzinfo=NY)
        out = make_trip(
            facility, nurse, driving, van, left, status=TripStatus.OUT, departed_at=left,
            departed_by=tech, odometer_out=10_000,
        )  # fmt: skip
        rows = section(home(client, tech), "my_trips")
        assert trip_url(out) in rows and trip_url(never_left) in rows
        # Late before due: the trip that never left, then the one out (back by 11:00).
        assert rows.index(trip_url(never_left)) < rows.index(trip_url(out))
        assert "50+" in home(client, tech)
        # Cancelling the trip that never left takes it off.
        Trip.objects.filter(pk=never_left.pk).update(
            status=TripStatus.CANCELLED, cancelled_at=NOW, cancel_reason="Clinic closed"
        )
        assert trip_url(never_left) not in section(home(client, tech), "my_trips")
        assert trip_url(never_left) not in client.get(reverse("transport:board")).content.decode()


@pytest.mark.django_db
def test_the_admin_sees_drivers_whose_documents_lapsed_or_expire_within_30_days(
    client, cast, facility, other_facility
):
    people = {name: make_user(name, "technician", facility) for name in "abcdef"}
    with time_machine.travel(NOW, tick=False):
        licence = make_driver(facility, people["a"], licence_expires=TODAY + timedelta(days=10))
        first_aid = make_driver(facility, people["b"], first_aid_expires=TODAY - timedelta(days=3))
        record = make_driver(facility, people["c"], mvr_checked_on=TODAY - timedelta(days=340))
        fine = make_driver(facility, people["d"])
        retired = make_driver(
            facility, people["e"], licence_expires=TODAY - timedelta(days=1), active=False
        )
        far = make_driver(
            other_facility, cast["other_technician"], licence_expires=TODAY + timedelta(days=2)
        )
        page = section(home(client, cast["admin"]), "expiring_credentials")

        def edit(driver) -> str:
            return reverse("transport:driver_edit", args=[driver.public_id])

        for driver in (licence, first_aid, record):
            assert f'href="{edit(driver)}"' in page
        for driver in (fine, retired, far):
            assert edit(driver) not in page
        # The lapsed one first, then by the nearest date.
        assert page.index(edit(first_aid)) < page.index(edit(licence)) < page.index(edit(record))
        assert "First Aid/CPR lapsed 2026-05-09" in page
        assert "Driver&#x27;s licence in 10 days (2026-05-22)" in page
        assert "Motor-vehicle-record check in 25 days (2026-06-06)" in page
        assert f'href="{reverse("transport:drivers")}"' in page
        assert client.get(edit(first_aid)).status_code == 200
        for role in ("supervisor", "nurse", "technician", "clinician"):
            assert section(home(client, cast[role]), "expiring_credentials") == ""

        driver_update(
            actor=cast["admin"], driver=licence, licence_number=licence.licence_number,
            licence_class="C", licence_state="NY", licence_expires=TODAY + timedelta(days=1500),
            mvr_checked_on=licence.mvr_checked_on, training_on=licence.training_on,
            first_aid_expires=licence.first_aid_expires,
        )  # fmt: skip
        page = section(home(client, cast["admin"]), "expiring_credentials")
        assert edit(licence) not in page and edit(first_aid) in page
