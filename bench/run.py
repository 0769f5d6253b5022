#!/usr/bin/env python
"""Time the census board, client charts, census PDF and audit trail (DESIGN.md §6) against the
database made by bench/generate.py; what is recorded, and why: bench/README.md.

    .venv/bin/python bench/run.py [--n 200] [--pdf 5] [--audit 20] [--show-queries]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _env  # noqa: E402
import _report as rep  # noqa: E402
from _report import Case  # noqa: E402

TECHNICIAN = "tech01"
NURSE = "nurse01"  # the audit trail needs view_audit_trail, which technicians lack


def main(argv=None) -> int:
    parser = rep.arguments(__doc__, "page")
    parser.add_argument("--pdf", type=int, default=5, help="timed census PDFs (5; 0 skips)")
    parser.add_argument("--audit", type=int, default=20, help="timed audit pages, as a nurse (20)")
    args = parser.parse_args(argv)

    _env.setup()
    from django.db.models import Count
    from django.test import Client

    from clients.models import Admission, BedMove, Leave
    from clients.models import Client as Patient
    from facility.models import AccessEvent, Unit, User
    from observations.models import VitalSigns

    (facility,) = rep.ready("generate.py", _env.BENCH_FACILITY)
    unit = Unit.objects.filter(facility=facility).order_by("name").first()
    unit_beds = unit.beds.filter(active=True).count()
    all_beds = sum(
        u.beds.filter(active=True).count() for u in Unit.objects.filter(facility=facility)
    )
    # The admitted client with the most stays, then the most leaves: the longest chart; and one
    # with a single, recent stay: the same page with little history behind it.
    admitted = Admission.objects.filter(facility=facility, discharged_at__isnull=True)
    charts = Patient.objects.filter(id__in=admitted.values("client_id")).annotate(
        stays=Count("admissions", distinct=True), leaves=Count("admissions__leaves")
    )
    long = charts.order_by("-stays", "-leaves", "id").first()
    short = charts.filter(stays=1).order_by("leaves", "-id").first()
    current = Admission.objects.get(client=long, discharged_at__isnull=True)
    n_moves = BedMove.objects.filter(admission=current).count()
    n_leaves = Leave.objects.filter(admission=current).count()
    n_views = AccessEvent.objects.filter(client_public_id=long.public_id).count()
    n_vitals = VitalSigns.objects.filter(admission__client=long).count()
    n_stay_vitals = VitalSigns.objects.filter(admission=current).count()

    cases = [
        Case(f"Census board, all units ({all_beds} beds)", "/census/"),
        Case(f"Census board, one unit ({unit_beds} beds)", f"/census/?unit={unit.public_id}",
             budget="rounds board, 30 clients: p95 ≤ 50 ms"),
        Case(f"Client chart, long history ({long.stays} stays; current: {n_moves} bed rows, "
             f"{n_leaves} leaves)", f"/clients/{long.public_id}/"),
        Case(f"Client chart, long history, vitals over the whole stay ({n_stay_vitals:,} sets; "
             f"{n_vitals:,} in all)", f"/clients/{long.public_id}/?vitals_range=stay"),
        Case(f"Client chart, short history ({short.stays} stay, {short.leaves} leaves)",
             f"/clients/{short.public_id}/"),
        Case("Floor page /ping/", "/ping/"),
    ]  # fmt: skip
    audit = Case("Audit trail, first page (extra; as a nurse)", "/audit/")
    pdf = Case(f"Census PDF, all units ({all_beds} beds)", "/census/print/",
               budget="shift report PDF, 120 clients: ≤ 3 s")  # fmt: skip
    counts = {
        "clients": Patient.objects.filter(facility=facility).count(),
        "admissions": Admission.objects.filter(facility=facility).count(),
        "leaves": Leave.objects.filter(admission__facility=facility).count(),
        "access events": AccessEvent.objects.count(),
        "vital-sign sets": VitalSigns.objects.filter(admission__facility=facility).count(),
    }

    client = Client()
    client.force_login(User.objects.get(username=TECHNICIAN))
    with rep.timing(args.debug) as run:
        rep.round_robin(client, cases, args.n, args.warmup)
        if args.pdf:
            rep.round_robin(client, [pdf], args.pdf, 1)
        if args.audit:
            nurse = Client()
            nurse.force_login(User.objects.get(username=NURSE))
            rep.round_robin(nurse, [audit], args.audit, 1)

    print(rep.header("Haven bench", args.debug))
    print(
        f"Data: {_env.database_name()}: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        + f"; chart client {long.mrn} has {n_views:,} access events"
    )
    print(
        f"Signed in as {TECHNICIAN} (technician); warm-up {args.warmup}, then N={args.n} "
        f"round-robin; PDF x{args.pdf}; audit trail x{args.audit}. Wall time {run['wall']:.0f} "
        f"s. {run['load']}\n"
    )
    extras = ([pdf] if args.pdf else []) + ([audit] if args.audit else [])
    print(rep.table(cases + extras, first="Page", budget="nearest §6 budget", met=False))
    if args.show_queries:
        rep.show_queries(cases + extras)
    return 0


if __name__ == "__main__":
    sys.exit(main())
