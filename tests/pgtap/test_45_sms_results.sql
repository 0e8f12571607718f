-- api.mark_sms_sent / api.mark_sms_failed / api.record_sms_status: what a send attempt and Twilio's callbacks do.
-- The api calls run as the API role (voxbook_api); set-up and direct table reads and writes as the owner.
BEGIN;
SELECT plan(41);

CREATE TEMP TABLE ctx AS SELECT tests.create_clinic() AS org;
CREATE TEMP TABLE msg (name text PRIMARY KEY, id uuid);
INSERT INTO msg SELECT 'retry', (internal.queue_sms((SELECT org FROM ctx), 'other', '+15550003001', 'Retry')).id;
INSERT INTO msg SELECT 'perm', (internal.queue_sms((SELECT org FROM ctx), 'other', '+15550003002', 'Permanent')).id;
INSERT INTO msg SELECT 'stop', (internal.queue_sms((SELECT org FROM ctx), 'other', '+15550003003', 'Opted out at Twilio')).id;
INSERT INTO msg SELECT 'last', (internal.queue_sms((SELECT org FROM ctx), 'other', '+15550003004', 'Last attempt')).id;
UPDATE voxbook.sms_outbox SET max_attempts = 1 WHERE id = (SELECT id FROM msg WHERE name = 'last');   -- a runaway guard
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE h AS
SELECT (api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), (current_date + 7) + time '10:00'),
                              'c1', 'Pat', '+15550003005')->>'hold_id')::uuid AS id;
INSERT INTO msg SELECT 'otp', (api.send_otp_code((SELECT id FROM h), (SELECT org FROM ctx))->>'message_id')::uuid;
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
-- A worker's attempt: begin the send (the attempt counts from here), then report its failure.
CREATE FUNCTION pg_temp.begin(n text, worker text DEFAULT 'w1') RETURNS jsonb LANGUAGE sql AS
$$ SELECT api.begin_sms_send((SELECT org FROM ctx), (pg_temp.m(n)).id, worker, (pg_temp.m(n)).attempts + 1, 30) $$;
CREATE FUNCTION pg_temp.fail(n text, code text, permanent boolean DEFAULT false, ambiguous boolean DEFAULT false,
                             worker text DEFAULT 'w1') RETURNS jsonb LANGUAGE sql AS
$$ SELECT pg_temp.begin(n, worker);
   SELECT api.mark_sms_failed((SELECT org FROM ctx), (SELECT id FROM msg WHERE name = n), worker, code, 'test error',
                              permanent, ambiguous, 10) $$;

SELECT is(jsonb_typeof(api.claim_sms_batch('w1', 1000, 60)->'messages'), 'array', 'claimed');

-- transient: back to queued with exponential backoff and jitter
SELECT is(pg_temp.fail('retry', '20429')->>'status', 'queued', 'a transient failure is queued again');
SELECT ok((pg_temp.m('retry')).send_after BETWEEN now() + interval '7.5 seconds' AND now() + interval '12.5 seconds',
          'first retry after the base delay +-25%');
SELECT is(row((pg_temp.m('retry')).error_code, (pg_temp.m('retry')).locked_by)::text, '(20429,)', 'error kept, lock released');
SELECT is(pg_temp.fail('retry', '20429')->>'code', 'not_claimed', 'a report on a row no longer claimed changes nothing');

-- permanent
SELECT is(pg_temp.fail('perm', '21211', permanent => true)->>'status', 'failed', 'a permanent error fails at once');
SELECT is((pg_temp.m('perm')).attempts, 1, '... after one attempt');
SELECT is(pg_temp.fail('stop', '21610', permanent => true)->>'opted_out', 'true', '21610 opts the recipient out');
RESET ROLE;
SELECT is((SELECT ct.sms_opt_out_source FROM voxbook.contacts AS ct
            WHERE ct.org_id = (SELECT org FROM ctx) AND ct.phone = '+15550003003' AND ct.sms_opted_out), 'twilio:21610',
          '... with its source');
