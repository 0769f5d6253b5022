# Issue 16 review: a consent naming a class of recipients, the category an amendment request
# concerns, element 3 checked by the database, and a consent frozen once written: the database
# refuses any UPDATE except recording the revocation once (its three fields set from NULL), and
# refuses DELETE (a consent is evidence of what allowed a disclosure).
#
# Amendment requests recorded before this migration get category "": they are appended to the
# client's own copy only, never to a disclosure packet.

from django.db import migrations, models

SQL = """
CREATE OR REPLACE FUNCTION clients_consent_frozen() RETURNS trigger AS $$
DECLARE
    revocation text[] := ARRAY['revoked_at', 'revocation_received_by_id', 'revocation_note'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'consents are never deleted (id %)', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (to_jsonb(NEW) - revocation) IS DISTINCT FROM (to_jsonb(OLD) - revocation) THEN
        RAISE EXCEPTION 'a consent is never edited (id %): only its revocation is recorded',
            OLD.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL)
            AND to_jsonb(NEW) IS DISTINCT FROM to_jsonb(OLD) THEN
        RAISE EXCEPTION 'a consent is revoked once (id %)', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER clients_consent_frozen BEFORE UPDATE OR DELETE ON clients_consent
    FOR EACH ROW EXECUTE FUNCTION clients_consent_frozen();
"""

REVERSE = """
DROP TRIGGER IF EXISTS clients_consent_frozen ON clients_consent;
DROP FUNCTION IF EXISTS clients_consent_frozen();
"""


class Migration(migrations.Migration):
    dependencies = [("clients", "0010_disclosure_append_only")]

    operations = [
        migrations.AddField(
            model_name="amendmentrequest",
            name="category",
            field=models.CharField(blank=True, default="", max_length=40),
        ),
        migrations.AddField(
            model_name="consent",
            name="recipient_is_class",
            field=models.BooleanField(default=False),
        ),
        migrations.AddConstraint(
            model_name="consent",
            constraint=models.CheckConstraint(
                condition=models.Q(("categories", []), _negated=True),
                name="clients_consent_categories_present",
            ),
        ),
        migrations.RunSQL(SQL, reverse_sql=REVERSE),
    ]
