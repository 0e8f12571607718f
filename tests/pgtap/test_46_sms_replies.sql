-- Replies by SMS (db/functions/46_sms_replies.sql, through api.record_inbound_sms): C confirms the patient's next
-- appointment, R asks the front desk to call back to reschedule, anything else goes to the clinic's inbox and the
-- front desk, CANCEL (a carrier opt-out) marks the next appointment "may not come"; the texts that invite them.
-- The api calls run as the API role (voxbook_api); set-up and direct table reads as the owner.
BEGIN;
SELECT plan(48);

CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Reply Clinic', '+15550046000') AS org,
                                tests.create_clinic('Other Clinic', '+15550046900') AS other;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
-- Kim has two appointments (in 9 and 12 days); Lee one; Ana (Spanish) one.
CREATE TEMP TABLE appt AS
SELECT k.who, (api.confirm_held_slot((api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a',
            tests.at((SELECT org FROM ctx), (current_date + k.days) + time '10:00'), 'rc-' || k.who, k.name, k.phone)->>'hold_id')::uuid,
        (SELECT org FROM ctx), staff_user => 'front desk')->>'appointment_id')::uuid AS id
  FROM (VALUES ('kim1', 9, 'Kim Park', '+15550046001'), ('kim2', 12, 'Kim Park', '+15550046001'),
               ('lee', 10, 'Lee Chan', '+15550046002'), ('ana', 11, 'Ana Ruiz', '+15550046003')) AS k(who, days, name, phone);
RESET ROLE;
DO $$ DECLARE ana uuid := (SELECT id FROM appt WHERE who = 'ana'); org uuid := (SELECT org FROM ctx);
BEGIN UPDATE voxbook.appointments SET locale = 'es-US' WHERE org_id = org AND id = ana; END $$;
-- Readers for the API role too (it cannot read voxbook tables): SECURITY DEFINER; PL/pgSQL, ids into variables
-- first (Citus: no SQL function reads a table, no temp table joined with a distributed one).
CREATE FUNCTION pg_temp.a(who text) RETURNS voxbook.appointments LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    org uuid := (SELECT c.org FROM ctx AS c);
    appt_id uuid := (SELECT x.id FROM appt AS x WHERE x.who = a.who);
    r voxbook.appointments;
BEGIN
    SELECT * INTO r FROM voxbook.appointments AS y WHERE y.org_id = org AND y.id = appt_id;
    RETURN r;
END $$;
CREATE FUNCTION pg_temp.desk_texts() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    org uuid := (SELECT c.org FROM ctx AS c);
BEGIN
    RETURN (SELECT count(*) FROM voxbook.sms_outbox AS m
             WHERE m.org_id = org AND m.recipient = '+15559990000' AND m.kind = 'other');
END $$;

CREATE TEMP TABLE expect AS
SELECT internal.local_text(tests.at((SELECT org FROM ctx), (current_date + 11) + time '10:00'), 'America/New_York',
                           internal.locale('es-US')) AS ana_es;
-- A reply is folded to GSM-7 (internal.gsm7): the date's accents go on some days of the week ("sáb" -> "sab").
ALTER TABLE expect ADD COLUMN ana_es_gsm7 text;
UPDATE expect SET ana_es_gsm7 = internal.gsm7(ana_es);

-- == The texts that invite a reply ==
SELECT is((SELECT m.body FROM voxbook.sms_outbox AS m WHERE m.appointment_id = (SELECT id FROM appt WHERE who = 'kim1')
             AND m.kind = 'confirmation'),
          format('Your appointment is confirmed: %s with Dr. Able. Reply Clinic, (555) 004-6000. Reply C to confirm or R to reschedule. Call to cancel. Reply STOP to unsubscribe.',
                 internal.local_text(tests.at((SELECT org FROM ctx), (current_date + 9) + time '10:00'), 'America/New_York',
                                     internal.locale('en-US'))),
          'the confirmation invites C or R (no carrier keyword) and says how to cancel');
