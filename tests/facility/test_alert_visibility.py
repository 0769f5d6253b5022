"""Alerts for the floor (issue 10 item 4, and the census "1 alert" that gave technicians a 403):
technicians and nurses see their facility's open alerts, each linking to what it is about; the
census alerts cell opens that client's alerts for those who may; resolving stays a
supervisor's."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facility.models import Alert
from facility.services import alert_raise
from observations.services import scan_missed_checks
from tests.conftest import admit

NY = ZoneInfo("America/New_York")


def page(response) -> str:
    return response.content.decode()


def census_alert_link(admission) -> str:
    return f"{reverse('alerts')}?client={admission.client.public_id}"


@pytest.fixture(autouse=True)
def _missed_checks_alone(monkeypatch):
    monkeypatch.setattr("observations.services.scans.scan_security_rounds", lambda **kwargs: 0)


@pytest.mark.django_db
def test_a_technician_sees_and_opens_a_unit_alert(client, cast, facility):
    """Issue 10, done when: a technician sees and opens a unit alert."""
    with time_machine.travel(datetime(2026, 5, 12, 7, 0, tzinfo=NY), tick=False):
        stay = admit(
            facility, cast["nurse"], first="Robin", last="Ashdown",
            admitted_at=datetime(2026, 5, 12, 7, 0, tzinfo=NY),
        )  # fmt: skip
    with time_machine.travel(datetime(2026, 5, 12, 9, 40, tzinfo=NY), tick=False):
        scan_missed_checks(now=datetime(2026, 5, 12, 9, 0, tzinfo=NY))
        scan_missed_checks(now=datetime(2026, 5, 12, 9, 31, tzinfo=NY))
        missed = Alert.objects.open().filter(
            kind="missed_check", client_public_id=stay.client.public_id
        )
        assert missed.count() == 2  # the 09:00 and 09:15 blocks

        client.force_login(cast["technician"])
        census = page(client.get(reverse("clients:census")))
        link = census_alert_link(stay)
        assert f'href="{link.replace("&", "&amp;")}"' in census and "2 alerts" in census

        response = client.get(link)
        assert response.status_code == 200
        text = page(response)
        for alert in missed:
            assert alert.message in text
            # Each alert leads to where it is acted on: its link, else the client's chart.
            target = alert.link or reverse("clients:chart", args=[stay.client.public_id])
            assert f'href="{target}"' in text
        # Technicians see; the supervisor resolves.
        assert "Resolve</button>" not in text
        assert client.get(reverse("alerts")).status_code == 200


@pytest.mark.django_db
def test_a_nurse_sees_the_alerts_page_and_a_supervisor_resolves_there(client, cast, admission):
    alert_raise(
        facility=admission.facility, kind="test", severity="warning", message="Check on Robin",
        dedupe_key="t:nurse", client_public_id=admission.client.public_id,
    )  # fmt: skip
    client.force_login(cast["nurse"])
    assert "Check on Robin" in page(client.get(reverse("alerts")))
    client.force_login(cast["supervisor"])
    assert "Resolve</button>" in page(client.get(reverse("alerts")))


@pytest.mark.django_db
def test_an_alert_links_to_its_own_place_and_never_off_site(client, cast, admission):
    facility, pid = admission.facility, admission.client.public_id
    board = reverse("observations:board", args=[admission.unit.public_id])
    alert_raise(
        facility=facility, kind="t", severity="info", message="On the board", dedupe_key="t:1",
        client_public_id=pid, link=board,
    )  # fmt: skip
    for n, bad in enumerate(["//evil.example/x", "https://evil.example", "javascript:alert(1)"]):
        alert_raise(
            facility=facility, kind="t", severity="info", message=f"Bad link {n}",
            dedupe_key=f"t:bad{n}", client_public_id=pid, link=bad,
        )  # fmt: skip
    alert_raise(
        facility=facility, kind="t", severity="info", message="Nobody in particular",
        dedupe_key="t:none",
    )  # fmt: skip
    client.force_login(cast["technician"])
    text = page(client.get(reverse("alerts")))
    assert f'<a href="{board}">On the board</a>' in text
    chart = reverse("clients:chart", args=[pid])
    for n in range(3):
        assert f'<a href="{chart}">Bad link {n}</a>' in text
    assert "evil.example" not in text and "javascript:" not in text
    assert "<strong>Nobody in particular</strong>" in text


@pytest.mark.django_db
def test_the_census_links_alerts_only_for_roles_that_may_open_them(client, cast, admission):
    alert_raise(
        facility=admission.facility, kind="t", severity="warning", message="Robin alert",
        dedupe_key="t:census", client_public_id=admission.client.public_id,
    )  # fmt: skip
    link = census_alert_link(admission)
    # Issue 12: clinicians see alerts too (those addressed to them: high-risk screens), so every
    # role that reads the census may open the alerts it counts.
    for role in ("technician", "nurse", "clinician", "supervisor"):
        client.force_login(cast[role])
        census = page(client.get(reverse("clients:census")))
        assert "1 alert" in census and link in census, role
        assert client.get(link).status_code == 200, role


@pytest.mark.django_db
def test_one_clients_alerts_and_nobody_elses(client, cast, facility, admission, other_admission):
    other = admit(facility, cast["nurse"], n=4)
    for stay, text in ((admission, "About Robin"), (other, "About the other client")):
        alert_raise(
            facility=facility, kind="t", severity="warning", message=text,
            dedupe_key=f"t:{stay.pk}", client_public_id=stay.client.public_id,
        )  # fmt: skip
    alert_raise(
        facility=other_admission.facility, kind="t", severity="critical", message="Birch only",
        dedupe_key="t:birch", client_public_id=other_admission.client.public_id,
    )  # fmt: skip
    client.force_login(cast["technician"])
    text = page(client.get(census_alert_link(admission)))
    assert "About Robin" in text and "About the other client" not in text
    assert "1 warning" in text and "All alerts" in text
    # Another facility's client: nothing of theirs shows, whatever the id.
    text = page(client.get(census_alert_link(other_admission)))
    assert "Birch only" not in text and "No open alerts for this client." in text
    assert "Birch only" not in page(client.get(reverse("alerts")))


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["abc", "1 OR 1=1", "\x00", "9" * 500])
def test_a_garbled_client_filter_lists_every_alert_and_says_so_never_500(client, cast, value):
    client.force_login(cast["technician"])
    response = client.get(reverse("alerts"), {"client": value})
    assert response.status_code == 200
    assert "asked for an unknown client" in page(response)
    assert value not in page(response)  # the garbled value is never shown back


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in_and_admins_get_403(client, cast):
    response = client.get(reverse("alerts"))
    assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(cast["admin"])
    assert client.get(reverse("alerts")).status_code == 403


@pytest.mark.django_db
def test_a_technician_cannot_resolve(client, cast, admission):
    alert, _ = alert_raise(
        facility=admission.facility, kind="t", severity="warning", message="Stay open",
        dedupe_key="t:resolve",
    )  # fmt: skip
    client.force_login(cast["technician"])
    response = client.post(reverse("alert_resolve", args=[alert.public_id]), {"note": "Done"})
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.resolved_at is None


@pytest.mark.django_db
def test_the_alerts_page_query_count_does_not_grow_with_alerts(client, cast, admission):
    client.force_login(cast["technician"])
    alert_raise(
        facility=admission.facility, kind="t", severity="warning", message="First",
        dedupe_key="t:q0", client_public_id=admission.client.public_id,
    )  # fmt: skip
    client.get(reverse("alerts"))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("alerts")).status_code == 200
    for n in range(1, 25):
        alert_raise(
            facility=admission.facility, kind="t", severity="warning", message=f"Alert {n}",
            dedupe_key=f"t:q{n}", client_public_id=admission.client.public_id,
            link="/rounds/" if n % 2 else "",
        )  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("alerts")).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(many.captured_queries) <= 6, [q["sql"][:90] for q in many.captured_queries]
