"""Trips (issue 14 item 3; specs/transport.md "Trips"): what is checked when a trip is saved,
departure (inspection, odometer, each client signed out on a leave), return (odometer in, each
client signed in, the leave closed; a client not seen keeps an open leave), head counts that do
not match open one incident draft, and two departures racing."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections
from django.utils import timezone

from clients.models import Leave, OutingRestriction
from clients.services import leave_start
from observations.models import Incident
from tests.conftest import admit, make_user
from tests.transport.fleet_helpers import local_today, make_driver, make_vehicle, passed_inspection
from transport.models import Inspection, PassengerStatus, Trip, TripStatus, Vehicle
from transport.services.trips import (
    passenger_sign_in,
    passenger_stay,
    trip_cancel,
    trip_depart,
    trip_plan,
    trip_return,
    trip_update,
)

# ---------------------------------------------------------------- helpers (shared by the
# view and overdue tests)


def clients(cast, facility, count: int, start: int = 1, **fields) -> list:
    return [admit(facility, cast["nurse"], n=n, **fields) for n in range(start, start + count)]


def fleet(cast, facility, *, seats=7, driver_user=None, **vehicle):
    """A van with today's inspection passed and the technician as its driver."""
    van = make_vehicle(facility, seats=seats, **vehicle)
    driver = make_driver(facility, driver_user or cast["technician"])
    passed_inspection(van, cast["technician"])
    return van, driver


def plan(cast, facility, passengers, *, van=None, driver=None, escorts=(), by="nurse", **kw):
    """A trip leaving now for two hours to the clinic, each client to the one stop."""
    if van is None:
        van, driver = fleet(cast, facility)
    now = timezone.now()
    fields = {
        "purpose": "medical",
        "planned_departure": now,
        "planned_return": now + timedelta(hours=2),
        "stops": [("Eastside Clinic", "12 Elm St")],
    }
    fields.update(kw)
    return trip_plan(
        actor=cast[by], facility=facility, driver=driver, vehicle=van, escorts=list(escorts),
        passengers=[(a, 1) for a in passengers], **fields,
    )  # fmt: skip


def depart(cast, trip, admissions=None, *, head_count=None, odometer=None, by="technician"):
    if admissions is None:
        admissions = [p.admission for p in trip.passengers.filter(status="planned")]
    return trip_depart(
        actor=cast[by], trip=trip, odometer_out=odometer or trip.vehicle.odometer,
        head_count=len(admissions) if head_count is None else head_count,
        signed_out=[a.pk for a in admissions],
    )  # fmt: skip


def back(cast, trip, admissions=None, *, head_count=None, miles=25, by="technician"):
    trip.refresh_from_db()
    if admissions is None:
        admissions = [p.admission for p in trip.passengers.filter(status="out")]
    return trip_return(
        actor=cast[by], trip=trip, odometer_in=trip.odometer_out + miles,
        head_count=len(admissions) if head_count is None else head_count,
        signed_in=[a.pk for a in admissions],
    )  # fmt: skip


def refusal(exc_info) -> dict:
    return exc_info.value.message_dict


# ---------------------------------------------------------------- the journey


