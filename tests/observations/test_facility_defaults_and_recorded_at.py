"""Round codes and security areas exist from the day a facility is opened, so pages only read
them (issue 8); hand-offs and security rounds keep the server's time of charting (DESIGN.md §2)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from facility.models import Facility, Unit
from facility.services import facility_create
from observations.models import RoundCode, SecurityArea
from observations.services import (
    DEFAULT_LOCATIONS,
    DEFAULT_SECURITY_AREAS,
    DEFAULT_STATUSES,
    AreaResult,
    handoff_accept,
    level_order,
    observer_assign,
    security_round_complete,
)
from tests.conftest import admit, make_user

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 5, 12, 14, 0, 20, tzinfo=NY)


@pytest.mark.django_db
def test_a_new_facility_has_the_default_codes_and_security_areas():
    facility = facility_create(name="Cedar House", time_zone="America/Denver")
    assert RoundCode.objects.filter(facility=facility).count() == len(DEFAULT_LOCATIONS) + len(
        DEFAULT_STATUSES
    )
    assert SecurityArea.objects.filter(facility=facility).count() == len(DEFAULT_SECURITY_AREAS)


@pytest.mark.django_db
def test_an_admin_opening_a_facility_in_the_django_admin_gets_the_defaults(client, cast):
    client.force_login(cast["admin"])
    response = client.post(
        reverse("admin:facility_facility_add"),
        {
            "name": "Dogwood House",
            "time_zone": "America/New_York",
            "address": "",
            "shift_pattern": "8h",
            "units-TOTAL_FORMS": "0",
            "units-INITIAL_FORMS": "0",
            "units-MIN_NUM_FORMS": "0",
            "units-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    facility = Facility.objects.get(name="Dogwood House")
    assert RoundCode.objects.filter(facility=facility, kind="status", code="S").exists()
    assert SecurityArea.objects.filter(facility=facility).count() == len(DEFAULT_SECURITY_AREAS)


@pytest.mark.django_db
def test_the_board_and_security_pages_never_create_rows(client, roles):
    """A facility made without defaults (before this change) gets none from viewing pages."""
    bare = Facility.objects.create(name="Elm House", time_zone="America/New_York")
    unit = Unit.objects.create(facility=bare, name="North")
    tech = make_user("elm_tech", "technician", bare)
    client.force_login(tech)
    assert client.get(reverse("observations:board", args=[unit.public_id])).status_code == 200
    assert client.get(reverse("observations:security")).status_code == 200
    assert not RoundCode.objects.filter(facility=bare).exists()
    assert not SecurityArea.objects.filter(facility=bare).exists()


@pytest.mark.django_db
def test_a_back_dated_hand_off_shows_when_it_was_recorded(client, cast, facility):
    with time_machine.travel(NOW, tick=False):
        admission = admit(facility, cast["nurse"])
        level_order(
            actor=cast["clinician"],
            admission=admission,
            level="one_to_one",
            reason="Self-harm risk",
            now=datetime(2026, 5, 12, 12, 0, tzinfo=NY),
        )
        offer = observer_assign(
            actor=cast["nurse"],
            admission=admission,
            observer=cast["technician"],
            now=datetime(2026, 5, 12, 12, 30, tzinfo=NY),
        )
        hand_off = handoff_accept(
            actor=cast["technician"], handoff=offer, now=datetime(2026, 5, 12, 12, 30, tzinfo=NY)
        )
        client.force_login(cast["nurse"])
        page = client.get(reverse("clients:chart", args=[admission.client.public_id]))
    assert hand_off.recorded_at == NOW
    body = page.content.decode()
    assert 'since 12:30 <span class="meta">recorded 14:00</span>' in body
    assert "late entry" in body


@pytest.mark.django_db
def test_the_security_round_list_shows_a_round_recorded_after_its_time(client, cast, facility):
    areas = list(SecurityArea.objects.filter(facility=facility, active=True))
    with time_machine.travel(NOW, tick=False):
        walk = security_round_complete(
            actor=cast["technician"],
            facility=facility,
            results=[AreaResult(area=a, ok=True) for a in areas],
            now=datetime(2026, 5, 12, 13, 40, tzinfo=NY),
        )
        client.force_login(cast["technician"])
        body = client.get(reverse("observations:security")).content.decode()
    assert walk.recorded_at == NOW and walk.completed_at < NOW
    assert 'done 13:40 <span class="meta">recorded 14:00</span> by' in body
