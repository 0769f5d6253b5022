#!/usr/bin/env python
"""Time the MAR shift view, the med pass and the MAR's minute scans (DESIGN.md §6) against the
database made by bench/mar_generate.py; what each case is: bench/README.md.

    .venv/bin/python bench/mar_run.py [--n 200] [--scans 10] [--no-plans]
"""

import os
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
from _report import Case  # noqa: E402

SCAN_ALERT_KINDS = ["dose_late", "dose_missed", "dose_missed_critical", "prn_reassessment_overdue",
                    "count_missing"]  # fmt: skip


def reset_scan_state(now: datetime) -> dict[str, int]:
    """Undo what earlier scans did, so the next scan_doses() is a first, alert-raising run:
    delete the scans' open alerts, clear the missed marks of the look-back window."""
    from medications.services import SCAN_LOOKBACK

    return {
        "alerts deleted": _env.sql("DELETE FROM facility_alert WHERE resolved_at IS NULL AND "
                                   "kind = ANY(%s)", [SCAN_ALERT_KINDS]),
        "missed marks cleared": _env.sql(
            "UPDATE medications_scheduleddose SET marked_missed_at = NULL WHERE marked_missed_at "
            "IS NOT NULL AND scheduled_at >= %s", [now - SCAN_LOOKBACK - timedelta(hours=1)]),
    }  # fmt: skip


def main(argv=None) -> int:
    parser = rep.arguments(__doc__, "page")
    parser.add_argument("--scans", type=int, default=10, help="timed steady runs per scan (10)")
    parser.add_argument("--no-plans", action="store_true", help="skip EXPLAIN (ANALYZE)")
    args = parser.parse_args(argv)

    _env.setup()
    revision = rep.app_revision()  # the code imported now is what is measured
    from django.test import Client
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
    day, current = board.current_shift(now)
    mar = reverse("medications:mar")
    scan_case = partial(Case, budget="≤ 1 s", limit_ms=1000)
    beat_case = partial(Case, budget="≤ 1 s (same beat task)", limit_ms=1000)
    main_url = f"{mar}?unit={main_unit.public_id}"
    cases = {
        "main": Case(f"(a) MAR, {main_unit.name}, shift=day ({n_main} clients × 8 scheduled "
                     f"orders, {doses_main:,} doses behind them)", f"{main_url}&shift=day",
                     budget="p95 ≤ 150 ms, queries constant", limit_ms=150),
        "annex": Case(f"(a) MAR, {annex.name}, shift=day ({n_annex} clients, {doses_annex:,} "
                      "doses)", f"{mar}?unit={annex.public_id}&shift=day",
                      budget="same query count as 60"),
        "current": Case(f"(a) MAR, {main_unit.name}, current shift ({current} {day}; no shift "
                        "parameter)", main_url, budget="p95 ≤ 150 ms", limit_ms=150),
        "all": Case(f"(a') MAR, all units, shift=day ({n_main + n_annex} clients; extra)",
                    f"{mar}?shift=day"),
        "pass": Case(f"(b) Med pass, one {main_unit.name} client ({pass_orders} orders, "
                     f"{pass_doses:,} doses)",
                     reverse("medications:med_pass", args=[pass_adm.public_id])),
        "scan_first": scan_case("(c) scan_doses(), first run: raises every late/missed alert "
                                f"({n_open:,} open admissions)"),
        "scan": scan_case("(c) scan_doses(), steady (all raised already)"),
        "prn_first": scan_case("(c) scan_prn_reassessments(), first run"),
        "prn": scan_case("(c) scan_prn_reassessments(), steady"),
        "counts_first": scan_case("(c) scan_shift_counts(), first run"),
        "counts": scan_case("(c) scan_shift_counts(), steady"),
        "extend": beat_case(f"(c) doses_extend_horizon(), every minute ({n_scheduled:,} "
                            "scheduled orders, all materialized 48 h ahead)"),
        "extend_hourly": beat_case(f"(c) doses_extend_horizon(), hourly top-up: all "
                                   f"{n_scheduled:,} orders due (they were topped up together "
                                   "an hour earlier)"),
    }  # fmt: skip
    client = Client()
    client.force_login(User.objects.get(username=gen.NURSE))
    web = ["main", "annex", "current", "all", "pass"]

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

    with rep.timing(args.debug) as timed:
        # (a), (b): round-robin, so every page sees the same machine conditions
        rep.round_robin(client, [cases[k] for k in web], args.n, args.warmup, session_apart=True)
        web_sql = [] if args.no_plans else rep.captured(lambda: client.get(cases["main"].url))
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
        scan_sql = [] if args.no_plans else rep.captured(scan_fns["scan"])

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
        f"Wall {timed['wall']:.0f} s. {timed['load']}\n"
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
    print(f"- Not counted: the once-a-minute session save (+3 queries), on {writes or 'none'}.")

    def raised(key):
        return sorted(set(cases[key].results))

    p50 = {k: statistics.median(c.times) for k, c in cases.items()}
    reset = ", ".join(f"{v:,} {k}" for k, v in reset.items())
    beat = sum(p50[k] for k in ("scan", "prn", "counts", "extend"))
    print(
        f"- Reset before the first scan: {reset}. Raised, first run / steady: scan_doses() "
        f"{cases['scan_first'].results[0]:,} (marked {first_marked:,} missed) / {raised('scan')}; "
        f"PRN {cases['prn_first'].results[0]} / {raised('prn')}; counts "
        f"{cases['counts_first'].results[0]} / {raised('counts')}. doses_extend_horizon() added "
        f"{raised('extend')} / hourly {raised('extend_hourly')}.\n- The beat task (four steps, "
        f"sum of p50s): ~{beat:,.0f} ms; with the hourly top-up "
        f"~{beat - p50['extend'] + p50['extend_hourly']:,.0f} ms."
    )
    if args.show_queries:
        rep.show_queries(list(cases.values()))
    for key in ("main", "pass", "scan_first", "scan", "prn", "counts"):
        rep.slowest(cases[key], f"Slowest statements, {key} (last run)", 5)
    if not args.no_plans:
        dose = 'SELECT "medications_scheduleddose"'
        _env.sql("SET max_parallel_workers_per_gather = 0")  # as the board runs its one read
        rep.explain([(f"MAR, {main_unit.name} day shift: doses with their documentation",
                      rep.first(web_sql, dose))])  # fmt: skip
        _env.sql("RESET max_parallel_workers_per_gather")
        rep.explain([("scan_doses(): candidate doses, steady run", rep.first(scan_sql, dose))])
    return 0


if __name__ == "__main__":
    sys.exit(main())
