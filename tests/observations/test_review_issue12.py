"""Issue 12 clinical-safety review: what a patient could have lost, each proved by a test that
failed before its fix (a screen answering a later flag, an admission screen nobody was told
about, a risk flag reported as a routine order, saved entries changed under raw SQL, anyone
striking a high-risk screen)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from facility.models import Alert
from observations.models import CssrsRequest
from observations.services.behavior_notes import behavior_note_record
from observations.services.cssrs import (
    cssrs_screen_record,
    cssrs_screen_strike,
    scan_cssrs_overdue,
    screen_request_open,
    screens_owed,
)
from tests.conftest import admit

HIGH = {"q1": True, "q2": True, "q3": True, "q4": True, "q5": False, "q6": False}
NONE = {"q1": False, "q2": False, "q6": False}


@pytest.fixture
def adm(cast, facility):
    return admit(facility, cast["nurse"], first="Robin", last="Ashdown")


def _flag(cast, adm, now=None):
    return behavior_note_record(
        actor=cast["technician"], admission=adm, observed_at=now or timezone.now(),
        risk_flags=["suicidal"], now=now,
    )  # fmt: skip


@pytest.mark.django_db
def test_a_paper_screen_from_before_a_risk_flag_does_not_answer_it(cast, facility, adm):
    now = timezone.now()
    _flag(cast, adm, now)
    request = CssrsRequest.objects.get(admission=adm)
    # A paper screen done 50 minutes ago, before the client said anything worrying.
    cssrs_screen_record(
        actor=cast["nurse"], admission=adm, answers=NONE, reason="other",
        screened_at=now - timedelta(minutes=50), now=now + timedelta(minutes=1),
    )  # fmt: skip
    request.refresh_from_db()
    assert request.answered_by is None, "a screen done before the flag answered the flag"


@pytest.mark.django_db
def test_an_admission_screen_owed_for_days_is_overdue_and_alerts(cast, facility, adm):
    later = timezone.now() + timedelta(days=3)
    owed = screens_owed([adm], later)[adm.pk]
    scan_cssrs_overdue(now=later)
    alerts = Alert.objects.filter(client_public_id=adm.client.public_id, kind="cssrs_overdue")
    assert owed.overdue or alerts.exists(), "no one is told the admission C-SSRS is 3 days late"


@pytest.mark.django_db
def test_a_risk_flag_after_an_order_makes_the_overdue_alert_critical(cast, facility, adm):
    screen_request_open(actor=cast["clinician"], admission=adm, reason="ordered", detail="f/u")
    _flag(cast, adm)
    scan_cssrs_overdue(now=timezone.now() + timedelta(minutes=45))
    alert = Alert.objects.get(kind="cssrs_overdue")
    assert alert.severity == "critical", (alert.severity, alert.message)


@pytest.mark.django_db
def test_a_saved_behavior_note_cannot_change_under_raw_sql(cast, facility, adm):
    note = _flag(cast, adm)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
        c.execute(
            "UPDATE observations_behaviornote SET risk_flags = '[]', narrative = '{}' "
            "WHERE id = %s",
            [note.pk],
        )


@pytest.mark.django_db
def test_a_high_cssrs_result_cannot_change_under_raw_sql(cast, facility, adm):
    s = cssrs_screen_record(actor=cast["nurse"], admission=adm, answers=HIGH, reason="other")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
        c.execute("UPDATE observations_cssrsscreen SET result = 'none' WHERE id = %s", [s.pk])


@pytest.mark.django_db
def test_a_technician_cannot_strike_a_nurses_high_screen(cast, facility, adm):
    s = cssrs_screen_record(actor=cast["nurse"], admission=adm, answers=HIGH, reason="other")
    with pytest.raises(PermissionDenied):
        cssrs_screen_strike(actor=cast["technician"], screen=s, reason="wrong")


@pytest.mark.django_db
def test_a_struck_entry_and_a_started_safety_plan_stay_as_they_are(cast, facility, adm):
    s = cssrs_screen_record(actor=cast["nurse"], admission=adm, answers=HIGH, reason="other",
                            safety_plan=True)  # fmt: skip
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
        c.execute("UPDATE observations_cssrsscreen SET safety_plan = false WHERE id = %s", [s.pk])
    cssrs_screen_strike(actor=cast["nurse"], screen=s, reason="Wrong client")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
        c.execute("UPDATE observations_cssrsscreen SET struck_reason = 'x' WHERE id = %s", [s.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
        c.execute("DELETE FROM observations_cssrsscreen WHERE id = %s", [s.pk])
    s.refresh_from_db()
    assert (s.safety_plan, s.struck_reason) == (True, "Wrong client")


@pytest.mark.django_db
def test_the_screen_that_answers_a_flag_closes_the_nurses_risk_flag_alert(cast, facility, adm):
    _flag(cast, adm)
    alert = Alert.objects.get(kind="behavior_risk")
    cssrs_screen_record(actor=cast["nurse"], admission=adm, answers=NONE, reason="risk_flag")
    alert.refresh_from_db()
    assert alert.resolution_note == "C-SSRS screen recorded."
    assert CssrsRequest.objects.get(admission=adm).answered_by is not None
