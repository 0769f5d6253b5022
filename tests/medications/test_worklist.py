""" "My work" sections of the MAR (issue 17 item 1): orders to verify, doses due or needing an
outcome (the nurse's, and the technician's within their scope), PRN follow-ups, controlled
counts due, count discrepancies to sign off and orders to co-sign. Each: the right rows with
the right links for its role, absent for another role, nothing of another facility, gone once
done; and the nurse's home page in a fixed number of queries whatever the census.

The clock stands at 09:10 on an ordinary Tuesday in New York (day shift 07:00–15:00).
"""

from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility import policy
from facility.registry import registry
from medications.models import ControlledCount, ControlledStock, Medication, Order
from medications.services import (
    administration_record,
    count_submit,
    discrepancy_sign_off,
    order_cosign,
    order_transcribe,
    order_verify,
    prn_follow_up,
    prn_give,
    stock_receive,
)
from tests.conftest import admit, make_user
from tests.medications.conftest import at
from tests.my_work_page import home, section

NOW = at(9, 10)


def drug(facility, name, routes="oral", **extra) -> Medication:
    return Medication.objects.create(
        facility=facility, name=name, strength="1 mg", form="tablet", routes=routes, **extra
    )


def transcribe(nurse, admission, medication, **extra) -> Order:
    fields = {
        "dose": "1 mg", "dose_units": Decimal("1"), "route": "oral", "frequency": "times",
        "times": "09:00", "start_at": admission.admitted_at, "prescriber_name": "Dr. Written",
        "prescriber_credentials": "MD",
    }  # fmt: skip
    fields.update(extra)
    return order_transcribe(actor=nurse, admission=admission, medication=medication, **fields)


def scheduled(nurse, checker, admission, medication, times="09:00", **extra) -> Order:
    """A daily order transcribed by `nurse` and verified by `checker` at 06:30."""
    with time_machine.travel(at(6, 20), tick=False):
        order = transcribe(nurse, admission, medication, times=times, **extra)
    order_verify(actor=checker, order=order, now=at(6, 30))
    return order


def prn(nurse, checker, admission, medication) -> Order:
    with time_machine.travel(at(6, 20), tick=False):
        order = transcribe(
            nurse, admission, medication, frequency="prn", times="", indication="headache",
            prn_min_interval_minutes=240, prn_max_per_24h=4,
        )  # fmt: skip
    order_verify(actor=checker, order=order, now=at(6, 30))
    return order


@pytest.fixture
def nurse2(facility):
    return make_user("nurse_two", "nurse", facility)


@pytest.fixture
def stays(cast, facility, other_facility):
    with time_machine.travel(at(6, 5), tick=False):
        return (
            admit(facility, cast["nurse"], first="Robin", last="Ashdown", admitted_at=at(6, 0)),
            admit(other_facility, cast["other_nurse"], first="Sky", last="Birch",
                  admitted_at=at(5, 0)),
        )  # fmt: skip


def detail_url(order) -> str:
    return reverse("medications:order_detail", args=[order.public_id])


