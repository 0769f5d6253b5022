"""Technician scope on the MAR is facility policy (issue 9 item 9), set by an admin on the
facility setup page and enforced by facility/policy.py: which routes a technician may chart as
observed self-administration (default oral, sublingual, topical, inhaled, intranasal), whether
controlled substances are allowed (default no), and whether technicians chart PRN effectiveness
(default no)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from facility.models import Facility
from medications.models import Administration, ControlledStock, Medication, PrnFollowUp
from medications.services import order_verify, prn_give
from tests.conftest import make_user
from tests.facility.world import first_dose, transcribe

OBSERVED = {"outcome": "given", "self_administered": "on", "reason": "", "given_at": ""}


@pytest.fixture
def ward(cast, facility, admission):
    if hasattr(Client, "allergy_status"):
        Client.objects.filter(pk=admission.client_id).update(allergy_status="nkda")
    return {"verifier": make_user("verifier", "nurse", facility)}


def verified(cast, ward, admission, med, **extra):
    order = transcribe(cast["nurse"], admission, med, **extra)
    order_verify(actor=ward["verifier"], order=order)
    return order


def medication(facility, name, routes="oral", schedule=""):
    return Medication.objects.create(
        facility=facility,
        name=name,
        strength="1 mg",
        form="tablet",
        routes=routes,
        controlled_schedule=schedule,
    )


def setup(client, cast, facility, *, routes, controlled=False, prn_effect=False):
    """The admin saves the facility setup page."""
    client.force_login(cast["admin"])
    url = reverse("admin:facility_facility_change", args=[facility.pk])
    page = client.get(url).content.decode()
    assert 'name="tech_observed_routes"' in page and 'name="tech_prn_effect"' in page
    units = list(facility.units.order_by("pk"))
    data = {
        "name": facility.name,
        "time_zone": facility.time_zone,
        "address": facility.address,
        "shift_pattern": facility.shift_pattern,
        "tech_observed_routes": routes,
        "units-TOTAL_FORMS": str(len(units)),
        "units-INITIAL_FORMS": str(len(units)),
        "units-MIN_NUM_FORMS": "0",
        "units-MAX_NUM_FORMS": "1000",
    }
    if controlled:
        data["tech_observed_controlled"] = "on"
    if prn_effect:
        data["tech_prn_effect"] = "on"
    for i, unit in enumerate(units):
        data.update(
            {
                f"units-{i}-id": unit.pk,
                f"units-{i}-facility": facility.pk,
                f"units-{i}-name": unit.name,
            }
        )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    client.logout()
    return Facility.objects.get(pk=facility.pk)


def chart_observed(client, cast, dose):
    client.force_login(cast["technician"])
    url = reverse("medications:dose_document", args=[dose.public_id])
    page = client.post(url, OBSERVED, follow=True).content.decode()
    client.logout()
    return page


@pytest.mark.django_db
def test_a_new_facility_has_the_default_technician_scope(facility):
    facility = Facility.objects.get(pk=facility.pk)
    assert facility.tech_observed_routes == "oral,sublingual,topical,inhaled,intranasal"
    assert (facility.tech_observed_controlled, facility.tech_prn_effect) == (False, False)


@pytest.mark.django_db
def test_a_technician_charts_an_oral_dose_but_not_an_im_one_until_the_facility_allows_it(
    client, cast, facility, admission, ward
):
    oral = verified(cast, ward, admission, medication(facility, "Hydroxyzine"))
    im = verified(cast, ward, admission, medication(facility, "Haloperidol", "im"), route="im")
    chart_observed(client, cast, first_dose(oral))
    assert Administration.objects.filter(order=oral, self_administered=True).count() == 1
    # The med pass offers no button the policy would refuse.
    client.force_login(cast["technician"])
    page = client.get(reverse("medications:med_pass", args=[admission.public_id])).content
    assert page.decode().count("Observed self-administration</button>") == 0
    assert "A nurse charts this dose at this facility." in page.decode()
    client.logout()
    page = chart_observed(client, cast, first_dose(im))
    assert "Intramuscular (IM) doses are charted by a nurse at this facility" in page
    assert not Administration.objects.filter(order=im).exists()

    facility = setup(client, cast, facility, routes=["oral", "im"])
    assert facility.tech_observed_routes == "oral,im"
    chart_observed(client, cast, first_dose(im))
    assert Administration.objects.filter(order=im, self_administered=True).count() == 1


@pytest.mark.django_db
def test_a_technician_charts_a_controlled_dose_only_once_the_facility_allows_it(
    client, cast, facility, admission, ward
):
    med = medication(facility, "Buprenorphine", "oral", schedule="III")
    ControlledStock.objects.create(
        facility=facility, medication=med, admission=admission, quantity=10
    )
    order = verified(cast, ward, admission, med)
    page = chart_observed(client, cast, first_dose(order))
    assert "Controlled medications are charted by a nurse at this facility" in page
    assert not Administration.objects.filter(order=order).exists()

    setup(client, cast, facility, routes=["oral"], controlled=True)
    chart_observed(client, cast, first_dose(order))
    assert Administration.objects.filter(order=order, self_administered=True).count() == 1


@pytest.mark.django_db
def test_a_nurse_is_not_bound_by_the_technician_scope(client, cast, facility, admission, ward):
    setup(client, cast, facility, routes=[])
    order = verified(cast, ward, admission, medication(facility, "Hydroxyzine"))
    client.force_login(cast["nurse"])
    client.post(
        reverse("medications:dose_document", args=[first_dose(order).public_id]),
        {**OBSERVED, "self_administered": ""},
    )
    assert Administration.objects.filter(order=order).count() == 1
    # With no route on the list, a technician charts nothing.
    other = verified(cast, ward, admission, medication(facility, "Melatonin"))
    assert "doses are charted by a nurse" in chart_observed(client, cast, first_dose(other))


@pytest.mark.django_db
def test_technician_prn_follow_up_is_refused_until_the_facility_allows_it(
    client, cast, facility, admission, ward
):
    import time_machine

    # Verified before the dose was given an hour ago (a dose before verification is refused).
    with time_machine.travel(timezone.now() - timedelta(hours=2)):
        order = verified(
            cast,
            ward,
            admission,
            medication(facility, "Hydroxyzine"),
            frequency="prn",
            times="",
            indication="anxiety",
            prn_min_interval_minutes=240,
            prn_max_per_24h=3,
        )
    dose = prn_give(
        actor=cast["nurse"],
        order=order,
        indication="anxiety",
        pre_assessment="anxious, pacing",
        given_at=timezone.now() - timedelta(hours=1),
        reason="Charted after the group",  # a late entry
    )
    url = reverse("medications:prn_follow_up", args=[dose.public_id])
    body = {"result": "effective", "post_assessment": "Calm, sitting in the lounge"}
    client.force_login(cast["technician"])
    page = client.get(url).content.decode()
    assert "A nurse charts how a PRN dose worked at this facility." in page
    assert 'name="post_assessment"' not in page
    med_pass = client.get(reverse("medications:med_pass", args=[admission.public_id])).content
    assert "A nurse charts the effect." in med_pass.decode()
    page = client.post(url, body).content.decode()
    assert "A nurse charts how a PRN dose worked at this facility." in page
    assert not PrnFollowUp.objects.exists()
    client.logout()

    setup(client, cast, facility, routes=["oral"], prn_effect=True)
    client.force_login(cast["technician"])
    assert client.post(url, body).status_code == 302
    assert PrnFollowUp.objects.get().recorded_by == cast["technician"]


@pytest.mark.django_db
def test_the_setup_page_refuses_an_unknown_route(client, cast, facility):
    client.force_login(cast["admin"])
    url = reverse("admin:facility_facility_change", args=[facility.pk])
    data = {
        "name": facility.name,
        "time_zone": facility.time_zone,
        "shift_pattern": "8h",
        "tech_observed_routes": ["oral", "teleport"],
        "units-TOTAL_FORMS": "0",
        "units-INITIAL_FORMS": "0",
        "units-MIN_NUM_FORMS": "0",
        "units-MAX_NUM_FORMS": "1000",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Routes: choose from the list." in response.content.decode()
    assert Facility.objects.get(pk=facility.pk).tech_observed_routes.startswith("oral,sub")


@pytest.mark.django_db
def test_a_dose_with_hold_parameters_is_assessed_and_charted_by_a_nurse(
    client, cast, facility, admission, ward
):
    """Safer reading: "hold if SBP < 100" needs a nurse's assessment, so a technician is neither
    offered nor allowed one tap of observed self-administration."""
    plain = verified(cast, ward, admission, medication(facility, "Sertraline"))
    clonidine = medication(facility, "Clonidine")
    held = verified(cast, ward, admission, clonidine, hold_parameters="Hold if SBP < 100")
    client.force_login(cast["technician"])
    page = client.get(reverse("medications:med_pass", args=[admission.public_id])).content.decode()
    assert page.count("Observed self-administration</button>") == 1  # Sertraline's only
    held_card = page[page.index(f'id="dose-{first_dose(held).public_id}"') :]
    held_card = held_card[: held_card.index("</li>")]
    assert "Observed self-administration</button>" not in held_card
    assert "A nurse charts this dose at this facility." in held_card
    client.logout()
    page = chart_observed(client, cast, first_dose(held))
    assert "This dose has hold parameters: a nurse assesses and gives it." in page
    assert not Administration.objects.filter(order=held).exists()
    chart_observed(client, cast, first_dose(plain))
    assert Administration.objects.filter(order=plain, self_administered=True).count() == 1
