-- db/functions/64_clinic_setup.sql, time off and providers leaving: block_time (refused over bookings unless
-- proceed), clinic-wide closures, unblock_time, list_blocks, deactivate_provider. Run as the API role.
BEGIN;
SELECT plan(49);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');   -- a Monday; the clinic works 09-12 and 13-17 every day
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Blocks Clinic', phone => '+15556410001') AS org,
                                tests.create_clinic('Blocks Other', phone => '+15556410002') AS other;
CREATE TEMP TABLE r (k text PRIMARY KEY, j jsonb);
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

-- An appointment on Wednesday 10:00 with cal-a, and a caller holding Wednesday 14:00 with cal-a.
INSERT INTO r SELECT 'appt', api.confirm_held_slot(
    (api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-16 10:00'), 'call-b1', 'Pat Block',
                           '+15556410010')->>'hold_id')::uuid, (SELECT org FROM ctx), staff_user => 'desk');
INSERT INTO r SELECT 'hold', api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-16 14:00'),
                                                   'call-b2', 'Sam Hold', '+15556410011', hold_minutes => 60);
SELECT is((SELECT count(*) FROM r WHERE j->>'success' = 'true'), 2::bigint, 'set-up: an appointment and a live hold');

-- block_time over bookings: refused with the list, nothing made
SELECT throws_ok(format($$SELECT api.block_time(%L, 'cal-a', %L, %L, 'vacation')$$, (SELECT org FROM ctx),
                        tests.at((SELECT org FROM ctx), '2030-01-16 00:00'), tests.at((SELECT org FROM ctx), '2030-01-17 00:00')),
                 'VB409', 'the time has bookings', 'blocking time with an appointment and a hold in it is refused');
SELECT is(tests.hint_of(format($$SELECT api.block_time(%L, 'cal-a', %L, %L)$$, (SELECT org FROM ctx),
                                 tests.at((SELECT org FROM ctx), '2030-01-16 00:00'), tests.at((SELECT org FROM ctx), '2030-01-17 00:00'))),
          '1 appointment: Wed, Jan 16 at 10:00 AM; 1 caller holding a time now. Move them first, or pass proceed => true to block anyway (appointments stay, listed to reschedule).',
          '... the HINT says how many and when');
CREATE TEMP TABLE refused AS SELECT tests.detail_of(format($$SELECT api.block_time(%L, 'cal-a', %L, %L)$$, (SELECT org FROM ctx),
                                 tests.at((SELECT org FROM ctx), '2030-01-16 00:00'), tests.at((SELECT org FROM ctx), '2030-01-17 00:00')))::jsonb AS d;
SELECT is((SELECT d->'appointments'->0->>'appointment_id' FROM refused), (SELECT j->>'appointment_id' FROM r WHERE k = 'appt'),
          '... the DETAIL is JSON naming the appointment');
SELECT is((SELECT d->'holds'->0->>'hold_id' FROM refused), (SELECT j->>'hold_id' FROM r WHERE k = 'hold'), '... and the live hold');
SELECT ok((SELECT d::text !~ 'Pat Block' FROM refused), '... without the patient''s name (an error may be logged)');
SELECT is(api.list_blocks((SELECT org FROM ctx))->'blocks', '[]'::jsonb, '... and no block was made');
SELECT throws_ok(format($$SELECT api.block_time(%L, NULL, %L, %L, 'storm')$$, (SELECT org FROM ctx),
                        tests.at((SELECT org FROM ctx), '2030-01-16 09:00'), tests.at((SELECT org FROM ctx), '2030-01-16 11:00')),
                 'VB409', 'the time has bookings', 'a clinic-wide closure over an appointment is refused too');
SELECT is((api.block_time((SELECT org FROM ctx), 'cal-b', tests.at((SELECT org FROM ctx), '2030-01-16 00:00'),
                          tests.at((SELECT org FROM ctx), '2030-01-17 00:00'), 'training')->'to_reschedule'), '[]'::jsonb,
          'another provider''s same day is free: blocked at once');

