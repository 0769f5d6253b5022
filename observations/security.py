"""The facility security round schedule (specs/rounds.md): every 2 hours on nights, once per
shift on days. Pure Python: windows on the facility's wall clock, returned as aware datetimes."""

from datetime import UTC, date, datetime, timedelta

from facility.shifts import DEFAULT_PATTERN, security_windows

# The windows follow the facility's shift pattern (facility/shifts.py): (start hour, end hour) on
# the wall clock; a window ending at 24 or later ends the next day.


def windows_for_day(
    day: date, tz, pattern: str = DEFAULT_PATTERN
) -> list[tuple[datetime, datetime]]:
    """The round windows starting on `day`, in order, as aware datetimes in `tz`."""
    out = []
    for start_hour, end_hour in security_windows(pattern):
        start = datetime(day.year, day.month, day.day, start_hour, tzinfo=tz)
        end_day = day + timedelta(days=end_hour // 24)
        end = datetime(end_day.year, end_day.month, end_day.day, end_hour % 24, tzinfo=tz)
        out.append((start, end))
    return out


def windows_between(
    start: datetime, end: datetime, tz, pattern: str = DEFAULT_PATTERN
) -> list[tuple[datetime, datetime]]:
    """Windows that end in (start, end]: the ones whose deadline passed in that span."""
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    found = []
    day = first
    while day <= last:
        for a, b in windows_for_day(day, tz, pattern):
            if start.astimezone(UTC) < b.astimezone(UTC) <= end.astimezone(UTC):
                found.append((a, b))
        day += timedelta(days=1)
    return found


def window_at(moment: datetime, tz, pattern: str = DEFAULT_PATTERN) -> tuple[datetime, datetime]:
    """The window in progress at `moment`."""
    day = moment.astimezone(tz).date()
    for d in (day - timedelta(days=1), day):
        for a, b in windows_for_day(d, tz, pattern):
            if a.astimezone(UTC) <= moment.astimezone(UTC) < b.astimezone(UTC):
                return a, b
    raise ValueError("No security window covers this moment.")
