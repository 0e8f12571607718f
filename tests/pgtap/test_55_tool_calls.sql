-- api.run_tool_call: one Vapi tool call in one statement; a redelivered call is answered from the record.
-- Run as the API role; what is stored is read as the owner.
BEGIN;
SELECT plan(28);

CREATE TEMP TABLE ctx AS SELECT tests.create_clinic() AS org, tests.create_clinic() AS other;

SELECT tests.freeze_time('2030-01-14 12:00:00+00');   -- Monday, 07:00 in New York
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE claim_args AS
    SELECT jsonb_build_object('calendar_id', 'cal-a', 'slot_time', tests.at((SELECT org FROM ctx), '2030-01-15 10:00'),
                              'patient_name', 'Ann Lee', 'patient_phone', '+1 (555) 201-0001', 'call_sid', 'call-r1') AS a;
CREATE TEMP TABLE run1 AS
    SELECT api.run_tool_call((SELECT org FROM ctx), 'tc-r1', 'reserve_atomic', 'claim_slot_atomic',
                             (SELECT a FROM claim_args), 'vapi-call-r') AS j;
SELECT is((SELECT j - 'response' FROM run1), '{"success": true, "replay": false, "tool_call_id": "tc-r1"}'::jsonb,
          'a new call runs');
SELECT is((SELECT j #>> '{response,answer,success}' FROM run1), 'true', 'and answers with the function''s result');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM voxbook.holds AS h WHERE h.org_id = (SELECT org FROM ctx) AND h.vapi_call_id = 'call-r1'),
          1, 'the function ran once');
SELECT is((SELECT t.response FROM voxbook.tool_calls AS t WHERE t.org_id = (SELECT org FROM ctx) AND t.tool_call_id = 'tc-r1'),
          (SELECT j->'response' FROM run1), 'the result is stored');
SELECT is((SELECT t.vapi_call_id FROM voxbook.tool_calls AS t WHERE t.org_id = (SELECT org FROM ctx) AND t.tool_call_id = 'tc-r1'),
          'vapi-call-r', 'with the Vapi call id');

SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE run2 AS
    SELECT api.run_tool_call((SELECT org FROM ctx), 'tc-r1', 'reserve_atomic', 'claim_slot_atomic',
                             (SELECT a FROM claim_args), 'vapi-call-r') AS j;
SELECT is((SELECT j->>'replay' FROM run2), 'true', 'the same id again is a replay');
SELECT is((SELECT j->'response' FROM run2), (SELECT j->'response' FROM run1), 'with the first result, unchanged');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM voxbook.holds AS h WHERE h.org_id = (SELECT org FROM ctx)), 1,
          'and no second hold');
SET LOCAL ROLE voxbook_api;
SELECT is(api.run_tool_call((SELECT org FROM ctx), 'tc-r1', 'reserve_atomic', 'claim_slot_atomic', '{}')->'response',
          (SELECT j->'response' FROM run1), 'a replay needs no arguments: the id decides');
SELECT is(api.run_tool_call((SELECT other FROM ctx), 'tc-r1', 'check_availability', 'check_availability',
                            '{"date": "2030-01-15", "max_slots": "1"}')->>'replay',
          'false', 'another clinic''s tool call ids are its own');

SELECT throws_ok(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-r1',
                        'send_otp_code', 'send_otp_code', '{}'),
                 'VB409', NULL, 'an id used for another tool is a conflict');
SELECT throws_ok(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-r1',
                        'reserve_atomic', 'claim_slot_atomic', '{}', 'vapi-call-someone-else'),
                 'VB409', NULL, 'an id used in another call is a conflict, never the other caller''s answer');
SELECT throws_ok(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), ' ',
                        'check_availability', 'check_availability', '{"date": "2030-01-15"}'),
                 'VB400', NULL, 'a blank tool_call_id is refused');
