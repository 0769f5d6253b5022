"""Rounds charted with the network down (issue 17 item 6): the round waits in the browser's
IndexedDB, the board says "Not yet sent", and it is recorded once when the network returns, at the
times tapped. A round the server refuses when it is finally sent stays on screen; signing out
asks, then empties the store; a round kept through the idle sign-out stays and is sent once the
same account signs in again (never under another account).

Screenshots: HAVEN_SCREENSHOTS=docs/screens writes rounds-offline-768.png, -390.png and
rounds-offline-refused-390.png.
"""

import json
import re
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from facility.models import Bed, Unit
from observations.models import RoundCheck
from tests.browser.conftest import shoot
from tests.conftest import admit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The board's store, read as the tests see it (created empty if the page never opened it).
READ_STORE = """() => new Promise((resolve, reject) => {
  const req = indexedDB.open("haven-rounds", 1);
  req.onupgradeneeded = () => req.result.createObjectStore("rounds", { keyPath: "key" });
  req.onerror = () => reject(req.error);
  req.onsuccess = () => {
    const db = req.result, get = db.transaction("rounds").objectStore("rounds").getAll();
    get.onsuccess = () => { db.close(); resolve(get.result); };
  };
})"""


@pytest.fixture
def two_clients(cast, facility):
    east = Unit.objects.get(facility=facility, name="East")
    beds = Bed.objects.filter(unit=east).order_by("label")[:2]
    return east, [admit(facility, cast["nurse"], bed=b, n=i) for i, b in enumerate(beds)]


def chart_both(page: Page, *, again: bool = False) -> None:
    """A location and a status chip per client; `again`: the chips are set, "Seen" is tapped."""
    rows = page.locator("li.round-row")
    expect(rows).to_have_count(2)
    for i in range(2):
        if again:
            rows.nth(i).locator("label.include").click()
            continue
        chips = rows.nth(i).locator("fieldset.chips")
        chips.nth(0).get_by_text("DAY", exact=True).click()
        chips.nth(1).get_by_text("A", exact=True).click()
    page.get_by_role("button", name="Record round").click()


