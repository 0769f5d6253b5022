"""Issue 17, "Found when tried as each role": admissions, leaves and the printed MAR.

"Readmit" only for a client not in a bed; a known client whose drug allergies were never recorded
is asked at readmission; the leave form says "Record leave"; the MAR prints any day of the stay.
"""

import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from clients.models import Admission, Allergy, AllergyStatus, Client
from clients.services import admission_admit, admission_discharge
from facility.models import AccessEvent, Bed
from tests.clients.test_admission import admit_form
from tests.conftest import admit, form_time, make_user

NY = ZoneInfo("America/New_York")


def page(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def discharged(facility, nurse, **fields) -> Admission:
    stay = admit(facility, nurse, **fields)
    admission_discharge(
        actor=nurse, admission=stay, discharged_at=timezone.now(), discharge_type="completed"
    )
    return stay


def free_bed(facility) -> Bed:
    from clients.forms import free_beds

    return free_beds(facility).first()


def readmit_body(facility, **extra) -> dict:
    return {
        "bed": free_bed(facility).pk,
        "level_of_care": "3.5",
        "admitted_at": form_time(timezone.now() - timedelta(minutes=1), facility),
        **extra,
    }


# ---------------------------------------------------------------- readmit only when not in a bed


@pytest.mark.django_db
def test_the_admit_page_offers_the_chart_not_readmit_for_a_client_in_a_bed(client, cast, facility):
    in_bed = admit(facility, cast["nurse"], first="Morgan", last="Tillbury", dob=date(1988, 4, 12))
    client.force_login(cast["nurse"])
    text = page(client.post(reverse("clients:admit"), admit_form(facility, free_bed(facility))))
    assert "Possible match already on file" in text
    assert reverse("clients:readmit", args=[in_bed.client.public_id]) not in text
    assert reverse("clients:chart", args=[in_bed.client.public_id]) in text
    assert "In a bed now" in text


@pytest.mark.django_db
def test_the_admit_page_still_offers_readmit_for_a_discharged_client(client, cast, facility):
    gone = discharged(
        facility, cast["nurse"], first="Morgan", last="Tillbury", dob=date(1988, 4, 12)
    )
    client.force_login(cast["nurse"])
    text = page(client.post(reverse("clients:admit"), admit_form(facility, free_bed(facility))))
    assert reverse("clients:readmit", args=[gone.client.public_id]) in text


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_readmit_refuses_a_client_in_a_bed_with_a_message(client, cast, facility, method):
    stay = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    client.force_login(cast["nurse"])
    url = reverse("clients:readmit", args=[stay.client.public_id])
    response = getattr(client, method)(url, readmit_body(facility) if method == "post" else {})
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:chart", args=[stay.client.public_id])
    assert any("is already admitted" in m for m in messages_of(response))
    assert Admission.objects.filter(client=stay.client).count() == 1


@pytest.mark.django_db
def test_the_chart_offers_readmit_only_after_discharge(client, cast, facility):
    stay = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    client.force_login(cast["nurse"])
    readmit = reverse("clients:readmit", args=[stay.client.public_id])
    chart = reverse("clients:chart", args=[stay.client.public_id])
    assert readmit not in page(client.get(chart))
    admission_discharge(
        actor=cast["nurse"], admission=stay, discharged_at=timezone.now(), discharge_type="ama"
    )
    assert readmit in page(client.get(chart))


# ---------------------------------------------------------------- allergies at (re)admission


@pytest.mark.django_db
def test_readmitting_a_client_without_an_allergy_answer_asks_for_it(client, cast, facility):
    gone = discharged(facility, cast["nurse"], first="Robin", last="Ashdown", allergies="")
    client.force_login(cast["nurse"])
    url = reverse("clients:readmit", args=[gone.client.public_id])
    assert "Drug allergies" in page(client.get(url))
    response = client.post(url, readmit_body(facility))
    assert response.status_code == 200
    assert response.context["allergy_form"].errors["allergy_status"] == [
        "Drug allergies: choose NKDA, or list the drug allergies below."
    ]
    assert gone.client.admissions.count() == 1


@pytest.mark.django_db
def test_readmission_records_nkda_or_the_listed_allergies(client, cast, facility):
    first = discharged(facility, cast["nurse"], first="Robin", last="Ashdown", allergies="")
    second = discharged(facility, cast["nurse"], first="Kai", last="Nakamura", n=2, allergies="")
    client.force_login(cast["nurse"])
    response = client.post(
        reverse("clients:readmit", args=[first.client.public_id]),
        readmit_body(facility, allergy_status="nkda"),
    )
    assert response.status_code == 302
    assert Client.objects.get(pk=first.client_id).allergy_status == AllergyStatus.NKDA
    response = client.post(
        reverse("clients:readmit", args=[second.client.public_id]),
        readmit_body(facility, allergy_status="listed", allergen_1="Codeine", kind_1="drug"),
    )
    assert response.status_code == 302
    assert Client.objects.get(pk=second.client_id).allergy_status == AllergyStatus.LISTED
    assert Allergy.objects.filter(client=second.client, allergen="Codeine").exists()
    assert second.client.admissions.current().exists()


@pytest.mark.django_db
def test_a_client_with_an_answer_on_file_is_readmitted_without_asking_again(client, cast, facility):
    gone = discharged(facility, cast["nurse"], first="Robin", last="Ashdown")  # NKDA
    client.force_login(cast["nurse"])
    url = reverse("clients:readmit", args=[gone.client.public_id])
    assert 'name="allergy_status"' not in page(client.get(url))
    assert client.post(url, readmit_body(facility)).status_code == 302


@pytest.mark.django_db
def test_the_service_still_readmits_for_its_existing_callers(cast, facility):
    gone = discharged(facility, cast["nurse"], first="Robin", last="Ashdown", allergies="")
    bed = free_bed(facility)
    again = admission_admit(
        actor=cast["nurse"], facility=facility, unit=bed.unit, bed=bed, level_of_care="3.5",
        admitted_at=timezone.now(), client=gone.client,
    )  # fmt: skip
    assert again.is_open


# ---------------------------------------------------------------- the leave form's words


@pytest.mark.django_db
def test_the_leave_form_says_record_leave_never_sign_out(client, cast, facility):
    stay = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    client.force_login(cast["technician"])
    chart = page(client.get(reverse("clients:chart", args=[stay.client.public_id])))
    assert ">Record leave off site</a>" in chart
    text = page(client.get(reverse("clients:leave_start", args=[stay.public_id])))
    main = text[text.index('<main id="main"') :]
    assert ">Record leave</button>" in main
    assert "sign out" not in main.lower()


# ---------------------------------------------------------------- MAR printed for a chosen day


@pytest.fixture
def mar_stay(cast, facility):
    """Admitted 2026-05-11 12:00 on clonidine twice a day; the 2026-05-12 morning dose refused."""
    from medications.models import Medication, ScheduledDose
    from medications.services import administration_record, order_transcribe, order_verify

    med = Medication.objects.create(
        facility=facility, name="Clonidine", strength="0.1 mg", form="tablet", routes="oral"
    )
    with time_machine.travel(datetime(2026, 5, 12, 6, 0, tzinfo=NY), tick=False):
        stay = admit(facility, cast["nurse"], admitted_at=datetime(2026, 5, 11, 12, 0, tzinfo=NY))
        order = order_transcribe(
            actor=cast["nurse"], admission=stay, medication=med, dose="0.1 mg",
            dose_units=Decimal("1"), route="oral", frequency="bid", start_at=stay.admitted_at,
            prescriber_name="Dr. Rivera", prescriber_credentials="MD",
        )  # fmt: skip
        order_verify(actor=make_user("nurse_two", "nurse", facility), order=order)
    dose = (
        ScheduledDose.objects.filter(order=order, scheduled_at__date__gte=date(2026, 5, 12))
        .order_by("scheduled_at")
        .first()
    )
    with time_machine.travel(dose.scheduled_at, tick=False):
        administration_record(
            actor=cast["nurse"], dose=dose, outcome="refused", reason="Asleep",
            prescriber_notified="no", prescriber_not_notified_reason="Will report at rounds",
        )  # fmt: skip
    return stay


def pdf_text(response) -> str:
    from pypdf import PdfReader

    assert response["Content-Type"] == "application/pdf", response.status_code
    pages = PdfReader(io.BytesIO(response.content)).pages
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pages))