SELECT is((internal.queue_sms((SELECT org FROM ctx), 'other', '+15550003003', 'Again')).status, 'skipped',
          '... and nothing more is queued for that number');
SET LOCAL ROLE voxbook_api;
SELECT is(pg_temp.fail('last', '20429')->>'status', 'failed', 'a transient error on the last attempt fails');

-- a one-time code is redacted once sent
SELECT is(api.mark_sms_sent((SELECT org FROM ctx), (pg_temp.m('otp')).id, 'SMotp')->>'status', 'sent', 'code sent');
SELECT matches((pg_temp.m('otp')).body, '^\*\*\*\* is your ', 'the sent code is no longer stored in clear');

SELECT tests.freeze_time(now() + interval '1 hour');
SELECT is(jsonb_typeof(api.claim_sms_batch('w1', 1000, 60)->'messages'), 'array', 'claimed again an hour later');
SELECT is(pg_temp.fail('retry', '20429', worker => 'w2')->>'code', 'not_claimed', 'another worker cannot settle my claim');
SELECT is(pg_temp.fail('retry', 'timeout', ambiguous => true)->>'status', 'unknown', 'an ambiguous failure is unknown');
SELECT ok((pg_temp.m('retry')).send_after BETWEEN now() + interval '1 hour 15 seconds' AND now() + interval '1 hour 25 seconds',
          'second retry after twice the base delay');
SELECT tests.freeze_time(now() + interval '2 hours');
SELECT is((SELECT x->>'reconcile' FROM jsonb_array_elements(api.claim_sms_batch('w1', 1000, 60)->'messages') AS x
            WHERE x->>'message_id' = (pg_temp.m('retry')).id::text), 'true', 'then it is claimed for reconciliation');
SELECT is(pg_temp.begin('retry')->>'success', 'true', 'its lookup begins');
SELECT is(api.mark_sms_sent((SELECT org FROM ctx), (pg_temp.m('retry')).id, 'SMretry', 'queued', 2)->>'status', 'sent',
          'found at the provider: sent');
SELECT is(row((pg_temp.m('retry')).provider_message_id, (pg_temp.m('retry')).provider_segments,
              (pg_temp.m('retry')).error_code, (pg_temp.m('retry')).attempts)::text,
          '(SMretry,2,,3)', 'sid and segments stored, error cleared, three attempts');
SELECT is(api.mark_sms_sent((SELECT org FROM ctx), (pg_temp.m('retry')).id, 'SMretry')->>'status', 'sent',
          'reporting the same sid again is harmless');
SELECT is(api.mark_sms_sent((SELECT org FROM ctx), (pg_temp.m('retry')).id, 'SMother')->>'code', 'duplicate_send',
          'a second sid for one message is refused and reported');

-- status callbacks
SELECT is(api.record_sms_status('SMretry', 'delivered')->>'status', 'delivered', 'delivered');
SELECT is(api.record_sms_status('SMretry', 'sent')->>'changed', 'false', 'a late "sent" changes nothing');
SELECT is(api.record_sms_status('SMretry', 'failed', '30008')->>'status', 'delivered', 'terminal stays terminal');
SELECT is((pg_temp.m('retry')).error_code, NULL, '... and a stale error code is not stored');
SELECT is(api.record_sms_status('SMotp', 'read')->>'status', 'delivered', 'read counts as delivered');
SELECT is(api.record_sms_status('SMnobody', 'delivered')->>'found', 'false', 'an unknown sid is acknowledged');
SELECT throws_ok('SELECT api.record_sms_status(NULL, ''sent'')', 'VB400', NULL, 'MessageSid is required');
SELECT throws_ok(format('SELECT api.mark_sms_sent(%L, gen_random_uuid(), ''SMx'')', (SELECT org FROM ctx)), 'VB404', NULL, 'marking an unknown message is VB404');

