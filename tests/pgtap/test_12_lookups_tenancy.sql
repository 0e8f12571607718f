-- One clinic's ids are useless to another: every lookup is by (org_id, id), and a miss is VB404. The api
-- calls run as the API role; the snapshots and the constraints on the tables are checked as the owner.
BEGIN;
SELECT plan(16);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Clinic A') AS a, tests.create_clinic('Clinic B') AS b;
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE ha AS
    SELECT (api.claim_slot_atomic((SELECT a FROM ctx), 'cal-a', tests.at((SELECT a FROM ctx), '2030-01-15 09:00'), 'call-a1', 'Ann', '+15555010001')->>'hold_id')::uuid AS held,
           (api.claim_slot_atomic((SELECT a FROM ctx), 'cal-a', tests.at((SELECT a FROM ctx), '2030-01-15 10:00'), 'call-a2', 'Abe', '+15555010002')->>'hold_id')::uuid AS booked;
CREATE TEMP TABLE aa AS
    SELECT api.confirm_held_slot((SELECT booked FROM ha), (SELECT a FROM ctx), staff_user => 'desk') AS j;
CREATE TEMP TABLE hb AS
    SELECT (api.claim_slot_atomic((SELECT b FROM ctx), 'cal-a', tests.at((SELECT b FROM ctx), '2030-01-15 09:00'), 'call-b1', 'Bea', '+15555020001')->>'hold_id')::uuid AS held;
RESET ROLE;
CREATE TEMP TABLE snapshot AS
    SELECT (SELECT jsonb_agg(h ORDER BY h.id) FROM voxbook.holds AS h WHERE h.org_id = (SELECT a FROM ctx)) AS holds,
           (SELECT jsonb_agg(x ORDER BY x.id) FROM voxbook.appointments AS x WHERE x.org_id = (SELECT a FROM ctx)) AS appointments,
           (SELECT count(*) FROM voxbook.sms_outbox AS m WHERE m.org_id = (SELECT a FROM ctx)) AS sms;
SET LOCAL ROLE voxbook_api;

SELECT throws_ok($$SELECT api.get_hold((SELECT held FROM ha), (SELECT b FROM ctx))$$, 'VB404', 'unknown hold', 'B cannot read A''s hold');
SELECT throws_ok($$SELECT api.release_hold((SELECT held FROM ha), (SELECT b FROM ctx))$$, 'VB404', 'unknown hold', 'B cannot release A''s hold');
SELECT throws_ok($$SELECT api.send_otp_code((SELECT held FROM ha), (SELECT b FROM ctx))$$, 'VB404', 'unknown hold', 'B cannot send a code for A''s hold');
SELECT throws_ok($$SELECT api.verify_otp((SELECT held FROM ha), (SELECT b FROM ctx), '1234')$$, 'VB404', 'unknown hold', 'B cannot verify A''s hold');
SELECT throws_ok($$SELECT api.confirm_held_slot((SELECT held FROM ha), (SELECT b FROM ctx), staff_user => 'evil')$$, 'VB404', 'unknown hold', 'B cannot confirm A''s hold');
SELECT throws_ok($$SELECT api.get_appointment((SELECT (j->>'appointment_id')::uuid FROM aa), (SELECT b FROM ctx))$$, 'VB404', 'unknown appointment', 'B cannot read A''s appointment');
SELECT throws_ok($$SELECT api.cancel_appointment((SELECT (j->>'appointment_id')::uuid FROM aa), (SELECT b FROM ctx))$$, 'VB404', 'unknown appointment', 'B cannot cancel A''s appointment');
SELECT throws_ok($$SELECT api.reschedule_appointment((SELECT (j->>'appointment_id')::uuid FROM aa), (SELECT b FROM ctx), tests.at((SELECT b FROM ctx), '2030-01-15 13:00'))$$,
                 'VB404', 'unknown appointment', 'B cannot move A''s appointment');
SELECT throws_ok($$SELECT api.send_confirmation_sms((SELECT (j->>'appointment_id')::uuid FROM aa), (SELECT b FROM ctx))$$, 'VB404', 'unknown appointment', 'B cannot trigger A''s SMS');
SELECT throws_ok($$SELECT api.confirm_held_slot((SELECT held FROM hb), (SELECT b FROM ctx), (SELECT (j->>'contact_id')::uuid FROM aa), staff_user => 'desk')$$,
                 'VB404', 'unknown contact', 'B cannot attach A''s contact to its booking');
RESET ROLE;
SELECT is((SELECT jsonb_agg(h ORDER BY h.id) FROM voxbook.holds AS h WHERE h.org_id = (SELECT a FROM ctx)), (SELECT holds FROM snapshot),
          'A''s holds are unchanged');
SELECT is((SELECT jsonb_agg(x ORDER BY x.id) FROM voxbook.appointments AS x WHERE x.org_id = (SELECT a FROM ctx)), (SELECT appointments FROM snapshot),
          'A''s appointments are unchanged');
SELECT is((SELECT count(*) FROM voxbook.sms_outbox AS m WHERE m.org_id = (SELECT a FROM ctx)), (SELECT sms FROM snapshot), 'no SMS was queued for A');
-- (the ids as literals: Citus takes no subquery in an INSERT's VALUES)
SELECT throws_ok(format($$INSERT INTO voxbook.appointments (org_id, hold_id, contact_id, confirmed_via, confirmed_by)
                          VALUES (%L, %L, %L, 'staff', 'x')$$,
                        (SELECT b FROM ctx), (SELECT held FROM hb), (SELECT (j->>'contact_id')::uuid FROM aa)),
                 '23503', NULL, 'composite foreign keys keep rows of one clinic from pointing at another''s');

SELECT throws_ok($$DELETE FROM voxbook.calendars WHERE org_id = (SELECT a FROM ctx) AND id = 'cal-a'$$,
                 '23503', 'calendar cal-a is referred to by holds or appointments',
                 'a calendar with holds cannot be deleted (a trigger stands in for the foreign key)');
SELECT throws_ok($$UPDATE voxbook.calendars SET id = 'cal-z' WHERE org_id = (SELECT a FROM ctx) AND id = 'cal-a'$$,
                 '23503', 'calendar cal-a is referred to by holds or appointments', 'nor renamed');

SELECT * FROM finish();
ROLLBACK;
