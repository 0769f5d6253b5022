"""Review of issue 15 (shift report, handoff, dashboard): what a patient could lose at shift
change. Each test states a suspected defect and fails while it stands."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from facility.handoff import handoff_give, presented
from facility.services import alert_raise, alerts_close
from facility.shift_report import build_shift_report
from observations.services.cssrs import cssrs_screen_record
from tests.conftest import admit, make_user
from tests.medications.test_report_sections import daily
from tests.observations.test_report_sections import NONE, check

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
DAY = date(2026, 5, 12)


def at(h, m=0, day=DAY):
    return datetime(day.year, day.month, day.day, h, m, tzinfo=NY)


def block_of(report, stay):
    return next(b for b in report.clients if b.client.admission_id == stay.pk)


def all_text(report, stay):
    return " ".join(f"{i.tag} {i.text}" for _, i in block_of(report, stay).lines)


def screened(stay, nurse, when):
    with time_machine.travel(when, tick=False):
        cssrs_screen_record(actor=nurse, admission=stay, answers=NONE, reason="admission",
                            screened_at=when, now=when)  # fmt: skip


def steady_client(facility, nurse, last="Quiet"):
    """A client admitted five days ago (routine q60 by now), checked every hour of the day
    shift: nothing of its own to hand off."""
    with time_machine.travel(at(9, day=DAY - timedelta(days=5)), tick=False):
        stay = admit(facility, nurse, first="Pat", last=last,
                     admitted_at=at(9, day=DAY - timedelta(days=5)))  # fmt: skip
    screened(stay, nurse, at(9, 30, day=DAY - timedelta(days=5)))
    for hour in range(7, 15):
        with time_machine.travel(at(hour, 10), tick=False):
            check(stay, nurse, at(hour, 10))
    return stay


# --------------------------------------------------------------------- open alerts per client


def test_open_critical_alert_expands_a_client_with_no_event_in_the_shift(cast, facility):
    """Spec shift-report.md l.21 'open alerts' per client; issue 15 item 2: expanded first,
    ordered by concern (open critical alerts ...). A critical alert raised last night and still
    open must put the client at the top, not on a quiet line."""
    nurse = cast["nurse"]
    stay = steady_client(facility, nurse)
    alert_raise(
        facility=facility, kind="safety_concern", severity="critical",
        message="Found hoarding cords in room", dedupe_key="review15:cords",
        client_public_id=stay.client.public_id, client_label="Pat Quiet", now=at(5, 0),
    )  # fmt: skip
    report = build_shift_report(facility, day=DAY, shift_key="day", now=at(15, 5))
    block = block_of(report, stay)
    assert not [i for _, i in block.lines if i.concern >= 1 and i.tag != "Alert"], block.lines
    assert block.expanded, "client with an open critical alert is on a quiet line"
    assert block.concern == 3
    assert "hoarding cords" in all_text(report, stay)


def test_report_lists_open_alerts_by_severity_for_the_facility(cast, facility):
    """Spec shift-report.md l.22-23: Facility: '... open alerts by severity ...'."""
    alert_raise(
        facility=facility, kind="safety_concern", severity="critical",
        message="Back door found propped open", dedupe_key="review15:door", now=at(8, 0),
    )  # fmt: skip
    report = build_shift_report(facility, day=DAY, shift_key="day", now=at(15, 5))
    titles = [t.lower() for t, _ in report.facility_sections]
    assert any("alert" in t for t in titles), titles


def test_report_lists_staff_on_shift(cast, facility):
    """Spec shift-report.md l.23: Facility: '... staff on shift'."""
    report = build_shift_report(facility, day=DAY, shift_key="day", now=at(15, 5))
    titles = [t.lower() for t, _ in report.facility_sections]
    assert any("staff" in t for t in titles), titles


# --------------------------------------------------------------------- level on a quiet line


def test_a_client_on_q15_by_the_admission_default_is_not_a_quiet_line(cast, facility):
    """Spec rounds.md l.17-18 (q15 for the first 72 h) and shift-report.md l.18 'observation
    level'; issue 15 'who is on what level'. The quiet line shows no level, so a client on
    close observation by the admission default (not by an order) reads as routine."""
    nurse = cast["nurse"]
    admitted = at(9, day=DAY - timedelta(days=1))
    with time_machine.travel(admitted, tick=False):
        stay = admit(facility, nurse, first="Nia", last="New", admitted_at=admitted)
    screened(stay, nurse, admitted + timedelta(minutes=30))
    for hour in range(7, 15):
        for minute in (2, 17, 32, 47):
            with time_machine.travel(at(hour, minute), tick=False):
                check(stay, nurse, at(hour, minute))
    report = build_shift_report(facility, day=DAY, shift_key="day", now=at(15, 5))
    assert "15" in all_text(report, stay) or "Close" in all_text(report, stay)
    assert block_of(report, stay).expanded, "q15 client shown as one quiet line without level"


# --------------------------------------------------------------------- a dose across the change


def test_a_time_critical_dose_outstanding_at_the_change_is_on_a_handed_over_report(cast, facility):
    """Spec mar.md l.49-50: a missed dose 'goes on the shift report'; mar.md l.33-34: an
    undocumented dose never leaves the MAR. A time-critical 14:45 dose nobody charted is 'due'
    at the 15:05 handoff (so not on the day report) and missed at 15:45 in the evening, but the
    evening report only reads doses scheduled in the evening: it is on no handed-over report."""
    with time_machine.travel(at(6, 5), tick=False):
        stay = admit(facility, cast["nurse"], admitted_at=at(6, 0))
    nurse2 = make_user("nurse_two", "nurse", facility)
    daily(cast, nurse2, stay, "Levetiracetam", "14:45", time_critical=True)
    # Control: the dose exists, and the day report read late enough calls it missed.
    late_read = build_shift_report(facility, day=DAY, shift_key="day", now=at(23, 5))
    assert "Levetiracetam" in all_text(late_read, stay)
    day_at_handoff = build_shift_report(facility, day=DAY, shift_key="day", now=at(15, 5))
    evening = build_shift_report(facility, day=DAY, shift_key="evening", now=at(23, 5))
    # Decision (issue 15 review, 4): the day report handed over at 15:05 shows it as due now,
    # and the evening report carries it over from the previous shift, missed by then.
    assert "Due now Levetiracetam" in all_text(day_at_handoff, stay)
    carried = [i for _, i in block_of(evening, stay).lines if i.tag == "From the previous shift"]
    assert [i.concern for i in carried] == [2], carried
    assert "Levetiracetam" in carried[0].text and "missed" in carried[0].text


# --------------------------------------------------------------------- handoff timing


def test_a_shift_report_cannot_be_handed_over_minutes_after_the_shift_starts(cast, facility):
    """Spec shift-report.md l.28-31: the *outgoing* charge staff marks report given and the
    acknowledged report is frozen. The day shift's report can be given at 07:05 and received at
    07:10: a ten-minute report is frozen as 'what was handed over' and no alert will ever say
    the real day-shift handoff (at 15:00) was not received."""
    with time_machine.travel(at(6, 30), tick=False):
        stay = admit(facility, cast["nurse"], admitted_at=at(6, 0))
    unit = stay.unit
    with time_machine.travel(at(7, 5), tick=False), pytest.raises(ValidationError):
        handoff_give(actor=cast["nurse"], facility=facility, unit=unit, day=DAY,
                     shift_key="day")  # fmt: skip


# --------------------------------------------------------------------- DST nights (control)


@pytest.mark.parametrize(
    "night, blocks",
    [(date(2026, 10, 31), 36), (date(2026, 3, 7), 28)],  # fall back 9 h, spring forward 7 h
)
def test_dst_nights_count_every_real_block(cast, facility, night, blocks):
    """Spec shift-report.md l.9-10, rounds.md l.71-72: a q15 client never checked on the
    9-hour night misses 36 blocks, on the 7-hour night 28."""
    nurse = cast["nurse"]
    admitted = datetime(night.year, night.month, night.day, 20, 0, tzinfo=NY)
    with time_machine.travel(admitted, tick=False):
        stay = admit(facility, nurse, first="Dee", last="Est", admitted_at=admitted)
    screened(stay, nurse, admitted + timedelta(minutes=5))
    start, end = facility.shift_bounds(night, "night")
    assert end - start == timedelta(minutes=15 * blocks)
    report = build_shift_report(facility, day=night, shift_key="night",
                                now=end + timedelta(minutes=5))  # fmt: skip
    assert f"{blocks} missed" in all_text(report, stay)


# --------------------------------------------------------------------- decisions, pinned


def test_open_alerts_read_at_the_shifts_end_with_concern_by_severity(cast, facility):
    """Decision 1: per client, the alerts open at the shift's end (critical 3, warning 2, info
    1); one resolved before the end is not handed over; facility lines count by severity and
    list the alerts about no client."""
    nurse = cast["nurse"]
    stay = steady_client(facility, nurse)
    other = steady_client(facility, nurse, last="Other")
    pid = stay.client.public_id
    raise_ = lambda key, sev, msg, when, **kw: alert_raise(  # noqa: E731
        facility=facility, kind="review", severity=sev, message=msg, dedupe_key=key,
        now=when, **kw,
    )[0]  # fmt: skip
    raise_("r:w", "warning", "Pacing at the door", at(9), client_public_id=pid)
    raise_("r:i", "info", "Asked for a call", at(10), client_public_id=pid)
    raise_("r:done", "critical", "Resolved already", at(8), client_public_id=pid)
    alerts_close(["r:done"], user=cast["supervisor"], note="Settled", now=at(12))
    later = raise_("r:later", "critical", "Raised after the shift", at(15, 2), client_public_id=pid)
    assert later.pk
    raise_("r:door", "critical", "Back door propped open", at(11))
    report = build_shift_report(facility, day=DAY, shift_key="day", now=at(15, 5))
    alerts = [i for t, i in block_of(report, stay).lines if t == "Open alerts"]
    assert [(i.text, i.concern) for i in alerts] == [
        ("Pacing at the door", 2), ("Asked for a call", 1),
    ]  # fmt: skip
    assert not [i for t, i in block_of(report, other).lines if t == "Open alerts"]
    lines = dict(report.facility_sections)["Open alerts"]
    assert [i.text for i in lines] == [
        "Back door propped open", "3 open at 15:00: 1 critical, 1 warning, 1 info",
    ]  # fmt: skip
    assert lines[1].concern == 3


def test_alert_and_staff_sections_take_a_fixed_number_of_queries(cast, facility):
    """Decisions 1-2: the same number of queries for two clients with alerts as for six."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from facility.registry import ReportScope, registry

    nurse = cast["nurse"]
    stays = []

    def count(n):
        while len(stays) < n:
            with time_machine.travel(at(6, 0), tick=False):
                stay = admit(facility, nurse, first="Al", last=f"Ert{len(stays)}",
                             admitted_at=at(6, 0))  # fmt: skip
            alert_raise(facility=facility, kind="review", severity="warning", message="x",
                        dedupe_key=f"q:{stay.pk}", client_public_id=stay.client.public_id,
                        now=at(8))  # fmt: skip
            stays.append(stay)
        start, end = facility.shift_bounds(DAY, "day")
        ids = tuple(c.admission_id for c in registry.report_roster(facility, None, start, end))
        scope = ReportScope(facility=facility, unit=stays[0].unit, start=start, end=end,
                            now=at(15, 5), admission_ids=ids)  # fmt: skip
        sections = [s for s in registry.report_sections if s.key in ("alerts", "staff")]
        with CaptureQueriesContext(connection) as ctx:
            for s in sections:
                if s.clients:
                    assert len(s.clients(scope)) == n
                if s.facility:
                    s.facility(scope)
        return len(ctx.captured_queries)

    assert count(2) == count(6)


