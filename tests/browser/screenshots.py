"""Ad-hoc screenshots of the main pages at tablet and phone widths, with every axe finding.

Not part of the suite (pytest collects only test_*.py); run it by naming the file:

    .venv/bin/python -m pytest tests/browser/screenshots.py -q -s -p no:cacheprovider

Writes /tmp/haven-shots/<page>-<width>.png (or to the directory HAVEN_SCREENSHOTS names) and
prints axe violations of every impact. HAVEN_SCREENSHOTS=1 with the journeys
(tests/browser/test_*_journey*.py) adds their review screenshots to the same directory.

The MAR pages (issue 9) are seeded through the services, as a day on the unit would leave them:
a med pass with an undocumented first dose from 20 hours ago and a missed STAT, an early dose,
two acetaminophen PRN orders sharing a 3 g daily cap, a blind count with a variance, a client's
own controlled stock to dispose of at discharge. The services stamp an order's transcription
with the clock, so the two orders that must be older than that (a STAT an hour and a half ago,
a telephone order two days ago) have that one timestamp moved back before they are verified.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from facility.services import alert_raise
from tests.browser.conftest import SHOTS_DIR
from tests.conftest import admit, make_user

OUT = SHOTS_DIR or Path("/tmp/haven-shots")
WIDTHS = (768, 390)


@dataclass
class Shot:
    name: str
    role: str | None  # a key of `people`, or None for signed out
    url: str
    prepare: Callable | None = None  # (page) -> None, after goto, before the screenshot
    element: tuple[str, str] | None = None  # (selector, name): that element alone, too


# ---------------------------------------------------------------- seeding


def _clock(when, facility) -> str:
    return timezone.localtime(when, facility.tz).strftime("%H:%M")


def _med(facility, name, strength, form, routes="oral", schedule="", **ingredients):
    from medications.models import Medication
    from tests.facility.world import with_ingredients

    med = Medication.objects.create(
        facility=facility, name=name, strength=strength, form=form, routes=routes,
        controlled_schedule=schedule,
    )  # fmt: skip
    return with_ingredients(med, ingredients) if ingredients else med


def _order(nurse, admission, med, **fields):
    from medications.services import order_transcribe

    base = {
        "dose_units": Decimal("1"), "route": "oral", "prescriber_name": "Dr. Lena Ortiz",
        "prescriber_credentials": "MD",
    }  # fmt: skip
    return order_transcribe(actor=nurse, admission=admission, medication=med, **base | fields)


def _verified(nurse, second, admission, med, *, verified_at, **fields):
    """An order transcribed by `nurse` ten minutes before `second` verified it."""
    from medications.services import order_verify

    order = _order(nurse, admission, med, **fields)
    _backdate_transcription(order, verified_at - timedelta(minutes=10))
    return order_verify(actor=second, order=order, now=verified_at)


def _chart_given(nurse, order, *, before, late_by=timedelta(minutes=3)):
    """Chart every dose of `order` scheduled before `before` as given on time."""
    from medications.services import administration_record

    for dose in order.doses.filter(scheduled_at__lt=before).order_by("scheduled_at"):
        at = dose.scheduled_at + late_by
        administration_record(actor=nurse, dose=dose, outcome="given", given_at=at, now=at)


def _backdate_transcription(order, when, **signed):
    """The field the services stamp with the clock (and a prescriber's signature): an order
    written before this run."""
    from medications.models import Order

    Order.objects.filter(pk=order.pk).update(transcribed_at=when, **signed)
    order.refresh_from_db()
    return order


def seed_mar(cast, facility, admission) -> dict:
    """Clients, orders, doses, PRNs, counts and a discharge for the issue 9 pages."""
    from clients.services import admission_discharge, allergy_add, allergy_remove
    from medications.models import Ingredient
    from medications.services import (
        administration_record,
        count_submit,
        order_prescribe,
        order_release,
        order_verify,
        prn_follow_up,
        prn_give,
        stock_open_and_receive,
    )

    now = timezone.now()
    nurse = cast["nurse"]
    second = make_user("priya_shah", "nurse", facility, mfa=False)
    second.initials = "PS"
    second.save(update_fields=["initials"])
    clinician = cast["clinician"]  # a prescriber: MD (issue 9 item 10)
    clinician.credentials = "MD"
    clinician.save(update_fields=["credentials"])
    h = lambda n: now - timedelta(hours=n)  # noqa: E731

    # ------------------------------------------------ Jordan: the med pass
    jordan = admit(facility, nurse, first="Jordan", last="Reyes", allergies="Penicillin",
                   admitted_at=h(72), dob=date(1984, 6, 2))  # fmt: skip
    allergy_add(actor=nurse, client=jordan.client, allergen="Latex", kind="environmental",
                reaction="Contact dermatitis", severity="mild")  # fmt: skip

    # A chlordiazepoxide taper's first dose, 20 hours ago, never charted: "Needs an outcome".
    chlordiazepoxide = _med(facility, "Chlordiazepoxide", "25 mg", "capsule", schedule="IV")
    _verified(nurse, second, jordan, chlordiazepoxide, verified_at=h(20.5), dose="25 mg",
              frequency="times", times=_clock(h(20), facility), start_at=h(21),
              indication="Alcohol withdrawal (taper day 2)")  # fmt: skip
    # A STAT written an hour and a half ago, verified, never given: missed.
    haloperidol = _med(facility, "Haloperidol", "5 mg/mL", "solution", routes="im")
    stat = _order(nurse, jordan, haloperidol, dose="5 mg", route="im", frequency="once",
                  priority="stat", start_at=h(1.6), indication="Acute agitation")  # fmt: skip
    order_verify(actor=second, order=_backdate_transcription(stat, h(1.6)), now=h(1.55))
    # Twice a day: this morning's dose given, the next one 2.5 hours away (early if given now).
    clonidine = _med(facility, "Clonidine", "0.1 mg", "tablet")
    order = _verified(nurse, second, jordan, clonidine, verified_at=h(10), dose="0.1 mg",
                      frequency="times", times=f"{_clock(h(9.5), facility)},"
                      f"{_clock(now + timedelta(hours=2.5), facility)}", start_at=h(10),
                      indication="Opioid withdrawal",
                      hold_parameters="Hold if SBP < 100")  # fmt: skip
    _chart_given(nurse, order, before=h(1))
    # Three times a day: given 8 hours ago, due in 10 minutes.
    gabapentin = _med(facility, "Gabapentin", "300 mg", "capsule")
    order = _verified(nurse, second, jordan, gabapentin, verified_at=h(9), dose="300 mg",
                      frequency="times", start_at=h(9), times=",".join(
                          _clock(now + timedelta(minutes=m), facility) for m in (-480, 10, 490)
                      ))  # fmt: skip
    _chart_given(nurse, order, before=h(1))
    naltrexone = _med(facility, "Naltrexone", "50 mg", "tablet")
    order = _verified(nurse, second, jordan, naltrexone, verified_at=h(4), dose="50 mg",
                      frequency="times", times=_clock(h(3), facility), start_at=h(4))  # fmt: skip
    _chart_given(nurse, order, before=h(1))

    # Two acetaminophen PRN orders sharing the facility's 3 g/day cap for heavy drinkers.
    apap_500 = _med(facility, "Acetaminophen", "500 mg", "tablet", acetaminophen=500)
    apap_325 = _med(facility, "Acetaminophen", "325 mg", "tablet", acetaminophen=325)
    Ingredient.objects.filter(facility=facility, name="acetaminophen").update(
        max_mg_per_24h=Decimal("3000")
    )
    prn_pain = _verified(nurse, second, jordan, apap_500, verified_at=h(20), dose="1,000 mg",
                         dose_units=Decimal("2"), frequency="prn", start_at=h(20),
                         indication="Headache or muscle pain", prn_min_interval_minutes=240,
                         prn_max_per_24h=4)  # fmt: skip
    prn_fever = _verified(nurse, second, jordan, apap_325, verified_at=h(20), dose="650 mg",
                          dose_units=Decimal("2"), frequency="prn", start_at=h(20),
                          indication="Temperature over 38.0 °C", prn_min_interval_minutes=360,
                          prn_max_per_24h=4)  # fmt: skip
    for order, hours, pre, post in (
        (prn_pain, 16, ("Headache, photophobia", 6), ("Headache eased, resting", 2)),
        (prn_pain, 11, ("Aching legs and back", 5), ("Less aching, walking the hall", 3)),
        (prn_fever, 4.5, ("Temp 38.4 °C, sweating", 4), ("Temp 37.6 °C, comfortable", 1)),
    ):
        at = h(hours)
        given = prn_give(actor=nurse, order=order, indication=order.indication,
                         pre_assessment=pre[0], pre_score=pre[1], given_at=at, now=at)  # fmt: skip
        prn_follow_up(actor=nurse, administration=given, result="effective",
                      post_assessment=post[0], score=post[1],
                      now=at + timedelta(minutes=65))  # fmt: skip
    # Anxiety PRN given 70 minutes ago: its follow-up is due.
    hydroxyzine = _med(facility, "Hydroxyzine", "25 mg", "tablet")
    prn_anxiety = _verified(nurse, second, jordan, hydroxyzine, verified_at=h(20), dose="25 mg",
                            frequency="prn", start_at=h(20), indication="Anxiety",
                            prn_min_interval_minutes=360, prn_max_per_24h=4)  # fmt: skip
    anxious = prn_give(actor=nurse, order=prn_anxiety, indication="Anxiety",
                       pre_assessment="Pacing, wringing hands, asks to leave", pre_score=7,
                       given_at=h(70 / 60), now=h(70 / 60))  # fmt: skip
    # A telephone order from the clinician two days ago, never co-signed: overdue.
    nicotine_gum = _med(facility, "Nicotine polacrilex", "4 mg", "gum")
    phoned = _order(nurse, jordan, nicotine_gum, dose="4 mg", frequency="prn", start_at=h(52),
                    indication="Tobacco cravings", prn_min_interval_minutes=120,
                    prn_max_per_24h=10, source="telephone", read_back=True,
                    prescriber=clinician)  # fmt: skip
    order_verify(actor=second, order=_backdate_transcription(phoned, h(52)), now=h(51.5))

    # ------------------------------------------------ Robin: orders waiting for a check
    m = lambda n: now - timedelta(minutes=n)  # noqa: E731
    olanzapine = _med(facility, "Olanzapine", "10 mg", "orally disintegrating tablet")
    released = _order(nurse, admission, olanzapine, dose="10 mg", frequency="once",
                      priority="stat", start_at=m(25),
                      indication="Severe agitation, threatening staff")  # fmt: skip
    released = order_release(
        actor=nurse, order=_backdate_transcription(released, m(25)), no_second_nurse=True,
        reason="Night shift, only RN on site; relief nurse due 23:00.", now=m(22),
    )  # fmt: skip
    administration_record(actor=nurse, dose=released.doses.get(), outcome="given",
                          given_at=m(15), now=m(15))  # fmt: skip
    trazodone = _med(facility, "Trazodone", "50 mg", "tablet")
    waiting = _order(nurse, admission, trazodone, dose="50 mg", frequency="times",
                     times="21:00", start_at=m(50), indication="Insomnia")  # fmt: skip
    _backdate_transcription(waiting, m(50))
    patch = _med(facility, "Nicotine", "21 mg/24 h", "patch", routes="transdermal")
    signed = order_prescribe(actor=clinician, admission=admission, medication=patch,
                             dose="1 patch", dose_units=Decimal("1"), route="transdermal",
                             frequency="times", times="09:00", start_at=m(40),
                             indication="Nicotine withdrawal")  # fmt: skip
    _backdate_transcription(signed, m(40), prescriber_signed_at=m(40))

    # ------------------------------------------------ Casey: own controlled stock, to discharge
    casey = admit(facility, nurse, first="Casey", last="Morgan", admitted_at=h(48),
                  dob=date(1979, 11, 23))  # fmt: skip
    buprenorphine = _med(facility, "Buprenorphine-naloxone", "8 mg/2 mg", "film",
                         routes="sublingual", schedule="III")  # fmt: skip
    stock_open_and_receive(actor=nurse, facility=facility, medication=buprenorphine,
                           admission=casey, quantity="14", witness=second,
                           source_document="Rx 448213 (client's own)")  # fmt: skip
    order = _verified(nurse, second, casey, buprenorphine, verified_at=h(3), dose="8 mg/2 mg",
                      route="sublingual", frequency="times", times=_clock(h(2), facility),
                      start_at=h(3), indication="Opioid use disorder")  # fmt: skip
    _chart_given(nurse, order, before=h(1))
    ondansetron = _med(facility, "Ondansetron", "4 mg", "orally disintegrating tablet")
    verbal = _order(nurse, casey, ondansetron, dose="4 mg", frequency="prn", start_at=h(1.5),
                    indication="Nausea", prn_min_interval_minutes=480, prn_max_per_24h=3,
                    source="verbal", read_back=True, prescriber=clinician)  # fmt: skip
    _backdate_transcription(verbal, h(1.5))

    # ------------------------------------------------ Sam: discharged, own stock returned
    sam = admit(facility, nurse, first="Sam", last="Okafor", admitted_at=h(96),
                dob=date(1991, 3, 14))  # fmt: skip
    clonazepam = _med(facility, "Clonazepam", "0.5 mg", "tablet", schedule="IV")
    own = stock_open_and_receive(actor=nurse, facility=facility, medication=clonazepam,
                                 admission=sam, quantity="10", witness=second,
                                 source_document="Rx 90311 (client's own)")  # fmt: skip
    _verified(nurse, second, sam, naltrexone, verified_at=h(90), dose="50 mg",
              frequency="times", times=_clock(now + timedelta(hours=3), facility),
              start_at=now + timedelta(hours=1))  # fmt: skip
    admission_discharge(
        actor=nurse, admission=sam, discharged_at=now - timedelta(minutes=5),
        discharge_type="completed", note="Completed the program; ride from sister.",
        steps={"medications": {"dispositions": {str(own.public_id): "returned"}, "witness": None,
                               "note": "Handed to client with the discharge papers."}},
    )  # fmt: skip

    # ------------------------------------------------ the cabinet: a blind count that differs
    house = stock_open_and_receive(actor=nurse, facility=facility, medication=chlordiazepoxide,
                                   quantity="30", witness=second,
                                   source_document="INV-20931")  # fmt: skip
    count_submit(actor=nurse, second=second, stock=house, counted_quantity="29")
    lorazepam = _med(facility, "Lorazepam", "1 mg", "tablet", schedule="IV")
    matched = stock_open_and_receive(actor=nurse, facility=facility, medication=lorazepam,
                                     quantity="20", witness=second,
                                     source_document="DEA 222 #1187")  # fmt: skip
    count_submit(actor=nurse, second=second, stock=matched, counted_quantity="20")

    # ------------------------------------------------ the allergy page's client
    kim = admit(facility, nurse, first="Kim", last="Alvarez", allergies="Sulfamethoxazole")
    for allergen, kind, reaction, severity in (
        ("Peanuts", "food", "Throat swelling, needed epinephrine", "severe"),
        ("Latex", "environmental", "Hives", "moderate"),
        ("Codeine", "drug", "Nausea and vomiting", "mild"),
    ):
        allergy_add(actor=nurse, client=kim.client, allergen=allergen, kind=kind,
                    reaction=reaction, severity=severity)  # fmt: skip
    wrong = allergy_add(actor=nurse, client=kim.client, allergen="Amoxicillin", kind="drug",
                        reaction="Rash", severity="mild")  # fmt: skip
    allergy_remove(actor=nurse, allergy=wrong, reason="Entered on the wrong chart")

    return {
        "second": second,
        "jordan": jordan,
        "casey": casey,
        "sam": sam,
        "kim": kim,
        "released": released,
        "prn_pain": prn_pain,
        "anxious": anxious,
    }


# ---------------------------------------------------------------- page actions


def _fill_admit_allergies(page):
    page.select_option("[name=allergy_status]", "listed")
    rows = (("Sulfa", "drug", "Rash", "moderate"),
            ("Peanuts", "food", "Anaphylaxis", "severe"))  # fmt: skip
    for n, (allergen, kind, reaction, severity) in enumerate(rows, start=1):
        page.fill(f"[name=allergen_{n}]", allergen)
        page.select_option(f"[name=kind_{n}]", kind)
        page.fill(f"[name=reaction_{n}]", reaction)
        page.select_option(f"[name=severity_{n}]", severity)


EARLY_DOSE = "li.pass-item:has-text('Clonidine 0.1 mg'):has-text('before its time')"


def _try_early_dose(page):
    """Record the early dose with a reason but no second nurse: refused, shown how early."""
    item = page.locator(EARLY_DOSE)
    item.locator("[name=reason]").fill("Client leaving early for a court date")
    item.get_by_role("button", name="Record").click()
    page.wait_for_load_state()


def _open_recount(page):
    """Open the recount form of the stock whose count differs."""
    page.locator("summary", has_text="Recount").click()


# ---------------------------------------------------------------- the run


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_screenshots(new_page, signed_in, cast, facility, admission):
    OUT.mkdir(exist_ok=True)
    nurse = cast["nurse"]
    admit(facility, nurse, n=1, first="Alexandria-Josephine", last="Montgomery-Castellanos")
    # Sulfa is a drug allergy; latex and peanuts are not (issue 9 item 4).
    allergic = admit(facility, nurse, n=2, allergies="Sulfa")
    from clients.services import allergy_add

    allergy_add(actor=nurse, client=allergic.client, allergen="Latex", kind="environmental")
    allergy_add(actor=nurse, client=allergic.client, allergen="Peanuts", kind="food",
                severity="severe")  # fmt: skip
    client = admission.client
    alert_raise(
        facility=facility,
        kind="orientation_overdue",
        severity="critical",
        message="Orientation not finished 24 hours after admission.",
        dedupe_key="shots-1",
        client_public_id=client.public_id,
        client_label=f"{client.mrn} Robin A.",
    )
    alert_raise(
        facility=facility,
        kind="check_missed",
        severity="warning",
        message="Safety check missed.",
        dedupe_key="shots-2",
    )
    w = seed_mar(cast, facility, admission)
    people = {**cast, "second_nurse": w["second"]}
    jordan = w["jordan"].public_id  # the stay: MAR URLs name the admission
    pages = [
        Shot("login", None, "/accounts/login/"),
        Shot("census", "technician", "/census/"),
        Shot("chart", "technician", f"/clients/{client.public_id}/"),
        Shot("staff-list", "admin", "/staff/"),
        Shot("staff-form", "admin", "/staff/new/"),
        Shot("alerts", "supervisor", "/alerts/"),
        Shot("audit", "supervisor", "/audit/"),
        Shot("admit", "nurse", "/admit/"),
        Shot("security", "technician", "/security/"),
        Shot("password-set", None, "/accounts/password/reset/key/done/"),
        # Issue 9: the MAR.
        Shot("mar", "nurse", "/mar/"),
        Shot("med-pass", "nurse", f"/mar/clients/{jordan}/", element=(EARLY_DOSE, "dose-early")),
        Shot(
            "med-pass-early-refused",
            "nurse",
            f"/mar/clients/{jordan}/",
            prepare=_try_early_dose,
            element=(EARLY_DOSE, "dose-early-refused"),
        ),  # fmt: skip
        Shot("prn-give", "nurse", f"/mar/orders/{w['prn_pain'].public_id}/prn/"),
        Shot("prn-follow-up", "nurse", f"/mar/administrations/{w['anxious'].public_id}/follow-up/"),
        Shot("order-form", "nurse", f"/mar/clients/{jordan}/orders/new/"),
        Shot("orders-to-verify", "second_nurse", "/mar/orders/to-verify/"),
        Shot("orders-to-cosign", "clinician", "/mar/orders/to-cosign/"),
        Shot("order-stat-unverified", "second_nurse", f"/mar/orders/{w['released'].public_id}/"),
        Shot("allergies", "nurse", f"/clients/{w['kim'].client.public_id}/allergies/"),
        Shot("admit-allergies", "nurse", "/admit/", prepare=_fill_admit_allergies),
        Shot("controlled-variance", "nurse", "/mar/controlled/"),
        Shot("controlled-recount", "nurse", "/mar/controlled/", prepare=_open_recount),
        Shot("discharge", "nurse", f"/admissions/{w['casey'].public_id}/discharge/"),
        Shot("discharge-done", "nurse", f"/admissions/{w['sam'].public_id}/discharge/"),
        Shot("facility-setup", "admin", f"/manage/facility/facility/{facility.pk}/change/"),
    ]
    shoot(new_page, signed_in, people, pages)


def shoot(new_page, signed_in, people, pages) -> None:
    """Every shot at every width: the page (and its element), then what axe and the layout say."""
    axe = Axe()
    for width in WIDTHS:
        for shot in pages:
            page = new_page(viewport={"width": width, "height": 1024})
            if shot.role:
                signed_in(page, people[shot.role])
            response = page.goto(shot.url)
            if shot.prepare:
                shot.prepare(page)
            page.screenshot(path=str(OUT / f"{shot.name}-{width}.png"), full_page=True)
            if shot.element:
                selector, element_name = shot.element
                page.locator(selector).screenshot(path=str(OUT / f"{element_name}-{width}.png"))
            report(page, axe, shot.name, width, response.status if response else None)
            page.context.close()


def seed_rounds(cast, facility) -> dict:
    """The West unit for the issue 10 pages: a client on 1:1 watched by the technician, one on
    q30, one on line of sight whose observer offers the technician the watch (offered before the
    technician took the 1:1, so it waits on "My 1:1"), a new client on the admission default with
    a missed check alerting, a round just charted and a finding between security rounds."""
    import uuid

    from facility.models import Bed, Unit
    from observations.models import RoundCode, SecurityArea
    from observations.services import (
        RoundEntry,
        handoff_accept,
        handoff_offer,
        level_order,
        round_submit,
        security_finding_record,
    )

    now = timezone.now()
    nurse, clinician, tech = cast["nurse"], cast["clinician"], cast["technician"]
    dana = make_user("dana_lee", "technician", facility, mfa=False)
    west = Unit.objects.get(facility=facility, name="West")
    beds = list(Bed.objects.filter(unit=west).order_by("label"))
    h = lambda n: now - timedelta(hours=n)  # noqa: E731
    taylor = admit(facility, nurse, bed=beds[0], first="Taylor", last="Brooks", admitted_at=h(30))
    morgan = admit(facility, nurse, bed=beds[1], first="Morgan", last="Whitfield-Abernathy",
                   admitted_at=h(100))  # fmt: skip
    devon = admit(facility, nurse, bed=beds[2], first="Devon", last="Price", admitted_at=h(50))
    avery = admit(facility, nurse, bed=beds[3], first="Avery", last="Chen", admitted_at=h(1))

    level_order(actor=clinician, admission=devon, level="los",
                reason="Pacing near the exit after a phone call", now=h(2))  # fmt: skip
    handoff_offer(actor=dana, admission=devon, to_observer=dana, now=h(2))
    handoff_offer(actor=dana, admission=devon, to_observer=tech)
    level_order(actor=clinician, admission=taylor, level="one_to_one",
                reason="Said he would hurt himself tonight", now=h(1))  # fmt: skip
    offer = handoff_offer(actor=nurse, admission=taylor, to_observer=tech, now=h(1))
    handoff_accept(actor=tech, handoff=offer, now=h(1))
    level_order(actor=clinician, admission=morgan, level="q30",
                reason="Settled, sleeping through the night", now=h(6))  # fmt: skip

    codes = {(c.kind, c.code): c for c in RoundCode.objects.filter(facility=facility)}
    loc, st = lambda c: codes["location", c], lambda c: codes["status", c]  # noqa: E731
    round_submit(
        actor=tech, facility=facility, submission_key=uuid.uuid4(),
        entries=[RoundEntry(taylor, loc("RM"), st("A")),
                 RoundEntry(morgan, loc("DR"), st("E"))],
    )  # fmt: skip
    alert_raise(
        facility=facility,
        kind="missed_check",
        severity="warning",
        message="Avery C.: the q15 check of the last block was missed.",
        dedupe_key="shots-rounds-missed",
        client_public_id=avery.client.public_id,
        client_label=f"{avery.client.mrn} Avery C.",
        link=f"/rounds/{west.public_id}/",
    )
    area = SecurityArea.objects.filter(facility=facility).order_by("pk").first()
    security_finding_record(
        actor=tech, area=area, found_at=now - timedelta(minutes=20),
        finding="Fire door propped open with a chair", location_detail="West hall by laundry",
        action_taken="Removed the chair, door latched; told the charge nurse",
    )  # fmt: skip
    return {"west": west, "dana": dana}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_screenshots_rounds(new_page, signed_in, cast, facility):
    """The issue 10 pages: board, My 1:1, downtime entry, compliance, security, alerts."""
    OUT.mkdir(exist_ok=True)
    w = seed_rounds(cast, facility)
    west = w["west"].public_id
    pages = [
        Shot("board", "technician", f"/rounds/{west}/"),
        Shot("my-observation", "technician", "/rounds/mine/"),
        Shot("downtime", "nurse", f"/rounds/{west}/downtime/"),
        Shot("compliance", "supervisor", "/rounds/compliance/"),
        Shot("security-findings", "technician", "/security/"),
        Shot("alerts-technician", "technician", "/alerts/"),
    ]
    shoot(new_page, signed_in, cast, pages)


def report(page, axe, name, width, status) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    small = page.evaluate(
        """() => [...document.querySelectorAll('a, button, input, select, textarea, summary')]
        .filter(e => e.offsetParent !== null && e.type !== 'hidden')
        .map(e => [e, e.getBoundingClientRect()])
        .filter(([e, r]) => r.height < 24 || r.width < 24)
        .map(([e, r]) => `${e.tagName.toLowerCase()} "${(e.innerText || e.name || '')
          .trim().slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`)"""
    )
    print(f"\n== {name} @ {width}: HTTP {status}, horizontal overflow {overflow}px")
    if overflow > 0:
        wide = page.evaluate(
            """(w) => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > w + 1)
            .filter(e => !e.parentElement
              || e.parentElement.getBoundingClientRect().right <= w + 1)
            .map(e => `${e.tagName.toLowerCase()}.${e.className}`)""",
            width,
        )
        print(f"   sticking out: {wide[:8]}")
    # Wide tables scrolled inside their own box: not page overflow, but worth knowing.
    boxed = page.evaluate(
        """() => [...document.querySelectorAll('table')]
        .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1)
        .map(t => `table ${t.scrollWidth}px in ${t.parentElement.clientWidth}px`)"""
    )
    for b in boxed:
        print(f"   wider than its box: {b}")
    for s in small:
        print(f"   small target: {s}")
    for v in axe.run(page).response["violations"]:
        targets = [n["target"] for n in v["nodes"][:4]]
        print(f"   axe {v['impact']}: {v['id']}: {v['help']} {targets}")


# ---------------------------------------------------------------- issue 11: vitals and withdrawal


def seed_vitals(cast, facility) -> dict:
    """The East unit for the issue 11 pages: Jordan a week in, on CIWA-Ar with a rising trend
    (6 → 9 → 14) that indicates the chlordiazepoxide PRN, a week of vitals with a few flagged
    points; Sam on COWS falling (14 → 9) and overdue; Morgan just put on CIWA-Ar, never scored;
    Sam, Morgan and Kim due for their daily vitals."""
    from facility.models import Bed, Unit
    from tests.observations.vitals_data import vitals_set
    from tests.observations.withdrawal_helpers import cows, score, start, triggered_prn

    now = timezone.now()
    nurse, tech = cast["nurse"], cast["technician"]
    second = make_user("priya_shah", "nurse", facility, mfa=False)
    east = Unit.objects.get(facility=facility, name="East")
    beds = list(Bed.objects.filter(unit=east).order_by("label"))
    h = lambda n: now - timedelta(hours=n)  # noqa: E731
    jordan = admit(facility, nurse, bed=beds[0], first="Jordan", last="Rivera", admitted_at=h(167))
    sam = admit(facility, nurse, bed=beds[1], first="Sam", last="Cobbett", admitted_at=h(60))
    morgan = admit(facility, nurse, bed=beds[2], first="Morgan", last="Whitfield-Abernathy",
                   admitted_at=h(30))  # fmt: skip
    admit(facility, nurse, bed=beds[3], first="Kim", last="Dunmore", admitted_at=h(27))

    # A week of Jordan's vitals, every 6 hours: withdrawal peaking on day 2, a fever on day 4.
    flagged = {
        148: {"hr": 126, "sbp": 168, "dbp": 102},
        142: {"hr": 131, "sbp": 182, "dbp": 108, "rr": 22},
        136: {"hr": 118, "sbp": 158, "dbp": 96},
        82: {"temp_c": 38.4, "hr": 104},
        76: {"temp_c": 37.9},
        28: {"spo2": 91, "rr": 21},
    }
    for back in range(166, 5, -6):
        wobble = (back // 6) % 4
        vitals_set(jordan, h(back), (tech, nurse)[wobble % 2], **{
            "hr": 84 - wobble * 2, "sbp": 128 + wobble * 3, "dbp": 80 + wobble,
            "rr": 16 + wobble % 2, "spo2": 97 - wobble % 2, **flagged.get(back, {}),
        })  # fmt: skip
    vitals_set(jordan, h(0.5), nurse, hr=102, sbp=146, dbp=92, rr=18, temp_c=37.4)
    vitals_set(sam, h(26), tech, hr=92, sbp=134, dbp=86)

    start(nurse, jordan, at=h(6))
    for total, back in ((6, 5.5), (9, 2), (14, 0.75)):
        score(nurse, jordan, total, at=h(back))
    triggered_prn(nurse, second, jordan)
    start(nurse, sam, "cows", at=h(12))
    score(nurse, sam, cows(2, 2, 3, 1, 2, 1, 1, 1, 0, 1, 0), at=h(10), scale="cows")  # 14
    score(nurse, sam, cows(1, 1, 1, 1, 2, 1, 1, 1, 0, 0, 0), at=h(5), scale="cows")  # 9
    start(nurse, morgan, at=now - timedelta(minutes=25))
    return {"east": east, "jordan": jordan}


def _vitals_round_second_client(page):
    """Start the round, save the first client's set (a fast pulse, flagged), land on the next."""
    page.get_by_role("button", name="Start vitals round").click()
    page.get_by_label("Systolic BP").fill("152")
    page.get_by_label("Diastolic BP").fill("94")
    page.get_by_label("Heart rate").fill("124")
    page.get_by_label("Resp. rate").fill("22")
    page.get_by_label("Temperature", exact=True).fill("37.9")
    page.get_by_label("SpO2").fill("95")
    page.locator("label.chip", has_text="Air").click()
    page.locator("label.chip", has_text="A · Alert").click()
    page.get_by_role("button", name="Save and next client").click()
    page.wait_for_selector(".vitals-last")


