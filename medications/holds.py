"""Hold parameters as data (issue 11 item 7): the vitals an order may be held on, the range a
typed value must fall in, and whether a value meets a hold rule. No Django imports.

The plausible ranges are specs/scales.md's "Plausible (else reject as a typo)" column. They are
written out here, not imported from observations/scales.py: medications never imports
observations (docs/architecture.md), and tests/medications/test_hold_parameters.py checks the
two tables agree.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

# Readings with no due time (a vital) are looked for this far back by default; the facility's
# Facility.hold_vital_max_age_minutes is what the med pass uses.
DEFAULT_MAX_AGE = timedelta(minutes=60)

# Most structured holds an order carries (the order form's rows).
MAX_HOLDS = 3


@dataclass(frozen=True)
class HoldVitalSpec:
    key: str
    label: str  # as the order and the med pass write it: "SBP 88 < 90"
    name: str  # as a field label: "Systolic BP"
    unit: str
    low: Decimal
    high: Decimal

    @property
    def range_text(self) -> str:
        return f"{plain(self.low)}–{plain(self.high)} {self.unit}"

    def plausible(self, value: Decimal) -> bool:
        return self.low <= value <= self.high


D = Decimal
VITALS: dict[str, HoldVitalSpec] = {
    v.key: v
    for v in [
        HoldVitalSpec("sbp", "SBP", "Systolic BP", "mmHg", D(50), D(300)),
        HoldVitalSpec("dbp", "DBP", "Diastolic BP", "mmHg", D(20), D(200)),
        HoldVitalSpec("hr", "HR", "Heart rate", "bpm", D(20), D(250)),
        HoldVitalSpec("rr", "RR", "Respiratory rate", "/min", D(4), D(60)),
        HoldVitalSpec("temp_c", "Temp", "Temperature", "°C", D("30.0"), D("43.0")),
        HoldVitalSpec("spo2", "SpO2", "SpO2", "%", D(50), D(100)),
    ]
}

SYMBOLS = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥"}


def plain(value: Decimal) -> str:
    value = Decimal(value)
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)


def as_decimal(value) -> Decimal | None:
    """A number as typed or stored; None for blank or not a number."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def met(comparator: str, threshold, value) -> bool:
    """Does `value` meet "hold if vital `comparator` `threshold`"?"""
    value, threshold = Decimal(value), Decimal(threshold)
    return {
        "lt": value < threshold,
        "le": value <= threshold,
        "gt": value > threshold,
        "ge": value >= threshold,
    }[comparator]


def rule_text(vital: str, comparator: str, threshold) -> str:
    """ "SBP < 90" """
    return f"{VITALS[vital].label} {SYMBOLS[comparator]} {plain(threshold)}"


def met_text(vital: str, comparator: str, threshold, value) -> str:
    """ "SBP 88 < 90": the reading and the rule it met."""
    return f"{VITALS[vital].label} {plain(value)} {SYMBOLS[comparator]} {plain(threshold)}"


def out_of_range(vital: str, value) -> str:
    """ "Systolic BP 0 is outside the plausible range 50–300 mmHg." (empty: plausible)"""
    spec = VITALS[vital]
    number = as_decimal(value)
    if number is not None and spec.plausible(number):
        return ""
    shown = plain(number) if number is not None else str(value)
    return f"{spec.name} {shown} is outside the plausible range {spec.range_text}."


def implausible(vital: str, value) -> str:
    """A reading typed at the med pass that cannot be real (empty: plausible)."""
    message = out_of_range(vital, value)
    return f"{message} Check the reading and enter it again." if message else ""


def is_recent(taken_at: datetime | None, at: datetime, max_age: timedelta) -> bool:
    """A reading taken at most `max_age` before `at` (and not after it)."""
    return taken_at is not None and at - max_age <= taken_at <= at
