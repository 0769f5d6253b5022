"""Screenshots of the phone header (issue 17, rough edges): the census and a chart at tablet and
phone widths, as the nurse and the technician, with the header's height printed.

Not part of the suite (pytest collects only test_*.py); run it by naming the file:

    HAVEN_SCREENSHOTS=docs/screens .venv/bin/python -m pytest \
        tests/browser/screenshots_rough.py -q -s -p no:cacheprovider

Writes <dir>/rough-<page>-<width>.png, rough-menu-open-390.png (the phone menu open) and
rough-account-menu-768.png (the account menu open).
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse

from tests.browser.screenshots import OUT, WIDTHS, report
from tests.conftest import admit


def _header_height(page) -> int:
    return page.evaluate(
        "() => Math.round(document.querySelector('header.topbar').getBoundingClientRect().height)"
    )


@pytest.mark.django_db(transaction=True)
def test_screenshots_rough(new_page, signed_in, cast, facility):
    OUT.mkdir(parents=True, exist_ok=True)
    stays = [
        admit(facility, cast["nurse"], first=first, last=last, n=n)
        for n, (first, last) in enumerate(
            [("Robin", "Ashdown"), ("Morgan", "Whitfield-Abernathy"), ("Kai", "Nakamura")]
        )
    ]
    pages = [
        ("census", reverse("clients:census")),
        ("chart", reverse("clients:chart", args=[stays[0].client.public_id])),
    ]
    axe = Axe()
    for width in WIDTHS:
        for role in ("nurse", "technician"):
            for name, url in pages:
                page = new_page(viewport={"width": width, "height": 844})
                signed_in(page, cast[role])
                page.goto(url)
                height = _header_height(page)
                tall = page.evaluate("document.documentElement.scrollHeight")
                print(f"{name} {role} {width}px: header {height}px, page {tall}px")
                if role == "nurse":
                    page.screenshot(path=str(OUT / f"rough-{name}-{width}.png"))
                    report(page, axe, f"rough-{name}", width, 200)
                if width == 768 and role == "nurse" and name == "census":
                    page.locator("details.account-menu summary").click()
                    page.screenshot(path=str(OUT / "rough-account-menu-768.png"))
                if width == 390 and role == "nurse" and name == "census":
                    toggle = page.locator("button.menu-toggle")
                    if toggle.count() and toggle.is_visible():
                        toggle.click()
                        page.screenshot(path=str(OUT / "rough-menu-open-390.png"))
                        report(page, axe, "rough-menu-open", width, 200)
                page.context.close()