SELECT is((SELECT m.encoding || ' ' || m.segments FROM voxbook.sms_outbox AS m
            WHERE m.appointment_id = (SELECT id FROM appt WHERE who = 'kim1') AND m.kind = 'confirmation'),
          'GSM-7 2', 'the confirmation is GSM-7, two segments');
SELECT alike((SELECT m.body FROM voxbook.sms_outbox AS m WHERE m.appointment_id = (SELECT id FROM appt WHERE who = 'kim1')
               AND m.kind = 'reminder'),
            'Reminder: your appointment is % Reply C to confirm or R to reschedule. Call to cancel. Reply STOP to unsubscribe.',
            'the reminder invites C or R and says how to cancel');
SELECT ok((SELECT bool_and(p.encoding = 'GSM-7' AND p.segments <= 2)
             FROM appt, unnest(ARRAY['confirmation', 'reminder']) AS k,
                  internal.sms_parts(internal.appointment_sms(k, (SELECT org FROM ctx), appt.id)) AS p),
          'every confirmation and reminder, English and Spanish, is GSM-7 in at most two segments');
SELECT alike(internal.appointment_sms('reminder', (SELECT org FROM ctx), (SELECT id FROM appt WHERE who = 'ana')),
            '% Responda C para confirmar o R para cambiarla. Llame para cancelar. Responda STOP %',
            'the Spanish reminder too');
SELECT ok(internal.sms_reply_word('c') = 'confirm' AND internal.sms_reply_word(' R! ') = 'reschedule'
          AND internal.sms_reply_word('Confirmar.') = 'confirm' AND internal.sms_reply_word('cambiar') = 'reschedule'
          AND internal.sms_reply_word('C or R?') IS NULL AND internal.sms_reply_word('YES') IS NULL,
          'C / CONFIRM / CONFIRMAR and R / RESCHEDULE / CAMBIAR, the whole body, case and final stop ignored');

-- == C ==
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE r_c AS SELECT api.record_inbound_sms('+15550046000', '+15550046001', 'c', 'SMc1') AS r;
SELECT is((SELECT r->>'action' FROM r_c), 'none', 'C is no carrier keyword');
SELECT is((SELECT r->>'reply_to' FROM r_c), 'confirm', 'C confirms');
SELECT alike((SELECT r->>'reply' FROM r_c), 'Thank you! See you % with Dr. Able. Reply Clinic', 'and thanks, naming the time');
SELECT isnt((pg_temp.a('kim1')).patient_confirmed_at, NULL, 'the next appointment is confirmed by the patient');
SELECT is((pg_temp.a('kim2')).patient_confirmed_at, NULL, 'the later one is not');
CREATE TEMP TABLE first_c AS SELECT (pg_temp.a('kim1')).patient_confirmed_at AS at;
SELECT tests.freeze_time(now() + interval '1 hour');
SELECT is((api.record_inbound_sms('+15550046000', '+15550046001', 'c', 'SMc1'))->>'duplicate', 'true',
          'a redelivered C is a duplicate');
SELECT is((SELECT r->>'reply' FROM r_c), (api.record_inbound_sms('+15550046000', '+15550046001', 'c', 'SMc1'))->>'reply',
          '... answered as the first time');
SELECT is((pg_temp.a('kim1')).patient_confirmed_at, (SELECT at FROM first_c), '... and changes nothing');
SELECT is(api.record_inbound_sms('+15550046000', '+15550046001', 'CONFIRM', 'SMc2')->>'reply_to', 'confirm',
          'a second C (another message) is fine');
SELECT is((pg_temp.a('kim1')).patient_confirmed_at, (SELECT at FROM first_c), '... the first confirmation time stays');
SELECT tests.unfreeze_time();
SELECT is(api.record_inbound_sms('+15550046000', '+15550046003', 'C', 'SMc3')->>'reply',
          -- in GSM-7, as every reply (internal.gsm7): a Saturday is "sab" in it, not "sáb"
          '¡Gracias! Le esperamos el ' || (SELECT ana_es_gsm7 FROM expect) || ' con Dr. Able. Reply Clinic',
          'answered in the language of the appointment');
