"""Clinical-safety review of issue 11's rules (vitals, NEWS2, withdrawal, score-triggered PRN, hold
parameters). Each test states what the spec or the issue asks and fails on the current code: the
docstring says what a patient could lose."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from facility.models import Alert, AlertSeverity
from medications.models import Administration, Medication
from medications.services import order_transcribe, order_verify, prn_give
from observations.services import (
    assessment_strike,
    scan_reassessments_overdue,
    scan_vitals_overdue,
    vitals_record,
    vitals_schedule_set,
    vitals_status,
    vitals_strike,
)
from observations.services.withdrawal import protocol_statuses
from observations.views.vitals_review import review_rows, sort_rows
from tests.conftest import admit, make_user
from tests.observations.withdrawal_helpers import score, start

NY = ZoneInfo("America/New_York")


def at(h, m=0, day=12):
    return datetime(2026, 5, day, h, m, tzinfo=NY)


FULL = {"sbp": "120", "dbp": "80", "hr": "72", "rr": "16", "temp": "37.0", "spo2": "98",
        "on_oxygen": False, "acvpu": "A"}  # fmt: skip
HIGH = {"sbp": "91", "dbp": "60", "hr": "41", "rr": "9", "temp": "35.1", "spo2": "92",
        "on_oxygen": False, "acvpu": "A"}  # spec example: NEWS2 7, high  # fmt: skip


@pytest.fixture
def stay(cast, facility):
    with time_machine.travel(at(6, 5), tick=False):
        return admit(facility, cast["nurse"], admitted_at=at(6, 0))


def record(actor, admission, when, values, *, now=None, late_reason=""):
    now = now or when
    with time_machine.travel(now, tick=False):
        return vitals_record(
            actor=actor, admission=admission, taken_at=when, values=values, now=now,
            late_reason=late_reason,
        )  # fmt: skip


def q4h(actor, admission):
    with time_machine.travel(at(6, 30), tick=False):
        vitals_schedule_set(
            actor=actor, admission=admission, every_minutes=240, spo2_scale2=False,
            pregnant=False, reason="CIWA-Ar protocol",
        )  # fmt: skip


def open_overdue_vitals(admission):
    return Alert.objects.open().filter(
        client_public_id=admission.client.public_id, kind="vitals_overdue"
    )


# ------------------------------------------------------------------ vitals overdue alerts


@pytest.mark.django_db
def test_backdated_vitals_set_does_not_erase_the_overdue_alert(cast, stay):
    """A set entered late with a taken_at OLDER than the last set answers nothing that is owed,
    yet close_overdue_alerts closes every open overdue alert, and the scan never raises the same
    key again (alerts are `once`). The board still says overdue, but nobody is alerted: a client
    on q4h withdrawal vitals can go unchecked for hours. Fix: close only the alerts whose owed
    time is answered by the new set (taken_at >= owed - window, as _close_answered does for
    scores), or recompute vitals_status after saving and close only if it is no longer owed."""
    nurse = cast["nurse"]
    q4h(nurse, stay)
    record(nurse, stay, at(7, 0), FULL)  # next owed 11:00, overdue 11:30
    assert scan_vitals_overdue(now=at(12, 0)) == 1
    # A paper sheet from 06:45 is entered now: it is older than the 07:00 set.
    record(nurse, stay, at(6, 45), FULL, now=at(12, 5), late_reason="Paper sheet from admission")
    assert vitals_status([stay], at(12, 10))[stay.pk].state == "overdue"
    scan_vitals_overdue(now=at(12, 10))
    assert open_overdue_vitals(stay).exists(), "still overdue, but the alert was closed for good"


@pytest.mark.django_db
def test_striking_the_set_that_answered_an_overdue_alert_brings_the_alert_back(cast, stay):
    """The set that closed the overdue alert is struck (charted on the wrong client). The client
    is overdue again for the same owed time, but alerts_raise_many skips a key raised before:
    no alert. Fix: on strike, reopen (or re-raise with a new key, e.g. including the struck
    set's id / a generation) the overdue alerts that set had closed."""
    nurse = cast["nurse"]
    q4h(nurse, stay)
    record(nurse, stay, at(7, 0), FULL)
    assert scan_vitals_overdue(now=at(12, 0)) == 1
    wrong = record(nurse, stay, at(12, 5), FULL)
    assert not open_overdue_vitals(stay).exists()
    with time_machine.travel(at(12, 10), tick=False):
        vitals_strike(actor=nurse, vitals=wrong, reason="Charted on the wrong client")
    assert vitals_status([stay], at(12, 15))[stay.pk].state == "overdue"
    scan_vitals_overdue(now=at(12, 15))
    assert open_overdue_vitals(stay).exists()


@pytest.mark.django_db
def test_striking_the_score_that_answered_an_overdue_reassessment_brings_the_alert_back(cast, stay):
    """Same hole for CIWA-Ar: a score closes the overdue-reassessment alert, is struck, the
    reassessment is overdue again for the same owed time, and the scan stays silent (same dedupe
    key). A client in alcohol withdrawal goes unscored with no alert. Fix: as above."""
    nurse = cast["nurse"]
    with time_machine.travel(at(8, 0), tick=False):
        start(nurse, stay, at=at(7, 55))
    score(nurse, stay, 4, at=at(8, 0))  # next owed 12:00, overdue 12:15
    assert scan_reassessments_overdue(now=at(12, 20)) == 1
    wrong = score(nurse, stay, 5, at=at(12, 25))
    assert not Alert.objects.open().filter(kind="withdrawal_overdue").exists()
    assessment_strike(actor=nurse, assessment=wrong, reason="Wrong client", now=at(12, 30))
    status = next(iter(protocol_statuses([stay.pk], now=at(12, 35)).values()))
    assert status.state == "overdue"
    scan_reassessments_overdue(now=at(12, 35))
    assert Alert.objects.open().filter(kind="withdrawal_overdue").exists()


# ------------------------------------------------------------------ NEWS2 / flag alerts


@pytest.mark.django_db
def test_an_incomplete_set_with_acvpu_unresponsive_alerts_the_nurse(cast, stay):
    """ACVPU U (or V, P, new confusion) scores 3 on its own, but ACVPU has no row in the
    notify table and an incomplete set has no NEWS2, so _alert returns without any alert: a
    client found unresponsive, charted with a pulse only, alerts nobody. Fix: alert on any red
    (3-point) parameter even when the set is incomplete, at least WARNING, and treat ACVPU != A
    as a flag."""
    record(cast["technician"], stay, at(9, 0), {"hr": "72", "acvpu": "U"})
    assert Alert.objects.open().filter(client_public_id=stay.client.public_id).exists()


@pytest.mark.django_db
def test_an_incomplete_set_already_scoring_high_alerts_as_critical(cast, stay):
    """RR 30, SpO2 85 on air, HR 135 and SBP 85 already score 12 without a temperature. The set is
    'incomplete', so the alert is a WARNING 'vitals_flag' and the 'high' response (emergency /
    transfer) is never shown. Fix: when the partial sum of the parameters present already reaches
    5 or 7, alert at that band's severity and say 'at least medium/high (incomplete)'."""
    record(cast["technician"], stay, at(9, 0),
           {"rr": "30", "spo2": "85", "on_oxygen": False, "hr": "135", "sbp": "85", "dbp": "50",
            "acvpu": "A"})  # fmt: skip
    alert = Alert.objects.get(client_public_id=stay.client.public_id)
    assert alert.severity == AlertSeverity.CRITICAL


@pytest.mark.django_db
def test_a_temperature_with_two_decimals_is_not_scored_above_the_value_stored(cast, stay):
    """The service scores and flags 35.04 °C as it came (NEWS2 temperature 1, no flag), then the
    numeric(3,1) column stores 35.0, a hypothermia flag and a red score on the chart. The
    form rounds to 0.1, but vitals_record (the API the breath-alcohol entry points will call)
    does not. Fix: quantize temp_c half-up to 0.1 in _measured before scoring (or refuse more
    than one decimal)."""
    v = record(cast["nurse"], stay, at(9, 0), {**FULL, "temp": "35.04"})
    v.refresh_from_db()
    assert v.temp_c == Decimal("35.0")
    assert "temp_c" in v.flags.split(","), "stored 35.0 meets notify ≤ 35.0 but was not flagged"


# ------------------------------------------------------------------ unit review


@pytest.mark.django_db
def test_a_later_weight_only_set_does_not_hide_a_high_news2_on_the_unit_review(cast, stay):
    """The unit review shows each client's latest set of any kind. A daily weight charted after a
    NEWS2 7 set replaces it: the row reads 'incomplete', with no NEWS2, and sorts below every
    scored client. (The schedule and the scan use CORE_FIELDS; the review does not.) Fix: pick
    the latest set with a core vital sign (or the latest scored set) for NEWS2 and flags, and
    show a later partial set beside it."""
    nurse = cast["nurse"]
    record(nurse, stay, at(8, 0), HIGH)
    record(nurse, stay, at(8, 30), {"weight_kg": "70.0"})
    row = next(r for r in review_rows(stay.unit, at(9, 0)) if r.admission.pk == stay.pk)
    assert row.band == "high"


@pytest.mark.django_db
def test_news2_sort_puts_an_incomplete_set_with_critical_values_above_a_normal_client(
    cast, facility, stay
):
    """Sorted by NEWS2 (the default), any incomplete set goes below every scored one, so HR 150
    with SBP 70 (temperature not yet taken) sits under a client scoring 0. Fix: sort an
    incomplete set by the partial sum of its present parameters (or by red scores/flags)
    together with the scored sets, not after them."""
    nurse = cast["nurse"]
    with time_machine.travel(at(6, 10), tick=False):
        well = admit(facility, nurse, bed=None, admitted_at=at(6, 0))
    assert well.unit_id == stay.unit_id
    record(nurse, stay, at(8, 0), {"hr": "150", "sbp": "70", "dbp": "40", "rr": "28"})
    record(nurse, well, at(8, 0), FULL)
    rows = sort_rows(review_rows(stay.unit, at(9, 0)), "news2")
    assert rows[0].admission.pk == stay.pk


@pytest.mark.django_db
def test_news2_sort_puts_a_red_score_above_a_low_4(cast, facility, stay):
    """NEWS2 3 from a single red parameter (new confusion) is 'low-medium' (urgent response), above
    a 'low' 4 in the spec's response table, but the sort orders by total first: the confused
    client is listed under the low-4 one. Fix: sort by band rank first (high, medium,
    low-medium, low), then total."""
    nurse = cast["nurse"]
    with time_machine.travel(at(6, 10), tick=False):
        other = admit(facility, nurse, admitted_at=at(6, 0))
    assert other.unit_id == stay.unit_id
    record(nurse, stay, at(8, 0), {**FULL, "acvpu": "C"})  # 3, low-medium
    low4 = {**FULL, "hr": "95", "rr": "22", "temp": "37.0", "sbp": "115"}  # hr 1 + rr 2 = 3
    low4["spo2"] = "95"  # +1 = 4, low
    record(nurse, other, at(8, 0), low4)
    rows = sort_rows(review_rows(stay.unit, at(9, 0)), "news2")
    assert [r.vitals.news2_band for r in rows[:2]] == ["low-medium", "low"]


# ------------------------------------------------------------------ PRN with hold parameters


@pytest.mark.django_db
def test_a_prn_with_a_hold_parameter_is_not_given_silently_on_a_hold_value(cast, stay):
    """order_transcribe accepts structured holds on ANY order, including PRN (clonidine PRN for
    COWS, hold if SBP < 90, is the commonest case), but prn_give never judges them: with SBP 85
    charted ten minutes ago the dose is recorded as given with no warning, no reason and no
    hold vital recorded. A hypotensive client gets more clonidine. Fix: call _judge_holds from
    prn_give (ask for the vital when none is recent; a met rule needs 'held' or a reason) and
    record hold_vital_* on the Administration, and show the hold on the PRN card."""
    nurse, nurse2 = cast["nurse"], make_user("nurse_two", "nurse", stay.facility)
    med = Medication.objects.create(
        facility=stay.facility, name="Clonidine", strength="0.1 mg", form="tablet", routes="oral"
    )
    with time_machine.travel(at(6, 30), tick=False):
        order = order_transcribe(
            actor=nurse, admission=stay, medication=med, dose="0.1 mg",
            dose_units=Decimal("1"), route="oral", frequency="prn", times="",
            indication="Opioid withdrawal", prn_min_interval_minutes=240, prn_max_per_24h=4,
            start_at=at(6, 30), prescriber_name="Dr. Rivera", prescriber_credentials="MD",
            holds=[("sbp", "lt", Decimal(90))],
        )  # fmt: skip
        order_verify(actor=nurse2, order=order)
    record(nurse, stay, at(9, 50), {**FULL, "sbp": "85", "dbp": "50"})
    with time_machine.travel(at(10, 0), tick=False):
        # Without a reason the hold refuses the dose, on the hold's own field, and saves nothing.
        with pytest.raises(ValidationError) as refused:
            prn_give(
                actor=nurse,
                order=order,
                indication="COWS 9",
                pre_assessment="restless",
                now=at(10, 0),
            )
        assert "SBP 85 < 90" in " ".join(refused.value.message_dict["hold_reason"])
        assert not Administration.objects.filter(order=order).exists()
        # With one, it is given and records the vital and the rule met.
        admin = prn_give(
            actor=nurse,
            order=order,
            indication="COWS 9",
            pre_assessment="restless",
            hold_reason="Prescriber ordered it given",
            now=at(10, 0),
        )
    admin = Administration.objects.get(pk=admin.pk)
    assert admin.hold_vital == "sbp" and admin.hold_vital_value == Decimal(85)
    assert "SBP 85 < 90" in admin.hold_parameter and "Prescriber ordered it given" in admin.reason


# ------------------------------------------------------------------ UI review (vitals pages)


@pytest.mark.django_db(transaction=True)
def test_skip_charted_on_the_vitals_round_works_outside_a_test_transaction(client, cast, facility):
    """UI review a: vitals_skip locked the stay (select_for_update) outside a transaction, a 500
    in real use that the usual test transaction hides. Posted through the page, committed."""
    from django.urls import reverse

    from facility.models import Bed, Unit

    unit = Unit.objects.get(facility=facility, name="East")
    stay = admit(facility, cast["nurse"], bed=Bed.objects.filter(unit=unit).first())
    client.force_login(cast["technician"])
    url = reverse("observations:vitals_round", args=[unit.public_id])
    started = client.post(url, {"everyone": "on"})  # the new client is not due yet
    round_url = started["Location"]
    assert started.status_code == 302 and "round=" in round_url
    response = client.post(
        round_url, {"action": "skip", "admission": str(stay.public_id), "skip_reason": "Asleep"}
    )
    assert response.status_code == 302
    alert = Alert.objects.get(kind="vitals_skipped")
    assert "Asleep" in alert.message


@pytest.mark.django_db
def test_the_blood_pressure_boxes_have_no_placeholder_values(client, cast, admission):
    """UI review b: grey "120" / "80" in the BP boxes read as values already entered."""
    from django.urls import reverse

    client.force_login(cast["nurse"])
    html = client.get(reverse("observations:vitals_record", args=[admission.public_id])).content
    html = html.decode()
    assert 'placeholder="120"' not in html and 'placeholder="80"' not in html
    assert "mmHg" in html


@pytest.mark.django_db
def test_the_schedule_form_opens_on_the_frequency_in_force(client, cast, admission):
    """UI review c: the page said "Now: daily" with "Every 4 hours" selected."""
    from django.urls import reverse

    client.force_login(cast["nurse"])
    url = reverse("observations:vitals_schedule", args=[admission.public_id])
    html = client.get(url).content.decode()
    assert "Now: <strong>daily</strong>" in html
    assert '<option value="1440" selected>' in html
    assert '<option value="240" selected>' not in html
    vitals_schedule_set(
        actor=cast["nurse"], admission=admission, every_minutes=120, spo2_scale2=False,
        pregnant=False, reason="CIWA-Ar protocol",
    )  # fmt: skip
    html = client.get(url).content.decode()
    assert '<option value="120" selected>' in html and '<option value="1440" selected>' not in html


@pytest.mark.django_db
def test_the_vitals_review_does_not_highlight_rounds(client, cast, admission):
    """UI review d: the unit's vitals review is not the rounds board; no main-nav item is
    marked current (it has no nav entry of its own)."""
    from django.urls import reverse

    client.force_login(cast["nurse"])
    html = client.get(
        reverse("observations:vitals_review", args=[admission.unit.public_id])
    ).content.decode()
    nav = html[html.index('class="mainnav"') : html.index("</nav>")]
    assert 'aria-current="page"' not in nav
    board = client.get(reverse("observations:rounds"), follow=True).content.decode()
    assert 'aria-current="page">Rounds<' in board
