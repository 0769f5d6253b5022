"""The allergy check at order entry and verification (issue 9, item 4): the chart's drug
allergies against the catalog's ingredients and the shipped class table."""

import io
import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from clients.services import allergy_add, allergy_remove
from medications.allergies import BLOCK, WARN, check
from medications.drug_classes import CLASSES, NON_ANTIBIOTIC_SULFONAMIDES
from medications.models import Administration, Medication, Order
from medications.services import order_transcribe, order_verify
from tests.conftest import admit, form_time, make_user
from tests.facility.world import World, first_dose, order_body, with_ingredients

NY = ZoneInfo("America/New_York")


def catalog_med(facility, name, strength, ingredients=None, form="tablet"):
    med = Medication.objects.create(
        facility=facility, name=name, strength=strength, form=form, routes="oral"
    )
    return with_ingredients(med, ingredients) if ingredients else med


@pytest.fixture
def meds(facility):
    return {
        "amoxicillin": catalog_med(facility, "Amoxicillin", "500 mg", {"amoxicillin": 500}),
        "smx_tmp": catalog_med(
            facility,
            "Sulfamethoxazole-trimethoprim",
            "800 mg/160 mg",
            {"sulfamethoxazole": 800, "trimethoprim": 160},
        ),  # fmt: skip
        "cephalexin": catalog_med(facility, "Cephalexin", "500 mg", {"cephalexin": 500}),
        "furosemide": catalog_med(facility, "Furosemide", "20 mg", {"furosemide": 20}),
        "percocet": catalog_med(
            facility,
            "Oxycodone/acetaminophen",
            "5 mg/325 mg",
            {"oxycodone": 5, "acetaminophen": 325},
        ),  # fmt: skip
        "clonidine": catalog_med(facility, "Clonidine", "0.1 mg", {"clonidine": "0.1"}),
    }


LISTS = "Allergy: the chart lists"


def post_order(client, admission, med, **extra):
    body = order_body(World(facility=admission.facility, med=med))
    body.update(extra)
    return client.post(reverse("medications:order_new", args=[admission.public_id]), body)


def page(response) -> str:
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "allergies, med, message",
    [
        ("Penicillin", "amoxicillin", f"{LISTS} Penicillin (amoxicillin is a penicillin)"),
        ("Bactrim", "smx_tmp", f"{LISTS} Bactrim (contains sulfamethoxazole, trimethoprim)"),
        ("Sulfa drugs", "smx_tmp", "sulfamethoxazole is a sulfonamide antibiotic"),
        ("Tylenol", "percocet", f"{LISTS} Tylenol (contains acetaminophen)"),
        ("Codeine", "percocet", "oxycodone is an opioid"),
    ],
)  # fmt: skip
def test_an_allergy_stops_the_order_until_a_reason_is_given(
    client, cast, facility, meds, allergies, med, message
):
    stay = admit(facility, cast["nurse"], n=4, allergies=allergies)
    client.force_login(cast["nurse"])
    refused = post_order(client, stay, meds[med])
    assert refused.status_code == 200
    assert message in page(refused).replace("&#x27;", "'")
    assert "Give a reason to override." in page(refused)
    assert 'value="Dr. Table"' in page(refused)  # what was typed stays
    assert Order.objects.count() == 0

    reason = "Prescriber aware: desensitised in 2024"
    done = post_order(client, stay, meds[med], allergy_override_reason=reason)
    assert done.status_code == 302
    order = Order.objects.get()
    assert order.allergy_override_reason == reason
    assert reason in page(client.get(done["Location"]))  # the order page shows it


@pytest.mark.django_db
def test_a_penicillin_allergy_warns_on_a_cephalosporin_and_needs_an_acknowledgement(
    client, cast, admission, meds
):
    # The admission fixture's client is allergic to Penicillin.
    client.force_login(cast["nurse"])
    warned = page(post_order(client, admission, meds["cephalexin"]))
    assert "Allergy warning: Penicillin (Cephalexin is a cephalosporin" in warned
    assert "the chart lists" not in warned
    assert Order.objects.count() == 0
    done = post_order(
        client, admission, meds["cephalexin"], allergy_override_reason="Low risk, prescriber OK"
    )
    assert done.status_code == 302