SELECT is(api.record_inbound_sms('+15550046000', '+15550046077', 'C', 'SMc4')->>'reply',
          'Reply Clinic found no upcoming appointment for this number. Please call (555) 004-6000.',
          'C from a number without an appointment: told so');
SELECT is(api.record_inbound_sms('+15550046900', '+15550046001', 'C', 'SMc5')->>'reply_to', 'no_appointment',
          'C to another clinic does not touch this clinic''s appointment');

-- == R ==
CREATE TEMP TABLE r_r AS SELECT api.record_inbound_sms('+15550046000', '+15550046002', 'R', 'SMr1') AS r;
SELECT is((SELECT r->>'reply_to' FROM r_r), 'reschedule', 'R asks to reschedule');
SELECT alike((SELECT r->>'reply' FROM r_r),
            'Reply Clinic will call you within 1 business day to find a new time for your appointment on % To cancel, call (555) 004-6000.',
            'and says when to expect the call');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM voxbook.callback_requests AS c
            WHERE c.org_id = (SELECT org FROM ctx) AND c.kind = 'reschedule_request' AND c.status = 'open'
              AND c.appointment_id = (SELECT id FROM appt WHERE who = 'lee') AND c.phone = '+15550046002'
              AND c.name = 'Lee Chan' AND c.reason LIKE 'Asked by text to reschedule the appointment on %'), 1,
          'a reschedule callback request for that appointment, for staff');
SELECT is(pg_temp.desk_texts(), 1::bigint, 'the front desk gets one text about it');
SET LOCAL ROLE voxbook_api;
SELECT is(api.record_inbound_sms('+15550046000', '+15550046002', 'r', 'SMr2')->>'reply_to', 'reschedule', 'a second R');
SELECT is(api.record_inbound_sms('+15550046000', '+15550046002', 'R', 'SMr1')->>'duplicate', 'true', 'a redelivered R');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM voxbook.callback_requests AS c WHERE c.org_id = (SELECT org FROM ctx)), 1,
          '... still one open request');
SELECT is(pg_temp.desk_texts(), 1::bigint, '... and one text to the front desk');

-- == Anything else: the inbox ==
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE r_i AS SELECT api.record_inbound_sms('+15550046000', '+15550046002', 'Can I bring my son?', 'SMi1') AS r;
SELECT is((SELECT r->>'reply_to' FROM r_i), 'inbox', 'another text goes to the inbox');
SELECT is((SELECT r->>'reply' FROM r_i),
          'Thank you, Reply Clinic got your message and will reply soon. For anything urgent call (555) 004-6000.',
          'acknowledged');
RESET ROLE;
SELECT is((SELECT m.body FROM voxbook.sms_outbox AS m
            WHERE m.org_id = (SELECT org FROM ctx) AND m.recipient = '+15559990000'
              AND m.id = (SELECT i.forwarded_sms_id FROM voxbook.sms_inbox AS i WHERE i.message_sid = 'SMi1')),
          'Reply Clinic TEXT from Lee Chan (555) 004-6002: "Can I bring my son?" (dashboard inbox)',
          'forwarded to the front desk (the alert number when there is no front-desk number)');
SET LOCAL ROLE voxbook_api;
SELECT is(api.record_inbound_sms('+15550046000', '+15550046002', 'Also, parking?', 'SMi2')->>'reply', NULL,
          'a second text within the hour is stored, not acknowledged (no loop with an automatic sender)');
SELECT is(api.record_inbound_sms('+15550046000', '+15550046002', 'Also, parking?', 'SMi2')->>'duplicate', 'true',
          'a redelivered text');
