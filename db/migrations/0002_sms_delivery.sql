-- SMS delivery: the state of a send whose outcome is unknown, provider details, consent events.
-- depends: 0001_core

-- 'unknown': the request may have reached the provider (timeout after sending, 5xx, a worker killed
-- mid-send). Such a row is never sent blindly again: a worker first asks the provider whether it exists.
ALTER TABLE voxbook.sms_outbox DROP CONSTRAINT sms_outbox_status_check;
ALTER TABLE voxbook.sms_outbox ADD CONSTRAINT sms_outbox_status_check
    CHECK (status IN ('queued', 'sending', 'unknown', 'sent', 'delivered', 'undelivered', 'failed',
                      'cancelled', 'skipped'));

ALTER TABLE voxbook.sms_outbox
    ADD COLUMN first_attempt_at  timestamptz,
    ADD COLUMN provider_status   text,
    ADD COLUMN provider_segments int CHECK (provider_segments >= 0);
COMMENT ON COLUMN voxbook.sms_outbox.first_attempt_at IS
    'When a worker first handed (or may have handed) this message to the provider: the start of the window '
    'searched when reconciling an unknown outcome.';
COMMENT ON COLUMN voxbook.sms_outbox.provider_status IS
    'The provider''s own latest status (Twilio: queued, sent, delivered, undelivered, failed, read, ...).';
COMMENT ON COLUMN voxbook.sms_outbox.provider_segments IS
    'Segments as the provider counted them (Twilio num_segments); segments is our own count at queue time.';
COMMENT ON COLUMN voxbook.sms_outbox.status IS
    'queued (waiting, maybe until send_after) -> sending (claimed by locked_by) -> sent (provider accepted) -> '
    'delivered | undelivered | failed. unknown = the provider may have it: reconcile before any resend. '
    'cancelled / skipped = never sent, skip_reason says why.';

-- Claims look at queued and unknown rows that are due; recovery looks for old 'sending' rows.
CREATE INDEX sms_outbox_claimable ON voxbook.sms_outbox (send_after) WHERE status IN ('queued', 'unknown');
CREATE INDEX sms_outbox_in_flight ON voxbook.sms_outbox (locked_at) WHERE status = 'sending';
CREATE INDEX sms_outbox_by_recipient ON voxbook.sms_outbox (org_id, recipient) WHERE status IN ('queued', 'unknown');

-- Proof of consent changes (carriers and the TCPA want to know when and how a number opted out or in).
CREATE TABLE voxbook.sms_consent_events (
    org_id              uuid NOT NULL REFERENCES voxbook.organizations (id) ON DELETE CASCADE,
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    phone               voxbook.e164 NOT NULL,
    opted_out           boolean NOT NULL,
    source              text NOT NULL,
    provider_message_id text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);
-- Twilio redelivers webhooks: one event per inbound message and clinic.
CREATE UNIQUE INDEX sms_consent_events_once ON voxbook.sms_consent_events (org_id, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
CREATE INDEX sms_consent_events_by_phone ON voxbook.sms_consent_events (org_id, phone, created_at DESC);
COMMENT ON TABLE voxbook.sms_consent_events IS
    'Every opt-out (STOP, Twilio error 21610) and opt-in (START) per clinic and E.164 number, with its source.';