@pytest.mark.django_db
def test_a_sulfa_allergy_does_not_stop_a_non_antibiotic_sulfonamide(client, cast, facility, meds):
    stay = admit(facility, cast["nurse"], n=4, allergies="Sulfa drugs")
    client.force_login(cast["nurse"])
    assert post_order(client, stay, meds["furosemide"]).status_code == 302
    assert post_order(client, stay, meds["clonidine"]).status_code == 302


@pytest.mark.django_db
def test_food_and_environmental_allergies_are_shown_but_not_matched(cast, facility, meds):
    stay = admit(facility, cast["nurse"], n=4)
    for allergen, kind in (("Amoxicillin", "food"), ("Penicillin mould", "environmental")):
        allergy_add(actor=cast["nurse"], client=stay.client, allergen=allergen, kind=kind)
    stay.client.refresh_from_db()
    assert (
        stay.client.allergy_summary == "NKDA; Amoxicillin (food), Penicillin mould (environmental)"
    )
    order = order_transcribe(
        actor=cast["nurse"], admission=stay, medication=meds["amoxicillin"], dose="500 mg",
        dose_units=Decimal("1"), route="oral", frequency="bid", start_at=stay.admitted_at,
        prescriber_name="Dr. Rivera", prescriber_credentials="MD",
    )  # fmt: skip
    assert order.allergy_override_reason == ""


@pytest.mark.django_db
def test_a_medication_without_ingredient_rows_is_matched_by_its_name(cast, admission, facility):
    penicillin_vk = catalog_med(facility, "Penicillin VK", "500 mg")
    keflex = catalog_med(facility, "Keflex", "500 mg", form="capsule")
    zyprexa = catalog_med(facility, "Zyprexa", "5 mg", {"olanzapine": 5})
    allergy_add(actor=cast["nurse"], client=admission.client, allergen="Zyprexa (dystonia)")
    fields = {
        "dose": "1 tab", "dose_units": Decimal("1"), "route": "oral", "frequency": "bid",
        "start_at": admission.admitted_at, "prescriber_name": "Dr. R",
        "prescriber_credentials": "MD",
    }  # fmt: skip
    admission.client.refresh_from_db()
    for med, message in [
        (penicillin_vk, "Allergy: the chart lists Penicillin (penicillin v is a penicillin)"),
        (keflex, "Allergy warning: Penicillin (Keflex is a cephalosporin"),
        (zyprexa, "Zyprexa (dystonia) (the name matches: zyprexa)"),
    ]:
        with pytest.raises(ValidationError) as info:
            order_transcribe(actor=cast["nurse"], admission=admission, medication=med, **fields)
        assert message in info.value.message_dict["allergy_override_reason"][0]


@pytest.mark.django_db
def test_no_order_is_entered_or_verified_while_allergies_are_not_recorded(
    client, cast, facility, meds
):
    stay = admit(facility, cast["nurse"], n=4, allergies="Penicillin")
    nurse2 = make_user("nurse_two", "nurse", facility)
    order = order_transcribe(
        actor=cast["nurse"], admission=stay, medication=meds["clonidine"], dose="0.1 mg",
        dose_units=Decimal("1"), route="oral", frequency="bid", start_at=stay.admitted_at,
        prescriber_name="Dr. Rivera", prescriber_credentials="MD",
    )  # fmt: skip
    # The only drug allergy was entered in error: the history is open again, not "NKDA".
    allergy_remove(
        actor=cast["nurse"], allergy=stay.client.allergy_rows.get(), reason="Wrong client"
    )
    client.force_login(nurse2)
    verify = reverse("medications:order_verify", args=[order.public_id])
    shown = page(client.post(verify, follow=True))
    assert "Allergies: not yet recorded for this client." in shown
    order.refresh_from_db()
    assert order.verified_at is None and order.doses.count() == 0

    client.force_login(cast["nurse"])
    refused = page(post_order(client, stay, meds["clonidine"]))
    assert "Allergies: not yet recorded for this client." in refused
    assert Order.objects.count() == 1

    client.post(reverse("clients:allergies_nkda", args=[stay.client.public_id]))
    client.force_login(nurse2)
    client.post(verify)
    order.refresh_from_db()
    assert order.verified_by == nurse2