-- proceed => true: made, appointments stay and are listed, holds released
INSERT INTO r SELECT 'proceed', api.block_time((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-16 00:00'),
                                               tests.at((SELECT org FROM ctx), '2030-01-17 00:00'), 'vacation', proceed => true,
                                               changed_by => 'manager');
SELECT is((SELECT j->'to_reschedule'->0->>'appointment_id' || ' ' || (j->'to_reschedule'->0->>'patient_name') FROM r WHERE k = 'proceed'),
          (SELECT j->>'appointment_id' FROM r WHERE k = 'appt') || ' Pat Block',
          'with proceed the block is made and the appointment listed to reschedule, with its patient''s name');
SELECT is(api.get_appointment((SELECT (j->>'appointment_id')::uuid FROM r WHERE k = 'appt'), (SELECT org FROM ctx))->>'status', 'confirmed',
          '... the appointment stays (staff decide)');
SELECT is((SELECT j->'released_holds'->0->>'hold_id' FROM r WHERE k = 'proceed'), (SELECT j->>'hold_id' FROM r WHERE k = 'hold'),
          '... the live hold is released');
SELECT is(api.get_hold((SELECT (j->>'hold_id')::uuid FROM r WHERE k = 'hold'), (SELECT org FROM ctx))->>'status', 'released',
          '... so its caller cannot confirm it');
SELECT is((SELECT j->'block'->>'created_by' || ' / ' || (j->'block'->>'reason') || ' / ' || (j->'block'->>'local_starts') FROM r WHERE k = 'proceed'),
          'manager / vacation / Wed, Jan 16 at 12:00 AM', '... with who made it, why, and its local start');
SELECT is(api.block_time((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-16 00:00'),
                         tests.at((SELECT org FROM ctx), '2030-01-17 00:00'), 'vacation')->'block'->'block_id',
          (SELECT j->'block'->'block_id' FROM r WHERE k = 'proceed'), 'the same block again is the same block (idempotent)');
SELECT is(api.check_availability((SELECT org FROM ctx), '2030-01-16', 'cal-a')->'slots', '[]'::jsonb,
          'a blocked provider offers nothing that day');
SELECT throws_ok(format($$SELECT api.claim_slot_atomic(%L, 'cal-a', %L, 'call-b3', 'Al', '+15556410012')$$, (SELECT org FROM ctx),
                        tests.at((SELECT org FROM ctx), '2030-01-16 15:00')), 'VB400', 'Dr. Able is not available then',
                 '... and a claim in it is refused');

-- a clinic-wide closure
INSERT INTO r SELECT 'holiday', api.block_time((SELECT org FROM ctx), NULL, tests.at((SELECT org FROM ctx), '2030-01-21 00:00'),
                                               tests.at((SELECT org FROM ctx), '2030-01-22 00:00'), 'holiday');
SELECT is((SELECT j->'block'->'calendar_id' FROM r WHERE k = 'holiday'), 'null'::jsonb, 'calendar_id NULL closes the whole clinic');
SELECT is(api.list_blocks((SELECT org FROM ctx), calendar_id => 'cal-b')->'blocks' @> jsonb_build_array(jsonb_build_object('reason', 'holiday')),
          true, 'list_blocks of a provider includes the clinic''s closures');

-- list_blocks
SELECT is((SELECT jsonb_agg(b->>'reason') FROM jsonb_array_elements(api.list_blocks((SELECT org FROM ctx))->'blocks') AS b),
          '["training", "vacation", "holiday"]'::jsonb, 'list_blocks: every block from now on, by start (then as made)');
SELECT is((SELECT jsonb_agg(b->>'reason') FROM jsonb_array_elements(api.list_blocks((SELECT org FROM ctx), calendar_id => 'cal-a')->'blocks') AS b),
          '["vacation", "holiday"]'::jsonb, '... one provider''s and the closures');
SELECT is((SELECT jsonb_agg(b->>'reason') FROM jsonb_array_elements(api.list_blocks((SELECT org FROM ctx), tests.at((SELECT org FROM ctx), '2030-01-20 00:00'))->'blocks') AS b),
          '["holiday"]'::jsonb, '... from a time');
SELECT is(api.list_blocks((SELECT org FROM ctx), to_time => tests.at((SELECT org FROM ctx), '2030-01-15 00:00'))->'blocks', '[]'::jsonb, '... to a time');
SELECT is(api.list_blocks((SELECT other FROM ctx))->'blocks', '[]'::jsonb, 'another clinic has none of them');
SELECT throws_ok(format($$SELECT api.list_blocks(%L, calendar_id => 'cal-z')$$, (SELECT org FROM ctx)), 'VB404', 'unknown calendar',
                 'list_blocks: an unknown calendar');
SELECT throws_ok(format($$SELECT api.list_blocks(%L, now() + interval '1 day', now())$$, (SELECT org FROM ctx)), 'VB400',
                 'to_time is before from_time', 'list_blocks: an empty range');

-- block_time: bad input and tenancy
SELECT throws_ok(format($$SELECT api.block_time(%L, 'cal-a', %L, %L)$$, (SELECT org FROM ctx), '2030-02-01 10:00Z', '2030-02-01 09:00Z'),
                 'VB400', 'ends must be after starts', 'an inverted block');
SELECT throws_ok(format($$SELECT api.block_time(%L, 'cal-a', NULL, %L)$$, (SELECT org FROM ctx), '2030-02-01 09:00Z'),
                 'VB400', 'starts is required', 'starts is required');
SELECT throws_ok(format($$SELECT api.block_time(%L, 'cal-a', %L, 'infinity')$$, (SELECT org FROM ctx), '2030-02-01 09:00Z'),
                 'VB400', 'ends is out of range', 'an endless block');
SELECT throws_ok(format($$SELECT api.block_time(%L, 'cal-a', %L, %L)$$, (SELECT org FROM ctx), '2030-02-01 09:00Z', '2031-03-01 09:00Z'),
                 'VB400', 'time off is limited to 366 days', 'a block over a year');
SELECT throws_ok(format($$SELECT api.block_time(%L, 'cal-z', %L, %L)$$, (SELECT org FROM ctx), '2030-02-01 09:00Z', '2030-02-01 10:00Z'),
                 'VB404', 'unknown calendar', 'an unknown calendar');
SELECT throws_ok(format($$SELECT api.block_time(%L, 'cal-a', %L, %L)$$, gen_random_uuid(), '2030-02-01 09:00Z', '2030-02-01 10:00Z'),
                 'VB404', 'unknown organization', 'an unknown clinic');

-- unblock_time
SELECT throws_ok(format($$SELECT api.unblock_time(%L, %s)$$, (SELECT other FROM ctx), (SELECT j->'block'->>'block_id' FROM r WHERE k = 'proceed')),
                 'VB404', 'unknown block', 'another clinic cannot remove a block');
SELECT is(api.unblock_time((SELECT org FROM ctx), (SELECT (j->'block'->>'block_id')::bigint FROM r WHERE k = 'proceed'), 'manager')->'removed'->>'reason',
          'vacation', 'unblock_time removes a block');
SELECT isnt(api.check_availability((SELECT org FROM ctx), '2030-01-16', 'cal-a')->'slots', '[]'::jsonb, '... its time is bookable again');
SELECT throws_ok(format($$SELECT api.unblock_time(%L, %s)$$, (SELECT org FROM ctx), (SELECT j->'block'->>'block_id' FROM r WHERE k = 'proceed')),
                 'VB404', 'unknown block', 'a removed block is unknown');

-- deactivate_provider
SELECT throws_ok(format($$SELECT api.deactivate_provider(%L, 'cal-a')$$, (SELECT org FROM ctx)), 'VB409', 'Dr. Able has future appointments',
                 'a provider with future appointments is not deactivated');
SELECT is(tests.hint_of(format($$SELECT api.deactivate_provider(%L, 'cal-a')$$, (SELECT org FROM ctx))),
          '1 appointment: Wed, Jan 16 at 10:00 AM. Move or cancel them first, or pass on_future => ''cancel''.', '... the HINT names them');
SELECT throws_ok(format($$SELECT api.upsert_provider(%L, 'cal-a', active => false)$$, (SELECT org FROM ctx)), 'VB409', 'Dr. Able has future appointments',
                 'nor through upsert_provider');
SELECT throws_ok(format($$SELECT api.deactivate_provider(%L, 'cal-a', on_future => 'ignore')$$, (SELECT org FROM ctx)), 'VB400',
                 'on_future must be refuse, cancel or keep', 'an unknown on_future');
SELECT is(api.deactivate_provider((SELECT other FROM ctx), 'cal-b')->>'active', 'false', 'another clinic deactivates its own cal-b');
SELECT is(api.check_availability((SELECT org FROM ctx), '2030-01-17', 'cal-b')->>'success', 'true', '... this clinic''s cal-b is untouched');
SELECT throws_ok(format($$SELECT api.deactivate_provider(%L, 'cal-z')$$, (SELECT org FROM ctx)), 'VB404', 'unknown calendar',
                 'deactivate_provider: an unknown calendar');
INSERT INTO r SELECT 'deact', api.deactivate_provider((SELECT org FROM ctx), 'cal-a', on_future => 'cancel', changed_by => 'manager');
SELECT is((SELECT j->'cancelled'->0->>'appointment_id' FROM r WHERE k = 'deact'), (SELECT j->>'appointment_id' FROM r WHERE k = 'appt'),
          'on_future => cancel deactivates and cancels the future appointments');
SELECT is(api.get_appointment((SELECT (j->>'appointment_id')::uuid FROM r WHERE k = 'appt'), (SELECT org FROM ctx))->>'status', 'cancelled',
          '... the appointment is cancelled');
SELECT throws_ok(format($$SELECT api.check_availability(%L, '2030-01-17', 'cal-a')$$, (SELECT org FROM ctx)), 'VB404', 'unknown calendar',
                 '... and the provider is offered no more');
SELECT is(api.deactivate_provider((SELECT org FROM ctx), 'cal-a')->>'message', 'Provider was already inactive', 'deactivating again is a no-op');
RESET ROLE;
SELECT is((SELECT a.cancelled_by || ' / ' || m.status FROM voxbook.appointments AS a
             JOIN voxbook.sms_outbox AS m ON m.org_id = a.org_id AND m.appointment_id = a.id AND m.kind = 'cancellation'
            WHERE a.org_id = (SELECT org FROM ctx) AND a.id = (SELECT (j->>'appointment_id')::uuid FROM r WHERE k = 'appt')),
          'manager / queued', '... cancelled by the staff member, the patient''s cancellation SMS queued');
SET LOCAL ROLE voxbook_api;
SELECT is((SELECT array_agg(e->>'action' || ' ' || (e->>'entity') ORDER BY e->>'action', e->>'entity')
             FROM jsonb_array_elements(api.list_audit((SELECT org FROM ctx))->'entries') AS e WHERE e->>'changed_by' = 'manager'),
          ARRAY['block_time blocked_period', 'cancel_appointment appointment', 'deactivate_provider provider', 'unblock_time blocked_period'],
          'the audit log has every one of the manager''s changes');

SELECT * FROM finish();
ROLLBACK;
