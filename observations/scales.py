"""Vital-sign limits, NEWS2, CIWA-Ar and COWS (specs/scales.md), and the C-SSRS screen's triage
(specs/charting.md). Pure: no Django import.

Every table here is the spec's table; tests in tests/observations/test_scales.py walk them row by
row. Values are ints, except temperature (°C, any real number; stored to 0.1 °C).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# --- Vital signs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class VitalLimit:
    """One row of the spec's vital-sign table: `low`/`high` of the plausible range (else reject
    as a typo) and the nurse-notify thresholds (`notify_below` means value < x, `notify_at_or_below`
    value ≤ x, and so on; None where the spec has no such side)."""

    key: str
    label: str
    unit: str
    low: Decimal
    high: Decimal
    normal: str
    notify_below: Decimal | None = None
    notify_at_or_below: Decimal | None = None
    notify_above: Decimal | None = None
    notify_at_or_above: Decimal | None = None

    def plausible(self, value) -> bool:
        return self.low <= _dec(value) <= self.high

    def notify(self, value) -> bool:
        v = _dec(value)
        return (
            (self.notify_below is not None and v < self.notify_below)
            or (self.notify_at_or_below is not None and v <= self.notify_at_or_below)
            or (self.notify_above is not None and v > self.notify_above)
            or (self.notify_at_or_above is not None and v >= self.notify_at_or_above)
        )

    @property
    def range_text(self) -> str:
        return f"{_plain(self.low)}–{_plain(self.high)} {self.unit}".strip()

    @property
    def notify_text(self) -> str:
        parts = []
        if self.notify_below is not None:
            parts.append(f"< {_plain(self.notify_below)}")
        if self.notify_at_or_below is not None:
            parts.append(f"≤ {_plain(self.notify_at_or_below)}")
        if self.notify_above is not None:
            parts.append(f"> {_plain(self.notify_above)}")
        if self.notify_at_or_above is not None:
            parts.append(f"≥ {_plain(self.notify_at_or_above)}")
        return " or ".join(parts)


def _dec(value) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("a number is needed, not a boolean")
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not a number: {value!r}") from exc


def _plain(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral() else str(d)


D = Decimal
VITALS: dict[str, VitalLimit] = {
    v.key: v
    for v in [
        VitalLimit("hr", "Heart rate", "bpm", D(20), D(250), "60–100",
                   notify_below=D(50), notify_above=D(120)),
        VitalLimit("rr", "Respiratory rate", "/min", D(4), D(60), "12–20",
                   notify_below=D(10), notify_above=D(24)),
        VitalLimit("sbp", "Systolic BP", "mmHg", D(50), D(300), "< 120",
                   notify_at_or_below=D(90), notify_at_or_above=D(180)),
        VitalLimit("dbp", "Diastolic BP", "mmHg", D(20), D(200), "< 80",
                   notify_at_or_above=D(120)),
        VitalLimit("temp_c", "Temperature", "°C", D("30.0"), D("43.0"), "36.1–37.2",
                   notify_at_or_above=D("38.0"), notify_at_or_below=D("35.0")),
        VitalLimit("spo2", "SpO2", "%", D(50), D(100), "95–100", notify_below=D(92)),
        VitalLimit("pain", "Pain", "(0–10)", D(0), D(10), "–", notify_at_or_above=D(7)),
        # Haven's choice (the spec has no weight row): reject only what cannot be an adult.
        VitalLimit("weight_kg", "Weight", "kg", D(20), D(400), "–"),
    ]
}  # fmt: skip


def implausible(values: dict) -> dict[str, str]:
    """{field: message} for every value outside its plausible range (specs/scales.md), and a
    diastolic not below the systolic. None values are skipped."""
    errors = {}
    for key, value in values.items():
        limit = VITALS.get(key)
        if limit is None or value is None or value == "":
            continue
        if not limit.plausible(value):
            errors[key] = (
                f"{limit.label} {_plain(_dec(value))} is not plausible: "
                f"the range is {limit.range_text}. Check the reading and enter it again."
            )
    sbp, dbp = values.get("sbp"), values.get("dbp")
    both = sbp not in (None, "") and dbp not in (None, "")
    if both and "dbp" not in errors and _dec(dbp) >= _dec(sbp):
        errors["dbp"] = "Diastolic BP must be below the systolic BP."
    return errors


def flags(values: dict) -> list[str]:
    """The keys whose value meets the spec's notify-the-nurse threshold, in table order."""
    return [
        key
        for key, limit in VITALS.items()
        if values.get(key) not in (None, "") and limit.notify(values[key])
    ]


