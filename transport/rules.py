"""Trip timing rules (specs/transport.md). Pure Python, no Django."""

from datetime import UTC, datetime, timedelta

# A trip not back this long after its planned return alerts the supervisor; at the second
# threshold, critically.
OVERDUE_AFTER = timedelta(minutes=15)
CRITICAL_AFTER = timedelta(minutes=60)


def trip_status(planned_return: datetime, now: datetime, *, returned_at=None) -> str:
    """ "returned" once back; otherwise "critical" from 60 minutes after the planned return,
    "overdue" from 15 minutes after, "out" before that. Minutes are real elapsed minutes: both
    instants are taken to UTC first (Python compares two times of one zone by the wall clock,
    which is an hour off across a DST change)."""
    if returned_at is not None:
        return "returned"
    for name, value in (("planned_return", planned_return), ("now", now)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be an aware datetime")
    late = now.astimezone(UTC) - planned_return.astimezone(UTC)
    if late >= CRITICAL_AFTER:
        return "critical"
    if late >= OVERDUE_AFTER:
        return "overdue"
    return "out"
