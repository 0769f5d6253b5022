"""Vehicles, drivers and the pre-trip inspection (specs/transport.md "Vehicles", "Drivers",
"Pre-trip inspection"; issue 14 items 1 and 2).

A vehicle goes out of service by hand (anyone on the floor may ground a van), on a failed
critical inspection item, or when a document or its service lapses (the nightly scan, or an edit
that records an expired date). Only a supervisor clears it, and only once nothing has lapsed:
every change is a `VehicleStatusEvent` with who, when and why, and the supervisor is alerted.
Documents within 30 days of expiry alert the supervisor once per document and date. The rules
themselves (what is expired, what is expiring, which items are critical) are transport/rules.py.
"""

import re
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from facility import policy
from facility.models import Alert, AlertSeverity, Facility, User
from facility.services import alert_raise, alerts_close, alerts_raise_many
from facility.validators import has_unsafe_characters
from transport import rules
from transport.models import (
    Driver,
    Inspection,
    InspectionItem,
    StatusSource,
    Trip,
    Vehicle,
    VehicleStatusEvent,
)

SUPERVISOR = "supervisor"  # alert audience: supervisors only
ALERT_OUT = "vehicle_out_of_service"
ALERT_EXPIRY = "fleet_expiry"

# Dates further out than this are typing mistakes, not documents (a 2099 registration).
FUTURE_LIMIT = timedelta(days=3653)
PAST_LIMIT = timedelta(days=365 * 30)
ODOMETER_MAX = 2_000_000

PLATE = re.compile(r"^[A-Z0-9](?:[A-Z0-9 -]{0,8}[A-Z0-9])?$")
# 17 characters, no I, O or Q (ISO 3779).
VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
LICENCE_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9 -]{0,28}[A-Z0-9]?$")
LICENCE_CLASS = re.compile(r"^[A-Z0-9][A-Z0-9 -]{0,9}$")
STATE = re.compile(r"^[A-Z]{2}$")

VEHICLE_DOCUMENTS = {
    "registration_expires": "Registration",
    "insurance_expires": "Insurance",
    "service_due_on": "Service",
}
DRIVER_DOCUMENTS = {
    "licence_expires": "Driver's licence",
    "mvr_due_on": "Motor-vehicle-record check",
    "first_aid_expires": "First Aid/CPR",
}


# ---------------------------------------------------------------- reading


def local_today(facility: Facility, now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), facility.tz).date()


def vehicle_blockers(vehicle: Vehicle, today: date) -> list[str]:
    """rules.vehicle_blockers for a vehicle row: what has lapsed (not the manual status)."""
    return rules.vehicle_blockers(
        registration_expires=vehicle.registration_expires,
        insurance_expires=vehicle.insurance_expires,
        service_due_on=vehicle.service_due_on,
        service_due_odometer=vehicle.service_due_odometer,
        odometer=vehicle.odometer,
        today=today,
    )


def vehicle_dispatch_blockers(vehicle: Vehicle, today: date) -> list[str]:
    """Why this vehicle may not leave on a trip today (empty: it may). Used by trips."""
    reasons = []
    if not vehicle.active:
        reasons.append("This vehicle is retired.")
    if not vehicle.in_service:
        reasons.append(f"Out of service: {vehicle.out_of_service_reason}")
    return reasons + vehicle_blockers(vehicle, today)


def vehicle_expiring(vehicle: Vehicle, today: date) -> list[tuple[str, date]]:
    """(label, date) of the vehicle's documents within the warning window."""
    dates = {label: getattr(vehicle, name) for name, label in VEHICLE_DOCUMENTS.items()}
    return rules.expiring(dates, today=today)


def driver_blockers(driver: Driver, today: date) -> list[str]:
    return rules.driver_blockers(
        licence_expires=driver.licence_expires,
        mvr_checked_on=driver.mvr_checked_on,
        first_aid_expires=driver.first_aid_expires,
        today=today,
    )


