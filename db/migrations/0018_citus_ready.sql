-- What Citus needs of the tables (issue 12), followed on a single PostgreSQL too: one migration chain for both.
-- * Every UNIQUE constraint of a clinic table includes org_id, the distribution column (Citus enforces
--   uniqueness per shard and refuses any other). The lookup column leads, so a lookup by a token's hash or by
--   Twilio's message id alone still uses the index. Uniqueness across clinics is no longer enforced for
--   these: random 256-bit hashes and Twilio's SIDs are unique by construction.
-- * No NOTIFY from a trigger: on Citus it fires on the worker holding the shard, where nobody listens, and a
--   transaction that wrote on two workers after it cannot PREPARE. internal.queue_sms wakes the SMS worker
--   itself through internal.notify (db/functions/14_sms_queue.sql), a no-op on Citus, where the worker polls.
-- * The holds guard of calendars and services is told by a trigger argument which holds column names its
--   rows: on a shard TG_TABLE_NAME is calendars_102037, and the guard compared service_id for calendars.
-- * is_time_zone without an EXCEPTION block: a subtransaction inside the CHECK of a reference table broke
--   multi-row inserts of clinics on Citus. Same answers for IANA names (matched as PostgreSQL matches them,
--   case-insensitively); a POSIX rule such as 'EST5EDT,M3.2.0,M11.1.0' is no longer taken for a name.
-- * tool_calls.response may be NULL: api.run_tool_call inserts its row first, response to come in the same
--   transaction, so that a redelivered twin waits on that row (an advisory lock held only on the node that
--   took it, and on Citus a redelivered tool call ran twice). Nobody else ever sees the NULL: it is never
--   committed.
-- * code_limit_locks: one row per clinic, locked by the code limits (internal.code_rate_limit) in place of a
--   per-clinic advisory lock, for the same reason: a row lock holds wherever the statement runs.
-- depends: 0001_core 0003_tool_calls 0004_dashboard 0009_holds_calendar_guard 0011_code_limits 0017_internal_schema

ALTER TABLE voxbook.sms_outbox DROP CONSTRAINT sms_outbox_provider_message_id_key,
    ADD CONSTRAINT sms_outbox_provider_message_id_key UNIQUE (provider_message_id, org_id);
ALTER TABLE voxbook.dashboard_tokens DROP CONSTRAINT dashboard_tokens_token_hash_key,
    ADD CONSTRAINT dashboard_tokens_token_hash_key UNIQUE (token_hash, org_id);
ALTER TABLE voxbook.dashboard_sessions DROP CONSTRAINT dashboard_sessions_session_hash_key,
    ADD CONSTRAINT dashboard_sessions_session_hash_key UNIQUE (session_hash, org_id);
ALTER TABLE voxbook.calendar_feed_tokens DROP CONSTRAINT calendar_feed_tokens_token_hash_key,
    ADD CONSTRAINT calendar_feed_tokens_token_hash_key UNIQUE (token_hash, org_id);

DROP TRIGGER sms_outbox_notify ON voxbook.sms_outbox;
DROP FUNCTION voxbook.notify_sms_outbox();
COMMENT ON TABLE voxbook.sms_outbox IS
    'Every SMS voxbook sends or skipped, with its delivery state. Rows are inserted by api functions in the '
    'transaction of the change they announce (internal.queue_sms, which also wakes the worker on a single '
    'PostgreSQL with NOTIFY voxbook_sms; the worker polls as well).';

CREATE OR REPLACE FUNCTION voxbook.protect_referenced_by_holds() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    -- TG_ARGV[0]: the holds column that names this table's rows, 'calendar_id' or 'service_id'.
    IF EXISTS (SELECT 1 FROM voxbook.holds AS h
                WHERE h.org_id = OLD.org_id
                  AND CASE WHEN TG_ARGV[0] = 'calendar_id' THEN h.calendar_id ELSE h.service_id END = OLD.id) THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('%s %s is referred to by holds or appointments', split_part(TG_ARGV[0], '_', 1), OLD.id),
            HINT = 'Keep it (a calendar can be deactivated: UPDATE voxbook.calendars SET active = false).';
    END IF;
    RETURN OLD;
END
$$;
DROP TRIGGER calendars_keep_holds ON voxbook.calendars;
DROP TRIGGER services_keep_holds ON voxbook.services;
CREATE TRIGGER calendars_keep_holds
    BEFORE DELETE OR UPDATE OF org_id, id ON voxbook.calendars
    FOR EACH ROW EXECUTE FUNCTION voxbook.protect_referenced_by_holds('calendar_id');
CREATE TRIGGER services_keep_holds
    BEFORE DELETE OR UPDATE OF org_id, id ON voxbook.services
    FOR EACH ROW EXECUTE FUNCTION voxbook.protect_referenced_by_holds('service_id');

-- IANA names only: no abbreviations or POSIX offsets like 'EST' or '+05'.
CREATE OR REPLACE FUNCTION voxbook.is_time_zone(tz text) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS $$
    SELECT (tz ~ '/' OR tz = 'UTC')
           AND EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names AS z WHERE lower(z.name) = lower(tz))
$$;

ALTER TABLE voxbook.tool_calls ALTER COLUMN response DROP NOT NULL;
COMMENT ON COLUMN voxbook.tool_calls.response IS
    '{"answer": <the result of the api function the tool call ran>, "spoken": <its line from the message '
    'catalogue (internal.spoken_line)>}; rows stored before 0015 have no "spoken" and get it worded on replay. '
    'NULL only inside the transaction of api.run_tool_call that inserted the row (never committed).';

CREATE TABLE voxbook.code_limit_locks (
    org_id uuid PRIMARY KEY REFERENCES voxbook.organizations (id) ON DELETE CASCADE
);
COMMENT ON TABLE voxbook.code_limit_locks IS
    'One row per clinic (made on its first code), row-locked by internal.code_rate_limit so that parallel code '
    'sends and guesses of a clinic cannot outrun its limits. A row, not an advisory lock: on Citus an advisory '
    'lock holds only on the node that took it.';
