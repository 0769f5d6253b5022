"""PostgreSQL restarted under a running Haven: requests fail cleanly while it is down and the
next ones are served, with nobody restarting Haven.

Haven runs as in production (gunicorn, DEBUG off, persistent connections: CONN_MAX_AGE=60) on a
private cluster holding a copy of the test database. While PostgreSQL is down every request gets
Haven's "database not answering" page with status 503 and Retry-After, at once: no traceback,
no hang, no bare "Server Error (500)". After the restart the first request is served, even when
no request came in between to notice the old connection had died (CONN_HEALTH_CHECKS), and a
round charted then is saved.
"""

import contextlib
import os
import sys
import threading
import time
from types import SimpleNamespace

import pytest
import requests
from django.db import OperationalError, connection

from facility.errors import server_error
from facility.models import Unit
from observations.models import RoundCode
from tests.conftest import PASSWORD, admit, make_facility, make_user
from tests.faults.conftest import PrivatePostgres, free_port, log_text, stop, wait_for

# django_db: pytest-django sets up the test database (copied into the private cluster) only for
# a run that holds a test asking for it.
pytestmark = [pytest.mark.faults, pytest.mark.django_db]

DBNAME = "haven_faults"
DOWN_PAGE = "Haven can’t reach its database"
# A request must be answered within this, up or down (gunicorn's own timeout is 30 s).
ANSWER_SECONDS = 10


@contextlib.contextmanager
def connected_to(pg: PrivatePostgres, dbname: str):
    """This process's Django on the private cluster for a moment: the cast's helpers seed it
    there without another process booting Django (the copy has the same content types)."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=pg.port, NAME=dbname, PASSWORD="")
    connection.settings_dict["USER"] = "postgres"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def seed() -> dict:
    """Names of their own: the copy holds whatever the test database held when it was taken."""
    facility = make_facility("Faults House", "America/New_York")
    nurse = make_user("faults_nurse", "nurse", facility)
    make_user("faults_technician", "technician", facility)
    stay = admit(facility, nurse)
    codes = RoundCode.objects.filter(facility=facility)
    return {
        "unit": str(Unit.objects.get(facility=facility, name="East").public_id),
        "stay": str(stay.public_id),
        "room": codes.get(kind="location", code="RM").pk,
        "awake": codes.get(kind="status", code="A").pk,
    }


@pytest.fixture(scope="module")
def haven(django_db_setup, django_db_blocker, processes, private_redis):
    pg = PrivatePostgres(processes)
    web = None
    try:
        pg.init()
        pg.start()
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("PYTEST_XDIST_WORKER", "TEST_DATABASE_NAME")
        }
        env.update(
            DJANGO_SETTINGS_MODULE="facility.settings",
            DATABASE_URL=pg.url(DBNAME),
            REDIS_URL=private_redis.url,
            HAVEN_TESTING="1",
            DEBUG="0",
            # As in production: connections kept between requests.
            CONN_MAX_AGE="60",
            PYTHONUNBUFFERED="1",
        )
        port = free_port()
        # gunicorn boots while the database is copied: it connects only when asked.
        web = processes.start(
            "gunicorn",
            [sys.executable, "-m", "gunicorn", "facility.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--timeout", "30", "--access-logfile", "-"],
            env,
        )  # fmt: skip
        pg.copy_database(connection.settings_dict, DBNAME)
        with django_db_blocker.unblock(), connected_to(pg, DBNAME):
            ids = seed()
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert web.poll() is None, log_text(web)[-3000:]
            try:
                return requests.get(f"{url}/accounts/login/", timeout=20).status_code == 200
            except requests.RequestException:
                return False

        wait_for(up, "gunicorn did not start", 90, lambda: log_text(web)[-3000:])
        yield SimpleNamespace(pg=pg, url=url, ids=ids, web=web)
    finally:
        if web is not None:
            stop(web)
        pg.destroy()


def sign_in(session: requests.Session, base: str, username: str) -> None:
    session.get(f"{base}/accounts/login/", timeout=ANSWER_SECONDS)
    token = session.cookies["csrftoken"]
    response = session.post(
        f"{base}/accounts/login/",
        {"login": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=ANSWER_SECONDS,
    )
    assert response.status_code == 302, response.text[:2000]


def test_requests_fail_cleanly_while_postgres_restarts_and_recover(haven):
    base = haven.url
    session = requests.Session()
    sign_in(session, base, "faults_technician")
    assert session.get(f"{base}/ping/", timeout=ANSWER_SECONDS).status_code == 200

    # Requests keep coming while PostgreSQL stops and starts again.
    answers: list[tuple] = []
    done = threading.Event()

    def keep_asking():
        while not done.is_set():
            started = time.monotonic()
            try:
                r = session.get(f"{base}/ping/", timeout=ANSWER_SECONDS * 2)
                answers.append((r.status_code, r.text, r.headers.get("Retry-After"),
                                time.monotonic() - started))  # fmt: skip
            except requests.RequestException as exc:
                answers.append((None, repr(exc), None, time.monotonic() - started))
            done.wait(0.05)

    asker = threading.Thread(target=keep_asking, daemon=True)
    asker.start()
    try:
        wait_for(lambda: len(answers) >= 2, "no answer before the restart")
        haven.pg.stop()
        down_from = len(answers)
        wait_for(lambda: any(a[0] != 200 for a in answers[down_from:]), "no request while down")
        haven.pg.start()
        up_from = len(answers)
        wait_for(lambda: any(a[0] == 200 for a in answers[up_from + 1 :]), "no recovery")
    finally:
        done.set()
        asker.join(timeout=60)

    assert {a[0] for a in answers} <= {200, 503}, [a[:2] for a in answers if a[0] != 200][:3]
    refused = [a for a in answers if a[0] == 503]
    assert refused
    for _status, body, retry_after, _seconds in refused:
        assert DOWN_PAGE in body
        assert "Traceback" not in body and "OperationalError" not in body
        assert retry_after
    slowest = max(a[3] for a in answers)
    assert slowest < ANSWER_SECONDS, f"a request took {slowest:.1f} s"
    assert answers[-1][0] == 200

    # Restarted while nobody asked: the worker's connection is dead, yet the next request and a
    # round charted on it are served.
    haven.pg.stop()
    haven.pg.start()
    board = f"{base}/rounds/{haven.ids['unit']}/"
    home = session.get(f"{base}/", timeout=ANSWER_SECONDS)
    assert home.status_code == 200, home.text[:2000]
    page = session.get(board, timeout=ANSWER_SECONDS)
    assert page.status_code == 200, page.text[:2000]
    stay = haven.ids["stay"]
    response = session.post(
        board,
        {
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "submission_key": "6f1c9a52-3a52-4c1e-9d0e-6a1b2c3d4e5f",
            "minutes_back": "0",
            "include": [stay],
            f"loc-{stay}": str(haven.ids["room"]),
            f"st-{stay}": str(haven.ids["awake"]),
        },
        timeout=ANSWER_SECONDS,
    )
    assert response.status_code == 200 and "Round recorded for 1 client" in response.text, (
        response.text[:2000]
    )
    # gunicorn stayed up all along (the tracebacks are in its log, for operators).
    assert haven.web.poll() is None


def test_only_an_unreachable_database_answers_503(rf):
    """A bug keeps Django's plain 500: "try again" is advice for a database coming back only."""
    for error, status in ((OperationalError("connection refused"), 503), (ValueError(), 500)):
        try:
            raise error
        except Exception:
            response = server_error(rf.get("/"))
        assert response.status_code == status
        assert (DOWN_PAGE in response.content.decode()) == (status == 503)
