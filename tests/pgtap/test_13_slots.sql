-- db/functions/13_slots.sql: internal.flip_expired_holds, the one way a claim or a reschedule clears expired
-- holds out of its way (they sit in holds_no_overlap until their status flips).
BEGIN;
SELECT plan(7);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Flip Clinic') AS org, tests.create_clinic('Flip Other') AS other;
CREATE TEMP TABLE h AS
SELECT k, (api.claim_slot_atomic(CASE WHEN k = 'other' THEN (SELECT other FROM ctx) ELSE (SELECT org FROM ctx) END,
                                 CASE WHEN k = 'b9' THEN 'cal-b' ELSE 'cal-a' END,
                                 tests.at((SELECT org FROM ctx), '2030-01-15 09:00') + CASE WHEN k = 'a10' THEN interval '1 hour' ELSE interval '0' END,
                                 'call-' || k, 'Pat', '+15551310001')->>'hold_id')::uuid AS id
  FROM unnest(ARRAY['a9', 'a10', 'b9', 'other']) AS k;
CREATE TEMP TABLE appt AS
SELECT (api.confirm_held_slot((api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 13:00'),
                                                     'call-appt', 'Ann', '+15551310002')->>'hold_id')::uuid,
                              (SELECT org FROM ctx), staff_user => 'desk')->>'appointment_id')::uuid AS id;
SELECT tests.freeze_time('2030-01-14 12:11:00+00');   -- every 10-minute hold has expired

SELECT is(internal.flip_expired_holds((SELECT org FROM ctx), 'cal-a',
                                     tstzrange(tests.at((SELECT org FROM ctx), '2030-01-15 08:30'), tests.at((SELECT org FROM ctx), '2030-01-15 09:30'))),
          1, 'one expired hold overlaps that time on that calendar');
SELECT is((SELECT string_agg(k || '=' || x.status || '/' || x.release_reason, ', ' ORDER BY k)
             FROM h JOIN voxbook.holds AS x ON x.id = h.id WHERE x.status <> 'held'),
          'a9=expired/expired', 'it is flipped; another time, calendar or clinic is not');
SELECT is(internal.flip_expired_holds((SELECT org FROM ctx), 'cal-a',
                                     tstzrange(tests.at((SELECT org FROM ctx), '2030-01-15 08:30'), tests.at((SELECT org FROM ctx), '2030-01-15 09:30'))),
          0, 'flipping again finds nothing');
SELECT tests.freeze_time('2030-01-14 11:00:00+00');
SELECT is(internal.flip_expired_holds((SELECT org FROM ctx), 'cal-a',
                                     tstzrange(tests.at((SELECT org FROM ctx), '2030-01-15 09:30'), tests.at((SELECT org FROM ctx), '2030-01-15 11:00'))),
          0, 'a hold that has not expired yet is left alone');
SELECT tests.freeze_time('2030-01-14 12:11:00+00');

-- A reschedule onto an expired hold's time flips it through the same function, as the API role.
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
SELECT is(api.reschedule_appointment((SELECT id FROM appt), (SELECT org FROM ctx), tests.at((SELECT org FROM ctx), '2030-01-15 10:00'))->>'local_time',
          'Tue, Jan 15 at 10:00 AM', 'a reschedule takes the time of an expired hold');
RESET ROLE;
SELECT is((SELECT x.status FROM h JOIN voxbook.holds AS x ON x.id = h.id WHERE k = 'a10'), 'expired', '... which it flipped');
SELECT is((SELECT x.status FROM h JOIN voxbook.holds AS x ON x.id = h.id WHERE k = 'b9'), 'held',
          '... and nothing else (the expired hold on cal-b waits for housekeeping)');

SELECT * FROM finish();
ROLLBACK;
