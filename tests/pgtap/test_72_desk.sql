-- The front desk (issue 16, db/functions/72_desk.sql): attendance, resending a text that did not arrive, blocking
-- local time and closing the clinic for a day, taking a patient off the waitlist, the change marker of the live
-- updates, and the schedule's new keys (70_dashboard.sql). Happy paths, bad input (a clear error, no change),
-- another clinic's ids (VB404), the audit. Set-up as the owner, the api calls as the API role.
BEGIN;
SELECT plan(100);

SELECT tests.freeze_time('2030-01-14 15:00:00+00');   -- Monday, 10:00 in New York
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Desk Clinic') AS org, tests.create_clinic('Other Clinic') AS other;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

-- One statement per booking: on Citus each api call is then planned (and delegated) on its own.
CREATE TEMP TABLE appt (k text, j jsonb);
INSERT INTO appt SELECT 'today', api.book_for_patient((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-14 11:00'),
                                        'cleaning', 'Ann Lee', '(555) 404-0001', staff_user => 'Rita');
INSERT INTO appt SELECT 'later', api.book_for_patient((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-16 10:00'),
                                        'cleaning', 'Bo Diaz', '(555) 404-0002', staff_user => 'Rita');
INSERT INTO appt SELECT 'undelivered', api.book_for_patient((SELECT org FROM ctx), 'cal-b', tests.at((SELECT org FROM ctx), '2030-01-16 10:00'),
                                        'consultation', 'Cy Ode', '(555) 404-0003', staff_user => 'Rita');
INSERT INTO appt SELECT 'requeued', api.book_for_patient((SELECT org FROM ctx), 'cal-b', tests.at((SELECT org FROM ctx), '2030-01-16 14:00'),
                                        'consultation', 'Di Eck', '(555) 404-0004', staff_user => 'Rita');
INSERT INTO appt SELECT 'resend', api.book_for_patient((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-16 15:00'),
                                        'cleaning', 'Ann Lee', '(555) 404-0001', staff_user => 'Rita');
SELECT is((SELECT count(*)::int FROM appt WHERE (j->>'success')::boolean), 5, 'five appointments booked by staff');
CREATE TEMP TABLE ids AS
    SELECT max((j->>'appointment_id')::text) FILTER (WHERE k = 'today')::uuid AS today,
           max((j->>'appointment_id')::text) FILTER (WHERE k = 'later')::uuid AS later,
           max((j->>'appointment_id')::text) FILTER (WHERE k = 'undelivered')::uuid AS undelivered,
           max((j->>'appointment_id')::text) FILTER (WHERE k = 'requeued')::uuid AS requeued,
           max((j->>'appointment_id')::text) FILTER (WHERE k = 'resend')::uuid AS resend
      FROM appt;

-- ---- attendance ----
SELECT throws_ok(format('SELECT api.mark_attendance(%L, %L, %L, %L)', (SELECT org FROM ctx), (SELECT later FROM ids), 'arrived', 'Ana'),
                 'VB409', 'the appointment is on a later day', 'no attendance ahead of the appointment''s day');
SELECT throws_ok(format('SELECT api.mark_attendance(%L, %L, %L, %L)', (SELECT org FROM ctx), (SELECT today FROM ids), 'no_show', 'Ana'),
                 'VB409', 'the appointment has not started yet', 'no no-show before the time has come');
SELECT throws_ok(format('SELECT api.mark_attendance(%L, %L, %L, %L)', (SELECT org FROM ctx), (SELECT today FROM ids), 'late', 'Ana'),
                 'VB400', 'attendance must be arrived, no_show or null', 'an unknown mark is refused');
SELECT throws_ok(format('SELECT api.mark_attendance(%L, %L, %L, %L)', (SELECT other FROM ctx), (SELECT today FROM ids), 'arrived', 'Ana'),
                 'VB404', 'unknown appointment', 'another clinic cannot mark this clinic''s appointment');
SELECT throws_ok(format('SELECT api.mark_attendance(%L, NULL, %L, %L)', (SELECT org FROM ctx), 'arrived', 'Ana'),
                 'VB400', 'appointment_id is required', 'an appointment is required');
SELECT is(api.mark_attendance((SELECT org FROM ctx), (SELECT today FROM ids), 'arrived', 'Ana')->>'attendance', 'arrived',
          'the patient arrived early, on the day');
SELECT is(api.mark_attendance((SELECT org FROM ctx), (SELECT today FROM ids), 'arrived', 'Bob')->>'changed', 'false',
          'the same mark again changes nothing');
SELECT tests.freeze_time('2030-01-14 17:00:00+00');   -- 12:00 in New York
SELECT is(api.mark_attendance((SELECT org FROM ctx), (SELECT today FROM ids), 'no_show', 'Bob')->>'attendance_by', 'Bob',
          'once the time has come a no-show is marked, by whom');
SELECT is(api.mark_attendance((SELECT org FROM ctx), (SELECT today FROM ids), NULL, 'Bob')->>'attendance', NULL,
          'and the mark can be undone');
RESET ROLE;
SELECT is((SELECT a.attendance IS NULL AND a.attendance_at IS NULL AND a.attendance_by IS NULL FROM voxbook.appointments AS a
            WHERE a.id = (SELECT today FROM ids)), true, 'undone: nothing left on the appointment');
SELECT is((SELECT array_agg(l.changed_by || ':' || coalesce(l.after->>'attendance', '-') ORDER BY l.at, l.after->>'attendance' NULLS LAST)
             FROM voxbook.audit_log AS l WHERE l.org_id = (SELECT org FROM ctx) AND l.action = 'mark_attendance'),
          ARRAY['Ana:arrived', 'Bob:no_show', 'Bob:-'], 'each mark is audited with the staff name (not the repeat)');
SET LOCAL ROLE voxbook_api;
SELECT is(api.mark_attendance((SELECT org FROM ctx), (SELECT today FROM ids), 'arrived', 'Ana')->>'changed', 'true', 'marked again');
SELECT is((SELECT e->>'attendance' || '/' || (e->>'attendance_by')
             FROM jsonb_path_query(api.dashboard_schedule((SELECT org FROM ctx), '2030-01-14', 1),
                                   '$.days[0].providers[*].entries[*] ? (@.kind == "appointment")') AS e),
          'arrived/Ana', 'the schedule shows the attendance and who marked it');
SELECT is(api.cancel_appointment((SELECT later FROM ids), (SELECT org FROM ctx), 'moved away', staff_user => 'Ana')->>'status',
          'cancelled', 'an appointment is cancelled');
SELECT throws_ok(format('SELECT api.mark_attendance(%L, %L, %L, %L)', (SELECT org FROM ctx), (SELECT later FROM ids), NULL, 'Ana'),
                 'VB409', 'a cancelled appointment has no attendance', 'a cancelled appointment takes no mark');

-- ---- texts that did not arrive, and resending them ----
RESET ROLE;
-- Outbox rows changed as the worker would have, by values (Citus routes them by org_id); a TAP comment.
CREATE FUNCTION pg_temp.outbox_set(org uuid, assignments text, condition text, x uuid DEFAULT NULL) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('UPDATE voxbook.sms_outbox AS m SET %s WHERE m.org_id = $1 AND %s', assignments, condition) USING org, x;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN format('# %s texts: %s', n, assignments);
END $$;
-- queued "now" by the frozen clock: the list reads the last 7 days of it
SELECT pg_temp.outbox_set((SELECT org FROM ctx), $$created_at = '2030-01-14 15:00:00+00'$$, 'true');
SELECT pg_temp.outbox_set((SELECT org FROM ctx), $$status = 'failed', error_code = '30003', error_message = 'Unreachable destination handset'$$,
                          $$m.appointment_id = $2 AND m.kind = 'confirmation'$$, (SELECT resend FROM ids));
SELECT pg_temp.outbox_set((SELECT org FROM ctx), $$status = 'undelivered', error_code = '30005'$$,
                          $$m.appointment_id = $2 AND m.kind = 'confirmation'$$, (SELECT undelivered FROM ids));
SELECT pg_temp.outbox_set((SELECT org FROM ctx), $$status = 'failed', error_code = '30008'$$,
                          $$m.appointment_id = $2 AND m.kind = 'confirmation'$$, (SELECT requeued FROM ids));
CREATE TEMP TABLE msg (resend uuid, undelivered uuid, requeued uuid);   -- the first confirmation of each
INSERT INTO msg VALUES (NULL, NULL, NULL);
UPDATE msg SET resend = (SELECT m.id FROM voxbook.sms_outbox AS m WHERE m.appointment_id = (SELECT resend FROM ids) AND m.kind = 'confirmation');
UPDATE msg SET undelivered = (SELECT m.id FROM voxbook.sms_outbox AS m
                               WHERE m.appointment_id = (SELECT undelivered FROM ids) AND m.kind = 'confirmation');
UPDATE msg SET requeued = (SELECT m.id FROM voxbook.sms_outbox AS m WHERE m.appointment_id = (SELECT requeued FROM ids) AND m.kind = 'confirmation');
GRANT SELECT ON msg TO voxbook_api;
SET LOCAL ROLE voxbook_api;
-- the desk asked the old way for the failed confirmation of "requeued": a new one is queued already
SELECT is(api.send_confirmation_sms((SELECT requeued FROM ids), (SELECT org FROM ctx))->>'status', 'queued',
          'a confirmation queued again through send_confirmation_sms');
RESET ROLE;
SELECT pg_temp.outbox_set((SELECT org FROM ctx), $$created_at = '2030-01-14 15:00:01+00'$$,
                          $$m.appointment_id = $2 AND m.kind = 'confirmation' AND m.status = 'queued'$$, (SELECT requeued FROM ids));
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE failed AS SELECT api.list_failed_sms((SELECT org FROM ctx)) AS j;
SELECT is((SELECT e->>'reason' FROM failed, jsonb_array_elements(j->'messages') AS e WHERE e->>'message_id' = (SELECT resend FROM msg)::text),
          'the phone is off or out of reach', 'a failed text is listed with the carrier''s error in words');
SELECT is((SELECT e->>'error_code' || ' ' || (e->>'resendable') FROM failed, jsonb_array_elements(j->'messages') AS e
            WHERE e->>'message_id' = (SELECT resend FROM msg)::text), '30003 true', '... its code, and that it may be resent');
SELECT is((SELECT e#>>'{not_resendable,code}' FROM failed, jsonb_array_elements(j->'messages') AS e
            WHERE e->>'message_id' = (SELECT requeued FROM msg)::text), 'already_sent',
          'one whose appointment has a newer confirmation on its way may not be resent');
SELECT is((SELECT count(*)::int FROM failed, jsonb_array_elements(j->'messages') AS e WHERE e ? 'body'), 0, 'no bodies listed');
SELECT is(jsonb_array_length(api.list_failed_sms((SELECT other FROM ctx))->'messages'), 0, 'another clinic sees none of them');
SELECT throws_ok(format('SELECT api.list_failed_sms(%L, 0)', (SELECT org FROM ctx)), 'VB400', NULL, 'days out of range is refused');

CREATE TEMP TABLE resent AS SELECT api.resend_sms((SELECT org FROM ctx), (SELECT resend FROM msg), 'Ana') AS j;
SELECT is((SELECT j->>'success' || ' ' || (j->>'duplicate') || ' ' || (j->>'status') FROM resent), 'true false queued',
          'staff resend a failed confirmation: a new text is queued');
SELECT is(api.resend_sms((SELECT org FROM ctx), (SELECT resend FROM msg), 'Bob')->>'message_id', (SELECT j->>'message_id' FROM resent),
          'resending it again returns the first resend');
SELECT is(api.resend_sms((SELECT org FROM ctx), (SELECT resend FROM msg), 'Bob')->>'duplicate', 'true', '... as a duplicate');
SELECT is(api.resend_sms((SELECT org FROM ctx), (SELECT undelivered FROM msg), 'Ana')->>'status', 'queued',
          'an undelivered confirmation is resent too (the one-live-confirmation index leaves resends out)');
SELECT is(api.resend_sms((SELECT org FROM ctx), (SELECT requeued FROM msg), 'Ana')->>'code', 'already_sent',
          'never a second copy beside a confirmation already on its way');
SELECT throws_ok(format('SELECT api.resend_sms(%L, %L, %L)', (SELECT other FROM ctx), (SELECT undelivered FROM msg), 'Ana'),
                 'VB404', 'unknown message', 'another clinic cannot resend this clinic''s text');
SELECT throws_ok(format('SELECT api.resend_sms(%L, NULL, %L)', (SELECT org FROM ctx), 'Ana'),
                 'VB400', 'message_id is required', 'a message is required');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM voxbook.sms_outbox AS m WHERE m.resent_from = (SELECT resend FROM msg)), 1,
          'one resend in the outbox, whatever the clicks');
SELECT is((SELECT m.kind || ' ' || m.recipient || ' ' || m.status FROM voxbook.sms_outbox AS m WHERE m.resent_from = (SELECT resend FROM msg)),
          'confirmation +15554040001 queued', 'the resend is a confirmation to the patient, queued for the worker');
SELECT ok((SELECT m.body LIKE '%3:00 PM%' FROM voxbook.sms_outbox AS m WHERE m.resent_from = (SELECT resend FROM msg)),
          'written from the appointment (its time)');
SELECT is((SELECT l.changed_by || ' ' || l.entity || ' ' || (l.after->>'resent_from') FROM voxbook.audit_log AS l
            WHERE l.org_id = (SELECT org FROM ctx) AND l.action = 'resend_sms' AND l.after->>'resent_from' = (SELECT resend FROM msg)::text),
          'Ana sms ' || (SELECT resend FROM msg)::text, 'the resend is audited with the staff name, once');
-- a sent text, a code, an opted-out patient
SELECT pg_temp.outbox_set((SELECT org FROM ctx), $$status = 'sent'$$, 'm.resent_from = $2', (SELECT undelivered FROM msg));
INSERT INTO voxbook.sms_outbox (org_id, kind, recipient, body, encoding, segments, status, error_code, created_at)
SELECT org, 'otp', '+15554040009', '**** is your code', 'GSM-7', 1, 'failed', '30003', '2030-01-14 15:00:00+00' FROM ctx;
INSERT INTO voxbook.contacts (org_id, phone, sms_opted_out, sms_opted_out_at)
SELECT org, '+15554040008', true, now() FROM ctx;
INSERT INTO voxbook.sms_outbox (org_id, kind, recipient, body, encoding, segments, status, skip_reason, created_at)
SELECT org, 'hot_lead', '+15554040008', 'HOT LEAD: someone', 'GSM-7', 1, 'skipped', 'recipient opted out (STOP)', '2030-01-14 15:00:00+00' FROM ctx;
CREATE TEMP TABLE extra AS SELECT m.kind, m.id FROM voxbook.sms_outbox AS m
  WHERE m.org_id = (SELECT org FROM ctx) AND m.recipient IN ('+15554040009', '+15554040008');
GRANT SELECT ON extra TO voxbook_api;
SET LOCAL ROLE voxbook_api;
SELECT is(api.resend_sms((SELECT org FROM ctx), (SELECT (SELECT j->>'message_id' FROM resent)::uuid), 'Ana')->>'code', 'not_resendable',
          'a text that is queued (or sent) is not resent');
SELECT is(api.resend_sms((SELECT org FROM ctx), (SELECT id FROM extra WHERE kind = 'otp'), 'Ana')->>'code', 'not_resendable',
          'nor is a code');
SELECT is(api.resend_sms((SELECT org FROM ctx), (SELECT id FROM extra WHERE kind = 'hot_lead'), 'Ana')->>'code', 'opted_out',
          'nor a text to a number that replied STOP');

-- ---- blocking local time, closing the clinic for a day ----
CREATE TEMP TABLE blocked AS
    SELECT api.block_local_time((SELECT org FROM ctx), 'cal-a', '2030-01-15', '13:00', '17:00', 'afternoon off', changed_by => 'Ana') AS j;
SELECT is((SELECT (j#>>'{block,starts_at}') || ' ' || (j#>>'{block,ends_at}') FROM blocked),
          '2030-01-15T18:00:00Z 2030-01-15T22:00:00Z', 'an afternoon blocked by the clinic''s clock (New York)');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(api.check_availability((SELECT org FROM ctx), '2030-01-15', 'cal-a')->'slots') AS s
            WHERE (s->>'time')::timestamptz >= '2030-01-15T18:00:00Z'), 0, 'no time is offered that afternoon');
SELECT is(api.block_local_time((SELECT org FROM ctx), NULL, '2030-03-10', reason => 'closed', changed_by => 'Ana')#>>'{block,ends_at}',
          '2030-03-11T04:00:00Z', 'the clinic closed for a whole day, midnight to midnight, a 23-hour DST day included');
SELECT throws_ok(format('SELECT api.block_local_time(%L, %L, %L, %L)', (SELECT org FROM ctx), 'cal-a', '2030-01-17', '13:00'),
                 'VB400', 'give both from_time and to_time, or neither (the whole day)', 'one time without the other is refused');
SELECT throws_ok(format('SELECT api.block_local_time(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'cal-a', '2030-01-17', '13:00', '12:00'),
                 'VB400', 'to_time must be after from_time', 'an inverted range is refused');
SELECT throws_ok(format('SELECT api.block_local_time(%L, %L, %L)', (SELECT org FROM ctx), 'cal-a', 'infinity'),
                 'VB400', 'on_date is out of range', 'an infinite date is refused');
SELECT throws_ok(format('SELECT api.block_local_time(%L, %L, %L, %L, %L)', (SELECT other FROM ctx), 'cal-zz', '2030-01-17', '13:00', '14:00'),
                 'VB404', NULL, 'an unknown calendar is refused');
SELECT throws_ok(format('SELECT api.block_local_time(%L, %L, %L, %L, %L)', (SELECT org FROM ctx), 'cal-b', '2030-01-16', '09:00', '11:00'),
                 'VB409', 'the time has bookings', 'a block over an appointment is refused without proceed');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM voxbook.blocked_periods AS b WHERE b.org_id = (SELECT org FROM ctx)), 2,
          'only the two blocks were made');
