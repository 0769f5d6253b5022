"""Trip timing rules (specs/transport.md). Pure Python, no Django."""

from datetime import UTC, date, datetime, timedelta

# A trip not back this long after its planned return alerts the supervisor; at the second
# threshold, critically.
OVERDUE_AFTER = timedelta(minutes=15)
CRITICAL_AFTER = timedelta(minutes=60)


# A planned trip past its planned return that nobody signed out: departure is refused after
# the planned return (services.trips), so the way out is new times, a back-dated sign-out or a
# cancellation. It stays on the board and on "My work" until one of them (nothing drops off).
NEVER_LEFT_ACTION = "sign it out, change its times or cancel it"


def never_left(planned_return: datetime, now: datetime) -> bool:
    """A planned (not departed) trip whose planned return has come: it never left."""
    return planned_return <= now


def trip_status(planned_return: datetime, now: datetime, *, returned_at=None) -> str:
    """ "returned" once back; otherwise "critical" from 60 minutes after the planned return,
    "overdue" from 15 minutes after, "out" before that. Minutes are real elapsed minutes: both
    instants are taken to UTC first (Python compares two times of one zone by the wall clock,
    which is an hour off across a DST change)."""
    if returned_at is not None:
        return "returned"
    for name, value in (("planned_return", planned_return), ("now", now)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be an aware datetime")
    late = now.astimezone(UTC) - planned_return.astimezone(UTC)
    if late >= CRITICAL_AFTER:
        return "critical"
    if late >= OVERDUE_AFTER:
        return "overdue"
    return "out"


# ---------------------------------------------------------------- fleet documents

# Documents within this many days of expiry alert the supervisor (*default*).
EXPIRY_WARNING_DAYS = 30
# A motor-vehicle-record check is renewed yearly (*default*).
MVR_VALID_DAYS = 365


def vehicle_blockers(
    *,
    registration_expires: date,
    insurance_expires: date,
    service_due_on: date | None,
    service_due_odometer: int | None,
    odometer: int,
    today: date,
) -> list[str]:
    """Why this vehicle may not be dispatched today, as sentences (empty: nothing expired). A
    document is valid through its expiry date."""
    reasons = []
    if registration_expires < today:
        reasons.append(f"Registration expired on {registration_expires:%Y-%m-%d}.")
    if insurance_expires < today:
        reasons.append(f"Insurance expired on {insurance_expires:%Y-%m-%d}.")
    if service_due_on is not None and service_due_on < today:
        reasons.append(f"Service overdue since {service_due_on:%Y-%m-%d}.")
    if service_due_odometer is not None and odometer >= service_due_odometer:
        reasons.append(f"Service overdue: due at {service_due_odometer:,} miles, at {odometer:,}.")
    return reasons


def driver_blockers(
    *,
    licence_expires: date,
    mvr_checked_on: date,
    first_aid_expires: date,
    today: date,
) -> list[str]:
    """Why this person may not be assigned as a driver today (empty: nothing expired)."""
    reasons = []
    if licence_expires < today:
        reasons.append(f"Driver's licence expired on {licence_expires:%Y-%m-%d}.")
    mvr_due = mvr_checked_on + timedelta(days=MVR_VALID_DAYS)
    if mvr_due < today:
        reasons.append(f"Motor-vehicle-record check lapsed on {mvr_due:%Y-%m-%d} (yearly).")
    if first_aid_expires < today:
        reasons.append(f"First Aid/CPR expired on {first_aid_expires:%Y-%m-%d}.")
    return reasons


def expiring(dates: dict[str, date | None], *, today: date) -> list[tuple[str, date]]:
    """The named dates falling within the warning window: today up to EXPIRY_WARNING_DAYS days
    ahead, inclusive. Already-expired dates are blockers, not warnings."""
    horizon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    return [(name, d) for name, d in dates.items() if d is not None and today <= d <= horizon]


def mvr_due_on(mvr_checked_on: date) -> date:
    return mvr_checked_on + timedelta(days=MVR_VALID_DAYS)


# ---------------------------------------------------------------- pre-trip inspection

# (key, label, critical). A failed critical item takes the vehicle out of service.
INSPECTION_ITEMS: tuple[tuple[str, str, bool], ...] = (
    ("tires", "Tires", True),
    ("lights", "Lights and signals", True),
    ("brakes", "Brakes", True),
    ("mirrors", "Mirrors", False),
    ("wipers", "Wipers", False),
    ("horn", "Horn", False),
    ("seat_belts", "Seat belts", True),
    ("doors", "Doors and locks", False),
    ("fuel", "Fuel level", False),
    ("first_aid_kit", "First-aid kit", True),
    ("extinguisher", "Fire extinguisher", False),
    ("naloxone", "Naloxone kit", True),
    ("triangle", "Emergency triangle", False),
    ("phone", "Phone charged", False),
    ("interior", "Interior clean", False),
)
CRITICAL_ITEMS = frozenset(key for key, _, critical in INSPECTION_ITEMS if critical)
ITEM_LABELS = {key: label for key, label, _ in INSPECTION_ITEMS}


def critical_defects(results: dict[str, bool]) -> list[str]:
    """The critical items marked as a defect (False), in checklist order."""
    return [key for key, _, critical in INSPECTION_ITEMS if critical and results.get(key) is False]


# ---------------------------------------------------------------- staffing and seats

# At least one staff member per this many clients, the driver counting (*default*).
CLIENTS_PER_STAFF = 6


def staff_needed(clients: int) -> int:
    """Staff a trip with this many clients needs, the driver included (at least the driver)."""
    return max(1, -(-clients // CLIENTS_PER_STAFF))


def seating_problems(*, clients: int, staff: int, seats: int) -> list[str]:
    """What is wrong with this load for a vehicle of `seats` passenger seats (the driver's seat
    not counted; the driver is one of `staff`)."""
    problems = []
    riders = clients + staff - 1
    if riders > seats:
        problems.append(
            f"{clients} client(s) and {staff - 1} escort(s) need {riders} seats; "
            f"the vehicle has {seats}."
        )
    needed = staff_needed(clients)
    if staff < needed:
        problems.append(
            f"{clients} clients need at least {needed} staff (one per {CLIENTS_PER_STAFF}, "
            f"the driver counting); the trip has {staff}."
        )
    return problems
