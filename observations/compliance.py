"""Round compliance and the observation sheet: window-by-window accounting of what was owed.

Both read the same data the scan reads and judge windows with the scan's own functions
(`stay_windows`, `judge_windows`: first checks after events, whole clock blocks, and on continuous
levels only the assigned observer's entries), so the report and the alerts never disagree about
what was missed.
"""

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from clients.models import Admission
from clients.services import leaves_overlapping
from observations.models import (
    CONTINUOUS_LEVELS,
    LEVEL_INTERVAL,
    CheckSource,
    Level,
    LevelOrder,
    ObserverAssignment,
    RoundCheck,
)
from observations.rounds import block_floor, iter_blocks, level_events, window_key
from observations.services import LATE_AFTER_BLOCK
from observations.services.scans import (
    judge_windows,
    observer_at,
    stay_windows,
)


@dataclass
class Block:
    """One owed window of one stay: a clock block, or the first check after an event."""

    start: datetime
    end: datetime
    interval: int
    check: RoundCheck | None  # the first check that counts in the window, if any
    first: bool = False
    level: str = ""
    observer_id: int | None = None  # continuous levels: who held the client at the start
    kind: str = "block"  # block, first, carry (old level at a change), last (before a leave)

    @property
    def missed(self) -> bool:
        return self.check is None

    @property
    def late(self) -> bool:
        # On UTC: `+` on a local time drops `fold` and lands in the wrong repeated hour.
        return (
            self.check is not None
            and self.check.recorded_at > self.end.astimezone(UTC) + LATE_AFTER_BLOCK
        )

    @property
    def continuous(self) -> bool:
        return self.level in CONTINUOUS_LEVELS


@dataclass
class Tally:
    due: int = 0
    done: int = 0
    late: int = 0
    missed: int = 0
    missed_blocks: list = field(default_factory=list)  # start times of the missed windows
    missed_windows: list = field(default_factory=list)  # the missed Blocks themselves
    dated: bool = False  # the report spans more than one day: runs name their date

    def pct(self, n: int) -> str:
        return f"{100 * n / self.due:.0f}%" if self.due else "–"

    @property
    def done_pct(self) -> str:
        return self.pct(self.done)

    @property
    def late_pct(self) -> str:
        return self.pct(self.late)

    @property
    def missed_pct(self) -> str:
        return self.pct(self.missed)

    @property
    def missed_runs(self) -> list[str]:
        """The missed windows as short text, back-to-back blocks joined into one run
        ("07:15–08:45 (6)"), a first check after an event as "07:16 1st check by 07:31"; the
        date leads each run when the report spans days. A day of misses reads as one line."""
        runs: list[list] = []
        for block in self.missed_windows:
            last = runs[-1][-1] if runs else None
            if (
                last is not None
                and not block.first
                and not last.first
                and last.end.astimezone(UTC) == block.start.astimezone(UTC)
            ):
                runs[-1].append(block)
            else:
                runs.append([block])
        return [_run_text(run, self.dated) for run in runs]


def _run_text(run, dated: bool) -> str:
    # Windows are on the facility's wall clock already (fold kept across the fall-back hour).
    first, last = run[0], run[-1]
    day = f"{first.start:%m-%d} " if dated else ""
    if first.kind == "last":
        return f"{day}{first.start:%H:%M}–{first.end:%H:%M} before leave"
    if first.kind == "carry" and first.first:
        return f"{day}{first.start:%H:%M}–{first.end:%H:%M}"
    if first.first:
        return f"{day}{first.start:%H:%M} 1st check by {first.end:%H:%M}"
    if len(run) == 1:
        return f"{day}{first.start:%H:%M}"
    return f"{day}{first.start:%H:%M}–{last.end:%H:%M} ({len(run)})"


# The longest window (q60): how far a window owed in a period can reach past either end.
REACH = timedelta(minutes=max(LEVEL_INTERVAL.values()))


