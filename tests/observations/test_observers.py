"""Continuous observation is the observer's job (issue 10 item 2, specs/rounds.md Levels and
Missed checks): one 1:1 per person, hand-offs that end only when the incoming observer accepts,
the watch following the level, "no observer" alerting at once, and the "My 1:1" screen."""

import threading
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.services import admission_discharge, leave_return, leave_start
from facility.models import Alert
from observations.models import ObserverAssignment, ObserverHandoff, RoundCheck, RoundCode
from observations.services import (
    handoff_accept,
    handoff_decline,
    handoff_offer,
    handoff_withdraw,
    level_order,
    scan_missed_checks,
)
from tests.conftest import admit, make_user

NY = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _observer_gaps_alone(monkeypatch):
    """The minute scan also judges security-round windows; here only observers are counted."""
    monkeypatch.setattr("observations.services.scans.scan_security_rounds", lambda **kwargs: 0)


def on_level(admission, level, actor):
    return level_order(actor=actor, admission=admission, level=level, reason="Clinical risk")


def take(actor, admission):
    """The actor takes the watch themself (accepted at once)."""
    return handoff_offer(actor=actor, admission=admission, to_observer=actor).assignment


def watch_of(admission):
    return ObserverAssignment.objects.filter(admission=admission, ended_at__isnull=True).first()


def code(facility, kind, value):
    return RoundCode.objects.get(facility=facility, kind=kind, code=value)


def open_no_observer(admission):
    return Alert.objects.open().filter(
        kind="no_observer", dedupe_key__startswith=f"no-observer:{admission.public_id}:"
    )


@pytest.fixture
def tech2(cast, facility):
    return make_user("tech_two", "technician", facility)


@pytest.fixture
def two_on_one_to_one(cast, facility):
    first = admit(facility, cast["nurse"], n=1)
    second = admit(facility, cast["nurse"], n=2)
    on_level(first, "one_to_one", cast["clinician"])
    on_level(second, "arms_length", cast["clinician"])
    return first, second


# ---------------------------------------------------------------- one 1:1 per person


@pytest.mark.django_db
def test_a_second_one_to_one_for_the_same_person_is_refused(cast, two_on_one_to_one):
    first, second = two_on_one_to_one
    held = take(cast["technician"], first)
    assert held.exclusive is True
    with pytest.raises(ValidationError) as refused:
        handoff_offer(actor=cast["nurse"], admission=second, to_observer=cast["technician"])
    message = refused.value.message_dict["observer"][0]
    assert "Technician already holds a 1:1" in message
    with pytest.raises(ValidationError, match="Technician already holds"):
        take(cast["technician"], second)
    assert ObserverAssignment.objects.filter(observer=cast["technician"]).count() == 1
    assert watch_of(second) is None


@pytest.mark.django_db
def test_an_offer_made_before_the_first_watch_cannot_be_accepted_after_it(cast, two_on_one_to_one):
    first, second = two_on_one_to_one
    offer = handoff_offer(actor=cast["nurse"], admission=second, to_observer=cast["technician"])
    take(cast["technician"], first)
    with pytest.raises(ValidationError, match="Technician already holds a 1:1"):
        handoff_accept(actor=cast["technician"], handoff=offer)
    offer.refresh_from_db()
    assert offer.closed_at is None and watch_of(second) is None


@pytest.mark.django_db
def test_the_database_refuses_a_second_open_exclusive_assignment(cast, two_on_one_to_one):
    first, second = two_on_one_to_one
    take(cast["technician"], first)
    with pytest.raises(IntegrityError), transaction.atomic():
        ObserverAssignment.objects.create(
            admission=second,
            observer=cast["technician"],
            started_at=timezone.now(),
            assigned_by=cast["nurse"],
            exclusive=True,
        )


