#!/usr/bin/env python
"""Generate a year of MAR history for the medication benchmarks, in a database of its own.

Two facilities in database haven_bench_mar:

- "Haven Bench MAR" (America/New_York): unit "Main" of 60 beds, all full, clients admitted a
  year ago, each with 8 verified scheduled orders (daily ×2, BID ×2, TID ×2, QID, q6h: 2.5 doses
  a day on average; buprenorphine and chlordiazepoxide are time-critical) and 2 PRN orders, and a
  YEAR of history: every ScheduledDose row since the orders were verified (~440,000), nearly all
  documented (given on time; ~1.5% refused, ~0.3% held, ~0.5% given late with a reason, ~0.2%
  undocumented = missed, marked and alerted, the alert resolved; ~0.2% of entries struck as
  entered in error and charted again), PRN administrations with their follow-ups. Plus a small
  unit "Annex" (10 beds, clients admitted 14 days ago, same regimen) so bench/mar_run.py can show
  that the MAR's query count does not grow with clients.
- "Haven Bench MAR Scan" (America/Chicago): 5,000 beds in 50 units of 100, all full, each client
  with 2 scheduled orders (2.5 doses a day) verified 49 hours ago, doses for the last 49 hours
  and the next 48 (the app's horizon); 1.5% of due doses undocumented (late or missed work for
  the scan), 20% of clients with a PRN order, 10% of PRN doses without a follow-up, and
  controlled stocks (3 house, 12 client) with two-person counts at every shift change but one
  stock left uncounted at every 15:00 change.

Facilities, staff, clients, stays and orders are written with bulk_create (the services refuse
back-dated admissions and verify orders "now"). The first dose of every order is made by the
app's own services.doses_materialize() (so whatever the app does with a first dose, it does);
the rest are computed with the app's dose_times_between() and order_window() (so
doses_extend_horizon() finds them and adds nothing twice) and loaded with COPY;
Order.materialized_until, where the app has it, is set to the horizon. Documentation, PRN
doses, follow-ups and historical alerts are written by INSERT … SELECT in PostgreSQL; "random"
choices there come from hashtextextended() of stable values, so top_up() can re-run the same
rules over any period and add only what is missing: bench/mar_run.py uses it to bring charting
up to "now" before timing.
Every database constraint holds (transcriber ≠ verifier, one live administration per dose,
given_at ≤ recorded_at, reasons where required, two count signers, …). Then VACUUM ANALYZE.

    .venv/bin/python bench/mar_generate.py            # create, migrate, fill (once)
    .venv/bin/python bench/mar_generate.py --force    # drop the database and build it again

DATABASE_URL (default postgres://postgres@127.0.0.1:5432/haven_bench_mar) picks the database;
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
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/haven_bench_mar")
import _env  # noqa: E402

BOARD_FACILITY = "Haven Bench MAR"
BOARD_TZ = "America/New_York"
MAIN = ("Main", "M", 60)  # unit name, bed prefix, beds
ANNEX = ("Annex", "X", 10)
ANNEX_DAYS = 14
SCAN_FACILITY = "Haven Bench MAR Scan"
SCAN_TZ = "America/Chicago"
SCAN_UNITS = 50
SCAN_BEDS_PER_UNIT = 100
SCAN_HISTORY = timedelta(hours=49)  # B's orders were verified this long ago
SCAN_PRN_SHARE = 0.2
NURSE = "mnurse01"  # bench/mar_run.py signs in as this nurse of the board facility
PASSWORD = "haven-bench-pass-2026"
HASH_SEED = 2026

# Per facility: undocumented doses per mille, PRN doses per mille of slots, follow-ups forgotten
# per mille. The board facility is a well-run unit; the scan facility leaves the scan work.
RATES = {
    BOARD_FACILITY: {"skip": 2, "prn_rate": 200, "forget": 5},
    SCAN_FACILITY: {"skip": 15, "prn_rate": 300, "forget": 100},
}

FIRST = (  # noqa: SIM905
    "Avery Blake Casey Devon Emerson Finley Gray Harper Indigo Jesse Kai Logan Morgan Noel Oakley "
    "Parker Quinn Reese Rowan Sage Tatum Wren Alex Jamie Taylor Jordan Riley Cameron Drew Skyler"
).split()
LAST = (  # noqa: SIM905
    "Ashby Brennan Calloway Dunmore Ellery Fairbanks Galloway Hollis Iverson Jessup Kingsley "
    "Lockhart Merriweather Northcott Oswald Prescott Quimby Radcliffe Stroud Thackeray Underhill"
).split()

# name, strength, form, routes, controlled schedule, time-critical
CATALOG = [
    ("Buprenorphine/naloxone", "8 mg/2 mg", "film", "sublingual", "III", True),
    ("Chlordiazepoxide", "25 mg", "capsule", "oral", "IV", True),
    ("Lorazepam", "1 mg", "tablet", "oral,im", "IV", False),
    ("Thiamine", "100 mg", "tablet", "oral,im", "", False),
    ("Folic acid", "1 mg", "tablet", "oral", "", False),
    ("Multivitamin", "1 tablet", "tablet", "oral", "", False),
    ("Sertraline", "50 mg", "tablet", "oral", "", False),
    ("Naltrexone", "50 mg", "tablet", "oral", "", False),
    ("Lisinopril", "10 mg", "tablet", "oral", "", False),
    ("Nicotine", "21 mg/24 h", "patch", "transdermal", "", False),
    ("Clonidine", "0.1 mg", "tablet", "oral", "", False),
    ("Metformin", "500 mg", "tablet", "oral", "", False),
    ("Quetiapine", "50 mg", "tablet", "oral", "", False),
    ("Propranolol", "10 mg", "tablet", "oral", "", False),
    ("Gabapentin", "300 mg", "capsule", "oral", "", False),
    ("Acamprosate", "333 mg", "delayed-release tablet", "oral", "", False),
    ("Baclofen", "10 mg", "tablet", "oral", "", False),
    ("Hydroxyzine", "25 mg", "tablet", "oral", "", False),
    ("Dicyclomine", "20 mg", "tablet", "oral", "", False),
    ("Methocarbamol", "500 mg", "tablet", "oral", "", False),
    ("Acetaminophen", "325 mg", "tablet", "oral", "", False),
    ("Ibuprofen", "400 mg", "tablet", "oral", "", False),
    ("Ondansetron", "4 mg", "orally disintegrating tablet", "oral", "", False),
    ("Loperamide", "2 mg", "capsule", "oral", "", False),
]
# Scheduled regimen of a board client: one medication from each pool, by frequency.
# (medication, dose text, units, indication)
POOLS = {
    "daily": [
        ("Buprenorphine/naloxone", "8 mg/2 mg", "1", "Opioid use disorder"),
        ("Thiamine", "100 mg", "1", "Alcohol use disorder, prophylaxis"),
        ("Folic acid", "1 mg", "1", "Supplement"),
        ("Multivitamin", "1 tablet", "1", "Supplement"),
        ("Sertraline", "50 mg", "1", "Depression"),
        ("Naltrexone", "50 mg", "1", "Alcohol use disorder"),
        ("Lisinopril", "10 mg", "1", "Hypertension"),
        ("Nicotine", "21 mg patch", "1", "Tobacco use disorder"),
    ],
    "bid": [
        ("Clonidine", "0.1 mg", "1", "Withdrawal symptoms"),
        ("Metformin", "500 mg", "1", "Type 2 diabetes"),
        ("Quetiapine", "50 mg", "1", "Mood"),
        ("Propranolol", "10 mg", "1", "Anxiety"),
    ],
    "tid": [
        ("Gabapentin", "300 mg", "1", "Withdrawal, neuropathic pain"),
        ("Acamprosate", "666 mg", "2", "Alcohol use disorder"),
        ("Baclofen", "10 mg", "1", "Muscle spasm"),
    ],
    "qid": [
        ("Hydroxyzine", "25 mg", "1", "Anxiety"),
        ("Dicyclomine", "20 mg", "1", "Abdominal cramping"),
    ],
    "q6h": [
        ("Chlordiazepoxide", "25 mg", "1", "Alcohol withdrawal (CIWA-Ar taper)"),
        ("Methocarbamol", "500 mg", "1", "Muscle aches"),
    ],
}
BOARD_PATTERN = ["daily", "daily", "bid", "bid", "tid", "tid", "qid", "q6h"]  # 20 doses / 8 = 2.5
SCAN_PATTERNS = [("daily", "qid"), ("bid", "tid"), ("daily", "q6h"), ("bid", "tid")]  # 2.5 each
# (medication, dose, units, indication, min interval minutes, max per 24 h)
PRN = [
    ("Acetaminophen", "650 mg", "2", "Pain or fever", 360, 4),
    ("Ibuprofen", "400 mg", "1", "Pain", 360, 4),
    ("Ondansetron", "4 mg", "1", "Nausea", 480, 3),
    ("Loperamide", "2 mg", "1", "Diarrhea", 240, 6),
    ("Lorazepam", "1 mg", "1", "Anxiety, CIWA-Ar ≥ 10", 360, 4),
]
PRE_ASSESSMENTS = [
    "Pain 6/10",
    "Pain 4/10",
    "Nausea, no vomiting",
    "Anxious, CIWA-Ar 12",
    "Loose stools ×3",
    "Headache 5/10",
]
POST_ASSESSMENTS = [
    "Pain 2/10",
    "Resting comfortably",
    "Nausea resolved",
    "CIWA-Ar 6",
    "No further stools",
    "Pain 4/10",
]
REFUSED = "Client refused: says it upsets their stomach."
HELD = "Held per order: client sedated, hold if RASS ≤ -2."
LATE = "Client asleep at the med pass; given on waking."
STRUCK = "Charted on the wrong client; re-charted."
RESOLUTION = "Dose reviewed with the prescriber; incident filed."
SHIFT_HOURS = (7, 15, 23)


# --- the database -----------------------------------------------------------------------------


# --- charting in SQL --------------------------------------------------------------------------

HASH = "(hashtextextended({}, %(seed)s) & 9223372036854775807)"

# The doses of one facility in [start, end), each with a stable hash of (order, time).
DOSES_SQL = f"""
    SELECT d.id, d.public_id, d.order_id, d.scheduled_at, d.window_minutes AS w, a.unit_id,
           o.time_critical, x.h, x.h %% 1000 AS k
    FROM medications_scheduleddose d
    JOIN medications_order o ON o.id = d.order_id
    JOIN clients_admission a ON a.id = o.admission_id
    CROSS JOIN LATERAL (
        SELECT {HASH.format("d.order_id::text || '/' || extract(epoch FROM d.scheduled_at)::bigint::text")} AS h
    ) x
    WHERE a.facility_id = %(facility)s AND d.cancelled_at IS NULL
      AND d.scheduled_at >= %(start)s AND d.scheduled_at < %(end)s
