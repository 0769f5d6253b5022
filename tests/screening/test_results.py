"""Point-of-care cup results (issue 13 items 4, 5 and 8): the default cup, readings per analyte
and adulterant pads, expected positives explained by the client's active orders (through the
registry medications fills), the nurse's alert for an unexpected one, an expired lot refused on
the facility's calendar, one live result per specimen, send to lab, and the positives report."""

import csv
import importlib
import inspect
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from facility.forms import SafeInputMixin
from facility.models import AccessEvent, Alert
from facility.pdf import part2_statement_1
from medications.analytes import analytes_of, expected_analytes
from screening.defaults import ADULTERANT_PADS, DEFAULT_CUTOFFS, devices_seed_defaults
from screening.models import AnalyteResult, Device, DeviceKind, PocTest, Specimen
from tests.conftest import admit, make_facility
from tests.screening.result_helpers import (
    a_lot,
    collected_specimen,
    default_cup,
    poc_body,
    verified_order,
)

SPEC_CUTOFFS = {
    "AMP": 1000, "MET": 1000, "BAR": 300, "BZO": 300, "BUP": 10, "COC": 300, "THC": 50,
    "OPI": 2000, "MOP": 300, "MTD": 300, "EDDP": 300, "OXY": 100, "FEN": 1, "MDMA": 500,
    "PCP": 25, "TCA": 1000, "TRA": 100, "K2": 20, "ETG": 500,
}  # fmt: skip


def record_url(specimen):
    return reverse("screening:poc_record", args=[specimen.public_id])


