"""Audit tables cannot be truncated either, not even by their owner, unless it says so first.

The app role has no TRUNCATE privilege at all (facility/db_roles.py). This statement-level
trigger also stops the owner: a stray `manage.py flush` or TRUNCATE at the console against the
production database is refused. Only a session that first runs
`SET haven.allow_audit_truncate = on` may truncate them; the test settings do that, because
Django empties the test database between transactional tests with TRUNCATE.
"""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION haven_forbid_audit_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('haven.allow_audit_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit tables cannot be truncated (%)', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

TABLES = ["facility_accessevent", "auditlog_logentry"]


def _create(table):
    return (
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION haven_forbid_audit_truncate();"
    )


def _drop(table):
    return f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};"


class Migration(migrations.Migration):
    dependencies = [
        ("facility", "0003_signinfailure"),
    ]

    operations = [
        migrations.RunSQL(FORBID, "DROP FUNCTION IF EXISTS haven_forbid_audit_truncate();"),
        *[migrations.RunSQL(_create(t), _drop(t)) for t in TABLES],
    ]