"""  # noqa: E501

# What happened to each dose: skip (nobody documented it), refused, held, late (given after the
# window, with a reason) or given on time (within half the window; a dose without a window, the
# first of an order, within 30 minutes after its time). `moment` is when it happened, `delay` how
# long after that it was charted; a struck entry (entered in error) comes first.
CLASSIFIED_SQL = f"""
    SELECT s.*,
           CASE WHEN s.k < %(skip)s THEN 'skip'
                WHEN s.k < %(skip)s + 15 THEN 'refused'
                WHEN s.k < %(skip)s + 18 THEN 'held'
                WHEN s.k < %(skip)s + 23 AND s.w > 0 THEN 'late'
                ELSE 'given' END AS kind,
           s.scheduled_at + (CASE WHEN s.w = 0 THEN (s.h >> 10) %% 31
                                  WHEN s.k >= %(skip)s + 18 AND s.k < %(skip)s + 23
                                  THEN s.w + 5 + (s.h >> 10) %% 55
                                  ELSE ((s.h >> 10) %% (s.w + 1)) - s.w / 2 END)
                            * interval '1 minute' AS moment,
           ((s.h >> 20) %% 10) * interval '1 minute' AS delay,
           s.k >= %(skip)s + 23 AND (s.h >> 40) %% 1000 < 2 AS struck,
           (%(nurses)s::bigint[])[
               1 + ((s.unit_id + floor(extract(epoch FROM s.scheduled_at) / 28800)::bigint)
                    %% cardinality(%(nurses)s::bigint[]))] AS nurse
    FROM ({DOSES_SQL}) s
