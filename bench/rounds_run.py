#!/usr/bin/env python
"""Time the rounds board, a whole-unit round submit and the minute scan (DESIGN.md §6) against
the database made by bench/rounds_generate.py; what each case is: bench/README.md.

    .venv/bin/python bench/rounds_run.py [--n 200] [--scans 20] [--raise-scans 5] [--no-plans]
"""

import os
import random
import sys
import time
import uuid
from datetime import UTC, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/haven_bench_rounds")
import _env  # noqa: E402
import _report as rep  # noqa: E402
import rounds_generate as gen  # noqa: E402
from _report import Case  # noqa: E402

SAFE_STATUSES = ["A", "A", "A", "T", "G", "R", "E", "RB", "S"]  # S: with respirations observed
LOCATIONS = ["RM", "RM", "DAY", "DAY", "GRP", "DR", "HALL"]


def round_post_data(rows_of_unit, codes, rng) -> dict:
    """A whole round as the board posts it, each client with the moment it was tapped (the
    board's script stamps `seen-<pid>` in epoch ms; issue 10 item 6)."""
    data = {"submission_key": str(uuid.uuid4()), "minutes_back": "0", "late_reason": "",
            "include": list(rows_of_unit)}  # fmt: skip
    tapped = int(time.time() * 1000) - 1000 * len(rows_of_unit)
    for n, pid in enumerate(rows_of_unit):
        data[f"seen-{pid}"] = str(tapped + 1000 * n)
        status = rng.choice(SAFE_STATUSES)
        location = "RM" if status in ("S", "RB") else rng.choice(LOCATIONS)
        data[f"loc-{pid}"] = str(codes[("location", location)])
        data[f"st-{pid}"] = str(codes[("status", status)])
        if status == "S":
            data[f"resp-{pid}"] = "on"
    return data


def transactions_of(sqls: list[str]) -> str:
    """The statements of each BEGIN … COMMIT, e.g. "[SELECT roundcheck, INSERT roundcheck]"."""
    import re

    text = ", ".join(
        s if s in rep.TRANSACTION_SQL else " ".join([s.split()[0], *re.findall(
            r'(?:FROM|INTO|UPDATE) "(\w+)"', s)[:1]])
        for s in sqls
    )  # fmt: skip
    return " then ".join(f"[{t.strip()}]" for t in re.findall(r"BEGIN, (.*?), COMMIT", text))


