"""The first check is owed from the first minute (specs/rounds.md, "First check owed from the first
minute"; issue 10 item 1): after admission, a change of level and a return from leave, a check is
owed within the new level's interval of that moment; clock blocks apply from then on."""

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace as NS
from zoneinfo import ZoneInfo

import pytest
import time_machine

from clients.models import Leave
from facility.models import Alert
from observations.compliance import compliance
from observations.models import LEVEL_INTERVAL, LevelOrder, RoundCheck, RoundCode, ScanMark
from observations.rounds import (
    first_window,
    missed_windows,
    owed_windows,
    stay_segments,
)
from observations.services import MISSED_SCAN, missed_key, scan_missed_checks
from tests.conftest import admit

NY = ZoneInfo("America/New_York")


def at(h, m, s=0, *, day=(2026, 5, 12), fold=0):
    return datetime(*day, h, m, s, tzinfo=NY, fold=fold)


def hm(t):
    return t.astimezone(NY).strftime("%H:%M") + ("*" if t.astimezone(NY).fold else "")


# ------------------------------------------------------------------ the pure rule, in tables

# (event, interval, period end, expected window as "HH:MM-HH:MM" or None)
FIRST_WINDOW_CASES = {
    "raise to q15 at 07:16 is due by 07:31 (issue 10)": (at(7, 16), 15, at(9, 0), "07:16-07:31"),
    "q60 at 06:20 is due by 07:20": (at(6, 20), 60, at(9, 0), "06:20-07:20"),
    "an event on a block boundary is its first block, counted once": (
        at(7, 15),
        15,
        at(9, 0),
        None,
    ),
    "q30 on the :30 boundary": (at(7, 30), 30, at(9, 0), None),
    "q60 at 07:30 is not on a q60 boundary": (at(7, 30), 60, at(9, 0), "07:30-08:30"),
    "cut short by the next event: not owed": (at(7, 16), 15, at(7, 25), None),
    "ends exactly at the next event: owed": (at(7, 16), 15, at(7, 31), "07:16-07:31"),
    # Fall back: 01:50 EDT + 15 minutes is 01:05 EST, the repeated hour.
    "fall-back: the window runs into the repeated hour": (
        at(1, 50, day=(2026, 11, 1)),
        15,
        at(3, 0, day=(2026, 11, 1)),
        "01:50-01:05*",
    ),
    "fall-back: an event in the repeated hour": (
        at(1, 20, day=(2026, 11, 1), fold=1),
        15,
        at(3, 0, day=(2026, 11, 1)),
        "01:20*-01:35*",
    ),
    # Spring forward: 01:50 EST + 15 minutes is 03:05 EDT (02:00-03:00 does not exist).
    "spring-forward: the window jumps the skipped hour": (
        at(1, 50, day=(2026, 3, 8)),
        15,
        at(4, 0, day=(2026, 3, 8)),
        "01:50-03:05",
    ),
    "spring-forward: q60 from 01:30 is due by 03:30 wall time (one real hour)": (
        at(1, 30, day=(2026, 3, 8)),
        60,
        at(5, 0, day=(2026, 3, 8)),
        "01:30-03:30",
    ),
}


@pytest.mark.parametrize("case", FIRST_WINDOW_CASES, ids=list(FIRST_WINDOW_CASES))
def test_first_window_table(case):
    event, interval, until, expected = FIRST_WINDOW_CASES[case]
    got = first_window(event, interval, until=until, tz=NY)
    assert (f"{hm(got[0])}-{hm(got[1])}" if got else None) == expected
    if got:
        assert got[1].astimezone(UTC) - got[0].astimezone(UTC) == timedelta(minutes=interval)


def windows_of(admitted, orders=(), leaves=(), *, start, end, discharged=None):
    admission = NS(admitted_at=admitted, discharged_at=discharged)
    orders = [NS(effective_from=t, level=level) for t, level in orders]
    leaves = [NS(left_at=a, returned_at=b) for a, b in leaves]
    segments = stay_segments(admission, orders, leaves, start=start, end=end)
    return owed_windows(segments, intervals=LEVEL_INTERVAL, tz=NY)


def show(windows):
    return [f"{hm(w.start)}{'+' if w.first else ''}{w.interval}" for w in windows]


