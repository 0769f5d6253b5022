"""The rounds board and charting a round: fast, all-or-nothing, recorded once."""

import threading
import uuid
from datetime import timedelta
from functools import partial

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility.models import Alert, Unit
from observations.models import RoundCheck, RoundCode
from observations.rounds import block_floor
from observations.services import RoundEntry, round_submit
from tests.conftest import admit


def code(facility, kind, value):
    return RoundCode.objects.get(facility=facility, kind=kind, code=value)


def round_post(rows, *, key=None, minutes_back="0", **extra):
    """POST data for a round: rows are (admission, location code obj, status code obj)."""
    data = {"submission_key": str(key or uuid.uuid4()), "minutes_back": minutes_back}
    data["include"] = [str(a.public_id) for a, _, _ in rows]
    for admission, loc, st in rows:
        data[f"loc-{admission.public_id}"] = str(loc.pk)
        data[f"st-{admission.public_id}"] = str(st.pk)
    data.update(extra)
    return data


@pytest.fixture
def unit(facility):
    return Unit.objects.get(facility=facility, name="East")


@pytest.fixture
def ward(cast, facility, unit):
    """Four clients in the East unit."""
    from facility.models import Bed

    beds = Bed.objects.filter(unit=unit).order_by("label")[:4]
    return [admit(facility, cast["nurse"], bed=bed, n=i) for i, bed in enumerate(beds)]


@pytest.mark.django_db
def test_technician_charts_a_whole_round_in_one_submit(client, cast, facility, unit, ward):
    client.force_login(cast["technician"])
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    response = client.post(
        reverse("observations:board", args=[unit.public_id]),
        round_post([(a, rm, awake) for a in ward]),
    )
    assert response.status_code == 302
    checks = RoundCheck.objects.all()
    assert checks.count() == 4
    assert {c.recorded_by for c in checks} == {cast["technician"]}
    page = client.get(response["Location"]).content.decode()
    assert "Round recorded for 4 clients." in page
    assert page.count("Done this block") == 4


@pytest.mark.django_db
def test_board_prefills_each_clients_last_location_and_status(client, cast, facility, unit, ward):
    client.force_login(cast["technician"])
    dr, eating = code(facility, "location", "DR"), code(facility, "status", "E")
    client.post(
        reverse("observations:board", args=[unit.public_id]), round_post([(ward[0], dr, eating)])
    )
    page = client.get(reverse("observations:board", args=[unit.public_id])).content.decode()
    assert f'name="loc-{ward[0].public_id}" value="{dr.pk}" checked' in page
    assert f'name="st-{ward[0].public_id}" value="{eating.pk}" checked' in page
    # The "seen" line says it in words, not codes (issue 10 item 7).
    assert "Seen: <strong data-summary>Dining room · Eating</strong>" in page


@pytest.mark.django_db
def test_the_same_round_posted_twice_is_recorded_once(client, cast, facility, unit, ward):
    client.force_login(cast["technician"])
    data = round_post(
        [(a, code(facility, "location", "RM"), code(facility, "status", "A")) for a in ward]
    )
    url = reverse("observations:board", args=[unit.public_id])
    client.post(url, data)
    again = client.post(url, data, follow=True)
    assert "This round was already recorded." in again.content.decode()
    assert RoundCheck.objects.count() == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change, message",
    [
        ("sleeping_no_resp", "sleeping needs “respirations observed”"),
        ("future", "Observed at: choose now or up to 5 minutes back."),
        ("too_far_back", "Observed at: choose now or up to 5 minutes back."),
        ("moved_back_no_reason", "Reason: say why the time was moved back."),
        ("other_facility_code", "Location: choose one in use here."),
        ("retired_code", "Status: choose one in use here."),
        ("no_status", "Status: choose one in use here."),
        ("stranger", "not admitted to this unit"),
        ("stale_key", "out of date"),
    ],
)
def test_a_bad_line_saves_nothing_of_the_round(
    client, cast, facility, other_facility, unit, ward, other_admission, change, message
):
    client.force_login(cast["technician"])
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    rows = [(a, rm, awake) for a in ward]
    extra = {}
    minutes_back = "0"
    if change == "sleeping_no_resp":
        rows[2] = (ward[2], rm, code(facility, "status", "S"))
    elif change == "future":
        minutes_back = "-3"
    elif change == "too_far_back":
        minutes_back = "9"
    elif change == "moved_back_no_reason":
        minutes_back = "4"
    elif change == "other_facility_code":
        rows[1] = (ward[1], code(other_facility, "location", "RM"), awake)
    elif change == "retired_code":
        retired = code(facility, "status", "W")
        retired.active = False
        retired.save()
        rows[1] = (ward[1], rm, retired)
    data = round_post(rows, minutes_back=minutes_back, **extra)
    if change == "no_status":
        del data[f"st-{ward[3].public_id}"]
    elif change == "stranger":
        data["include"].append(str(other_admission.public_id))
    elif change == "stale_key":
        data["submission_key"] = "not-a-key"
    response = client.post(reverse("observations:board", args=[unit.public_id]), data)
    body = response.content.decode()
    assert response.status_code == 400
    assert message in body
    assert "Nothing was saved." in body
    assert RoundCheck.objects.count() == 0
    # What was entered is still on the page.
    assert f'name="include" value="{ward[0].public_id}" checked' in body


