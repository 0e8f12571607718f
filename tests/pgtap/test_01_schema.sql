-- The shape of the database API: what a DBA and the API role can rely on.
BEGIN;
SELECT plan(16);

SELECT has_schema('api');
SELECT has_schema('voxbook');
SELECT tables_are('voxbook', ARRAY['organizations', 'calendars', 'services', 'working_hours', 'blocked_periods',
                                   'contacts', 'holds', 'appointments', 'sms_outbox', 'calls', 'hot_lead_alerts']
                  || ARRAY(SELECT tablename::text FROM pg_tables
                            WHERE schemaname = 'voxbook' AND tablename NOT IN (
                                'organizations', 'calendars', 'services', 'working_hours', 'blocked_periods',
                                'contacts', 'holds', 'appointments', 'sms_outbox', 'calls', 'hot_lead_alerts')),
                  'the core tables exist in the private schema');
SELECT functions_are('api', ARRAY(SELECT p.proname::text FROM pg_proc AS p WHERE p.pronamespace = 'api'::regnamespace)
                     || ARRAY['check_availability', 'claim_slot_atomic', 'release_hold', 'confirm_held_slot',
                              'send_otp_code', 'verify_otp', 'send_confirmation_sms', 'cancel_appointment',
                              'reschedule_appointment', 'record_call_end', 'score_lead', 'expire_stale_holds',
                              'get_hold', 'get_appointment', 'find_organization', 'get_organization'],
                     'the booking API functions exist');

SELECT is((SELECT count(*) FROM pg_proc AS p
            WHERE p.pronamespace = 'api'::regnamespace AND coalesce(obj_description(p.oid, 'pg_proc'), '') = ''),
          0::bigint, 'every api function has a COMMENT');
SELECT is((SELECT count(*) FROM pg_proc AS p
            WHERE p.pronamespace = 'api'::regnamespace
              AND NOT (p.prosecdef AND p.proconfig::text LIKE '%search_path=pg_catalog%')),
          0::bigint, 'every api function is SECURITY DEFINER with a fixed search_path');
SELECT is((SELECT count(*) FROM pg_proc AS p
            WHERE p.pronamespace = 'api'::regnamespace AND p.pronargs > 0
              AND (p.proargnames IS NULL OR '' = ANY (p.proargnames[1:p.pronargs]))),
          0::bigint, 'every api function has named parameters');
SELECT is((SELECT count(*) FROM pg_proc AS p
            WHERE p.pronamespace = 'api'::regnamespace AND NOT has_function_privilege('voxbook_api', p.oid, 'EXECUTE')),
          0::bigint, 'the API role may execute every api function');

CREATE ROLE tests_stranger;
SELECT is((SELECT count(*) FROM pg_proc AS p
            WHERE p.pronamespace = 'api'::regnamespace AND has_function_privilege('tests_stranger', p.oid, 'EXECUTE')),
          0::bigint, 'nobody else may (EXECUTE is revoked from PUBLIC)');
SELECT ok(NOT has_schema_privilege('voxbook_api', 'voxbook', 'USAGE'), 'the API role has no access to the private schema');
SELECT is((SELECT count(*) FROM pg_class AS c
            WHERE c.relnamespace = 'voxbook'::regnamespace AND c.relkind IN ('r', 'v', 'S')
              AND (has_table_privilege('voxbook_api', c.oid, 'SELECT')
                   OR has_table_privilege('voxbook_api', c.oid, 'INSERT,UPDATE,DELETE'))),
          0::bigint, 'the API role holds no privilege on any table');

SET LOCAL ROLE voxbook_api;
SELECT throws_ok('SELECT * FROM voxbook.holds', '42501', NULL, 'the API role cannot read a table directly');
SELECT throws_ok($$UPDATE voxbook.appointments SET status = 'cancelled'$$, '42501', NULL, 'nor write one');
SELECT lives_ok($$SELECT api.score_lead(480, true, 'high')$$, 'but it can call the api');
RESET ROLE;

SELECT is((SELECT contype::text FROM pg_constraint WHERE conname = 'holds_no_overlap' AND conrelid = 'voxbook.holds'::regclass),
          'x', 'double booking is prevented by an exclusion constraint on holds');
SELECT ok((SELECT count(*) FROM _yoyo_migration WHERE migration_id = '0001_core') = 1,
          'the core migration is recorded by yoyo');

SELECT * FROM finish();
ROLLBACK;
