#!/usr/bin/env python
"""Time the rounds board, a whole-unit round submit and the minute scan (DESIGN.md §6) against
the database made by bench/rounds_generate.py.

(a) GET the rounds board of a 30-client unit (a year of q15 history behind every client), and of
    the 5-client Annex (two days of history): the query counts must be equal. The board's live
    part (the HTMX poll, every 30 s per tablet) is timed too, as an extra.
(b) POST one 30-client round (every client included, location and status chosen, a fresh
    submission key each time), rotating over the four 30-bed units; the answer is the 302 back
    to the board. The statements are grouped by BEGIN/COMMIT to show the round is one
    transaction. The posted checks are deleted afterwards, so runs do not pile them up.
(c) scan_missed_checks() over all 5,125 open admissions (5,000 in the scan facility): the
    steady state (mark one minute back, nothing new to raise); the minute after a block
    boundary (the just-ended block's alerts deleted first, so it raises the ~2% skipped again);
    and a run that raises an alert for every client (a whole block with no check), its alerts
    deleted after each run.
(d) EXPLAIN (ANALYZE, BUFFERS) of the board's last-check queries and the scan's round-check
    query, captured from a real request and a real scan.

Requests go through Django's test Client in-process (middleware, session, permissions; no
network, no WSGI server), signed in (force_login) as rtech01, a technician of the board
facility. Timed requests and scans run under override_settings(DEBUG=False). Before timing, the
history is topped up to now with the generator's own deterministic SQL (rounds_generate.
write_history: only what is missing is added), so the board and the scan see charting that went
on until this minute; the scans are then run at that instant (now=T), so every steady run does
the same work.

    .venv/bin/python bench/rounds_run.py                 # N=200, scans 20 + 5, plans
    .venv/bin/python bench/rounds_run.py --n 50 --scans 5 --raise-scans 2 --no-plans
    .venv/bin/python bench/rounds_run.py --profile board # cProfile: board | post | scan
"""

import argparse
import cProfile
import io
import os
import platform
import pstats
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/haven_bench_rounds")
import _env  # noqa: E402
import rounds_generate as gen  # noqa: E402
from _report import explain, fmt_queries, percentile, short  # noqa: E402

TRANSACTION_SQL = {"BEGIN", "COMMIT", "ROLLBACK"}
SAFE_STATUSES = ["A", "A", "A", "T", "G", "R", "E", "RB", "S"]  # S: with respirations observed
LOCATIONS = ["RM", "RM", "DAY", "DAY", "GRP", "DR", "HALL"]


@dataclass
class Case:
    label: str
    budget: str = "—"
    limit_ms: float | None = None
    times: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    db_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    last_sql: list[tuple[float, str]] = field(default_factory=list)


class DbTimer:
    """Counts and times each statement sent to PostgreSQL (execute wrapper)."""

    def __init__(self):
        self.statements: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append(((time.perf_counter() - t0) * 1000, sql))


def timed_request(
    client, case: Case, method: str, url: str, data=None, *, expect: int, record=True
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timer = DbTimer()
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timer):
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.post(url, data) if method == "POST" else client.get(url)
        elapsed = (time.perf_counter() - t0) * 1000
        cpu = (time.process_time() - c0) * 1000
    if response.status_code != expect:
        body = response.content.decode(errors="replace")[:2000]
        raise SystemExit(f"{method} {url} answered {response.status_code}, not {expect}:\n{body}")
    if not record:
        return ctx.captured_queries
    case.times.append(elapsed)
    case.cpu_ms.append(cpu)
    case.queries.append(len(ctx.captured_queries))  # BEGIN/COMMIT count, as in assertNumQueries
    case.db_ms.append(sum(ms for ms, _ in timer.statements))
    case.last_sql = [(ms, sql) for ms, sql in timer.statements]
    return ctx.captured_queries


