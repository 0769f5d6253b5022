"""What nurses review of vital signs (issue 11 items 1, 2 and 4): the unit view of every client's
latest set, sortable by NEWS2, and the chart's vitals section (latest set, trends, history)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from facility.models import Bed, Unit
from observations.models import VitalSigns, VitalsSchedule
from tests.clock import local_today
from tests.conftest import admit
from tests.observations.vitals_data import vitals_set


@pytest.fixture
def unit(facility):
    return Unit.objects.get(facility=facility, name="East")


def ward(facility, unit, nurse, n: int, *, start: int = 0):
    """n clients on the unit (more beds made as needed), named so that name order is known."""
    admissions = []
    for i in range(start, start + n):
        bed, _ = Bed.objects.get_or_create(unit=unit, label=f"E{i + 1:02d}")
        admissions.append(
            admit(facility, nurse, bed=bed, n=i, first=f"Client{i:02d}", last=f"Ward{i:02d}")
        )
    return admissions


def stay_since(facility, nurse, days: int, **fields):
    """A stay admitted `days` ago (admission refuses a back-dated admission over a week)."""
    from clients.models import Admission

    admission = admit(facility, nurse, **fields)
    Admission.objects.filter(pk=admission.pk).update(
        admitted_at=timezone.now() - timedelta(days=days)
    )
    admission.refresh_from_db()
    return admission


def names_in_order(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'#section-vitals">([^<]+)</a>', html)


@pytest.fixture
def review(cast, facility, unit):
    """Three clients: a high NEWS2, a low one, and one with no vitals yet; plus a struck set."""
    nurse = cast["nurse"]
    now = timezone.now()
    bed = {b.label: b for b in Bed.objects.filter(unit=unit)}
    amy = admit(facility, nurse, bed=bed["E03"], first="Amy", last="Zed")
    ben = admit(facility, nurse, bed=bed["E01"], first="Ben", last="Young")
    cal = admit(facility, nurse, bed=bed["E02"], first="Cal", last="Xu")
    # Amy: low (0), the newest set. Ben: high (RR 9, SpO2 92, SBP 91, HR 41, 35.1 → 7), older;
    # and a later set for Ben that was struck (NEWS2 0): the struck one must not be shown.
    vitals_set(amy, now - timedelta(minutes=20), nurse)
    vitals_set(ben, now - timedelta(minutes=50), nurse, rr=9, spo2=92, sbp=91, dbp=60, hr=41,
               temp_c="35.1")  # fmt: skip
    vitals_set(ben, now - timedelta(minutes=30), nurse, struck_reason="Wrong client")
    return {"amy": amy, "ben": ben, "cal": cal}


def url(unit, **query):
    base = reverse("observations:vitals_review", args=[unit.public_id])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.mark.django_db
def test_unit_view_sorts_by_news2_highest_first_and_keeps_clients_without_vitals(
    client, cast, unit, review
):
    client.force_login(cast["nurse"])
    response = client.get(url(unit))
    assert response.status_code == 200
    assert names_in_order(response) == ["Ben Young", "Amy Zed", "Cal Xu"]
    html = response.content.decode()
    assert "No vitals yet" in html
    # Ben's row: NEWS2 7, high band, flagged values marked by a diamond and words.
    ben_row = html[html.index("Ben Young") : html.index("Amy Zed")]
    assert "<strong>7</strong>" in ben_row and ">high</span>" in ben_row
    # Flagged (spec: HR < 50, RR < 10): HR 41 and RR 9; SBP 91 and SpO2 92 are not.
    assert '<strong class="flagged">41 <span aria-hidden="true">◆</span>' in ben_row
    assert '<strong class="flagged">9 <span aria-hidden="true">◆</span>' in ben_row
    assert ">91/60<" in ben_row and ">92<" in ben_row
    # The struck set (NEWS2 0, 30 minutes ago) is not Ben's latest.
    assert "<strong>0</strong>" not in ben_row


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("news2", ["Ben Young", "Amy Zed", "Cal Xu"]),
        ("name", ["Amy Zed", "Ben Young", "Cal Xu"]),
        ("bed", ["Ben Young", "Cal Xu", "Amy Zed"]),  # E01, E02, E03
        ("time", ["Cal Xu", "Ben Young", "Amy Zed"]),  # no set first, then the oldest set
    ],
)
def test_unit_view_sorts(client, cast, unit, review, sort, expected):
    client.force_login(cast["nurse"])
    response = client.get(url(unit, sort=sort))
    assert names_in_order(response) == expected
    assert f'href="?sort={sort}" aria-current="page"' in response.content.decode()


@pytest.mark.django_db
def test_incomplete_set_sorts_by_what_it_already_scores_and_says_incomplete(
    client, cast, facility, unit
):
    """Review finding 8: an incomplete set is placed by its partial score among the scored ones.
    HR 135 alone scores 3 (red: at least low-medium), above a complete low 0; an incomplete set
    scoring nothing sits with the low ones."""
    nurse = cast["nurse"]
    now = timezone.now()
    a, b, c = ward(facility, unit, nurse, 3)
    vitals_set(a, now - timedelta(minutes=5), nurse, sbp=None, dbp=None, hr=135)
    vitals_set(b, now - timedelta(minutes=50), nurse, hr=95)  # complete, low 1
    vitals_set(c, now - timedelta(minutes=10), nurse, sbp=None, dbp=None)  # incomplete, 0
    client.force_login(nurse)
    response = client.get(url(unit))
    assert names_in_order(response) == ["Client00 Ward00", "Client01 Ward01", "Client02 Ward02"]
    html = response.content.decode()
    assert ">at least low-medium</span>" in html and ">incomplete</span>" in html


@pytest.mark.django_db
def test_a_later_weight_is_shown_beside_the_latest_vital_signs(client, cast, facility, unit):
    nurse = cast["nurse"]
    now = timezone.now()
    (a,) = ward(facility, unit, nurse, 1)
    vitals_set(a, now - timedelta(minutes=50), nurse, rr=9, spo2=92, sbp=91, dbp=60, hr=41,
               temp_c="35.1")  # fmt: skip
    VitalSigns.objects.create(
        admission=a, taken_at=now - timedelta(minutes=5), recorded_at=now,
        recorded_by=nurse, weight_kg="70.0",
    )  # fmt: skip
    client.force_login(nurse)
    html = client.get(url(unit)).content.decode()
    assert "<strong>7</strong>" in html and ">high</span>" in html
    assert "later: weight 70.0 kg" in html


@pytest.mark.django_db
def test_bad_sort_is_a_field_message_not_an_error(client, cast, unit, review):
    client.force_login(cast["nurse"])
    response = client.get(url(unit, sort="<b>drop</b>"))
    assert response.status_code == 200
    assert escape("Sort by: choose NEWS2, name, bed or last set.") in response.content.decode()
    assert names_in_order(response) == ["Ben Young", "Amy Zed", "Cal Xu"]


@pytest.mark.django_db
def test_unit_view_access(client, cast, facility, other_facility, unit, review):
    target = url(unit)
    response = client.get(target)
    assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(cast["admin"])  # no vitals.view
    assert client.get(target).status_code == 403
    client.force_login(cast["other_nurse"])
    assert client.get(target).status_code == 404
    client.force_login(cast["technician"])  # floor staff see the review too (census.view)
    assert client.get(target).status_code == 200
    # The rounds board leads to it.
    board = client.get(reverse("observations:board", args=[unit.public_id])).content.decode()
    assert f'href="{target}">Vitals review</a>' in board
    response = client.get(reverse("observations:vitals_review_home"))
    assert response.status_code == 302
    first = Unit.objects.filter(facility=facility).order_by("name").first()
    assert response["Location"] == reverse("observations:vitals_review", args=[first.public_id])


def queries_for(client, target) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(target).status_code == 200
    return len(ctx)


@pytest.mark.django_db
def test_unit_view_query_count_does_not_grow_with_clients(client, cast, facility, unit):
    nurse = cast["nurse"]
    now = timezone.now()
    few = ward(facility, unit, nurse, 3)
    for i, a in enumerate(few):
        for h in range(3):
            vitals_set(a, now - timedelta(hours=h, minutes=i), nurse, hr=70 + i * 30)
    client.force_login(nurse)
    client.get(url(unit))  # warm: session save, permission caches
    n_few = queries_for(client, url(unit))
    more = ward(facility, unit, nurse, 17, start=3)
    for i, a in enumerate(more[:12]):
        for h in range(4):
            vitals_set(a, now - timedelta(hours=h, minutes=i), nurse, sbp=95 + i, dbp=60)
    VitalsSchedule.objects.create(admission=more[0], every_minutes=240, pregnant=True,
                                  reason="CIWA", effective_from=now - timedelta(hours=5),
                                  ordered_by=nurse)  # fmt: skip
    n_many = queries_for(client, url(unit))
    assert n_many == n_few <= 12
    response = client.get(url(unit))
    assert len(names_in_order(response)) == 20
    assert response.content.decode().count("No vitals yet") == 5
    assert "not validated (pregnancy)" in response.content.decode()


# --- the chart's vitals section ----------------------------------------------------------------


def chart(client, admission, **query):
    """The chart's vitals section as the page shows it."""
    target = reverse("clients:chart", args=[admission.client.public_id])
    if query:
        target += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    response = client.get(target)
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('id="section-vitals"')
    return html[start : html.index("</section>", start)]


