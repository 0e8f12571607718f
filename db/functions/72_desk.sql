-- The front desk (issue 16): what staff do from the dashboard beyond booking, moving and cancelling (those are
-- api.book_for_patient, api.reschedule_appointment, api.cancel_appointment with staff_user): attendance, resending
-- a text that did not arrive, blocking local time, taking a patient off the waitlist, and the cheap change marker
-- the dashboard's live updates poll. Every change takes changed_by (the staff member's name) and is audited
-- (internal.audit, voxbook.audit_log). Migration 0031_front_desk_dashboard.sql.


-- == Attendance ==================================================================================

CREATE FUNCTION internal.attendance_json(a voxbook.appointments) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('attendance', a.attendance, 'attendance_at', internal.utc_iso(a.attendance_at),
                              'attendance_by', a.attendance_by)
$$;

CREATE FUNCTION api.mark_attendance(org_id uuid, appointment_id uuid, attendance text, changed_by text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    a voxbook.appointments := internal.lock_appointment(org_id, appointment_id, NULL);
    now_ts timestamptz := internal.clock();
    mark constant text := nullif(btrim(attendance), '');
    who constant text := internal.changed_by(changed_by);
    starts timestamptz;
    before jsonb;
BEGIN
    IF mark IS NOT NULL AND mark NOT IN ('arrived', 'no_show') THEN
        PERFORM internal.fail('VB400', 'attendance must be arrived, no_show or null',
                              'arrived: the patient is here; no_show: they did not come; null undoes the mark.');
    END IF;
    IF a.status <> 'confirmed' THEN
        PERFORM internal.fail('VB409', 'a cancelled appointment has no attendance', 'Mark only confirmed appointments.');
    END IF;
    SELECT h.starts_at INTO starts FROM voxbook.holds AS h WHERE h.org_id = a.org_id AND h.id = a.hold_id;
    -- Marked on the day (a patient may arrive early), never ahead of it; a no-show only once the time has come.
    IF mark IS NOT NULL AND (starts AT TIME ZONE o.time_zone)::date > (now_ts AT TIME ZONE o.time_zone)::date THEN
        PERFORM internal.fail('VB409', 'the appointment is on a later day', 'Mark attendance on the day of the appointment.');
    END IF;
    IF mark = 'no_show' AND starts > now_ts THEN
        PERFORM internal.fail('VB409', 'the appointment has not started yet', 'A patient is a no-show only once their time has come.');
    END IF;
    IF mark IS NOT DISTINCT FROM a.attendance THEN
        RETURN jsonb_build_object('success', true, 'appointment_id', a.id, 'changed', false) || internal.attendance_json(a);
    END IF;
    before := internal.attendance_json(a);
    UPDATE voxbook.appointments AS x
       SET attendance = mark,
           attendance_at = CASE WHEN mark IS NULL THEN NULL ELSE now_ts END,
           attendance_by = CASE WHEN mark IS NULL THEN NULL ELSE who END,
           updated_at = now_ts
     WHERE x.org_id = a.org_id AND x.id = a.id
    RETURNING x.* INTO a;
    PERFORM internal.audit(a.org_id, who, 'mark_attendance', 'appointment', a.id::text, before, internal.attendance_json(a));
    RETURN jsonb_build_object('success', true, 'appointment_id', a.id, 'changed', true) || internal.attendance_json(a);
END
$$;
COMMENT ON FUNCTION api.mark_attendance(uuid, uuid, text, text) IS
$$The front desk marks a confirmed appointment: attendance 'arrived' (from the appointment's local day on) or
'no_show' (once its time has come); NULL undoes the mark. Who and when are kept (appointments.attendance_by,
attendance_at) and the change is audited (voxbook.audit_log, action mark_attendance). The same mark again
changes nothing ("changed": false).
Returns {"success": true, "appointment_id", "changed", "attendance", "attendance_at" (UTC), "attendance_by"}.
Errors: VB404 unknown org or appointment (another clinic's included); VB400 an unknown mark; VB409 a cancelled
appointment, a mark ahead of the appointment's day, a no-show before its time.
Example: SELECT api.mark_attendance(:org, '<appointment_id>', 'arrived', changed_by => 'Ana');$$;


-- == Texts that did not arrive, and resending them =================================================

-- What a carrier's error code means, for people at the desk (Twilio's codes; others: NULL, the code is shown).
CREATE FUNCTION internal.sms_error_text(error_code text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN error_code = '30003' THEN 'the phone is off or out of reach'
                WHEN error_code = '30004' THEN 'the recipient or their carrier blocks messages'
                WHEN error_code = '30005' THEN 'the number does not exist or is no longer in service'
                WHEN error_code = '30006' THEN 'a landline, or a carrier that cannot receive texts'
                WHEN error_code = '30007' THEN 'filtered by the carrier as spam'
                WHEN error_code = '30008' THEN 'the carrier gave no reason'
                WHEN error_code IN ('30032', '30034') THEN 'the clinic''s sending number is not yet registered for texts'
                WHEN error_code = '21211' THEN 'the number is not a valid phone number'
                WHEN error_code = '21408' THEN 'texts to that country are not enabled for the clinic'
                WHEN error_code = '21610' THEN 'the patient replied STOP'
                WHEN error_code = '21612' THEN 'the carrier cannot route a text to that number'
                WHEN error_code = '21614' THEN 'the number cannot receive texts (not a mobile)'
                WHEN error_code IN ('20003', '20429', '30001', '30002') THEN 'the clinic''s SMS account could not send it'
           END
$$;

-- Why a message is what the desk sees (failed, undelivered, skipped): the carrier's error in words, else the
-- reason it was skipped, else the status.
CREATE FUNCTION internal.sms_problem_reason(m voxbook.sms_outbox) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(internal.sms_error_text(m.error_code), m.skip_reason, m.error_message,
                    CASE WHEN m.error_code IS NOT NULL THEN 'carrier error ' || m.error_code END,
                    CASE WHEN m.status = 'undelivered' THEN 'the carrier could not deliver it' END, m.status)
$$;

-- Why a message may not be resent now ({"code", "error"}), or NULL when it may. One rule for the list and the
-- resend. Reads tables: called from PL/pgSQL loops only (Citus).
CREATE FUNCTION internal.resend_refusal(m voxbook.sms_outbox, now_ts timestamptz) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    a voxbook.appointments;
    starts timestamptz;
BEGIN
    IF m.status NOT IN ('failed', 'undelivered', 'skipped') THEN
        RETURN jsonb_build_object('code', 'not_resendable', 'error', 'Only a failed, undelivered or skipped text is resent');
    END IF;
    IF m.kind = 'otp' THEN
        RETURN jsonb_build_object('code', 'not_resendable', 'error', 'A code is sent again by the caller''s assistant, not resent');
    END IF;
    IF EXISTS (SELECT 1 FROM voxbook.contacts AS ct
                WHERE ct.org_id = m.org_id AND ct.phone = m.recipient AND ct.sms_opted_out) THEN
        RETURN jsonb_build_object('code', 'opted_out', 'error', 'The patient replied STOP: no texts until they reply START');
    END IF;
    IF m.expires_at IS NOT NULL AND m.expires_at <= now_ts THEN
        RETURN jsonb_build_object('code', 'expired', 'error', 'The text was only useful until ' || internal.utc_iso(m.expires_at));
    END IF;
    IF m.appointment_id IS NOT NULL AND m.kind IN ('confirmation', 'reminder', 'reschedule', 'cancellation') THEN
        SELECT * INTO a FROM voxbook.appointments AS x WHERE x.org_id = m.org_id AND x.id = m.appointment_id;
        SELECT h.starts_at INTO starts FROM voxbook.holds AS h WHERE h.org_id = a.org_id AND h.id = a.hold_id;
        IF m.kind <> 'cancellation' AND a.status <> 'confirmed' THEN
            RETURN jsonb_build_object('code', 'cancelled', 'error', 'The appointment was cancelled since');
        END IF;
        IF starts <= now_ts THEN
            RETURN jsonb_build_object('code', 'past', 'error', 'The appointment has already started');
        END IF;
        -- Never a second copy: another text of this kind for the appointment is waiting or went out.
        IF EXISTS (SELECT 1 FROM voxbook.sms_outbox AS x
                    WHERE x.org_id = m.org_id AND x.appointment_id = m.appointment_id AND x.kind = m.kind
                      AND x.id <> m.id AND x.created_at >= m.created_at
                      AND x.status IN ('queued', 'sending', 'unknown', 'sent', 'delivered')) THEN
            RETURN jsonb_build_object('code', 'already_sent', 'error', 'A newer text of this kind is on its way or was sent');
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION internal.problem_sms_json(m voxbook.sms_outbox, o voxbook.organizations, loc jsonb,
                                          patient_name text, refusal jsonb, resend voxbook.sms_outbox)
    RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'message_id', m.id, 'kind', m.kind, 'status', m.status, 'error_code', m.error_code,
        'reason', internal.sms_problem_reason(m), 'skip_reason', m.skip_reason, 'attempts', m.attempts,
        'phone_masked', internal.mask_phone(m.recipient), 'appointment_id', m.appointment_id,
        'patient_name', patient_name, 'created_at', internal.utc_iso(m.created_at),
        'local_time', internal.local_text(m.created_at, o.time_zone, loc),
        'resent', CASE WHEN resend.id IS NOT NULL
                       THEN jsonb_build_object('message_id', resend.id, 'status', resend.status) END,
        'resendable', resend.id IS NULL AND refusal IS NULL,
        'not_resendable', CASE WHEN resend.id IS NULL THEN refusal END)
$$;

CREATE FUNCTION api.list_failed_sms(org_id uuid, days int DEFAULT 7, max_rows int DEFAULT 200)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    loc jsonb := internal.field_locale(o.locale);
    m voxbook.sms_outbox;
    resend voxbook.sms_outbox;
    patient text;
    result jsonb := '[]';
BEGIN
    IF days IS NULL OR days NOT BETWEEN 1 AND 90 THEN
        PERFORM internal.fail('VB400', 'days must be between 1 and 90', 'Leave it out for the last 7 days.');
    END IF;
    IF max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 1000 THEN
        PERFORM internal.fail('VB400', 'max_rows must be between 1 and 1000', 'Leave it out for 200.');
    END IF;
    -- A loop: internal.resend_refusal reads tables, never called per row of a query (Citus).
    FOR m IN SELECT * FROM voxbook.sms_outbox AS x
              WHERE x.org_id = o.id AND x.created_at >= now_ts - make_interval(days => days)
                AND x.status IN ('failed', 'undelivered', 'skipped')
              ORDER BY x.created_at DESC, x.id LIMIT max_rows
    LOOP
        SELECT * INTO resend FROM voxbook.sms_outbox AS x WHERE x.org_id = m.org_id AND x.resent_from = m.id;
        SELECT a.patient_name INTO patient FROM voxbook.appointments AS a
         WHERE a.org_id = m.org_id AND a.id = m.appointment_id;
        result := result || jsonb_build_array(internal.problem_sms_json(m, o, loc, patient,
                                                                         internal.resend_refusal(m, now_ts), resend));
        resend := NULL;
        patient := NULL;
    END LOOP;
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'messages', result);
END
$$;
COMMENT ON FUNCTION api.list_failed_sms(uuid, int, int) IS
$$The clinic's texts that did not arrive in the last `days` days (1-90, default 7), newest first, at most max_rows
(1-1000, default 200), for the front desk: status failed, undelivered or skipped, each with its carrier
"error_code" and "reason" in words (internal.sms_error_text: 30003 "the phone is off or out of reach", ...; else
why it was skipped), whether it may be resent ("resendable", else "not_resendable": {"code", "error"}) and its
resend if there is one. No bodies; phones masked.
Returns {"success": true, "org_id", "messages": [{"message_id", "kind", "status", "error_code", "reason",
"skip_reason", "attempts", "phone_masked", "appointment_id", "patient_name", "created_at", "local_time",
"resent": {"message_id", "status"} | null, "resendable", "not_resendable": {"code", "error"} | null}]}.
Errors: VB404 unknown org; VB400 days or max_rows out of range.
Example: SELECT api.list_failed_sms('a0000000-0000-0000-0000-000000000001');$$;


CREATE FUNCTION api.resend_sms(org_id uuid, message_id uuid, changed_by text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    who constant text := internal.changed_by(changed_by);
    m voxbook.sms_outbox;
    earlier voxbook.sms_outbox;
    fresh voxbook.sms_outbox;
    refused jsonb;
    body text;
    parts record;
    for_hold uuid;
    for_starts timestamptz;
BEGIN
    PERFORM internal.require(message_id, 'message_id');
    SELECT * INTO m FROM voxbook.sms_outbox AS x WHERE x.org_id = o.id AND x.id = resend_sms.message_id;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown message', 'Use a message_id from api.list_failed_sms for this clinic.');
    END IF;
    -- The appointment first, then the message: the order every appointment change locks in, so two desks
    -- resending at once (or a resend beside a move) take turns, and the second sees the first's text.
    IF m.appointment_id IS NOT NULL THEN
        PERFORM internal.lock_appointment(o.id, m.appointment_id, NULL);
    END IF;
    SELECT * INTO m FROM voxbook.sms_outbox AS x WHERE x.org_id = o.id AND x.id = resend_sms.message_id FOR UPDATE;
    SELECT * INTO earlier FROM voxbook.sms_outbox AS x WHERE x.org_id = m.org_id AND x.resent_from = m.id;
    IF FOUND THEN   -- resent once already: that text, not another
        RETURN jsonb_build_object('success', true, 'duplicate', true, 'message_id', earlier.id, 'resent_from', m.id,
                                  'kind', earlier.kind, 'status', earlier.status);
    END IF;
    refused := internal.resend_refusal(m, now_ts);
    IF refused IS NOT NULL THEN
        RETURN internal.refusal(refused->>'code', refused->>'error', jsonb_build_object('message_id', m.id));
    END IF;
    IF m.appointment_id IS NOT NULL AND m.kind IN ('confirmation', 'reminder', 'reschedule', 'cancellation') THEN
        -- Written again from the appointment as it is now (it may have moved since).
        body := internal.appointment_sms(m.kind, m.org_id, m.appointment_id);
        IF m.kind = 'reminder' THEN
            SELECT h.id, h.starts_at INTO for_hold, for_starts FROM voxbook.appointments AS a
              JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id
             WHERE a.org_id = m.org_id AND a.id = m.appointment_id;
        END IF;
    ELSE
        body := m.body;   -- an owner's alert or a notice: kept as it was (only codes are redacted)
    END IF;
    parts := internal.sms_parts(body);
    -- Inserted here rather than by internal.queue_sms, which cannot name resent_from: the row must carry it from
    -- the start (the unique index sms_outbox_resent_once is the "once", and keeps it out of the one-live-
    -- confirmation index). Opt-outs were refused above, and the worker checks them again before sending.
    INSERT INTO voxbook.sms_outbox AS x (org_id, kind, appointment_id, hold_id, recipient, sender, body,
                                         redact_after_send, encoding, segments, status, send_after, expires_at,
                                         resent_from, reminder_hold_id, reminder_starts_at)
    VALUES (m.org_id, m.kind, m.appointment_id, m.hold_id, m.recipient, o.sms_from, body, false,
            parts.encoding, parts.segments, 'queued', now_ts, m.expires_at, m.id, for_hold, for_starts)
    RETURNING x.* INTO fresh;
    PERFORM internal.notify('voxbook_sms');
    PERFORM internal.audit(m.org_id, who, 'resend_sms', 'sms', fresh.id::text, NULL,
                           jsonb_build_object('resent_from', m.id, 'kind', m.kind, 'appointment_id', m.appointment_id,
                                              'original_status', m.status, 'original_error_code', m.error_code));
    RETURN jsonb_build_object('success', true, 'duplicate', false, 'message_id', fresh.id, 'resent_from', m.id,
                              'kind', fresh.kind, 'status', fresh.status);
END
$$;
COMMENT ON FUNCTION api.resend_sms(uuid, uuid, text) IS
$$Staff resend a text that did not arrive (status failed, undelivered or skipped; see api.list_failed_sms): a new
message is queued (sms_outbox.resent_from = the old one) for the SMS worker, an appointment's text written again
from the appointment as it is now, any other (an owner's alert, a notice) with the same body. Once per message:
a second call returns the first resend ("duplicate": true). Never a second copy: refused while a newer text of
that kind for the appointment is queued or out. Audited (action resend_sms, entity sms).
Returns {"success": true, "duplicate", "message_id" (the new one), "resent_from", "kind", "status"} or
{"success": false, "code": "not_resendable" (a code, or a message that is not failed, undelivered or skipped)
| "opted_out" | "expired" | "cancelled" (the appointment) | "past" (it has started) | "already_sent", "error",
"message_id"}.
Errors: VB404 unknown org or message (another clinic's included); VB400 message_id missing.
Example: SELECT api.resend_sms(:org, '<message_id>', changed_by => 'Ana');$$;


-- == Blocking time by the clinic's clock ==========================================================

CREATE FUNCTION api.block_local_time(org_id uuid, calendar_id text, on_date date, from_time time DEFAULT NULL,
                                     to_time time DEFAULT NULL, reason text DEFAULT NULL, proceed boolean DEFAULT false,
                                     changed_by text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
BEGIN
    PERFORM internal.require_date(on_date, 'on_date');
    IF (from_time IS NULL) <> (to_time IS NULL) THEN
        PERFORM internal.fail('VB400', 'give both from_time and to_time, or neither (the whole day)',
                              'e.g. from_time => ''13:00'', to_time => ''17:00''.');
    END IF;
    IF from_time IS NOT NULL AND to_time <= from_time THEN
        PERFORM internal.fail('VB400', 'to_time must be after from_time', 'Local times of one day; 24:00 ends the day.');
    END IF;
    -- Local wall-clock times of the clinic's zone: DST days are 23 or 25 hours, midnight to midnight.
    RETURN api.block_time(o.id, calendar_id,
                          (on_date + coalesce(from_time, time '00:00'))::timestamp AT TIME ZONE o.time_zone,
                          CASE WHEN to_time IS NULL OR to_time = time '24:00'
                               THEN (on_date + 1)::timestamp AT TIME ZONE o.time_zone
                               ELSE (on_date + to_time)::timestamp AT TIME ZONE o.time_zone END,
                          reason, proceed, changed_by);
END
$$;
COMMENT ON FUNCTION api.block_local_time(uuid, text, date, time, time, text, boolean, text) IS
$$api.block_time by the clinic's clock: one provider's (calendar_id) or the whole clinic's (calendar_id NULL: a
closure) time off on on_date from from_time to to_time, local times of the clinic's zone; without times the whole
day, local midnight to midnight (so "close the clinic for a day" is calendar_id NULL and no times). Returns what
api.block_time returns, with its errors (VB409 bookings inside unless proceed; audited), and VB400 a missing or
out-of-range date, one time without the other, to_time not after from_time.
Example: SELECT api.block_local_time(:org, 'cal-smith', '2026-12-24', '13:00', '17:00', 'afternoon off', changed_by => 'Ana');
         SELECT api.block_local_time(:org, NULL, '2026-12-25', reason => 'Christmas', changed_by => 'Ana');$$;


-- == The waitlist, by staff =========================================================================

CREATE FUNCTION api.staff_remove_from_waitlist(org_id uuid, waitlist_id uuid, changed_by text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    before text;
    result jsonb;
BEGIN
    PERFORM internal.require_org(org_id);
    PERFORM internal.require(waitlist_id, 'waitlist_id');
    SELECT w.status INTO before FROM voxbook.waitlist AS w
     WHERE w.org_id = staff_remove_from_waitlist.org_id AND w.id = staff_remove_from_waitlist.waitlist_id FOR UPDATE;
    result := api.remove_from_waitlist(org_id, waitlist_id);   -- VB404 for an unknown entry
    PERFORM internal.audit(org_id, changed_by, 'remove_from_waitlist', 'waitlist', waitlist_id::text,
                           jsonb_build_object('status', before), jsonb_build_object('status', result->>'status'));
    RETURN result;
END
$$;
COMMENT ON FUNCTION api.staff_remove_from_waitlist(uuid, uuid, text) IS
$$api.remove_from_waitlist by a staff member: the same (status removed, its live offer ends; idempotent), and
audited with changed_by (entity waitlist) when it changed something.
Returns {"success": true, "waitlist_id", "status"}. Errors: VB404 unknown org or entry; VB400 waitlist_id missing.
Example: SELECT api.staff_remove_from_waitlist(:org, '<waitlist_id>', changed_by => 'Ana');$$;


-- == What changed: the dashboard's live updates ===================================================

-- The dashboard polls this every few seconds for each clinic with an open browser and pushes "schedule", "holds"
-- or "queues" when a marker differs from the last one (api/dashboard_events.py). No NOTIFY on the booking path:
-- a NOTIFY takes a lock at commit that serialises every committing transaction of the database.
CREATE FUNCTION api.dashboard_changes(org_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    newest timestamptz;
    appointments_mark text;
    blocks_mark text;
    hours_mark text;
    holds_mark text;
    callbacks int;
    inbox int;
    waiting int;
    problems int;
BEGIN
    -- Each one index probe or a clinic's few rows: appointments_changed (0031); the live holds by
    -- holds_live_expiry; blocks and exceptions are few; the queues' partial indexes of open rows.
    -- The newest change, and every row changed within 10 s before it, by content: a transaction that stamped its
    -- rows a moment before another's but committed after it (statement_timeout bounds that to seconds) still
    -- changes the marker, and rows leave the set only when a newer change comes (no change seen twice).
    SELECT max(a.updated_at) INTO newest FROM voxbook.appointments AS a WHERE a.org_id = o.id;
    SELECT newest || ':' || coalesce(md5(string_agg(concat_ws(',', a.id, a.updated_at, a.status, a.hold_id, a.attendance),
                                                   ';' ORDER BY a.id)), '')
      INTO appointments_mark
      FROM voxbook.appointments AS a WHERE a.org_id = o.id AND a.updated_at >= newest - interval '10 seconds';
    SELECT count(*) || ':' || coalesce(max(b.id), 0) || ':' || coalesce(sum(b.id), 0) INTO blocks_mark
      FROM voxbook.blocked_periods AS b WHERE b.org_id = o.id;
    SELECT count(*) || ':' || coalesce(md5(string_agg(e.id::text || e.on_date, ',' ORDER BY e.id)), '') INTO hours_mark
      FROM voxbook.hours_exceptions AS e WHERE e.org_id = o.id AND e.on_date >= (now_ts AT TIME ZONE o.time_zone)::date - 7;
    SELECT coalesce(md5(string_agg(h.id::text || coalesce(h.otp_sent_at::text, ''), ',' ORDER BY h.id)), '') INTO holds_mark
      FROM voxbook.holds AS h WHERE h.org_id = o.id AND h.status = 'held' AND h.expires_at > now_ts;
    SELECT count(*) INTO callbacks FROM voxbook.callback_requests AS r WHERE r.org_id = o.id AND r.status = 'open';
    SELECT count(*) INTO inbox FROM voxbook.sms_inbox AS i WHERE i.org_id = o.id AND i.status = 'open';
    SELECT count(*) INTO waiting FROM voxbook.waitlist AS w WHERE w.org_id = o.id AND w.status = 'waiting';
    SELECT count(*) INTO problems FROM voxbook.sms_outbox AS m
     WHERE m.org_id = o.id AND m.created_at >= now_ts - interval '7 days' AND m.status IN ('failed', 'undelivered')
       AND m.kind <> 'otp'   -- a code is never resent; skipped texts (opted out, appointment gone) need no one
       AND NOT EXISTS (SELECT 1 FROM voxbook.sms_outbox AS r WHERE r.org_id = m.org_id AND r.resent_from = m.id);
    RETURN jsonb_build_object(
        'success', true, 'org_id', o.id, 'server_time', internal.utc_iso(now_ts),
        'schedule', md5(concat_ws('|', appointments_mark, blocks_mark, hours_mark, holds_mark)),
        'holds', md5(holds_mark),
        'counts', jsonb_build_object('callbacks', callbacks, 'sms_inbox', inbox, 'waitlist', waiting,
                                     'failed_sms', problems),
        'queues', md5(concat_ws('|', callbacks, inbox, waiting, problems)));
END
$$;
COMMENT ON FUNCTION api.dashboard_changes(uuid) IS
$$Markers of what the dashboard shows, cheap enough to poll every few seconds per open clinic: "schedule" changes
when an appointment is booked, moved, cancelled or marked, a hold comes or goes, time is blocked or unblocked, or
a day's hours change; "holds" when the live holds change; "queues" when the counts change. Compare with the
previous answer; the values mean nothing else. "counts" are the open queues' sizes (the nav's badges).
Returns {"success": true, "org_id", "server_time", "schedule", "holds", "queues", "counts": {"callbacks",
"sms_inbox", "waitlist", "failed_sms" (failed or undelivered in the last 7 days, not a code, not resent)}}. Errors: VB404 unknown org.
Example: SELECT api.dashboard_changes('a0000000-0000-0000-0000-000000000001');$$;

-- The same markers for every clinic with an open stream, in one call: the dashboard's hub (api/dashboard_events.py)
-- asked api.dashboard_changes once per clinic every 2 s, 100 calls a second with 200 clinics open. Here each table is
-- read once for all of them (grouped by org_id: on Citus one query over the clinics' shards, read-only, pushed down
-- per shard), except each clinic's newest appointment change, one index probe per clinic (a grouped max would read
-- every appointment of every clinic; Citus pushes no LATERAL over a list of ids). Across clinics, so no org_id: not
-- delegated on Citus (db/README.md); for the server's own process, which checked each clinic's session itself.
-- The markers are computed exactly as api.dashboard_changes computes them (tests/pgtap/test_72_desk.sql compares).
CREATE FUNCTION api.dashboard_hub_changes(org_ids uuid[])
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    now_ts constant timestamptz := internal.clock();
    known uuid[];          -- the clinics that exist, in id order
    since date[];          -- per clinic (same order): the first day whose hours exceptions count
    newest timestamptz[] := '{}';   -- per clinic: its newest appointment change (NULL: none)
    one timestamptz;
    org uuid;
    appointments_marks jsonb;
    blocks_marks jsonb;
    hours_marks jsonb;
    holds_marks jsonb;
    callbacks jsonb;
    inbox jsonb;
    waiting jsonb;
    problems jsonb;
    a_mark text;
    h_mark text;
    q int[];
    clinics jsonb := '{}';
BEGIN
    IF org_ids IS NULL OR cardinality(org_ids) > 1000 THEN
        PERFORM internal.fail('VB400', 'org_ids must be an array of at most 1000 clinic ids',
                              'Pass the clinics with an open dashboard stream, in batches of 1000 at most.');
    END IF;
    SELECT array_agg(o.id ORDER BY o.id), array_agg((now_ts AT TIME ZONE o.time_zone)::date - 7 ORDER BY o.id)
      INTO known, since
      FROM voxbook.organizations AS o WHERE o.id = ANY (org_ids);
    IF known IS NULL THEN
        RETURN jsonb_build_object('success', true, 'server_time', internal.utc_iso(now_ts), 'clinics', clinics);
    END IF;
    FOREACH org IN ARRAY known LOOP
        SELECT max(a.updated_at) INTO one FROM voxbook.appointments AS a WHERE a.org_id = org;
        newest := newest || one;
    END LOOP;
    SELECT jsonb_object_agg(x.org_id, x.mark) INTO appointments_marks FROM (
        SELECT a.org_id, max(n.newest) || ':' || coalesce(md5(string_agg(
                   concat_ws(',', a.id, a.updated_at, a.status, a.hold_id, a.attendance), ';' ORDER BY a.id)), '') AS mark
          FROM unnest(known, newest) AS n(org_id, newest)
          JOIN voxbook.appointments AS a ON a.org_id = n.org_id AND a.updated_at >= n.newest - interval '10 seconds'
         GROUP BY a.org_id) AS x;
    SELECT jsonb_object_agg(x.org_id, x.mark) INTO blocks_marks FROM (
        SELECT b.org_id, count(*) || ':' || coalesce(max(b.id), 0) || ':' || coalesce(sum(b.id), 0) AS mark
          FROM voxbook.blocked_periods AS b WHERE b.org_id = ANY (known) GROUP BY b.org_id) AS x;
    SELECT jsonb_object_agg(x.org_id, x.mark) INTO hours_marks FROM (
        SELECT e.org_id, count(*) || ':' || coalesce(md5(string_agg(e.id::text || e.on_date, ',' ORDER BY e.id)), '') AS mark
          FROM unnest(known, since) AS n(org_id, since)
          JOIN voxbook.hours_exceptions AS e ON e.org_id = n.org_id AND e.on_date >= n.since
         GROUP BY e.org_id) AS x;
    SELECT jsonb_object_agg(x.org_id, x.mark) INTO holds_marks FROM (
        SELECT h.org_id, md5(string_agg(h.id::text || coalesce(h.otp_sent_at::text, ''), ',' ORDER BY h.id)) AS mark
          FROM voxbook.holds AS h WHERE h.org_id = ANY (known) AND h.status = 'held' AND h.expires_at > now_ts
         GROUP BY h.org_id) AS x;
    SELECT jsonb_object_agg(x.org_id, x.n) INTO callbacks FROM (
        SELECT r.org_id, count(*) AS n FROM voxbook.callback_requests AS r
         WHERE r.org_id = ANY (known) AND r.status = 'open' GROUP BY r.org_id) AS x;
    SELECT jsonb_object_agg(x.org_id, x.n) INTO inbox FROM (
        SELECT i.org_id, count(*) AS n FROM voxbook.sms_inbox AS i
         WHERE i.org_id = ANY (known) AND i.status = 'open' GROUP BY i.org_id) AS x;
    SELECT jsonb_object_agg(x.org_id, x.n) INTO waiting FROM (
        SELECT w.org_id, count(*) AS n FROM voxbook.waitlist AS w
         WHERE w.org_id = ANY (known) AND w.status = 'waiting' GROUP BY w.org_id) AS x;
    SELECT jsonb_object_agg(x.org_id, x.n) INTO problems FROM (
        SELECT m.org_id, count(*) AS n FROM voxbook.sms_outbox AS m
         WHERE m.org_id = ANY (known) AND m.created_at >= now_ts - interval '7 days'
           AND m.status IN ('failed', 'undelivered') AND m.kind <> 'otp'
           AND NOT EXISTS (SELECT 1 FROM voxbook.sms_outbox AS r WHERE r.org_id = m.org_id AND r.resent_from = m.id)
         GROUP BY m.org_id) AS x;
    -- A clinic without rows in a table gets what api.dashboard_changes gets over no rows.
    FOREACH org IN ARRAY known LOOP
        a_mark := appointments_marks->>org::text;
        h_mark := coalesce(holds_marks->>org::text, '');
        q := ARRAY[coalesce((callbacks->>org::text)::int, 0), coalesce((inbox->>org::text)::int, 0),
                   coalesce((waiting->>org::text)::int, 0), coalesce((problems->>org::text)::int, 0)];
        clinics := clinics || jsonb_build_object(org::text, jsonb_build_object(
            'org_id', org,
            'schedule', md5(concat_ws('|', a_mark, coalesce(blocks_marks->>org::text, '0:0:0'),
                                      coalesce(hours_marks->>org::text, '0:'), h_mark)),
            'holds', md5(h_mark),
            'counts', jsonb_build_object('callbacks', q[1], 'sms_inbox', q[2], 'waitlist', q[3], 'failed_sms', q[4]),
            'queues', md5(concat_ws('|', q[1], q[2], q[3], q[4]))));
    END LOOP;
    RETURN jsonb_build_object('success', true, 'server_time', internal.utc_iso(now_ts), 'clinics', clinics);
END
$$;
COMMENT ON FUNCTION api.dashboard_hub_changes(uuid[]) IS
$$For the dashboard's hub (the server's own process), not a page: api.dashboard_changes for many clinics in one call
-- it takes many because the hub polls every clinic with an open stream every few seconds, and one call for all
of them costs one round trip and one read of each table instead of one call per clinic. Each clinic's "schedule",
"holds", "queues" and "counts" are exactly api.dashboard_changes' for it. A clinic that does not exist is left out
(the hub forgets it). Returns {"success": true, "server_time", "clinics": {"<org_id>": {"org_id", "schedule",
"holds", "queues", "counts": {"callbacks", "sms_inbox", "waitlist", "failed_sms"}}}}.
Errors: VB400 org_ids NULL or more than 1000.
Example: SELECT api.dashboard_hub_changes(ARRAY['a0000000-0000-0000-0000-000000000001']::uuid[]);$$;


-- == The queues page: callers' numbers masked =====================================================

-- Screens are seen over shoulders (internal.mask_phone): the queues show each number masked, with "show"
-- (api.dashboard_reveal_phone by callback_request_id, inbox_id or waitlist_id) for the full one.
CREATE FUNCTION api.dashboard_queues(org_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    -- Each list read once into a variable (not per row of a query: Citus).
    callbacks constant jsonb := api.list_callback_requests(o.id)->'callback_requests';
    inbox constant jsonb := api.list_sms_inbox(o.id)->'items';
    waiting constant jsonb := api.list_waitlist(o.id)->'entries';
    item jsonb;
    masked text;
    callbacks_out jsonb := '[]';
    inbox_out jsonb := '[]';
    waiting_out jsonb := '[]';
BEGIN
    FOR item IN SELECT x FROM jsonb_array_elements(callbacks) AS x LOOP
        callbacks_out := callbacks_out || jsonb_build_array(item - 'phone' - 'phone_display'
            || jsonb_build_object('phone_masked', internal.mask_phone(item->>'phone')));
    END LOOP;
    FOR item IN SELECT x FROM jsonb_array_elements(inbox) AS x LOOP
        inbox_out := inbox_out || jsonb_build_array(item - 'phone' - 'phone_display'
            || jsonb_build_object('phone_masked', internal.mask_phone(item->>'phone')));
    END LOOP;
    -- The waitlist's list has the number as the clinic writes it only: masked from the row's E.164.
    FOR item IN SELECT x FROM jsonb_array_elements(waiting) AS x LOOP
        SELECT internal.mask_phone(w.phone) INTO masked FROM voxbook.waitlist AS w
         WHERE w.org_id = o.id AND w.id = (item->>'waitlist_id')::uuid;
        waiting_out := waiting_out || jsonb_build_array(item - 'phone' || jsonb_build_object('phone_masked', masked));
    END LOOP;
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'callback_requests', callbacks_out,
                              'inbox', inbox_out, 'waitlist', waiting_out);
END
$$;
COMMENT ON FUNCTION api.dashboard_queues(uuid) IS
$$The front desk's queues with callers' numbers masked: the open callback requests (api.list_callback_requests),
the open SMS replies (api.list_sms_inbox) and the waiting waitlist (api.list_waitlist), each item as those
functions give it but with "phone" (and "phone_display") replaced by "phone_masked" ("(***) ***-0001"; null: no
number). api.dashboard_reveal_phone(org_id, callback_request_id | inbox_id | waitlist_id => ...) gives one in full.
Returns {"success": true, "org_id", "callback_requests": [...], "inbox": [...], "waitlist": [...]}.
Errors: VB404 unknown org.
Example: SELECT api.dashboard_queues('a0000000-0000-0000-0000-000000000001');$$;


-- == Calendars: the CalDAV sync's health, for staff ================================================

-- An instant of a jsonb answer (UTC ISO text) as the clinic writes it; NULL stays NULL.
CREATE FUNCTION internal.local_text_iso(iso text, tz text, loc jsonb) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN iso IS NOT NULL THEN internal.local_text(iso::timestamptz, tz, loc) END
$$;

CREATE FUNCTION api.dashboard_calendars(org_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    loc constant jsonb := internal.field_locale(o.locale);
    connections constant jsonb := api.list_calendar_connections(o.id)->'connections';
    conflicts constant jsonb := api.list_calendar_conflicts(o.id)->'conflicts';
    c record;
    cc jsonb;
    k jsonb;
    providers jsonb := '[]';
    conflicts_out jsonb := '[]';
BEGIN
    FOR c IN SELECT x.id, x.display_name, x.active FROM voxbook.calendars AS x
              WHERE x.org_id = o.id ORDER BY x.display_name, x.id LOOP
        SELECT e INTO cc FROM jsonb_array_elements(connections) AS e WHERE e->>'calendar_id' = c.id;
        IF cc IS NOT NULL THEN
            cc := cc || jsonb_build_object(
                'local_last_success', internal.local_text_iso(cc->>'last_success_at', o.time_zone, loc),
                'local_last_attempt', internal.local_text_iso(cc->>'last_attempt_at', o.time_zone, loc),
                'local_next_attempt', internal.local_text_iso(cc->>'next_attempt_at', o.time_zone, loc),
                'local_connected_at', internal.local_text_iso(cc->>'connected_at', o.time_zone, loc));
        END IF;
        providers := providers || jsonb_build_array(jsonb_build_object(
            'calendar_id', c.id, 'provider', c.display_name, 'active', c.active, 'connection', cc));
        cc := NULL;
    END LOOP;
    FOR k IN SELECT x FROM jsonb_array_elements(conflicts) AS x LOOP
        conflicts_out := conflicts_out || jsonb_build_array(k || jsonb_build_object(
            'local_time', internal.local_text_iso(k->>'starts_at', o.time_zone, loc),
            'local_end', internal.local_clock((k->>'ends_at')::timestamptz, o.time_zone, loc),
            'local_busy_start', internal.local_text_iso(k->>'busy_starts_at', o.time_zone, loc),
            'local_busy_end', internal.local_text_iso(k->>'busy_ends_at', o.time_zone, loc)));
    END LOOP;
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'time_zone', o.time_zone, 'locale', o.locale,
                              'providers', providers, 'conflicts', conflicts_out);
END
$$;
COMMENT ON FUNCTION api.dashboard_calendars(uuid) IS
$$The dashboard's Calendars page: every provider of the clinic with its connected CalDAV calendar's health (or null:
not connected), and the conflicts (busy time in a provider's own calendar over a confirmed appointment; nothing
was cancelled, staff decide), times in the clinic's zone and locale.
Returns {"success": true, "org_id", "time_zone", "locale", "providers": [{"calendar_id", "provider", "active",
"connection": <an item of api.list_calendar_connections> + "local_last_success", "local_last_attempt",
"local_next_attempt", "local_connected_at" | null}], "conflicts": [<an item of api.list_calendar_conflicts, its
"local_time" in the clinic's locale> + "local_end", "local_busy_start", "local_busy_end"]}. Never the secret.
Errors: VB404 unknown org.
Example: SELECT api.dashboard_calendars('a0000000-0000-0000-0000-000000000001');$$;
