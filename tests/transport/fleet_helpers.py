"""Builders of fleet records for any test: a vehicle, a driver and a passed inspection.

They write rows directly with valid, far-from-expiry documents (a year ahead), so a test states
only what it is about: `make_vehicle(facility, registration_expires=yesterday)`.
"""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from tests.clock import local_today
from transport.models import Driver, Inspection, InspectionItem, Vehicle
from transport.rules import INSPECTION_ITEMS


def make_vehicle(facility, **kw) -> Vehicle:
    """An in-service van with 7 seats and every document valid for a year."""
    today = local_today(facility)
    n = Vehicle.objects.filter(facility=facility).count() + 1
    fields = {
        "name": f"Van {n}",
        "plate": f"HVN{n:03d}",
        "seats": 7,
        "registration_expires": today + timedelta(days=365),
        "insurance_expires": today + timedelta(days=365),
        "service_due_on": today + timedelta(days=180),
        "odometer": 10_000,
    }
    fields.update(kw)
    return Vehicle.objects.create(facility=facility, **fields)


def make_driver(facility, user, **kw) -> Driver:
    """An active driver with a licence and First Aid valid for a year, checked a month ago."""
    today = local_today(facility)
    fields = {
        "licence_number": f"D{user.pk:07d}",
        "licence_class": "C",
        "licence_state": "NY",
        "licence_expires": today + timedelta(days=365),
        "mvr_checked_on": today - timedelta(days=30),
        "training_on": today - timedelta(days=60),
        "first_aid_expires": today + timedelta(days=365),
    }
    fields.update(kw)
    return Driver.objects.create(facility=facility, user=user, **fields)


def passed_inspection(vehicle, user, day: date | None = None) -> Inspection:
    """Every item OK, recorded by `user` on the facility's local `day` (default today), at
    the current time or, for another day, at 07:00 local."""
    tz = vehicle.facility.tz
    now = timezone.now()
    if day is None or day == timezone.localtime(now, tz).date():
        day = timezone.localtime(now, tz).date()
        at = now
    else:
        at = datetime.combine(day, time(7, 0), tzinfo=tz)
    inspection = Inspection.objects.create(
        vehicle=vehicle, day=day, inspected_at=at, inspected_by=user, passed=True
    )
    InspectionItem.objects.bulk_create(
        InspectionItem(inspection=inspection, item=key, ok=True) for key, _, _ in INSPECTION_ITEMS
    )
    return inspection
