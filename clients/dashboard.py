"""The supervisor dashboard's census numbers (issue 15 item 4; facility/registry.py
DashboardTile): clients in house, off site, and overdue back from a leave. One query."""

from django.db.models import Count, Q
from django.urls import reverse

from clients.models import Admission
from facility.registry import DashboardTile, register_dashboard_tile


def census_tile(scope) -> list[tuple[str, int, str, str]]:
    """Open stays at the facility, those with an open leave, and those overdue back from it."""
    now = scope.now
    open_leave = Q(leaves__returned_at__isnull=True, leaves__left_at__lte=now)
    numbers = (
        Admission.objects.current()
        .filter(facility=scope.facility)
        .aggregate(
            stays=Count("pk", distinct=True),
            away=Count("pk", filter=open_leave, distinct=True),
            overdue=Count(
                "pk", filter=open_leave & Q(leaves__expected_back_at__lt=now), distinct=True
            ),
        )
    )
    census = reverse("clients:census")
    return [
        ("In house", numbers["stays"] - numbers["away"], census, ""),
        ("Off site", numbers["away"], census, ""),
        ("Overdue back", numbers["overdue"], census, "late" if numbers["overdue"] else ""),
    ]


register_dashboard_tile(DashboardTile("census", "Census", census_tile, order=5))
