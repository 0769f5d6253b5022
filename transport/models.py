"""Vehicles, drivers, pre-trip inspections and trips (specs/transport.md; issue 14). Rules that
need no database are in transport/rules.py.

A trip's passengers are admissions: signing one out opens a `clients.Leave` (the rounds board and
the MAR treat the client as off site), signing them back in closes it. Every state change keeps
who and when; nothing is deleted (PROTECT everywhere)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from clients.models import Admission, Leave
from facility.models import Facility


class Vehicle(models.Model):
    """A facility's van or car. `in_service` false means it cannot be dispatched until a
    supervisor clears it; `VehicleStatusEvent` keeps every change with who, when and why."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="vehicles")
    name = models.CharField(max_length=60)
    plate = models.CharField(max_length=15)
    vin = models.CharField(max_length=17, blank=True)
    # Passenger seats, the driver's not counted.
    seats = models.PositiveSmallIntegerField()
    registration_expires = models.DateField()
    insurance_expires = models.DateField()
    service_due_on = models.DateField(null=True, blank=True)
    service_due_odometer = models.PositiveIntegerField(null=True, blank=True)
    # The last odometer reading Haven knows (trip returns and inspections raise it).
    odometer = models.PositiveIntegerField(default=0)
    in_service = models.BooleanField(default=True)
    out_of_service_reason = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)  # retired vehicles stay for the trip log

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "name"], name="transport_vehicle_name"),
            models.CheckConstraint(
                condition=Q(seats__gte=1) & Q(seats__lte=15), name="transport_vehicle_seats"
            ),
            models.CheckConstraint(
                condition=Q(in_service=True) | ~Q(out_of_service_reason=""),
                name="transport_vehicle_out_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.plate})"


class StatusSource(models.TextChoices):
    MANUAL = "manual", "By hand"
    INSPECTION = "inspection", "Pre-trip inspection"
    EXPIRY = "expiry", "Expired document or service"


class VehicleStatusEvent(models.Model):
    """One change of a vehicle's status: out of service (with the reason) or cleared."""

    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="status_events")
    in_service = models.BooleanField()  # the status after this event
    reason = models.CharField(max_length=300)
    source = models.CharField(max_length=12, choices=StatusSource.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )  # null: the nightly expiry scan

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="transport_status_needs_reason"),
        ]

    def __str__(self) -> str:
        state = "cleared" if self.in_service else "out of service"
        return f"{self.vehicle} {state} {self.at:%Y-%m-%d %H:%M}"


class Driver(models.Model):
    """A staff member authorized to drive, with the documents that lapse."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="drivers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    licence_number = models.CharField(max_length=30)
    licence_class = models.CharField(max_length=10)
    licence_state = models.CharField(max_length=2)
    licence_expires = models.DateField()
    mvr_checked_on = models.DateField()  # motor-vehicle-record check, renewed yearly
    training_on = models.DateField()  # van / defensive-driving training
    first_aid_expires = models.DateField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "user"], name="transport_driver_once"),
        ]

    def __str__(self) -> str:
        return self.user.full_name or self.user.get_username()


class Inspection(models.Model):
    """A pre-trip inspection of one vehicle on one local day (spec: once per vehicle per day
    before its first trip). `passed` is false when a critical item failed."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="inspections")
    day = models.DateField()  # the facility's local day
    inspected_at = models.DateTimeField()
    inspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    odometer = models.PositiveIntegerField(null=True, blank=True)
    passed = models.BooleanField()

    class Meta:
        ordering = ["-inspected_at"]
        indexes = [models.Index(fields=["vehicle", "day"], name="transport_insp_day_idx")]

    def __str__(self) -> str:
        return f"Inspection of {self.vehicle} on {self.day}"


class InspectionItem(models.Model):
    """One item of an inspection: OK, or a defect with a note. `item` is a key of
    transport.rules.INSPECTION_ITEMS."""

    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="items")
    item = models.CharField(max_length=30)
    ok = models.BooleanField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "item"], name="transport_item_once"),
            models.CheckConstraint(
                condition=Q(ok=True) | ~Q(note=""), name="transport_defect_needs_note"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item}: {'OK' if self.ok else 'defect'}"


class TripPurpose(models.TextChoices):
    MEDICAL = "medical", "Medical or dental appointment"
    PHARMACY = "pharmacy", "Pharmacy"
    COURT = "court", "Court or legal"
    MEETING = "meeting", "Mutual-help / 12-step meeting"
    OUTING = "outing", "Outing"
    PASS = "pass", "Pass drop-off or pick-up"
    ADMISSION = "admission", "Admission pick-up"
    DISCHARGE = "discharge", "Discharge drop-off"
    OTHER = "other", "Other"


class TripStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    OUT = "out", "Out"
    RETURNED = "returned", "Returned"
    CANCELLED = "cancelled", "Cancelled"


