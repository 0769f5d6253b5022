"""Facility security rounds: every area OK or a finding; a window with no round alerts once."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from facility.models import Alert
from observations.models import SecurityArea, SecurityRound
from observations.security import window_at, windows_for_day
from observations.services import scan_security_rounds, security_areas_seed_defaults

NY = ZoneInfo("America/New_York")


def test_default_schedule_every_two_hours_at_night_and_per_shift_by_day():
    windows = windows_for_day(date(2026, 5, 12), NY)
    assert [(a.strftime("%H:%M"), b.strftime("%H:%M")) for a, b in windows] == [
        ("01:00", "03:00"), ("03:00", "05:00"), ("05:00", "07:00"),
        ("07:00", "15:00"), ("15:00", "23:00"), ("23:00", "01:00"),
    ]  # fmt: skip
    assert window_at(datetime(2026, 5, 13, 0, 30, tzinfo=NY), NY)[0].strftime("%d %H") == "12 23"


@pytest.fixture
def areas(facility, other_facility):
    """The home facility's areas (seeded when it was made); the other facility walks none here,
    so a scan's count is of the home facility's windows alone."""
    assert security_areas_seed_defaults(facility) == 0
    SecurityArea.objects.filter(facility=other_facility).update(active=False)
    return list(SecurityArea.objects.filter(facility=facility))


def walk_data(areas, **overrides):
    data = {f"ok-{a.pk}": "ok" for a in areas}
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_technician_records_a_round_with_a_finding_that_alerts(client, cast, facility, areas):
    client.force_login(cast["technician"])
    door = areas[0]
    response = client.post(
        reverse("observations:security"),
        walk_data(
            areas,
            **{
                f"ok-{door.pk}": "finding",
                f"finding-{door.pk}": "Fire door propped open",
                f"where-{door.pk}": "East stairwell",
                f"action-{door.pk}": "Closed it, told maintenance",
                f"alert-{door.pk}": "on",
            },
        ),
    )
    assert response.status_code == 302
    walk = SecurityRound.objects.get()
    assert walk.checks.count() == len(areas)
    alert = Alert.objects.get(kind="security_finding")
    assert "Fire door propped open" in alert.message
    page = client.get(reverse("observations:security")).content.decode()
    assert "Done at" in page and "Fire door propped open" in page


@pytest.mark.django_db
def test_a_finding_without_action_saves_nothing(client, cast, facility, areas):
    client.force_login(cast["technician"])
    door = areas[0]
    response = client.post(
        reverse("observations:security"),
        walk_data(areas, **{f"ok-{door.pk}": "finding", f"finding-{door.pk}": "Window cracked"}),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "needs what was found and the action taken" in body
    assert "Window cracked" in body  # what was typed is still there
    assert SecurityRound.objects.count() == 0


@pytest.mark.django_db
def test_a_finding_typed_under_ok_is_refused_not_saved_as_ok(client, cast, facility, areas):
    """Review of issue 7: the finding was saved as "OK" and raised nothing."""
    client.force_login(cast["technician"])
    door = areas[0]
    response = client.post(
        reverse("observations:security"),
        walk_data(areas, **{f"finding-{door.pk}": "Lock broken", f"action-{door.pk}": "Told"}),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert f"{door.name}: marked OK but a finding was typed" in body
    assert "Lock broken" in body
    assert SecurityRound.objects.count() == 0


@pytest.mark.django_db
def test_a_window_that_ends_with_no_round_alerts_once(cast, facility, areas):
    with time_machine.travel(datetime(2026, 5, 12, 1, 30, tzinfo=NY), tick=False) as traveller:
        assert scan_security_rounds() == 0
        traveller.move_to(datetime(2026, 5, 12, 3, 0, 30, tzinfo=NY))
        assert scan_security_rounds() == 1
        assert scan_security_rounds() == 0
        traveller.move_to(datetime(2026, 5, 12, 7, 1, tzinfo=NY))  # late run: two more windows
        assert scan_security_rounds() == 2
    messages = sorted(
        Alert.objects.filter(kind="security_round_overdue").values_list("message", flat=True)
    )
    assert messages == [
        "Security round 01:00–03:00 was not recorded.",
        "Security round 03:00–05:00 was not recorded.",
        "Security round 05:00–07:00 was not recorded.",
    ]


@pytest.mark.django_db
def test_a_round_walked_in_the_repeated_fall_back_hour_counts(cast, facility, areas):
    from observations.services import AreaResult, security_round_complete

    with time_machine.travel(datetime(2026, 11, 1, 1, 5, tzinfo=NY), tick=False) as traveller:
        assert scan_security_rounds() == 0  # starts the clock after the 23:00 window
        # 01:30 EDT, inside the 01:00–03:00 window (three real hours long tonight).
        traveller.move_to(datetime(2026, 11, 1, 1, 30, tzinfo=NY))
        security_round_complete(
            actor=cast["technician"], facility=facility,
            results=[AreaResult(area=a, ok=True) for a in areas],
        )  # fmt: skip
        traveller.move_to(datetime(2026, 11, 1, 3, 1, tzinfo=NY))
        assert scan_security_rounds() == 0
    assert not Alert.objects.filter(kind="security_round_overdue").exists()
