"""Misses escalate (issue 10 item 4): a miss on q15 or a continuous level, or a second owed window
missed in a row, is a critical alert for the supervisor saying why; every missed-check alert links
to the unit's rounds board, where it is acted on."""

import pytest
from django.urls import reverse

from observations.services import close_missed_alerts
from tests.observations.test_first_check import (
    at,
    check,
    missed,
    order,
    quiet_night,
    scan,
    start_clock,
    stay_on_q60,
)


@pytest.fixture(autouse=True)
def _missed_checks_alone(monkeypatch):
    monkeypatch.setattr("observations.services.scans.scan_security_rounds", lambda **kwargs: 0)


@pytest.fixture
def q60(cast, facility):
    stay = stay_on_q60(cast, facility)
    quiet_night(stay, cast["technician"])
    start_clock(at(7, 0))
    return stay


@pytest.mark.django_db
def test_a_single_q60_miss_is_a_warning_linked_to_the_board(cast, q60):
    check(q60, cast["technician"], at(8, 30))
    scan(at(8, 0, 30))
    (alert,) = missed()
    assert alert.severity == "warning"
    assert alert.message == "Missed check: Test0 Person0, 07:00 block (q60 Routine)."
    assert alert.link == reverse("observations:board", args=[q60.unit.public_id])


@pytest.mark.django_db
def test_a_second_miss_in_a_row_is_critical(cast, q60):
    scan(at(8, 0, 30))
    scan(at(9, 0, 30))
    first, second = missed()
    assert first.severity == "warning"
    assert second.severity == "critical"
    assert second.message == (
        "Missed check: Test0 Person0, 08:00 block (q60 Routine). Critical: 2nd missed in a row."
    )


@pytest.mark.django_db
def test_a_checked_window_breaks_the_run(cast, q60):
    check(q60, cast["technician"], at(8, 10))
    scan(at(10, 0, 30))
    assert [a.severity for a in missed()] == ["warning", "warning"]  # 07:00 and 09:00


@pytest.mark.parametrize(
    ("level", "label"),
    [("q15", "q15 Close"), ("los", "Line of sight"), ("arms_length", "1:1 within arm's length")],
)
@pytest.mark.django_db
def test_any_miss_on_q15_or_a_continuous_level_is_critical(cast, q60, level, label):
    order(q60, level, at(7, 0), cast["clinician"])
    check(q60, cast["technician"], at(7, 20))  # the 07:15 block (any entry counts on q15)
    scan(at(7, 15, 30))
    (alert,) = missed()
    assert alert.severity == "critical"
    assert (
        alert.message == f"Missed check: Test0 Person0, 07:00 block ({label}). Critical: {label}."
    )


@pytest.mark.django_db
def test_a_late_entry_closes_a_missed_first_check(cast, facility, q60):
    order(q60, "q15", at(7, 16), cast["clinician"])
    scan(at(7, 31, 30))
    (alert,) = missed()
    assert "first check after 07:16" in alert.message
    closed = close_missed_alerts(
        [(q60, at(7, 25))], actor=cast["nurse"], now=at(7, 40), tz=facility.tz
    )
    alert.refresh_from_db()
    assert closed == 1 and alert.resolved_at is not None
