# Saved is signed for behavior notes, C-SSRS screens and group attendance (specs/charting.md):
# after saving, only the entered-in-error strike may be added, once (and a C-SSRS screen's safety
# plan may go from not yet to started). The database refuses any other UPDATE, and every DELETE,
# whatever the code does, as it does for signed progress notes (0007).

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION obs_saved_entry_immutable() RETURNS trigger AS $$
DECLARE
    may_change text[] := ARRAY['struck_at', 'struck_by_id', 'struck_reason'];
    old_row jsonb := to_jsonb(OLD);
    new_row jsonb := to_jsonb(NEW);
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '% rows are never deleted', TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF old_row ? 'safety_plan' AND (old_row->>'safety_plan') IS DISTINCT FROM 'true' THEN
        may_change := array_append(may_change, 'safety_plan');
    END IF;
    IF (old_row->>'struck_at') IS NOT NULL THEN
        may_change := ARRAY[]::text[];
    END IF;
    IF (new_row - may_change) IS DISTINCT FROM (old_row - may_change) THEN
        RAISE EXCEPTION 'a saved % row cannot be changed (id %): strike it instead',
            TG_TABLE_NAME, OLD.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER obs_behaviornote_immutable BEFORE UPDATE OR DELETE ON observations_behaviornote
    FOR EACH ROW EXECUTE FUNCTION obs_saved_entry_immutable();
CREATE TRIGGER obs_cssrsscreen_immutable BEFORE UPDATE OR DELETE ON observations_cssrsscreen
    FOR EACH ROW EXECUTE FUNCTION obs_saved_entry_immutable();
CREATE TRIGGER obs_attendance_immutable BEFORE UPDATE OR DELETE ON observations_groupattendance
    FOR EACH ROW EXECUTE FUNCTION obs_saved_entry_immutable();
"""

REVERSE = """
DROP TRIGGER IF EXISTS obs_attendance_immutable ON observations_groupattendance;
DROP TRIGGER IF EXISTS obs_cssrsscreen_immutable ON observations_cssrsscreen;
DROP TRIGGER IF EXISTS obs_behaviornote_immutable ON observations_behaviornote;
DROP FUNCTION IF EXISTS obs_saved_entry_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("observations", "0008_seed_groups_for_existing_facilities")]

    operations = [migrations.RunSQL(SQL, reverse_sql=REVERSE)]
