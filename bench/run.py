#!/usr/bin/env python
"""Time the floor's pages against the bench database (made by bench/generate.py).

Each page is requested in-process through Django's test Client (the whole middleware stack,
session and auth included; no network, no WSGI server), signed in as a technician. Server time
is the wall time of `client.get()`; queries are counted with CaptureQueriesContext, which does
not depend on DEBUG. After a warm-up, the pages are requested round-robin N times each in the
same run, so they share the same machine conditions. The census PDF is timed separately, fewer
times (it takes seconds), and so is the audit trail (as a nurse: technicians may not see it).
Two charts are timed: the admitted client with the longest history, and one with a single short
stay, to show whether the chart's cost grows with history.

    .venv/bin/python bench/run.py                  # N=200, PDF x5, markdown table on stdout
    .venv/bin/python bench/run.py --n 50 --pdf 1   # quicker
    .venv/bin/python bench/run.py --show-queries   # also the SQL of one request per page

Settings load with DEBUG=1 (the project's development settings, which need no production
SECRET_KEY or static manifest); the timed requests run under override_settings(DEBUG=False), so
templates and cursors behave as in production. --debug keeps DEBUG on while timing.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _env  # noqa: E402
from _report import fmt_queries, percentile  # noqa: E402

TECHNICIAN = "tech01"
NURSE = "nurse01"  # the audit trail needs view_audit_trail, which technicians lack


@dataclass
class Case:
    label: str
    url: str
    budget: str = "—"
    times: list[float] = field(default_factory=list)  # ms
    queries: list[int] = field(default_factory=list)
    db_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # this process only (not PostgreSQL)
    last_sql: list[tuple[float, str]] = field(default_factory=list)


TRANSACTION_SQL = {"BEGIN", "COMMIT", "ROLLBACK"}


class DbTimer:
    """Times each round trip to PostgreSQL to the microsecond: statements through an execute
    wrapper, commits by wrapping psycopg's Connection.commit (the COMMIT waits for the WAL
    flush). Django's own captured "time" is rounded to the millisecond."""

    def __init__(self):
        self.statements: list[float] = []
        self.commits: list[float] = []

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((time.perf_counter() - t0) * 1000)


_active_timer: DbTimer | None = None


def _install_commit_timer() -> None:
    import psycopg

    original = psycopg.Connection.commit

    def commit(self):
        t0 = time.perf_counter()
        try:
            return original(self)
        finally:
            if _active_timer is not None:
                _active_timer.commits.append((time.perf_counter() - t0) * 1000)

    psycopg.Connection.commit = commit


def measure(client, case: Case, *, record: bool = True) -> None:
    global _active_timer
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timer = _active_timer = DbTimer()
    # CaptureQueriesContext slices connection.queries_log, a deque capped at 9,000 entries: once
    # full, the slice is empty. Start each request from an empty log.
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timer):
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.get(case.url)
        if response.streaming:
            b"".join(response.streaming_content)
        elapsed = (time.perf_counter() - t0) * 1000
        cpu = (time.process_time() - c0) * 1000
    _active_timer = None
    if response.status_code != 200:
        raise SystemExit(f"{case.url} answered {response.status_code}; is the bench generated?")
    if not record:
        return
    captured = ctx.captured_queries
    statements = [q for q in captured if q["sql"] not in TRANSACTION_SQL]
    if len(statements) != len(timer.statements):
        raise SystemExit(f"{case.url}: the query capture and the timer disagree")
    case.times.append(elapsed)
    case.cpu_ms.append(cpu)
    case.queries.append(len(captured))  # BEGIN and COMMIT count, as in assertNumQueries
    case.db_ms.append(sum(timer.statements) + sum(timer.commits))
    durations, commits = iter(timer.statements), iter(timer.commits)
    case.last_sql = []
    for q in captured:
        if q["sql"] == "COMMIT":
            ms = next(commits, float("nan"))
        elif q["sql"] in TRANSACTION_SQL:
            ms = 0.0  # BEGIN is sent with the next statement
        else:
            ms = next(durations)
        case.last_sql.append((ms, q["sql"]))


