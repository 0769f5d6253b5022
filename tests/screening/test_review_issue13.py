"""Regressions from the review of issue 13: a correction cannot launder a broken seal (in the
service and in the database trigger, which now judges corrections too), a refused urine screen and
a lab-confirmed unexpected positive alert the nurse, and the specimen page offers "Read the cup"
and shows the cup's result."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from facility.models import Alert
from screening.models import CustodyEvent
from screening.services.custody import custody_timeline
from screening.services.specimens import LabRow, lab_result_record, specimen_refuse
from tests.screening.result_helpers import a_lot, poc_body, verified_order
from tests.screening.specimen_helpers import collected, hand_over, started

TECH = "Technician, BHT"
FRIDGE = "Storage fridge 2"
COURIER = "Sam Rivera, courier"
LAB = "Quest lab"


def ago(n):
    return timezone.now() - timedelta(minutes=n)


def raw_event(specimen, by, **fields):
    """An entry written around the service (a script, the admin): only the trigger judges it."""
    seq = CustodyEvent.objects.filter(specimen=specimen).count() + 1
    values = {"purpose": "to_storage", "seal_intact": True, "remarks": "fix", "at": ago(1)}
    values.update(fields)
    with transaction.atomic():
        return CustodyEvent.objects.create(
            specimen=specimen, seq=seq, recorded_at=timezone.now(), recorded_by=by, **values
        )


@pytest.fixture
def broken_chain(cast, admission):
    """Collected 60 minutes ago; #2 into the fridge 50 minutes ago with the seal torn."""
    tech = cast["technician"]
    specimen = collected(tech, admission, at=ago(60))
    broken = hand_over(tech, specimen, TECH, FRIDGE, "to_storage", at=ago(50), seal_intact=False,
                       storage_location="Fridge", remarks="Seal torn")  # fmt: skip
    return specimen, broken


# ---------------------------------------------------------------- a broken seal stays broken


@pytest.mark.django_db
def test_a_correction_cannot_turn_a_broken_seal_back_to_intact(cast, broken_chain):
    specimen, broken = broken_chain
    with pytest.raises(ValidationError) as refused:
        hand_over(cast["technician"], specimen, TECH, FRIDGE, "to_storage", at=ago(50),
                  seal_intact=True, storage_location="Fridge", corrects=broken,
                  remarks="tick was wrong")  # fmt: skip
    assert "recorded broken at #2" in refused.value.message_dict["seal_intact"][0]
    assert CustodyEvent.objects.filter(specimen=specimen).count() == 2
    # Anything else of the broken entry can still be corrected, the seal staying broken.
    fixed = hand_over(cast["technician"], specimen, TECH, FRIDGE, "to_storage", at=ago(50),
                      seal_intact=False, storage_location="Fridge, shelf 2", corrects=broken,
                      remarks="Shelf")  # fmt: skip
    assert [r.event for r in custody_timeline(specimen.custody.order_by("seq"))][-1] == fixed


@pytest.mark.django_db
def test_a_superseded_broken_record_still_forbids_intact_later(cast, broken_chain):
    specimen, broken = broken_chain
    tech = cast["technician"]
    hand_over(tech, specimen, TECH, FRIDGE, "to_storage", at=ago(50), seal_intact=False,
              storage_location="Shelf 2", corrects=broken, remarks="Shelf")  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        hand_over(tech, specimen, FRIDGE, COURIER, "to_courier", at=ago(40), seal_intact=True)
    assert "seal_intact" in refused.value.message_dict
    # A correction of an entry *before* the break may still record the seal intact.
    first = specimen.custody.get(seq=1)
    hand_over(tech, specimen, first.released_by, TECH, "collected", at=ago(60), seal_intact=True,
              corrects=first, remarks="Time read again")  # fmt: skip


# ---------------------------------------------------------------- the trigger judges corrections


