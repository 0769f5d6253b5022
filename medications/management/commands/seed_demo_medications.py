"""A plausible SUD-program catalog and a few verified orders for the demo (idempotent)."""

from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from clients.models import Admission
from facility import policy
from facility.models import Facility, User
from medications.models import (
    ControlledStock,
    Ingredient,
    Medication,
    MedicationIngredient,
    Order,
)
from medications.services import (
    allergy_conflicts,
    order_transcribe,
    order_verify,
    stock_receive,
)

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
    ("Acetaminophen", "325 mg", "tablet", "oral", "", False),
    ("Amoxicillin", "500 mg", "capsule", "oral", "", False),
    ("Cephalexin", "500 mg", "capsule", "oral", "", False),
    ("Sulfamethoxazole-trimethoprim", "800 mg/160 mg", "tablet", "oral", "", False),
    ("Oxycodone/acetaminophen", "5 mg/325 mg", "tablet", "oral", "II", False),
]

# Each catalog entry's active ingredients, mg per stock unit (the allergy check and the daily
# caps read them; medications/drug_classes.py gives their classes).
INGREDIENTS = {
    ("Buprenorphine/naloxone", "8 mg/2 mg"): {"buprenorphine": 8, "naloxone": 2},
    ("Naltrexone", "50 mg"): {"naltrexone": 50},
    ("Chlordiazepoxide", "25 mg"): {"chlordiazepoxide": 25},
    ("Lorazepam", "1 mg"): {"lorazepam": 1},
    ("Clonidine", "0.1 mg"): {"clonidine": "0.1"},
    ("Ondansetron", "4 mg"): {"ondansetron": 4},
    ("Loperamide", "2 mg"): {"loperamide": 2},
    ("Hydroxyzine", "25 mg"): {"hydroxyzine": 25},
    ("Trazodone", "50 mg"): {"trazodone": 50},
    ("Gabapentin", "300 mg"): {"gabapentin": 300},
    ("Acetaminophen", "500 mg"): {"acetaminophen": 500},
    ("Acetaminophen", "325 mg"): {"acetaminophen": 325},
    ("Ibuprofen", "400 mg"): {"ibuprofen": 400},
    ("Nicotine patch", "21 mg/24 h"): {"nicotine": 21},
    ("Amoxicillin", "500 mg"): {"amoxicillin": 500},
    ("Cephalexin", "500 mg"): {"cephalexin": 500},
    ("Sulfamethoxazole-trimethoprim", "800 mg/160 mg"): {
        "sulfamethoxazole": 800,
        "trimethoprim": 160,
    },
    ("Oxycodone/acetaminophen", "5 mg/325 mg"): {"oxycodone": 5, "acetaminophen": 325},
}
# The facility's daily caps: many facilities hold acetaminophen to 3 g/day (issue 9).
DAILY_CAPS = {"acetaminophen": 3000}


def catalog_ingredients(facility) -> None:
    """Ingredient rows of the facility (with the caps) and each medication's amounts."""
    for (name, strength), amounts in INGREDIENTS.items():
        med = Medication.objects.filter(facility=facility, name=name, strength=strength).first()
        if med is None:
            continue
        for generic, mg in amounts.items():
            ingredient, _ = Ingredient.objects.get_or_create(
                facility=facility, name=generic,
                defaults={"max_mg_per_24h": DAILY_CAPS.get(generic)},
            )  # fmt: skip
            MedicationIngredient.objects.get_or_create(
                medication=med, ingredient=ingredient, defaults={"mg_per_unit": Decimal(str(mg))}
            )


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
            catalog_ingredients(facility)
            nurses = list(
                User.objects.filter(
                    facilities=facility, role__in=policy.roles_with("controlled.receive")
                ).order_by("username")[:2]
            )
            if len(nurses) > 1 and not ControlledStock.objects.filter(facility=facility).exists():
                # House stock of every controlled medication, received from the pharmacy and
                # signed by two nurses.
                for med in Medication.objects.filter(facility=facility).exclude(
                    controlled_schedule=""
                ):
                    stock = ControlledStock.objects.create(facility=facility, medication=med)
                    stock_receive(actor=nurses[0], stock=stock, quantity="60",
                                  note="Demo opening stock", witness=nurses[1],
                                  source_document="DEMO-INV-1")  # fmt: skip
            if len(nurses) < 2 or Order.objects.filter(admission__facility=facility).exists():
                continue
            # Two different nurses: one transcribes, the other verifies (specs/mar.md).
            transcriber, verifier = nurses
            meds = {m.name: m for m in Medication.objects.filter(facility=facility)}
            # The hold as the prescriber wrote it, and as structured rules the med pass acts on
            # (issue 11: it asks for the SBP, or uses a recent one, and offers "held").
            plan = [
                ("Buprenorphine/naloxone", "8 mg/2 mg", "sublingual", "daily", "", []),
                ("Clonidine", "0.1 mg", "oral", "bid", "Hold if SBP < 100",
                 [("sbp", "lt", Decimal(100))]),
                ("Gabapentin", "300 mg", "oral", "tid", "", []),
                ("Nicotine patch", "21 mg", "transdermal", "daily", "", []),
            ]  # fmt: skip
            admissions = (
                Admission.objects.current().filter(facility=facility).select_related("client")[:8]
            )
            # Dose times around the hour the demo is seeded, so the MAR has doses due now.
            hour = timezone.localtime(timezone.now(), facility.tz).hour
            times = f"{(hour + 1) % 24:02d}:00,{(hour + 13) % 24:02d}:00"
            for i, admission in enumerate(admissions):
                name, dose, route, freq, hold, holds = plan[i % len(plan)]
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
                    holds=holds,
                    times=times if freq == "times" else "",
                    allergy_override_reason="Prescriber aware; benefits outweigh (demo)"
                    if allergy_conflicts(admission.client, meds[name])
                    else "",
                )
                order_verify(actor=verifier, order=order)
        self.stdout.write(self.style.SUCCESS("Medication catalog and demo orders in place."))
