"""Issue 15's first "done when": one shift of one facility filled with events from every domain,
each found on the report, on screen (as a nurse reads it) and in the PDF text (as a supervisor
prints it), under the right client and section; an event one minute after the shift is on
neither; the client at risk comes before a quiet one, and the quiet one takes one line.

The events come through the services, with the builders of each app's
tests/<app>/test_report_sections.py; only the page and the PDF go through HTTP."""

import html
import io
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils.html import strip_tags
from pypdf import PdfReader

from clients.services import admission_discharge, leave_start
from facility.shift_report import build_shift_report
from medications.services import count_submit, prn_follow_up
from tests.conftest import admit, make_user
from tests.facility.world import received_stock
from tests.medications.test_report_sections import REFUSED, chart, daily, give, prn_order
from tests.observations.test_report_sections import admitted, check, events
from tests.screening.result_helpers import breath_device
from tests.screening.test_report_sections import breath, cup_read, search
from tests.transport.test_report_sections import trip
from tests.transport.test_trips import fleet

NY = ZoneInfo("America/New_York")
DAY = date(2026, 5, 12)  # a Tuesday; the day shift runs 07:00–15:00 New York time
# The report is read the next morning: the shift is over and opened from the picker.
READ_AT = datetime(2026, 5, 13, 9, 0, tzinfo=NY)


def at(hour, minute=0):
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=NY)


def flat(text: str) -> str:
    """Text with its whitespace (line wraps of the PDF, indentation of the page) as one space."""
    return re.sub(r"\s+", " ", text).strip()


def screen_text(fragment: str) -> str:
    return flat(html.unescape(strip_tags(fragment)))


