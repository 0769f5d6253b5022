"""Clinical review of issue 10, observer findings (specs/rounds.md, Levels and Missed checks):
1:1 and arm's-length are exclusive both ways, a downtime sheet does not fill a continuous
client's blocks nobody watched, and a late entry closes a missed alert only if it would count
for that window in the scan."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from facility.models import Alert
from observations.compliance import compliance
from observations.models import LevelOrder, ObserverAssignment, RoundCheck, RoundCode, ScanMark
from observations.services import (
    MISSED_SCAN,
    DowntimeRow,
    RoundEntry,
    close_missed_alerts,
    downtime_submit,
    handoff_accept,
    handoff_offer,
    level_order,
    missed_key,
    round_submit,
    scan_missed_checks,
)
from tests.conftest import admit, make_user
from tests.observations.test_observers import accept_racing

NY = ZoneInfo("America/New_York")


def at(h, m, s=0, *, day=(2026, 5, 12)):
    return datetime(*day, h, m, s, tzinfo=NY)


@pytest.fixture(autouse=True)
def _missed_checks_alone(monkeypatch):
    """The minute scan also judges security-round windows; here only missed checks count."""
    monkeypatch.setattr("observations.services.scans.scan_security_rounds", lambda **kw: 0)


def q60_stay(facility, nurse, n=0):
    admitted = at(7, 0, day=(2026, 5, 1))  # past the 72-hour q15 default: q60
    with time_machine.travel(admitted, tick=False):
        return admit(facility, nurse, admitted_at=admitted, n=n)


def order(stay, level, when, by):
    return LevelOrder.objects.create(
        admission=stay, level=level, kind="order", reason="Test", effective_from=when, ordered_by=by
    )


def code(facility, kind, value):
    return RoundCode.objects.get(facility=facility, kind=kind, code=value)


def check(stay, by, when, source="round"):
    return RoundCheck.objects.create(
        admission=stay, observed_at=when, recorded_at=when, recorded_by=by,
        location=code(stay.facility, "location", "RM"), status=code(stay.facility, "status", "A"),
        submission_key=uuid.uuid4(), source=source,
        late_reason="Paper sheet" if source == "downtime" else "",
    )  # fmt: skip


def take(actor, stay, when):
    with time_machine.travel(when, tick=False):
        return handoff_offer(actor=actor, admission=stay, to_observer=actor).assignment


def start_clock(when):
    ScanMark.objects.update_or_create(name=MISSED_SCAN, defaults={"scanned_until": when})


def open_missed():
    return set(
        Alert.objects.open().filter(kind="missed_check").values_list("dedupe_key", flat=True)
    )


def open_watches(user):
    return ObserverAssignment.objects.filter(observer=user, ended_at__isnull=True)


def sheet_row(n, stay, when):
    facility = stay.facility
    return DowntimeRow(
        n, stay, when, code(facility, "location", "RM"), code(facility, "status", "A")
    )


# ---------------------------------------------------------------- 1:1 is exclusive both ways


@pytest.mark.django_db
def test_a_line_of_sight_observer_cannot_take_a_one_to_one(cast, facility):
    """1:1 is "one assigned staff member, exclusively"; the DB only refuses a second 1:1."""
    tech = cast["technician"]
    los, one = admit(facility, cast["nurse"], n=1), admit(facility, cast["nurse"], n=2)
    order(los, "los", at(7, 0), cast["clinician"])
    order(one, "one_to_one", at(7, 0), cast["clinician"])
    take(tech, los, at(7, 5))
    with time_machine.travel(at(7, 6), tick=False), pytest.raises(ValidationError) as refused:
        handoff_offer(actor=tech, admission=one, to_observer=tech)
    assert refused.value.message_dict["observer"] == [
        "Observer: Technician already watches 1 client on line of sight; a 1:1 or arm's-length "
        "observer watches no one else. Hand those off first."
    ]
    assert [w.admission for w in open_watches(tech)] == [los]


@pytest.mark.django_db
def test_a_one_to_one_observer_cannot_take_a_line_of_sight_watch(cast, facility):
    tech = cast["technician"]
    one, los = admit(facility, cast["nurse"], n=1), admit(facility, cast["nurse"], n=2)
    order(one, "arms_length", at(7, 0), cast["clinician"])
    order(los, "los", at(7, 0), cast["clinician"])
    take(tech, one, at(7, 5))
    with time_machine.travel(at(7, 6), tick=False), pytest.raises(ValidationError) as refused:
        handoff_offer(actor=cast["nurse"], admission=los, to_observer=tech)
    assert "Technician already holds a 1:1 or arm's-length watch" in str(refused.value)
    assert [w.admission for w in open_watches(tech)] == [one]


@pytest.mark.django_db
def test_an_offer_accepted_after_the_observer_took_another_watch_is_refused(cast, facility):
    """The offer was fine when made; the acceptance is judged again, under the observer's lock."""
    tech = cast["technician"]
    los, one = admit(facility, cast["nurse"], n=1), admit(facility, cast["nurse"], n=2)
    order(los, "los", at(7, 0), cast["clinician"])
    order(one, "one_to_one", at(7, 0), cast["clinician"])
    with time_machine.travel(at(7, 5), tick=False):
        offer = handoff_offer(actor=cast["nurse"], admission=one, to_observer=tech)
    take(tech, los, at(7, 6))
    with time_machine.travel(at(7, 7), tick=False), pytest.raises(ValidationError) as refused:
        handoff_accept(actor=tech, handoff=offer)
    assert "already watches 1 client on line of sight" in str(refused.value)
    assert [w.admission for w in open_watches(tech)] == [los]


