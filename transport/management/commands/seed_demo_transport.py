"""The demo facility's fleet (issue 14): two vans and two drivers, so a demo user can inspect a
van, plan a trip and drive it at once (idempotent).

- Van 1 is in service with every document valid. Its pre-trip inspection is NOT made: doing it
  is the first thing a demo of transport shows.
- Van 2's insurance runs out in 20 days: the fleet scan alerts the supervisor (30 days ahead).
- The demo technician (`tech`) and nurse (`nurse`) may drive, their documents valid.

Nothing else: no trips, no inspections. Called by `seed_demo` by name, so the clients app does
not import this one.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from clients.management.commands.seed_demo import DEMO_FACILITY
from facility.models import Facility, User
from transport.models import Driver, Vehicle

# (name, plate, vin, seats, odometer, days until the insurance runs out)
DEMO_VEHICLES = [
    ("Van 1", "CRV 1101", "1FBAX2CM5JKA10001", 11, 48_210, 240),
    ("Van 2", "CRV 1102", "1FBAX2CM5JKA10002", 7, 31_560, 20),
]
# (username, licence number, licence class)
DEMO_DRIVERS = [("tech", "D4417290", "D"), ("nurse", "D5820163", "D")]


class Command(BaseCommand):
    help = "Seed two demo vans and two demo drivers for the demo facility."

    @transaction.atomic
    def handle(self, *args, **options):
        facility = Facility.objects.filter(name=DEMO_FACILITY).first()
        if facility is None:
            return
        today = timezone.localdate(timezone.now(), facility.tz)
        for name, plate, vin, seats, odometer, insured_days in DEMO_VEHICLES:
            Vehicle.objects.get_or_create(
                facility=facility,
                name=name,
                defaults={
                    "plate": plate,
                    "vin": vin,
                    "seats": seats,
                    "odometer": odometer,
                    "registration_expires": today + timedelta(days=300),
                    "insurance_expires": today + timedelta(days=insured_days),
                    "service_due_on": today + timedelta(days=90),
                    "service_due_odometer": odometer + 5_000,
                },
            )
        for username, number, licence_class in DEMO_DRIVERS:
            user = User.objects.filter(username=username, facilities=facility).first()
            if user is None:
                continue
            Driver.objects.get_or_create(
                facility=facility,
                user=user,
                defaults={
                    "licence_number": number,
                    "licence_class": licence_class,
                    "licence_state": "NC",
                    "licence_expires": today + timedelta(days=900),
                    "mvr_checked_on": today - timedelta(days=60),
                    "training_on": today - timedelta(days=120),
                    "first_aid_expires": today + timedelta(days=400),
                },
            )
        self.stdout.write(self.style.SUCCESS(f"Seeded the demo fleet of {facility.name}."))