def pdf_text(data: bytes) -> str:
    return flat(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def fill_the_shift(cast, facility) -> dict:
    """Every domain's events in the day shift of DAY, one client per domain (plus one at risk,
    and one quiet), and one event a minute after the shift ends."""
    nurse, tech = cast["nurse"], cast["technician"]
    nurse2 = make_user("nurse_two", "nurse", facility)
    who = {}

    # Observations: a level raise, checks missed, a note for handoff, a high C-SSRS, NEWS2 8,
    # CIWA-Ar 6 → 9 → 14, an incident with an injury, a group attended; all at 10:00.
    who["risk"] = admitted(cast, facility, first="Cass", last="Atrisk")
    with time_machine.travel(at(10, 30), tick=False):
        events(cast, who["risk"], at(10, 0))
    # Quiet: checked every hour of the shift, nothing else.
    who["quiet"] = admitted(cast, facility, first="Quinn", last="Stillwater")
    with time_machine.travel(at(14, 30), tick=False):
        for hour in range(7, 15):
            check(who["quiet"], tech, at(hour, 5))

    # Census: one admitted, one discharged against advice, one on pass and not back.
    with time_machine.travel(at(16, 30), tick=False):
        who["new"] = admit(facility, nurse, first="Nia", last="Newcomb", admitted_at=at(10, 5))
        who["gone"] = admit(facility, nurse, first="Gus", last="Leaving",
                            admitted_at=at(9, 0) - timedelta(days=1))  # fmt: skip
        who["away"] = admit(facility, nurse, first="Avery", last="Outlate",
                            admitted_at=at(9, 0) - timedelta(days=2))  # fmt: skip
        admission_discharge(actor=nurse, admission=who["gone"], discharged_at=at(11, 40),
                            discharge_type="ama")  # fmt: skip
        leave_start(actor=nurse, admission=who["away"], kind="pass", left_at=at(13, 0),
                    expected_back_at=at(14, 0), backdate_reason="Late entry")  # fmt: skip

    # Medications: refused, held, missed (never charted), a PRN and its effect; a controlled
    # count that came out short. (The dose sent with a client is the trip's, below.)
    with time_machine.travel(at(6, 5), tick=False):
        who["meds"] = admit(facility, nurse, first="Mara", last="Dosewell", admitted_at=at(6, 0))
    times = {"Alpha": "07:30", "Bravo": "08:00", "Foxtrot": "07:15"}
    orders = {name: daily(cast, nurse2, who["meds"], name, hhmm) for name, hhmm in times.items()}
    chart(cast, orders["Alpha"], at(7, 30), at(7, 40), "refused", **REFUSED)
    chart(cast, orders["Bravo"], at(8), at(8, 5), "held", reason="BP 92/60",
          hold_parameter="SBP < 100")  # fmt: skip
    prn = give(cast, prn_order(cast, nurse2, who["meds"]), at(8))
    with time_machine.travel(at(9, 5), tick=False):
        prn_follow_up(actor=nurse, administration=prn, result="effective",
                      post_assessment="pain 2/10", score=2)  # fmt: skip
    with time_machine.travel(at(5), tick=False):
        stock = received_stock(nurse, facility, "Lorazepam", tech)
    count_submit(actor=nurse, second=tech, stock=stock, counted_quantity="8", now=at(9))

    # Screening: a cup with an unexpected positive, a positive breath test, a search that found
    # contraband; and a positive breath test one minute after the shift.
    with time_machine.travel(at(6, 5), tick=False):
        who["screen"] = admit(facility, nurse, first="Uma", last="Cupwell", admitted_at=at(6, 0))
    with time_machine.travel(at(6, 20), tick=False):
        device = breath_device(facility)
    who["cup"] = cup_read(cast, who["screen"], at(9), COC="presumptive_positive")
    breath(cast, who["screen"], device, at(13), "0.045")
    search(cast, who["screen"], at(14), "White powder in a baggie")
    breath(cast, who["screen"], device, at(15, 1), "0.077")

    # Transport: a trip out at 09:30 and back at 10:20, the 09:30 dose sent with the client.
    with time_machine.travel(at(6, 5), tick=False):
        who["trip"] = admit(facility, nurse, first="Tripp", last="Vanrider", admitted_at=at(6, 0))
    with time_machine.travel(at(6, 30), tick=False):
        van, driver = fleet(cast, facility)
    echo = daily(cast, nurse2, who["trip"], "Echo", "09:30")
    trip(cast, facility, [who["trip"]], at(9, 30), at(10, 20), van=van, driver=driver)
    chart(cast, echo, at(9, 30), at(9, 31), "sent", reason="1 tab handed to escort J. Doe")
    return who


# Each client's lines: (section title, text as the page shows it: tag, a space, the text).
# The PDF prints the same with a colon after the tag.
CLIENT_LINES = {
    "risk": [
        ("Level and rounds", "Level change", "q60 Routine → 1:1 at 10:00"),
        ("Level and rounds", "Missed checks", "23 missed: 07:00–15:00 (23)"),
        (
            "Notes for handoff",
            "Behavior note",
            "10:00 Technician, BHT: Mood: Anxious; Risk flags: "
            "Suicidal thoughts; Behavior: Paced the hall",
        ),
        ("Risk and C-SSRS", "C-SSRS", "C-SSRS high risk at 10:00"),
        ("Vitals and NEWS2", "NEWS2 8", "10:00 NEWS2 8 (high)"),
        ("Withdrawal scores", "CIWA-Ar 14", "CIWA-Ar 10:00 6 → 10:10 9 → 10:20 14 (mild), rising"),
        ("Incidents", "Incident", "10:00 Fall, minor, injury recorded"),
        ("Groups", "Group", "Present"),
    ],
    "new": [("Census", "Admission", "Admitted 10:05")],
    "gone": [("Census", "Discharge", "Discharged 11:40: Left against medical advice")],
    "away": [("Census", "Overdue return", "not back from pass: expected 14:00")],
    "meds": [
        ("Medications", "Refused", "Alpha 10 mg, due 07:30: Nauseous"),
        ("Medications", "Held", "Bravo 10 mg, due 08:00: BP 92/60"),
        ("Medications", "Missed", "Foxtrot 10 mg, due 07:15, not documented"),
        (
            "Medications",
            "PRN",
            "Acetaminophen 500 mg given 08:00 for headache; effect effective, score 2 (09:05)",
        ),
    ],  # fmt: skip
    "screen": [
        (
            "Drug screens and searches",
            "Unexpected positive",
            "Cup read 09:00, urine drug screen {cup} (admission): unexpected presumptive positive "
            "COC",
        ),
        (
            "Drug screens and searches",
            "Breath alcohol",
            "BrAC 0.045 at 13:00 (screening): positive",
        ),
        (
            "Drug screens and searches",
            "Contraband",
            "Belongings search (admission) at 14:00: contraband found: 1 × White powder",
        ),
    ],  # fmt: skip
    "trip": [
        ("Census", "Leave", "Left 09:30: appointment to Eastside Clinic"),
        ("Census", "Back", "Back 10:20 from appointment"),
        ("Medications", "Sent with client", "Echo 10 mg, due 09:30: 1 tab handed to escort"),
        (
            "Transport",
            "Trip",
            "Medical or dental appointment trip in Van 1: signed out 09:30, signed back in 10:20",
        ),
    ],  # fmt: skip
}
FACILITY_LINES = [
    ("Census", "Admission", "Nia Newcomb ({new}) admitted 10:05"),
    ("Census", "Discharge", "Gus Leaving ({gone}) discharged 11:40: Left against medical advice"),
    ("Census", "Overdue return", "Avery Outlate not back from pass: expected 14:00"),
    ("Medications", "Count variance", "Lorazepam 1 mg (house): counted 8, expected 10 at 09:00"),
    (
        "Transport",
        "Trip",
        "Medical or dental appointment trip in Van 1, driven by Technician: "
        "out 09:30, back 10:20; 1 client(s)",
    ),
]
AFTER_THE_SHIFT = "BrAC 0.077"


def _between(text: str, start: str, ends: list[str]) -> str:
    """The part of `text` from `start` to the first of `ends` found after it."""
    begin = text.index(start)
    stops = [i for i in (text.find(e, begin + len(start)) for e in ends) if i != -1]
    return text[begin : min(stops, default=len(text))]


@pytest.mark.django_db
def test_one_shift_with_every_domain_is_all_on_the_report_on_screen_and_in_the_pdf(
    client, cast, facility
):
    who = fill_the_shift(cast, facility)
    names = {k: f"{a.client.legal_first_name} {a.client.legal_last_name}" for k, a in who.items()
             if k != "cup"}  # fmt: skip
    fill = {"cup": who["cup"].specimen.specimen_id, "new": who["new"].client.mrn,
            "gone": who["gone"].client.mrn}  # fmt: skip
    query = {"day": DAY.isoformat(), "shift": "day"}

    with time_machine.travel(READ_AT, tick=False):
        report = build_shift_report(facility, day=DAY, shift_key="day", now=READ_AT)
        client.force_login(cast["nurse"])
        page = client.get(reverse("shift_report"), query)
        client.force_login(cast["supervisor"])
        printed = client.get(reverse("shift_report_pdf"), query)
    assert page.status_code == 200 and printed.status_code == 200
    assert printed["Content-Type"] == "application/pdf"
    body = page.content.decode()
    shown, pdf = screen_text(body), pdf_text(printed.content)
    assert "Day 07–15, Tue 12 May 2026" in shown and "Day 07–15, Tue 12 May 2026" in pdf

    # Order: the client at risk first of those to hand off; the quiet one after every one of
    # them, on one line of the quiet list (a row of the PDF's table), nowhere else.
    expanded = [b.client.name for b in report.expanded]
    assert expanded[0] == names["risk"]
    assert [b.client.name for b in report.quiet] == [names["quiet"]]
    assert set(expanded) == {n for k, n in names.items() if k != "quiet"}
    quiet = names["quiet"]
    for text in (shown, pdf):
        assert text.index(names["risk"]) < text.index(quiet)
        assert text.count(quiet) == 1
    quiet_list = body[body.index('<ul class="report-quiet">') :]
    quiet_list = quiet_list[: quiet_list.index("</ul>")]
    assert quiet_list.count("<li>") == 1 and quiet in quiet_list
    quiet_row = _between(pdf, "Quiet (1): nothing to hand off", ["42 CFR"])
    assert quiet in quiet_row and "In house" in quiet_row

    # Each client's lines, under that client and the section's heading.
    missing = []
    printed_clients = pdf[pdf.index("To hand off (7)") :]
    for key, lines in CLIENT_LINES.items():
        name = names[key]
        card = screen_text(_between(body, f">{name}</a>", ["</article>"]))
        others = [n for n in expanded if n != name] + ["Quiet ("]
        printed_card = _between(printed_clients, name, others)
        for title, tag, text in lines:
            text = text.format(**fill)
            if title not in card or f"{tag} {text}" not in card:
                missing.append(("screen", name, title, f"{tag} {text}"))
            if title not in printed_card or f"{tag}: {text}" not in printed_card:
                missing.append(("pdf", name, title, f"{tag}: {text}"))
    # The facility's lines, before the clients.
    facility_part = screen_text(_between(body, 'id="facility-h"', ['id="expanded-h"']))
    printed_facility = _between(pdf, "Census", ["To hand off ("])
    for title, tag, text in FACILITY_LINES:
        text = text.format(**fill)
        if title not in facility_part or f"{tag} {text}" not in facility_part:
            missing.append(("screen", "facility", title, f"{tag} {text}"))
        if title not in printed_facility or f"{tag}: {text}" not in printed_facility:
            missing.append(("pdf", "facility", title, f"{tag}: {text}"))
    assert missing == []

    # A minute after the shift: on neither; it is the evening's.
    assert AFTER_THE_SHIFT not in shown and AFTER_THE_SHIFT not in pdf
    evening = build_shift_report(facility, day=DAY, shift_key="evening", now=READ_AT)
    assert any(AFTER_THE_SHIFT in item.text for b in evening.clients for _, item in b.lines)
