#!/usr/bin/env python
"""Generate a year of MAR history for bench/mar_run.py, in database haven_bench_mar
(DATABASE_URL; its name must contain "bench"). Doses come from the app's own dose times; charting
is INSERT ... SELECT, "random" by hashtextextended() of stable values, so top_up() can re-run the
same rules over any period. See bench/README.md.

    .venv/bin/python bench/mar_generate.py [--force] [--days 365]
"""

import os
import random
import sys
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/haven_bench_mar")
import _env  # noqa: E402
from _build import Builder, grid, insert_rows, parser, prepare  # noqa: E402

BOARD_FACILITY = "Haven Bench MAR"
BOARD_TZ = "America/New_York"
MAIN = ("Main", "M", 60)  # unit name, bed prefix, beds
ANNEX = ("Annex", "X", 10)
ANNEX_DAYS = 14
SCAN_FACILITY = "Haven Bench MAR Scan"
SCAN_TZ = "America/Chicago"
SCAN_HISTORY = timedelta(hours=49)  # B's orders were verified this long ago
SCAN_PRN_SHARE = 0.2
NURSE = "mnurse01"  # bench/mar_run.py signs in as this nurse of the board facility
HASH_SEED = 2026
LEVELS = ["3.5", "3.7", "3.1", "3.7-WM"]

# Per facility: undocumented doses per mille, PRN doses per mille of slots, follow-ups forgotten
# per mille. The board facility is a well-run unit; the scan facility leaves the scan work.
RATES = {
    BOARD_FACILITY: {"skip": 2, "prn_rate": 200, "forget": 5},
    SCAN_FACILITY: {"skip": 15, "prn_rate": 300, "forget": 100},
}

# One line a medication: name|strength|form|routes|controlled schedule|time-critical (tc)|
# frequency|dose|units|indication|PRN minimum interval (minutes)|PRN maximum per 24 h. A board
# client gets one medication of each frequency pool by BOARD_PATTERN, a scan client by
# SCAN_PATTERNS; PRN orders draw from the prn lines (the last, lorazepam, for the scan only).
MEDICATIONS = """
Buprenorphine/naloxone|8 mg/2 mg|film|sublingual|III|tc|daily|8 mg/2 mg|1|Opioid use disorder||
Thiamine|100 mg|tablet|oral,im|||daily|100 mg|1|Alcohol use disorder, prophylaxis||
Folic acid|1 mg|tablet|oral|||daily|1 mg|1|Supplement||
Multivitamin|1 tablet|tablet|oral|||daily|1 tablet|1|Supplement||
Sertraline|50 mg|tablet|oral|||daily|50 mg|1|Depression||
Naltrexone|50 mg|tablet|oral|||daily|50 mg|1|Alcohol use disorder||
Lisinopril|10 mg|tablet|oral|||daily|10 mg|1|Hypertension||
Nicotine|21 mg/24 h|patch|transdermal|||daily|21 mg patch|1|Tobacco use disorder||
Clonidine|0.1 mg|tablet|oral|||bid|0.1 mg|1|Withdrawal symptoms||
Metformin|500 mg|tablet|oral|||bid|500 mg|1|Type 2 diabetes||
Quetiapine|50 mg|tablet|oral|||bid|50 mg|1|Mood||
Propranolol|10 mg|tablet|oral|||bid|10 mg|1|Anxiety||
Gabapentin|300 mg|capsule|oral|||tid|300 mg|1|Withdrawal, neuropathic pain||
Acamprosate|333 mg|delayed-release tablet|oral|||tid|666 mg|2|Alcohol use disorder||
Baclofen|10 mg|tablet|oral|||tid|10 mg|1|Muscle spasm||
Hydroxyzine|25 mg|tablet|oral|||qid|25 mg|1|Anxiety||
Dicyclomine|20 mg|tablet|oral|||qid|20 mg|1|Abdominal cramping||
Chlordiazepoxide|25 mg|capsule|oral|IV|tc|q6h|25 mg|1|Alcohol withdrawal (CIWA-Ar taper)||
Methocarbamol|500 mg|tablet|oral|||q6h|500 mg|1|Muscle aches||
Acetaminophen|325 mg|tablet|oral|||prn|650 mg|2|Pain or fever|360|4
Ibuprofen|400 mg|tablet|oral|||prn|400 mg|1|Pain|360|4
Ondansetron|4 mg|orally disintegrating tablet|oral|||prn|4 mg|1|Nausea|480|3
Loperamide|2 mg|capsule|oral|||prn|2 mg|1|Diarrhea|240|6
Lorazepam|1 mg|tablet|oral,im|IV||prn|1 mg|1|Anxiety, CIWA-Ar ≥ 10|360|4
"""
MEDS = [line.split("|") for line in MEDICATIONS.strip().splitlines()]
CATALOG = [(n, s, f, r, c, tc == "tc") for n, s, f, r, c, tc, *_ in MEDS]
POOLS: dict[str, list[tuple]] = {}  # frequency: (medication, dose, units, indication)
PRN = []  # (medication, dose, units, indication, min interval minutes, max per 24 h)
for n, *_, freq, dose, units, why, lo, hi in MEDS:
    if freq == "prn":
        PRN.append((n, dose, units, why, int(lo), int(hi)))
    else:
        POOLS.setdefault(freq, []).append((n, dose, units, why))
