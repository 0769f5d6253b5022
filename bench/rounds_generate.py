#!/usr/bin/env python
"""Generate a year of q15 rounds for bench/rounds_run.py, in database haven_bench_rounds
(DATABASE_URL; its name must contain "bench"). Checks and alerts are INSERT ... SELECT, "random"
by hashtextextended() of stable values, so write_history() can top history up over any period.
See bench/README.md.

    .venv/bin/python bench/rounds_generate.py [--force] [--days 365]
"""

import os
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/haven_bench_rounds")
import _env  # noqa: E402
from _build import Builder, grid, parser, prepare  # noqa: E402

BOARD_FACILITY = "Haven Bench Rounds"
BOARD_TZ = "America/New_York"
BOARD_UNITS = [("North Hall", "N"), ("South Hall", "S"), ("East Wing", "E"), ("West Wing", "W")]
BOARD_BEDS_PER_UNIT = 30
ANNEX = ("Annex", "X", 5)  # name, bed prefix, beds: the small unit for the query-count check
SCAN_FACILITY = "Haven Bench Scan"
SCAN_TZ = "America/Chicago"
SCAN_HISTORY = timedelta(hours=2)
SKIP_PER_MILLE = 20  # ~2% of (client, block) pairs have no check
OPEN_ALERTS_FOR = timedelta(hours=12)  # older missed-check alerts are resolved
TECHNICIAN = "rtech01"  # bench/rounds_run.py signs in as this technician
HASH_SEED = 2026
LEVELS = ["3.5", "3.7", "3.1", "MH-RES"]

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


def pick(param: str, shift: int, kind: str = "bigint") -> str:
    """SQL: an element of the array parameter `param`, chosen by bits of the slot's hash."""
    return f"(%({param})s::{kind}[])[1 + (s.ch >> {shift}) %% cardinality(%({param})s::{kind}[])]"


CHECKS_SQL = f"""
    INSERT INTO {RC} (admission_id, observed_at, recorded_at, recorded_by_id, location_id,
                      status_id, respirations_observed, safety_concern, remark, late_reason,
                      submission_key)
    SELECT s.admission_id, s.observed_at, s.observed_at + s.back * interval '1 minute',
           s.recorded_by,
           CASE WHEN s.night THEN {pick("night_loc", 12)} ELSE {pick("day_loc", 12)} END,
           CASE WHEN s.night THEN {pick("night_st", 12)} ELSE {pick("day_st", 28)} END,
           s.night AND {pick("night_resp", 12, "boolean")},
           false, '',
           CASE WHEN s.back > 1 THEN %(late_reason)s ELSE '' END,
           md5('round/' || s.unit_id || '/' || s.block::text)::uuid
    FROM ({SLOTS_SQL}) s
    WHERE NOT s.skipped
      AND s.observed_at >= %(start)s
      AND s.observed_at + s.back * interval '1 minute' <= %(end)s
    {{on_conflict}}
"""

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


def write_history(facility, *, start: datetime, end: datetime, bulk=False) -> tuple[int, int]:
    """Round checks and missed-check alerts of every open admission of `facility` for the
    rounds observed in [start, end). Deterministic: re-running over a period adds only what is
    missing (ON CONFLICT DO NOTHING), unless bulk=True (initial load, no unique index yet)."""
    from facility.models import User

    staff = User.objects.filter(facilities=facility).order_by("id").values_list("id", flat=True)
    params = {
        "facility": facility.pk, "techs": list(staff.filter(role="technician")),
        # The rounds of a block can be observed up to 14 minutes into it: start one block early.
        "first": floor15(start) - timedelta(minutes=15), "last": floor15(end),
        "start": start, "end": end, "seed": HASH_SEED, "skip": SKIP_PER_MILLE,
        "late_reason": LATE_REASON, "open_after": end - OPEN_ALERTS_FOR,
        "resolver": staff.filter(role="nurse").first(), "resolution": RESOLUTION_NOTE,
        **code_params(facility),
    }  # fmt: skip
    new_only = "WHERE NOT EXISTS (SELECT 1 FROM facility_alert o WHERE o.dedupe_key = s.dedupe_key)"
    conflict = "ON CONFLICT (submission_key, admission_id) DO NOTHING"
    n_checks = _env.sql(CHECKS_SQL.replace("{on_conflict}", "" if bulk else conflict), params)
    return n_checks, _env.sql(ALERTS_SQL.replace("{where_new}", "" if bulk else new_only), params)


