"""The supervisor's dashboard (issue 15 item 4; specs/shift-report.md): the current shift so far
at the user's facility, live. Its numbers come from the tiles each app registers in its
`dashboard.py` (facility/registry.py DashboardTile); open alerts by severity are the core's own.
This module imports no domain app. Every number links to the list it counts.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from facility import policy
from facility.access import current_facility_or_404
from facility.models import Alert, AlertSeverity
from facility.registry import ReportScope, registry

SEVERITY_TONE = {"critical": "alert", "warning": "late", "info": ""}


@dataclass
class Number:
    label: str
    value: int
    href: str
    tone: str = ""


@dataclass
class Group:
    """Numbers under one heading inside a tile: a unit's rounds ("East · Done" labels)."""

    name: str
    numbers: list[Number] = field(default_factory=list)


@dataclass
class Tile:
    key: str
    title: str
    groups: list[Group]


def _grouped(items) -> list[Group]:
    """Tile items as groups: "East · Done" goes under East as "Done"; plain labels form one
    group without a heading, in the order given."""
    groups: list[Group] = []
    for label, value, href, tone in items:
        name, _, short = label.rpartition(" · ")
        if not groups or groups[-1].name != name:
            groups.append(Group(name))
        groups[-1].numbers.append(Number(short, value, href, tone))
    return groups


def _alerts_tile(facility) -> Tile:
    """Open alerts of the facility by severity, every audience (a supervisor sees them all, as
    on the alerts page). One query."""
    counts = dict(
        Alert.objects.for_facility(facility)
        .open()
        .order_by()
        .values_list("severity")
        .annotate(n=Count("id"))
        .values_list("severity", "n")
    )
    href = reverse("alerts")
    numbers = [
        Number(
            label,
            counts.get(value, 0),
            f"{href}?{urlencode({'severity': value})}",  # the list of that severity (issue 17)
            SEVERITY_TONE[value] if counts.get(value) else "",
        )
        for value, label in reversed(AlertSeverity.choices)  # critical first
    ]
    return Tile("alerts", "Open alerts", [Group("", numbers)])


def dashboard_context(facility, now) -> dict:
    """The current shift at `facility` up to `now`, and every tile's numbers."""
    day, shift_key = facility.current_shift(now)
    start, end = facility.shift_bounds(day, shift_key)
    scope = ReportScope(facility=facility, unit=None, start=start, end=end, now=now)
    tiles = [Tile(t.key, t.title, _grouped(t.count(scope))) for t in registry.dashboard_tiles]
    tiles.insert(0, _alerts_tile(facility))
    return {
        "facility": facility,
        "shift_label": dict(facility.shift_choices()).get(shift_key, shift_key),
        "day": day,
        "start": timezone.localtime(start, facility.tz),
        "end": timezone.localtime(end, facility.tz),
        "now": timezone.localtime(now, facility.tz),
        "tiles": tiles,
    }


@policy.requires("dashboard.view")
@require_GET
def dashboard(request):
    """The page: the shift's heading and the tiles, which poll `dashboard_live` every 30 s."""
    facility = current_facility_or_404(request)
    return render(request, "facility/dashboard.html", dashboard_context(facility, timezone.now()))


@policy.requires("dashboard.view")
@require_GET
def dashboard_live(request):
    """The tiles alone, swapped in place by the page's poll."""
    facility = current_facility_or_404(request)
    return render(
        request, "facility/dashboard.html#tiles", dashboard_context(facility, timezone.now())
    )
