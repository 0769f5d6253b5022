#!/usr/bin/env python
"""Time the MAR shift view, the med pass and the minute scans of the MAR (DESIGN.md §6) against
the database made by bench/mar_generate.py.

(a) GET the MAR board of the 60-client Main unit, shift=day (a year of doses behind every
    client), and of the 10-client Annex (query counts must be equal); Main for the current
    shift and, as an extra, all units.
(b) GET the med pass of one Main client (8 scheduled orders, 2 PRN, a year of history).
(c) The beat task's four steps (medications.tasks.scan_doses) at a fixed instant T: each scan
    once as the first, alert-raising run, then --scans steady runs; doses_extend_horizon() as
    every minute and as the hourly top-up (every order due again at once).
(d) EXPLAIN (ANALYZE, BUFFERS) of the board's dose query and its prefetch and of scan_doses'
    candidate query, captured from real runs.

In-process test Client, signed in as mnurse01; timed under override_settings(DEBUG=False).
Before timing: one doses_extend_horizon() catch-up and mar_generate.top_up() of charting to
now. See bench/README.md.

    .venv/bin/python bench/mar_run.py                       # N=200, scans x10, plans
    .venv/bin/python bench/mar_run.py --n 50 --scans 3 --no-plans
    .venv/bin/python bench/mar_run.py --profile scan_doses  # cProfile: mar | pass | scan_doses
                                                            #   | prn | counts | extend
"""

import os
import re
import statistics
import sys
import time
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/haven_bench_mar")
import _env  # noqa: E402
import _report as rep  # noqa: E402
import mar_generate as gen  # noqa: E402
from _report import Case, explain  # noqa: E402

SCAN_ALERT_KINDS = ["dose_late", "dose_missed", "dose_missed_critical", "prn_reassessment_overdue",
                    "count_missing"]  # fmt: skip


def reset_scan_state(now: datetime) -> dict[str, int]:
    """Undo what earlier scans did, so the next scan_doses() is a first, alert-raising run:
    delete the scans' open alerts, clear the missed marks of the look-back window."""
    from medications.services import SCAN_LOOKBACK

    return {
        "alerts deleted": _env.sql(
            "DELETE FROM facility_alert WHERE resolved_at IS NULL AND kind = ANY(%s)",
            [SCAN_ALERT_KINDS],
        ),
        "missed marks cleared": _env.sql(
            "UPDATE medications_scheduleddose SET marked_missed_at = NULL "
            "WHERE marked_missed_at IS NOT NULL AND scheduled_at >= %s",
            [now - SCAN_LOOKBACK - timedelta(hours=1)],
        ),
    }