@contextmanager
def detached_keys(cursor, table: str):
    """Drop the table's secondary indexes, unique constraints and foreign keys for the block,
    then put them back with their exact definitions (pg_get_indexdef / pg_get_constraintdef). On
    an error the transaction rolls back, the drops with it."""
    cursor.execute(
        """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
           WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC""",
        [table],
    )
    constraints = cursor.fetchall()  # unique first, then foreign keys
    cursor.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
           FROM pg_index i
           WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)""",
        [table],
    )
    indexes = cursor.fetchall()
    for name, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    yield
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for _, definition in indexes:
        cursor.execute(definition)
    for name, definition in constraints:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def on_q15(b: Builder, admissions) -> None:
    """A clinician's q15 order for each stay, from admission."""
    from facility.models import User
    from observations.models import LevelOrder

    clinicians = list(User.objects.filter(role="clinician", facilities=admissions[0].facility))
    reason = "Close observation on admission: recent self-harm ideation."
    LevelOrder.objects.bulk_create(
        (LevelOrder(public_id=b.uid(), admission=a, level="q15", kind="order", reason=reason,
                    effective_from=a.admitted_at, ordered_by=b.rng.choice(clinicians))
         for a in admissions),
        batch_size=2000,
    )  # fmt: skip
    # recorded_at is auto_now_add: without this the orders look entered just now and dated
    # back, and the missed-check scan rightly re-judges a day of every stay (_late_returns).
    _env.sql("UPDATE observations_levelorder SET recorded_at = effective_from "
             "WHERE admission_id = ANY(%s)", [[a.pk for a in admissions]])  # fmt: skip


def main(argv=None) -> int:
    args = parser(__doc__, "days of q15 history (365)").parse_args(argv)

    def complete() -> bool:
        from observations.models import ScanMark

        return ScanMark.objects.filter(name="missed-checks").exists()

    started = prepare(args.force, BOARD_FACILITY, complete, 44)
    if started is None:
        return 0
    from django.db import connection, transaction

    from facility.models import Alert
    from observations.models import RoundCheck, ScanMark
    from observations.services import MISSED_SCAN

    b = Builder(args.seed)
    now, rng = b.now, b.rng
    year_ago = now - timedelta(days=args.days)
    with transaction.atomic():
        units = [(name, prefix, BOARD_BEDS_PER_UNIT) for name, prefix in BOARD_UNITS]
        board, board_beds = b.add_facility(BOARD_FACILITY, BOARD_TZ, grid([*units, ANNEX]))
        people = b.add_staff(board, "r", {"technician": 12, "nurse": 4, "clinician": 2})
        main_beds = [x for x in board_beds if not x.label.startswith(ANNEX[1])]
        annex_beds = [x for x in board_beds if x.label.startswith(ANNEX[1])]
        # Admitted a year (and up to 2 days) ago; the Annex two days ago.
        times = [year_ago - timedelta(minutes=rng.randrange(0, 2 * 24 * 60)) for _ in main_beds]
        stays = b.admit(board, main_beds, people["nurse"], times, letter="R", levels=LEVELS)
        times = [now - timedelta(days=2, minutes=37 * i) for i in range(len(annex_beds))]
        stays += b.admit(board, annex_beds, people["nurse"], times, letter="R", levels=LEVELS)
        on_q15(b, stays)
        scan, _, stays = b.scan_facility(
            SCAN_FACILITY, SCAN_TZ, "s", {"technician": 40, "nurse": 10, "clinician": 4},
            admit_by="nurse", letter="R", levels=LEVELS,
        )  # fmt: skip
        on_q15(b, stays)
        b.lap(f"facilities, staff, {b.n_clients:,} clients + stays")

        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            # Check the deferred foreign keys of the rows so far: ALTER TABLE needs none pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            with detached_keys(cursor, RC):
                n_checks, n_alerts = write_history(
                    board, start=year_ago - timedelta(days=3), end=now, bulk=True
                )
                b.lap(f"year of q15: {n_checks:,} checks, {n_alerts:,} alerts")
            b.lap("rebuild indexes, unique key, foreign keys")
        s_checks, s_alerts = write_history(scan, start=now - SCAN_HISTORY, end=now)
        b.lap(f"scan facility: {s_checks:,} checks, {s_alerts:,} alerts (2 h)")
        ScanMark.objects.update_or_create(
            name=MISSED_SCAN, defaults={"scanned_until": now - timedelta(minutes=1)}
        )
    b.vacuum()
    total = time.perf_counter() - started

    db_size, table_sizes = _env.sizes(RC)
    rc_table, rc_indexes = table_sizes[RC]
    print(
        f"\nRound checks {RoundCheck.objects.count():,}; alerts {Alert.objects.count():,} "
        f"({Alert.objects.open().count():,} open); clients {b.n_clients:,}"
    )
    print(f"Database {_env.database_name()}: {db_size}; {RC}: table {rc_table}, indexes "
          f"{rc_indexes}. Generated in {total:.1f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