def round_post_data(rows_of_unit, codes, rng) -> dict:
    data = {"submission_key": str(uuid.uuid4()), "minutes_back": "0", "late_reason": ""}
    include = []
    for pid in rows_of_unit:
        include.append(pid)
        status = rng.choice(SAFE_STATUSES)
        location = "RM" if status in ("S", "RB") else rng.choice(LOCATIONS)
        data[f"loc-{pid}"] = str(codes[("location", location)])
        data[f"st-{pid}"] = str(codes[("status", status)])
        if status == "S":
            data[f"resp-{pid}"] = "on"
    data["include"] = include
    return data


def timed_scan(case: Case, now: datetime, *, record=True) -> int:
    from django.db import connection

    from observations.services import scan_missed_checks

    timer = DbTimer()
    with connection.execute_wrapper(timer):
        t0, c0 = time.perf_counter(), time.process_time()
        raised = scan_missed_checks(now=now)
        elapsed = (time.perf_counter() - t0) * 1000
        cpu = (time.process_time() - c0) * 1000
    if record:
        case.times.append(elapsed)
        case.cpu_ms.append(cpu)
        case.queries.append(len(timer.statements))
        case.db_ms.append(sum(ms for ms, _ in timer.statements))
        case.last_sql = timer.statements
        case.notes.append(str(raised))
    return raised


def reset_mark(at: datetime) -> None:
    from observations.models import ScanMark
    from observations.services import MISSED_SCAN

    ScanMark.objects.filter(name=MISSED_SCAN).update(scanned_until=at)


def delete_raised(now: datetime) -> int:
    """Remove the alerts a raise run made (raw SQL: no per-row signals, no audit entries)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM facility_alert WHERE kind = 'missed_check' AND raised_at = %s", [now]
        )
        return cursor.rowcount


def forget_block(suffix: str) -> int:
    """Delete the missed-check alerts of one block (dedupe keys end with its UTC start)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM facility_alert WHERE kind = 'missed_check' AND dedupe_key LIKE %s",
            ["missed:%" + suffix],
        )
        return cursor.rowcount


