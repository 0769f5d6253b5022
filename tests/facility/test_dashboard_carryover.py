"""The supervisor dashboard across a shift change (issue 15 review): a dose of the last shift
nobody charted is still counted, as the MAR still shows it needing an outcome."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.conftest import admit, make_user
from tests.medications.test_report_sections import daily

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
DAY = date(2026, 5, 12)


def at(h, m=0, day=DAY):
    return datetime(day.year, day.month, day.day, h, m, tzinfo=NY)


def test_dashboard_counts_a_dose_of_the_last_shift_that_is_late_now(cast, facility):
    """Spec shift-report.md l.34 'doses due/late/missed' (the shift so far, live); mar.md
    l.33-34. At 15:20 a time-critical 14:45 dose nobody charted is late, but the evening
    dashboard reads only doses scheduled from 15:00: Late shows 0."""
    from facility.dashboard_views import dashboard_context

    with time_machine.travel(at(6, 5), tick=False):
        stay = admit(facility, cast["nurse"], admitted_at=at(6, 0))
    nurse2 = make_user("nurse_two", "nurse", facility)
    daily(cast, nurse2, stay, "Levetiracetam", "14:45", time_critical=True)
    with time_machine.travel(at(15, 20), tick=False):
        tiles = dashboard_context(facility, at(15, 20))["tiles"]
    doses = next(t for t in tiles if t.key == "doses")
    numbers = {n.label: n.value for g in doses.groups for n in g.numbers}
    assert numbers["Late"] + numbers["Missed"] + numbers["Due now"] >= 1, numbers
