"""A round kept on the tablet while the network was down, sent later (issue 17 item 6): recorded
once at the times tapped, and refused in plain words when it can no longer be taken."""

import json
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
    """Three clients in the East unit."""
    beds = Bed.objects.filter(unit=unit).order_by("label")[:3]
    return [admit(facility, cast["nurse"], bed=bed, n=i) for i, bed in enumerate(beds)]


def kept_post(rows, *, token, pressed, seen, **extra):
    """What the board's script posts: the round, the board's token, the press and each tap."""
    data = round_post(rows, board_token=token, pressed_at=ms(pressed), **extra)
    for admission, _, _ in rows:
        data[f"seen-{admission.public_id}"] = ms(seen)
    return data


def test_a_round_sent_after_an_outage_keeps_its_taps_and_a_resend_is_harmless(
    client, cast, facility, unit, ward
):
    technician = cast["technician"]
    client.force_login(technician)
    url = reverse("observations:board", args=[unit.public_id])
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    board = client.get(url)
    assert f'data-board-token="{board.context["board_token"]}"' in board.content.decode()
    # The board was loaded 40 minutes ago, just before the network went down.
    loaded = timezone.now().replace(microsecond=0) - timedelta(minutes=40)
    token = offline.board_token(technician, unit, loaded)
    tapped, pressed = loaded + timedelta(minutes=2), loaded + timedelta(minutes=4)
    data = kept_post([(a, rm, awake) for a in ward[:2]], token=token, pressed=pressed, seen=tapped)

    first = client.post(url, data, HTTP_X_HAVEN_KEPT="1", **JSON)
    assert first.status_code == 200, first.content
    assert json.loads(first.content) == {
        "ok": True, "recorded": 2, "message": "Round recorded for 2 clients."
    }  # fmt: skip
    checks = list(RoundCheck.objects.all())
    assert len(checks) == 2
    for check in checks:
        assert check.observed_at == tapped  # the tap, not the send 36 minutes later
        assert check.recorded_by == technician
        assert check.recorded_at - check.observed_at > timedelta(minutes=35)
        assert check.late_reason == offline.KEPT_NOTE
    # The retry after a lost answer, and one more: recorded once, each told it went through.
    for _ in range(2):
        again = client.post(url, data, HTTP_X_HAVEN_KEPT="1", **JSON)
        assert again.status_code == 200
        assert json.loads(again.content)["message"] == "This round was already recorded."
    assert RoundCheck.objects.count() == 2
    # A kept round sent by itself leaves no message for the next page; the board says "Sent".
    assert "already recorded" not in client.get(url).content.decode()


def test_a_kept_round_is_refused_when_a_client_left_and_the_others_can_be_sent(
    client, cast, facility, unit, ward
):
    from clients.services import admission_discharge

    client.force_login(cast["technician"])
    url = reverse("observations:board", args=[unit.public_id])
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    token = offline.board_token(cast["technician"], unit, timezone.now() - timedelta(minutes=30))
    pressed = timezone.now() - timedelta(minutes=20)
    rows = [(a, rm, awake) for a in ward[:3]]
    data = kept_post(rows, token=token, pressed=pressed, seen=pressed - timedelta(minutes=1))
    admission_discharge(
        actor=cast["nurse"], admission=ward[0], discharged_at=timezone.now(), discharge_type="ama"
    )
    refused = client.post(url, data, HTTP_X_HAVEN_KEPT="1", **JSON)
    assert refused.status_code == 400
    answer = json.loads(refused.content)
    assert answer["ok"] is False
    assert answer["errors"] == [
        f"{ward[0].client.legal_first_name} {ward[0].client.legal_last_name[:1]}. "
        f"({ward[0].bed.label}): no longer on this unit (discharged or moved).",
        "A client in this round is not admitted to this unit.",
    ]
    assert answer["off_unit"] == [str(ward[0].public_id)]
    assert RoundCheck.objects.count() == 0
    # "Send the other 2 clients": the same key, without the one who left.
    others = kept_post(rows[1:], token=token, pressed=pressed, seen=pressed - timedelta(minutes=1))
    others["submission_key"] = data["submission_key"]
    sent = client.post(url, others, HTTP_X_HAVEN_KEPT="1", **JSON)
    assert json.loads(sent.content)["recorded"] == 2
    assert sorted(RoundCheck.objects.values_list("admission_id", flat=True)) == sorted(
        a.pk for a in ward[1:3]
    )
    # The whole round sent again (the first answer lost): it was recorded, not refused.
    assert json.loads(client.post(url, others, **JSON).content)["ok"] is True


