"""Screenshots of the Part 2 consent pages (issue 16) at tablet and phone widths, with every axe
finding: the consent form (a TPO consent, both statements shown, a signature drawn; and saved
empty, every missing element named), the revocation form, a consent's page, the chart's Consents
and Amendments sections, the amendment request form and a decision.

Not part of the suite (pytest collects only test_*.py); run it by naming the file:

    HAVEN_SCREENSHOTS=docs/screens .venv/bin/python -m pytest \
        tests/browser/screenshots_consents.py -q -s -p no:cacheprovider

Writes <dir>/part2-<page>-<width>.png.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients import consents
from facility.registry import RecordCategory, registry
from tests.browser.screenshots import OUT, WIDTHS, Shot, shoot
from tests.conftest import admit

SIGNATURE = (
    "M40 150 L60 90 L80 60 L95 70 L90 120 L80 160 L100 130 L130 100 L150 110 L150 140 "
    "L170 120 L200 100 L215 130 L240 95 L270 80 M300 150 L320 60 L335 140 L360 70 "
    "L380 130 L420 110 L470 100 L520 105"
)
CATEGORIES = [
    ("demographics", "Identity, stays, allergies and emergency contact", ""),
    ("medications", "Medications and the MAR", ""),
    ("uds_results", "Urine drug screen results", ""),
    ("progress_notes", "Progress notes", ""),
    ("counseling_notes", "SUD counseling notes", "counseling"),
]


def _data(client, **changes):
    today = consents.facility_today(client)
    data = {
        "consent_type": "single", "client_name": client.legal_name,
        "program_name": client.facility.name, "categories": ["medications", "uds_results"],
        "information_detail": "", "recipient_name": "Dr. Ana Ruiz, Eastside Primary Care",
        "recipient_address": "12 Elm St, Asheville, NC", "purpose": "Coordination of care",
        "revocation_explained": True, "expiry": "date",
        "expires_on": today + timedelta(days=365), "signature_kind": "drawn",
        "signature_path": SIGNATURE, "signer": "client", "signed_by_name": client.legal_name,
        "signer_role": "", "signed_on": today, "consequences_explained": False,
        "redisclosure_explained": False,
    }  # fmt: skip
    data.update(changes)
    return data


def seed_consents(cast, facility) -> dict:
    clinician = cast["clinician"]
    clinician.full_name, clinician.credentials = "Maya Brooks", "LCSW"
    clinician.save(update_fields=["full_name", "credentials"])
    for key, label, own in CATEGORIES:
        if registry.record_category(key) is None:
            registry.register_record_category(
                RecordCategory(key=key, label=label, template="", render=dict, own_consent=own)
            )
    robin = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    client = robin.client
    today = consents.facility_today(client)
    make = lambda **kw: consents.consent_create(  # noqa: E731
        actor=clinician, client=client, **_data(client, **kw)
    )
    usable = make()
    make(
        consent_type="tpo", categories=["demographics", "medications", "progress_notes"],
        recipient_name="My treating providers, health plans, third-party payers, and people "
        "helping to operate this program", recipient_address="",
        purpose="Treatment, payment and health care operations", expiry="end_of_treatment",
        expires_on=None, consequences_explained=True, redisclosure_explained=True,
    )  # fmt: skip
    make(
        consent_type="counseling", categories=["counseling_notes"],
        recipient_name="Dr. Lee Park (outpatient psychiatrist)", purpose="Continuity of therapy",
        signer="representative", signed_by_name="Pat Ashdown", signer_role="Legal guardian",
    )  # fmt: skip
    revoked = make(recipient_name="Blue Ridge Legal Aid", purpose="Court hearing preparation")
    consents.consent_revoke(
        actor=clinician, consent=revoked, revoked_at=None,
        note="The client told me on the unit she no longer wants Legal Aid to have records.",
    )  # fmt: skip
    # Recorded while it was still current (a consent already past is refused when written).
    consents.consent_create(
        actor=clinician, client=client, now=timezone.now() - timedelta(days=40),
        **_data(client, recipient_name="Buncombe County Drug Court", purpose="Compliance report",
                signed_on=today - timedelta(days=400), expires_on=today - timedelta(days=35)),
    )  # fmt: skip
    decided = consents.amendment_record(
        actor=clinician, client=client, record_description="Progress note of "
        f"{today - timedelta(days=3):%Y-%m-%d}",
        requested_change="The note says I refused group. I was at the dentist that afternoon.",
    )  # fmt: skip
    consents.amendment_decide(
        actor=cast["supervisor"], amendment=decided, decision="accept",
        text="Addendum: the client was at a dental appointment 14:00–16:00 (leave record).",
    )  # fmt: skip
    denied = consents.amendment_record(
        actor=clinician, client=client, record_description="Admission assessment",
        requested_change="Remove the alcohol history; I only used opioids.",
    )  # fmt: skip
    consents.amendment_decide(
        actor=clinician, amendment=denied, decision="deny",
        text="The history was given by the client at intake and confirmed by the referral.",
    )  # fmt: skip
    pending = consents.amendment_record(
        actor=clinician, client=client, record_description="Allergy list",
        requested_change="Add latex: I get a rash from gloves.",
    )  # fmt: skip
    return {"robin": robin, "usable": usable, "pending": pending}


def _tpo_signed(page):
    page.locator("label.include", has_text="Treatment, payment").click()
    for label in ("Identity, stays", "Medications", "Progress notes"):
        page.locator("label.include", has_text=label).click()
    page.get_by_label("Recipient (element 4)").fill(
        "My treating providers, health plans, third-party payers, and people helping to "
        "operate this program"
    )
    page.get_by_label("Purpose of the disclosure (element 5)").fill(
        "Treatment, payment and health care operations"
    )
    page.locator("label.include", has_text="At the end of treatment").click()
    canvas = page.locator("canvas[data-signature-canvas]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.08, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    for x, y in ((0.15, 0.3), (0.22, 0.75), (0.3, 0.4), (0.42, 0.6), (0.55, 0.35), (0.7, 0.5)):
        page.mouse.move(box["x"] + box["width"] * x, box["y"] + box["height"] * y, steps=5)
    page.mouse.up()
    page.evaluate("window.scrollTo(0, 0)")


def _save_empty(page):
    """Saved as it comes (pre-filled names only): each missing element named on its field."""
    page.get_by_role("button", name="Save the consent").click()
    page.wait_for_selector(".form-errors")


def _deny(page):
    page.locator("label.include", has_text="Deny").click()
    page.get_by_label("Amendment text (accepted) or reason for the denial (denied)").fill(
        "Latex is already on the allergy list (recorded at intake)."
    )


def _shoot_section(page, selector, path) -> None:
    """One chart section, cut from the full page so the sticky identity band stays on top."""
    page.evaluate("window.scrollTo(0, 0)")
    box = page.locator(selector).bounding_box()
    page.screenshot(path=path, full_page=True, clip=box)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_screenshots_consents(new_page, signed_in, cast, facility):
    OUT.mkdir(parents=True, exist_ok=True)
    saved = list(registry.record_categories)
    try:
        w = seed_consents(cast, facility)
        client = w["robin"].client
        pages = [
            Shot("part2-consent-form", "clinician",
                 reverse("clients:consent_new", args=[client.public_id]), prepare=_tpo_signed),
            Shot("part2-consent-form-errors", "clinician",
                 reverse("clients:consent_new", args=[client.public_id]), prepare=_save_empty),
            Shot("part2-consent-revoke", "clinician",
                 reverse("clients:consent_revoke", args=[w["usable"].public_id])),
            Shot("part2-consent-detail", "clinician",
                 reverse("clients:consent_detail", args=[w["usable"].public_id])),
            Shot("part2-amendment-form", "clinician",
                 reverse("clients:amendment_new", args=[client.public_id])),
            Shot("part2-amendment-decide", "supervisor",
                 reverse("clients:amendment_decide", args=[w["pending"].public_id]),
                 prepare=_deny),
        ]  # fmt: skip
        shoot(new_page, signed_in, cast, pages)
        chart = reverse("clients:chart", args=[client.public_id])
        for width in WIDTHS:
            page = new_page(viewport={"width": width, "height": 1024})
            signed_in(page, cast["clinician"])
            page.goto(chart)
            for selector, name in (
                ("#section-consents", "part2-chart-consents"),
                ("#section-amendments", "part2-chart-amendments"),
            ):
                _shoot_section(page, selector, str(OUT / f"{name}-{width}.png"))
            page.context.close()
    finally:
        registry.record_categories = saved
