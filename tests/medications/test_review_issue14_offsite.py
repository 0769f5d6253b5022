"""Review of issue 14 (user level): the MAR treats a client out on any leave (a trip, an
appointment, a pass) as off site, and "sent with client" is only for a client out or about to
leave on a trip (specs/transport.md: "rounds and the MAR treat the client as off site")."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from clients.services import leave_start
from medications.services import administration_record
from tests.medications.conftest import at
from tests.medications.test_sent_with_client import NOTE, verified

pytestmark = pytest.mark.django_db


def _out(stay, cast, kind="trip"):
    left = at(8, 53)
    with time_machine.travel(left, tick=False):
        return leave_start(
            actor=cast["nurse"], admission=stay, kind=kind, left_at=left,
            expected_back_at=left + timedelta(hours=2), destination="Valley Dental",
        )  # fmt: skip


@pytest.mark.parametrize("kind", ["trip", "appointment", "pass"])
def test_the_med_pass_shows_a_client_out_as_off_site_and_does_not_default_to_given(
    client, cast, stay, clonidine, nurse2, kind
):
    """Seen: a nurse opened the MAR minutes after the client left on a trip; no off-site notice,
    the outcome preselected "Given"."""
    verified(stay, cast, nurse2, clonidine)
    _out(stay, cast, kind)
    client.force_login(cast["nurse"])
    with time_machine.travel(at(8, 59), tick=False):
        page = client.get(reverse("medications:med_pass", args=[stay.public_id])).content.decode()
    assert "Off site" in page and "Valley Dental" in page
    assert '<option value="">Choose…</option>' in page


def test_given_is_refused_while_the_client_is_out_on_a_trip(cast, stay, clonidine, nurse2):
    order = verified(stay, cast, nurse2, clonidine)
    _out(stay, cast)
    dose = order.doses.get(scheduled_at=at(9, 0))
    with time_machine.travel(at(8, 59), tick=False), pytest.raises(ValidationError) as exc:
        administration_record(actor=cast["nurse"], dose=dose, outcome="given")
    assert "Off site since 08:53" in exc.value.message_dict["outcome"][0]
    with time_machine.travel(at(8, 59), tick=False):
        sent = administration_record(actor=cast["nurse"], dose=dose, outcome="sent", reason=NOTE)
    assert sent.outcome == "sent" and sent.given_at is None


def test_sent_with_client_is_refused_for_a_client_in_the_house(cast, stay, clonidine, nurse2):
    order = verified(stay, cast, nurse2, clonidine)
    dose = order.doses.get(scheduled_at=at(9, 0))
    with time_machine.travel(at(8, 50), tick=False), pytest.raises(ValidationError) as exc:
        administration_record(actor=cast["nurse"], dose=dose, outcome="sent", reason=NOTE)
    assert "in the house" in exc.value.message_dict["outcome"][0]


def test_sent_with_client_is_accepted_for_a_client_on_a_trip_leaving_within_two_hours(
    cast, stay, clonidine, nurse2, facility
):
    from tests.transport.fleet_helpers import make_driver, make_vehicle
    from transport.services.trips import trip_plan

    order = verified(stay, cast, nurse2, clonidine)
    dose = order.doses.get(scheduled_at=at(9, 0))
    with time_machine.travel(at(7, 0), tick=False):
        van, driver = make_vehicle(facility), make_driver(facility, cast["technician"])
        trip_plan(
            actor=cast["nurse"], facility=facility, purpose="medical", purpose_note="",
            planned_departure=at(9, 30), planned_return=at(11, 0), driver=driver,
            vehicle=van, escorts=[], stops=[("Valley Dental", "")], passengers=[(stay, 1)],
        )  # fmt: skip
    with time_machine.travel(at(7, 0), tick=False), pytest.raises(ValidationError):
        administration_record(actor=cast["nurse"], dose=dose, outcome="sent", reason=NOTE)
    with time_machine.travel(at(8, 50), tick=False):
        sent = administration_record(actor=cast["nurse"], dose=dose, outcome="sent", reason=NOTE)
    assert sent.outcome == "sent"