@pytest.mark.django_db
def test_orders_to_verify_leave_out_the_nurses_own_and_go_once_verified(
    client, cast, facility, other_facility, nurse2, stays
):
    stay, elsewhere = stays
    floater = make_user("floater", "nurse", facility, other_facility)
    med = drug(facility, "Clonidine")
    with time_machine.travel(at(8, 0), tick=False):
        routine = transcribe(nurse2, stay, med)
        own = transcribe(cast["nurse"], stay, drug(facility, "Sertraline"))
        urgent = transcribe(
            nurse2, stay, drug(facility, "Haloperidol"), frequency="once", times="",
            priority="stat", start_at=at(8, 0),
        )  # fmt: skip
        far = transcribe(cast["other_nurse"], elsewhere, drug(other_facility, "Lithium"))
    with time_machine.travel(NOW, tick=False):
        mine = section(home(client, cast["nurse"]), "orders_to_verify")
        assert f'href="{detail_url(routine)}"' in mine and "Robin Ashdown" in mine
        assert f'href="{detail_url(own)}"' not in mine  # another nurse verifies it
        # STAT first, with when it must be given.
        assert mine.index(detail_url(urgent)) < mine.index(detail_url(routine))
        assert "STAT, give by 08:30" in mine
        assert f'href="{reverse("medications:orders_to_verify")}"' in mine
        # Another facility's order is not on this facility's list, even for a nurse of both.
        floating = section(home(client, floater, facility), "orders_to_verify")
        assert f'href="{detail_url(routine)}"' in floating
        assert detail_url(far) not in floating and "Lithium" not in floating
        # The full list holds the nurse's own order too, and says why "My work" has one fewer.
        client.force_login(cast["nurse"])
        listed = client.get(reverse("medications:orders_to_verify")).content.decode()
        assert "3 waiting" in listed
        assert "Of these, 1 you entered (another nurse verifies)" in listed
        # The floater's list holds the other house's order, and says so.
        home(client, floater, facility)
        listed = client.get(reverse("medications:orders_to_verify")).content.decode()
        assert "4 waiting" in listed and "1 at another of your facilities" in listed
        assert "you entered" not in listed  # the floater entered none
        assert f"{elsewhere.bed.label} · {elsewhere.client.mrn} · {other_facility.name}" in listed
        assert f"{stay.bed.label} · {stay.client.mrn} · " not in listed  # this house's: unnamed
        for role in ("technician", "clinician", "supervisor", "admin"):
            assert section(home(client, cast[role]), "orders_to_verify") == ""

        client.force_login(cast["nurse"])
        assert "Verify this order" in client.get(detail_url(routine)).content.decode()
        response = client.post(reverse("medications:order_verify", args=[routine.public_id]))
        assert response.status_code == 302
        mine = section(home(client, cast["nurse"]), "orders_to_verify")
        assert detail_url(routine) not in mine and detail_url(urgent) in mine


@pytest.mark.django_db
def test_an_order_a_nurse_entered_at_her_other_facility_is_counted_once(
    client, cast, facility, other_facility, stays
):
    """Review: it was counted under "you entered" and again under "at another facility"."""
    _, elsewhere = stays
    floater = make_user("floater", "nurse", facility, other_facility)
    with time_machine.travel(at(8, 0), tick=False):
        transcribe(floater, elsewhere, drug(other_facility, "Ondansetron"))
    home(client, floater, facility)
    listed = client.get(reverse("medications:orders_to_verify")).content.decode()
    assert "1 waiting" in listed and "Of these, 1 you entered" in listed
    assert "at another of your facilities" not in listed


@pytest.mark.django_db
def test_doses_due_and_needing_an_outcome_link_to_the_dose_on_the_med_pass(
    client, cast, facility, other_facility, nurse2, stays
):
    stay, elsewhere = stays
    due = scheduled(cast["nurse"], nurse2, stay, drug(facility, "Clonidine"), "09:00")
    late = scheduled(cast["nurse"], nurse2, stay, drug(facility, "Sertraline"), "07:00")
    injected = scheduled(
        cast["nurse"], nurse2, stay, drug(facility, "Haloperidol", routes="im"), "09:00",
        route="im",
    )  # fmt: skip
    other_nurse2 = make_user("other_nurse_two", "nurse", other_facility)
    scheduled(cast["other_nurse"], other_nurse2, elsewhere, drug(other_facility, "Lithium"))
    late_dose = late.doses.order_by("scheduled_at").first()
    due_dose = due.doses.order_by("scheduled_at").first()
    pass_url = reverse("medications:med_pass", args=[stay.public_id])
    with time_machine.travel(NOW, tick=False):
        nurse = section(home(client, cast["nurse"]), "doses")
        # One row for the client, opening the med pass at the most urgent dose (the late one).
        assert f'href="{pass_url}#dose-{late_dose.public_id}"' in nurse
        assert "Robin Ashdown" in nurse and "1 late, 2 due" in nurse
        assert "Clonidine" in nurse and "Haloperidol" in nurse
        assert "Sky Birch" not in nurse and "Lithium" not in nurse

        # The technician sees only the doses they may chart: oral, not the injection.
        tech = section(home(client, cast["technician"]), "doses_observed")
        assert f'href="{pass_url}#dose-{late_dose.public_id}"' in tech
        assert "1 late, 1 due" in tech and "Haloperidol" not in tech
        assert section(home(client, cast["technician"]), "doses") == ""
        assert f'id="dose-{late_dose.public_id}"' in client.get(pass_url).content.decode()
        assert section(home(client, cast["nurse"]), "doses_observed") == ""
        for role in ("clinician", "supervisor", "admin"):
            page = home(client, cast[role])
            assert section(page, "doses") == "" and section(page, "doses_observed") == ""

        administration_record(actor=cast["nurse"], dose=late_dose, outcome="given",
                              reason="Client asleep at 07:00")  # fmt: skip
        nurse = section(home(client, cast["nurse"]), "doses")
        assert f"#dose-{late_dose.public_id}" not in nurse
        assert "Sertraline" not in nurse and "2 due" in nurse
        for dose in (due_dose, injected.doses.order_by("scheduled_at").first()):
            administration_record(actor=cast["nurse"], dose=dose, outcome="given")
        nurse = section(home(client, cast["nurse"]), "doses")
        assert "Robin Ashdown" not in nurse and "No dose is due" in nurse


