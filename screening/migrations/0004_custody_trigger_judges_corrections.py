"""The custody trigger judges corrections too (issue 13 review). 0002 let any correction through
once it pointed at an entry of the same specimen not yet corrected; here the function is replaced
(the trigger of 0002 keeps calling it) so that, as far as the database can tell:

- positions: the originals (entries correcting nothing) in `seq` order are the chain's places; a
  correction holds the place of the original it corrects, however deep the correction of a
  correction goes;
- a correction of place 1 is a collection, a correction of any other place is not;
- a correction is released by whoever received the specimen at the place before it (that place as
  its latest correction stands), and its time is not before that entry's;
- a new entry is released by the current holder and is not earlier than the entry in force before
  it (the previous event, as screening.custody.custody_breaks compares);
- no entry, correction or not, records the seal intact when any record, superseded ones included,
  says it was broken at its place or before (screening.services.custody.seal_broken_at_or_before).

A correction of a middle entry may still leave a later entry no longer following it: the service
shows that as a break to correct in turn, and so the database does not refuse it.
"""

import importlib

from django.db import migrations

CHAIN = """
CREATE OR REPLACE FUNCTION screening_custody_chain() RETURNS trigger AS $$
DECLARE
    last_seq integer;
    v_place integer;   -- seq of the original whose place NEW takes (NULL: a new place)
    parent integer;
    v_before integer;  -- seq of the original at the place before NEW's
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
        -- The original whose place the correction takes.
        parent := NEW.corrects_id;
        LOOP
            SELECT e.seq, e.corrects_id INTO v_place, parent
                FROM screening_custodyevent e WHERE e.id = parent;
            EXIT WHEN parent IS NULL;
        END LOOP;
    ELSIF last_seq IS NULL THEN
        IF NEW.purpose <> 'collected' THEN
            RAISE EXCEPTION 'a chain of custody starts with the collection'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END IF;
    -- The original at the place before NEW's (NULL: NEW is at the first place).
    SELECT max(seq) INTO v_before FROM screening_custodyevent
        WHERE specimen_id = NEW.specimen_id AND corrects_id IS NULL
          AND (v_place IS NULL OR seq < v_place);
    IF v_before IS NULL THEN
        IF NEW.purpose <> 'collected' THEN
            RAISE EXCEPTION 'the first custody entry is the collection'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    ELSE
        IF NEW.purpose = 'collected' THEN
            RAISE EXCEPTION 'only the first custody entry is the collection'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        -- The entry before NEW's place, as its latest correction stands.
        SELECT * INTO held FROM screening_custodyevent
            WHERE specimen_id = NEW.specimen_id AND seq = v_before;
        LOOP
            SELECT * INTO newer FROM screening_custodyevent WHERE corrects_id = held.id;
            EXIT WHEN NOT FOUND;
            held := newer;
        END LOOP;
        IF NEW.released_by <> held.received_by AND v_place IS NULL THEN
            RAISE EXCEPTION 'custody gap: released by "%" but "%" holds the specimen',
                NEW.released_by, held.received_by
                USING ERRCODE = 'integrity_constraint_violation';
        ELSIF NEW.released_by <> held.received_by THEN
            RAISE EXCEPTION 'custody gap: released by "%" but "%" held the specimen before (#%)',
                NEW.released_by, held.received_by, held.seq
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF NEW.at < held.at THEN
            RAISE EXCEPTION 'custody time goes backward (before #%)', held.seq
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    -- A broken seal is never intact again: any record, superseded or not, at NEW's place or
    -- before it.
    IF NEW.seal_intact AND EXISTS (
        WITH RECURSIVE placed(id, root_seq) AS (
            SELECT id, seq FROM screening_custodyevent
                WHERE specimen_id = NEW.specimen_id AND corrects_id IS NULL
            UNION ALL
            SELECT c.id, p.root_seq FROM screening_custodyevent c JOIN placed p ON c.corrects_id = p.id
        )
        SELECT 1 FROM placed p JOIN screening_custodyevent e ON e.id = p.id
        WHERE NOT e.seal_intact AND (v_place IS NULL OR p.root_seq <= v_place)
    ) THEN
        RAISE EXCEPTION 'a seal recorded broken cannot be intact again'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def _previous_function() -> str:
    """0002's function, without its CREATE TRIGGER (the trigger stays)."""
    old = importlib.import_module("screening.migrations.0002_custody_chain_trigger")
    return old.CHAIN.split("CREATE TRIGGER")[0]


class Migration(migrations.Migration):
    dependencies = [("screening", "0003_default_cup_for_existing_facilities")]

    operations = [migrations.RunSQL(CHAIN, reverse_sql=_previous_function())]
