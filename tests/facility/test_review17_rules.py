"""Review of issue 17's "My work" against the specs: a section that holds more than it shows must
say so, or an owed item is on no list."""

import re

import pytest

from tests.facility.test_my_work import home, raise_alert, section

pytestmark = pytest.mark.django_db


def test_a_section_cut_at_its_cap_says_that_more_are_waiting(client, cast, facility):
    """facility/worklist.py CAP: every section reads at most 50 rows and the badge counts the
    rows read, so 51 open alerts show as "50" with nothing to say one more waits (the sections
    without a "more" link — levels awaiting an order, PRN follow-ups, vitals, handoffs,
    high-risk screens — then hide the 51st entirely)."""
    for n in range(51):
        raise_alert(facility, f"cap-{n}")
    markup = section(home(client, cast["nurse"]), "floor_alerts")
    badge = re.search(r'class="work-count has-work">([^<]+)<', markup).group(1)
    assert badge in ("51", "50+", "more than 50"), badge


def test_a_colleagues_sign_in_lockout_is_the_supervisors_not_on_a_technicians_my_work(
    client, cast, facility
):
    """DESIGN.md §3 (audit log: nurse view, supervisor; technician and clinician none) and
    privacy.md:74: a sign-in lockout is a security event for the supervisor ("tell supervisors
    when it locks the account", facility/adapters.py) but is raised with no audience, so since
    issue 17 it sits on every technician's and clinician's "My work" — another staff member's
    username and lock reason — linking to the audit trail, which answers them 403."""
    from facility.models import Alert
    from tests.facility.test_signin_throttle import fail

    fail("nurse", 5)
    alert = Alert.objects.get(kind="signin_lockout")
    client.logout()
    markup = section(home(client, cast["technician"]), "floor_alerts")
    assert "Sign-in locked for nurse" not in markup
    assert alert.link.replace("&", "&amp;") not in markup
