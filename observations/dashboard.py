"""The supervisor dashboard's rounds and incidents numbers (issue 15 item 4; facility/registry.py
DashboardTile), for the shift so far.

Rounds are counted per unit the way the pages they link to count them: *done* and *missed* are
the windows of the shift that have ended, judged as the compliance report and the scan judge
them (observations.compliance); *due now* are the clients on site whose current check the rounds
board shows as due. Each tile reads the whole facility in a fixed number of queries.
"""

from collections import Counter, defaultdict

from django.urls import reverse

from clients.models import Admission
from clients.services import leaves_overlapping
from facility.models import Alert, Unit
from facility.registry import DashboardTile, register_dashboard_tile
from observations import services
from observations.compliance import REACH, admission_blocks
from observations.models import (
    Incident,
    IncidentStatus,
    LevelOrder,
    ObserverAssignment,
    RoundCheck,
)
from observations.views.rounds import recent_leaves

DUE_STATES = ("due", "due_soon")


def _due_now(facility, now) -> Counter:
    """Clients on site whose check is due now, by unit id, as the rounds board says it: their
    level, last check, recent leaves and open missed-check alerts (an unchecked block with one
    open reads "missed" on the board, not "due"). Six queries for the whole facility."""
    admissions = list(
        Admission.objects.current()
        .filter(facility=facility)
        .prefetch_related("client", recent_leaves(now))
    )
    levels = services.current_levels(admissions, now)
    last = services.last_checks(admissions)
    missed = Counter(
        Alert.objects.open()
        .filter(facility=facility, kind="missed_check")
        .values_list("client_public_id", flat=True)
    )
    due = Counter()
    for a in admissions:
        if any(lv.returned_at is None for lv in a.recent_leaves):
            continue  # off site: nothing owed
        state, _ = services.round_state(
            now, facility.tz, a, levels[a.pk], last.get(a.pk), a.recent_leaves,
            missed.get(a.client.public_id),
        )  # fmt: skip
        if state in DUE_STATES:
            due[a.unit_id] += 1
    return due


def _ended_windows(facility, start, now) -> tuple[Counter, Counter]:
    """Windows of the shift that began at `start` and have ended by `now`, checked and missed,
    by unit id: compliance_summary's judgement (observations.compliance.admission_blocks), with
    the checks read as bare rows (no codes or people: a count needs neither; building them was
    most of a 125-client dashboard's time). Five queries."""
    admissions = list(
        Admission.objects.filter(facility=facility, admitted_at__lt=now).exclude(
            discharged_at__lte=start
        )
    )
    ids = [a.pk for a in admissions]
    lo, hi = start - REACH, now + REACH
    orders, checks, leaves, watches = (defaultdict(list) for _ in range(4))
    for order in LevelOrder.objects.filter(admission__in=ids).order_by("effective_from", "id"):
        orders[order.admission_id].append(order)
    for check in (
        RoundCheck.objects.filter(admission__in=ids, observed_at__gte=lo, observed_at__lt=hi)
        .only("id", "admission_id", "observed_at", "recorded_at", "recorded_by_id", "source")
        .order_by("observed_at", "id")
    ):
        checks[check.admission_id].append(check)
    for leave in leaves_overlapping(ids, start=lo, end=hi):
        leaves[leave.admission_id].append(leave)
    for adm_id, *watch in (
        ObserverAssignment.objects.filter(admission__in=ids, started_at__lt=hi)
        .exclude(ended_at__lte=lo)
        .order_by("started_at", "id")
        .values_list("admission_id", "observer_id", "started_at", "ended_at")
    ):
        watches[adm_id].append(tuple(watch))
    done, missed = Counter(), Counter()
    for a in admissions:
        a.facility = facility  # the windows are on its clock
        for block in admission_blocks(
            a, orders[a.pk], leaves[a.pk], checks[a.pk], start=start, end=now,
            watches=watches[a.pk], now=now,
        ):  # fmt: skip
            (missed if block.missed else done)[a.unit_id] += 1
    return done, missed


def rounds_tile(scope) -> list[tuple[str, int, str, str]]:
    """Per unit: windows done and missed so far this shift, and checks due now."""
    facility, now = scope.facility, scope.now
    done, missed = _ended_windows(facility, scope.start, min(scope.end, now))
    due = _due_now(facility, now)
    items = []
    for unit in Unit.objects.filter(facility=facility).order_by("name"):
        href = reverse("observations:board", args=[unit.public_id])
        items += [
            (f"{unit.name} · Done", done[unit.pk], href, ""),
            (f"{unit.name} · Due now", due[unit.pk], href, "due" if due[unit.pk] else ""),
            (f"{unit.name} · Missed", missed[unit.pk], href, "alert" if missed[unit.pk] else ""),
        ]
    return items


def incidents_tile(scope) -> list[tuple[str, int, str, str]]:
    """Incident reports submitted and awaiting a supervisor's review (of any shift: a report
    waits until it is reviewed)."""
    waiting = Incident.objects.filter(
        facility=scope.facility, status=IncidentStatus.SUBMITTED
    ).count()
    return [
        ("Awaiting review", waiting, reverse("observations:incidents"), "due" if waiting else "")
    ]


register_dashboard_tile(DashboardTile("rounds", "Rounds this shift", rounds_tile, order=10))
register_dashboard_tile(DashboardTile("incidents", "Incidents", incidents_tile, order=50))
