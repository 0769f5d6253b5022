"""The chain of custody: hand-overs judged by screening.custody.custody_breaks under the
specimen's lock, corrections that stand in the place of what they correct, the timeline page and
the CCF-style custody record (issue 13 item 3; specs/screening.md)."""

import io
import re
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, close_old_connections, transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from facility.models import AccessEvent
from screening.models import CustodyEvent
from screening.services.custody import current_holder, custody_append, custody_timeline
from tests.conftest import admit, form_time
from tests.facility.test_pdf import STATEMENT_1, STATEMENT_2, collapse
from tests.screening.specimen_helpers import collected, custody_body, hand_over, started

TECH = "Technician, BHT"
FRIDGE = "Storage fridge 2"
COURIER = "Sam Rivera, Quest courier"
LAB = "Quest Diagnostics, Lenexa KS"


def page(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


@pytest.fixture
def specimen(cast, admission):
    """Collected 40 minutes ago by the technician: #1 Robin Ashdown → Technician, BHT."""
    return collected(cast["technician"], admission, at=timezone.now() - timedelta(minutes=40))


def minutes_ago(n):
    return timezone.now() - timedelta(minutes=n)


@pytest.mark.django_db
def test_four_hand_overs_from_collection_to_the_lab(cast, specimen):
    tech = cast["technician"]
    hand_over(tech, specimen, TECH, FRIDGE, "to_storage", at=minutes_ago(30),
              storage_location="Med room, locked")  # fmt: skip
    hand_over(tech, specimen, FRIDGE, COURIER, "to_courier", at=minutes_ago(20))
    hand_over(tech, specimen, COURIER, LAB, "lab_received", at=minutes_ago(5))
    chain = list(CustodyEvent.objects.filter(specimen=specimen).order_by("seq"))
    assert [(e.seq, e.purpose, e.released_by, e.received_by) for e in chain] == [
        (1, "collected", "Robin Ashdown", TECH),
        (2, "to_storage", TECH, FRIDGE),
        (3, "to_courier", FRIDGE, COURIER),
        (4, "lab_received", COURIER, LAB),
    ]
    assert chain[1].released_by_user == tech and chain[1].received_by_user is None
    assert current_holder(chain) == LAB


@pytest.mark.django_db
def test_a_gap_is_refused_naming_who_holds_the_specimen_now(cast, specimen):
    tech = cast["technician"]
    hand_over(tech, specimen, TECH, FRIDGE, "to_storage", at=minutes_ago(30),
              storage_location="Med room")  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        hand_over(tech, specimen, TECH, COURIER, "to_courier", at=minutes_ago(20))
    assert refused.value.message_dict == {
        "released_by": [f"Released by must be {FRIDGE}, who holds the specimen now."]
    }
    assert CustodyEvent.objects.filter(specimen=specimen).count() == 2


@pytest.mark.django_db
def test_the_holder_is_matched_whatever_the_case_and_spaces_and_stored_as_held(cast, specimen):
    event = hand_over(cast["nurse"], specimen, "  technician,   bht ", FRIDGE, "to_storage",
                      storage_location="Fridge")  # fmt: skip
    assert event.released_by == TECH


@pytest.mark.django_db
def test_time_never_goes_backward(cast, specimen):
    with pytest.raises(ValidationError) as refused:
        hand_over(cast["technician"], specimen, TECH, FRIDGE, "to_storage", at=minutes_ago(41),
                  storage_location="Fridge")  # fmt: skip
    message = refused.value.message_dict["at"][0]
    assert message.startswith("Time: the specimen was already handed over at ")
    assert message.endswith("(#1); a hand-over cannot be earlier.")
    with pytest.raises(ValidationError, match="cannot be in the future"):
        hand_over(cast["technician"], specimen, TECH, FRIDGE, "to_storage",
                  at=timezone.now() + timedelta(minutes=5), storage_location="Fridge")  # fmt: skip


@pytest.mark.django_db
def test_a_seal_recorded_broken_is_never_intact_again(cast, specimen):
    tech = cast["technician"]
    hand_over(tech, specimen, TECH, FRIDGE, "to_storage", at=minutes_ago(30), seal_intact=False,
              storage_location="Fridge", remarks="Seal torn at the corner")  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        hand_over(tech, specimen, FRIDGE, COURIER, "to_courier", at=minutes_ago(20))
    assert "Seal intact: the seal was recorded broken at #2" in str(refused.value)
    hand_over(tech, specimen, FRIDGE, COURIER, "to_courier", at=minutes_ago(20),
              seal_intact=False)  # fmt: skip
    assert CustodyEvent.objects.filter(specimen=specimen).count() == 3


@pytest.mark.django_db
def test_a_correction_stands_in_the_place_of_the_entry_it_corrects(cast, specimen):
    tech = cast["technician"]
    wrong = hand_over(tech, specimen, TECH, "Storage fridge 3", "to_storage", at=minutes_ago(30),
                      storage_location="Med room")  # fmt: skip
    with pytest.raises(ValidationError) as no_reason:
        hand_over(tech, specimen, TECH, FRIDGE, "to_storage", at=minutes_ago(30),
                  storage_location="Med room", corrects=wrong)  # fmt: skip
    assert "Remarks: say what this correction changes and why." in str(no_reason.value)
    fixed = hand_over(tech, specimen, TECH, FRIDGE, "to_storage", at=minutes_ago(30),
                      storage_location="Med room", corrects=wrong,
                      remarks="Fridge 2, not 3: misread the door")  # fmt: skip
    assert (fixed.seq, fixed.corrects) == (3, wrong)
    # The chain now continues from the corrected holder, not the wrong one.
    assert current_holder(CustodyEvent.objects.filter(specimen=specimen)) == FRIDGE
    with pytest.raises(ValidationError, match=f"Released by must be {FRIDGE}"):
        hand_over(tech, specimen, "Storage fridge 3", COURIER, "to_courier")
    hand_over(tech, specimen, FRIDGE, COURIER, "to_courier")
    rows = custody_timeline(CustodyEvent.objects.filter(specimen=specimen))
    assert [(r.position, r.event.seq, [o.seq for o in r.superseded]) for r in rows] == [
        (1, 1, []), (2, 3, [2]), (3, 4, []),
    ]  # fmt: skip
    assert not any(r.broken for r in rows)
    # The original can no longer be corrected: its correction is what stands.
    with pytest.raises(ValidationError, match="Entry #2 was already corrected by #3: correct #3"):
        hand_over(tech, specimen, TECH, FRIDGE, "to_storage", corrects=wrong, remarks="Again",
                  at=minutes_ago(30), storage_location="Med room")  # fmt: skip


@pytest.mark.django_db
def test_a_correction_of_a_middle_entry_is_judged_against_the_entries_before_it(cast, specimen):
    tech = cast["technician"]
    second = hand_over(tech, specimen, TECH, FRIDGE, "to_storage", at=minutes_ago(30),
                       storage_location="Med room")  # fmt: skip
    hand_over(tech, specimen, FRIDGE, COURIER, "to_courier", at=minutes_ago(20))
    with pytest.raises(ValidationError) as gap:
        hand_over(tech, specimen, "Nurse, RN", FRIDGE, "to_storage", at=minutes_ago(30),
                  storage_location="Med room", corrects=second, remarks="Who released")  # fmt: skip
    assert f"Released by must be {TECH}, who held the specimen after #1." in str(gap.value)
    # A correction that makes a later entry no longer follow is kept, and the timeline marks
    # that later entry as a break to correct in turn.
    hand_over(tech, specimen, TECH, "Storage fridge 1", "to_storage", at=minutes_ago(30),
              storage_location="Med room", corrects=second, remarks="Fridge 1")  # fmt: skip
    rows = custody_timeline(CustodyEvent.objects.filter(specimen=specimen))
    assert [r.broken for r in rows] == [False, False, True]


@pytest.mark.django_db
def test_nothing_follows_a_destroyed_specimen_and_the_first_entry_is_the_collection(cast, specimen):
    tech = cast["technician"]
    with pytest.raises(ValidationError, match="already collected"):
        hand_over(tech, specimen, TECH, FRIDGE, "collected")
    hand_over(tech, specimen, TECH, "Supervisor", "destroyed", remarks="Negative, 30 days")
    with pytest.raises(ValidationError, match="was destroyed"):
        hand_over(tech, specimen, "Supervisor", FRIDGE, "returned")


@pytest.mark.django_db
def test_an_uncollected_specimen_has_no_chain(cast, admission):
    ordered = started(cast["technician"], admission)
    with pytest.raises(ValidationError, match="only a collected specimen has a chain"):
        hand_over(cast["technician"], ordered, "Robin Ashdown", TECH, "to_storage")


@pytest.mark.django_db
def test_custody_is_kept_by_the_floor_of_the_specimens_facility_only(cast, specimen):
    with pytest.raises(PermissionDenied):
        hand_over(cast["clinician"], specimen, TECH, FRIDGE, "to_storage", storage_location="F")
    with pytest.raises(PermissionDenied):
        hand_over(cast["other_technician"], specimen, TECH, FRIDGE, "to_storage",
                  storage_location="F")  # fmt: skip


@pytest.mark.django_db
def test_custody_events_cannot_be_edited_or_deleted_in_the_database(specimen):
    event = CustodyEvent.objects.get(specimen=specimen)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CustodyEvent.objects.filter(pk=event.pk).update(received_by="Someone else")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CustodyEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.django_db(transaction=True)
def test_two_people_handing_over_at_once_cannot_both_be_next(roles, cast, facility):
    admission = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    specimen = collected(cast["technician"], admission, at=minutes_ago(30))
    barrier, results = threading.Barrier(2), []

    def give(to):
        try:
            barrier.wait()
            hand_over(cast["technician"], specimen, TECH, to, "to_storage",
                      storage_location="Med room")  # fmt: skip
            results.append("ok")
        except ValidationError as exc:
            results.append(exc.message_dict.get("released_by", ["?"])[0])
        finally:
            close_old_connections()

    threads = [threading.Thread(target=give, args=(to,)) for to in (FRIDGE, "Nurse, RN")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results)[-1] == "ok" and results.count("ok") == 1
    assert next(r for r in results if r != "ok").startswith("Released by must be ")
    assert list(CustodyEvent.objects.filter(specimen=specimen).values_list("seq", flat=True)) == [
        1, 2,
    ]  # fmt: skip


# ---------------------------------------------------------------- the custody page


@pytest.mark.django_db
def test_the_custody_page_refuses_a_gap_naming_the_holder_and_shows_the_timeline(
    client, cast, facility, specimen
):
    client.force_login(cast["technician"])
    url = reverse("screening:specimen_custody", args=[specimen.public_id])
    form = page(client.get(url))
    assert f'name="released_by" value="{TECH}"' in form  # the holder now, filled in
    client.post(url, custody_body(facility, TECH, FRIDGE))
    refused = client.post(url, custody_body(facility, TECH, COURIER, purpose="to_courier"))
    assert refused.status_code == 400
    assert f"Released by must be {FRIDGE}, who holds the specimen now." in page(refused)
    assert "Nothing was saved." in page(refused)
    done = client.post(url, custody_body(facility, FRIDGE, COURIER, purpose="to_courier"),
                       follow=True)  # fmt: skip
    shown = page(done)
    assert f"Hand-over #3 recorded: {COURIER}." in shown
    steps = re.findall(r'<li class="custody-step[^"]*" id="custody-(\d)">', shown)
    assert steps == ["1", "2", "3"]
    assert f"Held now by <strong>{COURIER}</strong>" in shown


@pytest.mark.django_db
def test_storage_needs_a_location_on_the_page(client, cast, facility, specimen):
    client.force_login(cast["technician"])
    url = reverse("screening:specimen_custody", args=[specimen.public_id])
    response = client.post(url, custody_body(facility, TECH, FRIDGE, storage_location=""))
    assert "Storage location: say where the specimen is kept." in page(response)


@pytest.mark.django_db
def test_a_correction_from_the_timeline_is_filled_in_and_strikes_the_original(
    client, cast, facility, specimen
):
    wrong = hand_over(cast["technician"], specimen, TECH, "Storage fridge 3", "to_storage",
                      at=minutes_ago(30), storage_location="Med room")  # fmt: skip
    client.force_login(cast["nurse"])
    url = reverse("screening:specimen_custody", args=[specimen.public_id])
    form = page(client.get(url, {"corrects": str(wrong.public_id)}))
    assert "Correct entry #2" in form and 'value="Storage fridge 3"' in form
    body = custody_body(facility, TECH, FRIDGE, at=form_time(wrong.at, facility),
                        corrects=str(wrong.public_id), remarks="Fridge 2, not 3")  # fmt: skip
    shown = page(client.post(url, body, follow=True))
    assert "Correction #3 recorded" in shown
    assert re.search(r'class="superseded struck">#2 To storage .*Storage fridge 3', shown)


@pytest.mark.django_db
def test_correcting_the_collection_itself_keeps_its_purpose(client, cast, facility, specimen):
    first = CustodyEvent.objects.get(specimen=specimen)
    client.force_login(cast["nurse"])
    url = reverse("screening:specimen_custody", args=[specimen.public_id])
    body = custody_body(facility, "Robin Ashdown", "Nurse, RN", purpose="collected",
                        at=form_time(first.at, facility), corrects=str(first.public_id),
                        remarks="The nurse took the cup, not the technician")  # fmt: skip
    client.post(url, body)
    assert current_holder(CustodyEvent.objects.filter(specimen=specimen)) == "Nurse, RN"


@pytest.mark.django_db
def test_the_custody_record_pdf_is_laid_out_like_the_ccf_block_with_the_notice(
    client, cast, specimen
):
    tech = cast["technician"]
    hand_over(tech, specimen, TECH, FRIDGE, "to_storage", at=minutes_ago(30),
              storage_location="Med room")  # fmt: skip
    hand_over(tech, specimen, FRIDGE, COURIER, "to_courier", at=minutes_ago(20))
    client.force_login(cast["nurse"])
    response = client.get(reverse("screening:custody_pdf", args=[specimen.public_id]))
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    pages = [collapse(p.extract_text()) for p in reader.pages]
    whole = " ".join(pages)
    for column in ("Purpose of change", "Released by (name / signature)",
                   "Received by (name / signature)", "Date (mo/day/yr) and time",
                   "Seal intact"):  # fmt: skip
        assert column in whole
    assert whole.count(STATEMENT_1) == 1
    assert all(STATEMENT_2 in p for p in pages)
    assert specimen.specimen_id in whole and COURIER in whole and "To courier" in whole
    assert AccessEvent.objects.filter(action="print", what__contains=specimen.specimen_id).exists()


@pytest.mark.django_db
def test_a_clinician_reads_the_chain_but_does_not_hand_over(client, cast, specimen):
    client.force_login(cast["clinician"])
    assert client.get(reverse("screening:specimen", args=[specimen.public_id])).status_code == 200
    read = AccessEvent.objects.get(action="view", what=f"specimen {specimen.specimen_id}")
    assert read.user == cast["clinician"]
    assert read.client_public_id == specimen.admission.client.public_id
    url = reverse("screening:specimen_custody", args=[specimen.public_id])
    assert client.get(url).status_code == 403
    with pytest.raises(PermissionDenied):
        custody_append(actor=cast["clinician"], specimen=specimen, at=timezone.now(),
                       released_by=TECH, received_by=FRIDGE, purpose="to_storage",
                       seal_intact=True, storage_location="F")  # fmt: skip


def _raw_event(specimen, seq, released_by, received_by, *, purpose="to_storage", **fields):
    """An entry written straight to the table, past the service: only the database judges it."""
    now = timezone.now()
    return CustodyEvent.objects.create(
        specimen=specimen, seq=seq, at=fields.pop("at", now), released_by=released_by,
        received_by=received_by, purpose=purpose, seal_intact=fields.pop("seal_intact", True),
        recorded_at=now, recorded_by=specimen.collector, **fields,
    )  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    "seq, released_by, fields, message",
    [
        (2, "Someone else", {}, "custody gap"),
        (3, TECH, {}, "numbered in order"),
        (2, TECH, {"purpose": "collected"}, "only the first custody entry is the collection"),
        (2, TECH, {"at": timezone.now() - timedelta(days=1)}, "time goes backward"),
    ],
)
def test_the_database_refuses_an_entry_that_breaks_the_chain(
    cast, specimen, seq, released_by, fields, message
):
    with pytest.raises(DatabaseError, match=message), transaction.atomic():
        _raw_event(specimen, seq, released_by, FRIDGE, **fields)
    assert CustodyEvent.objects.filter(specimen=specimen).count() == 1


@pytest.mark.django_db
def test_the_database_follows_corrections_and_keeps_a_broken_seal_broken(cast, specimen):
    wrong = _raw_event(specimen, 2, TECH, "Storage fridge 3", seal_intact=False)
    with pytest.raises(DatabaseError, match="cannot be intact again"), transaction.atomic():
        _raw_event(specimen, 3, "Storage fridge 3", COURIER)
    _raw_event(specimen, 3, TECH, FRIDGE, corrects=wrong, remarks="Fridge 2", seal_intact=False)
    with pytest.raises(DatabaseError, match="already corrected"), transaction.atomic():
        _raw_event(specimen, 4, TECH, FRIDGE, corrects=wrong, remarks="Again")
    with pytest.raises(DatabaseError, match='"Storage fridge 2" holds'), transaction.atomic():
        _raw_event(specimen, 4, "Storage fridge 3", COURIER, seal_intact=False)
    _raw_event(specimen, 4, FRIDGE, COURIER, seal_intact=False, purpose="to_courier")
    assert current_holder(CustodyEvent.objects.filter(specimen=specimen)) == COURIER