@pytest.mark.django_db
def test_an_allergy_added_after_entry_stops_verification(cast, facility, meds):
    stay = admit(facility, cast["nurse"], n=4)
    order = order_transcribe(
        actor=cast["nurse"], admission=stay, medication=meds["amoxicillin"], dose="500 mg",
        dose_units=Decimal("1"), route="oral", frequency="bid", start_at=stay.admitted_at,
        prescriber_name="Dr. Rivera", prescriber_credentials="MD",
    )  # fmt: skip
    allergy_add(actor=cast["nurse"], client=stay.client, allergen="PCN", reaction="Anaphylaxis")
    with pytest.raises(ValidationError) as info:
        order_verify(actor=make_user("nurse_two", "nurse", facility), order=order)
    assert (
        "Allergy: the chart now lists PCN" in info.value.message_dict["allergy_override_reason"][0]
    )


@pytest.mark.django_db
def test_the_override_reason_shows_on_the_med_pass_and_the_printed_mar(
    client, cast, admission, meds, facility
):
    reason = "Tolerated amoxicillin in 2023 per prescriber"
    order = order_transcribe(
        actor=cast["nurse"], admission=admission, medication=meds["amoxicillin"], dose="500 mg",
        dose_units=Decimal("1"), route="oral", frequency="bid", start_at=admission.admitted_at,
        prescriber_name="Dr. Rivera", prescriber_credentials="MD", allergy_override_reason=reason,
    )  # fmt: skip
    order_verify(actor=make_user("nurse_two", "nurse", facility), order=order)
    client.force_login(cast["nurse"])
    med_pass = page(client.get(reverse("medications:med_pass", args=[admission.public_id])))
    assert f"Allergy override: {reason}" in med_pass
    response = client.get(reverse("medications:mar_pdf", args=[admission.public_id]))
    reader = PdfReader(io.BytesIO(response.content))
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))
    assert "Allergies: Penicillin" in text
    assert f"Allergy override: {reason}" in text


# ---------------------------------------------------------------- the class table


@pytest.mark.parametrize(
    "allergen, name, ingredients, level",
    [
        ("penicillin", "Amoxicillin", ["amoxicillin"], BLOCK),
        ("  PENICILLINS ", "Ampicillin", ["ampicillin sodium"], BLOCK),
        ("Augmentin", "Amoxicillin", ["amoxicillin trihydrate"], BLOCK),
        ("Keflex", "Cefazolin", ["cefazolin"], BLOCK),
        ("Penicillin", "Meropenem", ["meropenem"], WARN),
        ("Septra DS", "Bactrim", [], BLOCK),
        ("sulfa", "Hydrochlorothiazide", ["hydrochlorothiazide"], None),
        ("sulfa", "Morphine sulfate", ["morphine sulfate"], None),  # "sulfate" is no sulfa
        ("NSAIDs", "Aspirin", ["aspirin"], BLOCK),
        ("Motrin", "Naproxen", ["naproxen"], BLOCK),
        ("Advil", "Ibuprofen", [], BLOCK),
        ("Norco", "Acetaminophen", ["acetaminophen"], BLOCK),
        ("Suboxone", "Buprenorphine", ["buprenorphine"], BLOCK),
        ("Librium", "Lorazepam", ["lorazepam"], BLOCK),
        ("Ativan", "Chlordiazepoxide", ["chlordiazepoxide"], BLOCK),
        ("Cipro", "Levofloxacin", ["levofloxacin"], BLOCK),
        ("Zithromax", "Clarithromycin", ["clarithromycin"], BLOCK),
        ("doxycycline", "Minocycline", ["minocycline"], BLOCK),
        ("lisinopril (angioedema)", "Enalapril", ["enalapril"], BLOCK),
        ("Lipitor", "Simvastatin", ["simvastatin"], BLOCK),
        ("Tegretol", "Lamotrigine", ["lamotrigine"], BLOCK),
        ("Latex", "Clonidine", ["clonidine"], None),
        ("Codeine", "Clonidine", ["clonidine"], None),
        # the facility's catalog and the names people give (safety review)
        ("Vivitrol", "Naltrexone", ["naltrexone"], BLOCK),
        ("Revia", "Naltrexone", [], BLOCK),
        ("Zofran", "Ondansetron", ["ondansetron"], BLOCK),
        ("Neurontin", "Gabapentin", ["gabapentin"], BLOCK),
        ("Vistaril", "Hydroxyzine", ["hydroxyzine"], BLOCK),
        ("Atarax", "Hydroxyzine", [], BLOCK),
        ("Desyrel", "Trazodone", ["trazodone"], BLOCK),
        ("Catapres", "Clonidine", ["clonidine"], BLOCK),
        ("Narcan", "Buprenorphine/naloxone", ["buprenorphine", "naloxone"], BLOCK),
        ("Imodium", "Loperamide", ["loperamide"], BLOCK),
        ("Tylenol #3", "Oxycodone/acetaminophen", ["oxycodone", "acetaminophen"], BLOCK),
        ("T3", "Codeine", ["codeine"], BLOCK),
        ("Tylenol w/ codeine", "Acetaminophen", [], BLOCK),
        ("Tylenol No. 3", "Morphine", ["morphine sulfate"], BLOCK),
        ("Tylenol", "Codeine", ["codeine"], None),  # plain Tylenol is acetaminophen alone
        ("Revia", "Buprenorphine/naloxone", ["buprenorphine", "naloxone"], None),
    ],
)
def test_the_class_table_blocks_and_warns(allergen, name, ingredients, level):
    findings = check([allergen], name, ingredients)
    assert (findings[0].level if findings else None) == level, findings


