"""How an entry shows when it was charted (DESIGN.md §2): "recorded HH:MM" wherever the server's
time differs from the time the entry gives, and a late-entry mark past the rule for its kind."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

# Entries other than round checks are late when charted more than an hour after the time they
# give (DESIGN.md §2; rounds use 5 minutes after their block, observations/compliance.py).
LATE_AFTER = timedelta(minutes=60)


@register.simple_tag
def recorded_mark(entered, recorded, late_after_minutes: int | None = None) -> str:
    """The "recorded 14:32" mark (with the day when it differs) when `recorded` and `entered` fall
    on different minutes of the active time zone, plus "late entry" past the rule; else ""."""
    if entered is None or recorded is None:
        return ""
    given, charted = timezone.localtime(entered), timezone.localtime(recorded)
    if given.replace(second=0, microsecond=0) == charted.replace(second=0, microsecond=0):
        return ""
    when = f"{charted:%H:%M}" if charted.date() == given.date() else f"{charted:%Y-%m-%d %H:%M}"
    limit = LATE_AFTER if late_after_minutes is None else timedelta(minutes=late_after_minutes)
    if recorded - entered > limit:
        return format_html(
            ' <span class="meta">recorded {}</span> <strong class="tag tone-late">late entry'
            "</strong>",
            when,
        )
    return format_html(' <span class="meta">recorded {}</span>', when)
