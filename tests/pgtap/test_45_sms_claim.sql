-- api.claim_sms_batch: what a worker gets, what is settled instead of sent, lease recovery, release.
-- The api calls run as the API role (voxbook_api); set-up and direct table reads and writes as the owner.
BEGIN;
SELECT plan(33);

CREATE TEMP TABLE ctx AS SELECT tests.create_clinic() AS org;
SELECT tests.set_clinic((SELECT org FROM ctx), $$sms_from = '+15550002000'$$);
CREATE TEMP TABLE msg (name text PRIMARY KEY, id uuid);

INSERT INTO msg SELECT 'ok', (internal.queue_sms((SELECT org FROM ctx), 'other', '+15550002001', 'Plain message')).id;
INSERT INTO msg SELECT 'future', (internal.queue_sms((SELECT org FROM ctx), 'other', '+15550002002', 'Later',
                                                    send_after => now() + interval '1 hour')).id;
INSERT INTO msg SELECT 'expired', (internal.queue_sms((SELECT org FROM ctx), 'other', '+15550002003', 'Too late',
                                                     expires_at => now() - interval '1 second')).id;
INSERT INTO msg SELECT 'optout', (internal.queue_sms((SELECT org FROM ctx), 'other', '+15550002004', 'Unwanted')).id;
-- opted out after queueing, behind the API's back: the claim still refuses to send it
INSERT INTO voxbook.contacts (org_id, phone, sms_opted_out, sms_opted_out_at)   -- INSERT ... SELECT: Citus
SELECT ctx.org, '+15550002004', true, now() FROM ctx;                             -- takes no subquery in VALUES

-- a live code and a code whose hold was released without the usual cancel
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE h AS
SELECT (api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), (current_date + 7) + time '10:00'),
                              'c1', 'Pat', '+15550002005')->>'hold_id')::uuid AS live,
       (api.claim_slot_atomic((SELECT org FROM ctx), 'cal-b', tests.at((SELECT org FROM ctx), (current_date + 7) + time '10:00'),
                              'c2', 'Sam', '+15550002006')->>'hold_id')::uuid AS dead;
INSERT INTO msg SELECT 'otp_live', (api.send_otp_code((SELECT live FROM h), (SELECT org FROM ctx))->>'message_id')::uuid;
INSERT INTO msg SELECT 'otp_dead', (api.send_otp_code((SELECT dead FROM h), (SELECT org FROM ctx))->>'message_id')::uuid;
RESET ROLE;
UPDATE voxbook.holds SET status = 'released' WHERE id = (SELECT dead FROM h);

SET LOCAL ROLE voxbook_api;
-- a reminder that came due for an appointment cancelled without the usual reminder cleanup
CREATE TEMP TABLE appt AS
SELECT (api.confirm_held_slot((api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a',
            tests.at((SELECT org FROM ctx), (current_date + 9) + time '10:00'), 'c3', 'Kim', '+15550002007')->>'hold_id')::uuid,
        (SELECT org FROM ctx), staff_user => 'front desk')->>'appointment_id')::uuid AS id;
RESET ROLE;
INSERT INTO msg SELECT 'reminder', m.id FROM voxbook.sms_outbox AS m WHERE m.appointment_id = (SELECT id FROM appt) AND m.kind = 'reminder';
INSERT INTO msg SELECT 'confirmation', m.id FROM voxbook.sms_outbox AS m WHERE m.appointment_id = (SELECT id FROM appt) AND m.kind = 'confirmation';
UPDATE voxbook.sms_outbox SET send_after = now() WHERE id = (SELECT id FROM msg WHERE name = 'reminder');
UPDATE voxbook.appointments SET status = 'cancelled', cancelled_at = now() WHERE id = (SELECT id FROM appt);

SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE r1 AS SELECT api.claim_sms_batch('w1', 1000, 60) AS r;
CREATE TEMP VIEW claimed AS
SELECT x->>'message_id' AS id, x FROM r1, jsonb_array_elements(r1.r->'messages') AS x;
CREATE TEMP VIEW skipped AS
SELECT x->>'message_id' AS id, x FROM r1, jsonb_array_elements(r1.r->'skipped') AS x;
RESET ROLE;
-- A message as stored: read as the owner (SECURITY DEFINER), since the API role cannot read the table.
CREATE FUNCTION pg_temp.m(n text) RETURNS voxbook.sms_outbox LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE   -- PL/pgSQL: Citus (tests/citus) cannot plan an SQL function reading a table; the id into a variable first
    msg_id constant uuid := (SELECT id FROM msg WHERE name = n);
    r voxbook.sms_outbox;
BEGIN
    SELECT o.* INTO r FROM voxbook.sms_outbox AS o WHERE o.id = msg_id;
    RETURN r;
END
$$;

SET LOCAL ROLE voxbook_api;
SELECT ok(EXISTS (SELECT 1 FROM claimed WHERE id = (pg_temp.m('ok')).id::text), 'a due message is claimed');
SELECT is((SELECT x->>'from' FROM claimed WHERE id = (pg_temp.m('ok')).id::text), '+15550002000', 'from the clinic''s sender');
SELECT is(row((pg_temp.m('ok')).status, (pg_temp.m('ok')).attempts, (pg_temp.m('ok')).locked_by)::text,
          '(sending,0,w1)', 'it is sending, locked by the worker, no attempt counted before its send begins');
SELECT ok((pg_temp.m('ok')).lease_until BETWEEN now() + interval '59 seconds' AND now() + interval '61 seconds',
          '... held for lease_seconds');
SELECT is((SELECT x->>'attempt' FROM claimed WHERE id = (pg_temp.m('ok')).id::text), '1', '... as attempt 1');
SELECT is((SELECT x->'validity_period' FROM claimed WHERE id = (pg_temp.m('ok')).id::text), 'null'::jsonb,
          'no validity period for a message that does not expire');
SELECT ok((SELECT (x->>'validity_period')::int BETWEEN 1 AND 600 FROM claimed WHERE id = (pg_temp.m('otp_live')).id::text),
          'a live code is claimed with the seconds left as validity period');
SELECT is((pg_temp.m('future')).status, 'queued', 'a message due later is left alone');
SELECT ok(NOT EXISTS (SELECT 1 FROM claimed WHERE id = (pg_temp.m('future')).id::text), '... and not claimed');

SELECT is(row((pg_temp.m('expired')).status, (pg_temp.m('expired')).skip_reason)::text,
          '(skipped,"expired before it could be sent")', 'an expired message is skipped with its reason');
SELECT is(row((pg_temp.m('optout')).status, (pg_temp.m('optout')).skip_reason)::text,
          '(skipped,"recipient opted out (STOP)")', 'an opted-out recipient gets nothing');
SELECT is(row((pg_temp.m('otp_dead')).status, (pg_temp.m('otp_dead')).skip_reason)::text,
          '(skipped,"code not sent: the hold is no longer live")', 'a code of a dead hold is not sent');
SELECT matches((pg_temp.m('otp_dead')).body, '^\*\*\*\* is your ', '... and its code is redacted');
SELECT is(row((pg_temp.m('reminder')).status, (pg_temp.m('reminder')).skip_reason)::text,
          '(cancelled,"appointment cancelled")', 'a reminder of a cancelled appointment is cancelled');
SELECT is((SELECT x->>'reason' FROM skipped WHERE id = (pg_temp.m('optout')).id::text), 'recipient opted out (STOP)',
          'skipped messages are reported to the worker with their reason');

SELECT is((SELECT count(*)::int FROM jsonb_array_elements(api.claim_sms_batch('w2', 1000, 60)->'messages') AS x
            WHERE x->>'org_id' = (SELECT org FROM ctx)::text), 0,
          'a second worker gets none of the claimed messages');