def test_staff_on_shift_is_who_the_access_log_saw_in_the_shift(cast, facility):
    """Decision 2: sign-ins and recorded activity within [start, end), this facility's only."""
    from facility.models import AccessAction
    from facility.services import access_log

    log = [
        (at(6, 50), cast["other_nurse"], AccessAction.LOGIN, None),  # before the shift
        (at(7, 5), cast["nurse"], AccessAction.LOGIN, None),
        (at(9, 0), cast["technician"], AccessAction.VIEW, facility),
        (at(9, 30), cast["nurse"], AccessAction.VIEW, facility),
        (at(15, 0), cast["supervisor"], AccessAction.LOGIN, None),  # the next shift
    ]
    for when, who, action, where in log:
        with time_machine.travel(when, tick=False):
            access_log(action=action, actor=who, facility=where)
    with time_machine.travel(at(10), tick=False):
        access_log(action=AccessAction.LOGIN_FAILED, username=cast["supervisor"].username,
                   outcome="failed")  # fmt: skip
    report = build_shift_report(facility, day=DAY, shift_key="day", now=at(15, 5))
    staff = [i.text for i in dict(report.facility_sections)["Staff on shift"]]
    assert staff == [
        f"{cast['nurse'].signature} (Nurse), first seen 07:05",
        f"{cast['technician'].signature} (Technician), first seen 09:00",
    ], staff


