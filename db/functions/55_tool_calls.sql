-- Idempotent tool calls: Vapi may deliver the same tool call twice (retries, timeouts). The adapter
-- runs each call as one statement, api.run_tool_call (lock, stored answer or the booking function and
-- its result stored). When it needs more queries before answering (other times after a lost race) it
-- runs the call in one transaction instead: api.begin_tool_call (waits for a concurrent twin, returns a
-- stored answer if there is one), then the booking function, then api.finish_tool_call (stores the
-- answer). A failed call stores nothing, which is right: it wrote nothing either.

CREATE OR REPLACE FUNCTION voxbook.require_tool_call_id(tool_call_id text) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM voxbook.require(nullif(btrim(tool_call_id), ''), 'tool_call_id');
    IF length(tool_call_id) > 200 THEN
        PERFORM voxbook.fail('VB400', 'tool_call_id is too long', 'Pass Vapi''s toolCallId as it came (at most 200 characters).');
    END IF;
END
$$;


CREATE FUNCTION api.begin_tool_call(org_id uuid, tool_call_id text, tool_name text)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := voxbook.require_org(org_id);
    t voxbook.tool_calls;
BEGIN
    PERFORM voxbook.require_tool_call_id(tool_call_id);
    PERFORM voxbook.require(nullif(btrim(tool_name), ''), 'tool_name');
    -- Held until the caller's transaction ends: a twin delivered at the same moment waits here and
    -- then finds the first one's answer (the SELECT below takes a fresh snapshot).
    PERFORM pg_advisory_xact_lock(hashtextextended('voxbook:tool_call:' || o.id || ':' || tool_call_id, 0));
    SELECT * INTO t FROM voxbook.tool_calls AS x
     WHERE x.org_id = o.id AND x.tool_call_id = begin_tool_call.tool_call_id;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('success', true, 'replay', false, 'tool_call_id', tool_call_id);
    END IF;
    IF t.tool_name <> begin_tool_call.tool_name THEN
        PERFORM voxbook.fail('VB409', 'tool_call_id was already used for another tool',
                             'Each tool call needs its own id; Vapi''s toolCallId is unique per call.',
                             format('used for %s', t.tool_name));
    END IF;
    RETURN jsonb_build_object('success', true, 'replay', true, 'tool_call_id', t.tool_call_id,
                              'response', t.response, 'first_answered_at', voxbook.utc_iso(t.created_at));
END
$$;
COMMENT ON FUNCTION api.begin_tool_call(uuid, text, text) IS
$$Starts one Vapi tool call (tool_call_id is Vapi's toolCallId, tool_name the tool's name). Call it inside a
transaction that then runs the booking function and api.finish_tool_call: a transaction-level lock makes a
concurrent redelivery of the same call wait for the first to commit.
Returns {"success": true, "replay": false, "tool_call_id"} for a new call, or {"success": true, "replay": true,
"tool_call_id", "response", "first_answered_at"} with the answer stored the first time (give it back as is).
Errors: VB404 unknown org; VB400 missing or too long tool_call_id, missing tool_name; VB409 the id was used
for another tool.
Example: BEGIN; SELECT api.begin_tool_call('a0000000-0000-0000-0000-000000000001', 'call_51kj', 'reserve_atomic'); ...$$;


