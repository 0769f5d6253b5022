"""Orders, doses and their documentation on a real database (specs/mar.md)."""

import threading
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.services import admission_discharge
from facility.models import Alert
from medications.models import Administration, Medication, Order, ScheduledDose
from medications.services import (
    DoseAlreadyCharted,
    administration_record,
    administration_strike,
    doses_extend_horizon,
    order_discontinue,
    order_transcribe,
    order_verify,
    scan_doses,
)
from tests.conftest import admit, make_user

NY = ZoneInfo("America/New_York")


@pytest.fixture
def catalog(facility):
    return {
        "bup": Medication.objects.create(
            facility=facility, name="Buprenorphine/naloxone", strength="8 mg/2 mg", form="film",
            routes="sublingual", controlled_schedule="III", time_critical=True,
        ),
        "clonidine": Medication.objects.create(
            facility=facility, name="Clonidine", strength="0.1 mg", form="tablet", routes="oral"
        ),
        "penicillin": Medication.objects.create(
            facility=facility, name="Penicillin VK", strength="500 mg", form="tablet",
            routes="oral",
        ),
    }  # fmt: skip


def transcribe(admission, nurse, med, **overrides):
    fields = dict(
        dose="0.1 mg",
        dose_units=Decimal("1"),
        route="oral",
        frequency="bid",
        start_at=admission.admitted_at,
        prescriber_name="Dr. Rivera",
        prescriber_credentials="MD",
    )
    fields.update(overrides)
    return order_transcribe(actor=nurse, admission=admission, medication=med, **fields)


@pytest.fixture
def bid_order(cast, admission, catalog, nurse2):
    with time_machine.travel(datetime(2026, 5, 12, 6, 0, tzinfo=NY), tick=False):
        admission.admitted_at = datetime(2026, 5, 11, 12, 0, tzinfo=NY)
        admission.save(update_fields=["admitted_at"])
        order = transcribe(admission, cast["nurse"], catalog["clonidine"])
        order_verify(actor=nurse2, order=order)
    return order


@pytest.mark.django_db
def test_an_order_gives_no_dose_until_a_second_nurse_verifies_it(cast, admission, catalog, nurse2):
    with time_machine.travel(datetime(2026, 5, 12, 6, 0, tzinfo=NY), tick=False):
        admission.admitted_at = datetime(2026, 5, 11, 12, 0, tzinfo=NY)
        admission.save(update_fields=["admitted_at"])
        order = transcribe(admission, cast["nurse"], catalog["clonidine"])
        assert ScheduledDose.objects.count() == 0
        with pytest.raises(ValidationError, match="different nurse"):
            order_verify(actor=cast["nurse"], order=order)
        with pytest.raises(PermissionDenied):
            order_verify(actor=cast["supervisor"], order=order)
        order_verify(actor=nurse2, order=order)
    # The 48 h after verifying at 06:00 on May 12: 09:00 and 21:00 on the 12th and the 13th.
    doses = ScheduledDose.objects.filter(order=order).order_by("scheduled_at")
    assert [timezone.localtime(d.scheduled_at, NY).strftime("%d %H:%M") for d in doses] == [
        "12 09:00",
        "12 21:00",
        "13 09:00",
        "13 21:00",
    ]


@pytest.mark.django_db
def test_the_database_refuses_an_order_verified_by_its_transcriber(cast, admission, catalog):
    order = transcribe(admission, cast["nurse"], catalog["clonidine"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(
            verified_by=cast["nurse"], verified_at=timezone.now()
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"route": ""}, "route", "Route: choose how the dose is given."),
        ({"route": "iv"}, "route", "is not given iv"),
        ({"dose_units": Decimal("0")}, "dose_units", "Units per dose"),
        ({"dose_units": Decimal("-2")}, "dose_units", "Units per dose"),
        ({"frequency": "prn"}, "prn_min_interval_minutes", "Minimum interval"),
        ({"frequency": "times", "times": "9am"}, "times", "is not a time like 09:00"),
        ({"stop_at": datetime(2020, 1, 1, tzinfo=NY)}, "stop_at", "Stop: must be after"),
    ],
)
def test_bad_orders_name_the_field_and_save_nothing(
    cast, admission, catalog, overrides, field, message
):
    with pytest.raises(ValidationError) as info:
        transcribe(admission, cast["nurse"], catalog["clonidine"], **overrides)
    assert field in info.value.message_dict
    assert message in " ".join(info.value.message_dict[field])
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_allergy_conflict_needs_an_override_reason(cast, admission, catalog):
    # The admission fixture's client is allergic to Penicillin.
    with pytest.raises(ValidationError, match="Allergy: the chart lists Penicillin"):
        transcribe(admission, cast["nurse"], catalog["penicillin"])
    order = transcribe(
        admission, cast["nurse"], catalog["penicillin"],
        allergy_override_reason="Prescriber aware; rash only, benefits outweigh",
    )  # fmt: skip
    assert order.allergy_override_reason.startswith("Prescriber aware")


