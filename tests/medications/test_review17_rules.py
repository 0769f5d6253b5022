"""Review of issue 17's "My work" for the nurse against specs/mar.md, PRN: a follow-up owed is on
the nurse's list until it is charted."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from tests.facility.test_my_work import home, section
from tests.medications.test_prn import DAY, give, prn_order  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def test_an_overdue_prn_follow_up_stays_on_my_work_past_a_day(client, cast, prn_order):  # noqa: F811
    """mar.md:71-74: the effectiveness reassessment is `overdue` after due + 30 min, with an
    alert. medications/worklist.py reads services.prn_pending, which looks back only 24 hours:
    a follow-up never charted leaves "PRN follow-ups due" (and the scan) a day after the dose,
    and the section then says "No PRN follow-up is due"."""
    given = give(prn_order, cast["nurse"], DAY.replace(hour=10))
    form = reverse("medications:prn_follow_up", args=[given.public_id])
    with time_machine.travel(DAY.replace(hour=12), tick=False):
        assert form in section(home(client, cast["nurse"]), "prn_follow_ups")
    client.logout()  # a new shift, a new sign-in
    with time_machine.travel(DAY.replace(hour=10) + timedelta(days=1, minutes=30), tick=False):
        assert form in section(home(client, cast["nurse"]), "prn_follow_ups")