def web_plans(client, url: str, unit_name: str) -> list[tuple[str, str, str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the board's dose query and its prefetch, captured from a real
    request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    connection.queries_log.clear()
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


def scan_plans(now) -> list[tuple[str, str, str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of scan_doses()' candidate query, from a real (steady) run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from medications import services

    connection.queries_log.clear()
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


def main(argv=None) -> int:
    parser = rep.arguments(__doc__, "page")
    parser.add_argument("--scans", type=int, default=10, help="timed steady runs per scan (10)")
    parser.add_argument("--no-plans", action="store_true", help="skip EXPLAIN (ANALYZE)")
    parser.add_argument("--profile", choices=["mar", "pass", "scan_doses", "prn", "counts",
                        "extend"], help="cProfile one case instead of the benchmark")  # fmt: skip
    args = parser.parse_args(argv)

    _env.setup()
    revision = rep.app_revision()  # the code imported now is what is measured
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse
    from django.utils import timezone

    from clients.models import Admission
    from facility.models import Alert, Unit, User
    from medications import services
    from medications.models import Administration, Order, ScheduledDose

    board, scan = rep.ready("mar_generate.py", gen.BOARD_FACILITY, gen.SCAN_FACILITY)

    # Catch up: doses up to now + 48 h (the beat task's first step), then charting up to now.
    t = time.perf_counter()
    now = scan_now = timezone.now()
    caught_up = services.doses_extend_horizon(now=now)
    t_extend = time.perf_counter() - t
    topped = {f.name: gen.top_up(f, now) for f in (board, scan)}
    for tbl in gen.ANALYZED:  # VACUUM too: an earlier run's hourly top-ups rewrote every order
        _env.sql(f"VACUUM ANALYZE {tbl}")
    top_up = (
        f"Catch-up before timing: doses_extend_horizon() added {caught_up:,} doses "
        f"({t_extend:.1f} s); top-up to now: "
        + "; ".join(
            f"{name}: " + (", ".join(f"{v:,} {k}" for k, v in counts.items() if v) or "nothing")
            for name, counts in topped.items()
        )
        + f" ({time.perf_counter() - t:.1f} s in all)"
    )

    units = {u.name: u for u in Unit.objects.filter(facility=board)}
    main_unit, annex = units[gen.MAIN[0]], units[gen.ANNEX[0]]
    open_adm = Admission.objects.current()
    n_main = open_adm.filter(unit=main_unit).count()
    n_annex = open_adm.filter(unit=annex).count()
    n_open = open_adm.count()
    doses_main = ScheduledDose.objects.filter(order__admission__unit=main_unit).count()
    doses_annex = ScheduledDose.objects.filter(order__admission__unit=annex).count()
    pass_adm = open_adm.filter(unit=main_unit).order_by("bed__label").first()
    pass_orders = Order.objects.filter(admission=pass_adm).count()
    pass_doses = ScheduledDose.objects.filter(order__admission=pass_adm).count()
    n_scheduled = Order.objects.exclude(frequency="prn").count()
    day, current = services.current_shift(now, board.tz)
    mar = reverse("medications:mar")
    scan_case = partial(Case, budget="≤ 1 s", limit_ms=1000)
    beat_case = partial(Case, budget="≤ 1 s (same beat task)", limit_ms=1000)
    cases = {
        "main": Case(
            f"(a) MAR, {main_unit.name}, shift=day ({n_main} clients × 8 scheduled orders, "
            f"{doses_main:,} doses behind them)",
            f"{mar}?unit={main_unit.public_id}&shift=day",
            budget="p95 ≤ 150 ms, queries constant",
            limit_ms=150,
        ),
        "annex": Case(
            f"(a) MAR, {annex.name}, shift=day ({n_annex} clients, {doses_annex:,} doses)",
            f"{mar}?unit={annex.public_id}&shift=day",
            budget="same query count as 60",
        ),
        "current": Case(
            f"(a) MAR, {main_unit.name}, current shift ({current} {day}; no shift parameter)",
            f"{mar}?unit={main_unit.public_id}",
            budget="p95 ≤ 150 ms",
            limit_ms=150,
        ),
        "all": Case(
            f"(a') MAR, all units, shift=day ({n_main + n_annex} clients; extra)",
            f"{mar}?shift=day",
        ),
        "pass": Case(
            f"(b) Med pass, one {main_unit.name} client ({pass_orders} orders, {pass_doses:,} "
            "doses)",
            reverse("medications:med_pass", args=[pass_adm.public_id]),
        ),
        "scan_first": scan_case(
            f"(c) scan_doses(), first run: raises every late/missed alert ({n_open:,} open "
            "admissions)"
        ),
        "scan": scan_case("(c) scan_doses(), steady (all raised already)"),
        "prn_first": scan_case("(c) scan_prn_reassessments(), first run"),
        "prn": scan_case("(c) scan_prn_reassessments(), steady"),
        "counts_first": scan_case("(c) scan_shift_counts(), first run"),
        "counts": scan_case("(c) scan_shift_counts(), steady"),
        "extend": beat_case(
            f"(c) doses_extend_horizon(), every minute ({n_scheduled:,} scheduled orders, all "
            "materialized 48 h ahead)"
        ),
        "extend_hourly": beat_case(
            f"(c) doses_extend_horizon(), hourly top-up: all {n_scheduled:,} orders due (they "
            "were topped up together an hour earlier)"
        ),
    }
    client = Client()
    client.force_login(User.objects.get(username=gen.NURSE))
    web = ["main", "annex", "current", "all", "pass"]

    def get(key, record=True):
        rep.request(client, cases[key], record=record, session_apart=True)

    def due_again():
        # Every order topped up at T falls behind the 47-hour mark together an hour later: make
        # them all due again (one hour back), untimed; the timed run tops them all up.
        Order.objects.exclude(frequency__in=["prn", "once"]).filter(
            materialized_until__isnull=False
        ).update(materialized_until=scan_now + services.HORIZON - timedelta(hours=1, minutes=1))

    scan_fns = {
        "scan": lambda: services.scan_doses(now=scan_now),
        "prn": lambda: services.scan_prn_reassessments(now=scan_now),
        "counts": lambda: services.scan_shift_counts(now=scan_now),
        "extend": lambda: services.doses_extend_horizon(now=scan_now),
        "extend_hourly": lambda: services.doses_extend_horizon(now=scan_now),
    }

    def run(key, fn=None, record=True):
        if key == "extend_hourly":
            due_again()
        return rep.call(cases[key], fn or scan_fns[key], record=record, collect=True)

    if args.profile:
        with override_settings(DEBUG=args.debug):
            if args.profile in ("mar", "pass"):
                key = "main" if args.profile == "mar" else "pass"
                for _ in range(args.warmup):
                    get(key, record=False)
                rep.profile(f"GET {cases[key].url}", lambda: get(key), 50, 35, 14000)
            else:  # the hourly top-up of every order, for extend
                key = {"scan_doses": "scan", "extend": "extend_hourly"}.get(args.profile)
                key = key or args.profile
                run(key, record=False)  # raise what there is to raise: profile the steady state
                repeat = 1 if key == "extend_hourly" else 3
                rep.profile(f"{args.profile} (steady)", lambda: run(key), repeat, 35, 14000)
            rep.slowest(cases[key], f"{cases[key].label}: slowest", 8, 200)
        return 0

    load_before = os.getloadavg()
    started = time.perf_counter()
    with override_settings(DEBUG=args.debug):
        # (a), (b): round-robin, so every page sees the same machine conditions
        for key in web:
            for _ in range(args.warmup):
                get(key, record=False)
        for _ in range(args.n):
            for key in web:
                get(key)
        plans = [] if args.no_plans else web_plans(client, cases["main"].url, main_unit.name)
        # (c) the scans, at the fixed instant T = scan_now
        reset = reset_scan_state(scan_now)
        run("scan_first", scan_fns["scan"])
        first_marked = ScheduledDose.objects.filter(marked_missed_at=scan_now).count()
        for key in ("scan", "prn", "counts"):
            if key != "scan":
                run(f"{key}_first", scan_fns[key])
            for _ in range(args.scans):
                run(key)
        for key in ("extend", "extend_hourly"):
            for _ in range(args.scans):
                run(key)
        if not args.no_plans:
            plans += scan_plans(scan_now)
    wall = time.perf_counter() - started
    load_after = os.getloadavg()

    print(rep.header("Haven MAR bench", args.debug, revision))
    print(
        f"Data: {_env.database_name()} ({rep.database()[1]}): "
        f"{ScheduledDose.objects.count():,} doses, {Administration.objects.count():,} "
        f"administrations, {Alert.objects.count():,} alerts ({Alert.objects.open().count():,} "
        f"open), {n_open:,} open admissions. {top_up}."
    )
    print(
        f"Signed in as {gen.NURSE} (nurse); warm-up {args.warmup}, N={args.n} (pages "
        f"round-robin); scans at T={scan_now:%H:%M:%S} UTC: 1 first + {args.scans} steady each "
        f"(doses_extend_horizon: {args.scans} every-minute + {args.scans} hourly). "
        f"Wall {wall:.0f} s. Load average (1 min) {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after.\n"
    )
    print(rep.table(list(cases.values())))
    print()
    qa, qb, qc = (set(cases[k].queries) for k in ("main", "annex", "all"))
    print(
        f"- Query count, MAR: {n_main} clients → {rep.fmt_queries(cases['main'].queries)}; "
        f"{n_annex} clients → {rep.fmt_queries(cases['annex'].queries)}; all "
        f"{n_main + n_annex} → {rep.fmt_queries(cases['all'].queries)} "
        f"({'equal' if qa == qb == qc else 'DIFFERENT'})."
    )
    writes = ", ".join(f"{cases[k].session_writes} {k}" for k in web if cases[k].session_writes)
    print(
        "- Not in the query counts above: the idle-timeout middleware's once-a-minute session "
        f"save (BEGIN, UPDATE django_session, COMMIT: +3), which fell on {writes or 'none'} of "
        "the timed requests."
    )
    if current == "day":
        print("- The current shift is the day shift: cases 1 and 3 show the same doses.")

    def raised(key):
        return sorted(set(cases[key].results))

    print(
        f"- Scan state reset before the first run: {reset['alerts deleted']:,} open alerts "
        f"deleted, {reset['missed marks cleared']:,} missed marks cleared. First scan_doses() "
        f"raised {cases['scan_first'].results[0]:,} alerts and marked {first_marked:,} doses "
        f"missed; steady runs raised {raised('scan')}."
    )
    print(
        f"- scan_prn_reassessments(): first run raised {cases['prn_first'].results[0]}, steady "
        f"{raised('prn')}; scan_shift_counts(): first run raised "
        f"{cases['counts_first'].results[0]}, steady {raised('counts')}; "
        f"doses_extend_horizon() steady added {raised('extend')}."
    )
    heavy = cases["extend_hourly"]
    print(
        f"- Hourly top-up, last run: {len(heavy.last_sql):,} statements, "
        f"{heavy.results[-1]:,} doses added; Python CPU {heavy.cpu_ms[-1]:.0f} ms."
    )
    p50 = {k: statistics.median(c.times) for k, c in cases.items()}
    total_p50 = sum(p50[k] for k in ("scan", "prn", "counts", "extend"))
    print(
        "- The beat task medications.tasks.scan_doses (all four, steady, sum of p50s): "
        f"~{total_p50:,.0f} ms; in the minute of the hourly top-up "
        f"~{total_p50 - p50['extend'] + p50['extend_hourly']:,.0f} ms."
    )

    if args.show_queries:
        for c in cases.values():
            print(f"\n### {c.label}: {len(c.last_sql)} statements (last run)\n")
            for ms, sql in c.last_sql[:60]:
                print(f"- {ms:7.2f} ms  {rep.short(sql)}")
    for key in ("main", "pass", "scan_first", "scan", "prn", "counts"):
        rep.slowest(cases[key], f"Slowest statements, {key} (last run)", 5)

    if plans:
        for title, sql, plan in plans:
            print(f"\n### EXPLAIN (ANALYZE, BUFFERS): {title}\n")
            print(f"```sql\n{rep.short(sql, 1500)}\n```\n")
            print(f"```\n{plan}\n```")
        print("\n### Plan summary\n")
        for title, _, plan in plans:
            print(f"- {title}: {plan_summary(plan)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
