-- api.purge_tool_calls: old tool call records go, the replay window stays. Run as the API role (the worker's).
BEGIN;
SELECT plan(11);

CREATE TEMP TABLE ctx AS SELECT tests.create_clinic() AS org, tests.create_clinic() AS other;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
SELECT is(api.run_tool_call((SELECT org FROM ctx), 'tc-old', 'check_availability', 'check_availability',
                            '{"date": "2030-01-15", "max_slots": "1"}', 'call-old')->>'replay', 'false', 'an old call');
SELECT is(api.run_tool_call((SELECT org FROM ctx), 'tc-new', 'check_availability', 'check_availability',
                            '{"date": "2030-01-15", "max_slots": "1"}', 'call-new')->>'replay', 'false', 'a recent call');
SELECT is(api.run_tool_call((SELECT other FROM ctx), 'tc-other', 'check_availability', 'check_availability',
                            '{"date": "2030-01-15", "max_slots": "1"}', 'call-other')->>'replay', 'false',
          'another clinic''s old call');
RESET ROLE;
UPDATE voxbook.tool_calls SET created_at = now() - interval '3 days' WHERE tool_call_id IN ('tc-old', 'tc-other');
UPDATE voxbook.tool_calls SET created_at = now() - interval '23 hours' WHERE tool_call_id = 'tc-new';

SET LOCAL ROLE voxbook_api;
SELECT throws_ok('SELECT api.purge_tool_calls(older_than => ''1 hour'')', 'VB400', NULL,
                 'a window shorter than a day is refused: it would cut the replay of running calls');
SELECT throws_ok('SELECT api.purge_tool_calls(older_than => ''100 years'')', 'VB400', NULL, 'a huge window is refused');
SELECT throws_ok('SELECT api.purge_tool_calls(older_than => NULL)', 'VB400', NULL, 'older_than is required');
SELECT throws_ok(format('SELECT api.purge_tool_calls(%L)', gen_random_uuid()), 'VB404', NULL, 'an unknown clinic is refused');

SELECT is(api.purge_tool_calls((SELECT org FROM ctx))->'deleted', '1'::jsonb, 'one clinic''s old record goes');
SELECT is(api.purge_tool_calls()->'deleted', '1'::jsonb, 'then every clinic''s (the default: two days)');
RESET ROLE;
SELECT is((SELECT array_agg(tool_call_id ORDER BY tool_call_id) FROM voxbook.tool_calls
            WHERE org_id IN ((SELECT org FROM ctx), (SELECT other FROM ctx))), ARRAY['tc-new'],
          'the call answered within the window is kept');
SET LOCAL ROLE voxbook_api;
SELECT is(api.run_tool_call((SELECT org FROM ctx), 'tc-new', 'check_availability', 'check_availability', '{}',
                            'call-new')->>'replay', 'true', 'and a redelivery of it is still answered from the record');

SELECT * FROM finish();
ROLLBACK;
