"""A demo facility to try Haven with: two units, 24 beds, 18 admitted clients, one user per role.

Idempotent: running it again changes nothing. The names are invented; no real person's data.
"""

import random
from datetime import date, timedelta

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from clients.models import Admission, BedMove, Client, OrientationItem, OrientationTick
from clients.services import admission_admit
from facility.models import Bed, Facility, Role, Unit, User
from facility.services import facility_create, user_sync_role_group

DEMO_PASSWORD = "haven-demo-pass-2026"
DEMO_FACILITY = "Cedar Ridge Recovery Center"
DEMO_USERS = [
    ("tech", "Jordan Avery", "JA", "BHT", Role.TECHNICIAN),
    ("nurse", "Priya Raman", "PR", "RN", Role.NURSE),
    ("nurse2", "Lee Okonkwo", "LO", "LPN", Role.NURSE),
    ("clinician", "Marcus Bell", "MB", "LCSW", Role.CLINICIAN),
    ("supervisor", "Dana Whitfield", "DW", "RN", Role.SUPERVISOR),
    ("admin", "Sam Okafor", "SO", "", Role.ADMIN),
]
ORIENTATION_ITEMS = [
    "Tour of the unit and emergency exits",
    "Client rights and grievance procedure",
    "Confidentiality (42 CFR Part 2) explained",
    "Program rules, schedule and visiting hours",
    "Belongings search explained and inventory signed",
    "Medication times and how to ask for PRN",
]
FIRST = [
    "Avery",
    "Blake",
    "Casey",
    "Devon",
    "Emerson",
    "Finley",
    "Gray",
    "Harper",
    "Indigo",
    "Jesse",
    "Kai",
    "Logan",
    "Morgan",
    "Noel",
    "Oakley",
    "Parker",
    "Quinn",
    "Reese",
    "Rowan",
    "Sage",
    "Tatum",
    "Wren",
]
LAST = [
    "Ashby",
    "Brennan",
    "Calloway",
    "Dunmore",
    "Ellery",
    "Fairbanks",
    "Galloway",
    "Hollis",
    "Iverson",
    "Jessup",
    "Kingsley",
    "Lockhart",
    "Merriweather",
    "Northcott",
    "Oswald",
    "Prescott",
    "Quimby",
    "Radcliffe",
    "Stroud",
    "Thackeray",
    "Underhill",
    "Vance",
]
# (allergen, kind, reaction, severity) per client; none listed is NKDA.
ALLERGIES = [
    [],
    [],
    [],
    [("Penicillin", "drug", "Hives", "moderate")],
    [("Sulfa drugs", "drug", "Rash", "mild")],
    [("Codeine", "drug", "Vomiting", "mild")],
    [("Latex", "environmental", "Contact dermatitis", "mild"), ("Peanuts", "food", "", "severe")],
]
LEVELS = ["3.7-WM", "3.5", "3.5", "3.7", "3.1"]


class Command(BaseCommand):
    help = "Create the demo facility, staff and clients (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        facility = Facility.objects.filter(name=DEMO_FACILITY).first() or facility_create(
            name=DEMO_FACILITY,
            time_zone="America/New_York",
            address="100 Demo Way, Asheville, NC 28801",
        )
        units = []
        for unit_name, prefix in (("North Hall", "1"), ("South Hall", "2")):
            unit, _ = Unit.objects.get_or_create(facility=facility, name=unit_name)
            units.append(unit)
            for room in range(1, 7):
                for side in "AB":
                    Bed.objects.get_or_create(unit=unit, label=f"{prefix}{room:02d}-{side}")
        for position, label in enumerate(ORIENTATION_ITEMS):
            OrientationItem.objects.get_or_create(
                facility=facility, label=label, defaults={"position": position}
            )
        staff = {}
        for username, name, initials, credentials, role in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username,
                    email=f"{username}@demo.haven.invalid",
                    full_name=name,
                    initials=initials,
                    credentials=credentials,
                    role=role,
                )
                user.set_password(DEMO_PASSWORD)
                user.save()
                user.facilities.add(facility)
                user_sync_role_group(user)
            staff[role] = user
        if Admission.objects.filter(facility=facility).exists():
            self.stdout.write("Demo facility already seeded.")
            self._seed_other_apps()
            return
        rng = random.Random(2026)  # the same demo every time
        beds = list(Bed.objects.filter(unit__facility=facility).select_related("unit"))
        rng.shuffle(beds)
        now = timezone.now()
        names = rng.sample([(f, last) for f in FIRST for last in LAST], 18)
        items = list(OrientationItem.objects.filter(facility=facility))
        for i, (first, last) in enumerate(names):
            bed = beds[i]
            admitted_at = now - timedelta(days=rng.randint(0, 27), hours=rng.randint(0, 20))
            allergies = [
                dict(zip(("allergen", "kind", "reaction", "severity"), a, strict=True))
                for a in rng.choice(ALLERGIES)
            ]
            drug = any(a["kind"] == "drug" for a in allergies)
            admission = admission_admit(
                actor=staff[Role.NURSE],
                facility=facility,
                unit=bed.unit,
                bed=bed,
                level_of_care=rng.choice(LEVELS),
                admitted_at=max(admitted_at, now - timedelta(days=6, hours=23)),
                client_fields={
                    "legal_first_name": first,
                    "legal_last_name": last,
                    "preferred_name": rng.choice(["", "", first[:3]]),
                    "date_of_birth": date(1960, 1, 1) + timedelta(days=rng.randint(0, 365 * 40)),
                    "sex": rng.choice(["F", "M", "M", "X"]),
                    "pronouns": rng.choice(["she/her", "he/him", "they/them", ""]),
                    "allergy_status": "listed" if drug else "nkda",
                    "emergency_contact_name": f"{rng.choice(FIRST)} {last}",
                    "emergency_contact_relationship": rng.choice(["Parent", "Sibling", "Partner"]),
                    "emergency_contact_phone": f"555-01{rng.randint(10, 99)}",
                },
                allergies=allergies,
            )
            # Demo history was charted when it happened, not today: no "late entry" marks.
            Admission.objects.filter(pk=admission.pk).update(recorded_at=admission.admitted_at)
            BedMove.objects.filter(admission=admission).update(recorded_at=F("moved_at"))
            done = items if i % 4 else items[: rng.randint(0, len(items) - 1)]
            OrientationTick.objects.bulk_create(
                OrientationTick(
                    admission=admission,
                    item=item,
                    ticked_at=admission.admitted_at + timedelta(hours=2),
                    ticked_by=staff[Role.TECHNICIAN],
                )
                for item in done
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {facility.name}: {len(beds)} beds, "
                f"{Client.objects.filter(facility=facility).count()} clients."
            )
        )
        self._seed_other_apps()

    def _seed_other_apps(self):
        # Domain apps seed their own demo data; called by name so clients imports none of them.
        for name in sorted(get_commands()):
            if name.startswith("seed_demo_"):
                call_command(name, stdout=self.stdout)