def table(cases: list[Case]) -> str:
    lines = [
        "| Page | N | p50 ms | p95 ms | max ms | queries | DB ms p50 | Python CPU ms p50 "
        "| nearest §6 budget |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in cases:
        lines.append(
            f"| {c.label} | {len(c.times)} | {statistics.median(c.times):.1f} | "
            f"{percentile(c.times, 95):.1f} | {max(c.times):.1f} | {fmt_queries(c.queries)} | "
            f"{statistics.median(c.db_ms):.1f} | {statistics.median(c.cpu_ms):.1f} | {c.budget} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="timed requests per page (200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests per page (10)")
    parser.add_argument("--pdf", type=int, default=5, help="timed census PDFs (5; 0 skips)")
    parser.add_argument(
        "--audit", type=int, default=20, help="timed audit-trail pages, as a nurse (20; 0 skips)"
    )
    parser.add_argument("--debug", action="store_true", help="keep DEBUG on while timing")
    parser.add_argument(
        "--show-queries", action="store_true", help="print one request's SQL per page"
    )
    args = parser.parse_args(argv)

    _env.setup()
    import django
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import override_settings

    from clients.models import Admission, BedMove, Leave
    from clients.models import Client as Patient
    from facility.models import AccessEvent, Facility, Unit, User

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        sys.exit(
            f"{_env.database_name()} has unapplied migrations: run bench/generate.py (it migrates "
            "an existing bench database and keeps its data)."
        )
    facility = Facility.objects.filter(name=_env.BENCH_FACILITY).first()
    if facility is None:
        sys.exit(f"No bench data in {_env.database_name()}: run bench/generate.py first.")
    tech = User.objects.get(username=TECHNICIAN)
    unit = Unit.objects.filter(facility=facility).order_by("name").first()
    unit_beds = unit.beds.filter(active=True).count()
    all_beds = sum(
        u.beds.filter(active=True).count() for u in Unit.objects.filter(facility=facility)
    )
    # The admitted client with the most stays, then the most leaves: the longest chart.
    admitted = Admission.objects.filter(facility=facility, discharged_at__isnull=True)
    long = (
        Patient.objects.filter(id__in=admitted.values("client_id"))
        .annotate(stays=Count("admissions", distinct=True), leaves=Count("admissions__leaves"))
        .order_by("-stays", "-leaves", "id")
        .first()
    )
    # And one with a single, recent stay: the same page with little history behind it.
    short = (
        Patient.objects.filter(id__in=admitted.values("client_id"))
        .annotate(stays=Count("admissions", distinct=True), leaves=Count("admissions__leaves"))
        .filter(stays=1)
        .order_by("leaves", "-id")
        .first()
    )
    current = Admission.objects.get(client=long, discharged_at__isnull=True)
    n_moves = BedMove.objects.filter(admission=current).count()
    n_leaves = Leave.objects.filter(admission=current).count()
    n_views = AccessEvent.objects.filter(client_public_id=long.public_id).count()

    cases = [
        Case(f"Census board, all units ({all_beds} beds)", "/census/"),
        Case(
            f"Census board, one unit ({unit_beds} beds)",
            f"/census/?unit={unit.public_id}",
            budget="rounds board, 30 clients: p95 ≤ 50 ms",
        ),
        Case(
            f"Client chart, long history ({long.stays} stays; current: {n_moves} bed rows, "
            f"{n_leaves} leaves)",
            f"/clients/{long.public_id}/",
        ),
        Case(
            f"Client chart, short history ({short.stays} stay, {short.leaves} leaves)",
            f"/clients/{short.public_id}/",
        ),
        Case("Floor page /ping/", "/ping/"),
    ]
    audit = Case("Audit trail, first page (extra; as a nurse)", "/audit/")
    pdf = Case(
        f"Census PDF, all units ({all_beds} beds)",
        "/census/print/",
        budget="shift report PDF, 120 clients: ≤ 3 s",
    )

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    counts = {
        "clients": Patient.objects.filter(facility=facility).count(),
        "admissions": Admission.objects.filter(facility=facility).count(),
        "leaves": Leave.objects.filter(admission__facility=facility).count(),
        "access events": AccessEvent.objects.count(),
    }

    _install_commit_timer()
    client = Client()
    client.force_login(tech)
    load_before = os.getloadavg()
    started = time.perf_counter()
    with override_settings(DEBUG=args.debug):
        for case in cases:
            for _ in range(args.warmup):
                measure(client, case, record=False)
        for _ in range(args.n):
            for case in cases:
                measure(client, case)
        if args.pdf:
            measure(client, pdf, record=False)
            for _ in range(args.pdf):
                measure(client, pdf)
        if args.audit:
            nurse = Client()
            nurse.force_login(User.objects.get(username=NURSE))
            measure(nurse, audit, record=False)
            for _ in range(args.audit):
                measure(nurse, audit)
    wall = time.perf_counter() - started
    load_after = os.getloadavg()

    print(
        f"Haven bench — {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {platform.node()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Django {django.get_version()}, PostgreSQL {pg_version}, "
        f"DEBUG={'on' if args.debug else 'off'} while timing"
    )
    print(
        f"Data: {_env.database_name()}: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        + f"; chart client {long.mrn} has {n_views:,} access events"
    )
    print(
        f"Signed in as {TECHNICIAN} (technician); warm-up {args.warmup}, then N={args.n} "
        f"round-robin; PDF x{args.pdf}; audit trail x{args.audit}. Wall time {wall:.0f} s. "
        f"Load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after.\n"
    )
    extras = ([pdf] if args.pdf else []) + ([audit] if args.audit else [])
    print(table(cases + extras))
    if args.show_queries:
        for case in cases + extras:
            print(f"\n### {case.label}: {len(case.last_sql)} queries (last request)\n")
            for ms, sql in case.last_sql:
                print(f"- {ms:6.2f} ms  {sql[:400]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
