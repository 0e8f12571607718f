-- SMS delivery: what the worker (workers/sms.py) and Twilio's callbacks (api/twilio_routes.py) call.
--
-- Life of a message: queued -> sending (claimed by one worker) -> sent (the provider accepted it) ->
-- delivered | undelivered | failed (status callbacks). A send whose outcome is unknown (timeout after
-- the request left, 5xx, a worker killed mid-send) becomes 'unknown' and is reconciled with the
-- provider before anything is sent again: see workers/README.md, "The ambiguous-send rule".

-- Order of our statuses: a callback or a late worker report never moves a message backwards.
-- Searched CASE here and below, never `CASE <parameter> WHEN`: inlined into a statement on a distributed
-- table, Citus sends the parameter as a constant and compares the wrong types (CASE 'otp'::text WHEN NULL::boolean).
CREATE FUNCTION internal.sms_status_rank(status text) RETURNS int
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN status IN ('queued', 'cancelled', 'skipped') THEN 0
                WHEN status IN ('sending', 'unknown') THEN 1
                WHEN status = 'sent' THEN 2
                WHEN status IN ('delivered', 'undelivered', 'failed') THEN 3 END
$$;

-- Twilio's MessageStatus values, ranked the same way (read follows delivered on channels that report it).
CREATE FUNCTION internal.twilio_status_rank(status text) RETURNS int
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN lower(status) IN ('accepted', 'scheduled', 'queued') THEN 1
                WHEN lower(status) = 'sending' THEN 2
                WHEN lower(status) = 'sent' THEN 3
                WHEN lower(status) IN ('delivered', 'undelivered', 'failed', 'canceled', 'partially_delivered') THEN 4
                WHEN lower(status) = 'read' THEN 5 ELSE 0 END
$$;

-- Our status for one of Twilio's: everything Twilio holds but has not settled is 'sent' (handed over).
CREATE FUNCTION internal.twilio_status_to_ours(status text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN lower(status) IN ('accepted', 'scheduled', 'queued', 'sending', 'sent') THEN 'sent'
                WHEN lower(status) IN ('delivered', 'read') THEN 'delivered'
                WHEN lower(status) IN ('undelivered', 'partially_delivered') THEN 'undelivered'
                WHEN lower(status) IN ('failed', 'canceled') THEN 'failed' END
$$;

-- Records an opt-out or opt-in of one number at one clinic: the contact's flag (created if the number
-- is not a contact yet, so a STOP before any booking still counts), an event, and for an opt-out every
-- message still waiting for that number is skipped at once.
CREATE FUNCTION internal.set_sms_consent(consent_org uuid, number text, opt_out boolean, why text,
                                         inbound_sid text DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    now_ts timestamptz := internal.clock();
BEGIN
    INSERT INTO voxbook.contacts AS ct (org_id, phone, sms_opted_out, sms_opted_out_at, sms_opt_out_source)
    VALUES (consent_org, number, opt_out,
            CASE WHEN opt_out THEN now_ts END, why)
    ON CONFLICT ON CONSTRAINT contacts_org_id_phone_key DO UPDATE
        SET sms_opted_out = excluded.sms_opted_out,
            sms_opted_out_at = CASE WHEN ct.sms_opted_out AND excluded.sms_opted_out THEN ct.sms_opted_out_at
                                    ELSE excluded.sms_opted_out_at END,
            sms_opt_out_source = CASE WHEN ct.sms_opted_out = excluded.sms_opted_out THEN ct.sms_opt_out_source
                                      ELSE excluded.sms_opt_out_source END,
            updated_at = now_ts;
    INSERT INTO voxbook.sms_consent_events AS e (org_id, phone, opted_out, source, provider_message_id)
    VALUES (consent_org, number, opt_out, why,
            inbound_sid)
    ON CONFLICT (org_id, provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING;
    IF opt_out THEN
        UPDATE voxbook.sms_outbox AS m
           SET status = 'skipped', skip_reason = 'recipient opted out (STOP)',
               body = internal.settled_body(m.body, m.redact_after_send),
               updated_at = now()
         WHERE m.org_id = consent_org AND m.recipient = number AND m.status = 'queued';
    END IF;
END
$$;

-- How long a message of each kind is worth retrying after it was first due; NULL for the kinds whose
-- limit is their own (a code: while its hold lives; a reminder: until its appointment starts).
CREATE FUNCTION internal.sms_useful_for(kind text) RETURNS interval
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN kind IN ('otp', 'reminder') THEN NULL
                WHEN kind = 'hot_lead' THEN interval '6 hours'   -- an owner's alert about a call: same day or never
                ELSE interval '24 hours' END                      -- confirmation, cancellation, reschedule, other
$$;

-- Until when a message may still go out, retries included (NULL: no limit of its own).
CREATE FUNCTION internal.sms_retry_deadline(m voxbook.sms_outbox) RETURNS timestamptz
    LANGUAGE sql STABLE AS $$
    SELECT least(m.expires_at,
                 CASE WHEN m.kind = 'reminder' THEN m.reminder_starts_at END,
                 coalesce(m.first_attempt_at, m.send_after) + internal.sms_useful_for(m.kind))
$$;

-- Why a message must not go out now, or NULL when it may.
CREATE FUNCTION internal.sms_block_reason(m voxbook.sms_outbox, now_ts timestamptz) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    h voxbook.holds;
    a_status text;
    a_hold uuid;
BEGIN
    IF m.expires_at IS NOT NULL AND m.expires_at <= now_ts THEN
        RETURN 'expired before it could be sent';
    END IF;
    IF m.kind = 'otp' AND m.hold_id IS NOT NULL THEN
        SELECT * INTO h FROM voxbook.holds AS x WHERE x.org_id = m.org_id AND x.id = m.hold_id;
        IF h.status IS DISTINCT FROM 'held' OR h.expires_at <= now_ts THEN
            RETURN 'code not sent: the hold is no longer live';
        END IF;
    END IF;
    IF m.kind = 'reminder' AND m.appointment_id IS NOT NULL THEN
        SELECT a.status, a.hold_id INTO a_status, a_hold
          FROM voxbook.appointments AS a
         WHERE a.org_id = m.org_id AND a.id = m.appointment_id;
        IF a_status IS DISTINCT FROM 'confirmed' THEN
            RETURN 'appointment cancelled';
        END IF;
        -- The reminder is stamped with the hold (the time) it was queued for (internal.schedule_reminder);
        -- a move gives the appointment a new hold and queues a new reminder. Comparing stamps, not texts:
        -- renaming the provider or the clinic, or new wording, must not drop reminders.
        IF m.reminder_hold_id IS DISTINCT FROM a_hold THEN
            RETURN 'appointment moved';
        END IF;
        IF m.reminder_starts_at <= now_ts THEN
            RETURN 'appointment already started';
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM voxbook.contacts AS ct
                WHERE ct.org_id = m.org_id AND ct.phone = m.recipient AND ct.sms_opted_out) THEN
        RETURN 'recipient opted out (STOP)';
    END IF;
    IF internal.sms_retry_deadline(m) <= now_ts THEN
        RETURN format('gave up: not sent within %s hours of being due',
                      (extract(epoch FROM internal.sms_useful_for(m.kind)) / 3600)::int);
    END IF;
    RETURN NULL;
END
$$;

-- Settles a message that must not go out (reason from internal.sms_block_reason) instead of sending it:
-- cancelled with its appointment, failed when earlier attempts failed (error_code keeps the last error),
-- else skipped. A code's body is redacted.
CREATE FUNCTION internal.settle_blocked_sms(m voxbook.sms_outbox, reason text) RETURNS voxbook.sms_outbox
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE voxbook.sms_outbox AS x
       SET status = CASE WHEN reason = 'appointment cancelled' THEN 'cancelled'
                         WHEN x.error_code IS NOT NULL THEN 'failed' ELSE 'skipped' END,
           skip_reason = reason,
           body = internal.settled_body(x.body, x.redact_after_send),
           locked_by = NULL, locked_at = NULL, lease_until = NULL,
           updated_at = now(), status_updated_at = now()
     WHERE x.org_id = m.org_id AND x.id = m.id
    RETURNING x.* INTO m;
    RETURN m;
END
$$;


-- Plans. Every function below that looks a message up by (org_id, id) runs with plan_cache_mode =
-- force_custom_plan. With PL/pgSQL's default, a session caches a generic plan after five calls, chosen
-- for the table's size at that moment; while sms_outbox is small (a fresh deployment, no statistics
-- yet) the cheapest-looking path to one row is sms_outbox_by_org (org_id, created_at) with "id" as a
-- filter, i.e. a scan of every message of the clinic, and that plan stays cached in the worker's
-- long-lived session as the outbox grows (bench/README.md, SMS dispatch: 616 -> 121 msg/s over five
-- rounds, "Rows Removed by Filter: 8007" per report). A custom plan is made for the table as it is
-- now and takes the primary key; it costs some tens of microseconds of planning per statement, and
-- its cost does not grow with the outbox. Set-based joins of a batch with the outbox are avoided for the
-- same reason: without statistics they are planned as a scan of the whole outbox.

