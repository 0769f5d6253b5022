"""Orders the way they arrive (issue 9, item 10): a prescriber's own order acknowledged by one
nurse, verbal and telephone orders read back and co-signed, a STAT or PRN order given before its
second check when one nurse is on shift, and the worklists of both."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from facility.models import Alert
from medications.models import Administration, Medication, Order
from medications.services import (
    order_discontinue,
    order_release,
    order_transcribe,
    order_verify,
    scan_orders,
)
from tests.conftest import form_time, make_user


@pytest.fixture
def med(facility):
    return Medication.objects.create(
        facility=facility, name="Ondansetron", strength="4 mg", form="tablet", routes="oral"
    )


def prescriber_at(facility, username="dr_ames", credentials="MD"):
    user = make_user(username, "clinician", facility)
    user.credentials = credentials
    user.save(update_fields=["credentials"])
    return user


@pytest.fixture
def prescriber(facility):
    return prescriber_at(facility)


def body(admission, med, **extra) -> dict:
    data = {
        "medication": med.pk, "dose": "4 mg", "dose_units": "1", "route": "oral",
        "frequency": "times", "times": "09:00", "priority": "routine", "indication": "",
        "start_at": form_time(timezone.now(), admission.facility), "stop_at": "",
        "hold_parameters": "", "source": "written", "prescriber_name": "Dr. Written",
        "prescriber_credentials": "MD", "allergy_override_reason": "",
    }  # fmt: skip
    data.update(extra)
    return data


def transcribe(nurse, admission, med, **extra) -> Order:
    fields = {
        "dose": "4 mg", "dose_units": Decimal("1"), "route": "oral", "frequency": "times",
        "times": "09:00", "start_at": admission.admitted_at, "prescriber_name": "Dr. Written",
        "prescriber_credentials": "MD",
    }  # fmt: skip
    fields.update(extra)
    return order_transcribe(actor=nurse, admission=admission, medication=med, **fields)


def stat(nurse, admission, med) -> Order:
    return transcribe(
        nurse, admission, med, frequency="once", times="", priority="stat",
        start_at=timezone.now(),
    )  # fmt: skip


def verbal(nurse, admission, med, prescriber, source="verbal") -> Order:
    return transcribe(
        nurse, admission, med, source=source, prescriber=prescriber, read_back=True,
        prescriber_name="", prescriber_credentials="",
    )  # fmt: skip


def text(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- a prescriber's own order


@pytest.mark.django_db
def test_a_prescriber_enters_and_signs_an_order_and_one_nurse_acknowledges_it(
    client, cast, admission, med, prescriber
):
    client.force_login(prescriber)
    url = reverse("medications:order_prescribe", args=[admission.public_id])
    assert "Enter and sign an order" in text(client.get(url))
    response = client.post(url, body(admission, med, source="", prescriber_name=""))
    order = Order.objects.get()
    assert response["Location"] == reverse("medications:order_detail", args=[order.public_id])
    assert (order.source, order.prescriber, order.transcribed_by) == (
        "prescriber", prescriber, prescriber,
    )  # fmt: skip
    assert order.prescriber_signed_at is not None
    assert (order.prescriber_name, order.prescriber_credentials) == ("Dr Ames", "MD")
    assert order.status == "awaiting acknowledgement"
    assert order.doses.count() == 0

    client.force_login(cast["nurse"])
    page = text(client.get(reverse("medications:order_detail", args=[order.public_id])))
    assert "Acknowledge this order" in page
    client.post(reverse("medications:order_verify", args=[order.public_id]))
    order.refresh_from_db()
    assert (order.verified_by, order.status) == (cast["nurse"], "active")
    assert order.doses.count() > 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "credentials, allowed",
    [("MD", True), ("D.O.", True), ("NP", True), ("PA-C", True), ("MD, PhD", True),
     ("LCSW", False), ("RN", False), ("PharmD", False), ("", False)],
)  # fmt: skip
def test_only_md_do_np_or_pa_credentials_sign_an_order(
    client, admission, med, credentials, allowed
):
    clinician = prescriber_at(admission.facility, "clin", credentials)
    client.force_login(clinician)
    url = reverse("medications:order_prescribe", args=[admission.public_id])
    # Only a prescriber is offered the page, the link to it and the co-sign list.
    page = client.get(url)
    assert page.status_code == (200 if allowed else 403)
    assert ('name="dose"' in text(page)) is allowed
    assert ("Enter and sign an order" in text(
        client.get(reverse("medications:med_pass", args=[admission.public_id]))
    )) is allowed  # fmt: skip
    assert ("To co-sign" in text(client.get(reverse("medications:mar")))) is allowed
    response = client.post(url, body(admission, med, dose="4 mg typed"))
    assert Order.objects.exists() is allowed
    if not allowed:  # refused at once, before the form is filled in, and saying why
        for refused in (page, response):
            assert refused.status_code == 403
            assert escape("Only an MD, DO, NP or PA enters and signs an order") in text(refused)
            assert escape(f"your credentials are “{credentials or 'none'}”") in text(refused)


@pytest.mark.django_db
def test_a_nurse_cannot_enter_an_order_as_a_prescriber(client, cast, admission, med):
    client.force_login(cast["nurse"])
    url = reverse("medications:order_prescribe", args=[admission.public_id])
    assert client.post(url, body(admission, med)).status_code == 403
    assert not Order.objects.exists()


# ---------------------------------------------------------------- verbal and telephone orders


@pytest.mark.django_db
def test_a_verbal_order_needs_read_back_and_a_prescriber_of_the_facility(
    client, cast, admission, med, prescriber, other_facility
):
    stranger = prescriber_at(other_facility, "dr_birch")
    client.force_login(cast["nurse"])
    url = reverse("medications:order_new", args=[admission.public_id])
    page = text(client.get(url))
    assert "Dr Ames, MD" in page and "Dr Birch" not in page
    verbal_body = body(
        admission, med, source="verbal", prescriber=str(prescriber.public_id),
        prescriber_name="", prescriber_credentials="", dose="4 mg verbal",
    )  # fmt: skip
    response = client.post(url, verbal_body)
    assert response.status_code == 200
    assert "Read-back: read the whole order back to the prescriber" in text(response)
    assert 'value="4 mg verbal"' in text(response)
    response = client.post(url, {**verbal_body, "prescriber": "", "read_back": "on"})
    assert "Prescriber: choose who gave the order." in text(response)
    response = client.post(
        url, {**verbal_body, "prescriber": str(stranger.public_id), "read_back": "on"}
    )
    assert escape("Prescriber: choose one of this facility's prescribers.") in text(response)
    assert not Order.objects.exists()

    client.post(url, {**verbal_body, "read_back": "on", "source": "telephone"})
    order = Order.objects.get()
    assert (order.source, order.read_back, order.prescriber) == ("telephone", True, prescriber)
    assert (order.prescriber_name, order.prescriber_credentials) == ("Dr Ames", "MD")
    assert order.prescriber_signed_at is None
    assert order.status == "awaiting verification"  # still checked by a second nurse


@pytest.mark.django_db
def test_the_prescriber_co_signs_from_their_list(client, cast, admission, med, prescriber):
    other_prescriber = prescriber_at(admission.facility, "dr_cole", "NP")
    mine = verbal(cast["nurse"], admission, med, prescriber)
    theirs = verbal(cast["nurse"], admission, med, other_prescriber, "telephone")
    written = transcribe(cast["nurse"], admission, med)
    client.force_login(prescriber)
    page = text(client.get(reverse("medications:orders_to_cosign")))
    assert reverse("medications:order_detail", args=[mine.public_id]) in page
    for absent in (theirs, written):
        assert reverse("medications:order_detail", args=[absent.public_id]) not in page
    assert 'To co-sign <span class="badge">1</span>' in text(client.get(reverse("medications:mar")))

    # Someone else's verbal order cannot be co-signed by this prescriber.
    client.post(reverse("medications:order_cosign", args=[theirs.public_id]))
    theirs.refresh_from_db()
    assert theirs.prescriber_signed_at is None
    response = client.post(reverse("medications:order_cosign", args=[mine.public_id]), follow=True)
    mine.refresh_from_db()
    assert mine.prescriber_signed_at is not None
    assert reverse("medications:order_detail", args=[mine.public_id]) not in text(response)
    # A nurse does not co-sign.
    client.force_login(cast["nurse"])
    assert (
        client.post(reverse("medications:order_cosign", args=[theirs.public_id])).status_code == 403
    )


@pytest.mark.django_db
def test_a_verbal_order_not_co_signed_in_time_alerts_once(client, cast, admission, med, prescriber):
    facility = admission.facility
    facility.order_cosign_hours = 24
    facility.save(update_fields=["order_cosign_hours"])
    start = timezone.now() - timedelta(hours=25)
    with time_machine.travel(start, tick=False):
        order = verbal(cast["nurse"], admission, med, prescriber)
        signed = verbal(cast["nurse"], admission, med, prescriber)
    for checked in (order, signed):  # checked by a second nurse: no "not checked" alert
        order_verify(actor=make_user(f"check_{checked.pk}", "nurse", facility), order=checked)
    client.force_login(prescriber)
    assert "overdue" in text(client.get(reverse("medications:orders_to_cosign")))
    client.post(reverse("medications:order_cosign", args=[signed.public_id]))
    assert scan_orders(now=start + timedelta(hours=23, minutes=59)) == 0
    assert scan_orders(now=start + timedelta(hours=24, minutes=1)) == 1
    assert scan_orders(now=start + timedelta(hours=30)) == 0  # deduped by order
    alert = Alert.objects.get()
    assert (alert.kind, alert.dedupe_key) == (
        "order_cosign_overdue",
        f"order-cosign-overdue:{order.public_id}",
    )
    assert "not co-signed by Dr Ames within 24 hours" in alert.message
    client.post(reverse("medications:order_cosign", args=[order.public_id]))
    alert.refresh_from_db()
    assert alert.resolved_by == prescriber


# ---------------------------------------------------------------- priority


@pytest.mark.django_db
@pytest.mark.parametrize("priority", ["stat", "now"])
def test_stat_and_now_are_one_time_orders_only(client, cast, admission, med, priority):
    client.force_login(cast["nurse"])
    url = reverse("medications:order_new", args=[admission.public_id])
    assert "STAT and NOW are one-time orders only" in text(client.get(url))
    response = client.post(url, body(admission, med, priority=priority))
    assert "Priority: STAT and NOW orders are one-time orders" in text(response)
    assert not Order.objects.exists()
    client.post(url, body(admission, med, priority=priority, frequency="once", times=""))
    assert Order.objects.get().priority == priority


# ---------------------------------------------------------------- given before the second check


@pytest.mark.django_db
def test_a_released_stat_shows_unverified_and_its_dose_can_be_given(
    client, cast, admission, med, nurse2
):
    nurse = cast["nurse"]
    order = stat(nurse, admission, med)
    client.force_login(nurse)
    detail = reverse("medications:order_detail", args=[order.public_id])
    assert "No second nurse on shift" in text(client.get(detail))
    release = reverse("medications:order_release", args=[order.public_id])
    response = client.post(release, {"reason": "Agitated, prescriber on the phone"}, follow=True)
    assert "Confirm that no second nurse is on shift" in text(response)
    client.post(release, {"no_second_nurse": "on", "reason": "Agitated, prescriber on phone"})
    order.refresh_from_db()
    assert (order.released_by, order.status, order.verified_at) == (nurse, "unverified", None)
    assert order.release_reason == "No second nurse on shift: Agitated, prescriber on phone"
    assert "unverified" in text(client.get(detail))
    assert "unverified" in text(
        client.get(reverse("medications:med_pass", args=[admission.public_id]))
    )
    dose = order.doses.get()
    client.post(
        reverse("medications:dose_document", args=[dose.public_id]),
        {"outcome": "given", "reason": "", "given_at": ""},
    )
    assert Administration.objects.filter(dose=dose, outcome="given").exists()
    # The second check still follows, by another nurse.
    order_verify(actor=nurse2, order=order)
    order.refresh_from_db()
    assert order.status == "active"


@pytest.mark.django_db
def test_a_released_prn_order_can_be_given(client, cast, admission, med):
    order = transcribe(
        cast["nurse"], admission, med, frequency="prn", times="", indication="Nausea",
        prn_min_interval_minutes=240, prn_max_per_24h=3,
    )  # fmt: skip
    client.force_login(cast["nurse"])
    give = reverse("medications:prn_give", args=[order.public_id])
    client.post(give, {"indication": "Nausea", "pre_assessment": "Nausea 6/10"})
    assert not Administration.objects.exists()  # not active before the check or a release
    client.post(
        reverse("medications:order_release", args=[order.public_id]),
        {"no_second_nurse": "on", "reason": "Vomiting, alone on nights"},
    )
    client.post(give, {"indication": "Nausea", "pre_assessment": "Nausea 6/10"})
    assert Administration.objects.filter(order=order, outcome="given").count() == 1


@pytest.mark.django_db
def test_only_stat_or_prn_orders_are_given_before_the_check(client, cast, admission, med):
    routine = transcribe(cast["nurse"], admission, med)
    client.force_login(cast["nurse"])
    assert "No second nurse on shift" not in text(
        client.get(reverse("medications:order_detail", args=[routine.public_id]))
    )
    response = client.post(
        reverse("medications:order_release", args=[routine.public_id]),
        {"no_second_nurse": "on", "reason": "Alone"},
        follow=True,
    )
    assert "only a STAT or PRN order may be given before the second check" in text(response)
    routine.refresh_from_db()
    assert routine.released_at is None and routine.doses.count() == 0


@pytest.mark.django_db
def test_an_order_still_unverified_after_release_alerts(cast, admission, med, nurse2):
    start = timezone.now()
    order = stat(cast["nurse"], admission, med)
    order_release(actor=cast["nurse"], order=order, reason="Alone", no_second_nurse=True, now=start)
    verified = stat(cast["nurse"], admission, med)
    order_release(
        actor=cast["nurse"], order=verified, reason="Alone", no_second_nurse=True, now=start
    )
    order_verify(actor=nurse2, order=verified)
    assert scan_orders(now=start + timedelta(hours=11, minutes=59)) == 0
    assert scan_orders(now=start + timedelta(hours=12, minutes=1)) == 1
    assert scan_orders(now=start + timedelta(hours=13)) == 0
    alert = Alert.objects.get()
    assert alert.dedupe_key == f"order-unverified:{order.public_id}"
    assert "still unverified after 12 hours" in alert.message


# ---------------------------------------------------------------- the worklists


@pytest.mark.django_db
def test_orders_to_verify_lists_every_unchecked_order_of_the_facility_only(
    client, cast, admission, med, prescriber, nurse2, other_admission
):
    nurse = cast["nurse"]
    waiting = transcribe(nurse, admission, med)
    released = stat(nurse, admission, med)
    order_release(actor=nurse, order=released, reason="Alone", no_second_nurse=True)
    by_prescriber = transcribe(
        prescriber, admission, med, source="prescriber", prescriber=prescriber
    )
    verified = transcribe(nurse, admission, med)
    order_verify(actor=nurse2, order=verified)
    stopped = transcribe(nurse, admission, med)
    order_discontinue(actor=nurse, order=stopped, reason="Wrong strength")
    other_med = Medication.objects.create(
        facility=other_admission.facility, name="Ondansetron", strength="4 mg", form="tablet",
        routes="oral",
    )  # fmt: skip
    elsewhere = transcribe(cast["other_nurse"], other_admission, other_med, start_at=timezone.now())

    client.force_login(nurse2)
    page = text(client.get(reverse("medications:orders_to_verify")))
    for shown, status in (
        (waiting, "awaiting verification"), (released, "unverified"),
        (by_prescriber, "awaiting acknowledgement"),
    ):  # fmt: skip
        assert reverse("medications:order_detail", args=[shown.public_id]) in page
        assert status in page
    for hidden in (verified, stopped, elsewhere):
        assert reverse("medications:order_detail", args=[hidden.public_id]) not in page
    assert "minute" in page  # the age of each row
    mar = text(client.get(reverse("medications:mar")))
    assert 'Orders to verify <span class="badge">3</span>' in mar
    assert "To co-sign" not in mar

    client.force_login(cast["other_nurse"])
    page = text(client.get(reverse("medications:orders_to_verify")))
    assert reverse("medications:order_detail", args=[elsewhere.public_id]) in page
    assert reverse("medications:order_detail", args=[waiting.public_id]) not in page


@pytest.mark.django_db
def test_the_verify_form_offers_start_with_the_next_time(client, cast, admission, med, nurse2):
    order = transcribe(cast["nurse"], admission, med)
    client.force_login(nurse2)
    page = text(client.get(reverse("medications:order_detail", args=[order.public_id])))
    assert 'name="start_with_next_time"' in page
    assert "Start with the next time: do not create today&#x27;s passed dose" in page
    client.post(
        reverse("medications:order_verify", args=[order.public_id]), {"start_with_next_time": "on"}
    )
    order.refresh_from_db()
    assert order.verified_by == nurse2
    assert order.start_with_next_time is True


@pytest.mark.django_db
def test_the_scan_runs_with_the_minute_task(cast, admission, med, prescriber):
    from medications.tasks import scan_doses

    with time_machine.travel(timezone.now() - timedelta(hours=49), tick=False):
        verbal(cast["nurse"], admission, med, prescriber)
    scan_doses()
    assert Alert.objects.filter(kind="order_cosign_overdue").count() == 1


@pytest.mark.django_db
def test_the_second_check_answers_the_unverified_alert(cast, admission, med, nurse2):
    start = timezone.now() - timedelta(hours=13)
    order = stat(cast["nurse"], admission, med)
    order_release(actor=cast["nurse"], order=order, reason="Alone", no_second_nurse=True, now=start)
    assert scan_orders() == 1
    order_verify(actor=nurse2, order=order)
    alert = Alert.objects.get(dedupe_key=f"order-unverified:{order.public_id}")
    assert alert.resolved_at is not None and alert.resolved_by == nurse2
    assert Alert.objects.open().count() == 0


# ---------------------------------------------------------------- an order nobody has checked


def entered(nurse, admission, med, priority, minutes_ago, **extra) -> Order:
    """An order transcribed `minutes_ago`, neither verified nor released since."""
    with time_machine.travel(timezone.now() - timedelta(minutes=minutes_ago), tick=False):
        if priority == "routine":
            return transcribe(nurse, admission, med, **extra)
        return transcribe(
            nurse, admission, med, frequency="once", times="", priority=priority,
            start_at=timezone.now(), **extra,
        )  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("priority", "limit", "kind", "severity", "says"),
    [
        ("stat", 30, "order_stat_unchecked", "critical",
         "neither verified nor released after 30 minutes. A second nurse must verify it, "
         "or give or release it now."),
        ("now", 60, "order_now_unchecked", "warning",
         "neither verified nor released after 60 minutes"),
        ("routine", 12 * 60, "order_unchecked", "warning", "still unverified after 12 hours"),
    ],
)  # fmt: skip
def test_an_order_nobody_checked_alerts_once_by_its_priority(
    client, cast, admission, med, priority, limit, kind, severity, says
):
    """Issue 9 safety review: an unchecked STAT order has no dose row, so no missed-dose alert
    would ever come; the scan itself must say it is waiting."""
    order = entered(cast["nurse"], admission, med, priority, limit + 1)
    entered(cast["nurse"], admission, med, priority, limit - 1)  # not yet
    assert scan_orders() == 1
    assert scan_orders() == 0  # one alert per order
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity, alert.dedupe_key) == (
        kind, severity, f"{kind.replace('_', '-')}:{order.public_id}"
    )  # fmt: skip
    assert alert.message.startswith(
        f"{'STAT o' if priority == 'stat' else 'NOW o' if priority == 'now' else 'O'}rder not "
        f"checked: Ondansetron 4 mg tablet 4 mg for {admission.client.display_name}, entered "
    )
    assert says in alert.message
    # The nurse and the supervisor see it on the alert board.
    for who in ("nurse", "supervisor"):
        client.force_login(cast[who])
        assert escape(alert.message) in text(client.get(reverse("alerts")))


@pytest.mark.django_db
def test_the_hours_of_a_routine_order_are_the_facilitys(cast, admission, med):
    facility = admission.facility
    facility.unverified_order_alert_hours = 2
    facility.save(update_fields=["unverified_order_alert_hours"])
    entered(cast["nurse"], admission, med, "routine", 119)
    assert scan_orders() == 0
    entered(cast["nurse"], admission, med, "routine", 121)
    assert scan_orders() == 1
    assert "still unverified after 2 hours" in Alert.objects.get().message


@pytest.mark.django_db
def test_a_checked_released_or_stopped_order_does_not_alert(cast, admission, med, nurse2):
    nurse = cast["nurse"]
    verified = entered(nurse, admission, med, "stat", 5)
    order_verify(actor=nurse2, order=verified)
    released = entered(nurse, admission, med, "stat", 5)
    order_release(actor=nurse, order=released, reason="Alone", no_second_nurse=True)
    stopped = entered(nurse, admission, med, "stat", 5)
    order_discontinue(actor=nurse, order=stopped, reason="Entered twice")
    assert scan_orders(now=timezone.now() + timedelta(hours=1)) == 0
    assert not Alert.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("answer", ["verify", "release", "discontinue"])
def test_checking_releasing_or_stopping_answers_the_stat_alert(
    cast, admission, med, nurse2, answer
):
    nurse = cast["nurse"]
    order = entered(nurse, admission, med, "stat", 31)
    assert scan_orders() == 1
    if answer == "verify":
        order_verify(actor=nurse2, order=order)
    elif answer == "release":
        order_release(actor=nurse, order=order, reason="Alone", no_second_nurse=True)
    else:
        order_discontinue(actor=nurse, order=order, reason="Prescriber cancelled")
    alert = Alert.objects.get(kind="order_stat_unchecked")
    assert alert.resolved_at is not None
    assert alert.resolved_by == (nurse2 if answer == "verify" else nurse)
    assert Alert.objects.open().count() == 0
    assert scan_orders() == 0  # not raised again


@pytest.mark.django_db
def test_the_scan_of_unchecked_orders_takes_the_same_queries_for_many_orders(
    cast, admission, med, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    entered(cast["nurse"], admission, med, "stat", 31)
    with CaptureQueriesContext(connection) as one:
        scan_orders()
    for priority, minutes in [("stat", 31), ("now", 61), ("routine", 12 * 60 + 1)] * 2:
        entered(cast["nurse"], admission, med, priority, minutes)
    with django_assert_num_queries(len(one.captured_queries)):
        assert scan_orders() == 6


# ---------------------------------------------------------------- the order page on a tablet


def panel(page: str, action: str) -> str:
    """The <details> panel whose form posts to `action`."""
    end = page.index(f'action="{action}"')
    start = page.rfind("<details", 0, end)
    return page[start : page.index("</form>", end)]


@pytest.mark.django_db
def test_a_refused_release_shows_the_order_again_with_its_panel_open_and_the_reason_kept(
    client, cast, admission, med
):
    order = stat(cast["nurse"], admission, med)
    client.force_login(cast["nurse"])
    release = reverse("medications:order_release", args=[order.public_id])
    page = text(client.get(reverse("medications:order_detail", args=[order.public_id])))
    form = panel(page, release)
    # Laid out like other forms: each field a block, label above a full-width input, outside
    # the row of buttons that squeezed it.
    assert form.startswith("<details") and " open" not in form[: form.index(">")]
    assert form.index('<label for="id_reason"') < form.index('id="id_reason"')
    assert '<div class="field' in form and "pass-form" not in form and "inline-form" not in form
    row = page[page.index('<div class="actions-row">') :]
    assert release not in row[: row.index("</div>")]

    response = client.post(release, {"reason": "Agitated, prescriber on the phone"})
    assert response.status_code == 400
    form = panel(text(response), release)
    assert form.startswith("<details") and " open" in form[: form.index(">")]
    assert 'value="Agitated, prescriber on the phone"' in form
    assert "Confirm that no second nurse is on shift to check it." in form
    order.refresh_from_db()
    assert order.released_at is None


@pytest.mark.django_db
def test_a_refused_discontinue_or_verify_shows_the_order_again_with_what_was_typed(
    client, cast, admission, med, nurse2
):
    order = transcribe(cast["nurse"], admission, med)
    client.force_login(nurse2)
    stop = reverse("medications:order_discontinue", args=[order.public_id])
    response = client.post(stop, {"reason": "x" * 301})
    assert response.status_code == 400
    form = panel(text(response), stop)
    assert " open" in form[: form.index(">")] and f'value="{"x" * 301}"' in form
    assert 'class="field has-error' in form
    response = client.post(stop, {"reason": ""})
    assert "Reason: say why the order is discontinued." in panel(text(response), stop)
    order.refresh_from_db()
    assert order.discontinued_at is None

    order_verify(actor=nurse2, order=order)  # meanwhile, at another tablet
    client.force_login(make_user("nurse_three", "nurse", admission.facility))
    response = client.post(reverse("medications:order_verify", args=[order.public_id]))
    assert response.status_code == 400  # the order page again, saying why, not a redirect
    assert escape(f"Already verified by {nurse2}.") in text(response)


@pytest.mark.django_db
def test_orders_to_verify_lists_stat_then_now_then_oldest_with_when_to_give(
    client, cast, admission, med
):
    nurse = cast["nurse"]
    oldest = entered(nurse, admission, med, "routine", 50, dose="1 mg")
    now_order = entered(nurse, admission, med, "now", 40, dose="2 mg")
    stat_order = entered(nurse, admission, med, "stat", 10, dose="3 mg")
    newest = entered(nurse, admission, med, "routine", 5, dose="4 mg")
    client.force_login(make_user("nurse_three", "nurse", admission.facility))
    page = text(client.get(reverse("medications:orders_to_verify")))
    rows = [page.index(f"{med} — {o.dose}") for o in (stat_order, now_order, oldest, newest)]
    assert rows == sorted(rows)
    give_by = timezone.localtime(
        stat_order.transcribed_at + timedelta(minutes=30), admission.facility.tz
    )
    stat_row = page[rows[0] : rows[1]]
    assert f"<strong>{give_by:%b} {give_by.day} {give_by:%H:%M}</strong>" in stat_row
    assert "within 60 min of verification" in page[rows[1] : rows[2]]
