"""Drug classes, their members and the brand names people give as allergies: the table the
order-entry allergy check reads (issue 9; the check is medications/allergies.py).

Pure data, no Django. Every name is a lower-case generic name as the catalog's Ingredient rows
hold it (medications.Ingredient.name).

Sources:
- Class membership: the WHO Collaborating Centre for Drug Statistics Methodology, ATC
  classification (ATC/DDD Index), the ATC group of each class is given with it below.
  Aspirin (N02BA01) is counted with the NSAIDs, as the cross-reactive NSAID reactions are.
- Brand and combination names and their ingredients: the FDA-approved labels (DailyMed) of
  each product (e.g. Bactrim: sulfamethoxazole and trimethoprim; Augmentin: amoxicillin and
  clavulanate potassium; Percocet: oxycodone and acetaminophen; Suboxone: buprenorphine and
  naloxone).
- Cross-reactivity between classes: Khan DA, Banerji A, Blumenthal KG, et al. "Drug allergy:
  a 2022 practice parameter update", J Allergy Clin Immunol 2022;150(6):1333-1393
  (AAAAI/ACAAI Joint Task Force on Practice Parameters). A penicillin allergy does not forbid a
  cephalosporin or a carbapenem (cross-reactivity is low and side-chain dependent), so these
  warn rather than block; sulfonamide antibiotics do not cross-react with non-antibiotic
  sulfonamides (furosemide, thiazides, celecoxib, sulfonylureas...), which are therefore in
  no class here and are never stopped by a "sulfa" allergy.
- Aromatic anticonvulsants (carbamazepine, oxcarbazepine, phenytoin, phenobarbital, primidone,
  lamotrigine) cross-react with each other in hypersensitivity syndromes (same parameter), so
  they form one class.

Choices where the sources leave room (the safer reading): an allergy to one member of a class
stops every member of that class, as does an allergy written as the class ("penicillin",
"sulfa", "NSAID", "opioids", "codeine" stops codeine and, being an opioid, the other opioids);
the prescriber's reason overrides, on the order.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class DrugClass:
    key: str
    label: str  # plural, for messages: "penicillins"
    member_noun: str  # "a penicillin"
    atc: str
    members: frozenset[str]
    terms: tuple[str, ...]  # words that name the class in an allergy ("sulfa", "nsaid")


def _names(text: str) -> frozenset[str]:
    return frozenset(name.strip() for name in text.split(","))


def _cls(key, label, noun, atc, members, terms) -> DrugClass:
    return DrugClass(key, label, noun, atc, _names(members), tuple(terms))


# fmt: off
CLASSES: dict[str, DrugClass] = {
    c.key: c
    for c in (
        _cls(
            "penicillins", "penicillins", "a penicillin", "J01CA, J01CE, J01CF, J01CR",
            "amoxicillin, ampicillin, penicillin g, penicillin v, dicloxacillin, cloxacillin, "
            "flucloxacillin, nafcillin, oxacillin, piperacillin, ticarcillin",
            ["penicillin", "pcn", "beta lactam", "beta lactam antibiotic"],
        ),
        _cls(
            "cephalosporins", "cephalosporins", "a cephalosporin", "J01DB-J01DI",
            "cephalexin, cefadroxil, cefazolin, cefaclor, cefuroxime, cefprozil, cefoxitin, "
            "cefotetan, cefdinir, cefpodoxime, cefixime, ceftriaxone, cefotaxime, ceftazidime, "
            "cefepime, ceftaroline, cefiderocol",
            ["cephalosporin", "beta lactam", "beta lactam antibiotic"],
        ),
        _cls(
            "carbapenems", "carbapenems", "a carbapenem", "J01DH",
            "imipenem, meropenem, ertapenem, doripenem",
            ["carbapenem", "beta lactam", "beta lactam antibiotic"],
        ),
        _cls(
            "sulfonamide_antibiotics", "sulfonamide antibiotics", "a sulfonamide antibiotic",
            "J01EC, J01EE, A07EC01, D06BA01",
            "sulfamethoxazole, sulfadiazine, sulfisoxazole, sulfacetamide, sulfasalazine",
            ["sulfa", "sulpha", "sulfa drug", "sulfonamide", "sulphonamide",
             "sulfonamide antibiotic", "sulfa antibiotic"],
        ),
        _cls(
            "nsaids", "NSAIDs", "an NSAID", "M01A, N02BA",
            "aspirin, ibuprofen, naproxen, ketorolac, diclofenac, indomethacin, meloxicam, "
            "celecoxib, etodolac, nabumetone, piroxicam, ketoprofen, sulindac, diflunisal, "
            "oxaprozin, flurbiprofen, mefenamic acid",
            ["nsaid", "non steroidal anti inflammatory", "nonsteroidal anti inflammatory",
             "salicylate"],
        ),
        _cls(
            "opioids", "opioids", "an opioid", "N02A, N07BC, R05DA",
            "morphine, codeine, hydrocodone, oxycodone, hydromorphone, oxymorphone, fentanyl, "
            "sufentanil, remifentanil, alfentanil, meperidine, methadone, buprenorphine, "
            "tramadol, tapentadol, levorphanol, butorphanol, nalbuphine, pentazocine, "
            "dihydrocodeine",
            ["opioid", "opiate", "narcotic", "codeine"],
        ),
        _cls(
            "benzodiazepines", "benzodiazepines", "a benzodiazepine", "N05BA, N05CD, N03AE",
            "alprazolam, chlordiazepoxide, clonazepam, clorazepate, diazepam, lorazepam, "
            "midazolam, oxazepam, temazepam, triazolam, estazolam, flurazepam, clobazam",
            ["benzodiazepine", "benzo"],
        ),
        _cls(
            "fluoroquinolones", "fluoroquinolones", "a fluoroquinolone", "J01MA",
            "ciprofloxacin, levofloxacin, moxifloxacin, ofloxacin, norfloxacin, gemifloxacin, "
            "delafloxacin",
            ["fluoroquinolone", "quinolone"],
        ),
        _cls(
            "macrolides", "macrolides", "a macrolide", "J01FA",
            "azithromycin, clarithromycin, erythromycin",
            ["macrolide"],
        ),
        _cls(
            "tetracyclines", "tetracyclines", "a tetracycline", "J01AA",
            "tetracycline, doxycycline, minocycline, demeclocycline, omadacycline, "
            "sarecycline, tigecycline",
            ["tetracycline"],
        ),
        _cls(
            "ace_inhibitors", "ACE inhibitors", "an ACE inhibitor", "C09AA",
            "lisinopril, enalapril, captopril, benazepril, ramipril, quinapril, fosinopril, "
            "perindopril, trandolapril, moexipril",
            ["ace inhibitor", "ace i", "acei"],
        ),
        _cls(
            "statins", "statins", "a statin", "C10AA",
            "atorvastatin, simvastatin, rosuvastatin, pravastatin, lovastatin, fluvastatin, "
            "pitavastatin",
            ["statin", "hmg coa reductase inhibitor"],
        ),
        _cls(
            "aromatic_anticonvulsants", "aromatic anticonvulsants", "an aromatic anticonvulsant",
            "N03AF, N03AB, N03AA, N03AX09",
            "carbamazepine, oxcarbazepine, eslicarbazepine, phenytoin, fosphenytoin, "
            "phenobarbital, primidone, lamotrigine",
            ["anticonvulsant", "aromatic anticonvulsant", "antiepileptic"],
        ),
    )
}
# fmt: on

# An allergy to the first class warns (not blocks) on a member of the second (2022 parameter).
CROSS_REACTIVE: dict[str, tuple[str, ...]] = {
    "penicillins": ("cephalosporins", "carbapenems"),
    "cephalosporins": ("penicillins", "carbapenems"),
    "carbapenems": ("penicillins", "cephalosporins"),
}

# Brand, combination and other names -> generic ingredients (FDA labels).
BRANDS: dict[str, tuple[str, ...]] = {
    # penicillins and beta-lactamase inhibitor combinations
    "augmentin": ("amoxicillin", "clavulanate"),
    "co amoxiclav": ("amoxicillin", "clavulanate"),
    "amoxil": ("amoxicillin",),
    "penicillin vk": ("penicillin v",),
    "pen vk": ("penicillin v",),
    "veetids": ("penicillin v",),
    "bicillin": ("penicillin g",),
    "unasyn": ("ampicillin", "sulbactam"),
    "zosyn": ("piperacillin", "tazobactam"),
    # cephalosporins, carbapenems
    "keflex": ("cephalexin",),
    "duricef": ("cefadroxil",),
    "ancef": ("cefazolin",),
    "ceftin": ("cefuroxime",),
    "omnicef": ("cefdinir",),
    "rocephin": ("ceftriaxone",),
    "merrem": ("meropenem",),
    "invanz": ("ertapenem",),
    "primaxin": ("imipenem", "cilastatin"),
    # sulfonamide antibiotics
    "bactrim": ("sulfamethoxazole", "trimethoprim"),
    "septra": ("sulfamethoxazole", "trimethoprim"),
    "co trimoxazole": ("sulfamethoxazole", "trimethoprim"),
    "cotrimoxazole": ("sulfamethoxazole", "trimethoprim"),
    "smx tmp": ("sulfamethoxazole", "trimethoprim"),
    "smz tmp": ("sulfamethoxazole", "trimethoprim"),
    "tmp smx": ("sulfamethoxazole", "trimethoprim"),
    "azulfidine": ("sulfasalazine",),
    # analgesics
    "tylenol": ("acetaminophen",),
    "tylenol with codeine": ("acetaminophen", "codeine"),
    "percocet": ("oxycodone", "acetaminophen"),
    "endocet": ("oxycodone", "acetaminophen"),
    "roxicet": ("oxycodone", "acetaminophen"),
    "oxycontin": ("oxycodone",),
    "roxicodone": ("oxycodone",),
    "norco": ("hydrocodone", "acetaminophen"),
    "vicodin": ("hydrocodone", "acetaminophen"),
    "lortab": ("hydrocodone", "acetaminophen"),
    "dilaudid": ("hydromorphone",),
    "ms contin": ("morphine",),
    "demerol": ("meperidine",),
    "duragesic": ("fentanyl",),
    "ultram": ("tramadol",),
    "dolophine": ("methadone",),
    "methadose": ("methadone",),
    "suboxone": ("buprenorphine", "naloxone"),
    "zubsolv": ("buprenorphine", "naloxone"),
    "subutex": ("buprenorphine",),
    "sublocade": ("buprenorphine",),
    "motrin": ("ibuprofen",),
    "advil": ("ibuprofen",),
    "aleve": ("naproxen",),
    "naprosyn": ("naproxen",),
    "toradol": ("ketorolac",),
    "voltaren": ("diclofenac",),
    "mobic": ("meloxicam",),
    "celebrex": ("celecoxib",),
    "indocin": ("indomethacin",),
    "bayer": ("aspirin",),
    "ecotrin": ("aspirin",),
    "excedrin": ("acetaminophen", "aspirin", "caffeine"),
    # benzodiazepines
    "librium": ("chlordiazepoxide",),
    "ativan": ("lorazepam",),
    "valium": ("diazepam",),
    "xanax": ("alprazolam",),
    "klonopin": ("clonazepam",),
    "restoril": ("temazepam",),
    "versed": ("midazolam",),
    "serax": ("oxazepam",),
    "tranxene": ("clorazepate",),
    # other antibiotics
    "cipro": ("ciprofloxacin",),
    "levaquin": ("levofloxacin",),
    "avelox": ("moxifloxacin",),
    "zithromax": ("azithromycin",),
    "z pak": ("azithromycin",),
    "zpak": ("azithromycin",),
    "biaxin": ("clarithromycin",),
    "vibramycin": ("doxycycline",),
    "doryx": ("doxycycline",),
    "minocin": ("minocycline",),
    # cardiovascular
    "zestril": ("lisinopril",),
    "prinivil": ("lisinopril",),
    "vasotec": ("enalapril",),
    "altace": ("ramipril",),
    "lotensin": ("benazepril",),
    "capoten": ("captopril",),
    "lipitor": ("atorvastatin",),
    "zocor": ("simvastatin",),
    "crestor": ("rosuvastatin",),
    "pravachol": ("pravastatin",),
    # anticonvulsants
    "tegretol": ("carbamazepine",),
    "trileptal": ("oxcarbazepine",),
    "dilantin": ("phenytoin",),
    "lamictal": ("lamotrigine",),
    # the facility's catalog (seed_demo_medications, bench/mar_generate.py)
    "vivitrol": ("naltrexone",),
    "revia": ("naltrexone",),
    "depade": ("naltrexone",),
    "narcan": ("naloxone",),
    "zofran": ("ondansetron",),
    "neurontin": ("gabapentin",),
    "gralise": ("gabapentin",),
    "vistaril": ("hydroxyzine",),
    "atarax": ("hydroxyzine",),
    "desyrel": ("trazodone",),
    "oleptro": ("trazodone",),
    "catapres": ("clonidine",),
    "kapvay": ("clonidine",),
    "imodium": ("loperamide",),
    "nicoderm": ("nicotine",),
    "habitrol": ("nicotine",),
    "nicorette": ("nicotine",),
    "zoloft": ("sertraline",),
    "glucophage": ("metformin",),
    "seroquel": ("quetiapine",),
    "inderal": ("propranolol",),
    "campral": ("acamprosate",),
    "lioresal": ("baclofen",),
    "bentyl": ("dicyclomine",),
    "robaxin": ("methocarbamol",),
    "folvite": ("folic acid",),
}

# Generics in no class above: known names (an allergy to one stops it by ingredient), so that
# an allergen the table does not know can be told apart from a misspelling.
OTHER_GENERICS = _names(
    "acetaminophen, trimethoprim, clavulanate, sulbactam, tazobactam, cilastatin, caffeine, "
    "naltrexone, naloxone, ondansetron, gabapentin, hydroxyzine, trazodone, clonidine, "
    "loperamide, nicotine, thiamine, folic acid, multivitamin, sertraline, metformin, "
    "quetiapine, propranolol, acamprosate, baclofen, dicyclomine, methocarbamol"
)

# Other generic spellings and abbreviations -> the generic name used here.
SYNONYMS: dict[str, str] = {
    "paracetamol": "acetaminophen",
    "apap": "acetaminophen",
    "asa": "aspirin",
    "acetylsalicylic acid": "aspirin",
    "clavulanic acid": "clavulanate",
    "benzylpenicillin": "penicillin g",
    "phenoxymethylpenicillin": "penicillin v",
    "cefalexin": "cephalexin",
    "cephazolin": "cefazolin",
    "sulphamethoxazole": "sulfamethoxazole",
    "smx": "sulfamethoxazole",
    "tmp": "trimethoprim",
    "silver sulfadiazine": "sulfadiazine",
    "pethidine": "meperidine",
    "diacetylmorphine": "morphine",
    "folate": "folic acid",
}

# Names written with a number, read before the digits are dropped (an allergy list's "T3" or
# "Tylenol #3" is acetaminophen with codeine 30 mg; #2 and #4 are the 15 and 60 mg strengths).
NUMBERED: dict[str, str] = {
    r"\btylenol\s*(?:#|no\.?|number)?\s*[234]\b": "tylenol with codeine",
    r"\bt\s*-?\s*3\b": "tylenol with codeine",
    r"\bvitamin\s*b\s*-?\s*1\b": "thiamine",
}

# Sulfonamides that are not antibiotics: in no class, never stopped by a "sulfa" allergy.
NON_ANTIBIOTIC_SULFONAMIDES = _names(
    "furosemide, bumetanide, torsemide, hydrochlorothiazide, chlorthalidone, indapamide, "
    "acetazolamide, celecoxib, sumatriptan, glipizide, glyburide, glimepiride, zonisamide, "
    "topiramate, tamsulosin"
)


def classes_of(ingredient: str) -> list[DrugClass]:
    """The classes a generic ingredient belongs to."""
    return [c for c in CLASSES.values() if ingredient in c.members]