def trends_url(admission, **query):
    target = reverse("observations:vitals_trends", args=[admission.public_id])
    return target + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def trends(client, admission, **query):
    """The trends and history fragment the section loads when it scrolls into view."""
    response = client.get(trends_url(admission, **query))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_chart_section_shows_the_latest_set_flags_news2_and_response(client, cast, admission):
    from observations.services.vitals import vitals_record

    nurse = cast["nurse"]
    now = timezone.now()
    vitals_set(admission, now - timedelta(hours=8), nurse)
    # The newest set through the service (specs/scales.md example: 6, medium).
    vitals_record(actor=nurse, admission=admission, taken_at=now, now=now,
                  values={"rr": 22, "spo2": 95, "on_oxygen": False, "sbp": 105, "dbp": 70,
                          "hr": 95, "acvpu": "A", "temp": "38.3"})  # fmt: skip
    client.force_login(nurse)
    section = chart(client, admission)
    assert "<strong>NEWS2 6</strong>" in section
    assert ">medium</span>" in section
    assert "Call the prescriber now; consider transfer." in section
    assert "Flagged:" in section and "Temperature 38.3" in section
    assert "38.3 °C" in section and "(flagged)" in section
    # The trends load on their own (HTMX, when the section scrolls into view): the chart page
    # does not build them. A plain link shows them without JavaScript.
    assert "<svg" not in section
    assert f'hx-get="{trends_url(admission)}" hx-trigger="revealed"' in section
    assert 'href="?vitals_range=7d#section-vitals"' in section
    # Trends: one SVG per vital and NEWS2, with the normal band, no script.
    section = trends(client, admission)
    assert section.count("<svg") == 6
    for key in ("hr", "bp", "rr", "temp_c", "spo2", "news2"):
        assert f'id="trend-{key}"' in section
    assert 'class="band"' in section and "<script" not in section
    assert section.count('class="flag"') >= 1  # the 38.3 °C point (and the NEWS2 6 point)


