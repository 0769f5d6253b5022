"""The chain of custody's rules in the database too (issue 13 item 3: "enforced in a service and
by the database where possible"). screening/services/custody.py judges every event with
screening.custody.custody_breaks and says what the chain expects; this trigger is the last line
against any other writer (a script, the Django admin, a bug):

- entries are numbered 1, 2, 3... with no gap (`seq` = the specimen's last + 1);
- a chain starts with the collection, and only the first entry is one;
- a correction refers to an earlier entry of the same specimen that no other correction has
  replaced yet;
- a new (non-correcting) entry is released by whoever received the specimen last, as the chain
  stands with its corrections; its time is not before any entry in force; and it does not record
  the seal intact once an entry in force recorded it broken.

A correction is judged by the service only (it stands in the middle of the chain, and a later
entry that no longer follows it is shown as a break to correct in turn).
"""

from django.db import migrations

CHAIN = """
CREATE OR REPLACE FUNCTION screening_custody_chain() RETURNS trigger AS $$
DECLARE
    last_seq integer;
    held RECORD;
    newer RECORD;
BEGIN
    SELECT max(seq) INTO last_seq FROM screening_custodyevent WHERE specimen_id = NEW.specimen_id;
    IF NEW.seq <> coalesce(last_seq, 0) + 1 THEN
        RAISE EXCEPTION 'custody entry % of specimen %: entries are numbered in order (next is %)',
            NEW.seq, NEW.specimen_id, coalesce(last_seq, 0) + 1
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.corrects_id IS NOT NULL THEN
        PERFORM 1 FROM screening_custodyevent
            WHERE id = NEW.corrects_id AND specimen_id = NEW.specimen_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'a custody correction refers to an entry of the same specimen'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        PERFORM 1 FROM screening_custodyevent WHERE corrects_id = NEW.corrects_id;
        IF FOUND THEN
            RAISE EXCEPTION 'that custody entry was already corrected: correct the correction'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF last_seq IS NULL THEN
        IF NEW.purpose <> 'collected' THEN
            RAISE EXCEPTION 'a chain of custody starts with the collection'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.purpose = 'collected' THEN
        RAISE EXCEPTION 'only the first custody entry is the collection'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    -- Who holds it now: the last original entry, as its latest correction stands.
    SELECT * INTO held FROM screening_custodyevent
        WHERE specimen_id = NEW.specimen_id AND corrects_id IS NULL ORDER BY seq DESC LIMIT 1;
    LOOP
        SELECT * INTO newer FROM screening_custodyevent WHERE corrects_id = held.id;
        EXIT WHEN NOT FOUND;
        held := newer;
    END LOOP;
    IF NEW.released_by <> held.received_by THEN
        RAISE EXCEPTION 'custody gap: released by "%" but "%" holds the specimen',
            NEW.released_by, held.received_by
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    -- Entries in force: those no correction replaced.
    IF EXISTS (
        SELECT 1 FROM screening_custodyevent e
        WHERE e.specimen_id = NEW.specimen_id AND e.at > NEW.at
          AND NOT EXISTS (SELECT 1 FROM screening_custodyevent c WHERE c.corrects_id = e.id)
    ) THEN
        RAISE EXCEPTION 'custody time goes backward'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.seal_intact AND EXISTS (
        SELECT 1 FROM screening_custodyevent e
        WHERE e.specimen_id = NEW.specimen_id AND NOT e.seal_intact
          AND NOT EXISTS (SELECT 1 FROM screening_custodyevent c WHERE c.corrects_id = e.id)
    ) THEN
        RAISE EXCEPTION 'a seal recorded broken cannot be intact again'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER screening_custody_chain BEFORE INSERT ON screening_custodyevent
    FOR EACH ROW EXECUTE FUNCTION screening_custody_chain();
"""

CHAIN_REVERSE = """
DROP TRIGGER IF EXISTS screening_custody_chain ON screening_custodyevent;
DROP FUNCTION IF EXISTS screening_custody_chain();
"""


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_specimens_custody_results_searches")]

    operations = [migrations.RunSQL(CHAIN, reverse_sql=CHAIN_REVERSE)]
