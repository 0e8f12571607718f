-- A human when needed (issue 15): the clinic's front desk.
-- * organizations.front_desk_phone: where the assistant transfers a caller who asks for a person (Vapi's
--   transferCall) and where callback requests are texted (NULL: the hot-lead alert phone gets the text, and no
--   transfer is possible: the caller is offered a callback instead).
-- * callback_requests: a person at the clinic should call this caller back -- the clinic was closed, the
--   transfer failed, the caller asked, a reschedule asked by SMS, an SMS reply, a failure the tools reported.
--   Written by internal.request_callback (db/functions/52_front_desk.sql), once per (call, kind); listed and
--   closed by staff (api.list_callback_requests, api.resolve_callback_request). sms_id: the one text to the
--   front desk about it.
-- New clinic table: created without keys, distributed at once when the database already is
-- (voxbook.distribute_if_citus, 0019), then given its keys.
-- depends: 0001_core 0019_time_zone_names 0024_booking_rules

ALTER TABLE voxbook.organizations ADD COLUMN front_desk_phone voxbook.e164;
COMMENT ON COLUMN voxbook.organizations.front_desk_phone IS
    'The front desk (a person): transfers go here; callback requests are texted here (else to hot_lead_alert_phone). '
    'NULL: no transfer, callers are offered a callback.';

CREATE TABLE voxbook.callback_requests (
    org_id         uuid NOT NULL,
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    vapi_call_id   text CHECK (length(vapi_call_id) <= 200),
    phone          voxbook.e164,
    name           text CHECK (length(name) <= 200),
    reason         text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    kind           text NOT NULL CHECK (kind IN ('transfer_failed', 'after_hours', 'asked', 'reschedule_request',
                                                 'sms_reply', 'failure')),
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    appointment_id uuid,
    sms_id         uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    done_at        timestamptz,
    done_by        text CHECK (length(done_by) <= 200),
    note           text CHECK (length(note) <= 1000),
    PRIMARY KEY (org_id, id),
    CHECK ((status = 'done') = (done_at IS NOT NULL)),
    CHECK (status = 'open' OR done_by IS NOT NULL)
);
CALL voxbook.distribute_if_citus('voxbook.callback_requests');
ALTER TABLE voxbook.callback_requests
    ADD FOREIGN KEY (org_id) REFERENCES voxbook.organizations (id) ON DELETE CASCADE;
ALTER TABLE voxbook.callback_requests
    ADD FOREIGN KEY (org_id, appointment_id) REFERENCES voxbook.appointments (org_id, id);
ALTER TABLE voxbook.callback_requests
    ADD FOREIGN KEY (org_id, sms_id) REFERENCES voxbook.sms_outbox (org_id, id);
-- Once per call and kind (a redelivered tool call or report finds the row made the first time); requests
-- without a call (an SMS reply) are never merged: NULLs are distinct.
ALTER TABLE voxbook.callback_requests
    ADD CONSTRAINT callback_requests_once_per_call UNIQUE (org_id, vapi_call_id, kind);
CREATE INDEX callback_requests_open ON voxbook.callback_requests (org_id, created_at DESC) WHERE status = 'open';
COMMENT ON TABLE voxbook.callback_requests IS
    'Callers a person at the clinic should call back (kind: transfer_failed, after_hours, asked, reschedule_request, '
    'sms_reply, failure), once per (call, kind), texted to the front desk once (sms_id). Staff close them '
    '(status done, done_by). Written by internal.request_callback.';
