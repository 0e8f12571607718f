-- Claims are the hot path, and the foreign key from holds to calendars made every claim take a
-- FOR KEY SHARE lock on its calendar's row: concurrent claims on one calendar then share that lock
-- through MultiXacts, which costs more than the rest of the claim (measured in bench/, claims).
-- The same holds for services. The claim already checks both (api.claim_slot_atomic), and the API
-- never deletes either; triggers keep a DBA from deleting or renaming one that holds refer to.
-- depends: 0001_core

ALTER TABLE voxbook.holds DROP CONSTRAINT holds_org_id_calendar_id_fkey;
ALTER TABLE voxbook.holds DROP CONSTRAINT holds_org_id_service_id_fkey;

CREATE FUNCTION voxbook.protect_referenced_by_holds() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM voxbook.holds AS h
                WHERE h.org_id = OLD.org_id
                  AND CASE TG_TABLE_NAME WHEN 'calendars' THEN h.calendar_id ELSE h.service_id END = OLD.id) THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('%s %s is referred to by holds or appointments', rtrim(TG_TABLE_NAME, 's'), OLD.id),
            HINT = 'Keep it (a calendar can be deactivated: UPDATE voxbook.calendars SET active = false).';
    END IF;
    RETURN OLD;
END
$$;

CREATE TRIGGER calendars_keep_holds
    BEFORE DELETE OR UPDATE OF org_id, id ON voxbook.calendars
    FOR EACH ROW EXECUTE FUNCTION voxbook.protect_referenced_by_holds();
CREATE TRIGGER services_keep_holds
    BEFORE DELETE OR UPDATE OF org_id, id ON voxbook.services
    FOR EACH ROW EXECUTE FUNCTION voxbook.protect_referenced_by_holds();
-- The calendar lookups of the trigger above.
CREATE INDEX holds_by_calendar_service ON voxbook.holds (org_id, service_id) WHERE service_id IS NOT NULL;
