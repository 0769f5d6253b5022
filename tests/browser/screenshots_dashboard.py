"""Screenshots of the supervisor's dashboard (issue 15 item 4) at tablet and phone widths.

Not part of the suite (pytest collects only test_*.py); run it by naming the file:

    .venv/bin/python -m pytest tests/browser/screenshots_dashboard.py -q -s -p no:cacheprovider

The shift is the one tests/facility/test_dashboard.py builds (a missed check, doses due, late and
missed, a PRN follow-up due, alerts of each severity, an incident to review, a late trip, a
pending count), seen at 13:40 of that day: the live server runs on the travelled clock.
"""

from pathlib import Path

import pytest
import time_machine

from tests.browser.conftest import SHOTS_DIR
from tests.facility.test_dashboard import NOW, shift  # noqa: F401 (the fixture)

OUT = SHOTS_DIR or Path("/tmp/haven-shots")


@pytest.mark.django_db(transaction=True)
def test_screenshots_dashboard(new_page, signed_in, cast, shift):  # noqa: F811
    OUT.mkdir(parents=True, exist_ok=True)
    with time_machine.travel(NOW, tick=True):
        for width in (768, 390):
            page = signed_in(
                new_page(viewport={"width": width, "height": 1024}), cast["supervisor"]
            )
            page.goto("/supervisor/")
            page.screenshot(path=str(OUT / f"dashboard-{width}.png"), full_page=True)