class Trip(models.Model):
    """A trip from plan to return. Departure and return each record an odometer reading and a
    head count; the database keeps odometer in ≥ out and the times in order."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="trips")
    purpose = models.CharField(max_length=12, choices=TripPurpose.choices)
    purpose_note = models.CharField(max_length=200, blank=True)
    planned_departure = models.DateTimeField()
    planned_return = models.DateTimeField()
    driver = models.ForeignKey(Driver, on_delete=models.PROTECT, related_name="trips")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="trips")
    escorts = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    # Where clients are picked up (default: the facility).
    pickup = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=TripStatus.choices, default=TripStatus.PLANNED)
    planned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    planned_at = models.DateTimeField()
    departed_at = models.DateTimeField(null=True, blank=True)
    departed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    odometer_out = models.PositiveIntegerField(null=True, blank=True)
    head_count_out = models.PositiveSmallIntegerField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    odometer_in = models.PositiveIntegerField(null=True, blank=True)
    head_count_in = models.PositiveSmallIntegerField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancel_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-planned_departure"]
        indexes = [
            models.Index(fields=["facility", "status"], name="transport_trip_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_return__gt=F("planned_departure")),
                name="transport_trip_return_after_departure",
            ),
            models.CheckConstraint(
                condition=Q(odometer_in__isnull=True)
                | Q(odometer_out__isnull=True)
                | Q(odometer_in__gte=F("odometer_out")),
                name="transport_trip_odometer_in_not_less",
            ),
            models.CheckConstraint(
                condition=Q(returned_at__isnull=True)
                | (Q(departed_at__isnull=False) & Q(returned_at__gte=F("departed_at"))),
                name="transport_trip_returned_after_departed",
            ),
            models.CheckConstraint(
                condition=~Q(status="out")
                | (Q(departed_at__isnull=False) & Q(odometer_out__isnull=False)),
                name="transport_trip_out_has_departure",
            ),
            models.CheckConstraint(
                condition=~Q(status="returned")
                | (Q(returned_at__isnull=False) & Q(odometer_in__isnull=False)),
                name="transport_trip_returned_has_return",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""),
                name="transport_trip_cancel_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.planned_departure:%Y-%m-%d %H:%M}"

    @property
    def miles(self) -> int | None:
        if self.odometer_in is None or self.odometer_out is None:
            return None
        return self.odometer_in - self.odometer_out


class TripStop(models.Model):
    """A destination of a trip, in order."""

    trip = models.ForeignKey(Trip, on_delete=models.PROTECT, related_name="stops")
    position = models.PositiveSmallIntegerField()
    place = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    arrive_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["trip", "position"], name="transport_stop_position"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.place}"


class PassengerStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    OUT = "out", "Signed out"
    BACK = "back", "Signed back in"
    STAYED = "stayed", "Did not go"  # removed from the trip before departure, with a reason
    # Left at the destination (a pass or a discharge drop-off): out on their own leave, which
    # the clients app follows from the van's return on.
    DROPPED = "dropped", "Dropped off"
    # Discharged while out on the trip: no longer expected back.
    DISCHARGED = "discharged", "Discharged while out"


class TripPassenger(models.Model):
    """A client on a trip. Sign-out opens `leave`; sign-in closes it.

    A client dropped off (`returns_with_van` false: a pass or a discharge drop-off) goes out
    with the van, on a leave expected back at `expected_back_at`, and is not expected at the
    van's return. A client picked up (`pick_up`: a pass pick-up) is already out on an open pass
    leave, linked as `leave` when planned; they are not signed out at departure and signing them
    in at the return closes that leave."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    trip = models.ForeignKey(Trip, on_delete=models.PROTECT, related_name="passengers")
    admission = models.ForeignKey(Admission, on_delete=models.PROTECT, related_name="+")
    # The stop the client is going to (their destination on the manifest).
    stop = models.ForeignKey(
        TripStop, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=PassengerStatus.choices, default=PassengerStatus.PLANNED
    )
    stayed_reason = models.CharField(max_length=200, blank=True)
    returns_with_van = models.BooleanField(default=True)
    # A dropped-off client's expected return (their pass's end); null: the trip's return.
    expected_back_at = models.DateTimeField(null=True, blank=True)
    pick_up = models.BooleanField(default=False)
    # A drop-off's leave may be the same leave a later pick-up closes: a foreign key.
    leave = models.ForeignKey(
        Leave, on_delete=models.PROTECT, null=True, blank=True, related_name="trip_passengers"
    )
    signed_out_at = models.DateTimeField(null=True, blank=True)
    signed_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_in_at = models.DateTimeField(null=True, blank=True)
    signed_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["trip", "admission"], name="transport_passenger_once"),
            models.CheckConstraint(
                condition=~Q(status="out")
                | (Q(leave__isnull=False) & Q(signed_out_at__isnull=False)),
                name="transport_passenger_out_has_leave",
            ),
            models.CheckConstraint(
                condition=~Q(status="back") | Q(signed_in_at__isnull=False),
                name="transport_passenger_back_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="stayed") | ~Q(stayed_reason=""),
                name="transport_passenger_stayed_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="dropped") | Q(leave__isnull=False),
                name="transport_passenger_dropped_has_leave",
            ),
            models.CheckConstraint(
                condition=~Q(pick_up=True) | Q(returns_with_van=True),
                name="transport_passenger_pick_up_returns",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} on {self.trip}"
