-- Issue 10, the SMS rules at the edges: a send only by the worker that holds the row (lease checked and
-- renewed just before the send), one provider message for one of ours, reminders stamped with their time,
-- retries until a message is no longer useful, inbound webhooks idempotent by MessageSid.
-- The api calls run as the API role (voxbook_api); set-up and direct table reads and writes as the owner.
BEGIN;
SELECT plan(40);

CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Edge Clinic') AS org;
SELECT tests.set_clinic((SELECT org FROM ctx), $$sms_from = '+15550005000'$$);
CREATE TEMP TABLE msg (name text PRIMARY KEY, id uuid);
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
CREATE FUNCTION pg_temp.claimed(r jsonb, n text) RETURNS jsonb LANGUAGE sql AS
$$ SELECT x FROM jsonb_array_elements(r->'messages') AS x WHERE x->>'message_id' = (SELECT id FROM msg WHERE name = n)::text $$;
CREATE FUNCTION pg_temp.begin(n text, worker text, attempt int, lease double precision DEFAULT 30) RETURNS jsonb
    LANGUAGE sql AS
$$ SELECT api.begin_sms_send((SELECT org FROM ctx), (SELECT id FROM msg WHERE name = n), worker, attempt, lease) $$;
-- Keep other tests' rows out of these claims.
UPDATE voxbook.sms_outbox SET send_after = now() + interval '1 year' WHERE status IN ('queued', 'unknown');

-- 4. The lease covers the wait, and the send is checked. w1 claims, its row waits past the lease, w2 takes it.
INSERT INTO msg SELECT 'slow', (internal.queue_sms((SELECT org FROM ctx), 'other', '+15550005001', 'Waited too long')).id;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE c1 AS SELECT api.claim_sms_batch('w1', 10, 50) AS r;
SELECT is((SELECT pg_temp.claimed(r, 'slow')->>'attempt' FROM c1), '1', 'w1 claims the message');
SELECT tests.freeze_time(now() + interval '58 seconds');
CREATE TEMP TABLE c2 AS SELECT api.claim_sms_batch('w2', 10, 50) AS r;
SELECT is((SELECT pg_temp.claimed(r, 'slow')->>'reconcile' FROM c2), 'false',
          'past the lease, w2 takes it over as a fresh send: w1 never began it');
SELECT is(pg_temp.begin('slow', 'w1', 1)->>'code', 'not_held', 'w1 may no longer send it: its send is refused before it starts');
SELECT is(pg_temp.begin('slow', 'w2', 1)->>'success', 'true', 'w2 holds it and begins its send');
SELECT is(row((pg_temp.m('slow')).attempts, (pg_temp.m('slow')).provider_may_have)::text, '(1,t)',
          '... one attempt, and from now on the provider may have it');
SELECT is(pg_temp.begin('slow', 'w2', 1)->>'code', 'not_held', 'the same attempt cannot begin twice');
-- While w2's send may still be under way nobody takes the row, however short the claimer's lease.
SELECT tests.freeze_time(now() + interval '58 seconds' + interval '29 seconds');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(api.claim_sms_batch('w3', 10, 0)->'recovered') AS x
            WHERE x #>> '{}' = (pg_temp.m('slow')).id::text), 0, 'within the renewed lease the row stays w2''s');
SELECT tests.freeze_time(now() + interval '58 seconds' + interval '31 seconds');
CREATE TEMP TABLE c3 AS SELECT api.claim_sms_batch('w3', 10, 50) AS r;
SELECT is((SELECT pg_temp.claimed(r, 'slow')->>'reconcile' FROM c3), 'true',
          'after it, w3 takes it over, but only to look it up first: w2''s send may have reached the provider');
