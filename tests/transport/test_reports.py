"""The transport reports (issue 14 item 6): the trip log and the miles per driver and vehicle for
a period, on screen, as CSV (the Part 2 notice first) and as PDF (with the notice). Supervisors
and admins read them; they count clients and never name them."""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader

from facility.models import AccessEvent
from facility.pdf import part2_statement_1
from tests.conftest import admit, make_user
from tests.transport.test_manifest import make_driver, make_trip, make_vehicle
from transport.models import TripPassenger

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=NY)


def local(day, hour, minute=0):
    return datetime(2026, 6, day, hour, minute, tzinfo=NY)


def returned(trip, out, back, *, left, came_back):
    trip.status = "returned"
    trip.departed_at, trip.odometer_out, trip.departed_by = left, out, trip.planned_by
    trip.returned_at, trip.odometer_in, trip.returned_by = came_back, back, trip.planned_by
    trip.save()
    return trip


@pytest.fixture
def fleet(cast, facility, other_facility):
    nurse = cast["nurse"]
    dana = make_driver(facility, make_user("dana", "technician", facility))
    eli = make_driver(facility, make_user("eli", "nurse", facility))
    van, car = make_vehicle(facility), make_vehicle(facility, name="Car 2", plate="HVN-202")
    with time_machine.travel(local(1, 8), tick=False):
        clients = [admit(facility, nurse, first="Robin", last=f"Zed{n}", n=n) for n in range(3)]
    t1 = make_trip(facility, nurse, driver=dana, vehicle=van, departure=local(10, 9))
    returned(t1, 1000, 1042, left=local(10, 9, 5), came_back=local(10, 12))
    for a in clients:
        TripPassenger.objects.create(trip=t1, admission=a)
    t2 = make_trip(facility, nurse, driver=dana, vehicle=car, departure=local(11, 9))
    returned(t2, 500, 517, left=local(11, 9), came_back=local(11, 11))
    TripPassenger.objects.create(trip=t2, admission=clients[0])
    TripPassenger.objects.create(
        trip=t2, admission=clients[1], status="stayed", stayed_reason="Unwell"
    )
    t3 = make_trip(facility, nurse, driver=eli, vehicle=van, departure=local(12, 13))
    returned(t3, 1042, 1050, left=local(12, 13), came_back=local(12, 14))
    # Planned, not yet gone: in the log, no miles. Out of the period: in nothing.
    make_trip(facility, nurse, driver=eli, vehicle=car, departure=local(25, 9), purpose="court")
    old = make_trip(
        facility, nurse, driver=eli, vehicle=car, departure=local(1, 9) - timedelta(days=60)
    )
    returned(old, 1, 900, left=old.planned_departure, came_back=old.planned_return)
    # Another facility's trip never shows.
    elsewhere = make_driver(other_facility, cast["other_nurse"])
    other = make_trip(
        other_facility, cast["other_nurse"], driver=elsewhere,
        vehicle=make_vehicle(other_facility), departure=local(10, 9),
    )  # fmt: skip
    returned(other, 0, 300, left=local(10, 9), came_back=local(10, 10))
    return {"dana": dana, "eli": eli, "clients": clients}


PERIOD = {"start": "2026-06-01", "end": "2026-06-30"}


def get(client, user, name, **params):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.get(reverse(name), {**PERIOD, **params})


def test_mileage_per_driver_and_vehicle_from_returned_trips(client, cast, fleet):
    response = get(client, cast["supervisor"], "transport:mileage")
    assert response.status_code == 200
    ctx = response.context
    assert [(r["name"], r["trips"], r["miles"]) for r in ctx["drivers"]] == [
        ("Dana", 2, 59),
        ("Eli", 1, 8),
    ]
    assert [(r["vehicle__name"], r["miles"]) for r in ctx["vehicles"]] == [
        ("Car 2", 17),
        ("Van 1", 50),
    ]
    assert (ctx["total_trips"], ctx["total_miles"]) == (3, 67)
    page = response.content.decode()
    assert "67 miles" in page and "Robin" not in page