def period_windows(admission, orders, leaves, *, start, end, tz) -> list:
    """The windows of one stay that belong to the period [start, end): those whose START lies in
    it, whole. Windows come from the real events (a raise at 23:50 owes 23:50-00:05), not from
    the period cut at midnight, so a window crossing the period's end is in this period's report
    and in no other, as the scan alerts it once."""
    windows = stay_windows(admission, orders, leaves, start=start - REACH, end=end + REACH, tz=tz)
    lo, hi = start.astimezone(UTC), end.astimezone(UTC)
    return [w for w in windows if lo <= w.start.astimezone(UTC) < hi]


def admission_blocks(
    admission, orders, leaves, checks, *, start, end, watches=(), now=None
) -> list[Block]:
    """Every owed window of one stay that begins in [start, end) and has ended by `now` (the
    present when not given), each with its first check that counts (or none). `checks` are
    RoundCheck rows in time order, loaded REACH either side of the period; `watches` are the
    stay's (observer id, from, to) assignments."""
    tz = admission.facility.tz
    now_utc = (now or timezone.now()).astimezone(UTC)
    windows = [
        w
        for w in period_windows(admission, orders, leaves, start=start, end=end, tz=tz)
        if w.end.astimezone(UTC) <= now_utc
    ]
    counted = [(c.observed_at, c.recorded_by_id, c.source) for c in checks]
    missed = {window_key(w) for w in judge_windows(windows, counted, watches)}
    instants = [c.observed_at.astimezone(UTC) for c in checks]
    blocks = []
    for window in windows:
        check = None
        if window_key(window) not in missed:
            i = bisect.bisect_left(instants, window.start.astimezone(UTC))
            check = checks[i]
            if window.level in CONTINUOUS_LEVELS:
                # The first entry that counts: the observer's own or a downtime sheet's.
                while not _counts(check, watches):
                    i += 1
                    check = checks[i]
        observer = None
        if window.level in CONTINUOUS_LEVELS:
            observer = observer_at(watches, window.start.astimezone(UTC))
        blocks.append(
            Block(
                window.start,
                window.end,
                window.interval,
                check,
                first=window.first,
                level=window.level,
                observer_id=observer,
                kind=window.kind,
            )
        )
    return blocks


def _counts(check, watches) -> bool:
    return check.source == CheckSource.DOWNTIME or observer_at(watches, check.observed_at) == (
        check.recorded_by_id
    )


def _load(admissions, *, start, end):
    """Orders, checks, leaves and observer assignments of these stays, one query each, over the
    period and REACH either side (windows beginning in the period are judged whole)."""
    ids = [a.pk for a in admissions]
    start, end = start - REACH, end + REACH
    orders, checks, leaves = defaultdict(list), defaultdict(list), defaultdict(list)
    watches, observers = defaultdict(list), {}
    for order in LevelOrder.objects.filter(admission__in=ids).order_by("effective_from", "id"):
        orders[order.admission_id].append(order)
    for check in (
        RoundCheck.objects.filter(admission__in=ids, observed_at__gte=start, observed_at__lt=end)
        .select_related("location", "status", "recorded_by")
        .order_by("observed_at", "id")
    ):
        checks[check.admission_id].append(check)
    for leave in leaves_overlapping(ids, start=start, end=end):
        leaves[leave.admission_id].append(leave)
    for watch in (
        ObserverAssignment.objects.filter(admission__in=ids, started_at__lt=end)
        .exclude(ended_at__lte=start)
        .select_related("observer")
        .order_by("started_at", "id")
    ):
        watches[watch.admission_id].append((watch.observer_id, watch.started_at, watch.ended_at))
        observers[watch.observer_id] = watch.observer
    return orders, checks, leaves, watches, observers


