"""Checks every piece of typed input passes, whatever form it arrives through (issue 7).

Text: no NUL (PostgreSQL refuses it: a 500) and no bidirectional control characters (they
make a name or a note print differently from what was typed: "Trojan Source"). Dates: within
a plausible range, so year 9999 never reaches date arithmetic that overflows.
"""

import re
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible

# NUL, the other C0 controls except tab/newline/carriage return, and the bidi controls:
# LRE RLE PDF LRO RLO (U+202A–U+202E), LRI RLI FSI PDI (U+2066–U+2069), LRM RLM, ALM.
UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]"
)

EARLIEST_DATE = date(1900, 1, 1)
DEFAULT_FUTURE = timedelta(days=366)


def has_unsafe_characters(value: str) -> bool:
    return bool(UNSAFE_CHARACTERS.search(value or ""))


@deconstructible
class SafeTextValidator:
    """Refuses NUL, control and bidirectional formatting characters, naming the field."""

    code = "unsafe_characters"

    def __init__(self, label: str = "Text"):
        self.label = label

    def __call__(self, value):
        if isinstance(value, str) and has_unsafe_characters(value):
            raise ValidationError(
                f"{self.label}: remove the control characters (NUL or text-direction marks).",
                code=self.code,
            )

    def __eq__(self, other):
        return isinstance(other, SafeTextValidator) and other.label == self.label


@deconstructible
class PlausibleDateValidator:
    """A date or datetime no earlier than `past` before today (or 1900) and no later than
    `future` after today. The window moves with the clock, so it is computed at each call."""

    code = "implausible_date"

    def __init__(
        self,
        label: str = "Date",
        *,
        past: timedelta | None = None,
        future: timedelta = DEFAULT_FUTURE,
        too_early: str = "",
        too_late: str = "",
    ):
        self.label, self.past, self.future = label, past, future
        self.too_early, self.too_late = too_early, too_late

    def bounds(self) -> tuple[date, date]:
        today = timezone.localdate()
        earliest = EARLIEST_DATE if self.past is None else today - self.past
        return max(earliest, EARLIEST_DATE), today + self.future

    def __call__(self, value):
        if value is None:
            return
        day = value
        if isinstance(value, datetime):
            day = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
        earliest, latest = self.bounds()
        if day < earliest and self.too_early:
            raise ValidationError(self.too_early, code=self.code)
        if day > latest and self.too_late:
            raise ValidationError(self.too_late, code=self.code)
        if not earliest <= day <= latest:
            raise ValidationError(
                f"{self.label}: enter a date between {earliest:%Y-%m-%d} and {latest:%Y-%m-%d}.",
                code=self.code,
            )

    def __eq__(self, other):
        return isinstance(other, PlausibleDateValidator) and (
            other.label,
            other.past,
            other.future,
        ) == (self.label, self.past, self.future)
