"""Screenshots of "My work" (issue 17 item 1) for every role at tablet and phone widths, on a
facility with work waiting for each: the MAR's seed (orders to verify, doses needing an outcome,
a count with a variance), the rounds seed (a 1:1, a watch offered, a missed check), a nurse's
raise awaiting the clinician's order, a technician's note to co-sign, a submitted incident, a
locked-out account and a driver's licence about to lapse.

Not part of the suite (pytest collects only test_*.py); run it by naming the file:

    HAVEN_SCREENSHOTS=docs/screens .venv/bin/python -m pytest \
        tests/browser/screenshots_my_work.py -q -s -p no:cacheprovider

Writes <dir>/my-work-<role>-<width>.png (the whole page) and prints axe's findings.
"""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from tests.browser.screenshots import OUT, WIDTHS, report, seed_mar, seed_rounds
from tests.conftest import ROLES, admit


def _more_work(cast, facility):
    from facility.models import SignInFailure
    from observations.services import level_order
    from observations.services.progress_notes import progress_note_sign, progress_note_start

    stay = admit(facility, cast["nurse"], first="Kit", last="Raisedup", n=7)
    level_order(actor=cast["nurse"], admission=stay, level="los", reason="Pacing, restless")
    note = progress_note_start(actor=cast["technician"], admission=stay)
    progress_note_sign(
        actor=cast["technician"], note=note, sections={"behavior": "Calm at group."},
        event_at=note.event_at, version=note.version,
    )  # fmt: skip
    now = timezone.now()
    SignInFailure.objects.bulk_create(
        SignInFailure(
            kind="sign_in",
            username_key=f"user:{cast['clinician'].pk}",
            ip="10.0.0.9",
            at=now - timedelta(minutes=n),
        )  # fmt: skip
        for n in range(5)
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_screenshots_my_work(new_page, signed_in, cast, facility, admission):
    OUT.mkdir(parents=True, exist_ok=True)
    seed_mar(cast, facility, admission)
    seed_rounds(cast, facility)
    _more_work(cast, facility)
    axe = Axe()
    for width in WIDTHS:
        for role in ROLES:
            page = new_page(viewport={"width": width, "height": 1024})
            signed_in(page, cast[role])
            response = page.goto("/")
            tall = page.evaluate("document.documentElement.scrollHeight")
            print(f"my work {role} {width}px: page {tall}px")
            page.screenshot(path=str(OUT / f"my-work-{role}-{width}.png"), full_page=True)
            report(page, axe, f"my-work-{role}", width, response.status if response else None)
            page.context.close()
