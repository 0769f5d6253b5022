"""Alerts: upserted by dedupe key, resolved by a person; the orientation scan raises them."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from clients.models import OrientationItem
from clients.services import orientation_tick, scan_orientation_overdue
from facility.models import Alert
from facility.services import alert_raise, alert_resolve
from tests.conftest import admit


def raise_test_alert(facility, key="k1"):
    return alert_raise(
        facility=facility, kind="test", severity="warning", message="Check", dedupe_key=key
    )


@pytest.mark.django_db
def test_raising_the_same_condition_twice_keeps_one_alert(facility):
    first, created = raise_test_alert(facility)
    second, created_again = raise_test_alert(facility)
    assert created and not created_again
    assert first.pk == second.pk
    assert Alert.objects.count() == 1


@pytest.mark.django_db
def test_database_refuses_two_open_alerts_with_one_key(facility):
    raise_test_alert(facility)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            facility=facility,
            kind="test",
            severity="warning",
            message="dup",
            dedupe_key="k1",
            raised_at=timezone.now(),
        )


@pytest.mark.django_db
def test_resolution_needs_a_note_and_records_who(cast, facility):
    alert, _ = raise_test_alert(facility)
    with pytest.raises(ValidationError, match="say what was done"):
        alert_resolve(alert=alert, user=cast["supervisor"], note="  ")
    resolved = alert_resolve(alert=alert, user=cast["supervisor"], note="Spoke with client")
    assert resolved.resolved_by == cast["supervisor"] and resolved.resolved_at is not None
    with pytest.raises(ValidationError, match="Already resolved"):
        alert_resolve(alert=alert, user=cast["supervisor"], note="again")
    # A resolved condition is not raised again by the next scan.
    _, created = raise_test_alert(facility)
    assert not created


@pytest.mark.django_db
def test_dashboard_shows_open_alerts_and_the_poll_returns_the_fragment(client, cast, facility):
    raise_test_alert(facility)
    client.force_login(cast["supervisor"])
    page = client.get(reverse("alerts")).content.decode()
    assert "Check" in page and 'hx-trigger="every 30s"' in page and "<html" in page
    fragment = client.get(reverse("alerts"), HTTP_HX_REQUEST="true").content.decode()
    assert "Check" in fragment and "<html" not in fragment


@pytest.mark.django_db
def test_supervisor_resolves_from_the_dashboard(client, cast, facility):
    alert, _ = raise_test_alert(facility)
    client.force_login(cast["supervisor"])
    response = client.post(reverse("alert_resolve", args=[alert.public_id]), {"note": ""})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.resolved_at is None
    client.post(reverse("alert_resolve", args=[alert.public_id]), {"note": "Done"})
    alert.refresh_from_db()
    assert alert.resolution_note == "Done"
    assert "No open alerts." in client.get(reverse("alerts")).content.decode()


@pytest.mark.django_db
def test_orientation_scan_alerts_once_after_24_hours(cast, facility):
    admitted = timezone.now()
    with time_machine.travel(admitted, tick=False) as traveller:
        stay = admit(facility, cast["nurse"], admitted_at=admitted)
        orientation_tick(
            actor=cast["technician"],
            admission=stay,
            item=OrientationItem.objects.filter(facility=facility).first(),
        )
        traveller.move_to(admitted + timedelta(hours=23, minutes=59))
        assert scan_orientation_overdue() == 0
        traveller.move_to(admitted + timedelta(hours=24, minutes=1))
        assert scan_orientation_overdue() == 1
        # A rerun, and a run much later, raise nothing new.
        assert scan_orientation_overdue() == 0
        traveller.move_to(admitted + timedelta(days=3))
        assert scan_orientation_overdue() == 0
    alert = Alert.objects.get()
    assert alert.kind == "orientation_overdue"
    assert alert.client_public_id == stay.client.public_id
    assert "1 of 2 items" in alert.message


@pytest.mark.django_db
def test_completed_orientation_and_discharged_clients_raise_nothing(cast, facility):
    admitted = timezone.now() - timedelta(hours=3)
    done = admit(facility, cast["nurse"], n=1, admitted_at=admitted)
    for item in OrientationItem.objects.filter(facility=facility):
        orientation_tick(actor=cast["technician"], admission=done, item=item)
    from clients.services import admission_discharge

    gone = admit(facility, cast["nurse"], n=2, admitted_at=admitted)
    admission_discharge(
        actor=cast["nurse"], admission=gone, discharged_at=timezone.now(), discharge_type="ama"
    )
    assert scan_orientation_overdue(now=timezone.now() + timedelta(days=2)) == 0


@pytest.mark.django_db
def test_a_retired_checklist_item_does_not_hold_orientation_open(cast, facility):
    admitted = timezone.now() - timedelta(hours=1)
    stay = admit(facility, cast["nurse"], admitted_at=admitted)
    items = list(OrientationItem.objects.filter(facility=facility))
    orientation_tick(actor=cast["technician"], admission=stay, item=items[0])
    items[1].active = False
    items[1].save()
    assert scan_orientation_overdue(now=timezone.now() + timedelta(days=2)) == 0


@pytest.mark.django_db
def test_census_shows_a_clients_open_alerts(client, cast, facility, admission):
    alert_raise(
        facility=facility,
        kind="test",
        severity="critical",
        message="x",
        dedupe_key="c1",
        client_public_id=admission.client.public_id,
    )
    client.force_login(cast["technician"])
    assert "1 alert" in client.get(reverse("clients:census")).content.decode()


@pytest.mark.django_db
def test_a_count_variance_alert_closes_only_with_its_sign_off(client, cast, facility):
    """A supervisor who counted cannot sign off the variance, nor tap Resolve on its alert
    (issue 9 review): the page says how it closes and a forged post is refused."""
    alert, _ = alert_raise(
        facility=facility, kind="count_variance", severity="critical",
        message="Controlled count variance.", dedupe_key="count-variance:x",
    )  # fmt: skip
    client.force_login(cast["supervisor"])
    page = client.get(reverse("alerts")).content.decode()
    assert "Closes with a discrepancy sign-off on the controlled page." in page
    assert f'action="{reverse("alert_resolve", args=[alert.public_id])}"' not in page
    client.post(reverse("alert_resolve", args=[alert.public_id]), {"note": "Counted again"})
    alert.refresh_from_db()
    assert alert.resolved_at is None
    with pytest.raises(ValidationError, match="closes only with a discrepancy sign-off"):
        alert_resolve(alert=alert, user=cast["supervisor"], note="done")
