"""What the bench's timing scripts share: a case's measurements, timed requests and calls (wall
time, process CPU, each statement's round trip), the markdown table, captured SQL, EXPLAIN."""

import argparse
import gc
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import _env

TRANSACTION_SQL = {"BEGIN", "COMMIT", "ROLLBACK"}


@dataclass
class Case:
    label: str
    url: str = ""
    budget: str = "—"
    limit_ms: float | None = None
    times: list[float] = field(default_factory=list)  # ms
    cpu_ms: list[float] = field(default_factory=list)  # this process only (not PostgreSQL)
    db_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    results: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    last_sql: list[tuple[float, str]] = field(default_factory=list)
    session_writes: int = 0

    def record(self, elapsed: float, cpu: float, queries: int, timer: "DbTimer") -> None:
        self.times.append(elapsed)
        self.cpu_ms.append(cpu)
        self.queries.append(queries)
        self.db_ms.append(sum(ms for ms, _ in timer.statements) + sum(timer.commits))
        self.last_sql = timer.statements


class DbTimer:
    """Times each statement sent to PostgreSQL to the microsecond (an execute wrapper; Django's
    own captured "time" is rounded to the millisecond), and each COMMIT once time_commits() has
    wrapped psycopg's Connection.commit (the COMMIT waits for the WAL flush)."""

    def __init__(self):
        self.statements: list[tuple[float, str]] = []
        self.commits: list[float] = []

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append(((time.perf_counter() - t0) * 1000, sql))


_active: DbTimer | None = None


def time_commits() -> None:
    """Time each COMMIT from now on (timing() calls it, once a run)."""
    import psycopg

    original = psycopg.Connection.commit

    def commit(self):
        t0 = time.perf_counter()
        try:
            return original(self)
        finally:
            if _active is not None:
                _active.commits.append((time.perf_counter() - t0) * 1000)

    psycopg.Connection.commit = commit


def request(client, case: Case, method="GET", url=None, data=None, *, expect=200, record=True,
            session_apart=False) -> list[dict]:  # fmt: skip
    """One request through the test client, timed; its captured queries. Queries are counted
    with CaptureQueriesContext (BEGIN and COMMIT count, as in assertNumQueries). session_apart:
    the idle-timeout middleware's once-a-minute session save (BEGIN, UPDATE django_session,
    COMMIT) is not counted, only noted in case.session_writes."""
    global _active
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = url or case.url
    timer = _active = DbTimer()
    # CaptureQueriesContext slices connection.queries_log, a deque capped at 9,000 entries: once
    # full, the slice is empty. Start each request from an empty log.
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timer):
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.post(url, data) if method == "POST" else client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        elapsed = (time.perf_counter() - t0) * 1000
        cpu = (time.process_time() - c0) * 1000
    _active = None
    if response.status_code != expect:
        body = b"" if response.streaming else response.content[:2000]
        sys.exit(f"{method} {url} answered {response.status_code}, not {expect}; is the bench "
                 f"generated?\n{body.decode(errors='replace')}")  # fmt: skip
    captured = ctx.captured_queries
    if not record:
        return captured
    sqls = [q["sql"] for q in captured]
    if session_apart:
        for i, sql in enumerate(sqls):
            if sql.startswith('UPDATE "django_session"'):
                lo = i - 1 if i > 0 and sqls[i - 1] == "BEGIN" else i
                hi = i + 2 if i + 1 < len(sqls) and sqls[i + 1] == "COMMIT" else i + 1
                del sqls[lo:hi]
                case.session_writes += 1
                break
    case.record(elapsed, cpu, len(sqls), timer)
    # The statements in order with BEGIN and COMMIT (COMMIT timed when commits are).
    durations, commits = iter(timer.statements), iter(timer.commits)
    case.last_sql = [
        (next(commits, 0.0) if q["sql"] == "COMMIT" else 0.0, q["sql"])
        if q["sql"] in TRANSACTION_SQL
        else next(durations, (0.0, q["sql"]))
        for q in captured
    ]
    return captured


def round_robin(client, cases: list[Case], n: int, warmup: int, **kw) -> None:
    """`warmup` untimed requests of each case, then `n` rounds of one timed request of each, so
    every page sees the same conditions."""
    for case in cases:
        for _ in range(warmup):
            request(client, case, record=False, **kw)
    for _ in range(n):
        for case in cases:
            request(client, case, **kw)


def call(case: Case, fn, *, record=True, collect=False):
    """fn() timed, each statement too; its result. collect: gc.collect() first, starting from a
    clean heap as a worker process between tasks would."""
    from django.db import connection

    if collect:
        gc.collect()
    timer = DbTimer()
    with connection.execute_wrapper(timer):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        elapsed = (time.perf_counter() - t0) * 1000
        cpu = (time.process_time() - c0) * 1000
    if record:
        case.record(elapsed, cpu, len(timer.statements), timer)
        case.results.append(result)
    return result


