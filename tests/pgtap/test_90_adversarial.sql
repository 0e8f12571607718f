-- An adversarial pass over the api functions of issues 13-15 (my appointments, SMS replies, carrier accounts, the
-- waitlist, the front desk, clinic set-up, book_for_patient, list_appointments, find_patient, list_problem_sms),
-- acting as voxbook_api: another clinic's ids, out-of-range and oversized input, control characters in names.
-- Every refusal is a documented SQLSTATE (VB400/VB404) and changes nothing; no answer or error names the other
-- clinic's patient. (COMMENT ON and org_id first for every api function: test_00_schema.sql.)
BEGIN;
SELECT plan(93);

CREATE TEMP TABLE ctx AS SELECT tests.create_clinic() AS org, tests.create_clinic() AS other;
SELECT tests.set_clinic((SELECT org FROM ctx), $$front_desk_phone = '+15557770000'$$);
-- An SMS reply waiting in the other clinic's inbox, written as the owner (the API role writes no table).
CREATE FUNCTION pg_temp.inbox_item(org uuid) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    new_id uuid;
BEGIN
    INSERT INTO voxbook.sms_inbox AS i (org_id, phone, body) VALUES (org, '+15552019999', 'Zed here, call me')
    RETURNING i.id INTO new_id;
    RETURN new_id;
END $$;
CREATE FUNCTION pg_temp.texts(org uuid, recipient text) RETURNS SETOF voxbook.sms_outbox
    LANGUAGE sql SECURITY DEFINER AS $$ SELECT * FROM voxbook.sms_outbox AS m WHERE m.org_id = org AND m.recipient = texts.recipient $$;
