"""Round compliance and the observation sheet: block-by-block accounting of what was owed.

Both read the same data the scan reads and judge blocks with `observations.rounds`, so the report
and the alerts can never disagree about what was missed.
"""

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from clients.models import Admission
from clients.services import leaves_overlapping
from observations.models import LevelOrder, RoundCheck
from observations.rounds import block_floor, iter_blocks, level_segments, missed_blocks
from observations.services import LATE_AFTER_BLOCK, owed_periods


@dataclass
class Block:
    start: datetime
    end: datetime
    interval: int
    check: RoundCheck | None  # the first check in the block, if any

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


@dataclass
class Tally:
    due: int = 0
    done: int = 0
    late: int = 0
    missed: int = 0
    missed_blocks: list = field(default_factory=list)

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


def admission_blocks(admission, orders, leaves, checks, *, start, end) -> list[Block]:
    """Every owed block of one stay in [start, end), each with its first check (or none)."""
    tz = admission.facility.tz
    instants = [c.observed_at.astimezone(UTC) for c in checks]
    blocks = []
    for a, b, interval in owed_periods(admission, orders, leaves, start=start, end=end):
        a, b = a.astimezone(tz), b.astimezone(tz)
        missed = {
            m.astimezone(UTC)
            for m in missed_blocks(
                [c.observed_at for c in checks], start=a, end=b, interval_minutes=interval
            )
        }
        for block, block_end in iter_blocks(start=a, end=b, interval_minutes=interval):
            check = None
            if block.astimezone(UTC) not in missed:
                check = checks[bisect.bisect_left(instants, block.astimezone(UTC))]
            blocks.append(Block(block, block_end, interval, check))
    return blocks


def _load(admissions, *, start, end):
    ids = [a.pk for a in admissions]
    orders, checks, leaves = defaultdict(list), defaultdict(list), defaultdict(list)
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
    return orders, checks, leaves


def compliance(facility, *, start: datetime, end: datetime, unit=None):
    """Per client and per staff member: blocks due, done, late, missed over [start, end)."""
    admissions = (
        Admission.objects.filter(facility=facility, admitted_at__lt=end)
        .exclude(discharged_at__lte=start)
        .select_related("client", "facility", "unit")
    )
    if unit is not None:
        admissions = admissions.filter(unit=unit)
    admissions = list(admissions.order_by("client__legal_last_name"))
    orders, checks, leaves = _load(admissions, start=start, end=end)
    per_client, per_staff, total = [], defaultdict(Tally), Tally()
    staff_names = {}
    for admission in admissions:
        tally = Tally()
        for block in admission_blocks(
            admission,
            orders[admission.pk],
            leaves[admission.pk],
            checks[admission.pk],
            start=start,
            end=end,
        ):
            tally.due += 1
            if block.missed:
                tally.missed += 1
                tally.missed_blocks.append(block.start)
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
    return per_client, staff, total


def observation_sheet(admission, *, day_start: datetime, day_end: datetime):
    """The rows of the printed sheet for one client and one local day: every 15-minute slot,
    with the check in it (or a missed/not-owed mark), plus the levels in force."""
    orders, checks, leaves = _load([admission], start=day_start, end=day_end)
    # Each 15-minute slot inside an owed block is owed; a q30/q60 block's mark goes on its
    # first slot.
    owed = {}
    for block in admission_blocks(
        admission,
        orders[admission.pk],
        leaves[admission.pk],
        checks[admission.pk],
        start=day_start,
        end=day_end,
    ):
        for i, (slot, _) in enumerate(
            iter_blocks(start=block.start, end=block.end, interval_minutes=15)
        ):
            owed[slot.astimezone(UTC)] = block if i == 0 else None
    by_slot = defaultdict(list)
    tz = admission.facility.tz
    for check in checks[admission.pk]:
        by_slot[block_floor(check.observed_at, 15, tz).astimezone(UTC)].append(check)
    rows = []
    for slot, _ in iter_blocks(
        start=day_start.astimezone(tz), end=day_end.astimezone(tz), interval_minutes=15
    ):
        key = slot.astimezone(UTC)
        block = owed.get(key)
        rows.append(
            {
                "slot": slot,
                "checks": by_slot.get(key, []),
                "missed": block is not None and block.missed,
                "late": block is not None and block.late,
                "owed": key in owed,
            }
        )
    levels = level_segments(admission, orders[admission.pk], start=day_start, end=day_end)
    signers = {c.recorded_by for c in checks[admission.pk]}
    return rows, levels, sorted(signers, key=lambda u: u.initials)


def local_day(facility, day) -> tuple[datetime, datetime]:
    """[00:00, next 00:00) of a day on the facility's clock: 23 or 25 hours on DST days."""
    tz = facility.tz
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    nxt = day + timedelta(days=1)
    return start, datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
