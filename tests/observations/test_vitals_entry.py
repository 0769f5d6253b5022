"""Recording a set of vital signs: plausible ranges, °F, NEWS2 with its band and response, flags
that alert the nurse, late entries, and who may do it (issue 11 items 1 and 2)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility.models import Alert, Bed, Unit
from observations.models import VitalSigns
from observations.services import vitals_record, vitals_schedule_set, vitals_strike
from tests.clock import local_today
from tests.conftest import admit, form_time

NORMAL = {"sbp": "120", "dbp": "80", "hr": "72", "rr": "16", "temp": "37.0", "temp_unit": "C",
          "spo2": "98", "on_oxygen": "air", "acvpu": "A"}  # fmt: skip


def body(facility, **changes):
    data = {**NORMAL, "taken_at": form_time(timezone.now(), facility)}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def url(admission, **query):
    base = reverse("observations:vitals_record", args=[admission.public_id])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.mark.django_db
def test_an_implausible_heart_rate_of_400_is_refused_naming_the_field_and_nothing_is_saved(
    client, cast, facility, admission
):
    client.force_login(cast["technician"])
    before = VitalSigns.objects.count()
    response = client.post(url(admission), body(facility, hr="400"))
    page = response.content.decode()
    assert response.status_code == 400
    assert "Heart rate 400 is not plausible: the range is 20–250 bpm." in page
    assert "Nothing was saved." in page
    assert VitalSigns.objects.count() == before == 0
    assert not Alert.objects.filter(kind__in=["news2", "vitals_flag"]).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value, message",
    [
        ("rr", "70", "Respiratory rate 70 is not plausible: the range is 4–60 /min."),
        ("temp", "44", "Temperature 44 is not plausible: the range is 30–43 °C."),
        ("spo2", "101", "SpO2 101 is not plausible: the range is 50–100 %."),
        ("dbp", "130", "Diastolic BP must be below the systolic BP."),
        ("pain", "11", "Pain 11 is not plausible"),
        ("hr", "7.5", "Heart rate: enter a whole number."),
        ("hr", "abc", "Heart rate: enter a whole number."),
    ],
)
def test_every_implausible_value_is_refused_with_its_field_and_range(
    client, cast, facility, admission, field, value, message
):
    client.force_login(cast["nurse"])
    response = client.post(url(admission), body(facility, **{field: value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert VitalSigns.objects.count() == 0


@pytest.mark.django_db
def test_a_fahrenheit_temperature_is_stored_in_celsius_and_the_typed_value_kept(
    client, cast, facility, admission
):
    client.force_login(cast["technician"])
    response = client.post(url(admission), body(facility, temp="96.8", temp_unit="F"))
    assert response.status_code == 302
    vitals = VitalSigns.objects.get()
    assert vitals.temp_c == Decimal("36.0")
    assert vitals.temp_f_entered == Decimal("96.8")
    # 36.0 °C scores 1 for temperature (specs/scales.md example).
    assert vitals.news2_total == 1
    page = client.get(response["Location"]).content.decode()
    assert "36.0 °C" in page and "96.8 °F entered" in page


@pytest.mark.django_db
def test_an_implausible_fahrenheit_temperature_names_the_fahrenheit_range(
    client, cast, facility, admission
):
    client.force_login(cast["technician"])
    response = client.post(url(admission), body(facility, temp="200", temp_unit="F"))
    assert "Temperature 200 °F is not plausible: the range is 86–109.4 °F" in (
        response.content.decode()
    )
    assert VitalSigns.objects.count() == 0


@pytest.mark.django_db
def test_news2_is_stored_and_the_band_and_its_response_are_shown(client, cast, facility, admission):
    client.force_login(cast["nurse"])
    # specs/scales.md: RR 22, SpO2 95 air, SBP 105, HR 95, A, 38.3 → 6 medium.
    response = client.post(
        url(admission),
        body(facility, rr="22", spo2="95", sbp="105", dbp="70", hr="95", temp="38.3"),
    )
    vitals = VitalSigns.objects.get()
    assert (vitals.news2_total, vitals.news2_band, vitals.news2_red) == (6, "medium", False)
    assert vitals.flags == "temp_c"
    page = client.get(response["Location"]).content.decode()
    assert "NEWS2 6" in page
    assert "medium" in page
    assert "Call the prescriber now; consider transfer." in page
    alert = Alert.objects.get(kind="news2")
    assert alert.severity == "critical"
    assert "Call the prescriber now" in alert.message
    assert alert.link.endswith("#section-vitals")


@pytest.mark.django_db
def test_a_normal_complete_set_scores_0_and_alerts_nobody(client, cast, facility, admission):
    client.force_login(cast["technician"])
    response = client.post(url(admission), body(facility))
    vitals = VitalSigns.objects.get()
    assert (vitals.news2_total, vitals.news2_band, vitals.flags) == (0, "low", "")
    assert "Routine monitoring." in client.get(response["Location"]).content.decode()
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_an_out_of_range_value_alone_raises_an_alert_for_the_nurse(cast, facility, admission):
    vitals = vitals_record(
        actor=cast["technician"],
        admission=admission,
        taken_at=timezone.now(),
        values={"hr": 130},
    )
    assert vitals.flags == "hr"
    assert vitals.news2_total is None and vitals.news2_band == ""
    alert = Alert.objects.get(kind="vitals_flag")
    assert alert.severity == "warning"
    assert "Heart rate 130 bpm (notify < 50 or > 120)" in alert.message
    assert alert.client_public_id == admission.client.public_id


@pytest.mark.django_db
def test_an_incomplete_set_lists_what_is_missing(client, cast, facility, admission):
    client.force_login(cast["technician"])
    response = client.post(url(admission), {"hr": "80", "taken_at": body(facility)["taken_at"],
                                             "temp_unit": "C"})  # fmt: skip
    page = client.get(response["Location"]).content.decode()
    assert "NEWS2: incomplete" in page
    assert "Respiration rate, SpO2, Air or oxygen, Systolic BP, Consciousness, Temperature" in page


@pytest.mark.django_db
def test_an_empty_form_is_refused(client, cast, facility, admission):
    client.force_login(cast["technician"])
    response = client.post(url(admission), {"taken_at": body(facility)["taken_at"],
                                            "temp_unit": "C"})  # fmt: skip
    assert response.status_code == 400
    assert "Enter at least one vital sign." in response.content.decode()


@pytest.mark.django_db
def test_spo2_needs_air_or_oxygen(client, cast, facility, admission):
    client.force_login(cast["technician"])
    response = client.post(url(admission), body(facility, on_oxygen=None))
    assert response.status_code == 400
    assert "Air or oxygen: choose one with the SpO2." in response.content.decode()


@pytest.mark.django_db
def test_news2_is_not_validated_under_16_or_in_pregnancy(client, cast, facility):
    young = admit(
        facility, cast["nurse"], n=1, dob=local_today(facility) - timedelta(days=15 * 365)
    )
    adult = admit(facility, cast["nurse"], n=2)
    vitals_schedule_set(actor=cast["nurse"], admission=adult, every_minutes=240,
                        spo2_scale2=False, pregnant=True, reason="Pregnant")  # fmt: skip
    client.force_login(cast["nurse"])
    for admission, text in [
        (young, "NEWS2 is not validated under 16."),
        (adult, "NEWS2 is not validated in pregnancy."),
    ]:
        response = client.post(url(admission), body(facility))
        assert text in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
def test_the_spo2_scale_of_the_schedule_in_force_is_used(cast, facility, admission):
    vitals_schedule_set(actor=cast["clinician"], admission=admission, every_minutes=240,
                        spo2_scale2=True, pregnant=False, reason="COPD, target 88–92")  # fmt: skip
    vitals = vitals_record(
        actor=cast["nurse"], admission=admission, taken_at=timezone.now(),
        values={"rr": 16, "spo2": 90, "on_oxygen": False, "sbp": 120, "dbp": 80, "hr": 72,
                "acvpu": "A", "temp": "37.0"},
    )  # fmt: skip
    # Scale 1 would score SpO2 90 as 3; scale 2 scores it 0.
    assert (vitals.spo2_scale, vitals.news2_total) == (2, 0)


@pytest.mark.django_db
def test_a_late_entry_needs_a_reason_and_the_future_is_refused(cast, facility, admission):
    now = timezone.now()
    with pytest.raises(ValidationError) as late:
        vitals_record(actor=cast["nurse"], admission=admission,
                      taken_at=now - timedelta(minutes=40), values={"hr": 80})  # fmt: skip
    assert "late_reason" in late.value.message_dict
    with pytest.raises(ValidationError) as future:
        vitals_record(actor=cast["nurse"], admission=admission,
                      taken_at=now + timedelta(minutes=5), values={"hr": 80})  # fmt: skip
    assert future.value.message_dict["taken_at"] == ["Taken at: cannot be in the future."]
    # Within the grace no reason is asked; past it a reason makes it a late entry.
    vitals_record(actor=cast["nurse"], admission=admission,
                  taken_at=now - timedelta(minutes=10), values={"hr": 80})  # fmt: skip
    late_set = vitals_record(
        actor=cast["nurse"], admission=admission, taken_at=now - timedelta(minutes=40),
        values={"hr": 80}, late_reason="Paper sheet from the outing",
    )  # fmt: skip
    assert late_set.late_reason == "Paper sheet from the outing"
    assert VitalSigns.objects.count() == 2


@pytest.mark.django_db
def test_a_set_struck_in_error_keeps_its_reason(cast, facility, admission):
    vitals = vitals_record(actor=cast["technician"], admission=admission,
                           taken_at=timezone.now(), values={"hr": 80})  # fmt: skip
    struck = vitals_strike(actor=cast["nurse"], vitals=vitals, reason="Wrong client")
    assert struck.struck_reason == "Wrong client" and struck.struck_by == cast["nurse"]
    with pytest.raises(ValidationError):
        vitals_strike(actor=cast["nurse"], vitals=vitals, reason="Again")


@pytest.mark.django_db
def test_the_breath_alcohol_link_says_why_on_the_form(client, cast, admission):
    client.force_login(cast["nurse"])
    page = client.get(url(admission, reason="breath_alcohol")).content.decode()
    assert "A breath alcohol reading was recorded: take a set of vitals." in page
    assert 'inputmode="numeric"' in page
    # An unknown reason is ignored, never an error.
    assert client.get(url(admission, reason="x\u202e")).status_code == 200


@pytest.mark.django_db
def test_who_may_record_vitals(client, cast, facility, admission, other_admission):
    target = url(admission)
    data = body(facility)
    assert client.get(target).status_code == 302  # anonymous → sign in
    for role, status in [("clinician", 403), ("admin", 403), ("other_nurse", 404)]:
        client.force_login(cast[role])
        assert client.get(target).status_code == status, role
        assert client.post(target, data).status_code == status, role
    assert VitalSigns.objects.count() == 0
    with pytest.raises(PermissionDenied):
        vitals_record(actor=cast["clinician"], admission=admission,
                      taken_at=timezone.now(), values={"hr": 80})  # fmt: skip
    for role in ("technician", "nurse", "supervisor"):
        client.force_login(cast[role])
        assert client.post(target, data).status_code == 302, role
    assert VitalSigns.objects.count() == 3
    # The clinician reads the result.
    client.force_login(cast["clinician"])
    result = reverse("observations:vitals_result", args=[VitalSigns.objects.first().public_id])
    assert client.get(result).status_code == 200
    client.force_login(cast["other_nurse"])
    assert client.get(result).status_code == 404


@pytest.mark.django_db
def test_a_discharged_client_gets_no_new_vitals(cast, facility, admission):
    from clients.services import admission_discharge

    admission_discharge(actor=cast["nurse"], admission=admission, discharged_at=timezone.now(),
                        discharge_type="completed")  # fmt: skip
    with pytest.raises(PermissionDenied):
        vitals_record(actor=cast["nurse"], admission=admission,
                      taken_at=timezone.now(), values={"hr": 80})  # fmt: skip


@pytest.mark.django_db
def test_the_board_offers_vitals_on_each_row_and_tags_who_is_due(client, cast, facility):
    unit = Unit.objects.get(facility=facility, name="East")
    beds = list(Bed.objects.filter(unit=unit).order_by("label")[:2])
    due = admit(facility, cast["nurse"], bed=beds[0], n=1,
                admitted_at=timezone.now() - timedelta(hours=25))  # fmt: skip
    fine = admit(facility, cast["nurse"], bed=beds[1], n=2)
    client.force_login(cast["technician"])
    page = client.get(reverse("observations:board", args=[unit.public_id])).content.decode()
    assert "Vitals overdue" in page
    assert url(due) + "?came_from=board" in page
    assert url(fine) + "?came_from=board" in page
    assert reverse("observations:vitals_round", args=[unit.public_id]) in page
    # A board vitals entry is recorded as from the board and clears the tag.
    client.post(url(due, came_from="board"), body(facility))
    assert VitalSigns.objects.get().source == "board"
    page = client.get(reverse("observations:board", args=[unit.public_id])).content.decode()
    assert "Vitals overdue" not in page
    # Clinicians see the tag but not the action.
    client.force_login(cast["clinician"])
    page = client.get(reverse("observations:board", args=[unit.public_id])).content.decode()
    assert url(fine) not in page


@pytest.mark.django_db
def test_board_query_count_does_not_grow_with_clients_or_vitals(client, cast, facility):
    unit = Unit.objects.get(facility=facility, name="East")
    beds = list(Bed.objects.filter(unit=unit).order_by("label"))
    first = admit(facility, cast["nurse"], bed=beds[0], n=0)
    client.force_login(cast["technician"])
    board = reverse("observations:board", args=[unit.public_id])
    client.get(board)
    with CaptureQueriesContext(connection) as few:
        assert client.get(board).status_code == 200
    ward = [first] + [admit(facility, cast["nurse"], bed=b, n=i) for i, b in enumerate(beds[1:], 1)]
    for a in ward:
        vitals_schedule_set(actor=cast["nurse"], admission=a, every_minutes=60,
                            spo2_scale2=False, pregnant=False, reason="Protocol")  # fmt: skip
        vitals_record(actor=cast["nurse"], admission=a, taken_at=timezone.now(),
                      values={"hr": 80})  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        assert client.get(board).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
