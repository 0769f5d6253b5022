"""Issue 17 review (UI reviewer, session 10): the trips board shows the trip My work calls
late; an order a nurse entered at another facility is counted once."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse

from facility.access import SESSION_FACILITY_KEY
from medications.models import Medication
from tests.clock import local_today
from tests.conftest import admit, make_user
from tests.medications.test_orders import transcribe
from tests.transport.fleet_helpers import make_driver, make_vehicle
from transport.models import Trip


@pytest.mark.django_db
def test_the_trips_board_lists_the_trip_my_work_calls_late(client, cast, facility):
    """My trips' "Open the full list" goes to the board: the late trip must be there too."""
    tech = cast["technician"]
    yesterday = local_today(facility) - timedelta(days=1)
    left = datetime.combine(yesterday, time(10), tzinfo=facility.tz)
    trip = Trip.objects.create(
        facility=facility, purpose="medical", planned_departure=left,
        planned_return=left + timedelta(hours=3), driver=make_driver(facility, tech),
        vehicle=make_vehicle(facility), planned_by=cast["nurse"], planned_at=left,
    )  # fmt: skip
    client.force_login(tech)
    href = reverse("transport:trip", args=[trip.public_id])
    assert href in client.get(reverse("home")).content.decode()
    assert href in client.get(reverse("transport:board")).content.decode()


@pytest.mark.django_db
def test_verify_split_counts_one_order_once(client, cast, facility, other_facility):
    """A floater's own order at the other facility is one order, not "1 ... and 1 ..."."""
    floater = make_user("float_nurse", "nurse", facility, other_facility)
    away = admit(other_facility, cast["other_nurse"], first="Sky", last="Birchfield")
    med = Medication.objects.create(
        facility=other_facility, name="Ondansetron", strength="4 mg", form="tablet", routes="oral"
    )
    transcribe(floater, away, med)
    client.force_login(floater)
    session = client.session
    session[SESSION_FACILITY_KEY] = facility.pk
    session.save()
    page = client.get(reverse("medications:orders_to_verify")).content.decode()
    assert "1 waiting" in page
    assert "and 1 at another of your facilities" not in page