@pytest.mark.parametrize(
    "case, message",
    [
        ("other_account", "charted under another account on this tablet"),
        ("before_the_board", "outside the time its board was open"),
        ("future", "outside the time its board was open"),
        ("expired", "kept on the tablet for more than 12 hours"),
        ("garbled_token", "board was not recognised"),
        ("other_unit", "charted on another unit's board"),
        ("garbled_press", "This round's time was not understood"),
        ("stale_tap", "more than 5 minutes before this round was sent; tap Seen again."),
    ],
)
def test_a_kept_round_that_cannot_be_believed_is_refused_in_words(
    client, cast, facility, unit, ward, case, message
):
    client.force_login(cast["technician"])
    now = timezone.now()
    loaded = now - timedelta(hours=1)
    user = cast["nurse"] if case == "other_account" else cast["technician"]
    # "expired": the 12 hours count from the press (a board open all shift is not expired).
    board = Unit.objects.get(facility=facility, name="West") if case == "other_unit" else unit
    token = offline.board_token(
        user, board, now - timedelta(hours=13) if case == "expired" else loaded
    )
    pressed = {
        "before_the_board": loaded - timedelta(minutes=2),
        "future": now + timedelta(minutes=2),
        "expired": now - timedelta(hours=12, minutes=1),
    }.get(case, now - timedelta(minutes=30))
    seen = pressed - timedelta(minutes=6 if case == "stale_tap" else 1)
    rows = [(ward[0], code(facility, "location", "RM"), code(facility, "status", "A"))]
    data = kept_post(rows, token=token + ("x" if case == "garbled_token" else ""),
                     pressed=pressed, seen=seen)  # fmt: skip
    if case == "garbled_press":
        data["pressed_at"] = "\u202e12\x00"
    url = reverse("observations:board", args=[unit.public_id])
    refused = client.post(url, data, **JSON)
    assert refused.status_code == 400
    assert any(message in error for error in json.loads(refused.content)["errors"])
    # The page's own post (no script) shows the same words.
    page = client.post(url, data)
    assert page.status_code == 400
    assert message.replace("'", "&#x27;") in page.content.decode()
    assert RoundCheck.objects.count() == 0


def test_one_client_refused_for_their_own_reason_leaves_the_others_to_be_sent(
    client, cast, facility, unit, ward
):
    """rounds.md: nothing is silently lost. A client who was already on 1:1 (no observer) when
    the round was charted is refused; the answer names them so the board offers the others."""
    client.force_login(cast["technician"])
    url = reverse("observations:board", args=[unit.public_id])
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    now = timezone.now().replace(microsecond=0)
    level_order(
        actor=cast["nurse"],
        admission=ward[0],
        level="one_to_one",
        reason="Voiced a plan",
        now=now - timedelta(minutes=25),
    )
    token = offline.board_token(cast["technician"], unit, now - timedelta(minutes=30))
    pressed = now - timedelta(minutes=20)
    rows = [(a, rm, awake) for a in ward[:3]]
    data = kept_post(rows, token=token, pressed=pressed, seen=pressed - timedelta(minutes=1))
    answer = json.loads(client.post(url, data, HTTP_X_HAVEN_KEPT="1", **JSON).content)
    assert answer["ok"] is False
    assert answer["off_unit"] == [str(ward[0].public_id)]
    assert any("with no observer" in error for error in answer["errors"]), answer
    others = kept_post(rows[1:], token=token, pressed=pressed, seen=pressed - timedelta(minutes=1))
    others["submission_key"] = data["submission_key"]
    assert json.loads(client.post(url, others, **JSON).content)["recorded"] == 2
    assert not RoundCheck.objects.filter(admission=ward[0]).exists()


def test_a_round_kept_through_the_idle_sign_out_is_sent_by_its_author_only(
    client, cast, facility, unit, ward
):
    """The board's token outlives the session: after the idle sign-out the same account signs in
    again and the kept round is taken; under another account it is refused (and says so), so the
    tablet keeps it for its author."""
    technician = cast["technician"]
    client.force_login(technician)
    url = reverse("observations:board", args=[unit.public_id])
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    now = timezone.now().replace(microsecond=0)
    token = offline.board_token(technician, unit, now - timedelta(minutes=40))
    pressed = now - timedelta(minutes=25)
    data = kept_post([(ward[0], rm, awake)], token=token, pressed=pressed, seen=pressed)
    client.logout()
    client.force_login(cast["nurse"])
    refused = json.loads(client.post(url, data, HTTP_X_HAVEN_KEPT="1", **JSON).content)
    assert refused["ok"] is False and refused["other_account"] is True
    assert "Hand the tablet back to that person" in refused["errors"][0]
    assert RoundCheck.objects.count() == 0
    client.logout()
    client.force_login(technician)
    sent = json.loads(client.post(url, data, HTTP_X_HAVEN_KEPT="1", **JSON).content)
    assert sent["recorded"] == 1, sent
    check = RoundCheck.objects.get()
    assert (check.observed_at, check.recorded_by) == (pressed, technician)
    assert check.late_reason == offline.KEPT_NOTE
