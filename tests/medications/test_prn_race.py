"""Two nurses giving the same PRN at the same moment, on real concurrent transactions (issue 7).

The order is limited to one dose per 240 minutes. Whatever the interleaving, exactly one dose is
saved; every other nurse is told "Too soon".
"""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection, transaction

from medications.models import Administration, Order
from medications.services import prn_give
from tests.conftest import make_user
from tests.medications.test_prn import prn_order  # noqa: F401  (fixture)


def _give(order, nurse):
    return prn_give(actor=nurse, order=order, indication="headache", pre_assessment="pain 6/10")


def _backends_waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _wait_for(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


@pytest.mark.django_db(transaction=True)
def test_a_nurse_waiting_on_the_lock_sees_the_dose_saved_while_she_waited(
    cast,
    facility,
    prn_order,  # noqa: F811
):
    """The exact interleaving the probe found: nurse B reaches the order first but waits on
    its lock while nurse A, holding it, saves a dose stamped after B arrived."""
    nurse_a, nurse_b = cast["nurse"], make_user("prn_racer", "nurse", facility)
    a_has_lock, b_is_waiting, outcome = threading.Event(), threading.Event(), {}

    def nurse_a_holds_the_order_then_gives():
        try:
            with transaction.atomic():
                Order.objects.select_for_update().get(pk=prn_order.pk)
                a_has_lock.set()
                b_is_waiting.wait(10)
                time.sleep(0.05)  # B's clock reading, before the fix, is now older than A's dose
                _give(prn_order, nurse_a)
        finally:
            close_old_connections()

    def nurse_b_gives():
        try:
            a_has_lock.wait(10)
            _give(prn_order, nurse_b)
            outcome["b"] = "given"
        except ValidationError as exc:
            outcome["b"] = " ".join(exc.messages)
        finally:
            close_old_connections()

    threads = [
        threading.Thread(target=nurse_a_holds_the_order_then_gives),
        threading.Thread(target=nurse_b_gives),
    ]
    for t in threads:
        t.start()
    _wait_for(lambda: _backends_waiting_on_a_lock() >= 1)
    b_is_waiting.set()
    for t in threads:
        t.join(30)
    assert "Too soon" in outcome["b"]
    assert list(Administration.objects.values_list("recorded_by__username", flat=True)) == ["nurse"]


@pytest.mark.django_db(transaction=True)
def test_five_nurses_at_once_save_exactly_one_dose(cast, facility, prn_order):  # noqa: F811
    nurses = [cast["nurse"]] + [make_user(f"prn_nurse_{n}", "nurse", facility) for n in range(4)]
    barrier = threading.Barrier(len(nurses))
    refusals = []

    def give(nurse):
        try:
            barrier.wait(10)
            _give(prn_order, nurse)
        except ValidationError as exc:
            refusals.append(" ".join(exc.messages))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=give, args=(n,)) for n in nurses]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert Administration.objects.filter(order=prn_order).count() == 1
    assert len(refusals) == 4 and all("Too soon" in r for r in refusals)


@pytest.mark.django_db(transaction=True)
def test_two_nurses_giving_two_orders_of_one_drug_at_once_save_one_dose(
    cast,
    facility,
    prn_order,  # noqa: F811
):
    """Issue 9: the interval is shared by every order of the drug, so each give locks them all
    (in pk order): one nurse on each order, at the same moment, still saves exactly one dose."""
    from decimal import Decimal

    from medications.models import Ingredient, MedicationIngredient
    from medications.services import order_transcribe, order_verify

    acetaminophen = Ingredient.objects.create(facility=facility, name="acetaminophen")
    MedicationIngredient.objects.create(
        medication=prn_order.medication, ingredient=acetaminophen, mg_per_unit=500
    )
    tab325 = prn_order.medication.__class__.objects.create(
        facility=facility, name="Acetaminophen", strength="325 mg", form="tablet", routes="oral"
    )
    MedicationIngredient.objects.create(
        medication=tab325, ingredient=acetaminophen, mg_per_unit=325
    )
    other = order_transcribe(
        actor=cast["nurse"], admission=prn_order.admission, medication=tab325, dose="650 mg",
        dose_units=Decimal("2"), route="oral", frequency="prn", start_at=prn_order.start_at,
        prescriber_name="Dr. Prn", prescriber_credentials="MD", indication="pain",
        prn_min_interval_minutes=240, prn_max_per_24h=4,
    )  # fmt: skip
    order_verify(actor=prn_order.verifier, order=other)
    nurses = [cast["nurse"], make_user("prn_other_order", "nurse", facility)]
    barrier, refusals = threading.Barrier(2), []

    def give(nurse, order):
        try:
            barrier.wait(10)
            _give(order, nurse)
        except ValidationError as exc:
            refusals.append(" ".join(exc.messages))
        finally:
            close_old_connections()

    threads = [
        threading.Thread(target=give, args=(nurses[0], prn_order)),
        threading.Thread(target=give, args=(nurses[1], other)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert Administration.objects.count() == 1
    assert len(refusals) == 1 and "Too soon" in refusals[0]