@pytest.mark.django_db
def test_doses_fall_on_local_times_across_spring_forward(cast, facility, catalog, nurse2):
    with time_machine.travel(datetime(2026, 3, 7, 12, 0, tzinfo=NY), tick=False):
        stay = admit(facility, cast["nurse"], admitted_at=datetime(2026, 3, 7, 11, 0, tzinfo=NY))
        order = transcribe(
            stay,
            cast["nurse"],
            catalog["clonidine"],
            frequency="times",
            times="02:30,09:00",
            start_at=datetime(2026, 3, 7, 11, 0, tzinfo=NY),
        )
        order_verify(actor=nurse2, order=order)
    local = [
        d.scheduled_at.astimezone(NY).strftime("%m-%d %H:%M %Z")
        for d in ScheduledDose.objects.filter(order=order)
    ]
    # 02:30 does not exist on March 8: the dose falls at 03:30 EDT, once.
    assert local == ["03-08 03:30 EDT", "03-08 09:00 EDT", "03-09 02:30 EDT", "03-09 09:00 EDT"]


@pytest.mark.django_db
def test_horizon_is_kept_48_hours_ahead_and_reruns_add_nothing(bid_order):
    later = datetime(2026, 5, 14, 6, 0, tzinfo=NY)
    with time_machine.travel(later, tick=False):
        first = doses_extend_horizon()
        again = doses_extend_horizon()
    assert first > 0 and again == 0
    last = ScheduledDose.objects.filter(order=bid_order).order_by("-scheduled_at").first()
    # BID at 09:00 and 21:00: the last dose within 48 h of Thursday 06:00 is Friday 21:00.
    assert last.scheduled_at == datetime(2026, 5, 15, 21, 0, tzinfo=NY)


@pytest.mark.django_db
def test_discontinuing_cancels_future_doses_at_once(cast, bid_order):
    with time_machine.travel(datetime(2026, 5, 12, 10, 0, tzinfo=NY), tick=False):
        with pytest.raises(ValidationError, match="Reason"):
            order_discontinue(actor=cast["nurse"], order=bid_order, reason="")
        order_discontinue(actor=cast["nurse"], order=bid_order, reason="BP low all week")
    future = ScheduledDose.objects.filter(
        order=bid_order, scheduled_at__gt=datetime(2026, 5, 12, 10, 0, tzinfo=NY)
    )
    assert future.exists() and not future.filter(cancelled_at__isnull=True).exists()


def first_dose(order):
    """The order's first dose (every dose has a window or a deadline since issue 9)."""
    return ScheduledDose.objects.filter(order=order).order_by("scheduled_at").first()


@pytest.mark.django_db
def test_given_on_time_early_and_late_need_reasons_outside_the_window(cast, bid_order):
    dose = first_dose(bid_order)  # 05-12 09:00, ±60
    with time_machine.travel(dose.scheduled_at + timedelta(minutes=90), tick=False):
        with pytest.raises(ValidationError, match="given late"):
            administration_record(actor=cast["nurse"], dose=dose, outcome="given")
        admin = administration_record(
            actor=cast["nurse"], dose=dose, outcome="given", reason="Client was in group"
        )
    assert admin.timing == "late"


@pytest.mark.django_db
def test_refusal_needs_a_reason_and_a_given_time_cannot_be_in_the_future(cast, bid_order):
    dose = first_dose(bid_order)
    with time_machine.travel(dose.scheduled_at, tick=False):
        with pytest.raises(ValidationError, match="Reason: say why the dose was refused"):
            administration_record(actor=cast["nurse"], dose=dose, outcome="refused")
        with pytest.raises(ValidationError, match="Given at: cannot be in the future"):
            administration_record(
                actor=cast["nurse"], dose=dose, outcome="given",
                given_at=dose.scheduled_at + timedelta(hours=1),
            )  # fmt: skip
    assert Administration.objects.count() == 0


