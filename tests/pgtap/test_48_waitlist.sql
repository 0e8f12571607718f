-- The waitlist (issue 15, db/functions/48_waitlist.sql): join_waitlist, offer_waitlist_openings (first come first
-- served, at most max_offers per time, freed by a cancellation, a move or an expired hold), internal.waitlist_reply
-- (BOOK or 1 takes it through the atomic claim; YES is not an answer; the others are told it is gone; replies
-- after the window; a repeated BOOK), list_waitlist, remove_from_waitlist, tenancy, the API role's privileges.
-- Set-up as the owner, the api calls as the API role; Citus: clinic ids from the temp table ctx.
BEGIN;
SELECT plan(54);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');   -- Monday, 07:00 in New York
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Wait Clinic') AS org, tests.create_clinic('Other Clinic') AS other;
-- The booked hour as an instant, computed once (on Citus tests.at may not run inside a query on a clinic table).
CREATE TEMP TABLE t AS SELECT tests.at((SELECT org FROM ctx), '2030-01-16 10:00') AS wed10;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

-- Wednesday 10:00 with Dr. Able is booked; four callers want exactly that hour, one wants Dr. Baker's.
CREATE TEMP TABLE booked AS
    SELECT api.book_for_patient((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-16 10:00'),
                                'cleaning', 'Ann Lee', '+15554040001', staff_user => 'Rita') AS j;
CREATE TEMP TABLE joined (n int, j jsonb);
INSERT INTO joined
SELECT n, api.join_waitlist((SELECT org FROM ctx), '+1555505000' || n, '2030-01-16', '2030-01-16', '10:00', '10:15',
                            'cleaning', 'cal-a', 'Waiter ' || n, 'call-wait-' || n)
  FROM generate_series(1, 4) AS n;
SELECT is((SELECT count(*) FROM joined WHERE j->>'success' = 'true' AND j->>'status' = 'waiting'), 4::bigint,
          'four callers join the waitlist');
SELECT is((SELECT j->>'from_time' || '-' || (j->>'to_time') || ' ' || (j->>'first_day') || ' ' || (j->>'calendar_id')
             FROM joined WHERE n = 1),
          '10:00-10:15 2030-01-16 cal-a', '... with their window of local days and times and the provider');
SELECT is(api.join_waitlist((SELECT org FROM ctx), '+15555050001', '2030-01-16', '2030-01-16', '10:00', '10:15',
                            'cleaning', 'cal-a', 'Waiter 1', 'call-wait-1')->>'waitlist_id',
          (SELECT j->>'waitlist_id' FROM joined WHERE n = 1), 'a redelivered join (same call) finds the same entry');
RESET ROLE;
-- first come first served: joined one minute apart
-- (Citus: no temp table joined into the write, the clinic as a variable, an IMMUTABLE expression of the row)
DO $$
DECLARE
    clinic constant uuid := (SELECT org FROM ctx);
BEGIN
    UPDATE voxbook.waitlist AS w
       SET created_at = ('2030-01-14 11:00'::timestamp + split_part(w.vapi_call_id, '-', 3)::int * interval '1 minute')
                        AT TIME ZONE 'UTC'
     WHERE w.org_id = clinic AND w.vapi_call_id LIKE 'call-wait-_';
END
$$;
SELECT is((SELECT w.phone::text || ' ' || w.locale FROM voxbook.waitlist AS w
            WHERE w.id = (SELECT (j->>'waitlist_id')::uuid FROM joined WHERE n = 2)),
          '+15555050002 en-US', 'the entry keeps the trusted number and the caller''s locale');
SET LOCAL ROLE voxbook_api;

-- nothing free in the window: no offer
SELECT is(api.offer_waitlist_openings((SELECT org FROM ctx))->>'offers', '0', 'no free time in the window: no offer');

-- the appointment is cancelled: the time is offered to the first three, by SMS
SELECT is(api.cancel_appointment((SELECT (j->>'appointment_id')::uuid FROM booked), (SELECT org FROM ctx), 'sick',
                                 staff_user => 'Rita')->>'status', 'cancelled', 'the booked hour is cancelled');
SELECT is(api.offer_waitlist_openings((SELECT org FROM ctx))->>'offers', '3', 'the freed hour is offered to three patients (max_offers 3)');
RESET ROLE;
SELECT is((SELECT array_agg(x.phone::text ORDER BY x.phone) FROM voxbook.waitlist_offers AS x WHERE x.org_id = (SELECT org FROM ctx)),
          ARRAY['+15555050001', '+15555050002', '+15555050003'], '... the first three who joined (first come first served)');
SELECT is((SELECT count(*) FROM voxbook.waitlist_offers AS x
            WHERE x.org_id = (SELECT org FROM ctx) AND x.starts_at = (SELECT wed10 FROM t)
              AND x.status = 'sent' AND x.expires_at = '2030-01-14 12:15+00'), 3::bigint,
          '... that hour, live for 15 minutes');
SELECT is((SELECT m.body FROM voxbook.sms_outbox AS m
            WHERE m.org_id = (SELECT org FROM ctx) AND m.recipient = '+15555050001' AND m.kind = 'other'),
          'Wait Clinic: a time opened up: Wed, Jan 16 at 10:00 AM with Dr. Able. Reply BOOK or 1 within 15 minutes to take it. Reply STOP to unsubscribe.',
          'the offer SMS says the time, the provider and how to take it (BOOK or 1)');
SELECT is((SELECT m.expires_at FROM voxbook.sms_outbox AS m
            WHERE m.org_id = (SELECT org FROM ctx) AND m.recipient = '+15555050001' AND m.kind = 'other'),
          '2030-01-14 12:15+00'::timestamptz, '... and is never sent after its window');
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m
            WHERE m.org_id = (SELECT org FROM ctx) AND m.recipient = '+15555050004'), 0::bigint,
          'the fourth is not offered it yet');
