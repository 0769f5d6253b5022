"""Small server-rendered SVG line charts of vital signs and NEWS2 (issue 11 item 4). Pure: no
Django import, no JavaScript, no chart library.

`line_chart()` takes one or more series of points `(taken_at, value, flagged)` over a time range,
the normal band to shade, and a size, and returns an SVG string. Everything put into the SVG is
escaped here, so a template may mark the result safe.

- The normal band is a shaded rectangle (and named in the description, so it is not colour only).
- A flagged point is a diamond with its own title ("flagged"), drawn on top of the line: shape
  and colour, never colour alone.
- Dates on the time axis are in the zone given (the facility's).
- A long range (a year of 4-hourly sets is ~2,200 points) is downsampled deterministically: the
  plot is cut into columns `column_px` wide and each column keeps its lowest and highest point,
  and every flagged point. So a chart has at most about `2 × width / column_px` line points plus
  its flags, whatever the history, and a spike is never smoothed away.
"""

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from observations.scales import VITALS

Point = tuple[datetime, float, bool]


@dataclass(frozen=True)
class Band:
    """A shaded range of values: `low` or `high` may be None (open on that side: the band runs
    to the edge of the plot)."""

    low: float | None
    high: float | None
    label: str


@dataclass(frozen=True)
class Series:
    label: str
    points: list[Point]
    css: str = "s1"  # the stroke class: s1 solid, s2 dashed (a second line on the same chart)


# What each vital's chart shows at least (it widens to the data), and its NEWS2 band when the
# spec's normal range has no lower side. Haven's choice of axes, not the spec's.
AXES: dict[str, tuple[float, float]] = {
    "hr": (40, 140),
    "rr": (6, 30),
    "sbp": (60, 200),
    "dbp": (40, 130),
    "bp": (40, 200),
    "temp_c": (35.0, 39.5),
    "spo2": (85, 100),
    "news2": (0, 10),
}


def normal_band(key: str) -> Band | None:
    """The shaded band for a vital, from scales.VITALS[key].normal ("60–100", "< 120"), or for
    "news2" the low band (total 0–4)."""
    if key == "news2":
        return Band(0, 4, "NEWS2 low band (0–4)")
    limit = VITALS.get(key)
    if limit is None:
        return None
    text = limit.normal.strip()
    if m := re.fullmatch(r"([\d.]+)\s*–\s*([\d.]+)", text):
        low, high = float(m.group(1)), float(m.group(2))
    elif m := re.fullmatch(r"<\s*([\d.]+)", text):
        low, high = None, float(m.group(1))
    else:
        return None
    unit = f" {limit.unit}" if limit.unit and not limit.unit.startswith("(") else ""
    return Band(low, high, f"normal {text}{unit}")


def downsample(points: list[Point], start: datetime, end: datetime, columns: int) -> list[Point]:
    """At most the lowest and highest point of each of `columns` equal time slices, plus every
    flagged point, in time order. Deterministic: ties go to the earlier point."""
    pts = sorted(points, key=lambda p: p[0])
    if len(pts) <= 2 * columns:
        return pts
    span = max((end - start).total_seconds(), 1.0)
    keep: set[int] = set()
    buckets: dict[int, tuple[int, int]] = {}  # column -> (index of min, index of max)
    for i, (at, value, flagged) in enumerate(pts):
        if flagged:
            keep.add(i)
        col = min(columns - 1, max(0, int((at - start).total_seconds() / span * columns)))
        if col not in buckets:
            buckets[col] = (i, i)
            continue
        lo, hi = buckets[col]
        if value < pts[lo][1]:
            lo = i
        if value > pts[hi][1]:
            hi = i
        buckets[col] = (lo, hi)
    for lo, hi in buckets.values():
        keep.update((lo, hi))
    return [pts[i] for i in sorted(keep)]