def driver_assignment_blockers(driver: Driver, today: date) -> list[str]:
    """Why this person may not be assigned as a driver today (empty: they may). Used by trips."""
    reasons = []
    if not driver.active:
        reasons.append("Not an active driver.")
    if not driver.user.is_active:
        reasons.append("This staff account is deactivated.")
    return reasons + driver_blockers(driver, today)


def _driver_dates(driver: Driver) -> dict[str, date]:
    return {
        "licence_expires": driver.licence_expires,
        "mvr_due_on": rules.mvr_due_on(driver.mvr_checked_on),
        "first_aid_expires": driver.first_aid_expires,
    }


def driver_documents(driver: Driver) -> dict[str, date]:
    """{label: date} of the driver's documents that lapse: the licence's expiry, the yearly
    record check's due date, First Aid/CPR's expiry (the fleet scan reads the same dates)."""
    return {DRIVER_DOCUMENTS[k]: v for k, v in _driver_dates(driver).items()}


def driver_expiring(driver: Driver, today: date) -> list[tuple[str, date]]:
    dates = {DRIVER_DOCUMENTS[k]: v for k, v in _driver_dates(driver).items()}
    return rules.expiring(dates, today=today)


def inspection_for_today(vehicle: Vehicle, now: datetime | None = None) -> Inspection | None:
    """The vehicle's latest inspection of the facility's local day (trips refuse to depart
    without a passed one). One made before the vehicle's latest status event (taken out of
    service, or cleared) no longer counts (issue 14 review): a van cleared after a repair is
    inspected again before it leaves."""
    day = local_today(vehicle.facility, now)
    latest = (
        Inspection.objects.filter(vehicle=vehicle, day=day).order_by("-inspected_at", "-id").first()
    )
    if latest is None:
        return None
    event = VehicleStatusEvent.objects.filter(vehicle=vehicle).order_by("-at", "-id").first()
    if event is not None and (
        latest.inspected_at < event.at or (latest.passed and latest.inspected_at <= event.at)
    ):
        return None  # a failed inspection grounds the van at its own time: it still counts
    return latest


def defects_of(inspection: Inspection) -> list[tuple[str, str, bool]]:
    """(label, note, critical) of each item marked as a defect, in checklist order."""
    by_key = {i.item: i for i in inspection.items.all()}
    return [
        (label, by_key[key].note, critical)
        for key, label, critical in rules.INSPECTION_ITEMS
        if key in by_key and not by_key[key].ok
    ]


# ---------------------------------------------------------------- checks on typed values


def _text(errors: dict, field: str, label: str, value, max_length: int, *, required=True) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[field] = f"{label}: required."
    elif len(value) > max_length:
        errors[field] = f"{label}: at most {max_length} characters."
    elif has_unsafe_characters(value):
        errors[field] = f"{label}: remove the control characters."
    return value


def _pattern(errors: dict, field: str, label: str, value, pattern, hint: str, *, required=True):
    value = re.sub(r"\s+", " ", (value or "").strip().upper())
    if not value:
        if required:
            errors[field] = f"{label}: required."
        return value
    if not pattern.match(value):
        errors[field] = f"{label}: {hint}"
    return value


def _date(errors: dict, field: str, label: str, value, today: date, *, required=True,
          future: timedelta = FUTURE_LIMIT) -> date | None:  # fmt: skip
    if value is None:
        if required:
            errors[field] = f"{label}: enter a date."
        return None
    if not isinstance(value, date) or isinstance(value, datetime):
        errors[field] = f"{label}: enter a valid date."
        return None
    if value > today + future:
        if future == timedelta(0):
            errors[field] = f"{label}: cannot be in the future."
        else:
            errors[field] = f"{label}: no later than {today + future:%Y-%m-%d}; check the year."
    elif value < today - PAST_LIMIT:
        errors[field] = f"{label}: no earlier than {today - PAST_LIMIT:%Y-%m-%d}."
    return value


def _number(errors: dict, field: str, label: str, value, low: int, high: int, *, required=True):
    if value is None or value == "":
        if required:
            errors[field] = f"{label}: required."
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors[field] = f"{label}: a whole number."
        return None
    if not low <= value <= high:
        errors[field] = f"{label}: between {low:,} and {high:,}."
    return value


