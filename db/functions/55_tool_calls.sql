-- Idempotent tool calls: Vapi may deliver the same tool call twice (retries, timeouts). The adapter runs
-- every tool call as one statement, api.run_tool_call: insert the id's row (a twin waits on it), give back
-- the stored result if there is one, else run the booking function and store its result, in the booking
-- change's own transaction.
-- Everything the answer needs is in that result (a refused claim carries the other times to offer), and
-- the line the assistant says is worded from it here (internal.spoken_line, the message catalogue) and
-- stored with it: a replay is byte for byte the first answer, and the adapter only passes it on. A failed
-- call stores nothing, which is right: it wrote nothing either.

CREATE FUNCTION internal.require_tool_call_id(tool_call_id text) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM internal.require(nullif(btrim(tool_call_id), ''), 'tool_call_id');
    IF length(tool_call_id) > 200 THEN
        PERFORM internal.fail('VB400', 'tool_call_id is too long', 'Pass Vapi''s toolCallId as it came (at most 200 characters).');
    END IF;
END
$$;


-- The tool functions api.run_tool_call may call, by name. Anything else is refused before any SQL is built.
CREATE FUNCTION internal.tool_functions() RETURNS text[]
    LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['check_availability', 'claim_slot_atomic', 'send_otp_code', 'verify_otp',
                 'send_confirmation_sms', 'cancel_appointment', 'reschedule_appointment',
                 'find_my_appointments', 'cancel_my_appointment', 'reschedule_my_appointment', 'join_waitlist']
$$;


