#!/usr/bin/env python
"""The client chart with and without its vital-signs section, interleaved (issue 11: "the chart
with a year of vitals stays within the chart's current time"), on the database bench/generate.py
makes. Each round requests every case once, so "without" and "with" see the same load: the
section is taken out of the registry for the "without" cases only, around their request.

    .venv/bin/python bench/vitals_run.py [--n 200] [--warmup 10] [--show-queries]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _env  # noqa: E402
import _report as rep  # noqa: E402
from _report import Case  # noqa: E402

TECHNICIAN = "tech01"
WITHOUT = "h2-without-vitals"  # a query-string marker the chart ignores


def main(argv=None) -> int:
    args = rep.arguments(__doc__, "page").parse_args(argv)
    _env.setup()
    from datetime import timedelta

    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from clients.models import Admission
    from clients.models import Client as Patient
    from facility.models import User
    from facility.registry import registry
    from observations.models import VitalSigns

    (facility,) = rep.ready("generate.py", _env.BENCH_FACILITY)
    with_vitals = (
        VitalSigns.objects.filter(admission__facility=facility)
        .values_list("admission__client", flat=True)
        .first()
    )
    if with_vitals is None:
        sys.exit(
            "No vitals in the bench: run bench/generate.py (it adds them to an existing bench)"
        )
    long = Patient.objects.get(pk=with_vitals)
    current = Admission.objects.get(client=long, discharged_at__isnull=True)
    n_all = VitalSigns.objects.filter(admission__client=long).count()
    n_stay = VitalSigns.objects.filter(admission=current).count()
    week_ago = timezone.now() - timedelta(days=7)
    n_week = VitalSigns.objects.filter(admission=current, taken_at__gte=week_ago).count()
    short = (
        Patient.objects.filter(admissions__discharged_at__isnull=True, facility=facility)
        .exclude(pk=long.pk)
        .order_by("-id")
        .first()
    )
    chart = f"/clients/{long.public_id}/"
    frag = reverse("observations:vitals_trends", args=[current.public_id])
    cases = [
        Case(f"Chart, {long.mrn}, without the vitals section", f"{chart}?{WITHOUT}=1"),
        Case(f"Chart, {long.mrn}, with it (latest set; trends load after)", chart),
        Case(f"Trends fragment, last 7 days ({n_week} sets)", frag),
        Case(f"Trends fragment, whole stay ({n_stay} sets; {n_all} in all stays)",
             f"{frag}?vitals_range=stay"),
        Case("Chart with the trends inline (no JavaScript), 7 days", f"{chart}?vitals_range=7d"),
        Case("Chart with the trends inline, whole stay", f"{chart}?vitals_range=stay"),
        Case(f"Chart, {short.mrn} (no vitals), without the section",
             f"/clients/{short.public_id}/?{WITHOUT}=1"),
        Case(f"Chart, {short.mrn} (no vitals), with it", f"/clients/{short.public_id}/"),
    ]  # fmt: skip

    class Toggling(Client):
        def get(self, path, *a, **kw):
            if WITHOUT not in path:
                return super().get(path, *a, **kw)
            kept = registry.chart_sections
            registry.chart_sections = [s for s in kept if s.key != "vitals"]
            try:
                return super().get(path, *a, **kw)
            finally:
                registry.chart_sections = kept

    client = Toggling()
    client.force_login(User.objects.get(username=TECHNICIAN))
    with rep.timing(args.debug) as run:
        rep.round_robin(client, cases, args.n, args.warmup)
    print(rep.header("Haven bench: the chart's vitals section", args.debug))
    others = [s.key for s in registry.chart_sections if s.key != "vitals"]
    print(
        f"Signed in as {TECHNICIAN}; warm-up {args.warmup}, then N={args.n} round-robin. Other "
        f"chart sections: {', '.join(others)}. Wall time {run['wall']:.0f} s. {run['load']}\n"
    )
    print(rep.table(cases, first="Page", budget="", met=False))
    if args.show_queries:
        rep.show_queries(cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