@pytest.mark.django_db
def test_chart_section_incomplete_and_not_validated(client, cast, facility):
    nurse = cast["nurse"]
    young = admit(
        facility,
        nurse,
        first="Kid",
        last="Young",
        dob=local_today(facility) - timedelta(days=15 * 365),
    )
    vitals_set(young, timezone.now() - timedelta(minutes=10), nurse, rr=None, acvpu="")
    client.force_login(nurse)
    section = chart(client, young)
    assert "NEWS2 incomplete:</strong> missing Respiration rate, Consciousness." in section
    assert "NEWS2 is not validated under 16." in section


@pytest.mark.django_db
def test_chart_section_not_validated_in_pregnancy(client, cast, admission):
    nurse = cast["nurse"]
    now = timezone.now()
    VitalsSchedule.objects.create(
        admission=admission,
        every_minutes=240,
        pregnant=True,
        reason="Pregnant, on protocol",
        effective_from=now - timedelta(hours=1),
        ordered_by=nurse,
    )
    client.force_login(nurse)
    assert "NEWS2 is not validated in pregnancy." in chart(client, admission)  # no set yet
    vitals_set(admission, now - timedelta(minutes=10), nurse)
    assert "NEWS2 is not validated in pregnancy." in chart(client, admission)
    assert "NEWS2 is not validated in pregnancy." in chart(client, admission, vitals_page=1)