@pytest.mark.django_db
def test_a_raise_to_one_to_one_ends_the_watch_of_an_observer_with_other_clients(cast, facility):
    """A raise is never refused for staffing: the raised client's watch ends and alerts."""
    tech = cast["technician"]
    raised, other = admit(facility, cast["nurse"], n=1), admit(facility, cast["nurse"], n=2)
    for stay in (raised, other):
        order(stay, "los", at(7, 0), cast["clinician"])
    watch = take(tech, raised, at(7, 5))
    take(tech, other, at(7, 5))
    with time_machine.travel(at(7, 10), tick=False):
        new = level_order(actor=cast["nurse"], admission=raised, level="one_to_one", reason="Risk")
    watch.refresh_from_db()
    assert new.level == "one_to_one" and watch.ended_at == new.effective_from
    assert [w.admission for w in open_watches(tech)] == [other]
    alert = Alert.objects.open().get(kind="no_observer")
    assert alert.severity == "critical" and "1:1 with no assigned observer" in alert.message


@pytest.mark.django_db
def test_a_raise_to_one_to_one_keeps_an_observer_who_holds_nobody_else(cast, facility):
    tech = cast["technician"]
    stay = admit(facility, cast["nurse"], n=1)
    order(stay, "los", at(7, 0), cast["clinician"])
    watch = take(tech, stay, at(7, 5))
    with time_machine.travel(at(7, 10), tick=False):
        level_order(actor=cast["nurse"], admission=stay, level="one_to_one", reason="Risk")
    watch.refresh_from_db()
    assert watch.ended_at is None and watch.exclusive is True
    assert not Alert.objects.open().filter(kind="no_observer").exists()


@pytest.mark.django_db(transaction=True)
def test_a_line_of_sight_and_a_one_to_one_accepted_at_once_give_one_watch(roles, facility):
    """No database constraint covers "1:1 plus line of sight": the observer's lock does."""
    nurse = make_user("race_nurse", "nurse", facility)
    clinician = make_user("race_clinician", "clinician", facility)
    tech = make_user("race_tech", "technician", facility)
    stays = [admit(facility, nurse, n=i) for i in (1, 2)]
    offers = []
    for stay, level in zip(stays, ("los", "one_to_one"), strict=True):
        level_order(actor=clinician, admission=stay, level=level, reason="Risk")
        offers.append(handoff_offer(actor=nurse, admission=stay, to_observer=tech))
    outcomes = accept_racing(tech, offers)
    assert outcomes.count("accepted") == 1, outcomes
    assert any(o.startswith("Observer: Race Tech already") for o in outcomes), outcomes
    assert open_watches(tech).count() == 1


# ---------------------------------------------------------------- downtime and continuous levels


@pytest.mark.django_db
def test_a_downtime_sheet_does_not_fill_a_one_to_one_nobody_held(cast, facility):
    """Continuous levels count only while an observer watches; a nurse's paper rows for a 1:1
    client nobody held are refused, naming the row, and the blocks stay missed and alerted."""
    stay = q60_stay(facility, cast["nurse"])
    order(stay, "one_to_one", at(7, 0), cast["clinician"])  # nobody ever takes the watch
    start_clock(at(7, 0))
    scan_missed_checks(now=at(7, 30, 30))
    alerted = open_missed()
    assert len(alerted) == 2
    rows = [sheet_row(1, stay, at(7, 5)), sheet_row(2, stay, at(7, 20))]
    with pytest.raises(ValidationError) as refused:
        downtime_submit(actor=cast["nurse"], facility=facility, submission_key=uuid.uuid4(),
                        rows=rows, reason="Network down", now=at(7, 40))  # fmt: skip
    initials = stay.client.initials
    assert refused.value.messages == [
        f"Row 1: {initials} was on 1:1 with no assigned observer at 07:05 – record it as a "
        "deviation, not a check.",
        f"Row 2: {initials} was on 1:1 with no assigned observer at 07:20 – record it as a "
        "deviation, not a check.",
    ]
    assert not RoundCheck.objects.filter(source="downtime").exists()
    assert open_missed() == alerted
    ((_, tally),) = compliance(facility, start=at(7, 0), end=at(7, 30))[0]
    assert tally.missed == 2


