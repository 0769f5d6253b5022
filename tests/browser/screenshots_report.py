"""Screenshots of the shift report (issue 15 items 2-3) at tablet and phone widths, and the first
page of its PDF.

Not part of the suite (pytest collects only test_*.py); run it by naming the file:

    .venv/bin/python -m pytest tests/browser/screenshots_report.py -q -s -p no:cacheprovider

The shift is the one tests/facility/test_dashboard.py builds (a missed check, doses due, late and
missed, a PRN follow-up due, alerts of each severity, an incident to review, a late trip, a
pending count), seen by the nurse at 13:40 of that day with the report given by the supervisor.
The PDF's first page is drawn with pdftoppm (poppler-utils).
"""

import subprocess
from pathlib import Path

import pytest
import time_machine

from facility.handoff import handoff_give
from tests.browser.conftest import SHOTS_DIR
from tests.facility.test_dashboard import at, shift  # noqa: F401 (the fixture)

# In the day shift's last hour, when its report may be handed over.
NOW = at(14, 20)

OUT = SHOTS_DIR or Path("/tmp/haven-shots")


@pytest.mark.django_db(transaction=True)
def test_screenshots_report(new_page, signed_in, cast, facility, shift, tmp_path):  # noqa: F811
    OUT.mkdir(parents=True, exist_ok=True)
    with time_machine.travel(NOW, tick=True):
        day, key = facility.current_shift(NOW)
        handoff_give(actor=cast["supervisor"], facility=facility, unit=None, day=day, shift_key=key)
        for width in (768, 390):
            page = signed_in(new_page(viewport={"width": width, "height": 1024}), cast["nurse"])
            page.goto("/report/")
            print(
                f"\n{width}px: page {page.evaluate('document.documentElement.scrollHeight')} "
                f"px; sideways {page.evaluate('document.documentElement.scrollWidth')} px"
            )
            page.screenshot(path=str(OUT / f"shift-report-{width}.png"), full_page=True)
            if width == 768:
                pdf = page.request.get("/report.pdf")
                assert pdf.ok, pdf.status
                (tmp_path / "report.pdf").write_bytes(pdf.body())
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
         str(tmp_path / "report.pdf"), str(OUT / "shift-report-pdf")],
        check=True,
    )  # fmt: skip