SELECT is((SELECT count(*)::int FROM voxbook.audit_log AS l WHERE l.org_id = (SELECT org FROM ctx) AND l.action = 'block_time'
             AND l.changed_by = 'Ana'), 2, 'each audited with the staff name');
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE week AS SELECT api.dashboard_schedule((SELECT org FROM ctx), '2030-01-15', 1, calendar_id => 'cal-a') AS j;
SELECT is((SELECT jsonb_array_length(j->'days'->0->'providers') FROM week), 1, 'the schedule of one provider');
SELECT is((SELECT j#>>'{days,0,providers,0,blocks,0,local_start}' || '-' || (j#>>'{days,0,providers,0,blocks,0,local_end}') FROM week),
          '1:00 PM-5:00 PM', 'with the blocked afternoon in local time');
SELECT is((SELECT j#>'{days,0,providers,0,hours}' FROM week), '[["09:00", "12:00"], ["13:00", "17:00"]]'::jsonb,
          'and the day''s working hours');
SELECT is((SELECT (j#>>'{days,0,closed}') || ' ' || (j#>>'{days,0,providers,0,closed}') FROM week), 'false false', 'the day is open');
SELECT is(api.dashboard_schedule((SELECT org FROM ctx), '2030-03-10', 1)#>>'{days,0,closed}', 'true', 'the closed day is closed');
SELECT throws_ok(format('SELECT api.dashboard_schedule(%L, %L, 7, calendar_id => %L)', (SELECT org FROM ctx), '2030-01-14', 'cal-zz'),
                 'VB404', NULL, 'an unknown provider''s schedule is refused');
SELECT is(jsonb_array_length(api.dashboard_schedule((SELECT org FROM ctx), '2030-01-14', 7)->'days'), 7, 'a week is seven days');

-- ---- the waitlist, by staff ----
CREATE TEMP TABLE wl AS SELECT api.join_waitlist((SELECT org FROM ctx), '+15554040007', '2030-01-20', '2030-01-21', '09:00', '12:00',
                                                 patient_name => 'Ed Fox') AS j;
SELECT throws_ok(format('SELECT api.staff_remove_from_waitlist(%L, %L, %L)', (SELECT other FROM ctx), (SELECT j->>'waitlist_id' FROM wl), 'Ana'),
                 'VB404', NULL, 'another clinic cannot take this clinic''s patient off');
SELECT is(api.staff_remove_from_waitlist((SELECT org FROM ctx), (SELECT (j->>'waitlist_id')::uuid FROM wl), 'Ana')->>'status', 'removed',
          'staff take a patient off the waitlist');
SELECT is(api.staff_remove_from_waitlist((SELECT org FROM ctx), (SELECT (j->>'waitlist_id')::uuid FROM wl), 'Bob')->>'status', 'removed',
          'again: the same');
RESET ROLE;
SELECT is((SELECT array_agg(l.changed_by) FROM voxbook.audit_log AS l WHERE l.org_id = (SELECT org FROM ctx) AND l.entity = 'waitlist'),
          ARRAY['Ana'], 'audited once, with the staff name');
SET LOCAL ROLE voxbook_api;

-- ---- the change marker ----
CREATE TEMP TABLE mark1 AS SELECT api.dashboard_changes((SELECT org FROM ctx)) AS j;
SELECT is(api.dashboard_changes((SELECT org FROM ctx)) - 'server_time', (SELECT j - 'server_time' FROM mark1), 'nothing changed: the same markers');
SELECT is((SELECT j#>'{counts}' FROM mark1), '{"callbacks": 0, "sms_inbox": 0, "waitlist": 0, "failed_sms": 1}'::jsonb,
          'the queue counts (failed texts not yet resent; not codes, not skipped ones)');
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-b', tests.at((SELECT org FROM ctx), '2030-01-17 09:00'), 'call-x',
                                'Fay Gee', '+15554040006')->>'success', 'true', 'a caller holds a time');
CREATE TEMP TABLE mark2 AS SELECT api.dashboard_changes((SELECT org FROM ctx)) AS j;
SELECT isnt((SELECT j->>'holds' FROM mark2), (SELECT j->>'holds' FROM mark1), 'a new hold changes the holds marker');
SELECT isnt((SELECT j->>'schedule' FROM mark2), (SELECT j->>'schedule' FROM mark1), '... and the schedule''s');
SELECT is((SELECT j->>'queues' FROM mark2), (SELECT j->>'queues' FROM mark1), '... not the queues''');
SELECT tests.freeze_time('2030-01-14 17:05:00+00');
SELECT is(api.mark_attendance((SELECT org FROM ctx), (SELECT today FROM ids), NULL, 'Ana')->>'changed', 'true', 'a mark undone');
SELECT isnt(api.dashboard_changes((SELECT org FROM ctx))->>'schedule', (SELECT j->>'schedule' FROM mark2),
            'an appointment changed changes the schedule marker');
SELECT is(api.dashboard_changes((SELECT org FROM ctx))->>'holds', (SELECT j->>'holds' FROM mark2), '... not the holds''');
SELECT throws_ok(format('SELECT api.dashboard_changes(%L)', '00000000-0000-0000-0000-000000000000'), 'VB404', NULL,
                 'an unknown clinic has no markers');
-- The hub's one call for every open clinic (api.dashboard_hub_changes): each clinic's markers exactly as
-- api.dashboard_changes gives them, an unknown clinic left out.
CREATE TEMP TABLE hub1 AS SELECT api.dashboard_hub_changes(ARRAY[(SELECT org FROM ctx), (SELECT other FROM ctx),
                                                                 '00000000-0000-0000-0000-000000000000']) AS j;
SELECT is((SELECT j->'clinics'->((SELECT org FROM ctx)::text) FROM hub1),
          api.dashboard_changes((SELECT org FROM ctx)) - 'success' - 'server_time',
          'the hub''s markers of a clinic with appointments, holds and a failed text are dashboard_changes''');
SELECT is((SELECT j->'clinics'->((SELECT other FROM ctx)::text) FROM hub1),
          api.dashboard_changes((SELECT other FROM ctx)) - 'success' - 'server_time', '... and of a clinic without any');
SELECT is((SELECT array_agg(k ORDER BY k) FROM hub1, jsonb_object_keys(j->'clinics') AS k),
          (SELECT array_agg(x::text ORDER BY x::text) FROM ctx, unnest(ARRAY[org, other]) AS x), '... an unknown clinic left out');
SELECT throws_ok('SELECT api.dashboard_hub_changes(NULL)', 'VB400', NULL, 'org_ids is required');
SELECT is(api.dashboard_hub_changes('{}')->'clinics', '{}'::jsonb, 'no clinic: no markers');

-- ---- the queues page: numbers masked, revealed for the clinic's own items only ----
RESET ROLE;
CREATE TEMP TABLE clinic_phone AS SELECT o.phone::text AS phone FROM voxbook.organizations AS o WHERE o.id = (SELECT org FROM ctx);
GRANT SELECT ON clinic_phone TO voxbook_api;
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE cbq AS SELECT api.record_transfer_failure((SELECT org FROM ctx), 'call-q1', '+15554040011',
                                                            'call.in-progress.error-transfer-failed') AS j;
SELECT is((SELECT api.record_inbound_sms((SELECT phone FROM clinic_phone), '+15554040002', 'Is parking free?', 'SM-q1')->>'reply_to'),
          'inbox', 'a patient''s question lands in the inbox');
CREATE TEMP TABLE wlq AS SELECT api.join_waitlist((SELECT org FROM ctx), '+15554040012', '2030-01-20', '2030-01-21', '09:00', '12:00',
                                                  patient_name => 'Gil Hart') AS j;
CREATE TEMP TABLE q AS SELECT api.dashboard_queues((SELECT org FROM ctx)) AS j;
SELECT is((SELECT jsonb_build_array(j#>>'{callback_requests,0,phone_masked}', j#>>'{inbox,0,phone_masked}',
                                    j#>>'{waitlist,0,phone_masked}') FROM q),
          '["(***) ***-0011", "(***) ***-0002", "(***) ***-0012"]'::jsonb, 'the queues show every number masked');
SELECT ok((SELECT position('4040011' IN j::text) = 0 AND position('4040002' IN j::text) = 0
                  AND position('4040012' IN j::text) = 0 FROM q), 'no full number anywhere in the queues');
SELECT is((SELECT j#>>'{inbox,0,body}' || ' / ' || (j#>>'{waitlist,0,patient_name}') FROM q), 'Is parking free? / Gil Hart',
          '... and the rest of each item as it was');
SELECT is(api.dashboard_reveal_phone((SELECT org FROM ctx), callback_request_id => (SELECT (j#>>'{callback_request,id}')::uuid FROM cbq))->>'phone',
          '+15554040011', 'a callback request''s number is revealed on request');
SELECT is(api.dashboard_reveal_phone((SELECT org FROM ctx), inbox_id => (SELECT (j#>>'{inbox,0,inbox_id}')::uuid FROM q))->>'phone',
          '+15554040002', '... an SMS reply''s');
SELECT is(api.dashboard_reveal_phone((SELECT org FROM ctx), waitlist_id => (SELECT (j->>'waitlist_id')::uuid FROM wlq))->>'display',
          '(555) 404-0012', '... a waiting patient''s, as the clinic writes it');
SELECT throws_ok(format('SELECT api.dashboard_reveal_phone(%L, callback_request_id => %L)', (SELECT other FROM ctx),
                        (SELECT j#>>'{callback_request,id}' FROM cbq)), 'VB404', NULL, 'another clinic cannot reveal a callback''s number');
SELECT throws_ok(format('SELECT api.dashboard_reveal_phone(%L, inbox_id => %L)', (SELECT other FROM ctx),
                        (SELECT j#>>'{inbox,0,inbox_id}' FROM q)), 'VB404', NULL, '... nor an SMS reply''s');
SELECT throws_ok(format('SELECT api.dashboard_reveal_phone(%L, waitlist_id => %L)', (SELECT other FROM ctx),
                        (SELECT j->>'waitlist_id' FROM wlq)), 'VB404', NULL, '... nor a waiting patient''s');
SELECT throws_ok(format('SELECT api.dashboard_reveal_phone(%L, inbox_id => %L, waitlist_id => %L)', (SELECT org FROM ctx),
                        (SELECT j#>>'{inbox,0,inbox_id}' FROM q), (SELECT j->>'waitlist_id' FROM wlq)), 'VB400', NULL,
                 'one id at a time');
SELECT is(api.dashboard_queues((SELECT other FROM ctx)) - 'org_id',
          '{"success": true, "callback_requests": [], "inbox": [], "waitlist": []}'::jsonb, 'another clinic''s queues are its own');

-- ---- calendars: the CalDAV sync's health and conflicts, for staff ----
CREATE TEMP TABLE hal AS SELECT api.book_for_patient((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-17 10:00'),
                                                    'cleaning', 'Hal Ivy', '(555) 404-0013', staff_user => 'Rita') AS j;
GRANT SELECT ON hal TO voxbook_api;
CREATE TEMP TABLE cc AS SELECT api.connect_calendar((SELECT org FROM ctx), 'cal-a', 'https://dav.example.com/cal/able/', 'able',
                                                    'gAAAAA' || repeat('x', 120), 'abcdef012345', changed_by => 'Olga') AS j;
CREATE TEMP TABLE cal0 AS SELECT api.dashboard_calendars((SELECT org FROM ctx)) AS j;
SELECT is((SELECT jsonb_agg(jsonb_build_array(p->>'calendar_id', p#>>'{connection,state}')) FROM cal0, jsonb_array_elements(j->'providers') AS p),
          '[["cal-a", "pending"], ["cal-b", null]]'::jsonb, 'every provider, connected or not, with its sync state');
SELECT ok((SELECT position('gAAAAA' IN j::text) = 0 FROM cal0), 'never the password''s ciphertext');
SELECT is(api.claim_calendar_sync((SELECT org FROM ctx), (SELECT (j#>>'{connection,connection_id}')::uuid FROM cc), 'w1')->>'success',
          'true', 'the worker claims it');
CREATE TEMP TABLE golf AS SELECT jsonb_build_array(jsonb_build_object(
    'href', '/cal/able/golf.ics', 'etag', '"1"', 'uid', 'golf',
    'occurrences', jsonb_build_array(jsonb_build_object('starts_at', tests.at((SELECT org FROM ctx), '2030-01-17 10:30'),
                                                        'ends_at', tests.at((SELECT org FROM ctx), '2030-01-17 11:30'))))) AS j;
SELECT is(api.apply_calendar_import((SELECT org FROM ctx), (SELECT (j#>>'{connection,connection_id}')::uuid FROM cc), 'w1',
                                    (SELECT j FROM golf))->>'success', 'true',
          'busy time over Hal Ivy''s appointment is imported');
SELECT is(api.finish_calendar_sync((SELECT org FROM ctx), (SELECT (j#>>'{connection,connection_id}')::uuid FROM cc), 'w1')->>'success',
          'true', 'a good sync');
SELECT is(api.claim_calendar_sync((SELECT org FROM ctx), (SELECT (j#>>'{connection,connection_id}')::uuid FROM cc), 'w1')->>'success',
          'true', 'claimed again');
SELECT is(api.finish_calendar_sync((SELECT org FROM ctx), (SELECT (j#>>'{connection,connection_id}')::uuid FROM cc), 'w1',
                                   'unreachable', 'the CalDAV server cannot be reached (ConnectError)')->>'success', 'true', 'then a failed one');
CREATE TEMP TABLE cal1 AS SELECT api.dashboard_calendars((SELECT org FROM ctx)) AS j;
SELECT is((SELECT jsonb_build_array(j#>>'{providers,0,connection,state}', j#>>'{providers,0,connection,last_error_class}',
                                    j#>>'{providers,0,connection,last_error}', j#>>'{providers,0,connection,consecutive_failures}',
                                    j#>>'{providers,0,connection,busy_imported}', j#>>'{providers,0,connection,local_last_success}') FROM cal1),
          '["failing", "unreachable", "the CalDAV server cannot be reached (ConnectError)", "1", "1", "Mon, Jan 14 at 12:05 PM"]'::jsonb,
          'a failing calendar: its error class, reason, failures, what it imported, its last success in the clinic''s time');
SELECT ok((SELECT j#>>'{providers,0,connection,local_next_attempt}' LIKE 'Mon, Jan 14 at 12:0_ PM' FROM cal1), 'and its next try');
SELECT is((SELECT jsonb_build_array(j#>>'{conflicts,0,appointment_id}', j#>>'{conflicts,0,provider}', j#>>'{conflicts,0,patient_name}',
                                    j#>>'{conflicts,0,local_time}', j#>>'{conflicts,0,local_end}', j#>>'{conflicts,0,local_busy_start}') FROM cal1),
          jsonb_build_array((SELECT j->>'appointment_id' FROM hal), 'Dr. Able', 'Hal Ivy', 'Thu, Jan 17 at 10:00 AM', '11:00 AM', 'Thu, Jan 17 at 10:30 AM'),
          'the conflict: the appointment, provider, patient and times, for staff to decide');
RESET ROLE;
SELECT is((SELECT status FROM voxbook.appointments WHERE id = (SELECT (j->>'appointment_id')::uuid FROM hal)), 'confirmed', '... which stays booked');
SET LOCAL ROLE voxbook_api;
SELECT is(api.dashboard_calendars((SELECT other FROM ctx))->'conflicts', '[]'::jsonb, 'another clinic sees no conflict of this one');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(api.dashboard_calendars((SELECT other FROM ctx))->'providers') AS p
            WHERE p->'connection' <> 'null'::jsonb), 0, '... and no connection');
SELECT throws_ok(format('SELECT api.dashboard_calendars(%L)', '00000000-0000-0000-0000-000000000000'), 'VB404', NULL,
                 'an unknown clinic has no calendars page');
SELECT is(api.dashboard_hub_changes(ARRAY[(SELECT org FROM ctx)])->'clinics'->((SELECT org FROM ctx)::text),
          api.dashboard_changes((SELECT org FROM ctx)) - 'success' - 'server_time',
          'with callbacks, replies, the waitlist, blocks and closures too, the hub''s markers are dashboard_changes''');

SELECT * FROM finish();
ROLLBACK;