def test_the_table_names_its_sources_and_the_required_classes():
    import medications.drug_classes as table

    for source in ("ATC", "WHO", "FDA", "2022 practice parameter"):
        assert source in table.__doc__
    required = {
        "penicillins", "cephalosporins", "carbapenems", "sulfonamide_antibiotics", "nsaids",
        "opioids", "benzodiazepines", "fluoroquinolones", "macrolides", "tetracyclines",
        "ace_inhibitors", "statins", "aromatic_anticonvulsants",
    }  # fmt: skip
    assert required <= set(CLASSES)
    assert not NON_ANTIBIOTIC_SULFONAMIDES & CLASSES["sulfonamide_antibiotics"].members


# ---------------------------------------------------------------- at administration (issue 9
# safety review): an allergy recorded after the order was written is checked at the dose


MORNING = datetime(2026, 5, 12, 6, 0, tzinfo=NY)


def verified_order(cast, facility, stay, med, *, at, reason="", **extra):
    """`med` twice a day at 09:00 and 21:00, transcribed and verified at `at`."""
    fields = {
        "dose": "1 tab", "dose_units": Decimal("1"), "route": "oral", "frequency": "times",
        "times": "09:00,21:00", "start_at": stay.admitted_at, "prescriber_name": "Dr. Rivera",
        "prescriber_credentials": "MD", "allergy_override_reason": reason,
    }  # fmt: skip
    fields.update(extra)
    with time_machine.travel(at, tick=False):
        order = order_transcribe(actor=cast["nurse"], admission=stay, medication=med, **fields)
        order_verify(actor=make_user(f"verifier{order.pk}", "nurse", facility), order=order)
    return order


def sign_in(client):
    """A fresh session of this moment: the idle timeout ends one of an hour ago."""
    client.logout()
    client.force_login(client.nurse)


def add_on_page(client, stay, allergen, at):
    with time_machine.travel(at, tick=False):
        sign_in(client)
        url = reverse("clients:allergies", args=[stay.client.public_id])
        body = {"allergen": allergen, "kind": "drug", "reaction": "Anaphylaxis"}
        response = client.post(url, body | {"severity": "severe"})
        assert response.status_code == 302 and response["Location"] == url, response["Location"]


def chart(client, dose, at, **body):
    with time_machine.travel(at, tick=False):
        sign_in(client)
        url = reverse("medications:dose_document", args=[dose.public_id])
        return client.post(url, {"outcome": "given", **body})


def med_pass(client, stay, at) -> str:
    with time_machine.travel(at, tick=False):
        sign_in(client)
        return page(client.get(reverse("medications:med_pass", args=[stay.public_id])))


CONFLICT = "Allergy conflict: new allergy since this order ({}) — hold and call the prescriber"


