#!/usr/bin/env python
"""A shift's worth of staff at once (issue 17 item 3): locust (bench/locustfile.py) against
gunicorn serving Haven with production settings on 127.0.0.1, over the bench database with a
year of data from the three generators. See bench/README.md, "Load".

    .venv/bin/python bench/load_run.py [--steady 600] [--workers 4] [--no-generate]

Steps: install bench/requirements-load.txt into .venv if locust is missing; run the generators
(each does nothing when its facility is there); create one account per simulated person
(`ltech01`…, `lnurse01`…, `lsup01`…, `lclin01`…, `lprobe01`); collectstatic into a directory of
its own; start gunicorn; run locust headless; stop gunicorn; print the table (also written to
var/bench-load/<time>/summary.md, beside locust's CSVs, every request's time, gunicorn's logs
and the machine's load average sampled every 10 s).
"""

import argparse
import csv
import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/haven_bench")
import _env  # noqa: E402
from _build import PASSWORD  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = ROOT / ".venv" / "bin"
# Who works where. The generators make three facilities in the one database: a year of q15
# rounds (120 beds + a 5-bed annex), a year of MAR (60 + 10 beds), a year of stays, leaves and
# access events (120 beds). Each person works at one of them, as staff do.
FACILITIES = {
    "rounds": "Haven Bench Rounds",
    "mar": "Haven Bench MAR",
    "main": _env.BENCH_FACILITY,
}
# Each with its own seed: the builder draws public ids from its seeded rng, so two generators
# with the same seed in one database would make the same facility id.
GENERATORS = {"generate.py": 2026, "rounds_generate.py": 2027, "mar_generate.py": 2028}
TECHNICIANS_PER_UNIT = {"Annex": 2}  # the rest share the four 30-bed units evenly
CAST = {"technician": 30, "nurse": 12, "supervisor": 4, "clinician": 4}
SUPERVISORS_AT = ["rounds", "rounds", "mar", "main"]
CLINICIANS_AT = ["main", "main", "rounds", "rounds"]
PROBE = "/ping/ (one query)"
BUDGET_MS = 300


def ensure_locust() -> None:
    """Install the load tools into .venv when locust is not there (not the app's lock)."""
    if subprocess.run([VENV / "python", "-c", "import locust"], capture_output=True).returncode:
        print("Installing bench/requirements-load.txt into .venv")
        subprocess.run(
            [VENV / "pip", "install", "-q", "-r", BENCH / "requirements-load.txt",
             "-c", ROOT / "requirements.lock"],
            check=True,
        )  # fmt: skip


def generate() -> None:
    for script, seed in GENERATORS.items():
        print(f"bench/{script} --seed {seed}")
        subprocess.run([VENV / "python", BENCH / script, "--seed", str(seed)], check=True, cwd=ROOT)


def make_plan() -> dict:
    """One account per simulated person (created once, then reused) and what each one works
    on: a technician's unit and share of its clients, a nurse's clients."""
    _env.setup()
    from django.contrib.auth.hashers import make_password

    from clients.models import Admission
    from facility.models import Facility, Unit, User
    from facility.services import user_sync_role_group

    facilities = {k: Facility.objects.get(name=name) for k, name in FACILITIES.items()}
    hashed = make_password(PASSWORD)
    stems = {"technician": ("tech", "BHT"), "nurse": ("nurse", "RN"),
             "supervisor": ("sup", "RN"), "clinician": ("clin", "LCSW")}  # fmt: skip

    def account(role: str, n: int, where: str, *, stem: str = "") -> dict:
        stem, credentials = (stem, "BHT") if stem else stems[role]
        username = f"l{stem}{n:02d}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, email=f"{username}@bench.haven.invalid",
                        full_name=f"Load {stem.title()} {n:02d}", initials=f"L{n % 100:02d}",
                        credentials=credentials, role=role, password=hashed)  # fmt: skip
            user.save()
        user.facilities.set([facilities[where]])
        user_sync_role_group(user)
        return {"username": username}

    units = list(Unit.objects.filter(facility=facilities["rounds"]).order_by("name"))
    fixed = sum(TECHNICIANS_PER_UNIT.values())
    big = [u for u in units if u.name not in TECHNICIANS_PER_UNIT]
    per_unit = {u.name: TECHNICIANS_PER_UNIT.get(u.name) for u in units}
    for i in range(CAST["technician"] - fixed):
        per_unit[big[i % len(big)].name] = (per_unit[big[i % len(big)].name] or 0) + 1
    technicians = []
    for unit in units:
        n = per_unit[unit.name] or 0
        for k in range(n):
            technicians.append(
                {**account("technician", len(technicians) + 1, "rounds"),
                 "unit": str(unit.public_id), "unit_name": unit.name, "slice": [k, n]}
            )  # fmt: skip
    stays = list(
        Admission.objects.filter(facility=facilities["mar"], discharged_at__isnull=True)
        .order_by("unit__name", "bed__label")
        .values_list("public_id", flat=True)
    )
    from medications.models import Order

    # The MAR facility's controlled drugs: mar_generate.py keeps no stock count for them there,
    # and Haven refuses to chart a controlled dose without one, so the nurses leave them alone.
    controlled = sorted(
        set(
            Order.objects.filter(admission__facility=facilities["mar"])
            .exclude(medication__controlled_schedule="")
            .values_list("medication__name", flat=True)
        )
    )
    nurses = [
        {
            **account("nurse", i + 1, "mar"),
            "admissions": [str(p) for p in stays[i :: CAST["nurse"]]],
        }
        for i in range(CAST["nurse"])
    ]
    return {
        "password": PASSWORD,
        "controlled": controlled,
        "users": {
            "technician": technicians,
            "nurse": nurses,
            "supervisor": [
                {**account("supervisor", i + 1, w), "facility": FACILITIES[w]}
                for i, w in enumerate(SUPERVISORS_AT)
            ],
            "clinician": [
                {**account("clinician", i + 1, w), "facility": FACILITIES[w]}
                for i, w in enumerate(CLINICIANS_AT)
            ],
            "probe": [account("technician", 1, "rounds", stem="probe")],
        },
    }


