"""Review of issue 17's new screens (UI reviewer): what it found, pinned as rules."""

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
    """A security finding raises a floor alert linking to /security/#finding-…, a page the
    clinician may not open (they do not chart on the floor): their row must lead somewhere they
    may open (alert_href falls back to the chart, then the alerts list)."""
    _security_finding(cast, facility)
    client.force_login(cast[role])
    page = client.get(reverse("home")).content.decode()
    hrefs = sorted(set(re.findall(r'<a href="(/[^"#]*)', page)))
    assert hrefs
    refused = {h: s for h in hrefs if (s := client.get(h).status_code) >= 400}
    assert refused == {}


def test_my_work_poll_after_the_session_is_gone_sends_the_browser_to_sign_in(client, cast):
    """The list polls every 60 s (hx-get="/"). When the session is gone (signed out in another
    tab, session store flushed, account deactivated), a plain 302 would have htmx swap the whole
    sign-in page into the middle of "My work": the poll gets HX-Redirect to sign in instead."""
    response = client.get(reverse("home"), HTTP_HX_REQUEST="true", HTTP_X_HAVEN_POLL="1")
    assert response.status_code != 302
    assert response.headers.get("HX-Redirect", "").startswith(reverse("account_login"))
