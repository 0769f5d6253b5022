"""Printing for survey (issue 15 item 5): one PDF for a period with a cover, a table of contents
whose page numbers are those the parts are printed on, PDF bookmarks, every shift report of the
period, rounds compliance and incidents; who may print it, and the form's hostile input."""

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils.html import escape
from pypdf import PdfReader

from facility.models import AccessEvent, Unit
from facility.pdf import PART2_STATEMENT_2
from observations.services.incidents import IncidentFields, incident_open, incident_submit
from tests.conftest import admit

NY = ZoneInfo("America/New_York")
# Thursday 14 May 2026, 10:00 in Alder House; the bundle covers Tuesday 12 and Wednesday 13.
NOW = datetime(2026, 5, 14, 10, 0, tzinfo=NY)
PERIOD = {"from": "2026-05-12", "to": "2026-05-13"}
SHIFTS = [
    f"{shift}, {day} May 2026"
    for day in ("Tue 12", "Wed 13")
    for shift in ("Day 07–15", "Evening 15–23", "Night 23–07")
]


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def census(cast, facility, now):
    """Two clients in since Monday, and an incident on Tuesday afternoon naming one of them,
    reported by the technician (who names nobody else)."""
    monday = datetime(2026, 5, 11, 12, 0, tzinfo=NY)
    first = admit(facility, cast["nurse"], first="Ansel", last="Printwell", admitted_at=monday)
    admit(facility, cast["nurse"], first="Bea", last="Quietly", n=1, admitted_at=monday)
    incident = incident_open(
        actor=cast["technician"],
        facility=facility,
        fields=IncidentFields(
            "aggression_peer",
            datetime(2026, 5, 12, 16, 30, tzinfo=NY),
            severity="minor",
            location="Day room",
            description="Pushed a peer near the window seat.",
            clients=(first,),
        ),
        now=datetime(2026, 5, 12, 16, 45, tzinfo=NY),
    )
    incident_submit(actor=cast["technician"], incident=incident)
    return first


def pages(data: bytes) -> list[str]:
    """Each page's text, its whitespace folded."""
    reader = PdfReader(io.BytesIO(data))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def outline(data: bytes) -> list:
    """The bookmarks as nested lists of titles."""
    reader = PdfReader(io.BytesIO(data))

    def titles(items):
        return [titles(i) if isinstance(i, list) else i.title for i in items]

    return titles(reader.outline)


def bookmarked_pages(data: bytes) -> dict[str, int]:
    """Each bookmark's title and the page (from 1) it opens."""
    reader = PdfReader(io.BytesIO(data))
    found = {}

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                found[item.title] = reader.get_destination_page_number(item) + 1

    walk(reader.outline)
    return found


def toc_page(text: str, title: str) -> int:
    """The page number the contents give for `title` (leader dots between them)."""
    found = re.search(re.escape(title) + r"[ .]*?(\d+)(?!\d)", text)
    assert found, (title, text)
    return int(found.group(1))


# ---------------------------------------------------------------- the bundle


