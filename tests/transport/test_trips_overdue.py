"""Overdue trips (issue 14 item 4): the supervisor is alerted 15 minutes after a trip's planned
return and again, critically, at 60; real elapsed minutes, across a DST night too; the scan is
idempotent; the return closes both alerts."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from facility.models import Alert
from tests.conftest import admit
from tests.transport.fleet_helpers import make_driver, make_vehicle, passed_inspection
from tests.transport.test_trips import back, depart
from transport.services.trips import scan_trips_overdue, trip_plan

NY = ZoneInfo("America/New_York")


def out_trip(cast, facility, *, returning: datetime, hours: int = 2, n: int = 1):
    """A trip that left `hours` before its planned return (at that moment, on the clock)."""
    leaving = returning - timedelta(hours=hours)
    with time_machine.travel(leaving, tick=False):
        admission = admit(facility, cast["nurse"], n=n, admitted_at=leaving - timedelta(days=1))
        van = make_vehicle(facility)
        passed_inspection(van, cast["technician"])
        trip = trip_plan(
            actor=cast["nurse"], facility=facility, purpose="medical",
            planned_departure=leaving, planned_return=returning,
            driver=make_driver(facility, cast["technician"]), vehicle=van,
            stops=[("Eastside Clinic", "")], passengers=[(admission, 1)],
        )  # fmt: skip
        depart(cast, trip)
    trip.refresh_from_db()
    return trip


def trip_alerts():
    return Alert.objects.filter(kind__startswith="trip_").order_by("raised_at", "pk")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("minutes", "raised"),
    [(14, []), (15, ["trip_overdue"]), (59, ["trip_overdue"]), (60, ["trip_critical"])],
)
def test_a_trip_late_by_so_many_minutes_alerts_the_supervisor(cast, facility, minutes, raised):
    returning = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=3)
    trip = out_trip(cast, facility, returning=returning)
    assert scan_trips_overdue(now=returning + timedelta(minutes=minutes)) == len(raised)
    assert list(trip_alerts().values_list("kind", flat=True)) == raised
    for alert in trip_alerts():
        assert alert.audience == "supervisor"
        assert alert.link == reverse("transport:trip", args=[trip.public_id])
        assert f"{minutes} min late" in alert.message


@pytest.mark.django_db
def test_the_alerts_name_the_trip_and_nothing_clinical_once_per_level(cast, facility):
    returning = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=3)
    trip = out_trip(cast, facility, returning=returning)
    assert scan_trips_overdue(now=returning + timedelta(minutes=15)) == 1
    assert scan_trips_overdue(now=returning + timedelta(minutes=16)) == 0  # idempotent
    assert scan_trips_overdue(now=returning + timedelta(minutes=60)) == 1
    assert scan_trips_overdue(now=returning + timedelta(minutes=90)) == 0
    warning, critical = trip_alerts()
    due = timezone.localtime(returning, facility.tz)
    assert warning.severity == "warning" and critical.severity == "critical"
    assert warning.message == (
        "Trip not back: Medical or dental appointment trip in Van 1 driven by Technician, "
        f"expected {due:%H:%M}, 15 min late. Call the driver."
    )
    assert warning.dedupe_key == f"trip-overdue:{trip.public_id}"
    assert critical.dedupe_key == f"trip-critical:{trip.public_id}"
    # Nothing about the clients on the alert.
    client = trip.passengers.get().admission.client
    assert warning.client_public_id is None
    assert client.legal_last_name not in warning.message + critical.message


@pytest.mark.django_db
def test_the_return_closes_the_trips_alerts_and_a_planned_trip_raises_none(cast, facility):
    returning = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=61)
    trip = out_trip(cast, facility, returning=returning)
    assert scan_trips_overdue() == 1  # straight to critical
    back(cast, trip)
    assert not Alert.objects.open().filter(kind__startswith="trip_").exists()
    assert set(trip_alerts().values_list("resolution_note", flat=True)) == {"Trip returned."}
    assert scan_trips_overdue(now=timezone.now() + timedelta(hours=5)) == 0
    # A trip never departed is not late (it is still planned).
    van = make_vehicle(facility)
    now = timezone.now()
    trip_plan(
        actor=cast["nurse"], facility=facility, purpose="outing", planned_departure=now,
        planned_return=now + timedelta(minutes=30), vehicle=van,
        driver=make_driver(facility, cast["supervisor"]), stops=[("Park", "")],
    )  # fmt: skip
    assert scan_trips_overdue(now=now + timedelta(hours=2)) == 0


@pytest.mark.django_db
def test_minutes_late_are_real_minutes_across_the_fall_back_night(cast, facility):
    # 1 November 2026: New York falls back at 02:00 EDT to 01:00 EST. Due back 01:50 EDT.
    returning = datetime(2026, 11, 1, 1, 50, tzinfo=NY)  # fold 0: EDT, 05:50 UTC
    out_trip(cast, facility, returning=returning)
    # 01:04 EST (06:04 UTC) reads earlier than 01:50 but is 14 real minutes after it: not yet.
    assert scan_trips_overdue(now=datetime(2026, 11, 1, 6, 4, tzinfo=ZoneInfo("UTC"))) == 0
    assert scan_trips_overdue(now=datetime(2026, 11, 1, 1, 5, fold=1, tzinfo=NY)) == 1
    assert trip_alerts().get().kind == "trip_overdue"
    # 01:49 EST, earlier on the wall clock than the planned 01:50, is 59 real minutes late.
    assert scan_trips_overdue(now=datetime(2026, 11, 1, 1, 49, fold=1, tzinfo=NY)) == 0
    assert scan_trips_overdue(now=datetime(2026, 11, 1, 1, 50, fold=1, tzinfo=NY)) == 1
    assert trip_alerts().last().kind == "trip_critical"
    assert "60 min late" in trip_alerts().last().message


@pytest.mark.django_db
def test_minutes_late_are_real_minutes_across_the_spring_forward_night(cast, facility):
    # 8 March 2026: New York springs forward at 02:00 EST to 03:00 EDT. Due back 01:30 EST.
    returning = datetime(2026, 3, 8, 1, 30, tzinfo=NY)
    out_trip(cast, facility, returning=returning)
    # 03:14 EDT is 104 wall-clock minutes later but 44 real minutes: overdue, not critical.
    assert scan_trips_overdue(now=datetime(2026, 3, 8, 3, 14, tzinfo=NY)) == 1
    assert trip_alerts().get().kind == "trip_overdue"
    assert scan_trips_overdue(now=datetime(2026, 3, 8, 3, 29, tzinfo=NY)) == 0
    assert scan_trips_overdue(now=datetime(2026, 3, 8, 3, 30, tzinfo=NY)) == 1
