"""Screenshots of the behavior note pages (issue 12 item 1) at tablet and phone widths, with
every axe finding. Not part of the suite (pytest collects only test_*.py); run it by naming it:

    HAVEN_SCREENSHOTS=/tmp/haven-shots .venv/bin/python -m pytest \
        tests/browser/screenshots_behavior.py -q -s -p no:cacheprovider

Writes behavior-note-<width>.png (the form opened from the board after an "Agitated" round,
behavior pre-filled), behavior-note-chart-<width>.png (the chart section) and
behavior-note-board-<width>.png (the board row's Change panel with its Note button).
"""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.screenshots import OUT, Shot, shoot


def _at_the_end(page):
    """The form scrolled to its end, where the sticky Save bar rests (a full-page shot from the
    top would show it floating at the first screen's bottom edge)."""
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")


def _open_change(page):
    page.locator("details.round-detail summary").first.click()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_screenshots_behavior_notes(new_page, signed_in, cast, facility, admission):
    from observations.models import RoundCode
    from observations.services import RoundEntry, round_submit
    from observations.services.behavior_notes import behavior_note_record, behavior_note_strike

    OUT.mkdir(exist_ok=True)
    tech, nurse = cast["technician"], cast["nurse"]
    now = timezone.now()
    codes = {(c.kind, c.code): c for c in RoundCode.objects.filter(facility=facility)}
    behavior_note_record(
        actor=tech, admission=admission, observed_at=now - timedelta(minutes=40),
        mood="anxious", mood_words="Can't sit still", affect="restricted", affect_congruent=True,
        behaviors=["withdrawn", "tearful"], participation="partial", sleep_hours=5,
        sleep_quality="poor", meal_breakfast=25, meal_lunch=75, cravings=6, handoff=True,
        narrative={"behavior": "Sat alone after a phone call with family.",
                   "intervention": "Offered 1:1 time and a walk.",
                   "response": "Accepted the walk, calmer after 10 minutes.",
                   "plan": "Check in after dinner."},
    )  # fmt: skip
    wrong = behavior_note_record(
        actor=tech, admission=admission, observed_at=now - timedelta(minutes=30),
        risk_flags=["leaving"], behaviors=["agitated"],
    )  # fmt: skip
    behavior_note_strike(actor=nurse, note=wrong, reason="Wrong client")
    round_submit(
        actor=tech, facility=facility, submission_key=uuid.uuid4(),
        entries=[RoundEntry(admission, codes["location", "DAY"], codes["status", "AG"])],
    )  # fmt: skip
    stay, client = admission.public_id, admission.client.public_id
    pages = [
        Shot("behavior-note", "technician", f"/admissions/{stay}/behavior-note/?came_from=board",
             prepare=_at_the_end),
        Shot("behavior-note-chart", "technician", f"/clients/{client}/#section-behavior_notes",
             element=("#section-behavior_notes", "behavior-note-section")),
        Shot("behavior-note-board", "technician", f"/rounds/{admission.unit.public_id}/",
             prepare=_open_change),
    ]  # fmt: skip
    shoot(new_page, signed_in, cast, pages)