@pytest.mark.django_db
def test_prn_follow_ups_due_link_to_the_follow_up_form_until_recorded(
    client, cast, facility, nurse2, stays
):
    stay, _ = stays
    order = prn(cast["nurse"], nurse2, stay, drug(facility, "Acetaminophen"))
    with time_machine.travel(at(8, 0), tick=False):
        given = prn_give(
            actor=cast["nurse"], order=order, indication="headache", pre_assessment="pain 6/10"
        )
    form = reverse("medications:prn_follow_up", args=[given.public_id])
    with time_machine.travel(at(8, 40), tick=False):  # reassessed at 09:00 for an oral dose
        assert form not in section(home(client, cast["nurse"]), "prn_follow_ups")
    with time_machine.travel(NOW, tick=False):
        rows = section(home(client, cast["nurse"]), "prn_follow_ups")
        assert f'href="{form}"' in rows and "Acetaminophen" in rows and "follow-up due" in rows
        assert client.get(form).status_code == 200
        for role in ("technician", "clinician", "supervisor"):
            assert section(home(client, cast[role]), "prn_follow_ups") == ""
        prn_follow_up(actor=cast["nurse"], administration=given, result="effective",
                      post_assessment="pain 1/10", score=1)  # fmt: skip
        assert form not in section(home(client, cast["nurse"]), "prn_follow_ups")


@pytest.fixture
def stocks(cast, facility, other_facility):
    """House stocks of lorazepam here and elsewhere, received at 06:00 (before the shift)."""
    made = []
    for place, nurse, witness in (
        (facility, cast["nurse"], cast["technician"]),
        (other_facility, cast["other_nurse"], cast["other_technician"]),
    ):
        med = drug(place, "Lorazepam", controlled_schedule="IV")
        stock = ControlledStock.objects.create(facility=place, medication=med)
        with time_machine.travel(at(6, 0), tick=False):
            stock_receive(actor=nurse, stock=stock, quantity="30", note="Delivery",
                          witness=witness, source_document="INV-1")  # fmt: skip
        made.append(stock)
    return made


@pytest.mark.django_db
def test_counts_due_this_shift_link_to_the_stock_until_counted(client, cast, stocks):
    here, elsewhere = stocks
    page = reverse("medications:controlled")
    with time_machine.travel(NOW, tick=False):
        rows = section(home(client, cast["nurse"]), "counts_due")
        assert f'href="{page}#stock-{here.public_id}"' in rows
        assert "count of the 07:00 shift change" in rows and "work-late" in rows
        assert str(elsewhere.public_id) not in rows
        assert section(home(client, cast["technician"]), "counts_due") == ""
        count_submit(actor=cast["nurse"], second=cast["technician"], stock=here,
                     counted_quantity=Decimal("30"))  # fmt: skip
        rows = section(home(client, cast["nurse"]), "counts_due")
        assert str(here.public_id) not in rows and "Every controlled stock is counted" in rows
    # The controlled page has the row the link opens.
    client.force_login(cast["nurse"])
    assert f'id="stock-{here.public_id}"' in client.get(page).content.decode()


