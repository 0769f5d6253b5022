"""Nobody missing unnoticed (issue 10 item 3): a client not back 15 minutes after the expected
return alerts the nurse; at 60 minutes the supervisor, as critical (AWOL). The return answers
both alerts."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.services import leave_return, leave_start, scan_leaves_overdue
from facility.models import Alert
from tests.conftest import admit


def stay(cast, facility, n=1):
    return admit(facility, cast["nurse"], n=n, admitted_at=timezone.now() - timedelta(days=2))


def on_pass(cast, admission, expected_back_at):
    return leave_start(
        actor=cast["nurse"], admission=admission, kind="pass",
        left_at=expected_back_at - timedelta(hours=3), expected_back_at=expected_back_at,
        backdate_reason="Pass entered at the end of the shift",
    )  # fmt: skip


@pytest.mark.django_db
def test_a_late_return_alerts_the_nurse_then_the_supervisor(cast, facility):
    admission = stay(cast, facility)
    back = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=1)
    leave = on_pass(cast, admission, back)
    assert scan_leaves_overdue(now=back + timedelta(minutes=14, seconds=59)) == 0
    assert scan_leaves_overdue(now=back + timedelta(minutes=15)) == 1
    assert scan_leaves_overdue(now=back + timedelta(minutes=30)) == 0  # once
    warning = Alert.objects.get(kind="leave_overdue")
    assert warning.severity == "warning"
    assert f"{admission.client.display_name} not back from pass" in warning.message
    assert "15 min ago" in warning.message
    assert scan_leaves_overdue(now=back + timedelta(minutes=59)) == 0
    assert scan_leaves_overdue(now=back + timedelta(minutes=60)) == 1
    awol = Alert.objects.get(kind="leave_awol")
    assert awol.severity == "critical" and "absent without leave" in awol.message
    with time_machine.travel(back + timedelta(minutes=70), tick=False):
        leave_return(actor=cast["technician"], leave=leave, returned_at=timezone.now())
    assert Alert.objects.open().filter(kind__startswith="leave_").count() == 0
    assert set(Alert.objects.values_list("resolution_note", flat=True)) == {"Client returned."}


@pytest.mark.django_db
def test_a_leave_not_yet_due_or_already_closed_raises_nothing(cast, facility):
    admission = stay(cast, facility)
    now = timezone.now()
    on_pass(cast, admission, now + timedelta(hours=1))
    other = stay(cast, facility, n=2)
    done = on_pass(cast, other, now - timedelta(minutes=1))
    leave_return(actor=cast["nurse"], leave=done, returned_at=now)
    assert scan_leaves_overdue(now=now + timedelta(hours=3)) == 1  # only the first, later
    assert Alert.objects.get().client_public_id == admission.client.public_id


@pytest.mark.django_db
def test_the_scan_reads_all_late_leaves_in_constant_queries(cast, facility):
    admission = stay(cast, facility)
    back = timezone.now() - timedelta(minutes=1)
    on_pass(cast, admission, back)
    with CaptureQueriesContext(connection) as one:
        scan_leaves_overdue(now=back + timedelta(minutes=20))
    Alert.objects.all().delete()
    for n in range(2, 6):
        on_pass(cast, stay(cast, facility, n=n), back)
    with CaptureQueriesContext(connection) as five:
        assert scan_leaves_overdue(now=back + timedelta(minutes=20)) == 5
    assert len(five) == len(one)
