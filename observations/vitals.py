"""When a client's vital signs are owed, and what the board, the census, the vitals round and the
overdue scan call it (issue 11 item 3). Pure: no Django import.

One rule for every page and the scan, as `services.round_state` is for rounds:

- `vitals_due` says when the next set is owed;
- `vitals_state` says whether that is "ok" (not yet), "due_soon", "due" or "overdue".

Readings chosen where specs/scales.md is silent (the safer one each time):

- Intervals are elapsed time, not wall-clock time: "every 4 hours" across the spring-forward
  night is 4 real hours (so 00:00 → 05:00 local), never 5.
- With no set since the schedule started, the first set is owed `every_minutes` after the start
  (the admission, or the schedule now in force). But a set taken before a new schedule counts
  toward it: a tightened schedule (daily → every hour) owes the next set one new interval after the
  last set, and at once if that moment has passed; never later than one interval after the start.
- A set owed while the client was off site is owed on return: due at the return, so it is not
  silently skipped, and overdue after the usual grace from then.
- "Due soon" opens DUE_SOON before the set is owed; "overdue" starts OVERDUE_AFTER after it. Both
  are at most a quarter of the interval, so an hourly schedule is overdue 15 minutes after its
  set was owed, not 30.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

DUE_SOON = timedelta(minutes=30)
OVERDUE_AFTER = timedelta(minutes=30)


def _aware(*values: datetime | None) -> None:
    for value in values:
        if value is not None and value.utcoffset() is None:
            raise ValueError("times must be timezone-aware")


def _utc(value: datetime) -> datetime:
    # Python adds and compares datetimes sharing one tzinfo by their wall clocks, so 00:00 + 4 h
    # in New York on the spring-forward night would be 04:00 (3 real hours): work in UTC.
    return value.astimezone(UTC)


def vitals_due(
    *,
    last_taken_at: datetime | None,
    every_minutes: int,
    since: datetime,
    leaves: Iterable[tuple[datetime, datetime | None]] = (),
) -> datetime:
    """The moment the next set is owed (see the module docstring).

    `since`: the admission, or the start of the schedule in force when later. `leaves`:
    (left_at, returned_at or None) of the stay's leaves; a set owed during a finished leave is owed
    at the return (an open leave is the caller's "off site"). Returned in UTC."""
    if every_minutes <= 0:
        raise ValueError("every_minutes must be positive")
    _aware(last_taken_at, since)
    since = _utc(since)
    last_taken_at = _utc(last_taken_at) if last_taken_at is not None else None
    every = timedelta(minutes=every_minutes)
    if last_taken_at is None:
        due = since + every
    elif last_taken_at >= since:
        due = last_taken_at + every
    else:
        # A set before the schedule started counts, but the new order is not owed before it
        # existed: at once when the last set is older than the new interval.
        due = max(since, min(last_taken_at + every, since + every))
    for left_at, returned_at in leaves:
        _aware(left_at, returned_at)
        if returned_at is not None and _utc(left_at) <= due < _utc(returned_at):
            due = _utc(returned_at)
    return due


def _window(every_minutes: int, most: timedelta) -> timedelta:
    return min(most, timedelta(minutes=every_minutes) / 4)


def overdue_at(due_at: datetime, every_minutes: int) -> datetime:
    """When a set owed at `due_at` becomes overdue (the scan's alert time)."""
    return _utc(due_at) + _window(every_minutes, OVERDUE_AFTER)


def vitals_state(*, now: datetime, due_at: datetime, every_minutes: int) -> str:
    """ "ok" before the due-soon window, then "due_soon", "due" from `due_at`, and "overdue" from
    `overdue_at`. The one rule of the board, the census, the vitals round and the scan."""
    _aware(now, due_at)
    now, due_at = _utc(now), _utc(due_at)
    if now >= overdue_at(due_at, every_minutes):
        return "overdue"
    if now >= due_at:
        return "due"
    if now >= due_at - _window(every_minutes, DUE_SOON):
        return "due_soon"
    return "ok"


def every_text(every_minutes: int) -> str:
    """ "every 4 h", "every 90 min", "daily"."""
    if every_minutes == 24 * 60:
        return "daily"
    if every_minutes % 60 == 0:
        return f"every {every_minutes // 60} h"
    return f"every {every_minutes} min"
