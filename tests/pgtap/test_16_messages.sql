-- The message catalogue (db/functions/16_messages.sql): every customer-facing text rendered from one table,
-- by key and language, with dates from the one set of formatters.
BEGIN;
SELECT plan(35);

-- Every key the SQL names is in the English catalogue (a typo would raise only when that text is due).
CREATE TEMP TABLE used_keys AS
    SELECT DISTINCT m[1] AS key
      FROM pg_proc AS p, regexp_matches(p.prosrc, $re$internal\.message\('([a-z_.]+)',$re$, 'g') AS m
     WHERE p.pronamespace IN ('api'::regnamespace, 'internal'::regnamespace);
SELECT cmp_ok((SELECT count(*)::int FROM used_keys), '>=', 30, 'the scan finds the keys the functions name');
SELECT is(ARRAY(SELECT key FROM used_keys EXCEPT SELECT t.key FROM voxbook.message_templates AS t WHERE t.language = 'en'),
          '{}'::text[], 'every key named in the SQL exists in English');
-- ... and the keys built from a kind or a tool function's name.
SELECT is(ARRAY(SELECT k FROM unnest(ARRAY['sms.confirmation', 'sms.reminder', 'sms.cancellation', 'sms.reschedule']) AS k
                 EXCEPT SELECT t.key FROM voxbook.message_templates AS t WHERE t.language = 'en'),
          '{}'::text[], 'every appointment SMS kind has its text');
SELECT is(ARRAY(SELECT 'spoken.' || f || '.success' FROM unnest(internal.tool_functions()) AS f
                 WHERE f <> 'check_availability'
                EXCEPT SELECT t.key FROM voxbook.message_templates AS t WHERE t.language = 'en'),
          '{}'::text[], 'every tool function has its success line');
SELECT is((SELECT count(*)::int FROM voxbook.message_templates AS t
            WHERE t.language = 'en' AND t.key LIKE 'sms.%' AND t.template <> internal.gsm7(t.template)), 0,
          'SMS templates are GSM-7');

-- Rendering: named placeholders, one pass, a clear error for a bug.
SELECT is(internal.message('sms.help', 'en', '{"clinic": "Bright Smile", "clinic_phone": "(555) 123-4567"}'),
          'Bright Smile: appointment texts. Call (555) 123-4567 for help. Reply STOP to unsubscribe.',
          'placeholders are filled by name');
SELECT is(internal.message('sms.help', 'en', '{"clinic": "{clinic_phone}", "clinic_phone": "x"}'),
          '{clinic_phone}: appointment texts. Call x for help. Reply STOP to unsubscribe.',
          'a value is never read as a template');
SELECT throws_ok($$SELECT internal.message('sms.no_such_text', 'en')$$, 'XX000', 'unknown message key ''sms.no_such_text''',
                 'an unknown key raises');
SELECT throws_ok($$SELECT internal.message('sms.help', 'en', '{"clinic": "A"}')$$, 'XX000',
                 'message ''sms.help'' needs the argument ''clinic_phone''', 'a missing argument raises');
-- A language is rows; what it lacks is English (a language with one row here: Spanish is complete).
INSERT INTO voxbook.message_templates (language, key, template)
VALUES ('sv', 'spoken.send_confirmation_sms.success', 'Perfekt! Titta i ditt sms.');
SELECT is(internal.message('spoken.send_confirmation_sms.success', 'sv'), 'Perfekt! Titta i ditt sms.',
          'a language''s own row is used');
SELECT is(internal.message('spoken.failed', 'sv'), 'Sorry, that did not work.', 'a key the language lacks falls back to English');
SELECT is(internal.message('spoken.failed', NULL), 'Sorry, that did not work.', 'no language is English');
SELECT is(internal.spoken_line('send_confirmation_sms', '{"success": true}', 'sv'), 'Perfekt! Titta i ditt sms.',
          'spoken lines come in the caller''s language');

-- Dates: one set of formatters, on the clinic's clock (DST included).
SELECT is(internal.when_parts('2030-03-10 15:00:00+00', 'America/New_York'),
          '{"day": "Sun, Mar 10", "spoken_time": "11 AM", "local_time": "Sun, Mar 10 at 11:00 AM"}'::jsonb,
          'the parts of a time on a spring-forward day (EDT)');
SELECT is(internal.when_parts('2030-11-03 06:30:00+00', 'America/New_York'),
          '{"day": "Sun, Nov 3", "spoken_time": "1:30 AM", "local_time": "Sun, Nov 3 at 1:30 AM"}'::jsonb,
          'and in the repeated hour of a fall-back day (EST)');

-- Spoken lines: pure functions of a tool function's result.
SELECT is(internal.spoken_line('verify_otp', '{"success": false, "code": "wrong_code", "retries_left": 2}', 'en'),
          'That''s not quite right. You have 2 more tries.', 'wrong code, two tries left');
SELECT is(internal.spoken_line('verify_otp', '{"success": false, "code": "wrong_code", "retries_left": 1}', 'en'),
          'That''s not quite right. You have 1 more try.', 'wrong code, one try left');
SELECT is(internal.spoken_line('send_otp_code', '{"success": false, "code": "rate_limited"}', 'en'),
          'I can''t send or check another code for this number right now. Let me have the front desk call you back to finish the booking.',
          'a line shared by tools');
SELECT is(internal.spoken_line('claim_slot_atomic', '{"success": false, "code": "slot_taken", "calendar_id": "cal-a",
          "alternatives": [{"calendar_id": "cal-a", "spoken_time": "9:30 AM", "provider": "Dr. Able"},
                           {"calendar_id": "cal-b", "spoken_time": "10 AM", "provider": "Dr. Baker"}]}', 'en'),
          'That time was just taken; I can offer 9:30 AM or 10 AM with Dr. Baker.',
          'a lost race offers the alternatives, naming another provider');
SELECT is(internal.spoken_line('reschedule_appointment', '{"success": false, "code": "slot_taken", "alternatives": []}', 'en'),
          'That time was just taken, so your appointment stays as it was. Shall I check another day?',
          'and says when there are none');
SELECT is(internal.spoken_line('cancel_appointment', '{"success": false, "code": "cancelled", "error": "The appointment is cancelled"}', 'en'),
          'Sorry, The appointment is cancelled.', 'a refusal without its own line says its error');
SELECT is(internal.spoken_line('cancel_appointment', '{"success": false}', 'en'), 'Sorry, that did not work.',
          'and without an error, a plain apology');
SELECT is(internal.spoken_line('check_availability', '{"success": true, "slots": [], "more": false}', 'en'),
          'Sorry, nothing is free then. Shall I check another day?', 'nothing free');
SELECT is(internal.spoken_line('check_availability', jsonb_build_object('success', true, 'time_zone', 'America/New_York',
              'more', true, 'slots', jsonb_build_array(
                  jsonb_build_object('time', '2030-01-15T14:00:00Z', 'spoken_time', '9 AM', 'local_time', 'Tue, Jan 15 at 9:00 AM'),
                  jsonb_build_object('time', '2030-01-15T14:00:00Z', 'spoken_time', '9 AM', 'local_time', 'Tue, Jan 15 at 9:00 AM'),
                  jsonb_build_object('time', '2030-01-15T16:00:00Z', 'spoken_time', '11 AM', 'local_time', 'Tue, Jan 15 at 11:00 AM'),
                  jsonb_build_object('time', '2030-01-15T19:00:00Z', 'spoken_time', '2 PM', 'local_time', 'Tue, Jan 15 at 2:00 PM'))), 'en'),
          'On Tue, Jan 15 we have 9 AM, 11 AM or 2 PM. There are other times too, if none of those suits.',
          'one day: its times once each, and whether there are more');
SELECT is(internal.spoken_line('check_availability', jsonb_build_object('success', true, 'time_zone', 'America/New_York',
              'slots', jsonb_build_array(
                  jsonb_build_object('time', '2030-01-16T03:30:00Z', 'spoken_time', '10:30 PM', 'local_time', 'Tue, Jan 15 at 10:30 PM'),
                  jsonb_build_object('time', '2030-01-16T14:00:00Z', 'spoken_time', '9 AM', 'local_time', 'Wed, Jan 16 at 9:00 AM'))), 'en'),
          'The openings include Tue, Jan 15 at 10:30 PM or Wed, Jan 16 at 9:00 AM.',
          'several days: the day is the clinic''s, not UTC''s');
SELECT is(internal.spread(ARRAY['a', 'b', 'c', 'd']), ARRAY['a', 'c', 'd'], 'three of four, spread (half to even, as before)');
SELECT is(internal.spread(ARRAY['a', 'b', 'c', 'd', 'e', 'f']), ARRAY['a', 'c', 'f'], 'three of six');

-- The texts of a booking's life, rendered for a clinic: no placeholder left anywhere.
SELECT tests.freeze_time('2030-01-14 12:00:00+00');
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Brace {clinic} Dental', '+15552000001') AS org;
SELECT tests.set_clinic((SELECT org FROM ctx), 'reminder_hours = 24');
CREATE TEMP TABLE held AS
    SELECT api.run_tool_call((SELECT org FROM ctx), 'tc-m1', 'reserve_atomic', 'claim_slot_atomic',
                             jsonb_build_object('calendar_id', 'cal-a', 'slot_time', tests.at((SELECT org FROM ctx), '2030-01-20 10:00'),
                                                'patient_name', 'Ann Lee', 'patient_phone', '+15552000002',
                                                'call_sid', 'call-m1')) AS j;
SELECT is((SELECT j #>> '{response,spoken}' FROM held), 'I''ve held Sun, Jan 20 at 10:00 AM with Dr. Able for you.',
          'the tool call''s answer carries its spoken line');
SELECT is((SELECT t.response->>'spoken' FROM voxbook.tool_calls AS t
            WHERE t.org_id = (SELECT org FROM ctx) AND t.tool_call_id = 'tc-m1'),
          (SELECT j #>> '{response,spoken}' FROM held), 'stored with the result, for replays');
UPDATE voxbook.tool_calls AS t SET response = t.response - 'spoken'
 WHERE t.org_id = (SELECT org FROM ctx) AND t.tool_call_id = 'tc-m1';
SELECT is(api.run_tool_call((SELECT org FROM ctx), 'tc-m1', 'reserve_atomic', 'claim_slot_atomic', '{}') #>> '{response,spoken}',
          'I''ve held Sun, Jan 20 at 10:00 AM with Dr. Able for you.', 'a record from before 0015 is worded on replay');
SELECT is(api.run_tool((SELECT org FROM ctx), 'send_otp_code', jsonb_build_object('hold_id', (SELECT j #>> '{response,answer,hold_id}' FROM held)))
              #>> '{response,spoken}',
          'I''ve just texted you a 6-digit code. Please read it to me.', 'api.run_tool answers the same way, storing nothing');
CREATE TEMP TABLE appt AS
    SELECT api.verify_otp((SELECT (j #>> '{response,answer,hold_id}')::uuid FROM held), (SELECT org FROM ctx),
                          tests.code_of((SELECT (j #>> '{response,answer,hold_id}')::uuid FROM held))) AS j;
CREATE TEMP TABLE moved AS SELECT api.reschedule_appointment((SELECT (j->>'appointment_id')::uuid FROM appt), (SELECT org FROM ctx),
                                  tests.at((SELECT org FROM ctx), '2030-01-21 11:30'));
CREATE TEMP TABLE cancelled AS SELECT api.cancel_appointment((SELECT (j->>'appointment_id')::uuid FROM appt), (SELECT org FROM ctx), 'test');
CREATE TEMP TABLE ended AS SELECT api.record_call_end((SELECT org FROM ctx), 'call-m1', '2030-01-14 11:50:00+00', '2030-01-14 12:00:00+00',
                           '+15552000002', 'how much is it', NULL, '{"sentiment": "positive"}');
SELECT is(ARRAY(SELECT DISTINCT m.kind FROM voxbook.sms_outbox AS m WHERE m.org_id = (SELECT org FROM ctx) ORDER BY m.kind),
          ARRAY['cancellation', 'confirmation', 'hot_lead', 'otp', 'reminder', 'reschedule'],
          'a booking''s life sends every kind of text');
SELECT is((SELECT m.body FROM voxbook.sms_outbox AS m WHERE m.org_id = (SELECT org FROM ctx) AND m.kind = 'reschedule'),
          'Your appointment is moved to Mon, Jan 21 at 11:30 AM with Dr. Able. Brace {clinic} Dental, (555) 200-0001. '
          'Call with questions. Reply STOP to unsubscribe.', 'with the wording it had');
SELECT is((SELECT count(*)::int FROM voxbook.sms_outbox AS m
            WHERE m.org_id = (SELECT org FROM ctx) AND replace(m.body, '{clinic}', '') ~ '[{}]'), 0,
          'no placeholder is left in any text');
SELECT is(api.record_inbound_sms('+15552000001', '+15552000002', 'HELP')->>'reply',
          'Brace {clinic} Dental: appointment texts. Call (555) 200-0001 for help. Reply STOP to unsubscribe.',
          'the HELP reply comes from the catalogue too');

SELECT * FROM finish();
ROLLBACK;
