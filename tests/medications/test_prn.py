"""PRN doses: minimum interval and rolling 24-hour maximum at their boundaries, overrides,
pre-dose assessment and the effectiveness follow-up (specs/mar.md, PRN)."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from facility.models import Alert
from medications.models import Administration, Medication, PrnFollowUp
from medications.services import (
    order_transcribe,
    order_verify,
    prn_follow_up,
    prn_give,
    scan_prn_reassessments,
)
from tests.conftest import PASSWORD, make_user

NY = ZoneInfo("America/New_York")
DAY = datetime(2026, 5, 12, 8, 0, tzinfo=NY)


@pytest.fixture
def prn_order(cast, facility, admission):
    nurse2 = make_user("prn_verifier", "nurse", facility)
    med = Medication.objects.create(
        facility=facility,
        name="Acetaminophen",
        strength="500 mg",
        form="tablet",
        routes="oral",
    )
    with time_machine.travel(DAY, tick=False):
        admission.admitted_at = DAY - timedelta(days=2)
        admission.save(update_fields=["admitted_at"])
        order = order_transcribe(
            actor=cast["nurse"],
            admission=admission,
            medication=med,
            dose="500 mg",
            dose_units=Decimal("1"),
            route="oral",
            frequency="prn",
            start_at=DAY - timedelta(days=1),
            prescriber_name="Dr. Prn",
            prescriber_credentials="MD",
            indication="pain",
            prn_min_interval_minutes=240,
            prn_max_per_24h=3,
        )
        order_verify(actor=nurse2, order=order)
    order.verifier = nurse2
    return order


def give(order, nurse, at, **extra):
    with time_machine.travel(at, tick=False):
        return prn_give(
            actor=nurse, order=order, indication="headache", pre_assessment="pain 6/10", **extra
        )


@pytest.mark.django_db
def test_q4h_prn_last_given_at_10_is_blocked_at_1359_and_allowed_at_1400(cast, prn_order):
    give(prn_order, cast["nurse"], DAY.replace(hour=10))
    with pytest.raises(ValidationError, match="Too soon: the next dose is allowed from 14:00"):
        give(prn_order, cast["nurse"], DAY.replace(hour=13, minute=59))
    give(prn_order, cast["nurse"], DAY.replace(hour=14))
    assert Administration.objects.count() == 2


@pytest.mark.django_db
def test_rolling_24_hour_maximum_counts_only_the_last_24_hours(cast, prn_order):
    for hour in (0, 4, 8):
        give(prn_order, cast["nurse"], DAY.replace(hour=hour) + timedelta(days=1))
    # The fourth within 24 hours is refused even after the interval has passed.
    with pytest.raises(ValidationError, match="Maximum reached: 3 of 3 in 24 hours"):
        give(prn_order, cast["nurse"], DAY.replace(hour=23, minute=59) + timedelta(days=1))
    # Exactly 24 hours after the first, it has rolled off.
    give(prn_order, cast["nurse"], DAY.replace(hour=0) + timedelta(days=2))


@pytest.mark.django_db
def test_override_needs_a_reason_and_a_different_nurse(cast, prn_order):
    give(prn_order, cast["nurse"], DAY.replace(hour=10))
    early = DAY.replace(hour=11)
    with pytest.raises(ValidationError, match="An override needs a reason and a second nurse"):
        give(prn_order, cast["nurse"], early, override_reason="Severe pain")
    with pytest.raises(ValidationError, match="different nurse"):
        give(prn_order, cast["nurse"], early, override_reason="Severe", override_by=cast["nurse"])
    with pytest.raises(ValidationError, match="different nurse"):
        give(
            prn_order,
            cast["nurse"],
            early,
            override_reason="Severe",
            override_by=cast["technician"],
        )
    admin = give(
        prn_order,
        cast["nurse"],
        early,
        override_reason="Severe pain, MD called",
        override_by=prn_order.verifier,
    )
    assert admin.override_by == prn_order.verifier


@pytest.mark.django_db
def test_prn_needs_indication_and_pre_dose_assessment(cast, prn_order):
    with time_machine.travel(DAY, tick=False), pytest.raises(ValidationError) as info:
        prn_give(actor=cast["nurse"], order=prn_order, indication="", pre_assessment="")
    assert set(info.value.message_dict) == {"indication", "pre_assessment"}
    with pytest.raises(PermissionDenied):
        prn_give(actor=cast["technician"], order=prn_order, indication="x", pre_assessment="y")


@pytest.mark.django_db
def test_reassessment_overdue_alerts_once_and_follow_up_closes_it(cast, prn_order):
    admin = give(prn_order, cast["nurse"], DAY.replace(hour=10))
    with time_machine.travel(DAY.replace(hour=11, minute=30), tick=False):
        assert scan_prn_reassessments() == 0  # oral: due 11:00 through 11:30
    with time_machine.travel(DAY.replace(hour=11, minute=31), tick=False):
        assert scan_prn_reassessments() == 1
        assert scan_prn_reassessments() == 0
        prn_follow_up(
            actor=cast["nurse"],
            administration=admin,
            result="effective",
            post_assessment="pain 2/10",
            score=2,
        )
        assert scan_prn_reassessments() == 0
    assert Alert.objects.filter(kind="prn_reassessment_overdue").count() == 1
    with pytest.raises(ValidationError, match="already has its follow-up"):
        prn_follow_up(actor=cast["nurse"], administration=admin, result="partial")


@pytest.mark.django_db
def test_second_nurse_cosigns_an_override_with_their_password(client, cast, prn_order):
    give(prn_order, cast["nurse"], DAY.replace(hour=10))
    client.force_login(cast["nurse"])
    url = reverse("medications:prn_give", args=[prn_order.public_id])
    with time_machine.travel(DAY.replace(hour=11), tick=True):
        data = {
            "indication": "pain",
            "pre_assessment": "8/10",
            "override_reason": "Post-fall",
            "second_nurse": prn_order.verifier.username,
            "second_password": "wrong-password",
        }
        page = client.post(url, data, follow=True).content.decode()
        assert "Second person: username or password is not correct, or they" in page
        data["second_password"] = PASSWORD
        page = client.post(url, data, follow=True).content.decode()
    assert "PRN given" in page
    assert Administration.objects.filter(override_by=prn_order.verifier).count() == 1


@pytest.mark.django_db
def test_an_interval_longer_than_a_day_is_enforced(cast, prn_order):
    """A q48h PRN: the dose 30 hours ago still blocks the next one (review of issue 7)."""
    prn_order.prn_min_interval_minutes = 48 * 60
    prn_order.save(update_fields=["prn_min_interval_minutes"])
    give(prn_order, cast["nurse"], DAY.replace(hour=10))
    with pytest.raises(ValidationError, match="Too soon"):
        give(prn_order, cast["nurse"], DAY.replace(hour=16) + timedelta(days=1))
    give(prn_order, cast["nurse"], DAY.replace(hour=10) + timedelta(days=2))
    assert Administration.objects.filter(order=prn_order).count() == 2


def follow_up_page(client, nurse, admin, when, body):
    client.force_login(nurse)
    url = reverse("medications:prn_follow_up", args=[admin.public_id])
    with time_machine.travel(when, tick=False):
        return client.post(url, body)


@pytest.mark.django_db
def test_a_follow_up_before_the_reassessment_time_needs_a_reason(client, cast, prn_order):
    admin = give(prn_order, cast["nurse"], DAY.replace(hour=10))  # oral: reassess from 11:00
    body = {"result": "effective", "post_assessment": "resting, pain 2/10", "score": "2"}
    response = follow_up_page(client, cast["nurse"], admin, DAY.replace(hour=10, minute=59), body)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Reassessment opens at 11:00; say why the effect is assessed early." in page
    assert 'value="resting, pain 2/10"' in page  # what was typed is kept
    assert not PrnFollowUp.objects.exists()
    body["early_reason"] = "Client leaving for court"
    response = follow_up_page(client, cast["nurse"], admin, DAY.replace(hour=10, minute=59), body)
    assert response.status_code == 302
    assert PrnFollowUp.objects.get().early_reason == "Client leaving for court"


@pytest.mark.django_db
def test_a_follow_up_is_an_assessment_with_a_score_when_the_dose_had_one(cast, prn_order):
    admin = give(prn_order, cast["nurse"], DAY.replace(hour=10))  # "pain 6/10"
    with time_machine.travel(DAY.replace(hour=11), tick=False):
        with pytest.raises(ValidationError) as refused:
            prn_follow_up(actor=cast["nurse"], administration=admin, result="effective")
        assert set(refused.value.message_dict) == {"post_assessment", "score"}
        with pytest.raises(ValidationError) as refused:
            prn_follow_up(
                actor=cast["nurse"],
                administration=admin,
                result="effective",
                post_assessment="resting",
                score=11,
            )
        assert refused.value.message_dict == {"score": ["Score: 0 to 10."]}
        with pytest.raises(ValidationError, match="Effect: effective, partially"):
            prn_follow_up(
                actor=cast["nurse"],
                administration=admin,
                result="",
                post_assessment="resting",
                score=3,
            )
        follow = prn_follow_up(
            actor=cast["nurse"],
            administration=admin,
            result="partial",
            post_assessment="resting",
            score=0,
        )
    assert (follow.result, follow.score, follow.early_reason) == ("partial", 0, "")


@pytest.mark.django_db
def test_a_dose_without_a_pre_dose_score_takes_a_follow_up_without_one(cast, prn_order):
    admin = give(prn_order, cast["nurse"], DAY.replace(hour=10))
    Administration.objects.filter(pk=admin.pk).update(pre_assessment="anxious, pacing")
    with time_machine.travel(DAY.replace(hour=11), tick=False):
        follow = prn_follow_up(
            actor=cast["nurse"],
            administration=admin,
            result="not_effective",
            post_assessment="still pacing",
        )
    assert follow.score is None


@pytest.mark.django_db
def test_the_give_form_records_a_pre_dose_score_and_the_follow_up_then_needs_one(
    client, cast, prn_order
):
    client.force_login(cast["nurse"])
    url = reverse("medications:prn_give", args=[prn_order.public_id])
    with time_machine.travel(DAY.replace(hour=10), tick=False):
        refused = client.post(
            url, {"indication": "pain", "pre_assessment": "aching knee", "pre_score": "11"}
        )
        assert "Pre-dose score (0-10): a whole number from 0 to 10." in refused.content.decode()
        assert 'value="aching knee"' in refused.content.decode()
        client.post(url, {"indication": "pain", "pre_assessment": "aching knee", "pre_score": "7"})
    admin = Administration.objects.get()
    assert admin.pre_assessment == "aching knee · score 7/10"
    body = {"result": "effective", "post_assessment": "walking", "score": ""}
    response = follow_up_page(client, cast["nurse"], admin, DAY.replace(hour=11), body)
    assert "Score: the pre-dose assessment was scored" in response.content.decode()
    body["score"] = "12"
    response = follow_up_page(client, cast["nurse"], admin, DAY.replace(hour=11), body)
    assert "Score after the dose (0-10): a whole number from 0 to 10." in response.content.decode()
    body["score"] = "3"
    assert (
        follow_up_page(client, cast["nurse"], admin, DAY.replace(hour=11), body).status_code == 302
    )


def mar_pdf_text(client, nurse, admission) -> str:
    import io
    import re

    from pypdf import PdfReader

    client.force_login(nurse)
    url = reverse("medications:mar_pdf", args=[admission.public_id])
    response = client.get(url, {"start": "2026-05-12", "end": "2026-05-12"})
    pages = PdfReader(io.BytesIO(response.content)).pages
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pages))


@pytest.mark.django_db
def test_the_printed_mar_shows_the_effect_score_and_observation_never_a_bare_effective(
    client, cast, prn_order
):
    scored = give(prn_order, cast["nurse"], DAY.replace(hour=10))
    with time_machine.travel(DAY.replace(hour=11), tick=False):
        prn_follow_up(
            actor=cast["nurse"],
            administration=scored,
            result="partial",
            post_assessment="resting in bed",
            score=3,
        )
    # A follow-up charted before issue 9: "Effective" with nothing observed.
    blank = give(prn_order, cast["nurse"], DAY.replace(hour=15))
    PrnFollowUp.objects.create(
        administration=blank,
        result="effective",
        post_assessment="",
        recorded_at=DAY.replace(hour=16),
        recorded_by=cast["nurse"],
    )
    text = mar_pdf_text(client, cast["nurse"], prn_order.admission)
    assert "Partially effective · score 3/10 · resting in bed" in text
    assert "No assessment recorded" in text
    assert text.count("Effective") == 0


@pytest.mark.django_db
def test_a_prn_given_before_the_order_was_verified_is_refused_on_the_page(client, cast, prn_order):
    client.force_login(cast["nurse"])
    url = reverse("medications:prn_give", args=[prn_order.public_id])
    body = {"indication": "pain", "pre_assessment": "pain 6/10", "given_at": "2026-05-12T07:30"}
    with time_machine.travel(DAY.replace(hour=8, minute=30), tick=False):  # verified at 08:00
        refused = client.post(url, body)
        assert refused.status_code == 400
        text = refused.content.decode()
        assert "Given at: before the order was verified or released (08:00)." in text
        assert 'value="pain 6/10"' in text
        assert not Administration.objects.exists()
        client.post(url, {**body, "given_at": "2026-05-12T08:10"})
    assert Administration.objects.get().given_at == DAY.replace(minute=10)


@pytest.mark.django_db
def test_a_prn_given_long_ago_is_refused_and_a_late_entry_needs_a_reason_shown_on_the_mar(
    client, cast, prn_order
):
    client.force_login(cast["nurse"])
    url = reverse("medications:prn_give", args=[prn_order.public_id])
    body = {"indication": "pain", "pre_assessment": "pain 6/10"}
    now = DAY.replace(hour=22)
    with time_machine.travel(now, tick=False):
        text = client.post(url, {**body, "given_at": "2026-05-12T09:59"}).content.decode()
        assert "Given at: more than 12 hours ago" in text
        text = client.post(url, {**body, "given_at": "2026-05-12T20:30"}).content.decode()
        assert "Reason: a dose given more than 60 minutes ago is a late entry; say why." in text
        assert not Administration.objects.exists()
        client.post(url, {**body, "given_at": "2026-05-12T21:05"})  # 55 minutes ago: no reason
        client.post(url, {**body, "given_at": "2026-05-12T10:30", "reason": "Forgot to chart"})
        pdf = client.get(
            reverse("medications:mar_pdf", args=[prn_order.admission.public_id]),
            {"start": "2026-05-12"},
        )
    admins = Administration.objects.order_by("given_at")
    assert [(a.given_at.astimezone(NY).hour, a.reason) for a in admins] == [
        (10, "Forgot to chart"),
        (21, ""),
    ]
    text = pdf_text(pdf.content)
    assert "late entry, charted 05-12 22:00: Forgot to chart" in text


def pdf_text(content: bytes) -> str:
    import re
    import subprocess

    out = subprocess.run(
        ["pdftotext", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()
    return re.sub(r"\s+", " ", out)
