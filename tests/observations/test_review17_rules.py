"""Review of issue 17's offline rounds against specs/rounds.md: what a patient could lose when a
round kept on the tablet reaches the server later, or when the board's token is replayed."""

import json
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from facility.models import Bed, Unit
from observations import offline
from observations.models import RoundCheck
from observations.services import level_order
from tests.conftest import admit
from tests.observations.test_board import code, ms, round_post

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def unit(facility):
    return Unit.objects.get(facility=facility, name="East")


@pytest.fixture
def ward(cast, facility, unit):
    beds = Bed.objects.filter(unit=unit).order_by("label")[:3]
    return [admit(facility, cast["nurse"], bed=bed, n=i) for i, bed in enumerate(beds)]


def kept(rows, *, token, pressed, seen, key=None):
    data = round_post(rows, key=key, board_token=token, pressed_at=ms(pressed))
    for admission, _, _ in rows:
        data[f"seen-{admission.public_id}"] = ms(seen)
    return data


def test_a_kept_round_is_judged_on_the_levels_in_force_when_it_was_charted(
    client, cast, facility, unit, ward
):
    """rounds.md:50-56,64: a check belongs to the moment it was observed. Two clients on q15
    were seen at 07:04 on a tablet that lost the network; at 07:07 a nurse raised one of them to
    1:1; the round reaches the server at 07:10. Today the whole round is refused ("on 1:1 with
    no observer") and no "send the others" is offered, so the other client's check is lost: it
    can no longer be charted at its real time (5-minute limit) and the block goes missed."""
    technician = cast["technician"]
    client.force_login(technician)
    url = reverse("observations:board", args=[unit.public_id])
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    now = timezone.now().replace(microsecond=0)
    loaded, seen = now - timedelta(minutes=8), now - timedelta(minutes=6)
    level_order(
        actor=cast["nurse"],
        admission=ward[0],
        level="one_to_one",
        reason="Voiced a plan",
        now=now - timedelta(minutes=3),
    )
    data = kept(
        [(a, rm, awake) for a in ward[:2]],
        token=offline.board_token(technician, unit, loaded),
        pressed=seen,
        seen=seen,
    )
    response = client.post(url, data, HTTP_X_HAVEN_KEPT="1", **JSON)
    answer = json.loads(response.content)
    assert RoundCheck.objects.filter(admission=ward[1]).exists(), answer
    assert answer["ok"] is True or str(ward[1].public_id) in answer.get("off_unit", []), answer


def test_a_key_reused_for_a_different_round_is_not_answered_already_recorded(
    client, cast, facility, unit, ward
):
    """round_submit's contract ("the key reused for a different round is refused, never silently
    dropped"): over JSON, views.rounds._recorded_before turns the refusal into {"ok": true,
    "already recorded"}, and the tablet's script then drops the round (offline-rounds.js settle):
    the second client's check is lost without a word."""
    technician = cast["technician"]
    client.force_login(technician)
    url = reverse("observations:board", args=[unit.public_id])
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    key = uuid.uuid4()
    first = client.post(url, round_post([(ward[0], rm, awake)], key=key), **JSON)
    assert json.loads(first.content)["recorded"] == 1
    second = client.post(url, round_post([(a, rm, awake) for a in ward[:2]], key=key), **JSON)
    answer = json.loads(second.content)
    assert not RoundCheck.objects.filter(admission=ward[1]).exists()
    assert answer["ok"] is False, answer  # today: ok, "This round was already recorded."
    assert "already used to record a different round" in answer["errors"][0]
    # Without the script the page says so too, and its next round has a key of its own.
    page = client.post(url, round_post([(a, rm, awake) for a in ward[:2]], key=key))
    assert "already used to record a different round" in page.content.decode()
    assert str(key) not in page.content.decode()


def test_a_round_kept_ten_minutes_is_not_refused_as_kept_twelve_hours(
    client, cast, facility, unit, ward
):
    """offline.py: "nor a round kept longer than KEPT_WINDOW" — but the window is measured from
    the board's load, not from the press. A board open since the start of a 12-hour shift whose
    last round (kept 10 minutes during an outage) is sent at 19:05 is refused as "kept on the
    tablet for more than 12 hours", and its taps can no longer be charted at their time."""
    technician = cast["technician"]
    client.force_login(technician)
    url = reverse("observations:board", args=[unit.public_id])
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    now = timezone.now().replace(microsecond=0)
    loaded = now - timedelta(hours=12, minutes=5)
    pressed = now - timedelta(minutes=10)
    data = kept(
        [(ward[0], rm, awake)],
        token=offline.board_token(technician, unit, loaded),
        pressed=pressed,
        seen=pressed,
    )
    response = client.post(url, data, HTTP_X_HAVEN_KEPT="1", **JSON)
    assert json.loads(response.content)["ok"] is True, response.content
    assert RoundCheck.objects.get(admission=ward[0]).observed_at == pressed


def test_a_stale_board_token_does_not_backdate_a_round_by_hours_on_another_unit(
    client, cast, facility, unit, ward
):
    """rounds.md:27 (observed time moved back at most 5 minutes) and :69-70 (a late entry needs a
    reason): the token names only the account and the load time, not the unit nor the round, and
    is good for 12 hours. A token from loading the East board at 07:00 lets a post at 10:00 on the
    West board record checks "observed" at 07:10, with the server writing the reason itself
    ("Kept on the tablet while the network was down") and closing the missed-check alerts."""
    technician = cast["technician"]
    client.force_login(technician)
    west = Unit.objects.get(facility=facility, name="West")
    bed = Bed.objects.filter(unit=west).first()
    stay = admit(
        facility, cast["nurse"], bed=bed, n=9, admitted_at=timezone.now() - timedelta(hours=5)
    )
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    now = timezone.now().replace(microsecond=0)
    token = offline.board_token(technician, unit, now - timedelta(hours=3))  # the East board's load
    backdated = now - timedelta(hours=2, minutes=50)
    data = kept([(stay, rm, awake)], token=token, pressed=backdated, seen=backdated)
    client.post(reverse("observations:board", args=[west.public_id]), data, **JSON)
    assert not RoundCheck.objects.filter(admission=stay, observed_at=backdated).exists()