-- The checks of a tool function call, before anything runs: a known tool function, args an object
-- without org_id (the clinic is never the model's to choose).
CREATE FUNCTION internal.require_tool_args(function_name text, args jsonb) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    IF function_name IS NULL OR NOT function_name = ANY (internal.tool_functions()) THEN
        PERFORM internal.fail('VB400', 'function_name is not a tool function',
                              format('One of: %s.', array_to_string(internal.tool_functions(), ', ')));
    END IF;
    IF args IS NULL OR jsonb_typeof(args) <> 'object' THEN
        PERFORM internal.fail('VB400', 'args must be a JSON object', 'Pass the tool function''s named parameters, e.g. {"date": "2026-03-02"}.');
    END IF;
    IF args ? 'org_id' THEN
        PERFORM internal.fail('VB400', 'args must not contain org_id', 'The clinic is the org_id parameter of api.run_tool_call or api.run_tool.');
    END IF;
    -- A caller is never staff: staff_user would lift the clinic's cancellation notice (40_appointments.sql).
    IF args ? 'staff_user' THEN
        PERFORM internal.fail('VB400', 'args must not contain staff_user', 'Tool calls act for the caller; staff use the api functions directly.');
    END IF;
END
$$;

-- Runs a checked tool function call: {"answer": <api.<function_name>'s result>, "spoken": <what the
-- assistant says for it>}. The one place a tool function is run and its line worded, in the caller's
-- language: a "language" argument (any tool may pass one; it is not the function's) is recorded as the
-- call's first, so the hold the call makes and its texts follow it; else the call's recorded language (Vapi's
-- language detection, api.set_call_language), else the clinic's.
CREATE FUNCTION internal.tool_response(o voxbook.organizations, function_name text, args jsonb,
                                       call_id text DEFAULT NULL) RETURNS jsonb
    LANGUAGE plpgsql AS $$
DECLARE
    org_id constant uuid := o.id;
    arg_list text;
    r jsonb;
    tag text;
BEGIN
    IF coalesce(btrim(args->>'language'), '') <> '' THEN
        tag := internal.set_call_locale(o, call_id, args->>'language', 'argument');
    ELSE
        tag := internal.call_locale(o, call_id);
    END IF;
    args := args - 'language';
    -- (Its keys checked by one expression, not a query over jsonb_object_keys: nothing to start per call.)
    IF function_name = 'claim_slot_atomic'
       AND args - ARRAY['calendar_id', 'slot_time', 'call_sid', 'patient_name', 'patient_phone', 'hold_minutes',
                        'service'] = '{}'::jsonb THEN
        -- The hot tool (every booking), as a static call: the dynamic statement below is parsed and planned
        -- anew for every call (its literals differ), ~0.2 ms of a ~0.8 ms tool call (bench/README.md). The same
        -- call: every parameter of claim_slot_atomic defaults to NULL, so an absent key and a JSON null are one;
        -- the casts are the parameters' input functions, as for the literals below (the same SQLSTATEs).
        -- Any other key takes the general path, which refuses it as PostgreSQL does.
        r := api.claim_slot_atomic(org_id => org_id, calendar_id => args->>'calendar_id',
                                   slot_time => (args->>'slot_time')::timestamptz, call_sid => args->>'call_sid',
                                   patient_name => args->>'patient_name', patient_phone => args->>'patient_phone',
                                   hold_minutes => (args->>'hold_minutes')::int, service => args->>'service');
    ELSE
        -- Named arguments as untyped literals: PostgreSQL casts each to its parameter's type and rejects a
        -- bad value (22P02, 22007, ...) exactly as for a direct call. Names are quoted identifiers.
        SELECT string_agg(format(', %I => %L', a.key, a.value), '') INTO arg_list FROM jsonb_each_text(args) AS a;
        EXECUTE format('SELECT api.%I(org_id => $1%s)', function_name, coalesce(arg_list, '')) INTO r USING org_id;
    END IF;
    -- A refusal whose line promises a person records the callback request it promises (52_front_desk.sql);
    -- a success promises none (callback_for_refusal returns at once for it: not called at all).
    IF NOT coalesce((r->>'success')::boolean, false) THEN
        PERFORM internal.callback_for_refusal(o, function_name, args, r, call_id);
    END IF;
    RETURN jsonb_build_object('answer', r, 'spoken', internal.spoken_line(function_name, r, tag, o.time_zone));
END
$$;


CREATE FUNCTION api.run_tool_call(org_id uuid, tool_call_id text, tool_name text, function_name text,
                       args jsonb DEFAULT '{}', call_id text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    t voxbook.tool_calls;
    answered jsonb;
BEGIN
    PERFORM internal.require_tool_call_id(tool_call_id);
    PERFORM internal.require(nullif(btrim(tool_name), ''), 'tool_name');
    IF length(tool_name) > 64 THEN
        PERFORM internal.fail('VB400', 'tool_name is too long', 'Vapi tool names have at most 64 characters.');
    END IF;
    PERFORM internal.require_tool_args(function_name, args);

    -- Our row first, its response to come below in this transaction: a twin delivered at the same moment
    -- waits in this INSERT for our commit, then finds the stored result (or, had we rolled back, runs
    -- itself). A row lock, not an advisory lock: on Citus that holds only on the node where it is taken;
    -- the row is on the clinic's shard wherever the statement runs.
    INSERT INTO voxbook.tool_calls AS x (org_id, tool_call_id, tool_name, vapi_call_id, response)
    VALUES (o.id, tool_call_id, tool_name, nullif(btrim(call_id), ''), NULL)
    ON CONFLICT ON CONSTRAINT tool_calls_pkey DO NOTHING;
    IF NOT FOUND THEN
        SELECT * INTO t FROM voxbook.tool_calls AS x
         WHERE x.org_id = o.id AND x.tool_call_id = run_tool_call.tool_call_id;
        IF t.tool_name <> run_tool_call.tool_name THEN
            PERFORM internal.fail('VB409', 'tool_call_id was already used for another tool',
                                  'Each tool call needs its own id; Vapi''s toolCallId is unique per call.',
                                  format('used for %s', t.tool_name));
        END IF;
        -- A redelivery comes in the same call. The same id in another call (providers that number their tool
        -- calls: call_0, call_1, ...) is not one, and must never answer with another caller's result.
        IF t.vapi_call_id <> nullif(btrim(call_id), '') THEN
            PERFORM internal.fail('VB409', 'tool_call_id was already used in another call',
                                  'Each tool call needs its own id; Vapi''s toolCallId is unique per call.');
        END IF;
        -- A record stored before the spoken line was (migration 0015) gets it worded now, from its result.
        RETURN jsonb_build_object('success', true, 'replay', true, 'tool_call_id', t.tool_call_id,
                                  'response', CASE WHEN t.response ? 'spoken' THEN t.response
                                                   ELSE t.response || jsonb_build_object('spoken',
                                                        internal.spoken_line(function_name, t.response->'answer',
                                                                             internal.call_locale(o, call_id), o.time_zone)) END,
                                  'first_answered_at', internal.utc_iso(t.created_at));
    END IF;

    answered := internal.tool_response(o, function_name, args, call_id);
    UPDATE voxbook.tool_calls AS x SET response = answered
     WHERE x.org_id = o.id AND x.tool_call_id = run_tool_call.tool_call_id;
    -- What was stored is answered itself (a jsonb value in, the same value out): a replay reads it back equal.
    RETURN jsonb_build_object('success', true, 'replay', false, 'tool_call_id', tool_call_id, 'response', answered);
END
$$;
COMMENT ON FUNCTION api.run_tool_call(uuid, text, text, text, jsonb, text) IS
$$One Vapi tool call in one statement: inserts its row for (org_id, tool_call_id) first (a row lock held
until the transaction ends), returns the result stored for that id if there is one, else runs api.<function_name>(org_id => org_id, <args>) and stores its
result and the line the assistant says for it (from the message catalogue, voxbook.message_templates), in
the same transaction as the booking change. A concurrent redelivery waits for the first to commit
and gets its result; a call whose function raises stores nothing.
function_name: one of check_availability, claim_slot_atomic, send_otp_code, verify_otp, send_confirmation_sms,
cancel_appointment, reschedule_appointment, find_my_appointments, cancel_my_appointment, reschedule_my_appointment,
join_waitlist. args: the function's other named parameters, values as text
(cast by PostgreSQL), and optionally "language" (the caller's, e.g. "es": recorded for the call, see
api.set_call_language; the line is then in it). call_id: Vapi's call.id. The line is in the call's language
(a language the clinic does not offer: its default).
Returns {"success": true, "replay": false, "tool_call_id", "response": {"answer": <the function's result>,
"spoken": <the assistant's line>}} for a new call, or {"success": true, "replay": true, "tool_call_id", "response", "first_answered_at"} with the
response stored the first time.
Errors: the function's own; VB404 unknown org; VB400 missing or too long tool_call_id, missing or too long
tool_name, unknown function_name, args not an object or with org_id; VB409 the id was used for another tool or in another call (both call_ids given and different).
Example: SELECT api.run_tool_call('a0000000-0000-0000-0000-000000000001', 'call_51kj', 'reserve_atomic',
         'claim_slot_atomic', '{"calendar_id": "cal-smith", "slot_time": "2026-03-02T14:00:00Z",
         "patient_name": "John Smith", "patient_phone": "+15555550123", "call_sid": "b1223960"}', 'b1223960');$$;


CREATE FUNCTION api.run_tool(org_id uuid, function_name text, args jsonb DEFAULT '{}')
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
BEGIN
    PERFORM internal.require_tool_args(function_name, args);
    RETURN jsonb_build_object('success', true, 'response', internal.tool_response(o, function_name, args));
END
$$;
COMMENT ON FUNCTION api.run_tool(uuid, text, jsonb) IS
$$A tool call without a tool call id (the seed's per-tool endpoints): runs api.<function_name>(org_id => org_id,
<args>) like api.run_tool_call, but stores nothing, so a redelivery runs again.
Returns {"success": true, "response": {"answer": <the function's result>, "spoken": <the assistant's line,
from the message catalogue>}}.
Errors: the function's own; VB404 unknown org; VB400 unknown function_name, args not an object or with org_id.
Example: SELECT api.run_tool('a0000000-0000-0000-0000-000000000001', 'check_availability',
         '{"date": "2026-03-02", "spread": "3"}');$$;


CREATE FUNCTION api.set_call_language(org_id uuid, call_id text, language text)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    resolved text;
BEGIN
    PERFORM internal.require(nullif(btrim(call_id), ''), 'call_id');
    PERFORM internal.require(nullif(btrim(language), ''), 'language');
    IF length(language) > 35 THEN
        PERFORM internal.fail('VB400', 'language is too long', 'Pass a language or locale tag such as es or es-MX.');
    END IF;
    resolved := internal.set_call_locale(o, call_id, language, 'detected');
    RETURN jsonb_build_object('success', true, 'call_id', call_id, 'language', language, 'locale', resolved,
                              'supported', split_part(resolved, '-', 1)
                                           = lower(split_part(replace(btrim(language), '_', '-'), '-', 1)));
END
$$;
COMMENT ON FUNCTION api.set_call_language(uuid, text, text) IS
$$Records the caller's language for a running call (call_id: Vapi's call.id), as the assistant detected it
(Vapi's language-changed / language-change-detected message): the call's spoken lines, the hold it makes (or
holds now) and that booking's texts -- code, confirmation, reminder, changes -- are then in it. The language is
taken in the clinic's region (es at an en-US clinic: es-US; at an es-MX clinic: es-MX). A language the clinic
does not offer (organizations.languages) or that has no message catalogue falls back to the clinic's default.
Returns {"success": true, "call_id", "language": <as given>, "locale": <what the texts will use>,
"supported": <whether the language asked for is the one used>}.
Errors: VB404 unknown org; VB400 call_id or language missing, language over 35 characters.
Example: SELECT api.set_call_language('a0000000-0000-0000-0000-000000000001', 'call-123', 'es');$$;


-- Retention (issue 18): a tool call's answer is only needed while Vapi may deliver the call again, which it
-- does within the call (a retried request, seconds to minutes; a call lasts at most hours). Older rows are dead
-- weight in every insert's index and in backups; the SMS worker's periodic sweep deletes them (workers/sms.py).
-- The cut-off is a value computed first (Citus runs the DELETE on every shard; the clock inside it would not
-- be the caller's). Bounded below by one day, so no setting can shorten the replay guarantee below the longest
-- call; created_at is when the call was first answered (tool_calls_created indexes it).
CREATE FUNCTION api.purge_tool_calls(org_id uuid DEFAULT NULL, older_than interval DEFAULT interval '2 days')
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    cutoff timestamptz;
    n bigint;
BEGIN
    PERFORM internal.require(older_than, 'older_than');
    IF older_than < interval '1 day' OR older_than > interval '3650 days' THEN
        PERFORM internal.fail('VB400', 'older_than must be between 1 day and 3650 days',
                              'Vapi redelivers a tool call during its call: keep at least a day, e.g. ''2 days''.');
    END IF;
    IF purge_tool_calls.org_id IS NOT NULL THEN
        PERFORM internal.require_org(purge_tool_calls.org_id);
    END IF;
    cutoff := internal.clock() - older_than;
    DELETE FROM voxbook.tool_calls AS t
     WHERE t.created_at < cutoff
       AND (purge_tool_calls.org_id IS NULL OR t.org_id = purge_tool_calls.org_id);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN jsonb_build_object('success', true, 'deleted', n, 'before', internal.utc_iso(cutoff));
END
$$;
COMMENT ON FUNCTION api.purge_tool_calls(uuid, interval) IS
$$Housekeeping: deletes the stored answers of tool calls first answered more than older_than ago (default 2
days; at least 1 day, at most 3650 days), of every clinic or of one. A redelivery of a call younger than that is
still answered from its record; an older id would run as a new call (Vapi never redelivers that late). The SMS
worker runs it periodically. Returns {"success": true, "deleted": n, "before": <the cut-off, UTC ISO>}.
Errors: VB400 older_than missing or out of range; VB404 unknown org.
Example: SELECT api.purge_tool_calls(older_than => '7 days');$$;
