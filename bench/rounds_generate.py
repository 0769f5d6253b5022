#!/usr/bin/env python
"""Generate a year of q15 rounds for the rounds benchmarks, in a database of its own.

Two facilities in database haven_bench_rounds:

- "Haven Bench Rounds" (America/New_York): 4 units x 30 beds, all full (120 clients admitted a
  year ago, on q15 by a clinician's order), and a YEAR of q15 history: one round per unit per
  15-minute block (one submission key, one observed time, one technician per round), each client
  skipped in ~2% of blocks; a missed-check alert for every skipped block (resolved, except those
  of the last 12 hours). About 4.2 million round checks. Plus a small "Annex" unit (5 beds, 5
  clients admitted two days ago) so bench/rounds_run.py can show that the board's query count
  does not grow with clients or history.
- "Haven Bench Scan" (America/Chicago): 5,000 beds in 50 units of 100, all full, on q15, with
  the last 2 hours of rounds (and open alerts for the blocks skipped in them): what the minute
  scan looks at. The scan's mark ("missed-checks") is set to one minute ago.

Facility, units, beds, staff, clients, admissions, admitting bed moves and level orders are
written with bulk_create (the services refuse admissions back-dated over 7 days); round checks
and alerts are written by INSERT ... SELECT over generate_series in PostgreSQL. For the year of
checks, the table's secondary indexes, unique constraint and foreign keys are dropped first and
recreated afterwards, in the same transaction, with their exact definitions: PostgreSQL builds
the indexes by sorting and validates every foreign key and the unique key when they are added
back, so the data is checked by the database itself. Then VACUUM ANALYZE.

"Random" choices in SQL come from hashtextextended() of stable values, so a rebuild gives the
same rows (relative to the time it runs), and write_history() can be re-run over any period
with ON CONFLICT DO NOTHING: bench/rounds_run.py uses it to top history up to "now" before
timing.

    .venv/bin/python bench/rounds_generate.py            # create, migrate, fill (once)
    .venv/bin/python bench/rounds_generate.py --force    # drop the database and build it again

DATABASE_URL (default postgres://postgres@127.0.0.1:5432/haven_bench_rounds) picks the database;
its name must contain "bench".
"""

import argparse
import io
import os
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/haven_bench_rounds")
import _env  # noqa: E402

BOARD_FACILITY = "Haven Bench Rounds"
BOARD_TZ = "America/New_York"
BOARD_UNITS = [("North Hall", "N"), ("South Hall", "S"), ("East Wing", "E"), ("West Wing", "W")]
BOARD_BEDS_PER_UNIT = 30
ANNEX = ("Annex", "X", 5)  # name, bed prefix, beds: the small unit for the query-count check
SCAN_FACILITY = "Haven Bench Scan"
SCAN_TZ = "America/Chicago"
SCAN_UNITS = 50
SCAN_BEDS_PER_UNIT = 100
SCAN_HISTORY = timedelta(hours=2)
SKIP_PER_MILLE = 20  # ~2% of (client, block) pairs have no check
OPEN_ALERTS_FOR = timedelta(hours=12)  # older missed-check alerts are resolved
TECHNICIAN = "rtech01"  # bench/rounds_run.py signs in as this technician
PASSWORD = "haven-bench-pass-2026"
HASH_SEED = 2026

