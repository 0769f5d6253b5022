"""The allergy check at order entry and verification (issue 9).

`check` is pure: a client's drug allergies as typed (allergen text) against a medication's
name and ingredients, through the shipped class table (medications/drug_classes.py):

- block: the allergen is, or contains, one of the medication's ingredients ("Bactrim" and
  sulfamethoxazole-trimethoprim), or names or shares a class with it ("penicillin" and
  amoxicillin, "Ativan" and chlordiazepoxide);
- warn: the allergen's class cross-reacts with the medication's (a penicillin allergy and
  cephalexin);
- a cautious name match besides: a word of the allergen that is a word of the medication's
  name or ingredients blocks, so an allergen the table does not know ("Zyprexa") still stops a
  catalog entry of that name, including one without ingredient rows.

Only drug allergies drive it; food and environmental allergies are shown, not matched. Both a
block and a warning need a reason on the order (`Order.allergy_override_reason`).
The functions at the end read the database for the order services.
"""

import re
from dataclasses import dataclass

from medications.drug_classes import BRANDS, CLASSES, CROSS_REACTIVE, SYNONYMS, classes_of

BLOCK, WARN = "block", "warn"


def _words_of(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\S+", text))


# Words that name no drug: never matched by name.
STOP_WORDS = _words_of(
    "drug drugs allergy allergies allergic medication medications medicine antibiotic "
    "antibiotics class family all any other unknown reaction intolerance with plus and tablet "
    "tablets capsule capsules solution injection oral film patch cream extended release acid "
    "sodium potassium calcium magnesium hydrochloride sulfate sulphate tartrate bitartrate "
    "phosphate acetate maleate mesylate besylate succinate citrate hyclate fumarate trihydrate "
    "monohydrate bromide"
)
# Salt and hydrate words dropped from an ingredient's name ("amoxicillin trihydrate").
SALTS = _words_of(
    "sodium potassium calcium magnesium hydrochloride hcl sulfate sulphate tartrate bitartrate "
    "phosphate acetate maleate mesylate besylate succinate citrate hyclate fumarate trihydrate "
    "monohydrate bromide"
)


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lower case, punctuation and digits out, plurals singular: "Sulfa drugs" -> sulfa, drug."""
    return [_singular(w) for w in re.split(r"[^a-z]+", text.lower()) if w]


def _term_index() -> dict[tuple[str, ...], tuple[frozenset[str], frozenset[str]]]:
    """Every name the table knows, as words -> (ingredients, class keys)."""
    index: dict[tuple[str, ...], tuple[set, set]] = {}

    def add(name: str, ingredients=(), classes=()):
        entry = index.setdefault(tuple(words(name)), (set(), set()))
        entry[0].update(ingredients)
        entry[1].update(classes)

    for cls in CLASSES.values():
        for member in cls.members:
            add(member, [member])
        for term in cls.terms:
            add(term, classes=[cls.key])
    for brand, generics in BRANDS.items():
        add(brand, generics)
        for generic in generics:
            add(generic, [generic])
    for other, generic in SYNONYMS.items():
        add(other, [generic])
    return {k: (frozenset(i), frozenset(c)) for k, (i, c) in index.items()}


TERMS = _term_index()
LONGEST = max(len(k) for k in TERMS)


@dataclass(frozen=True)
class Resolved:
    ingredients: frozenset[str]
    classes: frozenset[str]  # named, or of the ingredients
    words: frozenset[str]  # the remaining words, for the cautious name match


def resolve(text: str) -> Resolved:
    """What a name means: the ingredients and classes it names (longest known names first),
    and its other words."""
    ws = words(text)
    ingredients, classes, rest = set(), set(), set()
    i = 0
    while i < len(ws):
        for size in range(min(LONGEST, len(ws) - i), 0, -1):
            hit = TERMS.get(tuple(ws[i : i + size]))
            if hit:
                ingredients |= hit[0]
                classes |= hit[1]
                i += size
                break
        else:
            if len(ws[i]) >= 4 and ws[i] not in STOP_WORDS:
                rest.add(ws[i])
            i += 1
    for ingredient in ingredients:
        classes |= {c.key for c in classes_of(ingredient)}
    return Resolved(frozenset(ingredients), frozenset(classes), frozenset(rest))


def ingredient_name(name: str) -> str:
    """An Ingredient row's name as the table spells it: salts dropped, synonyms mapped."""
    plain = " ".join(w for w in re.split(r"[^a-z]+", name.lower()) if w and w not in SALTS)
    return SYNONYMS.get(plain, plain)


@dataclass(frozen=True)
class Finding:
    allergen: str
    level: str  # BLOCK or WARN
    why: str

    def __str__(self) -> str:
        return f"{self.allergen} ({self.why})"


def _medication(name: str, ingredients: list[str]) -> Resolved:
    """A medication: its ingredient rows when it has them, else what its name says."""
    named = resolve(name)
    if not ingredients:
        return named
    plain = frozenset(ingredient_name(i) for i in ingredients)
    classes = {c.key for i in plain for c in classes_of(i)}
    rest = set(named.words)
    for i in ingredients:
        rest |= resolve(i).words
    return Resolved(plain, frozenset(classes), frozenset(rest))


def check(allergens: list[str], medication_name: str, ingredients: list[str]) -> list[Finding]:
    """Each drug allergy that stops (block) or cautions (warn) this medication, blocks first."""
    med = _medication(medication_name, ingredients)
    findings = []
    for allergen in allergens:
        allergy = resolve(allergen)
        same = sorted(allergy.ingredients & med.ingredients)
        shared = sorted(allergy.classes & med.classes)
        cross = sorted({c for a in allergy.classes for c in CROSS_REACTIVE.get(a, ())})
        cross = [c for c in cross if c in med.classes and c not in allergy.classes]
        by_name = sorted(allergy.words & (med.words | med.ingredients))
        if same:
            findings.append(Finding(allergen, BLOCK, f"contains {', '.join(same)}"))
        elif shared:
            cls = CLASSES[shared[0]]
            what = ", ".join(sorted(i for i in med.ingredients if i in cls.members)) or (
                medication_name
            )
            findings.append(Finding(allergen, BLOCK, f"{what} is {cls.member_noun}"))
        elif by_name:
            findings.append(Finding(allergen, BLOCK, f"the name matches: {by_name[0]}"))
        elif cross:
            cls = CLASSES[cross[0]]
            findings.append(
                Finding(
                    allergen,
                    WARN,
                    f"{medication_name} is {cls.member_noun}: cross-reactivity with "
                    f"{', '.join(CLASSES[a].label for a in sorted(allergy.classes))} "
                    "is low but possible",
                )
            )
    return sorted(findings, key=lambda f: f.level != BLOCK)


# ---------------------------------------------------------------- reading the database


def drug_allergens(client) -> list[str]:
    """The client's live drug allergies, as typed."""
    from clients.models import AllergenKind

    return [a.allergen for a in client.live_allergies if a.kind == AllergenKind.DRUG]


def medication_check(client, medication) -> list[Finding]:
    names = [row.ingredient.name for row in medication.ingredient_rows.select_related("ingredient")]
    return check(drug_allergens(client), medication.name, names)


def recorded_or_refuse(client) -> None:
    """No order is entered or verified while the allergy history has not been taken."""
    from django.core.exceptions import ValidationError

    from clients.models import AllergyStatus

    if client.allergy_status == AllergyStatus.NOT_RECORDED:
        raise ValidationError(
            {
                "allergy_status": "Allergies: not yet recorded for this client. Record the "
                "allergies, or no known drug allergies, on the chart first."
            }
        )


def verify_or_refuse(order) -> None:
    """At verification: allergies recorded, and nothing on today's list stops this order
    unless the order carries a reason (an allergy added after entry means a new order)."""
    from django.core.exceptions import ValidationError

    client = order.admission.client
    recorded_or_refuse(client)
    findings = medication_check(client, order.medication)
    if findings and not order.allergy_override_reason.strip():
        raise ValidationError(
            {
                "allergy_override_reason": "Allergy: the chart now lists "
                f"{'; '.join(str(f) for f in findings)}. Discontinue and ask the prescriber "
                "for a new order with a reason."
            }
        )
