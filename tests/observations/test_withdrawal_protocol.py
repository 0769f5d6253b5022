"""Withdrawal protocols (issue 11 item 5): when the next score is owed (CIWA-Ar 12 → 1 hour,
5 → 4 hours), elapsed hours across DST, leaves, the overdue scan and its alert, and scoring
answering it; the latest score for other apps (the MAR's score-triggered PRN)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from facility.models import Alert
from facility.registry import readings
from observations import withdrawal as rules
from observations.services import (
    assessment_strike,
    protocol_end,
    protocol_statuses,
    scan_reassessments_overdue,
)
from tests.observations.withdrawal_helpers import score, start

NY = ZoneInfo("America/New_York")


@pytest.fixture
def admission(cast, facility):
    """Admitted eight hours ago: protocols and scores reach back a few hours."""
    from tests.conftest import admit

    return admit(
        facility, cast["nurse"], first="Robin", last="Ashdown",
        admitted_at=timezone.now() - timedelta(hours=8),
    )  # fmt: skip


T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


# ---------------------------------------------------------------- the due math (pure)


@pytest.mark.parametrize(
    "last_total, hours",
    [(None, 0), (0, 4), (5, 4), (7, 4), (8, 1), (12, 1), (30, 1)],
)
def test_ciwa_next_due_follows_the_spec(last_total, hours):
    last_at = None if last_total is None else T0
    due = rules.next_due(
        started_at=T0, every_hours=4, tight_from=8, tight_hours=1,
        last_at=last_at, last_total=last_total,
    )  # fmt: skip
    assert due == T0 + timedelta(hours=hours)


@pytest.mark.parametrize("total, hours", [(12, 4), (13, 1), (20, 1)])
def test_cows_reassesses_hourly_from_13(total, hours):
    every, tight_from, tight_hours = rules.PROTOCOL_DEFAULTS["cows"]
    due = rules.next_due(
        started_at=T0, every_hours=every, tight_from=tight_from, tight_hours=tight_hours,
        last_at=T0, last_total=total,
    )  # fmt: skip
    assert due == T0 + timedelta(hours=hours)


@pytest.mark.parametrize(
    "local_start, hours, local_due",
    [
        # Spring forward (2026-03-08): 00:30 EST + 4 h is 05:30 EDT, not 04:30.
        (datetime(2026, 3, 8, 0, 30, tzinfo=NY), 4, datetime(2026, 3, 8, 5, 30, tzinfo=NY)),
        (datetime(2026, 3, 8, 1, 30, tzinfo=NY), 1, datetime(2026, 3, 8, 3, 30, tzinfo=NY)),
        # Fall back (2026-11-01): 00:30 EDT + 4 h is 03:30 EST, not 04:30.
        (datetime(2026, 11, 1, 0, 30, tzinfo=NY), 4, datetime(2026, 11, 1, 3, 30, tzinfo=NY)),
        (datetime(2026, 7, 1, 9, 0, tzinfo=NY), 4, datetime(2026, 7, 1, 13, 0, tzinfo=NY)),
    ],
)
def test_intervals_are_elapsed_hours_across_a_dst_change(local_start, hours, local_due):
    last_at = local_start
    total = 10 if hours == 1 else 2
    due = rules.next_due(
        started_at=last_at, every_hours=4, tight_from=8, tight_hours=1,
        last_at=last_at, last_total=total,
    )  # fmt: skip
    assert due - last_at.astimezone(UTC) == timedelta(hours=hours)
    assert due.astimezone(NY).replace(tzinfo=None) == local_due.replace(tzinfo=None)


@pytest.mark.parametrize(
    "minutes, state",
    [(-30, "upcoming"), (-15, "due_soon"), (-1, "due_soon"), (0, "due"), (14, "due"),
     (15, "overdue"), (240, "overdue")],
)  # fmt: skip
def test_due_states(minutes, state):
    assert rules.due_state(T0 + timedelta(minutes=minutes), T0) == state
    assert rules.due_state(T0, None) == "off_site"


@pytest.mark.parametrize(
    "leaves, expected",
    [
        ([], T0),
        ([(T0 - timedelta(hours=1), T0 + timedelta(hours=2))], T0 + timedelta(hours=2)),
        ([(T0 - timedelta(hours=1), None)], None),
        ([(T0 + timedelta(minutes=1), None)], T0),
        ([(T0 - timedelta(hours=3), T0 - timedelta(hours=1))], T0),
    ],
)
def test_a_due_time_inside_a_leave_is_owed_on_return(leaves, expected):
    assert rules.owed_after_leaves(T0, leaves) == expected


def test_trend_compares_the_newest_score_with_the_one_before():
    assert [rules.trend(t) for t in ([], [5], [5, 9], [9, 12, 7], [4, 4])] == [
        "", "", "up", "down", "same",
    ]  # fmt: skip


# ---------------------------------------------------------------- a protocol in the database


@pytest.mark.django_db
@pytest.mark.parametrize("total, hours", [(12, 1), (5, 4)])
def test_ciwa_12_is_due_again_in_an_hour_and_5_in_four(cast, admission, total, hours):
    protocol = start(cast["nurse"], admission)
    a = score(cast["nurse"], admission, total)
    assert a.protocol == protocol
    status = protocol_statuses([admission.pk], now=timezone.now())[protocol.pk]
    assert status.due_at == a.assessed_at + timedelta(hours=hours)
    assert status.last == a and status.state == "upcoming"


@pytest.mark.django_db
def test_the_first_score_is_due_at_once(cast, admission):
    protocol = start(cast["nurse"], admission)
    status = protocol_statuses([admission.pk], now=timezone.now())[protocol.pk]
    assert status.first_due and status.due_at == protocol.started_at
    assert status.state == "due"


@pytest.mark.django_db
def test_protocol_defaults_and_refusals(cast, admission):
    cows = start(cast["nurse"], admission, "cows")
    assert (cows.every_hours, cows.tight_from, cows.tight_hours) == (4, 13, 1)
    with pytest.raises(ValidationError) as exc:
        start(cast["nurse"], admission, "cows")
    assert "already on a COWS protocol" in exc.value.message_dict["scale"][0]
    with pytest.raises(ValidationError) as exc:
        start(cast["nurse"], admission, "ciwa_ar", every_hours=2, tight_hours=3)
    assert "tight_hours" in exc.value.message_dict
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        start(cast["technician"], admission)


@pytest.mark.django_db
def test_an_overdue_reassessment_alerts_once_and_scoring_closes_it(cast, admission):
    nurse = cast["nurse"]
    protocol = start(nurse, admission, at=timezone.now() - timedelta(hours=3))
    first = score(nurse, admission, 12, at=timezone.now() - timedelta(hours=2))
    due = first.assessed_at + timedelta(hours=1)
    assert scan_reassessments_overdue(now=due + timedelta(minutes=14)) == 0
    assert scan_reassessments_overdue(now=due + timedelta(minutes=15)) == 1
    assert scan_reassessments_overdue(now=due + timedelta(minutes=16)) == 0
    alert = Alert.objects.get(kind="withdrawal_overdue")
    assert alert.severity == "critical" and alert.resolved_at is None
    assert alert.link == reverse(
        "observations:withdrawal_score", args=[admission.public_id, "ciwa_ar"]
    )
    assert "CIWA-Ar reassessment (last 12, mild" in alert.message
    assert str(protocol.public_id) in alert.dedupe_key
    score(nurse, admission, 6)
    alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.resolved_by == nurse
    assert scan_reassessments_overdue() == 0


@pytest.mark.django_db
def test_a_back_dated_score_older_than_the_last_answers_nothing(cast, admission):
    nurse = cast["nurse"]
    start(nurse, admission, at=timezone.now() - timedelta(hours=3))
    last = score(nurse, admission, 12, at=timezone.now() - timedelta(hours=2))
    scan_reassessments_overdue()
    from observations.services import assessment_record
    from tests.observations.withdrawal_helpers import ciwa

    assessment_record(
        actor=nurse, admission=admission, scale="ciwa_ar", items=ciwa(3),
        assessed_at=last.assessed_at - timedelta(minutes=10), late_reason="Paper sheet",
    )  # fmt: skip
    assert Alert.objects.open().filter(kind="withdrawal_overdue").count() == 1


@pytest.mark.django_db
def test_a_never_scored_protocol_alerts_for_its_first_score(cast, admission):
    start(cast["nurse"], admission, at=timezone.now() - timedelta(minutes=20))
    assert scan_reassessments_overdue() == 1
    assert "CIWA-Ar first score was due" in Alert.objects.get().message


@pytest.mark.django_db
def test_a_client_on_leave_owes_the_score_on_return(cast, admission):
    from clients.services import leave_return, leave_start

    nurse = cast["nurse"]
    now = timezone.now()
    start(nurse, admission, at=now - timedelta(hours=5))
    score(nurse, admission, 2, at=now - timedelta(hours=4, minutes=30))
    leave = leave_start(
        actor=nurse, admission=admission, kind="appointment", left_at=now - timedelta(hours=1),
        expected_back_at=now + timedelta(hours=1), backdate_reason="Charted after",
    )  # fmt: skip
    assert scan_reassessments_overdue() == 0
    status = next(iter(protocol_statuses([admission.pk], now=timezone.now()).values()))
    assert status.state == "off_site" and status.due_at is None
    leave_return(actor=nurse, leave=leave, returned_at=timezone.now())
    status = next(iter(protocol_statuses([admission.pk], now=timezone.now()).values()))
    assert status.state == "due"
    assert scan_reassessments_overdue(now=timezone.now() + timedelta(minutes=16)) == 1


@pytest.mark.django_db
def test_ending_the_protocol_closes_its_alert_and_stops_the_scan(cast, admission):
    nurse = cast["nurse"]
    protocol = start(nurse, admission, at=timezone.now() - timedelta(minutes=30))
    assert scan_reassessments_overdue() == 1
    protocol_end(actor=nurse, protocol=protocol, reason="Withdrawal resolved")
    assert Alert.objects.open().count() == 0
    assert scan_reassessments_overdue(now=timezone.now() + timedelta(hours=5)) == 0


@pytest.mark.django_db
def test_a_severe_score_alerts_the_nurse_and_clinician(cast, admission):
    a = score(cast["nurse"], admission, 25)
    alert = Alert.objects.get(kind="withdrawal_severe")
    assert alert.severity == "critical"
    assert f"CIWA-Ar {a.total} (severe)" in alert.message


@pytest.mark.django_db
def test_a_struck_score_no_longer_counts(cast, admission):
    nurse = cast["nurse"]
    protocol = start(nurse, admission, at=timezone.now() - timedelta(hours=3))
    first = score(nurse, admission, 4, at=timezone.now() - timedelta(hours=2))
    wrong = score(nurse, admission, 14)
    assessment_strike(actor=nurse, assessment=wrong, reason="Wrong client")
    status = protocol_statuses([admission.pk], now=timezone.now())[protocol.pk]
    assert status.last == first
    assert status.due_at == first.assessed_at + timedelta(hours=4)
    latest = readings([admission.pk], at=timezone.now())[admission.pk]["ciwa_ar"]
    assert latest.public_id == first.public_id


@pytest.mark.django_db
def test_the_reading_source_gives_the_latest_score_with_its_due_time(cast, admission):
    nurse = cast["nurse"]
    start(nurse, admission, at=timezone.now() - timedelta(hours=3))
    score(nurse, admission, 4, at=timezone.now() - timedelta(hours=2))
    last = score(nurse, admission, 12)
    got = readings([admission.pk], at=timezone.now())[admission.pk]
    r = got["ciwa_ar"]
    assert (r.key, r.value, r.band, r.public_id) == ("ciwa_ar", 12, "mild", last.public_id)
    assert r.due_at == last.assessed_at + timedelta(hours=1)
    assert "cows" not in got
    earlier = readings([admission.pk], at=last.assessed_at - timedelta(minutes=1))
    assert earlier[admission.pk]["ciwa_ar"].value == 4


@pytest.mark.django_db
def test_the_scan_query_count_does_not_grow_with_protocols(cast, facility, admission):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import admit

    nurse = cast["nurse"]
    start(nurse, admission, at=timezone.now() - timedelta(minutes=30))
    with CaptureQueriesContext(connection) as few:
        scan_reassessments_overdue()
    for n in range(1, 6):
        other = admit(facility, nurse, n=n)
        start(nurse, other, at=timezone.now() - timedelta(minutes=30))
        score(nurse, other, n, at=timezone.now() - timedelta(minutes=25))
    with CaptureQueriesContext(connection) as many:
        scan_reassessments_overdue(now=timezone.now() + timedelta(hours=5))
    assert len(many) == len(few)


def test_the_scan_runs_every_minute_from_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["reassessments-overdue"]
    assert entry["task"] == "observations.tasks.scan_reassessments_overdue"
    from observations.tasks import scan_reassessments_overdue as task

    assert task.name == entry["task"]


@pytest.mark.django_db
def test_start_then_score_then_end_through_the_pages(client, cast, admission):
    client.force_login(cast["nurse"])
    url = reverse("observations:withdrawal_start", args=[admission.public_id])
    response = client.post(url, {"scale": "ciwa_ar", "reason": "Drinks daily"})
    score_url = reverse("observations:withdrawal_score", args=[admission.public_id, "ciwa_ar"])
    assert response.status_code == 302 and response["Location"] == score_url
    chart = client.get(reverse("clients:chart", args=[admission.client.public_id]))
    assert "First score due" in chart.content.decode()
    from tests.observations.withdrawal_helpers import ciwa

    response = client.post(score_url, ciwa(12), follow=True)
    page = response.content.decode()
    assert ">12<" in page and "mild" in page
    due = timezone.localtime(timezone.now() + timedelta(hours=1), admission.facility.tz)
    assert any(f"{(due - timedelta(minutes=m)):%H:%M}" in page for m in (0, 1))
    protocol = admission.withdrawal_protocols.get()
    response = client.post(
        reverse("observations:withdrawal_end", args=[protocol.public_id]), {"reason": "Done"}
    )
    protocol.refresh_from_db()
    assert protocol.ended_at is not None and protocol.end_reason == "Done"
    chart = client.get(reverse("clients:chart", args=[admission.client.public_id]))
    assert "Ended protocols" in chart.content.decode()
