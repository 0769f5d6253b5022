"""Clinical-safety review of issue 10 (rounds), the rules findings: a change of level, a leave
(short or back-dated) and a return entered late never forgive a check owed, and a first window
that crosses midnight is in one daily report."""

import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace as NS
from zoneinfo import ZoneInfo

import pytest
import time_machine

from clients.services import leave_return, leave_start
from facility.models import Alert
from observations.compliance import compliance
from observations.models import LEVEL_INTERVAL, LevelOrder, RoundCheck, RoundCode, ScanMark
from observations.rounds import missed_windows, owed_windows, stay_segments
from observations.services import MISSED_SCAN, missed_key, scan_missed_checks
from tests.conftest import admit

NY = ZoneInfo("America/New_York")


def at(h, m, s=0, *, day=(2026, 5, 12)):
    return datetime(*day, h, m, s, tzinfo=NY)


@pytest.fixture(autouse=True)
def _missed_checks_alone(monkeypatch):
    monkeypatch.setattr("observations.services.scans.scan_security_rounds", lambda **kw: 0)


def q60_stay(cast, facility, n=0):
    admitted = at(7, 0, day=(2026, 5, 1))  # past the 72-hour q15 default: q60
    with time_machine.travel(admitted, tick=False):
        return admit(facility, cast["nurse"], admitted_at=admitted, n=n)


def order(stay, level, when, by):
    return LevelOrder.objects.create(
        admission=stay, level=level, kind="order", reason="Test", effective_from=when, ordered_by=by
    )


def code(facility, kind, value):
    return RoundCode.objects.get(facility=facility, kind=kind, code=value)


def check(stay, by, when):
    return RoundCheck.objects.create(
        admission=stay, observed_at=when, recorded_at=when, recorded_by=by,
        location=code(stay.facility, "location", "RM"), status=code(stay.facility, "status", "A"),
        submission_key=uuid.uuid4(),
    )  # fmt: skip


def start_clock(when):
    ScanMark.objects.update_or_create(name=MISSED_SCAN, defaults={"scanned_until": when})


def missed_keys():
    return set(Alert.objects.filter(kind="missed_check").values_list("dedupe_key", flat=True))


def windows(orders=(), leaves=(), *, start, end):
    stay = NS(admitted_at=at(7, 0, day=(2026, 5, 1)), discharged_at=None)  # q60 by then
    orders = [NS(effective_from=t, level=lv) for t, lv in orders]
    leaves = [NS(left_at=a, returned_at=b) for a, b in leaves]
    segments = stay_segments(stay, orders, leaves, start=start, end=end)
    return owed_windows(segments, intervals=LEVEL_INTERVAL, tz=NY)


def missed(checks, **kw):
    return [
        (f"{w.start:%H:%M}-{w.end:%H:%M}", w.kind) for w in missed_windows(checks, windows(**kw))
    ]


# Level change: the old level's block in progress stays owed whole ---------------------------
def test_a_change_of_level_does_not_forgive_the_old_levels_block_in_progress():
    # Without the raise: q60, checks 06:05 and 08:15 -> the 07:00 block is missed.
    assert missed([at(6, 5), at(8, 15)], start=at(6, 0), end=at(9, 0)) == [("07:00-08:00", "block")]
    # Raised to q30 at 07:50: the 07:00 q60 block stays owed; the first q30 check by 08:20.
    raised = missed(
        [at(6, 5), at(8, 15)], orders=[(at(7, 50), "q30")], start=at(6, 0), end=at(8, 30)
    )
    assert raised == [("07:00-08:00", "carry")]
    # Lowered q15 -> q60 at 07:29, last q15 check 07:01: the 07:15 q15 block (due 07:30) missed.
    lowered = missed(
        [at(7, 1), at(8, 28)],
        orders=[(at(7, 0), "q15"), (at(7, 29), "q60")],
        start=at(7, 0),
        end=at(9, 0),
    )
    assert lowered == [("07:15-07:30", "carry")]


