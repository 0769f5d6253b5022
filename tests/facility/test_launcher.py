"""The ./run supervisor restarts a child that dies and gives up only on a crash loop."""

import io
import os
import sys
import threading
import time

from facility.launcher import Supervisor

CRASH = [sys.executable, "-c", "import sys; print('crashing', flush=True); sys.exit(1)"]
SLEEP = ["sleep", "30"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purposes.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def _run_in_thread(supervisor: Supervisor) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def target():
        result["code"] = supervisor.run(install_signals=False)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result


def _wait_for(check, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_crash_looping_child_is_restarted_then_everything_stops():
    out = io.StringIO()
    supervisor = Supervisor(
        [("crash", CRASH), ("sleeper", SLEEP)],
        max_restarts=3,
        window=60,
        backoff=0.05,
        max_backoff=0.2,
        grace=5,
        out=out,
    )
    started = time.monotonic()

    code = supervisor.run(install_signals=False)

    assert code == 1
    assert time.monotonic() - started < 10
    assert supervisor.child("crash").restarts == 3
    assert supervisor.child("sleeper").restarts == 0
    log = out.getvalue()
    assert log.count("crash exited (exit code 1); restarting it") == 3
    assert "4 times within 60 s: giving up" in log
    assert "crash   | crashing" in log  # child output, prefixed with its name
    assert "stopping sleeper" in log
    assert all(c.proc is None for c in supervisor.children)


def test_killed_child_is_restarted_and_the_others_keep_running(tmp_path):
    out = io.StringIO()
    supervisor = Supervisor(
        [("worker", SLEEP), ("web", SLEEP)], backoff=0.05, grace=5, out=out, cwd=tmp_path
    )
    thread, result = _run_in_thread(supervisor)
    _wait_for(lambda: supervisor.child("worker").proc and supervisor.child("web").proc)
    worker_pid = supervisor.child("worker").proc.pid
    web_pid = supervisor.child("web").proc.pid

    os.kill(worker_pid, 9)
    _wait_for(lambda: supervisor.child("worker").restarts == 1)
    _wait_for(lambda: supervisor.child("worker").proc is not None)

    assert supervisor.child("worker").proc.pid != worker_pid
    assert supervisor.child("web").proc.pid == web_pid
    assert _alive(web_pid)
    assert "worker exited (killed by SIGKILL); restarting it" in out.getvalue()

    new_worker_pid = supervisor.child("worker").proc.pid
    supervisor.stop()
    thread.join(timeout=10)
    assert result["code"] == 0
    assert not _alive(web_pid)
    assert not _alive(new_worker_pid)


def test_deaths_spread_beyond_the_window_do_not_add_up():
    # One restart allowed per 0.3 s, and the child dies every 0.5 s or so: never a crash loop.
    out = io.StringIO()
    supervisor = Supervisor(
        [("flaky", CRASH)], max_restarts=1, window=0.3, backoff=0.5, grace=5, out=out
    )
    thread, result = _run_in_thread(supervisor)
    _wait_for(lambda: supervisor.child("flaky").restarts >= 3)
    assert thread.is_alive()
    supervisor.stop()
    thread.join(timeout=10)
    assert result["code"] == 0
    assert "giving up" not in out.getvalue()
