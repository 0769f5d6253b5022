"""Alerts (issue 17): the census count is the list each role opens; every alert links to what it
is about; the alerts page filters by severity and the supervisor dashboard links there."""

import ast
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils.html import escape

from facility.models import Alert
from facility.services import alert_raise
from tests.facility.test_signin_throttle import fail

ROOT = Path(__file__).resolve().parents[2]
APPS = ("clients", "facility", "medications", "observations", "screening", "transport")


def items(html: str) -> int:
    return html.count('<li class="alert-item')


@pytest.fixture
def three_alerts(facility, admission):
    """One alert for the floor, one for nurses and clinicians, one for supervisors only."""
    client = admission.client
    for n, (severity, audience) in enumerate(
        [("warning", ""), ("critical", "nurse,clinician"), ("info", "supervisor")]
    ):
        alert_raise(
            facility=facility,
            kind="test",
            severity=severity,
            message=f"Alert {n} for {audience or 'the floor'}",
            dedupe_key=f"agree:{n}",
            client_public_id=client.public_id,
            client_label=client.mrn,
            audience=audience,
        )
    return admission


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, seen", [("technician", 1), ("nurse", 2), ("clinician", 2), ("supervisor", 3)]
)
def test_census_count_is_the_number_of_alerts_that_role_opens(
    client, cast, three_alerts, role, seen
):
    client.force_login(cast[role])
    census = client.get(reverse("clients:census")).content.decode()
    assert f"{seen} alert{'s' if seen != 1 else ''}</" in census
    link = f"{reverse('alerts')}?client={three_alerts.client.public_id}"
    assert items(client.get(link).content.decode()) == seen


@pytest.mark.django_db
def test_severity_filter_lists_one_severity_and_keeps_every_count(client, cast, three_alerts):
    client.force_login(cast["supervisor"])
    page = client.get(reverse("alerts"), {"severity": "critical"}).content.decode()
    assert items(page) == 1 and "Alert 1 for nurse,clinician" in page
    # The three counts stay, each a link to its own list; the current one is marked.
    assert "1 critical" in page and "1 warning" in page and "1 info" in page
    assert 'href="?severity=critical" aria-current="page"' in page
    assert "Every severity" in page
    # Combined with one client's alerts, the client stays in every severity link.
    mine = client.get(
        reverse("alerts"), {"client": str(three_alerts.client.public_id), "severity": "info"}
    ).content.decode()
    assert items(mine) == 1 and f"?client={three_alerts.client.public_id}&amp;severity=" in mine
    # A mangled severity lists every alert and says so, never a bare "not found".
    bogus = client.get(reverse("alerts"), {"severity": "bogus\x00"})
    assert bogus.status_code == 200 and items(bogus.content.decode()) == 3
    assert "asked for an unknown severity, so every severity is shown" in bogus.content.decode()
    # A mangled client id too: every client's alerts, said so.
    bogus = client.get(reverse("alerts"), {"client": "not-a-uuid\x00", "severity": "info"})
    assert bogus.status_code == 200 and items(bogus.content.decode()) == 1
    assert escape("asked for an unknown client, so every client's alerts are shown") in (
        bogus.content.decode()
    )
    # A technician filtering never sees an alert not addressed to them.
    client.force_login(cast["technician"])
    page = client.get(reverse("alerts"), {"severity": "info"}).content.decode()
    assert items(page) == 0 and "No open info alerts" in page


@pytest.mark.django_db
def test_dashboard_severity_numbers_open_the_filtered_list(client, cast, three_alerts):
    client.force_login(cast["supervisor"])
    page = client.get(reverse("dashboard")).content.decode()
    for severity in ("critical", "warning", "info"):
        assert f'href="{reverse("alerts")}?severity={severity}"' in page


def _raise_calls():
    """(file:line, keyword names, module text) of every alert_raise( call in the apps."""
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            text = path.read_text()
            if "alert_raise(" not in text or "/migrations/" in str(path):
                continue
            for node in ast.walk(ast.parse(text)):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", getattr(node.func, "attr", "")) == "alert_raise"
                ):
                    names = {k.arg for k in node.keywords}
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", names, text


def test_every_alert_raised_links_to_its_client_or_object():
    """Each alert leads somewhere (facility/views.py alert_href): a `link`, or the client's
    chart through `client_public_id`; a `**fields` call must build those fields."""
    calls = list(_raise_calls())
    assert len(calls) >= 32
    nowhere = []
    for where, names, text in calls:
        if names & {"link", "client_public_id"}:
            continue
        if None in names and re.search(r"\"(link|client_public_id)\":", text):
            continue
        nowhere.append(where)
    assert nowhere == []


@pytest.mark.django_db
def test_a_sign_in_lockout_alert_opens_the_failed_sign_ins(client, cast, facility):
    fail("nurse", 5)
    alert = Alert.objects.get(kind="signin_lockout")
    client.force_login(cast["supervisor"])
    page = client.get(reverse("alerts")).content.decode()
    assert f'href="{alert.link.replace("&", "&amp;")}"' in page
    trail = client.get(alert.link).content.decode()
    assert "Failed login" in trail and "nurse" in trail
