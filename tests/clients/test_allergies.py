"""Allergies as data (issue 9, item 4): a list of rows, "no known drug allergies" as an answer
distinct from "not yet recorded", asked at admission and kept on the chart."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clients.models import Allergy, AllergyStatus, Client
from clients.services import allergies_mark_nkda, allergy_add, allergy_remove
from facility.models import Bed
from tests.clients.test_admission import admit_form
from tests.conftest import admit


def page(response) -> str:
    return response.content.decode()


def band(html: str) -> str:
    """The identity band of a chart page."""
    return html.split('aria-label="Client identity"', 1)[1].split("</section>", 1)[0]


@pytest.fixture
def bed(facility):
    return Bed.objects.filter(unit__facility=facility).first()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "answer, field, message",
    [
        ({"allergy_status": "", "allergen_1": ""}, "allergy_status",
         "Drug allergies: choose NKDA, or list the drug allergies below."),
        ({"allergy_status": "listed", "allergen_1": ""}, "allergen_1",
         "Allergen: list at least one drug allergy, or choose NKDA."),
        ({"allergy_status": "listed", "allergen_1": "Peanuts", "kind_1": "food"}, "allergen_1",
         "Allergen: list at least one drug allergy, or choose NKDA."),
        ({"allergy_status": "nkda", "allergen_1": "Codeine", "kind_1": "drug"}, "allergy_status",
         "Drug allergies: Codeine is listed as a drug allergy; NKDA cannot be chosen with it."),
    ],
)  # fmt: skip
def test_admission_refuses_a_blank_or_contradictory_allergy_answer(
    client, cast, facility, bed, answer, field, message
):
    client.force_login(cast["nurse"])
    response = client.post(reverse("clients:admit"), admit_form(facility, bed, **answer))
    assert response.status_code == 200
    assert message in page(response).replace("&#x27;", "'")
    assert response.context["allergy_form"].errors[field] == [message]
    assert 'value="Tillbury"' in page(response)  # what was typed stays
    assert not Client.objects.filter(legal_last_name="Tillbury").exists()


@pytest.mark.django_db
def test_nkda_at_admission_is_an_answer_and_not_yet_recorded_is_not(client, cast, facility, bed):
    client.force_login(cast["nurse"])
    form = admit_form(facility, bed, allergy_status="nkda", allergen_1="Peanuts", kind_1="food")
    chart = client.post(reverse("clients:admit"), form, follow=True)
    person = Client.objects.get(legal_last_name="Tillbury")
    assert person.allergy_status == AllergyStatus.NKDA
    assert "NKDA; Peanuts (food)" in band(page(chart))

    # A chart migrated from free text with nothing written: not yet recorded, and red.
    unasked = admit(facility, cast["nurse"], n=5, allergies="").client
    shown = band(page(client.get(reverse("clients:chart", args=[unasked.public_id]))))
    assert "Not recorded" in shown and "has-allergies" in shown and "Record allergies" in shown


@pytest.mark.django_db
def test_admission_records_each_allergy_as_a_row(client, cast, facility, bed):
    client.force_login(cast["nurse"])
    form = admit_form(
        facility, bed, allergy_status="listed",
        allergen_1="Bactrim", kind_1="drug", reaction_1="Hives", severity_1="moderate",
        allergen_2="Latex", kind_2="environmental", reaction_2="", severity_2="",
    )  # fmt: skip
    chart = page(client.post(reverse("clients:admit"), form, follow=True))
    person = Client.objects.get(legal_last_name="Tillbury")
    rows = {a.allergen: a for a in person.allergy_rows.all()}
    assert set(rows) == {"Bactrim", "Latex"}
    assert rows["Bactrim"].reaction == "Hives" and rows["Bactrim"].severity == "moderate"
    assert rows["Latex"].kind == "environmental" and rows["Latex"].recorded_by == cast["nurse"]
    assert person.allergy_status == AllergyStatus.LISTED
    assert "Bactrim, Latex (environmental)" in band(chart)


@pytest.mark.django_db
def test_a_nurse_keeps_the_list_on_the_allergy_page(client, cast, facility):
    person = admit(facility, cast["nurse"], n=5, allergies="").client
    url = reverse("clients:allergies", args=[person.public_id])
    client.force_login(cast["clinician"])
    added = client.post(
        url, {"allergen": "Penicillin", "kind": "drug", "reaction": "Hives", "severity": "severe"}
    )
    assert added.status_code == 302
    person.refresh_from_db()
    assert person.allergy_status == AllergyStatus.LISTED
    chart = band(page(client.get(reverse("clients:chart", args=[person.public_id]))))
    assert "Penicillin" in chart and "Hives" in chart

    # NKDA is refused while a drug allergy is listed, with the reason.
    refused = page(
        client.post(reverse("clients:allergies_nkda", args=[person.public_id]), follow=True)
    )
    assert "NKDA: the list has drug allergies (Penicillin)" in refused
    person.refresh_from_db()
    assert person.allergy_status == AllergyStatus.LISTED

    # Struck in error: kept and shown struck with the reason; the answer is open again.
    allergy = person.allergy_rows.get()
    client.post(reverse("clients:allergy_remove", args=[allergy.public_id]), {"reason": ""})
    assert Allergy.objects.get(pk=allergy.pk).removed_at is None
    client.post(
        reverse("clients:allergy_remove", args=[allergy.public_id]), {"reason": "Other client's"}
    )
    allergy.refresh_from_db()
    assert allergy.removed_by == cast["clinician"] and allergy.removed_reason == "Other client's"
    shown = page(client.get(url))
    assert '<span class="struck">Penicillin (drug)</span>' in shown
    assert "Other client&#x27;s" in shown
    person.refresh_from_db()
    assert person.allergy_status == AllergyStatus.NOT_RECORDED
    assert person.allergy_summary == "Not recorded"

    client.post(reverse("clients:allergies_nkda", args=[person.public_id]))
    person.refresh_from_db()
    assert person.allergy_status == AllergyStatus.NKDA and person.allergy_summary == "NKDA"


@pytest.mark.django_db
def test_a_technician_sees_allergies_but_does_not_edit_them(client, cast, admission):
    client.force_login(cast["technician"])
    chart = page(client.get(reverse("clients:chart", args=[admission.client.public_id])))
    assert "Penicillin" in band(chart)
    assert reverse("clients:allergies", args=[admission.client.public_id]) not in chart
    response = client.post(
        reverse("clients:allergies", args=[admission.client.public_id]),
        {"allergen": "Latex", "kind": "environmental", "severity": "mild"},
    )
    assert response.status_code == 403
    assert admission.client.allergy_rows.count() == 1


@pytest.mark.django_db
def test_the_services_refuse_duplicates_blanks_and_a_second_strike(cast, admission):
    nurse, person = cast["nurse"], admission.client
    with pytest.raises(ValidationError) as info:
        allergy_add(actor=nurse, client=person, allergen=" penicillin ")
    assert info.value.message_dict["allergen"] == ["Allergen: penicillin is already on the list."]
    with pytest.raises(ValidationError) as info:
        allergy_add(actor=nurse, client=person, allergen="   ")
    assert "allergen" in info.value.message_dict
    allergy = person.allergy_rows.get()
    with pytest.raises(ValidationError) as info:
        allergy_remove(actor=nurse, allergy=allergy, reason=" ")
    assert info.value.message_dict["reason"] == ["Reason: say why this entry was wrong."]
    allergy_remove(actor=nurse, allergy=allergy, reason="Wrong chart")
    with pytest.raises(ValidationError, match="already removed"):
        allergy_remove(actor=nurse, allergy=allergy, reason="Again")
    assert allergies_mark_nkda(actor=nurse, client=person).allergy_status == AllergyStatus.NKDA


@pytest.mark.django_db
@pytest.mark.parametrize(
    "allergen, suggestion",
    [("amoxicilin", "amoxicillin"), ("penicilin", "penicillin"), ("Ibuprofin", "ibuprofen")],
)
def test_a_misspelt_drug_allergen_is_kept_and_the_page_says_it_is_not_recognised(
    client, cast, facility, allergen, suggestion
):
    person = admit(facility, cast["nurse"], n=5).client
    url = reverse("clients:allergies", args=[person.public_id])
    client.force_login(cast["nurse"])
    shown = page(
        client.post(url, {"allergen": allergen, "kind": "drug", "severity": "unknown"}, follow=True)
    )
    warning = (
        f"{allergen}: not recognised: the check matches it by name only — check the spelling. "
        f"Did you mean: {suggestion}"
    )
    assert shown.count(warning) == 2  # the message after saving, and its row
    assert person.allergy_rows.get().allergen == allergen  # saved all the same


@pytest.mark.django_db
def test_a_known_allergen_shows_what_it_stops_and_a_food_allergy_says_nothing(
    client, cast, facility
):
    person = admit(facility, cast["nurse"], n=5).client
    url = reverse("clients:allergies", args=[person.public_id])
    client.force_login(cast["nurse"])
    for allergen, kind in (("Zofran", "drug"), ("Penicillin", "drug"), ("Peanuts", "food")):
        client.post(url, {"allergen": allergen, "kind": kind, "severity": "mild"})
    shown = page(client.get(url))
    assert "Zofran: stops ondansetron." in shown
    assert "Penicillin: stops penicillins (amoxicillin, ampicillin," in shown
    assert "warns on carbapenems, cephalosporins." in shown
    assert "not recognised" not in shown  # peanuts are not matched against drugs
    assert person.allergy_rows.count() == 3
