#!/usr/bin/env python
"""Time the MAR shift view, the med pass and the minute scans of the MAR (DESIGN.md §6) against
the database made by bench/mar_generate.py.

(a) GET the MAR board (reverse("medications:mar")) of the 60-client Main unit, shift=day (a year
    of doses behind every client), and of the 10-client Annex (14 days): the query counts must
    be equal. Also Main for the current shift (no shift parameter) and, as an extra, all units.
(b) GET the med pass of one Main client (8 scheduled orders, 2 PRN, a year of history).
(c) The beat task's four steps (medications.tasks.scan_doses) over all open admissions (5,000 in
    the scan facility + 70 in the board facility), each timed on its own at a fixed instant T:
    scan_doses() once as the first, alert-raising run (its alerts and missed marks are cleared
    first), then 10 steady runs (everything already raised); scan_prn_reassessments() and
    scan_shift_counts() the same way; doses_extend_horizon() 10 times as it runs every minute
    (every order materialized 48 h ahead: nothing due) and, where the app tracks
    Order.materialized_until, 10 times as the hourly top-up (every order made due again: the
    orders topped up together fall behind the 47-hour mark together an hour later).
(d) EXPLAIN (ANALYZE, BUFFERS) of the board's dose query and its prefetch (right after the page
    timings; and the dose query again without Django's plain index on ScheduledDose.order_id,
    dropped in a rolled-back transaction), of scan_doses' two queries, and of one year-long
    order's query in doses_materialize(), captured from real runs.

Requests go through Django's test Client in-process (middleware, session, permissions; no
network, no WSGI server), signed in (force_login) as mnurse01, a nurse of the board facility.
Timed requests and scans run under override_settings(DEBUG=False). Before timing, charting is
brought up to now with the generator's own deterministic SQL (mar_generate.top_up: only what is
missing is added) after one doses_extend_horizon() catch-up run, so the board and the scans see
a floor that charted until this minute.

    .venv/bin/python bench/mar_run.py                       # N=200, scans x10, plans
    .venv/bin/python bench/mar_run.py --n 50 --scans 3 --no-plans
    .venv/bin/python bench/mar_run.py --profile scan_doses  # cProfile: mar | pass | scan_doses
                                                            #   | prn | counts | extend
"""

import argparse
import cProfile
import gc
import io
import os
import platform
import pstats
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/haven_bench_mar")
import _env  # noqa: E402
import mar_generate as gen  # noqa: E402
from _report import explain, fmt_queries, percentile, short  # noqa: E402

SCAN_ALERT_KINDS = [
    "dose_late",
    "dose_missed",
    "dose_missed_critical",
    "prn_reassessment_overdue",
    "count_missing",
]


@dataclass
class Case:
    label: str
    budget: str = "—"
    limit_ms: float | None = None
    times: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    db_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    results: list[int] = field(default_factory=list)
    last_sql: list[tuple[float, str]] = field(default_factory=list)
    last_params: list = field(default_factory=list)
    session_writes: int = 0


