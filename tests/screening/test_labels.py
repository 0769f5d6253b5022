"""The specimen label PDF: sized for a cup label and its seal strip, the ID as Code 128 and QR
codes that decode back to it when printed, initials and date of birth only, and the Part 2
notice (issue 13 item 2)."""

import io
import subprocess
import tempfile
from pathlib import Path

import pytest
import zxingcpp
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from facility.models import AccessEvent
from screening.labels import code128_svg, qr_svg
from tests.facility.test_pdf import STATEMENT_1, STATEMENT_2, collapse
from tests.screening.specimen_helpers import collected, started

POINTS_PER_INCH = 72


def rasterize(pdf: bytes, dpi: int = 300) -> list[Image.Image]:
    """Every page as the label printer would print it (poppler's pdftoppm)."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "label.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(source), str(Path(tmp) / "p")],
            check=True,
        )
        return [Image.open(p).copy() for p in sorted(Path(tmp).glob("p-*.png"))]


def decoded(image: Image.Image) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for result in zxingcpp.read_barcodes(image):
        found.setdefault(result.format.name, []).append(result.text)
    return found


@pytest.fixture
def label(client, cast, admission):
    specimen = started(cast["technician"], admission)
    client.force_login(cast["technician"])
    response = client.get(reverse("screening:specimen_label", args=[specimen.public_id]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return specimen, response.content


@pytest.mark.django_db
def test_the_printed_label_and_seal_strip_decode_to_the_specimen_id(label):
    specimen, pdf = label
    cup, seal, _notice = rasterize(pdf)
    on_cup = decoded(cup)
    assert on_cup.get("Code128") == [specimen.specimen_id]
    assert on_cup.get("QRCode") == [specimen.specimen_id]
    assert decoded(seal).get("Code128") == [specimen.specimen_id]


@pytest.mark.django_db
def test_the_label_is_sized_for_a_cup_and_a_seal_strip(label):
    _specimen, pdf = label
    sizes = [
        (round(float(p.mediabox.width) / POINTS_PER_INCH, 2),
         round(float(p.mediabox.height) / POINTS_PER_INCH, 2))
        for p in PdfReader(io.BytesIO(pdf)).pages
    ]  # fmt: skip
    assert sizes == [(4.0, 1.5), (4.0, 1.0), (4.0, 1.5)]


@pytest.mark.django_db
def test_the_label_shows_initials_and_date_of_birth_but_no_name_and_carries_the_notice(
    label, facility
):
    specimen, pdf = label
    pages = [collapse(p.extract_text()) for p in PdfReader(io.BytesIO(pdf)).pages]
    cup = pages[0]
    assert specimen.specimen_id in cup
    assert "Initials RA" in cup and "DOB 1990-01-01" in cup
    whole = " ".join(pages)
    for never in ("Robin", "Ashdown", facility.name, specimen.admission.client.mrn):
        assert never not in whole
    # Statement 2 on every label; statement 1 once, on a label of its own for the bag.
    assert all(STATEMENT_2 in p for p in pages)
    assert whole.count(STATEMENT_1) == 1 and STATEMENT_1 in pages[2]
    assert AccessEvent.objects.filter(action="print", what__contains=specimen.specimen_id).count()


@pytest.mark.django_db
def test_a_collected_specimens_label_prints_its_collection_time(client, cast, admission):
    specimen = collected(cast["technician"], admission)
    client.force_login(cast["nurse"])
    pdf = client.get(reverse("screening:specimen_label", args=[specimen.public_id])).content
    text = collapse(PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    at = specimen.collected_at.astimezone(admission.facility.tz)
    assert f"Collected {at:%Y-%m-%d %H:%M}" in text


@pytest.mark.django_db
def test_clinicians_do_not_print_labels(client, cast, admission):
    specimen = started(cast["nurse"], admission)
    client.force_login(cast["clinician"])
    url = reverse("screening:specimen_label", args=[specimen.public_id])
    assert client.get(url).status_code == 403


def test_the_codes_are_svg_and_encode_only_the_id():
    code = code128_svg("H7K2-9QXD")
    qr = qr_svg("H7K2-9QXD")
    assert "<svg" in code and "<svg" in qr
    assert "H7K2-9QXD" not in code  # no human-readable line inside the barcode itself
