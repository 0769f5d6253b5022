"""The generators' shared data builder: start-up (database, migrations, roles), facilities (opened
through facility.services.facility_create) with units and beds, staff, clients and stays, written
with bulk_create (the services refuse the back-dated admissions a year of history needs), then
VACUUM ANALYZE.

Every generator makes one Builder (seeded rng, "now", timed laps) and calls these in order.
"""

import argparse
import io
import random
import sys
import time
import uuid
from datetime import date, datetime, timedelta

import _env

PASSWORD = "haven-bench-pass-2026"
FIRST = (  # noqa: SIM905 (a list literal of 60 names would be 60 lines)
    "Avery Blake Casey Devon Emerson Finley Gray Harper Indigo Jesse Kai Logan Morgan Noel Oakley "
    "Parker Quinn Reese Rowan Sage Tatum Wren Alex Jamie Taylor Jordan Riley Cameron Drew Skyler "
    "Hayden Peyton Dakota Elliot Frankie Jules Kendall Lane Marlowe Nico Remy Shawn Toby Val "
    "Ari Bo Cody Dana Eden Fran Glen Hollis Ira Jody Kit Lee Mel Pat Robin Sam"
).split()
LAST = (  # noqa: SIM905
    "Ashby Brennan Calloway Dunmore Ellery Fairbanks Galloway Hollis Iverson Jessup Kingsley "
    "Lockhart Merriweather Northcott Oswald Prescott Quimby Radcliffe Stroud Thackeray Underhill "
    "Vance Whitlock Yardley Abbott Barlow Crane Delacroix Easton Fenwick Garrison Holloway Ingram "
    "Jarvis Keller Langford Maddox Nash Ogden Pembroke Rutherford Sinclair Talbot Upton Vaughn "
    "Wainwright Yates Zeller Ainsley Beckett Corbin Darrow Ellison Fitch Gentry Harlow Irving "
    "Jasper Kerr Lowell"
).split()
# A client's allergies: none known (NKDA) mostly, some drugs, a non-drug pair, not yet recorded.
ALLERGIES = [()] * 6 + [("Penicillin",), ("Sulfa drugs",), ("Codeine",), ("Latex", "Peanuts"), None]
NOT_DRUGS = {"Latex": "environmental", "Peanuts": "food"}
# Role: username stem, credentials.
ROLES = {
    "technician": ("tech", "BHT"),
    "nurse": ("nurse", "RN"),
    "clinician": ("clin", "LCSW"),
    "supervisor": ("sup", "RN"),
    "admin": ("admin", ""),
}


def minute(dt: datetime) -> datetime:
    return dt.replace(second=0, microsecond=0)


def grid(units: list[tuple[str, str, int]]) -> list[tuple[str, list[str]]]:
    """(unit name, bed prefix, beds) -> (unit name, bed labels "<prefix>001"…)."""
    return [(name, [f"{prefix}{i:03d}" for i in range(1, n + 1)]) for name, prefix, n in units]


def parser(doc: str, days_help: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--force", action="store_true", help="drop the database and rebuild")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--days", type=int, default=365, help=days_help)
    return p


def prepare(force: bool, facility: str, complete, width: int) -> float | None:
    """Create the bench database if missing (or drop and recreate it), migrate, sync roles. The
    start time, or None when `facility` is already generated (complete() says whether the run
    that made it finished)."""
    _env.configure_env()
    _env.check_bench_database()
    started = time.perf_counter()
    _env.ensure_database(force)
    _env.setup()
    from django.core.management import call_command

    from facility.models import Facility

    call_command("migrate", verbosity=0, interactive=False)
    call_command("sync_roles", stdout=io.StringIO())
    column_defaults()
    print(f"  {'create + migrate + sync_roles':<{width}} {time.perf_counter() - started:7.1f} s")
    if not Facility.objects.filter(name=facility).exists():
        return started
    if not complete():
        sys.exit(f"{facility} exists but the run that made it was cut short: rerun with --force.")
    print(f"Already generated in {_env.database_name()}; nothing to do (--force rebuilds).")
    return None