@pytest.mark.django_db
def test_the_trigger_refuses_a_correction_that_launders_the_seal_or_breaks_the_chain(
    cast, broken_chain
):
    specimen, broken = broken_chain
    tech = cast["technician"]
    bad = [
        # The reviewer's probe: holder gap, time before #1, seal intact again.
        {"at": ago(600), "released_by": "Nobody at all", "received_by": "Anyone",
         "seal_intact": True},
        # Each rule alone.
        {"at": ago(50), "released_by": TECH, "received_by": FRIDGE, "seal_intact": True},
        {"at": ago(50), "released_by": "Someone else", "received_by": FRIDGE,
         "seal_intact": False},
        {"at": ago(70), "released_by": TECH, "received_by": FRIDGE, "seal_intact": False},
        {"at": ago(50), "released_by": TECH, "received_by": FRIDGE, "seal_intact": False,
         "purpose": "collected"},
    ]  # fmt: skip
    for fields in bad:
        with pytest.raises(DatabaseError):
            raw_event(specimen, tech, corrects=broken, **fields)
    assert CustodyEvent.objects.filter(specimen=specimen).count() == 2
    # A correction that keeps the chain is let through.
    good = raw_event(specimen, tech, corrects=broken, at=ago(49), released_by=TECH,
                     received_by=FRIDGE, seal_intact=False)  # fmt: skip
    assert good.seq == 3
    # ... and a correction of that correction holds the same place (#2): still judged.
    with pytest.raises(DatabaseError):
        raw_event(specimen, tech, corrects=good, at=ago(49), released_by=TECH,
                  received_by=FRIDGE, seal_intact=True)  # fmt: skip


@pytest.mark.django_db
def test_the_trigger_refuses_a_new_entry_intact_after_a_superseded_broken_record(
    cast, broken_chain
):
    specimen, broken = broken_chain
    tech = cast["technician"]
    raw_event(specimen, tech, corrects=broken, at=ago(50), released_by=TECH, received_by=FRIDGE,
              seal_intact=False)  # fmt: skip
    with pytest.raises(DatabaseError):
        raw_event(specimen, tech, at=ago(40), released_by=FRIDGE, received_by=COURIER,
                  purpose="to_courier", seal_intact=True)  # fmt: skip
    raw_event(specimen, tech, at=ago(40), released_by=FRIDGE, received_by=COURIER,
              purpose="to_courier", seal_intact=False)  # fmt: skip


@pytest.mark.django_db
def test_the_trigger_judges_a_correction_of_the_collection(cast, admission):
    tech = cast["technician"]
    specimen = collected(tech, admission, at=ago(60))
    hand_over(tech, specimen, TECH, FRIDGE, "to_storage", at=ago(50), storage_location="Fridge")
    first = specimen.custody.get(seq=1)
    with pytest.raises(DatabaseError):
        raw_event(specimen, tech, corrects=first, at=ago(60), released_by=first.released_by,
                  received_by=TECH, purpose="to_storage")  # fmt: skip
    fixed = raw_event(specimen, tech, corrects=first, at=ago(61), released_by="Anyone named",
                      received_by=TECH, purpose="collected")  # fmt: skip
    assert fixed.seq == 3


# ---------------------------------------------------------------- alerts for the nurse


@pytest.mark.django_db
def test_a_refused_urine_screen_alerts_the_nurse(cast, admission):
    specimen = started(cast["technician"], admission)
    specimen_refuse(actor=cast["technician"], specimen=specimen, at=ago(1),
                    note="Said no, walked away")  # fmt: skip
    alert = Alert.objects.get(client_public_id=admission.client.public_id, kind="screen_result")
    assert alert.audience == "nurse" and alert.severity == "warning"
    assert "refused a drug screen" in alert.message and specimen.specimen_id in alert.message
    assert alert.link == reverse("screening:specimen", args=[specimen.public_id])


def to_the_lab(tech, specimen):
    hand_over(tech, specimen, TECH, COURIER, "to_courier", at=ago(4))
    hand_over(tech, specimen, COURIER, LAB, "lab_received", at=ago(3))


