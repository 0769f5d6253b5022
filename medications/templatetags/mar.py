"""The MAR board's dose cells, built in Python: a 60-client shift has hundreds of them and the
template loop was most of the page's time."""

from functools import lru_cache

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()


@lru_cache(maxsize=4096)
def _text(value: str) -> str:
    """Escaped text: drug names, doses and initials repeat on every row."""
    return escape(value)


@lru_cache(maxsize=1024)
def _clock(moment, tz) -> str:
    """HH:MM on the facility's clock: a shift's doses share a handful of times."""
    return f"{moment.astimezone(tz):%H:%M}"


@register.simple_tag
def dose_cells(views) -> str:
    """One <li> per dose: time on the active (facility) clock, drug, dose, status, initials."""
    tz = timezone.get_current_timezone()
    parts = []
    for v in views:
        order, doc = v.dose.order, v.documentation
        initials = f' <span class="meta">{_text(doc.recorded_by.initials)}</span>' if doc else ""
        if getattr(order, "unverified", False):  # released before the second nurse's check
            initials += ' <span class="tag tone-alert">unverified</span>'
        parts.append(
            f'<li class="dose-chip st-{v.status}"><span class="dose-time">'
            f"{_clock(v.dose.scheduled_at, tz)}</span> "
            f"{_text(order.medication.name)} {_text(order.dose)} "
            f"<strong>{_text(v.label)}</strong>{initials}</li>"
        )
    if not parts:
        return mark_safe('<li class="muted">No scheduled doses this shift.</li>')  # noqa: S308
    return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped)