def _reason(value, label: str = "Reason") -> str:
    errors: dict = {}
    reason = _text(errors, "reason", label, value, 300)
    if errors:
        raise ValidationError(errors)
    return reason


# ---------------------------------------------------------------- vehicles


def _vehicle_fields(
    errors: dict,
    today: date,
    *,
    name,
    plate,
    vin,
    seats,
    registration_expires,
    insurance_expires,
    service_due_on,
    service_due_odometer,
    odometer,
) -> dict:
    return {
        "name": _text(errors, "name", "Name", name, 60),
        "plate": _pattern(
            errors, "plate", "Plate", plate, PLATE,
            "letters, digits, spaces or dashes, up to 10 characters.",
        ),
        "vin": _pattern(
            errors, "vin", "VIN", vin, VIN,
            "17 letters and digits (no I, O or Q), or leave it empty.", required=False,
        ),
        "seats": _number(errors, "seats", "Passenger seats", seats, 1, 15),
        "registration_expires": _date(
            errors, "registration_expires", "Registration expires", registration_expires, today
        ),
        "insurance_expires": _date(
            errors, "insurance_expires", "Insurance expires", insurance_expires, today
        ),
        "service_due_on": _date(
            errors, "service_due_on", "Service due on", service_due_on, today, required=False
        ),
        "service_due_odometer": _number(
            errors, "service_due_odometer", "Service due at (miles)", service_due_odometer,
            1, ODOMETER_MAX, required=False,
        ),
        "odometer": _number(errors, "odometer", "Odometer", odometer, 0, ODOMETER_MAX),
    }  # fmt: skip


# Licence states: the 50 states, DC and the territories (USPS codes).
_STATE_CODES = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR VI GU AS MP"
)
US_STATES = frozenset(_STATE_CODES.split(" "))


def _plate_taken(facility: Facility, plate: str, exclude: int | None = None) -> bool:
    """Plates compared without spaces or dashes ("ABC 123" is "ABC-123")."""
    key = re.sub(r"[ -]", "", plate)
    others = Vehicle.objects.filter(facility=facility)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    return any(re.sub(r"[ -]", "", p) == key for p in others.values_list("plate", flat=True))


def _seat_load_problems(vehicle: Vehicle, seats: int) -> list[str]:
    """Trips out or planned whose riders would not fit in `seats` (issue 14 review)."""
    problems = []
    trips = (
        Trip.objects.filter(vehicle=vehicle, status__in=("planned", "out"))
        .prefetch_related("passengers", "escorts")
        .order_by("planned_departure")
    )
    for trip in trips:
        riding = "planned" if trip.status == "planned" else "out"
        clients = sum(1 for p in trip.passengers.all() if p.status == riding)
        riders = clients + len(trip.escorts.all())
        if riders > seats:
            when = timezone.localtime(trip.planned_departure, vehicle.facility.tz)
            problems.append(
                f"Passenger seats: the {trip.get_purpose_display().lower()} trip of "
                f"{when:%b %d %H:%M} carries {riders}; change or move it first."
            )
    return problems


def _name_taken(facility: Facility, name: str, exclude: int | None = None) -> bool:
    found = Vehicle.objects.filter(facility=facility, name__iexact=name)
    if exclude is not None:
        found = found.exclude(pk=exclude)
    return found.exists()