@pytest.mark.django_db
def test_moved_back_with_a_reason_is_accepted(client, cast, facility, unit, ward):
    client.force_login(cast["technician"])
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    data = round_post([(ward[0], rm, awake)], minutes_back="4", late_reason="Charted after code")
    client.post(reverse("observations:board", args=[unit.public_id]), data)
    check = RoundCheck.objects.get()
    assert check.recorded_at - check.observed_at == timedelta(minutes=4)
    assert check.late_reason == "Charted after code"


@pytest.mark.django_db
def test_discharged_client_cannot_be_charted(cast, facility, ward):
    from clients.services import admission_discharge

    admission_discharge(
        actor=cast["nurse"], admission=ward[0], discharged_at=timezone.now(), discharge_type="ama"
    )
    ward[0].refresh_from_db()
    with pytest.raises(Exception, match="not admitted in this facility"):
        round_submit(
            actor=cast["technician"],
            facility=facility,
            submission_key=uuid.uuid4(),
            observed_at=timezone.now(),
            entries=[
                RoundEntry(ward[0], code(facility, "location", "RM"), code(facility, "status", "A"))
            ],
        )
    assert RoundCheck.objects.count() == 0


@pytest.mark.django_db
def test_self_injury_and_safety_concern_alert_at_once(client, cast, facility, unit, ward):
    client.force_login(cast["technician"])
    rm, awake, sib = (
        code(facility, "location", "RM"),
        code(facility, "status", "A"),
        code(facility, "status", "SIB"),
    )
    data = round_post([(ward[0], rm, sib), (ward[1], rm, awake)])
    data[f"safety-{ward[1].public_id}"] = "on"
    data[f"remark-{ward[1].public_id}"] = "Lighter found"
    client.post(reverse("observations:board", args=[unit.public_id]), data)
    alerts = Alert.objects.filter(kind="round_safety").order_by("message")
    assert alerts.count() == 2
    assert all(a.severity == "critical" for a in alerts)
    assert any("Lighter found" in a.message for a in alerts)


@pytest.mark.django_db
def test_other_facility_staff_get_404_and_clinicians_cannot_chart(client, cast, unit, ward):
    url = reverse("observations:board", args=[unit.public_id])
    client.force_login(cast["other_technician"])
    assert client.get(url).status_code == 404
    client.force_login(cast["clinician"])
    assert client.get(url).status_code == 200
    assert client.post(url, {"submission_key": str(uuid.uuid4())}).status_code == 403


