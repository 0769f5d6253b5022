"""Transport views: trips (issue 14 items 3 and 4). The trips board (today's trips on the
facility's clock, the late ones in words and colour, who is on each, and every trip that still
has a client out, whatever its day), planning, the trip page,
and the departure and return screens a driver uses from a tablet or phone in the van."""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from facility import policy
from facility.access import current_facility_or_404
from facility.forms import add_service_errors
from transport import rules
from transport.models import PassengerStatus, Trip, TripPassenger, TripStatus
from transport.services import trips as services
from transport.trip_forms import (
    CancelForm,
    DepartForm,
    ReturnForm,
    SignInForm,
    StayForm,
    TripForm,
)
from transport.views.common import service_done

# How the board says where a trip is, and in which colour (the CSS tone).
STATES = {
    "planned": ("Planned", "tone-scheduled"),
    "out": ("Out", "tone-due"),
    "overdue": ("Late", "tone-late"),
    "critical": ("Very late", "tone-alert"),
    "returned": ("Back", "tone-ok"),
    "cancelled": ("Cancelled", "tone-cancelled"),
    "not_left": ("Never left", "tone-late"),
}


def _trips():
    return Trip.objects.select_related("facility", "vehicle", "driver__user").prefetch_related(
        "escorts",
        "stops",
        Prefetch(
            "passengers",
            queryset=TripPassenger.objects.select_related("admission__client", "stop").order_by(
                "pk"
            ),
        ),
    )


def trip_for(request, public_id) -> Trip:
    """A trip of one of the user's facilities, else 404; activates its facility's clock."""
    trip = get_object_or_404(
        _trips(), public_id=public_id, facility_id__in=request.user.facility_ids()
    )
    timezone.activate(trip.facility.tz)
    return trip