RESET ROLE;
SELECT is(pg_temp.desk_texts(), 2::bigint, '... nor forwarded again');
SELECT is((SELECT count(*)::int FROM voxbook.sms_inbox AS i WHERE i.org_id = (SELECT org FROM ctx)), 2,
          'two inbox messages, once each');
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE inbox AS SELECT api.list_sms_inbox((SELECT org FROM ctx)) AS j;
SELECT is((SELECT jsonb_agg(x->>'body' ORDER BY x->>'received_at', x->>'body') FROM inbox, jsonb_array_elements(j->'items') AS x),
          '["Also, parking?", "Can I bring my son?"]'::jsonb, 'staff list the inbox');
SELECT is((SELECT j->'items'->0->>'patient_name' FROM inbox), 'Lee Chan', 'with the patient of the next appointment');
SELECT is(jsonb_array_length(api.list_sms_inbox((SELECT other FROM ctx))->'items'), 0, 'another clinic sees none of it');
CREATE TEMP TABLE item AS SELECT (j->'items'->0->>'inbox_id')::uuid AS id FROM inbox;
SELECT throws_ok(format('SELECT api.resolve_sms_inbox_item(%L, %L, ''Ana'')', (SELECT other FROM ctx), (SELECT id FROM item)),
                 'VB404', 'inbox message not found', 'another clinic cannot resolve it');
SELECT throws_ok(format('SELECT api.resolve_sms_inbox_item(%L, %L, '' '')', (SELECT org FROM ctx), (SELECT id FROM item)),
                 'VB400', NULL, 'done_by is required');
SELECT is(api.resolve_sms_inbox_item((SELECT org FROM ctx), (SELECT id FROM item), 'Ana')->>'changed', 'true', 'staff resolve it');
SELECT is(api.resolve_sms_inbox_item((SELECT org FROM ctx), (SELECT id FROM item), 'Bo')->>'done_by', 'Ana',
          'resolving again changes nothing');
SELECT is(jsonb_array_length(api.list_sms_inbox((SELECT org FROM ctx))->'items'), 1, 'one open message left');
SELECT throws_ok(format('SELECT api.list_sms_inbox(%L, ''closed'')', (SELECT org FROM ctx)), 'VB400', NULL, 'a bad status');

-- == CANCEL (a carrier opt-out), and keywords stay keywords ==
CREATE TEMP TABLE r_x AS SELECT api.record_inbound_sms('+15550046000', '+15550046001', 'Cancel', 'SMx1') AS r;
SELECT is((SELECT (r->>'action') || ' ' || coalesce(r->>'reply', 'no reply') FROM r_x), 'opt_out no reply',
          'CANCEL opts out, no answer (Twilio confirms it)');
SELECT ok((pg_temp.a('kim1')).may_not_come_at IS NOT NULL AND (pg_temp.a('kim2')).may_not_come_at IS NULL,
          'the next appointment may not come (staff see it); the later one is untouched');
SELECT is(api.record_inbound_sms('+15550046000', '+15550046001', 'C', 'SMc0')->>'reply', NULL,
          'a C arriving after CANCEL (out of order) still counts, unanswered: the number is opted out');
SELECT is((SELECT x->>'may_not_come_at' IS NOT NULL AND x->>'patient_confirmed_at' IS NOT NULL
             FROM jsonb_array_elements(api.dashboard_schedule((SELECT org FROM ctx), current_date + 9, 1)->'days'->0->'providers') AS p,
                  jsonb_array_elements(p->'entries') AS x
            WHERE x->>'appointment_id' = (SELECT id FROM appt WHERE who = 'kim1')::text),
          true, 'the dashboard schedule shows both');
SELECT is((SELECT array_agg(api.record_inbound_sms('+15550046000', '+15550046002', w, 'SMk' || w)->>'reply_to' IS NULL ORDER BY w)
             FROM unnest(ARRAY['STOP', 'YES', 'HELP', 'START']) AS w),
          ARRAY[true, true, true, true], 'STOP, YES, HELP, START are never routed as replies');

SELECT * FROM finish();
ROLLBACK;