@pytest.mark.django_db
def test_an_allergy_added_after_verification_refuses_the_dose_and_flags_the_med_pass(
    client, cast, facility, meds
):
    with time_machine.travel(MORNING, tick=False):
        stay = admit(facility, cast["nurse"], n=6)  # NKDA
    order = verified_order(cast, facility, stay, meds["amoxicillin"], at=MORNING.replace(minute=40))
    client.nurse = cast["nurse"]
    assert "Allergy conflict" not in med_pass(client, stay, MORNING.replace(hour=7))
    add_on_page(client, stay, "Penicillin", MORNING.replace(hour=8))

    nine = MORNING.replace(hour=9)
    refused = chart(client, first_dose(order), nine)
    assert refused.status_code == 400
    shown = page(refused).replace("&#x27;", "'")
    assert (
        "Allergy conflict: the chart lists Penicillin (amoxicillin is a penicillin), recorded "
        "2026-05-12 08:00, after this order was written." in shown
    )
    assert "hold the dose and contact the prescriber" in shown
    assert not Administration.objects.filter(order=order).exists()
    assert CONFLICT.format("Penicillin") in med_pass(client, stay, nine)

    # The nurse holds it, which is charted; nothing is given.
    held = chart(client, first_dose(order), nine, outcome="held", reason="New penicillin allergy",
                 hold_parameter="Allergy: prescriber called")  # fmt: skip
    assert held.status_code == 302
    assert Administration.objects.get(order=order).outcome == "held"


@pytest.mark.django_db
def test_an_override_covers_only_the_allergies_on_the_chart_when_the_order_was_written(
    client, cast, facility, meds
):
    with time_machine.travel(MORNING, tick=False):
        stay = admit(facility, cast["nurse"], n=6, allergies="Penicillin")
    order = verified_order(
        cast, facility, stay, meds["amoxicillin"], at=MORNING.replace(minute=40),
        reason="Desensitised to penicillin in 2025", times="07:00,09:00",
    )  # fmt: skip
    client.nurse = cast["nurse"]
    seven, nine = order.doses.order_by("scheduled_at")[:2]
    assert chart(client, seven, seven.scheduled_at).status_code == 302  # covered: given
    assert "Allergy conflict" not in med_pass(client, stay, MORNING.replace(hour=7, minute=30))

    add_on_page(client, stay, "Amoxil", MORNING.replace(hour=8))
    refused = chart(client, nine, nine.scheduled_at)
    assert refused.status_code == 400
    assert "Allergy conflict: the chart lists Amoxil (contains amoxicillin)" in page(refused)
    assert CONFLICT.format("Amoxil") in med_pass(client, stay, nine.scheduled_at)
    assert Administration.objects.filter(order=order).count() == 1


@pytest.mark.django_db
def test_a_dose_given_before_the_allergy_was_recorded_can_still_be_charted(
    client, cast, facility, meds
):
    with time_machine.travel(MORNING, tick=False):
        stay = admit(facility, cast["nurse"], n=6)
    order = verified_order(cast, facility, stay, meds["amoxicillin"], at=MORNING.replace(minute=40))
    client.nurse = cast["nurse"]
    add_on_page(client, stay, "PCN", MORNING.replace(hour=9, minute=20))
    given_at = form_time(MORNING.replace(hour=9), facility)
    late = chart(client, first_dose(order), MORNING.replace(hour=9, minute=30), given_at=given_at)
    assert late.status_code == 302  # given at 09:00, the allergy known from 09:20
    assert Administration.objects.get(order=order).outcome == "given"
    # The next dose is refused.
    evening = order.doses.order_by("scheduled_at")[1]
    assert chart(client, evening, evening.scheduled_at).status_code == 400


