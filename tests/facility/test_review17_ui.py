"""Review of issue 17's new screens (UI reviewer): defects written as failing tests."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def _security_finding(cast, facility):
    from observations.models import SecurityArea
    from observations.services import security_finding_record

    area = SecurityArea.objects.filter(facility=facility).order_by("pk").first()
    security_finding_record(
        actor=cast["technician"], area=area, found_at=timezone.now() - timedelta(minutes=20),
        finding="Fire door propped open with a chair", location_detail="West hall",
        action_taken="Removed the chair",
    )  # fmt: skip


@pytest.mark.parametrize("role", ["clinician", "technician", "nurse", "supervisor"])
def test_every_link_on_my_work_opens_for_that_role(client, cast, facility, role):
    """A security finding raises a floor alert linking to /security/#finding-…; on the
    clinician's "My work" that row opens "Not allowed" (403): the clinician cannot chart on the
    floor. Same for the controlled-count variance alert (/mar/controlled/)."""
    _security_finding(cast, facility)
    client.force_login(cast[role])
    page = client.get(reverse("home")).content.decode()
    hrefs = sorted(set(re.findall(r'<a href="(/[^"#]*)', page)))
    assert hrefs
    refused = {h: s for h in hrefs if (s := client.get(h).status_code) >= 400}
    assert refused == {}


def test_my_work_poll_after_the_session_is_gone_sends_the_browser_to_sign_in(client, cast):
    """The list polls every 60 s (hx-get="/"). When the session is gone (signed out in another
    tab, session store flushed, account deactivated), the poll gets a 302 to the sign-in page,
    htmx follows it and swaps the whole sign-in page (its own header) into the middle of
    "My work". An htmx request should get HX-Redirect (as IdleTimeoutMiddleware does)."""
    response = client.get(reverse("home"), HTTP_HX_REQUEST="true", HTTP_X_HAVEN_POLL="1")
    assert response.status_code != 302
    assert response.headers.get("HX-Redirect", "").startswith(reverse("account_login"))
