"""Screenshots of break-the-glass (issue 16 item 5) at tablet and phone widths, with every axe
finding: the open form (filled in), a chart under emergency access with its red banner and no
actions (read only), the holder's own list, the supervisor's review list (client names, every
page opened), and the 404 of an access that ended.

Not part of the suite (pytest collects only test_*.py); run it by naming the file:

    HAVEN_SCREENSHOTS=docs/screens .venv/bin/python -m pytest \
        tests/browser/screenshots_glass.py -q -s -p no:cacheprovider

Writes <dir>/part2-glass-<page>-<width>.png.
"""

from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from facility import glass
from tests.browser.screenshots import OUT, Shot, shoot
from tests.conftest import admit

REASON = "Client arrived at Birch House in crisis overnight; need allergies and current meds."


def _fill_open(page) -> None:
    page.fill("#id_mrn", "H01-000002")
    page.fill("#id_reason", REASON)


def test_screenshots_glass(new_page, signed_in, cast, facility):
    OUT.mkdir(parents=True, exist_ok=True)
    nurse, other = cast["nurse"], cast["other_nurse"]
    for user, name, credentials in (
        (other, "Priya Raman", "RN"),
        (cast["supervisor"], "Dana Whitfield", "RN"),
        (cast["other_technician"], "Lee Okonkwo", "BHT"),
    ):
        user.full_name, user.credentials = name, credentials
        user.save(update_fields=["full_name", "credentials"])
    robin = admit(facility, nurse, first="Robin", last="Ashdown", allergies="Penicillin").client
    kai = admit(facility, nurse, n=2, first="Kai", last="Morales").client
    access, _ = glass.glass_open(actor=other, mrn=robin.mrn, reason=REASON)
    # The holder opened the chart once (from the access log, on the review list).
    browser = Client()
    browser.force_login(other)
    browser.get(reverse("clients:chart", args=[robin.public_id]))
    browser.get(reverse("clients:allergies", args=[robin.public_id]))  # logged as well
    # An access that ended half an hour ago: its chart is a 404 that says so.
    jo = admit(facility, nurse, n=3, first="Jo", last="Lindqvist").client
    glass.glass_open(
        actor=other, mrn=jo.mrn, reason=REASON, now=timezone.now() - timedelta(minutes=90)
    )
    glass.glass_open(
        actor=cast["other_technician"],
        mrn=kai.mrn,
        reason="Client's sister called the crisis line asking about his whereabouts.",
    )
    pages = [
        Shot("part2-glass-open", "other_clinician", reverse("glass_open"), prepare=_fill_open),
        Shot("part2-glass-chart", "other_nurse", reverse("clients:chart", args=[robin.public_id])),
        Shot("part2-glass-mine", "other_nurse", reverse("glass_mine")),
        Shot("part2-glass-review", "supervisor", reverse("glass_review")),
        Shot("part2-glass-ended", "other_nurse", reverse("clients:chart", args=[jo.public_id])),
    ]
    shoot(new_page, signed_in, cast, pages)
