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
The functions at the end read the database for the order services and, at each dose given,
for the MAR: an override covers only the allergies on the chart when the order was written, so
a drug allergy recorded later that blocks the order refuses the dose (`refuse_if_new_conflict`)
and flags the order on the med pass (`conflicts_by_order`).
"""

import difflib
import re
from dataclasses import dataclass

from medications.drug_classes import (
    BRANDS,
    CLASSES,
    CROSS_REACTIVE,
    NUMBERED,
    OTHER_GENERICS,
    SYNONYMS,
    classes_of,
)

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
    """Lower case, punctuation and digits out, plurals singular: "Sulfa drugs" -> sulfa, drug
    (names written with a number first: "Tylenol #3" -> tylenol, with, codeine)."""
    text = text.lower()
    for pattern, name in NUMBERED.items():
        text = re.sub(pattern, f" {name} ", text)
    return [_singular(w) for w in re.split(r"[^a-z]+", text) if w]


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
    for generic in OTHER_GENERICS:
        add(generic, [generic])
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


# ---------------------------------------------------------------- what an allergen means

KNOWN_NAMES = sorted({" ".join(k) for k in TERMS})
KNOWN_WORDS = sorted({w for k in TERMS for w in k if len(w) >= 4})


def _close(text: str) -> list[str]:
    return difflib.get_close_matches(text, KNOWN_NAMES + KNOWN_WORDS, n=3, cutoff=0.75)


def reading(allergen: str) -> tuple[bool, str]:
    """(recognised, what the allergy page says of a drug allergen): what it stops and warns on,
    or that the table does not know it (matched by name only) with the closest known names."""
    r = resolve(allergen)
    guesses = {w: _close(w) for w in sorted(r.words)}
    guesses = {w: g for w, g in guesses.items() if g}
    if not (r.ingredients or r.classes):
        names = list(dict.fromkeys(_close(" ".join(words(allergen))) + sum(guesses.values(), [])))
        hint = f" Did you mean: {', '.join(names[:4])}?" if names else ""
        return False, (
            f"{allergen}: not recognised: the check matches it by name only — check the "
            f"spelling.{hint}"
        )
    stops = [
        f"{CLASSES[c].label} ({', '.join(sorted(CLASSES[c].members))})" for c in sorted(r.classes)
    ] + sorted(i for i in r.ingredients if not any(i in CLASSES[c].members for c in r.classes))
    warns = sorted(
        {
            CLASSES[w].label
            for c in r.classes
            for w in CROSS_REACTIVE.get(c, ())
            if w not in r.classes
        }
    )
    text = f"{allergen}: stops {'; '.join(stops)}"
    text += f"; warns on {', '.join(warns)}." if warns else "."
    for word, names in guesses.items():
        text += f" “{word}” is not recognised: did you mean {', '.join(names)}?"
    return True, text


# ---------------------------------------------------------------- reading the database


def drug_allergens(client) -> list[str]:
    """The client's live drug allergies, as typed."""
    from clients.models import AllergenKind

    return [a.allergen for a in client.live_allergies if a.kind == AllergenKind.DRUG]


def medication_check(client, medication) -> list[Finding]:
    return check(drug_allergens(client), medication.name, _ingredient_names(medication))


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
    unless the order carries a reason written after that allergy was on the chart (an allergy
    added after entry means a new order)."""
    from django.core.exceptions import ValidationError

    client = order.admission.client
    recorded_or_refuse(client)
    found = uncovered(order, client.live_allergies, _ingredient_names(order.medication), level=None)
    if found:
        raise ValidationError(
            {
                "allergy_override_reason": "Allergy: the chart now lists "
                f"{'; '.join(str(f) for _, f in found)}. Discontinue and ask the prescriber "
                "for a new order with a reason."
            }
        )


def _ingredient_names(medication) -> list[str]:
    return [row.ingredient.name for row in medication.ingredient_rows.select_related("ingredient")]


def uncovered(order, allergy_rows, ingredients: list[str], *, at=None, level=BLOCK) -> list:
    """(allergy, finding) of the client's live drug allergies, recorded by `at`, that the
    order's override does not cover: a reason covers only the allergies on the chart when the
    order was written (`transcribed_at`). `level` None: warnings too."""
    from clients.models import AllergenKind

    reason = order.allergy_override_reason.strip()
    found = []
    for row in allergy_rows:
        if row.kind != AllergenKind.DRUG or row.removed_at is not None:
            continue
        if at is not None and row.recorded_at > at:
            continue  # not on the chart yet when the dose was given
        if reason and row.recorded_at <= order.transcribed_at:
            continue
        findings = check([row.allergen], order.medication.name, ingredients)
        found += [(row, f) for f in findings if level is None or f.level == level]
    return sorted(found, key=lambda pair: pair[1].level != BLOCK)


def conflict_message(order, found) -> str:
    from django.utils import timezone

    row = found[0][0]
    if row.recorded_at > order.transcribed_at:
        when = timezone.localtime(row.recorded_at, order.admission.facility.tz)
        when = when.strftime("%Y-%m-%d %H:%M")
        since = f"recorded {when}, after this order was written"
    else:
        since = "not covered by an override reason on this order"
    return (
        f"Allergy conflict: the chart lists {'; '.join(str(f) for _, f in found)}, {since}. "
        "Do not give: hold the dose and contact the prescriber. The order must be "
        "discontinued and re-entered, or re-verified with an override."
    )


def refuse_if_new_conflict(order, at) -> None:
    """At administration (`at`, the given time; None: nothing given, nothing to check): a
    block from a drug allergy the order's override does not cover refuses the dose."""
    from django.core.exceptions import ValidationError

    if at is None:
        return
    client = order.admission.client
    found = uncovered(order, client.live_allergies, _ingredient_names(order.medication), at=at)
    if found:
        raise ValidationError({"allergy_override_reason": conflict_message(order, found)})


def conflicts_by_order(client, orders) -> dict[int, str]:
    """For the med pass: order pk -> the allergens that now block it, uncovered by its
    override. One query for every order's ingredients, none without a drug allergy."""
    from collections import defaultdict

    from clients.models import AllergenKind
    from medications.models import MedicationIngredient

    orders = [o for o in orders if o.discontinued_at is None]
    rows = client.live_allergies
    if not orders or not any(a.kind == AllergenKind.DRUG for a in rows):
        return {}
    names = defaultdict(list)
    for mi in MedicationIngredient.objects.filter(
        medication_id__in={o.medication_id for o in orders}
    ).select_related("ingredient"):
        names[mi.medication_id].append(mi.ingredient.name)
    flagged = {}
    for order in orders:
        found = uncovered(order, rows, names[order.medication_id])
        if found:
            flagged[order.pk] = ", ".join(dict.fromkeys(row.allergen for row, _ in found))
    return flagged
