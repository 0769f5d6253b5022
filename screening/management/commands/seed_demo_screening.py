"""Demo test devices for every facility (issue 13): a lot of the default cup that expires in a
year, and a breath alcohol device calibrated a week ago, so a demo user can read a cup and test
breath at once (idempotent). A real facility enters its own lots and devices in Setup.

Called by `seed_demo` by name, so the clients app does not import this one.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from facility.models import Facility
from screening.defaults import devices_seed_defaults
from screening.models import Device, DeviceKind, DeviceLot

DEMO_LOT = "DEMO-2026"
DEMO_BREATH = {"make": "Demo Instruments", "model": "Breathalyzer 5", "serial": "DEMO-0001"}


class Command(BaseCommand):
    help = "Seed a demo cup lot and a demo breath alcohol device for every facility."

    @transaction.atomic
    def handle(self, *args, **options):
        today = timezone.localdate()
        for facility in Facility.objects.all():
            devices_seed_defaults(facility)
            for cup in Device.objects.filter(facility=facility, kind=DeviceKind.CUP):
                DeviceLot.objects.get_or_create(
                    device=cup, lot=DEMO_LOT, defaults={"expires_on": today + timedelta(days=365)}
                )
            Device.objects.get_or_create(
                facility=facility,
                kind=DeviceKind.BREATH,
                serial=DEMO_BREATH["serial"],
                defaults={
                    "make": DEMO_BREATH["make"],
                    "model": DEMO_BREATH["model"],
                    "last_calibrated_on": today - timedelta(days=7),
                    "calibration_interval_days": 30,
                },
            )
        self.stdout.write(self.style.SUCCESS("Seeded demo cup lots and breath devices."))