@transaction.atomic
def vehicle_create(
    *,
    actor: User,
    facility: Facility,
    name: str,
    plate: str,
    seats: int,
    registration_expires: date,
    insurance_expires: date,
    vin: str = "",
    service_due_on: date | None = None,
    service_due_odometer: int | None = None,
    odometer: int = 0,
    now: datetime | None = None,
) -> Vehicle:
    """Add a vehicle (specs: Vehicles). One recorded with a lapsed document starts out of
    service, like one the nightly scan finds."""
    policy.require(actor, "transport.fleet", facility)
    now = now or timezone.now()
    today = local_today(facility, now)
    errors: dict = {}
    fields = _vehicle_fields(
        errors, today, name=name, plate=plate, vin=vin, seats=seats,
        registration_expires=registration_expires, insurance_expires=insurance_expires,
        service_due_on=service_due_on, service_due_odometer=service_due_odometer,
        odometer=odometer,
    )  # fmt: skip
    if "name" not in errors and _name_taken(facility, fields["name"]):
        errors["name"] = f"Name: {fields['name']} is already a vehicle here."
    if "plate" not in errors and _plate_taken(facility, fields["plate"]):
        errors["plate"] = f"Plate: {fields['plate']} is already a vehicle here."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            vehicle = Vehicle.objects.create(facility=facility, **fields)
    except IntegrityError:
        raise ValidationError(
            {"name": f"Name: {fields['name']} is already a vehicle here."}
        ) from None
    _ground_if_lapsed(vehicle, today=today, by=actor, now=now)
    return vehicle


@transaction.atomic
def vehicle_update(
    *,
    actor: User,
    vehicle: Vehicle,
    name: str,
    plate: str,
    seats: int,
    registration_expires: date,
    insurance_expires: date,
    vin: str = "",
    service_due_on: date | None = None,
    service_due_odometer: int | None = None,
    odometer: int | None = None,
    active: bool = True,
    now: datetime | None = None,
) -> Vehicle:
    """Change a vehicle's record. A renewed document does not put the vehicle back in service
    (a supervisor clears it); a lapsed one takes it out. The odometer may be corrected, never
    below a reading a trip or an inspection recorded."""
    policy.require(actor, "transport.fleet", vehicle)
    now = now or timezone.now()
    locked = Vehicle.objects.select_for_update().select_related("facility").get(pk=vehicle.pk)
    today = local_today(locked.facility, now)
    errors: dict = {}
    fields = _vehicle_fields(
        errors, today, name=name, plate=plate, vin=vin, seats=seats,
        registration_expires=registration_expires, insurance_expires=insurance_expires,
        service_due_on=service_due_on, service_due_odometer=service_due_odometer,
        odometer=locked.odometer if odometer is None else odometer,
    )  # fmt: skip
    if "name" not in errors and _name_taken(locked.facility, fields["name"], exclude=locked.pk):
        errors["name"] = f"Name: {fields['name']} is already a vehicle here."
    if "plate" not in errors and _plate_taken(locked.facility, fields["plate"], locked.pk):
        errors["plate"] = f"Plate: {fields['plate']} is already a vehicle here."
    if "seats" not in errors and fields["seats"] < locked.seats:
        problems = _seat_load_problems(locked, fields["seats"])
        if problems:
            errors["seats"] = problems
    if "odometer" not in errors and fields["odometer"] < locked.odometer:
        recorded = _highest_recorded_odometer(locked)
        if fields["odometer"] < recorded:
            errors["odometer"] = (
                f"Odometer: at least {recorded:,} miles, the highest reading a trip or an "
                "inspection recorded."
            )
    if errors:
        raise ValidationError(errors)
    old_dates = {k: getattr(locked, k) for k in VEHICLE_DOCUMENTS}
    for key, value in fields.items():
        setattr(locked, key, value)
    locked.active = bool(active)
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError:
        raise ValidationError(
            {"name": f"Name: {fields['name']} is already a vehicle here."}
        ) from None
    renewed = [k for k, old in old_dates.items() if getattr(locked, k) != old]
    if renewed:
        _close_expiry_alerts(
            [f"transport:expiring:vehicle:{locked.pk}:{k}:" for k in renewed],
            user=actor, note="Record updated with a new date.", now=now,
        )  # fmt: skip
    if locked.active:
        _ground_if_lapsed(locked, today=today, by=actor, now=now)
    return locked


def _highest_recorded_odometer(vehicle: Vehicle) -> int:
    trips = Trip.objects.filter(vehicle=vehicle).aggregate(
        a=Max("odometer_out"), b=Max("odometer_in")
    )
    inspected = Inspection.objects.filter(vehicle=vehicle).aggregate(c=Max("odometer"))
    return max(v or 0 for v in (*trips.values(), *inspected.values()))


