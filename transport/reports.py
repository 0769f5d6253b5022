"""The transport reports (issue 14 item 6; specs/transport.md, Reports): a trip log for a period
and the miles driven per driver and per vehicle. Admins read these, so they name no client: a
trip counts its clients, it does not list them.

The period is a range of the facility's local days, at most a year; the queries take it as two
UTC instants. Each report is a fixed number of queries, whatever the number of trips.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from facility.forms import HavenForm
from facility.report_views import check_period
from transport.models import PassengerStatus, Trip, TripStatus

DEFAULT_DAYS = 30
MAX_DAYS = 366


class PeriodForm(HavenForm):
    """A report's period in the facility's calendar: From ≤ To, at most a year."""

    start = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "From: enter a date (YYYY-MM-DD)."},
    )
    end = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "To: enter a date (YYYY-MM-DD)."},
    )

    def clean(self):
        data = super().clean()
        check_period(self, MAX_DAYS, f"To: a period of at most {MAX_DAYS} days.")
        return data


@dataclass
class Period:
    start: date  # local days, inclusive
    end: date
    since: datetime  # UTC instants, [since, until)
    until: datetime

    @property
    def words(self) -> str:
        return f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"


def period_of(form: PeriodForm, facility) -> Period:
    """The form's period (a bound form must be valid), else the last 30 days to today."""
    tz = facility.tz
    today = timezone.localtime(timezone.now(), tz).date()
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    end = data.get("end") or (
        data["start"] + timedelta(days=DEFAULT_DAYS - 1) if data.get("start") else today
    )
    start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    return Period(start, end, since, until)


def _clients_on_board():
    """Clients on a trip: every passenger but those who did not go."""
    return Count("passengers", filter=~Q(passengers__status=PassengerStatus.STAYED), distinct=True)


def trip_log(facility, period: Period) -> list[Trip]:
    """Trips planned to leave in the period, oldest first, with driver, vehicle and the number
    of clients (`clients`). One query."""
    trips = list(
        Trip.objects.filter(
            facility=facility,
            planned_departure__gte=period.since,
            planned_departure__lt=period.until,
        )
        .select_related("driver__user", "vehicle")
        .annotate(
            clients=_clients_on_board(),
            not_back=Count(
                "passengers",
                filter=Q(passengers__status=PassengerStatus.OUT, status=TripStatus.RETURNED),
                distinct=True,
            ),
        )
        .order_by("planned_departure", "pk")
    )
    for t in trips:
        # Issue 14 review: back without a client is not "Returned".
        n = t.not_back
        t.status_words = (
            f"Back — {n} client{'s' if n != 1 else ''} NOT back" if n else t.get_status_display()
        )
    return trips


def mileage(facility, period: Period) -> dict:
    """Miles driven (odometer in - out) on the trips that left in the period and are back,
    per driver and per vehicle, with trip counts and the total. Two queries."""
    returned = Trip.objects.filter(
        facility=facility,
        status=TripStatus.RETURNED,
        departed_at__gte=period.since,
        departed_at__lt=period.until,
        odometer_in__isnull=False,
        odometer_out__isnull=False,
    )
    miles = Sum(F("odometer_in") - F("odometer_out"))
    drivers = list(
        returned.values(
            "driver_id", "driver__user__full_name", "driver__user__username",
            "driver__licence_number",
        )
        .annotate(trips=Count("pk"), miles=miles)
        .order_by("driver__user__full_name", "driver_id")
    )  # fmt: skip
    for row in drivers:
        row["name"] = row["driver__user__full_name"] or row["driver__user__username"]
    vehicles = list(
        returned.values("vehicle_id", "vehicle__name", "vehicle__plate")
        .annotate(trips=Count("pk"), miles=miles)
        .order_by("vehicle__name", "vehicle_id")
    )
    return {
        "drivers": drivers,
        "vehicles": vehicles,
        "total_miles": sum(r["miles"] or 0 for r in vehicles),
        "total_trips": sum(r["trips"] for r in vehicles),
    }
