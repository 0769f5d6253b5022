"""Facility security rounds: every area explicitly OK or a finding (nothing pre-set), or "all
OK" as one deliberate, recorded action; a window with no round alerts once."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility.models import Alert
from observations.models import SecurityArea, SecurityCheck, SecurityRound
from observations.security import window_at, windows_for_day
from observations.services import (
    AreaResult,
    scan_security_rounds,
    security_areas_seed_defaults,
    security_round_complete,
)

NY = ZoneInfo("America/New_York")
ONE_TAP = '<span class="tag">all OK in one tap</span>'  # on the round's history line


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
    """An area-by-area round with every area marked OK, as the page posts it."""
    data = {"action": "round", **{f"ok-{a.pk}": "ok" for a in areas}}
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
    assert f"{door.name}: a finding needs what was found, where, and the action taken" in body
    assert "(missing: where, the action taken)" in body
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
    # Each alert leads to the security round page, where the next round is recorded.
    links = set(Alert.objects.filter(kind="security_round_overdue").values_list("link", flat=True))
    assert links == {"/security/"}


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


# ---------------------------------------------------------------- issue 10 item 9: start unmarked


def round_form_html(body: str) -> str:
    """The round form of the page (the finding form below it is another form)."""
    start = body.index('action="/security/"')
    return body[start : body.index("</form>", start)]


@pytest.mark.django_db
def test_the_round_starts_with_every_area_unmarked(client, cast, facility, areas):
    client.force_login(cast["technician"])
    body = client.get(reverse("observations:security")).content.decode()
    form = round_form_html(body)
    for area in areas:
        assert f'name="ok-{area.pk}" value="ok">' in form
        assert f'name="ok-{area.pk}" value="finding">' in form
    assert " checked" not in form  # no area OK, no finding, no alert, no "I walked every area"
    assert 'autocomplete="off"' in body  # Back or reload does not restore old marks


@pytest.mark.django_db
def test_an_unmarked_area_refuses_the_round_naming_it_and_saves_nothing(
    client, cast, facility, areas
):
    client.force_login(cast["technician"])
    skipped = areas[2]
    data = walk_data(areas)
    del data[f"ok-{skipped.pk}"]
    data[f"ok-{areas[0].pk}"] = "finding"
    data[f"finding-{areas[0].pk}"] = "Door propped open"
    response = client.post(reverse("observations:security"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert f"{skipped.name}: mark it OK or record a finding." in body
    assert "Door propped open" in body  # kept as typed
    assert SecurityRound.objects.count() == 0
    assert not SecurityCheck.objects.exists()


@pytest.mark.django_db
def test_the_service_refuses_a_round_that_leaves_an_area_out(cast, facility, areas):
    with pytest.raises(ValidationError) as refused:
        security_round_complete(
            actor=cast["technician"],
            facility=facility,
            results=[AreaResult(area=a, ok=True) for a in areas[1:]],
        )
    assert refused.value.messages == [f"{areas[0].name}: mark it OK or record a finding."]
    assert SecurityRound.objects.count() == 0


@pytest.mark.django_db
def test_all_ok_is_one_action_recorded_as_such(client, cast, facility, areas):
    client.force_login(cast["technician"])
    response = client.post(
        reverse("observations:security"), {"action": "all_ok", "walked_all": "on"}
    )
    assert response.status_code == 302
    walk = SecurityRound.objects.get()
    assert walk.all_ok_declared is True
    assert sorted(walk.checks.values_list("area_id", "ok")) == sorted((a.pk, True) for a in areas)
    page = client.get(reverse("observations:security")).content.decode()
    assert ONE_TAP in page
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_a_round_marked_area_by_area_is_not_shown_as_one_tap(client, cast, facility, areas):
    client.force_login(cast["technician"])
    assert client.post(reverse("observations:security"), walk_data(areas)).status_code == 302
    assert SecurityRound.objects.get().all_ok_declared is False
    page = client.get(reverse("observations:security")).content.decode()
    assert ONE_TAP not in page


@pytest.mark.django_db
def test_all_ok_without_the_walked_every_area_tick_saves_nothing(client, cast, facility, areas):
    client.force_login(cast["technician"])
    response = client.post(reverse("observations:security"), {"action": "all_ok"})
    assert response.status_code == 400
    assert "tick “I walked every area” first" in response.content.decode()
    assert SecurityRound.objects.count() == 0


@pytest.mark.django_db
def test_all_ok_never_drops_a_finding_that_was_marked_or_typed(client, cast, facility, areas):
    client.force_login(cast["technician"])
    door, window = areas[0], areas[1]
    response = client.post(
        reverse("observations:security"),
        {
            "action": "all_ok",
            "walked_all": "on",
            f"ok-{door.pk}": "finding",
            f"where-{window.pk}": "Room 12",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert f"{door.name}: a finding is marked, so the round is not all OK" in body
    assert f"{window.name}: a finding is marked, so the round is not all OK" in body
    assert "Room 12" in body
    assert " checked" not in round_form_html(body).split('name="walked_all"')[1][:20]
    assert SecurityRound.objects.count() == 0


@pytest.mark.django_db
def test_the_service_refuses_all_ok_carrying_a_finding(cast, facility, areas):
    results = [AreaResult(area=a, ok=True) for a in areas[1:]]
    results.append(AreaResult(area=areas[0], ok=False, finding="x", location_detail="y",
                              action_taken="z"))  # fmt: skip
    with pytest.raises(ValidationError, match="not all OK"):
        security_round_complete(
            actor=cast["technician"], facility=facility, results=results, all_ok_declared=True
        )
    assert SecurityRound.objects.count() == 0


@pytest.mark.django_db
def test_a_round_finding_alert_links_to_the_round_on_the_security_page(
    client, cast, facility, areas
):
    client.force_login(cast["technician"])
    door = areas[0]
    client.post(
        reverse("observations:security"),
        walk_data(
            areas,
            **{
                f"ok-{door.pk}": "finding",
                f"finding-{door.pk}": "Lock broken",
                f"where-{door.pk}": "Back door",
                f"action-{door.pk}": "Wedged shut",
                f"alert-{door.pk}": "on",
            },
        ),  # fmt: skip
    )
    walk = SecurityRound.objects.get()
    alert = Alert.objects.get(kind="security_finding")
    assert alert.link == f"/security/#round-{walk.public_id}"
    assert "Lock broken at Back door (action: Wedged shut)" in alert.message
    page = client.get(alert.link.split("#")[0]).content.decode()
    assert f'id="round-{walk.public_id}"' in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("finding", "x" * 301, "What was found: at most 300 characters (this has 301)."),
        ("where", "y" * 201, "Where exactly: at most 200 characters (this has 201)."),
        ("action", "Told\x00nurse", "Action taken: remove the control characters"),
        ("finding", "Door \u202eneddih", "What was found: remove the control characters"),
        ("ok", "maybe", ": mark it OK or record a finding."),
    ],
)
def test_hostile_round_input_gets_a_field_message_and_saves_nothing(
    client, cast, facility, areas, field, value, message
):
    client.force_login(cast["technician"])
    door = areas[0]
    finding = {f"ok-{door.pk}": "finding", f"finding-{door.pk}": "Lock broken",
               f"where-{door.pk}": "Back", f"action-{door.pk}": "Fixed"}  # fmt: skip
    data = walk_data(areas, **finding)
    data[f"{field}-{door.pk}"] = value
    response = client.post(reverse("observations:security"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert SecurityRound.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["everything", "all_ok'; --", "all_ok\x00"])
def test_a_tampered_action_is_refused_with_a_message(client, cast, facility, areas, action):
    client.force_login(cast["technician"])
    data = walk_data(areas, action=action, walked_all="on")
    data["ok-99999999999999999999"] = "ok"  # an area id that is none of ours: ignored
    response = client.post(reverse("observations:security"), data)
    assert response.status_code == 400
    assert "out of date; reload the page" in response.content.decode()
    assert SecurityRound.objects.count() == 0


@pytest.mark.django_db
def test_security_page_access(client, cast, facility, areas):
    url = reverse("observations:security")
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post(url, walk_data(areas)).status_code == 302
    for role in ("clinician", "admin"):
        client.force_login(cast[role])
        assert client.get(url).status_code == 403
        assert client.post(url, walk_data(areas)).status_code == 403
    assert SecurityRound.objects.count() == 0


@pytest.mark.django_db
def test_other_facility_staff_neither_see_nor_record_this_facilitys_round(
    client, cast, facility, other_facility, areas
):
    client.force_login(cast["technician"])
    client.post(reverse("observations:security"), {"action": "all_ok", "walked_all": "on"})
    assert ONE_TAP in client.get(reverse("observations:security")).content.decode()
    client.force_login(cast["other_technician"])
    page = client.get(reverse("observations:security")).content.decode()
    assert "Birch House" in page and ONE_TAP not in page
    # Alder's area ids on a Birch round are not Birch's areas: no Alder round, no Birch round.
    SecurityArea.objects.filter(facility=other_facility).update(active=True)
    response = client.post(reverse("observations:security"), walk_data(areas))
    assert response.status_code == 400
    assert SecurityRound.objects.filter(facility=other_facility).count() == 0
    assert SecurityRound.objects.filter(facility=facility).count() == 1


@pytest.mark.django_db
def test_staff_with_no_facility_get_404(client, cast):
    from tests.conftest import make_user

    client.force_login(make_user("floater", "technician"))
    assert client.get(reverse("observations:security")).status_code == 404


@pytest.mark.django_db
def test_security_page_query_count_is_constant_in_rounds_and_findings(
    client, cast, facility, areas
):
    from observations.services import security_finding_record

    client.force_login(cast["technician"])
    url = reverse("observations:security")
    assert client.post(url, {"action": "all_ok", "walked_all": "on"}).status_code == 302
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    now = timezone.now()
    for hours in range(1, 13):  # twelve earlier windows, each with a finding on the round
        at = now - timedelta(hours=8 * hours)
        walk = SecurityRound.objects.create(
            facility=facility, window_start=at, window_end=at + timedelta(hours=2),
            completed_at=at, completed_by=cast["technician"], recorded_at=at,
        )  # fmt: skip
        for i, area in enumerate(areas):
            SecurityCheck.objects.create(
                round=walk, area=area, ok=i > 0, finding="" if i else "Gap",
                location_detail="" if i else "Fence", action_taken="" if i else "Reported",
            )  # fmt: skip
        security_finding_record(
            actor=cast["nurse"], area=areas[hours % len(areas)],
            found_at=now - timedelta(minutes=hours), finding="Lighter", location_detail="Lounge",
            action_taken="Taken", now=now,
        )  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(many.captured_queries) <= 9, [q["sql"][:90] for q in many.captured_queries]