def sign_out(page: Page) -> None:
    toggle = page.locator("button.menu-toggle")
    if toggle.is_visible():
        toggle.click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_a_round_charted_offline_is_kept_then_sent_once_at_its_tapped_times(
    new_page, signed_in, cast, two_clients
):
    unit, stays = two_clients
    page = signed_in(new_page(), cast["technician"])
    page.clock.install()
    url = reverse("observations:board", args=[unit.public_id])
    page.goto(url)
    page.context.set_offline(True)
    chart_both(page)

    kept = page.locator(".kept-waiting")
    expect(kept).to_contain_text("Not yet sent — round on East")
    expect(page.locator("[data-kept-tag]", has_text="Not yet sent")).to_have_count(2)
    expect(page.locator("input[data-include]:checked")).to_have_count(0)  # the next round
    assert RoundCheck.objects.count() == 0
    (record,) = page.evaluate(READ_STORE)
    assert sorted(e["pid"] for e in record["entries"]) == sorted(str(a.public_id) for a in stays)
    stored = json.dumps(record)
    for a in stays:  # the store holds ids, codes and times, never who the clients are
        client = a.client
        for value in (client.legal_first_name, client.legal_last_name, client.mrn):
            assert value not in stored
    tapped = {e["pid"]: datetime.fromtimestamp(int(e["seen"]) / 1000, tz=UTC)
              for e in record["entries"]}  # fmt: skip
    shoot(page, "rounds-offline-768.png")
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "rounds-offline-390.png")

    page.context.set_offline(False)  # the "online" event sends it
    expect(page.locator(".kept-sent")).to_contain_text("Round recorded for 2 clients.")
    expect(kept).to_have_count(0)
    expect(page.locator("[data-kept-tag]")).to_have_count(0)
    checks = list(RoundCheck.objects.select_related("admission"))
    assert len(checks) == 2
    for check in checks:
        assert check.observed_at == tapped[str(check.admission.public_id)]
        assert check.recorded_by == cast["technician"]
    assert page.evaluate(READ_STORE) == []

    # The same round posted again (a retry whose answer was lost) is harmless.
    csrf = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']")
    pairs = [("submission_key", record["key"]), ("board_token", record["token"]),
             ("pressed_at", str(record["pressed"])), ("minutes_back", "0")]  # fmt: skip
    for e in record["entries"]:
        pairs += [("include", e["pid"]), (f"loc-{e['pid']}", e["loc"]),
                  (f"st-{e['pid']}", e["st"]), (f"seen-{e['pid']}", e["seen"])]  # fmt: skip
    again = page.request.post(
        url,
        data=urlencode(pairs),
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Accept": "application/json", "X-CSRFToken": csrf},
    )  # fmt: skip
    assert again.json()["message"] == "This round was already recorded."
    assert RoundCheck.objects.count() == 2

    # Charted offline again: taps while a round waits count as activity (the board is not taken
    # away mid-outage); left idle, the idle sign-out keeps the round, and the sign-in page says so.
    page.context.set_offline(True)
    page.clock.fast_forward(6_000)  # past haven.js's double-tap guard on "Record round"
    chart_both(page, again=True)
    expect(page.locator(".kept-waiting")).to_have_count(1)
    assert len(page.evaluate(READ_STORE)) == 1
    idle_left = (
        "Math.round(document.body.dataset.idleTimeout * 1000"
        " - (Date.now() - performance.timeOrigin))"
    )
    page.clock.fast_forward(page.evaluate(idle_left) - 10_000)
    page.locator("li.round-row").first.locator("label.include").click()  # a tap, offline
    page.clock.fast_forward(20_000)
    assert page.url.endswith(url)  # still the board
    # The server's session ends (its own 15-minute clock); the network returns.
    page.context.clear_cookies()
    page.context.set_offline(False)
    page.goto(url)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator("[data-kept-waiting]")).to_contain_text(
        "Not yet sent: 1 round (2 checks) charted on this tablet waits."
    )
    assert len(page.evaluate(READ_STORE)) == 1
    # Another account signs in on the tablet: not sent, shown, kept for its author.
    signed_in(page, cast["nurse"])
    page.goto(url)
    refused = page.locator(".kept-refused")
    expect(refused).to_contain_text("charted under another account on this tablet")
    expect(refused).to_contain_text("it is sent when the person who charted it signs in here")
    assert RoundCheck.objects.count() == 2
    assert len(page.evaluate(READ_STORE)) == 1
    # The technician signs in again: the kept round is sent, at its tapped times.
    page.context.clear_cookies()
    signed_in(page, cast["technician"])
    page.goto(url)
    expect(page.locator(".kept-sent")).to_contain_text("Round recorded for 2 clients.")
    assert RoundCheck.objects.filter(recorded_by=cast["technician"]).count() == 4
    assert page.evaluate(READ_STORE) == []


def test_a_kept_round_refused_when_sent_stays_until_dismissed_and_sign_out_clears_it(
    new_page, signed_in, cast, two_clients
):
    from django.utils import timezone

    from clients.services import admission_discharge

    unit, stays = two_clients
    page = signed_in(new_page(viewport={"width": 390, "height": 844}), cast["technician"])
    page.goto(reverse("observations:board", args=[unit.public_id]))
    page.context.set_offline(True)
    chart_both(page)
    expect(page.locator(".kept-waiting")).to_have_count(1)
    # While the tablet is offline, the first client is discharged.
    admission_discharge(
        actor=cast["nurse"], admission=stays[0], discharged_at=timezone.now(), discharge_type="ama"
    )
    page.context.set_offline(False)
    refused = page.locator(".kept-refused")
    expect(refused).to_contain_text("Not recorded — round on East")
    expect(refused).to_contain_text(
        f"{stays[0].client.legal_first_name} {stays[0].client.legal_last_name[:1]}. "
        f"({stays[0].bed.label}): no longer on this unit (discharged or moved)."
    )
    expect(refused).to_contain_text("Nothing from this round was saved.")
    expect(refused.get_by_role("button", name="Send the other 1 client")).to_be_visible()
    assert RoundCheck.objects.count() == 0
    # Still there on the next page load, asked again and refused again, until dismissed.
    page.reload()
    expect(page.locator(".kept-refused")).to_contain_text("not admitted to this unit")
    assert len(page.evaluate(READ_STORE)) == 1
    shoot(page, "rounds-offline-refused-390.png")

    page.once("dialog", lambda dialog: dialog.accept())  # "not yet sent. Sign out and discard?"
    sign_out(page)
    assert page.evaluate(READ_STORE) == []
    # Nothing vanishes silently: the sign-in page says a round was discarded, naming nobody.
    expect(page.locator("[data-kept-discarded]")).to_contain_text(
        "a round on East (2 clients, Record pressed"
    )
    assert RoundCheck.objects.count() == 0
