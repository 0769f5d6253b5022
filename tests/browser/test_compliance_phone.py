"""The rounds compliance page on a phone (issue 10: 16,660 px tall at 390 px) and its Print link
on first use, for a 30-client unit with a day of checks every 30 minutes on q15."""

import os
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page

from facility.models import Bed, Unit
from observations.compliance import local_day
from observations.models import RoundCheck, RoundCode
from tests.browser.conftest import shoot
from tests.conftest import admit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIENTS = 30
# Measured before the compact layout, same data: 390 px 20,683 px, 768 px 8,286 px.
MAX_HEIGHT = {390: 6000, 768: 4500}


@pytest.fixture
def busy_unit(cast, facility):
    """East unit, 30 clients on q15 since two days ago, checked every 30 minutes yesterday (so
    48 of the day's 96 blocks missed each), three of them checked every block."""
    east = Unit.objects.get(facility=facility, name="East")
    for n in range(7, CLIENTS + 1):
        Bed.objects.create(unit=east, label=f"E{n:02d}")
    yesterday = timezone.localtime(timezone.now(), facility.tz).date() - timedelta(days=1)
    start, _ = local_day(facility, yesterday)
    beds = Bed.objects.filter(unit=east).order_by("label")
    stays = [
        admit(facility, cast["nurse"], bed=bed, n=i, admitted_at=start - timedelta(days=1))
        for i, bed in enumerate(beds)
    ]
    rm = RoundCode.objects.get(facility=facility, kind="location", code="RM")
    awake = RoundCode.objects.get(facility=facility, kind="status", code="A")
    RoundCheck.objects.bulk_create(
        RoundCheck(
            admission=stay,
            observed_at=start + timedelta(minutes=step * minutes + 2),
            recorded_at=start + timedelta(minutes=step * minutes + 2),
            recorded_by=cast["technician"],
            location=rm,
            status=awake,
            submission_key=uuid.uuid4(),
        )
        for i, stay in enumerate(stays)
        for minutes in [15 if i < 3 else 30]
        for step in range(24 * 60 // minutes)
    )
    return yesterday


@pytest.mark.parametrize("width", [390, 768])
def test_compliance_page_is_compact_on_a_phone_and_prints_on_first_use(
    new_page, signed_in, cast, busy_unit, width
):
    page: Page = signed_in(new_page(viewport={"width": width, "height": 844}), cast["supervisor"])
    day = busy_unit.isoformat()
    page.goto(f"{reverse('observations:compliance')}?start={day}&end={day}")
    assert page.get_by_text(f"{CLIENTS * 96} windows due").is_visible()
    height = page.evaluate("document.documentElement.scrollHeight")
    shoot(page, f"compliance-{width}.png")
    if os.environ.get("HAVEN_MEASURE"):
        print(f"\ncompliance page at {width} px: {height} px tall")
    assert height <= MAX_HEIGHT[width]
    # Print on first use: the page opened with no query prints today's report as a PDF.
    page.goto(reverse("observations:compliance"))
    with page.expect_response(lambda r: "format=pdf" in r.url) as printed:
        page.get_by_role("link", name="Print").click()
    assert printed.value.status == 200
    assert printed.value.headers["content-type"] == "application/pdf"
