"""The demo fleet (issue 14): `seed_demo` gives the demo facility two vans (one in service with
no inspection yet, one whose insurance runs out in 20 days) and lets the demo technician and
nurse drive; nothing else. Seeding twice changes nothing, so `./run` starts again and again."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from clients.management.commands.seed_demo import DEMO_FACILITY
from facility.models import Alert, Facility
from transport.models import Driver, Inspection, Trip, Vehicle, VehicleStatusEvent
from transport.services.fleet import (
    driver_assignment_blockers,
    driver_expiring,
    scan_fleet_expiries,
    vehicle_dispatch_blockers,
    vehicle_expiring,
)


def fleet_rows() -> tuple:
    return (
        list(Vehicle.objects.order_by("pk").values()),
        list(Driver.objects.order_by("pk").values()),
    )


@pytest.mark.django_db
def test_the_demo_facility_gets_two_vans_and_two_drivers_once(without_cast):
    call_command("seed_demo", stdout=StringIO())
    first = fleet_rows()
    call_command("seed_demo", stdout=StringIO())
    assert fleet_rows() == first  # idempotent

    facility = Facility.objects.get(name=DEMO_FACILITY)
    today = timezone.localtime(timezone.now(), facility.tz).date()
    van1, van2 = Vehicle.objects.filter(facility=facility).order_by("name")
    assert (van1.name, van2.name) == ("Van 1", "Van 2")
    for van in (van1, van2):
        assert van.in_service and van.active
        assert vehicle_dispatch_blockers(van, today) == []
    assert vehicle_expiring(van1, today) == []
    assert vehicle_expiring(van2, today) == [("Insurance", today + timedelta(days=20))]

    drivers = Driver.objects.filter(facility=facility).select_related("user")
    assert sorted(d.user.username for d in drivers) == ["nurse", "tech"]
    for driver in drivers:
        assert driver_assignment_blockers(driver, today) == []
        assert driver_expiring(driver, today) == []

    # Nothing else: the inspection is for the demo user to do.
    assert not Inspection.objects.exists()
    assert not Trip.objects.exists()
    assert not VehicleStatusEvent.objects.exists()
    # The fleet scan alerts the supervisor of Van 2's insurance, and grounds nothing.
    assert scan_fleet_expiries() == 1
    alert = Alert.objects.get(kind="fleet_expiry")
    assert alert.audience == "supervisor" and "Van 2" in alert.message
    assert Vehicle.objects.filter(in_service=True).count() == 2