CREATE FUNCTION api.claim_sms_batch(worker_id text, batch_size int DEFAULT 50, lease_seconds double precision DEFAULT 120)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp
    SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    now_ts timestamptz := internal.clock();
    m voxbook.sms_outbox;
    cand record;
    requeued boolean;
    reason text;
    resend_ok boolean;
    recovered jsonb;
    claimed jsonb[] := '{}';
    senders jsonb := '{}';
    skipped jsonb := '[]';
BEGIN
    PERFORM internal.require(worker_id, 'worker_id');
    IF batch_size IS NULL OR batch_size NOT BETWEEN 1 AND 1000 THEN
        PERFORM internal.fail('VB400', 'batch_size must be between 1 and 1000', 'Pass batch_size => 50.');
    END IF;
    IF lease_seconds IS NULL OR lease_seconds < 0 OR lease_seconds > 86400 THEN
        PERFORM internal.fail('VB400', 'lease_seconds must be between 0 and 86400',
                              'Pass how long a claimed message may wait for its send (e.g. 50).');
    END IF;

    -- A row still 'sending' after its lease belongs to a worker that died, hung or lost its connection.
    -- If a request for it may have reached the provider (api.begin_sms_send was called) it is reconciled,
    -- never sent blindly again; if not, it is simply queued again (that attempt never happened).
    -- The lease is the row's own (lease_until): whatever this caller's lease_seconds, a row is taken over
    -- only once its holder's lease, renewed just before its send to cover that send, has run out.
    WITH lost AS (
        UPDATE voxbook.sms_outbox AS x
           SET status = CASE WHEN x.provider_may_have THEN 'unknown' ELSE 'queued' END,
               locked_by = NULL, locked_at = NULL, lease_until = NULL,
               error_message = CASE WHEN x.provider_may_have
                                    THEN 'worker lost while sending (' || coalesce(x.locked_by, '?') || ')'
                                    ELSE x.error_message END,
               updated_at = now()
         WHERE x.status = 'sending' AND x.lease_until < now_ts
        RETURNING x.id, x.status
    )
    SELECT coalesce(jsonb_agg(lost.id), '[]'), coalesce(bool_or(lost.status = 'queued'), false)
      INTO recovered, requeued FROM lost;
    IF requeued THEN
        PERFORM internal.notify('voxbook_sms');   -- due again: other workers may take them at once
    END IF;

    -- Candidates across clinics unlocked, then each locked by its key (org_id, id) with SKIP LOCKED and
    -- checked again: on Citus a FOR UPDATE over several shards is refused, one row by its key goes to its
    -- shard. A row another worker holds is skipped; one it claimed and committed meanwhile fails the
    -- re-check. Twice the batch as candidates, so that racing workers still fill their batches.
    FOR cand IN
        SELECT x.org_id, x.id FROM voxbook.sms_outbox AS x
         WHERE x.status IN ('queued', 'unknown') AND x.send_after <= now_ts
         ORDER BY x.send_after
         LIMIT 2 * claim_sms_batch.batch_size
    LOOP
        EXIT WHEN cardinality(claimed) + jsonb_array_length(skipped) >= claim_sms_batch.batch_size;
        SELECT * INTO m FROM voxbook.sms_outbox AS x
         WHERE x.org_id = cand.org_id AND x.id = cand.id
           AND x.status IN ('queued', 'unknown') AND x.send_after <= now_ts
           FOR UPDATE SKIP LOCKED;
        CONTINUE WHEN NOT FOUND;
        reason := internal.sms_block_reason(m, now_ts);
        IF m.status = 'queued' AND reason IS NOT NULL THEN
            m := internal.settle_blocked_sms(m, reason);
            skipped := skipped || jsonb_build_object('message_id', m.id, 'org_id', m.org_id, 'kind', m.kind,
                                                     'status', m.status, 'reason', reason);
            CONTINUE;
        END IF;
        -- Two identical texts to one number cannot be told apart at the provider (its message list does
        -- not return our callback URL). An unknown one is looked up only once every older twin that the
        -- provider may have (its send begun, outcome not recorded) is settled: then the twins' provider ids
        -- are recorded and in taken_sids, and the lookup cannot take one of them for its own. Oldest first,
        -- so two unknown twins never wait for each other.
        IF m.status = 'unknown' AND EXISTS (
               SELECT 1 FROM voxbook.sms_outbox AS t
                WHERE t.org_id = m.org_id AND t.recipient = m.recipient AND t.body = m.body
                  AND t.provider_may_have AND t.status IN ('sending', 'unknown')
                  AND (t.created_at, t.id) < (m.created_at, m.id)) THEN
            UPDATE voxbook.sms_outbox AS x SET send_after = now_ts + interval '1 second', updated_at = now()
             WHERE x.org_id = m.org_id AND x.id = m.id;
            CONTINUE;
        END IF;
        -- An unknown outcome is always looked up first; a resend after that is allowed only while the
        -- message could still be sent from scratch (api.begin_sms_send decides again just before).
        resend_ok := reason IS NULL AND m.attempts < m.max_attempts;
        IF m.status = 'unknown' AND reason IS NULL AND NOT resend_ok THEN
            reason := format('no attempts left (%s)', m.max_attempts);
        END IF;
        IF m.sender IS NULL AND NOT senders ? m.org_id::text THEN
            -- The clinic's sender, looked up once per clinic and batch (JSON null: use the Messaging Service).
            senders := senders || jsonb_build_object(m.org_id::text,
                                                     (SELECT o.sms_from FROM voxbook.organizations AS o WHERE o.id = m.org_id));
        END IF;
        -- Claimed, not yet attempted: the attempt is counted by api.begin_sms_send, when it really starts.
        UPDATE voxbook.sms_outbox AS x
           SET status = 'sending', locked_by = claim_sms_batch.worker_id, locked_at = now_ts,
               lease_until = now_ts + make_interval(secs => lease_seconds), updated_at = now()
         WHERE x.org_id = m.org_id AND x.id = m.id;
        claimed := claimed || jsonb_build_object(
            'message_id', m.id,
            'org_id', m.org_id,
            'kind', m.kind,
            'to', m.recipient,
            'from', coalesce(m.sender, senders->>m.org_id::text),
            'body', m.body,
            'segments', m.segments,
            'encoding', m.encoding,
            'attempt', m.attempts + 1,
            'max_attempts', m.max_attempts,
            'validity_period', CASE WHEN m.expires_at IS NOT NULL
                                    THEN least(greatest(ceil(extract(epoch FROM m.expires_at - now_ts))::int, 1), 36000) END,
            'reconcile', m.status = 'unknown',
            'resend', m.status = 'queued' OR resend_ok,
            'resend_blocked', CASE WHEN m.status = 'unknown' THEN reason END,
            'first_attempt_at', internal.utc_iso(coalesce(m.first_attempt_at, now_ts)),
            -- Provider ids already recorded for other messages to this number since shortly before our
            -- first attempt: a lookup must never take one of those for ours (two identical texts).
            'taken_sids', CASE WHEN m.status = 'unknown' THEN
                (SELECT coalesce(jsonb_agg(o.provider_message_id), '[]') FROM voxbook.sms_outbox AS o
                  WHERE o.org_id = m.org_id AND o.recipient = m.recipient AND o.provider_message_id IS NOT NULL
                    AND o.sent_at >= coalesce(m.first_attempt_at, now_ts) - interval '1 hour'
                    AND o.id <> m.id) END,
            'appointment_id', m.appointment_id);
    END LOOP;
    RETURN jsonb_build_object('success', true, 'worker_id', worker_id, 'messages', to_jsonb(claimed),
                              'skipped', skipped, 'recovered', recovered);
