"""The trend charts of vital signs (issue 11 item 4): server-rendered SVG, no JavaScript, the normal
band shaded, flagged points marked by shape, dates on the facility clock, and a year of 4-hourly
sets downsampled without losing a flag. Pure: no database."""

import re
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from observations import trends

NS = {"s": "http://www.w3.org/2000/svg"}
NY = ZoneInfo("America/New_York")
START = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)  # midnight in New York


def hr_points(n: int, *, every=timedelta(hours=4), flag_at=()) -> list[trends.Point]:
    return [
        (START + i * every, 70 + (i * 7) % 25, i in flag_at) for i in range(n)
    ]  # fmt: skip


def chart(points, *, end=None, band=None, **kw) -> str:
    end = end or (points[-1][0] if points else START + timedelta(days=7))
    kw.setdefault("title", "Heart rate")
    return trends.line_chart(
        chart_id=kw.pop("chart_id", "hr"),
        unit=kw.pop("unit", "bpm"),
        series=kw.pop("series", None) or [trends.Series("Heart rate", points)],
        start=START,
        end=end,
        tz=NY,
        band=band if band is not None else trends.normal_band("hr"),
        axis=trends.AXES["hr"],
        **kw,
    )


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def test_normal_bands_come_from_the_spec_table():
    assert trends.normal_band("hr") == trends.Band(60, 100, "normal 60–100 bpm")
    assert trends.normal_band("temp_c") == trends.Band(36.1, 37.2, "normal 36.1–37.2 °C")
    assert trends.normal_band("spo2") == trends.Band(95, 100, "normal 95–100 %")
    # "< 120": open below, the band runs to the bottom of the plot.
    assert trends.normal_band("sbp") == trends.Band(None, 120, "normal < 120 mmHg")
    assert trends.normal_band("news2") == trends.Band(0, 4, "NEWS2 low band (0–4)")
    assert trends.normal_band("pain") is None


def test_band_is_shaded_between_its_values():
    svg = parse(chart(hr_points(30)))
    band = svg.find("s:rect[@class='band']", NS)
    assert band is not None
    assert band.find("s:title", NS).text == "normal 60–100 bpm"
    # The axis runs 40–140 on a plot from y=8 to y=120: 100 bpm at y = 8 + 0.4 × 112, 60 at
    # y = 8 + 0.8 × 112.
    top, height = float(band.get("y")), float(band.get("height"))
    assert top == pytest.approx(8 + 0.4 * 112, abs=0.1)
    assert top + height == pytest.approx(8 + 0.8 * 112, abs=0.1)
    # The band is said in words too (not colour only).
    assert "Shaded: normal 60–100 bpm." in svg.find("s:desc", NS).text


def test_flagged_points_are_diamonds_with_a_title():
    points = hr_points(30, flag_at={4, 17})
    points[4] = (points[4][0], 131, True)
    svg = parse(chart(points))
    flags = svg.findall("s:path[@class='flag']", NS)
    assert len(flags) == 2
    titles = [f.find("s:title", NS).text for f in flags]
    # The fifth point is 4 × 4 h after local midnight (05:00 UTC): 16:00 New York.
    assert titles[0] == "Heart rate 131 bpm at 2026-03-01 16:00: flagged"
    # A diamond: four corners, closed.
    assert re.fullmatch(r"M[\d.]+ [\d.]+(L[\d.]+ [\d.]+){3}Z", flags[0].get("d"))
    assert "2 flagged (diamonds)" in svg.find("s:desc", NS).text
    # Unflagged points are plain circles (few points), never diamonds.
    assert len(svg.findall("s:circle[@class='pt']", NS)) == 28


def test_accessible_title_and_description():
    svg = parse(chart(hr_points(10), chart_id="HR<1>"))
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "hr1-t hr1-d"
    assert svg.find("s:title", NS).get("id") == "hr1-t"
    desc = svg.find("s:desc", NS)
    assert desc.get("id") == "hr1-d"
    assert "Heart rate: 10 readings" in desc.text
    assert "latest" in desc.text


def test_dates_on_the_axis_are_on_the_facility_clock():
    # A week from midnight New York: ticks at each local midnight, labelled with the local day.
    end = START + timedelta(days=7)
    svg = parse(chart(hr_points(42), end=end))
    labels = [t.text for t in svg.findall("s:text[@class='xlab']", NS)]
    assert labels[0] == "Mar 2"
    assert "Mar 8" in labels  # DST starts 8 March 2026: still a local midnight tick
    ticks = svg.findall("s:line[@class='tick']", NS)
    x0 = float(ticks[0].get("x1"))
    # Mar 2 00:00 New York (05:00 UTC) is 1/7 of the way along the plot (34 → 314).
    assert x0 == pytest.approx(34 + 280 / 7, abs=0.1)


