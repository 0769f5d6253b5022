"""The app role the web, worker and beat connect as cannot rewrite or empty the audit trail."""

import uuid
from datetime import date

import psycopg
import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from clients.models import Client, Disclosure, LegalBasis
from facility.db_roles import AUDIT_TABLES, RoleError, db_role_grant
from facility.models import AccessEvent, Facility, User
from facility.services import access_log


def _connect(user: str) -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        dbname=s["NAME"],
        user=user,
        autocommit=True,
    )


@pytest.fixture
def app_role(transactional_db):
    # Role names are cluster-wide: one per run, dropped afterwards.
    role = f"haven_app_test_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} LOGIN")
    yield role
    with connection.cursor() as cursor:
        cursor.execute(f"DROP OWNED BY {role}")
        cursor.execute(f"DROP ROLE {role}")


@pytest.fixture
def audit_rows(transactional_db):
    """One committed row in each audit table, for the app role to copy and to try to change."""
    facility = Facility.objects.create(name="Roles House", time_zone="America/New_York")
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Facility),
        object_pk=str(facility.pk),
        object_id=facility.pk,
        object_repr="Roles House",
        action=LogEntry.Action.CREATE,
        changes={},
    )
    access_log(action="view", username="tech", facility=facility, what="census")
    # The disclosure log (issue 16) is append-only as well.
    client = Client.objects.create(
        facility=facility,
        mrn="AH-0001",
        legal_first_name="Ada",
        legal_last_name="Roles",
        date_of_birth=date(1990, 1, 1),
        sex="F",
    )
    Disclosure.objects.create(
        client=client,
        disclosed_at=timezone.now(),
        recipient_name="County court",
        description="Attendance dates",
        purpose="Court order",
        legal_basis=LegalBasis.COURT_ORDER,
        method="print",
        user=User.objects.create_user("discloser", password=None, role="clinician"),
    )


def _insert_access_event(conn: psycopg.Connection) -> int:
    return conn.execute(
        "INSERT INTO facility_accessevent (at, username, role, client_label, action, what,"
        " outcome, prev_hash, row_hash) VALUES (now(), 'tech', 'technician', '', 'view',"
        " 'roles test', 'ok', repeat('0', 64), md5(random()::text) || md5(random()::text))"
        " RETURNING id"
    ).fetchone()[0]


def _copy_log_entry(conn: psycopg.Connection) -> int:
    columns = ", ".join(
        name
        for (name,) in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'auditlog_logentry' AND column_name <> 'id'"
        ).fetchall()
    )
    return conn.execute(
        f"INSERT INTO auditlog_logentry ({columns})"
        f" SELECT {columns} FROM auditlog_logentry ORDER BY id LIMIT 1 RETURNING id"
    ).fetchone()[0]


def test_app_role_may_only_insert_and_read_the_audit_tables(app_role, audit_rows):
    call_command("db_grant_app_role", "--role", app_role)

    events_before = AccessEvent.objects.count()
    entries_before = LogEntry.objects.count()

    with _connect(app_role) as conn:
        event_id = _insert_access_event(conn)
        entry_id = _copy_log_entry(conn)
        assert conn.execute(
            "SELECT what FROM facility_accessevent WHERE id = %s", [event_id]
        ).fetchone() == ("roles test",)
        assert conn.execute(
            "SELECT count(*) FROM auditlog_logentry WHERE id = %s", [entry_id]
        ).fetchone() == (1,)

        for table, row_id in (("facility_accessevent", event_id), ("auditlog_logentry", entry_id)):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"UPDATE {table} SET id = id WHERE id = %s", [row_id])
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"DELETE FROM {table} WHERE id = %s", [row_id])
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"TRUNCATE {table}")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):  # "must be owner"
                conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SET session_replication_role = replica")

    assert AccessEvent.objects.count() == events_before + 1
    assert LogEntry.objects.count() == entries_before + 1


def test_app_role_can_write_ordinary_tables_but_truncate_none(app_role):
    call_command("db_grant_app_role", "--role", app_role)

    with _connect(app_role) as conn:
        conn.execute(
            "INSERT INTO django_session (session_key, session_data, expire_date)"
            " VALUES ('roles-test', 'x', now())"
        )
        conn.execute(
            "UPDATE django_session SET session_data = 'y' WHERE session_key = 'roles-test'"
        )
        conn.execute("DELETE FROM django_session WHERE session_key = 'roles-test'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("TRUNCATE django_session")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("ALTER TABLE django_session ADD COLUMN sneaky int")


def test_tables_created_by_a_later_migration_are_granted_by_default(app_role):
    call_command("db_grant_app_role", "--role", app_role)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE haven_roles_probe (id bigserial PRIMARY KEY, note text)")
    try:
        with _connect(app_role) as conn:
            conn.execute("INSERT INTO haven_roles_probe (note) VALUES ('later')")
            assert conn.execute("SELECT note FROM haven_roles_probe").fetchone() == ("later",)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE haven_roles_probe")


def test_owner_cannot_truncate_audit_tables_without_opting_in(audit_rows):
    # A fresh session as the owner, without the test settings' haven.allow_audit_truncate.
    with _connect(connection.settings_dict["USER"] or "postgres") as conn:
        for table in AUDIT_TABLES:
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(f"TRUNCATE {table} CASCADE")
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] >= 1


@pytest.mark.django_db
def test_grant_refuses_a_superuser_or_the_owner_itself():
    with pytest.raises(RoleError):
        db_role_grant(role="postgres")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    with pytest.raises(RoleError):
        db_role_grant(role=owner)
