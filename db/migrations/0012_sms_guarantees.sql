-- SMS guarantees at the edges (issue 10): a lease per row, checked just before each send; reminders
-- stamped with the time they announce; retries bounded by usefulness, not by a count; inbound messages
-- recorded once per MessageSid.
-- depends: 0002_sms_delivery 0008_one_queued_reminder

ALTER TABLE voxbook.sms_outbox
    ADD COLUMN lease_until       timestamptz,
    ADD COLUMN provider_may_have boolean NOT NULL DEFAULT false,
    ADD COLUMN reminder_hold_id  uuid,
    ADD COLUMN reminder_starts_at timestamptz;
COMMENT ON COLUMN voxbook.sms_outbox.lease_until IS
    'While status = sending: until when locked_by holds the row. Set by the claim, renewed by api.begin_sms_send '
    'to cover one send; only after it may another worker take the row over (api.claim_sms_batch).';
COMMENT ON COLUMN voxbook.sms_outbox.provider_may_have IS
    'A request for this message may have reached the provider and is not known to have failed: the message '
    'is never sent again before the provider has been asked (the ambiguous-send rule, workers/README.md).';
COMMENT ON COLUMN voxbook.sms_outbox.reminder_hold_id IS
    'Reminders: the appointment''s hold (its time) when the reminder was queued. A reminder whose appointment '
    'has another hold now (it moved) must not go out.';
COMMENT ON COLUMN voxbook.sms_outbox.reminder_starts_at IS
    'Reminders: the appointment start the reminder announces; retries stop there.';

-- Rows in flight during the upgrade: the old workers' lease (60 s from their claim), and their request
-- may have reached the provider.
UPDATE voxbook.sms_outbox SET lease_until = coalesce(locked_at, now()) + interval '60 seconds', provider_may_have = true
 WHERE status = 'sending';
UPDATE voxbook.sms_outbox SET provider_may_have = true WHERE status = 'unknown';
-- Stamp pending reminders with their appointment's current time, unless a newer reminder of the same
-- appointment exists (then this one was for a time the appointment has since left: it stays unstamped,
-- so it counts as moved).
UPDATE voxbook.sms_outbox AS m
   SET reminder_hold_id = a.hold_id, reminder_starts_at = h.starts_at
  FROM voxbook.appointments AS a
  JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
 WHERE m.kind = 'reminder' AND m.status IN ('queued', 'sending', 'unknown')
   AND a.org_id = m.org_id AND a.id = m.appointment_id
   AND NOT EXISTS (SELECT 1 FROM voxbook.sms_outbox AS later
                    WHERE later.org_id = m.org_id AND later.appointment_id = m.appointment_id
                      AND later.kind = 'reminder' AND later.created_at > m.created_at);

-- Transient failures no longer end a message after 5 attempts: it is retried until it is no longer
-- useful (voxbook.sms_retry_deadline). max_attempts stays as a runaway guard far above that.
ALTER TABLE voxbook.sms_outbox ALTER COLUMN max_attempts SET DEFAULT 1000;
UPDATE voxbook.sms_outbox SET max_attempts = 1000
 WHERE max_attempts = 5 AND status IN ('queued', 'sending', 'unknown');

-- Reconciliation excludes provider ids already recorded for other messages to the same number.
CREATE INDEX sms_outbox_sent_to ON voxbook.sms_outbox (org_id, recipient, sent_at)
    WHERE provider_message_id IS NOT NULL;

-- Twilio redelivers webhooks: an inbound message is handled once, a redelivery gets the first answer.
-- Only the answer is kept (no number, no text).
CREATE TABLE voxbook.sms_inbound (
    message_sid text PRIMARY KEY CHECK (length(message_sid) BETWEEN 1 AND 64),
    result      jsonb,
    received_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE voxbook.sms_inbound IS
    'One row per inbound MessageSid handled by api.record_inbound_sms, with its answer: a redelivered webhook '
    '(same MessageSid) changes nothing and gets the same answer.';
