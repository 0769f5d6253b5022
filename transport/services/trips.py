"""Trips: planning, departure, return, and the overdue scan (specs/transport.md "Trips"; issue 14
items 3 and 4).

A trip is checked when it is saved (driver and vehicle documents, seats and the staff ratio,
every client in the house and free to go out, nobody on two trips at once) and again when it
leaves. Departure signs each client out through `clients.leave_start`, so rounds and the MAR see
them off site; return signs them in through `leave_return`. A client not seen at the return
keeps their leave open: the leave's own overdue and AWOL alerts go on, and the head count that
does not match opens an incident draft. Nobody is dropped from a trip silently: a client who
does not go is marked so, with a reason, before the van leaves (a client taken off a changed
plan too).

Each passenger rides (out and back in the van), is dropped off (a pass or a discharge drop-off:
out on their own leave, not expected at the return) or is picked up (a pass pick-up: already out
on a pass, not signed out at departure; signing them in at the return closes that pass). A
client discharged while out is no longer expected back.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from clients.models import Admission, Leave, LeaveKind, OutingRestriction
from clients.services import leave_max, leave_return, leave_start
from facility import policy
from facility.models import Alert, AlertSeverity, Facility, User
from facility.registry import IncidentDraft, open_incident_draft
from facility.services import alerts_close, alerts_raise_many
from facility.validators import has_unsafe_characters
from transport import rules
from transport.models import (
    Driver,
    PassengerStatus,
    Trip,
    TripPassenger,
    TripPurpose,
    TripStatus,
    TripStop,
    Vehicle,
)
from transport.services import fleet

# A trip is planned at most this far ahead, and lasts at most this long (*default*): a longer
# absence is a pass, not a trip.
PLAN_AHEAD = timedelta(days=7)
LONGEST_TRIP = timedelta(hours=24)
MAX_STOPS = 6
# A trip that reads more than this many miles is a typo in the odometer, not a drive.
MAX_TRIP_MILES = 1000
FUTURE_TOLERANCE = timedelta(minutes=1)
# A departure or return entered later than this needs the leave's back-dating reason.
BACKDATE_FREE = timedelta(minutes=5)

# Purposes whose leave is an appointment; every other trip is a trip (clients.LeaveKind).
APPOINTMENT_PURPOSES = {TripPurpose.MEDICAL, TripPurpose.PHARMACY, TripPurpose.COURT}
# Purposes an outing restriction forbids (time out for its own sake, as the clients leave rule
# forbids passes and outings). A restricted client still goes to an appointment, the pharmacy,
# court, or is fetched at admission or taken at discharge, with an escort besides the driver.
RESTRICTED_PURPOSES = {TripPurpose.OUTING, TripPurpose.MEETING, TripPurpose.PASS, TripPurpose.OTHER}
# How a passenger travels: out and back, dropped off (pass or discharge), picked up (pass).
RIDE, DROP, PICK_UP = "ride", "drop", "pick_up"
MODES = (RIDE, DROP, PICK_UP)
# Trips not back: the alert kinds and their dedupe-key prefixes.
OVERDUE_KIND, CRITICAL_KIND = "trip_overdue", "trip_critical"
LIVE = (TripStatus.PLANNED, TripStatus.OUT)


class PlannedPassenger(NamedTuple):
    """A client on a plan: the stop (its position), how they travel, and for a pass drop-off
    when the pass ends. A plain (admission, position) pair is a rider."""

    admission: Admission
    position: int | None = None
    mode: str = RIDE
    expected_back_at: datetime | None = None


def _planned(passengers, purpose: str) -> list[PlannedPassenger]:
    """The plan's passengers as PlannedPassenger; on a discharge drop-off everyone is dropped
    off."""
    rows = [PlannedPassenger(*p) for p in passengers]
    if purpose == TripPurpose.DISCHARGE:
        rows = [r._replace(mode=DROP) if r.mode == RIDE else r for r in rows]
    return rows


@dataclass
class TripOutcome:
    """What a departure or return did: the trip and, when the head count did not match, what
    the screen must say and the incident draft it opened."""

    trip: Trip
    warnings: list[str] = field(default_factory=list)
    incident: object = None  # the draft's public id, if one was opened


# ---------------------------------------------------------------- small helpers


def _errors() -> dict[str, list[str]]:
    return {}


def _add(errors: dict, key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


def _text(errors: dict, key: str, label: str, value: str, limit: int, *, required=False) -> str:
    value = (value or "").strip()
    if has_unsafe_characters(value):
        _add(errors, key, f"{label}: remove the control characters (NUL or text-direction marks).")
    elif len(value) > limit:
        _add(errors, key, f"{label}: at most {limit} characters (this has {len(value)}).")
    elif required and not value:
        _add(errors, key, f"{label}: required.")
    return value


def _utc(when: datetime | None) -> datetime | None:
    """Instants are compared and subtracted in UTC: Python does both by the wall clock for two
    times of one zone, an hour off across a DST change."""
    return when.astimezone(UTC) if when is not None else None


def _local(when: datetime, facility: Facility) -> datetime:
    return timezone.localtime(when, facility.tz)


def client_label(admission: Admission) -> str:
    """How staff screens name a client: preferred first name and last name."""
    return admission.client.display_name


def _leave_kind(purpose: str) -> str:
    return LeaveKind.APPOINTMENT if purpose in APPOINTMENT_PURPOSES else LeaveKind.TRIP


def _staff_name(user: User) -> str:
    return user.full_name or user.username


def trip_label(trip: Trip) -> str:
    """A trip named without clinical detail: purpose, vehicle, driver."""
    return (
        f"{trip.get_purpose_display()} trip in {trip.vehicle.name} "
        f"driven by {_staff_name(trip.driver.user)}"
    )


def _busy(trips, start: datetime, end: datetime, now: datetime):
    """Trips planned or out overlapping [start, end). A trip out is busy until it is back: to
    its planned return, or to now if it is late."""
    ends_after = Q(planned_return__gt=start)
    if now > start:
        ends_after |= Q(status=TripStatus.OUT)
    return trips.filter(status__in=LIVE, planned_departure__lt=end).filter(ends_after)


# ---------------------------------------------------------------- planning


def _plan_problems(
    *,
    facility: Facility,
    trip: Trip | None,
    purpose: str,
    purpose_note: str,
    planned_departure: datetime,
    planned_return: datetime,
    driver: Driver,
    vehicle: Vehicle,
    escorts: list[User],
    stops: list[tuple[str, str]],
    passengers: list[PlannedPassenger],
    pickup: str,
    now: datetime,
) -> tuple[dict, dict]:
    """Every refusal of a plan at once, keyed by the form's field names, and the cleaned
    texts."""
    errors = _errors()
    clean: dict = {}
    planned_departure, planned_return = _utc(planned_departure), _utc(planned_return)
    if purpose not in TripPurpose.values:
        _add(errors, "purpose", "Purpose: choose from the list.")
    clean["purpose_note"] = _text(
        errors, "purpose_note", "Purpose note", purpose_note, 200,
        required=purpose == TripPurpose.OTHER,
    )  # fmt: skip
    clean["pickup"] = _text(errors, "pickup", "Pick-up", pickup, 200)

    # Times.
    if planned_return <= planned_departure:
        _add(errors, "planned_return", "Planned return: must be after the planned departure.")
    elif planned_return - planned_departure > LONGEST_TRIP:
        _add(errors, "planned_return", "Planned return: a trip lasts at most 24 hours.")
    if planned_departure > now + PLAN_AHEAD:
        _add(errors, "planned_departure", "Planned departure: at most 7 days ahead.")
    if planned_return <= now:
        _add(errors, "planned_return", "Planned return: this time has passed.")
    day = _local(planned_departure, facility).date()

    # Driver and vehicle: this facility's, active, documents valid on the day.
    if driver.facility_id != facility.pk:
        _add(errors, "driver", "Driver: choose a driver of this facility.")
    else:
        for reason in fleet.driver_assignment_blockers(driver, day):
            _add(errors, "driver", f"Driver {_staff_name(driver.user)}: {reason}")
    if vehicle.facility_id != facility.pk:
        _add(errors, "vehicle", "Vehicle: choose a vehicle of this facility.")
    else:
        for reason in fleet.vehicle_dispatch_blockers(vehicle, day):
            _add(errors, "vehicle", f"{vehicle.name}: {reason}")

    # Escorts: active staff of the facility, other than the driver.
    escort_ids = {u.pk for u in escorts}
    staff_here = set(
        User.objects.filter(pk__in=escort_ids, facilities=facility, is_active=True).values_list(
            "pk", flat=True
        )
    )
    for user in escorts:
        if user.pk == driver.user_id:
            _add(errors, "escorts", f"Escorts: {_staff_name(user)} is the driver.")
        elif user.pk not in staff_here or user.role == "admin":
            _add(errors, "escorts", "Escorts: choose active floor staff of this facility.")

    # Stops: at least one, in order.
    clean_stops = []
    if len(stops) > MAX_STOPS:
        _add(errors, "stops", f"Destinations: at most {MAX_STOPS}.")
    for n, (place, address) in enumerate(stops[:MAX_STOPS], start=1):
        place = _text(errors, "stops", f"Destination {n}", place, 200, required=True)
        address = _text(errors, "stops", f"Address {n}", address, 300)
        clean_stops.append((place, address))
    if not stops:
        _add(errors, "stops", "Destinations: add at least one.")
    clean["stops"] = clean_stops

    # Passengers: each in the house (or, picked up, out on a pass), free to go, going to one
    # of the stops.
    seen = set()
    for row in passengers:
        admission, position = row.admission, row.position
        name = client_label(admission)
        if admission.pk in seen:
            _add(errors, "passengers", f"{name} is listed twice.")
        seen.add(admission.pk)
        if position is not None and not 1 <= position <= max(len(stops), 1):
            _add(errors, "passengers", f"{name}: choose one of the trip's destinations.")
        if row.mode not in MODES:
            _add(errors, "passengers", f"{name}: choose how the client travels.")
        elif row.mode == DROP and purpose not in (TripPurpose.PASS, TripPurpose.DISCHARGE):
            _add(
                errors,
                "passengers",
                f"{name}: only a pass or a discharge trip leaves a client at the destination.",
            )
        elif row.mode == PICK_UP and purpose != TripPurpose.PASS:
            _add(errors, "passengers", f"{name}: only a pass trip picks a client up.")
        if row.mode == DROP and purpose == TripPurpose.PASS:
            back = _utc(row.expected_back_at)
            if back is None:
                _add(errors, "passengers", f"{name}: say when the pass ends (expected back).")
            elif back <= planned_departure:
                _add(errors, "passengers", f"{name}: the pass must end after the departure.")
            elif back - planned_departure > leave_max():
                _add(
                    errors,
                    "passengers",
                    f"{name}: a pass lasts at most {leave_max().days} days.",
                )
    admissions = {
        a.pk: a
        for a in Admission.objects.filter(pk__in=seen).select_related("client")
    }  # fmt: skip
    for pk in seen:
        admission = admissions[pk]
        if admission.facility_id != facility.pk or not admission.is_open:
            _add(errors, "passengers", f"{client_label(admission)}: not a client here.")
    picked = {r.admission.pk for r in passengers if r.mode == PICK_UP}
    away = {
        leave.admission_id: leave
        for leave in Leave.objects.open().filter(admission_id__in=seen)
    }  # fmt: skip
    clean["pick_up_leaves"] = {}
    for pk in sorted(seen):
        leave = away.get(pk)
        name = client_label(admissions[pk])
        if pk in picked:
            if leave is None:
                _add(errors, "passengers", f"{name} is not out on a pass: nothing to pick up.")
            elif leave.kind != LeaveKind.PASS:
                _add(
                    errors,
                    "passengers",
                    f"{name} is out on a leave that is not a pass "
                    f"({leave.get_kind_display().lower()}): a pass trip picks up only a pass.",
                )
            else:
                clean["pick_up_leaves"][pk] = leave
        elif leave is not None:
            _add(errors, "passengers", f"{name} is off site (on leave).")
    restricted = {
        r.admission_id: r
        for r in OutingRestriction.objects.filter(
            admission_id__in=seen - picked, lifted_at__isnull=True
        )
    }  # fmt: skip
    for pk, restriction in sorted(restricted.items()):
        name = client_label(admissions[pk])
        if purpose in RESTRICTED_PURPOSES:
            _add(errors, "passengers", f"{name} may not go on outings: {restriction.reason}")
        elif not escort_ids:
            _add(
                errors,
                "escorts",
                f"{name} is restricted from outings ({restriction.reason}): an escort besides "
                "the driver goes with a restricted client.",
            )
    out_clients = len(seen - picked)
    back_clients = len(seen) - sum(1 for r in passengers if r.mode == DROP)
    seating = rules.seating_problems(
        clients=max(out_clients, back_clients), staff=1 + len(escort_ids), seats=vehicle.seats
    )
    for problem in seating:
        _add(errors, "passengers", problem)

    # Nobody and nothing on two trips at once.
    if planned_return > planned_departure:
        others = Trip.objects.filter(facility=facility)
        if trip is not None:
            others = others.exclude(pk=trip.pk)
        busy = _busy(others, planned_departure, planned_return, now)
        if busy.filter(vehicle=vehicle).exists():
            _add(errors, "vehicle", f"{vehicle.name} is on another trip at that time.")
        if busy.filter(Q(driver__user_id=driver.user_id) | Q(escorts=driver.user_id)).exists():
            _add(errors, "driver", f"{_staff_name(driver.user)} is on another trip at that time.")
        for user in escorts:
            if busy.filter(Q(driver__user_id=user.pk) | Q(escorts=user.pk)).exists():
                _add(errors, "escorts", f"{_staff_name(user)} is on another trip at that time.")
        taken = set(
            TripPassenger.objects.filter(
                trip__in=busy,
                admission_id__in=seen,
                status__in=[PassengerStatus.PLANNED, PassengerStatus.OUT],
            ).values_list("admission_id", flat=True)
        )
        for pk in sorted(taken):
            _add(
                errors,
                "passengers",
                f"{client_label(admissions[pk])} is on another trip at that time.",
            )
    return errors, clean


def _write_plan(trip: Trip, *, clean: dict, escorts, passengers, removed_reason: str = "") -> None:
    """Stops replaced in place (by position), passengers set to the list; a passenger taken off
    the plan keeps their row as "did not go", with the reason (nobody dropped silently)."""
    stops = list(trip.stops.order_by("position"))
    by_position = {s.position: s for s in stops}
    kept = []
    for n, (place, address) in enumerate(clean["stops"], start=1):
        stop = by_position.get(n)
        if stop is None:
            stop = TripStop.objects.create(trip=trip, position=n, place=place, address=address)
        elif (stop.place, stop.address) != (place, address):
            stop.place, stop.address = place, address
            stop.save(update_fields=["place", "address"])
        kept.append(stop)
    trip.escorts.set(escorts)
    wanted = {row.admission.pk: row for row in passengers}
    existing = {p.admission_id: p for p in trip.passengers.all()}
    for pk, passenger in existing.items():
        if pk not in wanted and passenger.status == PassengerStatus.PLANNED:
            passenger.status, passenger.stayed_reason = PassengerStatus.STAYED, removed_reason
            passenger.save(update_fields=["status", "stayed_reason"])
    for pk, row in wanted.items():
        fields = {
            "stop": kept[(row.position or 1) - 1],
            "status": PassengerStatus.PLANNED,
            "stayed_reason": "",
            "returns_with_van": row.mode != DROP,
            "expected_back_at": (
                _utc(row.expected_back_at)
                if row.mode == DROP and trip.purpose == TripPurpose.PASS
                else None
            ),
            "pick_up": row.mode == PICK_UP,
            "leave": clean["pick_up_leaves"].get(pk),
        }
        passenger = existing.get(pk)
        if passenger is None:
            TripPassenger.objects.create(trip=trip, admission_id=pk, **fields)
        else:
            for name, value in fields.items():
                setattr(passenger, name, value)
            passenger.save(update_fields=list(fields))
    # Stayed passengers keep their row; a stop no longer on the trip is unlinked, then removed.
    extra = [s for s in stops if s.position > len(kept)]
    if extra:
        trip.passengers.filter(stop__in=extra).update(stop=None)
        TripStop.objects.filter(pk__in=[s.pk for s in extra]).delete()


@transaction.atomic
def trip_plan(
    *,
    actor: User,
    facility: Facility,
    purpose: str,
    planned_departure: datetime,
    planned_return: datetime,
    driver: Driver,
    vehicle: Vehicle,
    escorts=(),
    stops=(),
    passengers=(),
    purpose_note: str = "",
    pickup: str = "",
) -> Trip:
    """Plan a trip (specs/transport.md "Trips"): refused, with every reason at once, when the
    driver or vehicle may not go that day, the seats or the staff ratio do not fit, a client is
    not in the house or may not go out, or someone is already on a trip at that time.

    `stops` is [(place, address)] in order; `passengers` is [(admission, stop position)] or
    PlannedPassenger rows (admission, position, mode, expected_back_at) for a client dropped
    off (DROP: a pass, with its expected return, or a discharge) or picked up (PICK_UP: a
    client out on a pass)."""
    policy.require(actor, "transport.plan", facility)
    now = timezone.now()
    escorts, stops = list(escorts), list(stops)
    passengers = _planned(passengers, purpose)
    # Planning at the same moment as someone else: one plan per facility at a time, so the
    # overlap checks see each other's trips.
    Facility.objects.select_for_update().filter(pk=facility.pk).first()
    errors, clean = _plan_problems(
        facility=facility, trip=None, purpose=purpose, purpose_note=purpose_note,
        planned_departure=planned_departure, planned_return=planned_return, driver=driver,
        vehicle=vehicle, escorts=escorts, stops=stops, passengers=passengers, pickup=pickup,
        now=now,
    )  # fmt: skip
    if errors:
        raise ValidationError(errors)
    trip = Trip.objects.create(
        facility=facility, purpose=purpose, purpose_note=clean["purpose_note"],
        planned_departure=planned_departure, planned_return=planned_return, driver=driver,
        vehicle=vehicle, pickup=clean["pickup"], planned_by=actor, planned_at=now,
    )  # fmt: skip
    _write_plan(trip, clean=clean, escorts=escorts, passengers=passengers)
    return trip


def _locked(trip: Trip) -> Trip:
    return (
        Trip.objects.select_for_update(of=("self",))
        .select_related("facility", "vehicle", "driver__user")
        .get(pk=trip.pk)
    )


@transaction.atomic
def trip_update(
    *,
    actor: User,
    trip: Trip,
    purpose: str,
    planned_departure: datetime,
    planned_return: datetime,
    driver: Driver,
    vehicle: Vehicle,
    escorts=(),
    stops=(),
    passengers=(),
    purpose_note: str = "",
    pickup: str = "",
    removed_reason: str = "",
) -> Trip:
    """Change a planned trip, with the same checks as planning it. A client taken off the plan
    stays on the trip as "did not go" with `removed_reason` (else "Removed from the plan by
    <who>")."""
    Facility.objects.select_for_update().filter(pk=trip.facility_id).first()
    trip = _locked(trip)
    policy.require(actor, "transport.plan", trip)
    if trip.status != TripStatus.PLANNED:
        raise ValidationError("This trip has left already: only a planned trip is changed.")
    escorts, stops = list(escorts), list(stops)
    passengers = _planned(passengers, purpose)
    errors, clean = _plan_problems(
        facility=trip.facility, trip=trip, purpose=purpose, purpose_note=purpose_note,
        planned_departure=planned_departure, planned_return=planned_return, driver=driver,
        vehicle=vehicle, escorts=escorts, stops=stops, passengers=passengers, pickup=pickup,
        now=timezone.now(),
    )  # fmt: skip
    removed_reason = _text(errors, "removed_reason", "Reason", removed_reason, 200)
    if errors:
        raise ValidationError(errors)
    removed_reason = removed_reason or f"Removed from the plan by {_staff_name(actor)}"[:200]
    trip.purpose, trip.purpose_note, trip.pickup = purpose, clean["purpose_note"], clean["pickup"]
    trip.planned_departure, trip.planned_return = planned_departure, planned_return
    trip.driver, trip.vehicle = driver, vehicle
    trip.save(
        update_fields=[
            "purpose", "purpose_note", "pickup", "planned_departure", "planned_return",
            "driver", "vehicle",
        ]
    )  # fmt: skip
    _write_plan(
        trip, clean=clean, escorts=escorts, passengers=passengers, removed_reason=removed_reason
    )
    return trip


@transaction.atomic
def trip_cancel(*, actor: User, trip: Trip, reason: str) -> Trip:
    """Cancel a planned trip, saying why (the row stays for the trip log)."""
    trip = _locked(trip)
    policy.require(actor, "transport.plan", trip)
    if trip.status != TripStatus.PLANNED:
        raise ValidationError("Only a planned trip is cancelled; this one has left or ended.")
    errors = _errors()
    reason = _text(errors, "reason", "Reason", reason, 300, required=True)
    if errors:
        raise ValidationError(errors)
    trip.status = TripStatus.CANCELLED
    trip.cancelled_at, trip.cancelled_by, trip.cancel_reason = timezone.now(), actor, reason
    trip.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
    return trip


@transaction.atomic
def passenger_stay(*, actor: User, passenger: TripPassenger, reason: str) -> TripPassenger:
    """A client who does not go after all, before departure: kept on the trip as "did not
    go" with the reason, so nobody is dropped without a word."""
    trip = _locked(passenger.trip)
    policy.require(actor, "transport.drive", trip)
    passenger = TripPassenger.objects.select_for_update().get(pk=passenger.pk)
    if trip.status != TripStatus.PLANNED:
        raise ValidationError("The trip has left: sign the client in instead.")
    if passenger.status != PassengerStatus.PLANNED:
        raise ValidationError("This client is not planned on the trip any more.")
    errors = _errors()
    reason = _text(errors, "reason", "Reason", reason, 200, required=True)
    if errors:
        raise ValidationError(errors)
    passenger.status, passenger.stayed_reason = PassengerStatus.STAYED, reason
    passenger.save(update_fields=["status", "stayed_reason"])
    return passenger


# ---------------------------------------------------------------- departure and return


def _check_time(errors: dict, key: str, label: str, value: datetime, now: datetime) -> None:
    if value > now + FUTURE_TOLERANCE:
        _add(errors, key, f"{label}: this time is in the future.")


def _head_count_draft(
    trip: Trip, *, actor: User, ref: str, at: datetime, description: str, clients, missing: bool
):
    """The incident a head count that does not match opens (once per departure or return)."""
    opened = open_incident_draft(
        IncidentDraft(
            facility_id=trip.facility_id,
            source="trip",
            source_ref=f"{ref}:{trip.public_id}",
            incident_type="elopement" if missing else "other",
            occurred_at=at,
            description=description,
            reporter=actor,
            client_public_ids=tuple(a.client.public_id for a in clients),
            location=trip.vehicle.name,
        )
    )
    return opened[0] if opened else None


@transaction.atomic
def trip_depart(
    *,
    actor: User,
    trip: Trip,
    odometer_out: int,
    head_count: int,
    signed_out,
    departed_at: datetime | None = None,
    backdate_reason: str = "",
) -> TripOutcome:
    """The trip leaves: odometer out, head count, each client signed out (a leave opened for
    each through `clients`), or marked as not going beforehand.

    Refused when the vehicle may not be dispatched today, today's pre-trip inspection is missing
    or failed (spec: no departure without it), the odometer reads less than the last known, or a
    planned client is neither signed out nor marked as not going. A head count that does not
    match the clients signed out is recorded as counted, and opens an incident draft."""
    trip = _locked(trip)
    policy.require(actor, "transport.drive", trip)
    if trip.status != TripStatus.PLANNED:
        raise ValidationError(
            "This trip has already left." if trip.status != TripStatus.CANCELLED
            else "This trip was cancelled."
        )  # fmt: skip
    vehicle = Vehicle.objects.select_for_update().get(pk=trip.vehicle_id)
    facility = trip.facility
    now = timezone.now()
    departed_at = _utc(departed_at) or now
    errors = _errors()
    _check_time(errors, "departed_at", "Departure", departed_at, now)
    if departed_at >= trip.planned_return:
        _add(
            errors,
            "departed_at",
            "The planned return has passed: change the trip's times before it leaves.",
        )
    today = _local(departed_at, facility).date()
    for reason in fleet.vehicle_dispatch_blockers(vehicle, today):
        _add(errors, "vehicle", f"{vehicle.name}: {reason}")
    inspection = fleet.inspection_for_today(vehicle, departed_at)
    if inspection is None:
        _add(
            errors,
            "vehicle",
            f"{vehicle.name} has no pre-trip inspection today: inspect it before it leaves.",
        )
    elif not inspection.passed:
        _add(errors, "vehicle", f"{vehicle.name} failed today's pre-trip inspection.")
    driver = trip.driver
    for reason in fleet.driver_assignment_blockers(driver, today):
        _add(errors, "driver", f"Driver {_staff_name(driver.user)}: {reason}")
    elsewhere = Trip.objects.filter(status=TripStatus.OUT).exclude(pk=trip.pk)
    if elsewhere.filter(vehicle=vehicle).exists():
        _add(errors, "vehicle", f"{vehicle.name} is out on another trip.")
    if elsewhere.filter(Q(driver__user_id=driver.user_id) | Q(escorts=driver.user_id)).exists():
        _add(errors, "driver", f"{_staff_name(driver.user)} is out on another trip.")
    # The escorts count toward the staff ratio: one still out (late) on another trip is not here.
    escorts = list(trip.escorts.all())
    for user in escorts:
        if elsewhere.filter(Q(driver__user_id=user.pk) | Q(escorts=user.pk)).exists():
            _add(errors, "escorts", f"Escort {_staff_name(user)} is out on another trip.")
    if odometer_out < vehicle.odometer:
        _add(
            errors,
            "odometer_out",
            f"Odometer out: {vehicle.name} last read {vehicle.odometer:,}; "
            "the reading cannot be less.",
        )
    elif odometer_out - vehicle.odometer > MAX_TRIP_MILES:
        _add(
            errors,
            "odometer_out",
            f"Odometer out: {odometer_out - vehicle.odometer:,} more than the last reading "
            f"({vehicle.odometer:,}); check the number.",
        )

    passengers = list(
        trip.passengers.select_for_update(of=("self",))
        .select_related("admission__client", "stop")
        .order_by("pk")
    )
    planned = [p for p in passengers if p.status == PassengerStatus.PLANNED and not p.pick_up]
    pick_ups = [p for p in passengers if p.status == PassengerStatus.PLANNED and p.pick_up]
    wanted = {int(x) for x in signed_out}
    known = {p.admission_id for p in planned}
    if wanted & {p.admission_id for p in pick_ups}:
        _add(
            errors,
            "signed_out",
            "Signed out: a client picked up is already out on their pass; do not tick them.",
        )
    elif wanted - known:
        _add(errors, "signed_out", "Signed out: tick only clients planned on this trip.")
    going = [p for p in planned if p.admission_id in wanted]
    limbo = [p for p in planned if p.admission_id not in wanted]
    if limbo:
        names = ", ".join(client_label(p.admission) for p in limbo)
        _add(
            errors,
            "signed_out",
            f"Not signed out: {names}. Sign each client out, or mark them as not going "
            "(with the reason) before the trip leaves.",
        )
    ids = [p.admission_id for p in going]
    for restriction in OutingRestriction.objects.filter(admission_id__in=ids, lifted_at=None):
        who = next(p for p in going if p.admission_id == restriction.admission_id)
        if trip.purpose in RESTRICTED_PURPOSES:
            _add(
                errors,
                "signed_out",
                f"{client_label(who.admission)} may not go on outings: {restriction.reason}",
            )
        elif not escorts:
            _add(
                errors,
                "signed_out",
                f"{client_label(who.admission)} is restricted from outings "
                f"({restriction.reason}): an escort besides the driver must go; change the "
                "trip to add one.",
            )
    away = set(
        Leave.objects.open().filter(admission_id__in=ids).values_list("admission_id", flat=True)
    )
    for p in going:
        if not p.admission.is_open:
            _add(errors, "signed_out", f"{client_label(p.admission)} has been discharged.")
        elif p.admission_id in away:
            _add(errors, "signed_out", f"{client_label(p.admission)} is already off site.")
    staff = 1 + len(escorts)
    for problem in rules.seating_problems(clients=len(going), staff=staff, seats=vehicle.seats):
        _add(errors, "signed_out", problem)
    if errors:
        raise ValidationError(errors)

    outcome = TripOutcome(trip=trip)
    for p in going:
        kind, expected = _leave_kind(trip.purpose), trip.planned_return
        if not p.returns_with_van and trip.purpose == TripPurpose.PASS:
            # A pass drop-off: the client's own pass, expected back when it ends.
            kind, expected = LeaveKind.PASS, p.expected_back_at or trip.planned_return
        try:
            leave = leave_start(
                actor=actor,
                admission=p.admission,
                kind=kind,
                left_at=departed_at,
                expected_back_at=expected,
                destination=(p.stop.place if p.stop else "")[:200],
                note=f"{trip.get_purpose_display()} trip ({vehicle.name}).",
                backdate_reason=backdate_reason,
            )
        except ValidationError as exc:
            key = (
                "backdate_reason"
                if "backdate_reason" in getattr(exc, "error_dict", {})
                else ("signed_out")
            )
            raise ValidationError(
                {key: [f"{client_label(p.admission)}: {m}" for m in exc.messages]}
            ) from exc
        p.status, p.leave = PassengerStatus.OUT, leave
        p.signed_out_at, p.signed_out_by = departed_at, actor
        p.save(update_fields=["status", "leave", "signed_out_at", "signed_out_by"])
    # Picked up: already out on their pass (not in the head count); the van goes to fetch
    # them. One back on their own before the van left is not waited for.
    for p in pick_ups:
        leave = Leave.objects.get(pk=p.leave_id) if p.leave_id else None
        if leave is None or leave.returned_at is not None:
            p.status = PassengerStatus.STAYED
            p.stayed_reason = "Back from the pass before the pick-up."
            p.save(update_fields=["status", "stayed_reason"])
            outcome.warnings.append(
                f"{client_label(p.admission)} is back from the pass already: not picked up."
            )
            continue
        p.status = PassengerStatus.OUT
        p.signed_out_at, p.signed_out_by = departed_at, actor
        p.save(update_fields=["status", "signed_out_at", "signed_out_by"])

    trip.status = TripStatus.OUT
    trip.departed_at, trip.departed_by = departed_at, actor
    trip.odometer_out, trip.head_count_out = odometer_out, head_count
    trip.save(
        update_fields=["status", "departed_at", "departed_by", "odometer_out", "head_count_out"]
    )
    if odometer_out > vehicle.odometer:
        vehicle.odometer = odometer_out
        vehicle.save(update_fields=["odometer"])

    if head_count != len(going):
        outcome.warnings.append(
            f"Head count {head_count}, but {len(going)} client(s) signed out: the departure is "
            "recorded as counted and an incident report draft is open for the supervisor."
        )
        at = _local(departed_at, facility)
        outcome.incident = _head_count_draft(
            trip, actor=actor, ref="trip-out", at=departed_at,
            description=(
                f"{trip_label(trip)} left at {at:%H:%M} with a head count of {head_count}; "
                f"{len(going)} client(s) were signed out."
            ),
            clients=[p.admission for p in going], missing=False,
        )  # fmt: skip
    return outcome


@transaction.atomic
def trip_return(
    *,
    actor: User,
    trip: Trip,
    odometer_in: int,
    head_count: int,
    signed_in,
    returned_at: datetime | None = None,
) -> TripOutcome:
    """The trip is back: odometer in (not less than out), head count, each client seen signed
    in (their leave closed). A client not signed in stays out on their open leave, whose own
    overdue and AWOL alerts go on; a head count that does not match, or a client not back,
    opens an incident draft. The trip's overdue alerts close."""
    trip = _locked(trip)
    policy.require(actor, "transport.drive", trip)
    if trip.status != TripStatus.OUT:
        raise ValidationError(
            "This trip's return is already recorded." if trip.status == TripStatus.RETURNED
            else "This trip has not left."
        )  # fmt: skip
    now = timezone.now()
    returned_at = _utc(returned_at) or now
    errors = _errors()
    _check_time(errors, "returned_at", "Return", returned_at, now)
    if returned_at < trip.departed_at:
        _add(errors, "returned_at", "Return: cannot be before the trip left.")
    if odometer_in < trip.odometer_out:
        _add(
            errors,
            "odometer_in",
            f"Odometer in: cannot be less than the odometer out ({trip.odometer_out:,}).",
        )
    elif odometer_in - trip.odometer_out > MAX_TRIP_MILES:
        _add(
            errors,
            "odometer_in",
            f"Odometer in: {odometer_in - trip.odometer_out:,} miles since departure; "
            "check the number.",
        )
    passengers = list(
        trip.passengers.select_for_update(of=("self",))
        .select_related("admission__client", "leave")
        .order_by("pk")
    )
    wanted = {int(x) for x in signed_in}
    if wanted - {p.admission_id for p in passengers if p.status != PassengerStatus.STAYED}:
        _add(errors, "signed_in", "Signed in: tick only clients out on this trip.")
    if errors:
        raise ValidationError(errors)

    # A client whose leave closed while the van was out (discharged, or signed in on the chart)
    # is not expected back, and a tick on them changes nothing.
    out = []
    for p in passengers:
        if p.status == PassengerStatus.OUT and not _settled_elsewhere(p):
            out.append(p)
    back = [p for p in out if p.admission_id in wanted]
    missing = [p for p in out if p.admission_id not in wanted and p.returns_with_van]
    dropped = [p for p in out if p.admission_id not in wanted and not p.returns_with_van]
    for p in back:
        _sign_in(actor, p, returned_at)
    for p in dropped:
        p.status = PassengerStatus.DROPPED
        p.save(update_fields=["status"])
    vehicle = Vehicle.objects.select_for_update().get(pk=trip.vehicle_id)
    if odometer_in > vehicle.odometer:
        vehicle.odometer = odometer_in
        vehicle.save(update_fields=["odometer"])
    trip.status = TripStatus.RETURNED
    trip.returned_at, trip.returned_by = returned_at, actor
    trip.odometer_in, trip.head_count_in = odometer_in, head_count
    trip.save(
        update_fields=["status", "returned_at", "returned_by", "odometer_in", "head_count_in"]
    )
    alerts_close(
        [f"{kind.replace('_', '-')}:{trip.public_id}" for kind in (OVERDUE_KIND, CRITICAL_KIND)],
        user=actor,
        note="Trip returned.",
        now=now,
    )

    outcome = TripOutcome(trip=trip)
    _raise_not_back(trip, missing, now)
    if missing:
        names = ", ".join(client_label(p.admission) for p in missing)
        outcome.warnings.append(
            f"Not signed in: {names}. Their leave stays open until they are signed in; "
            "find them now."
        )
    if head_count != len(back):
        outcome.warnings.append(f"Head count {head_count}, but {len(back)} client(s) signed in.")
    if missing or head_count != len(back):
        at = _local(returned_at, trip.facility)
        outcome.warnings.append("An incident report draft is open for the supervisor.")
        outcome.incident = _head_count_draft(
            trip, actor=actor, ref="trip-in", at=returned_at,
            description=(
                f"{trip_label(trip)} returned at {at:%H:%M} with a head count of {head_count}; "
                f"{len(back)} of {len(back) + len(missing)} client(s) signed in"
                + (f"; not back: {', '.join(client_label(p.admission) for p in missing)}."
                   if missing else ".")
            ),
            clients=[p.admission for p in missing], missing=bool(missing),
        )  # fmt: skip
    return outcome


def not_back_key(leave: Leave) -> str:
    """A client the van came back without: the leave's own critical "absent" alert, so the
    leave's return (on the chart or here) closes it (clients.leave_return)."""
    return f"leave-awol:{leave.public_id}"


def _raise_not_back(trip: Trip, missing: list[TripPassenger], now: datetime) -> None:
    """Issue 14 review: a client not back with the van is a critical alert to the supervisor
    and the floor, closed when they are signed in or discharged."""
    alerts = []
    for p in missing:
        client = p.admission.client
        name = client.preferred_name or client.legal_first_name
        alerts.append(
            Alert(
                facility=trip.facility,
                kind="trip_not_back",
                severity=AlertSeverity.CRITICAL,
                message=f"{name} {client.legal_last_name} not back with the van from "
                f"{trip.get_purpose_display().lower()}. Find them now; sign them in when back.",
                dedupe_key=not_back_key(p.leave),
                client_public_id=client.public_id,
                client_label=client.mrn,
                link=reverse("transport:trip", args=[trip.public_id]),
                raised_at=now,
            )
        )
    alerts_raise_many(alerts)


def _settled_elsewhere(passenger: TripPassenger) -> bool:
    """A passenger out on the trip whose leave was closed without the trip: discharged while
    out, or signed in on the chart. Their row says so; they are no longer expected back."""
    leave = passenger.leave
    if leave is None or leave.returned_at is None:
        return False
    if not passenger.admission.is_open:
        passenger.status = PassengerStatus.DISCHARGED
        passenger.save(update_fields=["status"])
    else:
        passenger.status = PassengerStatus.BACK
        passenger.signed_in_at = leave.returned_at
        passenger.signed_in_by = leave.returned_recorded_by
        passenger.save(update_fields=["status", "signed_in_at", "signed_in_by"])
    return True


def passengers_discharged(*, admission: Admission, actor: User | None = None) -> int:
    """At discharge (transport/discharge.py): the stay's passengers out on a trip are
    "discharged while out", no longer expected back; those planned on a trip not yet gone do
    not go, with the reason. Returns how many rows changed."""
    rows = TripPassenger.objects.filter(admission=admission)
    out = list(rows.filter(status=PassengerStatus.OUT, leave__isnull=False).select_related("leave"))
    if out:
        alerts_close(
            [not_back_key(p.leave) for p in out],
            user=actor or admission.discharged_by,
            note="Client discharged.",
        )
    changed = rows.filter(status=PassengerStatus.OUT).update(status=PassengerStatus.DISCHARGED)
    changed += rows.filter(status=PassengerStatus.PLANNED, trip__status=TripStatus.PLANNED).update(
        status=PassengerStatus.STAYED, stayed_reason="Discharged before the trip."
    )
    return changed


def _sign_in(actor: User, passenger: TripPassenger, at: datetime) -> None:
    try:
        leave_return(actor=actor, leave=passenger.leave, returned_at=at)
    except ValidationError as exc:
        raise ValidationError(
            {"signed_in": [f"{client_label(passenger.admission)}: {m}" for m in exc.messages]}
        ) from exc
    passenger.status = PassengerStatus.BACK
    passenger.signed_in_at, passenger.signed_in_by = at, actor
    passenger.save(update_fields=["status", "signed_in_at", "signed_in_by"])


@transaction.atomic
def passenger_sign_in(
    *, actor: User, passenger: TripPassenger, at: datetime | None = None
) -> TripPassenger:
    """A client of a trip who came back separately (or was missed at the van): signed in,
    their leave closed."""
    trip = _locked(passenger.trip)
    policy.require(actor, "transport.drive", trip)
    passenger = (
        TripPassenger.objects.select_for_update(of=("self",))
        .select_related("admission__client", "leave")
        .get(pk=passenger.pk)
    )
    if passenger.status != PassengerStatus.OUT:
        raise ValidationError("This client is not signed out on this trip.")
    if _settled_elsewhere(passenger):
        return passenger  # back on the chart already, or discharged: the row now says so
    now = timezone.now()
    at = _utc(at) or now
    errors = _errors()
    _check_time(errors, "at", "Back at", at, now)
    if at < passenger.signed_out_at:
        _add(errors, "at", "Back at: cannot be before the client left.")
    if errors:
        raise ValidationError(errors)
    try:
        _sign_in(actor, passenger, at)
    except ValidationError as exc:
        raise ValidationError({"at": exc.messages}) from exc
    return passenger


# ---------------------------------------------------------------- overdue trips


def overdue_key(trip: Trip, kind: str) -> str:
    return f"{kind.replace('_', '-')}:{trip.public_id}"


def scan_trips_overdue(now: datetime | None = None) -> int:
    """A warning to the supervisor for each trip out 15 minutes past its planned return, and a
    critical alert at 60 (issue 14 item 4). Idempotent by dedupe key per trip and level; one
    query for the trips, whatever their number. Returns the alerts raised."""
    # In UTC: arithmetic on a local time is by the wall clock, an hour off across DST.
    now = (now or timezone.now()).astimezone(UTC)
    trips = (
        Trip.objects.filter(status=TripStatus.OUT, planned_return__lte=now - rules.OVERDUE_AFTER)
        .select_related("facility", "vehicle", "driver__user")
        .order_by("planned_return")
    )
    alerts = []
    for trip in trips:
        status = rules.trip_status(trip.planned_return, now)
        if status not in ("overdue", "critical"):
            continue
        critical = status == "critical"
        kind = CRITICAL_KIND if critical else OVERDUE_KIND
        due = _local(trip.planned_return, trip.facility)
        late = int((now - trip.planned_return).total_seconds() // 60)
        text = (
            "Call the driver; if nobody answers, follow the missing-vehicle policy."
            if critical
            else "Call the driver."
        )
        alerts.append(
            Alert(
                facility=trip.facility,
                kind=kind,
                severity=AlertSeverity.CRITICAL if critical else AlertSeverity.WARNING,
                message=f"Trip not back: {trip_label(trip)}, expected {due:%H:%M}, "
                f"{late} min late. {text}",
                dedupe_key=overdue_key(trip, kind),
                link=reverse("transport:trip", args=[trip.public_id]),
                raised_at=now,
                audience="supervisor",
            )
        )
    return alerts_raise_many(alerts)