def f_to_c(fahrenheit) -> Decimal:
    """°F to °C, rounded half-up to 0.1 °C: 96.8 °F → 36.0 °C."""
    c = (_dec(fahrenheit) - 32) * 5 / 9
    return c.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- NEWS2 -------------------------------------------------------------------------------------

NEWS2_PARAMETERS = {
    "rr": "Respiration rate",
    "spo2": "SpO2",
    "on_oxygen": "Air or oxygen",
    "sbp": "Systolic BP",
    "hr": "Pulse",
    "acvpu": "Consciousness",
    "temp_c": "Temperature",
}
ACVPU = ("A", "C", "V", "P", "U")
NEWS2_RESPONSE = {
    "low-0": "Routine monitoring.",
    "low": "Nurse review within 1 hour.",
    "low-medium": "Nurse assessment now; inform the on-call prescriber.",
    "medium": "Call the prescriber now; consider transfer.",
    "high": "Emergency: call emergency services / transfer.",
    "incomplete": "Incomplete set: NEWS2 cannot be scored.",
}


@dataclass(frozen=True)
class News2:
    total: int | None
    band: str
    subscores: dict[str, int]
    missing: list[str] = field(default_factory=list)

    @property
    def red(self) -> bool:
        """A single parameter scoring 3."""
        return any(score == 3 for score in self.subscores.values())

    @property
    def response(self) -> str:
        if self.band == "low" and self.total == 0:
            return NEWS2_RESPONSE["low-0"]
        return NEWS2_RESPONSE[self.band]


def _rr(v: Decimal) -> int:
    if v <= 8:
        return 3
    if v <= 11:
        return 1
    if v <= 20:
        return 0
    if v <= 24:
        return 2
    return 3


def _spo2_scale1(v: Decimal) -> int:
    if v <= 91:
        return 3
    if v <= 93:
        return 2
    if v <= 95:
        return 1
    return 0


def _spo2_scale2(v: Decimal, on_oxygen: bool) -> int:
    if v <= 83:
        return 3
    if v <= 85:
        return 2
    if v <= 87:
        return 1
    if v <= 92 or not on_oxygen:
        return 0
    if v <= 94:
        return 1
    if v <= 96:
        return 2
    return 3


def _sbp(v: Decimal) -> int:
    if v <= 90:
        return 3
    if v <= 100:
        return 2
    if v <= 110:
        return 1
    if v <= 219:
        return 0
    return 3


def _hr(v: Decimal) -> int:
    if v <= 40:
        return 3
    if v <= 50:
        return 1
    if v <= 90:
        return 0
    if v <= 110:
        return 1
    if v <= 130:
        return 2
    return 3


def _temp(v: Decimal) -> int:
    if v <= D("35.0"):
        return 3
    if v <= D("36.0"):
        return 1
    if v <= D("38.0"):
        return 0
    if v <= D("39.0"):
        return 1
    return 2


