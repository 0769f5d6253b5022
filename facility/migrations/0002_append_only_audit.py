"""Audit rows cannot be changed or deleted through the application: the database refuses it.

Row-level triggers stop UPDATE and DELETE on the access log and on django-auditlog's change log.
TRUNCATE (used only by test database flushes and by an operator at the console) is not a row event.
"""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION haven_forbid_audit_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

TABLES = ["facility_accessevent", "auditlog_logentry"]


def _create(table):
    return (
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION haven_forbid_audit_change();"
    )


def _drop(table):
    return f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};"


class Migration(migrations.Migration):
    dependencies = [
        ("facility", "0001_initial"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [
        migrations.RunSQL(FORBID, "DROP FUNCTION IF EXISTS haven_forbid_audit_change();"),
        *[migrations.RunSQL(_create(t), _drop(t)) for t in TABLES],
    ]