RESET ROLE;
-- An expired lease that nobody took over is still the holder's: it may begin its send.
INSERT INTO msg SELECT 'late', (internal.queue_sms((SELECT org FROM ctx), 'other', '+15550005002', 'Late but mine')).id;
SET LOCAL ROLE voxbook_api;
SELECT tests.unfreeze_time();
SELECT is((SELECT pg_temp.claimed(api.claim_sms_batch('w4', 10, 1), 'late')->>'attempt'), '1', 'w4 claims with a 1 s lease');
SELECT tests.freeze_time(now() + interval '5 seconds');
SELECT is(pg_temp.begin('late', 'w4', 1)->>'success', 'true', 'past its lease but not taken over: still w4''s to send');
RESET ROLE;
-- A STOP while the message waited in the worker: the check before the send settles it instead.
INSERT INTO msg SELECT 'stopped', (internal.queue_sms((SELECT org FROM ctx), 'other', '+15550005003', 'Before STOP')).id;
SET LOCAL ROLE voxbook_api;
SELECT is((SELECT pg_temp.claimed(api.claim_sms_batch('w5', 10, 60), 'stopped')->>'attempt'), '1', 'claimed');
SELECT is(api.record_inbound_sms('+15550005000', '+15550005003', 'STOP', 'SMedge-stop')->>'action', 'opt_out', 'then STOP');
SELECT is(pg_temp.begin('stopped', 'w5', 1)->>'code', 'blocked', 'the send is refused');
SELECT is(row((pg_temp.m('stopped')).status, (pg_temp.m('stopped')).skip_reason)::text,
          '(skipped,"recipient opted out (STOP)")', '... and the message skipped with its reason');
SELECT throws_ok('SELECT api.begin_sms_send(gen_random_uuid(), gen_random_uuid(), ''w'', 1, 0)', 'VB400', NULL,
          'a send needs a positive lease');

RESET ROLE;
-- 5. Two identical texts to one number: one provider message is one of ours, never two.
INSERT INTO msg SELECT 'twin1', (internal.queue_sms((SELECT org FROM ctx), 'hot_lead', '+15550005010', 'Hot lead: call back')).id;
INSERT INTO msg SELECT 'twin2', (internal.queue_sms((SELECT org FROM ctx), 'hot_lead', '+15550005010', 'Hot lead: call back')).id;
DO $$   -- queued a second later (computed first: Citus refuses timestamptz + interval on a column in an UPDATE)
DECLARE
    twin2 constant uuid := (SELECT id FROM msg WHERE name = 'twin2');
    later timestamptz;
BEGIN
    SELECT o.created_at + interval '1 second' INTO later FROM voxbook.sms_outbox AS o WHERE o.id = twin2;
    UPDATE voxbook.sms_outbox SET created_at = later WHERE id = twin2;
END
$$;
SELECT tests.unfreeze_time();
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE t1 AS SELECT api.claim_sms_batch('w6', 10, 60) AS r;
SELECT is(pg_temp.begin('twin1', 'w6', 1)->>'success', 'true', 'first twin begins');
SELECT is(pg_temp.begin('twin2', 'w6', 1)->>'success', 'true', 'second twin begins');
SELECT is(api.mark_sms_failed((SELECT org FROM ctx), (pg_temp.m('twin2')).id, 'w6', '20500', 'HTTP 500', ambiguous => true,
                              retry_base_seconds => 0)->>'status', 'unknown', 'the second gets a 500: unknown');
SELECT is(pg_temp.claimed(api.claim_sms_batch('w7', 10, 60), 'twin2'), NULL,
          'it is not looked up while its older twin''s send may be under way: the provider''s copy could be that one');
SELECT is(api.mark_sms_sent((SELECT org FROM ctx), (pg_temp.m('twin1')).id, 'SMtwin1')->>'status', 'sent', 'the first is sent');
RESET ROLE;
UPDATE voxbook.sms_outbox SET send_after = now() WHERE id = (SELECT id FROM msg WHERE name = 'twin2');
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE t2 AS SELECT api.claim_sms_batch('w7', 10, 60) AS r;
SELECT is((SELECT pg_temp.claimed(r, 'twin2')->'taken_sids' FROM t2), '["SMtwin1"]'::jsonb,
          'its lookup is told the first twin''s provider id, which can never be its own');