@pytest.mark.django_db
def test_board_query_count_is_constant_in_clients_and_history(client, cast, facility, unit):
    from facility.models import Bed

    client.force_login(cast["technician"])
    url = reverse("observations:board", args=[unit.public_id])
    beds = list(Bed.objects.filter(unit=unit).order_by("label"))
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    first = admit(facility, cast["nurse"], bed=beds[0], n=0)
    round_submit(
        actor=cast["technician"],
        facility=facility,
        submission_key=uuid.uuid4(),
        observed_at=timezone.now(),
        entries=[RoundEntry(first, rm, awake)],
    )
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    ward = [admit(facility, cast["nurse"], bed=b, n=i) for i, b in enumerate(beds[1:], start=1)]
    now = timezone.now()
    RoundCheck.objects.bulk_create(
        RoundCheck(
            admission=a,
            observed_at=now - timedelta(minutes=15 * k),
            recorded_at=now - timedelta(minutes=15 * k),
            recorded_by=cast["technician"],
            location=rm,
            status=awake,
            submission_key=uuid.uuid4(),
        )
        for a in ward
        for k in range(1, 40)
    )
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    # session, user, facilities, permissions, units, codes, 3 for the stays (clients and
    # leaves apart), levels, last checks, vitals, withdrawal, alerts
    assert len(many.captured_queries) <= 14, [q["sql"][:90] for q in many.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_two_technicians_charting_one_client_at_once_both_kept(cast, facility, ward):
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    barrier = threading.Barrier(2)
    results = []

    def tech(user):
        try:
            barrier.wait()
            results.append(
                round_submit(
                    actor=user,
                    facility=facility,
                    submission_key=uuid.uuid4(),
                    observed_at=timezone.now(),
                    entries=[RoundEntry(ward[0], rm, awake)],
                )
            )
        finally:
            close_old_connections()

    from tests.conftest import make_user

    second = make_user("tech_two", "technician", facility)
    threads = [threading.Thread(target=tech, args=(u,)) for u in (cast["technician"], second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [(1, False), (1, False)]
    assert RoundCheck.objects.filter(admission=ward[0]).count() == 2


@pytest.mark.django_db
def test_a_check_moved_back_into_a_missed_block_closes_its_alert(cast, facility, ward):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    from observations.services import scan_missed_checks

    ny = ZoneInfo("America/New_York")
    stay = ward[0]
    with time_machine.travel(datetime(2026, 11, 20, 7, 0, tzinfo=ny), tick=False) as traveller:
        stay.admitted_at = datetime(2026, 11, 20, 6, 50, tzinfo=ny)
        stay.save(update_fields=["admitted_at"])
        scan_missed_checks()  # the first scan starts the clock
        traveller.move_to(datetime(2026, 11, 20, 7, 15, 30, tzinfo=ny))
        scan_missed_checks()
        alert = Alert.objects.get(
            kind="missed_check",
            client_public_id=stay.client.public_id,
            message__contains="07:00 block",
        )
        traveller.move_to(datetime(2026, 11, 20, 7, 17, tzinfo=ny))
        round_submit(
            actor=cast["technician"], facility=facility, submission_key=uuid.uuid4(),
            observed_at=datetime(2026, 11, 20, 7, 14, tzinfo=ny), late_reason="Charted late",
            entries=[RoundEntry(stay, code(facility, "location", "RM"),
                                code(facility, "status", "A"))],
        )  # fmt: skip
    alert.refresh_from_db()
    assert alert.resolved_at is not None and "late entry" in alert.resolution_note


@pytest.mark.django_db
def test_round_submit_query_count_is_constant_in_clients(client, cast, facility, unit, ward):
    """DESIGN.md §6: a whole-unit round is one submit whose cost does not grow per client (a
    per-client facility lookup once made a 30-client round 48 queries)."""
    client.force_login(cast["technician"])
    url = reverse("observations:board", args=[unit.public_id])
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.post(url, round_post([(ward[0], rm, awake)])).status_code == 302
    RoundCheck.objects.all().delete()
    with CaptureQueriesContext(connection) as four:
        response = client.post(url, round_post([(a, rm, awake) for a in ward]))
        assert response.status_code == 302
    assert RoundCheck.objects.count() == 4
    assert len(four.captured_queries) == len(one.captured_queries), [
        q["sql"][:90] for q in four.captured_queries
    ]


# ---------------------------------------------------------------- issue 10: each client's own time


def ms(moment) -> str:
    """A moment as the board's script posts it: epoch milliseconds."""
    return str(int(moment.timestamp() * 1000))


@pytest.mark.django_db
def test_each_client_is_recorded_at_the_moment_they_were_tapped(client, cast, facility, unit, ward):
    client.force_login(cast["technician"])
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    now = timezone.now().replace(microsecond=0)
    taps = {ward[0]: now - timedelta(minutes=4), ward[1]: now - timedelta(seconds=40)}
    data = round_post([(a, rm, awake) for a in ward[:3]])
    for admission, tapped in taps.items():
        data[f"seen-{admission.public_id}"] = ms(tapped)
    response = client.post(reverse("observations:board", args=[unit.public_id]), data)
    assert response.status_code == 302
    checks = {c.admission_id: c for c in RoundCheck.objects.all()}
    for admission, tapped in taps.items():
        assert checks[admission.pk].observed_at == tapped
        assert checks[admission.pk].late_reason == ""
    # Without a tapped time (no JavaScript) the round's time is the client's.
    third = checks[ward[2].pk]
    assert third.observed_at == third.recorded_at
    # The same post again (a retry carries the same taps) is recorded once.
    again = client.post(reverse("observations:board", args=[unit.public_id]), data, follow=True)
    assert "This round was already recorded." in again.content.decode()
    assert RoundCheck.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    "offset, accepted",
    [
        (timedelta(minutes=-5), True),  # exactly 5 minutes before the submit
        (timedelta(minutes=-5, seconds=-1), False),
        (timedelta(seconds=25), True),  # a tablet clock a little ahead: within the slack
        (timedelta(seconds=31), False),
    ],
)
def test_a_tapped_time_is_taken_if_not_future_and_at_most_5_minutes_old(
    cast, facility, ward, offset, accepted
):
    now = timezone.now()
    entry = RoundEntry(
        ward[1], code(facility, "location", "RM"), code(facility, "status", "A"),
        observed_at=now + offset,
    )  # fmt: skip
    submit = partial(
        round_submit, actor=cast["technician"], facility=facility,
        submission_key=uuid.uuid4(), entries=[entry], now=now,
    )  # fmt: skip
    if accepted:
        assert submit() == (1, False)
        check = RoundCheck.objects.get()
        # Never after the server's own time (the database refuses observed > recorded).
        assert check.observed_at == min(now + offset, now)
    else:
        with pytest.raises(ValidationError) as refused:
            submit()
        assert ward[1].client.initials in refused.value.messages[0]
        assert "tap Seen again" in refused.value.messages[0]
        assert RoundCheck.objects.count() == 0


@pytest.mark.django_db
def test_a_stale_tap_is_refused_naming_the_client_and_nothing_is_saved(
    client, cast, facility, unit, ward
):
    client.force_login(cast["technician"])
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    data = round_post([(a, rm, awake) for a in ward])
    data[f"seen-{ward[2].public_id}"] = ms(timezone.now() - timedelta(minutes=7))
    response = client.post(reverse("observations:board", args=[unit.public_id]), data)
    body = response.content.decode()
    assert response.status_code == 400
    assert f"{ward[2].client.initials}: seen at" in body
    assert "more than 5 minutes before this round was sent; tap Seen again." in body
    assert RoundCheck.objects.count() == 0


@pytest.mark.django_db
def test_moving_the_round_back_moves_every_client_with_it(client, cast, facility, unit, ward):
    client.force_login(cast["technician"])
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    data = round_post([(ward[0], rm, awake)], minutes_back="3", late_reason="After the code")
    data[f"seen-{ward[0].public_id}"] = ms(timezone.now())
    client.post(reverse("observations:board", args=[unit.public_id]), data)
    check = RoundCheck.objects.get()
    assert check.recorded_at - check.observed_at == timedelta(minutes=3)
    assert check.late_reason == "After the code"


@pytest.mark.django_db
def test_the_same_key_with_other_tapped_times_is_a_different_round(cast, facility, ward):
    now = timezone.now()
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    key = uuid.uuid4()

    def post(tapped):
        return round_submit(
            actor=cast["technician"], facility=facility, submission_key=key, now=now,
            entries=[RoundEntry(ward[0], rm, awake, observed_at=tapped)],
        )  # fmt: skip

    assert post(now - timedelta(minutes=1)) == (1, False)
    assert post(now - timedelta(minutes=1)) == (0, True)
    with pytest.raises(ValidationError, match="already used to record a different round"):
        post(now - timedelta(minutes=2))
    assert RoundCheck.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "9" * 40,
        "1e12",
        "-5",
        "12\x0034",
        "\u202e123",
        "99999999999999999",
        "9999999999999999",
        " ",
    ],
)
def test_a_garbled_tapped_time_gets_a_message_never_a_500(
    client, cast, facility, unit, ward, value
):
    client.force_login(cast["technician"])
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    data = round_post([(ward[0], rm, awake)])
    data[f"seen-{ward[0].public_id}"] = value
    response = client.post(reverse("observations:board", args=[unit.public_id]), data)
    body = response.content.decode()
    if value.strip():
        assert response.status_code == 400
        assert "the time seen was not understood; tap Seen again." in body
        assert RoundCheck.objects.count() == 0
    else:  # blank: as without JavaScript, the round's time
        assert response.status_code == 302
        assert RoundCheck.objects.count() == 1


