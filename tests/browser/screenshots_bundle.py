"""Screenshots of the survey bundle (issue 15 item 5): its form page at tablet and phone widths
(with the contents a valid period will hold), and the bundle's table of contents page.

Not part of the suite (pytest collects only test_*.py); run it by naming the file:

    .venv/bin/python -m pytest tests/browser/screenshots_bundle.py -q -s -p no:cacheprovider

The period is the two days tests/facility/test_survey_bundle.py prints; the TOC page (page 2)
is drawn with pdftoppm (poppler-utils).
"""

import subprocess
from pathlib import Path

import pytest
import time_machine

from tests.browser.conftest import SHOTS_DIR
from tests.facility.test_survey_bundle import NOW, census, now  # noqa: F401 (fixtures)

OUT = SHOTS_DIR or Path("docs/screens")


@pytest.mark.django_db(transaction=True)
def test_screenshots_bundle(new_page, signed_in, cast, facility, census, tmp_path):  # noqa: F811
    OUT.mkdir(parents=True, exist_ok=True)
    with time_machine.travel(NOW, tick=True):
        for width in (768, 390):
            page = signed_in(new_page(viewport={"width": width, "height": 1024}), cast["nurse"])
            page.goto("/report/bundle/?from=2026-05-12&to=2026-05-13")
            print(
                f"\n{width}px: page {page.evaluate('document.documentElement.scrollHeight')} "
                f"px; sideways {page.evaluate('document.documentElement.scrollWidth')} px"
            )
            page.screenshot(path=str(OUT / f"survey-bundle-{width}.png"), full_page=True)
        pdf = page.request.get("/report/bundle/?from=2026-05-12&to=2026-05-13&format=pdf")
        assert pdf.ok, pdf.status
        (tmp_path / "bundle.pdf").write_bytes(pdf.body())
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "2", "-l", "2", "-singlefile",
         str(tmp_path / "bundle.pdf"), str(OUT / "survey-bundle-toc")],
        check=True,
    )  # fmt: skip