def news2(*, rr, spo2, on_oxygen, sbp, hr, acvpu, temp_c, spo2_scale=1) -> News2:
    """NEWS2 (RCP 2017, Chart 1) for one set. A None parameter leaves the set incomplete."""
    if spo2_scale not in (1, 2):
        raise ValueError("spo2_scale must be 1 or 2")
    if acvpu is not None and acvpu not in ACVPU:
        raise ValueError(f"acvpu must be one of {', '.join(ACVPU)}")
    if on_oxygen is not None:
        if on_oxygen not in (True, False):  # 0 and 1 are accepted; "False" is not
            raise ValueError("on_oxygen must be True, False or None")
        on_oxygen = bool(on_oxygen)
    given = {"rr": rr, "spo2": spo2, "on_oxygen": on_oxygen, "sbp": sbp, "hr": hr,
             "acvpu": acvpu, "temp_c": temp_c}  # fmt: skip
    subscores: dict[str, int] = {}
    if rr is not None:
        subscores["rr"] = _rr(_dec(rr))
    if spo2 is not None:
        if spo2_scale == 1:
            subscores["spo2"] = _spo2_scale1(_dec(spo2))
        elif on_oxygen is not None or _dec(spo2) <= 92:
            subscores["spo2"] = _spo2_scale2(_dec(spo2), bool(on_oxygen))
    if on_oxygen is not None:
        subscores["on_oxygen"] = 2 if on_oxygen else 0
    if sbp is not None:
        subscores["sbp"] = _sbp(_dec(sbp))
    if hr is not None:
        subscores["hr"] = _hr(_dec(hr))
    if acvpu is not None:
        subscores["acvpu"] = 0 if acvpu == "A" else 3
    if temp_c is not None:
        subscores["temp_c"] = _temp(_dec(temp_c))
    missing = [key for key, value in given.items() if value is None]
    if missing:
        return News2(None, "incomplete", subscores, missing)
    total = sum(subscores.values())
    if total >= 7:
        band = "high"
    elif total >= 5:
        band = "medium"
    elif any(score == 3 for score in subscores.values()):
        band = "low-medium"
    else:
        band = "low"
    return News2(total, band, subscores, [])


# --- CIWA-Ar and COWS --------------------------------------------------------------------------

CIWA_ITEMS: dict[str, tuple[int, ...]] = {
    "nausea_vomiting": tuple(range(8)),
    "tremor": tuple(range(8)),
    "paroxysmal_sweats": tuple(range(8)),
    "anxiety": tuple(range(8)),
    "agitation": tuple(range(8)),
    "tactile_disturbances": tuple(range(8)),
    "auditory_disturbances": tuple(range(8)),
    "visual_disturbances": tuple(range(8)),
    "headache_fullness_in_head": tuple(range(8)),
    "orientation_clouding_of_sensorium": tuple(range(5)),
}
COWS_ITEMS: dict[str, tuple[int, ...]] = {
    "resting_pulse_rate": (0, 1, 2, 4),
    "sweating": (0, 1, 2, 3, 4),
    "restlessness": (0, 1, 3, 5),
    "pupil_size": (0, 1, 2, 5),
    "bone_or_joint_aches": (0, 1, 2, 4),
    "runny_nose_or_tearing": (0, 1, 2, 4),
    "gi_upset": (0, 1, 2, 3, 5),
    "tremor": (0, 1, 2, 4),
    "yawning": (0, 1, 2, 4),
    "anxiety_or_irritability": (0, 1, 2, 4),
    "gooseflesh_skin": (0, 3, 5),
}
# Band profiles: (lowest total of the band, band name), ascending. *Default* is the spec's.
CIWA_PROFILES: dict[str, tuple[tuple[int, str], ...]] = {
    "default": ((0, "minimal"), (8, "mild"), (16, "moderate"), (21, "severe")),
    "alternative": ((0, "minimal"), (10, "mild"), (16, "moderate"), (21, "severe")),
}
COWS_PROFILES: dict[str, tuple[tuple[int, str], ...]] = {
    "default": ((0, "none"), (5, "mild"), (13, "moderate"), (25, "moderately_severe"),
                (37, "severe")),
}  # fmt: skip
SCALES = {"ciwa_ar": CIWA_ITEMS, "cows": COWS_ITEMS}
PROFILES = {"ciwa_ar": CIWA_PROFILES, "cows": COWS_PROFILES}
# CIWA-Ar reassessment (*default*): score ≥ 8 → again in 1 hour, otherwise in 4 hours.
CIWA_TIGHT_FROM = 8


@dataclass(frozen=True)
class ScaleScore:
    scale: str
    total: int | None
    band: str
    missing: list[str] = field(default_factory=list)


