"""Security findings between rounds (issue 10 item 9): what, where, when found (now by default,
never ahead, at most 24 real hours back) and the action; every one alerts the supervisor with a
link to the security page, and shows under the rounds history, newest first."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections
from django.urls import reverse
from django.utils import timezone

from facility.models import Alert, AlertSeverity
from observations.models import SecurityArea, SecurityFinding
from observations.services import security_finding_record
from tests.conftest import form_time

NY = ZoneInfo("America/New_York")
URL = "/security/findings/"


@pytest.fixture
def area(facility):
    return SecurityArea.objects.get(facility=facility, name="Sharps storage")


def finding_data(chosen, facility, **overrides):
    data = {
        "area": str(chosen.pk),
        "found_at": form_time(timezone.now(), facility),
        "finding": "Sharps box unlocked",
        "location_detail": "Nurses' station, lower cabinet",
        "action_taken": "Locked it, counted sharps: none missing",
    }
    data.update(overrides)
    return data


def test_the_finding_url_is_the_security_pages():
    assert reverse("observations:security_finding") == URL


@pytest.mark.django_db
def test_technician_records_a_finding_that_alerts_the_supervisor_with_a_link(
    client, cast, facility, area
):
    client.force_login(cast["technician"])
    response = client.post(URL, finding_data(area, facility))
    found = SecurityFinding.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/security/#finding-{found.public_id}"
    assert (found.facility, found.area, found.recorded_by) == (facility, area, cast["technician"])
    assert found.location_detail == "Nurses' station, lower cabinet"
    assert found.alert_raised is True
    alert = Alert.objects.get(kind="security_finding")
    assert alert.facility == facility and alert.severity == AlertSeverity.WARNING
    assert alert.link == f"/security/#finding-{found.public_id}"
    assert "Sharps storage — Sharps box unlocked at Nurses' station" in alert.message
    page = client.get("/security/").content.decode()
    assert f'id="finding-{found.public_id}"' in page
    assert "Sharps box unlocked" in page and "supervisor alerted" in page


@pytest.mark.django_db
def test_the_form_offers_now_as_found_at(client, cast, facility):
    client.force_login(cast["technician"])
    with time_machine.travel(datetime(2026, 5, 12, 14, 7, 40, tzinfo=NY), tick=False):
        page = client.get("/security/").content.decode()
    assert 'name="found_at" value="2026-05-12T14:07"' in page


@pytest.mark.django_db
def test_findings_are_listed_under_the_rounds_newest_first(client, cast, facility, area):
    client.force_login(cast["nurse"])
    now = timezone.now()
    for minutes, what in ((90, "Older finding"), (10, "Newest finding"), (45, "Middle finding")):
        security_finding_record(
            actor=cast["technician"], area=area, found_at=now - timedelta(minutes=minutes),
            finding=what, location_detail="Hall", action_taken="Handled",
        )  # fmt: skip
    page = client.get("/security/").content.decode()
    rounds_at = page.index("Recent rounds")
    positions = [page.index(w) for w in ("Newest finding", "Middle finding", "Older finding")]
    assert rounds_at < positions[0] < positions[1] < positions[2]


@pytest.mark.django_db
def test_found_at_in_the_future_is_refused(client, cast, facility, area):
    client.force_login(cast["technician"])
    later = form_time(timezone.now() + timedelta(minutes=2), facility)
    response = client.post(URL, finding_data(area, facility, found_at=later))
    assert response.status_code == 400
    assert "Found at: cannot be in the future." in response.content.decode()
    assert not SecurityFinding.objects.exists() and not Alert.objects.exists()


@pytest.mark.django_db
def test_found_at_more_than_a_day_back_is_refused(client, cast, facility, area):
    client.force_login(cast["technician"])
    old = form_time(timezone.now() - timedelta(hours=24, minutes=2), facility)
    response = client.post(URL, finding_data(area, facility, found_at=old))
    assert response.status_code == 400
    assert "Found at: at most 24 hours back." in response.content.decode()
    assert not SecurityFinding.objects.exists()


@pytest.mark.django_db
def test_a_day_back_is_24_real_hours_on_the_fall_back_day(client, cast, facility, area):
    """2026-11-01 has 25 hours in New York: 12:30 the day before, on the wall clock 23.5 hours
    back, is 24.5 real hours back and refused; 13:30 (23.5 real hours) is accepted."""
    client.force_login(cast["technician"])
    with time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=NY), tick=False):
        refused = client.post(URL, finding_data(area, facility, found_at="2026-10-31T12:30"))
        accepted = client.post(URL, finding_data(area, facility, found_at="2026-10-31T13:30"))
    assert refused.status_code == 400
    assert "Found at: at most 24 hours back." in refused.content.decode()
    assert accepted.status_code == 302
    found = SecurityFinding.objects.get()
    assert found.found_at == datetime(2026, 10, 31, 13, 30, tzinfo=NY)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"area": ""}, "Area: choose one."),
        ({"area": "abc"}, "Area: choose one walked at this facility."),
        ({"area": "99999999999999999999999"}, "Area: choose one walked at this facility."),
        ({"area": "-1"}, "Area: choose one walked at this facility."),
        ({"found_at": ""}, "Found at: enter a date and time."),
        ({"found_at": "yesterday"}, "Found at: enter a valid date and time."),
        ({"found_at": "9999-12-31T23:59"}, "Found at: cannot be in the future."),
        ({"found_at": "0001-01-01T00:00"}, "Found at: "),
        ({"finding": ""}, "What was found: say what it was."),
        ({"location_detail": "  "}, "Where exactly: say where it was."),
        ({"action_taken": ""}, "Action taken: say what was done."),
        ({"finding": "x" * 301}, "What was found: at most 300 characters (this has 301)."),
        ({"location_detail": "y" * 201}, "Where exactly: at most 200 characters (this has 201)."),
        ({"action_taken": "z" * 301}, "Action taken: at most 300 characters (this has 301)."),
        ({"finding": "Lighter\x00"}, "What was found: remove the control characters"),
        ({"location_detail": "Room \u202e21"}, "Where exactly: remove the control characters"),
        ({"action_taken": "Told \u2066RN"}, "Action taken: remove the control characters"),
    ],
)
def test_hostile_finding_input_gets_a_field_message_never_a_500(
    client, cast, facility, area, overrides, message
):
    client.force_login(cast["technician"])
    response = client.post(URL, finding_data(area, facility, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SecurityFinding.objects.exists() and not Alert.objects.exists()


@pytest.mark.django_db
def test_a_refused_finding_keeps_what_was_typed(client, cast, facility, area):
    client.force_login(cast["technician"])
    response = client.post(URL, finding_data(area, facility, action_taken=""))
    body = response.content.decode()
    assert "Sharps box unlocked" in body and "Nurses&#x27; station, lower cabinet" in body


@pytest.mark.django_db
def test_an_inactive_or_other_facilitys_area_is_refused(
    client, cast, facility, other_facility, area
):
    client.force_login(cast["technician"])
    theirs = SecurityArea.objects.filter(facility=other_facility).first()
    response = client.post(URL, finding_data(theirs, facility))
    assert response.status_code == 400
    assert "Area: choose one walked at this facility." in response.content.decode()
    SecurityArea.objects.filter(pk=area.pk).update(active=False)
    response = client.post(URL, finding_data(area, facility))
    assert "Area: choose one walked at this facility." in response.content.decode()
    assert not SecurityFinding.objects.exists()


@pytest.mark.django_db
def test_finding_access(client, cast, facility, area):
    response = client.post(URL, finding_data(area, facility))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for role in ("clinician", "admin"):
        client.force_login(cast[role])
        assert client.post(URL, finding_data(area, facility)).status_code == 403
    client.force_login(cast["technician"])
    assert client.get(URL).status_code == 405
    assert not SecurityFinding.objects.exists()


@pytest.mark.django_db
def test_other_facility_staff_neither_record_on_nor_see_this_facilitys_findings(
    client, cast, facility, area
):
    security_finding_record(
        actor=cast["technician"], area=area, found_at=timezone.now(),
        finding="Alder-only finding", location_detail="Hall", action_taken="Handled",
    )  # fmt: skip
    client.force_login(cast["other_technician"])
    assert "Alder-only finding" not in client.get("/security/").content.decode()
    response = client.post(URL, finding_data(area, facility, finding="Birch attempt"))
    assert response.status_code == 400  # Alder's area is not one of Birch's choices
    assert SecurityFinding.objects.count() == 1


@pytest.mark.django_db
def test_the_service_checks_role_scope_and_time(cast, facility, other_facility, area):
    now = timezone.now()
    fields = {"finding": "Lighter", "location_detail": "Lounge", "action_taken": "Taken"}
    with pytest.raises(PermissionDenied):
        security_finding_record(actor=cast["clinician"], area=area, found_at=now, **fields)
    with pytest.raises(PermissionDenied):  # another facility's area: out of scope
        security_finding_record(actor=cast["other_technician"], area=area, found_at=now, **fields)
    with pytest.raises(ValidationError, match="cannot be in the future"):
        security_finding_record(
            actor=cast["nurse"], area=area, found_at=now + timedelta(seconds=5), now=now, **fields
        )
    with pytest.raises(ValidationError, match="at most 24 hours back"):
        security_finding_record(
            actor=cast["nurse"], area=area, found_at=now - timedelta(hours=24, seconds=1),
            now=now, **fields,
        )  # fmt: skip
    with pytest.raises(ValidationError, match=r"\(missing: where\)"):
        security_finding_record(
            actor=cast["nurse"], area=area, found_at=now, finding="Lighter",
            location_detail=" ", action_taken="Taken",
        )  # fmt: skip
    assert not SecurityFinding.objects.exists() and not Alert.objects.exists()


@pytest.mark.django_db
def test_a_double_tap_records_the_finding_once(client, cast, facility, area):
    client.force_login(cast["technician"])
    data = finding_data(area, facility)
    assert client.post(URL, data).status_code == 302
    again = client.post(URL, data)
    assert again.status_code == 400
    assert "This finding is already recorded." in again.content.decode()
    assert SecurityFinding.objects.count() == 1
    assert Alert.objects.filter(kind="security_finding").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_finding_posted_twice_at_once_is_recorded_once(cast, facility, area):
    found_at = timezone.now().replace(second=0, microsecond=0)
    barrier, outcomes = threading.Barrier(2), []

    def record():
        try:
            barrier.wait()
            security_finding_record(
                actor=cast["technician"], area=area, found_at=found_at,
                finding="Lighter", location_detail="Lounge", action_taken="Taken",
            )  # fmt: skip
            outcomes.append("recorded")
        except ValidationError as exc:
            outcomes.append(exc.messages[0])
        finally:
            close_old_connections()

    threads = [threading.Thread(target=record) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["This finding is already recorded.", "recorded"]
    assert SecurityFinding.objects.count() == 1
    assert Alert.objects.filter(kind="security_finding").count() == 1