def app_revision() -> str:
    """The commit the app code was at, and whether the measured code had uncommitted changes."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", ".", ":!bench"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "app revision unknown"
    return f"app at {rev}{' + uncommitted changes' if dirty else ''}"


class DbTimer:
    """Counts and times each statement sent to PostgreSQL (execute wrapper)."""

    def __init__(self):
        self.statements: list[tuple[float, str]] = []
        self.params: list = []

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append(((time.perf_counter() - t0) * 1000, sql))
            self.params.append(params)


def timed_get(client, case: Case, url: str, *, record=True):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timer = DbTimer()
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timer):
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.get(url)
        elapsed = (time.perf_counter() - t0) * 1000
        cpu = (time.process_time() - c0) * 1000
    if response.status_code != 200:
        body = response.content.decode(errors="replace")[:2000]
        raise SystemExit(f"GET {url} answered {response.status_code}:\n{body}")
    if record:
        case.times.append(elapsed)
        case.cpu_ms.append(cpu)
        sqls = [q["sql"] for q in ctx.captured_queries]  # BEGIN/COMMIT count, as assertNumQueries
        # Once a minute the idle-timeout middleware saves the session (its last-seen time):
        # BEGIN, UPDATE django_session, COMMIT. Counted apart: it is not the page's work.
        for i, sql in enumerate(sqls):
            if sql.startswith('UPDATE "django_session"'):
                lo = i - 1 if i > 0 and sqls[i - 1] == "BEGIN" else i
                hi = i + 2 if i + 1 < len(sqls) and sqls[i + 1] == "COMMIT" else i + 1
                del sqls[lo:hi]
                case.session_writes += 1
                break
        case.queries.append(len(sqls))
        case.db_ms.append(sum(ms for ms, _ in timer.statements))
        case.last_sql = timer.statements
    return response


def timed_call(case: Case, fn, *, record=True) -> int:
    from django.db import connection

    gc.collect()  # start each scan from a clean heap, as a worker process between tasks would
    timer = DbTimer()
    with connection.execute_wrapper(timer):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        elapsed = (time.perf_counter() - t0) * 1000
        cpu = (time.process_time() - c0) * 1000
    if record:
        case.times.append(elapsed)
        case.cpu_ms.append(cpu)
        case.queries.append(len(timer.statements))
        case.db_ms.append(sum(ms for ms, _ in timer.statements))
        case.results.append(result)
        case.last_sql = timer.statements
        case.last_params = timer.params
    return result


def reset_scan_state(now: datetime) -> dict[str, int]:
    """Undo what earlier scans did, so the next scan_doses() is a first, alert-raising run:
    delete the scans' open alerts, clear the missed marks of the look-back window."""
    from django.db import connection

    from medications.services import SCAN_LOOKBACK

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM facility_alert WHERE resolved_at IS NULL AND kind = ANY(%s)",
            [SCAN_ALERT_KINDS],
        )
        alerts = cursor.rowcount
        cursor.execute(
            "UPDATE medications_scheduleddose SET marked_missed_at = NULL "
            "WHERE marked_missed_at IS NOT NULL AND scheduled_at >= %s",
            [now - SCAN_LOOKBACK - timedelta(hours=1)],
        )
        return {"alerts deleted": alerts, "missed marks cleared": cursor.rowcount}


