# The disclosure log is append-only (specs/privacy.md, §2.25): the database refuses UPDATE and
# DELETE on it and TRUNCATE too (facility/migrations/0002 and 0004's functions), and the app
# role may only INSERT and SELECT it (facility/db_roles.py AUDIT_TABLES).

from django.db import migrations

SQL = """
CREATE TRIGGER clients_disclosure_append_only BEFORE UPDATE OR DELETE ON clients_disclosure
    FOR EACH ROW EXECUTE FUNCTION haven_forbid_audit_change();
CREATE TRIGGER clients_disclosure_no_truncate BEFORE TRUNCATE ON clients_disclosure
    FOR EACH STATEMENT EXECUTE FUNCTION haven_forbid_audit_truncate();
"""

REVERSE = """
DROP TRIGGER IF EXISTS clients_disclosure_append_only ON clients_disclosure;
DROP TRIGGER IF EXISTS clients_disclosure_no_truncate ON clients_disclosure;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0009_issue16_part2"),
        ("facility", "0004_audit_no_truncate"),
    ]

    operations = [migrations.RunSQL(SQL, reverse_sql=REVERSE)]
