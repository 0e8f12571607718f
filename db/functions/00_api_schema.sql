-- Recreated on every `voxbook db migrate`, in the same transaction as the files after it, so that a
-- function removed, renamed or given another signature in these files is gone from the database too: no
-- stale API and no stale helper, with no hand-written DROP FUNCTION. Three schemas (db/README.md):
--   voxbook  -- the tables and the few functions they depend on; made by db/migrations only;
--   internal -- the helpers of the api functions, granted to nobody; made here;
--   api      -- the exposed functions; made here.

-- DROP ... CASCADE would silently take with it a CHECK, default, index, trigger or view that uses one of
-- these functions. Such a function belongs to a migration in schema voxbook: refuse rather than lose it.
DO $$
DECLARE
    users text;
BEGIN
    SELECT string_agg(DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid), ', ')
      INTO users
      FROM pg_depend AS d
      JOIN pg_proc AS p ON d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid
      JOIN pg_namespace AS n ON n.oid = p.pronamespace AND n.nspname IN ('api', 'internal')
     WHERE d.deptype IN ('n', 'a')
       AND NOT (d.classid = 'pg_proc'::regclass
                AND (SELECT f.pronamespace FROM pg_proc AS f WHERE f.oid = d.objid)
                    IN (SELECT oid FROM pg_namespace WHERE nspname IN ('api', 'internal')));
    IF users IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '2BP01',
            MESSAGE = 'schemas api and internal are rebuilt on every migrate, yet other objects use their functions: ' || users,
            HINT = 'Define a function that a table, constraint, default, index or trigger needs in schema voxbook, in a migration.';
    END IF;
END
$$;

DROP SCHEMA IF EXISTS api CASCADE;
DROP SCHEMA IF EXISTS internal CASCADE;

CREATE SCHEMA internal;
COMMENT ON SCHEMA internal IS
    'Helpers of the api functions (db/functions), rebuilt on every voxbook db migrate; granted to nobody: '
    'they run with the rights of the api function calling them.';

CREATE SCHEMA api;
COMMENT ON SCHEMA api IS
    'The voxbook booking API: every function here is callable from psql and, through role voxbook_api, '
    'by the HTTP layer and the SMS worker. See db/README.md for the flow, jsonb shapes and SQLSTATEs.';
