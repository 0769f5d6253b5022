"""Transport's part of the shift report (issue 14 → 15; specs/shift-report.md, specs/transport.md):
the trips of the shift for the facility, and for each client the trip they were on.

A trip is on the report when it was out at some moment of the shift, or planned to leave in it
and not cancelled. Whether it is late is transport.rules.trip_status, read at the end of the
shift (or now, for a shift still running): overdue is a warning, critical urgent. A head count
that did not match the clients signed out or in is urgent, as the incident it opened. Three
queries whatever the census: the trips with their passengers, and the clients' trips.
"""

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.urls import reverse
from django.utils import timezone

from facility.registry import ReportItem, ReportSection, register_report_section
from transport.models import PassengerStatus, Trip, TripPassenger, TripStatus
from transport.rules import trip_status


def _clock(moment, tz) -> str:
    return f"{timezone.localtime(moment, tz):%H:%M}"


def _as_of(scope):
    """What the report knows: the shift's end, or now for a shift still running."""
    return min(scope.now, scope.end)


def _staff_name(user) -> str:
    return user.full_name or user.username


def _trips(scope) -> list[Trip]:
    """Trips out at some moment of the shift, or planned to leave in it (two queries)."""
    out_in_shift = Q(departed_at__lt=scope.end) & (
        Q(returned_at__isnull=True) | Q(returned_at__gte=scope.start)
    )
    planned_in_shift = Q(
        departed_at__isnull=True, planned_departure__gte=scope.start,
        planned_departure__lt=scope.end,
    )  # fmt: skip
    trips = Trip.objects.filter(facility=scope.facility).filter(out_in_shift | planned_in_shift)
    trips = trips.exclude(status=TripStatus.CANCELLED)
    if scope.unit is not None:
        # A unit's report: trips carrying one of its clients, and trips carrying no client.
        anyone = TripPassenger.objects.filter(trip=OuterRef("pk"))
        ours = anyone.filter(admission__in=scope.admission_ids)
        trips = trips.filter(Exists(ours) | ~Exists(anyone))
    passengers = TripPassenger.objects.only(
        "id", "trip_id", "admission_id", "status", "signed_out_at", "signed_in_at"
    )
    return list(
        trips.select_related("vehicle", "driver__user")
        .prefetch_related(Prefetch("passengers", queryset=passengers, to_attr="riders"))
        .order_by("planned_departure", "pk")
    )


def _trip_item(trip: Trip, scope, tz) -> ReportItem:
    as_of = _as_of(scope)
    went = [p for p in trip.riders if p.signed_out_at is not None]
    text = (
        f"{trip.get_purpose_display()} trip in {trip.vehicle.name}, driven by "
        f"{_staff_name(trip.driver.user)}"
    )
    concern, tag = 0, "Trip"
    if trip.departed_at is None or trip.departed_at > as_of:
        planned = [p for p in trip.riders if p.status != PassengerStatus.STAYED]
        text += (
            f": planned {_clock(trip.planned_departure, tz)}–{_clock(trip.planned_return, tz)}, "
            f"{len(planned)} client(s)"
        )
        return ReportItem(text=text, tag="Trip planned", at=trip.planned_departure, concern=0,
                          href=reverse("transport:trip", args=[trip.public_id]))  # fmt: skip
    back_at = trip.returned_at if trip.returned_at and trip.returned_at <= as_of else None
    text += f": out {_clock(trip.departed_at, tz)}"
    if back_at is not None:
        text += f", back {_clock(back_at, tz)}"
        # Back, but late: what the overdue alert said while it was out.
        late = trip_status(trip.planned_return, back_at)
        if late in ("overdue", "critical"):
            minutes = int((back_at - trip.planned_return).total_seconds() // 60)
            text += f" ({minutes} min after the planned {_clock(trip.planned_return, tz)})"
            concern, tag = 1, "Trip back late"
    else:
        status = trip_status(trip.planned_return, as_of)
        text += f", due back {_clock(trip.planned_return, tz)}"
        if status == "critical":
            text += "; not back, critically overdue"
            concern, tag = 3, "Trip overdue"
        elif status == "overdue":
            text += "; not back, overdue"
            concern, tag = 2, "Trip overdue"
        else:
            text += "; still out"
    text += f"; {len(went)} client(s)"
    counts = []
    if trip.head_count_out is not None and trip.head_count_out != len(went):
        counts.append(f"head count out {trip.head_count_out}, {len(went)} signed out")
    if back_at is not None and trip.head_count_in is not None:
        signed_in = [p for p in went if p.signed_in_at == trip.returned_at]
        if trip.head_count_in != len(signed_in) or len(signed_in) != len(went):
            counts.append(
                f"head count in {trip.head_count_in}, {len(signed_in)} of {len(went)} signed in"
            )
    if counts:
        text += "; " + "; ".join(counts)
        concern, tag = 3, "Head count"
    return ReportItem(text=text, tag=tag, at=trip.departed_at, concern=concern,
                      href=reverse("transport:trip", args=[trip.public_id]))  # fmt: skip


def facility(scope) -> list[ReportItem]:
    tz = scope.facility.tz
    return [_trip_item(t, scope, tz) for t in _trips(scope)]


def clients(scope) -> dict[int, list[ReportItem]]:
    """Each client's trip in the shift (signed out before its end, not back before its start):
    back in is information; still out at the end of the shift is worth handing off while the
    trip is on time, and a warning once it is back or overdue without them (one query)."""
    tz = scope.facility.tz
    as_of = _as_of(scope)
    riders = (
        TripPassenger.objects.filter(
            admission__in=scope.admission_ids,
            signed_out_at__isnull=False,
            signed_out_at__lt=scope.end,
        )
        .filter(Q(signed_in_at__isnull=True) | Q(signed_in_at__gte=scope.start))
        .select_related("trip__vehicle")
        .order_by("signed_out_at")
    )
    lines: dict[int, list[ReportItem]] = {}
    for p in riders:
        trip = p.trip
        text = (
            f"{trip.get_purpose_display()} trip in {trip.vehicle.name}: signed out "
            f"{_clock(p.signed_out_at, tz)}"
        )
        if p.signed_in_at is not None and p.signed_in_at <= as_of:
            text += f", signed back in {_clock(p.signed_in_at, tz)}"
            concern, tag = 0, "Trip"
        else:
            trip_back = trip.returned_at is not None and trip.returned_at <= as_of
            late = trip_status(trip.planned_return, as_of) in ("overdue", "critical")
            if trip_back:
                text += f"; not signed back in (the trip returned {_clock(trip.returned_at, tz)})"
                concern, tag = 2, "Not back"
            elif late:
                text += f"; not signed back in (due back {_clock(trip.planned_return, tz)})"
                concern, tag = 2, "Not back"
            else:
                text += f"; out, due back {_clock(trip.planned_return, tz)}"
                concern, tag = 1, "On a trip"
        lines.setdefault(p.admission_id, []).append(
            ReportItem(
                text=text,
                tag=tag,
                at=p.signed_out_at,
                concern=concern,
                href=reverse("transport:trip", args=[trip.public_id]),
            )  # fmt: skip
        )
    return lines


register_report_section(
    ReportSection(
        key="transport",
        title="Transport",
        clients=clients,
        facility=facility,
        order=100,
    )
)