FIRST = (  # noqa: SIM905
    "Avery Blake Casey Devon Emerson Finley Gray Harper Indigo Jesse Kai Logan Morgan Noel Oakley "
    "Parker Quinn Reese Rowan Sage Tatum Wren Alex Jamie Taylor Jordan Riley Cameron Drew Skyler"
).split()
LAST = (  # noqa: SIM905
    "Ashby Brennan Calloway Dunmore Ellery Fairbanks Galloway Hollis Iverson Jessup Kingsley "
    "Lockhart Merriweather Northcott Oswald Prescott Quimby Radcliffe Stroud Thackeray Underhill"
).split()
# Codes by weight (repeats): at night most clients sleep in their rooms.
NIGHT = [("RM", "S", True)] * 16 + [("RM", "RB", False)] * 3 + [("BR", "TOIL", False)]
DAY_LOCATIONS = (
    ["RM"] * 6 + ["DAY"] * 5 + ["DR"] * 3 + ["GRP"] * 4 + ["HALL"] * 2 + ["NS", "GYM", "OUT", "PH"]
    + ["BR", "MED"]
)  # fmt: skip
DAY_STATUSES = (
    ["A"] * 8 + ["T"] * 4 + ["G"] * 4 + ["E"] * 2 + ["R"] * 3 + ["W"] * 2 + ["RB"] * 2
    + ["AN", "IS", "P"]
)  # fmt: skip
LATE_REASON = "Charted after helping with a de-escalation on the unit."
RESOLUTION_NOTE = "Checked on client; observed and documented. Round was late."
RC = "observations_roundcheck"


def floor15(moment: datetime) -> datetime:
    """Start of the 15-minute block holding `moment` (whole-hour zones: same in UTC as local)."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


# --- the database -----------------------------------------------------------------------------


# --- history in SQL ---------------------------------------------------------------------------

# One round per unit per block; every client of the unit admitted before the block is in it,
# unless skipped. Hash bits: round hash r.h -> observed offset, minutes back, technician;
# client hash c.h -> skip, location, status.
ROUNDS_SQL = """
    SELECT u.id AS unit_id, b.block, h.h,
           b.block + ((h.h %% 841) * interval '1 second') AS observed_at,
           CASE WHEN (h.h >> 12) %% 100 < 85 THEN 0 ELSE 1 + (h.h >> 20) %% 5 END AS back,
           extract(hour FROM b.block AT TIME ZONE f.time_zone) NOT BETWEEN 6 AND 22 AS night,
           (%(techs)s::bigint[])[
               1 + ((u.id * 7 + floor(extract(epoch FROM b.block) / 28800)::bigint)
                    %% cardinality(%(techs)s::bigint[]))
           ] AS recorded_by
    FROM facility_unit u
    JOIN facility_facility f ON f.id = u.facility_id
    CROSS JOIN generate_series(%(first)s::timestamptz, %(last)s::timestamptz,
                               interval '15 minutes') AS b(block)
    CROSS JOIN LATERAL (
        SELECT hashtextextended(u.id::text || '/' || extract(epoch FROM b.block)::bigint::text,
                                %(seed)s) & 9223372036854775807 AS h
    ) h
    WHERE u.facility_id = %(facility)s
"""

SLOTS_SQL = f"""
    SELECT r.*, a.id AS admission_id, a.public_id AS admission_public_id, a.client_id,
           c.h AS ch, (c.h %% 1000) < %(skip)s AS skipped
    FROM ({ROUNDS_SQL}) r
    JOIN clients_admission a
      ON a.unit_id = r.unit_id AND a.discharged_at IS NULL AND a.admitted_at <= r.block
    CROSS JOIN LATERAL (
        SELECT hashtextextended(a.id::text || '/' || extract(epoch FROM r.block)::bigint::text,
                                %(seed)s + 1) & 9223372036854775807 AS h
    ) c
"""

CHECKS_SQL = f"""
    INSERT INTO {RC} (admission_id, observed_at, recorded_at, recorded_by_id, location_id,
                      status_id, respirations_observed, safety_concern, remark, late_reason,
                      submission_key)
    SELECT s.admission_id, s.observed_at, s.observed_at + s.back * interval '1 minute',
           s.recorded_by,
           CASE WHEN s.night
                THEN (%(night_loc)s::bigint[])[1 + (s.ch >> 12) %% cardinality(%(night_loc)s::bigint[])]
                ELSE (%(day_loc)s::bigint[])[1 + (s.ch >> 12) %% cardinality(%(day_loc)s::bigint[])]
           END,
           CASE WHEN s.night
                THEN (%(night_st)s::bigint[])[1 + (s.ch >> 12) %% cardinality(%(night_st)s::bigint[])]
                ELSE (%(day_st)s::bigint[])[1 + (s.ch >> 28) %% cardinality(%(day_st)s::bigint[])]
           END,
           s.night AND (%(night_resp)s::boolean[])[
               1 + (s.ch >> 12) %% cardinality(%(night_resp)s::boolean[])],
           false, '',
           CASE WHEN s.back > 1 THEN %(late_reason)s ELSE '' END,
           md5('round/' || s.unit_id || '/' || s.block::text)::uuid
    FROM ({SLOTS_SQL}) s
    WHERE NOT s.skipped
      AND s.observed_at >= %(start)s
      AND s.observed_at + s.back * interval '1 minute' <= %(end)s
    {{on_conflict}}
