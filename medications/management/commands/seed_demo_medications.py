"""A plausible SUD-program catalog and a few verified orders for the demo (idempotent)."""

from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from clients.models import Admission
from facility import policy
from facility.models import Facility, User
from medications.models import ControlledStock, Medication, Order
from medications.services import order_transcribe, order_verify, stock_receive

# name, strength, form, routes, schedule, time-critical
CATALOG = [
    ("Buprenorphine/naloxone", "8 mg/2 mg", "film", "sublingual", "III", True),
    ("Naltrexone", "50 mg", "tablet", "oral", "", False),
    ("Chlordiazepoxide", "25 mg", "capsule", "oral", "IV", False),
    ("Lorazepam", "1 mg", "tablet", "oral,sublingual,im", "IV", False),
    ("Clonidine", "0.1 mg", "tablet", "oral", "", False),
    ("Ondansetron", "4 mg", "tablet", "oral", "", False),
    ("Loperamide", "2 mg", "capsule", "oral", "", False),
    ("Hydroxyzine", "25 mg", "tablet", "oral", "", False),
    ("Trazodone", "50 mg", "tablet", "oral", "", False),
    ("Gabapentin", "300 mg", "capsule", "oral", "V", False),
    ("Acetaminophen", "500 mg", "tablet", "oral", "", False),
    ("Ibuprofen", "400 mg", "tablet", "oral", "", False),
    ("Nicotine patch", "21 mg/24 h", "patch", "transdermal", "", False),
]


class Command(BaseCommand):
    help = "Seed the medication catalog and demo orders for every facility."

    @transaction.atomic
    def handle(self, *args, **options):
        for facility in Facility.objects.all():
            for name, strength, form, routes, schedule, critical in CATALOG:
                Medication.objects.get_or_create(
                    facility=facility,
                    name=name,
                    strength=strength,
                    form=form,
                    defaults={
                        "routes": routes,
                        "controlled_schedule": schedule,
                        "time_critical": critical,
                    },
                )
            nurses = list(
                User.objects.filter(
                    facilities=facility, role__in=policy.roles_with("controlled.receive")
                ).order_by("username")[:2]
            )
            if nurses and not ControlledStock.objects.filter(facility=facility).exists():
                # House stock of every controlled medication, received from the pharmacy.
                for med in Medication.objects.filter(facility=facility).exclude(
                    controlled_schedule=""
                ):
                    stock = ControlledStock.objects.create(facility=facility, medication=med)
                    stock_receive(actor=nurses[0], stock=stock, quantity="60",
                                  note="Demo opening stock")  # fmt: skip
            if len(nurses) < 2 or Order.objects.filter(admission__facility=facility).exists():
                continue
            # Two different nurses: one transcribes, the other verifies (specs/mar.md).
            transcriber, verifier = nurses
            meds = {m.name: m for m in Medication.objects.filter(facility=facility)}
            plan = [
                ("Buprenorphine/naloxone", "8 mg/2 mg", "sublingual", "daily", ""),
                ("Clonidine", "0.1 mg", "oral", "bid", "Hold if SBP < 100"),
                ("Gabapentin", "300 mg", "oral", "tid", ""),
                ("Nicotine patch", "21 mg", "transdermal", "daily", ""),
            ]
            admissions = (
                Admission.objects.current().filter(facility=facility).select_related("client")[:8]
            )
            # Dose times around the hour the demo is seeded, so the MAR has doses due now.
            hour = timezone.localtime(timezone.now(), facility.tz).hour
            times = f"{(hour + 1) % 24:02d}:00,{(hour + 13) % 24:02d}:00"
            for i, admission in enumerate(admissions):
                name, dose, route, freq, hold = plan[i % len(plan)]
                if i % 2 == 0:
                    freq = "times"
                order = order_transcribe(
                    actor=transcriber,
                    admission=admission,
                    medication=meds[name],
                    dose=dose,
                    dose_units=Decimal("1"),
                    route=route,
                    frequency=freq,
                    start_at=max(admission.admitted_at, timezone.now() - timedelta(hours=2)),
                    prescriber_name="Dr. Alex Demo",
                    prescriber_credentials="MD",
                    hold_parameters=hold,
                    times=times if freq == "times" else "",
                    allergy_override_reason="Demo data",
                )
                order_verify(actor=verifier, order=order)
        self.stdout.write(self.style.SUCCESS("Medication catalog and demo orders in place."))
