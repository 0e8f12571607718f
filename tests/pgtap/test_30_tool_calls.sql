-- api.begin_tool_call / api.finish_tool_call and api.run_tool_call: a redelivered Vapi tool call is answered
-- from the record.
BEGIN;
SELECT plan(37);

CREATE TEMP TABLE ctx AS SELECT tests.create_clinic() AS org, tests.create_clinic() AS other;

SELECT is(api.begin_tool_call((SELECT org FROM ctx), 'tc-1', 'reserve_atomic'),
          '{"success": true, "replay": false, "tool_call_id": "tc-1"}'::jsonb,
          'a new tool call is not a replay');
SELECT is(api.finish_tool_call((SELECT org FROM ctx), 'tc-1', 'reserve_atomic',
                               '{"result": "{\"success\":true}"}', 'vapi-call-1')->>'stored',
          'true', 'its answer is stored');
SELECT is((SELECT t.vapi_call_id FROM voxbook.tool_calls AS t WHERE t.org_id = (SELECT org FROM ctx) AND t.tool_call_id = 'tc-1'),
          'vapi-call-1', 'with the Vapi call id');

SELECT is(api.begin_tool_call((SELECT org FROM ctx), 'tc-1', 'reserve_atomic')->>'replay', 'true',
          'the same id again is a replay');
SELECT is(api.begin_tool_call((SELECT org FROM ctx), 'tc-1', 'reserve_atomic')->'response',
          '{"result": "{\"success\":true}"}'::jsonb, 'a replay carries the first answer');

SELECT is(api.finish_tool_call((SELECT org FROM ctx), 'tc-1', 'reserve_atomic', '{"error": "later"}'),
          '{"success": true, "stored": false, "tool_call_id": "tc-1", "response": {"result": "{\"success\":true}"}}'::jsonb,
          'storing again keeps the first answer');
SELECT is((SELECT count(*)::int FROM voxbook.tool_calls AS t WHERE t.org_id = (SELECT org FROM ctx)), 1,
          'one row per tool call');

SELECT is(api.begin_tool_call((SELECT other FROM ctx), 'tc-1', 'reserve_atomic')->>'replay', 'false',
          'another clinic''s tool call ids are its own');

SELECT is(tests.sqlstate_of(format('SELECT api.begin_tool_call(%L, %L, %L)', (SELECT org FROM ctx), 'tc-1', 'verify_otp')),
          'VB409', 'an id used for another tool is a conflict');
SELECT is(tests.sqlstate_of(format('SELECT api.begin_tool_call(%L, %L, %L)', (SELECT org FROM ctx), ' ', 'verify_otp')),
          'VB400', 'a blank tool_call_id is refused');
SELECT is(tests.sqlstate_of(format('SELECT api.begin_tool_call(%L, %L, %L)', (SELECT org FROM ctx), repeat('x', 201), 'verify_otp')),
          'VB400', 'an overlong tool_call_id is refused');
SELECT is(tests.sqlstate_of(format('SELECT api.begin_tool_call(%L, %L, %L)', gen_random_uuid(), 'tc-9', 'verify_otp')),
          'VB404', 'an unknown clinic is refused');
SELECT is(tests.sqlstate_of(format('SELECT api.finish_tool_call(%L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-2', 'x', '[1]')),
          'VB400', 'a response that is not an object is refused');
SELECT is((SELECT count(*)::int FROM voxbook.tool_calls AS t WHERE t.tool_call_id IN ('tc-2', 'tc-9')), 0,
          'refused calls write nothing');

-- api.run_tool_call: lock, replay or run and store, in one statement.
SET LOCAL voxbook.frozen_now = '2030-01-14 12:00:00+00';   -- Monday, 07:00 in New York
CREATE TEMP TABLE claim_args AS
    SELECT jsonb_build_object('calendar_id', 'cal-a', 'slot_time', tests.at((SELECT org FROM ctx), '2030-01-15 10:00'),
                              'patient_name', 'Ann Lee', 'patient_phone', '+1 (555) 201-0001', 'call_sid', 'call-r1') AS a;
CREATE TEMP TABLE run1 AS
    SELECT api.run_tool_call((SELECT org FROM ctx), 'tc-r1', 'reserve_atomic', 'claim_slot_atomic',
                             (SELECT a FROM claim_args), 'vapi-call-r', ARRAY['slot_taken']) AS j;
SELECT is((SELECT j - 'response' FROM run1), '{"success": true, "replay": false, "tool_call_id": "tc-r1"}'::jsonb,
          'run_tool_call: a new call runs');