def _out_alert_prefix(vehicle: Vehicle) -> str:
    return f"transport:out:{vehicle.pk}:"


def _ground(vehicle: Vehicle, *, reason: str, source: str, by: User | None,
            now: datetime) -> VehicleStatusEvent:  # fmt: skip
    """Out of service with the reason; an event and a supervisor alert. `vehicle` is locked.
    A vehicle already out of service keeps its status; the new reason is recorded too."""
    reason = reason[:300]
    vehicle.in_service = False
    vehicle.out_of_service_reason = reason
    vehicle.save(update_fields=["in_service", "out_of_service_reason"])
    event = VehicleStatusEvent.objects.create(
        vehicle=vehicle, in_service=False, reason=reason, source=source, at=now, by=by
    )
    who = by.signature if by is not None else "the expiry scan"
    alert_raise(
        facility=vehicle.facility,
        kind=ALERT_OUT,
        severity=AlertSeverity.WARNING,
        message=(
            f"{vehicle.name} ({vehicle.plate}) is out of service ({who}): {reason} "
            "A supervisor clears it once it is fixed."
        ),
        dedupe_key=f"{_out_alert_prefix(vehicle)}{event.pk}",
        link=reverse("transport:vehicle", args=[vehicle.public_id]),
        now=now,
        audience=SUPERVISOR,
    )
    return event


def _ground_if_lapsed(vehicle: Vehicle, *, today: date, by: User | None, now: datetime) -> bool:
    """Take an in-service vehicle with a lapsed document or service out of service."""
    lapsed = vehicle_blockers(vehicle, today)
    if not lapsed or not vehicle.in_service or not vehicle.active:
        return False
    _ground(vehicle, reason=" ".join(lapsed), source=StatusSource.EXPIRY, by=by, now=now)
    return True


@transaction.atomic
def vehicle_take_out_of_service(
    actor: User,
    vehicle: Vehicle,
    reason: str,
    source: str = StatusSource.MANUAL,
    now: datetime | None = None,
) -> VehicleStatusEvent:
    """Ground a vehicle (anyone on the floor may): who, when and why are kept, and the
    supervisor is alerted. It stays out until a supervisor clears it."""
    policy.require(actor, "transport.inspect", vehicle)
    reason = _reason(reason)
    if source not in StatusSource.values:
        raise ValidationError({"source": "Unknown source."})
    now = now or timezone.now()
    locked = Vehicle.objects.select_for_update().select_related("facility").get(pk=vehicle.pk)
    if not locked.in_service:
        raise ValidationError({"reason": f"Already out of service: {locked.out_of_service_reason}"})
    event = _ground(locked, reason=reason, source=source, by=actor, now=now)
    vehicle.in_service, vehicle.out_of_service_reason = False, locked.out_of_service_reason
    return event


@transaction.atomic
def vehicle_clear(
    actor: User, vehicle: Vehicle, reason: str, now: datetime | None = None
) -> VehicleStatusEvent:
    """A supervisor puts a vehicle back in service, saying why (repaired, kit restocked). Refused
    while a document or the service has lapsed: the record is fixed first."""
    policy.require(actor, "transport.clear_vehicle", vehicle)
    reason = _reason(reason)
    now = now or timezone.now()
    locked = Vehicle.objects.select_for_update().select_related("facility").get(pk=vehicle.pk)
    if locked.in_service:
        raise ValidationError({"reason": "This vehicle is already in service."})
    if not locked.active:
        raise ValidationError({"reason": "This vehicle is retired."})
    lapsed = vehicle_blockers(locked, local_today(locked.facility, now))
    if lapsed:
        raise ValidationError(
            {"reason": [*lapsed, "Update the vehicle's record first, then clear it."]}
        )
    locked.in_service = True
    locked.out_of_service_reason = ""
    locked.save(update_fields=["in_service", "out_of_service_reason"])
    event = VehicleStatusEvent.objects.create(
        vehicle=locked, in_service=True, reason=reason, source=StatusSource.MANUAL, at=now,
        by=actor,
    )  # fmt: skip
    keys = (
        Alert.objects.open()
        .filter(facility_id=locked.facility_id, dedupe_key__startswith=_out_alert_prefix(locked))
        .values_list("dedupe_key", flat=True)
    )
    alerts_close(keys, user=actor, note=f"Back in service: {reason}", now=now)
    vehicle.in_service, vehicle.out_of_service_reason = True, ""
    return event