@pytest.mark.django_db
def test_discrepancies_wait_for_a_supervisor_who_did_not_count_them(client, cast, facility, stocks):
    here, elsewhere = stocks
    second_supervisor = make_user("supervisor_two", "supervisor", facility)
    with time_machine.travel(NOW, tick=False):
        variance = count_submit(actor=cast["nurse"], second=cast["technician"], stock=here,
                                counted_quantity=Decimal("29"))  # fmt: skip
        far = count_submit(actor=cast["other_nurse"], second=cast["other_technician"],
                           stock=elsewhere, counted_quantity=Decimal("28"))  # fmt: skip
        other_stock = ControlledStock.objects.create(
            facility=facility, medication=drug(facility, "Oxycodone", controlled_schedule="II")
        )
        stock_receive(actor=cast["nurse"], stock=other_stock, quantity="10", note="Delivery",
                      witness=cast["technician"], source_document="INV-2")  # fmt: skip
        theirs = count_submit(actor=cast["supervisor"], second=cast["nurse"], stock=other_stock,
                              counted_quantity=Decimal("9"))  # fmt: skip
        page = reverse("medications:controlled")
        rows = section(home(client, cast["supervisor"]), "discrepancies")
        assert f'href="{page}#count-{variance.public_id}"' in rows
        assert "counted 29, expected 30" in rows
        assert str(theirs.public_id) not in rows  # they counted it: another supervisor signs off
        assert "Oxycodone" in section(home(client, second_supervisor), "discrepancies")
        assert str(far.public_id) not in rows and "counted 28" not in rows  # elsewhere
        for role in ("nurse", "technician", "clinician"):
            assert section(home(client, cast[role]), "discrepancies") == ""
        discrepancy_sign_off(actor=cast["supervisor"], count=variance, explanation="Miscount")
        assert not ControlledCount.objects.filter(pk=variance.pk, completed_at=None).exists()
        rows = section(home(client, cast["supervisor"]), "discrepancies")
        assert str(variance.public_id) not in rows
    client.force_login(cast["supervisor"])
    assert f'id="count-{theirs.public_id}"' in client.get(page).content.decode()


@pytest.mark.django_db
def test_verbal_orders_wait_for_their_prescribers_co_signature(
    client, cast, facility, other_facility, stays
):
    stay, elsewhere = stays
    doctor = make_user("dr_ames", "clinician", facility, other_facility)
    doctor.credentials = "MD"
    doctor.save(update_fields=["credentials"])
    colleague = make_user("dr_bell", "clinician", facility)
    colleague.credentials = "DO"
    colleague.save(update_fields=["credentials"])
    with time_machine.travel(at(8, 0), tick=False):
        verbal = transcribe(
            cast["nurse"], stay, drug(facility, "Clonidine"), source="verbal", prescriber=doctor,
            read_back=True, prescriber_name="", prescriber_credentials="",
        )  # fmt: skip
        far = transcribe(
            cast["other_nurse"], elsewhere, drug(other_facility, "Lithium"), source="telephone",
            prescriber=doctor, read_back=True, prescriber_name="", prescriber_credentials="",
        )  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        rows = section(home(client, doctor, facility), "orders_to_cosign")
        assert f'href="{detail_url(verbal)}"' in rows and "verbal order: co-sign" in rows
        assert detail_url(far) not in rows and "Lithium" not in rows
        assert "Co-sign this verbal order" in client.get(detail_url(verbal)).content.decode()
        # Another prescriber, and a clinician who does not prescribe, have nothing to co-sign.
        assert detail_url(verbal) not in section(home(client, colleague), "orders_to_cosign")
        # A counselor (no prescribing credentials) has no such section at all.
        assert section(home(client, cast["clinician"]), "orders_to_cosign") == ""
        for role in ("nurse", "technician", "supervisor"):
            assert section(home(client, cast[role]), "orders_to_cosign") == ""
        order_cosign(actor=doctor, order=verbal)
        assert detail_url(verbal) not in section(home(client, doctor, facility), "orders_to_cosign")


