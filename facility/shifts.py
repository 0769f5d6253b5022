"""A facility's shifts, defined once: the pattern, its bounds and its changes (specs/mar.md, shift
count; specs/rounds.md, security rounds). Pure Python, no Django.

Shift hours are wall-clock hours on the facility's clock; every instant returned is a real UTC
instant, so a night that spans a DST change lasts what the clock says it lasted: an 8-hour night
is 7 hours in spring and 9 hours in autumn in America/New_York.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo


@dataclass(frozen=True)
class Shift:
    """One shift of a pattern: its key, name, start hour and nominal length in hours."""

    key: str
    name: str
    start_hour: int
    hours: int

    @property
    def end_hour(self) -> int:
        """The end on the wall clock, past 24 when the shift ends the next day."""
        return self.start_hour + self.hours

    @property
    def overnight(self) -> bool:
        return self.end_hour > 24

    @property
    def label(self) -> str:
        return f"{self.name} {self.start_hour:02d}–{self.end_hour % 24:02d}"


EIGHT_HOUR = "8h"
TWELVE_HOUR = "12h"
DEFAULT_PATTERN = EIGHT_HOUR

PATTERNS: dict[str, tuple[Shift, ...]] = {
    EIGHT_HOUR: (
        Shift("day", "Day", 7, 8),
        Shift("evening", "Evening", 15, 8),
        Shift("night", "Night", 23, 8),
    ),
    TWELVE_HOUR: (
        Shift("day", "Day", 7, 12),
        Shift("night", "Night", 19, 12),
    ),
}
PATTERN_CHOICES = [
    (EIGHT_HOUR, "Three 8-hour shifts: 07–15, 15–23, 23–07"),
    (TWELVE_HOUR, "Two 12-hour shifts: 07–19, 19–07"),
]

# Security rounds: one window per shift by day, every 2 hours through the night (specs/rounds.md).
NIGHT_ROUND_HOURS = 2


def shifts_for(pattern: str) -> tuple[Shift, ...]:
    """The shifts of a pattern, in order from the first morning shift; unknown → ValueError."""
    try:
        return PATTERNS[pattern]
    except KeyError:
        raise ValueError(f"Unknown shift pattern: {pattern!r}") from None


def shift_choices(pattern: str) -> list[tuple[str, str]]:
    """(key, label) pairs for a shift picker: [("day", "Day 07–15"), ...]."""
    return [(s.key, s.label) for s in shifts_for(pattern)]


def _shift(pattern: str, key: str) -> Shift:
    for s in shifts_for(pattern):
        if s.key == key:
            return s
    raise ValueError(f"No {key!r} shift in the {pattern} pattern.")


def _instant(day: date, hour: int, tz: tzinfo) -> datetime:
    """`hour` (may pass 24) on the wall clock from `day`, as a UTC instant.

    A wall time skipped by spring-forward lands an hour later; a repeated one is its first.
    """
    local = datetime.combine(day + timedelta(days=hour // 24), time(hour % 24), tzinfo=tz)
    return local.astimezone(UTC)


def shift_bounds(day: date, key: str, pattern: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of the `key` shift that starts on local `day`, as UTC instants."""
    s = _shift(pattern, key)
    return _instant(day, s.start_hour, tz), _instant(day, s.end_hour, tz)


def current_shift(now: datetime, pattern: str, tz: tzinfo) -> tuple[date, str]:
    """(local day the shift started, shift key) of the shift in progress at `now`."""
    if now.tzinfo is None:
        raise ValueError("`now` must be time-zone aware.")
    today = now.astimezone(tz).date()
    for day in (today, today - timedelta(days=1)):
        for s in shifts_for(pattern):
            start, end = shift_bounds(day, s.key, pattern, tz)
            if start <= now < end:
                return day, s.key
    raise ValueError("No shift covers this moment.")  # only a pattern with a gap gets here


def shift_changes_between(
    start: datetime, end: datetime, pattern: str, tz: tzinfo
) -> list[datetime]:
    """The shift changes in (start, end], in order, as UTC instants."""
    out = []
    day = start.astimezone(tz).date() - timedelta(days=1)
    while day <= end.astimezone(tz).date():
        for s in shifts_for(pattern):
            moment = _instant(day, s.start_hour, tz)
            if start < moment <= end:
                out.append(moment)
        day += timedelta(days=1)
    return sorted(out)


def security_windows(pattern: str) -> list[tuple[int, int]]:
    """Security round windows as (start hour, end hour) of one day, ordered from 01:00.

    Each day shift is one window; an overnight shift is cut into 2-hour windows. An end past 24
    is the next day; a window starting before 07:00 belongs to the night that began the day
    before, so the list for a day starts after midnight and ends with the window across it.
    """
    windows = []
    for s in shifts_for(pattern):
        if not s.overnight:
            windows.append((s.start_hour, s.end_hour))
            continue
        for h in range(s.start_hour, s.end_hour, NIGHT_ROUND_HOURS):
            a, b = h, min(h + NIGHT_ROUND_HOURS, s.end_hour)
            # The windows after midnight belong to the calendar day they fall on.
            windows.append((a - 24, b - 24) if a >= 24 else (a, b))
    return sorted(windows)
