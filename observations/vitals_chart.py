"""The vital-signs section of the client chart (issue 11 items 1, 2 and 4), registered in
observations/chart.py.

The section itself is one query: the latest set (flags, NEWS2, its band and response, what is
missing) with whether the schedule in force says pregnant ("NEWS2 not validated"; a second query
only when there is no set yet). The trends (small
SVG charts, observations/trends.py) and the history table come as a fragment
(`observations:vitals_trends`) that HTMX fetches when the section scrolls into view, so opening a
chart costs the same whatever the stay's history. With JavaScript off, or when the query string
asks for a range or a history page, the section renders them inline: the same context, the same
template.
"""

from datetime import timedelta

from django.db.models import Subquery
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from facility import policy
from observations import trends
from observations.forms import VITALS_RANGE_DAYS, VITALS_RANGES, VitalsRangeForm
from observations.models import VitalSigns, VitalsSchedule
from observations.scales import NEWS2_PARAMETERS
from observations.services.vitals import flag_text, vitals_news2

VITALS_HISTORY_PAGE = 20
QUERY_KEYS = ("vitals_range", "vitals_page")
# What the trend charts read of each set in the range (no model instances for a year of sets).
TREND_COLUMNS = ["taken_at", "hr", "sbp", "dbp", "rr", "temp_c", "spo2", "news2_total",
                 "news2_band", "news2_red", "flags"]  # fmt: skip
CHARTS = [  # key, title, unit, [(series label, column, flag key, css)]
    ("hr", "Heart rate", "bpm", [("Heart rate", "hr", "hr", "s1")]),
    ("bp", "Blood pressure", "mmHg", [("Systolic", "sbp", "sbp", "s1"),
                                      ("Diastolic", "dbp", "dbp", "s2")]),
    ("rr", "Respiratory rate", "/min", [("Respiratory rate", "rr", "rr", "s1")]),
    ("temp_c", "Temperature", "°C", [("Temperature", "temp_c", "temp_c", "s1")]),
    ("spo2", "SpO2", "%", [("SpO2", "spo2", "spo2", "s1")]),
    ("news2", "NEWS2", "", [("NEWS2", "news2_total", "news2", "s1")]),
]  # fmt: skip


def vitals_section(request, client, admission) -> dict:
    """The chart section's context (ChartSection.render)."""
    if admission is None:
        return {"admission": None}
    inline = any(k in request.GET for k in QUERY_KEYS)
    ctx = trends_context(request, admission) if inline else {}
    now = timezone.now()
    # Pregnancy (NEWS2 not validated) from the schedule in force, read with the latest set.
    pregnant_now = Subquery(
        VitalsSchedule.objects.filter(admission=admission, effective_from__lte=now)
        .order_by("-effective_from", "-id")
        .values("pregnant")[:1]
    )
    latest = ctx.get("latest", False)
    if latest is False:
        latest = (
            VitalSigns.objects.filter(admission=admission, struck_at__isnull=True)
            .select_related("recorded_by")
            .annotate(pregnant_now=pregnant_now)
            .order_by("-taken_at", "-id")
            .first()
        )
    if latest is not None and hasattr(latest, "pregnant_now"):
        pregnant = bool(latest.pregnant_now)
    else:  # no set yet, or the set came from the history page: one query of its own
        pregnant = bool(
            VitalsSchedule.objects.filter(admission=admission, effective_from__lte=now)
            .order_by("-effective_from", "-id")
            .values_list("pregnant", flat=True)
            .first()
        )
    news = vitals_news2(latest) if latest else None
    not_validated = ""
    if pregnant:
        not_validated = "NEWS2 is not validated in pregnancy."
    elif client.age_on(timezone.localtime(now, admission.facility.tz).date()) < 16:
        not_validated = "NEWS2 is not validated under 16."
    return {
        **ctx,
        "admission": admission,
        "inline": inline,
        "latest": latest,
        "latest_flags": _flag_words(latest),
        "latest_cells": _latest_cells(latest),
        "news": news,
        "missing": [NEWS2_PARAMETERS.get(k, k) for k in news.missing] if news else [],
        "not_validated": not_validated,
        "can_record": admission.is_open and policy.allows(request.user, "vitals.record", admission),
    }