@pytest.mark.django_db
def test_an_acceptance_that_slips_past_the_check_is_refused_by_the_constraint(
    cast, two_on_one_to_one, monkeypatch
):
    """What a race looks like to the loser: the check saw nothing, the unique index did."""
    first, second = two_on_one_to_one
    offer = handoff_offer(actor=cast["nurse"], admission=second, to_observer=cast["technician"])
    take(cast["technician"], first)
    monkeypatch.setattr("observations.services.observers._watch_conflict", lambda *a, **k: None)
    with pytest.raises(ValidationError, match="Technician already holds a 1:1"):
        handoff_accept(actor=cast["technician"], handoff=offer)
    assert watch_of(second) is None


def accept_racing(observer, offers) -> list[str]:
    """The observer accepts every offer at once, one thread each; what each was told."""
    barrier, outcomes = threading.Barrier(len(offers)), []

    def accept(offer):
        try:
            barrier.wait()
            handoff_accept(actor=observer, handoff=offer)
            outcomes.append("accepted")
        except ValidationError as exc:
            outcomes.append(exc.messages[0])
        finally:
            close_old_connections()

    threads = [threading.Thread(target=accept, args=(o,)) for o in offers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_acceptances_racing_give_one_watch(roles, facility):
    nurse = make_user("race_nurse", "nurse", facility)
    clinician = make_user("race_clinician", "clinician", facility)
    tech = make_user("race_tech", "technician", facility)
    stays = [admit(facility, nurse, n=i) for i in (1, 2)]
    offers = []
    for stay in stays:
        on_level(stay, "one_to_one", clinician)
        offers.append(handoff_offer(actor=nurse, admission=stay, to_observer=tech))
    outcomes = accept_racing(tech, offers)
    assert outcomes.count("accepted") == 1
    assert any("Race Tech already holds a 1:1" in o for o in outcomes)
    assert ObserverAssignment.objects.filter(observer=tech, ended_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_line_of_sight_may_be_shared(cast, facility):
    stays = [admit(facility, cast["nurse"], n=i) for i in (1, 2)]
    for stay in stays:
        on_level(stay, "los", cast["clinician"])
        take(cast["technician"], stay)
    watches = ObserverAssignment.objects.filter(observer=cast["technician"], ended_at=None)
    assert [w.exclusive for w in watches] == [False, False]


# ---------------------------------------------------------------- hand-offs


@pytest.mark.django_db
def test_a_hand_off_ends_only_when_the_incoming_observer_accepts(cast, admission, tech2):
    on_level(admission, "one_to_one", cast["clinician"])
    held = take(cast["technician"], admission)
    offer = handoff_offer(actor=cast["nurse"], admission=admission, to_observer=tech2)
    assert watch_of(admission) == held  # the current observer keeps the client
    with pytest.raises(PermissionDenied, match="Only Tech Two"):
        handoff_accept(actor=cast["nurse"], handoff=offer)
    with pytest.raises(PermissionDenied):
        handoff_accept(actor=cast["technician"], handoff=offer)
    new = handoff_accept(actor=tech2, handoff=offer)
    held.refresh_from_db()
    offer.refresh_from_db()
    assert held.ended_at == new.started_at == offer.accepted_at == offer.closed_at
    assert offer.assignment == new and offer.from_assignment == held
    assert new.observer == tech2 and new.exclusive and new.assigned_by == cast["nurse"]
    with pytest.raises(ValidationError, match="already accepted"):
        handoff_accept(actor=tech2, handoff=offer)


@pytest.mark.django_db
def test_only_the_incoming_declines_and_anyone_who_charts_withdraws(cast, admission, tech2):
    on_level(admission, "los", cast["clinician"])
    held = take(cast["technician"], admission)
    offer = handoff_offer(actor=cast["technician"], admission=admission, to_observer=tech2)
    with pytest.raises(ValidationError, match="already offered to Tech Two"):
        handoff_offer(actor=cast["nurse"], admission=admission, to_observer=cast["supervisor"])
    with pytest.raises(PermissionDenied):
        handoff_decline(actor=cast["nurse"], handoff=offer)
    handoff_decline(actor=tech2, handoff=offer)
    offer.refresh_from_db()
    assert (
        offer.closed_at
        and offer.accepted_at is None
        and "Declined by Tech Two" in (offer.close_note)
    )
    assert watch_of(admission) == held
    with pytest.raises(ValidationError, match="closed: Declined"):
        handoff_accept(actor=tech2, handoff=offer)
    again = handoff_offer(actor=cast["nurse"], admission=admission, to_observer=tech2)
    with pytest.raises(PermissionDenied):
        handoff_withdraw(actor=cast["clinician"], handoff=again)  # clinicians do not chart
    handoff_withdraw(actor=cast["supervisor"], handoff=again)
    again.refresh_from_db()
    assert again.close_note == "Withdrawn by Supervisor." and watch_of(admission) == held


@pytest.mark.django_db
def test_the_first_watch_is_an_offer_unless_the_actor_takes_it(cast, admission, tech2):
    on_level(admission, "one_to_one", cast["clinician"])
    offer = handoff_offer(actor=cast["nurse"], admission=admission, to_observer=tech2)
    assert offer.accepted_at is None and watch_of(admission) is None
    handoff_withdraw(actor=cast["nurse"], handoff=offer)
    mine = handoff_offer(actor=tech2, admission=admission, to_observer=tech2)
    assert mine.accepted_at is not None and watch_of(admission).observer == tech2


@pytest.mark.django_db
def test_only_staff_who_chart_rounds_in_this_facility_may_observe(cast, admission):
    on_level(admission, "los", cast["clinician"])
    for person in (cast["clinician"], cast["other_technician"], cast["admin"]):
        with pytest.raises(ValidationError):
            handoff_offer(actor=cast["nurse"], admission=admission, to_observer=person)
    with pytest.raises(PermissionDenied):
        handoff_offer(actor=cast["other_nurse"], admission=admission, to_observer=cast["nurse"])
    on_level(admission, "q15", cast["clinician"])
    with pytest.raises(ValidationError, match="no assigned observer"):
        handoff_offer(actor=cast["nurse"], admission=admission, to_observer=cast["technician"])


# ---------------------------------------------------------------- the watch follows the level


@pytest.mark.django_db
def test_between_continuous_levels_the_observer_stays_and_exclusive_follows(cast, admission):
    on_level(admission, "los", cast["clinician"])
    held = take(cast["technician"], admission)
    assert held.exclusive is False
    on_level(admission, "one_to_one", cast["clinician"])
    assert watch_of(admission) == held and watch_of(admission).exclusive is True
    on_level(admission, "los", cast["clinician"])
    assert watch_of(admission) == held and watch_of(admission).exclusive is False
    assert not open_no_observer(admission).exists()


@pytest.mark.django_db
def test_a_raise_is_never_refused_for_staffing(cast, facility):
    """The observer of two line-of-sight clients cannot keep one of them raised to 1:1 (a 1:1
    observer watches no one else): that watch ends and the raised client alerts."""
    one, shared = admit(facility, cast["nurse"], n=1), admit(facility, cast["nurse"], n=2)
    on_level(one, "los", cast["clinician"])
    on_level(shared, "los", cast["clinician"])
    take(cast["technician"], one)
    los_watch = take(cast["technician"], shared)
    order = level_order(
        actor=cast["nurse"], admission=shared, level="one_to_one", reason="New statement"
    )
    assert order.level == "one_to_one"
    los_watch.refresh_from_db()
    assert los_watch.ended_at == order.effective_from
    alert = open_no_observer(shared).get()
    assert alert.severity == "critical" and "1:1 with no assigned observer" in alert.message
    assert alert.link == reverse("clients:chart", args=[shared.client.public_id]) + (
        "#section-rounds"
    )
    assert watch_of(one).observer == cast["technician"]


@pytest.mark.django_db
def test_lowering_to_a_timed_level_ends_the_watch_and_closes_the_offer(cast, admission, tech2):
    on_level(admission, "one_to_one", cast["clinician"])
    held = take(cast["technician"], admission)
    offer = handoff_offer(actor=cast["nurse"], admission=admission, to_observer=tech2)
    order = on_level(admission, "q15", cast["clinician"])
    held.refresh_from_db()
    offer.refresh_from_db()
    assert held.ended_at == order.effective_from
    assert offer.closed_at == order.effective_from and offer.accepted_at is None
    assert offer.close_note == "Level changed to q15 Close."
    # The observer is free for another 1:1.
    other = admit(admission.facility, cast["nurse"], n=5)
    on_level(other, "one_to_one", cast["clinician"])
    assert take(cast["technician"], other).exclusive


@pytest.mark.django_db
def test_a_discharge_ends_the_watch_and_frees_the_observer(cast, facility, tech2):
    gone, next_one = admit(facility, cast["nurse"], n=1), admit(facility, cast["nurse"], n=2)
    on_level(gone, "one_to_one", cast["clinician"])
    on_level(next_one, "one_to_one", cast["clinician"])
    take(cast["technician"], gone)
    handoff_offer(actor=cast["nurse"], admission=gone, to_observer=tech2)
    admission_discharge(
        actor=cast["nurse"],
        admission=gone,
        discharged_at=timezone.now(),
        discharge_type="completed",
    )
    assert watch_of(gone) is None
    assert not ObserverHandoff.objects.filter(admission=gone, closed_at=None).exists()
    assert take(cast["technician"], next_one).exclusive


# ---------------------------------------------------------------- "no observer" alerts at once


@pytest.mark.django_db
def test_no_observer_alerts_at_once_and_closes_when_an_observer_accepts(cast, admission, tech2):
    raised = datetime(2026, 5, 12, 7, 16, tzinfo=NY)
    with time_machine.travel(raised, tick=False) as traveller:
        on_level(admission, "one_to_one", cast["nurse"])
        alert = open_no_observer(admission).get()  # no scan has run
        assert alert.raised_at == raised and alert.severity == "critical"
        traveller.move_to(raised + timedelta(minutes=1))
        scan_missed_checks()
        assert open_no_observer(admission).count() == 1  # the scan keeps it, once
        offer = handoff_offer(actor=cast["nurse"], admission=admission, to_observer=tech2)
        assert open_no_observer(admission).exists()  # an offer is not a watch
        traveller.move_to(raised + timedelta(minutes=4))
        handoff_accept(actor=tech2, handoff=offer)
        alert.refresh_from_db()
        assert alert.resolved_by == tech2 and alert.resolution_note == (
            "Tech Two took the watch at 07:20."
        )
        traveller.move_to(raised + timedelta(minutes=5))
        scan_missed_checks()
    assert Alert.objects.filter(kind="no_observer").count() == 1


@pytest.mark.django_db
def test_the_scan_still_alerts_a_continuous_client_nobody_holds(cast, admission):
    on_level(admission, "los", cast["clinician"])
    Alert.objects.filter(kind="no_observer").delete()  # as if raised before this release
    assert scan_missed_checks() >= 1
    assert open_no_observer(admission).get().link.endswith("#section-rounds")


# ---------------------------------------------------------------- the chart section


@pytest.mark.django_db
def test_the_chart_shows_the_pending_offer_and_buttons_to_the_offered_person(
    client, cast, admission
):
    on_level(admission, "one_to_one", cast["clinician"])
    take(cast["nurse"], admission)
    offer = handoff_offer(actor=cast["nurse"], admission=admission, to_observer=cast["technician"])
    chart = reverse("clients:chart", args=[admission.client.public_id])
    accept = reverse("observations:handoff_accept", args=[offer.public_id])
    client.force_login(cast["supervisor"])
    page = client.get(chart).content.decode()
    assert "Hand-off waiting:" in page and "offered to Technician, BHT" in page
    assert "Nurse keeps the watch until it is accepted." in page
    assert accept not in page and "Withdraw the offer" in page
    client.force_login(cast["technician"])
    page = client.get(chart).content.decode()
    assert accept in page and "Decline" in page


# ---------------------------------------------------------------- views: who may


@pytest.mark.django_db
def test_my_observation_anonymous_wrong_role_other_facility(client, cast, admission):
    url = reverse("observations:my_observation")
    on_level(admission, "one_to_one", cast["clinician"])
    take(cast["technician"], admission)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    for role in ("clinician", "admin"):
        client.force_login(cast[role])
        assert client.get(url).status_code == 403
    client.force_login(cast["other_technician"])
    page = client.get(url)
    assert page.status_code == 200 and admission.client.display_name not in page.content.decode()
    facility = admission.facility
    body = {
        "submission_key": str(uuid.uuid4()),
        "admission": str(admission.public_id),
        "location": code(facility, "location", "DAY").pk,
        "status": code(facility, "status", "A").pk,
    }
    assert client.post(url, body).status_code == 400
    client.force_login(cast["nurse"])  # same facility, not the observer
    response = client.post(url, body)
    assert response.status_code == 400
    assert "not yours to observe" in response.content.decode()
    assert not RoundCheck.objects.exists()


@pytest.mark.django_db
def test_hand_off_views_anonymous_wrong_role_other_facility_wrong_and_right_person(
    client, cast, admission
):
    on_level(admission, "one_to_one", cast["clinician"])
    offer = handoff_offer(actor=cast["nurse"], admission=admission, to_observer=cast["technician"])
    accept = reverse("observations:handoff_accept", args=[offer.public_id])
    decline = reverse("observations:handoff_decline", args=[offer.public_id])
    withdraw = reverse("observations:handoff_withdraw", args=[offer.public_id])
    for url in (accept, decline, withdraw):
        assert client.post(url)["Location"].startswith(reverse("account_login"))
        client.force_login(cast["clinician"])
        assert client.post(url).status_code == 403
        client.force_login(cast["other_technician"])
        assert client.post(url).status_code == 404
        client.logout()
    client.force_login(cast["nurse"])
    assert client.post(accept).status_code == 403
    assert client.post(decline).status_code == 403
    assert client.get(accept).status_code == 405
    client.force_login(cast["technician"])
    response = client.post(accept)
    assert response.status_code == 302 and response["Location"] == reverse(
        "observations:my_observation"
    )
    assert watch_of(admission).observer == cast["technician"]
    assert not open_no_observer(admission).exists()
    # A closed offer cannot be withdrawn: a message, not an error page.
    client.force_login(cast["nurse"])
    page = client.post(withdraw, follow=True).content.decode()
    assert "This hand-off was already accepted." in page


@pytest.mark.django_db
def test_offering_from_the_chart_needs_acceptance_and_taking_it_myself_does_not(
    client, cast, admission
):
    on_level(admission, "los", cast["clinician"])
    url = reverse("observations:observer_assign", args=[admission.public_id])
    client.force_login(cast["nurse"])
    page = client.post(url, {"observer": cast["technician"].pk}, follow=True).content.decode()
    assert "Offered to Technician; the watch passes when they accept it." in page
    assert watch_of(admission) is None
    client.force_login(cast["supervisor"])
    page = client.post(url, {"observer": cast["technician"].pk}, follow=True).content.decode()
    assert "already offered to Technician" in page
    ObserverHandoff.objects.update(closed_at=timezone.now(), close_note="test")
    page = client.post(url, {"observer": cast["supervisor"].pk}, follow=True).content.decode()
    assert "You now observe this client." in page
    assert watch_of(admission).observer == cast["supervisor"]


# ---------------------------------------------------------------- My 1:1


def seen_body(admission, location, status, **extra):
    return {
        "submission_key": str(uuid.uuid4()),
        "admission": str(admission.public_id),
        "location": location.pk,
        "status": status.pk,
        **extra,
    }


@pytest.mark.django_db
def test_my_observation_charts_the_observers_entry_and_shows_when_the_next_is_due(
    client, cast, facility
):
    url = reverse("observations:my_observation")
    start = datetime(2026, 5, 12, 7, 16, tzinfo=NY)
    with time_machine.travel(start - timedelta(days=1), tick=False):
        admission = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    with time_machine.travel(start, tick=False) as traveller:
        on_level(admission, "one_to_one", cast["nurse"])
        take(cast["technician"], admission)
        client.force_login(cast["technician"])
        page = client.get(url).content.decode()
        assert admission.client.display_name in page and "<strong>1:1</strong>" in page
        assert "None yet" in page and "07:31" in page  # first entry owed 15 min after the raise
        traveller.move_to(start + timedelta(minutes=4))
        response = client.post(
            url,
            seen_body(admission, code(facility, "location", "DAY"), code(facility, "status", "A")),
        )
        assert response.status_code == 302
        check = RoundCheck.objects.get()
        assert check.recorded_by == cast["technician"] and check.source == "observer"
        assert check.observed_at == start + timedelta(minutes=4)
        traveller.move_to(start + timedelta(minutes=9))
        page = client.get(url).content.decode()
    assert "5 min ago" in page and "07:45 — this block done" in page
    assert "Day room · Awake, calm" in page


@pytest.mark.django_db
def test_sleeping_needs_breathing_seen_and_is_never_pre_filled(client, cast, admission):
    facility = admission.facility
    url = reverse("observations:my_observation")
    on_level(admission, "one_to_one", cast["clinician"])
    take(cast["technician"], admission)
    client.force_login(cast["technician"])
    rm, asleep = code(facility, "location", "RM"), code(facility, "status", "S")
    refused = client.post(url, seen_body(admission, rm, asleep))
    assert refused.status_code == 400
    assert "Breathing seen: sleeping needs a fresh look" in refused.content.decode()
    assert not RoundCheck.objects.exists()
    assert (
        client.post(url, seen_body(admission, rm, asleep, respirations_observed="on")).status_code
        == 302
    )
    page = client.get(url).content.decode()
    assert f'name="location" value="{rm.pk}" required checked' in page
    assert f'value="{asleep.pk}" required data-needs-resp>' in page  # not chosen
    assert 'name="respirations_observed" data-breathing>' in page  # not ticked


@pytest.mark.django_db
def test_an_offer_to_me_shows_on_my_observation_with_accept(client, cast, admission):
    on_level(admission, "arms_length", cast["clinician"])
    take(cast["nurse"], admission)
    offer = handoff_offer(actor=cast["nurse"], admission=admission, to_observer=cast["technician"])
    client.force_login(cast["technician"])
    page = client.get(reverse("observations:my_observation")).content.decode()
    assert "Offered to you" in page and "1:1 within arm&#x27;s length" in page
    assert reverse("observations:handoff_accept", args=[offer.public_id]) in page
    assert "Nurse keeps the watch until you accept" in page
    client.force_login(cast["nurse"])
    page = client.get(reverse("observations:my_observation")).content.decode()
    assert "Offered to <strong>Technician</strong>" in page and "Withdraw the offer" in page


HOSTILE = [
    ({"remark": "x" * 501}, "Remark: at most 500 characters"),
    ({"remark": "Calm\x00now"}, "Remark"),
    ({"remark": "Ash\u202edrow"}, "Remark"),
    ({"location": "abc"}, "Location: choose one in use here."),
    ({"status": "99999999"}, "Status: choose one in use here."),
    ({"location": ""}, "Location: choose where the client is."),
    ({"submission_key": "not-a-uuid"}, "out of date"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("poison, expected", HOSTILE)
def test_hostile_input_on_my_observation_gets_a_field_message(
    client, cast, admission, poison, expected
):
    facility = admission.facility
    on_level(admission, "one_to_one", cast["clinician"])
    take(cast["technician"], admission)
    client.force_login(cast["technician"])
    body = seen_body(admission, code(facility, "location", "DAY"), code(facility, "status", "A"))
    body.update(poison)
    response = client.post(reverse("observations:my_observation"), body)
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert not RoundCheck.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "admission_id", ["abc", "", "6eaa486d-2a53-4cfe-a294-44950276f7d6", "\x00"]
)
def test_an_entry_naming_no_client_of_mine_is_refused_with_a_message(
    client, cast, admission, admission_id
):
    facility = admission.facility
    on_level(admission, "one_to_one", cast["clinician"])
    take(cast["technician"], admission)
    client.force_login(cast["technician"])
    body = seen_body(admission, code(facility, "location", "DAY"), code(facility, "status", "A"))
    body["admission"] = admission_id
    response = client.post(reverse("observations:my_observation"), body, follow=False)
    assert response.status_code == 400
    assert not RoundCheck.objects.exists()


@pytest.mark.django_db
def test_my_observation_query_count_does_not_grow_with_clients(client, cast, facility):
    url = reverse("observations:my_observation")
    tech = cast["technician"]
    first = admit(facility, cast["nurse"], n=1)
    on_level(first, "los", cast["clinician"])
    take(tech, first)
    client.force_login(tech)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    for n in range(2, 6):
        stay = admit(facility, cast["nurse"], n=n)
        on_level(stay, "los", cast["clinician"])
        take(tech, stay)
        client.post(url, seen_body(stay, rm, awake))
        offered = admit(facility, cast["nurse"], n=n + 5)
        on_level(offered, "los", cast["clinician"])
        handoff_offer(actor=cast["nurse"], admission=offered, to_observer=tech)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
        assert page.status_code == 200
    assert page.content.decode().count("Seen now") == 5
    assert len(many.captured_queries) == len(one.captured_queries), [
        q["sql"][:120] for q in many.captured_queries
    ]
    # 11, +1 the offers declined or withdrawn lately, +1 the stays' recent leaves (a return from
    # leave owes the next entry, as on the board).
    assert len(many.captured_queries) <= 13, [q["sql"][:90] for q in many.captured_queries]


@pytest.mark.django_db
def test_the_main_nav_links_my_observation_for_staff_who_chart(client, cast):
    link = reverse("observations:my_observation")
    client.force_login(cast["technician"])
    assert link in client.get(reverse("clients:census")).content.decode()
    client.force_login(cast["clinician"])
    assert link not in client.get(reverse("clients:census")).content.decode()


@pytest.mark.django_db
def test_a_declined_offer_tells_the_offerer_they_still_hold_the_watch(
    client, cast, admission, tech2
):
    on_level(admission, "one_to_one", cast["clinician"])
    take(cast["technician"], admission)
    offer = handoff_offer(actor=cast["technician"], admission=admission, to_observer=tech2)
    handoff_decline(actor=tech2, handoff=offer)
    client.force_login(cast["technician"])
    page = client.get(reverse("observations:my_observation")).content.decode()
    assert "Your offer to <strong>Tech Two</strong> was not taken (Declined by Tech Two." in page
    assert "you still hold this watch" in page


@pytest.mark.django_db
def test_an_offer_declined_over_two_hours_ago_is_no_longer_announced(
    client, cast, admission, tech2
):
    with time_machine.travel(timezone.now() - timedelta(hours=2, minutes=1)):
        on_level(admission, "one_to_one", cast["clinician"])
        take(cast["technician"], admission)
        offer = handoff_offer(actor=cast["technician"], admission=admission, to_observer=tech2)
        handoff_decline(actor=tech2, handoff=offer)
    client.force_login(cast["technician"])
    page = client.get(reverse("observations:my_observation")).content.decode()
    assert "was not taken" not in page and "Ashdown" in page


@pytest.mark.django_db
def test_my_observation_owes_the_first_entry_after_a_return_from_leave(client, cast, facility):
    """Back from an escorted appointment at 10:07: the next entry is due by 10:22, the board's
    rule (services.first_check_deadline), not by the end of the clock block."""
    start = datetime(2026, 5, 12, 9, 0, tzinfo=NY)
    with time_machine.travel(start - timedelta(days=1), tick=False):
        stay = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    with time_machine.travel(start, tick=False) as traveller:
        on_level(stay, "one_to_one", cast["nurse"])
        take(cast["technician"], stay)
        traveller.move_to(start + timedelta(minutes=5))
        leave = leave_start(
            actor=cast["nurse"], admission=stay, kind="appointment", left_at=timezone.now(),
            expected_back_at=start + timedelta(hours=2),
        )  # fmt: skip
        traveller.move_to(start + timedelta(minutes=67))
        leave_return(actor=cast["nurse"], leave=leave, returned_at=timezone.now())
        traveller.move_to(start + timedelta(minutes=70))
        client.force_login(cast["technician"])
        response = client.get(reverse("observations:my_observation"))
    assert response.status_code == 200, response
    page = response.content.decode()
    assert ">10:22</span>" in page
