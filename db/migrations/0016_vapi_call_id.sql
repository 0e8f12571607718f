-- One name for Vapi's call.id in every table (issue 11): calls and tool_calls already call it vapi_call_id;
-- holds, appointments and code_events called it call_sid, which reads as Twilio's CallSid (that one is
-- calls.provider_call_sid). The partial indexes on these columns follow the rename (their names do not
-- mention it). The parameters of existing api functions keep their names (claim_slot_atomic's call_sid,
-- record_call_end's call_id): they are the documented signatures.
-- depends: 0001_core 0011_code_limits 0014_sql_hygiene

ALTER TABLE voxbook.holds RENAME COLUMN call_sid TO vapi_call_id;
ALTER TABLE voxbook.appointments RENAME COLUMN call_sid TO vapi_call_id;
ALTER TABLE voxbook.code_events RENAME COLUMN call_sid TO vapi_call_id;

COMMENT ON COLUMN voxbook.holds.vapi_call_id IS 'Vapi''s call.id of the call that made the hold (NULL: made without a call).';
COMMENT ON COLUMN voxbook.appointments.vapi_call_id IS 'Vapi''s call.id of the call that booked it (NULL: booked without a call).';
COMMENT ON COLUMN voxbook.code_events.vapi_call_id IS 'Vapi''s call.id of the hold''s call, counted by the per-call code limits.';
COMMENT ON COLUMN voxbook.organizations.code_sends_per_call IS 'Codes sent during one call (holds with the same vapi_call_id).';

-- Internal helpers whose parameter is renamed with the column: CREATE OR REPLACE cannot rename a parameter,
-- so the old definitions go here, once; db/functions re-creates them right after the migrations.
DROP FUNCTION IF EXISTS voxbook.code_rate_limit(voxbook.organizations, text, text, text, uuid, timestamptz);
DROP FUNCTION IF EXISTS voxbook.vapi_call_key(text);
