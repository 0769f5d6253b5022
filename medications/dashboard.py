"""The supervisor dashboard's medication numbers (issue 15 item 4; facility/registry.py
DashboardTile): doses of the shift so far as the MAR reads them, PRN follow-ups owed, and the
controlled counts still pending. Each tile reads the whole facility in a fixed number of queries.
"""

from django.db.models import Min
from django.urls import reverse

from clients.models import Admission
from facility.registry import DashboardTile, register_dashboard_tile
from medications import services
from medications.models import ControlledCount, ControlledStock
from medications.services.controlled import COUNT_GRACE
from medications.views import _board_doses


def _current_ids(facility) -> list[int]:
    return list(Admission.objects.current().filter(facility=facility).values_list("pk", flat=True))


def doses_tile(scope) -> list[tuple[str, int, str, str]]:
    """Doses of the shift not yet charted, by the MAR's status now: due (inside the window),
    late (past it, not yet missed) and missed (undocumented past the late period, or charted
    "not given")."""
    ids = _current_ids(scope.facility)
    doses = _board_doses(ids, scope.start, scope.end)
    counts = {"due": 0, "late": 0, "missed": 0}
    for v in services.dose_views(doses, scope.now):
        if not scope.start <= v.dose.scheduled_at < scope.end:
            continue  # the next shift's doses, read only to bound this shift's late periods
        status = "missed" if v.status == "not_given" else v.status
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
    stocks = dict(
        services.owing_counts(ControlledStock.objects.filter(facility=scope.facility))
        .annotate(first=Min("movements__at"))
        .values_list("pk", "first")
    )
    owing = {pk for pk, first in stocks.items() if first is not None and first <= scope.start}
    counted = set(
        ControlledCount.objects.filter(
            stock__facility=scope.facility,
            completed_at__isnull=False,
            counted_at__gte=scope.start - COUNT_GRACE,
            counted_at__lte=scope.now,
        ).values_list("stock_id", flat=True)
    )
    variances = ControlledCount.objects.filter(
        stock__facility=scope.facility, completed_at__isnull=True, superseded_at__isnull=True
    ).count()
    page = reverse("medications:controlled")
    pending = len(owing - counted)
    return [
        ("Not yet counted", pending, page, "due" if pending else ""),
        ("Variances to sign off", variances, page, "alert" if variances else ""),
    ]


register_dashboard_tile(DashboardTile("doses", "Doses this shift", doses_tile, order=20))
register_dashboard_tile(DashboardTile("prn", "PRN follow-ups", prn_tile, order=30))
register_dashboard_tile(DashboardTile("counts", "Controlled counts", counts_tile, order=60))