def test_the_quiet_line_says_what_the_report_knows_in_short(cast, facility):
    """Decision 8: a quiet client's line shows its information lines in short, one line."""
    nurse = cast["nurse"]
    stay = steady_client(facility, nurse)
    report = build_shift_report(facility, day=DAY, shift_key="day", now=at(15, 5))
    assert not block_of(report, stay).expanded
    row = next(r for r in presented(report)["quiet"] if r.admission_id == stay.pk)
    assert row.summary.startswith("Level q60 Routine"), row.summary
    assert row.name == "Pat Quiet" and "\n" not in row.summary


def test_the_admission_default_says_until_when(cast, facility):
    """Decision 3: q15 by the admission default is concern 1 and says until when."""
    nurse = cast["nurse"]
    admitted = at(9, day=DAY - timedelta(days=1))
    with time_machine.travel(admitted, tick=False):
        stay = admit(facility, nurse, first="Nia", last="New", admitted_at=admitted)
    report = build_shift_report(facility, day=DAY, shift_key="day", now=at(15, 5))
    level = next(i for _, i in block_of(report, stay).lines if i.tag == "Level")
    assert level.concern == 1
    assert "q15" in level.text and "admission default until 2026-05-14 09:00" in level.text


def test_a_running_shift_lists_the_doses_due_now(cast, facility):
    """Decision 4: for a running shift, doses due now are concern 1."""
    with time_machine.travel(at(6, 5), tick=False):
        stay = admit(facility, cast["nurse"], admitted_at=at(6, 0))
    nurse2 = make_user("nurse_two", "nurse", facility)
    daily(cast, nurse2, stay, "Levetiracetam", "10:00", time_critical=True)
    report = build_shift_report(facility, day=DAY, shift_key="day", now=at(10, 5))
    due = [i for _, i in block_of(report, stay).lines if i.tag == "Due now"]
    assert [(i.concern, "Levetiracetam" in i.text) for i in due] == [(1, True)]
