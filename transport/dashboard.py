"""The supervisor dashboard's trips (issue 15 item 4; facility/registry.py DashboardTile): the
trips out now and those late back, as the transport board reads them. One query."""

from django.urls import reverse

from facility.registry import DashboardTile, register_dashboard_tile
from transport import rules
from transport.models import Trip, TripStatus


def trips_tile(scope) -> list[tuple[str, int, str, str]]:
    """Trips out now, and those of them past their planned return (overdue or critical)."""
    returns = list(
        Trip.objects.filter(facility=scope.facility, status=TripStatus.OUT).values_list(
            "planned_return", flat=True
        )
    )
    late = sum(1 for r in returns if rules.trip_status(r, scope.now) in ("overdue", "critical"))
    board = reverse("transport:board")
    return [
        ("Out now", len(returns), board, ""),
        ("Late back", late, board, "late" if late else ""),
    ]


register_dashboard_tile(DashboardTile("trips", "Trips", trips_tile, order=70))
