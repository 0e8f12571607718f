-- api.begin_tool_call / api.finish_tool_call: a redelivered Vapi tool call is answered from the record.
BEGIN;
SELECT plan(16);

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

SELECT ok(has_function_privilege('voxbook_api', 'api.begin_tool_call(uuid, text, text)', 'EXECUTE')
          AND has_function_privilege('voxbook_api', 'api.finish_tool_call(uuid, text, text, jsonb, text)', 'EXECUTE'),
          'the API role may run both');
SELECT ok(NOT has_table_privilege('voxbook_api', 'voxbook.tool_calls', 'SELECT'),
          'but cannot read the table');

SELECT * FROM finish();
ROLLBACK;
