"""The handoff (issue 15 item 3; specs/shift-report.md, Handoff): given by the outgoing, received
by someone else, frozen as printed with its SHA-256 (the database refuses changes), and a report
not received 30 minutes into the next shift alerts the supervisor, DST nights included."""

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from pypdf import PdfReader

from facility import tasks
from facility.handoff import (
    handoff_give,
    handoff_receive,
    scan_handoffs_unreceived,
    verify_frozen,
)
from facility.models import Alert, Handoff, Unit
from tests.conftest import admit

NY = ZoneInfo("America/New_York")


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(bytes(data))).pages)


def east(facility) -> Unit:
    return Unit.objects.get(facility=facility, name="East")


def night_of(day: date) -> dict:
    return {"day": day, "shift_key": "night"}


@pytest.mark.django_db
def test_a_received_handoff_is_frozen_as_printed_and_its_hash_verifies(cast, facility):
    with time_machine.travel(datetime(2026, 5, 12, 6, 50, tzinfo=NY), tick=False):
        stay = admit(facility, cast["nurse"], first="Marlo", last="Quill")
        unit = stay.unit
        given = handoff_give(
            actor=cast["nurse"], facility=facility, unit=unit, **night_of(date(2026, 5, 11))
        )
    assert given.given_by == cast["nurse"] and given.received_at is None
    with time_machine.travel(datetime(2026, 5, 12, 7, 5, tzinfo=NY), tick=False):
        received = handoff_receive(
            actor=cast["technician"], facility=facility, unit=unit, **night_of(date(2026, 5, 11))
        )
    row = Handoff.objects.get(pk=received.pk)
    assert row.received_by == cast["technician"]
    assert row.received_at == datetime(2026, 5, 12, 7, 5, tzinfo=NY)
    assert len(row.sha256) == 64 and verify_frozen(row)
    text = pdf_text(row.pdf)
    assert "Shift report" in text and "Quill" in text and unit.name in text
    assert "42 CFR part 2 prohibits unauthorized use" in text
    # Who gave it and who received it are part of what was frozen.
    assert f"Report given: {cast['nurse'].signature} at 06:50" in " ".join(text.split())
    assert f"Received: {cast['technician'].signature} at 07:05" in " ".join(text.split())
    # The same row with one byte changed would not verify.
    row.pdf = bytes(row.pdf)[:-1] + b"!"
    assert not verify_frozen(row)


@pytest.mark.django_db
def test_a_double_tap_is_refused_with_who_and_when(cast, facility):
    unit, night = east(facility), night_of(date(2026, 5, 11))
    with time_machine.travel(datetime(2026, 5, 12, 6, 50, tzinfo=NY), tick=False):
        handoff_give(actor=cast["nurse"], facility=facility, unit=unit, **night)
        with pytest.raises(ValidationError, match="already marked given by Nurse, RN at 06:50"):
            handoff_give(actor=cast["supervisor"], facility=facility, unit=unit, **night)
    with time_machine.travel(datetime(2026, 5, 12, 7, 2, tzinfo=NY), tick=False):
        handoff_receive(actor=cast["technician"], facility=facility, unit=unit, **night)
        with pytest.raises(ValidationError, match="already received by Technician, BHT at 07:02"):
            handoff_receive(actor=cast["supervisor"], facility=facility, unit=unit, **night)
        with pytest.raises(ValidationError, match="already received"):
            handoff_give(actor=cast["supervisor"], facility=facility, unit=unit, **night)
    assert Handoff.objects.count() == 1


@pytest.mark.django_db
def test_the_giver_cannot_receive_and_nothing_is_received_before_it_is_given(cast, facility):
    unit, night = east(facility), night_of(date(2026, 5, 11))
    with time_machine.travel(datetime(2026, 5, 12, 6, 55, tzinfo=NY), tick=False):
        with pytest.raises(ValidationError, match="must mark the report given first"):
            handoff_receive(actor=cast["technician"], facility=facility, unit=unit, **night)
        handoff_give(actor=cast["nurse"], facility=facility, unit=unit, **night)
        with pytest.raises(ValidationError, match="you gave this report"):
            handoff_receive(actor=cast["nurse"], facility=facility, unit=unit, **night)
    assert Handoff.objects.get().received_at is None


