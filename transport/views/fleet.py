"""Vehicles, drivers and the pre-trip inspection (issue 14 items 1 and 2): the fleet list and a
vehicle's page (documents, status history, inspections, grounding and clearing), the drivers
list, and the inspection a driver does from a phone in the parking lot."""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from facility import policy
from facility.access import current_facility_or_404, my_facilities
from facility.forms import add_service_errors
from transport.fleet_forms import DriverForm, InspectionForm, ReasonForm, VehicleForm
from transport.models import Driver, Inspection, InspectionItem, Vehicle, VehicleStatusEvent
from transport.rules import CRITICAL_ITEMS
from transport.services import fleet as services
from transport.views.common import service_done

INSPECTIONS_SHOWN = 14


def _scope(request) -> list[int]:
    return [f.pk for f in my_facilities(request)]


def _vehicle_or_404(request, public_id) -> Vehicle:
    """A vehicle of one of the user's facilities; anyone else's does not exist (404)."""
    vehicle = get_object_or_404(
        Vehicle.objects.select_related("facility"),
        public_id=public_id,
        facility_id__in=_scope(request),
    )
    timezone.activate(vehicle.facility.tz)
    return vehicle


def _driver_or_404(request, public_id) -> Driver:
    driver = get_object_or_404(
        Driver.objects.select_related("facility", "user"),
        public_id=public_id,
        facility_id__in=_scope(request),
    )
    timezone.activate(driver.facility.tz)
    return driver


def _todays_inspections(vehicles: list[Vehicle], day) -> dict[int, Inspection]:
    """The latest inspection of `day` per vehicle, with its items (two queries)."""
    latest: dict[int, Inspection] = {}
    found = (
        Inspection.objects.filter(vehicle__in=vehicles, day=day)
        .select_related("inspected_by")
        .prefetch_related("items")
        .order_by("vehicle_id", "-inspected_at", "-id")
    )
    for inspection in found:
        latest.setdefault(inspection.vehicle_id, inspection)
    return latest


def _stale(inspection: Inspection | None, last_event) -> bool:
    """Today's inspection made before the vehicle's latest status event: it no longer counts
    (services.fleet.inspection_for_today)."""
    if inspection is None or last_event is None:
        return False
    at = inspection.inspected_at
    return at < last_event or (inspection.passed and at <= last_event)


def _vehicle_rows(vehicles: list[Vehicle], today) -> list[dict]:
    todays = _todays_inspections(vehicles, today)
    last_event = dict(
        VehicleStatusEvent.objects.filter(vehicle__in=vehicles)
        .values("vehicle_id")
        .annotate(last=Max("at"))
        .values_list("vehicle_id", "last")
    )
    rows = []
    for v in vehicles:
        inspection = todays.get(v.pk)
        rows.append(
            {
                "vehicle": v,
                "blockers": services.vehicle_dispatch_blockers(v, today),
                "lapsed": services.vehicle_blockers(v, today),
                "expiring": services.vehicle_expiring(v, today),
                "inspection": inspection,
                "defects": services.defects_of(inspection) if inspection else [],
                "stale": _stale(inspection, last_event.get(v.pk)),
            }
        )
    return rows


# ---------------------------------------------------------------- vehicles


@policy.requires("transport.view")
@require_GET
def vehicles(request):
    """The facility's vehicles: status, what blocks dispatch, what expires soon, and whether
    today's inspection is done."""
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    today = services.local_today(facility)
    fleet = list(Vehicle.objects.filter(facility=facility).order_by("-active", "name"))
    rows = _vehicle_rows(fleet, today)
    return render(
        request,
        "transport/fleet/vehicles.html",
        {
            "facility": facility,
            "today": today,
            "rows": [r for r in rows if r["vehicle"].active],
            "retired": [r["vehicle"] for r in rows if not r["vehicle"].active],
            "can_fleet": policy.allows(request.user, "transport.fleet"),
            "can_inspect": policy.allows(request.user, "transport.inspect"),
        },
    )


def _vehicle_form_values(d: dict) -> dict:
    return {
        "name": d["name"],
        "plate": d["plate"],
        "vin": d["vin"],
        "seats": d["seats"],
        "registration_expires": d["registration_expires"],
        "insurance_expires": d["insurance_expires"],
        "service_due_on": d["service_due_on"],
        "service_due_odometer": d["service_due_odometer"],
        "odometer": d["odometer"],
    }


def _after_fleet_save(request, vehicle: Vehicle):
    """The vehicle's page for those who may read it; else (an admin) the fleet records."""
    if policy.allows(request.user, "transport.view"):
        return redirect("transport:vehicle", public_id=vehicle.public_id)
    return redirect("transport:drivers")