BOARD_PATTERN = ["daily", "daily", "bid", "bid", "tid", "tid", "qid", "q6h"]  # 20 doses / 8 = 2.5
SCAN_PATTERNS = [("daily", "qid"), ("bid", "tid"), ("daily", "q6h"), ("bid", "tid")]  # 2.5 each
# Texts of the charting SQL (its %(name)s parameters).
TEXTS = {
    "pre": ["Pain 6/10", "Pain 4/10", "Nausea, no vomiting", "Anxious, CIWA-Ar 12",
            "Loose stools ×3", "Headache 5/10"],
    "post": ["Pain 2/10", "Resting comfortably", "Nausea resolved", "CIWA-Ar 6",
             "No further stools", "Pain 4/10"],
    "refused": "Client refused: says it upsets their stomach.",
    "held": "Held per order: client sedated, hold if RASS ≤ -2.",
    "late": "Client asleep at the med pass; given on waking.",
    "struck_reason": "Charted on the wrong client; re-charted.",
    "resolution": "Dose reviewed with the prescriber; incident filed.",
}  # fmt: skip


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


def chart(facility, *, start, end, now, history_before=None) -> dict[str, int]:
    """Document the facility's doses scheduled in [start, end) whose charting time has come by
    `now`, give PRN doses in [start, end) and record their follow-ups. Re-runnable: only what
    is missing is added. Doses older than `history_before` left undocumented are marked missed
    with a resolved alert, as the scan would have done at the time."""
    from facility.models import User

    nurses = User.objects.filter(facilities=facility, role="nurse").order_by("id")
    nurses = list(nurses.values_list("id", flat=True))
    p = {"facility": facility.pk, "start": start, "end": end, "now": now, "seed": HASH_SEED,
         "nurses": nurses, "resolver": nurses[0], **TEXTS, **RATES[facility.name]}  # fmt: skip
    hp = {**p, "end": history_before}
    steps = [("struck", STRUCK_SQL, p), ("documented", DOCUMENT_SQL, p)]
    if history_before is not None and history_before > start:
        steps += [("marked missed", MARK_MISSED_SQL, hp), ("missed alerts", MISSED_ALERTS_SQL, hp)]
    steps += [("PRN doses", PRN_SQL, p), ("PRN follow-ups", FOLLOW_UP_SQL, p)]
    return {label: _env.sql(sql, params) for label, sql, params in steps}


# --- controlled counts ------------------------------------------------------------------------


def counts_top_up(facility, until: datetime) -> int:
    """A completed two-person count of every stock at every shift change since its receipt, 5–20
    minutes after the change, except the second house stock at every 15:00 change (the scan's
    "no completed count" work). Re-runnable: counts that exist are not made again."""
    from facility.models import User
    from facility.shifts import DEFAULT_PATTERN, shift_changes_between
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
    for i, change in enumerate(shift_changes_between(first, until, DEFAULT_PATTERN, tz)):
        local_hour = change.astimezone(tz).hour
        for s in stocks:
            if s.pk == skipped and local_hour == 15:
                continue
            at = change + timedelta(minutes=5 + (s.pk * 7 + local_hour) % 16)
            if at > until or (s.pk, at) in have:
                continue
            a, b = nurses[i % len(nurses)], nurses[(i + 1) % len(nurses)]
            rows.append(ControlledCount(public_id=uuid.uuid4(), stock=s, counted_at=at,
                                        first_signer=a, second_signer=b, completed_at=at,
                                        counted_quantity=s.quantity,
                                        expected_quantity=s.quantity))  # fmt: skip
    ControlledCount.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def top_up(facility, now: datetime) -> dict[str, int]:
    """Bring charting and counts up to `now` (bench/mar_run.py, before timing)."""
    out = chart(facility, start=now - timedelta(days=3), end=now + timedelta(hours=1), now=now)
    out["counts"] = counts_top_up(facility, now)
    return out


