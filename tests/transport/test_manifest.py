"""The driver's manifest (issue 14 item 5): on screen and as a PDF, each client by preferred first
name and last initial with pick-up and destination, nothing clinical, and the Part 2 notice.
Trips are made with the ORM here (the trip services are another module's)."""

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from pypdf import PdfReader

from clients.models import Client
from facility.models import AccessEvent
from facility.pdf import PART2_STATEMENT_2
from tests.clock import local_today
from tests.conftest import admit
from transport.models import Driver, Trip, TripPassenger, TripStop, Vehicle

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")


def make_vehicle(facility, name="Van 1", plate="HVN-101", **extra):
    fields = dict(
        seats=12, registration_expires=date(2031, 1, 1), insurance_expires=date(2031, 1, 1)
    )
    fields.update(extra)
    return Vehicle.objects.create(facility=facility, name=name, plate=plate, **fields)


def make_driver(facility, user, **extra):
    fields = dict(
        licence_number=f"D{user.pk:07d}", licence_class="C", licence_state="NY",
        licence_expires=date(2031, 1, 1), mvr_checked_on=local_today(facility),
        training_on=date(2025, 1, 1), first_aid_expires=date(2031, 1, 1),
    )  # fmt: skip
    fields.update(extra)
    return Driver.objects.create(facility=facility, user=user, **fields)


def make_trip(facility, planner, *, driver, vehicle, departure, hours=3, **extra):
    return Trip.objects.create(
        facility=facility, purpose=extra.pop("purpose", "medical"), planned_departure=departure,
        planned_return=departure + timedelta(hours=hours), driver=driver, vehicle=vehicle,
        planned_by=planner, planned_at=departure - timedelta(days=1), **extra,
    )  # fmt: skip


@pytest.fixture
def trip(cast, facility):
    nurse = cast["nurse"]
    robin = admit(facility, nurse, first="Robin", last="Ashdown", allergies="Penicillin", n=1)
    Client.objects.filter(pk=robin.client_id).update(preferred_name="Robbie")
    sky = admit(facility, nurse, first="Sky", last="Quillfeather", n=2)
    stayed = admit(facility, nurse, first="Pat", last="Stayhome", n=3)
    trip = make_trip(
        facility, nurse, driver=make_driver(facility, cast["technician"]),
        vehicle=make_vehicle(facility), departure=datetime(2026, 5, 12, 9, 30, tzinfo=NY),
        purpose_note="Methadone clinic dosing",
    )  # fmt: skip
    trip.escorts.add(cast["nurse"])
    dentist = TripStop.objects.create(
        trip=trip, position=1, place="Elm Street Dental", address="12 Elm St"
    )
    court = TripStop.objects.create(trip=trip, position=2, place="County Court")
    TripPassenger.objects.create(trip=trip, admission=robin, stop=dentist)
    TripPassenger.objects.create(trip=trip, admission=sky, stop=court)
    TripPassenger.objects.create(
        trip=trip, admission=stayed, stop=court, status="stayed", stayed_reason="Unwell"
    )
    return trip


CLINICAL = ["H0", "MRN", "Penicillin", "Allergies", "3.5", "Ashdown", "Quillfeather",
            "Methadone", "Stayhome", "1990-01"]  # fmt: skip


def test_the_manifest_names_clients_by_preferred_first_name_and_last_initial(client, cast, trip):
    client.force_login(cast["technician"])
    response = client.get(reverse("transport:manifest", args=[trip.public_id]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Robbie A." in page and "Sky Q." in page
    assert "Pat" not in page  # did not go
    assert "Elm Street Dental" in page and "12 Elm St" in page and "County Court" in page
    # Pick-up is the facility when the trip names none; planned times on the facility clock.
    assert "Alder House" in page and "09:30" in page and "12:30" in page
    assert "Van 1" in page and "HVN-101" in page and str(trip.driver) in page
    assert cast["nurse"].signature in page  # the escort
    assert "Medical or dental appointment" in page
    assert PART2_STATEMENT_2 in page


def test_the_manifest_shows_nothing_clinical(client, cast, trip):
    client.force_login(cast["technician"])
    page = client.get(reverse("transport:manifest", args=[trip.public_id])).content.decode()
    manifest = page.split("<main", 1)[-1]
    for word in CLINICAL:
        assert word not in manifest, word
    for admission in (p.admission for p in trip.passengers.all()):
        assert admission.client.mrn not in page


def test_a_named_pickup_is_shown(client, cast, trip):
    Trip.objects.filter(pk=trip.pk).update(pickup="Annex back door")
    client.force_login(cast["nurse"])
    page = client.get(reverse("transport:manifest", args=[trip.public_id])).content.decode()
    assert "Annex back door" in page


def pdf_text(response) -> str:
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_manifest_pdf_has_the_names_and_the_notice_and_no_mrn_or_last_name(client, cast, trip):
    client.force_login(cast["technician"])
    response = client.get(reverse("transport:manifest_pdf", args=[trip.public_id]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(response).split())
    assert "Robbie A." in text and "Sky Q." in text
    assert "Elm Street Dental" in text and "County Court" in text
    assert "Driver's manifest" in text and "Van 1" in text
    assert "42 CFR part 2" in text and "prohibits unauthorized use or disclosure" in text
    for word in CLINICAL:
        assert word not in text, word


def test_reading_the_manifest_is_in_the_access_log(client, cast, trip):
    client.force_login(cast["technician"])
    client.get(reverse("transport:manifest", args=[trip.public_id]))
    client.get(reverse("transport:manifest_pdf", args=[trip.public_id]))
    events = AccessEvent.objects.filter(user=cast["technician"]).order_by("pk")
    # One row per client on the manifest, recorded with the client (privacy.md); the client who
    # stayed is not on it.
    riders = {
        p.admission.client.public_id for p in trip.passengers.exclude(status="stayed")
    }  # fmt: skip
    assert len(riders) == 2
    seen = [(e.action, e.what[:16], e.client_public_id) for e in events][-4:]
    assert [(action, what) for action, what, _ in seen] == [
        ("view", "Trip manifest: M"), ("view", "Trip manifest: M"),
        ("print", "Driver's manifes"), ("print", "Driver's manifes"),
    ]  # fmt: skip
    assert {c for a, _, c in seen if a == "view"} == riders
    assert {c for a, _, c in seen if a == "print"} == riders


@pytest.mark.parametrize("name", ["transport:manifest", "transport:manifest_pdf"])
def test_the_manifest_is_for_the_floor_of_its_facility(client, cast, trip, name):
    url = reverse(name, args=[trip.public_id])
    assert client.get(url)["Location"].startswith(reverse("account_login"))
    client.force_login(cast["other_nurse"])
    assert client.get(url).status_code == 404
    client.force_login(cast["admin"])
    assert client.get(url).status_code == 403
    for role in ("technician", "nurse", "clinician", "supervisor"):
        client.force_login(cast[role])
        assert client.get(url).status_code == 200, role


def test_an_unknown_trip_is_a_404(client, cast):
    client.force_login(cast["nurse"])
    url = reverse("transport:manifest", args=["00000000-0000-0000-0000-000000000000"])
    assert client.get(url).status_code == 404
