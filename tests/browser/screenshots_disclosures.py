"""Screenshots of the disclosure pages (issue 16) at tablet and phone widths, with every axe
finding: the disclosure form on a consent, the other-legal-basis form, the client's own copy,
the accounting of disclosures, and the first pages of the disclosure packet PDF and of the
accounting PDF as PNGs.

Not part of the suite (pytest collects only test_*.py); run it by naming the file:

    HAVEN_SCREENSHOTS=docs/screens .venv/bin/python -m pytest \
        tests/browser/screenshots_disclosures.py -q -s -p no:cacheprovider

Writes <dir>/part2-<page>-<width>.png, part2-disclosure-packet-pdf.png (and -2, its second
page) and part2-accounting-pdf.png (pdftoppm).
"""

import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clients import disclosures
from tests.browser.screenshots import OUT, Shot, shoot
from tests.clients.test_disclosures import make_consent
from tests.facility.world import (
    World,
    a_behavior_note,
    a_signed_note,
    a_vitals_set,
    mar_objects,
)


def seed_disclosures(cast, facility, admission) -> dict:
    """Robin's chart with a few records, a TPO consent for a clinic (usable), a revoked one,
    and three logged disclosures: on the consent, an emergency, the client's own copy."""
    from clients.consents import consent_revoke

    clinician = cast["clinician"]
    clinician.full_name, clinician.credentials = "Maya Patel", "LCSW"
    clinician.save(update_fields=["full_name", "credentials"])
    w = World(facility=facility, cast=cast, admission=admission)
    mar_objects(cast, facility, admission)
    a_vitals_set(w)
    a_signed_note(w)
    a_behavior_note(w)
    consent = make_consent(admission, clinician)
    old = make_consent(
        admission, clinician, recipient_name="Harbor Health Plan", purpose="Payment",
        categories=["demographics"],
    )  # fmt: skip
    consent_revoke(actor=clinician, consent=old, revoked_at=None, note="Revoked in writing.")
    today = timezone.localtime(timezone.now(), facility.tz).date()
    disclosures.disclose_on_consent(
        actor=clinician, client=admission.client, consent=consent,
        categories=["demographics", "medications"], start=today - timedelta(days=1), end=today,
        recipient_name=consent.recipient_name, recipient_address="", purpose=consent.purpose,
        method="fax",
    )  # fmt: skip
    disclosures.disclose_other_basis(
        actor=clinician, client=admission.client, legal_basis="medical_emergency",
        recipient_name="Dr. Ortiz", recipient_affiliation="Mercy Hospital ED",
        purpose="Emergency treatment", basis_detail="Seizure in the day room",
        method="print", packet=False,
        description="Current medications and allergies read by phone.",
    )  # fmt: skip
    disclosures.client_copy(
        actor=clinician, client=admission.client, start=today, end=today, method="print"
    )
    # A TPO consent naming a class of recipients: each disclosure confirms the recipient is one.
    tpo_class = make_consent(
        admission, clinician, recipient_name="My treating providers and health plans",
        recipient_is_class=True,
    )  # fmt: skip
    return {"consent": consent, "class": tpo_class}


def client_copy_pdf_png(user, admission, out: Path) -> None:
    """The client's own copy's first page (the sentence for the client above the notice)."""
    client = Client()
    client.force_login(user)
    today = timezone.localtime(timezone.now(), admission.facility.tz).date().isoformat()
    response = client.post(
        reverse("clients:client_copy", args=[admission.client.public_id]),
        {"period_start": today, "period_end": today, "method": "in_person"},
    )
    assert response.status_code == 200, response.content[:500]
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "copy.pdf"
        pdf.write_bytes(response.content)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf),
             str(Path(tmp) / "page")],
            check=True,
        )  # fmt: skip
        (out / "part2-client-copy-pdf.png").write_bytes((Path(tmp) / "page.png").read_bytes())


def packet_pdf_png(user, admission, consent, out: Path) -> None:
    """The disclosure packet's first page as a PNG (poppler's pdftoppm at 80 dpi)."""
    client = Client()
    client.force_login(user)
    today = timezone.localtime(timezone.now(), admission.facility.tz).date()
    response = client.post(
        reverse("clients:disclosure_consent", args=[admission.client.public_id]),
        {
            "consent": str(consent.public_id),
            "categories": ["demographics", "medications", "progress_notes"],
            "period_start": (today - timedelta(days=1)).isoformat(),
            "period_end": today.isoformat(), "recipient_name": consent.recipient_name,
            "recipient_address": consent.recipient_address, "purpose": consent.purpose,
            "method": "fax",
        },
    )  # fmt: skip
    assert response.status_code == 200, response.content[:500]
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "packet.pdf"
        pdf.write_bytes(response.content)
        for n in (1, 2):
            subprocess.run(
                ["pdftoppm", "-png", "-r", "80", "-f", str(n), "-l", str(n), "-singlefile",
                 str(pdf), str(Path(tmp) / f"page{n}")],
                check=True,
            )  # fmt: skip
        name = {1: "part2-disclosure-packet-pdf.png", 2: "part2-disclosure-packet-pdf-2.png"}
        for n, file_name in name.items():
            (out / file_name).write_bytes((Path(tmp) / f"page{n}.png").read_bytes())


def accounting_pdf_png(user, admission, out: Path) -> None:
    """The accounting PDF's first page as a PNG."""
    client = Client()
    client.force_login(user)
    response = client.get(reverse("clients:accounting_pdf", args=[admission.client.public_id]))
    assert response.status_code == 200, response.status_code
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "accounting.pdf"
        pdf.write_bytes(response.content)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf),
             str(Path(tmp) / "page")],
            check=True,
        )  # fmt: skip
        (out / "part2-accounting-pdf.png").write_bytes((Path(tmp) / "page.png").read_bytes())


def _class_unconfirmed(page):
    """A disclosure on a class consent to a recipient named by hand, the box not ticked."""
    page.fill("#id_recipient_name", "Buncombe County Sheriff")
    page.click("form.form-card button.primary")
    page.wait_for_load_state()


def _error(page):
    """The out-of-scope refusal: a recipient the consent does not name."""
    page.fill("#id_recipient_name", "Acme Insurance")
    page.click("form.form-card button.primary")
    page.wait_for_load_state()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_screenshots_disclosures(new_page, signed_in, cast, facility, admission):
    OUT.mkdir(parents=True, exist_ok=True)
    w = seed_disclosures(cast, facility, admission)
    pid = admission.client.public_id
    pages = [
        Shot("part2-disclosure-form", "clinician",
             reverse("clients:disclosure_consent", args=[pid])),
        Shot("part2-disclosure-refused", "clinician",
             reverse("clients:disclosure_consent", args=[pid]), prepare=_error),
        Shot("part2-disclosure-class", "clinician",
             reverse("clients:disclosure_consent", args=[pid]) + f"?consent={w['class'].public_id}",
             prepare=_class_unconfirmed),
        Shot("part2-disclosure-other", "clinician",
             reverse("clients:disclosure_other", args=[pid])),
        Shot("part2-client-copy", "clinician", reverse("clients:client_copy", args=[pid])),
        Shot("part2-accounting", "clinician", reverse("clients:accounting", args=[pid])),
    ]  # fmt: skip
    shoot(new_page, signed_in, cast, pages)
    packet_pdf_png(cast["clinician"], admission, w["consent"], OUT)
    accounting_pdf_png(cast["clinician"], admission, OUT)
    client_copy_pdf_png(cast["clinician"], admission, OUT)
