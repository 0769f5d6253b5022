"""Transport documents (issue 14 items 5 and 6): the driver's manifest (screen and PDF) and the
reports (trip log, mileage per driver and vehicle: screen, CSV and PDF).

The manifest is minimum necessary (42 CFR Part 2, specs/transport.md): a client appears only as
a preferred first name and a last initial, with where they are picked up and where they go;
nothing clinical, not even the program beyond the facility's name. Every document carries the
Part 2 notice from facility/pdf.py (one source) and every reading of one is in the access log.
"""

from dataclasses import dataclass

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from facility import policy
from facility.access import client_ip, current_facility_or_404
from facility.models import AccessAction
from facility.pdf import (
    PART2_STATEMENT_2,
    csv_writer_with_notice,
    part2_statement_1,
    pdf_response,
)
from facility.services import access_log
from transport import reports
from transport.models import PassengerStatus, Trip

# ---------------------------------------------------------------- the manifest


@dataclass
class ManifestRow:
    """One client as the driver sees them: a first name and an initial, pick-up, destination."""

    name: str
    pickup: str
    destination: str
    address: str
    status: str


def manifest_name(client) -> str:
    """Preferred first name and last initial ("Robin A."): all a driver needs to call out."""
    first = (client.preferred_name or client.legal_first_name).strip()
    initial = client.legal_last_name.strip()[:1].upper()
    return f"{first} {initial}." if initial else first


def _trip_for(request, public_id) -> Trip:
    """A trip of one of the user's facilities, else 404; times on the facility's clock."""
    trip = get_object_or_404(
        Trip.objects.select_related("facility", "vehicle", "driver__user"),
        public_id=public_id,
        facility_id__in=request.user.facility_ids(),
    )
    policy.require(request.user, "transport.view", trip)
    timezone.activate(trip.facility.tz)
    return trip


def manifest_context(trip: Trip) -> dict:
    """Everything the manifest shows, and nothing else: three queries. `clients` (not shown)
    are the clients printed, for the access log."""
    pickup = trip.pickup or trip.facility.name
    stops = list(trip.stops.all())
    passengers = (
        trip.passengers.exclude(status=PassengerStatus.STAYED)
        .select_related("admission__client", "stop")
        .order_by("stop__position", "admission__client__preferred_name", "pk")
    )
    passengers = list(passengers)
    rows = [
        ManifestRow(
            name=manifest_name(p.admission.client),
            pickup=pickup,
            destination=p.stop.place if p.stop else "",
            address=p.stop.address if p.stop else "",
            status=_manifest_status(p),
        )
        for p in passengers
    ]
    rows.sort(key=lambda r: (r.destination == "", r.name.lower()))
    return {
        "trip": trip,
        "purpose": trip.get_purpose_display(),
        "pickup": pickup,
        "stops": stops,
        "escorts": [u.signature for u in trip.escorts.all()],
        "driver": str(trip.driver),
        "vehicle": trip.vehicle,
        "rows": rows,
        "clients": [p.admission.client for p in passengers],
    }


def _manifest_status(passenger) -> str:
    """The passenger's status, and for a planned one how they travel."""
    if passenger.status == PassengerStatus.PLANNED:
        if passenger.pick_up:
            return "To pick up"
        if not passenger.returns_with_van:
            return "To drop off"
    return passenger.get_status_display()


def _when(trip: Trip) -> str:
    tz = trip.facility.tz
    out = timezone.localtime(trip.planned_departure, tz)
    back = timezone.localtime(trip.planned_return, tz)
    same = out.date() == back.date()
    return (
        f"{out:%Y-%m-%d %H:%M}–{back:%H:%M}"
        if same
        else f"{out:%Y-%m-%d %H:%M} to {back:%Y-%m-%d %H:%M}"
    )


@policy.requires("transport.view")
@require_GET
def manifest(request, public_id):
    trip = _trip_for(request, public_id)
    context = manifest_context(trip)
    # One row per client shown, recorded with the client (privacy.md); none: one row.
    for each in context["clients"] or [None]:
        access_log(
            action=AccessAction.VIEW,
            actor=request.user,
            facility=trip.facility,
            client=each,
            what=f"Trip manifest: {trip.get_purpose_display()}, {_when(trip)}",
            ip=client_ip(request),
        )
    return render(
        request,
        "transport/documents/manifest.html",
        {
            **context,
            "facility": trip.facility,
            "when": _when(trip),
            "part2_statement_1": part2_statement_1(),
            "part2_statement_2": PART2_STATEMENT_2,
        },
    )


@policy.requires("transport.view")
@require_GET
def manifest_pdf(request, public_id):
    trip = _trip_for(request, public_id)
    out = timezone.localtime(trip.planned_departure, trip.facility.tz)
    context = manifest_context(trip)
    return pdf_response(
        request,
        template="pdf/transport_manifest.html",
        context=context,
        clients=context["clients"],
        facility=trip.facility,
        title="Driver's manifest",
        period=_when(trip),
        filename=f"manifest-{out:%Y%m%d-%H%M}.pdf",
    )


