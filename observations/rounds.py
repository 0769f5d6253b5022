"""Round blocks, missed checks and the level in force over time (specs/rounds.md, "Levels" and
"Missed checks"). Pure Python, no Django.

Blocks are clock-aligned half-open intervals [b, b + interval) on the wall clock of the zone of
`start`, and are returned in that zone. Python compares two datetimes of the same zone by wall
time, ignoring `fold`, which is wrong across a fall-back hour, so every comparison here is made
on UTC instants. Stepping from one block to the next happens in absolute time and is then
re-aligned to the wall clock, so on the fall-back day the repeated hour has its own blocks
(distinct UTC instants) and on the spring-forward day the skipped hour has none.

A block counts only when it lies wholly inside [start, end): the block in progress at `end` has not
ended yet, and a block that began before `start` (admission, level change, return from leave)
was not owed in full.
"""

import bisect
import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple


def _require_aware(*values: datetime) -> None:
    for value in values:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("Round times must be time-zone aware.")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def block_floor(moment: datetime, interval_minutes: int, tz=None) -> datetime:
    """Start of the clock-aligned block holding `moment`, on the wall clock of `tz`."""
    _require_aware(moment)
    tz = tz or moment.tzinfo
    local = moment.astimezone(tz)
    minute_of_day = local.hour * 60 + local.minute
    floored = minute_of_day - minute_of_day % interval_minutes
    # replace() keeps `fold`, so a moment in the repeated hour floors within that same hour.
    start = local.replace(hour=floored // 60, minute=floored % 60, second=0, microsecond=0)
    if _utc(start) > _utc(moment):  # floored into a skipped wall time: start at the moment
        start = local
    return start


def _next_block(block: datetime, interval_minutes: int, tz) -> datetime:
    stepped = (_utc(block) + timedelta(minutes=interval_minutes)).astimezone(tz)
    aligned = block_floor(stepped, interval_minutes, tz)
    return aligned if _utc(aligned) > _utc(block) else stepped


def iter_blocks(
    *, start: datetime, end: datetime, interval_minutes: int
) -> Iterator[tuple[datetime, datetime]]:
    """Every whole block [b, e) inside [start, end), in order, on the wall clock of start's zone."""
    _require_aware(start, end)
    if interval_minutes <= 0:
        raise ValueError("interval_minutes must be positive.")
    tz = start.tzinfo
    block = block_floor(start, interval_minutes, tz)
    if _utc(block) < _utc(start):
        block = _next_block(block, interval_minutes, tz)
    end_utc = _utc(end)
    while True:
        block_end = _next_block(block, interval_minutes, tz)
        if _utc(block_end) > end_utc:
            return
        yield block, block_end
        block = block_end


def missed_blocks(
    check_times: Iterable[datetime], *, start: datetime, end: datetime, interval_minutes: int
) -> list[datetime]:
    """Start times of the whole blocks in [start, end) that hold no check (slot mode)."""
    checks = list(check_times)
    _require_aware(*checks)
    instants = sorted(_utc(t) for t in checks)
    missed = []
    for block, block_end in iter_blocks(start=start, end=end, interval_minutes=interval_minutes):
        i = bisect.bisect_left(instants, _utc(block))
        if i == len(instants) or instants[i] >= _utc(block_end):
            missed.append(block)
    return missed


def missed_count_rolling(
    check_times: Iterable[datetime], *, start: datetime, end: datetime, interval_minutes: int
) -> int:
    """Rolling mode: each gap between reference points (start, each check, end) longer than the
    interval counts ceil(gap / interval) - 1 missed checks."""
    _require_aware(start, end)
    if interval_minutes <= 0:
        raise ValueError("interval_minutes must be positive.")
    checks = list(check_times)
    _require_aware(*checks)
    first, last = _utc(start), _utc(end)
    inside = sorted(t for t in map(_utc, checks) if first <= t < last)
    points = [first, *inside, last]
    interval = timedelta(minutes=interval_minutes)
    missed = 0
    for earlier, later in zip(points, points[1:], strict=False):
        gap = later - earlier
        if gap > interval:
            missed += math.ceil(gap / interval) - 1
    return missed


def block_state(
    now: datetime, *, last_check: datetime | None, interval_minutes: int, due_soon_minutes: int = 3
) -> str:
    """The board's word for a client on an interval level: done, due, due_soon.

    `done` when the current block already holds a check; `due_soon` in the block's last minutes
    (specs/rounds.md: 3 by default); otherwise `due`. Missed blocks come from the scan's alerts.
    """
    block = block_floor(now, interval_minutes)
    if last_check is not None and _utc(last_check) >= _utc(block):
        return "done"
    block_end = _next_block(block, interval_minutes, block.tzinfo)
    if _utc(block_end) - _utc(now) <= timedelta(minutes=due_soon_minutes):
        return "due_soon"
    return "due"


# ---------------------------------------------------------------- levels over time

# Facility defaults (specs/rounds.md): q15 for the first 72 hours, then q60.
ADMISSION_LEVEL = "q15"
ADMISSION_LEVEL_HOURS = 72
DEFAULT_LEVEL = "q60"


def level_events(admitted_at: datetime, orders: Sequence) -> list[tuple[datetime, str]]:
    """(from, level) in time order: the admission default until the first order, then orders.

    `orders` are in time order and have `effective_from` and `level` (LevelOrder rows)."""
    first_order = orders[0].effective_from if orders else None
    defaults = [
        (admitted_at, ADMISSION_LEVEL),
        (admitted_at + timedelta(hours=ADMISSION_LEVEL_HOURS), DEFAULT_LEVEL),
    ]
    events = [e for e in defaults if first_order is None or e[0] < first_order]
    events += [(o.effective_from, o.level) for o in orders]
    return events


def level_segments(
    admission, orders: Sequence, *, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, str]]:
    """The level in force over [start, end), as (from, to, level), clipped to the stay.

    `admission` has `admitted_at` and `discharged_at` (None while the stay is open)."""
    lo = max(start, admission.admitted_at)
    hi = min(end, admission.discharged_at) if admission.discharged_at else end
    events = level_events(admission.admitted_at, orders)
    segments = []
    for i, (since, level) in enumerate(events):
        until = events[i + 1][0] if i + 1 < len(events) else hi
        a, b = max(since, lo), min(until, hi)
        if a < b:
            segments.append((a, b, level))
    return segments