@pytest.mark.django_db
def test_a_prn_dose_is_refused_after_a_new_allergy(client, cast, facility, meds):
    ibuprofen = catalog_med(facility, "Ibuprofen", "400 mg", {"ibuprofen": 400})
    with time_machine.travel(MORNING, tick=False):
        stay = admit(facility, cast["nurse"], n=6)
    order = verified_order(
        cast, facility, stay, ibuprofen, at=MORNING.replace(minute=40), frequency="prn",
        times="", indication="pain", prn_min_interval_minutes=360, prn_max_per_24h=4,
    )  # fmt: skip
    client.nurse = cast["nurse"]
    add_on_page(client, stay, "Motrin", MORNING.replace(hour=8))
    with time_machine.travel(MORNING.replace(hour=9), tick=False):
        sign_in(client)
        url = reverse("medications:prn_give", args=[order.public_id])
        body = {"indication": "back pain", "pre_assessment": "pain", "pre_score": "6"}
        refused = client.post(url, body)
    assert refused.status_code == 400
    assert "Allergy conflict: the chart lists Motrin (contains ibuprofen)" in page(refused)
    assert 'value="back pain"' in page(refused)  # what was typed stays
    assert not Administration.objects.filter(order=order).exists()
    assert CONFLICT.format("Motrin") in med_pass(client, stay, MORNING.replace(hour=9))


@pytest.mark.django_db
def test_verification_refuses_an_allergy_added_after_the_order_s_override(cast, facility, meds):
    with time_machine.travel(MORNING, tick=False):
        stay = admit(facility, cast["nurse"], n=6, allergies="Penicillin")
        order = order_transcribe(
            actor=cast["nurse"], admission=stay, medication=meds["amoxicillin"], dose="1 tab",
            dose_units=Decimal("1"), route="oral", frequency="bid", start_at=stay.admitted_at,
            prescriber_name="Dr. R", prescriber_credentials="MD",
            allergy_override_reason="Desensitised in 2025",
        )  # fmt: skip
    with time_machine.travel(MORNING.replace(minute=30), tick=False):
        allergy_add(actor=cast["nurse"], client=stay.client, allergen="Augmentin")
        with pytest.raises(ValidationError) as info:
            order_verify(actor=make_user("nurse_two", "nurse", facility), order=order)
    assert "the chart now lists Augmentin" in info.value.message_dict["allergy_override_reason"][0]


@pytest.mark.django_db
def test_the_med_pass_query_count_does_not_grow_with_flagged_orders(client, cast, facility):
    with time_machine.travel(MORNING, tick=False):
        stay = admit(facility, cast["nurse"], n=6)
    names = ["Ondansetron", "Amoxicillin", "Ampicillin", "Dicloxacillin", "Nafcillin"]
    for name in names:
        med = catalog_med(facility, name, "250 mg", {name.lower(): 250})
        verified_order(cast, facility, stay, med, at=MORNING.replace(minute=40))
    client.nurse = cast["nurse"]
    flag = "Allergy conflict: new allergy since this order"
    nine = MORNING.replace(hour=9)
    add_on_page(client, stay, "Zofran", MORNING.replace(hour=8))
    with CaptureQueriesContext(connection) as one:
        assert med_pass(client, stay, nine).count(flag) == 2  # its dose, and the order list
    add_on_page(client, stay, "Penicillin", MORNING.replace(hour=8, minute=5))
    with CaptureQueriesContext(connection) as five:
        assert med_pass(client, stay, nine).count(flag) == 10
    assert len(five) == len(one), [q["sql"] for q in five.captured_queries]


def test_every_catalog_ingredient_and_name_is_known_to_the_table():
    """The demo catalog (seed_demo_medications) and the bench catalog (bench/mar_generate.py):
    an allergy to any of them is matched by ingredient, not by name only."""
    from pathlib import Path

    from django.conf import settings

    from medications.allergies import reading
    from medications.management.commands.seed_demo_medications import CATALOG, INGREDIENTS

    bench = (Path(settings.BASE_DIR) / "bench" / "mar_generate.py").read_text()
    lines = bench.split('MEDICATIONS = """', 1)[1].split('"""', 1)[0].strip().splitlines()
    names = {line.split("|")[0] for line in lines} | {row[0] for row in CATALOG}
    names |= {generic for amounts in INGREDIENTS.values() for generic in amounts}
    assert len(names) > 30
    unknown = {name: text for name in sorted(names) for known, text in [reading(name)] if not known}
    assert not unknown
    for brand in ("Vivitrol", "Zofran", "Neurontin", "Vistaril", "Desyrel", "Catapres", "Narcan"):
        assert reading(brand)[0], brand