@pytest.mark.django_db
def test_second_charting_of_a_dose_is_told_who_charted_it(cast, bid_order):
    dose = first_dose(bid_order)
    with time_machine.travel(dose.scheduled_at, tick=False):
        administration_record(actor=cast["nurse"], dose=dose, outcome="given")
        with pytest.raises(DoseAlreadyCharted, match="Already charted by Nurse, RN at"):
            administration_record(
                actor=cast["supervisor"] if False else cast["nurse"], dose=dose, outcome="given"
            )


@pytest.mark.django_db(transaction=True)
def test_two_people_charting_one_dose_at_once_exactly_one_wins(cast, facility, catalog):
    nurse2 = make_user("nurse_race", "nurse", facility)
    stay = admit(facility, cast["nurse"], admitted_at=timezone.now() - timedelta(hours=2))
    order = transcribe(
        stay, cast["nurse"], catalog["clonidine"], frequency="times",
        times=timezone.localtime(timezone.now() + timedelta(minutes=20), facility.tz).strftime(
            "%H:%M"
        ),
        start_at=timezone.now() - timedelta(hours=1),
    )  # fmt: skip
    order_verify(actor=nurse2, order=order)
    dose = order.doses.order_by("scheduled_at").first()  # due in 20 minutes
    barrier = threading.Barrier(2)
    results = []

    def chart(user):
        try:
            barrier.wait()
            administration_record(actor=user, dose=dose, outcome="given")
            results.append("ok")
        except DoseAlreadyCharted as exc:
            results.append(exc.messages[0])
        finally:
            close_old_connections()

    threads = [threading.Thread(target=chart, args=(u,)) for u in (cast["nurse"], nurse2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1
    assert any(r.startswith("Already charted by") for r in results)
    assert Administration.objects.filter(dose=dose).count() == 1


@pytest.mark.django_db
def test_entered_in_error_keeps_the_original_and_frees_the_dose(cast, bid_order):
    dose = first_dose(bid_order)
    with time_machine.travel(dose.scheduled_at, tick=False):
        wrong = administration_record(actor=cast["nurse"], dose=dose, outcome="given")
        administration_strike(actor=cast["nurse"], administration=wrong, reason="Wrong client")
        administration_record(
            actor=cast["nurse"], dose=dose, outcome="refused", reason="Nauseous",
            prescriber_notified="no", prescriber_not_notified_reason="Will report at rounds",
        )  # fmt: skip
    rows = list(Administration.objects.filter(dose=dose).order_by("recorded_at", "id"))
    assert [r.outcome for r in rows] == ["given", "refused"]
    assert rows[0].struck_reason == "Wrong client" and rows[1].struck_at is None


@pytest.mark.django_db
def test_technicians_document_only_observed_self_administration(cast, bid_order):
    dose = first_dose(bid_order)
    with time_machine.travel(dose.scheduled_at, tick=False):
        with pytest.raises(PermissionDenied):
            administration_record(actor=cast["technician"], dose=dose, outcome="given")
        admin = administration_record(
            actor=cast["technician"], dose=dose, outcome="given", self_administered=True
        )
    assert admin.self_administered


@pytest.mark.django_db
def test_discharge_locks_the_mar(cast, bid_order):
    dose = first_dose(bid_order)
    with time_machine.travel(dose.scheduled_at, tick=False):
        admission_discharge(
            actor=cast["nurse"], admission=bid_order.admission,
            discharged_at=dose.scheduled_at - timedelta(minutes=5), discharge_type="ama",
        )  # fmt: skip
        with pytest.raises(ValidationError, match="MAR is closed"):
            administration_record(actor=cast["nurse"], dose=dose, outcome="given")


@pytest.mark.django_db
def test_scan_flags_late_then_missed_once_and_time_critical_alerts_supervisor(
    cast, admission, catalog, nurse2
):
    # Issue 9 changed this test: the first dose (05-12 08:00, after verification) is an
    # ordinary windowed dose now, late and missed like any other; it used to have no window.
    with time_machine.travel(datetime(2026, 5, 11, 13, 0, tzinfo=NY), tick=False) as traveller:
        admission.admitted_at = datetime(2026, 5, 11, 12, 0, tzinfo=NY)
        admission.save(update_fields=["admitted_at"])
        order = transcribe(
            admission, cast["nurse"], catalog["bup"], dose="8 mg/2 mg", route="sublingual",
            frequency="daily", times="08:00",
        )  # fmt: skip
        order_verify(actor=nurse2, order=order)
        first, second = ScheduledDose.objects.filter(order=order).order_by("scheduled_at")[:2]
        assert first.scheduled_at == datetime(2026, 5, 12, 8, 0, tzinfo=NY)
        assert (first.kind, first.window_minutes, first.deadline_at) == ("first", 30, None)
        traveller.move_to(datetime(2026, 5, 12, 23, 0, tzinfo=NY))
        assert scan_doses() == 2  # the first dose: missed + supervisor's critical alert
        # 05-13 08:00 is time-critical, ±30.
        traveller.move_to(datetime(2026, 5, 13, 8, 30, tzinfo=NY))
        assert scan_doses() == 0  # due
        traveller.move_to(datetime(2026, 5, 13, 8, 31, tzinfo=NY))
        assert scan_doses() == 1  # late
        assert scan_doses() == 0
        traveller.move_to(datetime(2026, 5, 13, 9, 0, tzinfo=NY))
        assert scan_doses() == 2  # missed + supervisor's critical alert
        traveller.move_to(datetime(2026, 5, 13, 12, 0, tzinfo=NY))
        assert scan_doses() == 0  # a late run adds nothing
    kinds = sorted(Alert.objects.values_list("kind", flat=True))
    assert kinds == ["dose_late", "dose_missed", "dose_missed", "dose_missed_critical",
                     "dose_missed_critical"]  # fmt: skip
    assert {a.severity for a in Alert.objects.filter(kind="dose_missed_critical")} == {"critical"}
    second.refresh_from_db()
    assert second.marked_missed_at is not None
    assert second.scheduled_at == datetime(2026, 5, 13, 8, 0, tzinfo=NY)


@pytest.mark.django_db
def test_a_one_time_dose_has_a_daily_window_and_is_missed_past_it(cast, admission, catalog, nurse2):
    # Issue 9 changed this test: a one-time dose used to have no window and stay due forever.
    with time_machine.travel(datetime(2026, 5, 12, 6, 0, tzinfo=NY), tick=False) as traveller:
        admission.admitted_at = datetime(2026, 5, 12, 5, 0, tzinfo=NY)
        admission.save(update_fields=["admitted_at"])
        once = transcribe(
            admission,
            cast["nurse"],
            catalog["clonidine"],
            frequency="once",
            start_at=datetime(2026, 5, 12, 9, 0, tzinfo=NY),
        )
        order_verify(actor=nurse2, order=once)
        dose = once.doses.get()
        assert (dose.kind, dose.window_minutes, dose.deadline_at) == ("once", 120, None)
        traveller.move_to(datetime(2026, 5, 12, 11, 1, tzinfo=NY))
        assert scan_doses() == 1  # late
        traveller.move_to(datetime(2026, 5, 12, 15, 0, tzinfo=NY))
        assert scan_doses() == 1  # missed
        with pytest.raises(ValidationError, match="given late"):
            administration_record(actor=cast["nurse"], dose=dose, outcome="given")
        admin = administration_record(
            actor=cast["nurse"], dose=dose, outcome="given", reason="Client was off the unit"
        )
    assert admin.timing == "late"
    assert sorted(Alert.objects.values_list("kind", flat=True)) == ["dose_late", "dose_missed"]


@pytest.mark.django_db
def test_mar_board_query_count_is_constant_in_clients_and_orders(
    client, cast, facility, catalog, nurse2
):
    client.force_login(cast["nurse"])
    url = reverse("medications:mar")

    def add_client(n):
        stay = admit(facility, cast["nurse"], n=n, admitted_at=timezone.now() - timedelta(hours=2))
        for _ in range(2):
            order = transcribe(
                stay,
                cast["nurse"],
                catalog["clonidine"],
                frequency="qid",
                start_at=timezone.now() - timedelta(hours=1),
            )
            order_verify(actor=nurse2, order=order)

    add_client(1)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, {"shift": "day"}).status_code == 200
    for n in range(2, 8):
        add_client(n)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, {"shift": "day"})
    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    assert "Test7 Person7" in response.content.decode()
    # The doses, their live documentation and who charted it: one query for the whole board.
    sqls = [q["sql"] for q in many.captured_queries]
    assert sum(s.startswith('SELECT "medications_scheduleddose"') for s in sqls) == 1
    assert not any(s.startswith('SELECT "medications_administration"') for s in sqls)