def test_admission_owes_a_first_check_then_clock_blocks():
    got = windows_of(at(6, 50), start=at(6, 0), end=at(7, 30))
    assert show(got) == ["06:50+15", "07:0015", "07:1515"]


def test_windows_table():
    # (name, windows, expected: start + "+" for a first window, then the interval)
    q60_admitted = at(7, 0, day=(2026, 5, 1))  # long past the 72-hour q15 default
    cases = [
        (
            "raise to q15 at 07:16: the q60 block in progress stays owed, first window, then"
            " q15 blocks (issue 10 review)",
            windows_of(q60_admitted, [(at(7, 16), "q15")], start=at(6, 0), end=at(8, 0)),
            ["06:0060", "07:0060", "07:16+15", "07:3015", "07:4515"],
        ),
        (
            "lowered to q60 at 07:20: q15 owed until then, its 07:15 block whole, q60 first"
            " window from the lowering",
            windows_of(
                q60_admitted,
                [(at(7, 0), "q15"), (at(7, 20), "q60")],
                start=at(7, 0),
                end=at(9, 0),
            ),
            ["07:0015", "07:1515", "07:20+60", "08:0060"],
        ),
        (
            "return from a 10-minute leave on q60 (issue 10); seen before leaving, from the"
            " report's start",
            windows_of(
                q60_admitted, leaves=[(at(6, 10), at(6, 20))], start=at(6, 0), end=at(9, 10)
            ),
            ["06:00+10", "06:20+60", "07:0060", "08:0060"],
        ),
        (
            "a first window cut short by a leave is not owed, the last check before it is; the"
            " q60 hour in progress at the raise stays owed; the return's window is",
            windows_of(
                q60_admitted,
                [(at(7, 16), "q15")],
                leaves=[(at(7, 25), at(8, 2))],
                start=at(7, 0),
                end=at(8, 30),
            ),
            ["07:0060", "07:16+9", "08:02+15", "08:1515"],
        ),
        (
            "a first window cut short by discharge is not owed",
            windows_of(at(7, 5), start=at(7, 0), end=at(8, 0), discharged=at(7, 12)),
            [],
        ),
        (
            "an event on the boundary is one window, not two",
            windows_of(q60_admitted, [(at(7, 15), "q15")], start=at(7, 0), end=at(7, 45)),
            ["07:1515", "07:3015"],
        ),
        (
            "the report's own start is not an event",
            windows_of(q60_admitted, [(at(7, 16), "q15")], start=at(7, 40), end=at(8, 15)),
            ["07:4515", "08:0015"],
        ),
        (
            "the 72-hour default switch to q60 is a change of level",
            windows_of(at(7, 16, day=(2026, 5, 9)), start=at(7, 0), end=at(9, 0)),
            ["07:0015", "07:1515", "07:16+60", "08:0060"],
        ),
        (
            "an order repeating the level in force changes nothing (no block lost at the seam)",
            windows_of(
                q60_admitted, [(at(7, 0), "q15"), (at(7, 20), "q15")], start=at(7, 0), end=at(7, 45)
            ),
            ["07:0015", "07:1515", "07:3015"],
        ),
    ]
    for name, got, expected in cases:
        assert show(got) == expected, name


def test_fall_back_night_first_window_and_repeated_blocks():
    day = (2026, 11, 1)
    got = windows_of(at(0, 50, day=day), start=at(0, 0, day=day), end=at(2, 0, day=day))
    assert show(got) == [
        "00:50+15",
        "01:0015",
        "01:1515",
        "01:3015",
        "01:4515",
        "01:00*15",
        "01:15*15",
        "01:30*15",
        "01:45*15",
    ]


def test_spring_forward_first_window_spans_the_skipped_hour():
    day = (2026, 3, 8)
    got = windows_of(at(1, 50, day=day), start=at(0, 0, day=day), end=at(3, 30, day=day))
    assert show(got) == ["01:50+15", "03:0015", "03:1515"]
    # A check at 03:04 EDT (14 real minutes after 01:50 EST) is on time for the first window.
    assert [hm(w.start) for w in missed_windows([at(3, 4, day=day)], got)] == ["03:15"]


