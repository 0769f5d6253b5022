"""The clients app's sections of the client chart: the stay, leaves, orientation checklist."""

from clients.consents import amendments_section, consents_section
from clients.models import OrientationItem, OutingRestriction
from facility import policy
from facility.registry import ChartSection, register_chart_section


def _stay(request, client, admission):
    if admission is None:
        return {"admission": None}
    return {
        "admission": admission,
        "bed_moves": list(admission.bed_moves.select_related("from_bed", "to_bed", "moved_by")),
        "leaves": list(admission.leaves.select_related("recorded_by", "returned_recorded_by")),
        "past_stays": list(client.admissions.exclude(pk=admission.pk).select_related("unit")),
        "can_admit": policy.allows(request.user, "clients.admit"),
        "can_chart": policy.allows(request.user, "floor.chart"),
    }


def _orientation(request, client, admission):
    if admission is None:
        return {"items": []}
    ticks = {t.item_id: t for t in admission.orientation_ticks.select_related("ticked_by")}
    items = OrientationItem.objects.filter(facility=admission.facility, active=True)
    rows = [{"item": item, "tick": ticks.get(item.pk)} for item in items]
    return {
        "admission": admission,
        "items": rows,
        "done": sum(1 for r in rows if r["tick"]),
        "can_chart": policy.allows(request.user, "floor.chart", admission),
    }


def _outings(request, client, admission):
    """Issue 14: the "no outings" restriction in force (who, when, why), the lifted ones, and
    the set / lift form for nurses and clinicians."""
    if admission is None:
        return {"admission": None}
    rows = list(
        OutingRestriction.objects.filter(admission=admission).select_related("set_by", "lifted_by")
    )
    current = next((r for r in rows if r.lifted_at is None), None)
    return {
        "admission": admission,
        "current": current,
        "history": [r for r in rows if r.lifted_at is not None],
        "can_set": admission.is_open
        and policy.allows(request.user, "outing_restriction.set", admission),
    }


register_chart_section(
    ChartSection(
        key="outings",
        title="Outings",
        template="clients/sections/outings.html",
        render=_outings,
        order=15,
    )
)
register_chart_section(
    ChartSection(
        key="stay", title="Stay", template="clients/sections/stay.html", render=_stay, order=10
    )
)
register_chart_section(
    ChartSection(
        key="orientation",
        title="Orientation checklist",
        template="clients/sections/orientation.html",
        render=_orientation,
        order=20,
    )
)
# Issue 16: Part 2 consents (which are usable now) and amendment requests (clients/consents.py).
register_chart_section(
    ChartSection(
        key="consents",
        title="Consents",
        template="clients/consent_section.html",
        render=consents_section,
        order=80,
        capability="consents.view",
    )
)
register_chart_section(
    ChartSection(
        key="amendments",
        title="Amendments",
        template="clients/amendment_section.html",
        render=amendments_section,
        order=85,
        capability="consents.view",
    )
)
