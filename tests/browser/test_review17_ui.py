"""Review of issue 17's new screens (UI reviewer): the header at tablet width.

At 768 px the header was 207 px: "Haven" alone on a line, the nav on two, the facility and the
account on a fourth. Now the brand and the account share the first line and the nav has the
width below: the technician's nav is one line, the nurse's (17 links) two."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
HEADER = "Math.round(document.querySelector('header.topbar').getBoundingClientRect().height)"


@pytest.mark.parametrize(("role", "most"), [("technician", 120), ("nurse", 160)])
def test_the_header_at_tablet_width_is_at_most_two_lines(new_page, signed_in, cast, role, most):
    page = signed_in(new_page(viewport={"width": 768, "height": 1024}), cast[role])
    page.goto("/census/")
    assert page.evaluate(HEADER) <= most