@pytest.mark.django_db
def test_three_clients_go_out_and_back_and_each_leave_opens_and_closes(cast, facility):
    three = clients(cast, facility, 3)
    trip = plan(cast, facility, three)
    assert trip.status == "planned" and trip.passengers.count() == 3
    outcome = depart(cast, trip, odometer=10_012)
    trip.refresh_from_db()
    assert (trip.status, trip.odometer_out, trip.head_count_out) == ("out", 10_012, 3)
    assert outcome.warnings == [] and outcome.incident is None
    # Rounds and the MAR read leaves: each client has one open, as an appointment, to the stop,
    # expected back at the planned return.
    leaves = Leave.objects.filter(admission__in=three)
    assert leaves.count() == 3 and leaves.open().count() == 3
    for leave in leaves:
        assert (leave.kind, leave.destination, leave.expected_back_at) == (
            "appointment",
            "Eastside Clinic",
            trip.planned_return,
        )
    assert {p.leave_id for p in trip.passengers.all()} == set(leaves.values_list("pk", flat=True))
    assert Vehicle.objects.get(pk=trip.vehicle_id).odometer == 10_012

    back(cast, trip, miles=31)
    trip.refresh_from_db()
    assert (trip.status, trip.odometer_in, trip.miles, trip.head_count_in) == (
        "returned",
        10_043,
        31,
        3,
    )
    assert Leave.objects.filter(admission__in=three).open().count() == 0
    assert set(trip.passengers.values_list("status", flat=True)) == {"back"}
    assert Vehicle.objects.get(pk=trip.vehicle_id).odometer == 10_043
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_an_outing_opens_trip_leaves_and_a_court_date_an_appointment(cast, facility):
    one, two = clients(cast, facility, 2)
    van, driver = fleet(cast, facility)
    outing = plan(cast, facility, [one], van=van, driver=driver, purpose="outing")
    depart(cast, outing)
    assert Leave.objects.get(admission=one).kind == "trip"
    other_van = make_vehicle(facility)
    passed_inspection(other_van, cast["nurse"])
    court = plan(
        cast, facility, [two], van=other_van, driver=make_driver(facility, cast["supervisor"]),
        purpose="court",
    )  # fmt: skip
    depart(cast, court, by="supervisor")
    assert Leave.objects.get(admission=two).kind == "appointment"


# ---------------------------------------------------------------- checks when saved


@pytest.mark.django_db
def test_six_clients_with_the_driver_alone_is_enough_staff(cast, facility):
    trip = plan(cast, facility, clients(cast, facility, 6))
    assert trip.passengers.count() == 6


@pytest.mark.django_db
def test_seven_clients_need_a_second_staff_member(cast, facility):
    seven = clients(cast, facility, 7)
    van, driver = fleet(cast, facility, seats=8)
    with pytest.raises(ValidationError) as refused:
        plan(cast, facility, seven, van=van, driver=driver)
    assert refusal(refused)["passengers"] == [
        "7 clients need at least 2 staff (one per 6, the driver counting); the trip has 1."
    ]
    trip = plan(cast, facility, seven, van=van, driver=driver, escorts=[cast["nurse"]])
    assert list(trip.escorts.all()) == [cast["nurse"]]


@pytest.mark.django_db
def test_clients_and_escorts_never_exceed_the_seats(cast, facility):
    four = clients(cast, facility, 4)
    van, driver = fleet(cast, facility, seats=4)
    with pytest.raises(ValidationError) as refused:
        plan(cast, facility, four, van=van, driver=driver, escorts=[cast["nurse"]])
    assert refusal(refused)["passengers"] == [
        "4 client(s) and 1 escort(s) need 5 seats; the vehicle has 4."
    ]
    assert plan(cast, facility, four, van=van, driver=driver).passengers.count() == 4


@pytest.mark.django_db
def test_a_driver_with_an_expired_licence_cannot_be_assigned(cast, facility):
    van = make_vehicle(facility)
    lapsed = make_driver(
        facility, cast["technician"], licence_expires=local_today(facility) - timedelta(days=1)
    )
    with pytest.raises(ValidationError) as refused:
        plan(cast, facility, clients(cast, facility, 1), van=van, driver=lapsed)
    [message] = refusal(refused)["driver"]
    assert "Driver's licence expired on" in message and "Technician" in message
    assert not Trip.objects.exists()


@pytest.mark.django_db
def test_a_vehicle_out_of_service_or_with_lapsed_insurance_is_refused_with_the_reason(
    cast, facility
):
    driver = make_driver(facility, cast["technician"])
    grounded = make_vehicle(facility, in_service=False, out_of_service_reason="Brakes failed")
    with pytest.raises(ValidationError) as refused:
        plan(cast, facility, [], van=grounded, driver=driver)
    assert refusal(refused)["vehicle"] == ["Van 1: Out of service: Brakes failed"]
    # Insurance valid today but lapsed on the day of the trip.
    today = local_today(facility)
    lapsing = make_vehicle(facility, insurance_expires=today + timedelta(days=1))
    soon = timezone.now() + timedelta(days=3)
    with pytest.raises(ValidationError) as refused:
        plan(cast, facility, [], van=lapsing, driver=driver, planned_departure=soon,
             planned_return=soon + timedelta(hours=1))  # fmt: skip
    assert "Insurance expired on" in refusal(refused)["vehicle"][0]