SET LOCAL ROLE voxbook_api;
SELECT is(api.offer_waitlist_openings((SELECT org FROM ctx))->>'offers', '0', 'a second round offers nothing new (one live offer each, three per time)');
RESET ROLE;

-- replies
SELECT is(internal.waitlist_reply((SELECT org FROM ctx), '+15555050002', 'YES', 'SMyes'), NULL,
          'YES is not an answer (a carrier keyword): left to the other replies');
SELECT is(internal.waitlist_reply((SELECT org FROM ctx), '+15555050002', 'see you then', 'SMtext'), NULL,
          'another text is not an answer');
SELECT is(internal.waitlist_reply((SELECT org FROM ctx), '+15555059999', 'BOOK', 'SMnobody'), NULL,
          'BOOK from a number without an offer is not an answer');
SELECT is(internal.waitlist_reply((SELECT other FROM ctx), '+15555050002', 'BOOK', 'SMother'), NULL,
          'BOOK to another clinic is not an answer to this clinic''s offer');
CREATE TEMP TABLE won AS SELECT internal.waitlist_reply((SELECT org FROM ctx), '+15555050002', ' book! ', 'SMwin') AS j;
SELECT tests.share_with_api();
SELECT is((SELECT j->>'action' FROM won), 'waitlist_booked', 'BOOK (any case, trailing punctuation) from an offered number books it');
SELECT is((SELECT a.status || ' ' || a.confirmed_via || ' ' || a.confirmed_by || ' ' || a.patient_name || ' ' || a.locale
             FROM voxbook.appointments AS a WHERE a.id = (SELECT (j->>'appointment_id')::uuid FROM won)),
          'confirmed waitlist sms reply SMwin Waiter 2 en-US',
          'the appointment is confirmed via waitlist, verified by the reply (its MessageSid), for the entry''s name');
SELECT is((SELECT h.starts_at || ' ' || h.calendar_id || ' ' || h.status || ' ' || h.vapi_call_id FROM voxbook.holds AS h
             JOIN voxbook.appointments AS a ON a.org_id = h.org_id AND a.hold_id = h.id
            WHERE a.id = (SELECT (j->>'appointment_id')::uuid FROM won)),
          tests.at((SELECT org FROM ctx), '2030-01-16 10:00') || ' cal-a confirmed call-wait-2',
          '... at the offered time, through the claim (a confirmed hold), linked to the call that joined');
SELECT is((SELECT array_agg(m.kind ORDER BY m.kind) FROM voxbook.sms_outbox AS m
            WHERE m.appointment_id = (SELECT (j->>'appointment_id')::uuid FROM won)),
          ARRAY['confirmation', 'reminder'], '... its confirmation and reminder queued like any booking');
SELECT is((SELECT w.status || ' ' || (w.appointment_id = (SELECT (j->>'appointment_id')::uuid FROM won))
             FROM voxbook.waitlist AS w WHERE w.phone = '+15555050002' AND w.org_id = (SELECT org FROM ctx)),
          'booked true', 'the winner''s entry is booked');
