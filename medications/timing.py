"""Dose times, dose windows, dose status and PRN reassessment timing (specs/mar.md). Pure Python,
no Django.

All boundaries are inclusive, as the spec's examples show: a daily 09:00 dose is `due` at
exactly 07:00 and at exactly 11:00, `late` from just after 11:00, `missed` at 13:00.

Python compares and subtracts two datetimes of the same zone by wall clock, so every function
here first turns its datetimes into UTC instants: windows are real elapsed minutes, and the same
instants give the same answer whatever zone they carry, DST nights included (issue 9).
"""

import re
from datetime import UTC, datetime, time, timedelta, tzinfo

# Routes by how soon a PRN dose works enough to reassess (specs/mar.md, PRN).
SLOW_ROUTES = {"oral", "po", "sublingual", "sl", "rectal", "pr", "topical", "transdermal", "td"}
FAST_ROUTES = {
    "im", "intramuscular", "iv", "intravenous", "sc", "subq", "subcutaneous",
    "inhaled", "inh", "intranasal", "in",
}  # fmt: skip
REASSESSMENT_GRACE = timedelta(minutes=30)

# Default local administration times per frequency (facility pharmacy schedule, *default*).
DEFAULT_TIMES = {
    "daily": ["09:00"],
    "bid": ["09:00", "21:00"],
    "tid": ["09:00", "13:00", "17:00"],
    "qid": ["09:00", "13:00", "17:00", "21:00"],
    "q4h": ["02:00", "06:00", "10:00", "14:00", "18:00", "22:00"],
    "q6h": ["00:00", "06:00", "12:00", "18:00"],
    "q8h": ["06:00", "14:00", "22:00"],
    "q12h": ["09:00", "21:00"],
    "weekly": ["09:00"],
}
UNSCHEDULED = {"prn", "once"}
TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_times(text: str) -> list[time]:
    """ "09:00, 21:00" → sorted unique times; ValueError names the first part that is not HH:MM."""
    found = set()
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        match = TIME_RE.match(part)
        if not match:
            raise ValueError(f"Times: “{part}” is not a time like 09:00.")
        found.add(time(int(match[1]), int(match[2])))
    return sorted(found)


def scheduled_times(frequency: str, times: str = "") -> list[time]:
    """The wall-clock times a day of this frequency is given: listed times win over defaults."""
    if frequency in UNSCHEDULED:
        return []
    if frequency == "times" or times:
        return parse_times(times)
    return [time.fromisoformat(t) for t in DEFAULT_TIMES[frequency]]


def doses_per_day(frequency: str, times: str = "") -> float:
    if frequency == "weekly":
        return 1 / 7
    if frequency == "once":
        return 1
    return max(len(scheduled_times(frequency, times)), 1)


def dose_times_between(
    *, frequency: str, times: str, first_at: datetime, tz: tzinfo, start: datetime, end: datetime
) -> list[datetime]:
    """Due times in [start, end) as UTC instants, on the facility's wall clock.

    `first_at` is the order's start (a one-time dose's time; a weekly order's weekday). A wall
    time that does not exist on a spring-forward day falls an hour later; a wall time that
    happens twice on a fall-back day is given once, at its first occurrence.
    """
    _aware(first_at, start, end)
    first_at, start, end = _utc(first_at), _utc(start), _utc(end)
    if frequency == "once":
        return [first_at] if start <= first_at < end else []
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    weekday = first_at.astimezone(tz).weekday()
    day_times = scheduled_times(frequency, times)
    found = []
    while day <= last:
        if frequency != "weekly" or day.weekday() == weekday:
            for t in day_times:
                # Normalize through UTC so a non-existent wall time becomes a real instant.
                moment = datetime.combine(day, t, tzinfo=tz).astimezone(UTC)
                if start <= moment < end:
                    found.append(moment)
        day += timedelta(days=1)
    return found


def window_minutes(*, doses_per_day: float, time_critical: bool) -> int:
    """The ± window of a scheduled dose (specs/mar.md, Windows).

    More than 6 doses a day means more often than every 4 hours.
    """
    if doses_per_day <= 0:
        raise ValueError("doses_per_day must be positive.")
    if time_critical or doses_per_day > 6:
        return 30
    if doses_per_day > 1:
        return 60
    return 120