@pytest.mark.django_db
def test_a_client_restricted_from_outings_is_named_with_the_reason(cast, facility):
    robin = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    OutingRestriction.objects.create(
        admission=robin, reason="Elopement risk after a family call", set_at=timezone.now(),
        set_by=cast["nurse"],
    )  # fmt: skip
    van, driver = fleet(cast, facility)
    with pytest.raises(ValidationError) as refused:
        plan(cast, facility, [robin], van=van, driver=driver, purpose="outing")
    assert refusal(refused)["passengers"] == [
        "Robin Ashdown may not go on outings: Elopement risk after a family call"
    ]
    # Lifted: the trip is planned.
    OutingRestriction.objects.filter(admission=robin).update(
        lifted_at=timezone.now(), lifted_by=cast["nurse"], lift_reason="Reviewed"
    )
    trip = plan(cast, facility, [robin], van=van, driver=driver, purpose="outing")
    assert trip.passengers.count() == 1


@pytest.mark.django_db
def test_a_client_off_site_discharged_or_elsewhere_is_not_in_the_house(
    cast, facility, other_admission
):
    away, here = clients(cast, facility, 2)
    now = timezone.now()
    leave_start(
        actor=cast["nurse"], admission=away, kind="pass", left_at=now,
        expected_back_at=now + timedelta(hours=4),
    )  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        plan(cast, facility, [away, here, other_admission])
    assert refusal(refused)["passengers"] == [
        f"{other_admission.client.display_name}: not a client here.",
        f"{away.client.display_name} is off site (on leave).",
    ]


@pytest.mark.django_db
def test_nobody_and_no_van_is_on_two_trips_at_once(cast, facility):
    one, two = clients(cast, facility, 2)
    van, driver = fleet(cast, facility)
    first = plan(cast, facility, [one], van=van, driver=driver, escorts=[cast["nurse"]])
    with pytest.raises(ValidationError) as refused:
        plan(cast, facility, [one, two], van=van, driver=driver, escorts=[cast["nurse"]])
    errors = refusal(refused)
    assert errors["vehicle"] == ["Van 1 is on another trip at that time."]
    assert errors["driver"] == ["Technician is on another trip at that time."]
    assert errors["escorts"] == ["Nurse is on another trip at that time."]
    assert errors["passengers"] == [f"{one.client.display_name} is on another trip at that time."]
    # After the first trip's planned return, all are free again.
    later = first.planned_return + timedelta(minutes=1)
    trip = plan(cast, facility, [one, two], van=van, driver=driver, planned_departure=later,
                planned_return=later + timedelta(hours=1))  # fmt: skip
    assert trip.passengers.count() == 2
    # Cancelled, the first no longer holds anyone.
    trip_cancel(actor=cast["nurse"], trip=first, reason="Appointment moved")
    assert plan(cast, facility, [one], van=van, driver=driver).status == "planned"


@pytest.mark.django_db
def test_every_problem_of_a_plan_is_said_at_once(cast, facility):
    van, driver = fleet(cast, facility)
    now = timezone.now()
    with pytest.raises(ValidationError) as refused:
        trip_plan(
            actor=cast["nurse"], facility=facility, purpose="other", purpose_note="",
            planned_departure=now + timedelta(days=8), planned_return=now + timedelta(days=7),
            driver=driver, vehicle=van, escorts=[cast["technician"]], stops=[], passengers=[],
        )  # fmt: skip
    errors = refusal(refused)
    assert errors["purpose_note"] == ["Purpose note: required."]
    assert errors["planned_return"] == ["Planned return: must be after the planned departure."]
    assert errors["planned_departure"] == ["Planned departure: at most 7 days ahead."]
    assert errors["escorts"] == ["Escorts: Technician is the driver."]
    assert errors["stops"] == ["Destinations: add at least one."]
    assert not Trip.objects.exists()