SELECT is((SELECT array_agg(x.phone || ':' || x.status ORDER BY x.phone) FROM voxbook.waitlist_offers AS x
            WHERE x.org_id = (SELECT org FROM ctx)),
          ARRAY['+15555050001:lost', '+15555050002:accepted', '+15555050003:lost'], 'the other offers of that time are lost');
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m
            WHERE m.org_id = (SELECT org FROM ctx) AND m.recipient IN ('+15555050001', '+15555050003')
              AND m.body = 'Wait Clinic: sorry, Wed, Jan 16 at 10:00 AM was just taken. You stay on the waitlist; we will text you if another time opens.'),
          2::bigint, '... and those patients are told it is gone');
SELECT is((SELECT count(*) FROM voxbook.waitlist AS w WHERE w.org_id = (SELECT org FROM ctx) AND w.status = 'waiting'),
          3::bigint, '... and stay on the waitlist');
SELECT is(internal.waitlist_reply((SELECT org FROM ctx), '+15555050002', 'BOOK', 'SMwin2')->>'appointment_id',
          (SELECT j->>'appointment_id' FROM won), 'a second BOOK from the winner returns the same appointment');
SELECT is(internal.waitlist_reply((SELECT org FROM ctx), '+15555050001', '1', 'SMlate'),
          '{"success": true, "action": "waitlist_gone", "appointment_id": null, "reply": null}'::jsonb,
          '1 racing the winner from a patient who lost: the "gone" text already queued is the answer (told once)');
SELECT is(internal.waitlist_reply((SELECT org FROM ctx), '+15555050001', 'BOOK', 'SMlater'),
          '{"success": true, "action": "waitlist_gone", "appointment_id": null, "reply": "Wait Clinic: sorry, Wed, Jan 16 at 10:00 AM was just taken. You stay on the waitlist; we will text you if another time opens."}'::jsonb,
          '... a later BOOK is answered that it is gone');
SELECT is((SELECT count(*) FROM voxbook.appointments AS a WHERE a.org_id = (SELECT org FROM ctx) AND a.status = 'confirmed'),
          1::bigint, 'exactly one appointment for the freed time');

-- a reply after the window: expired
SET LOCAL ROLE voxbook_api;
SELECT is(api.reschedule_appointment((SELECT (j->>'appointment_id')::uuid FROM won), (SELECT org FROM ctx),
                                     tests.at((SELECT org FROM ctx), '2030-01-16 14:00'), staff_user => 'Rita')->>'success',
          'true', 'the waitlisted appointment is moved away: its hour is free again');
SELECT is(api.offer_waitlist_openings((SELECT org FROM ctx), max_offers => 1)->>'offers', '1',
          'the hour freed by the move is offered again (one at a time here)');
RESET ROLE;
SELECT is((SELECT x.phone::text FROM voxbook.waitlist_offers AS x WHERE x.org_id = (SELECT org FROM ctx) AND x.status = 'sent'),
          '+15555050004', '... to the first who was not offered it before');
SELECT tests.freeze_time('2030-01-14 12:20:00+00');
SELECT is(internal.waitlist_reply((SELECT org FROM ctx), '+15555050004', 'BOOK', 'SMslow')->>'action', 'waitlist_expired',
          'BOOK after the reply window: the offer has ended');
SELECT is((SELECT x.status FROM voxbook.waitlist_offers AS x WHERE x.org_id = (SELECT org FROM ctx) AND x.phone = '+15555050004'),
          'expired', '... recorded as expired, nothing booked');

-- an expired hold frees a time too: Dr. Baker's 11:00, wanted by a fifth caller
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE held AS
    SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-b', tests.at((SELECT org FROM ctx), '2030-01-17 11:00'),
                                 'call-held', 'Holder', '+15554040009', 5, 'cleaning') AS j;
SELECT is(api.join_waitlist((SELECT org FROM ctx), '(555) 505-0005', '2030-01-17', '2030-01-17', '11:00', '11:00:01',
                            'cleaning', 'cal-b')->>'status', 'waiting', 'a fifth caller waits for Dr. Baker''s 11:00');
SELECT is(api.offer_waitlist_openings((SELECT org FROM ctx))->>'offers', '0', 'while the hold lives, nothing to offer');
RESET ROLE;
SELECT tests.freeze_time('2030-01-14 12:30:00+00');
SET LOCAL ROLE voxbook_api;
SELECT is(api.offer_waitlist_openings((SELECT org FROM ctx))->>'offers', '1', 'the hold expired: its time is offered');
RESET ROLE;
SELECT is(internal.waitlist_reply((SELECT org FROM ctx), '+15555050005', '1', 'SMfive')->>'action', 'waitlist_booked',
          'and taken with 1');