END
$$;
COMMENT ON FUNCTION api.claim_sms_batch(text, int, double precision) IS
$$Claims up to batch_size due messages (status queued or unknown, send_after reached) for one worker,
each row locked by its key with FOR UPDATE SKIP LOCKED and checked again: any number of workers can call it
at once and never get the same row.
A claimed row is the worker's until lease_seconds from now (lease_until); before each send the worker must
call api.begin_sms_send, which checks that the row is still its own and renews the lease to cover the send.
First, rows left 'sending' past their lease (a killed, hung or disconnected worker) are taken back:
'unknown' if a send of theirs had begun (reconcile before any resend), else 'queued' again.
Queued rows that must not go out are settled instead of claimed and listed in "skipped": expired
(expires_at passed), a code whose hold is no longer live, a reminder of a cancelled, moved or started
appointment (cancelled / skipped), an opted-out recipient, a message no longer useful (retried in vain for
24 hours, 6 for a hot-lead alert: status failed). Claimed rows become 'sending' (locked_by, locked_at, lease_until).
Returns {"success": true, "worker_id", "recovered": [message_id...],
"skipped": [{"message_id", "org_id", "kind", "status", "reason"}],
"messages": [{"message_id", "org_id", "kind", "to", "from" (clinic sender or null: use the Messaging Service),
"body", "segments", "encoding", "attempt" (the number this attempt gets, to pass to api.begin_sms_send),
"max_attempts", "validity_period" (seconds left, for expiring messages such as codes; else null), "reconcile"
(true: the outcome of an earlier send is unknown, ask the provider first), "resend" (may be sent if the
provider does not have it), "resend_blocked" (why not), "first_attempt_at" (search the provider from there),
"taken_sids" (reconcile only: provider ids of other messages to this number, never ours), "appointment_id"}]}.
Errors: VB400 missing worker_id, batch_size outside 1-1000, lease_seconds outside 0-86400.
Example: SELECT api.claim_sms_batch('host-1:4242', 50, 60);$$;


CREATE FUNCTION api.begin_sms_send(org_id uuid, message_id uuid, worker_id text, attempt int,
                        lease_seconds double precision)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp
    SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    m voxbook.sms_outbox;
    now_ts timestamptz := internal.clock();
    reason text;
BEGIN
    PERFORM internal.require(org_id, 'org_id');
    PERFORM internal.require(message_id, 'message_id');
    PERFORM internal.require(worker_id, 'worker_id');
    PERFORM internal.require(attempt, 'attempt');
    IF lease_seconds IS NULL OR lease_seconds <= 0 OR lease_seconds > 3600 THEN
        PERFORM internal.fail('VB400', 'lease_seconds must be more than 0 and at most 3600',
                              'Pass the longest the send can take: the provider requests'' timeouts and a margin.');
    END IF;
    SELECT * INTO m FROM voxbook.sms_outbox AS x
     WHERE x.org_id = begin_sms_send.org_id AND x.id = begin_sms_send.message_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown message', 'Use message_id and org_id from api.claim_sms_batch.');
    END IF;
    -- Still ours: claimed by this worker for this attempt and not taken back. The row lock serialises this
    -- with a takeover in api.claim_sms_batch: either that came first (we refuse) or this renews the lease
    -- first, and no one takes the row before the send is over. An expired lease that nobody took over yet
    -- is still ours alone.
    IF m.status <> 'sending' OR m.locked_by IS DISTINCT FROM begin_sms_send.worker_id
       OR m.attempts <> begin_sms_send.attempt - 1 THEN
        RETURN internal.refusal('not_held', 'The message is no longer claimed by this worker: do not send it',
                                jsonb_build_object('message_id', m.id, 'status', m.status));
    END IF;
    reason := internal.sms_block_reason(m, now_ts);
    IF reason IS NOT NULL AND NOT m.provider_may_have THEN
        -- It became unsendable while it waited in the worker (a STOP, a released hold, a cancellation).
        m := internal.settle_blocked_sms(m, reason);
        RETURN internal.refusal('blocked', 'The message must not go out any more',
                                jsonb_build_object('message_id', m.id, 'status', m.status, 'reason', reason));
    END IF;
    IF reason IS NULL AND m.attempts >= m.max_attempts THEN
        reason := format('no attempts left (%s)', m.max_attempts);
    END IF;
    UPDATE voxbook.sms_outbox AS x
       SET attempts = begin_sms_send.attempt, provider_may_have = true,
           first_attempt_at = coalesce(x.first_attempt_at, now_ts),
           lease_until = now_ts + make_interval(secs => lease_seconds), updated_at = now()
     WHERE x.org_id = m.org_id AND x.id = m.id
    RETURNING x.* INTO m;
    RETURN jsonb_build_object('success', true, 'message_id', m.id, 'attempt', m.attempts,
                              'lease_until', internal.utc_iso(m.lease_until),
                              'resend', reason IS NULL, 'resend_blocked', reason);
