"""Dose windows, dose status and PRN reassessment timing (specs/mar.md). Pure Python, no Django.

All boundaries are inclusive, as the spec's examples show: a daily 09:00 dose is `due` at
exactly 07:00 and at exactly 11:00, `late` from just after 11:00, `missed` at 13:00.
"""

from datetime import datetime, timedelta

# Routes by how soon a PRN dose works enough to reassess (specs/mar.md, PRN).
SLOW_ROUTES = {"oral", "po", "sublingual", "sl", "rectal", "pr", "topical", "transdermal", "td"}
FAST_ROUTES = {
    "im", "intramuscular", "iv", "intravenous", "sc", "subq", "subcutaneous",
    "inhaled", "inh", "intranasal", "in",
}  # fmt: skip
REASSESSMENT_GRACE = timedelta(minutes=30)


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
    due_at = administered_at + reassessment_delay(route)
    if now < due_at:
        return "pending"
    if now <= due_at + REASSESSMENT_GRACE:
        return "due"
    return "overdue"
