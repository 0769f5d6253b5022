"""A leave cannot erase checks (issue 10 item 3): it cannot start before the client's last
recorded check, and a leave entered more than 5 minutes after it started needs a reason."""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from clients.models import Leave
from clients.services import leave_start
from facility.registry import registry
from observations.models import RoundCheck, RoundCode
from tests.conftest import admit, form_time

NY = ZoneInfo("America/New_York")
ADMITTED = datetime(2026, 5, 12, 7, 0, tzinfo=NY)
NOW = datetime(2026, 5, 12, 10, 0, tzinfo=NY)


@pytest.fixture
def stay(cast, facility):
    with time_machine.travel(NOW, tick=False):
        return admit(facility, cast["nurse"], first="Robin", last="Ashdown", admitted_at=ADMITTED)


def checked(stay, user, when):
    """A check as the board records it (observed and recorded at `when`)."""
    codes = RoundCode.objects.filter(facility=stay.facility)
    return RoundCheck.objects.create(
        admission=stay, observed_at=when, recorded_at=when, recorded_by=user,
        location=codes.get(kind="location", code="RM"), status=codes.get(kind="status", code="A"),
        submission_key=uuid.uuid4(),
    )  # fmt: skip


def post_leave(client, stay, left, **extra):
    return client.post(
        reverse("clients:leave_start", args=[stay.public_id]),
        {
            "kind": "appointment",
            "left_at": form_time(left, stay.facility),
            "expected_back_at": form_time(left + timedelta(hours=2), stay.facility),
            **extra,
        },
    )


def page(response) -> str:
    return response.content.decode()


def test_rounds_register_their_leave_rule():
    assert "rounds_last_check" in registry.leave_rules


@pytest.mark.django_db
def test_a_leave_cannot_start_before_the_last_recorded_check(client, cast, stay):
    checked(stay, cast["technician"], datetime(2026, 5, 12, 9, 40, tzinfo=NY))
    client.force_login(cast["technician"])
    with time_machine.travel(NOW, tick=False):
        response = post_leave(
            client, stay, datetime(2026, 5, 12, 9, 0, tzinfo=NY), backdate_reason="Charted late"
        )
    assert response.status_code == 200
    assert escape(
        "Left at: the client was checked on the unit at 09:40; a leave cannot start before "
        "their last recorded check."
    ) in page(response)
    assert not Leave.objects.exists()


@pytest.mark.django_db
def test_a_leave_at_or_after_the_last_check_is_recorded(client, cast, stay):
    checked(stay, cast["technician"], datetime(2026, 5, 12, 9, 58, tzinfo=NY))
    client.force_login(cast["technician"])
    with time_machine.travel(NOW, tick=False):
        response = post_leave(client, stay, datetime(2026, 5, 12, 9, 58, tzinfo=NY))
    assert response.status_code == 302
    leave = Leave.objects.get()
    assert leave.left_at == datetime(2026, 5, 12, 9, 58, tzinfo=NY)
    assert leave.backdate_reason == ""


@pytest.mark.django_db
def test_a_back_dated_leave_needs_a_reason(client, cast, stay):
    client.force_login(cast["nurse"])
    left = datetime(2026, 5, 12, 9, 54, tzinfo=NY)  # six minutes back
    with time_machine.travel(NOW, tick=False):
        response = post_leave(client, stay, left)
        assert response.status_code == 200
        text = page(response)
        wanted = "Reason for the earlier time: the leave started more than 5 minutes ago; "
        assert escape(wanted + "say why it is entered late.") in text
        assert not Leave.objects.exists()
        response = post_leave(client, stay, left, backdate_reason="Charted after the van left")
    assert response.status_code == 302
    assert Leave.objects.get().backdate_reason == "Charted after the van left"


@pytest.mark.django_db
def test_five_minutes_back_needs_no_reason(client, cast, stay):
    client.force_login(cast["nurse"])
    with time_machine.travel(NOW, tick=False):
        response = post_leave(client, stay, NOW - timedelta(minutes=5))
    assert response.status_code == 302


@pytest.mark.django_db
def test_both_refusals_show_at_once_from_the_service(cast, stay):
    checked(stay, cast["technician"], datetime(2026, 5, 12, 9, 30, tzinfo=NY))
    with time_machine.travel(NOW, tick=False), pytest.raises(ValidationError) as refused:
        leave_start(
            actor=cast["nurse"], admission=stay, kind="pass",
            left_at=datetime(2026, 5, 12, 9, 0, tzinfo=NY),
            expected_back_at=datetime(2026, 5, 12, 12, 0, tzinfo=NY),
        )  # fmt: skip
    assert set(refused.value.message_dict) == {"left_at", "backdate_reason"}


@pytest.mark.django_db
def test_a_check_on_another_day_is_named_with_its_date(cast, facility):
    with time_machine.travel(datetime(2026, 5, 13, 0, 10, tzinfo=NY), tick=False):
        stay = admit(facility, cast["nurse"], admitted_at=datetime(2026, 5, 12, 20, 0, tzinfo=NY))
        checked(stay, cast["technician"], datetime(2026, 5, 13, 0, 5, tzinfo=NY))
        with pytest.raises(ValidationError, match="checked on the unit at 2026-05-13 00:05"):
            leave_start(
                actor=cast["nurse"], admission=stay, kind="pass",
                left_at=datetime(2026, 5, 12, 23, 50, tzinfo=NY),
                expected_back_at=datetime(2026, 5, 13, 2, 0, tzinfo=NY),
                backdate_reason="Entered late",
            )  # fmt: skip


@pytest.mark.django_db
def test_the_form_says_what_it_does(client, cast, stay):
    client.force_login(cast["technician"])
    text = page(client.get(reverse("clients:leave_start", args=[stay.public_id])))
    assert ">Record leave</button>" in text
    assert 'class="btn primary">Sign out' not in text  # the header's Sign out is the account's
    assert "Reason for the earlier time" in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value, message",
    [
        ("Late\x00", "Reason for the earlier time: remove the control characters"),
        ("La\u202ete", "Reason for the earlier time: remove the control characters"),
        ("x" * 201, "Reason for the earlier time: at most 200 characters"),
    ],
)
def test_a_hostile_reason_gets_a_field_message(client, cast, stay, value, message):
    client.force_login(cast["nurse"])
    with time_machine.travel(NOW, tick=False):
        response = post_leave(client, stay, NOW - timedelta(minutes=30), backdate_reason=value)
    assert response.status_code == 200
    assert escape(message) in page(response)
    assert not Leave.objects.exists()


@pytest.mark.django_db
def test_the_leave_page_keeps_its_access_rules(client, cast, stay, other_admission):
    url = reverse("clients:leave_start", args=[stay.public_id])
    assert client.get(url).status_code == 302  # anonymous: to sign in
    client.force_login(cast["clinician"])
    assert client.get(url).status_code == 403
    client.force_login(cast["other_technician"])
    assert client.get(url).status_code == 404