END
$$;
COMMENT ON FUNCTION api.begin_sms_send(uuid, uuid, text, int, double precision) IS
$$The worker's last step before it hands a claimed message to the provider (or looks an unknown one up
there). Succeeds only while the row is still this worker's claim for this attempt (status 'sending',
locked_by = worker_id, attempt as returned by api.claim_sms_batch); then it counts the attempt, marks that the
provider may have the message from now on, and renews the lease to lease_seconds from now, which must cover
the whole send (every request's timeout, and a lookup first when reconciling) so that no other worker takes
the row over while the send may still happen. A fresh message that may no longer go out is settled
(skipped/cancelled/failed) instead. Returns {"success": true, "message_id", "attempt", "lease_until",
"resend" (an unknown one may be sent again if the provider lacks it), "resend_blocked"} or
{"success": false, "code": "not_held" | "blocked", "message_id", "status", "reason"}: do not send.
Errors: VB400 missing argument or lease_seconds outside (0, 3600]; VB404 unknown message.
Example: SELECT api.begin_sms_send('<org_id>', '<message_id>', 'host-1:4242', 1, 25);$$;


-- What api.mark_sms_sent and api.mark_sms_sent_batch do for one message; the caller sets the plans.
CREATE FUNCTION internal.record_sms_sent(msg_org_id uuid, msg_id uuid, sid text, sid_status text,
                                         sid_segments int)
    RETURNS jsonb
    LANGUAGE plpgsql AS $$
DECLARE
    m voxbook.sms_outbox;
    now_ts timestamptz := internal.clock();
BEGIN
    SELECT * INTO m FROM voxbook.sms_outbox AS x WHERE x.org_id = msg_org_id AND x.id = msg_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN internal.refusal('unknown_message', 'unknown message', jsonb_build_object('message_id', msg_id));
    END IF;
    IF m.provider_message_id IS NOT NULL AND m.provider_message_id <> sid THEN
        -- The provider has two messages for one row: keep the first, tell the worker loudly.
        RETURN internal.refusal('duplicate_send', 'This message was already sent under another provider id',
                                jsonb_build_object('message_id', m.id, 'status', m.status,
                                                   'provider_message_id', m.provider_message_id));
    END IF;
    IF m.provider_message_id IS NULL
       AND EXISTS (SELECT 1 FROM voxbook.sms_outbox AS o WHERE o.provider_message_id = sid) THEN
        -- One provider message is one of ours, never two: a lookup matched another message's send (two
        -- identical texts to one number). Checked here rather than left to the unique index, whose error
        -- would undo the caller's whole batch. The row goes back to 'unknown' to be looked up again, with
        -- that id among its taken_sids.
        UPDATE voxbook.sms_outbox AS x
           SET status = 'unknown', provider_may_have = true, send_after = now_ts,
               error_code = 'sid_taken', error_message = 'the provider message found belongs to another message',
               locked_by = NULL, locked_at = NULL, lease_until = NULL, updated_at = now()
         WHERE x.org_id = m.org_id AND x.id = m.id AND x.status IN ('sending', 'unknown')
        RETURNING x.* INTO m;
        RETURN internal.refusal('sid_taken', 'That provider id is recorded for another message',
                                jsonb_build_object('message_id', msg_id, 'status', m.status));
    END IF;
    -- Whatever we believed (sending, unknown, even failed after an unknown outcome), the provider has it:
    -- it is at least 'sent'. A callback may already have moved it further.
    UPDATE voxbook.sms_outbox AS x
       SET status = CASE WHEN internal.sms_status_rank(x.status) >= 2 AND x.provider_message_id IS NOT NULL
                         THEN x.status ELSE 'sent' END,
           provider_message_id = sid,
           provider_status = CASE WHEN internal.twilio_status_rank(sid_status) > internal.twilio_status_rank(x.provider_status)
                                  THEN sid_status ELSE x.provider_status END,
           provider_segments = coalesce(nullif(sid_segments, 0), x.provider_segments),
           sent_at = coalesce(x.sent_at, now_ts),
           skip_reason = NULL,
           error_code = CASE WHEN x.status IN ('sending', 'unknown', 'failed') THEN NULL ELSE x.error_code END,
           error_message = CASE WHEN x.status IN ('sending', 'unknown', 'failed') THEN NULL ELSE x.error_message END,
           body = internal.settled_body(x.body, x.redact_after_send),
           locked_by = NULL, locked_at = NULL, lease_until = NULL, updated_at = now()
     WHERE x.org_id = m.org_id AND x.id = m.id
    RETURNING x.* INTO m;
    RETURN jsonb_build_object('success', true, 'message_id', m.id, 'status', m.status,
                              'provider_message_id', m.provider_message_id);
END
$$;


