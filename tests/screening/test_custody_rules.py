"""screening/custody.py against specs/screening.md: the temperature window and range, and the
chain-of-custody rules (issue 13's test interface)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from screening.custody import custody_breaks, temperature_acceptable

MIN = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("value", "unit", "read_after", "ok"),
    [
        # The range is inclusive at both ends, in the unit given.
        ("32", "C", 0 * MIN, True),
        ("38", "C", 0 * MIN, True),
        ("31.9", "C", 0 * MIN, False),
        ("38.1", "C", 0 * MIN, False),
        ("35.5", "C", 2 * MIN, True),
        ("90", "F", 1 * MIN, True),
        ("100", "F", 1 * MIN, True),
        ("89.9", "F", 1 * MIN, False),
        ("100.1", "F", 1 * MIN, False),
        # 95 is in range in °F and far out of range in °C: never converted.
        ("95", "F", 1 * MIN, True),
        ("95", "C", 1 * MIN, False),
        ("35", "F", 1 * MIN, False),
        # Read within 4 minutes, inclusive.
        ("36", "C", 4 * MIN, True),
        ("36", "C", 4 * MIN + timedelta(seconds=1), False),
        ("36", "C", 10 * MIN, False),
        # A reading dated before the collection is not trusted.
        ("36", "C", -timedelta(seconds=1), False),
    ],
)
def test_temperature_acceptable(value, unit, read_after, ok):
    assert temperature_acceptable(value=Decimal(value), unit=unit, read_after=read_after) is ok


@pytest.mark.parametrize("unit", ["K", "c", "", "celsius"])
def test_an_unknown_unit_is_refused_not_passed(unit):
    with pytest.raises(ValueError, match="unit"):
        temperature_acceptable(value=Decimal(36), unit=unit, read_after=MIN)


T0 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def event(minutes, released, received, seal=True, tz=UTC):
    return {
        "at": (T0 + timedelta(minutes=minutes)).astimezone(tz),
        "released_by": released,
        "received_by": received,
        "seal_intact": seal,
    }


def test_an_unbroken_chain_has_no_breaks():
    chain = [
        event(0, "Client A", "Tech Lee"),
        event(5, "Tech Lee", "Storage fridge 2"),
        event(120, "Storage fridge 2", "Courier J. Ruiz (LabCo)"),
        event(240, "Courier J. Ruiz (LabCo)", "LabCo accessioning"),
    ]
    assert custody_breaks(chain) == []


def test_an_empty_or_single_event_chain_has_no_breaks():
    assert custody_breaks([]) == []
    assert custody_breaks([event(0, "Client A", "Tech Lee")]) == []


def test_a_gap_between_holders_breaks_at_the_event_that_skips():
    chain = [
        event(0, "Client A", "Tech Lee"),
        event(5, "Tech Kim", "Storage fridge 2"),
        event(10, "Storage fridge 2", "Courier"),
    ]
    assert custody_breaks(chain) == [1]


def test_holders_are_compared_exactly():
    chain = [event(0, "Client A", "Tech Lee"), event(5, "tech lee", "Fridge")]
    assert custody_breaks(chain) == [1]


def test_time_going_backward_breaks_and_equal_times_do_not():
    chain = [
        event(0, "Client A", "Tech Lee"),
        event(0, "Tech Lee", "Fridge"),
        event(-1, "Fridge", "Courier"),
    ]
    assert custody_breaks(chain) == [2]


def test_time_is_compared_with_the_previous_event_as_the_interface_says():
    chain = [
        event(60, "Client A", "Tech Lee"),
        event(0, "Tech Lee", "Fridge"),
        event(30, "Fridge", "Courier"),
        event(90, "Courier", "Lab"),
        event(80, "Lab", "Lab storage"),
    ]
    assert custody_breaks(chain) == [1, 4]


def test_times_are_compared_as_instants_across_zones_and_dst():
    new_york = ZoneInfo("America/New_York")
    # 2026-11-01 01:30 happens twice in New York; the second one (EST) is an hour later.
    first = datetime(2026, 11, 1, 1, 30, tzinfo=new_york, fold=0)
    second = datetime(2026, 11, 1, 1, 10, tzinfo=new_york, fold=1)
    chain = [
        {"at": first, "released_by": "Client A", "received_by": "Tech", "seal_intact": True},
        {"at": second, "released_by": "Tech", "received_by": "Fridge", "seal_intact": True},
    ]
    assert second.astimezone(UTC) > first.astimezone(UTC)
    assert custody_breaks(chain) == []
    # The same wall-clock order in UTC+2 for a later instant is not backward either.
    later_elsewhere = (first + timedelta(minutes=1)).astimezone(ZoneInfo("Europe/Berlin"))
    chain[1]["at"] = later_elsewhere
    assert custody_breaks(chain) == []
    chain[1]["at"] = (first - timedelta(minutes=1)).astimezone(ZoneInfo("Asia/Tokyo"))
    assert custody_breaks(chain) == [1]


def test_a_seal_recorded_broken_is_never_intact_again():
    chain = [
        event(0, "Client A", "Tech Lee"),
        event(5, "Tech Lee", "Fridge", seal=False),
        event(10, "Fridge", "Courier", seal=False),
        event(15, "Courier", "Lab", seal=True),
        event(20, "Lab", "Lab storage", seal=True),
    ]
    assert custody_breaks(chain) == [3, 4]


def test_a_broken_seal_on_the_first_event_makes_every_later_intact_seal_a_break():
    chain = [event(0, "Client A", "Tech Lee", seal=False), event(5, "Tech Lee", "Fridge")]
    assert custody_breaks(chain) == [1]


def test_one_event_breaking_several_rules_is_listed_once():
    chain = [
        event(10, "Client A", "Tech Lee", seal=False),
        event(0, "Somebody else", "Fridge", seal=True),
    ]
    assert custody_breaks(chain) == [1]


def test_a_naive_time_is_refused():
    naive = datetime(2026, 11, 30, 14, 0)  # noqa: DTZ001 (the point of the test)
    chain = [{"at": naive, "released_by": "A", "received_by": "B", "seal_intact": True}]
    with pytest.raises(ValueError, match="aware"):
        custody_breaks(chain)
