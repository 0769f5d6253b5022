"""The scan wiring end to end: a real Celery beat schedules, a real worker runs, on Redis."""

import os
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
        # A queue of its own so parallel runs and a developer's worker do not take its tasks.
        "CELERY_QUEUE": f"test-{uuid.uuid4().hex[:8]}",
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
    try:
        deadline = time.monotonic() + 45
        while (
            time.monotonic() < deadline
            and not Alert.objects.filter(kind="orientation_overdue").exists()
        ):
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(0.5)
        # Let beat fire a few more times: the rerun must not duplicate.
        time.sleep(3)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        log.close()
    output = (tmp_path / "worker.log").read_text()
    alerts = list(Alert.objects.filter(kind="orientation_overdue"))
    assert len(alerts) == 1, output[-3000:]
    assert alerts[0].client_public_id == stay.client.public_id
    assert output.count("clients.tasks.scan_orientation_overdue") >= 2
    # The other scans run on the same beat (the missed-check scan's first run only starts its
    # clock, so it raises nothing here).
    assert output.count("observations.tasks.scan_missed_checks") >= 2
    assert output.count("medications.tasks.scan_doses") >= 2
    assert "Traceback" not in output