SELECT is(pg_temp.begin('twin2', 'w7', 2)->>'success', 'true', 'its lookup begins');
SELECT is(api.mark_sms_sent((SELECT org FROM ctx), (pg_temp.m('twin2')).id, 'SMtwin1')->>'code', 'sid_taken',
          'recording the first twin''s id for it is refused, without an error that would end the worker''s session');
SELECT is(row((pg_temp.m('twin2')).status, (pg_temp.m('twin2')).provider_message_id, (pg_temp.m('twin2')).locked_by)::text,
          '(unknown,,)', '... and it goes back to unknown, to be looked up again');
SELECT is((pg_temp.m('twin1')).provider_message_id, 'SMtwin1', 'the first twin keeps its id');

-- 6. Reminders: renaming the provider or the clinic keeps them; a move skips the old one.
CREATE TEMP TABLE appt AS
SELECT (api.confirm_held_slot((api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a',
            tests.at((SELECT org FROM ctx), (current_date + 9) + time '10:00'), 'e1', 'Kim', '+15550005020')->>'hold_id')::uuid,
        (SELECT org FROM ctx), staff_user => 'front desk')->>'appointment_id')::uuid AS id;
RESET ROLE;
INSERT INTO msg SELECT 'reminder', m.id FROM voxbook.sms_outbox AS m
 WHERE m.appointment_id = (SELECT id FROM appt) AND m.kind = 'reminder' AND m.status = 'queued';
SELECT is(row((pg_temp.m('reminder')).reminder_hold_id = (SELECT hold_id FROM voxbook.appointments WHERE id = (SELECT id FROM appt)),
              (pg_temp.m('reminder')).reminder_starts_at = tests.at((SELECT org FROM ctx), (current_date + 9) + time '10:00'))::text,
          '(t,t)', 'a reminder is stamped with the hold and start it announces');
UPDATE voxbook.calendars SET display_name = 'Dr. Able-Renamed' WHERE org_id = (SELECT org FROM ctx) AND id = 'cal-a';
SELECT tests.set_clinic((SELECT org FROM ctx), $$name = 'Edge Clinic & Co', time_zone = 'America/Chicago'$$);
UPDATE voxbook.sms_outbox SET send_after = now() WHERE id = (SELECT id FROM msg WHERE name = 'reminder');
SET LOCAL ROLE voxbook_api;
SELECT is((SELECT pg_temp.claimed(api.claim_sms_batch('w8', 10, 60), 'reminder')->>'kind'), 'reminder',
          'after renaming the provider and the clinic and changing its zone, the reminder still goes out');
RESET ROLE;
UPDATE voxbook.sms_outbox SET status = 'unknown', locked_by = NULL, lease_until = NULL, provider_may_have = true
 WHERE id = (SELECT id FROM msg WHERE name = 'reminder');
SET LOCAL ROLE voxbook_api;
SELECT is(api.reschedule_appointment((SELECT id FROM appt), (SELECT org FROM ctx),
                                     tests.at((SELECT org FROM ctx), (current_date + 10) + time '14:00'))->>'success', 'true',
          'then the appointment moves');
SELECT is((SELECT pg_temp.claimed(api.claim_sms_batch('w9', 10, 60), 'reminder')->>'resend_blocked'), 'appointment moved',
          'the old reminder is only looked up, never re-sent: its appointment moved');

