-- api.run_tool_call runs claim_slot_atomic, the hot tool, as a static call (55_tool_calls.sql): the same answers
-- and the same errors as the general (dynamic) path and a direct call. Run as the API role.
BEGIN;
SELECT plan(7);

CREATE TEMP TABLE ctx AS SELECT tests.create_clinic() AS org;
SELECT tests.freeze_time('2030-01-14 12:00:00+00');
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

CREATE TEMP TABLE ran AS
    SELECT api.run_tool_call((SELECT org FROM ctx), 'tc-c1', 'reserve_atomic', 'claim_slot_atomic',
                             jsonb_build_object('calendar_id', 'cal-a', 'slot_time', tests.at((SELECT org FROM ctx), '2030-01-15 10:00'),
                                                'patient_name', 'Ann Lee', 'patient_phone', '+1 (555) 201-0001',
                                                'call_sid', 'call-c1', 'hold_minutes', '5', 'service', 'Consultation'),
                             'call-c1') AS j;
SELECT is((SELECT j #>> '{response,answer,success}' FROM ran), 'true', 'a claim through the tool call succeeds');
SELECT is((SELECT (j #>> '{response,answer,expires_at}')::timestamptz FROM ran), timestamptz '2030-01-14 12:05:00+00',
          'with every argument passed on (hold_minutes)');
RESET ROLE;
SELECT is((SELECT concat_ws(' ', h.service_id, h.vapi_call_id, h.patient_phone::text) FROM voxbook.holds AS h
            WHERE h.org_id = (SELECT org FROM ctx)), 'consultation call-c1 +15552010001',
          'the service by name, the call and the normalised phone');
SET LOCAL ROLE voxbook_api;
SELECT is((SELECT api.run_tool_call((SELECT org FROM ctx), 'tc-c2', 'reserve_atomic', 'claim_slot_atomic',
                                    jsonb_build_object('calendar_id', 'cal-a', 'slot_time', tests.at((SELECT org FROM ctx), '2030-01-15 10:00'),
                                                       'call_sid', 'call-c2', 'patient_name', NULL), 'call-c2')
                  #>> '{response,answer,code}'), 'slot_taken', 'a JSON null is an absent argument; the slot is taken');
SELECT throws_ok(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-c3', 'reserve_atomic',
                        'claim_slot_atomic', '{"calendar_id": "cal-a", "slot_time": "2030-13-45T10:00:00Z"}'),
                 '22008', NULL, 'an impossible time is PostgreSQL''s own error, as in a direct call');
SELECT throws_ok(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-c4', 'reserve_atomic',
                        'claim_slot_atomic', '{"calendar_id": "cal-a", "slot_time": "2030-01-15T15:00:00Z", "hold_minutes": "ten"}'),
                 '22P02', NULL, 'a number that is none too');
SELECT throws_ok(format('SELECT api.run_tool_call(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'tc-c5', 'reserve_atomic',
                        'claim_slot_atomic', '{"calendar_id": "cal-a", "slot_time": "2030-01-15T15:00:00Z", "colour": "red"}'),
                 '42883', NULL, 'an argument claim_slot_atomic does not have is refused as for any tool');

SELECT * FROM finish();
ROLLBACK;