def test_a_raise_keeps_its_first_window_deadline_beside_the_old_block():
    got = windows(orders=[(at(7, 16), "q15")], start=at(6, 0), end=at(8, 0))
    shown = [(f"{w.start:%H:%M}-{w.end:%H:%M}", w.kind, w.level) for w in got]
    assert ("07:16-07:31", "first", "q15") in shown  # the 07:31 deadline stands
    assert ("07:00-08:00", "carry", "q60") in shown  # and the q60 hour in progress is owed
    # A check at 07:20 answers both; none by 07:31 misses the first window only if the hour
    # was checked before the raise.
    assert missed([at(6, 5), at(7, 20), at(7, 35), at(7, 50)], orders=[(at(7, 16), "q15")],
                  start=at(6, 0), end=at(8, 0)) == []  # fmt: skip
    assert missed([at(6, 5), at(7, 5), at(7, 35), at(7, 50)], orders=[(at(7, 16), "q15")],
                  start=at(6, 0), end=at(8, 0)) == [("07:16-07:31", "first")]  # fmt: skip


def test_a_carry_window_is_clipped_to_when_the_old_level_began():
    # Back from leave at 07:20 on q60, raised to q15 at 07:50: the q60 block is owed from the
    # return only, 07:20-08:00 (the return's own first window is cut by the raise).
    got = missed([at(6, 5)], orders=[(at(7, 50), "q15")], leaves=[(at(6, 40), at(7, 20))],
                 start=at(6, 0), end=at(8, 0))  # fmt: skip
    assert ("07:20-08:00", "carry") in got


def test_a_change_on_the_old_levels_boundary_carries_nothing():
    got = windows(orders=[(at(7, 0), "q15")], start=at(6, 0), end=at(7, 30))
    assert [w.kind for w in got] == ["block", "block", "block"]  # 06:00 q60, 07:00 and 07:15 q15


# Leave: the last check before leaving ---------------------------------------------------------
def test_a_leave_owes_a_check_within_one_interval_before_it():
    assert missed([at(6, 5)], leaves=[(at(7, 50), at(7, 51))], start=at(6, 0), end=at(7, 55)) == [
        ("06:50-07:50", "last")
    ]
    # Checked at 07:00: seen within the hour before leaving.
    assert (
        missed([at(6, 5), at(7, 0)], leaves=[(at(7, 50), None)], start=at(6, 0), end=at(9, 0)) == []
    )


def test_a_last_window_is_clipped_to_the_piece_and_not_made_twice():
    # Back at 07:40, left again at 07:50: owed 07:40-07:50 only.
    got = windows(leaves=[(at(7, 0), at(7, 40)), (at(7, 50), None)], start=at(6, 0), end=at(9, 0))
    assert [(f"{w.start:%H:%M}-{w.end:%H:%M}", w.kind) for w in got] == [
        ("06:00-07:00", "block"),
        ("07:40-07:50", "last"),
    ]
    # Leaving on the hour: the last window is the 07:00 block, owed once.
    got = windows(leaves=[(at(8, 0), None)], start=at(7, 0), end=at(9, 0))
    assert [(f"{w.start:%H:%M}-{w.end:%H:%M}", w.kind) for w in got] == [("07:00-08:00", "block")]


@pytest.mark.django_db
def test_a_backdated_leave_does_not_erase_a_miss_already_alerted(cast, facility):
    """Issue 10: "A leave can also be back-dated to erase misses already recorded"."""
    stay = q60_stay(cast, facility)
    for when in (at(4, 30), at(5, 30), at(6, 5)):
        check(stay, cast["technician"], when)
    start_clock(at(6, 0))
    scan_missed_checks(now=at(8, 0, 30))
    assert missed_keys() == {missed_key(stay.public_id, at(7, 0), 60, first=False)}
    with time_machine.travel(at(8, 10), tick=False):
        leave = leave_start(
            actor=cast["nurse"], admission=stay, kind="pass", left_at=at(7, 58),
            expected_back_at=at(8, 30), backdate_reason="Forgot to sign out",
        )  # fmt: skip
        leave_return(actor=cast["nurse"], leave=leave, returned_at=at(8, 2))
    ((_, tally),) = compliance(facility, start=at(6, 0), end=at(8, 0), now=at(8, 10))[0]
    # On the unit and unchecked 06:05-07:58: the hour before leaving was missed.
    assert tally.missed == 1
    assert tally.missed_runs == ["06:58–07:58 before leave"]


