-- The shape of the database (db/functions/00_api_schema.sql, 99_grants.sql, the migrations): what a DBA
-- and the API role can rely on.
BEGIN;
SELECT plan(25);

SELECT has_schema('api');
SELECT has_schema('voxbook');
SELECT has_schema('internal');
-- Schema voxbook holds the tables, exactly the functions they depend on and the migrations' own helper
-- (distribute_if_citus, 0019; migrations own them all); every helper of the api is in schema internal, rebuilt
-- with api on every migrate (db/functions/00_api_schema.sql), so a removed or re-signatured helper cannot linger.
SELECT set_eq($$SELECT p.oid::regprocedure::text FROM pg_proc AS p WHERE p.pronamespace = 'voxbook'::regnamespace$$,
              ARRAY['voxbook.distribute_if_citus(regclass)', 'voxbook.protect_referenced_by_holds()'],
              'schema voxbook has exactly the functions its tables and its migrations use');
SELECT set_eq($$SELECT DISTINCT p.oid::regprocedure::text
                  FROM pg_proc AS p JOIN pg_depend AS d ON d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid
                 WHERE p.pronamespace = 'voxbook'::regnamespace AND d.classid <> 'pg_proc'::regclass$$,
              ARRAY['voxbook.protect_referenced_by_holds()'],
              'and each of the others is used by a constraint or trigger');
SELECT is((SELECT count(*) FROM pg_depend AS d JOIN pg_proc AS p ON d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid
            WHERE p.pronamespace IN ('api'::regnamespace, 'internal'::regnamespace) AND d.classid <> 'pg_proc'::regclass),
          0::bigint, 'no table, constraint, default, index or trigger uses a function that migrate drops');
SELECT cmp_ok((SELECT count(*)::int FROM pg_proc AS p WHERE p.pronamespace = 'internal'::regnamespace), '>=', 60,
              'the helpers are in schema internal');
-- Explicit lists: a table or api function added, renamed or dropped must be named here too.
SELECT tables_are('voxbook', ARRAY[
    'appointments', 'blocked_periods', 'calendar_feed_tokens', 'calendars', 'calls', 'code_events', 'code_limit_locks', 'contacts',
    'dashboard_sessions', 'dashboard_tokens', 'holds', 'hot_lead_alerts', 'message_templates', 'organizations', 'services',
    'sms_consent_events', 'sms_inbound', 'sms_outbox', 'time_zones', 'tool_calls', 'working_hours',
    'call_locales', 'locale_formats', 'countries', 'carrier_accounts',
    'service_providers', 'hours_exceptions', 'audit_log',
    'sms_inbox', 'caller_verifications', 'callback_requests', 'waitlist', 'waitlist_offers',
    'staff_accounts', 'staff_invites', 'sign_in_attempts', 'calendar_connections', 'calendar_pushes'],
    'exactly these tables are in the private schema');
-- One name for each call id: Vapi's call.id is vapi_call_id in every table, Twilio's CallSid is provider_call_sid,
-- hot_lead_alerts.call_id is the calls row (uuid), tool_call_id is Vapi's toolCallId.
SELECT set_eq($$SELECT c.relname || '.' || a.attname FROM pg_attribute AS a JOIN pg_class AS c ON c.oid = a.attrelid
                 WHERE c.relnamespace = 'voxbook'::regnamespace AND c.relkind = 'r' AND a.attnum > 0
                   AND NOT a.attisdropped AND a.attname ~ 'call_(sid|id)$'$$,
              ARRAY['calls.vapi_call_id', 'tool_calls.vapi_call_id', 'holds.vapi_call_id', 'appointments.vapi_call_id',
                    'code_events.vapi_call_id', 'calls.provider_call_sid', 'hot_lead_alerts.call_id',
                    'tool_calls.tool_call_id', 'call_locales.vapi_call_id', 'caller_verifications.vapi_call_id',
                    'callback_requests.vapi_call_id', 'waitlist.vapi_call_id'],
              'the columns naming a call: vapi_call_id for Vapi''s call.id everywhere');