@pytest.mark.django_db
def test_an_escort_must_be_active_staff_of_this_facility(cast, facility):
    van, driver = fleet(cast, facility)
    gone = make_user("gone", "technician", facility, mfa=False)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    for escort in (cast["other_nurse"], gone):
        with pytest.raises(ValidationError) as refused:
            plan(cast, facility, [], van=van, driver=driver, escorts=[escort])
        assert refusal(refused)["escorts"] == [
            "Escorts: choose active floor staff of this facility."
        ]


@pytest.mark.django_db
def test_planning_is_for_the_floor_and_only_at_ones_own_facility(cast, facility, other_facility):
    van, driver = fleet(cast, facility)
    with pytest.raises(PermissionDenied):
        plan(cast, facility, [], van=van, driver=driver, by="clinician")
    with pytest.raises(PermissionDenied):
        plan(cast, facility, [], van=van, driver=driver, by="other_nurse")
    # Another facility's van and driver are not planned on this facility's trip.
    other_van = make_vehicle(other_facility)
    other_driver = make_driver(other_facility, cast["other_technician"])
    with pytest.raises(ValidationError) as refused:
        plan(cast, facility, [], van=other_van, driver=other_driver)
    assert refusal(refused)["vehicle"] == ["Vehicle: choose a vehicle of this facility."]
    assert refusal(refused)["driver"] == ["Driver: choose a driver of this facility."]


@pytest.mark.django_db
def test_a_planned_trip_is_changed_and_then_not_once_it_has_left(cast, facility):
    one, two, three = clients(cast, facility, 3)
    van, driver = fleet(cast, facility)
    trip = plan(cast, facility, [one, two], van=van, driver=driver,
                stops=[("Pharmacy", ""), ("Clinic", "")])  # fmt: skip
    now = timezone.now()
    trip_update(
        actor=cast["nurse"], trip=trip, purpose="pharmacy", planned_departure=now,
        planned_return=now + timedelta(hours=1), driver=driver, vehicle=van, escorts=[],
        stops=[("Main St Pharmacy", "3 Main St")], passengers=[(two, 1), (three, 1)],
    )  # fmt: skip
    trip.refresh_from_db()
    assert trip.purpose == "pharmacy"
    assert list(trip.stops.values_list("place", flat=True)) == ["Main St Pharmacy"]
    # One taken off the plan stays on the trip as not going, with who took them off.
    assert {(p.admission_id, p.status, p.stayed_reason) for p in trip.passengers.all()} == {
        (one.pk, "stayed", f"Removed from the plan by {cast['nurse'].full_name}"),
        (two.pk, "planned", ""),
        (three.pk, "planned", ""),
    }
    depart(cast, trip)
    with pytest.raises(ValidationError):
        trip_update(
            actor=cast["nurse"], trip=trip, purpose="pharmacy", planned_departure=now,
            planned_return=now + timedelta(hours=1), driver=driver, vehicle=van,
            stops=[("X", "")], passengers=[],
        )  # fmt: skip
    with pytest.raises(ValidationError):
        trip_cancel(actor=cast["nurse"], trip=trip, reason="Too late")


# ---------------------------------------------------------------- departure


@pytest.mark.django_db
def test_no_departure_without_todays_passed_inspection(cast, facility):
    van = make_vehicle(facility)
    driver = make_driver(facility, cast["technician"])
    trip = plan(cast, facility, clients(cast, facility, 1), van=van, driver=driver)
    with pytest.raises(ValidationError) as refused:
        depart(cast, trip)
    assert refusal(refused)["vehicle"] == [
        "Van 1 has no pre-trip inspection today: inspect it before it leaves."
    ]
    # Yesterday's does not count.
    passed_inspection(van, cast["technician"], day=local_today(facility) - timedelta(days=1))
    with pytest.raises(ValidationError):
        depart(cast, trip)
    Inspection.objects.create(
        vehicle=van, day=local_today(facility), inspected_at=timezone.now(),
        inspected_by=cast["technician"], passed=False,
    )  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        depart(cast, trip)
    assert refusal(refused)["vehicle"] == ["Van 1 failed today's pre-trip inspection."]
    assert not Leave.objects.exists()
    passed_inspection(van, cast["technician"])
    depart(cast, trip)
    assert Trip.objects.get(pk=trip.pk).status == "out"