def _num(value) -> str:
    """A coordinate with one decimal, without a trailing .0."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _fmt(value) -> str:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return str(int(value))


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _ticks(start: datetime, end: datetime, tz: tzinfo, max_ticks: int) -> list[datetime]:
    """Local midnights (or the first of the month for long ranges) between start and end, at most
    `max_ticks` of them."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    days = max(1, (local_end.date() - local_start.date()).days)
    if days > 62:
        out, d = [], local_start.date().replace(day=1)
        while d <= local_end.date():
            at = datetime(d.year, d.month, d.day, tzinfo=tz)
            if start <= at <= end:
                out.append(at)
            d = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
        step = -(-len(out) // max_ticks) if out else 1
        return out[::step]
    step = max(1, -(-days // max_ticks))
    out, d = [], local_start.date() + timedelta(days=1)
    while d <= local_end.date():
        at = datetime(d.year, d.month, d.day, tzinfo=tz)
        if start <= at <= end:
            out.append(at)
        d += timedelta(days=step)
    return out


@dataclass
class _Frame:
    start: datetime
    end: datetime
    y_min: float
    y_max: float
    left: float
    right: float
    top: float
    bottom: float
    span: float = field(init=False)

    def __post_init__(self):
        self.span = max((self.end - self.start).total_seconds(), 1.0)

    def x(self, at: datetime) -> float:
        return self.left + (at - self.start).total_seconds() / self.span * (self.right - self.left)

    def y(self, value: float) -> float:
        frac = (value - self.y_min) / ((self.y_max - self.y_min) or 1)
        return self.bottom - frac * (self.bottom - self.top)


def line_chart(
    *,
    chart_id: str,
    title: str,
    unit: str,
    series: list[Series],
    start: datetime,
    end: datetime,
    tz: tzinfo,
    band: Band | None = None,
    axis: tuple[float, float] | None = None,
    width: int = 320,
    height: int = 140,
    column_px: int = 2,
    gap: timedelta = timedelta(hours=24),
) -> str:
    """One small chart as an SVG string (see the module docstring). `chart_id` makes the ids of
    its title and description unique on the page; `gap`: a longer pause between two readings
    breaks the line."""
    cid = re.sub(r"[^a-z0-9-]", "", chart_id.lower()) or "chart"
    left, right, top, bottom = 34.0, width - 6.0, 8.0, height - 20.0
    columns = max(1, int((right - left) // max(1, column_px)))
    # Runs of readings without a longer pause than `gap`, each downsampled on its own: the line
    # breaks where the readings did, never where downsampling left points far apart.
    kept = [
        (s, [downsample(run, start, end, columns) for run in _runs(s.points, start, end, gap)])
        for s in series
    ]
    values = [float(p[1]) for _s, runs in kept for run in runs for p in run]
    lo, hi = axis if axis else (min(values, default=0.0), max(values, default=1.0))
    if values:
        lo, hi = min(lo, min(values)), max(hi, max(values))
    if band is not None:
        lo = min(lo, band.low) if band.low is not None else lo
        hi = max(hi, band.high) if band.high is not None else hi
    if hi <= lo:
        hi = lo + 1
    f = _Frame(start, end, lo, hi, left, right, top, bottom)

    total = sum(len(run) for _s, runs in kept for run in runs)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="vt-chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{cid}-t {cid}-d" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{cid}-t">{_esc(title)}</title>',
        f'<desc id="{cid}-d">{_esc(_describe(title, unit, series, start, end, tz, band))}</desc>',
        f'<rect class="plot" x="{_num(left)}" y="{_num(top)}" width="{_num(right - left)}" '
        f'height="{_num(bottom - top)}"/>',
    ]
    if band is not None:
        b_top = f.y(min(band.high, hi)) if band.high is not None else top
        b_bottom = f.y(max(band.low, lo)) if band.low is not None else bottom
        parts.append(
            f'<rect class="band" x="{_num(left)}" y="{_num(b_top)}" width="{_num(right - left)}" '
            f'height="{_num(max(0.0, b_bottom - b_top))}"><title>{_esc(band.label)}</title></rect>'
        )
    # y axis: the bottom and top of the scale, and the band's edges.
    y_marks = {lo, hi}
    if band is not None:
        y_marks.update(v for v in (band.low, band.high) if v is not None and lo < v < hi)
    for v in sorted(y_marks):
        parts.append(
            f'<text class="ylab" x="{_num(left - 3)}" y="{_num(f.y(v) + 3)}" '
            f'text-anchor="end">{_esc(_fmt(v))}</text>'
        )
    # x axis: dates on the facility clock.
    max_ticks = max(2, int((right - left) // 48))
    long_range = (end - start) > timedelta(days=62)
    for at in _ticks(start, end, tz, max_ticks):
        x = f.x(at)
        local = at.astimezone(tz)
        label = f"{local:%b %Y}" if long_range else f"{local:%b} {local.day}"
        # A label centred on a tick near the right edge would be cut off: end it at the edge.
        end_at_edge = x + len(label) * 3 > width
        parts.append(
            f'<line class="tick" x1="{_num(x)}" y1="{_num(top)}" x2="{_num(x)}" '
            f'y2="{_num(bottom)}"/><text class="xlab" '
            f'x="{_num(width - 1 if end_at_edge else x)}" y="{_num(height - 6)}" '
            f'text-anchor="{"end" if end_at_edge else "middle"}">{_esc(label)}</text>'
        )
    for s, runs in kept:
        path = "".join(_path(run, f) for run in runs)
        if path:
            parts.append(f'<path class="line {_esc(s.css)}" d="{path}"/>')
        points = [p for run in runs for p in run]
        if len(points) == 1 or (len(points) <= 60 and len(series) == 1):
            for at, value, flagged in points:
                if not flagged:
                    parts.append(
                        f'<circle class="pt" cx="{_num(f.x(at))}" cy="{_num(f.y(float(value)))}" '
                        f'r="2.5"/>'
                    )
    for s, runs in kept:
        for at, value, flagged in (p for run in runs for p in run):
            if flagged:
                x, y = f.x(at), f.y(float(value))
                local = at.astimezone(tz)
                parts.append(
                    f'<path class="flag" d="M{_num(x)} {_num(y - 5)}L{_num(x + 5)} {_num(y)}'
                    f'L{_num(x)} {_num(y + 5)}L{_num(x - 5)} {_num(y)}Z"><title>'
                    f"{_esc(s.label)} {_esc(_fmt(value))} {_esc(unit)} at "
                    f"{local:%Y-%m-%d %H:%M}: flagged</title></path>"
                )
    if not total:
        parts.append(
            f'<text class="empty" x="{_num((left + right) / 2)}" y="{_num((top + bottom) / 2)}" '
            f'text-anchor="middle">No readings in this range</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _runs(points: list[Point], start: datetime, end: datetime, gap: timedelta):
    """The points within [start, end] in time order, cut where two readings are more than
    `gap` apart."""
    runs: list[list[Point]] = []
    prev = None
    for p in sorted((p for p in points if start <= p[0] <= end), key=lambda p: p[0]):
        if prev is None or p[0] - prev > gap:
            runs.append([])
        runs[-1].append(p)
        prev = p[0]
    return runs


def _path(points: list[Point], f: _Frame) -> str:
    """One unbroken run as SVG path commands (the one loop over every point: kept lean)."""
    t0, kx = f.start.timestamp(), (f.right - f.left) / f.span
    ky = (f.bottom - f.top) / ((f.y_max - f.y_min) or 1)
    left, bottom, y_min = f.left, f.bottom, f.y_min
    out = [
        f"L{left + (at.timestamp() - t0) * kx:.1f} {bottom - (float(value) - y_min) * ky:.1f}"
        for at, value, _flagged in points
    ]
    if out:
        out[0] = "M" + out[0][1:]
    return "".join(out)


def _describe(title, unit, series, start, end, tz, band) -> str:
    """The chart in words, for screen readers and for anyone who cannot tell the colours apart."""
    a, b = start.astimezone(tz), end.astimezone(tz)
    words = [f"{title}, {a:%Y-%m-%d} to {b:%Y-%m-%d}."]
    for s in series:
        pts = [p for p in s.points if start <= p[0] <= end]
        if not pts:
            words.append(f"{s.label}: no readings.")
            continue
        last = max(pts, key=lambda p: p[0])
        vals = [float(p[1]) for p in pts]
        n_flag = sum(1 for p in pts if p[2])
        words.append(
            f"{s.label}: {len(pts)} readings, from {_fmt(min(vals))} to {_fmt(max(vals))} {unit}, "
            f"latest {_fmt(last[1])} at {last[0].astimezone(tz):%Y-%m-%d %H:%M}; "
            f"{n_flag} flagged (diamonds)."
        )
    if band is not None:
        words.append(f"Shaded: {band.label}.")
    return " ".join(words)
