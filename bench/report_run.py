#!/usr/bin/env python
"""Time the supervisor dashboard and the shift report PDF (issue 15; specs/shift-report.md
budgets: dashboard p95 ≤ 150 ms, the PDF for 120 clients and one shift ≤ 3 s) against the
rounds bench database (bench/rounds_generate.py: 125 open stays on five units, a year of checks).
What each case is: bench/README.md, "Shift report and dashboard".

    .venv/bin/python bench/report_run.py [--n 100] [--pdfs 5]
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/haven_bench_rounds")
import _env  # noqa: E402
import _report as rep  # noqa: E402
import rounds_generate as gen  # noqa: E402
from _report import Case  # noqa: E402

SUPERVISOR = "rsuper01"  # made here on first run: the rounds generator makes no supervisor


def supervisor(facility):
    """The board facility's supervisor, with the TOTP device their role requires."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from facility.models import User
    from facility.services import user_sync_role_group

    user = User.objects.filter(username=SUPERVISOR).first()
    if user is None:
        user = User.objects.create_user(
            username=SUPERVISOR, email=f"{SUPERVISOR}@bench.haven.invalid",
            full_name="Bench Supervisor", initials="BS", role="supervisor",
        )  # fmt: skip
        user.facilities.add(facility)
        user_sync_role_group(user)
        TOTP.activate(user, generate_totp_secret())
    return user


def main(argv=None) -> int:
    parser = rep.arguments(__doc__, "dashboard request")
    parser.add_argument("--pdfs", type=int, default=5, help="timed shift report PDFs (5)")
    args = parser.parse_args(argv)

    _env.setup()
    revision = rep.app_revision()
    from django.core.management import call_command
    from django.test import Client
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    from clients.models import Admission
    from observations.models import RoundCheck

    call_command("migrate", verbosity=0)  # the bench database predates issue 15's tables
    (board,) = rep.ready("rounds_generate.py", gen.BOARD_FACILITY)

    # Top the history up to now, as bench/rounds_run.py does: the floor charted since generation.
    now = timezone.now()
    latest = RoundCheck.objects.filter(admission__facility=board).order_by("-observed_at")
    latest = latest.values_list("observed_at", flat=True).first() or now - gen.SCAN_HISTORY
    topped = gen.write_history(board, start=gen.floor15(latest) - timedelta(minutes=15), end=now)
    _env.sql("ANALYZE observations_roundcheck")
    n_open = Admission.objects.current().filter(facility=board).count()
    n_checks = RoundCheck.objects.filter(admission__facility=board).count()

    client = Client()
    client.force_login(supervisor(board))
    day, shift_key = board.current_shift(timezone.now())
    dashboard = Case(f"Supervisor dashboard ({n_open} open stays, {n_checks:,} checks)",
                     reverse("dashboard"), budget="p95 ≤ 150 ms", limit_ms=150)  # fmt: skip
    live = Case("Dashboard live part (HTMX poll)", reverse("dashboard_live"))
    try:
        pdf_url = reverse("shift_report_pdf") + f"?day={day:%Y-%m-%d}&shift={shift_key}"
    except NoReverseMatch:
        pdf_url = ""
    pdf = Case(f"Shift report PDF, whole facility, {shift_key} shift of {day} ({n_open} stays)",
               pdf_url, budget="≤ 3 s", limit_ms=3000)  # fmt: skip

    with rep.timing(args.debug) as out:
        rep.round_robin(client, [dashboard, live], args.n, args.warmup)
        if pdf_url:
            rep.request(client, pdf, record=False)  # warm-up: fonts, templates
            for _ in range(args.pdfs):
                rep.request(client, pdf)
        else:
            from facility.pdf import render_pdf
            from facility.shift_report import build_shift_report

            pdf.label += " (report built and rendered directly: no PDF view yet)"

            def render():
                report = build_shift_report(board, day=day, shift_key=shift_key,
                                            now=timezone.now())  # fmt: skip
                return render_pdf("pdf/shift_report.html", {"report": report})

            for i in range(args.pdfs + 1):
                rep.call(pdf, render, record=i > 0)

    load = os.getloadavg()
    print(rep.header("Shift report and dashboard (issue 15)", args.debug, revision))
    print(f"Top-up: {topped[0]:,} checks since generation. {out['load']} Load average after "
          f"(1/5/15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}. N={args.n} dashboard "
          f"requests after {args.warmup} warm-up; {args.pdfs} PDFs.\n")  # fmt: skip
    print(rep.table([dashboard, live] + ([pdf] if args.pdfs else [])))
    if args.show_queries:
        rep.show_queries([dashboard])
    return 0


if __name__ == "__main__":
    sys.exit(main())
