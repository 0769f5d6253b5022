"""Fixtures shared by the MAR tests: a second nurse, a plain catalog drug, and a stay admitted on
an ordinary May day in New York (`at(h, m)` gives that day's local times)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from medications.models import Medication
from tests.conftest import admit, make_user

NY = ZoneInfo("America/New_York")


def at(h, m=0, day=12):
    return datetime(2026, 5, day, h, m, tzinfo=NY)


@pytest.fixture
def nurse2(facility):
    return make_user("nurse_two", "nurse", facility)


@pytest.fixture
def clonidine(facility):
    return Medication.objects.create(
        facility=facility, name="Clonidine", strength="0.1 mg", form="tablet", routes="oral"
    )


@pytest.fixture
def stay(cast, facility):
    with time_machine.travel(at(6, 5), tick=False):
        return admit(facility, cast["nurse"], admitted_at=at(6, 0))