"""  # noqa: E501

ALERTS_SQL = f"""
    INSERT INTO facility_alert (public_id, facility_id, client_public_id, client_label, kind,
                                severity, message, dedupe_key, raised_at, resolved_at,
                                resolved_by_id, resolution_note)
    SELECT md5('alert/' || s.dedupe_key)::uuid, %(facility)s, cl.public_id, cl.mrn,
           'missed_check', 'warning',
           'Missed check: ' || coalesce(nullif(cl.preferred_name, ''), cl.legal_first_name) || ' '
               || cl.legal_last_name || ', '
               || to_char(s.block AT TIME ZONE f.time_zone, 'HH24:MI') || ' block (q15).',
           s.dedupe_key, s.raised_at,
           CASE WHEN s.raised_at < %(open_after)s
                THEN s.raised_at + ((10 + (s.ch >> 40) %% 50) * interval '1 minute') END,
           CASE WHEN s.raised_at < %(open_after)s THEN %(resolver)s::bigint END,
           CASE WHEN s.raised_at < %(open_after)s THEN %(resolution)s ELSE '' END
    FROM (
        SELECT x.*,
               'missed:' || x.admission_public_id::text || ':'
                   || to_char(x.block AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '+00:00'
                   AS dedupe_key,
               x.block + interval '15 minutes 30 seconds' AS raised_at
        FROM ({SLOTS_SQL}) x
        WHERE x.skipped AND x.block >= %(start)s
          AND x.block + interval '15 minutes' <= %(end)s
    ) s
    JOIN clients_client cl ON cl.id = s.client_id
    JOIN facility_facility f ON f.id = %(facility)s
    {{where_new}}
"""


def code_params(facility) -> dict:
    from observations.models import RoundCode

    ids = {(c.kind, c.code): c.pk for c in RoundCode.objects.filter(facility=facility, active=True)}
    return {
        "night_loc": [ids[("location", loc)] for loc, _, _ in NIGHT],
        "night_st": [ids[("status", st)] for _, st, _ in NIGHT],
        "night_resp": [resp for _, _, resp in NIGHT],
        "day_loc": [ids[("location", c)] for c in DAY_LOCATIONS],
        "day_st": [ids[("status", c)] for c in DAY_STATUSES],
    }


def write_history(
    facility, *, start: datetime, end: datetime, bulk: bool = False, alerts: bool = True
) -> tuple[int, int]:
    """Round checks (and missed-check alerts) of every open admission of `facility` for the
    rounds observed in [start, end). Deterministic: re-running over a period adds only what is
    missing (ON CONFLICT DO NOTHING), unless bulk=True (initial load, no unique index yet)."""
    from django.db import connection

    from facility.models import User

    techs = list(
        User.objects.filter(facilities=facility, role="technician")
        .order_by("id")
        .values_list("id", flat=True)
    )
    resolver = (
        User.objects.filter(facilities=facility, role="nurse")
        .order_by("id")
        .values_list("id", flat=True)
    ).first()
    params = {
        "facility": facility.pk,
        "techs": techs,
        # The rounds of a block can be observed up to 14 minutes into it: start one block early.
        "first": floor15(start) - timedelta(minutes=15),
        "last": floor15(end),
        "start": start,
        "end": end,
        "seed": HASH_SEED,
        "skip": SKIP_PER_MILLE,
        "late_reason": LATE_REASON,
        "open_after": end - OPEN_ALERTS_FOR,
        "resolver": resolver,
        "resolution": RESOLUTION_NOTE,
        **code_params(facility),
    }
    checks_sql = CHECKS_SQL.replace(
        "{on_conflict}",
        "" if bulk else "ON CONFLICT (submission_key, admission_id) DO NOTHING",
    )
    alerts_sql = ALERTS_SQL.replace(
        "{where_new}",
        ""
        if bulk
        else "WHERE NOT EXISTS (SELECT 1 FROM facility_alert o WHERE o.dedupe_key = s.dedupe_key)",
    )
    with connection.cursor() as cursor:
        cursor.execute(checks_sql, params)
        n_checks = cursor.rowcount
        n_alerts = 0
        if alerts:
            cursor.execute(alerts_sql, params)
            n_alerts = cursor.rowcount
    return n_checks, n_alerts


class DetachedKeys:
    """Drop the round-check table's secondary indexes, unique constraints and foreign keys, and
    put them back with their exact definitions (pg_get_indexdef / pg_get_constraintdef)."""

    def __init__(self, cursor, table: str):
        self.cursor, self.table = cursor, table

    def __enter__(self):
        c = self.cursor
        c.execute(
            """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
               WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC""",
            [self.table],
        )
        self.constraints = c.fetchall()  # unique first, then foreign keys
        c.execute(
            """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
               FROM pg_index i
               WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)""",
            [self.table],
        )
        self.indexes = c.fetchall()
        for name, _ in self.constraints:
            c.execute(f'ALTER TABLE {self.table} DROP CONSTRAINT "{name}"')
        for name, _ in self.indexes:
            c.execute(f"DROP INDEX {name}")
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            return False  # the transaction rolls back: the drops with it
        c = self.cursor
        c.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for name, definition in self.indexes:
            t = time.perf_counter()
            c.execute(definition)
            print(f"    index {name:<52} {time.perf_counter() - t:6.1f} s", flush=True)
        for name, definition in self.constraints:
            t = time.perf_counter()
            c.execute(f'ALTER TABLE {self.table} ADD CONSTRAINT "{name}" {definition}')
            print(f"    constraint {name:<47} {time.perf_counter() - t:6.1f} s", flush=True)
        return False


# --- facilities, people, stays ----------------------------------------------------------------


class Generator:
    def __init__(self, *, seed: int, days: int):
        from django.utils import timezone

        self.rng = random.Random(seed)
        self.days = days
        self.now = timezone.now()
        self._t = time.perf_counter()
        self.hashed = None
        self.n_clients = 0
        self.mrns: dict[int, int] = {}

    def lap(self, label: str) -> None:
        t = time.perf_counter()
        print(f"  {label:<44} {t - self._t:7.1f} s", flush=True)
        self._t = t

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def facility(self, name, tz, units: list[tuple[str, str, int]]):
        from facility.models import Bed, Facility, Unit
        from observations.services import codes_seed_defaults

        facility = Facility.objects.create(
            public_id=self.uid(), name=name, time_zone=tz, address="1 Benchmark Road"
        )
        unit_objs = Unit.objects.bulk_create(
            Unit(public_id=self.uid(), facility=facility, name=n) for n, _, _ in units
        )
        beds = [
            Bed(public_id=self.uid(), unit=u, label=f"{prefix}{i:03d}")
            for u, (_, prefix, count) in zip(unit_objs, units, strict=True)
            for i in range(1, count + 1)
        ]
        Bed.objects.bulk_create(beds, batch_size=2000)
        codes_seed_defaults(facility)
        return facility, beds

    def staff(self, facility, prefix: str, roles: dict[str, int]) -> dict[str, list]:
        from django.contrib.auth.hashers import make_password

        from facility.models import User
        from facility.services import user_sync_role_group

        self.hashed = self.hashed or make_password(PASSWORD)
        people: dict[str, list] = {}
        for role, count in roles.items():
            short = {"technician": "tech", "nurse": "nurse", "clinician": "clin"}[role]
            for n in range(1, count + 1):
                first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
                user = User(
                    public_id=self.uid(),
                    username=f"{prefix}{short}{n:02d}",
                    email=f"{prefix}{short}{n:02d}@bench.haven.invalid",
                    full_name=f"{first} {last}",
                    initials=f"{first[0]}{last[0]}",
                    credentials={"technician": "BHT", "nurse": "RN", "clinician": "LCSW"}[role],
                    role=role,
                    password=self.hashed,
                )
                user.save()
                user.facilities.add(facility)
                user_sync_role_group(user)
                people.setdefault(role, []).append(user)
        return people

    def admit_all(self, facility, beds, people, admitted_at) -> list:
        """A client in every bed, admitted at admitted_at(i), on q15 by a clinician's order."""
        from clients.models import Admission, BedMove, Client, MrnSequence
        from observations.models import LevelOrder

        rng = self.rng
        issued = self.mrns.get(facility.pk, 0)
        clients = []
        for i, _ in enumerate(beds, start=issued + 1):
            clients.append(
                Client(
                    public_id=self.uid(),
                    facility=facility,
                    mrn=f"R{facility.pk:02d}-{i:06d}",
                    legal_first_name=rng.choice(FIRST),
                    legal_last_name=rng.choice(LAST),
                    preferred_name=rng.choice(FIRST) if rng.random() < 0.15 else "",
                    date_of_birth=date(1960, 1, 1) + timedelta(days=rng.randrange(0, 16000)),
                    sex=rng.choice("FMXU"),
                    allergies=rng.choice(["NKDA", "NKDA", "NKDA", "Penicillin", "Sulfa drugs"]),
                )
            )
        Client.objects.bulk_create(clients, batch_size=2000)
        self.mrns[facility.pk] = issued + len(clients)
        MrnSequence.objects.update_or_create(
            facility=facility, defaults={"last_number": self.mrns[facility.pk]}
        )
        nurses, clinicians = people["nurse"], people["clinician"]
        admissions = [
            Admission(
                public_id=self.uid(),
                client=client,
                facility=facility,
                unit_id=bed.unit_id,
                bed=bed,
                level_of_care=rng.choice(["3.5", "3.7", "3.1", "MH-RES"]),
                admitted_at=admitted_at(i),
                admitted_by=rng.choice(nurses),
            )
            for i, (client, bed) in enumerate(zip(clients, beds, strict=True))
        ]
        Admission.objects.bulk_create(admissions, batch_size=2000)
        BedMove.objects.bulk_create(
            (
                BedMove(admission=a, to_bed=a.bed, moved_at=a.admitted_at, moved_by=a.admitted_by)
                for a in admissions
            ),
            batch_size=2000,
        )
        LevelOrder.objects.bulk_create(
            (
                LevelOrder(
                    public_id=self.uid(),
                    admission=a,
                    level="q15",
                    kind="order",
                    reason="Close observation on admission: recent self-harm ideation.",
                    effective_from=a.admitted_at,
                    ordered_by=rng.choice(clinicians),
                )
                for a in admissions
            ),
            batch_size=2000,
        )
        self.n_clients += len(clients)
        return admissions


