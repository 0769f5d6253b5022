"""CIWA-Ar and COWS scoring (issue 11 item 5, specs/scales.md): only each item's allowed values,
every item needed, the facility's band profile, the COWS pulse item from a pulse in bpm, and the
item anchor texts of the published instruments."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from observations import withdrawal as rules
from observations.forms import CiwaForm, CowsForm
from observations.models import ScaleAssessment
from observations.scales import CIWA_ITEMS, COWS_ITEMS
from observations.services import assessment_record
from tests.observations.withdrawal_helpers import ciwa, cows

# ---------------------------------------------------------------- the item texts


def test_every_item_has_its_text_and_only_allowed_values_have_anchors():
    for scale, allowed in (("ciwa_ar", CIWA_ITEMS), ("cows", COWS_ITEMS)):
        assert list(rules.ITEM_TEXT[scale]) == list(allowed)
        for key, item in rules.ITEM_TEXT[scale].items():
            assert item.label and item.prompt
            assert set(item.anchors) <= set(allowed[key]), key
            assert 0 in item.anchors and max(allowed[key]) in item.anchors, key


def test_cows_describes_every_allowed_value_and_ciwa_the_published_anchors():
    for key, item in rules.COWS_TEXT.items():
        assert set(item.anchors) == set(COWS_ITEMS[key]), key
    for key in ("nausea_vomiting", "tremor", "paroxysmal_sweats", "anxiety", "agitation"):
        assert set(rules.CIWA_TEXT[key].anchors) == {0, 1, 4, 7}, key
    assert rules.anchor_text("ciwa_ar", "tremor", 7) == "severe, even with arms not extended"
    assert rules.anchor_text("ciwa_ar", "tremor", 3) == ""
    assert rules.anchor_text("cows", "gooseflesh_skin", 5) == "prominent piloerection"


# ---------------------------------------------------------------- forms: only allowed values


@pytest.mark.parametrize(
    "form_class, field, value",
    [
        (CowsForm, "restlessness", "2"),
        (CowsForm, "gooseflesh_skin", "1"),
        (CowsForm, "resting_pulse_rate", "3"),
        (CiwaForm, "orientation_clouding_of_sensorium", "5"),
        (CiwaForm, "tremor", "8"),
        (CiwaForm, "tremor", "-1"),
        (CiwaForm, "anxiety", "abc"),
        (CiwaForm, "anxiety", "2.5"),
    ],
)
def test_the_forms_refuse_a_value_outside_the_item_s_allowed_set(form_class, field, value):
    form = form_class({field: value})
    assert not form.is_valid()
    assert "choose one of" in form.errors[field][0]


def test_the_cows_form_offers_only_the_allowed_values_with_their_anchors():
    html = str(CowsForm()["restlessness"])
    assert [f'value="{v}"' in html for v in range(6)] == [
        True, True, False, True, False, True,
    ]  # fmt: skip
    assert "unable to sit still for more than a few seconds" in html


@pytest.mark.django_db
def test_a_cows_with_restlessness_2_is_refused_on_the_page_and_nothing_saved(
    client, cast, admission
):
    client.force_login(cast["nurse"])
    body = {**cows(1, 1, 2, 0, 1, 0, 1, 0, 0, 0, 0)}
    response = client.post(
        reverse("observations:withdrawal_score", args=[admission.public_id, "cows"]), body
    )
    assert response.status_code == 400
    assert "Restlessness: choose one of 0, 1, 3, 5." in response.content.decode()
    assert ScaleAssessment.objects.count() == 0


# ---------------------------------------------------------------- every item needed


@pytest.mark.django_db
def test_an_incomplete_set_is_refused_naming_every_missing_item(cast, admission):
    items = ciwa(1, 1, 1, 1, 1, 1, 0, 0, 1, 0)
    del items["tremor"], items["headache_fullness_in_head"]
    with pytest.raises(ValidationError) as exc:
        assessment_record(actor=cast["nurse"], admission=admission, scale="ciwa_ar", items=items)
    errors = exc.value.message_dict
    assert "Missing: Tremor, Headache, fullness in head." in errors["__all__"][0]
    assert errors["tremor"] == ["Tremor: choose a value."]
    assert ScaleAssessment.objects.count() == 0


@pytest.mark.django_db
def test_the_page_lists_the_missing_items(client, cast, admission):
    client.force_login(cast["nurse"])
    body = ciwa(1, 1, 1, 1, 1, 1, 0, 0, 1, 0)
    del body["agitation"]
    url = reverse("observations:withdrawal_score", args=[admission.public_id, "ciwa_ar"])
    page = client.post(url, body).content.decode()
    assert "Missing: Agitation." in page
    assert "Nothing was saved." in page
    assert ScaleAssessment.objects.count() == 0


@pytest.mark.django_db
def test_the_service_refuses_a_value_outside_the_set_keyed_by_the_item(cast, admission):
    items = cows(1, 1, 2, 0, 1, 0, 1, 0, 0, 0, 0)
    with pytest.raises(ValidationError) as exc:
        assessment_record(actor=cast["nurse"], admission=admission, scale="cows", items=items)
    assert exc.value.message_dict["restlessness"] == ["Restlessness: choose one of 0, 1, 3, 5."]


# ---------------------------------------------------------------- totals, bands and profiles


@pytest.mark.django_db
@pytest.mark.parametrize(
    "values, total, band",
    [
        ((0,) * 10, 0, "minimal"),
        ((1, 1, 1, 1, 1, 1, 0, 0, 1, 0), 7, "minimal"),
        ((1, 1, 1, 1, 1, 1, 0, 0, 1, 1), 8, "mild"),
        ((3, 3, 2, 3, 2, 1, 0, 0, 2, 0), 16, "moderate"),
        ((4, 4, 4, 4, 2, 1, 0, 0, 2, 0), 21, "severe"),
    ],
)
def test_ciwa_totals_and_bands_follow_the_spec(cast, admission, values, total, band):
    a = assessment_record(
        actor=cast["nurse"], admission=admission, scale="ciwa_ar", items=ciwa(*values)
    )
    assert (a.total, a.band, a.profile) == (total, band, "default")


@pytest.mark.django_db
@pytest.mark.parametrize("profile, band", [("default", "mild"), ("alternative", "minimal")])
def test_the_facility_profile_changes_the_band(cast, facility, admission, profile, band):
    facility.ciwa_profile = profile
    facility.save(update_fields=["ciwa_profile"])
    admission.facility.refresh_from_db()
    a = assessment_record(actor=cast["nurse"], admission=admission, scale="ciwa_ar", items=ciwa(9))
    assert (a.total, a.band, a.profile) == (9, band, profile)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "values, total, band",
    [
        ((1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0), 5, "mild"),
        ((2, 2, 3, 1, 2, 1, 1, 1, 0, 0, 0), 13, "moderate"),
        ((4, 2, 3, 2, 2, 2, 2, 2, 2, 1, 3), 25, "moderately_severe"),
        ((4, 4, 5, 2, 4, 2, 3, 2, 2, 4, 5), 37, "severe"),
    ],
)
def test_cows_totals_and_bands_follow_the_spec(cast, admission, values, total, band):
    a = assessment_record(
        actor=cast["nurse"], admission=admission, scale="cows", items=cows(*values)
    )
    assert (a.total, a.band) == (total, band)


# ---------------------------------------------------------------- COWS pulse


@pytest.mark.django_db
@pytest.mark.parametrize("bpm, item", [(80, 0), (81, 1), (100, 1), (101, 2), (120, 2), (121, 4)])
def test_the_cows_pulse_item_is_derived_from_a_pulse_in_bpm(cast, admission, bpm, item):
    items = cows(0, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0)
    del items["resting_pulse_rate"]
    a = assessment_record(
        actor=cast["nurse"], admission=admission, scale="cows", items=items, pulse_bpm=bpm
    )
    assert a.items["resting_pulse_rate"] == item
    assert (a.pulse_bpm, a.total) == (bpm, 4 + item)


@pytest.mark.django_db
def test_a_pulse_item_that_disagrees_with_the_pulse_is_refused(cast, admission):
    items = cows(1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0)
    with pytest.raises(ValidationError) as exc:
        assessment_record(
            actor=cast["nurse"], admission=admission, scale="cows", items=items, pulse_bpm=104
        )
    assert exc.value.message_dict["resting_pulse_rate"] == [
        "Resting pulse rate: a pulse of 104 bpm scores 2, not 1."
    ]


@pytest.mark.django_db
def test_the_page_scores_a_cows_with_the_pulse_and_shows_the_result(client, cast, admission):
    client.force_login(cast["nurse"])
    body = cows(0, 2, 3, 1, 2, 1, 1, 1, 0, 0, 0)
    body["resting_pulse_rate"] = ""
    body["pulse_bpm"] = "110"
    url = reverse("observations:withdrawal_score", args=[admission.public_id, "cows"])
    response = client.post(url, body, follow=True)
    page = response.content.decode()
    a = ScaleAssessment.objects.get()
    assert (a.total, a.band, a.pulse_bpm) == (13, "moderate", 110)
    assert "moderate" in page and ">13<" in page
    assert "110 bpm" in page


@pytest.mark.django_db
def test_an_implausible_pulse_is_refused_naming_the_range(cast, admission):
    items = cows(1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0)
    with pytest.raises(ValidationError) as exc:
        assessment_record(
            actor=cast["nurse"], admission=admission, scale="cows", items=items, pulse_bpm=400
        )
    assert exc.value.message_dict["pulse_bpm"] == ["Pulse: 20–250 bpm."]


# ---------------------------------------------------------------- when, and late entries


@pytest.mark.django_db
def test_a_score_charted_over_an_hour_later_needs_a_reason(cast, admission):
    earlier = timezone.now() - timedelta(minutes=50)
    admission.admitted_at = timezone.now() - timedelta(hours=5)
    admission.save(update_fields=["admitted_at"])
    late = timezone.now() - timedelta(minutes=70)
    with pytest.raises(ValidationError) as exc:
        assessment_record(
            actor=cast["nurse"], admission=admission, scale="ciwa_ar", items=ciwa(3),
            assessed_at=late,
        )  # fmt: skip
    assert "late_reason" in exc.value.message_dict
    assessment_record(
        actor=cast["nurse"], admission=admission, scale="ciwa_ar", items=ciwa(3),
        assessed_at=earlier,
    )  # fmt: skip
    a = assessment_record(
        actor=cast["nurse"], admission=admission, scale="ciwa_ar", items=ciwa(3),
        assessed_at=late, late_reason="Paper sheet during downtime",
    )  # fmt: skip
    assert a.late_reason == "Paper sheet during downtime"


@pytest.mark.django_db
def test_a_score_in_the_future_is_refused(cast, admission):
    with pytest.raises(ValidationError) as exc:
        assessment_record(
            actor=cast["nurse"], admission=admission, scale="ciwa_ar", items=ciwa(3),
            assessed_at=timezone.now() + timedelta(minutes=10),
        )  # fmt: skip
    assert "assessed_at" in exc.value.message_dict


@pytest.mark.django_db
def test_a_technician_cannot_score(cast, admission, client):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        assessment_record(
            actor=cast["technician"], admission=admission, scale="ciwa_ar", items=ciwa(3)
        )
    client.force_login(cast["technician"])
    url = reverse("observations:withdrawal_score", args=[admission.public_id, "ciwa_ar"])
    assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_the_scoring_page_says_a_breath_alcohol_reading_suggested_it(client, cast, admission):
    client.force_login(cast["nurse"])
    url = reverse("observations:withdrawal_score", args=[admission.public_id, "ciwa_ar"])
    page = client.get(url + "?reason=breath_alcohol").content.decode()
    assert "A breath-alcohol reading suggested this assessment." in page
    assert "A breath-alcohol" not in client.get(url + "?reason=other").content.decode()
    assert client.get(reverse(
        "observations:withdrawal_score", args=[admission.public_id, "gad7"]
    )).status_code == 404  # fmt: skip


@pytest.mark.django_db
def test_an_admin_sets_the_ciwa_profile_in_setup_and_a_post_without_it_keeps_it(
    client, cast, facility
):
    from facility.models import Facility

    client.force_login(cast["admin"])
    url = reverse("admin:facility_facility_change", args=[facility.pk])
    assert 'name="ciwa_profile"' in client.get(url).content.decode()
    units = list(facility.units.order_by("pk"))
    data = {
        "name": facility.name, "time_zone": facility.time_zone, "address": facility.address,
        "shift_pattern": "8h", "ciwa_profile": "alternative",
        "units-TOTAL_FORMS": str(len(units)), "units-INITIAL_FORMS": str(len(units)),
        "units-MIN_NUM_FORMS": "0", "units-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    for i, unit in enumerate(units):
        data.update({f"units-{i}-id": unit.pk, f"units-{i}-facility": facility.pk,
                     f"units-{i}-name": unit.name})  # fmt: skip
    assert client.post(url, data).status_code == 302
    assert Facility.objects.get(pk=facility.pk).ciwa_profile == "alternative"
    del data["ciwa_profile"]
    assert client.post(url, data).status_code == 302
    assert Facility.objects.get(pk=facility.pk).ciwa_profile == "alternative"
    data["ciwa_profile"] = "lenient"
    response = client.post(url, data)
    assert response.status_code == 200 and "valid choice" in response.content.decode()