def test_the_trip_log_lists_trips_with_counts_not_names(client, cast, fleet):
    response = get(client, cast["admin"], "transport:trip_log")
    assert response.status_code == 200
    trips = response.context["trips"]
    assert [(t.planned_departure, t.miles, t.clients, t.status) for t in trips] == [
        (local(10, 9), 42, 3, "returned"),
        (local(11, 9), 17, 1, "returned"),  # the one who stayed is not counted
        (local(12, 13), 8, 0, "returned"),
        (local(25, 9), None, 0, "planned"),
    ]
    page = response.content.decode()
    assert "Robin" not in page and "Zed" not in page and "H0" not in page
    assert "Court or legal" in page and "1000 / 1042" in page


def test_the_csv_starts_with_the_part2_notice_and_names_no_client(client, cast, fleet):
    response = get(client, cast["supervisor"], "transport:trip_log", format="csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "trip-log-20260601-20260630.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    # privacy.md: one cell holding statement 1, then an empty row, then the header.
    assert rows[0] == [part2_statement_1()] and rows[1] == []
    assert rows[2][:4] == ["planned departure", "planned return", "departed", "returned"]
    assert rows[3][0] == "2026-06-10 09:00" and rows[3][8:12] == ["1000", "1042", "42", "3"]
    assert len(rows) == 7
    assert "Robin" not in response.content.decode()
    assert AccessEvent.objects.filter(action="export", what__startswith="Trip log (CSV)").exists()


def test_the_mileage_csv_and_pdf_carry_the_notice(client, cast, fleet):
    rows = list(
        csv.reader(
            io.StringIO(
                get(client, cast["admin"], "transport:mileage", format="csv").content.decode()
            )
        )
    )
    assert rows[0] == [part2_statement_1()] and rows[1] == []
    assert rows[2] == ["driver", "licence", "trips", "miles"]
    assert ["Dana", fleet["dana"].licence_number, "2", "59"] in rows
    assert ["total", "", "3", "67"] in rows
    response = get(client, cast["admin"], "transport:mileage", format="pdf")
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages).split()
    )
    assert "42 CFR part 2" in text and "Dana" in text and "Van 1" in text and "67 miles" in text


def test_the_trip_log_pdf_has_the_notice_and_the_rows(client, cast, fleet):
    response = get(client, cast["supervisor"], "transport:trip_log", format="pdf")
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages).split()
    )
    assert "prohibits unauthorized use or disclosure" in text and "Trip log" in text
    assert "2026-06-10 09:00" in text and "Robin" not in text


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({"start": "2026-06-30", "end": "2026-06-01"}, "end", "To: not before the From date."),
        ({"start": "2025-01-01", "end": "2026-06-01"}, "end", "To: a period of at most 366 days."),
        ({"start": "9999-12-31", "end": "9999-12-31"}, "start", "From: enter a date between"),
        ({"start": "0001-01-01"}, "start", "From: enter a date between"),
        ({"start": "yesterday"}, "start", "From: enter a date (YYYY-MM-DD)."),
        ({"end": "2026-06-01\x00"}, "end", "To:"),
    ],
)
@pytest.mark.parametrize("fmt", ["", "csv", "pdf"])
def test_a_bad_period_gets_a_field_message_in_any_format(client, cast, params, field, message, fmt):
    client.force_login(cast["supervisor"])
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("transport:trip_log"), {**params, "format": fmt})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert any(message in e for e in response.context["form"].errors[field])


def test_without_a_period_the_last_30_days(client, cast, fleet):
    client.force_login(cast["supervisor"])
    with time_machine.travel(local(12, 20), tick=False):
        response = client.get(reverse("transport:trip_log"))
    assert response.context["period"].words == "2026-05-14 to 2026-06-12"
    assert len(response.context["trips"]) == 3


@pytest.mark.parametrize("name", ["transport:trip_log", "transport:mileage"])
def test_the_reports_are_for_supervisors_and_admins(client, cast, fleet, name):
    url = reverse(name)
    assert client.get(url)["Location"].startswith(reverse("account_login"))
    for role in ("technician", "nurse", "clinician"):
        client.force_login(cast[role])
        assert client.get(url).status_code == 403, role
    # The other facility's supervisor sees their own facility only.
    response = get(client, cast["other_supervisor"], name)
    assert response.status_code == 200
    if name == "transport:mileage":
        assert response.context["total_miles"] == 300
    else:
        assert [t.miles for t in response.context["trips"]] == [300]