@policy.requires("transport.fleet")
@require_http_methods(["GET", "POST"])
def vehicle_new(request):
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    form = VehicleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            vehicle = services.vehicle_create(
                actor=request.user, facility=facility, **_vehicle_form_values(form.cleaned_data)
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{vehicle.name} added.")
            if not vehicle.in_service:
                messages.warning(request, f"Out of service: {vehicle.out_of_service_reason}")
            return _after_fleet_save(request, vehicle)
    return render(
        request,
        "transport/fleet/vehicle_form.html",
        {"form": form, "facility": facility, "vehicle": None},
        status=400 if form.errors else 200,
    )


@policy.requires("transport.fleet")
@require_http_methods(["GET", "POST"])
def vehicle_edit(request, public_id):
    vehicle = _vehicle_or_404(request, public_id)
    if request.method == "POST":
        form = VehicleForm(request.POST, editing=True)
    else:
        initial = {f: getattr(vehicle, f) for f in VehicleForm.base_fields if f != "active"}
        form = VehicleForm(initial={**initial, "active": vehicle.active}, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            vehicle = services.vehicle_update(
                actor=request.user,
                vehicle=vehicle,
                active=form.cleaned_data["active"],
                **_vehicle_form_values(form.cleaned_data),
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{vehicle.name} updated.")
            return _after_fleet_save(request, vehicle)
    return render(
        request,
        "transport/fleet/vehicle_form.html",
        {"form": form, "facility": vehicle.facility, "vehicle": vehicle},
        status=400 if form.errors else 200,
    )


def _vehicle_page(request, vehicle, *, out_form=None, clear_form=None, status=200):
    today = services.local_today(vehicle.facility)
    inspections = list(
        vehicle.inspections.select_related("inspected_by")
        .prefetch_related(Prefetch("items", queryset=InspectionItem.objects.filter(ok=False)))
        .order_by("-inspected_at", "-id")[:INSPECTIONS_SHOWN]
    )
    return render(
        request,
        "transport/fleet/vehicle.html",
        {
            "vehicle": vehicle,
            "today": today,
            "blockers": services.vehicle_dispatch_blockers(vehicle, today),
            "lapsed": services.vehicle_blockers(vehicle, today),
            "expiring": services.vehicle_expiring(vehicle, today),
            "documents": [
                (label, getattr(vehicle, name))
                for name, label in services.VEHICLE_DOCUMENTS.items()
            ],
            "events": list(
                VehicleStatusEvent.objects.filter(vehicle=vehicle).select_related("by")[:50]
            ),
            "inspections": [(i, services.defects_of(i)) for i in inspections],
            "today_inspection": next((i for i in inspections if i.day == today), None),
            # Issue 14 review: an inspection before the latest status event no longer counts.
            "counted_inspection": services.inspection_for_today(vehicle),
            "out_form": out_form or ReasonForm(prefix="out"),
            "clear_form": clear_form or ReasonForm(prefix="clear"),
            "can_inspect": policy.allows(request.user, "transport.inspect", vehicle),
            "can_clear": policy.allows(request.user, "transport.clear_vehicle", vehicle),
            "can_fleet": policy.allows(request.user, "transport.fleet", vehicle),
            "critical_items": CRITICAL_ITEMS,
        },
        status=status,
    )


@policy.requires("transport.view")
@require_GET
def vehicle(request, public_id):
    return _vehicle_page(request, _vehicle_or_404(request, public_id))


def _vehicle_status(request, public_id, prefix: str, call, done: str):
    """A vehicle out of service ("out") or back in service ("clear"), with the reason."""
    vehicle = _vehicle_or_404(request, public_id)
    form = ReasonForm(request.POST, prefix=prefix)
    if form.is_valid() and service_done(
        request,
        form,
        f"{vehicle.name} {done}",
        call,
        request.user,
        vehicle,
        form.cleaned_data["reason"],
    ):
        return redirect("transport:vehicle", public_id=vehicle.public_id)
    return _vehicle_page(request, vehicle, **{f"{prefix}_form": form}, status=400)


@policy.requires("transport.inspect")
@require_POST
def vehicle_out(request, public_id):
    """Take a vehicle out of service by hand, with the reason (anyone on the floor)."""
    return _vehicle_status(
        request,
        public_id,
        "out",
        services.vehicle_take_out_of_service,
        "is out of service. A supervisor clears it.",
    )


@policy.requires("transport.clear_vehicle")
@require_POST
def vehicle_clear(request, public_id):
    """A supervisor puts a vehicle back in service, with the reason."""
    return _vehicle_status(
        request, public_id, "clear", services.vehicle_clear, "is back in service."
    )


# ---------------------------------------------------------------- drivers


@policy.requires("transport.fleet")
@require_GET
def drivers(request):
    """The facility's drivers with what blocks them and what expires soon; the vehicles'
    records too (for those who keep the fleet's records without working the floor)."""
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    today = services.local_today(facility)
    rows = [
        {
            "driver": d,
            "blockers": services.driver_assignment_blockers(d, today),
            "expiring": services.driver_expiring(d, today),
            "mvr_due_on": services.rules.mvr_due_on(d.mvr_checked_on),
        }
        for d in Driver.objects.filter(facility=facility)
        .select_related("user")
        .order_by("-active", "user__full_name")
    ]
    return render(
        request,
        "transport/fleet/drivers.html",
        {
            "facility": facility,
            "rows": rows,
            "vehicles": list(Vehicle.objects.filter(facility=facility).order_by("-active", "name")),
            "can_view": policy.allows(request.user, "transport.view"),
        },
    )


def _driver_values(d: dict) -> dict:
    names = ("licence_number", "licence_class", "licence_state", "licence_expires",
             "mvr_checked_on", "training_on", "first_aid_expires")  # fmt: skip
    return {n: d[n] for n in names}


@policy.requires("transport.fleet")
@require_http_methods(["GET", "POST"])
def driver_new(request):
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    form = DriverForm(request.POST if request.method == "POST" else None, facility=facility)
    if request.method == "POST" and form.is_valid():
        try:
            driver = services.driver_create(
                actor=request.user,
                facility=facility,
                user=form.cleaned_data["user"],
                **_driver_values(form.cleaned_data),
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{driver} may drive.")
            return redirect("transport:drivers")
    return render(
        request,
        "transport/fleet/driver_form.html",
        {"form": form, "facility": facility, "driver": None},
        status=400 if form.errors else 200,
    )


@policy.requires("transport.fleet")
@require_http_methods(["GET", "POST"])
def driver_edit(request, public_id):
    driver = _driver_or_404(request, public_id)
    if request.method == "POST":
        form = DriverForm(request.POST, driver=driver)
    else:
        names = [n for n in DriverForm.base_fields if n != "user"]
        form = DriverForm(initial={n: getattr(driver, n) for n in names}, driver=driver)
    if request.method == "POST" and form.is_valid():
        try:
            driver = services.driver_update(
                actor=request.user,
                driver=driver,
                active=form.cleaned_data["active"],
                **_driver_values(form.cleaned_data),
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{driver}: record updated.")
            return redirect("transport:drivers")
    return render(
        request,
        "transport/fleet/driver_form.html",
        {"form": form, "facility": driver.facility, "driver": driver},
        status=400 if form.errors else 200,
    )


# ---------------------------------------------------------------- pre-trip inspection


@policy.requires("transport.inspect")
@require_GET
def inspect_pick(request):
    """Pick the vehicle to inspect: one big button each, with today's state."""
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    today = services.local_today(facility)
    fleet = list(Vehicle.objects.filter(facility=facility, active=True).order_by("name"))
    return render(
        request,
        "transport/fleet/inspect.html",
        {"rows": _vehicle_rows(fleet, today), "today": today},
    )


def _done(request, vehicle) -> Inspection | None:
    """The inspection just recorded (`?done=<id>`), if it is this vehicle's."""
    try:
        wanted = uuid.UUID(request.GET.get("done", "")[:40])
    except ValueError:
        return None
    return (
        Inspection.objects.filter(vehicle=vehicle, public_id=wanted)
        .select_related("inspected_by")
        .prefetch_related("items")
        .first()
    )


@policy.requires("transport.inspect")
@require_http_methods(["GET", "POST"])
def inspection(request, public_id):
    """The pre-trip inspection of one vehicle on one screen; after it, the result."""
    vehicle = _vehicle_or_404(request, public_id)
    policy.require(request.user, "transport.inspect", vehicle)
    form = InspectionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            done = services.inspection_record(
                request.user, vehicle, form.results(), odometer=form.cleaned_data["odometer"]
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            url = f"{request.path}?done={done.public_id}"
            return redirect(url)
    done = _done(request, vehicle) if request.method == "GET" else None
    today_inspection = services.inspection_for_today(vehicle)
    return render(
        request,
        "transport/fleet/inspection.html",
        {
            "vehicle": vehicle,
            "form": form,
            "done": done,
            "done_defects": services.defects_of(done) if done else [],
            "failure": services.failure_summary(done) if done and not done.passed else "",
            "today_inspection": today_inspection,
            "blockers": services.vehicle_dispatch_blockers(
                vehicle, services.local_today(vehicle.facility)
            ),
        },
        status=400 if form.errors else 200,
    )


urlpatterns = [
    path("transport/vehicles/", vehicles, name="vehicles"),
    path("transport/vehicles/new/", vehicle_new, name="vehicle_new"),
    path("transport/vehicles/<uuid:public_id>/", vehicle, name="vehicle"),
    path("transport/vehicles/<uuid:public_id>/edit/", vehicle_edit, name="vehicle_edit"),
    path("transport/vehicles/<uuid:public_id>/out/", vehicle_out, name="vehicle_out"),
    path("transport/vehicles/<uuid:public_id>/clear/", vehicle_clear, name="vehicle_clear"),
    path("transport/drivers/", drivers, name="drivers"),
    path("transport/drivers/new/", driver_new, name="driver_new"),
    path("transport/drivers/<uuid:public_id>/edit/", driver_edit, name="driver_edit"),
    path("transport/inspect/", inspect_pick, name="inspect"),
    path("transport/inspect/<uuid:public_id>/", inspection, name="inspection"),
]
