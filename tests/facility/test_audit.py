"""The access log: chart views, prints and sign-ins recorded; append-only; hash-chained."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import InternalError, ProgrammingError
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from facility.models import AccessEvent
from facility.services import access_chain_verify
from tests.conftest import form_time


@pytest.mark.django_db
def test_viewing_a_chart_records_who_which_client_and_from_where(client, cast, admission):
    client.force_login(cast["clinician"])
    client.get(reverse("clients:chart", args=[admission.client.public_id]), REMOTE_ADDR="10.1.2.3")
    event = AccessEvent.objects.get(action="view")
    assert event.user == cast["clinician"]
    assert event.role == "clinician"
    assert event.client_public_id == admission.client.public_id
    assert event.client_label == admission.client.mrn
    assert event.facility == admission.facility
    assert event.ip == "10.1.2.3"


@pytest.mark.django_db
def test_a_refused_chart_view_records_nothing_and_reveals_nothing(client, cast, admission):
    client.force_login(cast["other_nurse"])
    response = client.get(reverse("clients:chart", args=[admission.client.public_id]))
    assert response.status_code == 404
    assert admission.client.legal_last_name not in response.content.decode()
    assert not AccessEvent.objects.filter(action="view").exists()


@pytest.mark.django_db
def test_changes_to_clinical_rows_are_recorded_with_the_actor(client, cast, admission):
    client.force_login(cast["technician"])
    response = client.post(
        reverse("clients:leave_start", args=[admission.public_id]),
        {
            "kind": "appointment",
            "left_at": form_time(timezone.now(), admission.facility),
            "expected_back_at": form_time(timezone.now() + timedelta(hours=2), admission.facility),
        },
    )
    assert response.status_code == 302
    leave = admission.leaves.get()
    entry = LogEntry.objects.get_for_object(leave).get()
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == cast["technician"]


@pytest.mark.django_db(transaction=True)
def test_audit_rows_cannot_be_changed_or_deleted(cast, admission):
    from facility.services import access_log

    event = access_log(action="view", actor=cast["nurse"], client=admission.client, what="chart")
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).update(what="nothing to see")
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).delete()
    entry = LogEntry.objects.first()
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).delete()
    assert AccessEvent.objects.get(pk=event.pk).what == "chart"


@pytest.mark.django_db
def test_hash_chain_verifies_and_finds_a_tampered_row(cast, admission, capsys):
    from facility.services import access_log

    for i in range(5):
        access_log(action="view", actor=cast["nurse"], client=admission.client, what=f"chart {i}")
    assert access_chain_verify() is None
    call_command("verify_audit_chain")
    assert "intact" in capsys.readouterr().out
    third = AccessEvent.objects.order_by("id")[2]
    # An operator with database rights bypasses the trigger; the chain still tells.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE facility_accessevent SET what = 'edited' WHERE id = %s", [third.pk])
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    assert access_chain_verify().pk == third.pk
    with pytest.raises(SystemExit):
        call_command("verify_audit_chain")


@pytest.mark.django_db
def test_supervisor_filters_the_audit_trail_by_client_and_action(client, cast, admission):
    client.force_login(cast["nurse"])
    client.get(reverse("clients:chart", args=[admission.client.public_id]))
    client.get(reverse("clients:census_pdf"))
    client.force_login(cast["supervisor"])
    page = client.get(reverse("audit_trail"), {"client": admission.client.mrn, "action": "view"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "<td>Viewed chart</td>" in body
    assert "<td>Printed</td>" not in body
    page = client.get(reverse("audit_trail"), {"action": "print"})
    body = page.content.decode()
    assert "<td>Printed</td>" in body
    assert "<td>Census</td>" in body


@pytest.mark.django_db
def test_audit_trail_rejects_a_backwards_period(client, cast):
    client.force_login(cast["supervisor"])
    page = client.get(reverse("audit_trail"), {"start": "2026-05-02", "end": "2026-05-01"})
    assert "End date must not be before the start date" in page.content.decode()


@pytest.mark.django_db
def test_other_facilitys_events_are_not_in_the_trail(client, cast, admission, other_admission):
    client.force_login(cast["other_nurse"])
    client.get(reverse("clients:chart", args=[other_admission.client.public_id]))
    client.force_login(cast["supervisor"])
    body = client.get(reverse("audit_trail"), {"action": "view"}).content.decode()
    assert other_admission.client.mrn not in body
    assert Client.objects.count() == 2


@pytest.mark.django_db
def test_forwarded_for_is_ignored_unless_behind_the_configured_proxy(
    client, cast, admission, settings
):
    client.force_login(cast["nurse"])
    url = reverse("clients:chart", args=[admission.client.public_id])
    client.get(url, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4")
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client.get(url, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.7")
    ips = list(
        AccessEvent.objects.filter(action="view").order_by("id").values_list("ip", flat=True)
    )
    assert ips == ["10.0.0.5", "192.0.2.7"]


@pytest.mark.django_db
def test_med_pass_views_are_audited(client, cast, admission):
    client.force_login(cast["nurse"])
    client.get(reverse("medications:med_pass", args=[admission.public_id]))
    event = AccessEvent.objects.get(action="view")
    assert event.what == "med pass" and event.client_public_id == admission.client.public_id
