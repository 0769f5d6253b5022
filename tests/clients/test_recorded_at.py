"""Stays, bed moves and leaves keep the server's time of charting next to the time they give,
and the chart shows it wherever the two differ (DESIGN.md §2)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from clients.models import Leave
from facility.models import Bed
from tests.conftest import admit, form_time

NY = ZoneInfo("America/New_York")
ADMITTED = datetime(2026, 5, 12, 10, 0, tzinfo=NY)
NOW = datetime(2026, 5, 12, 14, 0, 20, tzinfo=NY)


def chart(client, admission) -> str:
    return client.get(reverse("clients:chart", args=[admission.client.public_id])).content.decode()


@pytest.mark.django_db
def test_an_entry_charted_at_the_time_it_gives_shows_no_recorded_time(client, cast, facility):
    with time_machine.travel(ADMITTED, tick=False):
        admission = admit(facility, cast["nurse"], admitted_at=ADMITTED)
        client.force_login(cast["nurse"])
        page = chart(client, admission)
    assert admission.recorded_at == ADMITTED
    assert "2026-05-12 10:00" in page
    assert "recorded" not in page and "late entry" not in page


@pytest.mark.django_db
def test_a_back_dated_leave_and_bed_move_show_when_they_were_recorded(client, cast, facility):
    with time_machine.travel(ADMITTED, tick=False) as traveller:
        admission = admit(facility, cast["nurse"], admitted_at=ADMITTED)
        traveller.move_to(NOW)
        client.force_login(cast["nurse"])
        left = datetime(2026, 5, 12, 12, 30, tzinfo=NY)  # 90 minutes back: a late entry
        response = client.post(
            reverse("clients:leave_start", args=[admission.public_id]),
            {
                "kind": "appointment",
                "left_at": form_time(left, facility),
                "expected_back_at": form_time(datetime(2026, 5, 12, 16, 0, tzinfo=NY), facility),
                "backdate_reason": "Charted after the appointment run",
            },
        )
        assert response.status_code == 302
        leave = Leave.objects.get(admission=admission)
        response = client.post(
            reverse("clients:leave_return", args=[leave.public_id]),
            {"returned_at": form_time(datetime(2026, 5, 12, 13, 30, tzinfo=NY), facility)},
        )
        assert response.status_code == 302
        target = Bed.objects.filter(unit__facility=facility, unit__name="West").first()
        response = client.post(
            reverse("clients:move_bed", args=[admission.public_id]),
            {
                "bed": target.pk,
                "moved_at": form_time(datetime(2026, 5, 12, 13, 45, tzinfo=NY), facility),
            },
        )
        assert response.status_code == 302
        page = chart(client, admission)
    leave.refresh_from_db()
    assert leave.left_at == left and leave.recorded_at == NOW
    assert leave.returned_recorded_at == NOW
    assert admission.bed_moves.order_by("moved_at").last().recorded_at == NOW
    # Left 12:30 charted 14:00 (late); back 13:30 and moved 13:45, both charted 14:00 (not late).
    assert page.count("recorded 14:00") == 3
    assert page.count("late entry") == 1
    assert 'left 2026-05-12 12:30 <span class="meta">recorded 14:00</span> <strong' in page


@pytest.mark.django_db
def test_discharge_keeps_its_recorded_time_and_closes_an_open_leave_with_it(cast, facility):
    from clients.services import admission_discharge, leave_start

    with time_machine.travel(ADMITTED, tick=False) as traveller:
        admission = admit(facility, cast["nurse"], admitted_at=ADMITTED)
        leave = leave_start(
            actor=cast["technician"],
            admission=admission,
            kind="pass",
            left_at=ADMITTED,
            expected_back_at=datetime(2026, 5, 12, 18, 0, tzinfo=NY),
        )
        traveller.move_to(NOW)
        admission_discharge(
            actor=cast["nurse"],
            admission=admission,
            discharged_at=datetime(2026, 5, 12, 11, 0, tzinfo=NY),
            discharge_type="ama",
        )
    admission.refresh_from_db()
    leave.refresh_from_db()
    assert admission.discharge_recorded_at == NOW
    assert leave.returned_at == datetime(2026, 5, 12, 11, 0, tzinfo=NY)
    assert leave.returned_recorded_at == NOW
