"""Group attendance math (specs/charting.md, Groups and attendance): which groups count as
clinical hours, the minutes a status is worth, the week on the facility's clock, and a client's
progress against the weekly target of their level of care. Pure Python, no Django.

Clinical hours: every group type counts except **recreation** and **mutual-help / 12-step**.
ASAM counts the clinical services a program delivers (counseling, psychoeducation, skills,
relapse prevention, family work, life skills taught by staff); recreation is not a clinical
service, and mutual-help meetings (AA, NA, SMART) are peer-led support outside treatment, which
ASAM encourages but does not count as treatment hours. Both are still documented and charted.

Minutes attended: present is the whole session (its real length, so a session across a DST
change lasts what the clock says it lasted), partial the minutes documented, anything else 0.

The week starts Monday 00:00 on the facility's clock; a session belongs to the week of its start.
A week with a DST change is 167 or 169 hours long.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal

PRESENT, PARTIAL, ABSENT, REFUSED, EXCUSED = "present", "partial", "absent", "refused", "excused"
STATUSES = (PRESENT, PARTIAL, ABSENT, REFUSED, EXCUSED)
# Participation is charted for the clients who were there.
ATTENDED = frozenset({PRESENT, PARTIAL})
PARTICIPATIONS = ("active", "minimal", "none", "disruptive")

GROUP_TYPES = (
    "psychoeducation",
    "process",
    "skills",
    "relapse_prevention",
    "mutual_help",
    "life_skills",
    "recreation",
    "family",
)
NOT_CLINICAL = frozenset({"recreation", "mutual_help"})
CLINICAL_TYPES = frozenset(GROUP_TYPES) - NOT_CLINICAL

# A group is at most this long (a half-day workshop); longer is a typing slip.
MAX_SESSION_MINUTES = 240
TENTH = Decimal("0.1")


def counts_as_clinical(group_type: str) -> bool:
    """The group type counts toward the weekly clinical hours (not recreation, not 12-step)."""
    return group_type in CLINICAL_TYPES


def session_minutes(starts_at: datetime, ends_at: datetime) -> int:
    """The real length of a session in whole minutes. Compared in UTC: Python subtracts two
    datetimes of the same zone on the wall clock, which is an hour off across a DST change."""
    return int((ends_at.astimezone(UTC) - starts_at.astimezone(UTC)).total_seconds() // 60)


def minutes_attended(status: str, minutes: int | None, length: int) -> int:
    """Present is the whole session, partial the minutes documented (never more than the
    session), every other status nothing."""
    if status == PRESENT:
        return length
    if status == PARTIAL:
        return max(0, min(minutes or 0, length))
    return 0


def row_errors(
    *,
    status: str,
    minutes: int | None,
    length: int,
    participation: str = "",
    excuse_reason: str = "",
) -> dict[str, str]:
    """What is wrong with one client's attendance, {field: message} (empty when fine):
    partial needs 1 to `length` minutes, other statuses no minutes; excused needs a reason;
    participation only for a client who attended."""
    errors: dict[str, str] = {}
    if status not in STATUSES:
        return {"status": "choose present, partial, absent, refused or excused."}
    if status == PARTIAL:
        if minutes is None:
            errors["minutes"] = "partial: say how many minutes they attended."
        elif not 1 <= minutes <= length:
            errors["minutes"] = f"partial: minutes must be 1 to {length} (the group's length)."
    elif minutes is not None:
        errors["minutes"] = "minutes are only for a partial attendance."
    if status == EXCUSED and not excuse_reason.strip():
        errors["excuse_reason"] = "excused: give the reason."
    if participation:
        if participation not in PARTICIPATIONS:
            errors["participation"] = "participation: choose active, minimal, none or disruptive."
        elif status not in ATTENDED:
            errors["participation"] = "participation is charted only for a client who attended."
    return errors


def week_start_day(day: date) -> date:
    """The Monday of the week a local day is in."""
    return day - timedelta(days=day.weekday())


def week_bounds(instant: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """The week holding `instant`, as [Monday 00:00, next Monday 00:00) on the facility's
    clock, both UTC instants. Across a DST change the week is 167 or 169 real hours long; a midnight
    that does not exist on the clock (a zone that changes at 00:00) starts at the first instant
    of that day."""
    local = instant.astimezone(tz)
    monday = week_start_day(local.date())
    return _midnight(monday, tz), _midnight(monday + timedelta(days=7), tz)


def _midnight(day: date, tz: tzinfo) -> datetime:
    """The first instant of a local day, in UTC. fold=0: an ambiguous midnight is the earlier
    one; a skipped one, read with the offset before the gap, lands on the first real instant."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def hours(minutes: int) -> Decimal:
    """Minutes as hours to one decimal (90 → 1.5), rounded half up."""
    return (Decimal(minutes) / 60).quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Progress:
    """A client's clinical group hours in a week against their level of care's target."""

    minutes: int
    target_hours: Decimal | None  # None: no target set for the level of care

    @property
    def hours(self) -> Decimal:
        return hours(self.minutes)

    @property
    def percent(self) -> int | None:
        """Share of the target attended, 0 to 100 (capped), or None without a target."""
        if not self.target_hours:
            return None
        return min(100, int(Decimal(self.minutes) * 100 / (self.target_hours * 60)))

    @property
    def met(self) -> bool:
        return self.target_hours is not None and self.minutes >= self.target_hours * 60

    @property
    def remaining_hours(self) -> Decimal:
        """Hours still to attend this week to meet the target (0 once met or without one)."""
        if self.target_hours is None:
            return Decimal("0.0")
        left = self.target_hours * 60 - self.minutes
        return hours(int(max(left, 0)))

    @property
    def text(self) -> str:
        """The progress in words: "3.5 of 15 h" (or "3.5 h, no target")."""
        if self.target_hours is None:
            return f"{self.hours} h, no target"
        return f"{self.hours} of {_plain(self.target_hours)} h"


def _plain(value: Decimal) -> str:
    """15.0 → "15", 7.5 → "7.5"."""
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value}"


def progress(rows, target_hours: Decimal | None) -> Progress:
    """Progress from attendance rows, each (group_type, status, minutes, session length): only
    clinical groups count."""
    total = sum(
        minutes_attended(status, minutes, length)
        for group_type, status, minutes, length in rows
        if counts_as_clinical(group_type)
    )
    return Progress(minutes=total, target_hours=target_hours)
