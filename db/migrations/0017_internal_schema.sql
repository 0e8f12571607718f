-- The helpers of the api functions move to schema internal, which db/functions/00_api_schema.sql drops and
-- recreates with schema api on every migrate (issue 11): a helper removed or given another signature is
-- then really gone. Schema voxbook keeps the tables and the functions they depend on, which migrations own.
-- Earlier versions created their helpers in voxbook with CREATE OR REPLACE and never dropped them: drop
-- every function here but the keep list. Plain DROP (no CASCADE): should a table, constraint, default or
-- trigger use one, the migration fails instead of taking that object with it. The api functions calling
-- the old copies are replaced by the function files right after the migrations.
-- depends: 0001_core 0009_holds_calendar_guard 0015_message_catalogue 0016_vapi_call_id

DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_proc AS p
         WHERE p.pronamespace = 'voxbook'::regnamespace
           AND p.proname NOT IN ('is_time_zone',                 -- CHECK on organizations.time_zone (0001)
                                 'notify_sms_outbox',            -- trigger sms_outbox_notify (0001)
                                 'protect_referenced_by_holds')  -- triggers *_keep_holds (0009)
           AND NOT EXISTS (SELECT 1 FROM pg_depend AS d    -- functions of an extension installed in voxbook
                            WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
         ORDER BY p.oid
    LOOP
        EXECUTE format('DROP FUNCTION %s', f);
    END LOOP;
END
$$;

COMMENT ON SCHEMA voxbook IS
    'Private tables of voxbook and the few functions they depend on, made by the migrations. Nothing here is '
    'granted to the API role: call the functions in schema api (their helpers are in schema internal).';
-- Comments naming a helper by its old place.
COMMENT ON TABLE voxbook.message_templates IS
    'Every customer-facing text (SMS bodies, the assistant''s spoken lines, refusal texts) by language and key, '
    'with {name} placeholders; rendered by internal.message(). Written by db/functions/16_messages.sql on every migrate.';
COMMENT ON COLUMN voxbook.tool_calls.response IS
    '{"answer": <the result of the api function the tool call ran>, "spoken": <its line from the message '
    'catalogue (internal.spoken_line)>}; rows stored before 0015 have no "spoken" and get it worded on replay.';
