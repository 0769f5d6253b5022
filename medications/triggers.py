"""Score-triggered PRN (issue 11 item 6): is a PRN order's withdrawal-score trigger met now?
No Django imports.

A PRN order may say "give if CIWA-Ar ≥ 10". It is *indicated* when the client's latest score on
that scale is at or above the trigger and still current: taken no later than the moment asked
about, and that moment not past the score's `due_at` (when the protocol owes the next
assessment; the reassessment interval, 1 hour after a high score). A score with no due time
(the client is on no protocol for that scale) is current for NO_DUE_AT_CURRENT_FOR after it was
taken: the spec's longest default reassessment interval (specs/scales.md, CIWA-Ar: 4 hours).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

SCALES = {"ciwa_ar": "CIWA-Ar", "cows": "COWS"}
SCALE_MAX = {"ciwa_ar": 67, "cows": 48}
NO_DUE_AT_CURRENT_FOR = timedelta(hours=4)

INDICATED = "indicated"
NOT_INDICATED = "not_indicated"
NO_SCORE = "no_score"


@dataclass(frozen=True)
class TriggerStatus:
    """`state` (indicated, not_indicated, no_score); `score` and `taken_at` of the current
    score relied on (None without one); `text` as the med pass shows it (times in the zone of
    the datetimes given)."""

    state: str
    score: int | None = None
    taken_at: datetime | None = None
    text: str = ""

    @property
    def indicated(self) -> bool:
        return self.state == INDICATED


def trigger_label(scale: str, min_score: int) -> str:
    """ "CIWA-Ar ≥ 10" """
    return f"{SCALES[scale]} ≥ {min_score}"


def is_current(taken_at: datetime, due_at: datetime | None, at: datetime) -> bool:
    if taken_at > at:
        return False
    return at <= (due_at if due_at is not None else taken_at + NO_DUE_AT_CURRENT_FOR)


def trigger_status(
    scale: str,
    min_score: int,
    *,
    score: int | None,
    taken_at: datetime | None,
    due_at: datetime | None,
    at: datetime,
    clock=lambda moment: f"{moment:%H:%M}",
) -> TriggerStatus:
    """How the latest score (`score` taken at `taken_at`, due again at `due_at`, or None for no
    score) stands against "give if `scale` ≥ `min_score`" at `at`. `clock` writes a time."""
    name = SCALES[scale]
    if score is None or taken_at is None or not is_current(taken_at, due_at, at):
        return TriggerStatus(NO_SCORE, text="no current score — assess first")
    if score >= min_score:
        return TriggerStatus(
            INDICATED, score, taken_at,
            f"indicated: {name} {score} ≥ {min_score} at {clock(taken_at)}",
        )  # fmt: skip
    return TriggerStatus(NOT_INDICATED, score, taken_at, f"not indicated ({name} {score})")
