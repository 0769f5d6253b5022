"""The rounds board's code chips, built in Python: a 30-client unit has about a thousand of
them, and the template loop was three quarters of the page's time."""

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()


def _chip_parts(codes) -> list[tuple[str, str, str]]:
    """Each code's chip split around the two things that differ per client (name, checked):
    escaped once per page, not once per client."""
    parts = []
    for code in codes:
        value = str(code.pk)
        alert = " chip-alert" if code.raises_alert else ""
        resp = " data-needs-resp" if code.needs_respirations else ""
        label = escape(code.label)  # the summary line shows words, not codes
        parts.append(
            (
                value,
                f'<label class="chip{alert}"><input type="radio" name="',
                f'" value="{value}"',
            )
        )
        parts[-1] += (
            f'{resp} data-label="{label}"><span title="{label}">{escape(code.code)}</span></label>',
        )
    return parts


@register.simple_tag(takes_context=True)
def code_chips(context, codes, *, prefix: str, pid, selected: str, legend: str) -> str:
    """A fieldset of radio chips named `<prefix>-<pid>` for one client."""
    key = ("code_chips", id(codes))
    chips = context.render_context.get(key)
    if chips is None:
        chips = context.render_context[key] = _chip_parts(codes)
    field = escape(f"{prefix}-{pid}")
    out = [f'<fieldset class="chips"><legend class="visually-hidden">{escape(legend)}</legend>']
    for value, head, middle, tail in chips:
        out.append(f"{head}{field}{middle}{' checked' if value == selected else ''}{tail}")
    out.append("</fieldset>")
    return mark_safe("".join(out))  # noqa: S308 (every value above is escaped)
