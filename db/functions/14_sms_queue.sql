-- The outbox: queuing an SMS, its encoding, and what a one-time code keeps once it is settled.

-- What a one-time code message keeps once it is sent, cancelled or skipped: no digits to reuse.
CREATE FUNCTION internal.redact_sms(body text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT regexp_replace(body, '[0-9]{4,}', '****', 'g')
$$;

-- The body a message keeps once it is settled (sent, failed, cancelled, skipped): redacted when it was
-- queued with redact_after_send (a one-time code), else as it was. Every settling UPDATE uses this.
CREATE FUNCTION internal.settled_body(body text, redact_after_send boolean) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN redact_after_send THEN internal.redact_sms(body) ELSE body END
$$;

-- Encoding and number of segments, as carriers bill them.
CREATE FUNCTION internal.sms_parts(body text, OUT encoding text, OUT segments int)
    LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    septets int;
    units int;
BEGIN
    IF body = internal.gsm7(body) THEN
        encoding := 'GSM-7';
        septets := length(body) + length(regexp_replace(body, '[^\^{}\\\[~\]|€]', '', 'g'));
        segments := CASE WHEN septets <= 160 THEN 1 ELSE ceil(septets / 153.0)::int END;
    ELSE
        encoding := 'UCS-2';
        -- characters outside the Basic Multilingual Plane (emoji) take two UTF-16 units
        units := length(body) + length(regexp_replace(body, '[\u0001-\uFFFF]', '', 'g'));
        segments := CASE WHEN units <= 70 THEN 1 ELSE ceil(units / 67.0)::int END;
    END IF;
END
$$;

-- NOTIFY at commit: the one place a function sends one (tests/pgtap/test_00_citus_rules.sql), on a single
-- PostgreSQL only. On Citus the statement runs on the worker node that holds the clinic's shard, where
-- nobody listens, and a transaction that wrote on two nodes after a NOTIFY cannot PREPARE: there the SMS
-- worker and the dashboard poll instead (workers/README.md, api/README.md). A wake-up is never the only way
-- anything is found.
CREATE FUNCTION internal.notify(channel text, payload text DEFAULT '') RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        PERFORM pg_notify(channel, payload);
    END IF;
END
$$;

-- Queues one SMS (or records why it is skipped) in the caller's transaction; a message due now wakes the
-- SMS worker (internal.notify).
CREATE FUNCTION internal.queue_sms(org_id uuid, kind text, recipient text, body text,
                                   appointment_id uuid DEFAULT NULL, hold_id uuid DEFAULT NULL,
                                   send_after timestamptz DEFAULT NULL,
                                   expires_at timestamptz DEFAULT NULL,
                                   redact_after_send boolean DEFAULT false)
    RETURNS voxbook.sms_outbox
    LANGUAGE plpgsql AS $$
DECLARE
    m voxbook.sms_outbox;
    parts record;
    opted_out boolean;
    -- A value, not now() inside COALESCE of the INSERT: Citus refuses that in a statement it routes.
    due timestamptz := coalesce(send_after, now());
BEGIN
    parts := internal.sms_parts(body);
    -- After STOP a number gets nothing from us (Twilio would refuse it with 21610 anyway).
    SELECT ct.sms_opted_out INTO opted_out FROM voxbook.contacts AS ct
     WHERE ct.org_id = queue_sms.org_id AND ct.phone = queue_sms.recipient;
    INSERT INTO voxbook.sms_outbox AS x (org_id, kind, appointment_id, hold_id, recipient, sender, body,
                                         redact_after_send, encoding, segments, status, skip_reason,
                                         send_after, expires_at)
    SELECT queue_sms.org_id, kind, appointment_id, hold_id, recipient, o.sms_from, body,
           redact_after_send, parts.encoding, parts.segments,
           CASE WHEN coalesce(opted_out, false) THEN 'skipped' ELSE 'queued' END,
           CASE WHEN coalesce(opted_out, false) THEN 'recipient opted out (STOP)' END,
           due, expires_at
      FROM voxbook.organizations AS o WHERE o.id = queue_sms.org_id
    RETURNING x.* INTO m;
    IF m.status = 'queued' AND m.send_after <= now() THEN
        -- A wake-up only: the empty payload lets PostgreSQL fold a transaction's NOTIFYs into one.
        PERFORM internal.notify('voxbook_sms');
    END IF;
    RETURN m;
END
$$;

-- Cancels the codes of a hold still waiting to go out (superseded, hold released or expired), their
-- digits redacted: the one way an unsent code dies. Returns how many were cancelled.
CREATE FUNCTION internal.cancel_unsent_codes(org_id uuid, hold_id uuid, reason text) RETURNS int
    LANGUAGE plpgsql AS $$
DECLARE
    n int;
BEGIN
    UPDATE voxbook.sms_outbox AS m
       SET status = 'cancelled', skip_reason = reason, updated_at = now(),
           body = internal.redact_sms(m.body)
     WHERE m.org_id = cancel_unsent_codes.org_id AND m.hold_id = cancel_unsent_codes.hold_id
       AND m.kind = 'otp' AND m.status = 'queued';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