def state_of(trip: Trip, now) -> dict:
    """Where a trip is, for the board and the trip page: key, words, tone, minutes late."""
    key = trip.status
    late = 0
    if trip.status == TripStatus.OUT:
        key = rules.trip_status(trip.planned_return, now)
        late = max(0, int((now - trip.planned_return).total_seconds() // 60))
    elif trip.status == TripStatus.PLANNED and rules.never_left(trip.planned_return, now):
        key = "not_left"
    words, tone = STATES[key]
    if key == "not_left":
        day = timezone.localtime(trip.planned_departure, trip.facility.tz)
        words = f"{words}: planned for {day:%a %b} {day.day} {day:%H:%M}; {rules.NEVER_LEFT_ACTION}"
    if key in ("overdue", "critical"):
        words = f"{words}: {late} min past the planned return"
    missing = not_back_count(trip)
    if missing:
        # Issue 14 review: back without a client is not a green "Back".
        key, tone = "not-back", "tone-alert"
        words = f"Back — {missing} client{'s' if missing != 1 else ''} NOT back"
    return {"key": key, "words": words, "tone": tone, "late": late, "not_back": missing}


def not_back_count(trip: Trip) -> int:
    """Clients of a returned trip still out on its leave (passengers prefetched or not)."""
    if trip.status != TripStatus.RETURNED:
        return 0
    return sum(1 for p in trip.passengers.all() if p.status == PassengerStatus.OUT)


def _day_bounds(facility, now):
    today = timezone.localtime(now, facility.tz).date()
    start = datetime.combine(today, time(0), tzinfo=facility.tz)
    end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=facility.tz)
    return today, start, end


@policy.requires("transport.view")
@require_GET
def board(request):
    """Today's trips (planned, out, late, back), any trip still out from an earlier day, any
    planned trip past its return that never left (whatever its day), and any trip back without a
    client who is still out on its leave, whatever its day."""
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    now = timezone.now()
    today, start, end = _day_bounds(facility, now)
    still_out = TripPassenger.objects.filter(
        trip__facility=facility, status=PassengerStatus.OUT, leave__returned_at__isnull=True
    ).values("trip_id")
    trips = list(
        _trips()
        .filter(facility=facility)
        .filter(
            Q(planned_departure__gte=start, planned_departure__lt=end)
            | Q(status=TripStatus.OUT)
            | Q(status=TripStatus.PLANNED, planned_departure__lt=start)
            | Q(returned_at__gte=start, returned_at__lt=end)
            | Q(pk__in=still_out)
            # Issue 14 review: trips planned for the next 7 days can be found from the board.
            | Q(
                status=TripStatus.PLANNED,
                planned_departure__gte=end,
                planned_departure__lt=end + timedelta(days=7),
            )
        )
        .order_by("planned_departure", "pk")
    )
    later = {t.pk for t in trips if t.status == TripStatus.PLANNED and t.planned_departure >= end}
    upcoming = [{"trip": t, "state": state_of(t, now)} for t in trips if t.pk in later]
    trips = [t for t in trips if t.pk not in later]
    rows = [{"trip": t, "state": state_of(t, now)} for t in trips]
    for row in rows:
        row["not_back"] = row["state"]["not_back"]
    late = [r for r in rows if r["state"]["key"] in ("overdue", "critical")]
    return render(
        request,
        "transport/trips/board.html",
        {
            "facility": facility,
            "today": today,
            "now": now,
            "late": late,
            "not_left": [r for r in rows if r["state"]["key"] == "not_left"],
            "out": [r for r in rows if r["state"]["key"] == "out"],
            "planned": [r for r in rows if r["state"]["key"] == "planned"],
            "not_back": [r for r in rows if r["not_back"]],
            "back": [r for r in rows if r["state"]["key"] == "returned"],
            "cancelled": [r for r in rows if r["state"]["key"] == "cancelled"],
            "upcoming": upcoming,
            "count": len(rows),
            "can_plan": policy.allows(request.user, "transport.plan"),
            "can_inspect": policy.allows(request.user, "transport.inspect"),
            "can_fleet": policy.allows(request.user, "transport.fleet"),
        },
    )


def _save_errors(form, exc) -> None:
    """A service's refusal on the form; the destinations' messages on the first row."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        stops = exc.error_dict.pop("stops", None)
        if stops:
            form.add_error("stop-1-place", stops)
        if not exc.error_dict:
            return
    add_service_errors(form, exc)


def _plan_fields(form: TripForm) -> dict:
    d = form.cleaned_data
    return {
        "purpose": d["purpose"],
        "purpose_note": d["purpose_note"],
        "planned_departure": d["planned_departure"],
        "planned_return": d["planned_return"],
        "driver": d["driver"],
        "vehicle": d["vehicle"],
        "escorts": list(d["escorts"]),
        "stops": form.stops(),
        "passengers": form.passenger_rows(),
        "pickup": d["pickup"],
    }


def _restrictions(form: TripForm) -> tuple[dict, dict]:
    """({admission id: words} for clients the planner should know about, {admission id:
    restriction reason} of the restricted)."""
    from clients.models import Leave, LeaveKind, OutingRestriction

    ids = [a.pk for a in form.clients]
    restricted = {
        r.admission_id: r.reason
        for r in OutingRestriction.objects.filter(admission_id__in=ids, lifted_at__isnull=True)
    }
    notes = {
        pk: f"Restricted, no outings: {reason}. Appointments, pharmacy, court, admission or "
        "discharge only, with an escort besides the driver."
        for pk, reason in restricted.items()
    }
    for pk, kind in (
        Leave.objects.open().filter(admission_id__in=ids).values_list("admission_id", "kind")
    ):
        words = "On a pass: a pass trip can pick them up" if kind == LeaveKind.PASS else ""
        notes.setdefault(pk, words or "Off site now")
    return notes, restricted


def _form_page(request, form, trip=None):
    notes, restricted = _restrictions(form)
    rows = [
        (a, checked, dest, mode, back, notes.get(a.pk))
        for a, checked, dest, mode, back in form.client_rows()
    ]
    purpose = form["purpose"].value() or ""
    warnings = []
    if purpose and purpose not in services.RESTRICTED_PURPOSES:
        warnings = [
            f"{a.client.display_name} is restricted from outings: {restricted[a.pk]}. They may "
            "go on this trip only with an escort besides the driver."
            for a, checked, *_ in form.client_rows()
            if checked and a.pk in restricted
        ]
    return render(
        request,
        "transport/trips/form.html",
        {"form": form, "trip": trip, "client_rows": rows, "restricted_warnings": warnings},
        status=400 if form.errors else 200,
    )


@policy.requires("transport.plan")
@require_http_methods(["GET", "POST"])
def trip_new(request):
    facility = current_facility_or_404(request)
    timezone.activate(facility.tz)
    form = TripForm(request.POST or None, facility=facility)
    if request.method == "POST" and form.is_valid():
        try:
            trip = services.trip_plan(actor=request.user, facility=facility, **_plan_fields(form))
        except (ValidationError, PermissionDenied) as exc:
            _save_errors(form, exc)
        else:
            messages.success(request, "Trip planned.")
            return redirect("transport:trip", public_id=trip.public_id)
    return _form_page(request, form)


@policy.requires("transport.view")
@require_GET
def trip_detail(request, public_id):
    trip = trip_for(request, public_id)
    now = timezone.now()
    passengers = list(trip.passengers.all())
    return render(
        request,
        "transport/trips/detail.html",
        {
            "trip": trip,
            "state": state_of(trip, now),
            "passengers": passengers,
            "stops": list(trip.stops.all()),
            "escorts": list(trip.escorts.all()),
            "still_out": [p for p in passengers if p.status == PassengerStatus.OUT],
            "can_plan": policy.allows(request.user, "transport.plan", trip),
            "can_drive": policy.allows(request.user, "transport.drive", trip),
            "can_inspect": policy.allows(request.user, "transport.inspect", trip),
            "cancel_form": CancelForm(),
        },
    )


@policy.requires("transport.plan")
@require_http_methods(["GET", "POST"])
def trip_edit(request, public_id):
    trip = trip_for(request, public_id)
    if trip.status != TripStatus.PLANNED:
        messages.error(request, "Only a planned trip is changed; this one has left or ended.")
        return redirect("transport:trip", public_id=trip.public_id)
    form = TripForm(
        request.POST or None,
        facility=trip.facility,
        trip=trip,
        initial=TripForm.initial_for(trip),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.trip_update(
                actor=request.user,
                trip=trip,
                removed_reason=form.cleaned_data["removed_reason"],
                **_plan_fields(form),
            )
        except (ValidationError, PermissionDenied) as exc:
            _save_errors(form, exc)
        else:
            messages.success(request, "Trip changed.")
            return redirect("transport:trip", public_id=trip.public_id)
    return _form_page(request, form, trip)


@policy.requires("transport.plan")
@require_http_methods(["GET", "POST"])
def trip_cancel(request, public_id):
    trip = trip_for(request, public_id)
    form = CancelForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and service_done(
            request,
            form,
            "Trip cancelled.",
            services.trip_cancel,
            actor=request.user,
            trip=trip,
            reason=form.cleaned_data["reason"],
        )
    ):
        return redirect("transport:trip", public_id=trip.public_id)
    return render(
        request,
        "transport/trips/cancel.html",
        {"trip": trip, "form": form},
        status=400 if form.errors else 200,
    )


def _outcome_messages(request, outcome, done: str) -> None:
    messages.success(request, done)
    for warning in outcome.warnings:
        messages.warning(request, warning)


@policy.requires("transport.drive")
@require_http_methods(["GET", "POST"])
def trip_depart(request, public_id):
    """The departure screen: one large tick per client, the odometer and the head count."""
    trip = trip_for(request, public_id)
    if trip.status != TripStatus.PLANNED:
        messages.info(request, "This trip is not waiting to leave.")
        return redirect("transport:trip", public_id=trip.public_id)
    passengers = list(trip.passengers.all())
    planned = [p for p in passengers if p.status == PassengerStatus.PLANNED and not p.pick_up]
    form = DepartForm(
        request.POST or None,
        passengers=planned,
        initial={"odometer_out": trip.vehicle.odometer},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            outcome = services.trip_depart(
                actor=request.user,
                trip=trip,
                odometer_out=d["odometer_out"],
                head_count=d["head_count"],
                signed_out=form.admission_ids(),
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            _outcome_messages(request, outcome, "Trip departed: clients signed out.")
            return redirect("transport:trip", public_id=trip.public_id)
    return render(
        request,
        "transport/trips/depart.html",
        {
            "trip": trip,
            "form": form,
            "rows": _tick_rows(form, "signed_out", planned),
            "stayed": [p for p in passengers if p.status == PassengerStatus.STAYED],
            "pick_ups": [
                p for p in passengers if p.status == PassengerStatus.PLANNED and p.pick_up
            ],
            "inspection_needed": _inspection_needed(trip),
            "can_inspect": policy.allows(request.user, "transport.inspect", trip),
        },
        status=400 if form.errors else 200,
    )


def _inspection_needed(trip: Trip) -> str:
    """What the departure screen says before the submit when the van may not leave for want of
    today's passed pre-trip inspection (issue 14 review); empty when it has one."""
    from transport.services import fleet

    inspection = fleet.inspection_for_today(trip.vehicle)
    if inspection is None:
        return f"{trip.vehicle.name} has no pre-trip inspection today: inspect it before it leaves."
    if not inspection.passed:
        return f"{trip.vehicle.name} failed today's pre-trip inspection."
    return ""


def _tick_rows(form, name: str, passengers) -> list[dict]:
    ticked = {str(v) for v in (form[name].value() or [])}
    return [
        {
            "p": p,
            "value": str(p.admission.public_id),
            "checked": str(p.admission.public_id) in ticked,
        }
        for p in passengers
    ]


@policy.requires("transport.drive")
@require_http_methods(["GET", "POST"])
def trip_return(request, public_id):
    """The return screen: one large tick per client seen back, the odometer and the head
    count."""
    trip = trip_for(request, public_id)
    if trip.status != TripStatus.OUT:
        messages.info(request, "This trip is not out.")
        return redirect("transport:trip", public_id=trip.public_id)
    passengers = list(trip.passengers.all())
    out = [p for p in passengers if p.status == PassengerStatus.OUT]
    # A tick on a client discharged since the page loaded is accepted (and changes nothing).
    tickable = [p for p in passengers if p.status != PassengerStatus.STAYED]
    form = ReturnForm(request.POST or None, passengers=tickable)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            outcome = services.trip_return(
                actor=request.user,
                trip=trip,
                odometer_in=d["odometer_in"],
                head_count=d["head_count"],
                signed_in=form.admission_ids(),
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            _outcome_messages(request, outcome, "Trip back: clients signed in.")
            return redirect("transport:trip", public_id=trip.public_id)
    return render(
        request,
        "transport/trips/return.html",
        {
            "trip": trip,
            "form": form,
            "rows": _tick_rows(form, "signed_in", [p for p in out if p.returns_with_van]),
            "dropped_rows": _tick_rows(
                form, "signed_in", [p for p in out if not p.returns_with_van]
            ),
            "discharged": [p for p in passengers if p.status == PassengerStatus.DISCHARGED],
        },
        status=400 if form.errors else 200,
    )


def _passenger(trip: Trip, public_id) -> TripPassenger:
    passenger = next((p for p in trip.passengers.all() if p.public_id == public_id), None)
    if passenger is None:
        from django.http import Http404

        raise Http404("No such client on this trip.")
    return passenger


def _passenger_action(request, public_id, passenger, form_class, action: str, call, field: str):
    """A client of the trip not going (action "stay") or back separately ("sign_in"): `call`
    with the form's `field`."""
    trip = trip_for(request, public_id)
    passenger = _passenger(trip, passenger)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done, next_page = {
            "stay": ("not going", "transport:trip_depart"),
            "sign_in": ("signed in", "transport:trip"),
        }[action]
        message = f"{passenger.admission.client.display_name}: {done}."
        values = {field: form.cleaned_data[field]}
        if service_done(
            request, form, message, call, actor=request.user, passenger=passenger, **values
        ):
            return redirect(next_page, public_id=trip.public_id)
    return render(
        request,
        "transport/trips/passenger.html",
        {"trip": trip, "passenger": passenger, "form": form, "action": action},
        status=400 if form.errors else 200,
    )


@policy.requires("transport.drive")
@require_http_methods(["GET", "POST"])
def passenger_stay(request, public_id, passenger):
    """A client who is not going after all: kept on the trip with the reason."""
    return _passenger_action(
        request, public_id, passenger, StayForm, "stay", services.passenger_stay, "reason"
    )


@policy.requires("transport.drive")
@require_http_methods(["GET", "POST"])
def passenger_sign_in(request, public_id, passenger):
    """A client of the trip who came back separately: signed in, their leave closed."""
    return _passenger_action(
        request, public_id, passenger, SignInForm, "sign_in", services.passenger_sign_in, "at"
    )


urlpatterns = [
    path("transport/", board, name="board"),
    path("transport/trips/new/", trip_new, name="trip_new"),
    path("transport/trips/<uuid:public_id>/", trip_detail, name="trip"),
    path("transport/trips/<uuid:public_id>/edit/", trip_edit, name="trip_edit"),
    path("transport/trips/<uuid:public_id>/cancel/", trip_cancel, name="trip_cancel"),
    path("transport/trips/<uuid:public_id>/depart/", trip_depart, name="trip_depart"),
    path("transport/trips/<uuid:public_id>/return/", trip_return, name="trip_return"),
    path(
        "transport/trips/<uuid:public_id>/clients/<uuid:passenger>/sign-in/",
        passenger_sign_in,
        name="passenger_sign_in",
    ),
    path(
        "transport/trips/<uuid:public_id>/clients/<uuid:passenger>/stay/",
        passenger_stay,
        name="passenger_stay",
    ),
]
