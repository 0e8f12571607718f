-- The rules that let the same migrations and functions run on Citus (db/README.md, "Writing functions that
-- run on Citus too"), checked on a single PostgreSQL, where every new function is written first. Each check
-- lists the offenders, so a failure names the function or table to fix. tests/citus/ runs the functions on
-- a real cluster.
BEGIN;
SELECT plan(21);

-- Function bodies as they run, without their -- comments (a comment may name what it avoids). Text after a
-- '--' inside a string literal goes too, which can only hide a match, never make one.
CREATE TEMP TABLE bodies AS
    SELECT p.oid::regprocedure::text AS fn, l.lanname AS lang, p.prorettype = 'trigger'::regtype AS is_trigger,
           regexp_replace(p.prosrc, '--[^\n]*', '', 'g') AS src
      FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
     WHERE p.pronamespace IN ('api'::regnamespace, 'internal'::regnamespace, 'voxbook'::regnamespace)
       AND l.lanname IN ('sql', 'plpgsql');
SELECT cmp_ok((SELECT count(*)::int FROM bodies), '>', 100, 'the checks below see every function');

-- Citus cannot plan a SQL function whose query takes parameters and reads a distributed table ("could not
-- create distributed plan"), and inside a delegated call on a worker one silently returned no rows.
SELECT is(ARRAY(SELECT b.fn FROM bodies AS b
                 WHERE b.lang = 'sql'
                   AND EXISTS (SELECT 1 FROM pg_class AS c
                                WHERE c.relnamespace = 'voxbook'::regnamespace AND c.relkind IN ('r', 'p', 'v')
                                  AND b.src ~ ('\mvoxbook\.' || c.relname || '\M'))
                 ORDER BY 1),
          '{}'::text[], 'no SQL-language function reads a table (write it in PL/pgSQL)');

-- An advisory lock holds only on the node where it is taken; a row lock holds wherever the row's shard is.
-- The one exception: the calendar lock's single-node bodies (12_lookups.sql), which migrate installs only without
-- the citus extension (on Citus the same functions lock the calendars row; tests/pgtap/test_12_calendar_lock.sql).
SELECT is(ARRAY(SELECT b.fn FROM bodies AS b WHERE b.src ~* 'pg_(try_)?advisory'
                   AND NOT (b.fn IN ('internal.lock_calendar(uuid,text)', 'internal.lock_calendar_change(uuid,text)')
                            AND NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus'))
                 ORDER BY 1),
          '{}'::text[], 'no function takes an advisory lock (lock a row of the clinic instead)');

-- NOTIFY reaches listeners only on a single PostgreSQL; on Citus it fires on a worker, and a two-phase
-- commit after one fails. One helper sends it, and does nothing on Citus.
SELECT is(ARRAY(SELECT b.fn FROM bodies AS b
                 WHERE (b.src ~* 'pg_notify\s*\(' OR b.src ~ '\mNOTIFY\s+[a-z_]')
                   AND b.fn <> 'internal.notify(text,text)'
                 ORDER BY 1),
          '{}'::text[], 'only internal.notify sends a NOTIFY');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid
                       WHERE c.relnamespace = 'voxbook'::regnamespace AND NOT t.tgisinternal
                         AND t.tgfoid NOT IN ('voxbook.protect_referenced_by_holds()'::regprocedure)),
          'the only triggers are the holds guards of calendars and services');

-- Citus sends a parameter as a constant and rewrites `CASE <parameter> WHEN 'x'` into a comparison of the
-- wrong types (CASE 'otp'::text WHEN NULL::boolean); a searched CASE is what it routes right. None at all,
-- so that nobody has to decide when a simple CASE is safe. Allowed here by name if ever needed:
CREATE TEMP TABLE simple_case_allowed (fn text);
SELECT is(ARRAY(SELECT b.fn FROM bodies AS b
                 WHERE b.src ~* '\mCASE\s+(?!\s|WHEN\M)'
                   AND b.fn NOT IN (SELECT fn FROM simple_case_allowed)
                 ORDER BY 1),
          '{}'::text[], 'no simple CASE <expression> WHEN in a function body (write CASE WHEN x = ...)');

-- On a shard a trigger's TG_TABLE_NAME is calendars_102037: a trigger is told by argument what it guards.
SELECT is(ARRAY(SELECT b.fn FROM bodies AS b WHERE b.is_trigger AND b.src ~* 'TG_TABLE_NAME' ORDER BY 1),
          '{}'::text[], 'no trigger function looks at TG_TABLE_NAME');
SELECT set_eq($$SELECT pg_get_triggerdef(t.oid) FROM pg_trigger AS t
                 WHERE t.tgname IN ('calendars_keep_holds', 'services_keep_holds')$$,
              ARRAY['CREATE TRIGGER calendars_keep_holds BEFORE DELETE OR UPDATE OF org_id, id ON voxbook.calendars '
                    'FOR EACH ROW EXECUTE FUNCTION voxbook.protect_referenced_by_holds(''calendar_id'')',
                    'CREATE TRIGGER services_keep_holds BEFORE DELETE OR UPDATE OF org_id, id ON voxbook.services '
                    'FOR EACH ROW EXECUTE FUNCTION voxbook.protect_referenced_by_holds(''service_id'')'],
              'the holds guards name the holds column they compare');

-- Citus enforces uniqueness per shard: every unique or exclusion index of a clinic table includes org_id.
SELECT is(ARRAY(SELECT i.indexrelid::regclass::text
                  FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indrelid
                  JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped
                 WHERE c.relnamespace = 'voxbook'::regnamespace AND (i.indisunique OR i.indisexclusion)
                   AND NOT a.attnum = ANY (i.indkey)
                 ORDER BY 1),
          '{}'::text[], 'every unique or exclusion index of a clinic table includes org_id');

-- A clinic's zone is a key into voxbook.time_zones (0019), not a CHECK calling a function: a subtransaction in
-- a CHECK broke multi-row inserts on Citus, and reading pg_timezone_names cost 9-20 ms per clinic written.
SELECT is((SELECT pg_get_constraintdef(c.oid) FROM pg_constraint AS c
            WHERE c.conrelid = 'voxbook.organizations'::regclass AND c.conname = 'organizations_time_zone_fkey'),
          'FOREIGN KEY (time_zone) REFERENCES voxbook.time_zones(name) ON UPDATE CASCADE',
          'organizations.time_zone refers to time_zones');
SELECT is(ARRAY(SELECT z FROM unnest(ARRAY['America/New_York', 'Europe/London', 'UTC', 'Etc/GMT+5', 'Asia/Kolkata',
                                           'EST', '+05', 'Mars/Olympus', '', 'utc', 'america/new_york',
                                           'America/New_York ', 'posix/Europe/Paris', 'right/UTC', 'EST5EDT'])
                                    WITH ORDINALITY AS x(z, i)
                 WHERE z IN (SELECT t.name FROM voxbook.time_zones AS t) ORDER BY i),
          ARRAY['America/New_York', 'Europe/London', 'UTC', 'Etc/GMT+5', 'Asia/Kolkata'],
          'IANA names are listed; abbreviations, offsets, POSIX rules, other spellings and the posix/ and right/ copies are not');
SELECT is((SELECT count(*)::int FROM pg_catalog.pg_timezone_names AS z
            WHERE (z.name ~ '/' OR z.name = 'UTC') AND z.name !~ '^(posix|right)/'
              AND z.name NOT IN (SELECT t.name FROM voxbook.time_zones AS t)), 0,
          'every IANA name this PostgreSQL knows is listed (db/functions/62_time_zones.sql adds new ones on migrate)');
SELECT lives_ok($$INSERT INTO voxbook.organizations (name, phone, time_zone)
                  VALUES ('Zone A', '+15557770001', 'America/Chicago'), ('Zone B', '+15557770002', 'Europe/Berlin')$$,
                'several clinics in one INSERT');
SELECT throws_ok($$INSERT INTO voxbook.organizations (name, phone, time_zone) VALUES ('Zone C', '+15557770003', 'CST')$$,
                 '23503', NULL, 'a clinic in an abbreviation is refused');
-- What a function setting a clinic's zone calls first: the listed spelling, or a clear VB400.
SELECT is(ARRAY[internal.require_time_zone('Europe/Berlin'), internal.require_time_zone(' america/new_york ')],
          ARRAY['Europe/Berlin', 'America/New_York'], 'require_time_zone gives the listed spelling');
SELECT throws_ok($$SELECT internal.require_time_zone('EST')$$, 'VB400', 'unknown time zone', 'and refuses an abbreviation with VB400');
SELECT matches(tests.hint_of($$SELECT internal.require_time_zone('Mars/Olympus')$$), 'IANA zone name such as America/New_York',
               '... with a HINT naming what it takes');

-- api.run_tool_call inserts its row before it runs the function (a twin waits on that row), and fills in
-- the response in the same transaction: a committed row always has one; a call that raises leaves none.
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic() AS org;
SELECT tests.freeze_time('2030-01-14 12:00:00+00');
SELECT throws_ok(format($$SELECT api.run_tool_call(%L, 'tc-bad', 'check', 'check_availability', '{"date": "2030-01-15", "days": "0"}')$$,
                        (SELECT org FROM ctx)),
                 'VB400', 'days must be between 1 and 62', 'a tool call whose function raises');
SELECT is((SELECT count(*)::int FROM voxbook.tool_calls AS t
            WHERE t.org_id = (SELECT org FROM ctx) AND t.tool_call_id = 'tc-bad'), 0, 'leaves no row');
SELECT ok((api.run_tool_call((SELECT org FROM ctx), 'tc-good', 'check', 'check_availability',
                              '{"date": "2030-01-15"}')->>'success')::boolean, 'a tool call that runs');
SELECT is((SELECT t.response->'answer'->>'success' FROM voxbook.tool_calls AS t
            WHERE t.org_id = (SELECT org FROM ctx) AND t.tool_call_id = 'tc-good'), 'true',
          'a tool call that ran stores its response with its row');

SELECT * FROM finish();
ROLLBACK;