"""

ADMIN_COLUMNS = """public_id, order_id, dose_id, outcome, given_at, timing, reason,
    self_administered, recorded_at, recorded_by_id, prn_indication, pre_assessment,
    override_reason, override_by_id, struck_at, struck_by_id, struck_reason"""

STRUCK_SQL = f"""
    INSERT INTO medications_administration ({ADMIN_COLUMNS})
    SELECT md5('struck/' || c.public_id::text)::uuid, c.order_id, c.id, 'given', c.moment,
           'on_time', '', false, c.moment + c.delay, c.nurse, '', '', '', NULL,
           c.moment + c.delay + interval '3 minutes', c.nurse, %(struck_reason)s
    FROM ({CLASSIFIED_SQL}) c
    WHERE c.struck AND c.moment + c.delay + interval '3 minutes' <= %(now)s
      AND NOT EXISTS (SELECT 1 FROM medications_administration x
                      WHERE x.dose_id = c.id AND x.struck_at IS NOT NULL)
"""

DOCUMENT_SQL = f"""
    INSERT INTO medications_administration ({ADMIN_COLUMNS})
    SELECT md5('adm/' || c.public_id::text)::uuid, c.order_id, c.id,
           CASE c.kind WHEN 'late' THEN 'given' ELSE c.kind END,
           CASE WHEN c.kind IN ('given', 'late') THEN c.moment END,
           CASE c.kind WHEN 'given' THEN 'on_time' WHEN 'late' THEN 'late' ELSE '' END,
           CASE c.kind WHEN 'refused' THEN %(refused)s WHEN 'held' THEN %(held)s
                       WHEN 'late' THEN %(late)s ELSE '' END,
           false, c.moment + c.delay + CASE WHEN c.struck THEN interval '5 minutes'
                                            ELSE interval '0' END,
           c.nurse, '', '', '', NULL, NULL, NULL, ''
    FROM ({CLASSIFIED_SQL}) c
    WHERE c.kind <> 'skip'
      AND c.moment + c.delay + CASE WHEN c.struck THEN interval '5 minutes' ELSE interval '0' END
          <= %(now)s
      AND NOT EXISTS (SELECT 1 FROM medications_administration x
                      WHERE x.dose_id = c.id AND x.struck_at IS NULL)
"""

# History only (older than the scan's look-back): what the minute scan did at the time.
MARK_MISSED_SQL = f"""
    UPDATE medications_scheduleddose d
    SET marked_missed_at = c.scheduled_at + (2 * c.w + 1) * interval '1 minute'
    FROM ({CLASSIFIED_SQL}) c
    WHERE d.id = c.id AND c.kind = 'skip' AND c.w > 0 AND d.marked_missed_at IS NULL
