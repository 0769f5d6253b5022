"""Every dose has a deadline (issue 9, specs/mar.md Windows): first doses verified after their
time, STAT and NOW doses, and undocumented doses that stay on the med pass until charted."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facility.models import Alert
from medications.models import Order, ScheduledDose
from medications.services import (
    administration_record,
    doses_extend_horizon,
    order_release,
    order_transcribe,
    order_verify,
    scan_doses,
)
from tests.medications.conftest import at


def transcribe(stay, nurse, med, **overrides):
    fields = dict(
        dose="0.1 mg", dose_units=Decimal("1"), route="oral", frequency="daily",
        start_at=at(8, 50), prescriber_name="Dr. Rivera", prescriber_credentials="MD",
    )  # fmt: skip
    fields.update(overrides)
    return order_transcribe(actor=nurse, admission=stay, medication=med, **fields)


def med_pass(client, user, stay) -> str:
    client.logout()  # a fresh session: the clock jumps past the idle timeout between pages
    client.force_login(user)
    return client.get(reverse("medications:med_pass", args=[stay.public_id])).content.decode()


def needs_outcome_part(page: str) -> str:
    """The "Needs an outcome" group of the med pass ('' when there is none)."""
    if "<h2>Needs an outcome</h2>" not in page:
        return ""
    return page.split("<h2>Needs an outcome</h2>", 1)[1].split("<h2>Doses now and next</h2>")[0]


@pytest.mark.django_db
def test_daily_0900_verified_0930_creates_that_dose_due_then_missed_at_61_minutes(
    client, cast, stay, clonidine, nurse2
):
    with time_machine.travel(at(8, 50), tick=False) as traveller:
        order = transcribe(stay, cast["nurse"], clonidine)
        traveller.move_to(at(9, 30))
        order_verify(actor=nurse2, order=order)
        first = order.doses.order_by("scheduled_at").first()
        assert first.scheduled_at == at(9, 0)
        assert (first.kind, first.deadline_at) == ("first", at(10, 30))
        page = med_pass(client, cast["nurse"], stay)
        assert "Due" in page and "give by 10:30" in page and "30 min after its time" in page
        assert needs_outcome_part(page) == ""
        traveller.move_to(at(10, 30))
        assert scan_doses() == 0  # within 60 minutes of verification, inclusive
        traveller.move_to(at(10, 31))
        assert scan_doses() == 1
        page = med_pass(client, cast["nurse"], stay)
    first.refresh_from_db()
    assert first.marked_missed_at == at(10, 31)
    alert = Alert.objects.get()
    assert alert.kind == "dose_missed" and "Clonidine" in alert.message
    assert "Missed" in needs_outcome_part(page)


@pytest.mark.django_db
def test_start_with_the_next_time_skips_the_passed_dose_and_is_recorded(
    client, cast, stay, clonidine, nurse2
):
    with time_machine.travel(at(9, 30), tick=False):
        order = transcribe(stay, cast["nurse"], clonidine)
        order_verify(actor=nurse2, order=order, start_with_next_time=True)
    order.refresh_from_db()
    assert order.start_with_next_time is True
    first = order.doses.order_by("scheduled_at").first()
    assert first.scheduled_at == at(9, 0, day=13)
    assert (first.kind, first.deadline_at, first.window_minutes) == ("first", None, 120)


@pytest.mark.django_db
def test_a_first_dose_after_verification_is_an_ordinary_windowed_dose(
    cast, stay, clonidine, nurse2
):
    with time_machine.travel(at(7, 0), tick=False) as traveller:
        order = transcribe(stay, cast["nurse"], clonidine)
        order_verify(actor=nurse2, order=order)
        first = order.doses.order_by("scheduled_at").first()
        assert (first.scheduled_at, first.deadline_at, first.window_minutes) == (
            at(9, 0), None, 120
        )  # fmt: skip
        traveller.move_to(at(11, 1))
        assert scan_doses() == 1  # late, by the table
    assert Alert.objects.get().kind == "dose_late"


@pytest.mark.django_db
def test_stat_missed_at_31_minutes_alerts_the_supervisor(cast, stay, clonidine, nurse2):
    with time_machine.travel(at(14, 0), tick=False) as traveller:
        order = transcribe(
            stay, cast["nurse"], clonidine, frequency="once", priority="stat", start_at=at(14, 0)
        )
        traveller.move_to(at(14, 10))
        order_verify(actor=nurse2, order=order)
        dose = order.doses.get()
        assert (dose.kind, dose.scheduled_at, dose.deadline_at) == ("stat", at(14, 0), at(14, 30))
        traveller.move_to(at(14, 30))
        assert scan_doses() == 0
        traveller.move_to(at(14, 31))
        assert scan_doses() == 2
    alerts = {a.kind: a for a in Alert.objects.all()}
    assert set(alerts) == {"dose_missed", "dose_missed_critical"}
    assert alerts["dose_missed_critical"].severity == "critical"
    assert "STAT dose missed" in alerts["dose_missed_critical"].message


@pytest.mark.django_db
def test_stat_given_within_30_minutes_is_on_time_and_raises_nothing(cast, stay, clonidine, nurse2):
    with time_machine.travel(at(14, 0), tick=False) as traveller:
        order = transcribe(
            stay, cast["nurse"], clonidine, frequency="once", priority="stat", start_at=at(14, 0)
        )
        order_verify(actor=nurse2, order=order)
        traveller.move_to(at(14, 25))
        admin = administration_record(actor=nurse2, dose=order.doses.get(), outcome="given")
        traveller.move_to(at(15, 0))
        assert scan_doses() == 0
    assert admin.timing == "on_time"


@pytest.mark.django_db
def test_a_released_stat_is_materialized_from_its_release(cast, stay, clonidine):
    with time_machine.travel(at(2, 0, day=13), tick=False):
        order = transcribe(
            stay, cast["nurse"], clonidine, frequency="once", priority="stat",
            start_at=at(2, 0, day=13),
        )  # fmt: skip
        order_release(
            actor=cast["nurse"], order=order, reason="Alone on nights", no_second_nurse=True
        )
    dose = order.doses.get()
    assert dose.deadline_at == at(2, 30, day=13)


@pytest.mark.django_db
def test_now_dose_is_due_within_60_minutes_of_verification(cast, stay, clonidine, nurse2):
    with time_machine.travel(at(14, 0), tick=False) as traveller:
        order = transcribe(
            stay, cast["nurse"], clonidine, frequency="once", priority="now", start_at=at(14, 0)
        )
        traveller.move_to(at(14, 20))
        order_verify(actor=nurse2, order=order)
        dose = order.doses.get()
        assert (dose.kind, dose.scheduled_at, dose.deadline_at) == ("now", at(14, 20), at(15, 20))
        traveller.move_to(at(15, 21))
        assert scan_doses() == 1
    assert Alert.objects.get().kind == "dose_missed"


@pytest.mark.django_db
def test_released_orders_are_topped_up_like_verified_ones(cast, stay, clonidine):
    with time_machine.travel(at(7, 0), tick=False) as traveller:
        order = transcribe(stay, cast["nurse"], clonidine)
        Order.objects.filter(pk=order.pk).update(
            released_at=at(7, 0), released_by=cast["nurse"], release_reason="Alone on nights"
        )
        order.refresh_from_db()
        from medications.services import doses_materialize

        doses_materialize(order, until=at(7, 0) + timedelta(hours=48))
        traveller.move_to(at(7, 0, day=14))
        assert doses_extend_horizon() > 0
    assert order.doses.filter(scheduled_at=at(9, 0, day=15)).exists()


@pytest.mark.django_db
def test_an_undocumented_dose_20_hours_old_stays_under_needs_an_outcome(
    client, cast, stay, clonidine, nurse2
):
    with time_machine.travel(at(7, 0), tick=False) as traveller:
        order = transcribe(stay, cast["nurse"], clonidine)
        order_verify(actor=nurse2, order=order)
        dose = order.doses.get(scheduled_at=at(9, 0))
        traveller.move_to(at(5, 0, day=13))  # 20 hours after 09:00
        part = needs_outcome_part(med_pass(client, cast["nurse"], stay))
        assert "Missed" in part and f"dose-{dose.public_id}" in part
        assert "Given late" in part and "Not given (missed)" in part
        client.post(  # the session med_pass() just opened
            reverse("medications:dose_document", args=[dose.public_id]),
            {"outcome": "not_given", "reason": "Not charted; client says not taken"},
        )
        assert needs_outcome_part(med_pass(client, cast["nurse"], stay)) == ""


@pytest.mark.django_db
def test_the_med_pass_query_count_does_not_grow_with_old_undocumented_doses(
    client, cast, stay, clonidine, nurse2
):
    with time_machine.travel(at(7, 0), tick=False) as traveller:
        order = transcribe(stay, cast["nurse"], clonidine, frequency="qid")
        order_verify(actor=nurse2, order=order)
        traveller.move_to(at(21, 30, day=12))
        client.force_login(cast["nurse"])
        url = reverse("medications:med_pass", args=[stay.public_id])
        client.get(url)
        with CaptureQueriesContext(connection) as few:
            page = client.get(url).content.decode()
        assert needs_outcome_part(page).count("pass-item") == 3  # 09, 13, 17 (21:00 is due)
        traveller.move_to(at(21, 30, day=13))
        doses_extend_horizon()
        client.logout()
        client.force_login(cast["nurse"])
        client.get(url)
        with CaptureQueriesContext(connection) as many:
            page = client.get(url).content.decode()
    assert needs_outcome_part(page).count("pass-item") == 7  # four on the 12th, three today
    assert len(many.captured_queries) == len(few.captured_queries)
    assert (
        ScheduledDose.objects.filter(order=order, scheduled_at__lt=at(22, 0, day=13)).count() == 8
    )
