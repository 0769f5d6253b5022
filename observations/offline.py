"""Rounds kept on the tablet while the network is down (issue 17 item 6).

The board's script posts every round with the moment "Record round" was pressed (`pressed_at`,
epoch ms on the server's clock) and the board's token (signed: who loaded which unit's board, and
when).
When the network is down the round waits in the browser and is posted later, unchanged: the
submission key makes a repeat harmless, and the 5-minute limits on tapped times count back from
the press, so the checks keep the times they were tapped at. The press is believed only on the unit
whose board was loaded, between that load and now, and at most KEPT_WINDOW before it reaches the
server (counted from the press, so a board open all shift still sends a round kept ten minutes):
a tablet cannot claim taps from before it showed the board, nor on another unit's board. The taps
themselves may still be at most 5 minutes before the press (rounds.md), and a round that reaches
the server over a minute after its press is saved late with KEPT_NOTE as (the start of) its
reason, the server's receive time stored beside it. The token outlives the session on purpose: a
round kept through the idle sign-out is sent after the same account signs in again on the tablet.
"""

from datetime import UTC, datetime, timedelta

from django.core import signing
from django.core.exceptions import ValidationError

from observations.services.rounds import CLOCK_SLACK

KEPT_WINDOW = timedelta(hours=12)
_SALT = "haven.observations.board-token"
# What a kept round's checks say about their lateness (RoundCheck.late_reason, 200 characters).
KEPT_NOTE = "Kept on the tablet while the network was down."
KEPT_NOTE_AFTER = timedelta(minutes=1)


def board_token(user, unit, now: datetime) -> str:
    """Who loaded which unit's board, and when: the earliest a round charted on it can have been
    pressed, and the only board its rounds are taken on."""
    return signing.dumps([user.pk, unit.pk, int(now.timestamp())], salt=_SALT, compress=False)


def _when(value: str, refusal: str) -> datetime:
    value = (value or "").strip()
    if len(value) > 16 or not value.isascii() or not value.isdigit():
        raise ValidationError(refusal)
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValidationError(refusal) from None


OTHER_ACCOUNT = (
    "This round was charted under another account on this tablet; nothing was saved. Hand the "
    "tablet back to that person (it is sent once they sign in here), or dismiss it."
)


def pressed_at(data, user, unit, now: datetime) -> datetime | None:
    """When "Record round" was pressed, for a round posted by the board's script (at once or
    after an outage); None for a plain form post (no script), which is "now" as before.
    Refuses, in words for the technician, a token that is garbled, another account's or another
    unit's, a press kept longer than KEPT_WINDOW, and a press before the board was loaded or in
    the future."""
    raw = data.get("pressed_at", "")
    if not raw:
        return None
    pressed = _when(raw, "This round's time was not understood; nothing was saved. Chart it again.")
    token = data.get("board_token", "")
    try:
        user_pk, unit_pk, issued = signing.loads(token[:200], salt=_SALT)
        loaded = datetime.fromtimestamp(int(issued), tz=UTC)
    except (signing.BadSignature, TypeError, ValueError, OverflowError, OSError):
        raise ValidationError(
            "This round's board was not recognised; nothing was saved. Reload the board and "
            "chart again."
        ) from None
    if user_pk != user.pk:
        raise ValidationError(OTHER_ACCOUNT, code="other_account")
    if unit_pk != unit.pk:
        raise ValidationError(
            "This round was charted on another unit's board; nothing was saved. Chart it again "
            "on this unit's board."
        )
    if now - pressed > KEPT_WINDOW:
        raise ValidationError(
            "This round was kept on the tablet for more than 12 hours; nothing was saved. "
            "Ask a nurse to enter it from a downtime sheet."
        )
    if pressed < loaded - CLOCK_SLACK or pressed > now + CLOCK_SLACK:
        raise ValidationError(
            "This round's time is outside the time its board was open; nothing was saved. "
            "Chart it again."
        )
    return min(pressed, now)


def kept_reason(late_reason: str, pressed: datetime | None, now: datetime) -> str:
    """The late reason a round sent well after its press is saved with: the note, then the
    technician's own reason (a round moved back) if any."""
    if pressed is None or now - pressed <= KEPT_NOTE_AFTER:
        return late_reason
    return f"{KEPT_NOTE} {late_reason.strip()}".strip()[:200]