SELECT throws_ok(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), repeat('x', 201),
                        'check_availability', 'check_availability', '{"date": "2030-01-15"}'),
                 'VB400', NULL, 'an overlong tool_call_id is refused');
SELECT throws_ok(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', gen_random_uuid(), 'tc-r9',
                        'check_availability', 'check_availability', '{"date": "2030-01-15"}'),
                 'VB404', NULL, 'an unknown clinic is refused');
SELECT throws_ok(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-r2',
                        'x', 'issue_dashboard_token', '{}'),
                 'VB400', NULL, 'only tool functions can be run');
SELECT throws_ok(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-r2',
                        'x', 'get_appointment', '{}'),
                 'VB400', NULL, 'not even other api functions');
SELECT throws_ok(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-r2',
                        'check_availability', 'check_availability',
                        jsonb_build_object('org_id', (SELECT other FROM ctx), 'date', '2030-01-15')),
                 'VB400', NULL, 'args cannot name another clinic');
SELECT throws_ok(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-r2',
                        'check_availability', 'check_availability', '["2030-01-15"]'),
                 'VB400', NULL, 'args must be an object');
SELECT throws_ok(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-r2',
                        'check_availability', 'check_availability', '{"date": "2030-02-31"}'),
                 '22008', NULL, 'a bad value is PostgreSQL''s own error, as in a direct call');
SELECT throws_ok(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-r2',
                        'reserve_atomic', 'claim_slot_atomic',
                        (SELECT a || '{"calendar_id": "cal-zzz"}' FROM claim_args)),
                 'VB404', NULL, 'the function''s own errors come through');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM voxbook.tool_calls AS t WHERE t.tool_call_id IN ('tc-r2', 'tc-r9', ' ')), 0,
          'failed calls store nothing');

SET LOCAL ROLE voxbook_api;
-- A lost race is one statement too: the refusal, with the other times to offer, is the stored result.
CREATE TEMP TABLE lost AS
    SELECT api.run_tool_call((SELECT org FROM ctx), 'tc-r3', 'reserve_atomic', 'claim_slot_atomic',
                             (SELECT a || '{"call_sid": "call-r3"}' FROM claim_args), 'vapi-call-r3') AS j;
SELECT is((SELECT j #>> '{response,answer,code}' FROM lost), 'slot_taken', 'the slot is taken');
SELECT is((SELECT jsonb_array_length(j #> '{response,answer,alternatives}') FROM lost), 2,
          'and the answer carries two other times');
RESET ROLE;
SELECT is((SELECT t.response FROM voxbook.tool_calls AS t WHERE t.org_id = (SELECT org FROM ctx) AND t.tool_call_id = 'tc-r3'),
          (SELECT j->'response' FROM lost), 'stored as it was answered');
SET LOCAL ROLE voxbook_api;
-- Other times taken since change nothing in the replay: it is the stored result, not a new look.
CREATE TEMP TABLE taken_since AS
    SELECT api.claim_slot_atomic((SELECT org FROM ctx), a->>'calendar_id', (a->>'time')::timestamptz, 'call-x' || n)
      FROM lost, jsonb_array_elements(j #> '{response,answer,alternatives}') WITH ORDINALITY AS x(a, n);
SELECT is(api.run_tool_call((SELECT org FROM ctx), 'tc-r3', 'reserve_atomic', 'claim_slot_atomic',
                            (SELECT a || '{"call_sid": "call-r3"}' FROM claim_args))->'response',
          (SELECT j->'response' FROM lost), 'a replay of the lost race is the first answer');

SELECT ok(has_function_privilege('voxbook_api', 'api.run_tool_call(uuid, text, text, text, jsonb, text)', 'EXECUTE'),
          'the API role may run tool calls');
RESET ROLE;
SELECT ok(NOT has_table_privilege('voxbook_api', 'voxbook.tool_calls', 'SELECT'),
          'but cannot read the table');

SELECT * FROM finish();
ROLLBACK;