-- A worker that died after its send began: after the lease its row is 'unknown', and the next claim reconciles it.
SELECT is(api.begin_sms_send((SELECT org FROM ctx), (pg_temp.m('ok')).id, 'w1', 1, 30)->>'success', 'true', 'the send begins');
RESET ROLE;
UPDATE voxbook.sms_outbox SET lease_until = now() - interval '1 second' WHERE id = (SELECT id FROM msg WHERE name = 'ok');
-- A worker that died before the send of a claimed row began: that row is simply queued again.
UPDATE voxbook.sms_outbox SET lease_until = now() - interval '1 second' WHERE id = (SELECT id FROM msg WHERE name = 'confirmation');
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE r2 AS SELECT api.claim_sms_batch('w2', 1000, 60) AS r;
SELECT ok((SELECT r->'recovered' ? (pg_temp.m('ok')).id::text FROM r2), 'a row sending past the lease is recovered');
SELECT is((SELECT x->>'reconcile' FROM r2, jsonb_array_elements(r->'messages') AS x
            WHERE x->>'message_id' = (pg_temp.m('ok')).id::text), 'true', '... and claimed for reconciliation first');
SELECT is((SELECT x->>'resend' FROM r2, jsonb_array_elements(r->'messages') AS x
            WHERE x->>'message_id' = (pg_temp.m('ok')).id::text), 'true', '... which may resend it if the provider lacks it');
SELECT is(row((pg_temp.m('ok')).attempts, (pg_temp.m('ok')).locked_by)::text, '(1,w2)', '... now held by the new worker');
SELECT is((SELECT x->>'attempt' FROM r2, jsonb_array_elements(r->'messages') AS x
            WHERE x->>'message_id' = (pg_temp.m('confirmation')).id::text), '1',
          'a row whose send never began is claimed again as a fresh send, its attempt not counted');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements((SELECT r->'recovered' FROM r2)) AS x
            WHERE x #>> '{}' = (pg_temp.m('otp_live')).id::text), 0, 'a row within its lease is not recovered');

RESET ROLE;
-- Out of attempts: still reconciled, never re-sent.
UPDATE voxbook.sms_outbox SET status = 'unknown', attempts = 5, max_attempts = 5, locked_by = NULL, locked_at = NULL
 WHERE id = (SELECT id FROM msg WHERE name = 'confirmation');
SET LOCAL ROLE voxbook_api;
SELECT is((SELECT x->>'resend' || '/' || (x->>'resend_blocked') FROM jsonb_array_elements(api.claim_sms_batch('w3', 1000, 60)->'messages') AS x
            WHERE x->>'message_id' = (pg_temp.m('confirmation')).id::text), 'false/no attempts left (5)',
          'an unknown outcome without attempts left is looked up but not re-sent');

-- A stopping worker gives back what it never sent.
SELECT is(api.release_sms_claims('w1', ARRAY[(pg_temp.m('otp_live')).id, (pg_temp.m('future')).id])->>'released', '1',
          'release gives back the worker''s claims (only those it holds)');
DO $$ BEGIN PERFORM api.release_sms_claims('w1'); END $$;
RESET ROLE;
SELECT is((SELECT count(*)::int FROM voxbook.sms_outbox AS o WHERE o.locked_by = 'w1' AND o.status = 'sending'), 0,
          'without ids, all of a worker''s claims go back');
SET LOCAL ROLE voxbook_api;
SELECT is(row((pg_temp.m('otp_live')).status, (pg_temp.m('otp_live')).attempts, (pg_temp.m('otp_live')).locked_by)::text,
          '(queued,0,)', '... queued again, the attempt not counted');
SELECT is(api.begin_sms_send((SELECT org FROM ctx), (pg_temp.m('otp_live')).id, 'w1', 1, 30)->>'code', 'not_held',
          'a released row can no longer be sent by the worker that had it');
SELECT is(api.release_sms_claims('w2', ARRAY[(pg_temp.m('ok')).id])->>'released', '1', 'release by id');
SELECT is((pg_temp.m('ok')).status, 'unknown', 'a released row with an earlier unsettled attempt goes back to unknown');

SELECT throws_ok('SELECT api.claim_sms_batch(NULL)', 'VB400', NULL, 'worker_id is required');
SELECT throws_ok('SELECT api.claim_sms_batch(''w'', 0)', 'VB400', NULL, 'batch_size must be positive');
SELECT throws_ok('SELECT api.claim_sms_batch(''w'', 10, -1)', 'VB400', NULL, 'lease_seconds must not be negative');

SELECT * FROM finish();
ROLLBACK;
