"""transport/rules.py trip_status against issue 14's interface and specs/transport.md."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from transport.rules import trip_status

PLANNED = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
SEC = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("after", "status"),
    [
        (-120 * MIN, "out"),
        (0 * MIN, "out"),
        (15 * MIN - SEC, "out"),
        (15 * MIN, "overdue"),
        (59 * MIN, "overdue"),
        (60 * MIN - SEC, "overdue"),
        (60 * MIN, "critical"),
        (24 * 60 * MIN, "critical"),
    ],
)
def test_status_by_minutes_past_the_planned_return(after, status):
    assert trip_status(PLANNED, PLANNED + after) == status


@pytest.mark.parametrize("after", [-60 * MIN, 20 * MIN, 300 * MIN])
def test_a_trip_that_came_back_is_returned_whatever_the_time(after):
    assert trip_status(PLANNED, PLANNED + after, returned_at=PLANNED + after) == "returned"


def test_minutes_are_real_across_the_fall_back_night():
    new_york = ZoneInfo("America/New_York")
    # Planned back at 01:50 EDT; at 01:10 EST (fold=1) 20 real minutes have passed although the
    # wall clock went back 40 minutes.
    planned = datetime(2026, 11, 1, 1, 50, tzinfo=new_york)
    now = datetime(2026, 11, 1, 1, 10, tzinfo=new_york, fold=1)
    assert trip_status(planned, now) == "overdue"
    # 01:40 EST is 50 real minutes after 01:50 EDT; 01:50 EST is 60.
    assert trip_status(planned, now.replace(minute=40)) == "overdue"
    assert trip_status(planned, now.replace(minute=50)) == "critical"


def test_minutes_are_real_across_the_spring_forward_night():
    new_york = ZoneInfo("America/New_York")
    # Planned back at 01:50 EST on 8 March 2026; 03:05 EDT is 15 real minutes later.
    planned = datetime(2026, 3, 8, 1, 50, tzinfo=new_york)
    assert trip_status(planned, datetime(2026, 3, 8, 3, 4, tzinfo=new_york)) == "out"
    assert trip_status(planned, datetime(2026, 3, 8, 3, 5, tzinfo=new_york)) == "overdue"
    assert trip_status(planned, datetime(2026, 3, 8, 3, 50, tzinfo=new_york)) == "critical"


def test_times_in_different_zones_are_compared_as_instants():
    berlin = PLANNED.astimezone(ZoneInfo("Europe/Berlin"))
    assert trip_status(berlin, PLANNED + 16 * MIN) == "overdue"


def test_a_naive_time_is_refused():
    naive = datetime(2026, 11, 30, 15, 0)  # noqa: DTZ001 (the point of the test)
    with pytest.raises(ValueError, match="aware"):
        trip_status(naive, PLANNED)
