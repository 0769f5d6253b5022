"""Screening's section of the shift report (issue 15): refusals, cup reads with unexpected
positives, laboratory results, specimens awaiting a result, breath alcohol and searches with
contraband, each in its own shift only (a DST night included), in a fixed number of queries."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility.registry import ReportScope, registry
from screening.defaults import ADULTERANT_PADS
from screening.services.breath import breath_test_record
from screening.services.results import poc_test_record
from screening.services.searches import ItemEntry, search_record
from screening.services.specimens import LabRow, lab_result_record, specimen_refuse
from tests.conftest import admit
from tests.medications.conftest import at
from tests.screening.result_helpers import (
    a_lot,
    breath_device,
    collected_specimen,
    default_cup,
    verified_order,
)
from tests.screening.specimen_helpers import collected, hand_over, started

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
DAY = date(2026, 5, 12)


def section():
    return next(s for s in registry.report_sections if s.key == "screening")


def scope(facility, admissions, *, day=DAY, shift="day", now=None):
    start, end = facility.shift_bounds(day, shift)
    return ReportScope(
        facility=facility, unit=None, start=start, end=end, now=now or end + timedelta(hours=1),
        admission_ids=tuple(a.pk for a in admissions),
    )  # fmt: skip


def lines(facility, stay, **kw):
    return section().clients(scope(facility, [stay], **kw)).get(stay.pk, [])


@pytest.fixture
def stay(cast, facility):
    with time_machine.travel(at(6, 5), tick=False):
        return admit(facility, cast["nurse"], admitted_at=at(6))


# ---------------------------------------------------------------- builders, at a given time


def refuse(cast, stay, when):
    with time_machine.travel(when, tick=False):
        specimen = started(cast["technician"], stay)
        return specimen_refuse(actor=cast["technician"], specimen=specimen, at=when,
                               note="Said no, walked away")  # fmt: skip


def cup_read(cast, stay, when, **positives):
    cup = default_cup(stay.facility)
    readings = dict.fromkeys(cup.cutoffs, "negative") | positives
    with time_machine.travel(when, tick=False):
        specimen = collected_specimen(stay, cast["technician"], at=when - timedelta(minutes=10))
        return poc_test_record(
            actor=cast["technician"], specimen=specimen, device=cup, lot=a_lot(stay.facility),
            readings=readings, adulterants=dict.fromkeys(ADULTERANT_PADS, "normal"),
        )  # fmt: skip


def lab_reported(cast, stay, when, rows):
    tech = cast["technician"]
    with time_machine.travel(when - timedelta(hours=1), tick=False):
        specimen = collected(tech, stay, at=when - timedelta(hours=1, minutes=5))
        hand_over(tech, specimen, "Technician, BHT", "Sam Rivera, courier", "to_courier")
    with time_machine.travel(when - timedelta(minutes=30), tick=False):
        hand_over(tech, specimen, "Sam Rivera, courier", "Quest lab", "lab_received")
    with time_machine.travel(when, tick=False):
        lab_result_record(actor=cast["nurse"], specimen=specimen, lab_name="Quest",
                          reported_at=when, rows=rows)  # fmt: skip
    return specimen


def breath(cast, stay, device, when, brac=None, **extra):
    with time_machine.travel(when + timedelta(minutes=1), tick=False):
        return breath_test_record(
            actor=cast["technician"], admission=stay, device=device, tested_at=when,
            observation_started_at=None if brac is None else when - timedelta(minutes=16),
            brac=None if brac is None else Decimal(brac), refused=brac is None,
            client_declined_to_sign=True, **extra,
        )  # fmt: skip


def search(cast, stay, when, *contraband):
    items = [ItemEntry(category="clothing", description="T-shirts", quantity=4,
                       disposition="kept", row=1)]  # fmt: skip
    for n, what in enumerate(contraband, start=2):
        items.append(ItemEntry(category="drugs", description=what, contraband=True,
                               disposition="stored", location="Property room safe",
                               bag_id=f"B-{n}", row=n))  # fmt: skip
    with time_machine.travel(when + timedelta(minutes=2), tick=False):
        return search_record(
            actor=cast["technician"], admission=stay, reason="admission", searched_at=when,
            client_present=True, items=items, witness=cast["nurse"],
        )  # fmt: skip


# ---------------------------------------------------------------- what the day shows


def test_each_result_and_search_of_the_shift_shows_with_its_concern(cast, facility, stay):
    with time_machine.travel(at(6, 20), tick=False):
        verified_order(cast, stay, "Buprenorphine", ingredients=["buprenorphine"])
        device = breath_device(facility)
    refused = refuse(cast, stay, at(8))
    test = cup_read(cast, stay, at(9), BUP="presumptive_positive", COC="presumptive_positive")
    clean = cup_read(cast, stay, at(9, 30))
    rows = [LabRow("FEN", Decimal("1"), Decimal("12.5"), True),
            LabRow("BUP", Decimal("5"), Decimal("40"), True),
            LabRow("COC", Decimal("150"), None, False)]  # fmt: skip
    lab = lab_reported(cast, stay, at(11), rows)
    with time_machine.travel(at(12, 5), tick=False):
        waiting = collected(cast["technician"], stay, at=at(12))
    breath(cast, stay, device, at(12, 30))
    first = breath(cast, stay, device, at(13), "0.045")
    breath(cast, stay, device, at(13, 20), "0.031", kind="confirmation", repeat_of=first)
    breath(cast, stay, device, at(13, 40), "0.000")
    search(cast, stay, at(14), "White powder in a baggie")
    search(cast, stay, at(14, 30))
    # Outside the shift: a positive in the evening, contraband found in the night.
    breath(cast, stay, device, at(15, 10), "0.050")
    search(cast, stay, at(6, 30), "Vape pen")

    got = lines(facility, stay)
    seen = {(i.tag, i.concern, i.text) for i in got}
    assert seen == {
        ("Screen refused", 2, f"Refused a urine drug screen {refused.specimen_id} (admission) "
         "at 08:00"),
        ("Unexpected positive", 2, f"Cup read 09:00, urine drug screen {test.specimen.specimen_id} "
         "(admission): unexpected presumptive positive COC; expected BUP (prescribed)"),
        ("Drug screen", 0, f"Cup read 09:30, urine drug screen {clean.specimen.specimen_id} "
         "(admission): all negative"),
        ("Unexpected positive", 2, f"Lab result (Quest), urine drug screen {lab.specimen_id} "
         "(admission): confirmed positive FEN; positive BUP, explained by an order"),
        ("Drug screen", 0, f"Collected 12:00, urine drug screen {waiting.specimen_id} "
         "(admission); result pending"),
        ("Breath refused", 2, "Refused a breath alcohol test at 12:30"),
        ("Breath alcohol", 2, "BrAC 0.045 at 13:00 (screening): positive"),
        ("Breath alcohol", 2, "BrAC 0.031 at 13:20 (confirmation): positive"),
        ("Breath alcohol", 0, "BrAC 0.000 at 13:40 (screening): negative"),
        ("Contraband", 2, "Belongings search (admission) at 14:00: contraband found: "
         "1 × White powder in a baggie"),
        ("Search", 0, "Belongings search (admission) at 14:30: no contraband"),
    }  # fmt: skip
    # The lab-collected specimen was collected at 09:55: its collection is no line of its own.
    evening = {i.text for i in lines(facility, stay, shift="evening", now=at(16))}
    assert evening == {"BrAC 0.050 at 15:10 (screening): positive; repeat due 15:25"}
    night = lines(facility, stay, day=DAY - timedelta(days=1), shift="night", now=at(8))
    assert [i.tag for i in night] == ["Contraband"] and "Vape pen" in night[0].text


def test_a_lab_positive_explained_by_an_order_is_no_warning(cast, facility, stay):
    with time_machine.travel(at(6, 20), tick=False):
        verified_order(cast, stay, "Methadone", "10 mg/mL", ingredients=["methadone"])
    lab_reported(cast, stay, at(11), [LabRow("MTD", Decimal("300"), Decimal("900"), True)])
    (item,) = [i for i in lines(facility, stay) if i.tag in ("Lab result", "Unexpected positive")]
    assert (item.tag, item.concern) == ("Lab result", 0)
    assert item.text.endswith("positive MTD, explained by an order")


def test_a_dst_night_holds_its_seven_hours_only(cast, facility):
    start = datetime(2026, 3, 7, 20, 0, tzinfo=NY)
    with time_machine.travel(start, tick=False):
        stay = admit(facility, cast["nurse"], admitted_at=start - timedelta(minutes=5))
        device = breath_device(facility)
    breath(cast, stay, device, datetime(2026, 3, 8, 6, 50, tzinfo=NY), "0.000")
    breath(cast, stay, device, datetime(2026, 3, 8, 7, 30, tzinfo=NY), "0.000")
    now = datetime(2026, 3, 8, 9, 0, tzinfo=NY)
    night = lines(facility, stay, day=date(2026, 3, 7), shift="night", now=now)
    day = lines(facility, stay, day=date(2026, 3, 8), now=now)
    assert [i.text for i in night] == ["BrAC 0.000 at 06:50 (screening): negative"]
    assert [i.text for i in day] == ["BrAC 0.000 at 07:30 (screening): negative"]


def test_the_section_reads_a_fixed_number_of_queries_whatever_the_census(cast, facility):
    with time_machine.travel(at(6, 20), tick=False):
        device = breath_device(facility)

    def stays(first, n):
        made = []
        for k in range(first, first + n):
            with time_machine.travel(at(6, 5), tick=False):
                s = admit(facility, cast["nurse"], admitted_at=at(6), n=k + 200)
            cup_read(cast, s, at(9), COC="presumptive_positive")
            lab_reported(cast, s, at(11), [LabRow("FEN", Decimal("1"), Decimal("3"), True)])
            breath(cast, s, device, at(12, 30))
            search(cast, s, at(14), "Lighter")
            made.append(s)
        return made

    def measure(admissions):
        with CaptureQueriesContext(connection) as ctx:
            found = section().clients(scope(facility, admissions))
        assert all(len(found[a.pk]) == 4 for a in admissions)
        assert all(i.concern == 2 for a in admissions for i in found[a.pk])
        return len(ctx.captured_queries)

    three = stays(0, 3)
    small = measure(three)
    assert small == measure(three + stays(3, 9)) <= 8