def order(b: Builder, admission, nurses, spec, frequency, start_at):
    """A verified order (transcribed and verified by two distinct nurses); PRN specs carry the
    minimum interval and the 24-hour maximum."""
    from medications.models import Order

    name, dose, units, indication = spec[:4]
    med = admission.facility.catalog[name]
    a, v = b.rng.sample(nurses, 2)
    extra = {}
    if frequency == "prn":
        extra = {"prn_min_interval_minutes": spec[4], "prn_max_per_24h": spec[5]}
    return Order(
        public_id=b.uid(), admission=admission, medication=med, dose=dose,
        dose_units=Decimal(units), route=med.route_list[0], frequency=frequency,
        start_at=start_at, indication=indication, time_critical=med.time_critical,
        prescriber_name=b.rng.choice(["Dr. Rivera", "Dr. Okafor", "Dr. Lindqvist"]),
        prescriber_credentials="MD", transcribed_by=a,
        transcribed_at=start_at - timedelta(minutes=10), verified_by=v,
        verified_at=start_at + timedelta(minutes=15), **extra,
    )  # fmt: skip


def copy_doses(facility, orders, until: datetime) -> int:
    """Every dose of these scheduled orders from verification to `until`. The first dose of each
    order is made by the app itself (services.doses_materialize() up to just past it: whatever
    it does with a first dose, e.g. no window, is done); the rest are computed with the app's
    dose_times_between() and order_window() and loaded with COPY; Order.materialized_until is
    set to `until`."""
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
    rows = (
        (uuid.UUID(int=rng.getrandbits(128), version=4), order.pk, moment, window)
        for order, times in rest
        for window in [services.order_window(order)]
        for moment in times
    )
    columns = "public_id, order_id, scheduled_at, window_minutes"
    n = len(rest) + insert_rows("medications_scheduleddose", columns, rows)
    Order.objects.filter(pk__in=[o.pk for o in scheduled]).update(materialized_until=until)
    return n


ANALYZED = [f"medications_{t}" for t in ("scheduleddose", "administration", "prnfollowup")] + [
    "medications_order", "clients_admission", "facility_alert"]  # fmt: skip


