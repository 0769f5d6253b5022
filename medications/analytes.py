"""Drug-screen analytes that a client's active orders explain (issue 13 item 5), offered to
screening through facility.registry ("expected analytes"), so a presumptive positive for a
prescribed substance shows as *expected* and screening never imports medications.

An order explains an analyte when one of its medication's catalog ingredients is in the table
below; a medication without ingredient rows in the catalog is matched on the words of its name
("Buprenorphine-naloxone" → buprenorphine). Only orders active at the test time count (verified,
or given before their second check; started; not stopped or discontinued), so a positive after
the order ended is unexpected and reaches the nurse.
"""

import re
from collections import defaultdict

from medications.models import MedicationIngredient, Order

# Ingredient (generic name, lower case) → the screen analytes it explains: the drug itself or
# its metabolites. Sources:
# - Moeller KE, Kissack JC, Atayee RS, Lee KC. Clinical interpretation of urine drug tests.
#   Mayo Clin Proc. 2017;92(5):774-796 (metabolic pathways: codeine → morphine; hydrocodone →
#   hydromorphone; methamphetamine → amphetamine; lisdexamfetamine → dextroamphetamine;
#   primidone → phenobarbital; opiate immunoassays detect codeine, hydrocodone and
#   hydromorphone, and detect oxycodone poorly, hence a separate OXY strip).
# - SAMHSA TIP 63, Medications for Opioid Use Disorder (2021): buprenorphine screens by its own
#   assay; methadone by methadone and its metabolite EDDP.
# - FDA 510(k) summaries of CLIA-waived multi-drug cups (cross-reactivity tables of the MOP 300,
#   OPI 2000, BZO 300, BAR 300, TCA 1000 and TRA 100 strips).
# - Dronabinol is synthetic delta-9-THC: the THC strip detects its metabolite THC-COOH.
# Known *false* positives (quetiapine → TCA, sertraline → BZO, trazodone or bupropion → AMP,
# efavirenz → THC, quinolones → OPI) are left out on purpose: they do not make a positive
# expected; the laboratory's confirmation settles them.
INGREDIENT_ANALYTES: dict[str, tuple[str, ...]] = {
    # Opioid use disorder and opioids.
    "buprenorphine": ("BUP",),
    "methadone": ("MTD", "EDDP"),
    "morphine": ("OPI", "MOP"),
    "codeine": ("OPI", "MOP"),
    "hydrocodone": ("OPI", "MOP"),
    "hydromorphone": ("OPI", "MOP"),
    "oxycodone": ("OXY",),
    "oxymorphone": ("OXY",),
    "fentanyl": ("FEN",),
    "tramadol": ("TRA",),
    # Benzodiazepines.
    **dict.fromkeys(
        (
            "alprazolam",
            "chlordiazepoxide",
            "clobazam",
            "clonazepam",
            "clorazepate",
            "diazepam",
            "estazolam",
            "flurazepam",
            "lorazepam",
            "midazolam",
            "oxazepam",
            "temazepam",
            "triazolam",
        ),
        ("BZO",),
    ),  # fmt: skip
    # Barbiturates.
    **dict.fromkeys(
        ("phenobarbital", "butalbital", "pentobarbital", "secobarbital", "primidone"), ("BAR",)
    ),
    # Stimulants.
    "amphetamine": ("AMP",),
    "dextroamphetamine": ("AMP",),
    "lisdexamfetamine": ("AMP",),
    "methamphetamine": ("MET", "AMP"),
    # Tricyclic antidepressants.
    **dict.fromkeys(
        (
            "amitriptyline",
            "nortriptyline",
            "imipramine",
            "desipramine",
            "doxepin",
            "clomipramine",
            "protriptyline",
            "trimipramine",
            "amoxapine",
        ),
        ("TCA",),
    ),  # fmt: skip
    "dronabinol": ("THC",),
}


def analytes_of(ingredient_names) -> set[str]:
    """The analytes a set of ingredient names explains (names compared in lower case)."""
    found: set[str] = set()
    for name in ingredient_names:
        found.update(INGREDIENT_ANALYTES.get(name.strip().lower(), ()))
    return found


def _name_words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z]+", name.lower()) if w]


def expected_analytes(admission_ids, *, at) -> dict[int, dict[str, str]]:
    """The registry source (facility.registry.register_expected_analytes_source):
    {admission id: {analyte: the orders that explain it}} for the orders active at `at`.
    Two queries, whatever the number of stays or orders."""
    orders = list(
        Order.objects.active_at(at)
        .filter(admission_id__in=list(admission_ids))
        .select_related("medication")
        .order_by("admission_id", "medication__name", "pk")
    )
    if not orders:
        return {}
    ingredients: dict[int, list[str]] = defaultdict(list)
    rows = MedicationIngredient.objects.filter(
        medication_id__in={o.medication_id for o in orders}
    ).values_list("medication_id", "ingredient__name")
    for medication_id, name in rows:
        ingredients[medication_id].append(name)
    out: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for order in orders:
        med = order.medication
        names = ingredients.get(med.pk) or _name_words(med.name)
        why = f"{med.name} {med.strength} (active order)"
        for analyte in sorted(analytes_of(names)):
            if why not in out[order.admission_id][analyte]:
                out[order.admission_id][analyte].append(why)
    return {
        admission_id: {analyte: "; ".join(whys) for analyte, whys in found.items()}
        for admission_id, found in out.items()
    }