-- staff see and edit the waitlist
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE listed AS SELECT api.list_waitlist((SELECT org FROM ctx), NULL) AS j;
SELECT is((SELECT jsonb_array_length(j->'entries') FROM listed), 5, 'list_waitlist shows every entry (status NULL)');
SELECT is((SELECT e->>'status' || ' ' || (e->>'phone') || ' ' || jsonb_array_length(e->'offers')
             FROM listed, jsonb_array_elements(j->'entries') AS e WHERE e->>'patient_name' = 'Waiter 2'),
          'booked (555) 505-0002 1', '... with the status, the phone as the clinic writes it and the offers');
SELECT is(jsonb_array_length(api.list_waitlist((SELECT org FROM ctx))->'entries'), 3, 'by default the waiting ones');
SELECT is(api.remove_from_waitlist((SELECT org FROM ctx), (SELECT (j->>'waitlist_id')::uuid FROM joined WHERE n = 1))->>'status',
          'removed', 'staff take a patient off the waitlist');
SELECT is(jsonb_array_length(api.list_waitlist((SELECT org FROM ctx))->'entries'), 2, '... no longer waiting');

-- tenancy and errors
SELECT is(jsonb_array_length(api.list_waitlist((SELECT other FROM ctx))->'entries'), 0, 'another clinic sees none of it');
SELECT throws_ok($$SELECT api.remove_from_waitlist((SELECT other FROM ctx), (SELECT (j->>'waitlist_id')::uuid FROM joined WHERE n = 3))$$,
                 'VB404', 'unknown waitlist entry', 'another clinic cannot remove an entry');
SELECT throws_ok($$SELECT api.join_waitlist((SELECT org FROM ctx), '12', '2030-01-16')$$,
                 'VB400', 'malformed phone number', 'a malformed phone is refused');
SELECT throws_ok($$SELECT api.join_waitlist((SELECT org FROM ctx), '+15555050009', '2030-01-10', '2030-01-12')$$,
                 'VB400', 'the waitlist window must end today or later, after it starts, within 62 days', 'a window in the past is refused');
SELECT throws_ok($$SELECT api.join_waitlist((SELECT org FROM ctx), '+15555050009', '2030-01-16', from_time => '12:00', to_time => '09:00')$$,
                 'VB400', 'from_time must be before to_time', 'an empty time window is refused');
SELECT throws_ok($$SELECT api.join_waitlist((SELECT org FROM ctx), '+15555050009')$$,
                 'VB400', 'first_day is required', 'a join without its first day is refused');
SELECT is(api.join_waitlist((SELECT org FROM ctx), NULL, '2030-01-16', call_id => 'call-withheld'),
          '{"success": false, "code": "phone_needed", "error": "The caller''s number is withheld; the waitlist texts the number a caller calls from"}'::jsonb,
          'a withheld caller number is a refusal the assistant words ...');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.waitlist AS w WHERE w.vapi_call_id = 'call-withheld'), 0::bigint,
          '... and nothing is stored');
SET LOCAL ROLE voxbook_api;

-- the voice tool: the adapter passes the trusted caller number as caller_phone, Vapi's call.id as call_id
RESET ROLE;
SELECT tests.set_clinic((SELECT org FROM ctx), $$languages = '{en,es}'$$);
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE tooled AS
    SELECT api.run_tool_call((SELECT org FROM ctx), 'tc-wait-1', 'join_waitlist', 'join_waitlist',
                             '{"caller_phone": "+15555050077", "first_day": "2030-01-21", "last_day": "2030-01-25",
                               "from_time": "09:00", "to_time": "12:00", "service": "cleaning", "call_id": "call-tool",
                               "language": "es"}', 'call-tool') AS j;
SELECT is((SELECT j->'response'->>'spoken' FROM tooled),
          'Ya está en la lista de espera. Si se libera un horario, le enviaremos un mensaje y puede responder BOOK para tomarlo.',
          'join_waitlist runs as a tool function, its line in the caller''s language');
RESET ROLE;
SELECT is((SELECT w.phone::text || ' ' || w.locale || ' ' || w.first_day || ' ' || to_char(w.from_time, 'HH24:MI')
             FROM voxbook.waitlist AS w WHERE w.vapi_call_id = 'call-tool' AND w.org_id = (SELECT org FROM ctx)),
          '+15555050077 es-US 2030-01-21 09:00', '... the entry has the caller''s number, language and window');
SET LOCAL ROLE voxbook_api;
SELECT throws_ok($$SELECT internal.waitlist_reply((SELECT org FROM ctx), '+15555050002', 'BOOK', 'x')$$,
                 '42501', NULL, 'the API role cannot call the internal reply handler');

SELECT * FROM finish();
ROLLBACK;