@pytest.mark.django_db
def test_a_lab_confirmed_unexpected_positive_alerts_the_nurse(cast, admission):
    tech = cast["technician"]
    specimen = collected(tech, admission, at=ago(5))
    to_the_lab(tech, specimen)
    lab_result_record(actor=cast["nurse"], specimen=specimen, lab_name="Quest", reported_at=ago(1),
                      rows=[LabRow("FEN", Decimal("1"), Decimal("12.5"), True),
                            LabRow("COC", Decimal("150"), None, False)])  # fmt: skip
    alert = Alert.objects.get(client_public_id=admission.client.public_id, kind="screen_result")
    assert alert.audience == "nurse" and alert.severity == "warning"
    assert "Quest confirmed positive FEN" in alert.message and "COC" not in alert.message


@pytest.mark.django_db
def test_a_lab_positive_explained_by_an_active_order_alerts_no_one(cast, admission):
    verified_order(cast, admission, "Methadone", "10 mg/mL", ingredients=["methadone"])
    tech = cast["technician"]
    specimen = collected(tech, admission, at=ago(5))
    to_the_lab(tech, specimen)
    lab_result_record(actor=cast["nurse"], specimen=specimen, lab_name="Quest", reported_at=ago(1),
                      rows=[LabRow("MTD", Decimal("300"), Decimal("900"), True),
                            LabRow("FEN", Decimal("1"), None, False)])  # fmt: skip
    assert not Alert.objects.filter(kind="screen_result").exists()
    # An unexpected one beside it alerts, naming the expected one apart.
    other = collected(tech, admission, at=ago(5))
    to_the_lab(tech, other)
    lab_result_record(actor=cast["nurse"], specimen=other, lab_name="Quest", reported_at=ago(1),
                      rows=[LabRow("MTD", Decimal("300"), Decimal("900"), True),
                            LabRow("FEN", Decimal("1"), Decimal("3"), True)])  # fmt: skip
    alert = Alert.objects.get(kind="screen_result")
    assert "confirmed positive FEN (expected: MTD)" in alert.message


# ---------------------------------------------------------------- collect -> read the cup


@pytest.mark.django_db
def test_the_specimen_page_offers_read_the_cup_then_shows_the_result(
    client, cast, facility, admission
):
    verified_order(cast, admission, "Methadone", "10 mg/mL", ingredients=["methadone"])
    specimen = collected(cast["technician"], admission)
    client.force_login(cast["technician"])
    url = reverse("screening:specimen", args=[specimen.public_id])
    read = reverse("screening:poc_record", args=[specimen.public_id])
    before = client.get(url).content.decode()
    assert f'href="{read}">Read the cup</a>' in before
    client.post(read, poc_body(specimen, a_lot(facility), MTD="presumptive_positive",
                               COC="presumptive_positive"))  # fmt: skip
    after = client.get(url).content.decode()
    assert "Read the cup" not in after
    assert "Cup result" in after
    assert "Unexpected presumptive positive: COC." in after
    assert "presumptive positive (prescribed): MTD." in after
    test = specimen.poc_tests.get()
    assert reverse("screening:poc_result", args=[test.public_id]) in after


@pytest.mark.django_db
def test_read_the_cup_is_offered_only_to_who_may_read_and_only_once_collected(
    client, cast, admission
):
    specimen = started(cast["technician"], admission)
    read = reverse("screening:poc_record", args=[specimen.public_id])
    client.force_login(cast["technician"])
    assert (
        read
        not in client.get(reverse("screening:specimen", args=[specimen.public_id])).content.decode()
    )
    done = collected(cast["technician"], admission)
    client.force_login(cast["clinician"])
    page = client.get(reverse("screening:specimen", args=[done.public_id])).content.decode()
    assert reverse("screening:poc_record", args=[done.public_id]) not in page