@dataclass
class ObserverTally:
    """Continuous levels: windows owed while this person held the client, and those missed."""

    observer: object  # a User, or None for windows with no observer assigned
    due: int = 0
    missed: int = 0
    missed_windows: list = field(default_factory=list)

    dated: bool = False

    @property
    def missed_runs(self) -> list[str]:
        return Tally(missed_windows=self.missed_windows, dated=self.dated).missed_runs


def compliance(facility, *, start: datetime, end: datetime, unit=None, now=None):
    """Per client and per staff member: windows due, done, late, missed over [start, end); and
    for continuous levels the windows missed per assigned observer ("no observer" when none)."""
    report = compliance_summary(facility, start=start, end=end, unit=unit, now=now)
    return report["per_client"], report["per_staff"], report["total"]


def compliance_summary(facility, *, start: datetime, end: datetime, unit=None, now=None) -> dict:
    """The whole report as a dict: per_client, per_staff, total, per_observer. Windows that
    have not ended by `now` (when given) are not judged yet."""
    admissions = (
        Admission.objects.filter(facility=facility, admitted_at__lt=end)
        .exclude(discharged_at__lte=start)
        .select_related("client", "facility", "unit")
    )
    if unit is not None:
        admissions = admissions.filter(unit=unit)
    admissions = list(admissions.order_by("client__legal_last_name", "client__legal_first_name"))
    orders, checks, leaves, watches, observers = _load(admissions, start=start, end=end)
    per_client, per_staff, total = [], defaultdict(Tally), Tally()
    per_observer: dict = {}
    staff_names = {}
    dated = end.astimezone(UTC) - start.astimezone(UTC) > timedelta(hours=25)
    for admission in admissions:
        tally = Tally(dated=dated)
        for block in admission_blocks(
            admission,
            orders[admission.pk],
            leaves[admission.pk],
            checks[admission.pk],
            start=start,
            end=end,
            watches=watches[admission.pk],
            now=now,
        ):
            tally.due += 1
            if block.continuous:
                who = per_observer.setdefault(
                    block.observer_id,
                    ObserverTally(observers.get(block.observer_id), dated=dated),
                )
                who.due += 1
                if block.missed:
                    who.missed += 1
                    who.missed_windows.append(block)
            if block.missed:
                tally.missed += 1
                tally.missed_blocks.append(block.start)
                tally.missed_windows.append(block)
                continue
            tally.done += 1
            tally.late += block.late
            who = block.check.recorded_by
            staff_names[who.pk] = who
            per_staff[who.pk].done += 1
            per_staff[who.pk].due += 1
            per_staff[who.pk].late += block.late
        for name in ("due", "done", "late", "missed"):
            setattr(total, name, getattr(total, name) + getattr(tally, name))
        per_client.append((admission, tally))
    staff = sorted(
        ((staff_names[pk], t) for pk, t in per_staff.items()), key=lambda r: r[0].full_name
    )
    # People by name, then the windows nobody held (the critical deviation) last.
    observer_rows = sorted(
        per_observer.values(),
        key=lambda t: (t.observer is None, t.observer.full_name if t.observer else ""),
    )
    return {
        "per_client": per_client,
        "per_staff": staff,
        "total": total,
        "per_observer": observer_rows,
    }


