"""Shared start-up of the bench scripts: environment defaults (DEBUG=1 settings, Redis db 2), the
"bench" database-name guard, then django.setup().
"""

import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/haven_bench"
BENCH_FACILITY = "Haven Bench Facility"


def configure_env() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "facility.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    # Keep the bench's cache keys apart from the development server's (tests use db 15).
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/2")
    os.environ.setdefault("CACHE_KEY_PREFIX", "haven-bench")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def database_name() -> str:
    return urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")


def check_bench_database() -> None:
    """Refuse to write bench data into a database whose name does not say it is a bench."""
    name = database_name()
    if "bench" not in name:
        sys.exit(
            f"Refusing to use database {name!r}: the bench writes volume data and access events; "
            "point DATABASE_URL at a database whose name contains 'bench'."
        )


def setup() -> None:
    configure_env()
    check_bench_database()
    import warnings

    import django

    # WhiteNoise warns that STATIC_ROOT (staticfiles/) is missing: collectstatic is not run here.
    warnings.filterwarnings("ignore", message="No directory at")

    django.setup()


def sql(statement: str, params=None, *, row=False):
    """Run one statement on Django's connection: the number of rows it touched, or (row=True)
    its first row."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone() if row else cursor.rowcount


def sizes(*tables: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """The database's size, and each table's size and its indexes' size."""
    pretty = "pg_size_pretty(pg_{}_size({}))".format
    return sql(f"SELECT {pretty('database', 'current_database()')}", row=True)[0], {
        t: sql(f"SELECT {pretty('table', '%s')}, {pretty('indexes', '%s')}", [t, t], row=True)
        for t in tables
    }


def ensure_database(force: bool) -> bool:
    """Create the bench database if missing (drop it first with --force); True if created."""
    import psycopg
    from psycopg import sql

    url = urlsplit(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    conninfo = {
        "host": url.hostname or "127.0.0.1",
        "port": url.port or 5432,
        "user": unquote(url.username or "postgres"),
        "dbname": "postgres",
        "autocommit": True,
    }
    if url.password:
        conninfo["password"] = unquote(url.password)
    with psycopg.connect(**conninfo) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and force:
            print(f"Dropping database {name}")
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            print(f"Creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    return False