# ---------------------------------------------------------------- drivers


def _state(errors: dict, value) -> str:
    """A US state or territory code (issue 14 review: "ZZ" is not a state)."""
    state = _pattern(
        errors, "licence_state", "Licence state", value, STATE,
        "the two-letter state code (e.g. NY).",
    )  # fmt: skip
    if "licence_state" not in errors and state not in US_STATES:
        errors["licence_state"] = (
            f"Licence state: {state} is not a US state or territory code (e.g. NY, NJ, PR)."
        )
    return state


def _driver_fields(
    errors: dict,
    today: date,
    *,
    licence_number,
    licence_class,
    licence_state,
    licence_expires,
    mvr_checked_on,
    training_on,
    first_aid_expires,
) -> dict:
    return {
        "licence_number": _pattern(
            errors, "licence_number", "Licence number", licence_number, LICENCE_NUMBER,
            "letters, digits, spaces or dashes, up to 30 characters.",
        ),
        "licence_class": _pattern(
            errors, "licence_class", "Licence class", licence_class, LICENCE_CLASS,
            "letters and digits, up to 10 characters (e.g. C, D, CDL-B).",
        ),
        "licence_state": _state(errors, licence_state),
        "licence_expires": _date(
            errors, "licence_expires", "Licence expires", licence_expires, today
        ),
        "mvr_checked_on": _date(
            errors, "mvr_checked_on", "Motor-vehicle-record check", mvr_checked_on, today,
            future=timedelta(0),
        ),
        "training_on": _date(
            errors, "training_on", "Van / defensive-driving training", training_on, today,
            future=timedelta(0),
        ),
        "first_aid_expires": _date(
            errors, "first_aid_expires", "First Aid/CPR expires", first_aid_expires, today
        ),
    }  # fmt: skip


@transaction.atomic
def driver_create(
    *,
    actor: User,
    facility: Facility,
    user: User,
    licence_number: str,
    licence_class: str,
    licence_state: str,
    licence_expires: date,
    mvr_checked_on: date,
    training_on: date,
    first_aid_expires: date,
    now: datetime | None = None,
) -> Driver:
    """Authorize a staff member of this facility to drive (specs: Drivers), once per facility."""
    policy.require(actor, "transport.fleet", facility)
    today = local_today(facility, now)
    errors: dict = {}
    if user is None or not user.is_active or facility.pk not in user.facility_ids():
        errors["user"] = "Staff member: an active staff member of this facility."
    elif Driver.objects.filter(facility=facility, user=user).exists():
        errors["user"] = f"Staff member: {user} is already a driver here; edit that record."
    fields = _driver_fields(
        errors, today, licence_number=licence_number, licence_class=licence_class,
        licence_state=licence_state, licence_expires=licence_expires,
        mvr_checked_on=mvr_checked_on, training_on=training_on,
        first_aid_expires=first_aid_expires,
    )  # fmt: skip
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return Driver.objects.create(facility=facility, user=user, **fields)
    except IntegrityError:
        raise ValidationError({"user": f"Staff member: {user} is already a driver here."}) from None