@pytest.mark.django_db
def test_a_shift_not_started_or_long_over_takes_no_handoff(cast, facility):
    with time_machine.travel(datetime(2026, 5, 12, 10, 0, tzinfo=NY), tick=False):
        with pytest.raises(ValidationError, match="has not started yet"):
            handoff_give(
                actor=cast["nurse"], facility=facility, unit=None,
                day=date(2026, 5, 12), shift_key="evening",
            )  # fmt: skip
        with pytest.raises(ValidationError, match="more than a day ago"):
            handoff_give(
                actor=cast["nurse"], facility=facility, unit=None,
                day=date(2026, 5, 9), shift_key="day",
            )  # fmt: skip
    assert not Handoff.objects.exists()


def _raw(sql: str, params) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_the_database_refuses_changing_a_received_handoff_and_deleting_any(cast, facility):
    unit, night = east(facility), night_of(date(2026, 5, 11))
    with time_machine.travel(datetime(2026, 5, 12, 6, 50, tzinfo=NY), tick=False):
        given = handoff_give(actor=cast["nurse"], facility=facility, unit=unit, **night)
    with pytest.raises(IntegrityError, match="never deleted"):
        _raw("DELETE FROM facility_handoff WHERE id = %s", [given.pk])
    with time_machine.travel(datetime(2026, 5, 12, 7, 5, tzinfo=NY), tick=False):
        received = handoff_receive(actor=cast["technician"], facility=facility, unit=unit, **night)
    original = (bytes(received.pdf), received.sha256)
    for sql, params in [
        ("UPDATE facility_handoff SET pdf = %s WHERE id = %s", [b"%PDF-forged", received.pk]),
        ("UPDATE facility_handoff SET sha256 = %s WHERE id = %s", ["0" * 64, received.pk]),
        ("UPDATE facility_handoff SET received_by_id = %s WHERE id = %s",
         [cast["supervisor"].pk, received.pk]),
        ("UPDATE facility_handoff SET received_at = now() WHERE id = %s", [received.pk]),
        ("UPDATE facility_handoff SET given_at = now() WHERE id = %s", [received.pk]),
        ("DELETE FROM facility_handoff WHERE id = %s", [received.pk]),
    ]:  # fmt: skip
        with pytest.raises(IntegrityError, match="frozen|never deleted"):
            _raw(sql, params)
    row = Handoff.objects.get(pk=received.pk)
    assert (bytes(row.pdf), row.sha256) == original and verify_frozen(row)


def open_handoff_alerts(facility, of: dict | None = None) -> dict[str, Alert]:
    """The home facility's open handoff alerts by unit name (the other facility, an hour behind,
    has its own), of one shift when `of` names it: the scan checks every shift of the last 24
    hours, so the shifts before it owe their reports too."""
    alerts = Alert.objects.open().filter(kind="handoff_unreceived", facility=facility)
    if of is not None:
        alerts = alerts.filter(dedupe_key__endswith=f":{of['day'].isoformat()}:{of['shift_key']}")
    return {a.message.split(":")[0]: a for a in alerts}


@pytest.mark.django_db
def test_not_received_thirty_minutes_into_the_next_shift_alerts_the_supervisor(cast, facility):
    night = night_of(date(2026, 5, 11))
    start = datetime(2026, 5, 12, 7, 0, tzinfo=NY)  # the day shift that takes over
    scan_handoffs_unreceived(now=start + timedelta(minutes=29))
    assert open_handoff_alerts(facility, night) == {}
    scan_handoffs_unreceived(now=start + timedelta(minutes=31))
    alerts = open_handoff_alerts(facility, night)
    assert sorted(alerts) == ["East", "West"]
    assert {(a.severity, a.audience) for a in alerts.values()} == {("warning", "supervisor")}
    assert "Night 23–07 shift report" in alerts["East"].message
    assert "day=2026-05-11&shift=night" in alerts["East"].link
    # Scanning again raises nothing new.
    assert scan_handoffs_unreceived(now=start + timedelta(minutes=45)) == 0
    # East's report received: East's alert closes (by the receiver), West's stays.
    with time_machine.travel(start + timedelta(minutes=40), tick=False):
        handoff_give(actor=cast["nurse"], facility=facility, unit=east(facility), **night)
        handoff_receive(actor=cast["technician"], facility=facility, unit=east(facility), **night)
    closed = Alert.objects.get(pk=alerts["East"].pk)
    assert closed.resolved_by == cast["technician"] and "Report received" in closed.resolution_note
    assert sorted(open_handoff_alerts(facility, night)) == ["West"]
    assert scan_handoffs_unreceived(now=start + timedelta(minutes=50)) == 0


