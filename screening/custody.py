"""Specimen temperature and chain-of-custody rules (specs/screening.md). Pure Python, no Django.

The service that appends custody events and the custody page both ask `custody_breaks`, so a
chain is judged the same way wherever it is shown.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, timedelta
from decimal import Decimal

# Acceptable specimen temperature, inclusive, in each unit (the CCF's 32-38 °C / 90-100 °F).
TEMPERATURE_RANGE = {"C": (Decimal(32), Decimal(38)), "F": (Decimal(90), Decimal(100))}
# The temperature must be read within this long of collection, inclusive.
TEMPERATURE_READ_WITHIN = timedelta(minutes=4)


def temperature_acceptable(*, value: Decimal, unit: str, read_after: timedelta) -> bool:
    """The specimen's temperature is in range, in the unit given, and was read in time.

    A reading dated before the collection (a negative `read_after`) cannot be trusted and is not
    acceptable: the specimen is flagged and an observed recollection offered. An unknown unit is
    a ValueError, never a silent pass."""
    try:
        low, high = TEMPERATURE_RANGE[unit]
    except KeyError:
        raise ValueError(f"unknown temperature unit: {unit!r} (use 'C' or 'F')") from None
    if read_after < timedelta(0) or read_after > TEMPERATURE_READ_WITHIN:
        return False
    return low <= Decimal(str(value)) <= high


def custody_breaks(events: Sequence[Mapping]) -> list[int]:
    """The 0-based indexes of the custody events that break the chain's rules, in order:

    - its `released_by` is not the previous event's `received_by` (a gap between holders);
    - its `at` is earlier than the previous event's (time went backward), as issue 13's
      interface says. A chain with one step back is already broken at that step, so a later
      event between the two times needs no second mark;
    - its seal is intact after an earlier event recorded it broken.
    The first event has no previous holder or time to break. Times are aware datetimes, compared
    as instants (in UTC: Python compares two times of one zone by the wall clock)."""
    breaks = []
    previous_at = None
    seal_broken = False
    previous = None
    for index, event in enumerate(events):
        at = event["at"]
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"event {index}: 'at' must be an aware datetime")
        # Python compares two datetimes of the same tzinfo by wall clock, ignoring DST's fold:
        # 01:10 EST (the second 01:xx of a November night) would sort before 01:30 EDT.
        at = at.astimezone(UTC)
        broken_here = previous is not None and event["released_by"] != previous["received_by"]
        broken_here = broken_here or (previous_at is not None and at < previous_at)
        broken_here = broken_here or (seal_broken and bool(event["seal_intact"]))
        if broken_here:
            breaks.append(index)
        if not event["seal_intact"]:
            seal_broken = True
        previous_at = at
        previous = event
    return breaks


# Breath alcohol (specs/screening.md, "Breath alcohol", Haven's defaults): any result above 0.000
# is positive; from 0.020 a repeat after 15 minutes; from 0.080, or any positive with withdrawal
# risk, vitals and a CIWA-Ar.
BAC_REPEAT_FROM = Decimal("0.020")
BAC_VITALS_FROM = Decimal("0.080")
BAC_REPEAT_AFTER = timedelta(minutes=15)
BAC_OBSERVATION = timedelta(minutes=15)


def bac_actions(brac: Decimal, *, withdrawal_risk: bool = False) -> list[str]:
    """What a BrAC reading asks for, a subset of ["positive", "repeat", "vitals_ciwa"] in that
    order. The value is compared as given (a Decimal, or a number read through its text), with
    no rounding: 0.0199 is below the repeat line. A negative reading is a ValueError."""
    value = brac if isinstance(brac, Decimal) else Decimal(str(brac))
    if not value.is_finite():
        raise ValueError(f"BrAC must be a number, not {brac!r}")
    if value < 0:
        raise ValueError(f"BrAC cannot be negative: {brac!r}")
    if value <= 0:
        return []
    actions = ["positive"]
    if value >= BAC_REPEAT_FROM:
        actions.append("repeat")
    if value >= BAC_VITALS_FROM or withdrawal_risk:
        actions.append("vitals_ciwa")
    return actions
