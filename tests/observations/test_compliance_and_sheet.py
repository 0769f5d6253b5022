"""The compliance report and the printed observation sheet agree with the scan's block rules."""

import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader

from facility.models import AccessEvent
from observations.compliance import compliance, local_day
from observations.models import RoundCheck, RoundCode
from observations.services import RoundEntry, round_submit
from tests.conftest import admit

NY = ZoneInfo("America/New_York")


def chart(admission, user, observed, recorded=None):
    facility = admission.facility
    round_submit(
        actor=user,
        facility=facility,
        submission_key=uuid.uuid4(),
        observed_at=observed,
        entries=[
            RoundEntry(
                admission,
                RoundCode.objects.get(facility=facility, kind="location", code="RM"),
                RoundCode.objects.get(facility=facility, kind="status", code="A"),
            )
        ],
        late_reason="late" if recorded else "",
        now=recorded or observed,
    )


@pytest.fixture
def morning(cast, facility):
    """A client admitted 07:00, checked 07:03 and 07:31 (07:15 and 07:45 missed), one late."""
    with time_machine.travel(datetime(2026, 5, 12, 7, 0, tzinfo=NY), tick=False):
        stay = admit(facility, cast["nurse"], admitted_at=datetime(2026, 5, 12, 7, 0, tzinfo=NY))
    chart(stay, cast["technician"], datetime(2026, 5, 12, 7, 3, tzinfo=NY))
    # Observed 07:31 but only recorded at 07:51 (a sheet charted after a code): more than
    # 5 minutes after its block ended, so a late entry. The board cannot make one; the
    # report must still count it.
    RoundCheck.objects.create(
        admission=stay,
        observed_at=datetime(2026, 5, 12, 7, 31, tzinfo=NY),
        recorded_at=datetime(2026, 5, 12, 7, 51, tzinfo=NY),
        recorded_by=cast["nurse"],
        location=RoundCode.objects.get(facility=facility, kind="location", code="DR"),
        status=RoundCode.objects.get(facility=facility, kind="status", code="E"),
        late_reason="Charted after a code",
        submission_key=uuid.uuid4(),
    )
    return stay


@pytest.mark.django_db
def test_compliance_counts_blocks_per_client_and_staff(cast, facility, morning):
    start = datetime(2026, 5, 12, 7, 0, tzinfo=NY)
    per_client, per_staff, total = compliance(facility, start=start, end=start + timedelta(hours=1))
    ((_, tally),) = per_client
    assert (tally.due, tally.done, tally.late, tally.missed) == (4, 2, 1, 2)
    assert [b.strftime("%H:%M") for b in tally.missed_blocks] == ["07:15", "07:45"]
    assert tally.done_pct == "50%"
    staff = {person.username: t for person, t in per_staff}
    assert staff["technician"].done == 1 and staff["nurse"].late == 1


@pytest.mark.django_db
def test_compliance_page_and_pdf(client, cast, facility, morning):
    client.force_login(cast["supervisor"])
    url = reverse("observations:compliance")
    page = client.get(url, {"start": "2026-05-12", "end": "2026-05-12"}).content.decode()
    assert morning.client.mrn in page
    response = client.get(url, {"start": "2026-05-12", "end": "2026-05-12", "format": "pdf"})
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Rounds compliance" in text and morning.client.mrn in text
    assert AccessEvent.objects.filter(action="print", what="Rounds compliance").exists()
    bad = client.get(url, {"start": "2026-05-12", "end": "2026-05-01"}).content.decode()
    assert "To: must not be before From." in bad


@pytest.mark.django_db
def test_observation_sheet_has_96_slots_with_marks_and_notice(client, cast, facility, morning):
    client.force_login(cast["technician"])
    url = reverse("observations:observation_sheet", args=[morning.public_id])
    response = client.get(url, {"date": "2026-05-12"})
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = re.sub(r"\s+", " ", reader.pages[0].extract_text())
    slots = re.findall(r"\b([01]\d|2[0-3]):(00|15|30|45)\b", text)
    assert len({f"{h}:{m}" for h, m in slots}) == 96
    assert text.count("MISSED") >= 2
    assert "LATE" in text
    assert "42 CFR part 2 prohibits unauthorized use or disclosure of these records." in text
    assert "TE = Technician, BHT" in text
    event = AccessEvent.objects.get(action="print")
    assert event.client_public_id == morning.client.public_id


