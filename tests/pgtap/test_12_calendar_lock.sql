-- db/functions/12_lookups.sql, the calendar lock: internal.lock_calendar (claims, shared) and
-- internal.lock_calendar_change (changes of bookable time, exclusive), and the 64_clinic_setup.sql helpers on it.
-- The body is chosen when migrate runs: an advisory lock keyed on (org_id, calendar_id) on a single PostgreSQL
-- (it writes nothing: a refused claim assigns no transaction id), the calendars row on Citus (an advisory lock
-- holds only on the node where it is taken). tests/citus runs this file on a coordinator: both are checked.
-- The races themselves (two connections): tests/test_calendar_lock.py and tests/citus/test_citus_calendar_lock.py.
BEGIN;
SELECT plan(17);

CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Lock Clinic', phone => '+15561210001') AS org,
                                tests.create_clinic('Lock Other', phone => '+15561210002') AS other,
                                EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus;
CREATE TEMP TABLE done AS SELECT api.deactivate_provider((SELECT other FROM ctx), 'cal-b', changed_by => 'lock test') AS j;
-- The advisory locks this backend holds: (key, mode), a bigint key being classid:objid (objsubid 1).
CREATE TEMP VIEW my_advisory AS
    SELECT (l.classid::bigint << 32) | l.objid::bigint AS key, l.mode FROM pg_locks AS l
     WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid() AND l.objsubid = 1 AND l.granted;

-- Which body migrate chose
SELECT is((SELECT prosrc ~ 'pg_advisory_xact_lock_shared\(' AND prosrc !~ 'FOR SHARE' FROM pg_proc
            WHERE oid = 'internal.lock_calendar(uuid,text)'::regprocedure),
          NOT (SELECT citus FROM ctx), 'lock_calendar: an advisory lock on a single node, none on Citus');
SELECT is((SELECT prosrc ~ 'FOR SHARE' AND prosrc !~ 'pg_advisory' FROM pg_proc
            WHERE oid = 'internal.lock_calendar(uuid,text)'::regprocedure),
          (SELECT citus FROM ctx), '... and the row FOR SHARE on Citus only');
SELECT is((SELECT prosrc ~ 'pg_advisory_xact_lock\(' FROM pg_proc WHERE oid = 'internal.lock_calendar_change(uuid,text)'::regprocedure),
          NOT (SELECT citus FROM ctx), 'lock_calendar_change: the exclusive advisory lock on a single node only');
SELECT ok((SELECT prosrc ~ 'FOR UPDATE' FROM pg_proc WHERE oid = 'internal.lock_calendar_change(uuid,text)'::regprocedure),
          '... and the row FOR UPDATE on both');

-- The key: one per (clinic, calendar), the same every time
SELECT is(internal.calendar_lock_key((SELECT org FROM ctx), 'cal-a'), internal.calendar_lock_key((SELECT org FROM ctx), 'cal-a'),
          'the key of a calendar is stable');
SELECT is((SELECT count(DISTINCT k) FROM (VALUES (internal.calendar_lock_key((SELECT org FROM ctx), 'cal-a')),
                                                 (internal.calendar_lock_key((SELECT org FROM ctx), 'cal-b')),
                                                 (internal.calendar_lock_key((SELECT other FROM ctx), 'cal-a'))) AS v(k)),
          3::bigint, '... and differs per calendar and per clinic');

-- The claim side: the active calendar, or VB404 (unknown, another clinic's, inactive)
SELECT is((internal.lock_calendar((SELECT org FROM ctx), 'cal-a')).display_name, 'Dr. Able', 'lock_calendar returns the calendar');
SELECT ok(CASE WHEN (SELECT citus FROM ctx) THEN true   -- a row lock on the shard's node: tests/citus checks what it does
               ELSE EXISTS (SELECT 1 FROM my_advisory AS l
                             WHERE l.key = internal.calendar_lock_key((SELECT org FROM ctx), 'cal-a') AND l.mode = 'ShareLock') END,
          '... holding the calendar''s advisory lock shared until the transaction ends (single node)');
SELECT throws_ok(format($$SELECT internal.lock_calendar(%L, 'cal-x')$$, (SELECT org FROM ctx)), 'VB404', 'unknown calendar',
                 'an unknown calendar is VB404');
SELECT throws_ok(format($$SELECT internal.lock_calendar(%L, 'cal-b')$$, (SELECT other FROM ctx)), 'VB404', 'unknown calendar',
                 'an inactive calendar is VB404');
SELECT throws_ok(format($$SELECT internal.lock_calendar(%L, NULL)$$, (SELECT org FROM ctx)), 'VB400', NULL,
                 'a missing calendar_id is VB400');

-- The change side: active or not, a row of NULLs when there is none
SELECT is((internal.lock_calendar_change((SELECT other FROM ctx), 'cal-b')).active, false,
          'lock_calendar_change returns an inactive calendar too');
SELECT ok(CASE WHEN (SELECT citus FROM ctx) THEN true
               ELSE EXISTS (SELECT 1 FROM my_advisory AS l
                             WHERE l.key = internal.calendar_lock_key((SELECT other FROM ctx), 'cal-b') AND l.mode = 'ExclusiveLock') END,
          '... holding its advisory lock exclusively (single node)');
SELECT is((internal.lock_calendar_change((SELECT org FROM ctx), 'cal-x')).id, NULL, '... and NULLs for an unknown one');
SELECT throws_ok(format($$SELECT internal.setup_calendar(%L, 'cal-x', lock => true)$$, (SELECT org FROM ctx)), 'VB404',
                 'unknown calendar', 'setup_calendar(..., lock => true) still says VB404 for it');

-- A clinic-wide closure: every calendar of the clinic, exclusively
SELECT lives_ok(format($$SELECT internal.lock_clinic_calendars(%L)$$, (SELECT org FROM ctx)), 'lock_clinic_calendars runs');
SELECT ok(CASE WHEN (SELECT citus FROM ctx) THEN true
               ELSE (SELECT count(*) FROM my_advisory AS l
                      WHERE l.mode = 'ExclusiveLock'
                        AND l.key IN (internal.calendar_lock_key((SELECT org FROM ctx), 'cal-a'),
                                      internal.calendar_lock_key((SELECT org FROM ctx), 'cal-b'))) = 2 END,
          '... holding every calendar''s advisory lock exclusively (single node)');

SELECT * FROM finish();
ROLLBACK;