-- The whole error an api call raises (SQLSTATE, message, DETAIL, HINT), or 'no error'.
CREATE FUNCTION pg_temp.error_of(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    st text; m text; d text; h text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    RETURN st || ' ' || m || ' DETAIL ' || coalesce(d, '') || ' HINT ' || coalesce(h, '');
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.inbox_item(uuid), pg_temp.texts(uuid, text), pg_temp.error_of(text) TO voxbook_api;

SELECT tests.freeze_time('2030-01-14 15:00:00+00');   -- Monday 10:00 in New York
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

-- The other clinic's patient Zed: an appointment, a waitlist entry, time off, a callback request, an SMS reply.
CREATE TEMP TABLE theirs AS SELECT
    api.book_for_patient((SELECT other FROM ctx), 'cal-a', '2030-01-15 15:00+00', 'consultation', 'Zed Other',
                         '+15552019999', 'staff-o') ->> 'appointment_id' AS appointment_id,
    api.join_waitlist((SELECT other FROM ctx), '+15552019999', '2030-01-15', '2030-01-20',
                      patient_name => 'Zed Other') ->> 'waitlist_id' AS waitlist_id,
    api.block_time((SELECT other FROM ctx), 'cal-a', '2030-02-01 15:00+00', '2030-02-01 16:00+00', 'vacation')
        -> 'block' ->> 'block_id' AS block_id,
    api.front_desk_transfer((SELECT other FROM ctx), 'call-zed', '+15552019999', 'Zed Other', 'a bill')
        ->> 'callback_request_id' AS callback_id,
    pg_temp.inbox_item((SELECT other FROM ctx)) AS inbox_id;
SELECT ok((SELECT appointment_id IS NOT NULL AND waitlist_id IS NOT NULL AND block_id IS NOT NULL
                  AND callback_id IS NOT NULL FROM theirs), 'the other clinic has one of each');

-- Tenancy: their ids through our org_id are unknown (VB404), the errors name nothing of theirs.
SELECT throws_ok($$SELECT api.get_appointment((SELECT appointment_id::uuid FROM theirs), (SELECT org FROM ctx))$$,
                 'VB404', NULL, 'another clinic''s appointment is unknown to get_appointment');
SELECT throws_ok($$SELECT api.cancel_appointment((SELECT appointment_id::uuid FROM theirs), (SELECT org FROM ctx),
                                                 staff_user => 'mallory')$$,
                 'VB404', NULL, 'and to cancel_appointment');
SELECT throws_ok($$SELECT api.reschedule_appointment((SELECT appointment_id::uuid FROM theirs), (SELECT org FROM ctx),
                                                     '2030-01-15 16:00+00', staff_user => 'mallory')$$,
                 'VB404', NULL, 'and to reschedule_appointment');
SELECT throws_ok($$SELECT api.send_confirmation_sms((SELECT appointment_id::uuid FROM theirs), (SELECT org FROM ctx))$$,
                 'VB404', NULL, 'and to send_confirmation_sms');
SELECT is(api.cancel_my_appointment((SELECT org FROM ctx), 'call-m', '+15552019999',
                                    appointment_id => (SELECT appointment_id::uuid FROM theirs)) ->> 'code',
          'no_appointments', 'a caller with their number cancels nothing of theirs here');
SELECT is(api.reschedule_my_appointment((SELECT org FROM ctx), '2030-01-15 16:00+00', 'call-m', '+15552019999',
                                        appointment_id => (SELECT appointment_id::uuid FROM theirs)) ->> 'code',
          'no_appointments', 'nor moves it');
SELECT throws_ok($$SELECT api.remove_from_waitlist((SELECT org FROM ctx), (SELECT waitlist_id::uuid FROM theirs))$$,
                 'VB404', NULL, 'another clinic''s waitlist entry is unknown');
SELECT throws_ok($$SELECT api.unblock_time((SELECT org FROM ctx), (SELECT block_id::bigint FROM theirs))$$,
                 'VB404', NULL, 'another clinic''s time off is unknown');
SELECT throws_ok($$SELECT api.resolve_callback_request((SELECT org FROM ctx), (SELECT callback_id::uuid FROM theirs), 'mallory')$$,
                 'VB404', NULL, 'another clinic''s callback request is unknown');
SELECT throws_ok($$SELECT api.resolve_sms_inbox_item((SELECT org FROM ctx), (SELECT inbox_id FROM theirs), 'mallory')$$,
                 'VB404', NULL, 'another clinic''s SMS reply is unknown');
SELECT throws_ok($$SELECT api.set_working_hours((SELECT org FROM ctx), 'cal-zz', '{}')$$,
                 'VB404', NULL, 'a calendar id of no provider here is unknown');
SELECT ok(pg_temp.error_of(format($$SELECT api.%s$$, s)) !~ '(Zed|9999|bill|vacation)',
          'no error names their patient, number or reason: ' || s)
  FROM unnest(ARRAY[
      $$cancel_appointment((SELECT appointment_id::uuid FROM theirs), (SELECT org FROM ctx), staff_user => 'm')$$,
      $$remove_from_waitlist((SELECT org FROM ctx), (SELECT waitlist_id::uuid FROM theirs))$$,
      $$unblock_time((SELECT org FROM ctx), (SELECT block_id::bigint FROM theirs))$$,
      $$resolve_callback_request((SELECT org FROM ctx), (SELECT callback_id::uuid FROM theirs), 'm')$$,
      $$resolve_sms_inbox_item((SELECT org FROM ctx), (SELECT inbox_id FROM theirs), 'm')$$]) AS s;
-- ... and our lists hold nothing of theirs.
SELECT is(api.list_appointments((SELECT org FROM ctx), patient_phone => '+15552019999') -> 'appointments', '[]',
          'list_appointments shows none of their appointments');
SELECT is(api.find_patient((SELECT org FROM ctx), '+15552019999') ->> 'found', 'false', 'find_patient knows not Zed');
SELECT is(api.caller_greeting((SELECT org FROM ctx), '+15552019999') ->> 'known', 'false', 'nor the greeting');
SELECT is(api.find_my_appointments((SELECT org FROM ctx), 'call-m', '+15552019999') -> 'appointments', '[]',
          'nor find_my_appointments');
SELECT is(api.list_waitlist((SELECT org FROM ctx), NULL) -> 'entries', '[]', 'list_waitlist shows none of theirs');
SELECT is(api.list_blocks((SELECT org FROM ctx)) -> 'blocks', '[]', 'list_blocks shows none of theirs');
SELECT is(api.list_callback_requests((SELECT org FROM ctx), NULL) -> 'callback_requests', '[]',
          'list_callback_requests shows none of theirs');
SELECT is(api.list_sms_inbox((SELECT org FROM ctx), 'all') -> 'items', '[]', 'list_sms_inbox shows none of theirs');
SELECT is(api.list_audit((SELECT org FROM ctx)) -> 'entries', '[]', 'list_audit shows none of theirs');
-- ... and nothing of theirs changed.
SELECT is(api.get_appointment((SELECT appointment_id::uuid FROM theirs), (SELECT other FROM ctx)) ->> 'status',
          'confirmed', 'their appointment stands');
SELECT is(jsonb_array_length(api.list_waitlist((SELECT other FROM ctx)) -> 'entries'), 1, 'their waitlist entry waits');
SELECT is(jsonb_array_length(api.list_blocks((SELECT other FROM ctx)) -> 'blocks'), 1, 'their time off stands');
SELECT is(jsonb_array_length(api.list_callback_requests((SELECT other FROM ctx)) -> 'callback_requests'), 1,
          'their callback request is open');
SELECT is(jsonb_array_length(api.list_sms_inbox((SELECT other FROM ctx)) -> 'items'), 1, 'their SMS reply is open');

-- A staff name of any length is capped by the database (internal.audit_name), not refused: an unknown request is VB404.
SELECT throws_ok($$SELECT api.resolve_callback_request((SELECT org FROM ctx), gen_random_uuid(), repeat('m', 10000000))$$,
                 'VB404', NULL, 'a 10 MB done_by is capped (internal.audit_name), not refused: the unknown request is VB404');
-- Out-of-range times and dates, huge numbers, oversized text, missing values: VB400 (VB404 for an id), with a HINT.
SELECT throws_ok(s, 'VB400', NULL, 'refused with VB400: ' || left(s, 110))
  FROM unnest(ARRAY[
      $$SELECT api.book_for_patient((SELECT org FROM ctx), 'cal-a', 'infinity', 'consultation', 'Ann', '+15552010001', 'staff')$$,
      $$SELECT api.book_for_patient((SELECT org FROM ctx), 'cal-a', '-infinity', 'consultation', 'Ann', '+15552010001', 'staff')$$,
      $$SELECT api.book_for_patient((SELECT org FROM ctx), 'cal-a', NULL, 'consultation', 'Ann', '+15552010001', 'staff')$$,
      $$SELECT api.book_for_patient((SELECT org FROM ctx), 'cal-a', '2030-01-15 15:00+00', 'consultation', repeat('x', 10000000), '+15552010001', 'staff')$$,
      $$SELECT api.book_for_patient((SELECT org FROM ctx), 'cal-a', '2030-01-15 15:00+00', 'consultation', 'Ann', repeat('9', 10000000), 'staff')$$,
      $$SELECT api.book_for_patient((SELECT org FROM ctx), 'cal-a', '2030-01-15 15:00+00', 'consultation', '', '+15552010001', 'staff')$$,
      $$SELECT api.list_appointments((SELECT org FROM ctx), '-infinity', 'infinity')$$,
      $$SELECT api.list_appointments((SELECT org FROM ctx), max_rows => 2147483647)$$,
      $$SELECT api.list_appointments((SELECT org FROM ctx), status => repeat('x', 10000000))$$,
      $$SELECT api.list_problem_sms((SELECT org FROM ctx), 'infinity')$$,
      $$SELECT api.find_patient((SELECT org FROM ctx), repeat('1', 10000000))$$,
      $$SELECT api.find_patient((SELECT org FROM ctx), '')$$,
      $$SELECT api.reschedule_my_appointment((SELECT org FROM ctx), 'infinity', 'call-m', '+15552010001')$$,
      $$SELECT api.find_my_appointments((SELECT org FROM ctx), 'call-m', repeat('1', 10000000))$$,
      $$SELECT api.list_sms_inbox((SELECT org FROM ctx), 'open', 2147483647)$$,
      $$SELECT api.resolve_sms_inbox_item((SELECT org FROM ctx), NULL, 'me')$$,
      $$SELECT api.set_carrier_account((SELECT org FROM ctx), 'AC' || repeat('a', 32), repeat('x', 10000000), 'k1')$$,
      $$SELECT api.find_inbound_carrier_accounts(repeat('1', 10000000))$$,
      $$SELECT api.join_waitlist((SELECT org FROM ctx), '+15552010001', 'infinity', 'infinity')$$,
      $$SELECT api.join_waitlist((SELECT org FROM ctx), '+15552010001', '2030-01-16', '9999-12-31')$$,
      $$SELECT api.join_waitlist((SELECT org FROM ctx), '+15552010001', '2030-01-15', '2030-01-20', patient_name => repeat('x', 10000000))$$,
      $$SELECT api.offer_waitlist_openings((SELECT org FROM ctx), 2147483647)$$,
      $$SELECT api.list_waitlist((SELECT org FROM ctx), 'waiting', 2147483647)$$,
      $$SELECT api.front_desk_transfer((SELECT other FROM ctx), repeat('c', 10000000), '+15552010001')$$,
      $$SELECT api.list_callback_requests((SELECT org FROM ctx), 'open', 2147483647)$$,
      $$SELECT api.update_clinic((SELECT org FROM ctx), name => repeat('n', 10000000))$$,
      $$SELECT api.update_clinic((SELECT org FROM ctx), settings => '{"min_notice_minutes": 2147483648}')$$,
      $$SELECT api.update_clinic((SELECT org FROM ctx), settings => '[1, 2]')$$,
      $$SELECT api.upsert_provider((SELECT org FROM ctx), 'cal-n', 'Dr. N', 2147483647, -5)$$,
      $$SELECT api.update_clinic((SELECT org FROM ctx), name => E'Evil\nClinic')$$,
      $$SELECT api.upsert_provider((SELECT org FROM ctx), 'cal-n', E'Dr. N\u202e')$$,
      $$SELECT api.upsert_service((SELECT org FROM ctx), 'svc-n', E'Svc\r\nX', 30)$$,
      $$SELECT api.upsert_service((SELECT org FROM ctx), 'x', 'X', 2147483647)$$,
      $$SELECT api.set_working_hours((SELECT org FROM ctx), 'cal-a', '{"mon": [["25:00", "26:00"]]}')$$,
      $$SELECT api.set_working_hours((SELECT org FROM ctx), 'cal-a', '{"mon": [[9, 10]]}')$$,
      $$SELECT api.set_working_hours((SELECT org FROM ctx), 'cal-a', '{"mon": {"from": "09:00"}}')$$,
      $$SELECT api.set_working_hours((SELECT org FROM ctx), 'cal-a', 'null')$$,
      $$SELECT api.set_hours_exception((SELECT org FROM ctx), 'cal-a', 'infinity', '[]')$$,
      $$SELECT api.set_hours_exception((SELECT org FROM ctx), 'cal-a', '2030-02-01', '[[null, null]]')$$,
      $$SELECT api.block_time((SELECT org FROM ctx), 'cal-a', '-infinity', 'infinity')$$,
      $$SELECT api.block_time((SELECT org FROM ctx), 'cal-a', '2030-02-01 10:00+00', '2030-02-01 11:00+00', repeat('r', 10000000))$$,
      $$SELECT api.list_blocks((SELECT org FROM ctx), '-infinity')$$,
      $$SELECT api.list_audit((SELECT org FROM ctx), max_rows => 2147483647)$$]) AS s;
SELECT throws_ok($$SELECT api.unblock_time((SELECT org FROM ctx), 9223372036854775807)$$, 'VB404', NULL,
                 'a block id of 2^63-1 is unknown, not an overflow');
SELECT is(api.cancel_my_appointment((SELECT org FROM ctx), 'call-m', '+15552010001', which => 2147483647) ->> 'code',
          'no_appointments', 'which => 2^31-1 is a refusal, not an overflow');
SELECT is(pg_temp.error_of($$SELECT api.list_appointments((SELECT org FROM ctx), '-infinity')$$) ~ ' HINT .+', true,
          'a refusal carries a HINT');
-- An unknown service is named back in the DETAIL, but never 10 MB of it.
SELECT ok(length(pg_temp.error_of($$SELECT api.join_waitlist((SELECT org FROM ctx), '+15552010001', '2030-01-15',
                                                             '2030-01-20', service => repeat('s', 10000000))$$)) < 1000,
          'an unknown 10 MB service is refused with a short error');
SELECT throws_ok($$SELECT api.offer_waitlist_openings(gen_random_uuid())$$, 'VB404', NULL,
                 'offering for an org_id that is no clinic is VB404, not "offers": 0');
-- None of that wrote anything.
SELECT is(api.list_appointments((SELECT org FROM ctx)) -> 'appointments', '[]', 'no refused call booked anything');
SELECT is(api.list_waitlist((SELECT org FROM ctx), NULL) -> 'entries', '[]', 'nor joined the waitlist');
SELECT is(api.list_blocks((SELECT org FROM ctx)) -> 'blocks', '[]', 'nor blocked time');
SELECT is(api.list_audit((SELECT org FROM ctx)) -> 'entries', '[]', 'nor changed the clinic''s set-up');

-- Control characters in a patient's or staff member's name become spaces (a clinic, provider or service name
-- with them is refused above): a spoken name never starts a line of its own in a text to the front desk, nor
-- turns the staff's screen around (U+202E).
SELECT is(api.book_for_patient((SELECT org FROM ctx), 'cal-a', '2030-01-15 15:30+00', 'consultation',
                               E'Ann\nLee\u202e\x01', '+15552010002', 'staff') ->> 'patient_name',
          'Ann Lee', 'book_for_patient keeps a name on one clean line');
SELECT is(api.book_for_patient((SELECT org FROM ctx), 'cal-b', '2030-01-15 15:30+00', 'consultation', 'Di',
                               '+15552010005', E'front\ndesk') ->> 'booked_by', 'front desk', 'and the staff member''s');
SELECT is(api.list_appointments((SELECT org FROM ctx), calendar_id => 'cal-a') -> 'appointments' -> 0 ->> 'patient_name', 'Ann Lee',
          'and stores it so');
SELECT is(api.join_waitlist((SELECT org FROM ctx), '+15552010003', '2030-01-15', '2030-01-20',
                            patient_name => E'Bo\r\nBee\t') ->> 'waitlist_id' IS NOT NULL, true, 'a waitlist entry');
SELECT is(api.list_waitlist((SELECT org FROM ctx)) -> 'entries' -> 0 ->> 'patient_name', 'Bo Bee',
          'keeps the name on one line');
SELECT tests.freeze_time('2030-01-15 03:00:00+00');   -- Monday 22:00: closed, so a callback request
SELECT is(api.front_desk_transfer((SELECT org FROM ctx), 'call-ctl', '+15552010004',
                                  E'Cy\nURGENT: call +15550000000') ->> 'code', 'closed', 'a callback request');
SELECT is(api.list_callback_requests((SELECT org FROM ctx)) -> 'callback_requests' -> 0 ->> 'name',
          'Cy URGENT: call +15550000000', 'names the caller on one line');
SELECT is((SELECT count(*)::int FROM pg_temp.texts((SELECT org FROM ctx), '+15557770000') AS m
            WHERE m.body ~ E'[\\n\\r]'), 0, 'and the text to the front desk has no line the caller wrote');

-- A stray code with a trusted caller id: the list is by caller id (the code was never checked).
SELECT is(api.find_my_appointments((SELECT org FROM ctx), 'call-v', '+15552010002', code => '000000') ->> 'verified_by',
          'caller_id', 'verified_by says caller_id when a stray code was passed and never checked');

SELECT * FROM finish();
ROLLBACK;