RESET ROLE;
-- 7. Retries: past 5 attempts, capped backoff, until the message is no longer useful; permanent at once.
INSERT INTO msg SELECT 'outage', (internal.queue_sms((SELECT org FROM ctx), 'confirmation', '+15550005030', 'Confirmed')).id;
-- Makes a queued message due now, as the owner: the retry test does not wait out each backoff.
-- (PL/pgSQL with the id and the clock in variables: Citus sends a multi-shard UPDATE with values only)
CREATE FUNCTION pg_temp.due_now(n text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    msg_id constant uuid := (SELECT id FROM msg WHERE name = n);
    now_ts constant timestamptz := internal.clock();
BEGIN
    UPDATE voxbook.sms_outbox SET send_after = now_ts WHERE id = msg_id AND status = 'queued';
END
$$;
SET LOCAL ROLE voxbook_api;
CREATE FUNCTION pg_temp.fail_once(n text, code text, permanent boolean DEFAULT false) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r jsonb;
BEGIN
    PERFORM pg_temp.due_now(n);
    PERFORM api.claim_sms_batch('w-retry', 10, 60);
    PERFORM pg_temp.begin(n, 'w-retry', (pg_temp.m(n)).attempts + 1);
    r := api.mark_sms_failed((SELECT org FROM ctx), (pg_temp.m(n)).id, 'w-retry', code, 'Too many requests',
                             permanent => permanent, retry_base_seconds => 30);
    RETURN r;
END $$;
SELECT is((SELECT array_agg(DISTINCT pg_temp.fail_once('outage', '20429')->>'status') FROM generate_series(1, 12)),
          ARRAY['queued'], 'twelve 429s in a row: still queued (no longer failed after 5 attempts)');
SELECT ok((pg_temp.m('outage')).send_after <= now() + interval '375 seconds'
          AND (pg_temp.m('outage')).send_after >= now() + interval '225 seconds',
          'the backoff is capped at 5 minutes (+-25% jitter)');
SELECT tests.freeze_time(now() + interval '23 hours 58 minutes');
SELECT is(pg_temp.fail_once('outage', '20429')->>'status', 'failed', 'a confirmation still failing after a day ends');
SELECT is(row((pg_temp.m('outage')).error_code, (pg_temp.m('outage')).skip_reason)::text,
          '(20429,"gave up: not sent within 24 hours of being due")', '... with the last error and a reason a person can read');
SELECT tests.unfreeze_time();
RESET ROLE;
INSERT INTO msg SELECT 'invalid', (internal.queue_sms((SELECT org FROM ctx), 'other', '+15550005031', 'Bad number')).id;
SET LOCAL ROLE voxbook_api;
SELECT is(pg_temp.fail_once('invalid', '21211', permanent => true)->>'status', 'failed', 'a permanent error still fails at once');
RESET ROLE;
INSERT INTO msg SELECT 'alert', (internal.queue_sms((SELECT org FROM ctx), 'hot_lead', '+15550005032', 'Hot lead')).id;
SET LOCAL ROLE voxbook_api;
SELECT is(pg_temp.fail_once('alert', '20429')->>'status', 'queued', 'a hot-lead alert is retried');
SELECT tests.freeze_time(now() + interval '7 hours');
SELECT is((SELECT x->>'status' FROM jsonb_array_elements(api.claim_sms_batch('w-late', 10, 60)->'skipped') AS x
            WHERE x->>'message_id' = (pg_temp.m('alert')).id::text), 'failed',
          '... for a few hours only: then it ends failed when next claimed');

-- 10. A redelivered inbound webhook changes nothing: START, STOP, then the first START again.
SELECT tests.unfreeze_time();
SELECT is(api.record_inbound_sms('+15550005000', '+15550005040', 'START', 'SMedge-start')->>'action', 'opt_in', 'START');
SELECT is(api.record_inbound_sms('+15550005000', '+15550005040', 'STOP', 'SMedge-stop2')->>'action', 'opt_out', 'STOP');
SELECT is(api.record_inbound_sms('+15550005000', '+15550005040', 'START', 'SMedge-start') - 'duplicate',
          jsonb_build_object('success', true, 'action', 'opt_in', 'keyword', 'START', 'orgs', 1, 'reply', NULL, 'reply_to', NULL),
          'the first START delivered again gets its first answer');
RESET ROLE;
SELECT ok((SELECT ct.sms_opted_out FROM voxbook.contacts AS ct
            WHERE ct.org_id = (SELECT org FROM ctx) AND ct.phone = '+15550005040'),
          '... and the number stays opted out');

SELECT * FROM finish();
ROLLBACK;