def test_missed_windows_counts_a_late_first_check_as_missed():
    # Raised to q15 at 07:16, first check 07:44 (issue 10: "counted 0 missed").
    windows = windows_of(
        at(7, 0, day=(2026, 5, 1)), [(at(7, 16), "q15")], start=at(7, 16), end=at(8, 0)
    )
    # 07:44 is late for the first check (due 07:31) and answers the 07:30 block only.
    assert show(missed_windows([at(7, 44)], windows)) == ["07:16+15", "07:4515"]


# ------------------------------------------------------------------ the scan and the report


@pytest.fixture(autouse=True)
def _missed_checks_alone(monkeypatch):
    monkeypatch.setattr("observations.services.scans.scan_security_rounds", lambda **kwargs: 0)


def stay_on_q60(cast, facility):
    """A client admitted on 05-01 (past the 72-hour q15 default: q60 now)."""
    admitted = at(7, 0, day=(2026, 5, 1))
    with time_machine.travel(admitted, tick=False):
        return admit(facility, cast["nurse"], admitted_at=admitted)


def order(stay, level, when, by):
    return LevelOrder.objects.create(
        admission=stay, level=level, kind="order", reason="Test", effective_from=when, ordered_by=by
    )


def check(stay, by, when, source="round"):
    facility = stay.facility
    return RoundCheck.objects.create(
        admission=stay,
        observed_at=when,
        recorded_at=when,
        recorded_by=by,
        location=RoundCode.objects.get(facility=facility, kind="location", code="RM"),
        status=RoundCode.objects.get(facility=facility, kind="status", code="A"),
        submission_key=uuid.uuid4(),
        source=source,
        late_reason="Paper sheet" if source == "downtime" else "",
    )


def scan(when):
    return scan_missed_checks(now=when)


def start_clock(when):
    ScanMark.objects.update_or_create(name=MISSED_SCAN, defaults={"scanned_until": when})


def missed():
    return list(Alert.objects.filter(kind="missed_check").order_by("raised_at", "id"))


def quiet_night(stay, by):
    """Checks at half past every hour 03:30-06:30: nothing missed before the morning."""
    for hour in range(3, 7):
        check(stay, by, at(hour, 30))


@pytest.mark.django_db
def test_a_raise_at_0716_with_no_check_by_0731_alerts(cast, facility):
    stay = stay_on_q60(cast, facility)
    quiet_night(stay, cast["technician"])
    order(stay, "q15", at(7, 16), cast["clinician"])
    start_clock(at(7, 20))
    assert scan(at(7, 30, 59)) == 0  # the 07:30 boundary passed, the first window is not over
    assert scan(at(7, 31, 30)) == 1  # no quarter hour passed, but the raise's window ended
    (alert,) = missed()
    assert alert.message == (
        "Missed check: Test0 Person0, first check after 07:16 not done by 07:31 (q15 Close)."
        " Critical: q15 Close."
    )
    assert alert.severity == "critical"
    assert alert.dedupe_key.endswith(f"{at(7, 16).astimezone(UTC).isoformat()}|15")
    assert scan(at(7, 32, 30)) == 0  # a rerun repeats nothing


@pytest.mark.django_db
def test_a_check_inside_the_first_window_answers_it(cast, facility):
    stay = stay_on_q60(cast, facility)
    quiet_night(stay, cast["technician"])
    order(stay, "q15", at(7, 16), cast["clinician"])
    start_clock(at(7, 20))
    check(stay, cast["technician"], at(7, 29))
    assert scan(at(7, 31, 30)) == 0
    assert scan(at(7, 45, 30)) == 1  # the 07:30 block: clock blocks apply from then on
    assert [a.message for a in missed()] == [
        "Missed check: Test0 Person0, 07:30 block (q15 Close). Critical: q15 Close."
    ]


@pytest.mark.django_db
def test_first_check_at_0744_after_a_0716_raise_is_missed(cast, facility):
    """Issue 10: "The first check came at 07:44, and the system counted 0 missed"."""
    stay = stay_on_q60(cast, facility)
    quiet_night(stay, cast["technician"])
    start_clock(at(7, 0))
    order(stay, "q15", at(7, 16), cast["clinician"])
    check(stay, cast["technician"], at(7, 44))
    assert scan(at(8, 0, 30)) == 2
    assert [a.message for a in missed()] == [
        "Missed check: Test0 Person0, first check after 07:16 not done by 07:31 (q15 Close)."
        " Critical: q15 Close.",
        "Missed check: Test0 Person0, 07:45 block (q15 Close). Critical: q15 Close.",
    ]
    # The report counts the same windows: the q60 hour in progress at the raise (checked at
    # 07:44), the first window and the 07:45 block.
    ((_, tally),) = compliance(facility, start=at(7, 0), end=at(8, 0))[0]
    assert (tally.due, tally.done, tally.missed) == (4, 2, 2)
    assert tally.missed_runs == ["07:16 1st check by 07:31", "07:45"]


