"""Breath alcohol (issue 13 item 6; specs/screening.md, "Breath alcohol"): the rules table
(positive, repeat after 15 minutes, vitals and CIWA-Ar) as a pure function and through the page,
withdrawal risk read through the registry, the 15-minute observation, three decimals, the
calibration warning that does not block, a refusal as a result, and the due repeat."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from facility.models import Alert
from screening.custody import bac_actions
from screening.models import BreathTest
from tests.clock import local_today
from tests.conftest import form_time
from tests.screening.result_helpers import breath_device

# (BrAC, actions without withdrawal risk, actions with it): the spec's defaults.
RULES = [
    ("0.000", [], []),
    ("0.001", ["positive"], ["positive", "vitals_ciwa"]),
    ("0.019", ["positive"], ["positive", "vitals_ciwa"]),
    ("0.020", ["positive", "repeat"], ["positive", "repeat", "vitals_ciwa"]),
    ("0.079", ["positive", "repeat"], ["positive", "repeat", "vitals_ciwa"]),
    ("0.080", ["positive", "repeat", "vitals_ciwa"], ["positive", "repeat", "vitals_ciwa"]),
]


@pytest.mark.parametrize("brac, plain, at_risk", RULES)
def test_the_breath_rules_table(brac, plain, at_risk):
    assert bac_actions(Decimal(brac)) == plain
    assert bac_actions(Decimal(brac), withdrawal_risk=True) == at_risk


def test_the_rules_compare_without_rounding_and_refuse_a_negative_reading():
    assert bac_actions(Decimal("0.0199")) == ["positive"]
    assert bac_actions(0.02) == ["positive", "repeat"]
    with pytest.raises(ValueError):
        bac_actions(Decimal("-0.001"))


def url(admission, **query):
    base = reverse("screening:breath_record", args=[admission.public_id])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def body(admission, device, brac="0.000", *, watched=20, **extra):
    now = timezone.now()
    data = {
        "device": str(device.pk), "kind": "screening", "brac": brac,
        "observation_started_at": form_time(now - timedelta(minutes=watched), admission.facility),
        "tested_at": form_time(now, admission.facility), "client_signature": "Robin Ashdown",
        "remarks": "",
    }  # fmt: skip
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def page(response) -> str:
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("brac, plain, _", RULES)
def test_each_reading_through_the_page_says_what_it_asks_for(
    client, cast, facility, admission, brac, plain, _
):
    device = breath_device(facility)
    client.force_login(cast["technician"])
    response = client.post(url(admission), body(admission, device, brac))
    assert response.status_code == 302, page(response)
    test = BreathTest.objects.get()
    assert test.brac == Decimal(brac) and test.calibrated_on == device.last_calibrated_on
    text = page(client.get(response["Location"]))
    assert f'<span class="score-total">{brac}</span>' in text
    assert ("Positive</strong>" in text) is ("positive" in plain)
    assert ("Repeat after 15 minutes:" in text) is ("repeat" in plain)
    vitals = reverse("observations:vitals_record", args=[admission.public_id])
    ciwa = reverse("observations:withdrawal_score", args=[admission.public_id, "ciwa_ar"])
    assert (f'href="{vitals}?reason=breath_alcohol"' in text) is ("vitals_ciwa" in plain)
    assert (f'href="{ciwa}?reason=breath_alcohol"' in text) is ("vitals_ciwa" in plain)
    alerts = Alert.objects.filter(kind="breath_alcohol")
    assert alerts.exists() is ("positive" in plain)
    if plain:
        alert = alerts.get()
        assert alert.audience == "nurse" and f"breath alcohol {brac} (positive)" in alert.message
        assert alert.severity == ("critical" if "vitals_ciwa" in plain else "warning")


@pytest.mark.django_db
def test_any_positive_with_a_client_on_ciwa_ar_asks_for_vitals_and_a_ciwa(
    client, cast, facility, admission
):
    from tests.facility.world import World, a_withdrawal_score

    a_withdrawal_score(World(facility=facility, cast=cast, admission=admission))
    device = breath_device(facility)
    client.force_login(cast["technician"])
    response = client.post(url(admission), body(admission, device, "0.001"))
    text = page(client.get(response["Location"]))
    assert "Positive with withdrawal risk (CIWA-Ar in progress):" in text
    assert "Score CIWA-Ar" in text and "Record vitals" in text
    assert "Repeat after 15 minutes" not in text


@pytest.mark.django_db
@pytest.mark.parametrize("watched, saved", [(10, False), (14, False), (15, True)])
def test_a_test_sooner_than_15_minutes_after_the_observation_began_is_refused(
    client, cast, facility, admission, watched, saved
):
    device = breath_device(facility)
    client.force_login(cast["technician"])
    response = client.post(url(admission), body(admission, device, watched=watched))
    assert BreathTest.objects.exists() is saved
    if not saved:
        assert response.status_code == 400
        assert f"Tested at: only {watched} minutes after the observation started" in page(response)


@pytest.mark.django_db
@pytest.mark.parametrize("brac", ["0.02", "0.0234", "0", ".5", "abc", "-0.010", "0.700"])
def test_a_brac_not_read_to_three_decimals_or_out_of_range_is_refused(
    client, cast, facility, admission, brac
):
    device = breath_device(facility)
    client.force_login(cast["technician"])
    response = client.post(url(admission), body(admission, device, brac))
    assert response.status_code == 400
    assert "BrAC" in page(response) and "Nothing was saved." in page(response)
    assert not BreathTest.objects.exists()


@pytest.mark.django_db
def test_an_out_of_date_calibration_warns_but_does_not_block(client, cast, facility, admission):
    device = breath_device(
        facility, calibrated_on=local_today(facility) - timedelta(days=200), every_days=180
    )
    client.force_login(cast["technician"])
    form = page(client.get(url(admission)))
    assert "Calibration out of date." in form
    assert escape("the vendor's interval is 180 days") in form
    response = client.post(url(admission), body(admission, device, "0.000"))
    assert response.status_code == 302
    assert "Calibration was 200 days old at the test (interval 180 days)." in page(
        client.get(response["Location"])
    )
    # A device calibrated within its interval: no warning.
    device.last_calibrated_on = local_today(facility) - timedelta(days=30)
    device.save(update_fields=["last_calibrated_on"])
    assert "Calibration out of date." not in page(client.get(url(admission)))


@pytest.mark.django_db
def test_a_refusal_is_a_result_and_alerts_the_nurse(client, cast, facility, admission):
    device = breath_device(facility)
    client.force_login(cast["technician"])
    response = client.post(
        url(admission),
        body(admission, device, "", refused="on", observation_started_at="", client_signature="",
             client_declined_to_sign="on"),
    )  # fmt: skip
    assert response.status_code == 302
    test = BreathTest.objects.get()
    assert test.refused is True and test.brac is None
    assert "Refused</strong>" in page(client.get(response["Location"]))
    assert "refused a breath alcohol test" in Alert.objects.get(kind="breath_alcohol").message


@pytest.mark.django_db
def test_the_client_signs_or_declines(client, cast, facility, admission):
    device = breath_device(facility)
    client.force_login(cast["technician"])
    response = client.post(url(admission), body(admission, device, client_signature=""))
    assert "Client&#x27;s signature: the client signs, or tick that they declined" in page(response)


@pytest.mark.django_db
def test_a_due_repeat_shows_on_the_chart_and_the_result_until_it_is_recorded(
    client, cast, facility, admission
):
    device = breath_device(facility)
    client.force_login(cast["technician"])
    first_at = timezone.now() - timedelta(minutes=20)
    response = client.post(url(admission), body(
        admission, device, "0.045", tested_at=form_time(first_at, facility),
        observation_started_at=form_time(first_at - timedelta(minutes=15), facility),
    ))  # fmt: skip
    first = BreathTest.objects.get()
    due = timezone.localtime(first.tested_at + timedelta(minutes=15), facility.tz)
    result = page(client.get(response["Location"]))
    assert f"due at {due:%H:%M}" in result and "Record the repeat" in result
    chart = page(client.get(reverse("clients:chart", args=[admission.client.public_id])))
    assert f"Breath alcohol repeat due {due:%H:%M}" in chart

    # Sooner than 15 minutes after the first: refused.
    early = client.post(url(admission, repeat_of=first.public_id), body(
        admission, device, "0.030", kind="confirmation", repeat_of=str(first.public_id),
        tested_at=form_time(first_at + timedelta(minutes=10), facility),
        observation_started_at=form_time(first_at - timedelta(minutes=10), facility),
    ))  # fmt: skip
    assert f"the repeat is due 15 minutes after the first test, at {due:%H:%M}" in page(early)
    repeat = client.post(url(admission, repeat_of=first.public_id), body(
        admission, device, "0.030", kind="confirmation", repeat_of=str(first.public_id),
        observation_started_at=form_time(first_at, facility),
    ))  # fmt: skip
    assert repeat.status_code == 302
    second = BreathTest.objects.latest("tested_at")
    assert second.repeat_of == first and second.kind == "confirmation"
    assert "Record the repeat" not in page(client.get(repeat["Location"]))
    chart = page(client.get(reverse("clients:chart", args=[admission.client.public_id])))
    assert "repeat due" not in chart


@pytest.mark.django_db
def test_only_the_facilitys_breath_devices_and_no_discharged_client(
    client, cast, facility, admission, other_facility
):
    theirs = breath_device(other_facility, serial="OTHER-1")
    breath_device(facility)
    client.force_login(cast["technician"])
    response = client.post(url(admission), body(admission, theirs))
    assert "Device: choose from the list." in page(response)
    client.force_login(cast["other_technician"])
    assert client.get(url(admission)).status_code == 404
    client.force_login(cast["clinician"])
    assert client.get(url(admission)).status_code == 403