SELECT functions_are('api', ARRAY[
    -- 20_booking.sql
    'check_availability', 'claim_slot_atomic', 'release_hold', 'confirm_held_slot', 'expire_stale_holds', 'get_hold',
    'book_for_patient',
    -- 30_codes.sql
    'send_otp_code', 'verify_otp', 'code_status',
    -- 40_appointments.sql
    'send_confirmation_sms', 'cancel_appointment', 'reschedule_appointment', 'get_appointment',
    'list_appointments', 'find_patient', 'list_problem_sms',
    -- 42_my_appointments.sql
    'find_my_appointments', 'cancel_my_appointment', 'reschedule_my_appointment', 'caller_greeting',
    -- 45_sms_delivery.sql
    'claim_sms_batch', 'begin_sms_send', 'mark_sms_sent', 'mark_sms_sent_batch', 'mark_sms_failed',
    'release_sms_claims', 'record_sms_status', 'record_inbound_sms',
    -- 46_sms_replies.sql
    'list_sms_inbox', 'resolve_sms_inbox_item',
    -- 48_waitlist.sql
    'join_waitlist', 'offer_waitlist_openings', 'list_waitlist', 'remove_from_waitlist',
    -- 49_calendar_sync.sql
    'connect_calendar', 'disconnect_calendar', 'list_calendar_connections', 'get_calendar_connection',
    'calendar_sync_problems', 'claim_calendar_syncs', 'claim_calendar_sync', 'calendar_push_plan',
    'record_calendar_push', 'apply_calendar_import', 'finish_calendar_sync', 'release_calendar_claims',
    'list_calendar_conflicts',
    -- 47_carrier_accounts.sql
    'set_carrier_account', 'clear_carrier_account', 'get_carrier_account', 'find_inbound_carrier_accounts',
    'list_carrier_accounts',
    -- 50_calls.sql
    'score_lead', 'record_call_end', 'get_call',
    -- 52_front_desk.sql
    'front_desk_transfer', 'record_transfer_failure', 'list_callback_requests', 'resolve_callback_request',
    -- 55_tool_calls.sql
    'run_tool_call', 'run_tool', 'set_call_language', 'purge_tool_calls',
    -- 64_clinic_setup.sql
    'create_clinic', 'update_clinic', 'get_clinic', 'upsert_provider', 'deactivate_provider', 'upsert_service',
    'set_working_hours', 'set_hours_exception', 'block_time', 'unblock_time', 'list_blocks', 'list_audit',
    -- 60_organizations.sql, 65_config.sql
    'find_organization', 'get_organization', 'config_problems',
    -- 70_dashboard.sql
    'issue_dashboard_token', 'revoke_dashboard_token', 'dashboard_login', 'dashboard_session', 'dashboard_logout',
    'dashboard_hot_leads', 'dashboard_hot_lead', 'dashboard_lead', 'dashboard_reveal_phone', 'dashboard_schedule',
    'dashboard_live_holds', 'issue_calendar_feed_token', 'revoke_calendar_feed_tokens', 'calendar_feed',
    -- 71_staff_accounts.sql
    'dashboard_login_accounts', 'invite_staff', 'staff_invite', 'accept_staff_invite', 'list_staff',
    'set_staff_role', 'deactivate_staff',
    -- 72_desk.sql
    'mark_attendance', 'list_failed_sms', 'resend_sms', 'block_local_time', 'staff_remove_from_waitlist',
    'dashboard_changes', 'dashboard_queues', 'dashboard_calendars', 'dashboard_hub_changes'],
    'exactly these functions are the api');
SELECT is((SELECT count(*) - count(DISTINCT p.proname) FROM pg_proc AS p WHERE p.pronamespace = 'api'::regnamespace), 0::bigint,
          'one signature each: no overload that could make a positional call ambiguous');
-- A new api function takes org_id first. These existing ones keep their published signatures (the seed's
-- release_hold(hold_id, org_id) order, functions without a clinic, lookups by a secret or number); a new
-- function that puts org_id elsewhere, or takes none, must be argued for here.
SELECT set_eq($$SELECT p.proname::text FROM pg_proc AS p
                 WHERE p.pronamespace = 'api'::regnamespace
                   AND (p.pronargs = 0 OR p.proargnames[1] IS DISTINCT FROM 'org_id')$$,
              ARRAY[-- (hold_id, org_id, ...) / (appointment_id, org_id, ...): the seed's order
                    'release_hold', 'confirm_held_slot', 'get_hold', 'send_otp_code', 'verify_otp',
                    'send_confirmation_sms', 'cancel_appointment', 'reschedule_appointment', 'get_appointment',
                    -- not one clinic's: the seed's scoring, the worker's queue, Twilio's callbacks, config
                    'score_lead', 'code_status', 'claim_sms_batch', 'release_sms_claims', 'mark_sms_sent_batch',
                    'record_sms_status', 'record_inbound_sms', 'config_problems',
                    -- the calendar sync worker's rounds over every clinic's calendars, doctor's check of them
                    'claim_calendar_syncs', 'release_calendar_claims', 'calendar_sync_problems',
                    -- a carrier's: the inbound webhook's account lookup, key rotation across clinics
                    'find_inbound_carrier_accounts', 'list_carrier_accounts',
                    -- the clinic is what they find: by its number, a dashboard secret, a feed's calendar
                    'find_organization', 'dashboard_login', 'dashboard_session', 'dashboard_logout', 'calendar_feed',
                    -- sign-in finds the accounts of an email (org_id optional, last); an invite link finds its clinic
                    'dashboard_login_accounts', 'staff_invite', 'accept_staff_invite',
                    -- makes the clinic: there is no org_id yet (an optional fixed one comes last)
                    'create_clinic',
                    -- the dashboard hub's one question per interval for every clinic with a browser open
                    'dashboard_hub_changes'],
              'every api function takes org_id first, but for these listed exceptions');

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
SELECT ok(NOT has_schema_privilege('voxbook_api', 'voxbook', 'USAGE')
          AND NOT has_schema_privilege('voxbook_api', 'internal', 'USAGE'),
          'the API role has no access to the private schemas');
SELECT is((SELECT count(*) FROM pg_proc AS p
            WHERE p.pronamespace IN ('internal'::regnamespace, 'voxbook'::regnamespace)
              AND (has_function_privilege('voxbook_api', p.oid, 'EXECUTE')
                   OR has_function_privilege('tests_stranger', p.oid, 'EXECUTE'))),
          0::bigint, 'nor EXECUTE on any function of internal or voxbook (revoked from PUBLIC)');
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
