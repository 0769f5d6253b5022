"""Issue 14's "done when", from the screens a user sees: an expired licence blocks assignment
with the reason on the plan form; a trip 16 minutes past its planned return alerts the
supervisor (the scan running on the clock, time_machine moving it), and the board says it is
late."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils.html import escape

from facility.models import Alert
from tests.conftest import admit, form_time
from tests.transport.fleet_helpers import make_driver, make_vehicle, passed_inspection
from tests.transport.test_trips import depart, plan
from transport.models import Trip
from transport.services.trips import scan_trips_overdue

NY = ZoneInfo("America/New_York")
MORNING = datetime(2026, 3, 10, 9, 30, tzinfo=NY)


@pytest.mark.django_db
def test_an_expired_licence_blocks_the_assignment_with_the_reason_on_the_plan_form(
    client, cast, facility
):
    with time_machine.travel(MORNING, tick=False):
        robin = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
        van = make_vehicle(facility)
        lapsed = make_driver(
            facility, cast["technician"], licence_expires=MORNING.date() - timedelta(days=1)
        )
        client.force_login(cast["nurse"])
        pid = str(robin.public_id)
        response = client.post(
            reverse("transport:trip_new"),
            {
                "purpose": "medical",
                "planned_departure": form_time(MORNING + timedelta(minutes=30), facility),
                "planned_return": form_time(MORNING + timedelta(hours=2), facility),
                "driver": str(lapsed.pk), "vehicle": str(van.pk),
                "stop-1-place": "Eastside Clinic", "passengers": [pid], f"dest-{pid}": "1",
            },
        )  # fmt: skip
    assert response.status_code == 400
    html = response.content.decode()
    assert escape("Driver Technician: Driver's licence expired on 2026-03-09.") in html
    assert not Trip.objects.exists()


@pytest.mark.django_db
def test_a_trip_sixteen_minutes_late_alerts_the_supervisor_and_the_board_says_late(
    client, cast, facility
):
    with time_machine.travel(MORNING, tick=False):
        robin = admit(facility, cast["nurse"], first="Robin", last="Ashdown",
                      admitted_at=MORNING - timedelta(days=1))  # fmt: skip
        van = make_vehicle(facility)
        passed_inspection(van, cast["technician"])
        trip = plan(
            cast, facility, [robin], van=van, driver=make_driver(facility, cast["technician"]),
            planned_return=MORNING + timedelta(hours=1),
        )  # fmt: skip
        depart(cast, trip)
    due = MORNING + timedelta(hours=1)
    with time_machine.travel(due + timedelta(minutes=14), tick=False):
        assert scan_trips_overdue() == 0
    with time_machine.travel(due + timedelta(minutes=16), tick=False):
        assert scan_trips_overdue() == 1
        alert = Alert.objects.get(kind="trip_overdue")
        assert alert.audience == "supervisor" and alert.severity == "warning"
        assert "expected 10:30, 16 min late" in alert.message
        assert "Robin" not in alert.message  # the trip is named, not the client
        client.force_login(cast["supervisor"])
        assert escape(alert.message) in client.get(reverse("alerts")).content.decode()
        board = client.get(reverse("transport:board")).content.decode()
        assert "Late: 16 min past the planned return" in board