# ---------------------------------------------------------------- sleeping is never pre-filled


@pytest.mark.django_db
def test_sleeping_is_never_prefilled_and_breathing_needs_a_fresh_tap(
    client, cast, facility, unit, ward
):
    client.force_login(cast["technician"])
    rm, asleep = code(facility, "location", "RM"), code(facility, "status", "S")
    url = reverse("observations:board", args=[unit.public_id])
    data = round_post([(ward[0], rm, asleep)])
    data[f"resp-{ward[0].public_id}"] = "on"
    assert client.post(url, data).status_code == 302
    page = client.get(url).content.decode()
    pid = ward[0].public_id
    assert f'name="loc-{pid}" value="{rm.pk}" checked' in page
    assert f'name="st-{pid}" value="{asleep.pk}" checked' not in page
    assert f'name="st-{pid}" value="{asleep.pk}" data-needs-resp data-label' in page
    assert f'name="resp-{pid}" data-resp>' in page  # not checked
    assert "Seen: <strong data-summary>Own room · choose status</strong>" in page
    assert "(was Sleeping: tap status)" in page
    # A "seen" tap alone is refused: a status (and breathing seen) must be tapped afresh.
    retry = {"submission_key": str(uuid.uuid4()), "minutes_back": "0", "include": [str(pid)],
             f"loc-{pid}": str(rm.pk)}  # fmt: skip
    response = client.post(url, retry)
    assert response.status_code == 400
    assert "Status: choose one in use here." in response.content.decode()
    assert RoundCheck.objects.count() == 1