def main(argv=None) -> int:
    args = parser(__doc__, "days of history, Main unit (365)").parse_args(argv)

    def complete() -> bool:
        from medications.models import ControlledCount

        return ControlledCount.objects.filter(stock__facility__name=SCAN_FACILITY).exists()

    started = prepare(args.force, BOARD_FACILITY, complete, 58)
    if started is None:
        return 0
    from django.db import transaction

    from facility.models import Alert
    from medications import services
    from medications.models import ControlledStock, Order, StockMovement

    b = Builder(args.seed, width=58)
    rng, now = b.rng, b.now
    until = now + services.HORIZON
    year_ago = now - timedelta(days=args.days)
    counts: dict[str, dict[str, int]] = {}

    def load(facility, orders, label, **period) -> None:
        """The orders, their doses up to the horizon, statistics, then charting over `period`."""
        Order.objects.bulk_create(orders, batch_size=2000)
        b.lap(f"{label}, {len(orders):,} orders")
        n = copy_doses(facility, orders, until)
        b.lap(f"{facility.name}: {n:,} dose rows (first of each order by the app, then COPY)")
        for table in ANALYZED:  # statistics for the planner (in the transaction: no VACUUM)
            _env.sql(f"ANALYZE {table}")
        counts[facility.name] = chart(facility, end=until, now=now, **period)

    def tally(name) -> None:
        b.lap(f"{name}: " + ", ".join(f"{v:,} {k}" for k, v in counts[name].items()))

    with transaction.atomic():
        _env.sql("SET LOCAL synchronous_commit = off")
        _env.sql("SET CONSTRAINTS ALL IMMEDIATE")  # no million deferred FK events
        # ---- facility A: the MAR board
        board, beds = b.add_facility(BOARD_FACILITY, BOARD_TZ, grid([MAIN, ANNEX]), catalog=CATALOG)
        nurses = b.add_staff(board, "m", {"nurse": 8, "technician": 4})["nurse"]
        main_beds = [x for x in beds if x.label.startswith(MAIN[1])]
        annex_beds = [x for x in beds if x.label.startswith(ANNEX[1])]
        times = [year_ago - timedelta(minutes=rng.randrange(0, 2 * 24 * 60)) for _ in main_beds]
        stays = b.admit(board, main_beds, nurses, times, letter="M", levels=LEVELS)
        times = [now - timedelta(days=ANNEX_DAYS, minutes=37 * i) for i in range(len(annex_beds))]
        stays += b.admit(board, annex_beds, nurses, times, letter="M", levels=LEVELS)
        board_orders = []
        for adm in stays:
            start_at = adm.admitted_at + timedelta(minutes=40)
            taken = set()
            for frequency in BOARD_PATTERN:
                spec = rng.choice([p for p in POOLS[frequency] if p[0] not in taken])
                taken.add(spec[0])
                board_orders.append(order(b, adm, nurses, spec, frequency, start_at))
            for spec in rng.sample(PRN[:4], 2):
                board_orders.append(order(b, adm, nurses, spec, "prn", start_at))
        load(board, board_orders, f"board facility: {len(stays)} stays",
             start=year_ago - timedelta(days=3),
             history_before=now - services.SCAN_LOOKBACK)  # fmt: skip
        tally(BOARD_FACILITY)

        # ---- facility B: the minute scans (staff "ms…": rounds_generate.py's scan staff are "s…",
        # and bench/load_run.py puts both years in one database)
        scan, people, scan_adm = b.scan_facility(
            SCAN_FACILITY, SCAN_TZ, "ms", {"nurse": 40, "technician": 20},
            admit_by="nurse", letter="M", levels=LEVELS, catalog=CATALOG,
        )  # fmt: skip
        s_nurses = people["nurse"]
        verified = (now - SCAN_HISTORY).replace(minute=0, second=0, microsecond=0)
        start_at = verified - timedelta(minutes=15)
        scan_orders = []
        bup_admissions = []
        for i, adm in enumerate(scan_adm):
            for frequency in SCAN_PATTERNS[i % len(SCAN_PATTERNS)]:
                spec = rng.choice(POOLS[frequency])
                scan_orders.append(order(b, adm, s_nurses, spec, frequency, start_at))
                if spec[0] == "Buprenorphine/naloxone":
                    bup_admissions.append(adm)
            if rng.random() < SCAN_PRN_SHARE:
                scan_orders.append(order(b, adm, s_nurses, rng.choice(PRN), "prn", start_at))
        load(scan, scan_orders, f"scan facility: {len(scan_adm):,} stays",
             start=verified - timedelta(hours=1))  # fmt: skip
        # Controlled stocks: 3 house stocks and 12 of clients on buprenorphine, received 3 days
        # ago; counted at every shift change since.
        bup = scan.catalog["Buprenorphine/naloxone"]
        stocks = ControlledStock.objects.bulk_create(
            [
                ControlledStock(public_id=b.uid(), facility=scan, medication=scan.catalog[name],
                                quantity=Decimal("500"))
                for name in ("Buprenorphine/naloxone", "Lorazepam", "Chlordiazepoxide")
            ]
            + [
                ControlledStock(public_id=b.uid(), facility=scan, admission=adm, medication=bup,
                                quantity=Decimal("28"))
                for adm in bup_admissions[:12]
            ]
        )  # fmt: skip
        StockMovement.objects.bulk_create(
            StockMovement(stock=s, kind="receipt", change=s.quantity, balance=s.quantity,
                          at=now - timedelta(days=3), by=s_nurses[0], note="Pharmacy delivery")
            for s in stocks
        )  # fmt: skip
        counts[SCAN_FACILITY]["controlled counts"] = counts_top_up(scan, now)
        counts[SCAN_FACILITY]["controlled stocks"] = len(stocks)
        tally(SCAN_FACILITY)
    b.vacuum()
    total = time.perf_counter() - started

    db_size, table_sizes = _env.sizes(*ANALYZED)
    doses, admins, follow_ups = (_env.sql(f"SELECT count(*) FROM {t}", row=True)[0]
                                 for t in ANALYZED[:3])  # fmt: skip
    print(f"\nDoses {doses:,}, administrations {admins:,}, PRN follow-ups {follow_ups:,}, alerts "
          f"{Alert.objects.count():,} ({Alert.objects.open().count():,} open)")  # fmt: skip
    print(f"Database {_env.database_name()}: {db_size}")
    for t, (table_size, index_size) in table_sizes.items():
        print(f"    {t:<32} table {table_size:>9}, indexes {index_size:>9}")
    print(f"Generated in {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
