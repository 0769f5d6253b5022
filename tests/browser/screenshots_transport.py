"""Screenshots of the transport pages (issue 14) at tablet and phone widths, with every axe
finding: the pre-trip inspection with a critical defect marked, the vehicle list and a grounded
van's page, the drivers, the trips board (one back, one out, one late, one planned), the plan
form, a trip, the departure and return screens, the driver's manifest (screen, and the PDF's
first page as a PNG), the trip log, the mileage report and the chart's outings section.

Not part of the suite (pytest collects only test_*.py); run it by naming the file:

    HAVEN_SCREENSHOTS=docs/screens .venv/bin/python -m pytest \
        tests/browser/screenshots_transport.py -q -s -p no:cacheprovider

Writes <dir>/transport-<page>-<width>.png and transport-manifest-pdf.png (pdftoppm).
"""

import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.browser.screenshots import OUT, Shot, shoot
from tests.conftest import admit, make_user


def seed_transport(cast, facility) -> dict:
    """A day of transport at Alder House: four vans (one grounded by this morning's failed
    inspection, one whose insurance runs out in 20 days), four drivers (one licence lapsed,
    one expiring), trips back, out, late and planned, two earlier trips for the reports, and a
    client restricted from outings."""
    from clients.services import outing_restriction_set
    from tests.transport.fleet_helpers import (
        local_today,
        make_driver,
        make_vehicle,
        passed_inspection,
    )
    from tests.transport.test_trips import back, depart, plan
    from transport.rules import INSPECTION_ITEMS
    from transport.services.fleet import inspection_record, scan_fleet_expiries
    from transport.services.trips import scan_trips_overdue

    now = timezone.now().replace(second=0, microsecond=0)
    today = local_today(facility)
    tech, nurse, supervisor = cast["technician"], cast["nurse"], cast["supervisor"]
    for user, name, credentials in (
        (tech, "Jordan Avery", "BHT"),
        (nurse, "Priya Raman", "RN"),
        (supervisor, "Dana Whitfield", "RN"),
    ):
        user.full_name, user.credentials = name, credentials
        user.save(update_fields=["full_name", "credentials"])
    lee = make_user("lee_okonkwo", "technician", facility, mfa=False)
    lee.full_name, lee.credentials = "Lee Okonkwo", "BHT"
    lee.save(update_fields=["full_name", "credentials"])
    sam = make_user("sam_ortiz", "technician", facility, mfa=False)
    sam.full_name = "Sam Ortiz"
    sam.save(update_fields=["full_name"])

    names = [("Robin", "Ashdown"), ("Kai", "Morales"), ("Sage", "Whitley"), ("Jordan", "Reyes"),
             ("Casey", "Lindqvist-Montgomery"), ("Morgan", "Price"), ("Avery", "Chen"),
             ("Quinn", "Harper")]  # fmt: skip
    week_ago = now - timedelta(days=6)
    people = {
        first: admit(facility, nurse, n=n, first=first, last=last, admitted_at=week_ago)
        for n, (first, last) in enumerate(names, start=1)
    }
    outing_restriction_set(
        actor=nurse, admission=people["Quinn"],
        reason="Left the group at the last outing; team review on Friday",
    )  # fmt: skip

    van1 = make_vehicle(facility, name="Van 1", plate="CRV 1101", seats=11, odometer=48_210)
    van2 = make_vehicle(facility, name="Van 2", plate="CRV 1102", odometer=31_560)
    van3 = make_vehicle(facility, name="Van 3", plate="CRV 1103", odometer=22_940,
                        insurance_expires=today + timedelta(days=20))  # fmt: skip
    minivan = make_vehicle(facility, name="Minivan", plate="CRV 1104", seats=6, odometer=9_870)
    drivers = {
        "tech": make_driver(facility, tech),
        "nurse": make_driver(facility, nurse),
        "lee": make_driver(facility, lee, licence_expires=today + timedelta(days=12)),
        "sam": make_driver(facility, sam, licence_expires=today - timedelta(days=3)),
    }

    def trip(at, van, who, clients, *, hours=2, miles=None, place="Eastside Clinic", **kw):
        """Planned at `at`; departs then; back `hours` later (`miles` given) or left out."""
        van.refresh_from_db()  # the last trip's odometer in
        with time_machine.travel(at, tick=False):
            passed_inspection(van, tech)
            t = plan(cast, facility, [people[c] for c in clients], van=van,
                     driver=drivers[who], planned_departure=at,
                     planned_return=at + timedelta(hours=hours),
                     stops=[(place, "12 Elm St, Asheville")], **kw)  # fmt: skip
            depart(cast, t, by="technician")
        if miles is not None:
            with time_machine.travel(at + timedelta(hours=hours, minutes=-5), tick=False):
                back(cast, t, miles=miles, by="technician")
        t.refresh_from_db()
        return t

    trip(now - timedelta(days=5, hours=2), van3, "nurse", ["Morgan", "Avery"], miles=31,
         purpose="court", place="Buncombe County Courthouse")  # fmt: skip
    trip(now - timedelta(days=2, hours=3), van1, "tech", ["Robin", "Kai", "Sage"], miles=14,
         purpose="meeting", place="Tuesday Night Group, First Church")  # fmt: skip
    returned = trip(now - timedelta(hours=5), van1, "tech", ["Robin", "Kai"], miles=18,
                    purpose="pharmacy", place="Main St Pharmacy")  # fmt: skip
    out = trip(now - timedelta(minutes=30), van1, "tech", ["Sage", "Jordan", "Casey"])
    late = trip(now - timedelta(hours=3), van3, "nurse", ["Morgan"], hours=2.66,
                purpose="medical", place="Mission Hospital, Dental Clinic")  # fmt: skip
    passed_inspection(minivan, lee)
    planned = plan(
        cast, facility, [people["Robin"], people["Kai"], people["Avery"]], van=minivan,
        driver=drivers["lee"], escorts=[supervisor], purpose="outing",
        planned_departure=now + timedelta(hours=1), planned_return=now + timedelta(hours=3),
        stops=[("Blue Ridge Parkway visitor center", "195 Hemphill Knob Rd"),
               ("Riverside Park", "")],
    )  # fmt: skip
    # Yesterday's library trip was planned and never signed out: "Never left" on the board.
    yesterday = now - timedelta(days=1, hours=2)
    with time_machine.travel(yesterday - timedelta(hours=1), tick=False):
        plan(
            cast, facility, [people["Avery"]], van=van2, driver=drivers["tech"],
            purpose="outing", planned_departure=yesterday,
            planned_return=yesterday + timedelta(hours=2),
            stops=[("Pack Memorial Library", "67 Haywood St")],
        )  # fmt: skip

    # Van 2 failed this morning: brakes grinding (critical), a wiper torn.
    results = {key: (True, "") for key, _, _ in INSPECTION_ITEMS}
    results["brakes"] = (False, "Grinding from the front left wheel")
    results["wipers"] = (False, "Driver-side blade torn")
    inspection_record(tech, van2, results, odometer=31_588, now=now - timedelta(hours=2))
    scan_fleet_expiries()
    scan_trips_overdue()
    return {"people": people, "returned": returned, "out": out, "late": late,
            "planned": planned, "van2": van2}  # fmt: skip


