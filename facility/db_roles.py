"""The PostgreSQL role Haven serves requests as: it owns nothing and cannot touch the audit trail.

Two roles (README, "Database roles"): the *owner* owns the database and its tables and runs
`migrate`; the *app role* is what web, worker and beat connect as. Because the app role owns no
table it cannot ALTER, DROP or DISABLE TRIGGER, so the append-only triggers of
facility/migrations/0002 hold against the application itself. On the audit tables it may only
INSERT and SELECT, and it has TRUNCATE on nothing.

`db_role_grant` is run by the owner after every `migrate` (`manage.py db_grant_app_role`); it also
sets default privileges so tables a later migration creates are usable before it runs again.
"""

from __future__ import annotations

import re

from django.db import connection
from psycopg import sql

# The append-only tables (facility/migrations/0002_append_only_audit.py): the access log and
# django-auditlog's change log, and the disclosure log (issue 16).
AUDIT_TABLES = ("facility_accessevent", "auditlog_logentry", "clients_disclosure")

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleError(Exception):
    """The app role cannot be set up safely (a superuser, an owner, a member of the owner)."""


def db_role_grant(*, role: str, password: str | None = None) -> list[str]:
    """Create (if a password is given) and grant the app role; returns what was done.

    Runs on Django's default connection, which must be the owner's (or a superuser's). Idempotent:
    every privilege is revoked and granted again, so a stray GRANT ALL is undone too.
    """
    if not ROLE_NAME.match(role):
        raise RoleError(f"{role!r} is not a plain lower-case role name")
    done: list[str] = []
    ident = sql.Identifier(role)
    with connection.cursor() as cursor:
        pg = cursor.connection

        def run(statement: sql.Composable) -> None:
            text = statement.as_string(pg)
            cursor.execute(text)

        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolbypassrls, pg_has_role(%s, current_user, 'MEMBER')"
            " FROM pg_roles WHERE rolname = %s",
            [role, role],
        )
        row = cursor.fetchone()
        if row is None:
            if password is None:
                raise RoleError(f"role {role} does not exist (give a password to create it)")
            run(
                sql.SQL(
                    "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                    "NOBYPASSRLS PASSWORD {}"
                ).format(ident, sql.Literal(password))
            )
            done.append(f"created role {role}")
        else:
            superuser, createrole, bypassrls, member_of_owner = row
            if superuser or createrole or bypassrls:
                raise RoleError(
                    f"role {role} is a superuser or has CREATEROLE/BYPASSRLS; the app role must not"
                )
            if member_of_owner:
                raise RoleError(
                    f"role {role} is the current user or a member of it, so it would act as the "
                    "owner; connect as the owner and name a separate role"
                )
            if password is not None:
                run(sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident, sql.Literal(password)))
                done.append(f"set the password of {role}")

        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner"
            " WHERE r.rolname = %s",
            [role],
        )
        if cursor.fetchone()[0]:
            raise RoleError(
                f"role {role} owns tables or other relations; the app role must own none"
            )

        cursor.execute("SELECT current_database(), current_schema()")
        database, schema = cursor.fetchone()
        schema_id = sql.Identifier(schema)
        run(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), ident))
        run(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema_id, ident))
        run(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(schema_id, ident))
        run(sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}").format(schema_id, ident))
        run(
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
                schema_id, ident
            )
        )
        run(
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
                schema_id, ident
            )
        )
        done.append(f"granted {role} SELECT/INSERT/UPDATE/DELETE on the tables of {schema}")

        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relname = ANY(%s)",
            [schema, list(AUDIT_TABLES)],
        )
        audit = sorted(name for (name,) in cursor.fetchall())
        for table in audit:
            run(sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(sql.Identifier(table), ident))
        if audit:
            done.append(f"{role} may only INSERT and SELECT on {', '.join(audit)}")

        # Tables and sequences a later migration creates (as the current user, the owner).
        run(
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {} "
                "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
            ).format(schema_id, ident)
        )
        run(
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}"
            ).format(schema_id, ident)
        )
        done.append(f"default privileges for {role} on new tables and sequences")
    return done