def page(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- the device catalog


@pytest.mark.django_db
def test_a_new_facility_gets_the_default_cup_with_the_specs_cutoffs_and_pads(facility):
    cup = Device.objects.get(facility=facility, kind=DeviceKind.CUP)
    assert cup.cutoffs == SPEC_CUTOFFS
    assert cup.adulterant_pads == ["creatinine", "pH", "specific gravity", "oxidants", "nitrite"]
    assert DEFAULT_CUTOFFS == SPEC_CUTOFFS and cup.adulterant_pads == ADULTERANT_PADS
    # Seeding again (seed_demo, the admin's save) adds nothing.
    assert devices_seed_defaults(facility) == 0
    assert Device.objects.filter(facility=facility).count() == 1


@pytest.mark.django_db
def test_admins_manage_devices_and_lots_in_setup_and_others_cannot(client, cast, facility):
    client.force_login(cast["admin"])
    assert client.get(reverse("admin:screening_device_changelist")).status_code == 200
    response = client.post(
        reverse("admin:screening_devicelot_add"),
        {"device": default_cup(facility).pk, "lot": "L-7781", "expires_on": "2031-04-30"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert default_cup(facility).lots.get().lot == "L-7781"
    # A breath device without a serial is refused with the field named.
    response = client.post(
        reverse("admin:screening_device_add"),
        {"facility": facility.pk, "kind": "breath", "make": "Lifeloc", "model": "FC10",
         "cutoffs": "{}", "adulterant_pads": "[]", "serial": "", "active": "on",
         "lots-TOTAL_FORMS": "0", "lots-INITIAL_FORMS": "0"},
    )  # fmt: skip
    assert "Serial: a breath alcohol device needs its serial number." in page(response)
    client.force_login(cast["nurse"])
    assert client.get(reverse("admin:screening_device_changelist")).status_code == 302


# ---------------------------------------------------------------- expected positives


def test_the_ingredient_table_maps_prescriptions_to_the_analytes_they_explain():
    assert analytes_of(["buprenorphine", "naloxone"]) == {"BUP"}
    assert analytes_of(["methadone"]) == {"MTD", "EDDP"}
    assert analytes_of(["Codeine"]) == {"OPI", "MOP"}
    assert analytes_of(["hydrocodone", "acetaminophen"]) == {"OPI", "MOP"}
    assert analytes_of(["oxycodone"]) == {"OXY"}
    assert analytes_of(["fentanyl"]) == {"FEN"}
    assert analytes_of(["lorazepam"]) == analytes_of(["chlordiazepoxide"]) == {"BZO"}
    assert analytes_of(["butalbital"]) == analytes_of(["phenobarbital"]) == {"BAR"}
    assert analytes_of(["tramadol"]) == {"TRA"}
    assert analytes_of(["lisdexamfetamine"]) == analytes_of(["amphetamine"]) == {"AMP"}
    assert analytes_of(["amitriptyline"]) == analytes_of(["nortriptyline"]) == {"TCA"}
    # A known false positive (quetiapine on the TCA strip) never makes a positive expected.
    assert analytes_of(["quetiapine", "sertraline", "ondansetron"]) == set()


@pytest.mark.django_db
def test_only_active_orders_explain_and_a_catalog_entry_without_ingredients_by_its_name(
    cast, admission
):
    from medications.services import order_discontinue

    bup = verified_order(cast, admission, "Buprenorphine-naloxone", "8 mg/2 mg")
    verified_order(cast, admission, "Methadone HCl", "10 mg/mL", ingredients=["methadone"])
    now = timezone.now()
    found = expected_analytes([admission.pk], at=now)[admission.pk]
    assert set(found) == {"BUP", "MTD", "EDDP"}
    assert "Buprenorphine-naloxone 8 mg/2 mg" in found["BUP"]
    order_discontinue(actor=cast["nurse"], order=bup, reason="Taper done")
    later = timezone.now() + timedelta(seconds=1)
    assert set(expected_analytes([admission.pk], at=later)[admission.pk]) == {"MTD", "EDDP"}


@pytest.mark.django_db
def test_expected_bup_shows_expected_and_unexpected_coc_alerts_the_nurse(
    client, cast, facility, admission
):
    verified_order(cast, admission, "Buprenorphine-naloxone", "8 mg/2 mg",
                   ingredients=["buprenorphine", "naloxone"])  # fmt: skip
    specimen = collected_specimen(admission, cast["technician"])
    lot = a_lot(facility)
    client.force_login(cast["technician"])
    form = client.get(record_url(specimen))
    assert "Expected from active orders:" in page(form)
    response = client.post(
        record_url(specimen),
        poc_body(specimen, lot, BUP="presumptive_positive", COC="presumptive_positive"),
    )
    test = PocTest.objects.get(specimen=specimen)
    assert response.status_code == 302
    assert response["Location"] == reverse("screening:poc_result", args=[test.public_id])
    rows = {r.analyte: r for r in test.analytes.all()}
    assert len(rows) == 19
    assert rows["BUP"].reading == rows["COC"].reading == "presumptive_positive"
    assert "Buprenorphine-naloxone" in rows["BUP"].expected_by
    assert rows["COC"].expected_by == ""
    assert rows["AMP"].reading == "negative" and rows["BUP"].cutoff_ng_ml == 10
    assert test.adulterants == dict.fromkeys(ADULTERANT_PADS, "normal")

    result = page(client.get(response["Location"]))
    assert "Unexpected presumptive positive: COC." in result
    assert '<strong class="tag tone-ok">Expected</strong> presumptive positive' in result
    alert = Alert.objects.get(kind="screen_result")
    assert alert.audience == "nurse"
    assert "unexpected presumptive positive COC" in alert.message
    assert "(expected: BUP)" in alert.message
    assert alert.link == reverse("screening:poc_result", args=[test.public_id])


@pytest.mark.django_db
def test_a_positive_only_for_what_is_prescribed_alerts_nobody(client, cast, facility, admission):
    verified_order(cast, admission, "Methadone", "10 mg/mL", ingredients=["methadone"])
    specimen = collected_specimen(admission, cast["technician"])
    client.force_login(cast["technician"])
    client.post(record_url(specimen), poc_body(specimen, a_lot(facility),
                                               MTD="presumptive_positive",
                                               EDDP="presumptive_positive"))  # fmt: skip
    assert AnalyteResult.objects.filter(expected_by__contains="Methadone").count() == 2
    assert not Alert.objects.filter(kind="screen_result").exists()
    test = PocTest.objects.get()
    assert "Positive only for what the client is prescribed: MTD, EDDP." in page(
        client.get(reverse("screening:poc_result", args=[test.public_id]))
    )


@pytest.mark.django_db
def test_an_invalid_strip_or_an_abnormal_pad_alerts_the_nurse(client, cast, facility, admission):
    specimen = collected_specimen(admission, cast["technician"])
    client.force_login(cast["technician"])
    body = poc_body(specimen, a_lot(facility), THC="invalid", **{"pad-oxidants": "abnormal"})
    client.post(record_url(specimen), body)
    alert = Alert.objects.get(kind="screen_result")
    assert "invalid strip THC" in alert.message
    assert "abnormal adulterant pad oxidants" in alert.message


# ---------------------------------------------------------------- the form's refusals


@pytest.mark.django_db
def test_an_expired_lot_is_refused_with_a_field_message_and_nothing_is_saved(
    client, cast, facility, admission
):
    specimen = collected_specimen(admission, cast["technician"])
    today = timezone.localtime(timezone.now(), facility.tz).date()
    old = a_lot(facility, expires_on=today - timedelta(days=1), lot="L-OLD")
    client.force_login(cast["technician"])
    response = client.post(record_url(specimen), poc_body(specimen, old))
    assert response.status_code == 400
    assert escape(
        f"Lot: lot L-OLD expired on {today - timedelta(days=1):%Y-%m-%d}; read the specimen "
        "with a cup from an unexpired lot."
    ) in page(response)
    assert "Nothing was saved." in page(response)
    assert not PocTest.objects.exists() and not Alert.objects.exists()
    # A lot good through today is accepted.
    good = a_lot(facility, expires_on=today, lot="L-TODAY")
    assert client.post(record_url(specimen), poc_body(specimen, good)).status_code == 302


@pytest.mark.django_db
def test_a_lot_expiring_today_is_judged_on_the_facilitys_calendar_not_utc(
    client, cast, facility, admission
):
    # 23:30 in New York on 15 March is already 16 March in UTC: the lot is still good.
    at = datetime(2027, 3, 15, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    with time_machine.travel(at - timedelta(hours=2), tick=False):
        stay = admit(facility, cast["nurse"], n=3)
        specimen = collected_specimen(stay, cast["technician"], at=at - timedelta(minutes=20))
    lot = a_lot(facility, expires_on=date(2027, 3, 15), lot="L-0315")
    with time_machine.travel(at, tick=False):
        client.force_login(cast["technician"])
        response = client.post(record_url(specimen), poc_body(specimen, lot))
    assert response["Location"].startswith("/screening/results/")
    assert PocTest.objects.filter(specimen=specimen, lot=lot).exists()


@pytest.mark.django_db
def test_unread_analytes_are_named_and_nothing_is_saved(client, cast, facility, admission):
    specimen = collected_specimen(admission, cast["technician"])
    client.force_login(cast["technician"])
    body = poc_body(specimen, a_lot(facility), all_negative=False, AMP="negative")
    response = client.post(record_url(specimen), body)
    assert response.status_code == 400
    text = page(response)
    assert "Readings: MET, BAR, BZO, BUP, COC, THC, OPI, MOP, MTD, EDDP" in text
    assert "tap “All negative” first" in text
    assert not PocTest.objects.exists()


@pytest.mark.django_db
def test_nothing_is_pre_marked_negative_on_the_form(client, cast, facility, admission):
    specimen = collected_specimen(admission, cast["technician"])
    a_lot(facility)
    client.force_login(cast["technician"])
    text = page(client.get(record_url(specimen)))
    assert text.count('type="radio"') == 19 * 3 + 5 * 2
    assert "checked" not in text


@pytest.mark.django_db
def test_one_live_result_per_specimen_until_it_is_struck(client, cast, facility, admission):
    specimen = collected_specimen(admission, cast["technician"])
    lot = a_lot(facility)
    client.force_login(cast["technician"])
    client.post(record_url(specimen), poc_body(specimen, lot))
    first = PocTest.objects.get()
    again = client.get(record_url(specimen))
    assert again["Location"] == reverse("screening:poc_result", args=[first.public_id])
    from screening.services.results import poc_test_record

    with pytest.raises(Exception, match="already has a result"):
        poc_test_record(actor=cast["technician"], specimen=specimen, device=first.device,
                        lot=lot, readings={}, adulterants={})  # fmt: skip
    response = client.post(
        reverse("screening:poc_strike", args=[first.public_id]), {"reason": "Wrong cup read"}
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.struck_reason == "Wrong cup read" and first.struck_by == cast["technician"]
    assert "Entered in error: Wrong cup read" in page(client.get(response["Location"]))
    assert client.post(record_url(specimen), poc_body(specimen, lot)).status_code == 302
    assert PocTest.objects.filter(specimen=specimen, struck_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_a_specimen_not_collected_has_no_cup_result(client, cast, facility, admission):
    specimen = collected_specimen(admission, cast["technician"])
    Specimen.objects.filter(pk=specimen.pk).update(status="ordered")
    client.force_login(cast["technician"])
    response = client.post(record_url(specimen), poc_body(specimen, a_lot(facility)))
    assert response.status_code == 400
    assert "only a collected specimen has a cup result" in page(response)


# ---------------------------------------------------------------- send to lab


@pytest.mark.django_db
def test_a_presumptive_positive_is_sent_to_the_lab_and_a_negative_is_not(
    client, cast, facility, admission
):
    lot = a_lot(facility)
    client.force_login(cast["technician"])
    negative = collected_specimen(admission, cast["technician"])
    client.post(record_url(negative), poc_body(negative, lot))
    test = PocTest.objects.get(specimen=negative)
    assert "Send to lab" not in page(client.get(reverse("screening:poc_result",
                                                        args=[test.public_id])))  # fmt: skip
    response = client.post(reverse("screening:poc_send_to_lab", args=[test.public_id]),
                           follow=True)  # fmt: skip
    assert "nothing to confirm at the lab" in page(response)
    test.refresh_from_db()
    assert test.sent_to_lab is False

    positive = collected_specimen(admission, cast["technician"])
    client.post(record_url(positive), poc_body(positive, lot, COC="presumptive_positive"))
    test = PocTest.objects.get(specimen=positive)
    result = reverse("screening:poc_result", args=[test.public_id])
    assert "Send to lab" in page(client.get(result))
    response = client.post(reverse("screening:poc_send_to_lab", args=[test.public_id]))
    assert response.status_code == 302
    test.refresh_from_db()
    assert test.sent_to_lab is True
    assert "Sent for confirmation" in page(client.get(result))


# ---------------------------------------------------------------- who may


@pytest.mark.django_db
def test_another_facility_gets_404_and_a_clinician_403(client, cast, facility, admission):
    specimen = collected_specimen(admission, cast["technician"])
    client.force_login(cast["other_technician"])
    assert client.get(record_url(specimen)).status_code == 404
    client.force_login(cast["clinician"])
    assert client.get(record_url(specimen)).status_code == 403


def test_every_results_form_is_hardened():
    module = importlib.import_module("screening.result_forms")
    soft = [
        name
        for name, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, forms.BaseForm)
        and cls.__module__ == module.__name__
        and not issubclass(cls, SafeInputMixin)
    ]
    assert soft == []


# ---------------------------------------------------------------- the positives report


def _two_results(cast, facility, admission):
    verified_order(cast, admission, "Buprenorphine", f"{admission.pk} mg",
                   ingredients=["buprenorphine"])  # fmt: skip
    from screening.services.results import poc_test_record

    lot = a_lot(facility)
    cup = default_cup(facility)
    negative = dict.fromkeys(cup.cutoffs, "negative")
    pads = dict.fromkeys(ADULTERANT_PADS, "normal")
    for extra in ({"BUP": "presumptive_positive", "COC": "presumptive_positive"},
                  {"COC": "presumptive_positive", "THC": "invalid"}):  # fmt: skip
        poc_test_record(
            actor=cast["technician"], specimen=collected_specimen(admission, cast["technician"]),
            device=cup, lot=lot, readings=negative | extra, adulterants=pads,
        )  # fmt: skip


@pytest.mark.django_db
def test_positives_by_analyte_on_screen_with_a_fixed_number_of_queries(
    client, cast, facility, admission, django_assert_max_num_queries
):
    _two_results(cast, facility, admission)
    client.force_login(cast["nurse"])
    url = reverse("screening:positives_report")
    with django_assert_max_num_queries(14):
        response = client.get(url)
    text = page(response)
    assert response.status_code == 200
    assert '<th scope="row">COC <span class="meta">Cocaine</span></th>' in text
    # COC: 2 read, 2 positive, 0 expected, 2 unexpected.
    coc = text.split('<th scope="row">COC')[1].split("</tr>")[0]
    assert [c.split(">")[-1] for c in coc.split("</td>")[:3]] == ["2", "2", "0"]
    assert '<strong class="danger-text">2</strong>' in coc
    bup = text.split('<th scope="row">BUP')[1].split("</tr>")[0]
    assert [c.split(">")[-1] for c in bup.split("</td>")[:3]] == ["2", "1", "1"]
    # Twice the results: the same number of queries.
    _two_results(cast, facility, admit(facility, cast["nurse"], n=5))
    with django_assert_max_num_queries(14):
        client.get(url)
    # A technician does not print reports.
    client.force_login(cast["technician"])
    assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_positives_csv_carries_the_notice_and_is_audited(client, cast, facility, admission):
    _two_results(cast, facility, admission)
    client.force_login(cast["supervisor"])
    response = client.get(reverse("screening:positives_csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    # privacy.md: one cell holding statement 1, then an empty row, then the header.
    assert rows[0] == [part2_statement_1()] and rows[1] == []
    assert rows[2][:2] == ["analyte", "name"]
    summary = {r[0]: r for r in rows if r and r[0] in ("BUP", "COC", "THC")}
    assert summary["COC"][3:6] == ["2", "0", "2"]
    assert summary["THC"][6] == "1"
    detail = [r for r in rows if len(r) == 7 and r[3] in ("BUP", "COC")]
    assert len(detail) == 3
    assert any(r[3] == "BUP" and "Buprenorphine" in r[5] for r in detail)
    event = AccessEvent.objects.filter(action="export").latest("id")
    assert event.user == cast["supervisor"] and "positives" in event.what


@pytest.mark.django_db
def test_positives_pdf_has_the_part2_notice_and_is_audited(client, cast, facility, admission):
    from pypdf import PdfReader

    _two_results(cast, facility, admission)
    client.force_login(cast["nurse"])
    response = client.get(reverse("screening:positives_pdf"))
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    assert "42 CFR part 2 prohibits unauthorized use or disclosure of these records." in text
    assert "Drug screen positives by analyte" in text and "COC" in text
    assert AccessEvent.objects.filter(action="print", what__contains="positives").exists()


@pytest.mark.django_db
def test_a_reversed_or_overlong_period_is_refused_with_a_message(client, cast, facility):
    client.force_login(cast["nurse"])
    url = reverse("screening:positives_report")
    response = client.get(url, {"start": "2026-05-10", "end": "2026-05-01"})
    assert response.status_code == 400
    assert "To: not before the start date." in page(response)
    response = client.get(url, {"start": "2024-01-01", "end": "2026-01-01"})
    assert "To: a period of at most a year." in page(response)


# ---------------------------------------------------------------- the chart


@pytest.mark.django_db
def test_the_chart_shows_the_screening_history(client, cast, facility, admission):
    _two_results(cast, facility, admission)
    waiting = collected_specimen(admission, cast["technician"])
    client.force_login(cast["technician"])
    text = page(client.get(reverse("clients:chart", args=[admission.client.public_id])))
    assert "Drug screens, breath alcohol and searches" in text
    assert "positive COC" in text and "expected BUP" in text and "invalid THC" in text
    assert reverse("screening:poc_record", args=[waiting.public_id]) in text


@pytest.mark.django_db
def test_other_facilities_cups_are_their_own(cast, facility):
    other = make_facility("Cedar House", "America/Denver")
    assert Device.objects.filter(facility=other, kind=DeviceKind.CUP).count() == 1
    assert Device.objects.filter(kind=DeviceKind.CUP).count() == 3  # home, other, Cedar