"""

MISSED_ALERTS_SQL = """
    INSERT INTO facility_alert (public_id, facility_id, client_public_id, client_label, kind,
                                severity, message, dedupe_key, raised_at, resolved_at,
                                resolved_by_id, resolution_note)
    SELECT md5('alert/' || k.prefix || d.public_id::text)::uuid, a.facility_id, cl.public_id,
           cl.mrn, k.kind, k.severity,
           k.text || m.name || ' ' || m.strength || ' ' || m.form || ' ' || o.dose || ' due '
               || to_char(d.scheduled_at AT TIME ZONE f.time_zone, 'HH24:MI') || ' for '
               || coalesce(nullif(cl.preferred_name, ''), cl.legal_first_name) || ' '
               || cl.legal_last_name || k.tail,
           k.prefix || d.public_id::text, d.marked_missed_at,
           d.marked_missed_at + interval '35 minutes', %(resolver)s, %(resolution)s
    FROM medications_scheduleddose d
    JOIN medications_order o ON o.id = d.order_id
    JOIN medications_medication m ON m.id = o.medication_id
    JOIN clients_admission a ON a.id = o.admission_id
    JOIN clients_client cl ON cl.id = a.client_id
    JOIN facility_facility f ON f.id = a.facility_id
    CROSS JOIN (VALUES
        ('dose-missed:', 'dose_missed', 'warning', 'Missed dose: ', '. File an incident.', false),
        ('dose-missed-critical:', 'dose_missed_critical', 'critical', 'Time-critical dose missed: ',
         '. Supervisor: act now.', true)
    ) AS k(prefix, kind, severity, text, tail, critical_only)
    WHERE a.facility_id = %(facility)s AND d.marked_missed_at IS NOT NULL
      AND d.scheduled_at >= %(start)s AND d.scheduled_at < %(end)s
      AND (NOT k.critical_only OR o.time_critical)
      AND NOT EXISTS (SELECT 1 FROM facility_alert x
                      WHERE x.dedupe_key = k.prefix || d.public_id::text)
"""

# PRN doses: each order has slots every (minimum interval + 2 h) from its verification; a slot is
# used with probability prn_rate/1000, the dose given within its first 2 hours. Consecutive doses
# are therefore always at least the minimum interval apart, and at most 24 h / slot per day.
PRN_SQL = f"""
    INSERT INTO medications_administration ({ADMIN_COLUMNS})
    SELECT md5('prn/' || p.order_id::text || '/' || extract(epoch FROM p.given_at)::bigint::text)::uuid,
           p.order_id, NULL, 'given', p.given_at, '', '', false,
           p.given_at + ((p.h >> 20) %% 8) * interval '1 minute',
           (%(nurses)s::bigint[])[
               1 + ((p.unit_id + floor(extract(epoch FROM p.given_at) / 28800)::bigint)
                    %% cardinality(%(nurses)s::bigint[]))],
           p.indication,
           (%(pre)s::text[])[1 + (p.h >> 30) %% cardinality(%(pre)s::text[])],
           '', NULL, NULL, NULL, ''
    FROM (
        SELECT o.id AS order_id, o.indication, a.unit_id, x.h,
               s.slot + ((x.h >> 10) %% 120) * interval '1 minute' AS given_at
        FROM medications_order o
        JOIN clients_admission a ON a.id = o.admission_id
        CROSS JOIN LATERAL generate_series(
            o.verified_at, %(end)s::timestamptz,
            (o.prn_min_interval_minutes + 120) * interval '1 minute') AS s(slot)
        CROSS JOIN LATERAL (
            SELECT {HASH.format("o.id::text || '/' || extract(epoch FROM s.slot)::bigint::text")} AS h
        ) x
        WHERE a.facility_id = %(facility)s AND a.discharged_at IS NULL AND o.frequency = 'prn'
          AND o.verified_at IS NOT NULL AND o.discontinued_at IS NULL
          AND s.slot >= %(start)s - interval '10 hours'
    ) p
    WHERE p.h %% 1000 < %(prn_rate)s
      AND p.given_at >= %(start)s AND p.given_at < %(end)s
      AND p.given_at + ((p.h >> 20) %% 8) * interval '1 minute' <= %(now)s
      AND NOT EXISTS (SELECT 1 FROM medications_administration x
                      WHERE x.order_id = p.order_id AND x.given_at = p.given_at)
