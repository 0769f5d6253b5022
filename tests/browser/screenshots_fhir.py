"""Screenshots of the FHIR R4 export form (issue 16 item 6) at tablet and phone widths, with
every axe finding: the form as it opens, and the form refusing a disclosure on a consent that
does not cover a chosen category.

Not part of the suite (pytest collects only test_*.py); run it by naming the file:

    HAVEN_SCREENSHOTS=docs/screens .venv/bin/python -m pytest \
        tests/browser/screenshots_fhir.py -q -s -p no:cacheprovider

Writes <dir>/part2-fhir-export-<width>.png and part2-fhir-export-refused-<width>.png.
"""

import pytest
from django.urls import reverse

from tests.browser.screenshots import OUT, Shot, shoot
from tests.clients.test_fhir import seed
from tests.conftest import admit


def _refused(page):
    page.locator("input[name=basis][value=consent]").check()
    page.select_option("#id_consent", index=1)
    page.get_by_role("button", name="Download the FHIR file").click()
    page.wait_for_load_state()


@pytest.mark.browser
def test_screenshots_fhir(new_page, signed_in, cast, facility):
    OUT.mkdir(parents=True, exist_ok=True)
    clinician = cast["clinician"]
    clinician.full_name, clinician.credentials = "Marisol Vega", "LCSW"
    clinician.save(update_fields=["full_name", "credentials"])
    stay = admit(facility, cast["nurse"], first="Robin", last="Ashdown", allergies="Penicillin")
    seed(stay, cast)
    url = reverse("clients:fhir_export", args=[stay.client.public_id])
    pages = [
        Shot("part2-fhir-export", "clinician", url),
        Shot("part2-fhir-export-refused", "clinician", url, prepare=_refused),
    ]
    shoot(new_page, signed_in, cast, pages)