def arguments(doc: str, what: str = "case") -> argparse.ArgumentParser:
    """The timing scripts' common options."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--n", type=int, default=200, help=f"timed requests per {what} (200)")
    p.add_argument("--warmup", type=int, default=10, help=f"untimed requests per {what} (10)")
    p.add_argument("--debug", action="store_true", help="keep DEBUG on while timing")
    p.add_argument("--show-queries", action="store_true", help="SQL of one run per case")
    return p


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def fmt_queries(values: list[int]) -> str:
    lo, hi = min(values), max(values)
    return str(lo) if lo == hi else f"{lo}–{hi}"


def table(cases: list[Case], *, first="Case", budget="§6 budget", met=True) -> str:
    lines = [
        f"| {first} | N | p50 ms | p95 ms | max ms | queries | DB ms p50 | Python CPU ms p50 "
        f"| {budget} |" + (" met |" if met else ""),
        "|---|---:|---:|---:|---:|---:|---:|---:|---|" + ("---|" if met else ""),
    ]
    for c in cases:
        p95 = percentile(c.times, 95)
        ok = "—" if c.limit_ms is None else ("yes" if p95 <= c.limit_ms else "**no**")
        lines.append(
            f"| {c.label} | {len(c.times)} | {statistics.median(c.times):.1f} | {p95:.1f} | "
            f"{max(c.times):.1f} | {fmt_queries(c.queries)} | {statistics.median(c.db_ms):.1f} | "
            f"{statistics.median(c.cpu_ms):.1f} | {c.budget} |" + (f" {ok} |" if met else "")
        )
    return "\n".join(lines)


def ready(generator: str, *names: str) -> list:
    """The named bench facilities, once the database is migrated and generated."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from facility.models import Facility

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        sys.exit(f"{_env.database_name()} has unapplied migrations: run bench/{generator} (it "
                 "migrates an existing bench database and keeps its data).")  # fmt: skip
    facilities = [Facility.objects.filter(name=name).first() for name in names]
    if None in facilities:
        sys.exit(f"No bench data in {_env.database_name()}: run bench/{generator} first.")
    return facilities


def app_revision() -> str:
    """The commit the app code was at, and whether the measured code had uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=_env.ROOT, capture_output=True, text=True).stdout

    try:
        rev, dirty = (
            git("rev-parse", "--short", "HEAD").strip(),
            git("status", "--porcelain", "--", ".", ":!bench"),
        )
    except OSError:
        return "app revision unknown"
    return f"app at {rev}{' + uncommitted changes' if dirty.strip() else ''}"


def database() -> tuple[str, str]:
    """PostgreSQL's version and the bench database's size."""
    return _env.sql("SHOW server_version", row=True)[0], _env.sizes()[0]


def header(title: str, debug: bool, revision: str = "") -> str:
    import django

    return (
        f"{title} — {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
        + (f"{revision}, " if revision else "")
        + f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Django {django.get_version()}, PostgreSQL {database()[0]}, "
        f"DEBUG={'on' if debug else 'off'} while timing"
    )


@contextmanager
def timing(debug: bool):
    """Run the block with DEBUG as asked; yields a dict that then holds "wall" (s) and "load",
    the 1-minute load average before and after."""
    from django.test.utils import override_settings

    time_commits()
    before, started, out = os.getloadavg(), time.perf_counter(), {}
    with override_settings(DEBUG=debug):
        yield out
    out["wall"] = time.perf_counter() - started
    out["load"] = f"Load average (1 min) {before[0]:.2f} before, {os.getloadavg()[0]:.2f} after."


def slowest(case: Case, title: str, n: int, width: int = 160) -> None:
    print(f"\n{title} ({len(case.last_sql)} statements):")
    for ms, sql in sorted(case.last_sql, key=lambda x: -x[0])[:n]:
        print(f"- {ms:8.2f} ms  {short(sql, width)}")


def captured(fn) -> list[str]:
    """The SQL that fn() sends."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [q["sql"] for q in ctx.captured_queries]


def first(sqls: list[str], prefix: str) -> str:
    return next(s for s in sqls if s.startswith(prefix))


def explain(plans: list[tuple[str, str]]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each (title, sql), printed as markdown."""
    from django.db import connection

    for title, sql in plans:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        print(f"\n### EXPLAIN (ANALYZE, BUFFERS): {title}\n\n```sql\n{short(sql, 1500)}\n```\n")
        print(f"```\n{plan}\n```")


def show_queries(cases: list[Case], limit: int = 60) -> None:
    for c in cases:
        print(f"\n### {c.label}: {len(c.last_sql)} statements (last run)\n")
        for ms, sql in c.last_sql[:limit]:
            print(f"- {ms:7.2f} ms  {short(sql)}")


def short(sql: str, n: int = 300) -> str:
    """Long IN lists and array literals (5,000 ids) shortened to their length."""
    sql = re.sub(
        r"IN \(([^()]{200,})\)", lambda m: f"IN (…{m.group(1).count(',') + 1} values…)", sql
    )
    sql = re.sub(
        r"'\{([^}]{200,})\}'", lambda m: f"'{{…{m.group(1).count(',') + 1} values…}}'", sql
    )
    return sql if len(sql) <= n else sql[:n] + " …"