def _aware(*values: datetime | None) -> None:
    for value in values:
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError("Dose times must be time-zone aware.")


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def dose_status(
    scheduled_at: datetime,
    now: datetime,
    *,
    window: int,
    next_scheduled_at: datetime | None = None,
    next_window: int | None = None,
) -> str:
    """`scheduled`, `due`, `late` or `missed` for a dose nobody has documented (specs/mar.md)."""
    _aware(scheduled_at, now, next_scheduled_at)
    scheduled_at, now, next_scheduled_at = _utc(scheduled_at), _utc(now), _utc(next_scheduled_at)
    w = timedelta(minutes=window)
    if now < scheduled_at - w:
        return "scheduled"
    if now <= scheduled_at + w:
        return "due"
    missed_at = scheduled_at + 2 * w
    if next_scheduled_at is not None:
        w2 = timedelta(minutes=window if next_window is None else next_window)
        missed_at = min(missed_at, next_scheduled_at - w2)
    return "missed" if now >= missed_at else "late"


def deadline_status(deadline_at: datetime, now: datetime) -> str:
    """`due` up to and including the deadline of a STAT, NOW or first dose, then `missed`
    (specs/mar.md, Windows: such a dose has no late period)."""
    _aware(deadline_at, now)
    return "due" if _utc(now) <= _utc(deadline_at) else "missed"


def minutes_between(earlier: datetime, later: datetime) -> int:
    """Whole real minutes from `earlier` to `later`, negative if `later` comes first."""
    _aware(earlier, later)
    return int((_utc(later) - _utc(earlier)).total_seconds() / 60)


def reassessment_delay(route: str) -> timedelta:
    """How long after a PRN dose its effect is reassessed: 60 min slow routes, 30 min fast."""
    key = route.strip().lower()
    if key in SLOW_ROUTES:
        return timedelta(minutes=60)
    if key in FAST_ROUTES:
        return timedelta(minutes=30)
    raise ValueError(f"Unknown route for reassessment timing: {route!r}")


def prn_reassessment_status(administered_at: datetime, now: datetime, *, route: str) -> str:
    """`pending` before the reassessment is due, `due` for 30 minutes from then, then `overdue`."""
    _aware(administered_at, now)
    administered_at, now = _utc(administered_at), _utc(now)
    due_at = administered_at + reassessment_delay(route)
    if now < due_at:
        return "pending"
    if now <= due_at + REASSESSMENT_GRACE:
        return "due"
    return "overdue"


def prn_limits(
    at: datetime, given: list[datetime], *, interval_minutes: int, max_per_24h: int
) -> tuple[datetime | None, datetime | None, int]:
    """How a PRN dose at `at` stands against the doses already `given` (specs/mar.md, PRN).

    Returns (allowed_from, next_given, count):
    - allowed_from: when the interval after the nearest earlier dose ends, if `at` is before it;
    - next_given: a dose given less than the interval *after* `at` (a late-charted dose lands
      between two others), which makes `at` too soon as well;
    - count: the most doses, this one included, in any rolling 24 hours that contains `at`
      (a dose exactly 24 hours earlier has rolled off). Over `max_per_24h` is a breach.
    Compares real instants, so a DST night changes nothing.
    """
    _aware(at, *given)
    # Python subtracts two datetimes of the same zone by wall clock: compare UTC instants.
    at, given = at.astimezone(UTC), [g.astimezone(UTC) for g in given]
    interval = timedelta(minutes=interval_minutes)
    day = timedelta(hours=24)
    earlier = [g for g in given if g <= at and at - g < interval]
    later = [g for g in given if g > at and g - at < interval]
    allowed_from = max(earlier) + interval if earlier else None
    next_given = min(later) if later else None
    # Every window (end - 24h, end] that holds `at` ends at `at` or at a later dose.
    ends = [at] + [g for g in given if at < g < at + day]
    count = max(sum(1 for g in given if end - day < g <= end) + 1 for end in ends)
    return allowed_from, next_given, count