@pytest.mark.django_db
def test_the_odometer_out_cannot_read_less_than_the_last_known(cast, facility):
    trip = plan(cast, facility, clients(cast, facility, 1))
    with pytest.raises(ValidationError) as refused:
        depart(cast, trip, odometer=9_999)
    assert refusal(refused)["odometer_out"] == [
        "Odometer out: Van 1 last read 10,000; the reading cannot be less."
    ]


@pytest.mark.django_db
def test_a_planned_client_neither_signed_out_nor_marked_not_going_stops_the_departure(
    cast, facility
):
    robin = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    sky = admit(facility, cast["nurse"], first="Sky", last="Moreno")
    trip = plan(cast, facility, [robin, sky])
    with pytest.raises(ValidationError) as refused:
        depart(cast, trip, [robin])
    assert refusal(refused)["signed_out"] == [
        "Not signed out: Sky Moreno. Sign each client out, or mark them as not going (with the "
        "reason) before the trip leaves."
    ]
    assert not Leave.objects.exists()
    sky_seat = trip.passengers.get(admission=sky)
    passenger_stay(actor=cast["technician"], passenger=sky_seat, reason="Feeling unwell")
    depart(cast, trip, [robin])
    sky_seat.refresh_from_db()
    assert (sky_seat.status, sky_seat.stayed_reason) == ("stayed", "Feeling unwell")
    assert list(Leave.objects.values_list("admission", flat=True)) == [robin.pk]


@pytest.mark.django_db
def test_a_restriction_set_after_planning_stops_that_clients_sign_out(cast, facility):
    robin, sky = (
        admit(facility, cast["nurse"], first="Robin", last="Ashdown", n=1),
        admit(facility, cast["nurse"], first="Sky", last="Moreno", n=2),
    )
    van, driver = fleet(cast, facility)
    trip = plan(cast, facility, [robin], van=van, driver=driver, purpose="outing")
    later = timezone.now() + timedelta(hours=3)
    clinic = plan(
        cast, facility, [sky], van=van, driver=driver, planned_departure=later,
        planned_return=later + timedelta(hours=1),
    )  # fmt: skip
    for admission in (robin, sky):
        OutingRestriction.objects.create(
            admission=admission, reason="Agitated this morning", set_at=timezone.now(),
            set_by=cast["clinician"],
        )  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        depart(cast, trip)
    assert refusal(refused)["signed_out"] == [
        "Robin Ashdown may not go on outings: Agitated this morning"
    ]
    # To the clinic a restricted client goes, but not with the driver alone.
    with pytest.raises(ValidationError) as refused:
        depart(cast, clinic)
    assert refusal(refused)["signed_out"] == [
        "Sky Moreno is restricted from outings (Agitated this morning): an escort besides the "
        "driver must go; change the trip to add one."
    ]


@pytest.mark.django_db
def test_a_head_count_that_does_not_match_opens_exactly_one_draft_and_still_departs(cast, facility):
    two = clients(cast, facility, 2)
    trip = plan(cast, facility, two)
    outcome = depart(cast, trip, head_count=3)
    trip.refresh_from_db()
    assert (trip.status, trip.head_count_out) == ("out", 3)
    assert outcome.warnings == [
        "Head count 3, but 2 client(s) signed out: the departure is recorded as counted and an "
        "incident report draft is open for the supervisor."
    ]
    incident = Incident.objects.get()
    assert (incident.source, incident.source_ref, incident.status) == (
        "trip",
        f"trip-out:{trip.public_id}",
        "draft",
    )
    assert outcome.incident == incident.public_id
    assert "head count of 3; 2 client(s) were signed out" in incident.description
    assert incident.reported_by == cast["technician"]