def _shoot_section(page, selector, path) -> None:
    """A chart section from its top to the end of its trend charts (the history table below
    is left out), cut from the full page so the sticky identity band stays where it belongs."""
    page.evaluate("window.scrollTo(0, 0)")
    section = page.locator(selector).bounding_box()
    grid = page.locator(f"{selector} .trend-grid").bounding_box()
    bottom = grid["y"] + grid["height"] + 12
    clip = {"x": section["x"], "y": section["y"], "width": section["width"],
            "height": bottom - section["y"]}  # fmt: skip
    page.screenshot(path=path, full_page=True, clip=clip)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_screenshots_vitals(new_page, signed_in, cast, facility):
    """The issue 11 pages: the vitals round mid-way, Jordan's trend charts (the chart's vitals
    section over 7 days) and the withdrawal board."""
    OUT.mkdir(exist_ok=True)
    w = seed_vitals(cast, facility)
    chart = f"/clients/{w['jordan'].client.public_id}/?vitals_range=7d"
    shots = [
        # (name, role, url, prepare, element to shoot instead of the whole page)
        ("vitals-round", "technician", f"/rounds/{w['east'].public_id}/vitals/",
         _vitals_round_second_client, None),
        ("vitals-trends", "nurse", chart, None, "#section-vitals"),
        ("withdrawal-board", "nurse", "/withdrawal/", None, None),
    ]  # fmt: skip
    axe = Axe()
    for width in WIDTHS:
        for name, role, url, prepare, element in shots:
            page = new_page(viewport={"width": width, "height": 1024})
            signed_in(page, cast[role])
            response = page.goto(url)
            if prepare:
                prepare(page)
            path = str(OUT / f"{name}-{width}.png")
            if element:
                _shoot_section(page, element, path)
            else:
                page.screenshot(path=path, full_page=True)
            report(page, axe, name, width, response.status if response else None)
            page.context.close()