def _mark_inspection(page):
    """Every item OK but the brakes, marked as a defect with a note."""
    for item in page.locator("li.inspection-item").all():
        if "Brakes" in item.locator("legend").inner_text():
            item.locator("label.seg-defect").click()
            item.locator("input[type=text]").fill("Grinding from the front left wheel")
        else:
            item.locator("label.seg-ok").click()


def _tick_all(page):
    for label in page.locator(".trip-ticks.big label.include").all():
        label.click()
    page.locator("input[name=head_count]").fill("3")


def _plan_form(page):
    page.select_option("#id_purpose", "medical")
    page.fill("#id_stop-1-place", "Eastside Clinic")
    page.fill("#id_stop-1-address", "12 Elm St, Asheville")
    boxes = page.locator(".trip-clients input[type=checkbox]")
    for n in range(2):
        boxes.nth(n).check()


def manifest_pdf_png(user, trip, out: Path) -> None:
    """The manifest PDF's first page as a PNG (poppler's pdftoppm at 80 dpi)."""
    client = Client()
    client.force_login(user)
    response = client.get(reverse("transport:manifest_pdf", args=[trip.public_id]))
    assert response.status_code == 200, response.status_code
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "manifest.pdf"
        pdf.write_bytes(response.content)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf),
             str(Path(tmp) / "page")],
            check=True,
        )  # fmt: skip
        (out / "transport-manifest-pdf.png").write_bytes((Path(tmp) / "page.png").read_bytes())


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_screenshots_transport(new_page, signed_in, cast, facility):
    OUT.mkdir(parents=True, exist_ok=True)
    w = seed_transport(cast, facility)
    van1 = w["out"].vehicle
    quinn = w["people"]["Quinn"]
    pages = [
        Shot("transport-inspect", "technician", reverse("transport:inspect")),
        Shot("transport-inspection", "technician",
             reverse("transport:inspection", args=[van1.public_id]), prepare=_mark_inspection),
        Shot("transport-vehicles", "supervisor", reverse("transport:vehicles")),
        Shot("transport-vehicle", "supervisor",
             reverse("transport:vehicle", args=[w["van2"].public_id])),
        Shot("transport-drivers", "supervisor", reverse("transport:drivers")),
        Shot("transport-board", "technician", reverse("transport:board")),
        Shot("transport-trip-form", "nurse", reverse("transport:trip_new"), prepare=_plan_form),
        Shot("transport-trip", "technician", reverse("transport:trip", args=[w["out"].public_id])),
        Shot("transport-depart", "technician",
             reverse("transport:trip_depart", args=[w["planned"].public_id]), prepare=_tick_all),
        Shot("transport-return", "technician",
             reverse("transport:trip_return", args=[w["out"].public_id]), prepare=_tick_all),
        Shot("transport-manifest", "technician",
             reverse("transport:manifest", args=[w["planned"].public_id])),
        Shot("transport-trip-log", "supervisor", reverse("transport:trip_log")),
        Shot("transport-mileage", "supervisor", reverse("transport:mileage")),
        Shot("transport-chart", "nurse", reverse("clients:chart", args=[quinn.client.public_id]),
             element=("#section-outings", "transport-chart-outings")),
    ]  # fmt: skip
    shoot(new_page, signed_in, cast, pages)
    manifest_pdf_png(cast["technician"], w["planned"], OUT)
