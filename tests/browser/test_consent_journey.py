"""A consent signed on a phone-sized screen (issue 16 item 1): the clinician fills in the ten
elements, the client draws a signature with the mouse on the pad (pointer events, as a finger
would), Clear empties it, a second signature is drawn and the consent is saved; the chart shows
it as usable and the consent's page shows the signature the server rebuilt as SVG."""

from datetime import timedelta

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from clients.consents import facility_today
from clients.models import Consent
from facility.registry import RecordCategory, registry
from tests.browser.conftest import shoot
from tests.conftest import admit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def a_category():
    saved = list(registry.record_categories)
    if not any(not c.own_consent for c in registry.record_categories):
        registry.register_record_category(
            RecordCategory(key="medications", label="Medications", template="", render=dict)
        )
    yield next(c for c in registry.record_categories if not c.own_consent)
    registry.record_categories = saved


def draw(page, canvas, points):
    box = canvas.bounding_box()
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + points[0][0] * box["width"], y0 + points[0][1] * box["height"])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x * box["width"], y0 + y * box["height"], steps=4)
    page.mouse.up()


def test_a_consent_signed_with_the_mouse_at_390_px(new_page, signed_in, cast, facility, a_category):
    admission = admit(facility, cast["nurse"], first="Robin", last="Ashdown")
    client = admission.client
    page = new_page(viewport=PHONE)
    signed_in(page, cast["clinician"])
    page.goto(reverse("clients:consent_new", args=[client.public_id]))
    page.locator("label.include", has_text="Single purpose").click()
    page.locator("label.include", has_text=a_category.label).click()
    page.get_by_label("Recipient (element 4)").fill("Dr. Ana Ruiz, Eastside Primary Care")
    page.get_by_label("Purpose of the disclosure (element 5)").fill("Coordination of care")
    page.locator("label.big-check", has_text="may revoke").click()
    expires = facility_today(client) + timedelta(days=180)
    page.get_by_label("Expiration date").fill(expires.isoformat())

    canvas = page.locator("canvas[data-signature-canvas]")
    canvas.scroll_into_view_if_needed()
    field = page.locator("input[name=signature]")
    draw(page, canvas, [(0.1, 0.7), (0.2, 0.3), (0.3, 0.8), (0.45, 0.35)])
    expect(canvas).to_have_class("signature-canvas signed")
    assert field.input_value().startswith("M")
    page.get_by_role("button", name="Clear").click()
    assert field.input_value() == ""
    draw(page, canvas, [(0.1, 0.6), (0.25, 0.2), (0.4, 0.75), (0.6, 0.3), (0.8, 0.65)])
    drawn = field.input_value()
    assert drawn.startswith("M") and " L" in drawn
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    shoot(page, "consent-form-signed-390.png")
    page.get_by_role("button", name="Save the consent").click()
    expect(page).to_have_url(
        f"{reverse('clients:chart', args=[client.public_id])}#section-consents"
    )
    expect(page.locator("#section-consents")).to_contain_text("Usable")
    consent = Consent.objects.get()
    assert consent.signature_kind == "drawn"
    assert f'<path d="{drawn}"' in consent.signature_svg
    page.locator("#section-consents a", has_text="Dr. Ana Ruiz").click()
    expect(page.locator("svg.signature-image path")).to_have_attribute("d", drawn)
