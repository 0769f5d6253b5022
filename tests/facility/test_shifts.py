"""Shifts defined once, per facility: the 8-hour and 12-hour patterns, their bounds as real
instants across both DST nights, and the MAR shift view, shift-change counts and security rounds
of a 12-hour facility following its pattern."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from facility.models import Alert, Facility
from facility.shifts import (
    current_shift,
    security_windows,
    shift_bounds,
    shift_changes_between,
    shift_choices,
    shifts_for,
)
from medications.models import ControlledStock, Medication
from medications.services import (
    count_submit,
    order_transcribe,
    order_verify,
    scan_shift_counts,
    stock_receive,
)
from observations.security import window_at
from tests.conftest import make_user

NY = ZoneInfo("America/New_York")
CHI = ZoneInfo("America/Chicago")


def local(instant: datetime, tz=NY) -> str:
    return instant.astimezone(tz).strftime("%m-%d %H:%M")


# ------------------------------------------------------------------ the rules (pure)


@pytest.mark.parametrize(
    "pattern, choices",
    [
        ("8h", [("day", "Day 07–15"), ("evening", "Evening 15–23"), ("night", "Night 23–07")]),
        ("12h", [("day", "Day 07–19"), ("night", "Night 19–07")]),
    ],
)
def test_each_pattern_names_its_shifts_and_hours(pattern, choices):
    assert shift_choices(pattern) == choices
    # The shifts of a pattern cover the whole day, once.
    assert sum(s.hours for s in shifts_for(pattern)) == 24


def test_an_unknown_pattern_is_refused():
    with pytest.raises(ValueError, match="Unknown shift pattern"):
        shifts_for("10h")
    with pytest.raises(ValueError):
        shift_bounds(date(2026, 5, 12), "evening", "12h", NY)


@pytest.mark.parametrize(
    "pattern, day, key, start, end, hours",
    [
        # An ordinary day.
        ("8h", date(2026, 5, 12), "day", "05-12 07:00", "05-12 15:00", 8),
        ("8h", date(2026, 5, 12), "evening", "05-12 15:00", "05-12 23:00", 8),
        ("8h", date(2026, 5, 12), "night", "05-12 23:00", "05-13 07:00", 8),
        ("12h", date(2026, 5, 12), "day", "05-12 07:00", "05-12 19:00", 12),
        ("12h", date(2026, 5, 12), "night", "05-12 19:00", "05-13 07:00", 12),
        # Spring forward at 02:00 on 2026-03-08: the night that spans it loses an hour.
        ("8h", date(2026, 3, 7), "night", "03-07 23:00", "03-08 07:00", 7),
        ("12h", date(2026, 3, 7), "night", "03-07 19:00", "03-08 07:00", 11),
        ("8h", date(2026, 3, 8), "day", "03-08 07:00", "03-08 15:00", 8),
        ("12h", date(2026, 3, 8), "day", "03-08 07:00", "03-08 19:00", 12),
        # Fall back at 02:00 on 2026-11-01: the night that spans it gains one.
        ("8h", date(2026, 10, 31), "night", "10-31 23:00", "11-01 07:00", 9),
        ("12h", date(2026, 10, 31), "night", "10-31 19:00", "11-01 07:00", 13),
        ("8h", date(2026, 11, 1), "evening", "11-01 15:00", "11-01 23:00", 8),
        ("12h", date(2026, 11, 1), "night", "11-01 19:00", "11-02 07:00", 12),
    ],
)
def test_shift_bounds_are_real_instants_on_the_facility_clock(pattern, day, key, start, end, hours):
    a, b = shift_bounds(day, key, pattern, NY)
    assert a.tzinfo is UTC and b.tzinfo is UTC
    assert (local(a), local(b)) == (start, end)
    assert b - a == timedelta(hours=hours)


def test_dst_nights_in_utc():
    assert shift_bounds(date(2026, 3, 7), "night", "8h", NY) == (
        datetime(2026, 3, 8, 4, 0, tzinfo=UTC),
        datetime(2026, 3, 8, 11, 0, tzinfo=UTC),
    )
    assert shift_bounds(date(2026, 10, 31), "night", "8h", NY) == (
        datetime(2026, 11, 1, 3, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    "pattern, now, expected",
    [
        ("8h", datetime(2026, 5, 13, 6, 59, tzinfo=NY), (date(2026, 5, 12), "night")),
        ("8h", datetime(2026, 5, 13, 7, 0, tzinfo=NY), (date(2026, 5, 13), "day")),
        ("8h", datetime(2026, 5, 13, 14, 59, tzinfo=NY), (date(2026, 5, 13), "day")),
        ("8h", datetime(2026, 5, 13, 15, 0, tzinfo=NY), (date(2026, 5, 13), "evening")),
        ("8h", datetime(2026, 5, 13, 23, 0, tzinfo=NY), (date(2026, 5, 13), "night")),
        ("12h", datetime(2026, 5, 13, 15, 0, tzinfo=NY), (date(2026, 5, 13), "day")),
        ("12h", datetime(2026, 5, 13, 18, 59, tzinfo=NY), (date(2026, 5, 13), "day")),
        ("12h", datetime(2026, 5, 13, 19, 0, tzinfo=NY), (date(2026, 5, 13), "night")),
        ("12h", datetime(2026, 5, 14, 0, 30, tzinfo=NY), (date(2026, 5, 13), "night")),
        # The repeated hour of the fall-back night, both times round, is still that night.
        ("8h", datetime(2026, 11, 1, 5, 30, tzinfo=UTC), (date(2026, 10, 31), "night")),
        ("8h", datetime(2026, 11, 1, 6, 30, tzinfo=UTC), (date(2026, 10, 31), "night")),
        ("12h", datetime(2026, 11, 1, 11, 59, tzinfo=UTC), (date(2026, 10, 31), "night")),
        ("12h", datetime(2026, 11, 1, 12, 0, tzinfo=UTC), (date(2026, 11, 1), "day")),
        # Spring forward: 03:30 EDT exists, 02:30 never does.
        ("8h", datetime(2026, 3, 8, 3, 30, tzinfo=NY), (date(2026, 3, 7), "night")),
        ("8h", datetime(2026, 3, 8, 11, 0, tzinfo=UTC), (date(2026, 3, 8), "day")),
    ],
)
def test_current_shift(pattern, now, expected):
    assert current_shift(now, pattern, NY) == expected


def test_current_shift_reads_the_facility_clock_not_utc():
    now = datetime(2026, 5, 13, 12, 30, tzinfo=UTC)  # 08:30 in New York, 07:30 in Chicago
    assert current_shift(now, "8h", NY) == (date(2026, 5, 13), "day")
    assert current_shift(datetime(2026, 5, 13, 12, 30, tzinfo=UTC), "8h", CHI)[1] == "day"
    assert current_shift(datetime(2026, 5, 13, 11, 30, tzinfo=UTC), "8h", CHI)[1] == "night"


@pytest.mark.parametrize(
    "pattern, start, end, changes",
    [
        ("8h", "05-12 06:00", "05-13 06:00", ["05-12 07:00", "05-12 15:00", "05-12 23:00"]),
        ("12h", "05-12 06:00", "05-13 06:00", ["05-12 07:00", "05-12 19:00"]),
        # (start, end]: a change exactly at the start is not in, one exactly at the end is.
        ("12h", "05-12 07:00", "05-12 19:00", ["05-12 19:00"]),
        ("8h", "10-31 22:00", "11-01 08:00", ["10-31 23:00", "11-01 07:00"]),
    ],
)
def test_shift_changes_between(pattern, start, end, changes):
    def at(text):
        return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=NY)

    found = shift_changes_between(at(start), at(end), pattern, NY)
    assert [local(c) for c in found] == changes


def test_the_fall_back_night_is_nine_hours_between_shift_changes():
    start = datetime(2026, 10, 31, 22, 0, tzinfo=NY)
    a, b = shift_changes_between(start, start + timedelta(hours=11), "8h", NY)
    assert b - a == timedelta(hours=9)


@pytest.mark.parametrize(
    "pattern, windows",
    [
        ("8h", [(1, 3), (3, 5), (5, 7), (7, 15), (15, 23), (23, 25)]),
        ("12h", [(1, 3), (3, 5), (5, 7), (7, 19), (19, 21), (21, 23), (23, 25)]),
    ],
)
def test_security_windows_follow_the_pattern(pattern, windows):
    assert security_windows(pattern) == windows


def test_a_twelve_hour_facility_walks_the_day_once_and_the_evening_every_two_hours():
    day = window_at(datetime(2026, 5, 12, 17, 0, tzinfo=NY), NY, "12h")
    assert (day[0].strftime("%H:%M"), day[1].strftime("%H:%M")) == ("07:00", "19:00")
    evening = window_at(datetime(2026, 5, 12, 20, 0, tzinfo=NY), NY, "12h")
    assert (evening[0].strftime("%H:%M"), evening[1].strftime("%H:%M")) == ("19:00", "21:00")
    assert window_at(datetime(2026, 5, 12, 17, 0, tzinfo=NY), NY)[0].strftime("%H") == "15"


# ------------------------------------------------------------------ the facility reads it


@pytest.fixture
def twelve_hour(facility):
    facility.shift_pattern = "12h"
    facility.save(update_fields=["shift_pattern"])
    return facility


@pytest.mark.django_db
def test_a_new_facility_has_the_three_shift_pattern(facility):
    assert Facility.objects.get(pk=facility.pk).shift_pattern == "8h"
    assert facility.shift_choices()[1] == ("evening", "Evening 15–23")


@pytest.mark.django_db
def test_an_admin_sets_the_shift_pattern_in_setup(client, cast, facility):
    client.force_login(cast["admin"])
    url = reverse("admin:facility_facility_change", args=[facility.pk])
    assert 'name="shift_pattern"' in client.get(url).content.decode()
    units = list(facility.units.order_by("pk"))
    data = {
        "name": facility.name,
        "time_zone": facility.time_zone,
        "address": facility.address,
        "shift_pattern": "12h",
        "units-TOTAL_FORMS": str(len(units)),
        "units-INITIAL_FORMS": str(len(units)),
        "units-MIN_NUM_FORMS": "0",
        "units-MAX_NUM_FORMS": "1000",
    }
    for i, unit in enumerate(units):
        data.update(
            {
                f"units-{i}-id": unit.pk,
                f"units-{i}-facility": facility.pk,
                f"units-{i}-name": unit.name,
            }
        )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Facility.objects.get(pk=facility.pk).shift_pattern == "12h"


@pytest.fixture
def tid_order(cast, admission, facility):
    """Clonidine at 09:00, 13:00 and 17:00, verified at 06:00 on 12 May."""
    clonidine = Medication.objects.create(
        facility=facility, name="Clonidine", strength="0.1 mg", form="tablet", routes="oral"
    )
    with time_machine.travel(datetime(2026, 5, 12, 6, 0, tzinfo=NY), tick=False):
        admission.admitted_at = datetime(2026, 5, 11, 12, 0, tzinfo=NY)
        admission.save(update_fields=["admitted_at"])
        order = order_transcribe(
            actor=cast["nurse"], admission=admission, medication=clonidine, dose="0.1 mg",
            dose_units=Decimal("1"), route="oral", frequency="tid",
            start_at=admission.admitted_at, prescriber_name="Dr. Rivera",
            prescriber_credentials="MD",
        )  # fmt: skip
        order_verify(actor=make_user("nurse_two", "nurse", facility), order=order)
    return order


def dose_times(page: str) -> list[str]:
    return [part.split("</span>")[0] for part in page.split('<span class="dose-time">')[1:]]


@pytest.mark.django_db
def test_a_twelve_hour_facility_mar_shows_its_07_to_19_day(client, cast, twelve_hour, tid_order):
    client.force_login(cast["nurse"])
    with time_machine.travel(datetime(2026, 5, 12, 10, 0, tzinfo=NY), tick=False):
        page = client.get(reverse("medications:mar")).content.decode()
        night = client.get(reverse("medications:mar"), {"shift": "night"}).content.decode()
        evening = client.get(reverse("medications:mar"), {"shift": "evening"}).content.decode()
    assert "07:00–19:00" in page
    assert ">Day 07–19<" in page and ">Night 19–07<" in page and "Evening" not in page
    assert dose_times(page) == ["09:00", "13:00", "17:00"]
    assert "19:00–07:00" in night and dose_times(night) == []
    # A shift the pattern does not have falls back to the shift in progress.
    assert "07:00–19:00" in evening


@pytest.mark.django_db
def test_an_eight_hour_facility_mar_shows_its_07_to_15_day(client, cast, facility, tid_order):
    client.force_login(cast["nurse"])
    with time_machine.travel(datetime(2026, 5, 12, 10, 0, tzinfo=NY), tick=False):
        page = client.get(reverse("medications:mar")).content.decode()
    assert "07:00–15:00" in page and ">Evening 15–23<" in page
    assert dose_times(page) == ["09:00", "13:00"]


@pytest.mark.django_db
def test_a_twelve_hour_facility_owes_counts_at_07_and_19_only(cast, twelve_hour):
    lorazepam = Medication.objects.create(
        facility=twelve_hour, name="Lorazepam", strength="1 mg", form="tablet", routes="oral",
        controlled_schedule="IV",
    )  # fmt: skip
    with time_machine.travel(datetime(2026, 5, 12, 6, 0, tzinfo=NY), tick=False) as traveller:
        stock = ControlledStock.objects.create(facility=twelve_hour, medication=lorazepam)
        stock_receive(
            actor=cast["nurse"], stock=stock, quantity="30", witness=cast["technician"],
            source_document="INV-1",
        )  # fmt: skip
        traveller.move_to(datetime(2026, 5, 12, 6, 30, tzinfo=NY))
        count_submit(
            actor=cast["nurse"], second=cast["technician"], stock=stock, counted_quantity="30"
        )
        traveller.move_to(datetime(2026, 5, 12, 19, 59, tzinfo=NY))
        assert scan_shift_counts() == 0  # no 15:00 change on 12-hour shifts
        traveller.move_to(datetime(2026, 5, 12, 20, 1, tzinfo=NY))
        assert scan_shift_counts() == 1
        assert scan_shift_counts() == 0
    alert = Alert.objects.get(kind="count_missing")
    assert "19:00 shift change" in alert.message