@pytest.mark.django_db
def test_chart_history_is_paginated_newest_first_with_struck_sets_shown_struck(
    client, cast, facility
):
    nurse = cast["nurse"]
    now = timezone.now()
    stay = stay_since(facility, nurse, 20, first="Long", last="Stay")
    for i in range(25):  # every 4 hours back from now
        vitals_set(stay, now - timedelta(hours=4 * i), nurse, hr=70 + i)
    VitalSigns.objects.filter(admission=stay, hr=71).update(
        struck_at=now, struck_by=nurse, struck_reason="Wrong client <b>"
    )
    client.force_login(nurse)
    first = trends(client, stay)
    rows = re.findall(r"<tr class=\"(struck-row)?\">", first)
    assert len(rows) == 20
    assert "Older sets" in first and "Newer sets" not in first
    assert "<s>71</s>" in first
    assert "Wrong client &lt;b&gt;" in first
    # Newest first: HR 70 (now) is the first row, HR 89 the twentieth.
    assert first.index(">70<") < first.index("<s>71</s>") < first.index(">89<")
    # The same page inline in the chart (no JavaScript: the links lead there).
    second = chart(client, stay, vitals_range="7d", vitals_page=2)
    assert ">90<" in second and ">94<" in second and ">70<" not in second
    assert "Newer sets" in second and "Older sets" not in second


@pytest.mark.django_db
def test_chart_range_choice_and_bad_range(client, cast, facility):
    nurse = cast["nurse"]
    now = timezone.now()
    stay = stay_since(facility, nurse, 40, first="Range", last="Stay")
    vitals_set(stay, now - timedelta(days=35), nurse, hr=130)  # flagged, 35 days ago
    vitals_set(stay, now - timedelta(days=20), nurse)
    vitals_set(stay, now - timedelta(hours=2), nurse)
    client.force_login(nurse)
    week = trends(client, stay)
    assert "1 set in range" in week and 'value="7d" checked' in week
    assert "2 sets in range" in trends(client, stay, vitals_range="30d")
    assert "2 sets in range" in chart(client, stay, vitals_range="30d")
    whole = trends(client, stay, vitals_range="stay")
    assert "3 sets in range" in whole
    assert "Heart rate 130 bpm" in whole  # the flagged point's title
    for bad in (
        trends(client, stay, vitals_range="forever"),
        chart(client, stay, vitals_range="forever"),
    ):
        assert escape("Show: choose 7 days, 30 days or the whole stay.") in bad
        assert "1 set in range" in bad  # the default range


@pytest.mark.django_db
def test_chart_section_query_count_does_not_grow_with_history(client, cast, facility):
    nurse = cast["nurse"]
    now = timezone.now()
    short = stay_since(facility, nurse, 2, first="Short", last="One")
    long = stay_since(facility, nurse, 60, first="Long", last="One")
    vitals_set(short, now - timedelta(hours=1), nurse)
    sets = [
        VitalSigns(admission=long, taken_at=now - timedelta(hours=4 * i),
                   recorded_at=now - timedelta(hours=4 * i), recorded_by=nurse, hr=60 + i % 70,
                   sbp=120, dbp=70, rr=16, spo2=97, on_oxygen=False, acvpu="A",
                   flags="hr" if i % 70 > 60 else "")
        for i in range(350)
    ]  # fmt: skip
    VitalSigns.objects.bulk_create(sets)
    client.force_login(nurse)
    chart_short = reverse("clients:chart", args=[short.client.public_id])
    chart_long = reverse("clients:chart", args=[long.client.public_id])
    client.get(chart_short)
    # The chart page, the fragment, and the chart with the trends inline.
    assert queries_for(client, chart_long) == queries_for(client, chart_short)
    assert queries_for(client, trends_url(long, vitals_range="stay")) == queries_for(
        client, trends_url(short, vitals_range="stay")
    )
    assert queries_for(client, chart_long + "?vitals_range=stay") == queries_for(
        client, chart_short + "?vitals_range=stay"
    )
    assert "350 sets in range" in trends(client, long, vitals_range="stay")


@pytest.mark.django_db
def test_trends_fragment_access(client, cast, admission):
    target = trends_url(admission)
    response = client.get(target)
    assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(cast["admin"])
    assert client.get(target).status_code == 403
    client.force_login(cast["other_nurse"])
    assert client.get(target).status_code == 404
    client.force_login(cast["technician"])
    assert client.get(target).status_code == 200


@pytest.mark.django_db
def test_chart_section_needs_vitals_view(client, cast, admission):
    vitals_set(admission, timezone.now() - timedelta(minutes=5), cast["nurse"])
    client.force_login(cast["technician"])
    assert (
        'id="section-vitals"'
        in client.get(reverse("clients:chart", args=[admission.client.public_id])).content.decode()
    )
    client.force_login(cast["other_nurse"])
    assert (
        client.get(reverse("clients:chart", args=[admission.client.public_id])).status_code == 404
    )
