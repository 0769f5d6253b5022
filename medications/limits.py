"""PRN limits shared by every order of one ingredient, and the pre-dose score (issue 9 items 5
and 6, specs/mar.md PRN). Pure Python, no Django.

An ingredient's daily cap (e.g. acetaminophen 3,000 mg) weighs every live given dose of the
client, scheduled ones included, in any rolling 24 hours that contains the new dose: a dose
exactly 24 hours earlier has rolled off, as in `timing.prn_limits`.
"""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from medications.timing import _aware

DAY = timedelta(hours=24)


def _utc(value: datetime) -> datetime:
    _aware(value)
    return value.astimezone(UTC)


# "pain 6/10", "anxiety 3 / 10", "score 0/10": a 0-10 score written in the pre-dose assessment.
SCORE_RE = re.compile(r"(?<![\d.])(\d{1,2})\s*/\s*10(?![\d.])")


def pre_dose_score(text: str) -> int | None:
    """The 0-10 score a pre-dose assessment records, if it records one."""
    for match in SCORE_RE.finditer(text or ""):
        value = int(match[1])
        if value <= 10:
            return value
    return None


def mg_in_24h(
    at: datetime, doses: list[tuple[datetime, Decimal]], new_mg: Decimal
) -> tuple[Decimal, Decimal]:
    """(mg before, most mg) for a dose of `new_mg` at `at` against the `doses` given (time, mg).

    mg before: what was given in the 24 hours up to `at` (what the nurse is told "so far");
    most mg: the largest total, the new dose included, of any rolling 24 hours containing `at`
    (a dose charted late between others counts against the later ones too).
    """
    at = _utc(at)
    doses = [(_utc(t), mg) for t, mg in doses]
    before = sum((mg for t, mg in doses if at - DAY < t <= at), Decimal(0))
    ends = [at] + [t for t, _ in doses if at < t < at + DAY]
    most = max(sum((mg for t, mg in doses if end - DAY < t <= end), Decimal(0)) for end in ends)
    return before, most + new_mg


def mg_allowed_from(
    at: datetime, doses: list[tuple[datetime, Decimal]], new_mg: Decimal, cap: Decimal
) -> datetime | None:
    """When enough of the earlier doses have rolled off for `new_mg` to fit under `cap`
    (None if it fits now or never fits, e.g. one dose alone is over the cap)."""
    at = _utc(at)
    earlier = sorted((_utc(t), mg) for t, mg in doses if at - DAY < _utc(t) <= at)
    total = sum((mg for _, mg in earlier), Decimal(0)) + new_mg
    if total <= cap or new_mg > cap:
        return None
    for t, mg in earlier:
        total -= mg
        if total <= cap:
            return t + DAY
    return None
