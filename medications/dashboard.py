"""The supervisor dashboard's medication numbers (issue 15 item 4; facility/registry.py
DashboardTile): doses of the shift so far as the MAR reads them, PRN follow-ups owed, and the
controlled counts still pending. Each tile reads the whole facility in a fixed number of queries.

Nothing undocumented is dropped at a shift change (specs/mar.md: an undocumented dose never
leaves the MAR): the doses tile also counts doses of earlier shifts, within the MAR scan's
look-back before the shift's start (SCAN_LOOKBACK, as the shift report's "From the previous
shift"), that still have no outcome: at 15:20 the 14:45 dose nobody charted is late.
"""

from datetime import timedelta
from types import SimpleNamespace

from django.db import connection, transaction
from django.db.models import (
    CharField,
    DateTimeField,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.urls import reverse

from clients.models import Admission
from facility.registry import DashboardTile, register_dashboard_tile
from medications import services
from medications.models import Administration, ControlledCount, ScheduledDose
from medications.services import SCAN_LOOKBACK
from medications.timing import deadline_status, dose_status


def _current_ids(facility) -> list[int]:
    return list(Admission.objects.current().filter(facility=facility).values_list("pk", flat=True))


class _Dose(SimpleNamespace):
    """A dose as dose_views() reads it: its own times and its live documentation, no more."""


FIELDS = ("pk", "order_id", "scheduled_at", "window_minutes", "cancelled_at", "deadline_at",
          "outcome", "timing", "next_at", "next_window")  # fmt: skip


def _shift_doses(admission_ids, start, end) -> tuple[list[_Dose], list[_Dose]]:
    """The MAR board's doses of the shift (medications.views._board_doses: the same rows, and
    the next 6 hours' to bound the late periods) with only what a status needs: no order text,
    drug name or initials, so no join to medications or users and a few columns per row.

    Then, in the same query (UNION ALL), the doses of the look-back before the shift that still
    have no outcome (not cancelled, no live documentation), each with its order's next dose
    time and window, which bound its late period as in dose_views(). Few rows: a dose charted
    in time is not among them."""
    live = FilteredRelation("administrations", condition=Q(administrations__struck_at__isnull=True))
    no_time, no_minutes = Value(None, DateTimeField()), Value(None, IntegerField())
    shift = (
        ScheduledDose.objects.filter(
            order__admission__in=admission_ids,
            scheduled_at__gte=start,
            scheduled_at__lt=end + timedelta(hours=6),
        )
        .annotate(doc=live)
        .annotate(outcome=F("doc__outcome"), timing=F("doc__timing"), next_at=no_time,
                  next_window=no_minutes)
        .values_list(*FIELDS)
    )  # fmt: skip
    later = ScheduledDose.objects.filter(
        order=OuterRef("order"), scheduled_at__gt=OuterRef("scheduled_at")
    ).order_by("scheduled_at")
    documented = Administration.objects.filter(dose=OuterRef("pk"), struck_at__isnull=True)
    carried = (
        ScheduledDose.objects.filter(
            order__admission__in=admission_ids,
            scheduled_at__gte=start - SCAN_LOOKBACK,
            scheduled_at__lt=start,
            cancelled_at__isnull=True,
        )
        .exclude(Exists(documented))
        .annotate(outcome=Value(None, CharField()), timing=Value(None, CharField()),
                  next_at=Subquery(later.values("scheduled_at")[:1]),
                  next_window=Subquery(later.values("window_minutes")[:1]))
        .values_list(*FIELDS)
    )  # fmt: skip
    rows = shift.union(carried, all=True).order_by("order_id", "scheduled_at")
    # As the MAR board does: no parallel workers for a few hundred index entries (2 cores).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        rows = list(rows)
    docs = {(None, None): []}
    doses, earlier = [], []
    for pk, order_id, at, window, cancelled, deadline, outcome, timing, nxt, nxt_window in rows:
        if at < start:  # no outcome yet (the query's second part)
            earlier.append(_Dose(
                pk=pk, order_id=order_id, scheduled_at=at, window_minutes=window,
                deadline_at=deadline, next_at=nxt, next_window=nxt_window,
            ))  # fmt: skip
            continue
        doc = docs.get((outcome, timing))
        if doc is None:
            doc = docs[outcome, timing] = [SimpleNamespace(outcome=outcome, timing=timing)]
        doses.append(_Dose(pk=pk, order_id=order_id, scheduled_at=at, window_minutes=window,
                           cancelled_at=cancelled, deadline_at=deadline, live=doc))  # fmt: skip
    return doses, earlier


def _earlier_status(dose, now) -> str:
    """An undocumented dose of before the shift, as dose_views() judges it: due until its
    deadline then missed (STAT, NOW, first dose), else by its window and the next dose."""
    if dose.deadline_at is not None:
        return deadline_status(dose.deadline_at, now)
    return dose_status(dose.scheduled_at, now, window=dose.window_minutes,
                       next_scheduled_at=dose.next_at, next_window=dose.next_window)  # fmt: skip


def doses_tile(scope) -> list[tuple[str, int, str, str]]:
    """Doses not yet charted, by the MAR's status now: due (inside the window), late (past it,
    not yet missed) and missed (undocumented past the late period, or charted "not given"):
    those of the shift so far, and those of earlier shifts (within the look-back) that still
    have no outcome."""
    doses, earlier = _shift_doses(_current_ids(scope.facility), scope.start, scope.end)
    counts = {"due": 0, "late": 0, "missed": 0}
    for v in services.dose_views(doses, scope.now):
        if not scope.start <= v.dose.scheduled_at < scope.end:
            continue  # the next shift's doses, read only to bound this shift's late periods
        status = "missed" if v.status == "not_given" else v.status
        if status in counts:
            counts[status] += 1
    for dose in earlier:
        status = _earlier_status(dose, scope.now)
        if status in counts:
            counts[status] += 1
    mar = reverse("medications:mar")
    return [
        ("Due now", counts["due"], mar, "due" if counts["due"] else ""),
        ("Late", counts["late"], mar, "late" if counts["late"] else ""),
        ("Missed", counts["missed"], mar, "alert" if counts["missed"] else ""),
    ]


def prn_tile(scope) -> list[tuple[str, int, str, str]]:
    """PRN doses whose effectiveness reassessment is owed now (due, or overdue)."""
    pending = services.prn_pending(_current_ids(scope.facility), scope.now)
    due = sum(1 for _, status in pending if status == "due")
    overdue = sum(1 for _, status in pending if status == "overdue")
    mar = reverse("medications:mar")
    return [
        ("Due", due, mar, "due" if due else ""),
        ("Overdue", overdue, mar, "late" if overdue else ""),
    ]


def counts_tile(scope) -> list[tuple[str, int, str, str]]:
    """Stocks that owe this shift's count and have none completed since the count window
    opened (an hour before the shift change, as the count scan allows), and count variances
    awaiting a supervisor's sign-off."""
    pending = len(
        services.stocks_owing_shift_count(scope.facility, shift_start=scope.start, now=scope.now)
    )
    variances = ControlledCount.objects.filter(
        stock__facility=scope.facility, completed_at__isnull=True, superseded_at__isnull=True
    ).count()
    page = reverse("medications:controlled")
    return [
        ("Not yet counted", pending, page, "due" if pending else ""),
        ("Variances to sign off", variances, page, "alert" if variances else ""),
    ]


register_dashboard_tile(DashboardTile("doses", "Doses needing an outcome", doses_tile, order=20))
register_dashboard_tile(DashboardTile("prn", "PRN follow-ups", prn_tile, order=30))
register_dashboard_tile(DashboardTile("counts", "Controlled counts", counts_tile, order=60))