def subtract(
    start: datetime, end: datetime, holes: Iterable[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """[start, end) minus the holes (sorted (from, to) pairs), as the pieces left in order."""
    pieces, cursor = [], start
    for a, b in holes:
        if b <= cursor or a >= end:
            continue
        if a > cursor:
            pieces.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < end:
        pieces.append((cursor, end))
    return pieces


def boundary_passed(mark: datetime, now: datetime, tz, interval_minutes: int = 15) -> bool:
    """Whether a block boundary of `interval_minutes` on the wall clock of `tz` lies in
    (mark, now]: whether a block of that length has ended since `mark`."""
    _require_aware(mark, now)
    return _utc(block_floor(now.astimezone(tz), interval_minutes)) > _utc(mark)


# ---------------------------------------------------------------- owed from the first minute


class OwedWindow(NamedTuple):
    """One window in which a check is owed: a whole clock block, or a window off the clock whose
    alert key carries its length (`first`): the first check after an event (admission, change of
    level, return from leave), the old level's block in progress at a change of level when only
    part of it was at that level, or the last check before a leave.

    `kind` says which: "block", "first", "carry" (the old level's block in progress at a change
    of level) or "last" (before a leave). `interval` is the window's length in minutes."""

    start: datetime
    end: datetime
    interval: int
    first: bool
    level: str | None = None
    kind: str = "block"


class Segment(NamedTuple):
    """A piece of a stay in which checks are owed at one level, on site (see stay_segments).

    `event`: the piece begins at admission, a change of level or a return from leave.
    `changed_from`: (old level, start of its piece) when the piece begins at a change of level
    made while the client was on site; the old level's block in progress stays owed.
    `leaving`: the piece ends because the client left on leave.
    `horizon`: the end of the period computed; windows ending after it are not over yet."""

    start: datetime
    end: datetime
    level: str
    event: bool
    changed_from: tuple[str, datetime] | None = None
    leaving: bool = False
    horizon: datetime | None = None


def first_window(
    event: datetime, interval_minutes: int, *, until: datetime, tz=None
) -> tuple[datetime, datetime] | None:
    """The first check owed after an event: [event, event + interval), in absolute minutes.

    None when the event lies on a block boundary (its first block is that window, counted once
    as a block) or when the period the event starts ends before the window does: cut short by
    the next event (a change of level, a leave, discharge), whose own window takes over, or not
    over yet."""
    _require_aware(event, until)
    if interval_minutes <= 0:
        raise ValueError("interval_minutes must be positive.")
    tz = tz or event.tzinfo
    if _utc(block_floor(event, interval_minutes, tz)) == _utc(event):
        return None
    end = _utc(event) + timedelta(minutes=interval_minutes)
    if end > _utc(until):
        return None
    return event.astimezone(tz), end.astimezone(tz)


def carry_window(
    change: datetime, interval_minutes: int, *, since: datetime, until: datetime, tz
) -> tuple[datetime, datetime] | None:
    """The old level's clock block in progress at a change of level (an order or the 72-hour
    default switch): still owed whole, [b, end of that block), so a change never forgives the
    time already run at the old level. Clipped to `since` (when the old level began, or the
    client came back); None when the change lies on the old level's block boundary (nothing in
    progress) or the block has not ended by `until`."""
    _require_aware(change, since, until)
    block = block_floor(change.astimezone(tz), interval_minutes, tz)
    if _utc(block) >= _utc(change):
        return None
    block_end = _next_block(block, interval_minutes, tz)
    if _utc(block_end) > _utc(until):
        return None
    start = block if _utc(block) >= _utc(since) else since.astimezone(tz)
    return start, block_end


def last_window(
    leaving: datetime, interval_minutes: int, *, since: datetime, tz
) -> tuple[datetime, datetime] | None:
    """The last check owed before a leave: the client must have been seen within one interval
    of the level in force before leaving, [leaving - interval, leaving), clipped to `since` (the
    start of the piece on site); None when clipped to nothing. So a leave, back-dated or short,
    never forgives the time before it."""
    _require_aware(leaving, since)
    start = max(_utc(leaving) - timedelta(minutes=interval_minutes), _utc(since))
    if start >= _utc(leaving):
        return None
    return start.astimezone(tz), leaving.astimezone(tz)


def _minutes(start: datetime, end: datetime) -> int:
    return math.ceil((_utc(end) - _utc(start)) / timedelta(minutes=1))


def stay_segments(
    admission, orders: Sequence, leaves: Iterable, *, start: datetime, end: datetime
) -> list[Segment]:
    """Segments (from, to, level, event, ...) of [start, end) in which checks are owed: within
    the stay, on site (an open leave runs to `end`), with the level in force. `event` is True
    when the piece begins at a real event: admission, a change of level (an order or the 72-hour
    default switch) or a return from leave. A piece cut only by `start` is not one.

    Orders that repeat the level in force change nothing: their pieces are joined, so no block
    is lost at the seam."""
    leaves = list(leaves)
    lo = max(_utc(start), _utc(admission.admitted_at))
    hi = _utc(end)
    if admission.discharged_at is not None:
        hi = min(hi, _utc(admission.discharged_at))
    changes: list[tuple[datetime, str]] = []
    for since, level in level_events(admission.admitted_at, orders):
        if not changes or changes[-1][1] != level:
            changes.append((_utc(since), level))
    change_at = {since for since, _ in changes}
    events = {_utc(admission.admitted_at)} | change_at
    events |= {_utc(lv.returned_at) for lv in leaves if lv.returned_at is not None}
    departures = {_utc(lv.left_at) for lv in leaves}
    holes = sorted((_utc(lv.left_at), _utc(lv.returned_at or end)) for lv in leaves)
    pieces: list[Segment] = []
    for i, (since, level) in enumerate(changes):
        until = changes[i + 1][0] if i + 1 < len(changes) else hi
        a, b = max(since, lo), min(until, hi)
        if a >= b:
            continue
        for x, y in subtract(a, b, holes):
            changed_from = None
            if x in change_at and pieces and pieces[-1].end == x and pieces[-1].level != level:
                changed_from = (pieces[-1].level, pieces[-1].start)
            pieces.append(
                Segment(x, y, level, x in events, changed_from, y in departures and y < hi, hi)
            )
    return pieces


def owed_windows(segments: Iterable, *, intervals: dict, tz) -> list[OwedWindow]:
    """Every window owed in these segments, in time order (specs/rounds.md, "First check owed
    from the first minute", and issue 10's review): the first window of a piece that begins at
    an event, the old level's block in progress at a change of level, the piece's whole clock
    blocks on the wall clock of `tz`, and the last check before a leave. A window made twice
    (a last window that is also a clock block) is owed once."""
    windows = []
    for segment in segments:
        a, b, level, event = segment[:4]
        n = intervals[level]
        a, b = a.astimezone(tz), b.astimezone(tz)
        if isinstance(segment, Segment) and segment.changed_from is not None:
            old, since = segment.changed_from
            horizon = segment.horizon or b
            if carry := carry_window(a, intervals[old], since=since, until=horizon, tz=tz):
                on_clock = _utc(carry[0]) == _utc(block_floor(carry[0], intervals[old], tz))
                length = intervals[old] if on_clock else _minutes(*carry)
                windows.append(OwedWindow(*carry, length, not on_clock, old, "carry"))
        if event and (first := first_window(a, n, until=b, tz=tz)):
            windows.append(OwedWindow(first[0], first[1], n, True, level, "first"))
        for block, block_end in iter_blocks(start=a, end=b, interval_minutes=n):
            windows.append(OwedWindow(block, block_end, n, False, level))
        if (
            isinstance(segment, Segment)
            and segment.leaving
            and (last := last_window(b, n, since=a, tz=tz))
        ):
            windows.append(OwedWindow(*last, _minutes(*last), True, level, "last"))
    seen, unique = set(), []
    for window in sorted(windows, key=window_key):
        if window_key(window) not in seen:
            seen.add(window_key(window))
            unique.append(window)
    return unique


def missed_windows(check_times: Iterable[datetime], windows: Iterable) -> list:
    """The windows (anything with `start` and `end`) that hold no check in [start, end)."""
    checks = list(check_times)
    _require_aware(*checks)
    instants = sorted(_utc(t) for t in checks)
    missed = []
    for window in windows:
        i = bisect.bisect_left(instants, _utc(window.start))
        if i == len(instants) or instants[i] >= _utc(window.end):
            missed.append(window)
    return missed


def window_key(window) -> tuple[datetime, datetime]:
    """A window as UTC instants: local times of one zone compare equal across the repeated
    fall-back hour, so sets and dicts of windows are keyed by this."""
    return _utc(window.start), _utc(window.end)


def missed_in_a_row(windows: Sequence, missed: Iterable) -> list[int]:
    """Parallel to `windows` (in time order): for a missed window, how many owed windows in a row
    were missed up to and including it (1 for a lone miss); 0 for a window that was checked."""
    missed_keys = {window_key(w) for w in missed}
    streaks, run = [], 0
    for window in windows:
        run = run + 1 if window_key(window) in missed_keys else 0
        streaks.append(run)
    return streaks