"""  # noqa: E501

FOLLOW_UP_SQL = f"""
    INSERT INTO medications_prnfollowup (administration_id, result, post_assessment, note,
                                         recorded_at, recorded_by_id)
    SELECT x.id,
           (ARRAY['effective', 'effective', 'effective', 'partial', 'not_effective'])[
               1 + (f.h >> 10) %% 5],
           (%(post)s::text[])[1 + (f.h >> 30) %% cardinality(%(post)s::text[])], '',
           x.given_at + (50 + (f.h >> 20) %% 40) * interval '1 minute', x.recorded_by_id
    FROM medications_administration x
    JOIN medications_order o ON o.id = x.order_id
    JOIN clients_admission a ON a.id = o.admission_id
    CROSS JOIN LATERAL (SELECT {HASH.format("'fu/' || x.public_id::text")} AS h) f
    WHERE a.facility_id = %(facility)s AND x.dose_id IS NULL AND x.struck_at IS NULL
      AND x.outcome = 'given' AND x.given_at >= %(start)s
      AND f.h %% 1000 >= %(forget)s
      AND x.given_at + (50 + (f.h >> 20) %% 40) * interval '1 minute' <= %(now)s
      AND NOT EXISTS (SELECT 1 FROM medications_prnfollowup y WHERE y.administration_id = x.id)
