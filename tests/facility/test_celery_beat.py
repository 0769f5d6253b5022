"""The scan wiring end to end: a real Celery beat schedules, a real worker runs, on Redis."""

import os
import re
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from facility.models import Alert
from tests.conftest import admit

ROOT = Path(__file__).resolve().parents[2]
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
SCANS = (
    "clients.tasks.scan_orientation_overdue",
    "observations.tasks.scan_missed_checks",
    "medications.tasks.scan_doses",
)


def succeeded(log: str, task: str) -> int:
    """How many runs of the task the worker log reports as finished."""
    return len(re.findall(rf"{re.escape(task)}\[[^\]]+\] succeeded", log))


def database_url() -> str:
    db = connection.settings_dict
    host = db.get("HOST") or "127.0.0.1"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_beat_and_worker_raise_the_orientation_alert(cast, facility, tmp_path):
    stay = admit(facility, cast["nurse"], admitted_at=timezone.now() - timedelta(hours=25))
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "HAVEN_TESTING": "1",
        "HAVEN_SCAN_SECONDS": "1",
        # A queue of its own (per xdist worker and run) so parallel runs and a developer's worker
        # do not take its tasks.
        "CELERY_QUEUE": f"test-{XDIST_WORKER}-{uuid.uuid4().hex[:8]}",
        "CELERY_BEAT_SCHEDULE_FILENAME": str(tmp_path / "beat-schedule"),
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "facility",
            "worker",
            "--beat",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=INFO",
            "-Q",
            env["CELERY_QUEUE"],
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    worker_log = tmp_path / "worker.log"

    def wait_for(done, what: str, seconds: float = 45) -> None:
        deadline = time.monotonic() + seconds
        while not done():
            assert worker.poll() is None, worker_log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"{what}: {worker_log.read_text()[-3000:]}"
            time.sleep(0.2)

    try:
        wait_for(lambda: Alert.objects.filter(kind="orientation_overdue").exists(), "no alert")
        # Then every scan must have finished at least twice more: the rerun must not duplicate.
        seen = {task: succeeded(worker_log.read_text(), task) for task in SCANS}
        wait_for(
            lambda: all(
                succeeded(worker_log.read_text(), task) >= seen[task] + 2 for task in SCANS
            ),
            "the scans did not run again",
        )
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        log.close()
    output = (tmp_path / "worker.log").read_text()
    alerts = list(Alert.objects.filter(kind="orientation_overdue"))
    assert len(alerts) == 1, output[-3000:]
    assert alerts[0].client_public_id == stay.client.public_id
    # The other scans run on the same beat (the missed-check scan's first run only starts its
    # clock, so it raises nothing here).
    for task in SCANS:
        assert succeeded(output, task) >= 2, task
    assert "Traceback" not in output
