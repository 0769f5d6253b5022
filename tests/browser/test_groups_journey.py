"""A technician documents a group of 12 on a tablet, counting every tap (issue 12 item 5: at
most 2 taps for a present client with no remark), then a second group with "Rest present".

The East unit has 12 clients on site and a 13th on leave for the whole group, shown excused and
locked. Group 1: one "Present" tap per present client, "Partial" and its minutes for one,
"Absent" for one, then one "Save attendance" for the whole roster. Group 2: "Absent" for one,
"Rest present", "Save attendance": three taps for twelve clients. Every status pill is at least
44 px tall at 768 and 390 px, and nothing scrolls sideways."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from clients.services import leave_start
from facility.models import Bed, Unit
from observations.models import GroupAttendance, GroupTopic
from observations.services.groups import group_session_create
from tests.browser.conftest import shoot
from tests.conftest import admit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CLIENTS = 12


class Taps:
    """Clicks on visible elements, counted as a technician's taps."""

    def __init__(self):
        self.count = 0

    def __call__(self, locator) -> None:
        self.count += 1
        locator.click()


@pytest.fixture
def unit_of_twelve(cast, facility):
    """East with 12 clients on site and a 13th who left on an appointment two hours ago."""
    east = Unit.objects.get(facility=facility, name="East")
    for n in range(7, CLIENTS + 2):
        Bed.objects.create(unit=east, label=f"E{n:02d}")
    day_ago = timezone.now() - timedelta(days=1)
    beds = list(Bed.objects.filter(unit=east).order_by("label"))
    stays = [
        admit(facility, cast["nurse"], bed=bed, n=i, admitted_at=day_ago)
        for i, bed in enumerate(beds, 1)
    ]
    away = stays.pop()
    leave_start(
        actor=cast["nurse"], admission=away, kind="appointment", destination="Dentist",
        left_at=timezone.now() - timedelta(hours=2),
        expected_back_at=timezone.now() + timedelta(hours=2), backdate_reason="Entered late",
    )  # fmt: skip
    return east, stays, away


def a_group(cast, facility, unit, title, minutes_ago=30):
    start = timezone.now() - timedelta(minutes=minutes_ago)
    return group_session_create(
        actor=cast["technician"], facility=facility,
        topic=GroupTopic.objects.get(facility=facility, title=title),
        facilitator=cast["technician"], co_facilitator=cast["clinician"], unit=unit,
        starts_at=start, ends_at=start + timedelta(hours=1), location="Group room",
    )  # fmt: skip


def shoot_whole(page: Page, name: str) -> None:
    """The whole screen in one picture with the fixed Save bar at its foot, not over a row."""
    size = page.viewport_size
    page.set_viewport_size(
        {"width": size["width"], "height": page.evaluate("document.body.scrollHeight")}
    )
    shoot(page, name)
    page.set_viewport_size(size)


def assert_large_targets(page: Page, width: int) -> None:
    heights = page.locator(".att-status .pill-opt span").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 44, min(heights)
    for selector in (".att-submit button[type=submit]", "[data-rest-present]"):
        box = page.locator(selector).bounding_box()
        assert box is None or box["height"] >= 44, (selector, box)
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the attendance screen scrolls sideways at {width} px ({scroll} px)"