@pytest.mark.django_db
def test_a_one_minute_leave_does_not_forgive_the_block_in_progress(cast, facility):
    """q60: a 1-minute leave at 07:50 must not turn 06:05->08:50 into zero misses."""
    stay = q60_stay(cast, facility)
    for when in (at(4, 30), at(5, 30), at(6, 5)):
        check(stay, cast["technician"], when)
    start_clock(at(6, 0))
    with time_machine.travel(at(7, 50), tick=False):
        leave = leave_start(
            actor=cast["nurse"], admission=stay, kind="pass", left_at=at(7, 50),
            expected_back_at=at(8, 30),
        )  # fmt: skip
    with time_machine.travel(at(7, 51), tick=False):
        leave_return(actor=cast["nurse"], leave=leave, returned_at=at(7, 51))
    check(stay, cast["technician"], at(8, 50))
    for minute in range(0, 200, 15):
        scan_missed_checks(now=at(6, 0, 30) + timedelta(minutes=minute))
    ((_, tally),) = compliance(facility, start=at(6, 0), end=at(9, 0), now=at(9, 20))[0]
    assert missed_keys() == {missed_key(stay.public_id, at(6, 50), 60, first=True)}
    assert tally.missed == 1
    alert = Alert.objects.get(kind="missed_check")
    assert "before leaving at 07:50" in alert.message


# A return recorded late ---------------------------------------------------------------------
@pytest.mark.django_db
def test_a_return_recorded_late_still_alerts_the_checks_owed_since(cast, facility):
    """Back on the unit at 07:10, return entered at 10:05: the windows owed since 07:10 were
    passed by the scan while the client counted as away; they are alerted once entered."""
    stay = q60_stay(cast, facility)
    check(stay, cast["technician"], at(6, 5))
    start_clock(at(6, 0))
    with time_machine.travel(at(6, 10), tick=False):
        leave = leave_start(
            actor=cast["nurse"], admission=stay, kind="pass", left_at=at(6, 10),
            expected_back_at=at(13, 0),
        )  # fmt: skip
    for minute in range(0, 250, 15):  # the minute scan, 06:00:30 .. 10:00:30
        scan_missed_checks(now=at(6, 0, 30) + timedelta(minutes=minute))
    assert missed_keys() == set()
    with time_machine.travel(at(10, 5), tick=False):
        leave_return(actor=cast["nurse"], leave=leave, returned_at=at(7, 10))
    for minute in range(0, 60, 15):
        scan_missed_checks(now=at(10, 15, 30) + timedelta(minutes=minute))
    ((_, tally),) = compliance(facility, start=at(6, 0), end=at(10, 0), now=at(11, 0))[0]
    assert tally.missed == 3  # 07:10 first window, 08:00 and 09:00 blocks
    expected = {
        missed_key(stay.public_id, at(7, 10), 60, first=True),
        missed_key(stay.public_id, at(8, 0), 60, first=False),
        missed_key(stay.public_id, at(9, 0), 60, first=False),
        missed_key(stay.public_id, at(10, 0), 60, first=False),  # the 10:00 block, by 11:00:30
    }
    assert missed_keys() == expected
    scan_missed_checks(now=at(11, 1, 30))  # idempotent
    assert Alert.objects.filter(kind="missed_check").count() == 4


@pytest.mark.django_db
def test_a_late_return_pulls_back_only_its_own_stay(cast, facility):
    other = q60_stay(cast, facility, n=1)  # never checked, but its misses were judged already
    stay = q60_stay(cast, facility, n=2)
    check(stay, cast["technician"], at(6, 5))
    with time_machine.travel(at(6, 10), tick=False):
        leave = leave_start(
            actor=cast["nurse"], admission=stay, kind="pass", left_at=at(6, 10),
            expected_back_at=at(13, 0),
        )  # fmt: skip
    start_clock(at(9, 30))
    with time_machine.travel(at(10, 5), tick=False):
        leave_return(actor=cast["nurse"], leave=leave, returned_at=at(7, 10))
    scan_missed_checks(now=at(10, 15, 30))
    keys = missed_keys()
    assert missed_key(stay.public_id, at(7, 10), 60, first=True) in keys
    # The other stay is judged from the mark as always: only windows ending after 09:30.
    assert {k for k in keys if str(other.public_id) in k} == {
        missed_key(other.public_id, at(9, 0), 60, first=False)
    }