def _score(scale: str, items: dict, profile: str) -> ScaleScore:
    allowed = SCALES[scale]
    bands = PROFILES[scale].get(profile)
    if bands is None:
        raise ValueError(f"unknown {scale} profile {profile!r}")
    unknown = sorted(set(items) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {scale} item(s): {', '.join(unknown)}")
    for key, value in items.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed[key]:
            raise ValueError(
                f"{key}: {value!r} is not an allowed value "
                f"({', '.join(str(v) for v in allowed[key])})"
            )
    missing = [key for key in allowed if items.get(key) is None]
    if missing:
        return ScaleScore(scale, None, "incomplete", missing)
    total = sum(items[key] for key in allowed)
    return ScaleScore(scale, total, band_for(scale, total, profile))


def band_for(scale: str, total: int, profile: str = "default") -> str:
    band = PROFILES[scale][profile][0][1]
    for low, name in PROFILES[scale][profile]:
        if total >= low:
            band = name
    return band


def ciwa_ar(items: dict, profile: str = "default") -> ScaleScore:
    """CIWA-Ar (Sullivan 1989): ten items, total 0–67."""
    return _score("ciwa_ar", items, profile)


def cows(items: dict, profile: str = "default") -> ScaleScore:
    """COWS (Wesson & Ling 2003): eleven items with their only allowed values, total 0–48."""
    return _score("cows", items, profile)


def cows_pulse_item(bpm) -> int:
    """The COWS resting-pulse item from a pulse in bpm: ≤80 → 0, 81–100 → 1, 101–120 → 2,
    >120 → 4."""
    v = _dec(bpm)
    if v <= 80:
        return 0
    if v <= 100:
        return 1
    if v <= 120:
        return 2
    return 4


def reassess_due(
    assessed_at: datetime,
    total: int | None,
    *,
    every_hours: int = 4,
    tight_from: int | None = CIWA_TIGHT_FROM,
    tight_hours: int = 1,
) -> datetime:
    """When the next assessment is owed: `tight_hours` after a score at or above `tight_from`,
    otherwise `every_hours`. An incomplete score (None) is owed on the tight interval: the
    safer reading, since nobody knows it was low."""
    tight = total is None or (tight_from is not None and total >= tight_from)
    return assessed_at + timedelta(hours=tight_hours if tight else every_hours)


# --- C-SSRS screen version (specs/charting.md; issue 12) ---------------------------------------

CSSRS_KEYS = ("q1", "q2", "q3", "q4", "q5", "q6", "q6_recent")
CSSRS_QUESTIONS = {
    "q1": "Wish to be dead",
    "q2": "Non-specific active suicidal thoughts",
    "q3": "Active suicidal ideation with any methods (not plan), without intent to act",
    "q4": "Active suicidal ideation with some intent to act, without a specific plan",
    "q5": "Active suicidal ideation with a specific plan and intent",
    "q6": "Suicidal behavior ever (any act, start, or preparation)",
    "q6_recent": "That behavior was within the past 3 months",
}


def cssrs_screen(answers: dict) -> str:
    """The C-SSRS screen's triage: "high" if 4 or 5 is yes, or 6 is yes within the past 3
    months; else "moderate" if 3 is yes, or 6 is yes but longer ago; else "low" if 1 or 2 is
    yes; else "none". A missing answer is no; 3–5 count only when 2 is yes (they are asked only
    then). An unknown key or a value that is not yes/no raises ValueError: a mistyped answer
    must not read as "no" on a suicide screen."""
    unknown = sorted(set(answers) - set(CSSRS_KEYS))
    if unknown:
        raise ValueError(f"unknown C-SSRS answer(s): {', '.join(unknown)}")
    yes = {}
    for key in CSSRS_KEYS:
        value = answers.get(key, False)
        if value is None:
            value = False
        if value not in (True, False):  # True/False, or 1/0
            raise ValueError(f"{key}: the answer must be yes or no, not {value!r}")
        yes[key] = bool(value)
    thoughts = yes["q2"]
    behavior, recent = yes["q6"], yes["q6"] and yes["q6_recent"]
    if (thoughts and (yes["q4"] or yes["q5"])) or recent:
        return "high"
    if (thoughts and yes["q3"]) or (behavior and not recent):
        return "moderate"
    if yes["q1"] or thoughts:
        return "low"
    return "none"
