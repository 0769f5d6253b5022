"""A technician charts a 12-client unit on the rounds board, counting every tap.

A first round is two taps per client (a location chip and a status chip; the chip includes the
row) plus "Record round". A quiet second round, pre-filled from the last checks, is one tap per
client plus "Record round". A double-tapped or replayed round is recorded once.
"""

import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db.models import F
from django.urls import reverse
from playwright.sync_api import Page, expect

from facility.models import Bed, Unit
from observations.models import RoundCheck
from tests.browser.conftest import shoot
from tests.conftest import admit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIENTS = 12
# Codes that need nothing more (not S, which needs respirations; not SIB, which raises an alert).
LOCATIONS = ["RM", "DAY", "DR", "HALL"]
STATUSES = ["A", "T", "R", "E"]


class Taps:
    """Clicks on visible elements, counted as a technician's taps."""

    def __init__(self):
        self.count = 0

    def __call__(self, locator) -> None:
        self.count += 1
        locator.click()


@pytest.fixture
def full_unit(cast, facility):
    """East unit with 12 beds, every one occupied."""
    east = Unit.objects.get(facility=facility, name="East")
    for n in range(7, CLIENTS + 1):
        Bed.objects.create(unit=east, label=f"E{n:02d}")
    beds = Bed.objects.filter(unit=east).order_by("label")
    admissions = [admit(facility, cast["nurse"], bed=bed, n=i) for i, bed in enumerate(beds, 1)]
    assert len(admissions) == CLIENTS
    return east, admissions


def test_technician_charts_a_twelve_client_unit(new_page, signed_in, cast, facility, full_unit):
    unit, admissions = full_unit
    technician = cast["technician"]
    board_url = reverse("observations:board", args=[unit.public_id])
    page: Page = signed_in(new_page(viewport={"width": 768, "height": 1024}), technician)
    timings = {}

    # Round 1: nobody has a previous check, so each client is a location and a status chip.
    page.goto(board_url)
    rows = page.locator("li.round-row")
    expect(rows).to_have_count(CLIENTS)
    record = page.get_by_role("button", name="Record round")
    tap = Taps()
    started = time.perf_counter()
    for i in range(CLIENTS):
        row = rows.nth(i)
        chips = row.locator("fieldset.chips")
        tap(chips.nth(0).get_by_text(LOCATIONS[i % 4], exact=True))
        tap(chips.nth(1).get_by_text(STATUSES[i % 4], exact=True))
        expect(row.locator("input[data-include]")).to_be_checked()
    tap(record)
    expect(page.get_by_role("status")).to_contain_text("Round recorded for 12 clients.")
    timings["round 1"] = time.perf_counter() - started
    first_taps = tap.count
    assert first_taps <= 2 * CLIENTS + 1, first_taps
    assert RoundCheck.objects.count() == CLIENTS
    expect(page.locator(".state-tag", has_text="Done this block")).to_have_count(CLIENTS)

    shoot(page, "rounds-768.png")
    narrow = signed_in(new_page(viewport={"width": 390, "height": 844}), technician)
    narrow.goto(board_url)
    expect(narrow.locator(".state-tag", has_text="Done this block")).to_have_count(CLIENTS)
    shoot(narrow, "rounds-390.png")
    # Scrolled to the end, the last client is above the fixed "Record round" bar, not under it.
    narrow.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    last, bar = (
        narrow.locator("li.round-row").last.bounding_box(),
        narrow.locator(".round-submit").bounding_box(),
    )
    assert last["y"] + last["height"] <= bar["y"], (last, bar)
    narrow.context.close()

    # Round 2, a quiet unit: the last checks are from the previous block; one tap per client.
    RoundCheck.objects.update(
        observed_at=F("observed_at") - timedelta(minutes=15),
        recorded_at=F("recorded_at") - timedelta(minutes=15),
    )
    first_round = {c.admission_id: (c.location_id, c.status_id) for c in RoundCheck.objects.all()}
    first_pks = list(RoundCheck.objects.values_list("pk", flat=True))
    page.goto(board_url)
    expect(page.locator(".state-tag", has_text="Done this block")).to_have_count(0)
    tap = Taps()
    started = time.perf_counter()
    for i in range(CLIENTS):
        row = rows.nth(i)
        seen = row.locator("label.include")
        expect(seen).to_contain_text(f"{LOCATIONS[i % 4]} · {STATUSES[i % 4]}")
        tap(seen)
        expect(row.locator("input[data-include]")).to_be_checked()
    tap(record)
    expect(page.get_by_role("status")).to_contain_text("Round recorded for 12 clients.")
    timings["round 2"] = time.perf_counter() - started
    quiet_taps = tap.count
    assert quiet_taps <= CLIENTS + 1, quiet_taps
    assert RoundCheck.objects.count() == 2 * CLIENTS
    expect(page.locator(".state-tag", has_text="Done this block")).to_have_count(CLIENTS)
    second_round = list(RoundCheck.objects.exclude(pk__in=first_pks))
    assert sorted(c.admission_id for c in second_round) == sorted(a.pk for a in admissions)
    for check in second_round:
        assert (check.location_id, check.status_id) == first_round[check.admission_id]

    # Double submit: a double tap on "Record round", then the same POST replayed (a network retry).
    page.goto(board_url)
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    page.locator("li.round-row").first.locator("label.include").click()
    form = page.eval_on_selector("#round-form", "f => Array.from(new FormData(f).entries())")
    record.dblclick()
    # "1 client" matches today's "1 clients." and a fixed plural alike.
    expect(page.get_by_role("status")).to_contain_text("Round recorded for 1 client")
    assert RoundCheck.objects.count() == 2 * CLIENTS + 1
    replay = page.request.post(
        board_url,
        data=urlencode([tuple(pair) for pair in form]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert replay.ok, replay.status
    assert "This round was already recorded." in replay.text()
    assert RoundCheck.objects.count() == 2 * CLIENTS + 1
    assert len(posts) == 1, [p.url for p in posts]  # the browser itself sent the round once

    # Back after recording, then "Record round" again: the browser must not restore the ticks
    # into the fresh form (which carries a new key), so nothing is recorded twice (issue 7).
    page.go_back()
    expect(page.locator("input[data-include]:checked")).to_have_count(0)
    assert RoundCheck.objects.count() == 2 * CLIENTS + 1

    print(
        f"\ntaps: first round {first_taps}, quiet round {quiet_taps}; "
        + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items())
    )
