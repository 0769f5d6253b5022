"""The Celery worker killed (SIGKILL) in the middle of a scan: after a restart no alert is lost
and none is raised twice.

Haven does not rely on the killed task coming back: tasks are acknowledged on receipt (no
`acks_late`; on Redis an unacknowledged message would only return after the one-hour visibility
timeout anyway). Beat queues every scan again each interval, each scan judges everything still
true (or, for missed checks, everything since its last complete pass), and each alert is written
under a dedupe key that a partial unique index keeps to one open row. So the run that died is
simply done again by the next one, and what it had already written is not written twice.

To kill the worker at a known point, the test holds an uncommitted alert with the dedupe key of
the client the orientation scan reaches last: the scan's insert for that client waits on the
unique index (seen in pg_stat_activity), after it has written the alerts of the others.
"""

import os
import signal
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from facility.models import Alert
from tests.conftest import admit
from tests.faults.conftest import (
    celery_env,
    failed_runs,
    log_text,
    runs_since,
    start_beat,
    start_worker,
    test_database_url,
    wait_for,
)

pytestmark = [pytest.mark.faults, pytest.mark.celery_worker]

SCAN = "clients.tasks.scan_orientation_overdue"


class _Release(Exception):
    """Rolls the held alert back."""


def waiting_alert_inserts() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO \"facility_alert\"%%'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_killed_mid_scan_loses_and_repeats_no_alert(
    cast, facility, processes, private_redis, stop_all_after
):
    now = timezone.now()
    # Admissions are scanned newest first: the stay admitted 27 hours ago comes last.
    stays = [
        admit(facility, cast["nurse"], admitted_at=now - timedelta(hours=h), n=h)
        for h in (25, 26, 27)
    ]
    last = stays[-1]
    held, release = threading.Event(), threading.Event()

    def hold_last_key():
        try:
            with transaction.atomic():
                Alert.objects.create(
                    facility=facility, kind="orientation_overdue", severity="warning",
                    message="held by the test", dedupe_key=f"orientation:{last.public_id}",
                    raised_at=now,
                )  # fmt: skip
                held.set()
                release.wait(180)
                raise _Release
        except _Release:
            pass
        finally:
            connection.close()

    holder = threading.Thread(target=hold_last_key, daemon=True)
    holder.start()
    try:
        assert held.wait(30), "the test could not hold the alert key"
        env = celery_env(private_redis.url, processes.workdir, test_database_url())
        beat = start_beat(processes, env)  # boots while the worker does
        worker = start_worker(processes, env)

        def logs():
            return log_text(worker)[-4000:] + "\n--- beat ---\n" + log_text(beat)[-2000:]

        wait_for(lambda: waiting_alert_inserts() == 1, "the scan never reached the held key", 90,
                 logs)  # fmt: skip
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        release.set()
        holder.join(timeout=60)

    # Killed halfway: the two stays scanned first have their alert, the last one none.
    def alerted():
        return list(
            Alert.objects.filter(kind="orientation_overdue").values_list(
                "client_public_id", flat=True
            )
        )

    assert sorted(map(str, alerted())) == sorted(str(s.client.public_id) for s in stays[:2])
    # The killed worker's half-written insert was never committed (its connection is gone).
    wait_for(lambda: waiting_alert_inserts() == 0, "the killed worker's insert still waits")

    # Beat kept queueing scans meanwhile; a new worker takes them.
    restarted = start_worker(processes, {**env}, name="worker-restarted")
    wait_for(lambda: len(alerted()) >= 3, "the last alert was lost", 90,
             lambda: log_text(restarted)[-4000:])  # fmt: skip
    # A whole run after that raises nothing twice.
    mark = len(log_text(restarted))
    wait_for(lambda: runs_since(restarted, SCAN, mark) >= 1, "the scan did not run again", 60,
             lambda: log_text(restarted)[-4000:])  # fmt: skip

    alerts = list(Alert.objects.filter(kind="orientation_overdue"))
    assert sorted(str(a.client_public_id) for a in alerts) == sorted(
        str(s.client.public_id) for s in stays
    )
    assert all(a.message.startswith("Orientation checklist for") for a in alerts)
    assert restarted.poll() is None and beat.poll() is None
    assert failed_runs(restarted) == []