def table(cases: list[Case]) -> str:
    lines = [
        "| Case | N | p50 ms | p95 ms | max ms | queries | DB ms p50 | Python CPU ms p50 "
        "| §6 budget | met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for c in cases:
        p95 = percentile(c.times, 95)
        met = "—" if c.limit_ms is None else ("yes" if p95 <= c.limit_ms else "**no**")
        lines.append(
            f"| {c.label} | {len(c.times)} | {statistics.median(c.times):.1f} | {p95:.1f} | "
            f"{max(c.times):.1f} | {fmt_queries(c.queries)} | {statistics.median(c.db_ms):.1f} | "
            f"{statistics.median(c.cpu_ms):.1f} | {c.budget} | {met} |"
        )
    return "\n".join(lines)


def web_plans(client, url: str, unit_name: str) -> list[tuple[str, str, str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the board's dose query and its prefetch, captured from a real
    request; then the dose query again without Django's plain index on ScheduledDose.order_id
    (dropped inside a transaction that is rolled back: the bench database keeps it)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    sqls = [q["sql"] for q in ctx.captured_queries]
    doses = next(s for s in sqls if s.startswith('SELECT "medications_scheduleddose"'))
    prefetch = next(s for s in sqls if s.startswith('SELECT "medications_administration"'))
    out = [
        (f"MAR board, {unit_name} day shift: doses", doses, explain(doses)),
        (
            f"MAR board, {unit_name} day shift: live administrations (prefetch)",
            prefetch,
            explain(prefetch),
        ),
    ]
    return out


def scan_plans(now, year_order) -> list[tuple[str, str, str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of scan_doses()' candidate query, captured from a real
    (steady) run. (The hourly top-up no longer reads existing doses: it starts from each
    order's materialized_until.)"""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from medications import services

    with CaptureQueriesContext(connection) as ctx:
        services.scan_doses(now=now)
    sqls = [q["sql"] for q in ctx.captured_queries]
    main = next(s for s in sqls if s.startswith('SELECT "medications_scheduleddose"'))
    return [
        (
            "scan_doses(): undocumented, windowed doses past their window, with the next dose "
            "of each order, their order, stay, client, facility and medication",
            main,
            explain(main),
        ),
    ]


def plan_summary(plan: str) -> str:
    """Execution time, shared buffers and the access path of each table, from a plan's text."""
    exec_ms = re.search(r"Execution Time: ([\d.]+) ms", plan)
    top = re.search(r"Buffers: shared ([^\n]+)", plan)
    scans = []
    for m in re.finditer(
        r"((?:Parallel )?"
        r"(?:Index Only Scan|Index Scan|Bitmap Heap Scan|Bitmap Index Scan|Seq Scan))"
        r"(?: Backward)?(?: using (\S+))? on (\S+)[^\n]*actual time=[\d.]+\.\.([\d.]+) "
        r"rows=(\d+) loops=(\d+)",
        plan,
    ):
        kind, index, tbl, _, rows, loops = m.groups()
        scans.append(f"{kind}{' ' + index if index else ''} on {tbl} ({rows} rows × {loops})")
    bits = [f"{exec_ms.group(1)} ms" if exec_ms else "?"]
    if top:
        bits.append(f"buffers {top.group(1)}")
    return "; ".join(bits) + ". " + "; ".join(scans)


def profile(label: str, fn, repeat: int) -> None:
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(repeat):
        fn()
    prof.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(35)
        print(f"\n## cProfile, {label} x{repeat}, by {order}\n")
        print("```")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:14000])
        print("```")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="timed requests per page (200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests per page (10)")
    parser.add_argument("--scans", type=int, default=10, help="timed steady runs per scan (10)")
    parser.add_argument("--no-plans", action="store_true", help="skip EXPLAIN (ANALYZE)")
    parser.add_argument("--show-queries", action="store_true", help="SQL of one run per case")
    parser.add_argument(
        "--profile",
        choices=["mar", "pass", "scan_doses", "prn", "counts", "extend"],
        help="cProfile one case instead of the benchmark",
    )
    parser.add_argument("--debug", action="store_true", help="keep DEBUG on while timing")
    args = parser.parse_args(argv)

    _env.setup()
    revision = app_revision()  # the code imported now is what is measured
    import django
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse
    from django.utils import timezone

    from clients.models import Admission
    from facility.models import Alert, Facility, Unit, User
    from medications import services
    from medications.models import Administration, Order, ScheduledDose

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        sys.exit(f"{_env.database_name()} has unapplied migrations: run bench/mar_generate.py.")
    board = Facility.objects.filter(name=gen.BOARD_FACILITY).first()
    scan = Facility.objects.filter(name=gen.SCAN_FACILITY).first()
    if board is None or scan is None:
        sys.exit(f"No MAR bench data in {_env.database_name()}: run bench/mar_generate.py.")

    # Catch up: doses up to now + 48 h (the beat task's first step), then charting up to now.
    t = time.perf_counter()
    now = timezone.now()
    caught_up = services.doses_extend_horizon(now=now)
    t_extend = time.perf_counter() - t
    topped = {f.name: gen.top_up(f, now) for f in (board, scan)}
    with connection.cursor() as cursor:
        # VACUUM too: the hourly top-up case of an earlier run rewrote every order row twice.
        for tbl in gen.ANALYZED:
            cursor.execute(f"VACUUM ANALYZE {tbl}")
    top_up = (
        f"Catch-up before timing: doses_extend_horizon() added {caught_up:,} doses "
        f"({t_extend:.1f} s); top-up to now: "
        + "; ".join(
            f"{name}: " + (", ".join(f"{v:,} {k}" for k, v in counts.items() if v) or "nothing")
            for name, counts in topped.items()
        )
        + f" ({time.perf_counter() - t:.1f} s in all)"
    )
    scan_now = now

    nurse = User.objects.get(username=gen.NURSE)
    units = {u.name: u for u in Unit.objects.filter(facility=board)}
    main_unit, annex = units[gen.MAIN[0]], units[gen.ANNEX[0]]
    open_adm = Admission.objects.current()
    n_main = open_adm.filter(unit=main_unit).count()
    n_annex = open_adm.filter(unit=annex).count()
    n_open = open_adm.count()
    doses_main = ScheduledDose.objects.filter(order__admission__unit=main_unit).count()
    doses_annex = ScheduledDose.objects.filter(order__admission__unit=annex).count()
    pass_adm = (
        open_adm.filter(unit=main_unit).select_related("client", "bed").order_by("bed__label")
    ).first()
    pass_orders = Order.objects.filter(admission=pass_adm)
    pass_doses = ScheduledDose.objects.filter(order__admission=pass_adm).count()
    n_scheduled = Order.objects.exclude(frequency="prn").count()
    day, current = services.current_shift(now, board.tz)
    mar = reverse("medications:mar")
    urls = {
        "main": f"{mar}?unit={main_unit.public_id}&shift=day",
        "annex": f"{mar}?unit={annex.public_id}&shift=day",
        "current": f"{mar}?unit={main_unit.public_id}",
        "all": f"{mar}?shift=day",
        "pass": reverse("medications:med_pass", args=[pass_adm.public_id]),
    }
    cases = {
        "main": Case(
            f"(a) MAR, {main_unit.name}, shift=day ({n_main} clients × 8 scheduled orders, "
            f"{doses_main:,} doses behind them)",
            budget="p95 ≤ 150 ms, queries constant",
            limit_ms=150,
        ),
        "annex": Case(
            f"(a) MAR, {annex.name}, shift=day ({n_annex} clients, {doses_annex:,} doses)",
            budget="same query count as 60",
        ),
        "current": Case(
            f"(a) MAR, {main_unit.name}, current shift ({current} {day}; no shift parameter)",
            budget="p95 ≤ 150 ms",
            limit_ms=150,
        ),
        "all": Case(f"(a') MAR, all units, shift=day ({n_main + n_annex} clients; extra)"),
        "pass": Case(
            f"(b) Med pass, one {main_unit.name} client ({pass_orders.count()} orders, "
            f"{pass_doses:,} doses)"
        ),
        "scan_first": Case(
            f"(c) scan_doses(), first run: raises every late/missed alert ({n_open:,} open "
            "admissions)",
            budget="≤ 1 s",
            limit_ms=1000,
        ),
        "scan": Case(
            "(c) scan_doses(), steady (all raised already)", budget="≤ 1 s", limit_ms=1000
        ),
        "prn_first": Case("(c) scan_prn_reassessments(), first run", budget="≤ 1 s", limit_ms=1000),
        "prn": Case("(c) scan_prn_reassessments(), steady", budget="≤ 1 s", limit_ms=1000),
        "counts_first": Case("(c) scan_shift_counts(), first run", budget="≤ 1 s", limit_ms=1000),
        "counts": Case("(c) scan_shift_counts(), steady", budget="≤ 1 s", limit_ms=1000),
        "extend": Case(
            f"(c) doses_extend_horizon(), every minute ({n_scheduled:,} scheduled orders, all "
            "materialized 48 h ahead)",
            budget="≤ 1 s (same beat task)",
            limit_ms=1000,
        ),
        "extend_hourly": Case(
            f"(c) doses_extend_horizon(), hourly top-up: all {n_scheduled:,} orders due (they "
            "were topped up together an hour earlier)",
            budget="≤ 1 s (same beat task)",
            limit_ms=1000,
        ),
    }
    tracks_horizon = gen.has_materialized_until()  # Order.materialized_until, where the app has it
    year_order = Order.objects.filter(admission__unit=main_unit).exclude(frequency="prn").first()
    client = Client()
    client.force_login(nurse)
    web = ["main", "annex", "current", "all", "pass"]

    scan_fns = {
        "scan": lambda: services.scan_doses(now=scan_now),
        "prn": lambda: services.scan_prn_reassessments(now=scan_now),
        "counts": lambda: services.scan_shift_counts(now=scan_now),
        "extend": lambda: services.doses_extend_horizon(now=scan_now),
    }

    if args.profile:
        with override_settings(DEBUG=args.debug):
            if args.profile in ("mar", "pass"):
                key = "main" if args.profile == "mar" else "pass"
                for _ in range(args.warmup):
                    timed_get(client, cases[key], urls[key], record=False)
                profile(f"GET {urls[key]}", lambda: timed_get(client, cases[key], urls[key]), 50)
                c = cases[key]
                print(f"\n{c.label}: {len(c.last_sql)} statements, slowest:")
                for ms, sql in sorted(c.last_sql, key=lambda x: -x[0])[:8]:
                    print(f"- {ms:8.2f} ms  {short(sql, 200)}")
            else:
                key = {"scan_doses": "scan"}.get(args.profile, args.profile)
                fn = scan_fns[key]
                if key == "extend" and tracks_horizon:  # profile the hourly top-up of every order

                    def fn():
                        Order.objects.exclude(frequency__in=["prn", "once"]).filter(
                            materialized_until__isnull=False
                        ).update(
                            materialized_until=scan_now
                            + services.HORIZON
                            - timedelta(hours=1, minutes=1)
                        )
                        return services.doses_extend_horizon(now=scan_now)

                fn()  # raise what there is to raise: the profile is of the steady state
                repeat = 1 if key == "extend" else 3
                profile(args.profile + " (steady)", lambda: timed_call(cases[key], fn), repeat)
                c = cases[key]
                print(f"\n{c.label}: {len(c.last_sql)} statements, slowest:")
                for ms, sql in sorted(c.last_sql, key=lambda x: -x[0])[:8]:
                    print(f"- {ms:8.2f} ms  {short(sql, 200)}")
        return 0

    load_before = os.getloadavg()
    started = time.perf_counter()
    with override_settings(DEBUG=args.debug):
        # (a), (b): round-robin, so every page sees the same machine conditions
        for key in web:
            for _ in range(args.warmup):
                timed_get(client, cases[key], urls[key], record=False)
        for _ in range(args.n):
            for key in web:
                timed_get(client, cases[key], urls[key])
        plans = [] if args.no_plans else web_plans(client, urls["main"], main_unit.name)
        # (c) the scans, at the fixed instant T = scan_now
        reset = reset_scan_state(scan_now)
        timed_call(cases["scan_first"], scan_fns["scan"])
        first_marked = ScheduledDose.objects.filter(marked_missed_at=scan_now).count()
        for _ in range(args.scans):
            timed_call(cases["scan"], scan_fns["scan"])
        timed_call(cases["prn_first"], scan_fns["prn"])
        for _ in range(args.scans):
            timed_call(cases["prn"], scan_fns["prn"])
        timed_call(cases["counts_first"], scan_fns["counts"])
        for _ in range(args.scans):
            timed_call(cases["counts"], scan_fns["counts"])
        for _ in range(args.scans):
            timed_call(cases["extend"], scan_fns["extend"])
        if tracks_horizon:
            # Every order topped up at T falls behind the 47-hour mark together an hour later:
            # make them all due again (one hour back) and time the run that tops them all up.
            scheduled = Order.objects.exclude(frequency__in=["prn", "once"]).filter(
                materialized_until__isnull=False
            )
            for _ in range(args.scans):
                scheduled.update(
                    materialized_until=scan_now + services.HORIZON - timedelta(hours=1, minutes=1)
                )
                timed_call(cases["extend_hourly"], scan_fns["extend"])
        if not args.no_plans:
            plans += scan_plans(scan_now, year_order)
    wall = time.perf_counter() - started
    load_after = os.getloadavg()

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        db_size = cursor.fetchone()[0]
    print(
        f"Haven MAR bench — {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {revision}, "
        f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Django {django.get_version()}, PostgreSQL {pg_version}, "
        f"DEBUG={'on' if args.debug else 'off'} while timing"
    )
    print(
        f"Data: {_env.database_name()} ({db_size}): {ScheduledDose.objects.count():,} doses, "
        f"{Administration.objects.count():,} administrations, {Alert.objects.count():,} alerts "
        f"({Alert.objects.open().count():,} open), {n_open:,} open admissions. {top_up}."
    )
    print(
        f"Signed in as {gen.NURSE} (nurse); warm-up {args.warmup}, N={args.n} (pages "
        f"round-robin); scans at T={scan_now:%H:%M:%S} UTC: 1 first + {args.scans} steady each "
        f"(doses_extend_horizon: {args.scans} every-minute + {args.scans if tracks_horizon else 0} "
        "hourly). "
        f"Wall {wall:.0f} s. Load average (1 min) {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after.\n"
    )
    order = [
        "main",
        "annex",
        "current",
        "all",
        "pass",
        "scan_first",
        "scan",
        "prn_first",
        "prn",
        "counts_first",
        "counts",
        "extend",
        "extend_hourly",
    ]
    if not tracks_horizon:
        order.remove("extend_hourly")
    print(table([cases[k] for k in order]))
    print()
    qa, qb = set(cases["main"].queries), set(cases["annex"].queries)
    print(
        f"- Query count, MAR: {n_main} clients → {fmt_queries(cases['main'].queries)}; "
        f"{n_annex} clients → {fmt_queries(cases['annex'].queries)}; all "
        f"{n_main + n_annex} → {fmt_queries(cases['all'].queries)} "
        f"({'equal' if qa == qb == set(cases['all'].queries) else 'DIFFERENT'})."
    )
    writes = ", ".join(f"{cases[k].session_writes} {k}" for k in web if cases[k].session_writes)
    print(
        "- Not in the query counts above: the idle-timeout middleware's once-a-minute session "
        f"save (BEGIN, UPDATE django_session, COMMIT: +3), which fell on {writes or 'none'} of "
        "the timed requests."
    )
    if current == "day":
        print("- The current shift is the day shift: cases 1 and 3 show the same doses.")
    print(
        f"- Scan state reset before the first run: {reset['alerts deleted']:,} open alerts "
        f"deleted, {reset['missed marks cleared']:,} missed marks cleared. First scan_doses() "
        f"raised {cases['scan_first'].results[0]:,} alerts and marked {first_marked:,} doses "
        f"missed; steady runs raised {sorted(set(cases['scan'].results))}."
    )
    print(
        f"- scan_prn_reassessments(): first run raised {cases['prn_first'].results[0]}, steady "
        f"{sorted(set(cases['prn'].results))}; scan_shift_counts(): first run raised "
        f"{cases['counts_first'].results[0]}, steady {sorted(set(cases['counts'].results))}; "
        f"doses_extend_horizon() steady added {sorted(set(cases['extend'].results))}."
    )
    # Where doses_extend_horizon's time goes: one query per order, by facility.
    board_orders = set(Order.objects.filter(admission__facility=board).values_list("pk", flat=True))
    per = {"board (year-long orders)": [0, 0.0], "scan (49 h orders)": [0, 0.0]}
    heavy = cases["extend_hourly" if tracks_horizon else "extend"]
    for (ms, sql), params in zip(heavy.last_sql, heavy.last_params, strict=True):
        if '"medications_scheduleddose"."order_id" = %s' in sql:
            key = (
                "board (year-long orders)" if params[0] in board_orders else ("scan (49 h orders)")
            )
            per[key][0] += 1
            per[key][1] += ms
    print(
        f"- {heavy.label.split(', ', 1)[1].split(' (')[0]}, last run: "
        f"{len(heavy.last_sql):,} statements, {sum(heavy.results[-1:]):,} doses added; existing "
        "dose times read per order: "
        + "; ".join(f"{k}: {n:,} queries, {ms:.0f} ms DB" for k, (n, ms) in per.items())
        + f"; Python CPU {heavy.cpu_ms[-1]:.0f} ms."
    )
    p50 = {k: statistics.median(c.times) for k, c in cases.items() if c.times}
    total_p50 = sum(p50[k] for k in ("scan", "prn", "counts", "extend"))
    hourly = total_p50 - p50["extend"] + p50.get("extend_hourly", p50["extend"])
    print(
        "- The beat task medications.tasks.scan_doses (all four, steady, sum of p50s): "
        f"~{total_p50:,.0f} ms"
        + (f"; in the minute of the hourly top-up ~{hourly:,.0f} ms." if tracks_horizon else ".")
    )

    if args.show_queries:
        for key in order:
            c = cases[key]
            print(f"\n### {c.label}: {len(c.last_sql)} statements (last run)\n")
            for ms, sql in c.last_sql[:60]:
                print(f"- {ms:7.2f} ms  {short(sql)}")
    for key in ("main", "pass", "scan_first", "scan", "prn", "counts"):
        c = cases[key]
        print(f"\nSlowest statements, {key} (last run, {len(c.last_sql)} statements):")
        for ms, sql in sorted(c.last_sql, key=lambda x: -x[0])[:5]:
            print(f"- {ms:8.2f} ms  {short(sql, 160)}")

    if plans:
        summaries = []
        for title, sql, plan in plans:
            summaries.append((title, plan_summary(plan)))
            print(f"\n### EXPLAIN (ANALYZE, BUFFERS): {title}\n")
            if sql:
                print(f"```sql\n{short(sql, 1500)}\n```\n")
            print(f"```\n{plan}\n```")
        print("\n### Plan summary\n")
        for title, summary in summaries:
            print(f"- {title}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