def test_local_day_is_23_or_25_hours_on_dst_days(db):
    from facility.models import Facility

    facility = Facility(name="x", time_zone="America/New_York")
    spring = [t.astimezone(UTC) for t in local_day(facility, date(2026, 3, 8))]
    fall = [t.astimezone(UTC) for t in local_day(facility, date(2026, 11, 1))]
    assert spring[1] - spring[0] == timedelta(hours=23)
    assert fall[1] - fall[0] == timedelta(hours=25)


@pytest.mark.django_db
def test_checks_in_the_repeated_fall_back_hour_are_not_called_late(cast, facility):
    from observations.compliance import compliance

    admitted = datetime(2026, 11, 1, 0, 50, tzinfo=NY)
    with time_machine.travel(admitted, tick=False):
        stay = admit(facility, cast["nurse"], admitted_at=admitted)
    # One on-time check in each quarter of both 01:00 hours.
    moment = datetime(2026, 11, 1, 1, 2, tzinfo=NY).astimezone(UTC)
    for _ in range(8):
        chart(stay, cast["technician"], moment)
        moment += timedelta(minutes=15)
    start = datetime(2026, 11, 1, 1, 0, tzinfo=NY)
    end = datetime(2026, 11, 1, 2, 0, tzinfo=NY)  # EST: two real hours later
    ((_, tally),) = compliance(facility, start=start, end=end)[0]
    assert (tally.due, tally.done, tally.late, tally.missed) == (8, 8, 0, 0)


# ---------------------------------------------------------------- issue 10: printing fixed


@pytest.mark.django_db
def test_print_works_on_first_use_from_a_page_opened_without_a_query(client, cast, facility):
    """Issue 10: "The compliance 'Print' link fails on first use" (it printed the form again)."""
    client.force_login(cast["supervisor"])
    url = reverse("observations:compliance")
    page = client.get(url).content.decode()
    (href,) = re.findall(r'href="(\?[^"]*format=pdf[^"]*)"', page)
    response = client.get(url + href.replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    # A bare ?format=pdf (an old bookmark) prints today's report too.
    assert client.get(url, {"format": "pdf"})["Content-Type"] == "application/pdf"


@pytest.mark.django_db
def test_compliance_page_needs_login_and_the_print_permission(client, cast, facility):
    url = reverse("observations:compliance")
    assert client.get(url).status_code == 302
    client.force_login(cast["technician"])
    assert client.get(url).status_code == 403
    client.force_login(cast["supervisor"])
    page = client.get(url, {"start": "2026-05-12", "end": "2026-05-40"}).content.decode()
    assert "To: enter a valid date." in page


def sheet_text(client, admission, day):
    url = reverse("observations:observation_sheet", args=[admission.public_id])
    response = client.get(url, {"date": day})
    assert response.status_code == 200
    return re.sub(r"\s+", " ", PdfReader(io.BytesIO(response.content)).pages[0].extract_text())


@pytest.mark.django_db
def test_sheet_for_today_prints_future_slots_blank_and_the_level_with_its_period(
    client, cast, facility, morning
):
    client.force_login(cast["technician"])
    with time_machine.travel(datetime(2026, 5, 12, 8, 5, tzinfo=NY), tick=False):
        text = sheet_text(client, morning, "2026-05-12")
    # 07:15 and 07:45 missed; 08:00 is still running and the rest of the day is to come.
    assert text.count("MISSED") == 2
    assert "Level(s) in force: q15 Close 07:00–now (08:05)" in text
    assert "00:00–00:00" not in text and "q15 07" not in text


@pytest.mark.django_db
def test_sheet_of_a_past_day_shows_labels_periods_and_a_missed_first_check(
    client, cast, facility, morning
):
    from observations.models import LevelOrder

    LevelOrder.objects.create(
        admission=morning,
        level="one_to_one",
        kind="order",
        reason="Voiced a plan",
        effective_from=datetime(2026, 5, 13, 9, 10, tzinfo=NY),
        ordered_by=cast["clinician"],
    )
    client.force_login(cast["technician"])
    text = sheet_text(client, morning, "2026-05-13")
    assert (
        "Level(s) in force: q15 Close 00:00–09:10 (since 2026-05-12 07:00); 1:1 09:10–24:00"
    ) in text
    assert "MISSED 1st by 09:25" in text  # the 1:1 first window, no entry by the observer
    assert "Blank = not due yet" in text


@pytest.mark.django_db
def test_a_garbled_unit_on_the_compliance_page_gets_the_units_message(client, cast, facility):
    client.force_login(cast["supervisor"])
    page = client.get(reverse("observations:compliance"), {"unit": "garbage"})
    assert page.status_code == 200
    assert "Unit: choose one of this facility&#x27;s units." in page.content.decode()
    assert "not a valid UUID" not in page.content.decode()