@transaction.atomic
def driver_update(
    *,
    actor: User,
    driver: Driver,
    licence_number: str,
    licence_class: str,
    licence_state: str,
    licence_expires: date,
    mvr_checked_on: date,
    training_on: date,
    first_aid_expires: date,
    active: bool = True,
    now: datetime | None = None,
) -> Driver:
    """Change a driver's documents, or end their authorization (`active` false)."""
    policy.require(actor, "transport.fleet", driver)
    locked = Driver.objects.select_for_update().select_related("facility").get(pk=driver.pk)
    today = local_today(locked.facility, now)
    errors: dict = {}
    fields = _driver_fields(
        errors, today, licence_number=licence_number, licence_class=licence_class,
        licence_state=licence_state, licence_expires=licence_expires,
        mvr_checked_on=mvr_checked_on, training_on=training_on,
        first_aid_expires=first_aid_expires,
    )  # fmt: skip
    if errors:
        raise ValidationError(errors)
    old = _driver_dates(locked)
    for key, value in fields.items():
        setattr(locked, key, value)
    locked.active = bool(active)
    locked.save()
    renewed = [k for k, v in _driver_dates(locked).items() if old[k] != v]
    prefixes = [
        f"transport:{kind}:driver:{locked.pk}:{k}:"
        for k in renewed
        for kind in ("expiring", "expired")
    ]
    _close_expiry_alerts(prefixes, user=actor, note="Record updated with a new date.", now=now)
    return locked


def _close_expiry_alerts(prefixes: list[str], *, user: User, note: str, now=None) -> int:
    if not prefixes:
        return 0
    from django.db.models import Q

    match = Q()
    for prefix in prefixes:
        match |= Q(dedupe_key__startswith=prefix)
    keys = Alert.objects.open().filter(match).values_list("dedupe_key", flat=True)
    return alerts_close(keys, user=user, note=note, now=now)


# ---------------------------------------------------------------- pre-trip inspection


@transaction.atomic
def inspection_record(
    actor: User,
    vehicle: Vehicle,
    results: dict[str, tuple[bool, str]],
    odometer: int | None = None,
    now: datetime | None = None,
) -> Inspection:
    """Record a pre-trip inspection: every item OK or a defect with a note. A failed critical
    item fails it and takes the vehicle out of service (the supervisor is alerted); other
    defects are kept and shown on the vehicle's page. The day is the facility's local day."""
    policy.require(actor, "transport.inspect", vehicle)
    errors: dict = {}
    clean: dict[str, tuple[bool, str]] = {}
    unknown = sorted(set(results) - set(rules.ITEM_LABELS))
    if unknown:
        errors["__all__"] = f"Unknown items: {', '.join(k[:30] for k in unknown[:5])}."
    missing = []
    for key, label, _ in rules.INSPECTION_ITEMS:
        answer = results.get(key)
        if answer is None or answer[0] is None:
            errors[key] = f"{label}: OK or defect?"
            missing.append(label)
            continue
        ok, note = bool(answer[0]), answer[1] or ""
        note_errors: dict = {}
        note = _text(note_errors, key, f"{label} note", note, 300, required=not ok)
        if note_errors:
            errors[key] = f"{label}: say what is wrong." if not note.strip() else note_errors[key]
        clean[key] = (ok, note)
    if missing:
        errors.setdefault("__all__", f"Not answered: {', '.join(missing)}.")
    now = now or timezone.now()
    locked = Vehicle.objects.select_for_update().select_related("facility").get(pk=vehicle.pk)
    if not locked.active:
        errors["__all__"] = "This vehicle is retired."
    if odometer is not None:
        _number(errors, "odometer", "Odometer", odometer, 0, ODOMETER_MAX)
        if "odometer" not in errors and odometer < locked.odometer:
            errors["odometer"] = (
                f"Odometer: at least {locked.odometer:,} miles (the last known reading)."
            )
    if errors:
        raise ValidationError(errors)
    failed = rules.critical_defects({key: ok for key, (ok, _) in clean.items()})
    inspection = Inspection.objects.create(
        vehicle=locked,
        day=local_today(locked.facility, now),
        inspected_at=now,
        inspected_by=actor,
        odometer=odometer,
        passed=not failed,
    )
    InspectionItem.objects.bulk_create(
        InspectionItem(inspection=inspection, item=key, ok=ok, note=note if not ok else "")
        for key, (ok, note) in clean.items()
    )
    if odometer is not None and odometer > locked.odometer:
        locked.odometer = odometer
        locked.save(update_fields=["odometer"])
    if failed:
        reason = "Failed pre-trip inspection: " + "; ".join(
            f"{rules.ITEM_LABELS[k]} — {clean[k][1]}" for k in failed
        )
        _ground(locked, reason=reason, source=StatusSource.INSPECTION, by=actor, now=now)
    else:
        # A reading past the service mileage grounds it as the scan would.
        _ground_if_lapsed(locked, today=inspection.day, by=actor, now=now)
    vehicle.in_service = locked.in_service
    vehicle.out_of_service_reason = locked.out_of_service_reason
    vehicle.odometer = locked.odometer
    return inspection