def column_defaults() -> None:
    """Each NOT NULL column with a constant Django default (a blank text field's is "") gets
    it in the database too: the generators' COPY and INSERT … SELECT name only what they fill."""
    from django.apps import apps
    from django.db import connection

    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in apps.get_models():
            for f in model._meta.local_concrete_fields:
                if f.null or f.has_default() and callable(f.default) or f.get_default() is None:
                    continue
                cursor.execute(f"ALTER TABLE {q(model._meta.db_table)} ALTER COLUMN "
                               f"{q(f.column)} SET DEFAULT %s",
                               [f.get_db_prep_save(f.get_default(), connection)])  # fmt: skip


def insert_rows(table: str, columns: str, rows) -> int:
    """COPY `rows` (tuples in the order of `columns`) into `table`; how many. COPY skips Django's
    Python-side defaults: give every NOT NULL column column_defaults() left without one."""
    from django.db import connection

    n = 0
    sql = f"COPY {table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


class Builder:
    def __init__(self, seed: int, width: int = 44):
        from django.utils import timezone

        self.rng = random.Random(seed)
        self.now = timezone.now()
        self.width = width
        self.hashed = None
        self.mrns: dict[int, int] = {}
        self.n_clients = 0
        self._t = time.perf_counter()

    def lap(self, label: str) -> None:
        t = time.perf_counter()
        print(f"  {label:<{self.width}} {t - self._t:7.1f} s", flush=True)
        self._t = t

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def vacuum(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        self.lap("vacuum analyze")

    def add_facility(self, name, tz, units, *, address="1 Benchmark Road", catalog=()):
        """A facility opened as the app opens one (`facility_create`: round codes, security
        areas), with `units` [(unit name, [bed labels])] and a medication `catalog` [(name,
        strength, form, routes, schedule, time-critical)] (as facility.catalog, by name).
        Returns the facility and its beds."""
        from facility.models import Bed, Unit
        from facility.services import facility_create
        from medications.models import Medication

        facility = facility_create(name=name, time_zone=tz, address=address)
        facility.public_id = self.uid()  # seeded, like every other row here
        facility.save(update_fields=["public_id"])
        unit_objs = Unit.objects.bulk_create(
            Unit(public_id=self.uid(), facility=facility, name=n) for n, _ in units
        )
        beds = Bed.objects.bulk_create(
            (Bed(public_id=self.uid(), unit=u, label=label)
             for u, (_, labels) in zip(unit_objs, units, strict=True) for label in labels),
            batch_size=2000,
        )  # fmt: skip
        meds = Medication.objects.bulk_create(
            Medication(facility=facility, name=n, strength=s, form=f, routes=r,
                       controlled_schedule=c, time_critical=tc)
            for n, s, f, r, c, tc in catalog
        )  # fmt: skip
        facility.catalog = {m.name: m for m in meds}
        return facility, beds

    def add_staff(
        self, facility, prefix: str, roles: dict[str, int], *, totp=()
    ) -> dict[str, list]:
        """`prefix` + stem + number usernames (rtech01…), password PASSWORD, role groups synced;
        roles in `totp` get an authenticator app."""
        from django.contrib.auth.hashers import make_password

        from facility.models import User
        from facility.services import user_sync_role_group

        self.hashed = self.hashed or make_password(PASSWORD)  # PBKDF2 is slow on purpose
        names = self.rng.sample([(f, last) for f in FIRST for last in LAST], sum(roles.values()))
        people: dict[str, list] = {}
        for role, count in roles.items():
            stem, credentials = ROLES[role]
            for n in range(1, count + 1):
                first, last = names.pop()
                username = f"{prefix}{stem}{n:02d}"
                user = User(public_id=self.uid(), username=username,
                            email=f"{username}@bench.haven.invalid", full_name=f"{first} {last}",
                            initials=f"{first[0]}{last[0]}", credentials=credentials, role=role,
                            password=self.hashed)  # fmt: skip
                user.save()
                user.facilities.add(facility)
                user_sync_role_group(user)
                if role in totp:
                    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

                    TOTP.activate(user, generate_totp_secret())
                people.setdefault(role, []).append(user)
        return people

    def person(self) -> dict:
        """A client's demographics."""
        rng = self.rng
        first, last = rng.choice(FIRST), rng.choice(LAST)
        return {
            "legal_first_name": first,
            "legal_last_name": last,
            "preferred_name": rng.choice(["", "", "", "", first[:3]]),
            "date_of_birth": date(1958, 1, 1) + timedelta(days=rng.randint(0, 365 * 47)),
            "sex": rng.choice(["F", "F", "M", "M", "M", "X", "U"]),
            "pronouns": rng.choice(["she/her", "he/him", "they/them", "", ""]),
            "allergies": rng.choice(ALLERGIES),  # Allergy rows, made by add_clients()
            "emergency_contact_name": f"{rng.choice(FIRST)} {last}",
            "emergency_contact_relationship": rng.choice(
                ["Parent", "Sibling", "Partner", "Friend"]
            ),
            "emergency_contact_phone": f"828-555-{rng.randint(0, 9999):04d}",
        }

    def add_clients(self, facility, people: list[dict], letter: str) -> list:
        """Client rows for `people`, MRNs <letter><facility>-<number> in order, and their
        allergies (recorded by the facility's first nurse)."""
        from clients.models import Allergy, Client, MrnSequence
        from facility.models import User

        issued = self.mrns.get(facility.pk, 0)
        allergies = [p.pop("allergies") for p in people]
        status = ["not_recorded" if a is None else "listed" if set(a) - set(NOT_DRUGS) else "nkda"
                  for a in allergies]  # fmt: skip
        clients = Client.objects.bulk_create(
            (Client(public_id=self.uid(), facility=facility, allergy_status=status[i - 1],
                    mrn=f"{letter}{facility.pk:02d}-{issued + i:06d}", **p)
             for i, p in enumerate(people, start=1)),
            batch_size=2000,
        )  # fmt: skip
        nurse = User.objects.filter(facilities=facility, role="nurse").order_by("id").first()
        Allergy.objects.bulk_create(
            (Allergy(public_id=self.uid(), client=c, allergen=name, recorded_by=nurse,
                     kind=NOT_DRUGS.get(name, "drug"), recorded_at=self.now)
             for c, names in zip(clients, allergies, strict=True) for name in names or ()),
            batch_size=2000,
        )  # fmt: skip
        self.mrns[facility.pk] = issued + len(clients)
        MrnSequence.objects.update_or_create(
            facility=facility, defaults={"last_number": self.mrns[facility.pk]}
        )
        self.n_clients += len(clients)
        return clients

    def admit(self, facility, beds, by, times, *, letter: str, levels) -> list:
        """A new client in every bed, admitted at times[i] by one of `by`, with the admitting
        bed move."""
        from clients.models import Admission, BedMove

        rng = self.rng
        clients = self.add_clients(facility, [self.person() for _ in beds], letter)
        admissions = Admission.objects.bulk_create(
            (Admission(public_id=self.uid(), client=client, facility=facility, unit_id=bed.unit_id,
                       bed=bed, level_of_care=rng.choice(levels), admitted_at=minute(at),
                       recorded_at=minute(at), admitted_by=rng.choice(by))
             for client, bed, at in zip(clients, beds, times, strict=True)),
            batch_size=2000,
        )  # fmt: skip
        BedMove.objects.bulk_create(
            (BedMove(admission=a, to_bed=a.bed, moved_at=a.admitted_at, recorded_at=a.admitted_at,
                     moved_by=a.admitted_by) for a in admissions),
            batch_size=2000,
        )  # fmt: skip
        return admissions

    def scan_facility(self, name, tz, prefix, roles, *, admit_by, letter, levels, catalog=()):
        """The minute scans' facility: 50 units of 100 beds, all full, clients admitted 3–45 days
        ago. Returns the facility, its staff and the admissions."""
        units = grid([(f"Unit {n:02d}", f"U{n:02d}-", 100) for n in range(1, 51)])
        facility, beds = self.add_facility(name, tz, units, catalog=catalog)
        people = self.add_staff(facility, prefix, roles)
        times = [self.now - timedelta(minutes=self.rng.randrange(4320, 64800)) for _ in beds]
        admissions = self.admit(facility, beds, people[admit_by], times, letter=letter,
                                levels=levels)  # fmt: skip
        return facility, people, admissions
