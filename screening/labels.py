"""Specimen labels: the specimen ID as a Code 128 barcode and a QR code, drawn as SVG (issue 13
item 2).

- Code 128 by python-barcode: pure Python with no dependencies, maintained (0.16, 2025), and
  writes SVG itself; Code 128 is the symbology of the federal CCF's specimen ID labels and
  carries its own check character.
- QR by qrcode: already installed and locked as django-allauth's (TOTP set-up), maintained (8.x,
  2025), and writes SVG paths through its own `SvgPathImage` without Pillow. A second QR
  library would earn nothing.

Both encode the bare ID ("H7K2-9QXD"), no URL: a keyboard-wedge scanner types it into the "Scan
a specimen" field, and nothing about the client or the program is in the code.

A label carries only what identifies the cup to whoever handles it: the ID, the client's initials
and date of birth (minimum necessary, 45 CFR 164.502(b)), never the name or the facility's name
(which would tell a courier or a lab the person is in SUD treatment).
"""

import base64
import io

import barcode
import qrcode
import qrcode.image.svg
from barcode.writer import SVGWriter

# Code 128 module (narrowest bar) in mm: 0.33 mm prints crisply on a 203 dpi label printer
# (about 2.6 dots) and scans from a handheld at arm's length.
MODULE_MM = 0.33


def code128_svg(text: str, *, height_mm: float = 12.0) -> str:
    """`text` as a Code 128 barcode, SVG in mm, without the human-readable line (the label
    prints the ID itself, larger)."""
    out = io.BytesIO()
    symbol = barcode.get("code128", text, writer=SVGWriter())
    symbol.write(
        out,
        options={
            "module_width": MODULE_MM,
            "module_height": height_mm,
            "quiet_zone": 3.0,
            "write_text": False,
            "background": "white",
            "foreground": "black",
        },
    )
    return out.getvalue().decode()


def qr_svg(text: str) -> str:
    """`text` as a QR code (error correction M), SVG paths, with the standard 4-module quiet
    zone trimmed to 2 (the label's white margin adds the rest)."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=2,
        image_factory=qrcode.image.svg.SvgPathImage,
    )
    code.add_data(text)
    code.make(fit=True)
    return code.make_image().to_string(encoding="unicode")


def svg_data_uri(svg: str) -> str:
    """An SVG as a data URI, for an <img> in a WeasyPrint template."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def label_context(specimen) -> dict:
    """What the label template shows: the ID in both codes, initials and date of birth."""
    client = specimen.admission.client
    return {
        "specimen": specimen,
        "specimen_id": specimen.specimen_id,
        "code128": svg_data_uri(code128_svg(specimen.specimen_id)),
        "code128_seal": svg_data_uri(code128_svg(specimen.specimen_id, height_mm=8.0)),
        "qr": svg_data_uri(qr_svg(specimen.specimen_id)),
        "initials": client.initials,
        "date_of_birth": client.date_of_birth,
    }