RESET ROLE;
-- the worker's batch report: the same effect as mark_sms_sent on each message, one result per report, in order
INSERT INTO msg SELECT 'b1', (internal.queue_sms((SELECT org FROM ctx), 'other', '+15550003011', 'Batch one')).id;
INSERT INTO msg SELECT 'b2', (internal.queue_sms((SELECT org FROM ctx), 'other', '+15550003012', 'Batch two')).id;
SET LOCAL ROLE voxbook_api;
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(api.claim_sms_batch('wb', 1000, 60)->'messages') AS x
            WHERE x->>'message_id' IN ((pg_temp.m('b1')).id::text, (pg_temp.m('b2')).id::text)), 2, 'two messages claimed');
CREATE TEMP TABLE batch AS
SELECT api.mark_sms_sent_batch(jsonb_build_array(
           jsonb_build_object('org_id', (SELECT org FROM ctx), 'message_id', (pg_temp.m('b2')).id,
                              'provider_message_id', 'SMb2', 'provider_status', 'queued', 'provider_segments', 1),
           jsonb_build_object('org_id', (SELECT org FROM ctx), 'message_id', (pg_temp.m('b1')).id,
                              'provider_message_id', 'SMb1'),
           jsonb_build_object('org_id', (SELECT org FROM ctx), 'message_id', (pg_temp.m('retry')).id,
                              'provider_message_id', 'SMother'),
           jsonb_build_object('org_id', (SELECT org FROM ctx), 'message_id', gen_random_uuid(),
                              'provider_message_id', 'SMnobody')), 'wb') AS r;
SELECT is((SELECT jsonb_path_query_array(r, '$.results[*].message_id') FROM batch) -> 0,
          to_jsonb((pg_temp.m('b2')).id), 'results come in the order of the reports');
SELECT is((SELECT jsonb_path_query_array(r, '$.results[*].success') FROM batch), '[true, true, false, false]'::jsonb,
          'two recorded, two refused');
SELECT is(row((pg_temp.m('b2')).status, (pg_temp.m('b2')).provider_message_id, (pg_temp.m('b2')).provider_status,
              (pg_temp.m('b2')).provider_segments, (pg_temp.m('b2')).locked_by)::text,
          '(sent,SMb2,queued,1,)', 'a batch-reported message is sent, with the provider''s details, lock released');
SELECT is((pg_temp.m('b1')).provider_message_id, 'SMb1', '... every one of them');
SELECT is((SELECT r->'results'->2->>'code' || '/' || (r->'results'->2->>'provider_message_id') FROM batch),
          'duplicate_send/SMretry', 'a second sid for one message is refused, the first one kept');
SELECT is((SELECT r->'results'->3->>'code' FROM batch), 'unknown_message', 'an unknown message is reported, not fatal');
SELECT throws_ok($q$SELECT api.mark_sms_sent_batch('{"a": 1}')$q$, 'VB400', NULL, 'reports must be an array');
SELECT throws_ok(format($q$SELECT api.mark_sms_sent_batch('[{"org_id": "%s", "message_id": "%s", "provider_message_id": "SMa"},
                                                                       {"org_id": "%s", "message_id": "%s", "provider_message_id": "SMb"}]')$q$,
                                   (SELECT org FROM ctx), (pg_temp.m('b1')).id, (SELECT org FROM ctx), (pg_temp.m('b1')).id), 'VB400', NULL, 'a message reported twice in one call is refused');

-- Plans: generic plans cached while the outbox was small would scan a clinic's whole outbox per lookup.
SELECT is((SELECT array_agg(p.proname::text ORDER BY p.proname) FROM pg_proc AS p
            WHERE p.pronamespace = 'api'::regnamespace
              AND p.proname IN ('claim_sms_batch', 'begin_sms_send', 'mark_sms_sent', 'mark_sms_sent_batch',
                                'mark_sms_failed', 'release_sms_claims', 'record_sms_status')
              AND NOT coalesce('plan_cache_mode=force_custom_plan' = ANY (p.proconfig), false)), NULL,
          'the outbox functions plan each statement for the table as it is now');

SELECT * FROM finish();
ROLLBACK;
