"""Review of issue 14: a dose "sent with client" is presumed taken off site, so the dose-safety
checks count it from the moment it was sent (the lead's decision 9), while it is never recorded
as given; its hold parameters apply as to a given dose (decision 10)."""

from decimal import Decimal

import pytest
import time_machine

from medications.models import Administration, Ingredient, Medication, MedicationIngredient
from medications.services import administration_record, prn_check
from tests.medications.conftest import at
from tests.medications.test_sent_with_client import out_briefly, prn_of, verified

pytestmark = pytest.mark.django_db


def test_a_sent_1000_mg_acetaminophen_dose_counts_toward_the_24h_ingredient_cap(
    cast, stay, nurse2, facility
):
    apap = Ingredient.objects.create(
        facility=facility, name="acetaminophen", max_mg_per_24h=Decimal("1000")
    )
    med = Medication.objects.create(
        facility=facility, name="Acetaminophen", strength="1000 mg", form="tablet", routes="oral"
    )
    MedicationIngredient.objects.create(medication=med, ingredient=apap, mg_per_unit=Decimal(1000))
    scheduled, prn = verified(stay, cast, nurse2, med), prn_of(stay, cast, nurse2, med)
    dose = scheduled.doses.get(scheduled_at=at(9, 0))
    out_briefly(stay, cast["nurse"], at(8, 50))
    with time_machine.travel(at(8, 50), tick=False):
        administration_record(
            actor=cast["nurse"], dose=dose, outcome="sent",
            reason="1 tab handed to escort for the dentist at 09:00",
        )  # fmt: skip
    # Back at 10:00: another 1000 mg PRN is offered with no block and nothing counted.
    with time_machine.travel(at(10, 0), tick=False):
        check = prn_check(prn, at(10, 0))
    assert check.blocks, "a PRN 1 h after a sent 1000 mg dose is not even flagged"
    assert [c.so_far_mg for c in check.caps] == [1000]
    assert any("sent with the client 08:50" in b for b in check.blocks)
    assert Administration.objects.get(dose=dose).given_at is None  # never recorded as given


def test_a_dose_with_a_hold_parameter_is_not_sent_without_the_hold_vital(
    cast, stay, nurse2, clonidine
):
    """mar.md "held (reason, e.g. a hold parameter in the order such as 'hold if SBP < 100')":
    giving clonidine held if SBP < 90 is refused without a recent SBP; sending the same dose to
    be taken off site (where nobody checks) was allowed with no reading at all. Decision 10: the
    hold applies to a sent dose exactly as to a given one."""
    from django.core.exceptions import ValidationError

    from tests.medications.test_hold_parameters import NINE, hold_order, vitals

    order = hold_order(stay, cast, nurse2, clonidine)
    dose = order.doses.get(scheduled_at=NINE)
    with time_machine.travel(at(8, 50), tick=False):
        with pytest.raises(ValidationError) as given:
            administration_record(actor=cast["nurse"], dose=dose, outcome="given")
        assert "hold_sbp" in given.value.message_dict  # the control: giving needs the SBP
        with pytest.raises(ValidationError) as sent:
            administration_record(
                actor=cast["nurse"], dose=dose, outcome="sent",
                reason="1 tab handed to escort for the dentist",
            )  # fmt: skip
        assert "hold_sbp" in sent.value.message_dict
    # The nurse takes the SBP: 88 meets the hold, and the med pass offers "held".
    vitals(stay, cast["nurse"], at(8, 55), sbp=88)
    with time_machine.travel(at(9, 0), tick=False):
        admin = administration_record(actor=cast["nurse"], dose=dose, outcome="held")
    assert (admin.outcome, admin.hold_parameter) == ("held", "SBP 88 < 90")
