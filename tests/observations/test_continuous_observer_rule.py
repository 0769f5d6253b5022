"""On 1:1, arm's length and line of sight only the assigned observer's entries count
(specs/rounds.md, Missed checks; issue 10 item 2): the unit rounder's taps do not fill a 1:1
client's blocks."""

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facility.models import Alert, Bed
from observations.compliance import compliance_summary
from observations.models import ObserverAssignment, ScanMark
from tests.conftest import admit, make_user
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


def watch(stay, observer, since, until=None, by=None):
    return ObserverAssignment.objects.create(
        admission=stay,
        observer=observer,
        started_at=since,
        ended_at=until,
        assigned_by=by or observer,
        exclusive=True,
    )


@pytest.fixture
def rounder(facility):
    return make_user("rounder", "technician", facility)


@pytest.fixture
def one_to_one(cast, facility):
    """On 1:1 from 07:00 (on the boundary: no separate first window), the technician observing."""
    stay = stay_on_q60(cast, facility)
    quiet_night(stay, cast["technician"])
    order(stay, "one_to_one", at(7, 0), cast["clinician"])
    watch(stay, cast["technician"], at(7, 0), by=cast["nurse"])
    start_clock(at(7, 0))
    return stay


@pytest.mark.django_db
def test_blocks_charted_only_by_the_rounder_are_missed(cast, facility, one_to_one, rounder):
    for minute in (2, 17, 32, 47):
        check(one_to_one, rounder, at(7, minute))
    assert scan(at(8, 0, 30)) == 4
    alerts = missed()
    assert {a.severity for a in alerts} == {"critical"}
    assert alerts[0].message == "Missed check: Test0 Person0, 07:00 block (1:1). Critical: 1:1."
    report = compliance_summary(facility, start=at(7, 0), end=at(8, 0))
    ((_, tally),) = report["per_client"]
    assert (tally.due, tally.done, tally.missed) == (4, 0, 4)
    (observer,) = report["per_observer"]
    assert observer.observer == cast["technician"]
    assert (observer.due, observer.missed, observer.missed_runs) == (4, 4, ["07:00–08:00 (4)"])


@pytest.mark.django_db
def test_the_observers_own_entries_and_a_downtime_sheet_count(cast, facility, one_to_one, rounder):
    check(one_to_one, cast["technician"], at(7, 2))
    check(one_to_one, rounder, at(7, 17))
    check(one_to_one, rounder, at(7, 33), source="downtime")  # a paper sheet entered later
    check(one_to_one, cast["technician"], at(7, 58))
    scan(at(8, 0, 30))
    assert [a.message.split(", ")[1] for a in missed()] == ["07:15 block (1:1). Critical: 1:1."]
    report = compliance_summary(facility, start=at(7, 0), end=at(8, 0))
    ((_, tally),) = report["per_client"]
    assert (tally.due, tally.done, tally.missed, tally.missed_runs) == (4, 3, 1, ["07:15"])


@pytest.mark.django_db
def test_after_a_hand_off_only_the_new_observers_entries_count(cast, facility, one_to_one, rounder):
    ObserverAssignment.objects.filter(admission=one_to_one).update(ended_at=at(7, 30))
    watch(one_to_one, rounder, at(7, 30), by=cast["nurse"])
    check(one_to_one, cast["technician"], at(7, 5))
    check(one_to_one, cast["technician"], at(7, 20))
    check(one_to_one, cast["technician"], at(7, 35))  # no longer the observer
    check(one_to_one, rounder, at(7, 50))
    scan(at(8, 0, 30))
    assert [a.message.split(", ")[1] for a in missed()] == ["07:30 block (1:1). Critical: 1:1."]
    rows = compliance_summary(facility, start=at(7, 0), end=at(8, 0))["per_observer"]
    assert [(t.observer.username, t.due, t.missed) for t in rows] == [
        ("rounder", 2, 1),
        ("technician", 2, 0),
    ]


@pytest.mark.django_db
def test_blocks_with_no_observer_are_missed_and_counted_as_no_observer(
    client, cast, facility, rounder
):
    stay = stay_on_q60(cast, facility)
    quiet_night(stay, cast["technician"])
    order(stay, "los", at(7, 0), cast["clinician"])
    start_clock(at(7, 0))
    check(stay, rounder, at(7, 5))
    scan(at(7, 15, 30))
    (alert,) = missed()
    assert alert.message.endswith("07:00 block (Line of sight). Critical: Line of sight.")
    rows = compliance_summary(facility, start=at(7, 0), end=at(7, 15))["per_observer"]
    assert [(t.observer, t.due, t.missed) for t in rows] == [(None, 1, 1)]
    client.force_login(cast["supervisor"])
    page = client.get(
        reverse("observations:compliance"), {"start": "2026-05-12", "end": "2026-05-12"}
    ).content.decode()
    assert "Continuous observation: missed windows per observer" in page
    assert "No observer assigned" in page


@pytest.mark.django_db
def test_scan_query_count_does_not_grow_with_clients(cast, facility, rounder):
    """Assignments are loaded once per scan, like orders, checks and leaves."""
    beds = list(Bed.objects.filter(unit__facility=facility).order_by("unit__name", "label"))

    def add_stay(i):
        with time_machine.travel(at(6, 0), tick=False):
            stay = admit(facility, cast["nurse"], bed=beds[i], n=i, admitted_at=at(6, 0))
        order(stay, "one_to_one" if i % 2 else "q30", at(6, 20), cast["clinician"])
        observer = make_user(f"observer{i}", "technician", facility)
        watch(stay, observer, at(6, 20))
        check(stay, rounder, at(6, 25))
        check(stay, observer, at(6, 40))

    def measure():
        ScanMark.objects.all().delete()
        Alert.objects.all().delete()
        start_clock(at(7, 0))
        with CaptureQueriesContext(connection) as queries:
            raised = scan(at(7, 30, 30))
        return len(queries.captured_queries), raised

    add_stay(1)
    one, raised_one = measure()
    for i in range(2, 7):
        add_stay(i)
    many, raised_many = measure()
    assert raised_many > raised_one >= 1
    assert many == one, (one, many)