def failure_summary(inspection: Inspection) -> str:
    """ "Brakes — grinding; Tires — flat" for the failed critical items of an inspection."""
    return "; ".join(f"{label} — {note}" for label, note, critical in defects_of(inspection)
                     if critical)  # fmt: skip


# ---------------------------------------------------------------- the nightly scan


def _expiry_alert(facility, key: str, message: str, link: str, now: datetime) -> Alert:
    return Alert(
        facility=facility,
        kind=ALERT_EXPIRY,
        severity=AlertSeverity.WARNING,
        message=message,
        dedupe_key=key,
        link=link,
        raised_at=now,
        audience=SUPERVISOR,
    )


def _in_days(d: date, today: date) -> str:
    n = (d - today).days
    return "today" if n == 0 else ("tomorrow" if n == 1 else f"in {n} days")


def scan_fleet_expiries(now: datetime | None = None) -> int:
    """Take in-service vehicles whose documents or service lapsed out of service (by nobody:
    the scan), and warn the supervisor of documents within 30 days of expiry and of drivers'
    lapsed documents, once per document and date. Returns vehicles grounded + alerts raised."""
    now = now or timezone.now()
    vehicles = list(Vehicle.objects.filter(active=True).select_related("facility"))
    drivers = list(
        Driver.objects.filter(active=True, user__is_active=True).select_related("facility", "user")
    )
    grounded = 0
    alerts: list[Alert] = []
    for v in vehicles:
        today = local_today(v.facility, now)
        if v.in_service and vehicle_blockers(v, today):
            grounded += _ground_vehicle_by_scan(v.pk, now)
        link = reverse("transport:vehicle", args=[v.public_id])
        for name, label in VEHICLE_DOCUMENTS.items():
            d = getattr(v, name)
            if d is None or not rules.expiring({name: d}, today=today):
                continue
            alerts.append(_expiry_alert(
                v.facility, f"transport:expiring:vehicle:{v.pk}:{name}:{d.isoformat()}",
                f"{v.name} ({v.plate}): {label.lower()} "
                f"{'due' if name == 'service_due_on' else 'expires'} on {d:%Y-%m-%d} "
                f"({_in_days(d, today)}). Renew it and update the record.",
                link, now,
            ))  # fmt: skip
    drivers_link = reverse("transport:drivers")
    for driver in drivers:
        today = local_today(driver.facility, now)
        for name, d in _driver_dates(driver).items():
            label = DRIVER_DOCUMENTS[name]
            if d < today:
                kind, text = "expired", f"lapsed on {d:%Y-%m-%d}: they may not drive until renewed"
            elif rules.expiring({name: d}, today=today):
                kind, text = "expiring", f"{'due' if name == 'mvr_due_on' else 'expires'} on "
                text += f"{d:%Y-%m-%d} ({_in_days(d, today)})"
            else:
                continue
            alerts.append(_expiry_alert(
                driver.facility, f"transport:{kind}:driver:{driver.pk}:{name}:{d.isoformat()}",
                f"Driver {driver}: {label} {text}.", drivers_link, now,
            ))  # fmt: skip
    raised = alerts_raise_many(alerts) if alerts else 0
    return grounded + raised


@transaction.atomic
def _ground_vehicle_by_scan(pk: int, now: datetime) -> int:
    locked = Vehicle.objects.select_for_update().select_related("facility").get(pk=pk)
    return int(_ground_if_lapsed(locked, today=local_today(locked.facility, now), by=None, now=now))
