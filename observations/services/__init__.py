"""Observation writes and scans (specs/rounds.md), by concern: facility defaults, levels, rounds,
security rounds and the minute scan. The public names are re-exported here, so
`from observations import services` and `from observations.services import X` read the same as
before the split. The pure time math is in observations.rounds and observations.security."""

from observations.models import LEVEL_INTERVAL
from observations.rounds import (
    ADMISSION_LEVEL,
    ADMISSION_LEVEL_HOURS,
    DEFAULT_LEVEL,
    level_events,
    level_segments,
)
from observations.services.defaults import (
    DEFAULT_LOCATIONS,
    DEFAULT_SECURITY_AREAS,
    DEFAULT_STATUSES,
    codes_seed_defaults,
    security_areas_seed_defaults,
)
from observations.services.levels import (
    NURSE_RAISE_ORDER_WITHIN,
    CurrentLevel,
    current_levels,
    level_confirm,
    level_order,
    observer_assign,
    owed_periods,
)
from observations.services.rounds import (
    LATE_AFTER_BLOCK,
    MAX_BACKDATE,
    ROUND_CONTENT,
    RoundEntry,
    last_checks,
    round_submit,
)
from observations.services.scans import (
    MISSED_SCAN,
    SCAN_LOOKBACK,
    SECURITY_SCAN,
    scan_missed_checks,
    scan_security_rounds,
)
from observations.services.security import AreaResult, security_round_complete

__all__ = [
    "ADMISSION_LEVEL",
    "ADMISSION_LEVEL_HOURS",
    "DEFAULT_LEVEL",
    "DEFAULT_LOCATIONS",
    "DEFAULT_SECURITY_AREAS",
    "DEFAULT_STATUSES",
    "LATE_AFTER_BLOCK",
    "LEVEL_INTERVAL",
    "MAX_BACKDATE",
    "MISSED_SCAN",
    "NURSE_RAISE_ORDER_WITHIN",
    "ROUND_CONTENT",
    "SCAN_LOOKBACK",
    "SECURITY_SCAN",
    "AreaResult",
    "CurrentLevel",
    "RoundEntry",
    "codes_seed_defaults",
    "current_levels",
    "last_checks",
    "level_confirm",
    "level_events",
    "level_order",
    "level_segments",
    "observer_assign",
    "owed_periods",
    "round_submit",
    "scan_missed_checks",
    "scan_security_rounds",
    "security_areas_seed_defaults",
    "security_round_complete",
]