@pytest.mark.django_db
def test_mar_board_shows_each_dose_status_and_who_charted_it(client, cast, bid_order):
    morning, evening = ScheduledDose.objects.filter(order=bid_order).order_by("scheduled_at")[:2]
    with time_machine.travel(morning.scheduled_at, tick=False):
        administration_record(actor=cast["nurse"], dose=morning, outcome="given")
    with time_machine.travel(evening.scheduled_at + timedelta(minutes=90), tick=False):
        administration_record(
            actor=cast["nurse"], dose=evening, outcome="given", reason="Client was in group"
        )
    client.force_login(cast["nurse"])

    def page(day, shift):
        query = {"day": f"2026-05-{day}", "shift": shift}
        return client.get(reverse("medications:mar"), query).content.decode()

    with time_machine.travel(datetime(2026, 5, 13, 10, 30, tzinfo=NY), tick=False):
        pages = {(day, shift): page(day, shift) for day in (12, 13) for shift in ("day", "evening")}
        order_discontinue(actor=cast["nurse"], order=bid_order, reason="BP low all week")
        pages[13, "evening"] = page(13, "evening")

    def chip(status, at, label, by=""):
        by = f' <span class="meta">{by}</span>' if by else ""
        return (
            f'<li class="dose-chip st-{status}"><span class="dose-time">{at}</span> Clonidine '
            f"0.1 mg <strong>{label}</strong>{by}</li>"
        )

    nurse = cast["nurse"].initials
    assert chip("given", "09:00", "Given", nurse) in pages[12, "day"]
    assert chip("given_late", "21:00", "Given late", nurse) in pages[12, "evening"]
    assert chip("late", "09:00", "Late") in pages[13, "day"]  # ±60: late from 10:01
    assert chip("cancelled", "21:00", "Cancelled") in pages[13, "evening"]


