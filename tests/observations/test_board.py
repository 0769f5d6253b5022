"""The rounds board and charting a round: fast, all-or-nothing, recorded once."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility.models import Alert, Unit
from observations.models import RoundCheck, RoundCode
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
    assert "Seen: <strong>DR · E</strong>" in page


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
    assert len(many.captured_queries) <= 18, [q["sql"][:90] for q in many.captured_queries]


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
