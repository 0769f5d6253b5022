"""Ordering and collecting specimens, the daily random list, the scan field and laboratory results
(issue 13 items 1, 2 and 4; specs/screening.md, "Specimen and chain of custody")."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from clients.services import leave_return, leave_start
from screening import draw
from screening.identifiers import ALPHABET, new_specimen_id, normalize_specimen_id
from screening.models import CustodyEvent, LabResult, RandomDraw, Specimen
from screening.services.specimens import (
    LabRow,
    draw_check,
    lab_result_record,
    random_draw_make,
    random_pool,
    specimen_collect,
    specimen_refuse,
)
from tests.conftest import admit, form_time
from tests.screening.specimen_helpers import (
    SIGNATURE,
    collect_body,
    collected,
    collection,
    hand_over,
    started,
)

NY = ZoneInfo("America/New_York")


def page(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- specimen IDs


def test_specimen_ids_are_two_groups_of_four_from_an_unambiguous_alphabet():
    ids = {new_specimen_id() for _ in range(500)}
    assert len(ids) == 500
    for sid in ids:
        assert re.fullmatch(r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}", sid), sid
    assert not set("01ILOU") & set(ALPHABET)


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("H7K2-9QXD", "H7K2-9QXD"),
        ("h7k2 9qxd", "H7K2-9QXD"),
        ("H7K29QXD\n", "H7K2-9QXD"),
        ("H7K2-9QX0", None),  # 0 is not in the alphabet: never read as O or D
        ("H7K2-9QX", None),
        ("", None),
    ],
)
def test_a_typed_or_scanned_id_is_forgiven_case_spaces_and_hyphen_only(typed, stored):
    assert normalize_specimen_id(typed) == stored


# ---------------------------------------------------------------- the random draw, pure


@pytest.mark.parametrize(
    "pool, percent, size",
    [(0, 10, 0), (1, 10, 1), (9, 10, 1), (10, 10, 1), (11, 10, 2), (25, 10, 3), (30, 10, 3),
     (31, 10, 4), (7, 50, 4), (120, 100, 120), (3, 1, 1)],
)  # fmt: skip
def test_the_draw_takes_ceil_percent_of_the_pool_and_at_least_one(pool, percent, size):
    assert draw.draw_size(pool, percent) == size


@pytest.mark.parametrize("percent", [0, 101, -5])
def test_a_percent_outside_1_to_100_is_refused(percent):
    with pytest.raises(ValueError):
        draw.draw_size(10, percent)


def test_the_draw_is_a_function_of_pool_seed_and_percent_and_not_of_pool_order():
    pool = [f"stay-{n:02d}" for n in range(40)]
    first = draw.select(pool, seed="a" * 32, percent=10)
    assert len(first) == 4
    assert draw.select(list(reversed(pool)), seed="a" * 32, percent=10) == first
    assert draw.select(pool, seed="b" * 32, percent=10) != first
    # Documented: the lowest SHA-256 of "seed:id" first.
    import hashlib

    ranked = sorted(pool, key=lambda m: hashlib.sha256(f"{'a' * 32}:{m}".encode()).hexdigest())
    assert first == ranked[:4]
    with pytest.raises(ValueError):
        draw.select(["x", "x"], seed="s", percent=10)


def test_every_member_of_the_pool_is_drawn_about_equally_often():
    pool = [f"s{n}" for n in range(10)]
    counts = dict.fromkeys(pool, 0)
    for n in range(3000):
        for member in draw.select(pool, seed=f"seed-{n}", percent=10):
            counts[member] += 1
    assert all(240 <= c <= 360 for c in counts.values()), counts


# ---------------------------------------------------------------- the random draw, recorded


@pytest.mark.django_db
def test_the_daily_draw_records_its_seed_and_pool_and_can_be_rerun_from_the_record(cast, facility):
    stays = [admit(facility, cast["nurse"], n=n) for n in range(12)]
    made = random_draw_make(actor=cast["nurse"], facility=facility, percent=10)
    assert len(made.seed) == 32 and int(made.seed, 16) >= 0
    assert made.pool == sorted(str(s.public_id) for s in stays)
    assert made.day == timezone.localtime(made.drawn_at, facility.tz).date()
    drawn = list(made.specimens.all())
    assert len(drawn) == 2  # ceil(10 % of 12)
    assert {s.reason for s in drawn} == {"random"} and {s.status for s in drawn} == {"ordered"}
    assert draw_check(made)
    chosen = draw.select(made.pool, seed=made.seed, percent=made.percent)
    assert sorted(chosen) == sorted(str(s.admission.public_id) for s in drawn)


@pytest.mark.django_db
def test_one_draw_per_facility_per_day_in_the_service_and_the_database(cast, facility):
    admit(facility, cast["nurse"])
    first = random_draw_make(actor=cast["nurse"], facility=facility)
    with pytest.raises(ValidationError, match="already drawn at"):
        random_draw_make(actor=cast["supervisor"], facility=facility)
    with pytest.raises(IntegrityError), transaction.atomic():
        RandomDraw.objects.create(
            facility=facility, day=first.day, percent=10, seed="x", pool=[],
            drawn_at=timezone.now(), drawn_by=cast["nurse"],
        )  # fmt: skip
    assert RandomDraw.objects.count() == 1


@pytest.mark.django_db
def test_the_pool_leaves_out_clients_tested_today_on_the_facility_clock_only(cast, facility):
    """US DST starts on 2026-03-08. At 10:00 New York time, a specimen collected at 00:30 local
    (05:30 UTC) counts as today; one at 23:30 local the evening before (04:30 UTC, the same UTC
    day) does not. A client on a pass stays in the pool; a discharged one is not in it."""
    morning = datetime(2026, 3, 8, 10, 0, tzinfo=NY)
    with time_machine.travel(morning, tick=False):
        long_ago = morning - timedelta(days=2)
        tested_today = admit(facility, cast["nurse"], n=1, admitted_at=long_ago)
        tested_yesterday = admit(facility, cast["nurse"], n=2, admitted_at=long_ago)
        refused_today = admit(facility, cast["nurse"], n=3, admitted_at=long_ago)
        on_pass = admit(facility, cast["nurse"], n=4, admitted_at=long_ago)
        collected(cast["technician"], tested_today, at=datetime(2026, 3, 8, 0, 30, tzinfo=NY))
        collected(cast["technician"], tested_yesterday, at=datetime(2026, 3, 7, 23, 30, tzinfo=NY))
        refusal = started(cast["technician"], refused_today)
        specimen_refuse(
            actor=cast["technician"], specimen=refusal, at=morning - timedelta(hours=1),
            note="Said no and walked off",
        )  # fmt: skip
        leave_start(
            actor=cast["nurse"], admission=on_pass, kind="pass", left_at=morning,
            expected_back_at=morning + timedelta(hours=6),
        )  # fmt: skip
        pool = random_pool(facility, timezone.now())
    assert pool == sorted([str(tested_yesterday.public_id), str(on_pass.public_id)])


@pytest.mark.django_db
def test_a_technician_sees_the_list_but_only_a_nurse_draws_it(client, cast, facility):
    for n in range(5):
        admit(facility, cast["nurse"], n=n)
    client.force_login(cast["technician"])
    url = reverse("screening:random_list")
    assert "A nurse, clinician or supervisor draws the list." in page(client.get(url))
    assert client.post(url, {"percent": "10"}).status_code == 403
    client.force_login(cast["nurse"])
    response = client.post(url, {"percent": "20"}, follow=True)
    assert "Today&#x27;s random list is drawn." in page(response)
    assert "1 of 5 drawn (20 %)" in page(response)
    made = RandomDraw.objects.get()
    assert made.seed in page(response) and made.percent == 20
    again = client.post(url, {"percent": "20"})
    assert again.status_code == 400
    assert "Today&#x27;s random list was already drawn at" in page(again)
    assert RandomDraw.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("percent", ["0", "101", "ten", ""])
def test_a_percent_outside_1_to_100_is_refused_on_the_form(client, cast, facility, percent):
    admit(facility, cast["nurse"])
    client.force_login(cast["nurse"])
    response = client.post(reverse("screening:random_list"), {"percent": percent})
    assert response.status_code == 400
    assert "Percent: a whole number from 1 to 100." in page(response)
    assert not RandomDraw.objects.exists()


# ---------------------------------------------------------------- starting and ordering


@pytest.mark.django_db
def test_a_technician_starts_an_admission_screen_but_cannot_order_one_for_cause(
    client, cast, admission
):
    client.force_login(cast["technician"])
    response = client.post(
        reverse("screening:specimen_start", args=[admission.public_id]),
        {"reason": "admission", "specimen_type": "urine"},
    )
    specimen = Specimen.objects.get()
    assert response["Location"] == reverse("screening:specimen_collect", args=[specimen.public_id])
    assert (specimen.reason, specimen.status, specimen.ordered_by) == (
        "admission", "ordered", cast["technician"],
    )  # fmt: skip
    forbidden = client.post(
        reverse("screening:specimen_order", args=[admission.public_id]),
        {"reason": "for_cause", "reason_detail": "Smelled of cannabis", "specimen_type": "urine"},
    )
    assert forbidden.status_code == 403
    # The start page offers no for-cause reason to post either.
    refused = client.post(
        reverse("screening:specimen_start", args=[admission.public_id]),
        {"reason": "for_cause", "specimen_type": "urine"},
    )
    assert refused.status_code == 400
    assert Specimen.objects.count() == 1


@pytest.mark.django_db
def test_a_screen_for_cause_says_why(client, cast, admission):
    client.force_login(cast["clinician"])
    url = reverse("screening:specimen_order", args=[admission.public_id])
    response = client.post(url, {"reason": "for_cause", "specimen_type": "urine"})
    assert response.status_code == 400
    assert "Why: a screen for cause says what prompted it." in page(response)
    done = client.post(url, {"reason": "for_cause", "reason_detail": "Found with a lighter and "
                             "foil", "specimen_type": "urine"})  # fmt: skip
    specimen = Specimen.objects.get()
    # A clinician does not collect: the specimen page, not the collection form.
    assert done["Location"] == reverse("screening:specimen", args=[specimen.public_id])
    assert specimen.reason_detail == "Found with a lighter and foil"


@pytest.mark.django_db
def test_a_return_from_pass_screen_names_the_leave_it_follows(client, cast, admission):
    now = timezone.now()
    leave = leave_start(
        actor=cast["nurse"], admission=admission, kind="pass",
        left_at=now - timedelta(minutes=40), expected_back_at=now + timedelta(hours=2),
        backdate_reason="Entered after the door",
    )  # fmt: skip
    client.force_login(cast["technician"])
    url = reverse("screening:specimen_start", args=[admission.public_id])
    body = {"reason": "return_from_pass", "specimen_type": "urine"}
    missing = client.post(url, body)
    assert "Leave: choose the pass the client returned from." in page(missing)
    leave_return(actor=cast["nurse"], leave=leave, returned_at=now - timedelta(minutes=5))
    assert "Pass · back" in page(client.get(url))
    client.post(url, {**body, "leave": leave.pk})
    assert Specimen.objects.get().leave == leave


@pytest.mark.django_db
def test_nobody_starts_a_screen_for_a_client_of_another_facility(client, cast, other_admission):
    client.force_login(cast["technician"])
    url = reverse("screening:specimen_start", args=[other_admission.public_id])
    assert client.get(url).status_code == 404
    with pytest.raises(PermissionDenied):
        started(cast["technician"], other_admission)


# ---------------------------------------------------------------- collection


@pytest.mark.django_db
def test_a_collection_records_every_field_and_opens_the_chain_with_event_1(
    client, cast, facility, admission
):
    specimen = started(cast["technician"], admission)
    client.force_login(cast["technician"])
    form = client.get(reverse("screening:specimen_collect", args=[specimen.public_id]))
    assert "data-signature-pad" in page(form) and "The client declined to sign" in page(form)
    body = collect_body(facility, observed="yes", observer=cast["nurse"].pk,
                        observed_reason="Dilute or invalid history", split="split")  # fmt: skip
    response = client.post(reverse("screening:specimen_collect", args=[specimen.public_id]), body)
    assert response["Location"] == reverse("screening:specimen", args=[specimen.public_id])
    specimen.refresh_from_db()
    assert specimen.status == "collected" and not specimen.flagged
    assert (specimen.observed, specimen.observer, specimen.observed_reason) == (
        True, cast["nurse"], "Dilute or invalid history",
    )  # fmt: skip
    assert (specimen.temperature, specimen.temperature_unit) == (Decimal("96.4"), "F")
    assert specimen.split is True and specimen.volume_adequate is True
    assert specimen.seal_applied and specimen.seal_initialed
    assert specimen.client_signature == SIGNATURE and not specimen.client_declined_to_sign
    first = CustodyEvent.objects.get(specimen=specimen)
    assert (first.seq, first.purpose, first.released_by, first.received_by) == (
        1, "collected", "Robin Ashdown", "Technician, BHT",
    )  # fmt: skip
    assert first.received_by_user == cast["technician"] and first.released_by_user is None
    shown = page(client.get(response["Location"]))
    assert "Held now by <strong>Technician, BHT</strong>" in shown
    assert f'<path d="{SIGNATURE}"' in shown


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes, message",
    [
        ({"observed": None}, "Observed: say whether the collection was observed."),
        ({"observed": "yes"}, "Observer: choose who observed the collection."),
        ({"temperature": ""}, "Temperature: read it from the strip on the cup."),
        ({"volume_adequate": None}, "Volume: say whether it is adequate."),
        ({"split": None}, "Split or single: choose one."),
        ({"seal_applied": None}, "Seal: apply the tamper-evident seal and tick it here."),
        ({"seal_initialed": None}, "Remarks: say why the client did not initial the seal."),
        ({"client_signature": ""}, "Signature: the client signs on the pad, or tick that they"),
        ({"client_signature": "M1 1"}, "Signature: draw it again on the pad."),
        ({"client_signature": "<script>alert(1)</script>"}, "Signature: draw it again"),
        ({"client_declined_to_sign": "on"}, "Signature: either the client signs or declines"),
    ],
)
def test_an_incomplete_collection_is_refused_naming_the_field(
    client, cast, facility, admission, changes, message
):
    specimen = started(cast["technician"], admission)
    client.force_login(cast["technician"])
    response = client.post(
        reverse("screening:specimen_collect", args=[specimen.public_id]),
        collect_body(facility, **changes),
    )
    assert response.status_code == 400
    assert message in page(response).replace("&#x27;", "'").replace("&quot;", '"')
    assert "Nothing was saved." in page(response)
    specimen.refresh_from_db()
    assert specimen.status == "ordered" and not CustodyEvent.objects.exists()


@pytest.mark.django_db
def test_a_client_who_declines_to_sign_is_recorded_as_declined(client, cast, facility, admission):
    specimen = started(cast["technician"], admission)
    client.force_login(cast["technician"])
    client.post(
        reverse("screening:specimen_collect", args=[specimen.public_id]),
        collect_body(facility, client_signature="", client_declined_to_sign="on"),
    )
    specimen.refresh_from_db()
    assert specimen.status == "collected" and specimen.client_declined_to_sign
    assert specimen.client_signature == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "temperature, unit, read_after, reason",
    [
        ("101.0", "F", 2, "Temperature 101.0 °F is outside 90–100 °F."),
        ("31.9", "C", 2, "Temperature 31.9 °C is outside 32–38 °C."),
        ("96.0", "F", 5, "Read 5 minutes after collection (within 4 minutes required)."),
    ],
)
def test_an_out_of_range_or_late_temperature_flags_and_offers_an_observed_recollection(
    client, cast, facility, admission, temperature, unit, read_after, reason
):
    specimen = started(cast["technician"], admission)
    client.force_login(cast["technician"])
    at = timezone.now() - timedelta(minutes=10)
    client.post(
        reverse("screening:specimen_collect", args=[specimen.public_id]),
        collect_body(
            facility, collected_at=form_time(at, facility), temperature=temperature,
            temperature_unit=unit, temperature_read_at=form_time(at + timedelta(
                minutes=read_after), facility),
        ),
    )  # fmt: skip
    specimen.refresh_from_db()
    assert specimen.flagged and specimen.flag_reason == reason
    shown = page(client.get(reverse("screening:specimen", args=[specimen.public_id])))
    assert f"Flagged: {reason}" in shown
    assert "Observed recollection</button>" in shown
    response = client.post(reverse("screening:specimen_recollect", args=[specimen.public_id]))
    again = Specimen.objects.get(recollection_of=specimen)
    assert response["Location"] == reverse("screening:specimen_collect", args=[again.public_id])
    assert (again.reason, again.status, again.specimen_id != specimen.specimen_id) == (
        "admission", "ordered", True,
    )  # fmt: skip
    # The form comes pre-set to observed, with the reason; unobserved is refused.
    form = page(client.get(response["Location"]))
    assert 'value="Recollection after a flagged temperature"' in form
    refused = client.post(response["Location"], collect_body(facility, observed="no"))
    assert "Observed: a recollection after a flagged specimen is observed." in page(refused)
    client.post(response["Location"], collect_body(
        facility, observed="yes", observer=cast["nurse"].pk,
        observed_reason="Recollection after a flagged temperature",
    ))  # fmt: skip
    again.refresh_from_db()
    assert again.status == "collected" and again.observed and not again.flagged


@pytest.mark.django_db
def test_a_temperature_read_before_collection_is_refused(cast, admission):
    specimen = started(cast["technician"], admission)
    at = timezone.now() - timedelta(minutes=5)
    with pytest.raises(ValidationError) as refused:
        specimen_collect(actor=cast["technician"], specimen=specimen, collection=collection(
            at, temperature_read_at=at - timedelta(minutes=1)))  # fmt: skip
    assert "before the collection time" in str(refused.value)


@pytest.mark.django_db
def test_a_refusal_is_a_result_not_a_missing_row(client, cast, facility, admission):
    specimen = started(cast["technician"], admission)
    client.force_login(cast["technician"])
    url = reverse("screening:specimen_refuse", args=[specimen.public_id])
    empty = client.post(url, {"refused_at": form_time(timezone.now(), facility)})
    assert "Refusal: record what the client said or did." in page(empty)
    client.post(url, {"refused_at": form_time(timezone.now(), facility),
                      "refusal_note": "Said he will not give one today"})  # fmt: skip
    specimen.refresh_from_db()
    assert (specimen.status, specimen.collector, specimen.refusal_note) == (
        "refused", cast["technician"], "Said he will not give one today",
    )  # fmt: skip
    assert not CustodyEvent.objects.exists()
    shown = page(client.get(reverse("screening:specimen", args=[specimen.public_id])))
    assert "The client refused to provide a specimen" in shown


@pytest.mark.django_db
def test_a_specimen_is_collected_once(cast, admission):
    specimen = collected(cast["technician"], admission)
    with pytest.raises(ValidationError, match="already collected"):
        specimen_collect(actor=cast["nurse"], specimen=specimen, collection=collection())
    assert CustodyEvent.objects.count() == 1


@pytest.mark.django_db
def test_a_clinician_cannot_collect(client, cast, admission):
    specimen = started(cast["nurse"], admission)
    client.force_login(cast["clinician"])
    url = reverse("screening:specimen_collect", args=[specimen.public_id])
    assert client.get(url).status_code == 403


# ---------------------------------------------------------------- scan to open


@pytest.mark.django_db
def test_a_scanned_id_opens_the_specimen_and_an_unknown_one_says_so(
    client, cast, facility, admission, other_admission
):
    mine = started(cast["technician"], admission)
    theirs = started(cast["other_technician"], other_admission)
    client.force_login(cast["technician"])
    home = page(client.get(reverse("screening:specimens")))
    assert 'name="specimen_id"' in home and "autofocus" in home
    scan = reverse("screening:specimen_scan")
    found = client.get(scan, {"specimen_id": mine.specimen_id})
    assert found["Location"] == reverse("screening:specimen", args=[mine.public_id])
    typed = client.get(scan, {"specimen_id": mine.specimen_id.replace("-", "").lower()})
    assert typed["Location"] == found["Location"]
    for unknown in ("ZZZZ-ZZZZ", theirs.specimen_id, "not an id"):
        response = client.get(scan, {"specimen_id": unknown})
        assert response.status_code == 400
        assert "check the label and scan again." in page(response)


# ---------------------------------------------------------------- laboratory results


def _at_the_lab(cast, admission, *, minutes_ago=50):
    tech = cast["technician"]
    start = timezone.now() - timedelta(minutes=minutes_ago)
    specimen = collected(tech, admission, at=start)
    hand_over(tech, specimen, "Technician, BHT", "Storage fridge 2", "to_storage",
              at=start + timedelta(minutes=10), storage_location="Med room")  # fmt: skip
    hand_over(tech, specimen, "Storage fridge 2", "Sam Rivera, Quest courier", "to_courier",
              at=start + timedelta(minutes=30))  # fmt: skip
    return specimen


@pytest.mark.django_db
def test_a_lab_result_needs_the_labs_receipt_on_the_chain_and_is_recorded_per_analyte(
    client, cast, facility, admission
):
    specimen = _at_the_lab(cast, admission)
    client.force_login(cast["nurse"])
    url = reverse("screening:lab_result", args=[specimen.public_id])
    now = form_time(timezone.now(), facility)
    body = {"lab_name": "Quest Diagnostics", "reported_at": now, "analyte_1": "THC",
            "cutoff_1": "15", "value_1": "48.2", "positive_1": "positive", "analyte_2": "coc",
            "cutoff_2": "100", "value_2": "", "positive_2": "negative"}  # fmt: skip
    early = client.post(url, body)
    assert "shows no receipt by a laboratory" in page(early)
    assert not LabResult.objects.exists()
    hand_over(cast["technician"], specimen, "Sam Rivera, Quest courier", "Quest Diagnostics",
              "lab_received", at=timezone.now() - timedelta(minutes=5))  # fmt: skip
    assert 'value="Quest Diagnostics"' in page(client.get(url))
    client.post(url, body)
    results = {r.analyte: r for r in LabResult.objects.filter(specimen=specimen)}
    assert set(results) == {"THC", "COC"}
    assert results["THC"].positive and results["THC"].value_ng_ml == Decimal("48.20")
    assert results["THC"].cutoff_ng_ml == Decimal("15") and results["THC"].lab_name == (
        "Quest Diagnostics"
    )
    assert not results["COC"].positive and results["COC"].value_ng_ml is None
    shown = page(client.get(reverse("screening:specimen", args=[specimen.public_id])))
    assert "Laboratory result" in shown and "48.20" in shown


@pytest.mark.django_db
def test_a_half_filled_lab_row_is_refused_by_row(client, cast, facility, admission):
    specimen = _at_the_lab(cast, admission)
    hand_over(cast["technician"], specimen, "Sam Rivera, Quest courier", "Quest Diagnostics",
              "lab_received")  # fmt: skip
    client.force_login(cast["nurse"])
    response = client.post(
        reverse("screening:lab_result", args=[specimen.public_id]),
        {"lab_name": "Quest", "reported_at": form_time(timezone.now(), facility),
         "analyte_1": "THC", "cutoff_1": "", "positive_1": ""},
    )  # fmt: skip
    assert "Cutoff 1: enter the lab&#x27;s cutoff." in page(response)
    assert "Result 1: positive or negative." in page(response)
    assert not LabResult.objects.exists()


@pytest.mark.django_db
def test_technicians_do_not_enter_lab_results(cast, admission):
    specimen = _at_the_lab(cast, admission)
    with pytest.raises(PermissionDenied):
        lab_result_record(
            actor=cast["technician"], specimen=specimen, lab_name="Quest",
            reported_at=timezone.now(), rows=[LabRow("THC", Decimal(15), None, True)],
        )  # fmt: skip


@pytest.mark.django_db
def test_the_awaiting_lab_list_shows_each_specimens_age_in_a_fixed_number_of_queries(
    client, cast, facility, django_assert_max_num_queries
):
    first = admit(facility, cast["nurse"], n=1, admitted_at=timezone.now() - timedelta(days=4))
    waiting = _at_the_lab(cast, first, minutes_ago=3 * 24 * 60 + 125)
    client.force_login(cast["nurse"])
    url = reverse("screening:awaiting_lab")
    with django_assert_max_num_queries(12):
        response = client.get(url)
    shown = page(response)
    assert waiting.specimen_id in shown and "3 d 2 h" in shown
    assert "Sam Rivera, Quest courier" in shown  # who holds it now
    for n in range(2, 6):
        _at_the_lab(cast, admit(facility, cast["nurse"], n=n))
    with django_assert_max_num_queries(12):
        more = client.get(url)
    assert page(more).count("<tr>") == 1 + 5
    # A result takes it off the list.
    hand_over(cast["technician"], waiting, "Sam Rivera, Quest courier", "Quest", "lab_received")
    lab_result_record(
        actor=cast["nurse"],
        specimen=waiting,
        lab_name="Quest",
        reported_at=timezone.now(),
        rows=[LabRow("THC", Decimal(15), None, False)],
    )
    assert waiting.specimen_id not in page(client.get(url))