def server_env(run: Path) -> dict:
    """Production settings (DEBUG off, manifest static files, CONN_MAX_AGE 60) on plain HTTP at
    127.0.0.1, MFA not required (bench/README.md, "Load"), the bench's Redis database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HAVEN_", "TEST_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="load_settings",
        PYTHONPATH=f"{BENCH}{os.pathsep}{ROOT}",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=os.environ["REDIS_URL"],
        CACHE_KEY_PREFIX=os.environ["CACHE_KEY_PREFIX"],
        CELERY_QUEUE="haven-bench-load",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        BEHIND_TLS_PROXY="0",
        HAVEN_MFA_REQUIRED_ROLES="",
        HAVEN_AUDIT_ANCHOR_KEY=secrets.token_urlsafe(32),
        HAVEN_AUDIT_ANCHOR_PATH=str(run / "audit-anchors.jsonl"),
        HAVEN_LOAD_STATIC_ROOT=str(ROOT / "var" / "bench-load" / "static"),
        LOG_LEVEL="WARNING",
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("gunicorn exited; see its log")
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.5)
    sys.exit("gunicorn did not start listening")


def warm_up(port: int, workers: int) -> None:
    """Until every worker answers the sign-in page: each one imports the URLconf, templates and
    views on its first request, seconds of CPU that are not what the run measures."""
    from concurrent.futures import ThreadPoolExecutor
    from urllib.request import urlopen

    def fetch(_):
        t = time.perf_counter()
        with urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=180) as r:
            r.read()
        return time.perf_counter() - t

    with ThreadPoolExecutor(2 * workers) as pool:
        for _ in range(5):
            slowest = max(pool.map(fetch, range(4 * workers)))
            print(f"warm-up: slowest of {4 * workers} sign-in pages {slowest:.2f} s")
            if slowest < 1:
                break


class LoadSampler(threading.Thread):
    """The 1-minute load average every 10 s, and the CPU time gunicorn's processes used."""

    def __init__(self, server_pid: int):
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float, float]] = []
        self.stop = threading.Event()
        self.server_pid = server_pid

    def server_cpu(self) -> float:
        import psutil

        try:
            main = psutil.Process(self.server_pid)
            procs = [main, *main.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0.0
        for p in procs:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def run(self):
        while not self.stop.is_set():
            self.samples.append((time.time(), os.getloadavg()[0], self.server_cpu()))
            self.stop.wait(10)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def summarize(run: Path, started: datetime, sampler, args, plan) -> str:
    """The steady part's table (every person signed in), the sign-in phase apart."""
    steady: dict[str, list[float]] = defaultdict(list)
    signin: dict[str, list[float]] = defaultdict(list)
    failures: dict[str, int] = defaultdict(int)
    t0 = t1 = s0 = s1 = None
    with open(run / "samples.csv") as f:
        for row in csv.DictReader(f):
            at = float(row["at"])
            if row["name"] == "(start)":
                t0 = at
                continue
            if row["phase"] != "steady":
                if row["phase"] == "sign-in":
                    s0, s1 = s0 or at, at
                    signin[row["name"]].append(float(row["ms"]))
                failures[row["phase"]] += row["ok"] == "0"
                continue
            t1 = at
            steady[row["name"]].append(float(row["ms"]))
            failures[row["name"]] += row["ok"] == "0"
    if t0 is None or t1 is None:
        return "Not everyone signed in: no steady part to report (see locust's output).\n"
    seconds = t1 - t0
    total = sum(len(v) for v in steady.values())
    ping = nearest_rank(steady[PROBE], 0.5) if steady.get(PROBE) else float("nan")
    window = [(t, load, cpu) for t, load, cpu in sampler.samples if t0 <= t <= t1 + 10]
    loads = sorted(x for _, x, _ in window) or [float("nan")]
    cpu = window[-1][2] - window[0][2] if len(window) > 1 else float("nan")
    cpu_seconds = window[-1][0] - window[0][0] if len(window) > 1 else float("nan")
    with open(run / "gunicorn.log") as f:
        logged = f.read()
    status_5xx = 0
    with open(run / "access.log") as f:
        for line in f:
            parts = line.rsplit(" ", 2)
            status_5xx += len(parts) == 3 and parts[1].startswith("5")
    logins = signin.get("Sign in (POST)", [0.0])
    steady_failures = sum(v for k, v in failures.items() if k not in ("sign-in", "settle"))
    lines = [
        f"Haven load — {started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, gunicorn "
        f"{args.workers} sync workers, {sum(len(v) for v in plan['users'].values())} people "
        f"(spawn {args.spawn_rate}/s)",
        f"Sign-in phase: {len(logins)} sign-ins over {(s1 or 0) - (s0 or 0):.0f} s, sign-in POST "
        f"p50 {nearest_rank(logins, 0.5):.0f} ms, p95 {nearest_rank(logins, 0.95):.0f} ms, "
        f"{failures['sign-in']} failures; then 60 s for the queue behind them to drain "
        f"({failures['settle']} failures); neither is in the table",
        f"Steady part: {seconds:.0f} s after the last sign-in. Load average (1 min): min "
        f"{loads[0]:.2f}, median {loads[len(loads) // 2]:.2f}, max {loads[-1]:.2f} "
        f"({len(window)} samples); gunicorn used {cpu:.0f} CPU-s in {cpu_seconds:.0f} s "
        f"({cpu / cpu_seconds:.2f} cores on average)",
        f"Requests: {total:,}, failures: {steady_failures}, throughput {total / seconds:.2f} "
        f"requests/s; whole run: 5xx in gunicorn's access log: {status_5xx}, tracebacks in its "
        f"error log: {logged.count('Traceback')}",
        "",
        "| Page | Requests | Failures | p50 ms | p95 ms | max ms | p95 ≤ 300 ms "
        "| p50 ÷ /ping/ p50 |",
        "|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for name in sorted(steady, key=lambda n: (n == PROBE, n)):
        ms = steady[name]
        p50, p95 = nearest_rank(ms, 0.5), nearest_rank(ms, 0.95)
        lines.append(
            f"| {name} | {len(ms):,} | {failures[name]} | {p50:.1f} | {p95:.1f} | "
            f"{max(ms):.1f} | {'yes' if p95 <= BUDGET_MS else '**no**'} | {p50 / ping:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steady", type=int, default=600, help="seconds measured after the sign-ins")
    p.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (4)")
    p.add_argument("--spawn-rate", type=float, default=1.0, help="people signing in a second (1)")
    p.add_argument("--no-generate", action="store_true", help="skip the generators' check")
    args = p.parse_args(argv)

    _env.configure_env()
    _env.check_bench_database()
    ensure_locust()
    if not args.no_generate:
        generate()
    started = datetime.now(UTC)
    run = ROOT / "var" / "bench-load" / f"{started:%Y%m%d-%H%M%S}"
    run.mkdir(parents=True)
    plan = make_plan()
    (run / "plan.json").write_text(json.dumps(plan, indent=1))
    env = server_env(run)
    print("collectstatic")
    subprocess.run([VENV / "python", "manage.py", "collectstatic", "--noinput", "-v0"],
                   check=True, cwd=ROOT, env=env)  # fmt: skip
    port = free_port()
    server = subprocess.Popen(
        [VENV / "gunicorn", "facility.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--worker-class", "sync", "--timeout", "60",
         "--access-logfile", run / "access.log",
         "--access-logformat", '%(t)s "%(r)s" %(s)s %(M)s',
         "--error-logfile", run / "gunicorn.log"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    print(f"gunicorn pid {server.pid} on 127.0.0.1:{port}; output in {run}")
    sampler = None
    try:
        wait_listening(port, server)
        warm_up(port, args.workers)
        sampler = LoadSampler(server.pid)
        sampler.start()
        print(f"uptime before: {uptime()}")
        users = sum(len(v) for v in plan["users"].values())
        subprocess.run(
            [VENV / "locust", "-f", BENCH / "locustfile.py", "--headless", "-u", str(users),
             "-r", str(args.spawn_rate), "--run-time", f"{args.steady + 900}s",
             "--stop-timeout", "10",
             "--csv", run / "locust", "--host", f"http://127.0.0.1:{port}",
             "--loglevel", "WARNING", "--only-summary"],
            cwd=ROOT, check=False,
            env={**os.environ, "HAVEN_LOAD_PLAN": str(run / "plan.json"),
                 "HAVEN_LOAD_SAMPLES": str(run / "samples.csv"),
                 "HAVEN_LOAD_STEADY_SECONDS": str(args.steady)},
        )  # fmt: skip
        print(f"uptime after: {uptime()}")
    finally:
        if sampler is not None:
            sampler.stop.set()
            sampler.join()
        server.send_signal(signal.SIGTERM)  # gunicorn's master stops its workers
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    summary = summarize(run, started, sampler, args, plan)
    (run / "summary.md").write_text(summary)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