@pytest.mark.django_db
def test_med_pass_shows_the_five_rights_and_a_second_browser_sees_it_charted(
    client, cast, bid_order
):
    dose = first_dose(bid_order)
    with time_machine.travel(dose.scheduled_at, tick=True):
        client.force_login(cast["nurse"])
        url = reverse("medications:med_pass", args=[bid_order.admission.public_id])
        page = client.get(url).content.decode()
        client_ = bid_order.admission.client
        for text in (client_.mrn, "Penicillin", "Clonidine 0.1 mg", "Oral (PO)", "Due"):
            assert text in page
        client.post(
            reverse("medications:dose_document", args=[dose.public_id]), {"outcome": "given"}
        )
        other = client.__class__()
        other.force_login(cast["nurse"])
        response = other.post(
            reverse("medications:dose_document", args=[dose.public_id]), {"outcome": "given"},
            follow=True,
        )  # fmt: skip
    assert "Already charted by Nurse, RN" in response.content.decode()
    assert Administration.objects.filter(dose=dose).count() == 1


@pytest.mark.django_db
def test_mar_pdf_lists_doses_outcomes_initials_and_the_notice(client, cast, bid_order):
    import io
    import re

    from pypdf import PdfReader

    dose = first_dose(bid_order)
    with time_machine.travel(dose.scheduled_at, tick=False):
        administration_record(
            actor=cast["nurse"], dose=dose, outcome="refused", reason="Asleep",
            prescriber_notified="no", prescriber_not_notified_reason="Will report at rounds",
        )  # fmt: skip
    client.force_login(cast["nurse"])
    url = reverse("medications:mar_pdf", args=[bid_order.admission.public_id])
    response = client.get(url, {"start": "2026-05-12", "end": "2026-05-13"})
    assert response["Content-Type"] == "application/pdf"
    text = re.sub(
        r"\s+",
        " ",
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages),
    )
    assert "Medication administration record" in text
    assert "Clonidine 0.1 mg tablet" in text and "Refused" in text and "Asleep" in text
    assert "NU = Nurse, RN" in text
    assert "42 CFR part 2 prohibits unauthorized use or disclosure of these records." in text
    assert client.get(url, {"start": "2026-05-13", "end": "2026-05-01"}).status_code == 404


@pytest.mark.django_db
def test_a_given_time_in_the_future_is_refused_on_the_med_pass(client, cast, bid_order):
    from tests.conftest import form_time

    dose = first_dose(bid_order)
    with time_machine.travel(dose.scheduled_at, tick=True):
        client.force_login(cast["nurse"])
        page = client.post(
            reverse("medications:dose_document", args=[dose.public_id]),
            {
                "outcome": "given",
                "given_at": form_time(
                    dose.scheduled_at + timedelta(hours=2), bid_order.admission.facility
                ),
            },
            follow=True,
        ).content.decode()  # fmt: skip
    assert "Given at: cannot be in the future." in page
    assert Administration.objects.count() == 0