@pytest.mark.django_db(transaction=True)
def test_two_departures_of_one_trip_at_once_record_one(cast, facility):
    trip = plan(cast, facility, clients(cast, facility, 2))
    barrier = threading.Barrier(2)
    results = []

    def leave(user):
        try:
            barrier.wait()
            try:
                trip_depart(
                    actor=user, trip=trip, odometer_out=10_010, head_count=2,
                    signed_out=[p.admission_id for p in trip.passengers.all()],
                )  # fmt: skip
                results.append("departed")
            except ValidationError as exc:
                results.append(exc.messages)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=leave, args=(cast[r],)) for r in ("technician", "nurse")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results, key=str) == [["This trip has already left."], "departed"]
    assert Leave.objects.count() == 2


# ---------------------------------------------------------------- return


@pytest.mark.django_db
def test_the_odometer_in_cannot_read_less_than_out(cast, facility):
    trip = plan(cast, facility, clients(cast, facility, 1))
    depart(cast, trip, odometer=10_100)
    with pytest.raises(ValidationError) as refused:
        back(cast, trip, miles=-1)
    assert refusal(refused)["odometer_in"] == [
        "Odometer in: cannot be less than the odometer out (10,100)."
    ]
    assert Trip.objects.get(pk=trip.pk).status == "out"
    assert Leave.objects.open().count() == 1


@pytest.mark.django_db
def test_a_client_not_signed_in_keeps_an_open_leave_and_one_draft_opens(cast, facility):
    robin = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    sky = admit(facility, cast["nurse"], first="Sky", last="Moreno")
    trip = plan(cast, facility, [robin, sky])
    depart(cast, trip)
    outcome = back(cast, trip, [robin], head_count=1)
    trip.refresh_from_db()
    assert trip.status == "returned"
    # Never close a leave for a client not seen.
    assert Leave.objects.get(admission=robin).returned_at is not None
    assert Leave.objects.get(admission=sky).returned_at is None
    assert trip.passengers.get(admission=sky).status == PassengerStatus.OUT
    assert outcome.warnings[0] == (
        "Not signed in: Sky Moreno. Their leave stays open until they are signed in; find them now."
    )
    incident = Incident.objects.get()
    assert (incident.source_ref, incident.incident_type) == (
        f"trip-in:{trip.public_id}",
        "elopement",
    )
    assert "not back: Sky Moreno" in incident.description
    # Sky walks in later: signed in, the leave closed.
    passenger_sign_in(actor=cast["nurse"], passenger=trip.passengers.get(admission=sky))
    assert Leave.objects.get(admission=sky).returned_at is not None
    assert trip.passengers.get(admission=sky).status == PassengerStatus.BACK
    assert Incident.objects.count() == 1


@pytest.mark.django_db
def test_a_return_head_count_that_does_not_match_opens_one_draft(cast, facility):
    two = clients(cast, facility, 2)
    trip = plan(cast, facility, two)
    depart(cast, trip)
    outcome = back(cast, trip, head_count=3)
    assert "Head count 3, but 2 client(s) signed in." in outcome.warnings
    incident = Incident.objects.get()
    assert (incident.source_ref, incident.incident_type) == (f"trip-in:{trip.public_id}", "other")
    assert Leave.objects.open().count() == 0


@pytest.mark.django_db
def test_a_return_is_recorded_once_and_a_cancelled_trip_never_leaves(cast, facility):
    trip = plan(cast, facility, clients(cast, facility, 1))
    depart(cast, trip)
    back(cast, trip)
    with pytest.raises(ValidationError, match="already recorded"):
        back(cast, trip)
    van, driver = fleet(cast, facility, driver_user=cast["supervisor"])
    other = plan(cast, facility, [], van=van, driver=driver)
    with pytest.raises(ValidationError) as refused:
        trip_cancel(actor=cast["nurse"], trip=other, reason="")
    assert refusal(refused)["reason"] == ["Reason: required."]
    trip_cancel(actor=cast["nurse"], trip=other, reason="Clinic closed")
    other.refresh_from_db()
    assert (other.status, other.cancel_reason, other.cancelled_by) == (
        TripStatus.CANCELLED,
        "Clinic closed",
        cast["nurse"],
    )
    with pytest.raises(ValidationError, match="cancelled"):
        depart(cast, other, [], by="supervisor")