def test_technician_documents_a_group_of_twelve_in_one_tap_per_present_client(
    new_page, signed_in, cast, facility, unit_of_twelve
):
    east, stays, away = unit_of_twelve
    technician = cast["technician"]
    page: Page = signed_in(new_page(viewport={"width": 768, "height": 1024}), technician)

    # The group is opened from the Groups page.
    page.goto(reverse("observations:groups"))
    page.get_by_role("link", name="New group").click()
    shoot(page, "group-new-768.png")
    page.get_by_label("Topic").select_option(label="Triggers and high-risk situations")
    page.get_by_label("Unit").select_option(label="East")
    page.get_by_label("Co-facilitator").select_option(label=cast["clinician"].signature)
    page.get_by_label("Location").fill("Group room")
    page.get_by_role("button", name="Start attendance").click()
    expect(page.locator("h1")).to_contain_text("Triggers and high-risk situations")

    rows = page.locator("li.att-row")
    expect(rows).to_have_count(CLIENTS + 1)
    expect(page.locator(".att-status input:checked")).to_have_count(0)
    locked = page.locator("li.att-row.is-locked")
    expect(locked).to_have_count(1)
    expect(locked).to_contain_text(away.client.display_name)
    expect(locked).to_contain_text("Excused · On leave (Appointment)")
    expect(locked.locator("input")).to_have_count(0)
    assert_large_targets(page, 768)

    tap = Taps()
    present_taps = 0
    for i in range(CLIENTS):
        row = page.locator("li.att-row:not(.is-locked)").nth(i)
        if i == 3:
            tap(row.locator("label.pill-opt", has_text="Partial"))
            row.get_by_label("Minutes attended").fill("35")
        elif i == 7:
            tap(row.locator("label.pill-opt", has_text="Absent"))
        else:
            tap(row.locator("label.pill-opt", has_text="Present"))
            present_taps += 1
    expect(page.locator("[data-att-count]")).to_have_text("Everyone marked")
    # A remark for one present client: participation and a note, one tap away (not counted
    # above: the requirement is for a present client with no remark).
    first = page.locator("li.att-row:not(.is-locked)").first
    first.locator("summary", has_text="Participation, note").click()
    first.locator(".att-part label.pill-opt", has_text="Active").click()
    first.get_by_label("Note").fill("Named two triggers and a plan for each")
    shoot_whole(page, "group-attendance-768.png")
    tap(page.get_by_role("button", name="Save attendance"))
    expect(page.get_by_role("status")).to_contain_text(
        f"Attendance saved: {CLIENTS + 1} clients documented."
    )
    # Ten present clients cost ten taps and one shared Save: at most 2 each.
    assert present_taps == 10
    assert tap.count == CLIENTS + 1, tap.count
    assert present_taps + 1 <= 2 * present_taps
    rows_saved = {r.admission_id: r for r in GroupAttendance.objects.all()}
    assert len(rows_saved) == CLIENTS + 1
    statuses = [rows_saved[a.pk].status for a in stays]
    assert statuses.count("present") == 10
    assert (rows_saved[stays[3].pk].status, rows_saved[stays[3].pk].minutes) == ("partial", 35)
    assert rows_saved[stays[7].pk].status == "absent"
    assert rows_saved[away.pk].excuse_reason == "On leave (Appointment)"
    assert (rows_saved[stays[0].pk].participation, rows_saved[stays[0].pk].note) == (
        "active",
        "Named two triggers and a plan for each",
    )
    # Saved, the screen shows what was documented.
    expect(page.locator(".att-status input:checked")).to_have_count(CLIENTS)

    # A second group: "Rest present" after the one exception, then Save: three taps.
    second = a_group(cast, facility, east, "DBT: emotion regulation", minutes_ago=10)
    page.goto(reverse("observations:group_attendance", args=[second.public_id]))
    tap = Taps()
    tap(
        page.locator("li.att-row:not(.is-locked)").first.locator(
            "label.pill-opt", has_text="Refused"
        )
    )
    tap(page.get_by_role("button", name="Rest present"))
    expect(page.locator('.att-status input[value="present"]:checked')).to_have_count(CLIENTS - 1)
    tap(page.get_by_role("button", name="Save attendance"))
    expect(page.get_by_role("status")).to_contain_text("Attendance saved")
    assert tap.count == 3
    assert GroupAttendance.objects.filter(session=second, status="present").count() == 11

    # The day's groups with each client's clinical hours this week.
    page.goto(reverse("observations:groups"))
    expect(page.locator(".group-item")).to_have_count(2)
    expect(page.locator(".group-hours tbody tr")).to_have_count(CLIENTS + 1)
    shoot(page, "groups-768.png")

    # The phone: the same screen, every pill still 44 px, nothing sideways.
    third = a_group(cast, facility, east, "Process group", minutes_ago=5)
    phone = signed_in(new_page(viewport={"width": 390, "height": 844}), technician)
    phone.goto(reverse("observations:group_attendance", args=[third.public_id]))
    assert_large_targets(phone, 390)
    open_rows = phone.locator("li.att-row:not(.is-locked)")
    for i in range(4):
        open_rows.nth(i).locator("label.pill-opt", has_text="Present").click()
    open_rows.nth(0).locator("summary", has_text="Participation, note").click()
    open_rows.nth(0).locator(".att-part label.pill-opt", has_text="Active").click()
    open_rows.nth(0).get_by_label("Note").fill("Shared a plan for the weekend")
    open_rows.nth(4).locator("label.pill-opt", has_text="Partial").click()
    open_rows.nth(4).get_by_label("Minutes attended").fill("20")
    open_rows.nth(5).locator("label.pill-opt", has_text="Excused").click()
    open_rows.nth(5).get_by_label("Reason excused").fill("Seeing the prescriber")
    shoot_whole(phone, "group-attendance-390.png")
    for url, name in (
        (reverse("observations:groups"), "groups-390.png"),
        (reverse("observations:group_new"), "group-new-390.png"),
    ):
        phone.goto(url)
        scroll = phone.evaluate("document.documentElement.scrollWidth")
        assert scroll <= 390, f"{url} scrolls sideways at 390 px ({scroll} px)"
        shoot(phone, name)
