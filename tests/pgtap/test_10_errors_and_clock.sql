-- Dates and instants: every api function taking one refuses infinite, pre-2000 and far-future values
-- (VB400, with a hint) before doing any work, and writes nothing. Before, check_availability(org,
-- 'infinity') never ended: generate_series from infinity. The statement_timeout turns such a hang into a
-- failure of this file instead of a stuck suite.
BEGIN;
SELECT plan(25);
SET LOCAL statement_timeout = '10s';

SELECT tests.freeze_time('2030-01-14 12:00:00+00');
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Dates Clinic') AS org;
CREATE TEMP TABLE appt AS
SELECT (api.confirm_held_slot(
           (api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-16 09:00'),
                                  'call-d', 'Dee', '+15554020001')->>'hold_id')::uuid,
           (SELECT org FROM ctx), staff_user => 'desk')->>'appointment_id')::uuid AS id;
CREATE TEMP TABLE before AS
SELECT (SELECT count(*) FROM voxbook.holds) AS holds, (SELECT count(*) FROM voxbook.tool_calls) AS tool_calls;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;   -- the refusals below are what the API role gets

-- check_availability
SELECT throws_ok(format($$SELECT api.check_availability((SELECT org FROM ctx), %L)$$, d),
                 'VB400', 'date is out of range', format('check_availability refuses %s', d))
  FROM unnest(ARRAY['infinity', '-infinity', '4713-01-01 BC', '0001-01-01', '1999-12-31',
                    ('2030-01-14'::date + 10000)::text]) AS d;
SELECT throws_ok($$SELECT api.check_availability((SELECT org FROM ctx), NULL)$$,
                 'VB400', 'date is required', 'check_availability requires a date');
SELECT throws_ok($$SELECT api.check_availability((SELECT org FROM ctx), '2030-01-15', days => 100000)$$,
                 'VB400', 'days must be between 1 and 62', 'a huge range of days is refused');
SELECT throws_ok($$SELECT api.check_availability((SELECT org FROM ctx), '2030-01-15', max_slots => 0)$$,
                 'VB400', 'max_slots must be at least 1', 'max_slots below 1 is refused');
SELECT is(api.check_availability((SELECT org FROM ctx), '2000-01-01')->'slots', '[]'::jsonb,
          'the first accepted date answers (no slots in the past)');
SELECT is(api.check_availability((SELECT org FROM ctx), '2034-12-31')->'slots', '[]'::jsonb,
          'a date within five years answers (no slots beyond the clinic''s horizon)');
SELECT is(tests.hint_of($$SELECT api.check_availability((SELECT org FROM ctx), 'infinity')$$),
          'Give a real date from 2000 to five years ahead, e.g. 2026-03-02 (a time: 2026-03-02T14:00:00Z).',
          'the refusal says what is accepted');

-- the Vapi and /rpc path: the same function, through api.run_tool_call
SELECT throws_ok($$SELECT api.run_tool_call((SELECT org FROM ctx), 'tc-inf', 'check_availability', 'check_availability',
                                            '{"date": "infinity"}')$$,
                 'VB400', 'date is out of range', 'a tool call asking for infinity is refused, not run');

-- claim_slot_atomic and reschedule_appointment
SELECT throws_ok(format($$SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', %L, 'call-x')$$, t),
                 'VB400', 'slot_time is out of range', format('claim_slot_atomic refuses %s', t))
  FROM unnest(ARRAY['infinity', '-infinity', '1999-12-31 23:30:00+00', '2080-01-01 15:00:00+00']) AS t;
SELECT throws_ok(format($$SELECT api.reschedule_appointment((SELECT id FROM appt), (SELECT org FROM ctx), %L)$$, t),
                 'VB400', 'slot_time is out of range', format('reschedule_appointment refuses %s', t))
  FROM unnest(ARRAY['infinity', '-infinity', '0001-01-01 00:00:00 BC']) AS t;

-- dashboard_schedule: from_date is optional, but not anything
SELECT throws_ok(format($$SELECT api.dashboard_schedule((SELECT org FROM ctx), %L)$$, d),
                 'VB400', 'from_date is out of range', format('dashboard_schedule refuses %s', d))
  FROM unnest(ARRAY['infinity', '-infinity', '1900-01-01']) AS d;
SELECT is(api.dashboard_schedule((SELECT org FROM ctx))->>'today', '2030-01-14', 'without from_date it shows today');

RESET ROLE;
SELECT is((SELECT ROW((SELECT count(*) FROM voxbook.holds), (SELECT count(*) FROM voxbook.tool_calls))::text),
          (SELECT ROW(holds, tool_calls)::text FROM before), 'none of the refused calls wrote anything');

SELECT * FROM finish();
ROLLBACK;
