-- Calls: lead scoring and the end-of-call record that raises hot-lead alerts.

CREATE FUNCTION api.score_lead(duration_seconds int DEFAULT 0, booked boolean DEFAULT false,
                    service_value text DEFAULT 'standard', transcript text DEFAULT NULL,
                    sentiment text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    reasons jsonb := '[]';
    score int := 0;
    t text := lower(coalesce(transcript, ''));
    d int := greatest(coalesce(duration_seconds, 0), 0);
    points int;
BEGIN
    IF service_value IS NOT NULL AND service_value NOT IN ('low', 'standard', 'high') THEN
        PERFORM internal.fail('VB400', 'service_value must be low, standard or high', 'Use the value_tier of the service.');
    END IF;
    IF sentiment IS NOT NULL AND lower(sentiment) NOT IN ('positive', 'neutral', 'negative') THEN
        PERFORM internal.fail('VB400', 'sentiment must be positive, neutral or negative', 'Leave it out when unknown.');
    END IF;
    -- A longer conversation is a more serious caller: this is the base of the score.
    points := CASE WHEN d >= 300 THEN 60 WHEN d >= 180 THEN 45 WHEN d >= 60 THEN 30 WHEN d > 0 THEN 10 ELSE 0 END;
    score := score + points;
    reasons := reasons || jsonb_build_object('factor', 'duration', 'points', points,
                                             'detail', format('%s min %s s call', d / 60, d % 60));
    IF booked THEN
        score := score + 20;
        reasons := reasons || jsonb_build_object('factor', 'booked', 'points', 20, 'detail', 'booked an appointment');
    END IF;
    IF service_value = 'high' THEN
        score := score + 5;
        reasons := reasons || jsonb_build_object('factor', 'service_value', 'points', 5, 'detail', 'high-value service');
    END IF;
    IF t ~ '\m(price|prices|cost|costs|how much|afford|payment plan)\M' THEN
        score := score + 5;
        reasons := reasons || jsonb_build_object('factor', 'asked_price', 'points', 5, 'detail', 'asked about price');
    END IF;
    IF t ~ '\m(insurance|insured|coverage|covered|copay)\M' THEN
        score := score + 5;
        reasons := reasons || jsonb_build_object('factor', 'asked_insurance', 'points', 5, 'detail', 'asked about insurance');
    END IF;
    IF lower(sentiment) = 'positive' THEN
        score := score + 5;
        reasons := reasons || jsonb_build_object('factor', 'sentiment', 'points', 5, 'detail', 'positive call');
    ELSIF lower(sentiment) = 'negative' THEN
        score := score - 15;
        reasons := reasons || jsonb_build_object('factor', 'sentiment', 'points', -15, 'detail', 'negative call');
    END IF;
    RETURN jsonb_build_object('score', least(greatest(score, 0), 100), 'reasons', reasons);
END
$$;
COMMENT ON FUNCTION api.score_lead(int, boolean, text, text, text) IS
$$Lead score 0-100 of a call, with the reasons that made it: duration (>= 5 min 60, >= 3 min 45,
>= 1 min 30, shorter 10), booked +20, high-value service +5, asked about price +5, asked about
insurance +5 (words in the transcript), sentiment positive +5 / negative -15.
Returns {"score", "reasons": [{"factor", "points", "detail"}]}. Pure: it reads no table.
Example (the seed's worked example, 85): SELECT api.score_lead(480, true, 'high');$$;


-- The key a Vapi call id is stored under (calls.vapi_call_id holds at most 200 characters). A longer
-- id is kept readable and unique: its first 167 characters, '~' and the md5 of the whole id. The same
-- id always gives the same key, so a redelivered report is still recognised.
CREATE FUNCTION internal.vapi_call_key(vapi_call_id text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN length(vapi_call_id) <= 200 THEN vapi_call_id
                ELSE left(vapi_call_id, 167) || '~' || md5(vapi_call_id) END
$$;

-- Longest stored text of each free-form field of an end-of-call report. Vapi's payloads are not
-- ours to bound; the report is stored with its fields cut rather than refused and lost.
CREATE FUNCTION internal.call_field_limits() RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
    SELECT '{"transcript": 1000000, "summary": 20000, "customer_name": 200, "ended_reason": 200,
             "success_evaluation": 200, "provider_call_sid": 200, "alert_name": 60}'::jsonb
$$;


CREATE FUNCTION api.record_call_end(org_id uuid, call_id text, started_at timestamptz DEFAULT NULL,
                         ended_at timestamptz DEFAULT NULL, customer_phone text DEFAULT NULL,
                         transcript text DEFAULT NULL, summary text DEFAULT NULL,
                         structured_data jsonb DEFAULT NULL, ended_reason text DEFAULT NULL,
                         success_evaluation text DEFAULT NULL, provider_call_sid text DEFAULT NULL,
                         duration_seconds int DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    phone text;
    sd jsonb := coalesce(structured_data, '{}');
    appt voxbook.appointments;
    h voxbook.holds;
    s voxbook.services;
    rec voxbook.calls;
    scored jsonb;
    seconds int;
    alert voxbook.hot_lead_alerts;
    m voxbook.sms_outbox;
    who text;
    lim jsonb := internal.call_field_limits();
    call_key text;
    booked_at timestamptz;
    owner_tag text;
BEGIN
    PERFORM internal.require(nullif(btrim(call_id), ''), 'call_id');
    call_key := internal.vapi_call_key(call_id);
    transcript := left(transcript, (lim->>'transcript')::int);
    summary := left(summary, (lim->>'summary')::int);
    ended_reason := left(ended_reason, (lim->>'ended_reason')::int);
    success_evaluation := left(success_evaluation, (lim->>'success_evaluation')::int);
    provider_call_sid := left(provider_call_sid, (lim->>'provider_call_sid')::int);
    BEGIN
        phone := internal.normalize_phone(customer_phone, o.country);
    EXCEPTION WHEN SQLSTATE 'VB400' THEN
        phone := NULL;   -- 'anonymous', a withheld or foreign-format number: the call still counts
    END;
    IF jsonb_typeof(sd) <> 'object' THEN
        PERFORM internal.fail('VB400', 'structured_data must be a JSON object', 'Pass analysis.structuredData as it came.');
    END IF;
    -- The report is the lead: it is stored whatever its times say. Times that cannot be (infinite, out of
    -- internal.in_time_range, an end before the start) are unknown, and the duration falls back as below.
    IF NOT internal.in_time_range(started_at) THEN
        started_at := NULL;
    END IF;
    IF NOT internal.in_time_range(ended_at) OR ended_at < started_at THEN
        ended_at := NULL;
    END IF;
    -- Vapi may deliver the report twice: the first one is the record, later ones are answered from it.
    SELECT * INTO rec FROM voxbook.calls AS x WHERE x.org_id = o.id AND x.vapi_call_id = call_key;
    IF FOUND THEN
        RETURN internal.call_json(rec) || jsonb_build_object('duplicate', true);
    END IF;

    SELECT * INTO appt FROM voxbook.appointments AS a
     WHERE a.org_id = o.id AND a.vapi_call_id = record_call_end.call_id AND a.status = 'confirmed'
     ORDER BY a.created_at DESC LIMIT 1;
    SELECT * INTO h FROM voxbook.holds AS x
     WHERE x.org_id = o.id AND x.vapi_call_id = record_call_end.call_id
     ORDER BY x.created_at DESC LIMIT 1;
    BEGIN
        s := internal.find_service(o.id, coalesce(appt.service_id, h.service_id, sd->>'service', sd->>'serviceType'));
    EXCEPTION WHEN SQLSTATE 'VB404' THEN
        s := NULL;   -- the model named a service the clinic does not have: score without it
    END;
    -- A negative duration is not one (Vapi's durationSeconds is unreliable): the times, else unknown (0).
    seconds := coalesce(CASE WHEN duration_seconds >= 0 THEN duration_seconds END,
                        CASE WHEN ended_at - started_at IS NOT NULL   -- least() would skip a NULL
                             THEN least(extract(epoch FROM ended_at - started_at), 2147483647)::int END, 0);
    scored := api.score_lead(seconds, appt.id IS NOT NULL, coalesce(s.value_tier, 'standard'),
                             transcript,
                             CASE WHEN lower(sd->>'sentiment') IN ('positive', 'neutral', 'negative')
                                  THEN lower(sd->>'sentiment') END);
    who := left(coalesce(h.patient_name, nullif(sd->>'patientName', ''), nullif(sd->>'name', '')),
                (lim->>'customer_name')::int);

    INSERT INTO voxbook.calls AS x (org_id, vapi_call_id, provider_call_sid, customer_phone, customer_name,
                                    started_at, ended_at, duration_seconds, ended_reason, transcript, summary,
                                    structured_data, success_evaluation, appointment_id, service_id,
                                    lead_score, score_reasons, is_hot)
    VALUES (o.id, call_key, provider_call_sid, coalesce(phone, h.patient_phone), who,
            started_at, ended_at, seconds, ended_reason, transcript, summary, sd, success_evaluation,
            appt.id, s.id, (scored->>'score')::int, scored->'reasons',
            (scored->>'score')::int >= o.hot_lead_threshold)
    ON CONFLICT ON CONSTRAINT calls_org_id_vapi_call_id_key DO NOTHING
    RETURNING x.* INTO rec;
    IF rec.id IS NULL THEN   -- a concurrent redelivery won the insert
        SELECT * INTO rec FROM voxbook.calls AS x WHERE x.org_id = o.id AND x.vapi_call_id = call_key;
        RETURN internal.call_json(rec) || jsonb_build_object('duplicate', true);
    END IF;

    IF rec.is_hot THEN
        INSERT INTO voxbook.hot_lead_alerts AS x (org_id, call_id, score)
        VALUES (o.id, rec.id, rec.lead_score)
        RETURNING x.* INTO alert;
        IF o.hot_lead_alert_phone IS NOT NULL THEN
            -- The booked time read first, not in a subquery of the expression below: internal.message reads
            -- a table and is not called per row of a query (on Citus that nests a distributed query).
            SELECT bh.starts_at INTO booked_at FROM voxbook.holds AS bh
             WHERE bh.org_id = appt.org_id AND bh.id = appt.hold_id;
            -- The owner reads the clinic's language, with dates as the clinic writes them (not the caller's).
            owner_tag := internal.clinic_locale(o.locale);
            -- left(..., 1600): sms_outbox.body's limit; the name is cut first so the alert stays readable.
            m := internal.queue_sms(o.id, 'hot_lead', o.hot_lead_alert_phone, left(internal.gsm7(internal.message(
                    'sms.hot_lead', owner_tag, jsonb_build_object(
                    'score', rec.lead_score,
                    'name', coalesce(left(who, (lim->>'alert_name')::int),
                                     internal.message('sms.hot_lead.unknown_caller', owner_tag)),
                    'phone', coalesce(internal.display_phone(rec.customer_phone, o.country),
                                      internal.message('sms.hot_lead.no_number', owner_tag)),
                    'service', coalesce(s.name, internal.message('sms.hot_lead.no_service', owner_tag)),
                    'outcome', CASE WHEN booked_at IS NOT NULL
                                    THEN internal.message('sms.hot_lead.booked', owner_tag,
                                                          internal.when_parts(booked_at, o.time_zone,
                                                                              internal.locale(owner_tag)))
                                    ELSE internal.message('sms.hot_lead.not_booked', owner_tag) END))), 1600));
            UPDATE voxbook.hot_lead_alerts AS x SET sms_id = m.id WHERE x.org_id = alert.org_id AND x.id = alert.id;
        END IF;
        -- On a single PostgreSQL only (internal.notify): on Citus the dashboard polls for new leads.
        PERFORM internal.notify('voxbook_hot_lead', jsonb_build_object('org_id', o.id, 'alert_id', alert.id)::text);
    END IF;
    RETURN internal.call_json(rec) || jsonb_build_object('duplicate', false, 'alert_id', alert.id,
                                                         'alert_sms_id', m.id);
END
$$;
COMMENT ON FUNCTION api.record_call_end(uuid, text, timestamptz, timestamptz, text, text, text, jsonb, text, text, text, int) IS
$$Stores a finished call once (call_id is Vapi's call.id; a redelivered report changes nothing and returns
"duplicate": true), scores it with api.score_lead (booked = an appointment confirmed on this call; service
from that appointment, the hold, or structured_data.service; sentiment from structured_data.sentiment)
and, at or above the clinic's hot_lead_threshold, creates one hot-lead alert, queues the owner's SMS to
hot_lead_alert_phone (in the clinic's language, its booked time as the clinic's locale writes it) and NOTIFYs channel voxbook_hot_lead (on a single PostgreSQL; on Citus listeners poll).
Returns {"success": true, "call_id", "vapi_call_id", "score", "reasons", "hot", "booked",
"appointment_id", "duplicate", "alert_id", "alert_sms_id"}.
A caller number that is not a phone number (withheld, 'anonymous') is stored as unknown.
The report is stored even when Vapi's fields are oversized: free text is cut to internal.call_field_limits()
(transcript 1,000,000 characters, summary 20,000, name, reason and evaluation 200), the owner's alert to one
SMS body (1,600), and a call_id over 200 characters is stored under its first 167 characters, '~' and its md5
(api.get_call finds it by the whole id).
Times out of range or an end before the start are stored as unknown (NULL), never refused.
Errors: VB404 unknown org; VB400 missing call_id, structured_data not an object.$$;


CREATE FUNCTION internal.call_json(c voxbook.calls) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('success', true, 'call_id', c.id, 'vapi_call_id', c.vapi_call_id,
                              'score', c.lead_score, 'reasons', c.score_reasons, 'hot', c.is_hot,
                              'booked', c.appointment_id IS NOT NULL, 'appointment_id', c.appointment_id,
                              'duration_seconds', c.duration_seconds)
$$;


CREATE FUNCTION api.get_call(org_id uuid, call_id text)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    rec voxbook.calls;
BEGIN
    PERFORM internal.require_org(org_id);
    SELECT * INTO rec FROM voxbook.calls AS x
     WHERE x.org_id = get_call.org_id AND x.vapi_call_id = internal.vapi_call_key(get_call.call_id);
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown call', 'call_id is Vapi''s call.id of a call whose end-of-call-report was recorded.');
    END IF;
    RETURN internal.call_json(rec) || jsonb_build_object(
        'customer_name', rec.customer_name, 'started_at', internal.utc_iso(rec.started_at),
        'ended_at', internal.utc_iso(rec.ended_at), 'ended_reason', rec.ended_reason,
        'summary', rec.summary, 'transcript', rec.transcript,
        'alert', (SELECT jsonb_build_object('alert_id', a.id, 'created_at', internal.utc_iso(a.created_at),
                                            'sms_id', a.sms_id, 'sms_status', m.status)
                    FROM voxbook.hot_lead_alerts AS a
                    LEFT JOIN voxbook.sms_outbox AS m ON m.org_id = a.org_id AND m.id = a.sms_id
                   WHERE a.org_id = rec.org_id AND a.call_id = rec.id));
END
$$;
COMMENT ON FUNCTION api.get_call(uuid, text) IS
$$A recorded call by call_id, Vapi's call.id (the whole id, however long): the fields of
api.record_call_end's result plus "customer_name", "started_at", "ended_at", "ended_reason", "summary",
"transcript" and "alert" ({"alert_id", "created_at", "sms_id", "sms_status"} or null). Errors: VB404 unknown org or call.
Example: SELECT api.get_call('a0000000-0000-0000-0000-000000000001', 'call-123');$$;