# A first window across midnight ---------------------------------------------------------------
@pytest.mark.django_db
def test_a_first_window_across_midnight_is_in_the_daily_report_it_starts_in(cast, facility):
    """Raise to q15 at 23:50, first check 00:10: the scan alerts 23:50->00:05 and the report of
    the day the window began counts it, whole; the next day's does not count it again."""
    stay = q60_stay(cast, facility)
    for h in range(0, 24):
        check(stay, cast["technician"], at(h, 30))
    order(stay, "q15", at(23, 50), cast["clinician"])
    check(stay, cast["technician"], at(0, 10, day=(2026, 5, 13)))
    start_clock(at(23, 0))
    for minute in range(0, 30):
        scan_missed_checks(now=at(23, 45, 30) + timedelta(minutes=minute))
    assert missed_keys() == {missed_key(stay.public_id, at(23, 50), 15, first=True)}
    after = at(1, 0, day=(2026, 5, 13))
    midnight = at(0, 0, day=(2026, 5, 13))
    ((_, day1),) = compliance(facility, start=at(0, 0), end=midnight, now=after)[0]
    ((_, day2),) = compliance(facility, start=midnight, end=at(0, 15, day=(2026, 5, 13)),
                              now=after)[0]  # fmt: skip
    assert day1.missed == 1 and day1.missed_runs == ["23:50 1st check by 00:05"]
    assert day2.missed == 0 and day2.due == 1  # the 00:00 q15 block, checked at 00:10
    # Before 00:05 the window is not judged yet: not missed, not due.
    ((_, early),) = compliance(
        facility, start=at(0, 0), end=midnight, now=at(0, 1, day=(2026, 5, 13))
    )[0]
    assert early.missed == 0


# Entered late: an admission or a level order charted after the scan passed its time ------------
@pytest.mark.django_db
def test_an_admission_entered_late_is_judged_from_its_admission(cast, facility):
    """Admitted at 08:10 on paper, charted at 10:05: the scan had already judged up to 09:30
    without this stay. Its first check (08:10-08:25) and its q15 blocks since are judged now."""
    start_clock(at(9, 30))
    with time_machine.travel(at(10, 5), tick=False):
        stay = admit(facility, cast["nurse"], admitted_at=at(8, 10), n=3)
    check(stay, cast["technician"], at(8, 20))  # the first check, in time
    for minute in (30, 45):
        check(stay, cast["technician"], at(8, minute))
    # Nothing after 09:00 until 10:05.
    scan_missed_checks(now=at(10, 15, 30))
    keys = {k for k in missed_keys() if str(stay.public_id) in k}
    assert missed_key(stay.public_id, at(8, 10), 15, first=True) not in keys
    expected = {missed_key(stay.public_id, at(h, m), 15, first=False)
                for h, m in ((9, 0), (9, 15), (9, 30), (9, 45), (10, 0))}  # fmt: skip
    assert keys == expected


@pytest.mark.django_db
def test_a_level_order_dated_back_is_judged_at_its_level(cast, facility):
    """Raised to q15 from 08:00 but charted at 10:05, after the scan judged the q60 blocks: the
    q15 blocks since 08:00 are judged again at q15."""
    stay = q60_stay(cast, facility)
    for h in (6, 7, 8, 9):
        check(stay, cast["technician"], at(h, 5))
    start_clock(at(9, 30))
    with time_machine.travel(at(10, 5), tick=False):
        order(stay, "q15", at(8, 0), cast["clinician"])
    scan_missed_checks(now=at(10, 15, 30))
    keys = missed_keys()
    assert missed_key(stay.public_id, at(8, 15), 15, first=False) in keys
    assert missed_key(stay.public_id, at(9, 45), 15, first=False) in keys
    assert missed_key(stay.public_id, at(8, 0), 15, first=False) not in keys  # checked 08:05
