# A received handoff is frozen as printed (issue 15 item 3; specs/shift-report.md): once
# received_at is set the database refuses any change to the row (its PDF, its hash, who received
# it and when, who gave it), whatever the code does; and a handoff row is never deleted, given or
# not. Before "received", the row is written twice (given, then received) and may change.

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION facility_handoff_frozen() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'handoff rows are never deleted (id %)', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.received_at IS NOT NULL AND to_jsonb(NEW) IS DISTINCT FROM to_jsonb(OLD) THEN
        RAISE EXCEPTION 'a received handoff is frozen (id %): its report cannot be changed',
            OLD.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER facility_handoff_frozen BEFORE UPDATE OR DELETE ON facility_handoff
    FOR EACH ROW EXECUTE FUNCTION facility_handoff_frozen();
"""

REVERSE = """
DROP TRIGGER IF EXISTS facility_handoff_frozen ON facility_handoff;
DROP FUNCTION IF EXISTS facility_handoff_frozen();
"""


class Migration(migrations.Migration):
    dependencies = [("facility", "0015_issue15_handoff")]

    operations = [migrations.RunSQL(SQL, reverse_sql=REVERSE)]
