-- One-time codes: HMAC-hashed with the pepper, six digits, attempt-limited, expiring with the hold; the only way (besides staff) to confirm.
-- The api calls run as the API role (voxbook_api); set-up and direct table reads and writes as the owner.
BEGIN;
SELECT plan(32);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Code Clinic') AS org;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE holds AS
SELECT n, (api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 09:00') + (n - 1) * interval '30 minutes',
                                 'call-' || n, 'Pat ' || n, '+1555301000' || n)->>'hold_id')::uuid AS id
  FROM generate_series(1, 5) AS n;

-- hold 1: the happy path
CREATE TEMP TABLE sent AS SELECT api.send_otp_code((SELECT id FROM holds WHERE n = 1), (SELECT org FROM ctx)) AS j;
SELECT is((SELECT j->>'success' FROM sent), 'true', 'a code is sent for a live hold');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m WHERE m.hold_id = (SELECT id FROM holds WHERE n = 1) AND m.kind = 'otp' AND m.status = 'queued'),
          1::bigint, 'the code SMS is in the outbox');
SET LOCAL ROLE voxbook_api;
SELECT matches(tests.code_of((SELECT id FROM holds WHERE n = 1)), '^[0-9]{6}$', 'the code has the clinic''s 6 digits (the default)');
RESET ROLE;
SELECT is((SELECT m.recipient::text FROM voxbook.sms_outbox AS m WHERE m.id = (SELECT (j->>'message_id')::uuid FROM sent)),
          '+15553010001', 'it goes to the hold''s phone');
SELECT ok((SELECT m.redact_after_send AND m.expires_at = h.expires_at
             FROM voxbook.sms_outbox AS m JOIN voxbook.holds AS h ON h.org_id = m.org_id AND h.id = m.hold_id
            WHERE m.id = (SELECT (j->>'message_id')::uuid FROM sent)),
          'the code SMS expires with the hold and is redacted once sent');
-- The code into a temp table first: tests.code_of reads the outbox, so on Citus it may not run per row of holds.
CREATE TEMP TABLE code1 AS SELECT tests.code_of((SELECT id FROM holds WHERE n = 1)) AS code;
SELECT ok((SELECT h.otp_hash = hmac(h.otp_salt || convert_to((SELECT code FROM code1), 'UTF8'),
                                     convert_to(current_setting('voxbook.code_pepper'), 'UTF8'), 'sha256')
             FROM voxbook.holds AS h WHERE h.id = (SELECT id FROM holds WHERE n = 1)),
          'the hold stores only an HMAC-SHA256 of salt and code keyed by the pepper (a role setting)');
SELECT ok((SELECT h.otp_hash <> digest(h.otp_salt || convert_to((SELECT code FROM code1), 'UTF8'), 'sha256')
              AND h.otp_hash <> digest(convert_to((SELECT code FROM code1), 'UTF8'), 'sha256')
             FROM voxbook.holds AS h WHERE h.id = (SELECT id FROM holds WHERE n = 1)),
          '... not a sha256 anyone holding a dump could recompute');
SELECT is((SELECT count(*) FROM information_schema.columns
            WHERE table_schema = 'voxbook' AND table_name = 'holds' AND column_name ~ 'code|otp' AND data_type = 'text'),
          0::bigint, 'no text column of holds could hold a plain code');
SET LOCAL ROLE voxbook_api;
SELECT is(api.confirm_held_slot((SELECT id FROM holds WHERE n = 1), (SELECT org FROM ctx))->>'code', 'not_verified',
          'without the code (and not as staff) a hold cannot be confirmed');

CREATE TEMP TABLE verified AS
    SELECT api.verify_otp((SELECT id FROM holds WHERE n = 1), (SELECT org FROM ctx), ' ' || tests.code_of((SELECT id FROM holds WHERE n = 1))) AS j;
SELECT is((SELECT j->>'success' FROM verified), 'true', 'the right code confirms the appointment');
RESET ROLE;
SELECT is((SELECT a.status || '/' || a.confirmed_via || '/' || a.otp_verified FROM voxbook.appointments AS a
            WHERE a.id = (SELECT (j->>'appointment_id')::uuid FROM verified)),
          'confirmed/otp/true', 'the appointment is confirmed through a verified code');
SELECT is((SELECT ct.booking_source || '/' || ct.phone || '/' || ct.name FROM voxbook.contacts AS ct
            WHERE ct.id = (SELECT (j->>'contact_id')::uuid FROM verified)),
          'phone_ai/+15553010001/Pat 1', 'the contact is created with booking_source phone_ai');
SELECT is((SELECT ct.last_booking_hold_id FROM voxbook.contacts AS ct WHERE ct.id = (SELECT (j->>'contact_id')::uuid FROM verified)),
          (SELECT id FROM holds WHERE n = 1), '... and remembers the hold');
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m
            WHERE m.appointment_id = (SELECT (j->>'appointment_id')::uuid FROM verified) AND m.kind = 'confirmation'),
          1::bigint, 'the confirmation SMS is queued in the same transaction');
SELECT is((SELECT m.send_after FROM voxbook.sms_outbox AS m
            WHERE m.appointment_id = (SELECT (j->>'appointment_id')::uuid FROM verified) AND m.kind = 'reminder'),
          '2030-01-14 14:00:00+00'::timestamptz, 'a reminder is scheduled 24 hours before');