def main(argv=None) -> int:
    parser = rep.arguments(__doc__)
    parser.add_argument("--scans", type=int, default=20, help="timed steady-state scans (20)")
    parser.add_argument("--raise-scans", type=int, default=5, help="timed raising scans (5)")
    parser.add_argument("--no-plans", action="store_true", help="skip EXPLAIN (ANALYZE)")
    args = parser.parse_args(argv)

    _env.setup()
    from django.test import Client
    from django.utils import timezone

    from clients.models import Admission
    from facility.models import Alert, Unit, User
    from observations.models import RoundCheck, RoundCode, ScanMark
    from observations.services import MISSED_SCAN, scan_missed_checks

    board, scan_facility = rep.ready("rounds_generate.py", gen.BOARD_FACILITY, gen.SCAN_FACILITY)

    # Top the history up to now: what the floor would have charted since generation.
    t = time.perf_counter()
    now = timezone.now()
    latest = RoundCheck.objects.filter(admission__facility=board).order_by("-observed_at")
    latest = latest.values_list("observed_at", flat=True).first() or now - gen.SCAN_HISTORY
    topped = gen.write_history(board, start=gen.floor15(latest) - timedelta(minutes=15), end=now)
    scan_latest = RoundCheck.objects.filter(admission__facility=scan_facility)
    scan_latest = scan_latest.order_by("-observed_at").values_list("observed_at", flat=True)
    scan_from = gen.floor15(scan_latest.first() or now) - timedelta(minutes=15)
    scan_from = max(scan_from, now - gen.SCAN_HISTORY)
    topped_scan = gen.write_history(scan_facility, start=scan_from, end=now)
    _env.sql("ANALYZE observations_roundcheck")
    _env.sql("ANALYZE facility_alert")
    top_up = (
        f"Top-up to now: {topped[0]:,} checks / {topped[1]:,} alerts (board facility), "
        f"{topped_scan[0]:,} / {topped_scan[1]:,} (scan facility) "
        f"in {time.perf_counter() - t:.1f} s"
    )

    units = list(Unit.objects.filter(facility=board).order_by("name"))
    big = [u for u in units if u.name != gen.ANNEX[0]]
    annex = next(u for u in units if u.name == gen.ANNEX[0])
    unit = next(u for u in big if u.name == "North Hall")
    open_adm = Admission.objects.current()
    per_unit = {u.pk: [str(p) for p in open_adm.filter(unit=u).values_list("public_id", flat=True)]
                for u in big}  # fmt: skip
    n_unit, n_annex = len(per_unit[unit.pk]), open_adm.filter(unit=annex).count()
    history_unit = RoundCheck.objects.filter(admission__unit=unit).count()
    history_annex = RoundCheck.objects.filter(admission__unit=annex).count()
    codes = {(c.kind, c.code): c.pk for c in RoundCode.objects.filter(facility=board)}
    n_open = open_adm.count()
    n_checks = RoundCheck.objects.count()
    db_size = rep.database()[1]

    board_url = f"/rounds/{unit.public_id}/"
    scan_case = partial(Case, budget="≤ 1 s", limit_ms=1000)
    cases = {
        "board": Case(f"(a) Rounds board, {unit.name} ({n_unit} clients, {history_unit:,} checks "
                      "behind them)", board_url, budget="p95 ≤ 50 ms, queries constant",
                      limit_ms=50),
        "annex": Case(f"(a) Rounds board, {annex.name} ({n_annex} clients, {history_annex:,} "
                      "checks)", f"/rounds/{annex.public_id}/", budget="same query count as 30"),
        "status": Case(f"(a') Board live status (HTMX poll), {unit.name} (extra)",
                       f"/rounds/{unit.public_id}/status/"),
        "post": Case(f"(b) Submit a {n_unit}-client round (POST → 302)",
                     budget="p95 ≤ 100 ms, one transaction", limit_ms=100),
        "steady": scan_case(f"(c) scan_missed_checks(), steady state ({n_open:,} open admissions)"),
        "boundary": scan_case(f"(c) scan_missed_checks(), minute after a block boundary "
                              f"({n_open:,}; raises the ~2% skipped)"),
        "raise": scan_case(f"(c) scan_missed_checks(), raising one alert per client ({n_open:,})"),
    }  # fmt: skip
    client = Client()
    client.force_login(User.objects.get(username=gen.TECHNICIAN))
    rng = random.Random(7)
    pages = [cases["board"], cases["annex"], cases["status"]]
    posted_keys: list[str] = []

    def post_once(i: int, record=True):
        u = big[i % len(big)]
        data = round_post_data(per_unit[u.pk], codes, rng)
        posted_keys.append(data["submission_key"])
        url = f"/rounds/{u.public_id}/"
        return rep.request(client, cases["post"], "POST", url, data, expect=302, record=record)

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

    def mark(at):  # the scan has looked up to a minute before `at`
        ScanMark.objects.filter(name=MISSED_SCAN).update(scanned_until=at - timedelta(minutes=1))

    # Deletes in raw SQL: no per-row signals, no audit entries.
    def forget_block():  # the ended block's alerts (dedupe keys end with its UTC start)
        _env.sql("DELETE FROM facility_alert WHERE kind = 'missed_check' AND dedupe_key LIKE %s",
                 ["missed:%" + ended_suffix])  # fmt: skip

    def scan(key, at, record=True):
        mark(at)
        return rep.call(cases[key], lambda: scan_missed_checks(now=at), record=record)

    with rep.timing(args.debug) as timed:
        # (a) board, round-robin with the Annex and the live part
        rep.round_robin(client, pages, args.n, args.warmup)
        # (b) whole-unit rounds
        for i in range(args.warmup):
            post_once(i, record=False)
        transactions = {transactions_of([q["sql"] for q in post_once(i)]) for i in range(args.n)}
        cases["post"].notes.append("transactions per submit: " + " | ".join(sorted(transactions)))
        removed = _env.sql("DELETE FROM observations_roundcheck WHERE submission_key = "
                           "ANY(%s::uuid[])", [posted_keys])  # fmt: skip
        cases["post"].notes.append(f"{removed:,} posted checks deleted afterwards")
        # (c) scans
        scan("steady", scan_now, record=False)  # warm-up
        for _ in range(args.scans):
            scan("steady", scan_now)
        for _ in range(args.scans):
            forget_block()
            scan("boundary", boundary_now)
        deleted = []
        for _ in range(args.raise_scans):
            scan("raise", raise_now)
            deleted.append(_env.sql("DELETE FROM facility_alert WHERE kind = 'missed_check' AND "
                                    "raised_at = %s", [raise_now]))  # fmt: skip
        mark(scan_now)

    def raised(key):
        return ", ".join(map(str, sorted(set(cases[key].results))))

    print(rep.header("Haven rounds bench", args.debug))
    print(
        f"Data: {_env.database_name()} ({db_size}): {n_checks:,} round checks, "
        f"{Alert.objects.count():,} alerts ({Alert.objects.open().count():,} open), "
        f"{n_open:,} open admissions. {top_up}."
    )
    print(
        f"Signed in as {gen.TECHNICIAN}; warm-up {args.warmup}, N={args.n} (board cases "
        f"round-robin), scans {args.scans} steady + {args.raise_scans} raising. Wall "
        f"{timed['wall']:.0f} s. {timed['load']}\n"
    )
    order = ["board", "annex", "status", "post", "steady", "boundary", "raise"]
    print(rep.table([cases[k] for k in order]))
    print()
    qa, qb = set(cases["board"].queries), set(cases["annex"].queries)
    print(
        f"- Query count, board: {n_unit} clients → {rep.fmt_queries(cases['board'].queries)}; "
        f"{n_annex} clients → {rep.fmt_queries(cases['annex'].queries)} "
        f"({'equal' if qa == qb else 'DIFFERENT'})."
    )
    print(f"- Round submit: {'; '.join(cases['post'].notes)}.")
    print(f"- Steady scans raised: {raised('steady')} alerts per run.")
    print(
        f"- Boundary scans (now = {boundary_now:%H:%M:%S} UTC, judging the "
        f"{ended_block:%H:%M} UTC block) raised: {raised('boundary')} alerts per run."
    )
    print(
        f"- Raising scans raised: {raised('raise')} alerts per run "
        f"(deleted after each: {', '.join(map(str, sorted(set(deleted))))})."
    )

    if args.show_queries:
        rep.show_queries([cases[k] for k in order], 10**6)
    for key in ("steady", "boundary", "raise"):
        rep.slowest(cases[key], f"Slowest statements of the last {key} scan", 6)
    if not args.no_plans:
        # (d) plans from a real request and a real scan at a block boundary (in the other 14
        # minutes of 15 the scan returns before reading any check).
        board_sql = rep.captured(lambda: client.get(board_url))
        forget_block()
        mark(boundary_now)
        scan_sql = rep.captured(lambda: scan_missed_checks(now=boundary_now))
        mark(scan_now)
        rc = 'SELECT "observations_roundcheck"'
        rep.explain([
            ("Board: each stay's latest check (its id by a LIMIT 1 subquery per stay)",
             rep.first(board_sql, f'{rc}."id"')),
            ("Scan: round checks of the window", rep.first(scan_sql, f'{rc}."admission_id"')),
        ])  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
