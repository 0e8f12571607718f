-- The message catalogue: every text a patient (or the clinic's owner) reads or hears -- SMS bodies, the
-- assistant's spoken lines, the refusal texts of the booking functions -- is a row of
-- voxbook.message_templates (migration 0015), rendered by internal.message(key, language, args).
-- The rows are written on every migrate, so the wording is versioned with the code: English here, each other
-- language in its own file (16_messages_es.sql). Adding a language is adding its file (a key it lacks falls
-- back to English). Dates and times come in as parts from internal.when_parts (17_locales.sql), in the
-- caller's locale, so a template places them and nobody splits a text again.
-- Placeholders are {name}: lower-case letters and underscores.

-- Fill a template of the catalogue (key: its name, for the error) with args' values in place of its
-- {placeholders}, in one pass: a value that itself contains '{...}' (a clinic's name) is not looked at again.
-- A placeholder args lacks is a bug in the caller: it raises (XX000) rather than send a text with a hole. A
-- JSON null value renders as nothing. A value ending in a full stop before the template's own ('10 a.m.' +
-- '.') gives one.
-- Every spoken line and SMS is rendered here, so it is written for the cost of one call (issue 18): one regular
-- expression splits the template around its placeholders, and each name is then read at the position the parts
-- give (parts[1], then '{name}', then parts[2], ...), with plain string functions -- no query (the
-- regexp_matches subquery it replaced was a statement to start in every rendering), and no work at all for a
-- template without a brace.
CREATE FUNCTION internal.fill_template(key text, template text, args jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    parts text[];
    pos int;
    len int;
    name text;
    val text;
    result text;
BEGIN
    IF strpos(template, '{') = 0 THEN
        RETURN template;
    END IF;
    parts := regexp_split_to_array(template, '\{[a-z_]+\}');
    result := parts[1];
    pos := length(parts[1]) + 1;                       -- where '{' of the next placeholder is
    FOR i IN 1 .. cardinality(parts) - 1 LOOP
        len := strpos(substr(template, pos), '}');      -- '{name}': the first '}' from pos closes it
        name := substr(template, pos + 1, len - 2);
        IF args IS NULL OR NOT args ? name THEN
            RAISE EXCEPTION USING ERRCODE = 'XX000',
                                  MESSAGE = format('message %L needs the argument %L', key, name),
                                  HINT = 'Pass every {placeholder} of the template in args.';
        END IF;
        val := args->>name;
        -- One full stop where a value ending in one ('10 a.m.') meets the template's ('... {times}.').
        result := result || coalesce(val, '')
                  || CASE WHEN right(val, 1) = '.' AND left(parts[i + 1], 1) = '.'
                          THEN substr(parts[i + 1], 2) ELSE parts[i + 1] END;
        pos := pos + len + length(parts[i + 1]);
    END LOOP;
    RETURN result;
END
$$;

-- The template of key for a language tag ('es-MX') and its base language ('es'): the tag's row, else the base
-- language's, else English; NULL when the catalogue has no such key. Picked by aggregates over the (at most
-- three) rows, not ORDER BY ... LIMIT 1: the same row without a sort to set up, which was most of the cost of a
-- spoken line (0.6 of ~1.1 M instructions per tool call under callgrind; bench/README.md, issue 18).
-- PL/pgSQL, not SQL: its query is planned once per session, where a SQL function's would be planned again in
-- every transaction that calls it (~0.25 M instructions more per line).
CREATE FUNCTION internal.template(key text, tag text, base text) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    found_template text;
BEGIN
    SELECT coalesce(max(m.template) FILTER (WHERE m.language = tag), max(m.template) FILTER (WHERE m.language = base),
                    max(m.template) FILTER (WHERE m.language = 'en'))
      INTO found_template
      FROM voxbook.message_templates AS m
     WHERE m.key = template.key AND m.language IN (tag, base, 'en');
    RETURN found_template;
END
$$;

-- Render the template of key in language (a language or a locale tag: 'es-MX' is looked up as 'es-MX', then
-- 'es', then English) with args (internal.fill_template). An unknown key is a bug in the caller: it raises
-- (XX000) rather than send a text with a hole.
CREATE FUNCTION internal.message(key text, language text, args jsonb DEFAULT '{}') RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    tag constant text := coalesce(message.language, 'en');
    base constant text := split_part(coalesce(message.language, 'en'), '-', 1);
    template text;
BEGIN
    template := internal.template(key, tag, base);
    IF template IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'XX000', MESSAGE = format('unknown message key %L', key),
                              HINT = 'Add it for ''en'' in db/functions/16_messages.sql.';
    END IF;
    RETURN internal.fill_template(key, template, args);
END
$$;

-- "a", "a or b", "a, b or c", in the language's words.
CREATE FUNCTION internal.or_list(items text[], language text) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN cardinality(items) <= 1 THEN coalesce(items[1], '')
                ELSE internal.message('list.or', language,
                                      jsonb_build_object('first', array_to_string(items[1:cardinality(items) - 1], ', '),
                                                         'last', items[cardinality(items)])) END
$$;

-- At most n (>= 2) of the items, spread evenly from the first to the last: what the assistant reads out
-- of a longer list. Position k / (n - 1) rounded half to even, as Python's round() did when this was there.
CREATE FUNCTION internal.spread(items text[], n int DEFAULT 3) RETURNS text[]
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN cardinality(items) <= n THEN items
                ELSE ARRAY(SELECT items[p + 1] FROM (
                               SELECT DISTINCT CASE WHEN 2 * (k % (n - 1)) = n - 1 AND (k / (n - 1)) % 2 = 0
                                                    THEN k / (n - 1)
                                                    ELSE round(k / (n - 1.0))::int END AS p
                                 FROM generate_series(0, n - 1) AS i,
                                      LATERAL (SELECT i * (cardinality(items) - 1) AS k) AS kk) AS x
                            ORDER BY p) END
$$;

-- The distinct non-empty values of a list, in their first order.
CREATE FUNCTION internal.distinct_texts(items text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY(SELECT v FROM unnest(items) WITH ORDINALITY AS x(v, i)
                  WHERE coalesce(v, '') <> '' GROUP BY v ORDER BY min(i))
$$;

-- The other times a refused claim or reschedule offers ("alternatives"), as the assistant says them:
-- the same provider's times bare, another provider's with the name. Each time in the locale loc when the
-- alternative has its instant ("time") and tz is known, else as the result says it.
-- PL/pgSQL: resolved when it runs, so it may use the formatters of 17_locales.sql.
CREATE FUNCTION internal.spoken_offer(result jsonb, language text, tz text DEFAULT NULL, loc jsonb DEFAULT NULL)
    RETURNS text
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN internal.or_list(ARRAY(
               SELECT CASE WHEN a->>'calendar_id' IS NOT DISTINCT FROM result->>'calendar_id' THEN t.spoken
                            ELSE internal.message('spoken.offer.with_provider', language,
                                                  jsonb_build_object('spoken_time', t.spoken,
                                                                     'provider', a->>'provider')) END
                 FROM jsonb_array_elements(coalesce(result->'alternatives', '[]')) WITH ORDINALITY AS x(a, i),
                      LATERAL (SELECT CASE WHEN tz IS NOT NULL AND loc IS NOT NULL AND a ? 'time'
                                           THEN internal.spoken_time((a->>'time')::timestamptz, tz, loc)
                                           ELSE a->>'spoken_time' END AS spoken) AS t
                ORDER BY i), language);
END
$$;

-- What the assistant says for the result of a tool function (its api name, e.g. 'claim_slot_atomic'), in
-- language (a locale tag such as 'es-MX': the caller's): a pure function of that result, so api.run_tool_call
-- stores it with the result and a redelivered call hears it again byte for byte. The line is
-- 'spoken.<function>.<outcome>' (outcome: 'success' or the refusal code), else 'spoken.<code>' (shared by
-- tools), else "Sorry, <the refusal's error>." (the error in the caller's language when the catalogue has
-- refusal.<code> in it). Times are said in the locale: from the result's instants ("time" of a slot or an
-- alternative, "starts_at") on the clock of its "time_zone", else of time_zone (the clinic's); a result
-- without either keeps its own texts ("local_time", "spoken_time").
CREATE FUNCTION internal.spoken_line(function_name text, result jsonb, language text, time_zone text DEFAULT NULL)
    RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    ok boolean := coalesce((result->>'success')::boolean, false);
    outcome text := CASE WHEN ok THEN 'success' ELSE result->>'code' END;
    tz constant text := coalesce(result->>'time_zone', spoken_line.time_zone);
    tag constant text := coalesce(spoken_line.language, 'en');
    -- en-US, the default, without reading a table (internal.field_locale does the same): a claim's line is said
    -- in it at most clinics, and the lookup was ~10 % of a tool call (bench/README.md, issue 18).
    loc constant jsonb := CASE WHEN tag = 'en-US' THEN internal.default_locale_formats() ELSE internal.locale(tag) END;
    base constant text := split_part(tag, '-', 1);
    args jsonb := jsonb_build_object('local_time', CASE WHEN tz IS NOT NULL AND result ? 'starts_at'
                                                        THEN internal.local_text((result->>'starts_at')::timestamptz, tz, loc)
                                                        ELSE result->>'local_time' END,
                                     'provider', result->>'provider',
                                     'code_length', result->>'code_length',
                                     'retries_left', result->>'retries_left', 'error', result->>'error');
    slots jsonb := coalesce(result->'slots', '[]');
    days text[];
    key_ text;
    template text;
    line text;
    refusal text;
BEGIN
    IF function_name = 'check_availability' THEN
        IF jsonb_array_length(slots) = 0 THEN
            RETURN internal.message('spoken.check_availability.none', language);
        END IF;
        days := internal.distinct_texts(ARRAY(
                    SELECT internal.local_day((s->>'time')::timestamptz, tz, loc)
                      FROM jsonb_array_elements(slots) WITH ORDINALITY AS x(s, i) ORDER BY i));
        IF cardinality(days) = 1 THEN
            line := internal.message('spoken.check_availability.one_day', language, jsonb_build_object(
                        'day', days[1],
                        'times', internal.or_list(internal.spread(internal.distinct_texts(ARRAY(
                                     SELECT CASE WHEN tz IS NOT NULL AND s ? 'time'
                                                 THEN internal.spoken_time((s->>'time')::timestamptz, tz, loc)
                                                 ELSE s->>'spoken_time' END
                                       FROM jsonb_array_elements(slots) WITH ORDINALITY AS x(s, i)
                                      ORDER BY i))), language)));
        ELSE
            line := internal.message('spoken.check_availability.days', language, jsonb_build_object(
                        'times', internal.or_list(internal.spread(internal.distinct_texts(ARRAY(
                                     SELECT CASE WHEN tz IS NOT NULL AND s ? 'time'
                                                 THEN internal.local_text((s->>'time')::timestamptz, tz, loc)
                                                 ELSE s->>'local_time' END
                                       FROM jsonb_array_elements(slots) WITH ORDINALITY AS x(s, i)
                                      ORDER BY i))), language)));
        END IF;
        -- The database says whether it left free times out (spread or max_slots).
        IF coalesce((result->>'more')::boolean, false) THEN
            line := line || ' ' || internal.message('spoken.check_availability.more', language);
        END IF;
        RETURN line;
    END IF;
    -- A caller's own appointments, listed (42_my_appointments.sql): the list is worded there.
    IF function_name IN ('find_my_appointments', 'cancel_my_appointment', 'reschedule_my_appointment')
       AND outcome IN ('success', 'ambiguous', 'not_found') AND result ? 'appointments' THEN
        RETURN internal.my_appointments_line(function_name, result, language, tz, loc);
    END IF;
    IF function_name = 'cancel_appointment' AND result->>'status' IS DISTINCT FROM 'cancelled' THEN
        outcome := CASE WHEN ok THEN NULL ELSE outcome END;   -- not cancelled: no success line
    END IF;
    IF outcome = 'slot_taken' THEN
        IF jsonb_array_length(coalesce(result->'alternatives', '[]')) = 0 THEN
            outcome := 'slot_taken.none';
        ELSE
            args := args || jsonb_build_object('offer', internal.spoken_offer(result, language, tz, loc));
        END IF;
    ELSIF outcome = 'wrong_code' AND result->>'retries_left' = '1' THEN
        outcome := 'wrong_code.one';
    END IF;
    -- The tool's own line, else the line shared by tools, each in the language's row, else its base
    -- language's, else English (internal.template: what internal.message picks for a key).
    key_ := 'spoken.' || function_name || '.' || outcome;
    template := internal.template(key_, tag, base);
    IF template IS NULL THEN
        key_ := 'spoken.' || outcome;
        template := internal.template(key_, tag, base);
    END IF;
    IF template IS NOT NULL THEN
        RETURN internal.fill_template(key_, template, args);
    END IF;
    IF coalesce(result->>'error', '') = '' THEN
        RETURN internal.message('spoken.failed', language);
    END IF;
    -- The functions word their refusals in English (their "error" is for the API too): a caller in another
    -- language hears refusal.<code> of the catalogue when it has one and the result fills its placeholders.
    IF base <> 'en' THEN
        SELECT m.template INTO refusal FROM voxbook.message_templates AS m
         WHERE m.key = 'refusal.' || outcome AND m.language IN (spoken_line.language, base)
         ORDER BY m.language = spoken_line.language DESC LIMIT 1;
        IF refusal IS NOT NULL AND NOT EXISTS (SELECT 1 FROM regexp_matches(refusal, '\{([a-z_]+)\}', 'g') AS x(m)
                                                WHERE NOT result ? x.m[1]) THEN
            args := args || jsonb_build_object('error', internal.message('refusal.' || outcome, language, result));
        END IF;
    END IF;
    RETURN internal.message('spoken.refused', language, args);
END
$$;


-- The English catalogue. Keys: sms.* (texts sent), spoken.* (the assistant's lines, per tool function and
-- outcome; see internal.spoken_line), refusal.* (the "error" of a refusal), list.* (joining words).
-- SMS templates stay in GSM-7 (one character outside it makes the whole SMS UCS-2, three times the cost);
-- patients' texts end with the STOP line.
CREATE TEMP TABLE messages_en (key text PRIMARY KEY, template text NOT NULL) ON COMMIT DROP;
INSERT INTO messages_en (key, template) VALUES
    -- SMS
    ('sms.otp', '{code} is your {clinic} code to confirm your appointment. It expires in {minutes} minutes.'),
    -- confirmation and reminder invite a reply that is no carrier keyword (C, R: 46_sms_replies.sql) and say how to
    -- cancel (a text CANCEL opts out at the carrier)
    ('sms.confirmation', 'Your appointment is confirmed: {local_time} with {provider}. {clinic}, {clinic_phone}. Reply C to confirm or R to reschedule. Call to cancel. Reply STOP to unsubscribe.'),
    ('sms.reminder', 'Reminder: your appointment is {local_time} with {provider}. {clinic}, {clinic_phone}. Reply C to confirm or R to reschedule. Call to cancel. Reply STOP to unsubscribe.'),
    -- answers to a patient's reply, and the front desk's copy of any other text (46_sms_replies.sql)
    ('sms.reply.confirmed', 'Thank you! See you {local_time} with {provider}. {clinic}'),
    ('sms.reply.reschedule', '{clinic} will call you within 1 business day to find a new time for your appointment on {local_time}. To cancel, call {clinic_phone}.'),
    ('sms.reply.reschedule_reason', 'Asked by text to reschedule the appointment on {local_time} with {provider}.'),
    ('sms.reply.no_appointment', '{clinic} found no upcoming appointment for this number. Please call {clinic_phone}.'),
    ('sms.reply.received', 'Thank you, {clinic} got your message and will reply soon. For anything urgent call {clinic_phone}.'),
    ('sms.reply.forward', '{clinic} TEXT from {name} {phone}: "{text}" (dashboard inbox)'),
    ('sms.cancellation', 'Your appointment on {local_time} with {provider} is cancelled. {clinic}, {clinic_phone}. Call to book again. Reply STOP to unsubscribe.'),
    ('sms.reschedule', 'Your appointment is moved to {local_time} with {provider}. {clinic}, {clinic_phone}. Call with questions. Reply STOP to unsubscribe.'),
    ('sms.for_patient', 'For {patient}: {text}'),   -- an appointment of another person on the same number
    ('sms.help', '{clinic}: appointment texts. Call {clinic_phone} for help. Reply STOP to unsubscribe.'),
    ('sms.hot_lead', 'HOT LEAD (score {score}): {name} {phone}. Service: {service}. {outcome}'),
    -- callback requests, to the front desk (52_front_desk.sql)
    ('sms.callback.transfer_failed', 'CALL BACK: {name} {phone}. A transfer to the front desk failed.'),
    ('sms.callback.after_hours', 'CALL BACK: {name} {phone} asked for a person while the clinic was closed.'),
    ('sms.callback.asked', 'CALL BACK: {name} {phone} asked for a person.'),
    ('sms.callback.reschedule_request', 'CALL BACK: {name} {phone} asked to reschedule.'),
    ('sms.callback.sms_reply', 'CALL BACK: {name} {phone} replied by text.'),
    ('sms.callback.failure', 'CALL BACK: {name} {phone}. The assistant could not finish their request.'),
    -- transfer_to_front_desk (api.front_desk_transfer)
    ('spoken.transfer.connecting', 'Let me connect you with the front desk. One moment, please.'),
    ('spoken.transfer.closed', 'The front desk is closed right now. I''ve asked them to call you back as soon as they open.'),
    ('spoken.transfer.no_front_desk', 'I can''t transfer calls here, but I''ve asked the front desk to call you back.'),
    ('sms.hot_lead.booked', 'Booked {local_time}.'),
    ('sms.hot_lead.not_booked', 'Not booked: call back soon.'),
    ('sms.hot_lead.unknown_caller', 'Unknown caller'),
    ('sms.hot_lead.no_number', 'no number'),
    ('sms.hot_lead.no_service', 'not stated'),
    ('sms.waitlist_offer', '{clinic}: a time opened up: {local_time} with {provider}. Reply BOOK or 1 within {minutes} minutes to take it. Reply STOP to unsubscribe.'),
    ('sms.waitlist_gone', '{clinic}: sorry, {local_time} was just taken. You stay on the waitlist; we will text you if another time opens.'),
    ('sms.waitlist_expired', '{clinic}: sorry, the offer of {local_time} has ended. You stay on the waitlist; we will text you if another time opens.'),
    -- joining words
    ('list.or', '{first} or {last}'),
    -- refusals (the "error" of {"success": false, "code", "error"})
    ('refusal.slot_taken', 'Slot already held'),
    ('refusal.slot_taken.reschedule', 'That time is already taken; the appointment keeps its time'),
    ('refusal.already_confirmed', 'Hold is already an appointment'),
    ('refusal.hold_expired', 'Hold has expired or was released; reserve the time again'),
    ('refusal.not_verified', 'The caller has not confirmed the one-time code yet'),
    ('refusal.service_mismatch', 'The reserved time is {held_minutes} minutes but {service} takes {service_minutes} minutes; reserve a time for that service'),
    ('refusal.codes_unavailable', 'Text-message codes are not available right now; the front desk can confirm the booking'),
    ('refusal.rate_limited.send', 'Too many codes were requested for this number; please try again later'),
    ('refusal.rate_limited.failure', 'Too many wrong codes were entered for this number; please try again later'),
    ('refusal.destination_not_allowed', 'This clinic can only text numbers in its own country'),
    ('refusal.resend_limit', 'Too many codes sent for this booking'),
    ('refusal.no_code', 'No code has been sent for this booking yet'),
    ('refusal.malformed_code', 'The code is the digits from the text message'),
    ('refusal.attempts_exhausted', 'Incorrect code, and no attempts are left; the time was released'),
    ('refusal.wrong_code', 'Incorrect code'),
    ('refusal.opted_out', 'This number has opted out of text messages (replied STOP)'),
    ('refusal.undelivered', 'The confirmation text could not be delivered'),
    ('refusal.cancelled', 'The appointment is cancelled'),
    ('refusal.cancelled.reschedule', 'The appointment is cancelled; book a new one'),
    ('refusal.within_notice', 'The appointment is less than {notice_hours} hours away, too close to change it by phone; the front desk can still help'),
    ('spoken.within_notice', 'That appointment is too close to change on this call; the front desk can still help you with it.'),
    -- spoken lines: any tool
    ('spoken.failed', 'Sorry, that did not work.'),
    ('spoken.refused', 'Sorry, {error}.'),
    ('spoken.offer.with_provider', '{spoken_time} with {provider}'),
    ('spoken.rate_limited', 'I can''t send or check another code for this number right now. Let me have the front desk call you back to finish the booking.'),
    ('spoken.destination_not_allowed', 'I can only text numbers in this clinic''s country. Do you have a local mobile number I can use?'),
    ('spoken.codes_unavailable', 'I can''t send codes at the moment. Let me have the front desk call you back to finish the booking.'),
    -- spoken lines: check_availability
    ('spoken.check_availability.none', 'Sorry, nothing is free then. Shall I check another day?'),
    ('spoken.check_availability.one_day', 'On {day} we have {times}.'),
    ('spoken.check_availability.days', 'The openings include {times}.'),
    ('spoken.check_availability.more', 'There are other times too, if none of those suits.'),
    -- claim_slot_atomic (the reserve_atomic tool)
    ('spoken.claim_slot_atomic.success', 'I''ve held {local_time} with {provider} for you.'),
    ('spoken.claim_slot_atomic.slot_taken', 'That time was just taken; I can offer {offer}.'),
    ('spoken.claim_slot_atomic.slot_taken.none', 'That time was just taken, and nothing else is free that day. Shall I check another day?'),
    -- send_otp_code
    ('spoken.send_otp_code.success', 'I''ve just texted you a {code_length}-digit code. Please read it to me.'),
    ('spoken.send_otp_code.hold_expired', 'Sorry, the hold on that time ran out. Let me check it again for you.'),
    ('spoken.send_otp_code.resend_limit', 'I can''t send another code for this booking. I''ll have the front desk call you back to finish the booking.'),
    ('spoken.send_otp_code.opted_out', 'Your number has opted out of our texts, so I can''t send a code. I''ll have the front desk call you back to finish the booking.'),
    -- verify_otp
    ('spoken.verify_otp.success', 'Perfect! You''re booked for {local_time} with {provider}.'),
    ('spoken.verify_otp.wrong_code', 'That''s not quite right. You have {retries_left} more tries.'),
    ('spoken.verify_otp.wrong_code.one', 'That''s not quite right. You have {retries_left} more try.'),
    ('spoken.verify_otp.attempts_exhausted', 'That code didn''t match and there are no tries left, so the time was released. Shall we pick a time again?'),
    ('spoken.verify_otp.hold_expired', 'Sorry, the hold on that time ran out. Shall we pick a time again?'),
    ('spoken.verify_otp.no_code', 'I haven''t sent you a code yet. Let me do that now.'),
    ('spoken.verify_otp.malformed_code', 'The code is the digits in the text message I sent you.'),
    ('spoken.verify_otp.service_mismatch', 'That service takes a different length of time than the one I held, so let me find a time for it again.'),
    -- send_confirmation_sms
    ('spoken.send_confirmation_sms.success', 'Perfect! Check your text for the details.'),
    ('spoken.send_confirmation_sms.opted_out', 'Your booking is confirmed; your number has opted out of texts, so no message will come.'),
    ('spoken.send_confirmation_sms.cancelled', 'That appointment has been cancelled.'),
    -- cancel_appointment
    ('spoken.cancel_appointment.success', 'Your appointment on {local_time} is cancelled.'),
    -- reschedule_appointment
    ('spoken.reschedule_appointment.success', 'Done: your appointment is now {local_time} with {provider}.'),
    ('spoken.reschedule_appointment.slot_taken', 'That time was just taken, so your appointment stays as it was; I can offer {offer}.'),
    ('spoken.reschedule_appointment.slot_taken.none', 'That time was just taken, so your appointment stays as it was. Shall I check another day?'),
    -- join_waitlist
    ('spoken.join_waitlist.success', 'You''re on the waitlist. If a time opens up, we''ll text you, and you can reply BOOK to take it.'),
    ('spoken.join_waitlist.phone_needed', 'I can''t see the number you''re calling from, and the waitlist texts that number, so I can''t add you. Please call again from your mobile phone.'),
    -- returning callers (42_my_appointments.sql): find_my_appointments, cancel_my_appointment, reschedule_my_appointment
    ('sms.caller_code', '{code} is your {clinic} code to manage your appointments by phone. It expires in {minutes} minutes.'),
    ('refusal.phone_needed', 'The caller''s number is withheld; ask which phone number the appointments are under'),
    ('refusal.verification_required', 'This call has not proven that number yet; call find_my_appointments with the phone to text it a code'),
    ('refusal.verification_required.sent', 'A code was texted to that number if it has appointments here; call find_my_appointments again with the code the caller reads back'),
    ('refusal.code_expired', 'The code has expired; ask for a new one'),
    ('refusal.attempts_exhausted.caller', 'Too many wrong codes; a new code can be texted'),
    ('refusal.no_appointments', 'There are no upcoming appointments under this number'),
    ('refusal.my_appointment_not_found', 'No upcoming appointment of this number matches; its appointments are listed'),
    ('refusal.my_appointment_ambiguous', 'Several appointments match; ask the caller which one'),
    ('spoken.my_appointment', '{local_time} with {provider}'),
    ('spoken.my_appointments.ambiguous', 'Which one do you mean: {appointments}?'),
    ('spoken.my_appointments.not_found', 'I don''t see an appointment then. Did you mean {appointments}?'),
    ('spoken.phone_needed', 'I can''t see the number you''re calling from. Which phone number are your appointments under?'),
    ('spoken.verification_required', 'Before I change anything, I need to confirm that number with a code by text.'),
    ('spoken.no_appointments', 'I don''t see any upcoming appointments under that number.'),
    ('spoken.code_expired', 'That code has expired. Shall I text you a new one?'),
    ('spoken.find_my_appointments.none', 'I don''t see any upcoming appointments under that number.'),
    ('spoken.find_my_appointments.one', 'You have one upcoming appointment: {appointments}.'),
    ('spoken.find_my_appointments.success', 'You have {count} upcoming appointments: {appointments}.'),
    ('spoken.find_my_appointments.verification_required', 'I''ve texted a {code_length}-digit code to that number, if it has appointments with us. Please read it to me.'),
    ('spoken.find_my_appointments.wrong_code', 'That''s not quite right. You have {retries_left} more tries.'),
    ('spoken.find_my_appointments.wrong_code.one', 'That''s not quite right. You have {retries_left} more try.'),
    ('spoken.find_my_appointments.attempts_exhausted', 'That code didn''t match and there are no tries left. I can text you a new one.'),
    ('spoken.find_my_appointments.no_code', 'I haven''t texted you a code yet. Let me do that now.'),
    ('spoken.find_my_appointments.malformed_code', 'The code is the digits in the text message I sent you.'),
    ('spoken.find_my_appointments.resend_limit', 'I can''t send another code to that number on this call.'),
    ('spoken.cancel_my_appointment.success', 'Your appointment on {local_time} is cancelled.'),
    ('spoken.reschedule_my_appointment.success', 'Done: your appointment is now {local_time} with {provider}.'),
    ('spoken.reschedule_my_appointment.slot_taken', 'That time was just taken, so your appointment stays as it was; I can offer {offer}.'),
    ('spoken.reschedule_my_appointment.slot_taken.none', 'That time was just taken, so your appointment stays as it was. Shall I check another day?');

INSERT INTO voxbook.message_templates AS t (language, key, template)
SELECT 'en', m.key, m.template FROM messages_en AS m
    ON CONFLICT (language, key) DO UPDATE SET template = excluded.template
 WHERE t.template IS DISTINCT FROM excluded.template;
-- A key no longer listed is gone in every language: nothing may render it any more. The keys as a value, not a
-- subquery on the temp table: on Citus, where message_templates is a reference table, a DELETE may not read a
-- local table.
DO $$
DECLARE
    keys CONSTANT text[] := ARRAY(SELECT m.key FROM messages_en AS m);
BEGIN
    DELETE FROM voxbook.message_templates AS t WHERE NOT t.key = ANY (keys);
END
$$;
DROP TABLE messages_en;