@pytest.mark.django_db
def test_the_bundle_lists_every_shift_and_section_at_the_page_they_are_printed_on(
    client, cast, facility, census
):
    client.force_login(cast["supervisor"])
    response = client.get(reverse("survey_bundle"), {**PERIOD, "format": "pdf"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pages(response.content)

    # The cover: the title, the period and the whole Part 2 notice; statement 2 on every page.
    assert "Survey bundle" in text[0] and "2026-05-12 to 2026-05-13" in text[0]
    assert "This record which has been disclosed to you is protected" in text[0]
    assert all(PART2_STATEMENT_2 in page for page in text)

    # The contents: six shifts in order, then compliance and incidents, each with the page its
    # heading is printed on (where its bookmark opens, and the page shows it).
    contents = text[1]
    assert "Contents" in contents
    titles = [*SHIFTS, "Rounds compliance", "Incidents"]
    positions = [contents.index(t) for t in titles]
    assert positions == sorted(positions)
    printed = bookmarked_pages(response.content)
    assert printed["Shift reports"] == printed[SHIFTS[0]] == 3
    for title in titles:
        assert toc_page(contents, title) == printed[title], title
        assert title in text[printed[title] - 1], title
    assert [printed[t] for t in titles] == sorted({printed[t] for t in titles})

    # Every shift report's body, the compliance tables, the incident line without its narrative.
    assert sum("Printwell" in page for page in text[2:8]) == 6
    assert "Quiet (" in text[2] and "Per client" in " ".join(text)
    incidents = text[printed["Incidents"] - 1]
    assert "Aggression toward a peer" in incidents and "Day room" in incidents
    assert "Pushed a peer" not in " ".join(text)

    # Bookmarks: the parts, and each shift under "Shift reports".
    assert outline(response.content) == [
        "Contents",
        "Shift reports",
        SHIFTS,
        "Rounds compliance",
        "Incidents",
    ]

    event = AccessEvent.objects.filter(action="print").latest("id")
    assert (event.user, event.what) == (cast["supervisor"], "Survey bundle")


@pytest.mark.django_db
def test_a_nurse_prints_only_the_incidents_she_may_read_and_one_unit(
    client, cast, facility, census
):
    west = Unit.objects.get(facility=facility, name="West")
    client.force_login(cast["nurse"])
    response = client.get(
        reverse("survey_bundle"),
        {"from": "2026-05-13", "to": "2026-05-13", "unit": str(west.public_id), "format": "pdf"},
    )
    assert response.status_code == 200
    body = " ".join(pages(response.content))
    assert "Only the reports you may read are listed" in body
    assert "No incident reports in this period." in body and "Printwell" not in body
    assert outline(response.content)[2] == SHIFTS[3:]


@pytest.mark.django_db
def test_the_form_shows_what_the_bundle_will_hold(client, cast, facility, now):
    client.force_login(cast["nurse"])
    page = client.get(reverse("survey_bundle")).content.decode()
    assert 'name="from" value="2026-05-08"' in page and 'name="to" value="2026-05-14"' in page
    page = client.get(reverse("survey_bundle"), PERIOD).content.decode()
    assert "Shift reports (6)" in page and "Rounds compliance" in page and "Incidents" in page
    assert escape(f"{reverse('survey_bundle')}?from=2026-05-12&to=2026-05-13&format=pdf") in page
    # Today's evening and night shifts have not started: they are not in the bundle.
    page = client.get(reverse("survey_bundle"), {"from": "2026-05-14", "to": "2026-05-14"})
    assert "Shift reports (1)" in page.content.decode()


# ---------------------------------------------------------------- who


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, status",
    [("nurse", 200), ("supervisor", 200), ("technician", 403), ("clinician", 403), ("admin", 403)],
)
def test_nurses_and_supervisors_print_and_the_others_are_refused(client, cast, now, role, status):
    client.force_login(cast[role])
    assert client.get(reverse("survey_bundle")).status_code == status
    assert client.get(reverse("survey_bundle"), PERIOD).status_code == status


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in_and_another_facilitys_unit_is_not_found(
    client, cast, other_facility, now
):
    response = client.get(reverse("survey_bundle"), {**PERIOD, "format": "pdf"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    theirs = Unit.objects.filter(facility=other_facility).first()
    client.force_login(cast["nurse"])
    query = {**PERIOD, "unit": str(theirs.public_id), "format": "pdf"}
    assert client.get(reverse("survey_bundle"), query).status_code == 404
    assert not AccessEvent.objects.filter(action="print").exists()


# ---------------------------------------------------------------- hostile input


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, message",
    [
        ({"from": "2026-04-01", "to": "2026-05-13"}, "To: a bundle covers at most 31 days."),
        ({"from": "2026-05-13", "to": "2026-05-12"}, "To: not before the From date."),
        ({"from": "2026-05-12", "to": "9999-12-31"}, "To: enter a date between"),
        ({"from": "1900-01-01", "to": "2026-05-12"}, "From: enter a date between"),
        ({"from": "2026-05-15", "to": "2026-05-15"}, "From: enter a date between"),
        ({"from": "2026-13-45", "to": "2026-05-13"}, "From: enter a date (YYYY-MM-DD)."),
        ({"from": "", "to": "2026-05-13"}, "From: choose a date."),
        ({**PERIOD, "unit": "East"}, "Unit: choose one of this facility&#x27;s units."),
        ({**PERIOD, "unit": "x\x00y"}, "Unit: remove the control characters"),
        ({**PERIOD, "unit": "u" * 5000}, "Unit: at most 36 characters"),
    ],
)
def test_hostile_input_gets_a_field_message_and_prints_nothing(client, cast, now, query, message):
    client.force_login(cast["supervisor"])
    response = client.get(reverse("survey_bundle"), {**query, "format": "pdf"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AccessEvent.objects.filter(action="print").exists()