@pytest.mark.django_db
def test_a_lowering_forgives_nothing(cast, facility):
    """q15 until the clinician's order at 07:20, then q60 owes its first check by 08:20."""
    stay = stay_on_q60(cast, facility)
    quiet_night(stay, cast["technician"])
    order(stay, "q15", at(7, 0), cast["clinician"])
    order(stay, "q60", at(7, 20), cast["clinician"])
    start_clock(at(7, 0))
    check(stay, cast["technician"], at(7, 2))
    check(stay, cast["technician"], at(8, 25))  # the 08:00 block, but late for the first check
    scan(at(9, 0, 30))
    # The q15 block in progress at the lowering (07:15-07:30) stays owed (issue 10 review).
    block, alert = missed()
    assert block.message == (
        "Missed check: Test0 Person0, 07:15 block (q15 Close). Critical: q15 Close."
    )
    assert alert.message == (
        "Missed check: Test0 Person0, first check after 07:20 not done by 08:20 (q60 Routine)."
        " Critical: 2nd missed in a row."
    )


@pytest.mark.django_db
def test_a_ten_minute_leave_on_q60_no_longer_hides_three_hours(cast, facility):
    """Issue 10: "A 10-minute leave on q60 left a client unchecked from 06:10 to 09:10, also
    counted as 0 missed"."""
    stay = stay_on_q60(cast, facility)
    start_clock(at(6, 0))
    for when in (at(4, 30), at(5, 30), at(6, 5)):
        check(stay, cast["technician"], when)
    Leave.objects.create(
        admission=stay,
        kind="appointment",
        left_at=at(6, 10),
        expected_back_at=at(6, 30),
        returned_at=at(6, 20),
        recorded_by=cast["nurse"],
    )
    check(stay, cast["technician"], at(9, 10))
    assert scan(at(9, 15, 30)) == 3
    assert [(a.severity, a.message) for a in missed()] == [
        (
            "warning",
            "Missed check: Test0 Person0, first check after 06:20 not done by 07:20 (q60 Routine).",
        ),
        (
            "critical",
            "Missed check: Test0 Person0, 07:00 block (q60 Routine). "
            "Critical: 2nd missed in a row.",
        ),
        (
            "critical",
            "Missed check: Test0 Person0, 08:00 block (q60 Routine). "
            "Critical: 3rd missed in a row.",
        ),
    ]
    ((_, tally),) = compliance(facility, start=at(6, 0), end=at(9, 15))[0]
    assert tally.missed == 3
    assert tally.missed_runs == ["06:20 1st check by 07:20", "07:00–09:00 (2)"]


@pytest.mark.django_db
def test_the_report_and_the_alerts_agree(cast, facility):
    """Same stays, same hours: every window the report calls missed has its alert, and no more."""
    stays = [stay_on_q60(cast, facility)]
    with time_machine.travel(at(6, 40), tick=False):
        stays.append(admit(facility, cast["nurse"], admitted_at=at(6, 40), n=1))  # q15, 06:40
    order(stays[0], "q30", at(6, 10), cast["clinician"])
    order(stays[0], "q15", at(7, 16), cast["clinician"])
    for minute in (3, 50, 95, 130, 170):
        for stay in stays:
            check(stay, cast["technician"], at(6, 0) + timedelta(minutes=minute))
    start_clock(at(6, 0))
    scan(at(9, 0, 30))
    report = compliance(facility, start=at(6, 0), end=at(9, 0))[0]
    expected = {
        missed_key(stay.public_id, b.start, b.interval, first=b.first)
        for stay, tally in report
        for b in tally.missed_windows
    }
    assert expected == set(
        Alert.objects.filter(kind="missed_check").values_list("dedupe_key", flat=True)
    )
    assert len(expected) > 5