@pytest.mark.django_db
def test_a_whole_facility_handoff_answers_every_unit(cast, facility):
    night, start = night_of(date(2026, 5, 11)), datetime(2026, 5, 12, 7, 0, tzinfo=NY)
    scan_handoffs_unreceived(now=start + timedelta(minutes=31))
    with time_machine.travel(start + timedelta(minutes=35), tick=False):
        handoff_give(actor=cast["nurse"], facility=facility, unit=None, **night)
        handoff_receive(actor=cast["supervisor"], facility=facility, unit=None, **night)
    assert open_handoff_alerts(facility, night) == {}
    assert scan_handoffs_unreceived(now=start + timedelta(minutes=40)) == 0


@pytest.mark.django_db
def test_the_spring_forward_night_is_seven_hours_and_alerts_at_0731_local(cast, facility):
    """2026-03-08, America/New_York: the night from 23:00 EST is 7 hours; the day shift starts
    07:00 EDT = 11:00 UTC, so the alert comes at 11:31 UTC (a fixed offset would say 12:31)."""
    night = night_of(date(2026, 3, 7))
    with time_machine.travel(datetime(2026, 3, 8, 7, 29, tzinfo=NY), tick=False):
        scan_handoffs_unreceived()
        assert open_handoff_alerts(facility, night) == {}
    with time_machine.travel(datetime(2026, 3, 8, 11, 31, tzinfo=ZoneInfo("UTC")), tick=False):
        tasks.scan_handoffs_unreceived()  # the Celery task, run in process
        assert sorted(open_handoff_alerts(facility, night)) == ["East", "West"]
        alert = open_handoff_alerts(facility, night)["East"]
        assert alert.dedupe_key.endswith(":2026-03-07:night")
        handoff_give(actor=cast["nurse"], facility=facility, unit=east(facility), **night)
        handoff = handoff_receive(
            actor=cast["technician"], facility=facility, unit=east(facility), **night
        )
    assert handoff.shift_start == datetime(2026, 3, 7, 23, 0, tzinfo=NY)
    assert "Sat 7 Mar 2026 23:00 – Sun 8 Mar 2026 07:00" in pdf_text(handoff.pdf)
    assert sorted(open_handoff_alerts(facility, night)) == ["West"]


@pytest.mark.django_db
def test_a_unit_without_active_beds_is_not_handed_over(cast, facility):
    west = Unit.objects.get(facility=facility, name="West")
    west.beds.update(active=False)
    start = datetime(2026, 5, 12, 15, 0, tzinfo=NY)  # evening: the day shift's report
    scan_handoffs_unreceived(now=start + timedelta(minutes=31))
    day_shift = {"day": date(2026, 5, 12), "shift_key": "day"}
    assert sorted(open_handoff_alerts(facility, day_shift)) == ["East"]
    assert "Day 07–15 shift report of Tue 12 May" in (
        open_handoff_alerts(facility, day_shift)["East"].message
    )


@pytest.mark.django_db
def test_a_skipped_scan_still_alerts_every_shift_of_the_last_day(cast, facility):
    """Decision (issue 15 review, 6): the scan checks every shift that ended within 24 hours,
    so a run the beat skipped at 07:30 still alerts at 15:31 for the night's report, once."""
    night = night_of(date(2026, 5, 11))
    at_1531 = datetime(2026, 5, 12, 15, 31, tzinfo=NY)
    scan_handoffs_unreceived(now=at_1531)
    mine = Alert.objects.open().filter(kind="handoff_unreceived", facility=facility)
    assert mine.count() == 2 * 3  # East and West, three shifts
    owed = {
        (key.rsplit(":", 2)[1], key.rsplit(":", 2)[2])
        for key in Alert.objects.open()
        .filter(kind="handoff_unreceived", facility=facility)
        .values_list("dedupe_key", flat=True)
    }
    # 15:31: the day (ended 15:00), the night (07:00) and the evening before (23:00), not the
    # day before it (ended 15:00 the day before, more than 24 hours ago).
    assert owed == {("2026-05-12", "day"), ("2026-05-11", "night"), ("2026-05-11", "evening")}
    assert sorted(open_handoff_alerts(facility, night)) == ["East", "West"]
    assert scan_handoffs_unreceived(now=at_1531 + timedelta(minutes=5)) == 0


def test_the_scan_is_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["handoffs-unreceived"]
    assert entry["task"] == "facility.tasks.scan_handoffs_unreceived"
    assert entry["schedule"] == settings.HAVEN_SCAN_SECONDS
