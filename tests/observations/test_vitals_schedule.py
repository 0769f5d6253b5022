"""When vitals are owed (observations.vitals), the schedule a nurse or clinician orders, due and
overdue on the census, and the overdue scan that alerts and closes (issue 11 item 3)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.services import leave_return, leave_start
from facility.models import Alert
from observations.models import VitalsSchedule
from observations.services import (
    scan_vitals_overdue,
    vitals_record,
    vitals_schedule_set,
    vitals_status,
)
from observations.vitals import every_text, overdue_at, vitals_due, vitals_state
from tests.conftest import admit, form_time

NY = ZoneInfo("America/New_York")


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


H = 60
# (last set, every, since, leaves, expected due) — local New York times.
DUE_CASES = [
    ("first set after admission", None, 4 * H, ny(2026, 3, 2, 9), [], ny(2026, 3, 2, 13)),
    ("after the last set", ny(2026, 3, 2, 10), 4 * H, ny(2026, 3, 2, 9), [], ny(2026, 3, 2, 14)),
    (
        "tightened: the old set counts, one new interval on",
        ny(2026, 3, 2, 9, 30), 4 * H, ny(2026, 3, 2, 10), [], ny(2026, 3, 2, 13, 30),
    ),
    (
        "tightened past the interval: owed at once",
        ny(2026, 3, 2, 5), 1 * H, ny(2026, 3, 2, 10), [], ny(2026, 3, 2, 10),
    ),
    (
        "loosened: never later than one interval after the start",
        ny(2026, 3, 2, 9), 24 * H, ny(2026, 3, 2, 10), [], ny(2026, 3, 3, 9),
    ),
    (
        "owed during a leave: owed on return",
        ny(2026, 3, 2, 8), 4 * H, ny(2026, 3, 2, 7),
        [(ny(2026, 3, 2, 11), ny(2026, 3, 2, 15))], ny(2026, 3, 2, 15),
    ),
    (
        "a leave before the set was owed changes nothing",
        ny(2026, 3, 2, 8), 4 * H, ny(2026, 3, 2, 7),
        [(ny(2026, 3, 2, 9), ny(2026, 3, 2, 10))], ny(2026, 3, 2, 12),
    ),
    # DST: 2026-03-08 02:00 → 03:00 in New York. Intervals are real hours.
    ("spring forward: 4 real hours", ny(2026, 3, 8, 0), 4 * H, ny(2026, 3, 7, 9), [],
     ny(2026, 3, 8, 5)),
    # 2026-11-01 02:00 → 01:00: 01:30 EDT + 1 h is 01:30 EST.
    ("fall back: 1 real hour", datetime(2026, 11, 1, 5, 30, tzinfo=UTC), 1 * H,
     ny(2026, 10, 31, 9), [], datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),
]  # fmt: skip


@pytest.mark.parametrize("case, last, every, since, leaves, due", DUE_CASES)
def test_when_the_next_set_is_owed(case, last, every, since, leaves, due):
    got = vitals_due(last_taken_at=last, every_minutes=every, since=since, leaves=leaves)
    assert got == due, case


def test_the_fall_back_due_time_reads_in_local_time():
    due = vitals_due(
        last_taken_at=datetime(2026, 11, 1, 5, 30, tzinfo=UTC), every_minutes=60,
        since=ny(2026, 10, 31, 9),
    )  # fmt: skip
    local = due.astimezone(NY)
    assert (local.hour, local.minute, local.utcoffset()) == (1, 30, timedelta(hours=-5))


DUE_AT = ny(2026, 3, 2, 14)
STATE_CASES = [
    (4 * H, DUE_AT - timedelta(minutes=31), "ok"),
    (4 * H, DUE_AT - timedelta(minutes=30), "due_soon"),
    (4 * H, DUE_AT - timedelta(seconds=1), "due_soon"),
    (4 * H, DUE_AT, "due"),
    (4 * H, DUE_AT + timedelta(minutes=29), "due"),
    (4 * H, DUE_AT + timedelta(minutes=30), "overdue"),
    # An hourly schedule: the windows are a quarter of the interval.
    (1 * H, DUE_AT - timedelta(minutes=16), "ok"),
    (1 * H, DUE_AT - timedelta(minutes=15), "due_soon"),
    (1 * H, DUE_AT + timedelta(minutes=14), "due"),
    (1 * H, DUE_AT + timedelta(minutes=15), "overdue"),
]


@pytest.mark.parametrize("every, now, state", STATE_CASES)
def test_one_rule_names_the_state(every, now, state):
    assert vitals_state(now=now, due_at=DUE_AT, every_minutes=every) == state


def test_overdue_at_and_words():
    assert overdue_at(DUE_AT, 240) == DUE_AT + timedelta(minutes=30)
    assert [every_text(m) for m in (1440, 240, 90)] == ["daily", "every 4 h", "every 90 min"]
    with pytest.raises(ValueError):
        vitals_state(now=DUE_AT.replace(tzinfo=None), due_at=DUE_AT, every_minutes=60)


# ---------------------------------------------------------------- the schedule


@pytest.mark.django_db
def test_a_nurse_sets_the_schedule_from_the_chart(client, cast, facility, admission):
    client.force_login(cast["nurse"])
    chart = client.get(reverse("clients:chart", args=[admission.client.public_id])).content
    target = reverse("observations:vitals_schedule", args=[admission.public_id])
    assert target.encode() in chart
    assert reverse("observations:vitals_record", args=[admission.public_id]).encode() in chart
    response = client.post(target, {"every_minutes": "240", "reason": "CIWA-Ar protocol",
                                    "spo2_scale2": "on"})  # fmt: skip
    assert response.status_code == 302
    schedule = VitalsSchedule.objects.get()
    assert (schedule.every_minutes, schedule.spo2_scale2, schedule.ordered_by) == (
        240, True, cast["nurse"],
    )  # fmt: skip
    page = client.get(target).content.decode()
    assert "Now: <strong>every 4 h</strong>" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, message",
    [
        ({"every_minutes": "240", "reason": ""}, "Reason: say why"),
        ({"every_minutes": "7", "reason": "x"}, "Every: choose from the list."),
        ({"every_minutes": "240", "reason": "x", "effective_from": "9999-12-31T23:59"},
         "enter a date between"),
    ],
)  # fmt: skip
def test_a_bad_schedule_is_refused_with_the_field(client, cast, admission, data, message):
    client.force_login(cast["clinician"])
    target = reverse("observations:vitals_schedule", args=[admission.public_id])
    response = client.post(target, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not VitalsSchedule.objects.exists()


@pytest.mark.django_db
def test_who_may_set_the_schedule(client, cast, admission):
    target = reverse("observations:vitals_schedule", args=[admission.public_id])
    assert client.get(target).status_code == 302
    for role, status in [("technician", 403), ("supervisor", 403), ("other_nurse", 404)]:
        client.force_login(cast[role])
        assert client.post(target, {"every_minutes": "60", "reason": "x"}).status_code == status
    with pytest.raises(PermissionDenied):
        vitals_schedule_set(actor=cast["technician"], admission=admission, every_minutes=60,
                            spo2_scale2=False, pregnant=False, reason="x")  # fmt: skip
    with pytest.raises(ValidationError):
        vitals_schedule_set(actor=cast["nurse"], admission=admission, every_minutes=5,
                            spo2_scale2=False, pregnant=False, reason="x")  # fmt: skip
    assert not VitalsSchedule.objects.exists()


# ---------------------------------------------------------------- scan and census


def hourly(cast, admission, start):
    return VitalsSchedule.objects.create(
        admission=admission, every_minutes=60, reason="Protocol", effective_from=start,
        ordered_by=cast["nurse"],
    )  # fmt: skip


@pytest.mark.django_db
def test_an_overdue_set_alerts_once_and_recording_closes_it(cast, facility):
    now = timezone.now()
    a = admit(facility, cast["nurse"], n=1, admitted_at=now - timedelta(hours=3))
    hourly(cast, a, now - timedelta(hours=2))
    vitals_record(actor=cast["nurse"], admission=a, taken_at=now - timedelta(minutes=14),
                  values={"hr": 80})  # fmt: skip
    # Owed 46 minutes from now, overdue 15 minutes after that.
    assert scan_vitals_overdue(now=now) == 0
    later = now + timedelta(minutes=61)
    assert vitals_status([a], later)[a.pk].state == "overdue"
    assert scan_vitals_overdue(now=later) == 1
    assert scan_vitals_overdue(now=later + timedelta(minutes=1)) == 0  # one per owed set
    alert = Alert.objects.get(kind="vitals_overdue")
    assert "vitals overdue" in alert.message and alert.client_public_id == a.client.public_id
    assert alert.link == reverse("observations:vitals_record", args=[a.public_id])
    with time_machine.travel(later + timedelta(minutes=2), tick=False):
        vitals_record(actor=cast["technician"], admission=a, taken_at=timezone.now(),
                      values={"hr": 82, "rr": 16})  # fmt: skip
    alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.resolved_by == cast["technician"]
    assert "Vitals recorded" in alert.resolution_note


@pytest.mark.django_db
def test_a_weight_alone_does_not_answer_the_schedule(cast, facility):
    now = timezone.now()
    a = admit(facility, cast["nurse"], n=1, admitted_at=now - timedelta(hours=3))
    hourly(cast, a, now - timedelta(hours=3))
    assert scan_vitals_overdue(now=now) == 1
    vitals_record(actor=cast["nurse"], admission=a, taken_at=now, values={"weight_kg": "70.5"})
    assert Alert.objects.get(kind="vitals_overdue").resolved_at is None
    assert vitals_status([a], now)[a.pk].state == "overdue"


@pytest.mark.django_db
def test_a_client_on_leave_is_skipped_and_owes_the_set_on_return(cast, facility):
    now = timezone.now()
    a = admit(facility, cast["nurse"], n=1, admitted_at=now - timedelta(hours=3))
    hourly(cast, a, now - timedelta(hours=3))
    vitals_record(actor=cast["nurse"], admission=a, taken_at=now - timedelta(minutes=5),
                  values={"hr": 80})  # fmt: skip
    leave = leave_start(actor=cast["nurse"], admission=a, kind="appointment", left_at=now,
                        expected_back_at=now + timedelta(hours=4))  # fmt: skip
    assert vitals_status([a], now + timedelta(hours=2))[a.pk].state == "off_site"
    assert scan_vitals_overdue(now=now + timedelta(hours=2)) == 0
    back = now + timedelta(hours=3)
    with time_machine.travel(back, tick=False):
        leave_return(actor=cast["nurse"], leave=leave, returned_at=back)
    status = vitals_status([a], back + timedelta(minutes=1))[a.pk]
    assert (status.state, status.due_at) == ("due", back)
    assert scan_vitals_overdue(now=back + timedelta(minutes=1)) == 0
    assert scan_vitals_overdue(now=back + timedelta(minutes=16)) == 1


@pytest.mark.django_db
def test_the_census_shows_vitals_due_and_overdue_in_few_queries(client, cast, facility):
    now = timezone.now()
    late = admit(facility, cast["nurse"], n=1, admitted_at=now - timedelta(hours=26))
    client.force_login(cast["nurse"])
    census = reverse("clients:census")
    client.get(census)
    with CaptureQueriesContext(connection) as few:
        page = client.get(census).content.decode()
    assert "Vitals" in page and "overdue since" in page
    assert reverse("observations:vitals_record", args=[late.public_id]) in page
    for n in range(2, 6):
        b = admit(facility, cast["nurse"], n=n)
        hourly(cast, b, now - timedelta(minutes=50))
        vitals_record(actor=cast["nurse"], admission=b, taken_at=now, values={"hr": 70})
    with CaptureQueriesContext(connection) as many:
        page = client.get(census).content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
    assert page.count("next ") >= 4


@pytest.mark.django_db
def test_the_scan_is_scheduled_every_minute():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["vitals-overdue"]
    assert entry["task"] == "observations.tasks.scan_vitals_overdue"
    from observations.tasks import scan_vitals_overdue as task

    assert task.run() == 0


@pytest.mark.django_db
def test_the_schedule_form_takes_a_start_time(client, cast, facility, admission):
    client.force_login(cast["nurse"])
    start = timezone.now() + timedelta(hours=1)
    target = reverse("observations:vitals_schedule", args=[admission.public_id])
    client.post(target, {"every_minutes": "1440", "reason": "Stable",
                         "effective_from": form_time(start, facility)})  # fmt: skip
    schedule = VitalsSchedule.objects.get()
    assert abs(schedule.effective_from - start) < timedelta(minutes=1)