CREATE FUNCTION api.mark_sms_sent(org_id uuid, message_id uuid, provider_message_id text,
                       provider_status text DEFAULT NULL, provider_segments int DEFAULT NULL,
                       worker_id text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp
    SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    res jsonb;
BEGIN
    PERFORM internal.require(org_id, 'org_id');
    PERFORM internal.require(message_id, 'message_id');
    PERFORM internal.require(nullif(btrim(provider_message_id), ''), 'provider_message_id');
    res := internal.record_sms_sent(org_id, message_id, provider_message_id, provider_status, provider_segments);
    IF res->>'code' = 'unknown_message' THEN
        PERFORM internal.fail('VB404', 'unknown message', 'Use message_id and org_id from api.claim_sms_batch.');
    END IF;
    RETURN res;
END
$$;
COMMENT ON FUNCTION api.mark_sms_sent(uuid, uuid, text, text, int, text) IS
$$Records that the provider accepted a message (or that reconciliation found it there): status 'sent'
(or further, if a callback came first), provider_message_id, provider_status, provider_segments, sent_at;
the body of a one-time code is redacted. Repeating it with the same id changes nothing.
Returns {"success": true, "message_id", "status", "provider_message_id"} or, when the row already has
another provider id, {"success": false, "code": "duplicate_send", ...} (nothing changed), or, when that provider
id is recorded for another message (a lookup matched the wrong one of two identical texts),
{"success": false, "code": "sid_taken", "message_id", "status"}: the row goes back to 'unknown' to be looked up again.
Errors: VB400 missing argument; VB404 unknown message.
Example: SELECT api.mark_sms_sent('<org_id>', '<message_id>', 'SM0123...', 'queued', 1);$$;


-- The worker's way of reporting sends: one call (one round trip, one commit) for every message of a
-- batch that the provider accepted, with exactly the effect of api.mark_sms_sent on each.
CREATE FUNCTION api.mark_sms_sent_batch(reports jsonb, worker_id text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp
    SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    r record;
    results jsonb[];
BEGIN
    IF jsonb_typeof(reports) IS DISTINCT FROM 'array' THEN
        PERFORM internal.fail('VB400', 'reports must be a JSON array',
                              'Pass [{"org_id": ..., "message_id": ..., "provider_message_id": ...}, ...].');
    END IF;
    IF jsonb_array_length(reports) > 1000 THEN
        PERFORM internal.fail('VB400', 'at most 1000 reports per call', 'Split the reports into several calls.');
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(reports) AS e(j)
                WHERE jsonb_typeof(j) IS DISTINCT FROM 'object'
                   OR nullif(j->>'org_id', '') IS NULL OR nullif(j->>'message_id', '') IS NULL
                   OR nullif(btrim(j->>'provider_message_id'), '') IS NULL) THEN
        PERFORM internal.fail('VB400', 'every report needs org_id, message_id and provider_message_id',
                              'Use message_id and org_id from api.claim_sms_batch and the provider''s id.');
    END IF;
    IF (SELECT count(DISTINCT e.j->>'message_id') <> count(*) FROM jsonb_array_elements(reports) AS e(j)) THEN
        PERFORM internal.fail('VB400', 'a message is reported twice', 'Report each message once per call.');
    END IF;
    results := array_fill(NULL::jsonb, ARRAY[jsonb_array_length(reports)]);
    -- One message at a time, each by its primary key (a join of the batch with the outbox is planned as a
    -- scan of the whole outbox while the table looks small), in key order so that two callers never
    -- lock the same rows in opposite orders.
    FOR r IN
        SELECT e.ord, (e.j->>'org_id')::uuid AS org_id, (e.j->>'message_id')::uuid AS message_id
          FROM jsonb_array_elements(reports) WITH ORDINALITY AS e(j, ord)
         ORDER BY 2, 3
    LOOP
        results[r.ord] := internal.record_sms_sent(r.org_id, r.message_id, reports->(r.ord::int - 1)->>'provider_message_id',
                                                   reports->(r.ord::int - 1)->>'provider_status',
                                                   (reports->(r.ord::int - 1)->>'provider_segments')::int);
    END LOOP;
    RETURN jsonb_build_object('success', true, 'results', to_jsonb(results));
END
$$;
COMMENT ON FUNCTION api.mark_sms_sent_batch(jsonb, text) IS
$$api.mark_sms_sent for many messages in one call: reports is a JSON array (at most 1000) of
{"org_id", "message_id", "provider_message_id", "provider_status" (optional), "provider_segments" (optional)},
each message at most once. Each one is recorded exactly as api.mark_sms_sent records it (status 'sent' or
further, sid, provider status and segments, sent_at, a code's body redacted). Returns {"success": true, "results": [...]} with one result per report, in the same order:
{"success": true, "message_id", "status", "provider_message_id"}, or {"success": false, "code":
"duplicate_send", "message_id", "status", "provider_message_id" (the one kept)} when the row already has
another provider id (that row is left unchanged), {"success": false, "code": "sid_taken", "message_id", "status"}
when that provider id belongs to another message (the row goes back to 'unknown'), or {"success": false, "code": "unknown_message",
"message_id"}. Errors: VB400 reports not an array of such objects, more than 1000, or a message twice.
Example: SELECT api.mark_sms_sent_batch('[{"org_id": "...", "message_id": "...", "provider_message_id": "SM0123...", "provider_status": "queued", "provider_segments": 1}]');$$;


CREATE FUNCTION api.mark_sms_failed(org_id uuid, message_id uuid, worker_id text, error_code text DEFAULT NULL,
                         error_message text DEFAULT NULL, permanent boolean DEFAULT false,
                         ambiguous boolean DEFAULT false, retry_base_seconds double precision DEFAULT 30)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp
    SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    m voxbook.sms_outbox;
    now_ts timestamptz := internal.clock();
    delay float8;
    deadline timestamptz;
    give_up text;
    next_status text;
    retry_at timestamptz;
BEGIN
    PERFORM internal.require(org_id, 'org_id');
    PERFORM internal.require(message_id, 'message_id');
    PERFORM internal.require(worker_id, 'worker_id');
    SELECT * INTO m FROM voxbook.sms_outbox AS x
     WHERE x.org_id = mark_sms_failed.org_id AND x.id = mark_sms_failed.message_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown message', 'Use message_id and org_id from api.claim_sms_batch.');
    END IF;
    IF m.status <> 'sending' OR m.locked_by IS DISTINCT FROM mark_sms_failed.worker_id THEN
        -- Recovered by another worker meanwhile, or settled by a callback: that state wins.
        RETURN internal.refusal('not_claimed', 'The message is not claimed by this worker any more',
                                jsonb_build_object('message_id', m.id, 'status', m.status));
    END IF;
    -- Exponential backoff capped at 5 minutes, with +-25% jitter after the cap so that the retries of one
    -- burst (a Twilio outage, a run of 429s) do not all come back in the same second.
    delay := least(coalesce(retry_base_seconds, 30) * power(2, least(greatest(m.attempts - 1, 0), 30)), 300)
             * (0.75 + random() * 0.5);
    deadline := internal.sms_retry_deadline(m);
    -- A definite failure (permanent, or the provider certainly does not have it) is retried until the
    -- message is no longer useful (internal.sms_retry_deadline), then ends 'failed' with the reason; an
    -- ambiguous one is always looked up first (the claim then decides whether it may be sent again).
    give_up := CASE WHEN ambiguous THEN NULL
                    WHEN permanent THEN 'permanent error'
                    WHEN m.attempts >= m.max_attempts THEN format('no attempts left (%s)', m.max_attempts)
                    WHEN deadline <= now_ts + make_interval(secs => delay)
                        THEN CASE WHEN internal.sms_useful_for(m.kind) IS NULL
                                  THEN 'gave up: the next try would come too late'
                                  ELSE format('gave up: not sent within %s hours of being due',
                                              (extract(epoch FROM internal.sms_useful_for(m.kind)) / 3600)::int) END
               END;
    next_status := CASE WHEN ambiguous THEN 'unknown' WHEN give_up IS NOT NULL THEN 'failed' ELSE 'queued' END;
    -- A value, not the sum inside the CASE below: timestamptz + interval is not IMMUTABLE, and Citus refuses
    -- such a call inside CASE or COALESCE of an UPDATE.
    retry_at := now_ts + make_interval(secs => delay);
    UPDATE voxbook.sms_outbox AS x
       SET status = next_status,
           provider_may_have = ambiguous,
           error_code = left(mark_sms_failed.error_code, 40),
           error_message = left(mark_sms_failed.error_message, 500),
           skip_reason = CASE WHEN permanent THEN x.skip_reason ELSE give_up END,
           send_after = CASE WHEN next_status = 'failed' THEN x.send_after ELSE retry_at END,
           body = CASE WHEN next_status = 'failed' THEN internal.settled_body(x.body, x.redact_after_send)
                       ELSE x.body END,
           locked_by = NULL, locked_at = NULL, lease_until = NULL, updated_at = now(), status_updated_at = now()
     WHERE x.org_id = m.org_id AND x.id = m.id
    RETURNING x.* INTO m;
    IF mark_sms_failed.error_code = '21610' THEN
        PERFORM internal.set_sms_consent(m.org_id, m.recipient, true, 'twilio:21610');
    END IF;
    RETURN jsonb_build_object('success', true, 'message_id', m.id, 'status', m.status,
                              'attempts', m.attempts, 'max_attempts', m.max_attempts,
                              'retry_at', CASE WHEN m.status <> 'failed' THEN internal.utc_iso(m.send_after) END,
                              'opted_out', mark_sms_failed.error_code = '21610');
END
$$;
COMMENT ON FUNCTION api.mark_sms_failed(uuid, uuid, text, text, text, boolean, boolean, double precision) IS
$$Records a failed send attempt of a message claimed by worker_id. permanent (e.g. Twilio 21211 invalid
number, 21614 not a mobile, 21408 region, 21610 opted out): status 'failed' at once. ambiguous (the
provider may have accepted it: timeout after sending, 5xx, connection lost): status 'unknown', to be
reconciled before any resend. Otherwise (429, queue full, network error before sending): 'queued' again after
retry_base_seconds * 2^(attempts-1), at most 5 minutes, +-25% jitter, for as long as the message is useful: a
code while its hold lives, a reminder until its appointment starts, a hot-lead alert 6 hours and any other
message 24 hours after it was first due (internal.sms_retry_deadline); then 'failed' with skip_reason saying so
and error_code/error_message keeping the last error. max_attempts (default 1000) is only a runaway guard.
Error 21610 also opts the recipient out at this clinic. A one-time code's body is redacted when it fails for good.
Returns {"success": true, "message_id", "status", "attempts", "max_attempts", "retry_at", "opted_out"} or
{"success": false, "code": "not_claimed", ...} when the row is no longer this worker's (nothing changed).
Errors: VB400 missing argument; VB404 unknown message.
Example: SELECT api.mark_sms_failed('<org_id>', '<message_id>', 'host-1:4242', '20429', 'Too many requests');$$;


CREATE FUNCTION api.release_sms_claims(worker_id text, message_ids uuid[] DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp
    SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    n int;
    requeued boolean;
BEGIN
    PERFORM internal.require(worker_id, 'worker_id');
    -- Meant for rows the worker never began to send (no api.begin_sms_send in this claim): they are
    -- claimable again at once and no attempt was counted. A row the provider may have (an earlier
    -- ambiguous attempt, or a send begun in this claim) goes back to 'unknown': looked up before any resend.
    UPDATE voxbook.sms_outbox AS x
       SET status = CASE WHEN x.provider_may_have THEN 'unknown' ELSE 'queued' END,
           locked_by = NULL, locked_at = NULL, lease_until = NULL, updated_at = now()
     WHERE x.status = 'sending' AND x.locked_by = release_sms_claims.worker_id
       AND (message_ids IS NULL OR x.id = ANY (message_ids));
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        PERFORM internal.notify('voxbook_sms');   -- claimable again at once: another worker may take them
    END IF;
    RETURN jsonb_build_object('success', true, 'released', n);
END
$$;
COMMENT ON FUNCTION api.release_sms_claims(text, uuid[]) IS
$$Gives back messages a stopping worker claimed but did not send (all of its claims when message_ids is
NULL): they are claimable again at once, no attempt is counted. A message whose request may have reached the
provider (its send had begun) becomes 'unknown' instead: it is looked up before any resend. Returns {"success": true, "released": n}. Errors: VB400 no worker_id.
Example: SELECT api.release_sms_claims('host-1:4242');$$;


CREATE FUNCTION api.record_sms_status(message_sid text, message_status text, error_code text DEFAULT NULL,
                           error_message text DEFAULT NULL, org_id uuid DEFAULT NULL,
                           message_id uuid DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp
    SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    m voxbook.sms_outbox;
    ours text := internal.twilio_status_to_ours(message_status);
    linking boolean := false;
    advance boolean;
    now_ts timestamptz := internal.clock();
BEGIN
    PERFORM internal.require(nullif(btrim(message_sid), ''), 'message_sid');
    PERFORM internal.require(nullif(btrim(message_status), ''), 'message_status');
    IF org_id IS NOT NULL THEN
        -- The callback URL names the clinic (its token signed it): only that clinic's messages, never another
        -- clinic's row that happens to carry the sid. One shard on Citus.
        SELECT * INTO m FROM voxbook.sms_outbox AS x
         WHERE x.org_id = record_sms_status.org_id AND x.provider_message_id = record_sms_status.message_sid
           FOR UPDATE;
    ELSE
        -- Found across clinics unlocked, then locked by its key: on Citus a FOR UPDATE over several shards is
        -- refused. The UPDATE below works from the locked row.
        SELECT * INTO m FROM voxbook.sms_outbox AS x WHERE x.provider_message_id = record_sms_status.message_sid;
        IF FOUND THEN
            SELECT * INTO m FROM voxbook.sms_outbox AS x WHERE x.org_id = m.org_id AND x.id = m.id FOR UPDATE;
        END IF;
    END IF;
    IF NOT FOUND AND org_id IS NOT NULL AND message_id IS NOT NULL THEN
        -- The callback URL names our row: the first news of a send whose response we never got.
        SELECT * INTO m FROM voxbook.sms_outbox AS x
         WHERE x.org_id = record_sms_status.org_id AND x.id = record_sms_status.message_id
           AND x.provider_message_id IS NULL
           FOR UPDATE;
        linking := FOUND;
    END IF;
    IF m.id IS NULL THEN
        RETURN jsonb_build_object('success', true, 'found', false, 'changed', false);
    END IF;
    -- Callbacks come out of order and twice: only a higher rank moves the status, terminal stays terminal.
    -- A newly linked row takes the provider's word whatever we believed, since we never knew its fate.
    advance := ours IS NOT NULL
               AND (linking OR internal.sms_status_rank(ours) > internal.sms_status_rank(m.status));
    UPDATE voxbook.sms_outbox AS x
       SET status = CASE WHEN advance THEN ours ELSE x.status END,
           provider_message_id = record_sms_status.message_sid,
           provider_status = CASE WHEN internal.twilio_status_rank(message_status) > internal.twilio_status_rank(x.provider_status)
                                  THEN lower(message_status) ELSE x.provider_status END,
           error_code = CASE WHEN advance AND nullif(record_sms_status.error_code, '') IS NOT NULL
                             THEN left(record_sms_status.error_code, 40) ELSE x.error_code END,
           error_message = CASE WHEN advance AND nullif(record_sms_status.error_code, '') IS NOT NULL
                                THEN left(record_sms_status.error_message, 500) ELSE x.error_message END,
           sent_at = CASE WHEN advance THEN coalesce(x.sent_at, now_ts) ELSE x.sent_at END,
           delivered_at = CASE WHEN advance AND ours = 'delivered' THEN now_ts ELSE x.delivered_at END,
           skip_reason = CASE WHEN linking THEN NULL ELSE x.skip_reason END,
           body = CASE WHEN linking THEN internal.settled_body(x.body, x.redact_after_send) ELSE x.body END,
           locked_by = CASE WHEN linking THEN NULL ELSE x.locked_by END,
           locked_at = CASE WHEN linking THEN NULL ELSE x.locked_at END,
           status_updated_at = now(), updated_at = now()
     WHERE x.org_id = m.org_id AND x.id = m.id
    RETURNING x.* INTO m;
    IF record_sms_status.error_code = '21610' THEN
        PERFORM internal.set_sms_consent(m.org_id, m.recipient, true, 'twilio:21610');
    END IF;
    RETURN jsonb_build_object('success', true, 'found', true, 'changed', advance OR linking,
                              'message_id', m.id, 'org_id', m.org_id, 'kind', m.kind, 'status', m.status,
                              'error_code', m.error_code);
END
$$;
COMMENT ON FUNCTION api.record_sms_status(text, text, text, text, uuid, uuid) IS
$$Applies a Twilio status callback (MessageSid, MessageStatus, ErrorCode). The message is found by its
provider id -- among the messages of org_id when given (our status callback URL names the clinic: another
clinic's message is never touched, "found": false), else across clinics -- or by org_id + message_id (our
status callback URL carries both) when the worker never learnt the sid. Statuses only move forward (queued < sending/unknown < sent < delivered | undelivered | failed):
duplicates and late callbacks change nothing, a terminal status stays. Twilio's accepted/queued/sending/sent
are our 'sent', read is 'delivered', canceled is 'failed'; provider_status keeps Twilio's word.
Error code 21610 opts the recipient out. Returns {"success": true, "found", "changed", "message_id",
"org_id", "kind", "status", "error_code"} ({"success": true, "found": false} for an unknown sid).
Errors: VB400 missing message_sid or message_status.
Example: SELECT api.record_sms_status('SM0123...', 'delivered');$$;


CREATE FUNCTION api.record_inbound_sms(to_number text, from_number text, body text,
                            message_sid text DEFAULT NULL, opt_out_type text DEFAULT NULL,
                            org_ids uuid[] DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    sender text;
    receiver text;
    receiver_country text;
    word text := upper(regexp_replace(btrim(coalesce(body, '')), '[[:space:].!]+$', ''));
    action text;
    orgs uuid[];
    consent_org uuid;
    help_org voxbook.organizations;
    reply text;
    sid text := nullif(btrim(message_sid), '');
    unusable boolean := false;
    answer jsonb;
    help_tag text;
    last_appt timestamptz;
    last_appt_locale text;
    last_hold timestamptz;
    last_hold_locale text;
    to_known boolean;
    routed jsonb;
    preferred uuid;
BEGIN
    IF cardinality(org_ids) > 1000 THEN
        PERFORM internal.fail('VB400', 'org_ids has more than 1000 clinics',
                              'Pass the clinics the webhook resolved (those on the account that received it).');
    END IF;
    IF length(sid) > 64 THEN
        PERFORM internal.fail('VB400', 'MessageSid is too long', 'Pass Twilio''s MessageSid (34 characters).');
    END IF;
    IF sid IS NOT NULL THEN
        -- Twilio redelivers webhooks, late and out of order: a MessageSid seen before changes nothing and
        -- gets the first answer again (else a redelivered START after a STOP would opt the number back in).
        -- A concurrent delivery of the same sid waits here for the first one to commit.
        INSERT INTO voxbook.sms_inbound AS i (message_sid) VALUES (sid) ON CONFLICT ON CONSTRAINT sms_inbound_pkey DO NOTHING;
        IF NOT FOUND THEN
            SELECT i.result INTO answer FROM voxbook.sms_inbound AS i WHERE i.message_sid = sid;
            RETURN coalesce(answer, jsonb_build_object('success', true, 'action', 'none', 'keyword', NULL,
                                                       'orgs', 0, 'reply', NULL))
                   || jsonb_build_object('duplicate', true);
        END IF;
    END IF;
    BEGIN
        -- Twilio sends E.164; a national From is read in the country of the clinic whose number To is.
        receiver := internal.normalize_phone(to_number, NULL);
        SELECT o.country INTO receiver_country FROM voxbook.organizations AS o
         WHERE (o.phone = receiver OR o.sms_from = receiver) AND (org_ids IS NULL OR o.id = ANY (org_ids))
         ORDER BY (o.sms_from = receiver) IS TRUE DESC, o.id LIMIT 1;
        IF receiver_country IS NULL AND org_ids IS NOT NULL THEN
            -- A pool number of the clinics' account: read a national From in their (first) country.
            SELECT o.country INTO receiver_country FROM voxbook.organizations AS o
             WHERE o.id = ANY (org_ids) ORDER BY o.id LIMIT 1;
        END IF;
        sender := internal.normalize_phone(from_number, receiver_country);
    EXCEPTION WHEN SQLSTATE 'VB400' THEN
        -- A short code or an alphanumeric sender: nothing we can opt in or out.
        unusable := true;
    END;
    -- Twilio blocks and unblocks on these whole-body keywords (Advanced Opt-Out says which in OptOutType);
    -- we mirror it so that nothing is even attempted after STOP.
    action := CASE
        WHEN upper(opt_out_type) = 'STOP' OR word IN ('STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT',
                                                      'OPTOUT', 'REVOKE') THEN 'opt_out'
        WHEN upper(opt_out_type) = 'START' OR word IN ('START', 'YES', 'UNSTOP') THEN 'opt_in'
        WHEN upper(opt_out_type) = 'HELP' OR word IN ('HELP', 'INFO') THEN 'help'
        ELSE 'none' END;
    IF unusable OR sender IS NULL THEN   -- no From at all: nobody to opt in or out (was a NOT NULL 500)
        answer := jsonb_build_object('success', true, 'action', 'none', 'keyword', NULL, 'orgs', 0, 'reply', NULL);
        UPDATE voxbook.sms_inbound AS i SET result = answer WHERE i.message_sid = sid;
        RETURN answer;
    END IF;
    -- To is a clinic's own number: those clinics (of them, the listed ones). Else a pool number.
    SELECT coalesce(array_agg(o.id ORDER BY o.id) FILTER (WHERE org_ids IS NULL OR o.id = ANY (org_ids)), '{}'),
           count(*) > 0
      INTO orgs, to_known
      FROM voxbook.organizations AS o WHERE o.phone = receiver OR o.sms_from = receiver;
    IF NOT to_known AND org_ids IS NOT NULL THEN
        -- A pool number of an account the webhook resolved to these clinics (their own account, shared):
        -- Twilio blocks the sender on that account, so exactly these clinics, and no clinic on another account.
        SELECT coalesce(array_agg(o.id ORDER BY o.id), '{}') INTO orgs FROM voxbook.organizations AS o
         WHERE o.id = ANY (org_ids);
    ELSIF NOT to_known THEN
        -- Sent to a number that is no clinic's own (a Messaging Service pool number): Twilio's opt-out
        -- covers the whole service, so it covers every clinic that knows this number.
        SELECT coalesce(array_agg(DISTINCT ct.org_id), '{}') INTO orgs FROM voxbook.contacts AS ct WHERE ct.phone = sender;
    END IF;
    IF action IN ('opt_out', 'opt_in') THEN
        FOREACH consent_org IN ARRAY orgs LOOP
            PERFORM internal.set_sms_consent(consent_org, sender, action = 'opt_out',
                                             'sms:' || coalesce(nullif(word, ''), upper(opt_out_type)), message_sid);
            IF word = 'CANCEL' THEN
                -- Meant for the appointment, read as an opt-out by the carrier: staff see "may not come"
                -- (46_sms_replies.sql).
                PERFORM internal.flag_may_not_come(consent_org, sender);
            END IF;
        END LOOP;
    ELSIF action = 'help' THEN
        SELECT * INTO help_org FROM voxbook.organizations AS o
         WHERE ((o.phone = receiver OR o.sms_from = receiver) AND (org_ids IS NULL OR o.id = ANY (org_ids)))
            OR (NOT to_known AND o.id = ANY (org_ids))
         ORDER BY (o.sms_from = receiver) IS TRUE DESC, (o.phone = receiver) IS TRUE DESC, o.id LIMIT 1;
        IF FOUND THEN
            -- In the language the patient last booked in at this clinic (their newest appointment or hold, by
            -- their number; NULL there: the clinic's), else the clinic's. Two reads, each one clinic's shard.
            SELECT a.created_at, a.locale INTO last_appt, last_appt_locale
              FROM voxbook.appointments AS a
              JOIN voxbook.contacts AS ct ON ct.org_id = a.org_id AND ct.id = a.contact_id
             WHERE a.org_id = help_org.id AND ct.phone = sender
             ORDER BY a.created_at DESC LIMIT 1;
            SELECT h.created_at, h.locale INTO last_hold, last_hold_locale
              FROM voxbook.holds AS h
             WHERE h.org_id = help_org.id AND h.patient_phone = sender
             ORDER BY h.created_at DESC LIMIT 1;
            help_tag := CASE WHEN last_hold > last_appt OR (last_appt IS NULL AND last_hold IS NOT NULL)
                             THEN last_hold_locale ELSE last_appt_locale END;
            help_tag := coalesce(help_tag, internal.clinic_locale(help_org.locale));
            reply := internal.gsm7(coalesce(help_org.help_text,
                                            internal.message('sms.help', help_tag, jsonb_build_object(
                                               'clinic', help_org.name,
                                               'clinic_phone', internal.display_phone(help_org.phone, help_org.country)))));
        END IF;
    ELSIF word <> '' THEN
        -- Not a carrier keyword: a reply (C, R, anything else) to the clinic of the sender's next appointment, else
        -- the clinic whose own number To is (db/functions/46_sms_replies.sql).
        SELECT o.id INTO preferred FROM voxbook.organizations AS o
         WHERE (o.phone = receiver OR o.sms_from = receiver) AND o.id = ANY (orgs)
         ORDER BY (o.sms_from = receiver) IS TRUE DESC, (o.phone = receiver) IS TRUE DESC, o.id LIMIT 1;
        routed := internal.route_inbound_reply(orgs, sender, preferred, body, sid);
        reply := routed->>'reply';
    END IF;
    -- No reply to STOP/START: Twilio confirms those itself, and a reply after STOP would be refused.
    answer := jsonb_build_object('success', true, 'action', action, 'keyword', nullif(word, ''),
                                 'orgs', cardinality(orgs), 'reply', reply, 'reply_to', routed->'kind');
    -- Kept for redeliveries without the text of an ordinary message (its "keyword" is the whole body).
    UPDATE voxbook.sms_inbound AS i
       SET result = CASE WHEN action = 'none' THEN answer || '{"keyword": null}' ELSE answer END
     WHERE i.message_sid = sid;
    RETURN answer;
END
$$;
COMMENT ON FUNCTION api.record_inbound_sms(text, text, text, text, text, uuid[]) IS
$$Handles an inbound SMS (Twilio's To, From, Body, MessageSid, OptOutType). The whole body, case-insensitive,
decides: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT (and OPTOUT, REVOKE) opt the sender out, START, YES,
UNSTOP opt it back in, HELP/INFO returns the clinic's help_text (or a default naming the clinic and its phone,
in the language of the sender's newest appointment or hold at that clinic, else the clinic's).
The clinic is the one whose phone or sms_from is To; for any other To (a Messaging Service number) every
clinic that has the sender as a contact. org_ids (optional, at most 1000): the clinics the webhook resolved
(those on the carrier account that received it; api/twilio_routes.py): only these are acted on -- of the
clinics whose number is To, those listed; for any other To, all of them (Twilio blocks the sender on their
account), never a clinic on another account. An opt-out creates the contact if needed, records a consent event
and skips every queued message to that number; later ones are skipped at queue time.
Idempotent by MessageSid: a MessageSid handled before (a redelivered webhook) changes nothing and gets the
first answer again, with "duplicate": true (an ordinary message's "keyword" is not kept: null).
CANCEL also marks the sender's next appointment at each of those clinics "may not come" (may_not_come_at).
Any other text is a reply (db/functions/46_sms_replies.sql), routed to the clinic of the sender's next
appointment (else the one whose number To is): C confirms that appointment, R asks the front desk to call back
to reschedule, anything else goes to the clinic's SMS inbox and the front desk ("reply_to": "confirm",
"reschedule", "no_appointment", "inbox"; null for keywords and unrouted texts).
Returns {"success": true, "action": "opt_out" | "opt_in" | "help" | "none", "keyword", "orgs" (clinics
affected), "reply" (text to answer with, or null), "reply_to"}. Errors: VB400 a MessageSid over 64 characters, over 1000
org_ids; none for other odd input (a short-code sender is "none").
Example: SELECT api.record_inbound_sms('+15551234567', '+15557654321', 'STOP', 'SM0123...');$$;
