"""Transport's sections of "My work" (issue 17 item 1; facility/registry.py WorklistSection):
the floor's trips today that the person drives or escorts, and the admin's drivers whose
documents lapsed or expire within 30 days (transport/rules.py, as the fleet scan and the
drivers page read them). Each is one query.

Drivers' documents are the only staff credentials with an expiry date Haven holds: a staff
account's `credentials` is free text ("RN", "MD") without one, and the van training has a date
but no renewal rule (specs/transport.md)."""

from datetime import datetime, time, timedelta

from django.db.models import Case, Q, Value, When
from django.urls import reverse
from django.utils import timezone

from facility.registry import WorkItem, WorklistSection, register_worklist_section
from facility.worklist import CAP
from transport import rules
from transport.models import Driver, Trip, TripStatus
from transport.services.fleet import driver_documents, local_today

_TRIP_TONE = {"out": "due", "overdue": "late", "critical": "alert"}
_TRIP_WORDS = {"out": "out", "overdue": "late", "critical": "very late"}


def _my_trips(*, user, facility, now) -> list[WorkItem]:
    """Trips not yet back that this person drives or escorts: those planned to leave by the end
    of today on the facility's clock (a trip planned for an earlier day that never left stays
    until someone signs it out or cancels it: nothing drops off unanswered), and any still out.
    Trips out come first in the query, so the 50-row cap never drops one for a planned trip;
    then late ones first (as the board judges them), then by departure."""
    today = timezone.localtime(now, facility.tz).date()
    end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=facility.tz)
    trips = list(
        Trip.objects.filter(facility=facility)
        .filter(Q(driver__user=user) | Q(escorts=user))
        .filter(Q(status=TripStatus.PLANNED, planned_departure__lt=end) | Q(status=TripStatus.OUT))
        .select_related("vehicle", "driver__user")
        .distinct()
        .order_by(
            Case(When(status=TripStatus.OUT, then=Value(0)), default=Value(1)),
            "planned_departure",
            "pk",
        )[:CAP]
    )
    items = []
    for trip in trips:
        if trip.status == TripStatus.OUT:
            state = rules.trip_status(trip.planned_return, now)
            back = timezone.localtime(trip.planned_return, facility.tz)
            detail = f"{_TRIP_WORDS[state]}: back by {back:%H:%M}"
            when, tone = trip.planned_return, _TRIP_TONE[state]
        else:
            # Planned: it leaves at `when`; past that time and still not signed out, it is due,
            # and past its planned return it never left: late.
            detail, when = "planned to leave", trip.planned_departure
            tone = "due" if trip.planned_departure <= now else ""
            if rules.never_left(trip.planned_return, now):  # as the trips board judges it
                detail, tone = f"never left: {rules.NEVER_LEFT_ACTION}", "late"
        role = "driving" if trip.driver.user_id == user.pk else "escorting"
        items.append(
            WorkItem(
                label=f"{trip.get_purpose_display()} · {trip.vehicle.name} · {role}",
                href=reverse("transport:trip", args=[trip.public_id]),
                detail=detail,
                when=when,
                tone=tone,
            )
        )
    rank = {"alert": 0, "late": 1, "due": 2, "": 3}
    items.sort(key=lambda i: rank[i.tone])  # stable: by departure within each
    return items


def _in_days(d, today) -> str:
    n = (d - today).days
    if n < 0:
        return f"lapsed {d:%Y-%m-%d}"
    return f"{'today' if n == 0 else 'tomorrow' if n == 1 else f'in {n} days'} ({d:%Y-%m-%d})"


def _expiring_drivers(*, user, facility, now) -> list[WorkItem]:
    """Active drivers (with an active account) whose licence, motor-vehicle-record check or
    First Aid/CPR lapsed or falls within the warning window: one row per driver, the most
    urgent first, linking to the driver's record where the renewal is entered."""
    today = local_today(facility, now)
    rows = []
    for driver in Driver.objects.filter(
        facility=facility, active=True, user__is_active=True
    ).select_related("user"):
        found = []
        for label, d in driver_documents(driver).items():
            if d < today or rules.expiring({label: d}, today=today):
                found.append((d, label))
        if found:
            found.sort()
            rows.append((found[0][0], driver, found))
    rows.sort(key=lambda r: (r[0], r[1].user.full_name))
    return [
        WorkItem(
            label=f"{driver.user.full_name} · driver",
            href=reverse("transport:driver_edit", args=[driver.public_id]),
            detail="; ".join(f"{label} {_in_days(d, today)}" for d, label in found),
            tone="alert" if first < today else "due",
        )
        for first, driver, found in rows[:CAP]
    ]


register_worklist_section(
    WorklistSection(
        "my_trips",
        "My trips",
        _my_trips,
        roles=("technician", "nurse"),
        capability="transport.view",
        order=80,
        more="transport:board",
        empty="You drive or escort no trip today.",
    )
)
register_worklist_section(
    WorklistSection(
        "expiring_credentials",
        "Staff credentials expiring or lapsed",
        _expiring_drivers,
        roles=("admin",),
        capability="transport.fleet",
        order=10,
        more="transport:drivers",
        empty="No driver's document lapses in the next 30 days.",
    )
)