def already_generated() -> bool:
    from facility.models import Facility
    from observations.models import ScanMark

    if not Facility.objects.filter(name=BOARD_FACILITY).exists():
        return False
    if not ScanMark.objects.filter(name="missed-checks").exists():
        sys.exit(
            f"{BOARD_FACILITY} exists but the run that made it was cut short: rerun with --force."
        )
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="drop the database and rebuild")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--days", type=int, default=365, help="days of q15 history (365)")
    args = parser.parse_args(argv)

    _env.configure_env()
    _env.check_bench_database()
    started = time.perf_counter()
    _env.ensure_database(args.force)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from observations.models import ScanMark
    from observations.services import MISSED_SCAN

    call_command("migrate", verbosity=0, interactive=False)
    call_command("sync_roles", stdout=io.StringIO())
    print(f"  {'create + migrate + sync_roles':<44} {time.perf_counter() - started:7.1f} s")
    if already_generated():
        print(f"Already generated in {_env.database_name()}; nothing to do (--force rebuilds).")
        return 0

    gen = Generator(seed=args.seed, days=args.days)
    now = gen.now
    year_ago = now - timedelta(days=args.days)
    with transaction.atomic():
        units = [(name, prefix, BOARD_BEDS_PER_UNIT) for name, prefix in BOARD_UNITS]
        board, board_beds = gen.facility(BOARD_FACILITY, BOARD_TZ, [*units, ANNEX])
        board_people = gen.staff(board, "r", {"technician": 12, "nurse": 4, "clinician": 2})
        rng = gen.rng
        main_beds = [b for b in board_beds if not b.label.startswith(ANNEX[1])]
        annex_beds = [b for b in board_beds if b.label.startswith(ANNEX[1])]
        # Admitted a year (and up to 2 days) ago, at whole minutes.
        offsets = [rng.randrange(0, 2 * 24 * 60) for _ in main_beds]
        gen.admit_all(
            board,
            main_beds,
            board_people,
            lambda i: (year_ago - timedelta(minutes=offsets[i])).replace(second=0, microsecond=0),
        )
        gen.admit_all(
            board,
            annex_beds,
            board_people,
            lambda i: (now - timedelta(days=2, minutes=37 * i)).replace(second=0, microsecond=0),
        )
        scan_units = [(f"Unit {n:02d}", f"U{n:02d}-", SCAN_BEDS_PER_UNIT) for n in range(1, 51)]
        scan, scan_beds = gen.facility(SCAN_FACILITY, SCAN_TZ, scan_units)
        scan_people = gen.staff(scan, "s", {"technician": 40, "nurse": 10, "clinician": 4})
        scan_offsets = [rng.randrange(3 * 24 * 60, 45 * 24 * 60) for _ in scan_beds]
        gen.admit_all(
            scan,
            scan_beds,
            scan_people,
            lambda i: (now - timedelta(minutes=scan_offsets[i])).replace(second=0, microsecond=0),
        )
        gen.lap(f"facilities, staff, {gen.n_clients:,} clients + stays")

        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            # Check the deferred foreign keys of the rows so far: ALTER TABLE needs none pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            with DetachedKeys(cursor, RC):
                n_checks, n_alerts = write_history(
                    board, start=year_ago - timedelta(days=3), end=now, bulk=True
                )
                gen.lap(f"year of q15: {n_checks:,} checks, {n_alerts:,} alerts")
            gen.lap("rebuild indexes, unique key, foreign keys")
        s_checks, s_alerts = write_history(scan, start=now - SCAN_HISTORY, end=now)
        gen.lap(f"scan facility: {s_checks:,} checks, {s_alerts:,} alerts (2 h)")
        ScanMark.objects.update_or_create(
            name=MISSED_SCAN, defaults={"scanned_until": now - timedelta(minutes=1)}
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    gen.lap("vacuum analyze")
    total = time.perf_counter() - started

    from facility.models import Alert
    from observations.models import RoundCheck

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        db_size = cursor.fetchone()[0]
        cursor.execute(
            "SELECT pg_size_pretty(pg_table_size(%s)), pg_size_pretty(pg_indexes_size(%s))",
            [RC, RC],
        )
        rc_table, rc_indexes = cursor.fetchone()
        cursor.execute(
            """SELECT c.relname, pg_size_pretty(pg_relation_size(c.oid))
               FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE i.indrelid = %s::regclass ORDER BY pg_relation_size(c.oid) DESC""",
            [RC],
        )
        index_sizes = cursor.fetchall()
    print()
    print(f"Round checks   {RoundCheck.objects.count():>12,}")
    print(f"Alerts         {Alert.objects.count():>12,}  ({Alert.objects.open().count():,} open)")
    print(f"Clients        {gen.n_clients:>12,}")
    print(f"Database {_env.database_name()}: {db_size}; {RC}: table {rc_table}, indexes "
          f"{rc_indexes}")  # fmt: skip
    for name, size in index_sizes:
        print(f"    {name:<56} {size:>10}")
    print(f"Generated in {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
