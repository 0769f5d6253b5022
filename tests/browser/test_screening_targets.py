"""Touch targets on the collection page at phone width (issue 13 review): "Print label" is a
44 px button, not a text link."""

import pytest

from tests.browser.conftest import login
from tests.screening.specimen_helpers import started

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_print_label_on_the_collection_page_is_a_44px_target_at_390(new_page, cast, admission):
    specimen = started(cast["technician"], admission)
    page = new_page(viewport={"width": 390, "height": 900})
    login(page, cast["technician"])
    page.goto(f"/screening/specimens/{specimen.public_id}/collect/")
    box = page.locator("main a", has_text="Print label").first.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44, box