@pytest.mark.django_db
def test_a_downtime_row_counts_while_an_observer_held_the_client(cast, facility):
    """Rows before the watch began are refused (whole sheet); after it, they count and close."""
    stay = q60_stay(facility, cast["nurse"])
    order(stay, "arms_length", at(7, 0), cast["clinician"])
    take(cast["technician"], stay, at(7, 10))
    start_clock(at(7, 0))
    scan_missed_checks(now=at(7, 30, 30))
    assert len(open_missed()) == 2
    early = [sheet_row(1, stay, at(7, 5)), sheet_row(2, stay, at(7, 20))]
    with pytest.raises(ValidationError) as refused:
        downtime_submit(actor=cast["nurse"], facility=facility, submission_key=uuid.uuid4(),
                        rows=early, reason="Network down", now=at(7, 40))  # fmt: skip
    assert refused.value.messages == [
        f"Row 1: {stay.client.initials} was on 1:1 within arm's length with no assigned observer "
        "at 07:05 – record it as a deviation, not a check."
    ]
    assert not RoundCheck.objects.filter(source="downtime").exists()
    recorded, closed, _ = downtime_submit(
        actor=cast["nurse"], facility=facility, submission_key=uuid.uuid4(),
        rows=[sheet_row(1, stay, at(7, 20))], reason="Network down", now=at(7, 40),
    )  # fmt: skip
    assert (recorded, closed) == (1, 1)
    assert open_missed() == {missed_key(stay.public_id, at(7, 0), 15, first=False)}
    ((_, tally),) = compliance(facility, start=at(7, 0), end=at(7, 30))[0]
    assert tally.missed == 1


@pytest.mark.django_db
def test_a_downtime_sheet_still_fills_timed_levels(cast, facility):
    stay = q60_stay(facility, cast["nurse"])
    order(stay, "q15", at(7, 0), cast["clinician"])
    start_clock(at(7, 0))
    scan_missed_checks(now=at(7, 30, 30))
    recorded, closed, _ = downtime_submit(
        actor=cast["nurse"], facility=facility, submission_key=uuid.uuid4(),
        rows=[sheet_row(1, stay, at(7, 5)), sheet_row(2, stay, at(7, 20))],
        reason="Network down", now=at(7, 40),
    )  # fmt: skip
    assert (recorded, closed) == (2, 2) and not open_missed()


# ---------------------------------------------------------------- closing alerts by the scan's rule


@pytest.fixture
def missed_one_to_one(cast, facility):
    """A 1:1 held by the technician from 07:01; the 07:15 block has no observer's entry."""
    stay = q60_stay(facility, cast["nurse"])
    order(stay, "one_to_one", at(7, 0), cast["clinician"])
    take(cast["technician"], stay, at(7, 1))
    check(stay, cast["technician"], at(7, 5), source="observer")
    start_clock(at(7, 0))
    scan_missed_checks(now=at(7, 30, 30))
    key = missed_key(stay.public_id, at(7, 15), 15, first=False)
    assert open_missed() == {key}
    return stay, key


@pytest.mark.django_db
def test_a_rounders_check_does_not_close_a_one_to_one_miss_after_a_lowering(
    cast, facility, missed_one_to_one
):
    """Lowered to q15 at 07:31; at 07:33 the rounder charts the client 'seen at 07:29'. The scan
    and the report still call the 07:15 1:1 block missed, so its critical alert stays open."""
    stay, key = missed_one_to_one
    level_order(actor=cast["clinician"], admission=stay, level="q15", reason="Safer",
                now=at(7, 31))  # fmt: skip
    entry = RoundEntry(stay, code(facility, "location", "RM"), code(facility, "status", "A"),
                       observed_at=at(7, 29))  # fmt: skip
    round_submit(actor=cast["nurse"], facility=facility, submission_key=uuid.uuid4(),
                 entries=[entry], late_reason="Charted late", now=at(7, 33))  # fmt: skip
    ((_, tally),) = compliance(facility, start=at(7, 0), end=at(7, 30))[0]
    assert tally.missed == 1
    assert key in open_missed(), "alert closed by a non-observer"


@pytest.mark.django_db
def test_the_observers_late_entry_closes_the_one_to_one_miss(
    cast, facility, missed_one_to_one, django_assert_max_num_queries
):
    stay, key = missed_one_to_one
    others = [q60_stay(facility, cast["nurse"], n=i) for i in (1, 2, 3)]
    pairs = [(stay, at(7, 20))] + [(o, at(7, 20)) for o in others]
    assert close_missed_alerts(pairs, actor=cast["nurse"], now=at(7, 40), tz=facility.tz) == 0
    assert key in open_missed()
    # alerts, level orders, assignments, one close
    with django_assert_max_num_queries(4):
        closed = close_missed_alerts(pairs, actor=cast["technician"], now=at(7, 40), tz=facility.tz)
    assert closed == 1 and not open_missed()
    assert "late entry by TE" in Alert.objects.get(dedupe_key=key).resolution_note
