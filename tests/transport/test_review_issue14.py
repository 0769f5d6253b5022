"""Review of issue 14 (transport): each test showed a defect of the reviewed commit (0baca23);
the spec line each broke is in its docstring. Adapted to the lead's decisions: a restricted
client goes to an appointment only with an escort besides the driver; a pass drop-off and a
pick-up are marked on the plan (services.trips DROP, PICK_UP)."""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clients.models import Leave, OutingRestriction
from clients.services import leave_start
from facility.pdf import part2_statement_1
from observations.models import Incident
from tests.transport.fleet_helpers import make_driver, make_vehicle, passed_inspection
from tests.transport.test_trips import back, clients, depart, fleet, plan
from transport.models import TripPassenger
from transport.services.trips import DROP, PICK_UP, trip_plan, trip_update

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 6, 10, 9, 0, tzinfo=NY)


def _collapse(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------- Part 2 notice on CSV


@pytest.mark.django_db
def test_trip_log_csv_starts_with_statement_1_in_one_cell_then_an_empty_row(client, cast, facility):
    """privacy.md: "A CSV export starts with one cell holding statement 1, then an empty row,
    then the header." The transport CSV starts with statement 2, then only the first paragraph
    of statement 1 (items (i)-(iii) and the closing sentence missing), then a title row."""
    client.force_login(cast["supervisor"])
    response = client.get(reverse("transport:trip_log"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert _collapse(rows[0][0]) == _collapse(part2_statement_1())
    assert rows[1] == []


# ---------------------------------------------------------------- nobody dropped silently


@pytest.mark.django_db
def test_changing_a_plan_does_not_drop_a_planned_client_without_a_reason(cast, facility):
    """Issue 14 / trips.py docstring: "Nobody is dropped from a trip silently: a client who does
    not go is marked so, with a reason". DESIGN: "no deletes ever". trip_update hard-deletes a
    planned passenger left off the new list: no row, no reason, no who."""
    one, two = clients(cast, facility, 2)
    van, driver = fleet(cast, facility)
    trip = plan(cast, facility, [one, two], van=van, driver=driver)
    trip_update(
        actor=cast["nurse"], trip=trip, purpose="medical",
        planned_departure=trip.planned_departure, planned_return=trip.planned_return,
        driver=driver, vehicle=van, stops=[("Eastside Clinic", "12 Elm St")],
        passengers=[(one, 1)],
    )  # fmt: skip
    row = TripPassenger.objects.filter(trip=trip, admission=two).first()
    assert row is not None, "the planned client's row was deleted"
    assert row.status == "stayed" and row.stayed_reason


# ---------------------------------------------------------------- staff ratio at departure


@pytest.mark.django_db
def test_an_escort_still_out_on_a_late_trip_cannot_count_for_a_second_departure(cast, facility):
    """transport.md: "at least one staff member per 6 clients, the driver counting". Departure
    re-checks the driver and the vehicle against trips still out, not the escorts: trip B leaves
    with 7 clients counting an escort who is still out (late) on trip A."""
    escort = cast["nurse"]
    with time_machine.travel(T0, tick=False):
        a_clients = clients(cast, facility, 1)
        b_clients = clients(cast, facility, 7, start=2)
        van_a, driver_a = fleet(cast, facility, seats=10)
        van_b = make_vehicle(facility, seats=10)
        passed_inspection(van_b, cast["technician"])
        driver_b = make_driver(facility, cast["supervisor"])
        trip_a = plan(
            cast, facility, a_clients, van=van_a, driver=driver_a, escorts=[escort],
            planned_departure=T0, planned_return=T0 + timedelta(hours=1),
        )  # fmt: skip
        trip_b = plan(
            cast, facility, b_clients, van=van_b, driver=driver_b, escorts=[escort],
            planned_departure=T0 + timedelta(hours=1), planned_return=T0 + timedelta(hours=3),
        )  # fmt: skip
        depart(cast, trip_a)
    # Trip A is 10 minutes late and still out, its escort with it.
    with (
        time_machine.travel(T0 + timedelta(minutes=70), tick=False),
        pytest.raises(ValidationError) as refused,
    ):
        depart(cast, trip_b)
    assert refused.value.message_dict["escorts"] == [
        f"Escort {escort.full_name} is out on another trip."
    ]


# ---------------------------------------------------------------- the board


@pytest.mark.django_db
def test_the_board_keeps_showing_a_trip_whose_client_was_never_signed_back_in(
    client, cast, facility
):
    """Issue 14 item 4: "The trips board shows which trips are out, which are late, and who is on
    each." A trip recorded back with a client missing shows "(not back)" on its return day only;
    the next day the client vanishes from the board although still out on the trip's leave."""
    with time_machine.travel(T0, tick=False):
        one, two = clients(cast, facility, 2)
        trip = plan(cast, facility, [one, two])
        depart(cast, trip)
        back(cast, trip, [one])
    assert Leave.objects.filter(admission=two).open().exists()
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        client.force_login(cast["nurse"])
        html = client.get(reverse("transport:board")).content.decode()
    assert two.client.display_name in html


# ---------------------------------------------------------------- restriction and purposes


@pytest.mark.django_db
def test_a_no_outings_restriction_does_not_keep_a_client_from_a_medical_appointment(cast, facility):
    """Issue 14: "not on a restriction that forbids *outings*"; clients.services says
    appointments and hospital visits are never blocked by it. Transport blocks a restricted
    client from every purpose: medical/dental appointment, pharmacy, court."""
    (one,) = clients(cast, facility, 1)
    OutingRestriction.objects.create(
        admission=one, reason="Elopement risk", set_at=timezone.now(), set_by=cast["nurse"]
    )
    van, driver = fleet(cast, facility)
    # Decision 11: with an escort besides the driver, and only then.
    with pytest.raises(ValidationError) as alone:
        plan(cast, facility, [one], van=van, driver=driver, purpose="medical")
    assert "an escort besides the driver" in " ".join(alone.value.message_dict["escorts"])
    trip = plan(
        cast, facility, [one], van=van, driver=driver, escorts=[cast["nurse"]], purpose="medical"
    )
    assert trip.passengers.count() == 1
    # An outing is still refused, escort or not.
    with pytest.raises(ValidationError):
        plan(
            cast, facility, [one], van=van, driver=driver, escorts=[cast["supervisor"]],
            purpose="outing", planned_departure=timezone.now() + timedelta(hours=3),
            planned_return=timezone.now() + timedelta(hours=4),
        )  # fmt: skip


def _pass_trip(cast, facility, rows):
    van, driver = fleet(cast, facility)
    now = timezone.now()
    return trip_plan(
        actor=cast["nurse"], facility=facility, purpose="pass", planned_departure=now,
        planned_return=now + timedelta(hours=1), driver=driver, vehicle=van,
        stops=[("Family home", "")], passengers=rows,
    )  # fmt: skip


@pytest.mark.django_db
def test_a_pass_pick_up_can_carry_the_client_who_is_on_the_pass(cast, facility):
    """transport.md purposes include "pass drop-off or pick-up": a pick-up carries a client who
    is on a pass (an open leave). Planning refuses every client on leave, so the pick-up can
    only be planned with the client left off the trip and the manifest."""
    (one,) = clients(cast, facility, 1)
    now = timezone.now()
    leave_start(
        actor=cast["nurse"], admission=one, kind="pass", left_at=now - timedelta(minutes=1),
        expected_back_at=now + timedelta(hours=3),
    )  # fmt: skip
    trip = _pass_trip(cast, facility, [(one, 1, PICK_UP)])
    assert trip.passengers.count() == 1
    seat = trip.passengers.get()
    assert seat.pick_up and seat.leave == Leave.objects.get(admission=one)


@pytest.mark.django_db
def test_a_pass_drop_off_does_not_report_the_dropped_client_as_an_elopement(cast, facility):
    """transport.md purposes "pass drop-off", "discharge drop-off": the client does not come
    back in the van. The trip opens a trip leave expected back at the van's return, so the
    return files an *elopement* incident draft and the leave scan will call the client AWOL."""
    (one,) = clients(cast, facility, 1)
    pass_ends = timezone.now() + timedelta(hours=30)
    trip = _pass_trip(cast, facility, [(one, 1, DROP, pass_ends)])
    depart(cast, trip)
    leave = Leave.objects.get(admission=one)
    assert (leave.kind, leave.expected_back_at) == ("pass", pass_ends)
    outcome = back(cast, trip, [])
    assert not Incident.objects.filter(incident_type="elopement").exists()
    assert outcome.incident is None and outcome.warnings == []
    seat = trip.passengers.get()
    assert seat.status == "dropped" and Leave.objects.get(pk=leave.pk).returned_at is None


# ---------------------------------------------------------------- identifiers


def test_transport_urls_carry_no_integer_keys():
    """DESIGN §2: "URLs carry UUIDs (public_id), never integer keys." The passenger sign-in and
    not-going URLs carry TripPassenger.pk."""
    from transport.views.trips import urlpatterns

    assert [str(p.pattern) for p in urlpatterns if "<int:" in str(p.pattern)] == []


@pytest.mark.django_db
def test_a_client_discharged_while_out_does_not_block_the_trips_return(cast, facility):
    """transport.md: "Return: odometer in (>= out), head count, each client signed back in".
    clients.admission_discharge closes an open leave; the trip's passenger stays "out", and
    ticking them at the return refuses the WHOLE return ("This return has already been
    recorded."), so the van cannot be recorded back (its overdue alerts run on) unless the
    driver leaves the discharged client unticked, which files an elopement draft."""
    from clients.services import admission_discharge

    one, two = clients(cast, facility, 2)
    trip = plan(cast, facility, [one, two], purpose="discharge")
    depart(cast, trip)
    admission_discharge(
        actor=cast["nurse"], admission=two, discharged_at=timezone.now(),
        discharge_type="completed",
    )  # fmt: skip
    back(cast, trip)  # both ticked: one came back, two was dropped off discharged
    trip.refresh_from_db()
    assert trip.status == "returned"


# ---------------------------------------------------------------- after the fixes


@pytest.mark.django_db
def test_a_pick_up_is_not_signed_out_and_signing_in_closes_the_clients_pass(cast, facility):
    """Decision 6: a client on a pass, picked up: not signed out at departure nor in its head
    count; ticked at the return, the pass leave closes."""
    one, two = clients(cast, facility, 2)
    now = timezone.now()
    pass_leave = leave_start(
        actor=cast["nurse"], admission=one, kind="pass", left_at=now - timedelta(minutes=1),
        expected_back_at=now + timedelta(hours=3),
    )  # fmt: skip
    trip = _pass_trip(cast, facility, [(one, 1, PICK_UP), (two, 1)])
    outcome = depart(cast, trip, [two])  # head count 1: only two gets in here
    assert outcome.incident is None
    seat = trip.passengers.get(admission=one)
    assert (seat.status, seat.leave_id) == ("out", pass_leave.pk)
    assert Leave.objects.filter(admission=one).count() == 1
    outcome = back(cast, trip)  # both ticked
    assert outcome.incident is None and outcome.warnings == []
    assert Leave.objects.filter(admission=one).open().count() == 0
    assert set(trip.passengers.values_list("status", flat=True)) == {"back"}


@pytest.mark.django_db
def test_a_client_discharged_on_an_appointment_trip_shows_so_and_opens_no_incident(
    client, cast, facility
):
    """Decision 1: not expected at the return, no incident, "Discharged while out"."""
    from clients.services import admission_discharge

    one, two = clients(cast, facility, 2)
    trip = plan(cast, facility, [one, two])
    depart(cast, trip)
    admission_discharge(
        actor=cast["nurse"], admission=two, discharged_at=timezone.now(),
        discharge_type="completed",
    )  # fmt: skip
    outcome = back(cast, trip, [one])
    assert outcome.incident is None and not Incident.objects.exists()
    assert trip.passengers.get(admission=two).status == "discharged"
    client.force_login(cast["nurse"])
    html = client.get(reverse("transport:trip", args=[trip.public_id])).content.decode()
    assert "Discharged while out" in html


@pytest.mark.django_db
def test_the_plan_form_marks_a_pass_drop_off_with_the_pass_end(client, cast, facility):
    """Decision 5, from the plan page: dropped off, with when the pass ends."""
    from tests.conftest import form_time

    (one,) = clients(cast, facility, 1)
    van, driver = fleet(cast, facility)
    now = timezone.now()
    body = {
        "purpose": "pass", "purpose_note": "",
        "planned_departure": form_time(now + timedelta(minutes=10), facility),
        "planned_return": form_time(now + timedelta(hours=2), facility),
        "driver": str(driver.pk), "vehicle": str(van.pk), "pickup": "",
        "stop-1-place": "Family home", "stop-1-address": "",
        "passengers": [str(one.public_id)], f"dest-{one.public_id}": "1",
        f"mode-{one.public_id}": "drop",
    }  # fmt: skip
    client.force_login(cast["nurse"])
    response = client.post(reverse("transport:trip_new"), body)
    assert response.status_code == 400
    assert "say when the pass ends" in response.content.decode()
    body[f"back-{one.public_id}"] = form_time(now + timedelta(days=1), facility)
    assert client.post(reverse("transport:trip_new"), body).status_code == 302
    seat = TripPassenger.objects.get(admission=one)
    assert not seat.returns_with_van and seat.expected_back_at is not None