# ---------------------------------------------------------------- continuous levels


@pytest.fixture
def one_to_one(cast, facility, ward):
    """ward[0] on 1:1, watched by a second technician; ward[1] on line of sight, unwatched."""
    from observations.models import ObserverAssignment
    from observations.services import level_order
    from tests.conftest import make_user

    observer = make_user("watcher", "technician", facility)
    observer.full_name = "Wanda Watcher"
    observer.save(update_fields=["full_name"])
    for admission, level in ((ward[0], "one_to_one"), (ward[1], "los")):
        level_order(actor=cast["clinician"], admission=admission, level=level, reason="Risk")
    ObserverAssignment.objects.filter(admission__in=ward[:2], ended_at__isnull=True).update(
        ended_at=timezone.now()
    )
    ObserverAssignment.objects.create(
        admission=ward[0], observer=observer, started_at=timezone.now(),
        assigned_by=cast["nurse"], exclusive=True,
    )  # fmt: skip
    return observer


@pytest.mark.django_db
def test_continuous_clients_leave_the_bulk_round_and_show_their_observer(
    client, cast, unit, ward, one_to_one
):
    client.force_login(cast["technician"])
    page = client.get(reverse("observations:board", args=[unit.public_id])).content.decode()
    assert "Observer: <strong>Wanda Watcher</strong>" in page
    assert '<strong class="no-observer">No observer</strong>' in page
    for admission in ward[:2]:
        assert f'value="{admission.public_id}"' not in page  # no "seen" tap for them
        assert f'name="st-{admission.public_id}"' not in page
    assert f'name="include" value="{ward[2].public_id}"' in page
    assert "<strong>1:1</strong>" in page and "<strong>Line of sight</strong>" in page


@pytest.mark.django_db
def test_only_the_observer_charts_a_continuous_client(cast, facility, ward, one_to_one):
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")

    def chart(actor, admission):
        return round_submit(
            actor=actor, facility=facility, submission_key=uuid.uuid4(),
            entries=[RoundEntry(admission, rm, awake)],
        )  # fmt: skip

    initials = ward[0].client.initials
    with pytest.raises(ValidationError) as refused:
        chart(cast["technician"], ward[0])
    assert refused.value.messages == [f"{initials}: on 1:1 – charted by Wanda Watcher on My 1:1."]
    with pytest.raises(ValidationError, match="on Line of sight with no observer"):
        chart(cast["technician"], ward[1])
    assert RoundCheck.objects.count() == 0
    assert chart(one_to_one, ward[0]) == (1, False)
    assert RoundCheck.objects.get().source == "observer"
    assert chart(cast["technician"], ward[2]) == (1, False)
    assert RoundCheck.objects.get(admission=ward[2]).source == "round"


