"""Redis stopped mid-shift: the floor keeps charting, and the alerts catch up when it returns.

Redis holds only the cache (allauth's nuisance limits, the break-the-glass hint) and Celery's
queue; sessions, lock-outs and the chart are in PostgreSQL. So with Redis down a technician signs
in and charts a round and a nurse documents a dose, all over HTTP (the test client, its cache on
the private Redis). No scan can be queued meanwhile. Redis then comes back empty (as after a
crash); the worker and beat reconnect by themselves, and the missed-check scan, which judges
every block since its last complete pass, raises the blocks that ended while nothing scanned.
"""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from facility.models import Alert, Unit
from medications.models import Administration, Medication
from medications.services import order_transcribe, order_verify
from observations.models import RoundCheck, RoundCode, ScanMark
from observations.services import RoundEntry, round_submit
from observations.services.scans import MISSED_SCAN
from tests.conftest import PASSWORD, admit, make_user
from tests.faults.conftest import (
    celery_env,
    failed_runs,
    idle,
    log_text,
    runs_since,
    start_beat,
    start_worker,
    test_database_url,
    wait_for,
)

pytestmark = [pytest.mark.faults, pytest.mark.celery_worker]

MISSED = "observations.tasks.scan_missed_checks"
# How long Redis "was down" as far as the scan can tell: its last complete pass is moved back
# this far while Redis is stopped, so blocks have ended since (a real outage of 45 minutes
# without waiting 45 minutes; every 15 minutes ends a block on a q15 level).
OUTAGE = timedelta(minutes=45)


def sign_in(client, username: str) -> None:
    response = client.post(reverse("account_login"), {"login": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]
    home = client.get(response["Location"])
    assert home.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_charting_goes_on_without_redis_and_alerts_catch_up(
    client, settings, cast, facility, processes, private_redis, stop_all_after
):
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": private_redis.url},
    }
    nurse2 = make_user("nurse_two", "nurse", facility)
    now = timezone.now()
    stay = admit(facility, cast["nurse"], admitted_at=now - timedelta(hours=3))
    clonidine = Medication.objects.create(
        facility=facility, name="Clonidine", strength="0.1 mg", form="tablet", routes="oral"
    )
    order = order_transcribe(
        actor=cast["nurse"], admission=stay, medication=clonidine, dose="0.1 mg",
        dose_units=Decimal("1"), route="oral", frequency="once", start_at=now,
        prescriber_name="Dr. Rivera", prescriber_credentials="MD",
    )  # fmt: skip
    order_verify(actor=nurse2, order=order)
    dose = order.doses.get()
    unit = Unit.objects.get(facility=facility, name="East")
    room = RoundCode.objects.get(facility=facility, kind="location", code="RM")
    awake = RoundCode.objects.get(facility=facility, kind="status", code="A")
    # Checked this block, so no block ends missed while the test runs with Redis up (a quarter
    # hour may pass); the scan's clock starts after the admission (its first run).
    round_submit(
        actor=cast["technician"], facility=facility, submission_key=uuid.uuid4(),
        entries=[RoundEntry(admission=stay, location=room, status=awake)],
    )  # fmt: skip
    env = celery_env(private_redis.url, processes.workdir, test_database_url())
    beat = start_beat(processes, env)  # boots while the worker does
    worker = start_worker(processes, env)

    def worker_log():
        return log_text(worker)[-4000:] + "\n--- beat ---\n" + log_text(beat)[-2000:]

    # The shift runs: the missed-check scan has started its clock.
    wait_for(
        lambda: ScanMark.objects.filter(name=MISSED_SCAN).exists(),
        "the missed-check scan never ran",
        detail=worker_log,
    )
    private_redis.stop()

    # A technician signs in and charts a round; Redis is down all along.
    sign_in(client, "technician")
    board = reverse("observations:board", args=[unit.public_id])
    assert client.get(board).status_code == 200
    key = stay.public_id
    response = client.post(
        board,
        {
            "submission_key": str(uuid.uuid4()),
            "minutes_back": "0",
            "include": [str(key)],
            f"loc-{key}": str(room.pk),
            f"st-{key}": str(awake.pk),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "Round recorded for 1 client" in client.get(response["Location"]).content.decode()
    assert RoundCheck.objects.filter(admission=stay, recorded_by=cast["technician"]).count() == 2
    client.post(reverse("account_logout"))

    # A nurse signs in and documents the dose.
    sign_in(client, "nurse")
    response = client.post(
        reverse("medications:dose_document", args=[dose.public_id]),
        {"outcome": "given", "reason": "", "given_at": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Administration.objects.filter(dose=dose, outcome="given").count() == 1
    assert not private_redis.answers(), "Redis came back during the shift: the test proves nothing"
    assert not Alert.objects.filter(kind="missed_check").exists()
    # The scan's last complete pass was before the outage (once the tasks the worker held when
    # Redis went have finished, nothing runs until it is back).
    wait_for(lambda: idle(worker), "the worker kept running tasks without Redis", 30, worker_log)
    ScanMark.objects.filter(name=MISSED_SCAN).update(scanned_until=now - OUTAGE)

    # Redis returns, empty. The worker and beat find it again without anyone restarting them.
    private_redis.start()
    wait_for(
        lambda: (
            Alert.objects.filter(
                kind="missed_check", client_public_id=stay.client.public_id
            ).count()
            >= 3
        ),
        "the missed blocks were not alerted after Redis returned",
        detail=worker_log,
    )
    # A whole run after that raises nothing twice.
    raised = set(Alert.objects.filter(kind="missed_check").values_list("dedupe_key", flat=True))
    mark = len(log_text(worker))
    wait_for(lambda: runs_since(worker, MISSED, mark) >= 1, "the scan did not run again")
    alerts = Alert.objects.filter(kind="missed_check")
    assert set(alerts.values_list("dedupe_key", flat=True)) == raised
    assert alerts.count() == len(raised)
    assert worker.poll() is None and beat.poll() is None, worker_log()
    assert failed_runs(worker) == []
