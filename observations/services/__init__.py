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
from observations.services.downtime import (
    DOWNTIME_MAX_ROWS,
    DOWNTIME_WINDOW,
    DowntimeRow,
    downtime_submit,
)
from observations.services.levels import (
    DUE_SOON,
    NURSE_RAISE_ORDER_WITHIN,
    RETURN_LOOKBACK,
    CurrentLevel,
    current_levels,
    current_observers,
    level_confirm,
    level_order,
    owed_periods,
    round_state,
)
from observations.services.observers import (
    alert_no_observer,
    handoff_accept,
    handoff_decline,
    handoff_offer,
    handoff_withdraw,
    no_observer_key,
    observer_assign,
    pending_handoff,
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
    close_missed_alerts,
    missed_key,
    scan_missed_checks,
    scan_security_rounds,
)
from observations.services.security import (
    FINDING_MAX_BACKDATE,
    AreaResult,
    security_finding_record,
    security_round_complete,
)

__all__ = [
    "ADMISSION_LEVEL",
    "ADMISSION_LEVEL_HOURS",
    "DEFAULT_LEVEL",
    "DEFAULT_LOCATIONS",
    "DEFAULT_SECURITY_AREAS",
    "DEFAULT_STATUSES",
    "DOWNTIME_MAX_ROWS",
    "DOWNTIME_WINDOW",
    "FINDING_MAX_BACKDATE",
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
    "DowntimeRow",
    "RoundEntry",
    "alert_no_observer",
    "close_missed_alerts",
    "codes_seed_defaults",
    "current_levels",
    "current_observers",
    "round_state",
    "DUE_SOON",
    "RETURN_LOOKBACK",
    "handoff_accept",
    "handoff_decline",
    "handoff_offer",
    "handoff_withdraw",
    "downtime_submit",
    "last_checks",
    "level_confirm",
    "level_events",
    "level_order",
    "level_segments",
    "missed_key",
    "no_observer_key",
    "observer_assign",
    "owed_periods",
    "pending_handoff",
    "round_submit",
    "scan_missed_checks",
    "scan_security_rounds",
    "security_areas_seed_defaults",
    "security_finding_record",
    "security_round_complete",
]