def forget_rounds(keys: list[str]) -> int:
    """Delete the rounds the submit benchmark recorded, so runs do not pile up checks."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM observations_roundcheck WHERE submission_key = ANY(%s::uuid[])", [keys]
        )
        return cursor.rowcount


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


def transactions_of(sqls: list[str]) -> str:
    """What each BEGIN … COMMIT of a request held, e.g. "[SELECT, INSERT roundcheck]"."""
    import re

    out, current = [], None
    for sql in sqls:
        if sql == "BEGIN":
            current = []
        elif sql in ("COMMIT", "ROLLBACK"):
            runs: list[list] = []  # repeated statements shown once, with a count
            for item in current or []:
                if runs and runs[-1][0] == item:
                    runs[-1][1] += 1
                else:
                    runs.append([item, 1])
            out.append("[" + ", ".join(f"{i} ×{n}" if n > 1 else i for i, n in runs) + "]")
            current = None
        elif current is not None:
            verb = sql.split(None, 1)[0]
            table = re.search(r'(?:FROM|INTO|UPDATE) "(\w+)"', sql)
            current.append(f"{verb} {table.group(1) if table else ''}".strip())
    return " then ".join(out)


def profile(label: str, fn, repeat: int) -> None:
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(repeat):
        fn()
    prof.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(30)
        print(f"\n## cProfile, {label} x{repeat}, by {order}\n")
        print("```")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:12000])
        print("```")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="timed requests per case (200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests per case (10)")
    parser.add_argument("--scans", type=int, default=20, help="timed steady-state scans (20)")
    parser.add_argument("--raise-scans", type=int, default=5, help="timed raising scans (5)")
    parser.add_argument("--no-plans", action="store_true", help="skip EXPLAIN (ANALYZE)")
    parser.add_argument("--show-queries", action="store_true", help="SQL of one run per case")
    parser.add_argument("--profile", choices=["board", "post", "scan"], help="cProfile one case")
    parser.add_argument("--debug", action="store_true", help="keep DEBUG on while timing")
    args = parser.parse_args(argv)

    _env.setup()
    import django
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.utils import timezone

    from clients.models import Admission
    from facility.models import Alert, Facility, Unit, User
    from observations.models import RoundCheck, RoundCode

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        sys.exit(f"{_env.database_name()} has unapplied migrations: run bench/rounds_generate.py.")
    board = Facility.objects.filter(name=gen.BOARD_FACILITY).first()
    scan = Facility.objects.filter(name=gen.SCAN_FACILITY).first()
    if board is None or scan is None:
        sys.exit(f"No rounds bench data in {_env.database_name()}: run rounds_generate.py.")

    # Top the history up to now: what the floor would have charted since generation.
    t = time.perf_counter()
    now = timezone.now()
    latest = RoundCheck.objects.filter(admission__facility=board).order_by("-observed_at")
    latest = latest.values_list("observed_at", flat=True).first() or now - gen.SCAN_HISTORY
    topped = gen.write_history(board, start=gen.floor15(latest) - timedelta(minutes=15), end=now)
    scan_latest = RoundCheck.objects.filter(admission__facility=scan).order_by("-observed_at")
    scan_latest = scan_latest.values_list("observed_at", flat=True).first() or now
    scan_from = max(gen.floor15(scan_latest) - timedelta(minutes=15), now - gen.SCAN_HISTORY)
    topped_scan = gen.write_history(scan, start=scan_from, end=now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE observations_roundcheck")
        cursor.execute("ANALYZE facility_alert")
    top_up = (
        f"Top-up to now: {topped[0]:,} checks / {topped[1]:,} alerts (board facility), "
        f"{topped_scan[0]:,} / {topped_scan[1]:,} (scan facility) "
        f"in {time.perf_counter() - t:.1f} s"
    )

    tech = User.objects.get(username=gen.TECHNICIAN)
    units = list(Unit.objects.filter(facility=board).order_by("name"))
    big = [u for u in units if u.name != gen.ANNEX[0]]
    annex = next(u for u in units if u.name == gen.ANNEX[0])
    unit = next(u for u in big if u.name == "North Hall")
    open_adm = Admission.objects.current()
    per_unit = {
        u.pk: [str(p) for p in open_adm.filter(unit=u).values_list("public_id", flat=True)]
        for u in big
    }
    n_unit, n_annex = len(per_unit[unit.pk]), open_adm.filter(unit=annex).count()
    history_unit = RoundCheck.objects.filter(admission__unit=unit).count()
    history_annex = RoundCheck.objects.filter(admission__unit=annex).count()
    codes = {(c.kind, c.code): c.pk for c in RoundCode.objects.filter(facility=board)}
    n_open = open_adm.count()
    n_checks = RoundCheck.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        db_size = cursor.fetchone()[0]

    board_url = f"/rounds/{unit.public_id}/"
    cases = {
        "board": Case(
            f"(a) Rounds board, {unit.name} ({n_unit} clients, {history_unit:,} checks behind "
            "them)",
            budget="p95 ≤ 50 ms, queries constant",
            limit_ms=50,
        ),
        "annex": Case(
            f"(a) Rounds board, {annex.name} ({n_annex} clients, {history_annex:,} checks)",
            budget="same query count as 30",
        ),
        "status": Case(f"(a') Board live status (HTMX poll), {unit.name} (extra)"),
        "post": Case(
            f"(b) Submit a {n_unit}-client round (POST → 302)",
            budget="p95 ≤ 100 ms, one transaction",
            limit_ms=100,
        ),
        "steady": Case(
            f"(c) scan_missed_checks(), steady state ({n_open:,} open admissions)",
            budget="≤ 1 s",
            limit_ms=1000,
        ),
        "boundary": Case(
            f"(c) scan_missed_checks(), minute after a block boundary ({n_open:,}; raises the "
            "~2% skipped)",
            budget="≤ 1 s",
            limit_ms=1000,
        ),
        "raise": Case(
            f"(c) scan_missed_checks(), raising one alert per client ({n_open:,})",
            budget="≤ 1 s",
            limit_ms=1000,
        ),
    }
    client = Client()
    client.force_login(tech)
    rng = random.Random(7)
    requests = [
        ("board", "GET", board_url, 200),
        ("annex", "GET", f"/rounds/{annex.public_id}/", 200),
        ("status", "GET", f"/rounds/{unit.public_id}/status/", 200),
    ]

    posted_keys: list[str] = []

    def post_once(i: int, record=True):
        u = big[i % len(big)]
        data = round_post_data(per_unit[u.pk], codes, rng)
        posted_keys.append(data["submission_key"])
        return timed_request(
            client, cases["post"], "POST", f"/rounds/{u.public_id}/", data, expect=302,
            record=record,
        )  # fmt: skip

    scan_now = now  # the instant the history was topped up to
    # The minute after a block boundary: the block that just ended is judged; its alerts (made by
    # the generator for the ~2% skipped) are deleted before each run so the scan raises them.
    boundary_now = gen.floor15(scan_now) + timedelta(seconds=20)
    if boundary_now > scan_now:
        boundary_now -= timedelta(minutes=15)
    ended_block = gen.floor15(boundary_now) - timedelta(minutes=15)
    ended_suffix = ":" + ended_block.astimezone(UTC).isoformat()
    # A raising run: the whole block after the next one has no checks for anybody.
    raise_now = gen.floor15(scan_now) + timedelta(minutes=30, seconds=30)

    if args.profile:
        with override_settings(DEBUG=args.debug):
            if args.profile == "board":
                for _ in range(args.warmup):
                    timed_request(client, cases["board"], "GET", board_url, expect=200)
                profile(
                    "board GET",
                    lambda: timed_request(client, cases["board"], "GET", board_url, expect=200),
                    50,
                )
            elif args.profile == "post":
                for i in range(args.warmup):
                    post_once(i, record=False)
                counter = iter(range(10**6))
                profile("round POST", lambda: post_once(next(counter)), 50)
                forget_rounds(posted_keys)
            else:
                reset_mark(scan_now - timedelta(minutes=1))
                timed_scan(cases["steady"], scan_now, record=False)

                def steady():
                    reset_mark(scan_now - timedelta(minutes=1))
                    timed_scan(cases["steady"], scan_now)

                profile("steady scan", steady, 3)

                def raising():
                    reset_mark(raise_now - timedelta(minutes=1))
                    timed_scan(cases["raise"], raise_now)
                    delete_raised(raise_now)

                profile("raising scan", raising, 1)
                for c in (cases["steady"], cases["raise"]):
                    print(f"\n{c.label}: {len(c.last_sql)} statements, slowest:")
                    for ms, sql in sorted(c.last_sql, reverse=True)[:8]:
                        print(f"- {ms:8.2f} ms  {short(sql, 200)}")
        return 0

    load_before = os.getloadavg()
    started = time.perf_counter()
    with override_settings(DEBUG=args.debug):
        # (a) board, round-robin with the Annex and the live part
        for name, method, url, expect in requests:
            for _ in range(args.warmup):
                timed_request(client, cases[name], method, url, expect=expect, record=False)
        for _ in range(args.n):
            for name, method, url, expect in requests:
                timed_request(client, cases[name], method, url, expect=expect)
        # (b) whole-unit rounds
        for i in range(args.warmup):
            post_once(i, record=False)
        transactions = set()
        for i in range(args.n):
            captured = post_once(i)
            sqls = [q["sql"] for q in captured]
            transactions.add(transactions_of(sqls))
        cases["post"].notes.append("transactions per submit: " + " | ".join(sorted(transactions)))
        removed = forget_rounds(posted_keys)
        cases["post"].notes.append(f"{removed:,} posted checks deleted afterwards")
        # (c) scans
        reset_mark(scan_now - timedelta(minutes=1))
        timed_scan(cases["steady"], scan_now, record=False)  # warm-up
        for _ in range(args.scans):
            reset_mark(scan_now - timedelta(minutes=1))
            timed_scan(cases["steady"], scan_now)
        for _ in range(args.scans):
            forget_block(ended_suffix)
            reset_mark(boundary_now - timedelta(minutes=1))
            timed_scan(cases["boundary"], boundary_now)
        deleted = []
        for _ in range(args.raise_scans):
            reset_mark(raise_now - timedelta(minutes=1))
            timed_scan(cases["raise"], raise_now)
            deleted.append(delete_raised(raise_now))
        reset_mark(scan_now - timedelta(minutes=1))
    wall = time.perf_counter() - started
    load_after = os.getloadavg()

    print(
        f"Haven rounds bench — {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
        f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Django {django.get_version()}, PostgreSQL {pg_version}, "
        f"DEBUG={'on' if args.debug else 'off'} while timing"
    )
    print(
        f"Data: {_env.database_name()} ({db_size}): {n_checks:,} round checks, "
        f"{Alert.objects.count():,} alerts ({Alert.objects.open().count():,} open), "
        f"{n_open:,} open admissions. {top_up}."
    )
    print(
        f"Signed in as {gen.TECHNICIAN}; warm-up {args.warmup}, N={args.n} (board cases "
        f"round-robin), scans {args.scans} steady + {args.raise_scans} raising. Wall "
        f"{wall:.0f} s. Load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} "
        "after.\n"
    )
    order = ["board", "annex", "status", "post", "steady", "boundary", "raise"]
    print(table([cases[k] for k in order]))
    print()
    qa, qb = set(cases["board"].queries), set(cases["annex"].queries)
    print(
        f"- Query count, board: {n_unit} clients → {fmt_queries(cases['board'].queries)}; "
        f"{n_annex} clients → {fmt_queries(cases['annex'].queries)} "
        f"({'equal' if qa == qb else 'DIFFERENT'})."
    )
    print(f"- Round submit: {'; '.join(cases['post'].notes)}.")
    steady_raised = sorted(set(cases["steady"].notes))
    print(f"- Steady scans raised: {', '.join(steady_raised)} alerts per run.")
    print(
        f"- Boundary scans (now = {boundary_now:%H:%M:%S} UTC, judging the "
        f"{ended_block:%H:%M} UTC block) raised: {', '.join(sorted(set(cases['boundary'].notes)))}"
        " alerts per run."
    )
    print(
        f"- Raising scans raised: {', '.join(sorted(set(cases['raise'].notes)))} alerts per run "
        f"(deleted after each: {', '.join(map(str, sorted(set(deleted))))})."
    )

    if args.show_queries:
        for key in order:
            c = cases[key]
            print(f"\n### {c.label}: {len(c.last_sql)} statements (last run)\n")
            for ms, sql in c.last_sql:
                print(f"- {ms:7.2f} ms  {short(sql)}")
    for key in ("steady", "boundary", "raise"):
        c = cases[key]
        print(f"\nSlowest statements of the last {key} scan ({len(c.last_sql)} statements):")
        for ms, sql in sorted(c.last_sql, key=lambda x: -x[0])[:6]:
            print(f"- {ms:8.2f} ms  {short(sql, 160)}")

    if not args.no_plans:
        # (d) the plans, from SQL captured in a real request and a real scan
        with CaptureQueriesContext(connection) as ctx:
            client.get(board_url)
        board_sql = [q["sql"] for q in ctx.captured_queries]
        last_id = next(s for s in board_sql if '"observations_roundcheck"' in s and "LIMIT 1" in s)
        last_rows = next(
            s for s in board_sql if s.startswith('SELECT "observations_roundcheck"."id"')
        )
        reset_mark(scan_now - timedelta(minutes=1))
        with CaptureQueriesContext(connection) as ctx:
            from observations.services import scan_missed_checks

            scan_missed_checks(now=scan_now)
        scan_sql = next(
            q["sql"]
            for q in ctx.captured_queries
            if q["sql"].startswith('SELECT "observations_roundcheck"."admission_id"')
        )
        for title, sql in (
            ("Board: latest check id per admission (last_checks, 1st query)", last_id),
            ("Board: those checks with their codes (last_checks, 2nd query)", last_rows),
            ("Scan: round checks of the window (scan_missed_checks)", scan_sql),
        ):
            print(f"\n### EXPLAIN (ANALYZE, BUFFERS): {title}\n")
            print(f"```sql\n{short(sql, 1200)}\n```\n")
            print(f"```\n{short(explain(sql), 100000)}\n```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