@pytest.mark.django_db
def test_mar_pdf_shows_the_cosign_the_hold_parameter_and_whether_the_prescriber_was_told(
    client, cast, bid_order, nurse2
):
    import re
    import subprocess

    doses = list(ScheduledDose.objects.filter(order=bid_order).order_by("scheduled_at")[:4])
    with time_machine.travel(doses[0].scheduled_at, tick=False):
        administration_record(actor=cast["nurse"], dose=doses[0], outcome="given")
    with time_machine.travel(doses[1].scheduled_at - timedelta(minutes=90), tick=False):
        administration_record(
            actor=cast["nurse"], dose=doses[1], outcome="given", reason="Leaving for court",
            override_by=nurse2,
        )  # fmt: skip
    with time_machine.travel(doses[2].scheduled_at, tick=False):
        administration_record(
            actor=cast["nurse"], dose=doses[2], outcome="held", reason="BP 92/60",
            hold_parameter="SBP < 100",
        )  # fmt: skip
    with time_machine.travel(doses[3].scheduled_at + timedelta(minutes=15), tick=False):
        administration_record(
            actor=cast["nurse"], dose=doses[3], outcome="refused", reason="Nauseous",
            prescriber_notified="yes", prescriber_notified_name="Dr. Rivera",
            prescriber_notified_at=doses[3].scheduled_at + timedelta(minutes=10),
        )  # fmt: skip
    client.force_login(cast["nurse"])
    url = reverse("medications:mar_pdf", args=[bid_order.admission.public_id])
    response = client.get(url, {"start": "2026-05-12", "end": "2026-05-13"})
    out = subprocess.run(
        ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    text = re.sub(r"\s+", " ", out)
    assert f"too soon, co-signed by {nurse2.initials}: Leaving for court" in text
    assert "hold parameter met: SBP < 100" in text
    assert "prescriber told: Dr. Rivera 05-13 21:10" in text
    assert f"{nurse2.initials} = {nurse2.signature}" in text


@pytest.mark.django_db
def test_a_stat_dose_verified_days_after_its_time_is_marked_missed_and_alerts(
    cast, admission, catalog, nurse2
):
    admission.admitted_at = datetime(2026, 5, 11, 12, 0, tzinfo=NY)
    admission.save(update_fields=["admitted_at"])
    with time_machine.travel(datetime(2026, 5, 12, 10, 0, tzinfo=NY), tick=False):
        order = transcribe(
            admission, cast["nurse"], catalog["clonidine"], frequency="once", priority="stat",
            start_at=datetime(2026, 5, 12, 10, 0, tzinfo=NY),
        )  # fmt: skip
    with time_machine.travel(datetime(2026, 5, 14, 12, 0, tzinfo=NY), tick=False):
        order_verify(actor=nurse2, order=order)
        scan_doses()
    dose = ScheduledDose.objects.get(order=order)
    assert dose.deadline_at == datetime(2026, 5, 12, 10, 30, tzinfo=NY)
    assert dose.marked_missed_at == datetime(2026, 5, 14, 12, 0, tzinfo=NY)
    kinds = sorted(Alert.objects.values_list("kind", flat=True))
    assert kinds == ["dose_missed", "dose_missed_critical"]


@pytest.mark.django_db
def test_the_scan_sees_a_first_dose_by_its_deadline_after_its_time_left_the_lookback(
    cast, admission, catalog, nurse2
):
    admission.admitted_at = datetime(2026, 5, 11, 12, 0, tzinfo=NY)
    admission.save(update_fields=["admitted_at"])
    with time_machine.travel(datetime(2026, 5, 12, 23, 50, tzinfo=NY), tick=False):
        order = transcribe(
            admission, cast["nurse"], catalog["clonidine"], frequency="daily", times="00:30"
        )
        order_verify(actor=nurse2, order=order)
    first = first_dose(order)
    assert first.scheduled_at == datetime(2026, 5, 12, 0, 30, tzinfo=NY)
    assert first.deadline_at == datetime(2026, 5, 13, 0, 50, tzinfo=NY)
    # The scan was down for a day: its first run after is 48.5 hours after the dose's time.
    with time_machine.travel(datetime(2026, 5, 14, 1, 0, tzinfo=NY), tick=False):
        scan_doses()
    first.refresh_from_db()
    assert first.marked_missed_at is not None