"""


def sql_params(facility, *, start, end, now) -> dict:
    from facility.models import User

    nurses = list(
        User.objects.filter(facilities=facility, role="nurse")
        .order_by("id")
        .values_list("id", flat=True)
    )
    return {
        "facility": facility.pk,
        "start": start,
        "end": end,
        "now": now,
        "seed": HASH_SEED,
        "nurses": nurses,
        "resolver": nurses[0],
        "resolution": RESOLUTION,
        "refused": REFUSED,
        "held": HELD,
        "late": LATE,
        "struck_reason": STRUCK,
        "pre": PRE_ASSESSMENTS,
        "post": POST_ASSESSMENTS,
        **RATES[facility.name],
    }


def chart(facility, *, start, end, now, history_before=None, verbose=False) -> dict[str, int]:
    """Document the facility's doses scheduled in [start, end) whose charting time has come by
    `now`, give PRN doses in [start, end) and record their follow-ups. Re-runnable: only what
    is missing is added. Doses older than `history_before` left undocumented are marked missed
    with a resolved alert, as the scan would have done at the time."""
    from django.db import connection

    p = sql_params(facility, start=start, end=end, now=now)
    hp = {**p, "end": history_before}
    steps = [("struck", STRUCK_SQL, p), ("documented", DOCUMENT_SQL, p)]
    if history_before is not None and history_before > start:
        steps += [
            ("marked missed", MARK_MISSED_SQL, hp),
            ("missed alerts (resolved)", MISSED_ALERTS_SQL, hp),
        ]
    steps += [("PRN doses", PRN_SQL, p), ("PRN follow-ups", FOLLOW_UP_SQL, p)]
    out = {}
    with connection.cursor() as cursor:
        for label, sql, params in steps:
            t = time.perf_counter()
            cursor.execute(sql, params)
            out[label] = cursor.rowcount
            if verbose:
                print(
                    f"    {label:<30} {cursor.rowcount:>9,} rows {time.perf_counter() - t:7.1f} s"
                )
    return out


# --- controlled counts ------------------------------------------------------------------------


def shift_changes(start: datetime, end: datetime, tz) -> list[datetime]:
    """Shift changes (07:00, 15:00, 23:00 local) in (start, end]."""
    out = []
    day = start.astimezone(tz).date() - timedelta(days=1)
    while day <= end.astimezone(tz).date():
        for hour in SHIFT_HOURS:
            moment = datetime.combine(day, datetime.min.time().replace(hour=hour), tzinfo=tz)
            if start < moment <= end:
                out.append(moment.astimezone(UTC))
        day += timedelta(days=1)
    return out


def counts_top_up(facility, until: datetime) -> int:
    """A completed two-person count of every stock at every shift change since its receipt, 5–20
    minutes after the change, except the second house stock at every 15:00 change (the scan's
    "no completed count" work). Re-runnable: counts that exist are not made again."""
    from facility.models import User
    from medications.models import ControlledCount, ControlledStock

    tz = facility.tz
    stocks = list(ControlledStock.objects.filter(facility=facility).order_by("pk"))
    if not stocks:
        return 0
    nurses = list(User.objects.filter(facilities=facility, role="nurse").order_by("id"))
    house = [s for s in stocks if s.admission_id is None]
    skipped = house[1].pk if len(house) > 1 else None
    first = min(
        s.movements.order_by("at").values_list("at", flat=True).first() or until for s in stocks
    )
    have = set(
        ControlledCount.objects.filter(stock__in=stocks, counted_at__gt=first).values_list(
            "stock_id", "counted_at"
        )
    )
    rows = []
    for i, change in enumerate(shift_changes(first, until, tz)):
        local_hour = change.astimezone(tz).hour
        for s in stocks:
            if s.pk == skipped and local_hour == 15:
                continue
            at = change + timedelta(minutes=5 + (s.pk * 7 + local_hour) % 16)
            if at > until or (s.pk, at) in have:
                continue
            a, b = nurses[i % len(nurses)], nurses[(i + 1) % len(nurses)]
            rows.append(
                ControlledCount(
                    public_id=uuid.uuid4(),
                    stock=s,
                    counted_at=at,
                    first_signer=a,
                    second_signer=b,
                    counted_quantity=s.quantity,
                    expected_quantity=s.quantity,
                    completed_at=at,
                )
            )
    ControlledCount.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def top_up(facility, now: datetime) -> dict[str, int]:
    """Bring charting and counts up to `now` (bench/mar_run.py, before timing)."""
    out = chart(facility, start=now - timedelta(days=3), end=now + timedelta(hours=1), now=now)
    out["counts"] = counts_top_up(facility, now)
    return out


# --- facilities, people, stays, orders --------------------------------------------------------


class Generator:
    def __init__(self, *, seed: int):
        from django.utils import timezone

        self.rng = random.Random(seed)
        self.now = timezone.now()
        self._t = time.perf_counter()
        self.hashed = None
        self.mrns: dict[int, int] = {}

    def lap(self, label: str) -> None:
        t = time.perf_counter()
        print(f"  {label:<58} {t - self._t:7.1f} s", flush=True)
        self._t = t

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def facility(self, name, tz, units: list[tuple[str, str, int]]):
        from facility.models import Bed, Facility, Unit
        from medications.models import Medication
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
        meds = Medication.objects.bulk_create(
            Medication(
                facility=facility,
                name=n,
                strength=s,
                form=f,
                routes=r,
                controlled_schedule=c,
                time_critical=tc,
            )
            for n, s, f, r, c, tc in CATALOG
        )
        facility.catalog = {m.name: m for m in meds}
        return facility, beds

    def staff(self, facility, prefix: str, roles: dict[str, int]) -> dict[str, list]:
        from django.contrib.auth.hashers import make_password

        from facility.models import User
        from facility.services import user_sync_role_group

        self.hashed = self.hashed or make_password(PASSWORD)
        people: dict[str, list] = {}
        for role, count in roles.items():
            short = {"technician": "tech", "nurse": "nurse"}[role]
            for n in range(1, count + 1):
                first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
                user = User(
                    public_id=self.uid(),
                    username=f"{prefix}{short}{n:02d}",
                    email=f"{prefix}{short}{n:02d}@bench.haven.invalid",
                    full_name=f"{first} {last}",
                    initials=f"{first[0]}{last[0]}",
                    credentials={"technician": "BHT", "nurse": "RN"}[role],
                    role=role,
                    password=self.hashed,
                )
                user.save()
                user.facilities.add(facility)
                user_sync_role_group(user)
                people.setdefault(role, []).append(user)
        return people

    def admit_all(self, facility, beds, nurses, admitted_at) -> list:
        """A client in every bed, admitted at admitted_at(i)."""
        from clients.models import Admission, BedMove, Client, MrnSequence

        rng = self.rng
        issued = self.mrns.get(facility.pk, 0)
        clients = []
        for i, _ in enumerate(beds, start=issued + 1):
            clients.append(
                Client(
                    public_id=self.uid(),
                    facility=facility,
                    mrn=f"M{facility.pk:02d}-{i:06d}",
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
        admissions = [
            Admission(
                public_id=self.uid(),
                client=client,
                facility=facility,
                unit_id=bed.unit_id,
                bed=bed,
                level_of_care=rng.choice(["3.5", "3.7", "3.1", "3.7-WM"]),
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
        return admissions

    def order(self, facility, admission, nurses, spec, frequency, start_at, **extra):
        from medications.models import Order

        name, dose, units, indication = spec[:4]
        med = facility.catalog[name]
        a, b = self.rng.sample(nurses, 2)  # transcribed and verified by two distinct nurses
        return Order(
            public_id=self.uid(),
            admission=admission,
            medication=med,
            dose=dose,
            dose_units=Decimal(units),
            route=med.route_list[0],
            frequency=frequency,
            start_at=start_at,
            indication=indication,
            time_critical=med.time_critical,
            prescriber_name=self.rng.choice(["Dr. Rivera", "Dr. Okafor", "Dr. Lindqvist"]),
            prescriber_credentials="MD",
            transcribed_by=a,
            transcribed_at=start_at - timedelta(minutes=10),
            verified_by=b,
            verified_at=start_at + timedelta(minutes=15),
            **extra,
        )

    def prn_order(self, facility, admission, nurses, spec, start_at):
        return self.order(
            facility,
            admission,
            nurses,
            spec,
            "prn",
            start_at,
            prn_min_interval_minutes=spec[4],
            prn_max_per_24h=spec[5],
        )


def has_materialized_until() -> bool:
    from medications.models import Order

    return any(f.name == "materialized_until" for f in Order._meta.get_fields())


def copy_doses(facility, orders, until: datetime) -> int:
    """Every dose of these scheduled orders from verification to `until`. The first dose of each
    order is made by the app itself (services.doses_materialize() up to just past it: whatever
    it does with a first dose, e.g. no window, is done); the rest are computed with the app's
    dose_times_between() and order_window() and loaded with COPY. Order.materialized_until, where
    the app has it, is set to `until`."""
    from django.db import connection

    from medications import services
    from medications.models import Order

    tz = facility.tz
    rng = random.Random(facility.pk)
    scheduled = [o for o in orders if o.frequency not in ("prn", "once")]
    rest = []
    for order in scheduled:
        start = max(order.start_at, order.verified_at)
        times = services.dose_times_between(order, tz, start, until)
        if not times:
            continue
        services.doses_materialize(order, until=times[0] + timedelta(seconds=1), now=start)
        rest.append((order, times[1:]))
    n = len(rest)
    with connection.cursor() as cursor:
        sql = (
            "COPY medications_scheduleddose (public_id, order_id, scheduled_at, window_minutes) "
            "FROM STDIN"
        )
        with cursor.cursor.copy(sql) as copy:
            for order, times in rest:
                window = services.order_window(order)
                for moment in times:
                    copy.write_row(
                        (uuid.UUID(int=rng.getrandbits(128), version=4), order.pk, moment, window)
                    )
                    n += 1
    if has_materialized_until():
        Order.objects.filter(pk__in=[o.pk for o in scheduled]).update(materialized_until=until)
    return n


ANALYZED = [
    "medications_scheduleddose",
    "medications_order",
    "medications_administration",
    "medications_prnfollowup",
    "clients_admission",
    "facility_alert",
]


def analyze(tables: list[str]) -> None:
    """Statistics for the planner after a bulk load (inside the transaction: ANALYZE, not
    VACUUM)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def already_generated() -> bool:
    from facility.models import Facility
    from medications.models import ControlledCount

    if not Facility.objects.filter(name=BOARD_FACILITY).exists():
        return False
    if not ControlledCount.objects.filter(stock__facility__name=SCAN_FACILITY).exists():
        sys.exit(f"{BOARD_FACILITY} exists but the run that made it was cut short: use --force.")
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="drop the database and rebuild")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--days", type=int, default=365, help="days of history, Main unit (365)")
    args = parser.parse_args(argv)

    _env.configure_env()
    _env.check_bench_database()
    started = time.perf_counter()
    _env.ensure_database(args.force)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from medications import services
    from medications.models import (
        Administration,
        ControlledStock,
        Order,
        PrnFollowUp,
        ScheduledDose,
        StockMovement,
    )

    call_command("migrate", verbosity=0, interactive=False)
    call_command("sync_roles", stdout=io.StringIO())
    print(f"  {'create + migrate + sync_roles':<58} {time.perf_counter() - started:7.1f} s")
    if already_generated():
        print(f"Already generated in {_env.database_name()}; nothing to do (--force rebuilds).")
        return 0

    gen = Generator(seed=args.seed)
    rng, now = gen.rng, gen.now
    until = now + services.HORIZON
    year_ago = now - timedelta(days=args.days)
    counts: dict[str, dict[str, int]] = {}
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no million deferred FK events
        # ---- facility A: the MAR board
        board, board_beds = gen.facility(BOARD_FACILITY, BOARD_TZ, [MAIN, ANNEX])
        board_people = gen.staff(board, "m", {"nurse": 8, "technician": 4})
        nurses = board_people["nurse"]
        main_beds = [b for b in board_beds if b.label.startswith(MAIN[1])]
        annex_beds = [b for b in board_beds if b.label.startswith(ANNEX[1])]
        offsets = [rng.randrange(0, 2 * 24 * 60) for _ in board_beds]
        main_adm = gen.admit_all(
            board,
            main_beds,
            nurses,
            lambda i: (year_ago - timedelta(minutes=offsets[i])).replace(second=0, microsecond=0),
        )
        annex_adm = gen.admit_all(
            board,
            annex_beds,
            nurses,
            lambda i: (now - timedelta(days=ANNEX_DAYS, minutes=37 * i)).replace(
                second=0, microsecond=0
            ),
        )
        board_orders = []
        for adm in main_adm + annex_adm:
            start_at = adm.admitted_at + timedelta(minutes=40)
            for frequency in BOARD_PATTERN:
                pool = POOLS[frequency]
                taken = {o.medication.name for o in board_orders if o.admission is adm}
                spec = rng.choice([p for p in pool if p[0] not in taken])
                board_orders.append(gen.order(board, adm, nurses, spec, frequency, start_at))
            for spec in rng.sample(PRN[:4], 2):
                board_orders.append(gen.prn_order(board, adm, nurses, spec, start_at))
        Order.objects.bulk_create(board_orders, batch_size=2000)
        gen.lap(
            f"board facility: {len(main_adm) + len(annex_adm)} stays, {len(board_orders)} orders"
        )
        n = copy_doses(board, board_orders, until)
        gen.lap(f"board facility: {n:,} dose rows (first of each order by the app, then COPY)")
        analyze(["medications_scheduleddose", "medications_order", "clients_admission"])
        counts[BOARD_FACILITY] = chart(
            board,
            start=year_ago - timedelta(days=3),
            end=until,
            now=now,
            history_before=now - services.SCAN_LOOKBACK,
            verbose=True,
        )
        gen.lap(
            "board facility: " + ", ".join(f"{v:,} {k}" for k, v in counts[BOARD_FACILITY].items())
        )

        # ---- facility B: the minute scans
        units = [(f"Unit {n:02d}", f"U{n:02d}-", SCAN_BEDS_PER_UNIT) for n in range(1, 51)]
        scan, scan_beds = gen.facility(SCAN_FACILITY, SCAN_TZ, units)
        scan_people = gen.staff(scan, "s", {"nurse": 40, "technician": 20})
        s_nurses = scan_people["nurse"]
        scan_offsets = [rng.randrange(3 * 24 * 60, 45 * 24 * 60) for _ in scan_beds]
        scan_adm = gen.admit_all(
            scan,
            scan_beds,
            s_nurses,
            lambda i: (now - timedelta(minutes=scan_offsets[i])).replace(second=0, microsecond=0),
        )
        verified = (now - SCAN_HISTORY).replace(minute=0, second=0, microsecond=0)
        scan_orders = []
        bup_admissions = []
        for i, adm in enumerate(scan_adm):
            for frequency in SCAN_PATTERNS[i % len(SCAN_PATTERNS)]:
                spec = rng.choice(POOLS[frequency])
                scan_orders.append(
                    gen.order(
                        scan, adm, s_nurses, spec, frequency, verified - timedelta(minutes=15)
                    )
                )
                if spec[0] == "Buprenorphine/naloxone":
                    bup_admissions.append(adm)
            if rng.random() < SCAN_PRN_SHARE:
                spec = rng.choice(PRN)
                scan_orders.append(
                    gen.prn_order(scan, adm, s_nurses, spec, verified - timedelta(minutes=15))
                )
        Order.objects.bulk_create(scan_orders, batch_size=2000)
        gen.lap(f"scan facility: {len(scan_adm):,} stays, {len(scan_orders):,} orders")
        n = copy_doses(scan, scan_orders, until)
        gen.lap(f"scan facility: {n:,} dose rows (first of each order by the app, then COPY)")
        analyze(ANALYZED)
        counts[SCAN_FACILITY] = chart(
            scan, start=verified - timedelta(hours=1), end=until, now=now, verbose=True
        )
        # Controlled stocks: 3 house stocks and 12 of clients on buprenorphine, received 3 days
        # ago; counted at every shift change since.
        received = now - timedelta(days=3)
        stocks = [
            ControlledStock(
                public_id=gen.uid(),
                facility=scan,
                medication=scan.catalog[name],
                quantity=Decimal("500"),
            )
            for name in ("Buprenorphine/naloxone", "Lorazepam", "Chlordiazepoxide")
        ] + [
            ControlledStock(
                public_id=gen.uid(),
                facility=scan,
                admission=adm,
                medication=scan.catalog["Buprenorphine/naloxone"],
                quantity=Decimal("28"),
            )
            for adm in bup_admissions[:12]
        ]
        ControlledStock.objects.bulk_create(stocks)
        StockMovement.objects.bulk_create(
            StockMovement(
                stock=s,
                kind="receipt",
                change=s.quantity,
                balance=s.quantity,
                at=received,
                by=s_nurses[0],
                note="Pharmacy delivery",
            )
            for s in stocks
        )
        counts[SCAN_FACILITY]["controlled counts"] = counts_top_up(scan, now)
        counts[SCAN_FACILITY]["controlled stocks"] = len(stocks)
        gen.lap(
            "scan facility: " + ", ".join(f"{v:,} {k}" for k, v in counts[SCAN_FACILITY].items())
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    gen.lap("vacuum analyze")
    total = time.perf_counter() - started

    from facility.models import Alert

    tables = [
        "medications_scheduleddose",
        "medications_administration",
        "medications_prnfollowup",
        "medications_order",
        "facility_alert",
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        db_size = cursor.fetchone()[0]
        sizes = {}
        for t in tables:
            cursor.execute(
                "SELECT pg_size_pretty(pg_table_size(%s)), pg_size_pretty(pg_indexes_size(%s))",
                [t, t],
            )
            sizes[t] = cursor.fetchone()
    print()
    for label, facility_name in (("A", BOARD_FACILITY), ("B", SCAN_FACILITY)):
        doses = ScheduledDose.objects.filter(order__admission__facility__name=facility_name)
        admins = Administration.objects.filter(order__admission__facility__name=facility_name)
        print(
            f"{label} {facility_name}: "
            f"{Order.objects.filter(admission__facility__name=facility_name).count():,} orders, "
            f"{doses.count():,} doses ({doses.filter(scheduled_at__lte=now).count():,} due by "
            f"now), {admins.filter(dose__isnull=False).count():,} dose administrations "
            f"({admins.filter(struck_at__isnull=False).count():,} struck), "
            f"{admins.filter(dose__isnull=True).count():,} PRN doses, "
            f"{PrnFollowUp.objects.filter(administration__in=admins).count():,} follow-ups"
        )
    print(f"Alerts {Alert.objects.count():,} ({Alert.objects.open().count():,} open)")
    print(f"Database {_env.database_name()}: {db_size}")
    for t, (table_size, index_size) in sizes.items():
        print(f"    {t:<32} table {table_size:>9}, indexes {index_size:>9}")
    print(f"Generated in {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
