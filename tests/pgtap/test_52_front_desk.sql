-- The front desk (db/functions/52_front_desk.sql): transfers while the clinic is open, callback requests when it
-- is closed, when a transfer fails, and when a tool's spoken line promises a person; texted once per call; listed
-- and closed by staff. Flows act as the API role.
BEGIN;
SELECT plan(46);

CREATE TEMP TABLE ctx AS SELECT tests.create_clinic() AS org, tests.create_clinic() AS other;
SELECT tests.set_clinic((SELECT org FROM ctx), $$front_desk_phone = '+15557770000'$$);
-- Reads as the owner (the API role reads no table).
CREATE FUNCTION pg_temp.requests(org uuid) RETURNS SETOF voxbook.callback_requests
    LANGUAGE sql SECURITY DEFINER AS $$ SELECT * FROM voxbook.callback_requests AS r WHERE r.org_id = org ORDER BY r.created_at, r.id $$;
CREATE FUNCTION pg_temp.texts(org uuid, recipient text) RETURNS SETOF voxbook.sms_outbox
    LANGUAGE sql SECURITY DEFINER AS $$ SELECT * FROM voxbook.sms_outbox AS m WHERE m.org_id = org AND m.recipient = texts.recipient $$;
CREATE FUNCTION pg_temp.opt_out(org uuid, phone text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    ts constant timestamptz := now();   -- the clock in a variable: Citus takes no function in DO UPDATE SET
BEGIN
    INSERT INTO voxbook.contacts AS ct (org_id, phone, sms_opted_out, sms_opted_out_at)
    VALUES (org, opt_out.phone, true, ts)
    ON CONFLICT ON CONSTRAINT contacts_org_id_phone_key DO UPDATE SET sms_opted_out = true, sms_opted_out_at = ts;
    RETURN '# opted out';
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.requests(uuid), pg_temp.texts(uuid, text) TO voxbook_api;

-- Open: Monday 10:00 in New York.
SELECT tests.freeze_time('2030-01-14 15:00:00+00');
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE t1 AS SELECT api.front_desk_transfer((SELECT org FROM ctx), 'call-open', '+15552010001') AS j;
SELECT is((SELECT j->>'transfer' FROM t1), 'true', 'while the clinic is open the caller is transferred');
SELECT is((SELECT j->>'destination' FROM t1), '+15557770000', 'to the clinic''s front-desk number');
SELECT is((SELECT j->>'message' FROM t1), 'Let me connect you with the front desk. One moment, please.',
          'with the line said before transferring');
SELECT is((SELECT count(*)::int FROM pg_temp.requests((SELECT org FROM ctx))), 0, 'and no callback request');

-- Closed: Monday 22:00 in New York.
SELECT tests.freeze_time('2030-01-15 03:00:00+00');
CREATE TEMP TABLE t2 AS SELECT api.front_desk_transfer((SELECT org FROM ctx), 'call-late', '+15552010002',
                                                       'Ann Lee', 'wants to talk about a bill') AS j;
SELECT is((SELECT j->>'transfer' FROM t2), 'false', 'after hours there is no transfer');
SELECT is((SELECT j->>'code' FROM t2), 'closed', 'because the clinic is closed');
SELECT is((SELECT j->>'message' FROM t2),
          'The front desk is closed right now. I''ve asked them to call you back as soon as they open.',
          'the caller hears that the front desk will call back');
SELECT is((SELECT r.kind || ' ' || r.phone || ' ' || r.name || ' ' || r.vapi_call_id || ' ' || r.status
             FROM pg_temp.requests((SELECT org FROM ctx)) AS r),
          'after_hours +15552010002 Ann Lee call-late open', 'a callback request is stored: who, number, call');
SELECT ok((SELECT r.reason FROM pg_temp.requests((SELECT org FROM ctx)) AS r) LIKE 'wants to talk about a bill%',
          'and why');
SELECT is((SELECT j->>'callback_request_id' FROM t2), (SELECT r.id::text FROM pg_temp.requests((SELECT org FROM ctx)) AS r),
          'the answer names it');
SELECT is((SELECT m.body FROM pg_temp.texts((SELECT org FROM ctx), '+15557770000') AS m),
          'CALL BACK: Ann Lee (555) 201-0002 asked for a person while the clinic was closed.',
          'the front desk is texted who and the number');
SELECT is((SELECT r.sms_id FROM pg_temp.requests((SELECT org FROM ctx)) AS r),
          (SELECT m.id FROM pg_temp.texts((SELECT org FROM ctx), '+15557770000') AS m), 'the request knows its text');
-- the same call asks again (a second transfer attempt, a redelivery)
SELECT is(api.front_desk_transfer((SELECT org FROM ctx), 'call-late', '+15552010002')->>'callback_request_id',
          (SELECT j->>'callback_request_id' FROM t2), 'the same call asking again finds the same request');
SELECT is((SELECT count(*)::int FROM pg_temp.requests((SELECT org FROM ctx))), 1, 'still one request');
SELECT is((SELECT count(*)::int FROM pg_temp.texts((SELECT org FROM ctx), '+15557770000')), 1, 'and one text: once per call');

-- A closure during working hours closes the front desk too.
RESET ROLE;
INSERT INTO voxbook.blocked_periods (org_id, calendar_id, during, reason)
SELECT ctx.org, NULL, tstzrange('2030-01-16 00:00+00', '2030-01-17 00:00+00'), 'holiday' FROM ctx;
SET LOCAL ROLE voxbook_api;
SELECT tests.freeze_time('2030-01-16 15:00:00+00');
SELECT is(api.front_desk_transfer((SELECT org FROM ctx), 'call-holiday', NULL)->>'code', 'closed',
          'a clinic-wide closure is closed even within working hours');

-- A clinic without a front-desk number: the callback goes to the owner's phone.
SELECT tests.freeze_time('2030-01-14 15:00:00+00');
CREATE TEMP TABLE t3 AS SELECT api.front_desk_transfer((SELECT other FROM ctx), 'call-x', '+15552010003') AS j;
SELECT is((SELECT j->>'transfer' || ' ' || (j->>'code') FROM t3), 'false no_front_desk',
          'no front-desk number: no transfer even when open');
SELECT is((SELECT j->>'message' FROM t3), 'I can''t transfer calls here, but I''ve asked the front desk to call you back.',
          'the caller hears a callback is coming');
SELECT is((SELECT r.kind FROM pg_temp.requests((SELECT other FROM ctx)) AS r), 'asked', 'a request of kind asked');
SELECT is((SELECT count(*)::int FROM pg_temp.texts((SELECT other FROM ctx), '+15559990000')), 1,
          'texted to the hot-lead phone when there is no front desk');

-- Vapi reports the call's end.
SELECT is(api.record_transfer_failure((SELECT org FROM ctx), 'call-open', '+15552010001', 'assistant-forwarded-call')->>'recorded',
          'false', 'a transfer that worked records nothing');
SELECT is(api.record_transfer_failure((SELECT org FROM ctx), 'call-open', '+15552010001', 'customer-ended-call')->>'recorded',
          'false', 'nor does an ordinary end');
CREATE TEMP TABLE t4 AS SELECT api.record_transfer_failure((SELECT org FROM ctx), 'call-open', '+15552010001',
                                                           'call.in-progress.error-transfer-failed') AS j;
SELECT is((SELECT (j->>'recorded') || ' ' || (j->>'duplicate') || ' ' || (j#>>'{callback_request,kind}') FROM t4),
          'true false transfer_failed', 'a failed transfer becomes a callback request');
SELECT is(api.record_transfer_failure((SELECT org FROM ctx), 'call-open', '+15552010001',
                                      'call.in-progress.error-transfer-failed')->>'duplicate',
          'true', 'the end-of-call report after the status update finds the same request');
SELECT is((SELECT count(*)::int FROM pg_temp.texts((SELECT org FROM ctx), '+15557770000')), 3,
          'one more text to the front desk (after the closed and holiday calls'' two), not two more');
RESET ROLE;
SELECT ok(internal.is_failed_transfer('call.in-progress.error-warm-transfer-max-duration')
          AND NOT internal.is_failed_transfer(NULL), 'warm-transfer errors count; no reason does not');
SET LOCAL ROLE voxbook_api;

-- Staff see and close them; another clinic never does.
SELECT is(jsonb_array_length(api.list_callback_requests((SELECT org FROM ctx))->'callback_requests'), 3,
          'staff see the open requests');
SELECT is(api.list_callback_requests((SELECT org FROM ctx))#>>'{callback_requests,0,vapi_call_id}', 'call-holiday',
          'newest first');
SELECT is(api.list_callback_requests((SELECT org FROM ctx))#>>'{callback_requests,1,phone_display}', '(555) 201-0002',
          'with the number as the clinic writes it');
SELECT is(jsonb_array_length(api.list_callback_requests((SELECT other FROM ctx))->'callback_requests'), 1,
          'another clinic sees only its own');
SELECT throws_ok(format('SELECT api.resolve_callback_request(%L, %L, %L)', (SELECT other FROM ctx),
                        (SELECT j->>'callback_request_id' FROM t2), 'ana'),
                 'VB404', NULL, 'nor can close another clinic''s request');
SELECT throws_ok(format('SELECT api.resolve_callback_request(%L, %L, %L)', (SELECT org FROM ctx),
                        (SELECT j->>'callback_request_id' FROM t2), ' '),
                 'VB400', NULL, 'closing needs who did it');
SELECT is(api.resolve_callback_request((SELECT org FROM ctx), (SELECT (j->>'callback_request_id')::uuid FROM t2),
                                       'ana', 'called back')#>>'{callback_request,status}', 'done', 'staff close a request');
SELECT is(api.resolve_callback_request((SELECT org FROM ctx), (SELECT (j->>'callback_request_id')::uuid FROM t2),
                                       'bob')#>>'{callback_request,done_by}', 'ana', 'closing twice changes nothing');
SELECT is(jsonb_array_length(api.list_callback_requests((SELECT org FROM ctx))->'callback_requests'), 2,
          'a closed request leaves the open list');
SELECT is(jsonb_array_length(api.list_callback_requests((SELECT org FROM ctx), 'done')->'callback_requests'), 1,
          'and is in the done list');
SELECT throws_ok(format('SELECT api.list_callback_requests(%L, %L)', (SELECT org FROM ctx), 'later'),
                 'VB400', NULL, 'an unknown status is refused');

-- A tool's line that promises a person records the request it promises.
SELECT is(api.run_tool_call((SELECT org FROM ctx), 'tc-fd1', 'reserve_atomic', 'claim_slot_atomic',
                            jsonb_build_object('calendar_id', 'cal-a', 'slot_time', tests.at((SELECT org FROM ctx), '2030-01-15 10:00'),
                                               'patient_name', 'Bo Diaz', 'patient_phone', '+15552010009', 'call_sid', 'call-fd'),
                            'call-fd')#>>'{response,answer,success}', 'true', 'a caller holds a time');
RESET ROLE;
SELECT pg_temp.opt_out((SELECT org FROM ctx), '+15552010009');
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE t5 AS
    SELECT api.run_tool_call((SELECT org FROM ctx), 'tc-fd2', 'send_otp_code', 'send_otp_code',
                             jsonb_build_object('hold_id', (SELECT r.hold_id FROM (SELECT (api.run_tool_call(
                                 (SELECT org FROM ctx), 'tc-fd1', 'reserve_atomic', 'claim_slot_atomic', '{}')
                                 #>> '{response,answer,hold_id}')::uuid AS hold_id) AS r)), 'call-fd') AS j;
SELECT ok((SELECT j#>>'{response,spoken}' FROM t5) LIKE '%front desk call you back%',
          'a caller whose code cannot be sent hears the front desk will call back');
SELECT is((SELECT r.kind || ' ' || r.phone || ' ' || r.name FROM pg_temp.requests((SELECT org FROM ctx)) AS r
            WHERE r.vapi_call_id = 'call-fd'),
          'failure +15552010009 Bo Diaz', 'and the callback request is there, with the hold''s caller');
SELECT is(api.run_tool_call((SELECT org FROM ctx), 'tc-fd2', 'send_otp_code', 'send_otp_code', '{}')->>'replay', 'true',
          'a redelivered tool call is a replay');
SELECT is((SELECT count(*)::int FROM pg_temp.requests((SELECT org FROM ctx)) AS r WHERE r.vapi_call_id = 'call-fd'), 1,
          'and records no second request');

-- Every line a caller may hear that promises a person -- the catalogue's spoken.* and refusal.* keys, in every
-- language, naming the front desk (la recepción) or a call back -- leads to a callback request or is said by a
-- transfer. Found from the catalogue, so a new such line fails here until its outcome records a request.
RESET ROLE;
CREATE TEMP TABLE promises AS
    SELECT DISTINCT m.key FROM voxbook.message_templates AS m
     WHERE (m.key LIKE 'spoken.%' OR m.key LIKE 'refusal.%')
       AND m.template ~* '(front desk|call you back|connect you|recepci[oó]n|le llam|te llam)';
SELECT set_has('SELECT key FROM promises', $$SELECT unnest(ARRAY[
           'spoken.transfer.connecting', 'spoken.transfer.closed', 'spoken.transfer.no_front_desk',
           'spoken.rate_limited', 'spoken.codes_unavailable', 'spoken.within_notice',
           'spoken.send_otp_code.resend_limit', 'spoken.send_otp_code.opted_out',
           'refusal.codes_unavailable', 'refusal.within_notice'])$$,
       'the catalogue''s lines that promise a person are found (English and Spanish wording)');
-- spoken.transfer.*: api.front_desk_transfer's lines (above): transferring, or with a callback request.
SELECT is(ARRAY(SELECT p.key FROM promises AS p WHERE p.key LIKE 'spoken.transfer.%'
                   AND NOT EXISTS (SELECT 1 FROM (SELECT j FROM t1 UNION ALL SELECT j FROM t2 UNION ALL SELECT j FROM t3) AS x
                                    WHERE x.j->>'message' = internal.message(p.key, 'en')
                                      AND ((x.j->>'transfer')::boolean OR x.j ? 'callback_request_id'))),
          '{}'::text[], 'each transfer line is said while transferring, or with a callback request recorded');
-- The tool outcomes: spoken.<tool function>.<code>, and spoken.<code> / refusal.<code> of any tool function. Each
-- outcome, through the code the tool path runs (internal.spoken_line, internal.callback_for_refusal), is worded
-- with that line (both languages) and records a callback request of the call.
CREATE FUNCTION pg_temp.unkept_promises(org uuid) RETURNS text[]
    LANGUAGE plpgsql AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org);
    p record;
    fn text;
    parts text[];
    outcome jsonb;
    call_key text;
    lang text;
    unkept text[] := '{}';
BEGIN
    FOR p IN SELECT key FROM promises WHERE key NOT LIKE 'spoken.transfer.%' ORDER BY key LOOP
        parts := string_to_array(p.key, '.');
        IF NOT (cardinality(parts) = 2 OR (parts[1] = 'spoken' AND cardinality(parts) = 3
                                           AND parts[2] = ANY (internal.tool_functions()))) THEN
            unkept := unkept || (p.key || ': no tool outcome or transfer says it');
            CONTINUE;
        END IF;
        -- check_availability refuses nothing with a code (it raises VB4xx or lists free times): not among them
        FOREACH fn IN ARRAY CASE WHEN cardinality(parts) = 3 THEN ARRAY[parts[2]]
                                 ELSE array_remove(internal.tool_functions(), 'check_availability') END LOOP
            -- a tool function with its own line for this outcome says that one instead (listed on its own when it promises)
            CONTINUE WHEN cardinality(parts) = 2 AND parts[1] = 'spoken' AND EXISTS (
                SELECT 1 FROM voxbook.message_templates AS m WHERE m.key = 'spoken.' || fn || '.' || parts[cardinality(parts)]);
            outcome := jsonb_build_object('success', false, 'code', parts[cardinality(parts)], 'error', 'refused',
                                          'notice_hours', '24');
            IF parts[1] = 'spoken' THEN
                FOREACH lang IN ARRAY ARRAY['en', 'es'] LOOP
                    IF internal.spoken_line(fn, outcome, lang, o.time_zone) IS DISTINCT FROM internal.message(p.key, lang) THEN
                        unkept := unkept || format('%s: %s %s is not worded with it in %s', p.key, fn, outcome->>'code', lang);
                    END IF;
                END LOOP;
            END IF;
            call_key := format('promise-%s-%s', fn, p.key);
            PERFORM internal.callback_for_refusal(o, fn, '{}', outcome, call_key);
            IF NOT EXISTS (SELECT 1 FROM voxbook.callback_requests AS r
                            WHERE r.org_id = o.id AND r.vapi_call_id = call_key AND r.status = 'open') THEN
                unkept := unkept || format('%s: %s %s records no callback request', p.key, fn, outcome->>'code');
            END IF;
        END LOOP;
    END LOOP;
    RETURN unkept;
END $$;
SELECT is(pg_temp.unkept_promises((SELECT org FROM ctx)), '{}'::text[],
          'every tool outcome whose line promises a person records a callback request');
SELECT cmp_ok((SELECT count(*)::int FROM pg_temp.requests((SELECT org FROM ctx)) AS r WHERE r.vapi_call_id LIKE 'promise-%'),
              '>=', 2 * 10 + 2, '(one per tool function and outcome: the check ran)');

SELECT * FROM finish();
ROLLBACK;