def trends_context(request, admission) -> dict:
    """The trends over the range asked for and one page of the history (newest first, struck
    sets included). Two queries, three when the latest set is not on the page shown; the trend
    query reads only the columns the charts need."""
    form = VitalsRangeForm(request.GET if any(k in request.GET for k in QUERY_KEYS) else None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    range_key = data.get("vitals_range") or "7d"
    page = data.get("vitals_page") or 1
    now = timezone.now()
    tz = admission.facility.tz
    end = min(admission.discharged_at or now, now)
    days = VITALS_RANGE_DAYS[range_key]
    start = admission.admitted_at
    if days is not None:
        start = max(start, end - timedelta(days=days))

    sets = VitalSigns.objects.filter(admission=admission)
    rows = list(
        sets.filter(struck_at__isnull=True, taken_at__gte=start, taken_at__lte=end)
        .order_by("taken_at", "id")
        .values_list(*TREND_COLUMNS)
    )
    offset = (page - 1) * VITALS_HISTORY_PAGE
    history = list(
        sets.select_related("recorded_by", "struck_by").order_by("-taken_at", "-id")[
            offset : offset + VITALS_HISTORY_PAGE + 1
        ]
    )
    # The latest set is on the first page unless twenty-one sets in a row were struck.
    latest = next((v for v in history if v.struck_at is None), None) if page == 1 else False
    if latest is None and len(history) > VITALS_HISTORY_PAGE:
        latest = False  # unknown: the section asks
    return {
        "admission": admission,
        "client": admission.client,
        "form": form,
        "errors": [e for errs in form.errors.values() for e in errs] if form.is_bound else [],
        "range_key": range_key,
        "ranges": VITALS_RANGES,
        "charts": _charts(rows, start, end, tz, range_key),
        "n_points": len(rows),
        "history": [_history_row(v) for v in history[:VITALS_HISTORY_PAGE]],
        "page": page,
        "has_older": len(history) > VITALS_HISTORY_PAGE,
        "latest": latest,
    }


def _charts(rows, start, end, tz, range_key) -> list[dict]:
    flag_sets = [frozenset(r[-1].split(",")) if r[-1] else frozenset() for r in rows]
    # NEWS2 points are marked when the band asks for the prescriber, or on a red score.
    news_flags = [r[9] or r[8] in ("medium", "high") for r in rows]
    range_words = dict(VITALS_RANGES)[range_key].lower()
    out = []
    for key, title, unit, spec in CHARTS:
        series = []
        for label, column, flag_key, css in spec:
            i = TREND_COLUMNS.index(column)
            flagged = news_flags if flag_key == "news2" else [flag_key in f for f in flag_sets]
            points = [
                (r[0], float(r[i]), flag) for r, flag in zip(rows, flagged, strict=True)
                if r[i] is not None
            ]  # fmt: skip
            series.append(trends.Series(label, points, css))
        band = trends.normal_band("sbp" if key == "bp" else key)
        if key == "bp" and band is not None:
            band = trends.Band(band.low, band.high, "systolic " + band.label)
        svg = trends.line_chart(
            chart_id=f"vt-{key}", title=f"{title} ({range_words})", unit=unit, series=series,
            start=start, end=end, tz=tz, band=band, axis=trends.AXES.get(key),
        )  # fmt: skip
        out.append({"key": key, "title": title, "svg": mark_safe(svg)})  # noqa: S308 (escaped)
    return out


def _flag_words(vitals) -> list[str]:
    """ "Heart rate 130 bpm (notify > 120)" for each flagged value of a set."""
    if vitals is None:
        return []
    return [flag_text(vitals, key) for key in vitals.flags.split(",") if key]


def _latest_cells(v) -> list[dict]:
    """The latest set as the chart's facts: label, text ("" when not taken), flagged, a note."""
    if v is None:
        return []
    flags = set(v.flags.split(",")) - {""}
    bp = f"{v.sbp}/{v.dbp} mmHg" if v.sbp is not None and v.dbp is not None else ""
    spo2_note = ""
    if v.spo2 is not None:
        spo2_note = "on oxygen" if v.on_oxygen else "air"
        spo2_note += ", scale 2" if v.spo2_scale == 2 else ""
    cells = [
        ("BP", bp, {"sbp", "dbp"}, ""),
        ("Heart rate", "" if v.hr is None else f"{v.hr} bpm", {"hr"}, ""),
        ("Resp. rate", "" if v.rr is None else f"{v.rr} /min", {"rr"}, ""),
        ("Temperature", "" if v.temp_c is None else f"{v.temp_c} °C", {"temp_c"},
         f"({v.temp_f_entered} °F)" if v.temp_f_entered else ""),
        ("SpO2", "" if v.spo2 is None else f"{v.spo2} %", {"spo2"}, spo2_note),
        ("ACVPU", v.get_acvpu_display() if v.acvpu else "", set(), ""),
    ]  # fmt: skip
    if v.pain is not None:
        cells.append(("Pain", f"{v.pain}/10", {"pain"}, ""))
    if v.weight_kg is not None:
        cells.append(("Weight", f"{v.weight_kg} kg", set(), ""))
    return [
        {"label": label, "text": text, "flagged": bool(keys & flags), "note": note}
        for label, text, keys, note in cells
    ]


_FLAGGED = (
    '<strong class="flagged">{} <span aria-hidden="true">◆</span>'
    '<span class="visually-hidden"> (flagged)</span></strong>'
)
HISTORY_LABELS = ("BP", "HR", "RR", "Temp °C", "SpO2 %", "ACVPU", "Pain", "NEWS2")


def _history_row(v) -> dict:
    """One set of the history table, its cells' HTML built here (each value escaped) rather than
    in the template: twenty rows of ten cells were most of the section's rendering time."""
    flags = set(v.flags.split(",")) - {""}
    bp = f"{v.sbp}/{v.dbp}" if v.sbp is not None and v.dbp is not None else ""
    spo2 = "" if v.spo2 is None else f"{v.spo2} {'O2' if v.on_oxygen else 'air'}"
    temp = ""
    if v.temp_c is not None:
        temp = f"{v.temp_c}" + (f" ({v.temp_f_entered} °F)" if v.temp_f_entered else "")
    news = "" if v.news2_total is None else f"{v.news2_total} {v.news2_band}"
    cells = [
        (bp, bool(flags & {"sbp", "dbp"})),
        ("" if v.hr is None else v.hr, "hr" in flags),
        ("" if v.rr is None else v.rr, "rr" in flags),
        (temp, "temp_c" in flags),
        (spo2, "spo2" in flags),
        (v.acvpu, False),
        ("" if v.pain is None else v.pain, "pain" in flags),
        (news, v.news2_red or v.news2_band in ("medium", "high")),
    ]
    struck = v.struck_at is not None
    html = []
    for label, (value, flagged) in zip(HISTORY_LABELS, cells, strict=True):
        text = escape(str(value))
        if struck:
            text = f"<s>{text}</s>"
        elif flagged:
            text = _FLAGGED.format(text)
        html.append(f'<td data-label="{label}">{text}</td>')
    return {"vitals": v, "cells": mark_safe("".join(html))}  # noqa: S308 (values escaped above)