# ---------------------------------------------------------------- the reports

FORMATS = ("csv", "pdf")


def _cell(value):
    """A spreadsheet must not run a cell as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_response(request, facility, period, *, name: str, title: str) -> tuple:
    """A CSV download that starts with the Part 2 notice (facility.pdf, shared with every
    export), then the header."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{name}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    out = csv_writer_with_notice(response)
    access_log(
        action=AccessAction.EXPORT,
        actor=request.user,
        facility=facility,
        what=f"{title} (CSV), {period.words}",
        ip=client_ip(request),
    )
    return response, out


def _report(request, *, template: str, pdf_template: str, title: str, name: str, data, csv_rows):
    """Screen, ?format=csv or ?format=pdf of one report; a refused period shows the screen (400)
    with the field's message, whatever the format asked."""
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    form = reports.PeriodForm(
        request.GET if ("start" in request.GET or "end" in request.GET) else None
    )
    if form.is_bound and not form.is_valid():
        return render(
            request,
            template,
            {"facility": facility, "form": form, "period": None, "query": "", "title": title},
            status=400,
        )
    period = reports.period_of(form, facility)
    context = data(facility, period)
    fmt = request.GET.get("format", "")
    if fmt == "csv":
        response, out = _csv_response(request, facility, period, name=name, title=title)
        csv_rows(out, context, facility)
        return response
    if fmt == "pdf":
        return pdf_response(
            request,
            template=pdf_template,
            context=context,
            facility=facility,
            title=title,
            period=period.words,
            filename=f"{name}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.pdf",
        )
    query = f"start={period.start:%Y-%m-%d}&end={period.end:%Y-%m-%d}"
    return render(
        request,
        template,
        {
            "facility": facility,
            "form": form
            if form.is_bound
            else reports.PeriodForm(initial={"start": period.start, "end": period.end}),
            "period": period,
            "query": query,
            "title": title,
            **context,
        },
    )


def _local(value, tz, fmt="%Y-%m-%d %H:%M") -> str:
    return timezone.localtime(value, tz).strftime(fmt) if value else ""


def _trip_log_rows(out, context, facility) -> None:
    tz = facility.tz
    out.writerow([
        "planned departure", "planned return", "departed", "returned", "purpose", "driver",
        "vehicle", "plate", "odometer out", "odometer in", "miles", "clients", "status",
    ])  # fmt: skip
    for t in context["trips"]:
        out.writerow([
            _local(t.planned_departure, tz), _local(t.planned_return, tz),
            _local(t.departed_at, tz), _local(t.returned_at, tz), t.get_purpose_display(),
            _cell(t.driver), _cell(t.vehicle.name), _cell(t.vehicle.plate),
            _cell(t.odometer_out), _cell(t.odometer_in), _cell(t.miles), t.clients,
            t.status_words,
        ])  # fmt: skip


def _trip_log_data(facility, period) -> dict:
    trips = reports.trip_log(facility, period)
    return {
        "trips": trips,
        "total_miles": sum(t.miles or 0 for t in trips),
    }


@policy.requires("transport.reports")
@require_GET
def trip_log(request):
    """Every trip planned to leave in the period: times planned and actual, driver, vehicle,
    odometer and miles, how many clients (never who), status."""
    return _report(
        request,
        template="transport/documents/trip_log.html",
        pdf_template="pdf/transport_trip_log.html",
        title="Trip log",
        name="trip-log",
        data=_trip_log_data,
        csv_rows=_trip_log_rows,
    )


def _mileage_rows(out, context, facility) -> None:
    out.writerow(["driver", "licence", "trips", "miles"])
    for r in context["drivers"]:
        out.writerow([_cell(r["name"]), _cell(r["driver__licence_number"]), r["trips"], r["miles"]])
    out.writerow([])
    out.writerow(["vehicle", "plate", "trips", "miles"])
    for r in context["vehicles"]:
        out.writerow(
            [_cell(r["vehicle__name"]), _cell(r["vehicle__plate"]), r["trips"], r["miles"]]
        )
    out.writerow([])
    out.writerow(["total", "", context["total_trips"], context["total_miles"]])


@policy.requires("transport.reports")
@require_GET
def mileage(request):
    """Miles per driver and per vehicle: returned trips that left in the period."""
    return _report(
        request,
        template="transport/documents/mileage.html",
        pdf_template="pdf/transport_mileage.html",
        title="Mileage by driver and vehicle",
        name="mileage",
        data=reports.mileage,
        csv_rows=_mileage_rows,
    )


urlpatterns = [
    path("transport/trips/<uuid:public_id>/manifest/", manifest, name="manifest"),
    path("transport/trips/<uuid:public_id>/manifest.pdf", manifest_pdf, name="manifest_pdf"),
    path("transport/reports/trips/", trip_log, name="trip_log"),
    path("transport/reports/mileage/", mileage, name="mileage"),
]
