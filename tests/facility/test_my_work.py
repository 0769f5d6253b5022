""" "My work", the home page (issue 17 item 1): the core's sections (alerts for each role, the
supervisor's handoffs not received, the admin's locked-out accounts), the page itself, and its
scope: nothing from another facility, nothing a role may not open."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from facility.handoff import handoff_give
from facility.models import SignInFailure, Unit
from facility.services import alert_raise, alert_resolve
from tests.conftest import ROLES, admit, make_user
from tests.my_work_page import home, section

NY = ZoneInfo("America/New_York")


def raise_alert(facility, key, *, severity="warning", audience="", client=None, link=""):
    alert, _ = alert_raise(
        facility=facility,
        kind="test",
        severity=severity,
        message=f"Alert {key}",
        dedupe_key=f"test:{key}",
        client_public_id=client.public_id if client else None,
        client_label=client.display_name if client else "",
        link=link,
        audience=audience,
    )
    return alert


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_role_signs_in_to_my_work(client, cast, role):
    client.force_login(cast[role])
    response = client.get(reverse("home"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "<h1>My work" in text and "Alder House" in text
    nav = text[
        text.index('aria-label="Main"') : text.index("</nav>", text.index('aria-label="Main"'))
    ]
    assert f'href="{reverse("home")}" aria-current="page">My work' in nav


@pytest.mark.django_db
def test_the_sign_in_lands_on_my_work(client, cast):
    response = client.post(
        reverse("account_login"),
        {"login": cast["technician"].username, "password": "correct-horse-battery-staple-42"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")


@pytest.mark.django_db
def test_a_person_with_no_facility_is_told_so(client, roles):
    loner = make_user("loner", "nurse")
    client.force_login(loner)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "Nothing to show yet" in response.content.decode()


@pytest.mark.django_db
def test_alerts_follow_the_role_and_link_to_what_they_are_about(
    client, cast, facility, other_facility, admission, other_admission
):
    floor = raise_alert(facility, "floor", client=admission.client)
    for_nurse = raise_alert(facility, "nurse", audience="nurse", link="/mar/")
    critical = raise_alert(facility, "critical", severity="critical", audience="supervisor")
    raise_alert(other_facility, "elsewhere", client=other_admission.client)

    tech = section(home(client, cast["technician"]), "floor_alerts")
    chart = reverse("clients:chart", args=[admission.client.public_id])
    assert f'href="{chart}"' in tech and "Alert floor" in tech
    assert "Alert nurse" not in tech and "Alert critical" not in tech
    assert "Alert elsewhere" not in tech and other_admission.client.legal_last_name not in tech

    nurse = section(home(client, cast["nurse"]), "floor_alerts")
    assert "Alert floor" in nurse and 'href="/mar/"' in nurse and "Alert nurse" in nurse
    assert "Alert critical" not in nurse

    page = home(client, cast["supervisor"])
    assert section(page, "floor_alerts") == ""  # the supervisor's own section instead
    sup = section(page, "alerts_by_severity")
    # Most severe first, every audience, none of the other facility.
    assert sup.index("Alert critical") < sup.index("Alert nurse")
    assert sup.index("Alert critical") < sup.index("Alert floor")
    assert "Alert elsewhere" not in sup
    assert f'href="{reverse("alerts")}"' in sup  # the whole list

    for alert in (floor, for_nurse, critical):
        alert_resolve(alert=alert, user=cast["supervisor"], note="Seen to.")
    assert "No open alerts for you." in section(home(client, cast["technician"]), "floor_alerts")


@pytest.mark.django_db
def test_more_than_a_screen_of_rows_is_folded_never_dropped(client, cast, facility):
    for n in range(12):
        raise_alert(facility, f"n{n:02d}")
    tech = section(home(client, cast["technician"]), "floor_alerts")
    assert '<span class="work-count has-work">12</span>' in tech
    assert "<summary>4 more</summary>" in tech
    assert all(f"Alert n{n:02d}" in tech for n in range(12))


@pytest.mark.django_db
def test_the_admin_sees_locked_out_accounts_of_their_facility_only(client, cast):
    now = timezone.now()
    for person in (cast["nurse"], cast["other_nurse"]):
        SignInFailure.objects.bulk_create(
            SignInFailure(
                kind="sign_in",
                username_key=f"user:{person.pk}",
                ip="10.0.0.7",
                at=now - timedelta(minutes=n),
            )
            for n in range(5)
        )
    # Four failures are not a lock-out.
    SignInFailure.objects.bulk_create(
        SignInFailure(
            kind="sign_in", username_key=f"user:{cast['clinician'].pk}", ip="10.0.0.8", at=now
        )
        for _ in range(4)
    )
    locked = section(home(client, cast["admin"]), "locked_accounts")
    edit = reverse("staff_edit", args=[cast["nurse"].public_id])
    assert f'href="{edit}"' in locked and "(nurse)" in locked
    assert "other_nurse" not in locked and "(clinician)" not in locked
    assert section(home(client, cast["nurse"]), "locked_accounts") == ""

    with time_machine.travel(now + timedelta(minutes=16), tick=False):
        assert "No account is locked out." in section(
            home(client, cast["admin"]), "locked_accounts"
        )


@pytest.mark.django_db
def test_a_handoff_given_and_not_received_waits_on_the_supervisors_list(client, cast, facility):
    east = Unit.objects.get(facility=facility, name="East")
    with time_machine.travel(datetime(2026, 5, 12, 6, 50, tzinfo=NY), tick=False):
        admit(facility, cast["nurse"], first="Marlo", last="Quill")
        handoff_give(
            actor=cast["nurse"],
            facility=facility,
            unit=east,
            day=date(2026, 5, 11),
            shift_key="night",
        )
    with time_machine.travel(datetime(2026, 5, 12, 7, 10, tzinfo=NY), tick=False):
        waiting = section(home(client, cast["supervisor"]), "handoffs_not_received")
        assert "East · night shift of Mon 11 May" in waiting
        assert "given by Nurse, not received" in waiting
        assert "day=2026-05-11&amp;shift=night" in waiting
        assert section(home(client, cast["technician"]), "handoffs_not_received") == ""


@pytest.mark.django_db
def test_the_list_part_refreshes_alone(client, cast):
    client.force_login(cast["nurse"])
    response = client.get(reverse("home"), headers={"HX-Request": "true"})
    text = response.content.decode()
    assert response.status_code == 200
    assert text.lstrip().startswith('<div id="work-list"') and "<h1>" not in text
