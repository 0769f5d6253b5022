"""Screenshots of the audit pages (issue 16 item 7) at tablet and phone widths, with every axe
finding: the audit search with access events and data changes merged by time, the same search
narrowed to one client by name, and "who looked at this client" from the chart.

Not part of the suite (pytest collects only test_*.py); run it by naming the file:

    HAVEN_SCREENSHOTS=docs/screens .venv/bin/python -m pytest \
        tests/browser/screenshots_audit.py -q -s -p no:cacheprovider

Writes <dir>/part2-audit-search-<width>.png, part2-audit-client-search-<width>.png and
part2-audit-who-looked-<width>.png.
"""

from urllib.parse import urlencode

import pytest
from auditlog.context import set_actor
from django.urls import reverse

from facility.services import access_log
from tests.browser.screenshots import OUT, Shot, shoot
from tests.conftest import admit


def seed_audit(cast, facility) -> dict:
    """A morning at Alder House: charts opened, a census printed, a name and an allergy
    reaction corrected, a sign-in that failed, a face sheet printed and a nurse of another house
    breaking the glass."""
    nurse, tech, clinician = cast["nurse"], cast["technician"], cast["clinician"]
    for user, name, credentials in (
        (tech, "Jordan Avery", "BHT"),
        (nurse, "Priya Raman", "RN"),
        (clinician, "Sam Okafor", "LCSW"),
        (cast["supervisor"], "Dana Whitfield", "RN"),
    ):
        user.full_name, user.credentials = name, credentials
        user.save(update_fields=["full_name", "credentials"])
    robin = admit(facility, nurse, first="Robin", last="Ashdown", allergies="Penicillin")
    casey = admit(facility, nurse, n=2, first="Casey", last="Morgan")
    access_log(action="login", actor=nurse, ip="10.20.1.14")
    access_log(
        action="view", actor=nurse, facility=facility, client=robin.client, what="chart",
        ip="10.20.1.14",
    )  # fmt: skip
    with set_actor(nurse):
        robin.client.preferred_name = "Bird"
        robin.client.pronouns = "they/them"
        robin.client.save()
        allergy = robin.client.allergy_rows.first()
        allergy.reaction = "Hives and wheezing"
        allergy.save()
    access_log(
        action="view", actor=clinician, facility=facility, client=casey.client, what="chart",
        ip="10.20.1.22",
    )  # fmt: skip
    with set_actor(clinician):
        casey.client.preferred_name = "Case"
        casey.client.save()
    access_log(
        action="print", actor=tech, facility=facility, what="Census", ip="10.20.1.31",
    )  # fmt: skip
    access_log(
        action="view", actor=tech, facility=facility, client=robin.client, what="med pass",
        ip="10.20.1.31",
    )  # fmt: skip
    access_log(action="login_failed", username="jordan.a", ip="10.20.1.31", outcome="failed")
    access_log(
        action="print", actor=clinician, facility=facility, client=robin.client,
        what="Face sheet", ip="10.20.1.22",
    )  # fmt: skip
    access_log(
        action="break_glass", actor=cast["other_nurse"], facility=facility, client=robin.client,
        what="Arrived in crisis at Birch House; allergies needed", ip="10.30.2.5",
    )  # fmt: skip
    return {"robin": robin, "casey": casey}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_screenshots_audit(new_page, signed_in, cast, facility):
    OUT.mkdir(parents=True, exist_ok=True)
    w = seed_audit(cast, facility)
    robin = w["robin"].client
    search = reverse("audit_trail")
    pages = [
        Shot("part2-audit-search", "supervisor", search),
        Shot("part2-audit-client-search", "supervisor",
             f"{search}?{urlencode({'client': 'ashdown', 'sort': '-when'})}"),
        Shot("part2-audit-who-looked", "supervisor",
             reverse("audit_client_access", args=[robin.public_id])),
    ]  # fmt: skip
    shoot(new_page, signed_in, cast, pages)
