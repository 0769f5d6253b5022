"""Screenshots of the SUD counseling note pages (issue 16 item 8) at tablet and phone widths,
with every axe finding: the note form (once with hostile input refused on its fields), the
client's counseling notes as their author sees them (with a grant to give and take back), one
note with an addendum, and the chart's entry.

Not part of the suite (pytest collects only test_*.py); run it by naming the file:

    HAVEN_SCREENSHOTS=docs/screens .venv/bin/python -m pytest \
        tests/browser/screenshots_counseling.py -q -s -p no:cacheprovider

Writes <dir>/part2-counseling-<page>-<width>.png.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.browser.screenshots import OUT, Shot, shoot
from tests.conftest import admit, make_user


def seed_counseling(cast, facility) -> dict:
    from observations.counseling import (
        counseling_addendum_add,
        counseling_grant,
        counseling_note_record,
        counseling_note_strike,
    )

    counselor = make_user("counselor", "clinician", facility, mfa=False)
    counselor.full_name, counselor.credentials = "Marisol Vega", "LCSW"
    counselor.save(update_fields=["full_name", "credentials"])
    nurse = cast["nurse"]
    nurse.full_name, nurse.credentials = "Priya Raman", "RN"
    nurse.save(update_fields=["full_name", "credentials"])
    now = timezone.now().replace(second=0, microsecond=0)
    stay = admit(
        facility, nurse, first="Robin", last="Ashdown", admitted_at=now - timedelta(days=6)
    )
    first = counseling_note_record(
        actor=counselor, admission=stay, occurred_at=now - timedelta(days=4, hours=2),
        body="Individual session, 50 min. Explored what led to the last use: a family call and "
        "being alone on the weekend. Named two people to call instead. Motivation 7/10.\n\n"
        "Plan: practise the call list; review at the next session.",
        now=now - timedelta(days=4, hours=1),
    )  # fmt: skip
    counseling_addendum_add(
        actor=counselor, note=first, text="Client asked to add: the sponsor's number changed.",
        now=now - timedelta(days=3),
    )  # fmt: skip
    wrong = counseling_note_record(
        actor=counselor, admission=stay, occurred_at=now - timedelta(days=2),
        body="Session on cravings after the family visit.", now=now - timedelta(days=2),
    )  # fmt: skip
    counseling_note_strike(
        actor=counselor, note=wrong, reason="Charted on the wrong client.",
        now=now - timedelta(days=2) + timedelta(minutes=5),
    )  # fmt: skip
    counseling_note_record(
        actor=counselor, admission=stay, occurred_at=now - timedelta(hours=3),
        body="Relapse-prevention plan reviewed; high-risk times are Sunday evenings. Agreed to "
        "attend the Sunday group and text the sponsor after it.",
        now=now - timedelta(hours=2),
    )  # fmt: skip
    counseling_grant(
        actor=counselor, client=stay.client, grantee=nurse, now=now - timedelta(days=1)
    )
    # A supervisor with a nursing licence: the grant list names the role, not only "RN".
    supervisor = cast["supervisor"]
    supervisor.full_name, supervisor.credentials = "Dana Whitfield", "RN"
    supervisor.save(update_fields=["full_name", "credentials"])
    counseling_grant(
        actor=counselor, client=stay.client, grantee=supervisor, now=now - timedelta(hours=20)
    )
    return {"counselor": counselor, "stay": stay, "first": first}


def _hostile(page):
    page.fill("#id_occurred_at", "2099-01-01T10:00")
    page.fill("#id_body", "x")
    page.evaluate("document.querySelector('#id_body').value = 'a\\u202eb'")
    page.click(".counseling-form button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_screenshots_counseling(new_page, signed_in, cast, facility):
    OUT.mkdir(parents=True, exist_ok=True)
    w = seed_counseling(cast, facility)
    people = {**cast, "counselor": w["counselor"]}
    stay = w["stay"]
    new = reverse("observations:counseling_note_new", args=[stay.public_id])
    pages = [
        Shot("part2-counseling-form", "counselor", new),
        Shot("part2-counseling-form-errors", "counselor", new, prepare=_hostile),
        Shot("part2-counseling-list", "counselor",
             reverse("observations:counseling_notes", args=[stay.client.public_id])),
        Shot("part2-counseling-note", "counselor",
             reverse("observations:counseling_note", args=[w["first"].public_id])),
        Shot("part2-counseling-granted", "nurse",
             reverse("observations:counseling_notes", args=[stay.client.public_id])),
        Shot("part2-counseling-chart", "counselor",
             reverse("clients:chart", args=[stay.client.public_id]),
             element=("#section-counseling_notes", "part2-counseling-chart-entry")),
    ]  # fmt: skip
    shoot(new_page, signed_in, people, pages)
