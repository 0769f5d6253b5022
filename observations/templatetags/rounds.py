"""The rounds board's code chips, built in Python: a 30-client unit has about a thousand of
them, and the template loop was three quarters of the page's time."""

import html

from django import template
from django.urls import reverse
from django.utils import timezone
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


def _e(value) -> str:
    # What django.utils.html.escape does, without its lazy-string wrapper, which made each call
    # several times slower: a 30-client board escapes about 500 values.
    return "" if value is None else html.escape(str(value))


def _note_href(context, admission) -> str:
    """The behavior note form for this client, from the board (issue 12): reversed once a page."""
    pattern = context.render_context.get("behavior_note_href")
    if pattern is None:
        sentinel = "00000000-0000-0000-0000-000000000000"
        pattern = reverse("observations:behavior_note_new", args=[sentinel]).replace(sentinel, "{}")
        context.render_context["behavior_note_href"] = pattern
    return escape(pattern.format(admission.public_id) + "?came_from=board")


@register.simple_tag(takes_context=True)
def board_row(context, row) -> str:
    """One client's row of the rounds board, built in Python like the chips: thirty rows of
    template took most of the page's time (bench/rounds_run.py). The markup is the page's; the
    board's script and tests read its classes, ids and data attributes."""
    a, c = row.admission, row.admission.client
    pid = _e(a.public_id)
    name = _e(c.display_name)
    links = row.links
    can_chart = context.get("can_chart")
    out = [
        f'<li class="round-row state-{_e(row.state)}" data-round-row>',
        '<div class="round-who">',
    ]
    if c.photo:
        out.append(f'<img class="avatar" src="{_e(links["photo"])}" alt="">')
    else:
        out.append(f'<span class="avatar" aria-hidden="true">{_e(c.initials)}</span>')
    short = f"{c.preferred_name or c.legal_first_name} {c.legal_last_name[:1]}."
    meta = [f"{_e(a.bed.label)} · <strong>{_e(row.level.label)}</strong>"]
    if row.last:
        meta.append(
            f'<span id="since-{pid}" data-since="{row.last_ms}">{row.minutes_since} min ago</span>'
        )
    hidden = f'<span class="visually-hidden"> for {name}</span>'
    vitals_href = f"{_e(links['vitals_record'])}?came_from=board"
    can_vitals = context.get("can_record_vitals") and not row.leave
    # What is owed besides the round (vitals, a withdrawal score): its own tags on the row, a
    # link each, so they stay visible; the plain "Record vitals" sits in the Change panel.
    tags = []
    if row.vitals_text:
        tone = f"tone-{_e(row.vitals.state)}"
        tags.append(
            f'<a class="owed-tag vitals-tag tag {tone}" href="{vitals_href}">'
            f"{_e(row.vitals_text)}{hidden}</a>"
            if can_vitals
            else f'<span class="owed-tag vitals-tag tag {tone}">{_e(row.vitals_text)}</span>'
        )
    for text, tone, scale in row.withdrawal:
        if context.get("can_assess_withdrawal"):
            href = reverse("observations:withdrawal_score", args=[a.public_id, scale])
            tags.append(
                f'<a class="owed-tag withdrawal-tag tag tone-{_e(tone)}" href="{_e(href)}">'
                f"{_e(text)}{hidden}</a>"
            )
        else:
            tags.append(
                f'<span class="owed-tag withdrawal-tag tag tone-{_e(tone)}">{_e(text)}</span>'
            )
    out.append(
        f'<div class="who-text"><a class="name" href="{_e(links["chart"])}">{_e(short)}</a> '
        f'<span class="meta">{" · ".join(meta)}</span></div></div>'
    )
    posted = row.posted
    if row.leave:
        back = timezone.localtime(row.leave.expected_back_at)
        out.append(
            f'<p class="row-note muted">Off site: {_e(row.leave.get_kind_display())}, expected '
            f"back {back:%H:%M}</p>"
        )
    elif row.continuous:
        who = (
            f"Observer: <strong>{_e(row.observer.observer.full_name)}</strong> (charts on My 1:1)"
            if row.observer
            else '<strong class="no-observer">No observer</strong>'
        )
        vitals = f' · <a href="{vitals_href}">vitals{hidden}</a>' if can_vitals else ""
        if can_chart:
            vitals += f' · <a href="{_note_href(context, a)}" data-leaves-round>note{hidden}</a>'
        out.append(
            f'<p class="row-note observer">{who} · '
            f'<a href="{_e(links["observation_sheet"])}">sheet</a>{vitals}</p>'
        )
    elif can_chart:
        ask = row.fresh_status_needed and not posted.get("st")
        summary = (
            _e(row.seen_words) if row.last or posted.get("loc") else "choose location and status"
        )
        was = (
            f' <span class="was">(was {_e(row.last.status.label)}: tap status)</span>'
            if ask
            else ""
        )
        out.append(
            f'<label class="include{" needs-status" if ask else ""}">'
            f'<input type="checkbox" name="include" value="{pid}"'
            f"{' checked' if posted.get('include') else ''} data-include> "
            f'<span class="seen-text">Seen: <strong data-summary>{summary}</strong>{was}</span> '
            '<span class="seen-at" data-seen-at></span></label>'
            f'<input type="hidden" name="seen-{pid}" value="{_e(posted.get("seen", ""))}" '
            "data-seen>"
        )
    missed = f" ({row.missed})" if row.missed else ""
    out.append(
        f'<span class="state-tag tone-{_e(row.state)}" id="state-{pid}">'
        f"{_e(row.state_text)}{missed}</span>"
    )
    if tags:
        out.append(f'<span class="owed-tags">{"".join(tags)}</span>')
    if can_chart and not row.leave and not row.continuous:
        opened = " open" if not row.last or posted.get("include") else ""
        out.append(
            f'<details class="round-detail"{opened}><summary>Change<span class="visually-hidden">'
            f" location or status of {name}</span></summary>"
        )
        for codes, prefix, legend, selected in (
            (context["locations"], "loc", "Location of ", row.selected_location),
            (context["statuses"], "st", "Status of ", row.selected_status),
        ):
            out.append(
                code_chips(context, codes, prefix=prefix, pid=a.public_id, selected=selected,
                           legend=legend + c.display_name)
            )  # fmt: skip
        out.append(
            '<div class="round-extra">'
            f'<label class="check"><input type="checkbox" name="resp-{pid}" data-resp> '
            "Respirations observed (breathing seen)</label>"
            f'<label class="check danger-text"><input type="checkbox" name="safety-{pid}"'
            f"{' checked' if posted.get('safety') else ''}> Safety concern</label>"
            f'<label class="remark"><span class="visually-hidden">Remark for {name}</span>'
            f'<input type="text" name="remark-{pid}" value="{_e(posted.get("remark", ""))}" '
            'placeholder="Remark" maxlength="500"></label>'
            f'<a class="sheet-link" href="{_e(links["observation_sheet"])}">'
            "Today's observation sheet (PDF)</a>"
            + (
                f'<a class="btn vitals-link" href="{vitals_href}">Record vitals{hidden}</a>'
                if can_vitals
                else ""
            )
            + f'<a class="btn note-link" href="{_note_href(context, a)}" data-leaves-round>'
            + f"Note{hidden}</a>"
            + "</div></details>"
        )
    out.append("</li>")
    return mark_safe("".join(out))  # noqa: S308 (every value above is escaped)
