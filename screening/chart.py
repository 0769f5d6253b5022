"""Screening's sections of the client chart (issue 13 item 8): the client's screening history in
this stay (specimens with their cup and lab results, breath alcohol tests with a due repeat,
belongings searches with what is still held), and the actions the reader may take. One fixed
number of queries, whatever the length of the stay."""

from datetime import timedelta

from django.db.models import Prefetch
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from facility import policy
from facility.registry import ChartSection, register_chart_section
from screening.models import (
    HELD,
    AnalyteResult,
    BelongingsSearch,
    BreathTest,
    PocTest,
    Reading,
    SearchItem,
    Specimen,
    SpecimenReason,
)
from screening.services import breath as breath_services
from screening.services.searches import returned_leaves

SHOWN = 20
# A pass the client came back from within this long offers "UDS + search".
RECENT_RETURN = timedelta(hours=24)


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _specimens(admission) -> list[dict]:
    live_tests = PocTest.objects.filter(struck_at__isnull=True).prefetch_related(
        Prefetch("analytes", queryset=AnalyteResult.objects.exclude(reading=Reading.NEGATIVE))
    )
    specimens = list(
        Specimen.objects.filter(admission=admission)
        .prefetch_related(Prefetch("poc_tests", queryset=live_tests, to_attr="live_tests"))
        .prefetch_related("lab_results")
        .order_by("-ordered_at")[:SHOWN]
    )
    rows = []
    for s in specimens:
        test = s.live_tests[0] if s.live_tests else None
        flagged = list(test.analytes.all()) if test else []
        rows.append({
            "specimen": s, "test": test,
            "unexpected": [a.analyte for a in flagged
                           if a.reading == Reading.PRESUMPTIVE_POSITIVE and not a.expected_by],
            "expected": [a.analyte for a in flagged
                         if a.reading == Reading.PRESUMPTIVE_POSITIVE and a.expected_by],
            "invalid": [a.analyte for a in flagged if a.reading == Reading.INVALID],
            "labs": list(s.lab_results.all()),
            "url": _url("screening:specimen", s.public_id),
            "result_url": _url("screening:poc_result", test.public_id) if test else "",
        })  # fmt: skip
    return rows


def _history(request, client, admission):
    if admission is None:
        return {"admission": None}
    now = timezone.now()
    tests = list(
        BreathTest.objects.filter(admission=admission).select_related("operator", "device")
    )
    risk = breath_services.withdrawal_risk(admission, now) if tests else False
    breath = sorted(
        breath_services.outcomes(tests, risk_by_admission={admission.pk: risk}),
        key=lambda o: o.test.tested_at,
        reverse=True,
    )[:SHOWN]
    searches = list(
        BelongingsSearch.objects.filter(admission=admission)
        .select_related("searched_by", "witness")
        .prefetch_related(Prefetch("items", queryset=SearchItem.objects.order_by("pk")))
        .order_by("-searched_at")[:SHOWN]
    )
    held = [i for s in searches for i in s.items.all() if i.disposition in HELD]
    user = request.user
    can_search = policy.allows(user, "screening.search", admission)
    offers = []
    if can_search and admission.is_open:
        recent = [
            leave
            for leave in returned_leaves(admission)[:3]
            if leave.returned_at >= now - RECENT_RETURN
        ]
        done = {s.leave_id for s in searches if s.reason == "return_from_pass"}
        offers = [
            {"leave": leave, "url": reverse("screening:pass_return", args=[leave.public_id])}
            for leave in recent
            if leave.pk not in done
        ]
    specimens = _specimens(admission)
    return {
        "admission": admission,
        "specimens": specimens,
        "breath": breath,
        "due_repeats": [o for o in breath if o.repeat_due_at is not None],
        "searches": searches,
        "held": held,
        "offers": offers,
        "now": now,
        "can_breath": admission.is_open and policy.allows(user, "screening.breath", admission),
        "can_search": can_search and admission.is_open,
        "start_url": _url("screening:specimen_start", admission.public_id)
        if admission.is_open and policy.allows(user, "screening.collect", admission)
        else "",
        "return_reason": SpecimenReason.RETURN_FROM_PASS,
        # For cause / scheduled screens (nurses, clinicians, supervisors): specimen_order.
        "order_url": _url("screening:specimen_order", admission.public_id)
        if admission.is_open and policy.allows(user, "screening.order", admission)
        else "",
    }


register_chart_section(
    ChartSection(
        key="screening",
        title="Drug screens, breath alcohol and searches",
        template="screening/sections/screening_history.html",
        render=_history,
        order=60,
        capability="screening.view",
    )
)