def _census(cast, facility, nurse2, first, count):
    """`count` clients, each with a dose due, an order to verify, a PRN follow-up due and a
    controlled stock owing its count."""
    clonidine = drug(facility, f"Clonidine {first}")
    acetaminophen = drug(facility, f"Acetaminophen {first}")
    for n in range(first, first + count):
        with time_machine.travel(at(6, 5), tick=False):
            stay = admit(facility, cast["nurse"], n=n, admitted_at=at(6, 0))
        scheduled(cast["nurse"], nurse2, stay, clonidine)
        with time_machine.travel(at(8, 0), tick=False):
            transcribe(nurse2, stay, drug(facility, f"Sertraline {n}"))
            given = prn(cast["nurse"], nurse2, stay, acetaminophen)
            prn_give(actor=cast["nurse"], order=given, indication="headache", pre_assessment="6")
        stock = ControlledStock.objects.create(
            facility=facility, medication=drug(facility, f"Lorazepam {n}", controlled_schedule="IV")
        )
        with time_machine.travel(at(6, 0), tick=False):
            stock_receive(actor=cast["nurse"], stock=stock, quantity="30", note="Delivery",
                          witness=cast["technician"], source_document="INV-1")  # fmt: skip


MY_SECTIONS = (
    "orders_to_verify", "doses", "doses_observed", "prn_follow_ups", "counts_due",
    "orders_to_cosign", "discrepancies", "screens_to_collect", "my_trips", "expiring_credentials",
)  # fmt: skip


@pytest.mark.django_db
def test_each_role_shown_a_section_holds_its_capability_and_opens_its_full_list(client, cast):
    sections = {s.key: s for s in registry.worklist_sections if s.key in MY_SECTIONS}
    assert set(sections) == set(MY_SECTIONS)
    for section_ in sections.values():
        for role in section_.roles:
            assert role in policy.roles_with(section_.capability), (section_.key, role)
            if section_.more:
                client.force_login(cast[role])
                response = client.get(reverse(section_.more))
                assert response.status_code == 200, (section_.key, role)


# Queries of each section this file's apps add to a nurse's page, whatever the census: the
# doses read the 24 hours around now, their live documentation and the older undocumented ones.
SECTION_QUERIES = {
    "orders_to_verify": 1, "doses": 3, "prn_follow_ups": 1, "counts_due": 1,
    "screens_to_collect": 1, "my_trips": 1,
}  # fmt: skip
# The nurse's whole home page (the layout and every app's sections): 27 queries when measured
# (issue 17); the bound leaves room for a section or two more.
NURSE_HOME_MAX_QUERIES = 32


@pytest.mark.django_db
def test_the_nurses_home_page_reads_a_fixed_number_of_queries_whatever_the_census(
    client, cast, facility, nurse2
):
    nurse = cast["nurse"]

    def measured() -> tuple[int, str, dict]:
        client.force_login(nurse)
        with time_machine.travel(NOW, tick=False):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse("home"))
            per_section = {}
            for s in registry.worklist_sections:
                if s.key in SECTION_QUERIES:
                    with CaptureQueriesContext(connection) as mine:
                        s.items(user=nurse, facility=facility, now=timezone.now())
                    per_section[s.key] = len(mine)
        assert response.status_code == 200
        return len(queries), response.content.decode(), per_section

    _census(cast, facility, nurse2, 0, 2)
    few, page, sections_few = measured()
    assert section(page, "doses").count('<li class="work-item') == 2
    _census(cast, facility, nurse2, 2, 8)
    many, page, sections_many = measured()
    for key in ("doses", "orders_to_verify", "prn_follow_ups", "counts_due"):
        assert section(page, key).count('<li class="work-item') == 10, key
    assert sections_few == sections_many == SECTION_QUERIES
    assert many == few, f"{few} queries for 2 clients, {many} for 10"
    assert many <= NURSE_HOME_MAX_QUERIES