@pytest.mark.django_db
def test_the_med_pass_lets_the_nurse_choose_the_day_within_the_stay(client, cast, mar_stay):
    client.force_login(cast["nurse"])
    with time_machine.travel(datetime(2026, 5, 14, 10, 0, tzinfo=NY), tick=False):
        text = page(client.get(reverse("medications:med_pass", args=[mar_stay.public_id])))
    assert f'action="{reverse("medications:mar_pdf", args=[mar_stay.public_id])}"' in text
    assert 'type="date"' in text and 'name="start"' in text
    assert 'min="2026-05-11"' in text and 'max="2026-05-14"' in text
    assert "Print today&#x27;s MAR" not in text and "Print today's MAR" not in text


@pytest.mark.django_db
def test_the_mar_of_a_chosen_day_shows_that_days_doses_and_is_audited(client, cast, mar_stay):
    client.force_login(cast["nurse"])
    url = reverse("medications:mar_pdf", args=[mar_stay.public_id])
    with time_machine.travel(datetime(2026, 5, 14, 10, 0, tzinfo=NY), tick=False):
        before = AccessEvent.objects.filter(action="print").count()
        chosen = pdf_text(client.get(url, {"start": "2026-05-12"}))
        other_day = pdf_text(client.get(url, {"start": "2026-05-13"}))
        assert AccessEvent.objects.filter(action="print").count() == before + 2
        # Not in the future, not before the stay.
        assert client.get(url, {"start": "2026-05-15"}).status_code == 404
        assert client.get(url, {"start": "2026-05-12", "end": "2026-05-15"}).status_code == 404
        assert client.get(url, {"start": "2026-05-01"}).status_code == 404
    assert "2026-05-12 to 2026-05-12" in chosen
    assert "Refused" in chosen and "Asleep" in chosen
    assert "2026-05-13 to 2026-05-13" in other_day and "Asleep" not in other_day


@pytest.mark.django_db
def test_a_discharged_stays_mar_prints_its_last_day_by_default(client, cast, mar_stay):
    with time_machine.travel(datetime(2026, 5, 12, 18, 0, tzinfo=NY), tick=False):
        admission_discharge(
            actor=cast["nurse"], admission=mar_stay, discharged_at=timezone.now(),
            discharge_type="completed",
        )  # fmt: skip
    client.force_login(cast["nurse"])
    with time_machine.travel(datetime(2026, 5, 20, 10, 0, tzinfo=NY), tick=False):
        response = client.get(reverse("medications:mar_pdf", args=[mar_stay.public_id]))
    text = pdf_text(response)
    assert "2026-05-12 to 2026-05-12" in text and "Asleep" in text