def observation_sheet(admission, *, day_start: datetime, day_end: datetime, now=None):
    """The rows of the printed sheet for one client and one local day: every 15-minute slot with
    its check and its mark (missed, late, not owed), and the levels in force with their period.

    Slots that have not ended by `now` are printed blank: nothing is missed before it is due. A
    missed first check after an event is marked on the slot where its window began."""
    now = now or timezone.now()
    tz = admission.facility.tz
    orders, checks, leaves, watches, _ = _load([admission], start=day_start, end=day_end)
    blocks = admission_blocks(
        admission,
        orders[admission.pk],
        leaves[admission.pk],
        checks[admission.pk],
        start=day_start,
        end=day_end,
        watches=watches[admission.pk],
        now=now,
    )
    # Each 15-minute slot inside an owed window is owed; a window's mark goes on its first slot
    # (a miss wins the slot; between two of the same state, the window off the clock, whose
    # "by" time the sheet prints).
    owed, marks = set(), {}
    for block in sorted(blocks, key=lambda b: (b.missed, b.first)):
        marks[block_floor(block.start, 15, tz).astimezone(UTC)] = block
        owed |= _slots(block.start, block.end, tz)
    # Slots of windows still running at `now` are not judged yet: printed blank.
    pending = set()
    for window in period_windows(
        admission, orders[admission.pk], leaves[admission.pk], start=day_start, end=day_end, tz=tz
    ):
        if window.end.astimezone(UTC) > now.astimezone(UTC):
            pending |= _slots(window.start, window.end, tz)
    by_slot = defaultdict(list)
    for check in checks[admission.pk]:
        by_slot[block_floor(check.observed_at, 15, tz).astimezone(UTC)].append(check)
    rows = []
    now_utc = now.astimezone(UTC)
    for slot, slot_end in iter_blocks(
        start=day_start.astimezone(tz), end=day_end.astimezone(tz), interval_minutes=15
    ):
        key = slot.astimezone(UTC)
        block = marks.get(key)
        rows.append(
            {
                "slot": slot,
                "checks": by_slot.get(key, []),
                "missed": block is not None and block.missed,
                "late": block is not None and block.late,
                "first": block if block is not None and block.first else None,
                "owed": key in owed,
                "future": key not in owed
                and (key in pending or slot_end.astimezone(UTC) > now_utc),
            }
        )
    levels = sheet_levels(admission, orders[admission.pk], day_start, day_end, now)
    lo, hi = day_start.astimezone(UTC), day_end.astimezone(UTC)
    signers = {c.recorded_by for c in checks[admission.pk] if lo <= c.observed_at < hi}
    return rows, levels, sorted(signers, key=lambda u: u.initials)


def _slots(start: datetime, end: datetime, tz) -> set[datetime]:
    """The 15-minute slots (as UTC instants) that overlap [start, end)."""
    slots, slot = set(), block_floor(start, 15, tz)
    while slot.astimezone(UTC) < end.astimezone(UTC):
        slots.add(slot.astimezone(UTC))
        slot = block_floor((slot.astimezone(UTC) + timedelta(minutes=15)).astimezone(tz), 15, tz)
    return slots


def sheet_levels(admission, orders, day_start, day_end, now) -> list[dict]:
    """The levels in force during the day, each with its label, its period on the day's clock
    ("00:00" to "24:00", or "now" for the day being printed) and when it began if earlier."""
    tz = admission.facility.tz
    changes: list[tuple[datetime, str]] = []
    for since, level in level_events(admission.admitted_at, orders):
        if not changes or changes[-1][1] != level:
            changes.append((since, level))
    stay_end = admission.discharged_at
    lo = max(day_start, admission.admitted_at)
    hi = min(day_end, now, stay_end) if stay_end else min(day_end, now)
    rows = []
    for i, (since, level) in enumerate(changes):
        until = changes[i + 1][0] if i + 1 < len(changes) else None
        a = max(since, lo)
        b = min(until, hi) if until is not None else hi
        if a >= b:
            continue
        if b == day_end:
            to = "24:00"
        elif b == now and (until is None or until > now):
            to = f"now ({timezone.localtime(now, tz):%H:%M})"
        else:
            to = f"{timezone.localtime(b, tz):%H:%M}"
        rows.append(
            {
                "label": Level(level).label,
                "level": level,
                "start": f"{timezone.localtime(a, tz):%H:%M}",
                "end": to,
                "since": timezone.localtime(since, tz) if since < day_start else None,
            }
        )
    return rows


def local_day(facility, day) -> tuple[datetime, datetime]:
    """[00:00, next 00:00) of a day on the facility's clock: 23 or 25 hours on DST days."""
    tz = facility.tz
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    nxt = day + timedelta(days=1)
    return start, datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
