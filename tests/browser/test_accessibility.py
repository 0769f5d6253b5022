"""axe-core finds no serious or critical accessibility violations on the pages used most."""

import json

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = ("serious", "critical")
# Tablet in portrait (the default viewport), then a phone: the phone layout restyles tables.
WIDTHS = (768, 390)


@pytest.fixture(scope="session")
def axe():
    return Axe()


def assert_no_blocking_violations(axe: Axe, page: Page) -> None:
    """Run axe at each width (media queries apply live, no reload) and collect what blocks."""
    violations = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1024})
        results = axe.run(page)
        violations += [
            {**v, "width": width} for v in results.response["violations"] if v["impact"] in BLOCKING
        ]
    summary = [
        {
            "rule": v["id"],
            "width": v["width"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [
                {"target": n["target"], "summary": n.get("failureSummary", "")}
                for n in v["nodes"][:5]
            ],
        }
        for v in violations
    ]
    assert not violations, f"axe violations on {page.url}:\n{json.dumps(summary, indent=2)}"


def test_login_page(page: Page, axe, live_server):
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="Sign in to Haven")).to_be_visible()
    assert_no_blocking_violations(axe, page)


def test_census(page: Page, axe, signed_in, cast, admission):
    signed_in(page, cast["technician"])
    page.goto("/census/")
    expect(page.get_by_role("link", name="Robin A.")).to_be_visible()
    assert_no_blocking_violations(axe, page)


def test_client_chart(page: Page, axe, signed_in, cast, admission):
    signed_in(page, cast["nurse"])
    page.goto(f"/clients/{admission.client.public_id}/")
    expect(page.get_by_role("region", name="Client identity")).to_contain_text("Penicillin")
    assert_no_blocking_violations(axe, page)
