"""The rounds' rule on leaves (issue 10 item 3): a leave cannot start before the client's last
recorded check. A leave back-dated over checks already charted would say the client was off
site while staff saw them on the unit, and would erase the misses owed since. Registered with
facility.registry so that clients, which never imports observations, runs it in leave_start."""

from django.core.exceptions import ValidationError
from django.utils import timezone

from facility.registry import register_leave_rule
from observations.models import RoundCheck


def leave_after_last_check(*, admission, left_at, now, backdate_reason, kind="") -> None:
    """Refuse a leave that starts before the stay's last check, naming the check's time."""
    last = (
        RoundCheck.objects.filter(admission=admission, observed_at__gt=left_at)
        .order_by("-observed_at")
        .values_list("observed_at", flat=True)
        .first()
    )
    if last is None:
        return
    when = timezone.localtime(last, admission.facility.tz)
    day = (
        ""
        if when.date() == timezone.localtime(left_at, admission.facility.tz).date()
        else (f"{when:%Y-%m-%d} ")
    )
    raise ValidationError(
        {
            "left_at": f"Left at: the client was checked on the unit at {day}{when:%H:%M}; "
            "a leave cannot start before their last recorded check."
        }
    )


def register() -> None:
    register_leave_rule("rounds_last_check", leave_after_last_check)