SELECT is((SELECT j #>> '{response,answer,success}' FROM run1), 'true', 'and answers with the function''s result');
SELECT is((SELECT count(*)::int FROM voxbook.holds AS h WHERE h.org_id = (SELECT org FROM ctx) AND h.call_sid = 'call-r1'),
          1, 'the function ran once');
SELECT is((SELECT t.response FROM voxbook.tool_calls AS t WHERE t.org_id = (SELECT org FROM ctx) AND t.tool_call_id = 'tc-r1'),
          (SELECT j->'response' FROM run1), 'the answer is stored');
SELECT is((SELECT t.vapi_call_id FROM voxbook.tool_calls AS t WHERE t.org_id = (SELECT org FROM ctx) AND t.tool_call_id = 'tc-r1'),
          'vapi-call-r', 'with the Vapi call id');

CREATE TEMP TABLE run2 AS
    SELECT api.run_tool_call((SELECT org FROM ctx), 'tc-r1', 'reserve_atomic', 'claim_slot_atomic',
                             (SELECT a FROM claim_args), 'vapi-call-r', ARRAY['slot_taken']) AS j;
SELECT is((SELECT j->>'replay' FROM run2), 'true', 'the same id again is a replay');
SELECT is((SELECT j->'response' FROM run2), (SELECT j->'response' FROM run1), 'with the first answer, unchanged');
SELECT is((SELECT count(*)::int FROM voxbook.holds AS h WHERE h.org_id = (SELECT org FROM ctx)), 1,
          'and no second hold');
SELECT is(api.begin_tool_call((SELECT org FROM ctx), 'tc-r1', 'reserve_atomic')->'response',
          (SELECT j->'response' FROM run1), 'begin_tool_call replays it too');
SELECT is(api.run_tool_call((SELECT org FROM ctx), 'tc-1', 'reserve_atomic', 'claim_slot_atomic', '{}')->'response',
          '{"result": "{\"success\":true}"}'::jsonb, 'and run_tool_call replays what finish_tool_call stored');

SELECT is(tests.sqlstate_of(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-r1',
                                   'send_otp_code', 'send_otp_code', '{}')),
          'VB409', 'run_tool_call: an id used for another tool is a conflict');
SELECT is(tests.sqlstate_of(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-r2',
                                   'x', 'issue_dashboard_token', '{}')),
          'VB400', 'only tool functions can be run');
SELECT is(tests.sqlstate_of(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-r2',
                                   'x', 'get_appointment', '{}')),
          'VB400', 'not even other api functions');
SELECT is(tests.sqlstate_of(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-r2',
                                   'check_availability', 'check_availability',
                                   jsonb_build_object('org_id', (SELECT other FROM ctx), 'date', '2030-01-15'))),
          'VB400', 'args cannot name another clinic');
SELECT is(tests.sqlstate_of(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-r2',
                                   'check_availability', 'check_availability', '["2030-01-15"]')),
          'VB400', 'args must be an object');
SELECT is(tests.sqlstate_of(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-r2',
                                   'check_availability', 'check_availability', '{"date": "2030-02-31"}')),
          '22008', 'a bad value is PostgreSQL''s own error, as in a direct call');
SELECT is(tests.sqlstate_of(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-r2',
                                   'reserve_atomic', 'claim_slot_atomic',
                                   (SELECT a || '{"calendar_id": "cal-zzz"}' FROM claim_args))),
          'VB404', 'the function''s own errors come through');

-- The same slot for another call: slot_taken. Deferred: undone and not stored; not deferred: stored.
SELECT is(tests.sqlstate_of(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L, defer_codes => %L)',
                                   (SELECT org FROM ctx), 'tc-r3', 'reserve_atomic', 'claim_slot_atomic',
                                   (SELECT a || '{"call_sid": "call-r3"}' FROM claim_args), '{slot_taken}')),
          'VB303', 'a result with one of defer_codes is handed back to the caller');
SELECT is((SELECT count(*)::int FROM voxbook.tool_calls AS t WHERE t.tool_call_id IN ('tc-r2', 'tc-r3')), 0,
          'failed and deferred calls store nothing');
-- A refusal that writes (a wrong guess counts as an attempt) is undone when deferred.
SELECT is(api.send_otp_code((SELECT (j #>> '{response,answer,hold_id}')::uuid FROM run1), (SELECT org FROM ctx))->>'code_sent',
          'true', 'a code is sent for the hold');
SELECT is(tests.sqlstate_of(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L, defer_codes => %L)',
                                   (SELECT org FROM ctx), 'tc-r4', 'verify_otp', 'verify_otp',
                                   jsonb_build_object('hold_id', (SELECT j #>> '{response,answer,hold_id}' FROM run1),
                                                      'code', CASE tests.code_of((SELECT (j #>> '{response,answer,hold_id}')::uuid FROM run1))
                                                              WHEN '0000' THEN '1111' ELSE '0000' END),
                                   '{wrong_code}'))
          || '/' || (SELECT h.otp_attempts FROM voxbook.holds AS h WHERE h.id = (SELECT (j #>> '{response,answer,hold_id}')::uuid FROM run1)),
          'VB303/0', 'a deferred wrong guess is not counted');

SELECT ok(has_function_privilege('voxbook_api', 'api.begin_tool_call(uuid, text, text)', 'EXECUTE')
          AND has_function_privilege('voxbook_api', 'api.finish_tool_call(uuid, text, text, jsonb, text)', 'EXECUTE')
          AND has_function_privilege('voxbook_api', 'api.run_tool_call(uuid, text, text, text, jsonb, text, text[])', 'EXECUTE'),
          'the API role may run all three');
SELECT ok(NOT has_table_privilege('voxbook_api', 'voxbook.tool_calls', 'SELECT'),
          'but cannot read the table');

SELECT * FROM finish();
ROLLBACK;