def test_a_gap_breaks_the_line():
    points = hr_points(6) + [(START + timedelta(days=3), 80, False)]
    svg = parse(chart(points))
    d = svg.find("s:path[@class='line s1']", NS).get("d")
    assert d.count("M") == 2


def test_empty_range_says_so():
    svg = parse(chart([], end=START + timedelta(days=7)))
    assert svg.find("s:text[@class='empty']", NS).text == "No readings in this range"
    assert svg.find("s:path[@class='line s1']", NS) is None


def test_a_year_is_downsampled_keeping_every_flag():
    n = 365 * 6  # a year of 4-hourly sets
    flag_at = {7, 1001, 1002, 2100}
    points = hr_points(n, flag_at=flag_at)
    # A lone spike and a flagged value that is neither the lowest nor the highest of its column.
    points[1001] = (points[1001][0], 77, True)
    end = points[-1][0]
    started = time.perf_counter()
    svg_text = chart(points, end=end)
    elapsed = time.perf_counter() - started
    svg = parse(svg_text)
    flags = svg.findall("s:path[@class='flag']", NS)
    assert len(flags) == len(flag_at)
    flagged_titles = {f.find("s:title", NS).text for f in flags}
    local = points[1001][0].astimezone(NY)
    assert f"Heart rate 77 bpm at {local:%Y-%m-%d %H:%M}: flagged" in flagged_titles
    line = svg.find("s:path[@class='line s1']", NS).get("d")
    assert line.count("M") == 1  # no pause in the readings: downsampling does not break the line
    vertices = len(re.findall(r"[ML]", line))
    assert vertices <= 2 * 140 + len(flag_at)  # 280 px of plot in 2 px columns
    assert len(svg_text) < 20_000
    assert elapsed < 0.5  # generous: ~10 ms on the reference machine
    # The description still counts every reading, not the downsampled ones.
    assert f"Heart rate: {n} readings" in svg.find("s:desc", NS).text


def test_downsampling_is_deterministic_and_keeps_extremes():
    points = hr_points(1000, every=timedelta(minutes=30))
    points[500] = (points[500][0], 190, False)
    a = trends.downsample(points, START, points[-1][0], 50)
    b = trends.downsample(list(reversed(points)), START, points[-1][0], 50)
    assert a == b
    assert len(a) <= 100
    assert points[500] in a
    assert a == sorted(a, key=lambda p: p[0])


def test_short_series_are_not_downsampled():
    points = hr_points(20)
    assert trends.downsample(points, START, points[-1][0], 50) == points


def test_everything_is_escaped():
    evil = '<script>alert("x")</script>&'
    points = hr_points(5, flag_at={2})
    svg_text = trends.line_chart(
        chart_id='"><script>',
        title=evil,
        unit=evil,
        series=[trends.Series(evil, points, css='s1" onload="x')],
        start=START,
        end=points[-1][0],
        tz=NY,
        band=trends.Band(60, 100, evil),
    )
    assert "<script>" not in svg_text
    assert 'onload="' not in svg_text
    svg = parse(svg_text)  # still well-formed
    assert svg.find("s:title", NS).text == evil
    assert svg.find("s:rect[@class='band']/s:title", NS).text == evil
    assert evil in svg.find("s:path[@class='flag']/s:title", NS).text


def test_two_series_share_the_chart():
    sbp = [(START + timedelta(hours=4 * i), 120 + i, i == 3) for i in range(10)]
    dbp = [(START + timedelta(hours=4 * i), 80 - i, False) for i in range(10)]
    svg = parse(
        trends.line_chart(
            chart_id="bp",
            title="Blood pressure",
            unit="mmHg",
            series=[trends.Series("Systolic", sbp), trends.Series("Diastolic", dbp, "s2")],
            start=START,
            end=sbp[-1][0],
            tz=NY,
            band=trends.normal_band("sbp"),
            axis=trends.AXES["bp"],
        )
    )
    assert svg.find("s:path[@class='line s1']", NS) is not None
    assert svg.find("s:path[@class='line s2']", NS) is not None
    assert len(svg.findall("s:path[@class='flag']", NS)) == 1
    desc = svg.find("s:desc", NS).text
    assert "Systolic: 10 readings" in desc and "Diastolic: 10 readings" in desc
    # "< 120": the band runs from 120 down to the bottom of the plot.
    band = svg.find("s:rect[@class='band']", NS)
    assert float(band.get("y")) + float(band.get("height")) == pytest.approx(120.0, abs=0.1)


def test_no_javascript():
    svg_text = chart(hr_points(50, flag_at={3}))
    assert "<script" not in svg_text and "on" + "load" not in svg_text
    assert "http" not in svg_text.replace('xmlns="http://www.w3.org/2000/svg"', "")