# ---------------------------------------------------------------- first check owed from an event


@pytest.mark.django_db
def test_a_raise_owes_its_first_check_within_the_interval_whatever_the_clock_block(
    client, cast, facility, unit, ward
):
    """Raised to q15 at 07:16 right after a check at 07:15:30: the 07:15 block holds a check,
    but the raise owes one by 07:31 (issue 10 item 1) and it is missed after that."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    from observations.services import level_order

    ny = ZoneInfo("America/New_York")
    stay = ward[0]
    stay.admitted_at = datetime(2026, 11, 16, 9, 0, tzinfo=ny)
    stay.save(update_fields=["admitted_at"])
    client.force_login(cast["technician"])
    url = reverse("observations:board", args=[unit.public_id])
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")

    def state():
        page = client.get(url).content.decode()
        start = page.index(f'id="state-{stay.public_id}">') + len(f'id="state-{stay.public_id}">')
        return page[start : page.index("</span>", start)]

    with time_machine.travel(datetime(2026, 11, 20, 7, 15, 30, tzinfo=ny), tick=False) as t:
        round_submit(actor=cast["technician"], facility=facility, submission_key=uuid.uuid4(),
                     entries=[RoundEntry(stay, rm, awake)])  # fmt: skip
        t.move_to(datetime(2026, 11, 20, 7, 16, tzinfo=ny))
        level_order(actor=cast["clinician"], admission=stay, level="q15", reason="Statement")
        t.move_to(datetime(2026, 11, 20, 7, 20, tzinfo=ny))
        assert state() == "Due by 07:31"
        t.move_to(datetime(2026, 11, 20, 7, 29, tzinfo=ny))
        assert state() == "Due by 07:31"  # the last 3 minutes are "due soon", still by 07:31
        assert (
            f'class="state-tag tone-due_soon" id="state-{stay.public_id}"'
            in client.get(url).content.decode()
        )
        t.move_to(datetime(2026, 11, 20, 7, 31, tzinfo=ny))
        assert state() == "Missed"
        round_submit(actor=cast["technician"], facility=facility, submission_key=uuid.uuid4(),
                     entries=[RoundEntry(stay, rm, awake)])  # fmt: skip
        assert state() == "Done this block"  # clock blocks apply from then on


@pytest.mark.django_db
def test_a_return_from_leave_and_an_admission_owe_a_first_check(client, cast, facility, unit, ward):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    from clients.models import Leave

    ny = ZoneInfo("America/New_York")
    back, new = ward[0], ward[1]
    client.force_login(cast["technician"])
    url = reverse("observations:board", args=[unit.public_id])
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    back.admitted_at = datetime(2026, 11, 10, 9, 0, tzinfo=ny)  # on q60 by now
    back.save(update_fields=["admitted_at"])
    new.admitted_at = datetime(2026, 11, 20, 7, 10, tzinfo=ny)  # q15 for the first 72 hours
    new.save(update_fields=["admitted_at"])
    with time_machine.travel(datetime(2026, 11, 20, 7, 2, tzinfo=ny), tick=False) as t:
        round_submit(actor=cast["technician"], facility=facility, submission_key=uuid.uuid4(),
                     entries=[RoundEntry(back, rm, awake)])  # fmt: skip
        Leave.objects.create(
            admission=back, kind="appointment", recorded_by=cast["nurse"],
            left_at=datetime(2026, 11, 20, 7, 3, tzinfo=ny),
            expected_back_at=datetime(2026, 11, 20, 7, 30, tzinfo=ny),
            returned_at=datetime(2026, 11, 20, 7, 13, tzinfo=ny),
        )  # fmt: skip
        t.move_to(datetime(2026, 11, 20, 7, 20, tzinfo=ny))
        page = client.get(url).content.decode()
        # The 07:00 q60 block holds the 07:02 check, but the return at 07:13 owes one by 08:13.
        assert f'id="state-{back.public_id}">Due by 08:13<' in page
        assert f'id="state-{new.public_id}">Due by 07:25<' in page
        t.move_to(datetime(2026, 11, 20, 7, 26, tzinfo=ny))
        assert f'id="state-{new.public_id}">Missed<' in client.get(url).content.decode()


@pytest.mark.django_db
def test_a_first_check_due_across_the_fall_back_hour_reads_in_local_time(
    client, cast, facility, unit, ward
):
    """2026-11-01, New York: a raise at 01:50 EDT is due 15 minutes later, at 01:05 EST."""
    from datetime import UTC, datetime

    import time_machine

    from observations.services import level_order

    stay = ward[0]
    stay.admitted_at = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
    stay.save(update_fields=["admitted_at"])
    client.force_login(cast["technician"])
    url = reverse("observations:board", args=[unit.public_id])
    first_0150 = datetime(2026, 11, 1, 5, 50, tzinfo=UTC)  # 01:50 EDT
    with time_machine.travel(first_0150, tick=False) as t:
        level_order(actor=cast["clinician"], admission=stay, level="q15", reason="Statement")
        t.move_to(first_0150 + timedelta(minutes=5))
        assert f'id="state-{stay.public_id}">Due by 01:05<' in client.get(url).content.decode()
        t.move_to(first_0150 + timedelta(minutes=15))  # 01:05 EST
        assert f'id="state-{stay.public_id}">Missed<' in client.get(url).content.decode()


# ---------------------------------------------------------------- compact board, unit alerts


@pytest.mark.django_db
def test_board_explains_codes_and_names_levels_by_their_labels(client, cast, unit, ward):
    client.force_login(cast["technician"])
    page = client.get(reverse("observations:board", args=[unit.public_id])).content.decode()
    assert "<summary>What the codes mean</summary>" in page
    assert "<dt>DAY</dt><dd>Day room</dd>" in page
    assert "<dt>S</dt><dd>Sleeping (breathing seen)</dd>" in page
    assert "<strong>q15 Close</strong>" in page  # new admissions are on q15 for 72 hours
    assert "Q15" not in page


@pytest.mark.django_db
def test_a_technician_sees_and_opens_the_units_alerts(
    client, cast, facility, unit, ward, other_admission
):
    from facility.models import Bed
    from facility.services import alert_raise

    west = Unit.objects.get(facility=facility, name="West")
    elsewhere = admit(facility, cast["nurse"], bed=Bed.objects.filter(unit=west).first(), n=9)
    board_path = reverse("observations:board", args=[unit.public_id])
    for admission, link, message in (
        (ward[0], board_path, "Missed check: Test0, 07:00 block (q15)."),
        (ward[1], "", "Test1 is on 1:1 with no assigned observer."),
        (ward[2], "https://evil.example/phish", "Test2: leave overdue."),
        (elsewhere, "", "West client alert."),
        (other_admission, "", "Other facility alert."),
    ):
        alert_raise(
            facility=admission.facility, kind="test", severity="critical", message=message,
            dedupe_key=f"test:{admission.public_id}", client_public_id=admission.client.public_id,
            link=link,
        )  # fmt: skip
    client.force_login(cast["technician"])
    page = client.get(board_path).content.decode()
    assert "all 3 on the Alerts page" in page
    assert f'<a href="{board_path}">Missed check: Test0, 07:00 block (q15).</a>' in page
    chart = reverse("clients:chart", args=[ward[1].client.public_id])
    assert f'<a href="{chart}">Test1 is on 1:1 with no assigned observer.</a>' in page
    # A link that leaves Haven is never followed: the chart is where the alert is acted on.
    assert "evil.example" not in page
    assert reverse("clients:chart", args=[ward[2].client.public_id]) in page
    assert "West client alert." not in page and "Other facility alert." not in page
    assert client.get(chart).status_code == 200  # the technician opens it
    # The live part brings the alerts along with the states.
    status = client.get(reverse("observations:board_status", args=[unit.public_id]))
    assert 'id="unit-alerts" class="unit-alerts" hx-swap-oob="true"' in status.content.decode()
    assert "Test1 is on 1:1 with no assigned observer." in status.content.decode()


@pytest.mark.django_db
def test_the_boards_unit_alerts_follow_each_alerts_audience_like_the_alerts_page(
    client, cast, facility, unit, ward
):
    from facility.services import alert_raise

    for admission, audience, message in (
        (ward[0], "", "Floor alert for everyone."),
        (ward[1], "nurse", "Risk flags: ask the nurse."),
        (ward[2], "clinician,supervisor", "Clinician review needed."),
    ):
        alert_raise(
            facility=facility, kind="test", severity="warning", message=message,
            dedupe_key=f"aud:{admission.public_id}", client_public_id=admission.client.public_id,
            audience=audience,
        )  # fmt: skip
    board_path = reverse("observations:board", args=[unit.public_id])
    status_path = reverse("observations:board_status", args=[unit.public_id])
    seen = {
        "technician": {"Floor alert for everyone."},
        "nurse": {"Floor alert for everyone.", "Risk flags: ask the nurse."},
        "supervisor": {"Floor alert for everyone.", "Risk flags: ask the nurse.",
                       "Clinician review needed."},
    }  # fmt: skip
    every = {"Floor alert for everyone.", "Risk flags: ask the nurse.", "Clinician review needed."}
    for role, expected in seen.items():
        client.force_login(cast[role])
        for path in (board_path, status_path):
            page = client.get(path).content.decode()
            assert {m for m in every if m in page} == expected, (role, path)
            alerts_page = client.get(reverse("alerts")).content.decode()
            assert {m for m in every if m in alerts_page} == expected, role


@pytest.mark.django_db
def test_board_live_part_keeps_x_min_ago_and_state_fresh(client, cast, facility, unit, ward):
    rm, awake = code(facility, "location", "RM"), code(facility, "status", "A")
    # Seven minutes into the next block, so "2 min ago" lies in the same block at any hour.
    block = block_floor(timezone.localtime(timezone.now(), facility.tz), 15)
    moment = block + timedelta(minutes=22)
    seen = moment - timedelta(minutes=2)
    with time_machine.travel(moment, tick=False):
        round_submit(actor=cast["technician"], facility=facility, submission_key=uuid.uuid4(),
                     entries=[RoundEntry(ward[0], rm, awake, observed_at=seen)])  # fmt: skip
        client.force_login(cast["technician"])
        body = client.get(reverse("observations:board_status", args=[unit.public_id])).content
    body = body.decode()
    since = ms(RoundCheck.objects.get().observed_at)
    assert (
        f'<span id="since-{ward[0].public_id}" data-since="{since}"'
        ' hx-swap-oob="true">2 min ago</span>'
    ) in body
    assert f'id="state-{ward[0].public_id}" hx-swap-oob="true">Done this block' in body


@pytest.mark.django_db
def test_board_pages_refuse_strangers(client, cast, unit):
    url = reverse("observations:board", args=[unit.public_id])
    status_url = reverse("observations:board_status", args=[unit.public_id])
    for path in (url, status_url):
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(cast["other_nurse"])
    assert client.get(status_url).status_code == 404
    client.force_login(cast["admin"])
    assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_one_clients_missed_checks_are_one_line_on_the_board(client, cast, unit, ward):
    """Three missed blocks of one client do not push the board down three lines (UI review)."""
    from facility.services import alert_raise

    for n, severity in ((1, "warning"), (2, "critical"), (3, "warning")):
        alert_raise(
            facility=unit.facility, kind="missed_check", severity=severity,
            message=f"Missed check {n}", dedupe_key=f"missed:test:{n}",
            client_public_id=ward[0].client.public_id,
        )  # fmt: skip
    client.force_login(cast["technician"])
    page = client.get(reverse("observations:board", args=[unit.public_id])).content.decode()
    assert f"{ward[0].client.display_name}: 3 missed checks open" in page
    assert "Missed check 1" not in page and "Missed check 2" not in page
    assert 'class="sev-critical"' in page


@pytest.mark.django_db
def test_the_board_and_the_chart_link_each_clients_observation_sheet(client, cast, unit, ward):
    client.force_login(cast["technician"])
    sheet = reverse("observations:observation_sheet", args=[ward[0].public_id])
    board = client.get(reverse("observations:board", args=[unit.public_id])).content.decode()
    assert f'href="{sheet}"' in board
    chart = client.get(reverse("clients:chart", args=[ward[0].client.public_id])).content.decode()
    assert f'href="{sheet}"' in chart
    assert client.get(sheet).status_code == 200