SELECT matches((SELECT m.body FROM voxbook.sms_outbox AS m
                 WHERE m.appointment_id = (SELECT (j->>'appointment_id')::uuid FROM verified) AND m.kind = 'confirmation'),
               '^Your appointment is confirmed: Tue, Jan 15 at 9:00 AM with Dr\. Able\. Code Clinic, \(555\) [0-9]{3}-[0-9]{4}\. .*Reply STOP to unsubscribe\.$',
               'the confirmation names the local time, provider, clinic and phone, and the STOP line');
SET LOCAL ROLE voxbook_api;
SELECT is(api.verify_otp((SELECT id FROM holds WHERE n = 1), (SELECT org FROM ctx), '0000')->>'appointment_id',
          (SELECT j->>'appointment_id' FROM verified), 'verifying again returns the same appointment');
RESET ROLE;
SELECT is((SELECT count(*) FROM voxbook.appointments AS a WHERE a.hold_id = (SELECT id FROM holds WHERE n = 1)),
          1::bigint, '... and creates no second one');

SET LOCAL ROLE voxbook_api;
-- hold 2: wrong codes
SELECT lives_ok($$SELECT api.send_otp_code((SELECT id FROM holds WHERE n = 2), (SELECT org FROM ctx))$$, 'a code for hold 2');
CREATE TEMP TABLE wrong AS SELECT CASE WHEN tests.code_of((SELECT id FROM holds WHERE n = 2)) = '111111' THEN '222222' ELSE '111111' END AS code;
SELECT is(api.verify_otp((SELECT id FROM holds WHERE n = 2), (SELECT org FROM ctx), 'one two')->>'code', 'malformed_code',
          'words instead of digits spend no attempt');
SELECT is(api.verify_otp((SELECT id FROM holds WHERE n = 2), (SELECT org FROM ctx), (SELECT code FROM wrong)) - 'hold_id',
          '{"success": false, "code": "wrong_code", "error": "Incorrect code", "retries_left": 2}'::jsonb, 'a wrong code leaves 2 retries');
SELECT is(api.verify_otp((SELECT id FROM holds WHERE n = 2), (SELECT org FROM ctx), (SELECT code FROM wrong))->>'retries_left', '1', 'then 1');
SELECT is(api.verify_otp((SELECT id FROM holds WHERE n = 2), (SELECT org FROM ctx), (SELECT code FROM wrong))->>'code', 'attempts_exhausted',
          'the third wrong code exhausts the attempts');
RESET ROLE;
SELECT is((SELECT h.status FROM voxbook.holds AS h WHERE h.id = (SELECT id FROM holds WHERE n = 2)), 'released', '... and releases the hold');
SET LOCAL ROLE voxbook_api;
SELECT is(api.verify_otp((SELECT id FROM holds WHERE n = 2), (SELECT org FROM ctx), tests.code_of((SELECT id FROM holds WHERE n = 2)))->>'code',
          'hold_expired', 'after that even the right code is refused');

-- hold 3: resends
SELECT is((SELECT array_agg(api.send_otp_code((SELECT id FROM holds WHERE n = 3), (SELECT org FROM ctx))->>'success' ORDER BY g)
             FROM generate_series(1, 4) AS g),
          ARRAY['true', 'true', 'true', 'false'], 'at most 3 codes are sent per hold');
RESET ROLE;
SELECT is((SELECT array_agg(m.status ORDER BY m.created_at, m.status) FROM voxbook.sms_outbox AS m WHERE m.hold_id = (SELECT id FROM holds WHERE n = 3)),
          ARRAY['cancelled', 'cancelled', 'queued'], 'a new code cancels the older unsent ones');
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m
            WHERE m.hold_id IN (SELECT id FROM holds WHERE n IN (2, 3)) AND m.status = 'cancelled' AND m.body ~ '[0-9]{4}'),
          0::bigint, 'a cancelled code message keeps no code (superseded, or its hold released)');

SET LOCAL ROLE voxbook_api;
-- hold 4: expiry
SELECT lives_ok($$SELECT api.send_otp_code((SELECT id FROM holds WHERE n = 4), (SELECT org FROM ctx))$$, 'a code for hold 4');
CREATE TEMP TABLE code4 AS SELECT tests.code_of((SELECT id FROM holds WHERE n = 4)) AS code;
SELECT tests.freeze_time('2030-01-14 12:10:00+00');
SELECT is(api.verify_otp((SELECT id FROM holds WHERE n = 4), (SELECT org FROM ctx), (SELECT code FROM code4))->>'code', 'hold_expired',
          'a code expires with its hold: an expired hold can never be confirmed');
SELECT is(api.confirm_held_slot((SELECT id FROM holds WHERE n = 4), (SELECT org FROM ctx), staff_user => 'desk')->>'code', 'hold_expired',
          'not even by staff');
SELECT tests.freeze_time('2030-01-14 12:00:00+00');

-- hold 5: the staff path
SELECT is(api.confirm_held_slot((SELECT id FROM holds WHERE n = 5), (SELECT org FROM ctx), staff_user => 'front desk')->>'confirmed_via', 'staff',
          'staff can confirm without a code, and it is recorded');

SELECT * FROM finish();
ROLLBACK;