CREATE FUNCTION api.finish_tool_call(org_id uuid, tool_call_id text, tool_name text, response jsonb,
                                     call_id text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := voxbook.require_org(org_id);
    t voxbook.tool_calls;
BEGIN
    PERFORM voxbook.require_tool_call_id(tool_call_id);
    PERFORM voxbook.require(nullif(btrim(tool_name), ''), 'tool_name');
    IF length(tool_name) > 64 THEN
        PERFORM voxbook.fail('VB400', 'tool_name is too long', 'Vapi tool names have at most 64 characters.');
    END IF;
    IF response IS NULL OR jsonb_typeof(response) <> 'object' THEN
        PERFORM voxbook.fail('VB400', 'response must be a JSON object', 'Pass the answer given to Vapi for this tool call.');
    END IF;
    INSERT INTO voxbook.tool_calls AS x (org_id, tool_call_id, tool_name, vapi_call_id, response)
    VALUES (o.id, tool_call_id, tool_name, nullif(btrim(call_id), ''), response)
    ON CONFLICT ON CONSTRAINT tool_calls_pkey DO NOTHING
    RETURNING x.* INTO t;
    IF t.org_id IS NULL THEN   -- stored before (without api.begin_tool_call's lock): the first answer stands
        SELECT * INTO t FROM voxbook.tool_calls AS x
         WHERE x.org_id = o.id AND x.tool_call_id = finish_tool_call.tool_call_id;
        RETURN jsonb_build_object('success', true, 'stored', false, 'tool_call_id', t.tool_call_id, 'response', t.response);
    END IF;
    RETURN jsonb_build_object('success', true, 'stored', true, 'tool_call_id', t.tool_call_id, 'response', t.response);
END
$$;
COMMENT ON FUNCTION api.finish_tool_call(uuid, text, text, jsonb, text) IS
$$Stores the answer given to a Vapi tool call (see api.begin_tool_call), with Vapi's call.id for reference.
The first answer stored for an id stands: storing again changes nothing.
Returns {"success": true, "stored": true|false, "tool_call_id", "response"} (response: the answer that stands).
Errors: VB404 unknown org; VB400 missing tool_call_id or tool_name, response not a JSON object.
Example: SELECT api.finish_tool_call('a0000000-0000-0000-0000-000000000001', 'call_51kj', 'reserve_atomic',
         '{"result": "{\"success\":true}"}', 'b1223960-...');$$;


-- The tool functions api.run_tool_call may call, by name. Anything else is refused before any SQL is built.
CREATE OR REPLACE FUNCTION voxbook.tool_functions() RETURNS text[]
    LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['check_availability', 'claim_slot_atomic', 'send_otp_code', 'verify_otp',
                 'send_confirmation_sms', 'cancel_appointment', 'reschedule_appointment']
$$;


CREATE FUNCTION api.run_tool_call(org_id uuid, tool_call_id text, tool_name text, function_name text,
                                  args jsonb DEFAULT '{}', call_id text DEFAULT NULL, defer_codes text[] DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := voxbook.require_org(org_id);
    t voxbook.tool_calls;
    arg_list text;
    r jsonb;
BEGIN
    PERFORM voxbook.require_tool_call_id(tool_call_id);
    PERFORM voxbook.require(nullif(btrim(tool_name), ''), 'tool_name');
    IF length(tool_name) > 64 THEN
        PERFORM voxbook.fail('VB400', 'tool_name is too long', 'Vapi tool names have at most 64 characters.');
    END IF;
    IF function_name IS NULL OR NOT function_name = ANY (voxbook.tool_functions()) THEN
        PERFORM voxbook.fail('VB400', 'function_name is not a tool function',
                             format('One of: %s.', array_to_string(voxbook.tool_functions(), ', ')));
    END IF;
    IF args IS NULL OR jsonb_typeof(args) <> 'object' THEN
        PERFORM voxbook.fail('VB400', 'args must be a JSON object', 'Pass the tool function''s named parameters, e.g. {"date": "2026-03-02"}.');
    END IF;
    IF args ? 'org_id' THEN
        PERFORM voxbook.fail('VB400', 'args must not contain org_id', 'The clinic is the org_id parameter of api.run_tool_call.');
    END IF;

    -- As api.begin_tool_call: a twin delivered at the same moment waits here until this transaction
    -- ends, then finds the answer stored below.
    PERFORM pg_advisory_xact_lock(hashtextextended('voxbook:tool_call:' || o.id || ':' || tool_call_id, 0));
    SELECT * INTO t FROM voxbook.tool_calls AS x
     WHERE x.org_id = o.id AND x.tool_call_id = run_tool_call.tool_call_id;
    IF FOUND THEN
        IF t.tool_name <> run_tool_call.tool_name THEN
            PERFORM voxbook.fail('VB409', 'tool_call_id was already used for another tool',
                                 'Each tool call needs its own id; Vapi''s toolCallId is unique per call.',
                                 format('used for %s', t.tool_name));
        END IF;
        RETURN jsonb_build_object('success', true, 'replay', true, 'tool_call_id', t.tool_call_id,
                                  'response', t.response, 'first_answered_at', voxbook.utc_iso(t.created_at));
    END IF;

    -- Named arguments as untyped literals: PostgreSQL casts each to its parameter's type and rejects a
    -- bad value (22P02, 22007, ...) exactly as for a direct call. Names are quoted identifiers.
    SELECT string_agg(format(', %I => %L', a.key, a.value), '') INTO arg_list FROM jsonb_each_text(args) AS a;
    EXECUTE format('SELECT api.%I(org_id => $1%s)', function_name, coalesce(arg_list, '')) INTO r USING o.id;

    IF r->>'code' = ANY (defer_codes) THEN
        -- Undoes everything this statement did (nothing is stored): the caller answers this one
        -- through api.begin_tool_call ... api.finish_tool_call instead.
        PERFORM voxbook.fail('VB303', 'answer deferred to the caller',
                             'Run this tool call with api.begin_tool_call, the function and api.finish_tool_call.',
                             format('code %s', r->>'code'));
    END IF;

    INSERT INTO voxbook.tool_calls AS x (org_id, tool_call_id, tool_name, vapi_call_id, response)
    VALUES (o.id, tool_call_id, tool_name, nullif(btrim(call_id), ''), jsonb_build_object('answer', r))
    RETURNING x.* INTO t;
    RETURN jsonb_build_object('success', true, 'replay', false, 'tool_call_id', t.tool_call_id, 'response', t.response);
END
$$;
COMMENT ON FUNCTION api.run_tool_call(uuid, text, text, text, jsonb, text, text[]) IS
$$One Vapi tool call in one statement: takes the lock of api.begin_tool_call on (org_id, tool_call_id),
returns the answer stored for that id if there is one, else runs api.<function_name>(org_id => org_id, <args>)
and stores its result as the answer, in the same transaction as the booking change. A concurrent
redelivery waits for the first to commit and gets its answer; a call whose function raises stores nothing.
function_name: one of check_availability, claim_slot_atomic, send_otp_code, verify_otp, send_confirmation_sms,
cancel_appointment, reschedule_appointment. args: the function's other named parameters, values as text
(cast by PostgreSQL). call_id: Vapi's call.id, kept for reference. defer_codes: result codes the caller wants
to answer itself (e.g. slot_taken, to look up other times): such a result raises VB303 and undoes the whole
statement, so the caller can run the call with api.begin_tool_call / api.finish_tool_call.
Returns {"success": true, "replay": false, "tool_call_id", "response": {"answer": <the function's result>}} for
a new call, or {"success": true, "replay": true, "tool_call_id", "response", "first_answered_at"} with the
answer stored the first time (by this function: {"answer": ...}; by api.finish_tool_call: as given to it).
Errors: the function's own; VB404 unknown org; VB400 missing or too long tool_call_id, missing tool_name,
unknown function_name, args not an object or with org_id; VB409 the id was used for another tool; VB303 deferred.
Example: SELECT api.run_tool_call('a0000000-0000-0000-0000-000000000001', 'call_51kj', 'reserve_atomic',
         'claim_slot_atomic', '{"calendar_id": "cal-smith", "slot_time": "2026-03-02T14:00:00Z",
         "patient_name": "John Smith", "patient_phone": "+15555550123", "call_sid": "b1223960"}', 'b1223960');$$;
