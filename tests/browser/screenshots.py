"""Ad-hoc screenshots of the main pages at tablet and phone widths, with every axe finding.

Not part of the suite (pytest collects only test_*.py); run it by naming the file:

    .venv/bin/python -m pytest tests/browser/screenshots.py -q -s -p no:cacheprovider

Writes /tmp/haven-shots/<page>-<width>.png (or to the directory HAVEN_SCREENSHOTS names) and
prints axe violations of every impact. HAVEN_SCREENSHOTS=1 with the journeys
(tests/browser/test_*_journey*.py) adds their review screenshots to the same directory.
"""

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from facility.services import alert_raise
from tests.browser.conftest import SHOTS_DIR
from tests.conftest import admit

OUT = SHOTS_DIR or Path("/tmp/haven-shots")
WIDTHS = (768, 390)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_screenshots(new_page, signed_in, cast, facility, admission):
    OUT.mkdir(exist_ok=True)
    admit(facility, cast["nurse"], n=1, first="Alexandria-Josephine", last="Montgomery-Castellanos")
    admit(facility, cast["nurse"], n=2, allergies="Sulfa\nLatex\nPeanuts")
    client = admission.client
    alert_raise(
        facility=facility,
        kind="orientation_overdue",
        severity="critical",
        message="Orientation not finished 24 hours after admission.",
        dedupe_key="shots-1",
        client_public_id=client.public_id,
        client_label=f"{client.mrn} Robin A.",
    )
    alert_raise(
        facility=facility,
        kind="check_missed",
        severity="warning",
        message="Safety check missed.",
        dedupe_key="shots-2",
    )
    pages = [
        ("login", None, "/accounts/login/"),
        ("census", "technician", "/census/"),
        ("chart", "technician", f"/clients/{client.public_id}/"),
        ("staff-list", "admin", "/staff/"),
        ("staff-form", "admin", "/staff/new/"),
        ("alerts", "supervisor", "/alerts/"),
        ("audit", "supervisor", "/audit/"),
        ("admit", "nurse", "/admit/"),
        ("security", "technician", "/security/"),
        ("password-set", None, "/accounts/password/reset/key/done/"),
    ]
    axe = Axe()
    for width in WIDTHS:
        for name, role, url in pages:
            page = new_page(viewport={"width": width, "height": 1024})
            if role:
                signed_in(page, cast[role])
            page.goto(url)
            page.screenshot(path=str(OUT / f"{name}-{width}.png"), full_page=True)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            small = page.evaluate(
                """() => [...document.querySelectorAll('a, button, input, select, textarea')]
                .filter(e => e.offsetParent !== null && e.type !== 'hidden')
                .map(e => [e, e.getBoundingClientRect()])
                .filter(([e, r]) => r.height < 24 || r.width < 24)
                .map(([e, r]) => `${e.tagName.toLowerCase()} "${(e.innerText || e.name || '')
                  .trim().slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`)"""
            )
            print(f"\n== {name} @ {width}: horizontal overflow {overflow}px")
            if overflow > 0:
                wide = page.evaluate(
                    """(w) => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > w + 1)
                    .filter(e => !e.parentElement
                      || e.parentElement.getBoundingClientRect().right <= w + 1)
                    .map(e => `${e.tagName.toLowerCase()}.${e.className}`)""",
                    width,
                )
                print(f"   sticking out: {wide[:8]}")
            for s in small:
                print(f"   small target: {s}")
            for v in axe.run(page).response["violations"]:
                targets = [n["target"] for n in v["nodes"][:4]]
                print(f"   axe {v['impact']}: {v['id']}: {v['help']} {targets}")
            page.context.close()
