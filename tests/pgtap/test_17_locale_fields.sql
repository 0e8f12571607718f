-- The API's own date and time fields (local_time, spoken_time; the dashboard's local_start) are written as the
-- clinic's locale writes them (internal.field_locale, 17_locales.sql), or the caller's when the result is for a
-- call that said one; an en-US clinic's stay as they were. Run as the API role; set-up as the owner.
BEGIN;
SELECT plan(14);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');
CREATE TEMP TABLE ctx AS
SELECT tests.create_clinic('Thames Dental', time_zone => 'Europe/London') AS gb,
       tests.create_clinic('Clinica Sol', time_zone => 'America/Mexico_City') AS mx,
       tests.create_clinic('Bright Smile') AS us;
SELECT tests.set_clinic((SELECT gb FROM ctx), $$locale = 'en-GB'$$);
SELECT tests.set_clinic((SELECT mx FROM ctx), $$locale = 'es-MX', languages = '{es,en}'$$);
SELECT tests.set_clinic((SELECT us FROM ctx), $$languages = '{en,es}'$$);
SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;

-- Availability: the first slot of 2030-01-20 (a Sunday) at 09:00 local.
SELECT is(api.check_availability((SELECT gb FROM ctx), '2030-01-20', 'cal-a', max_slots => 1)->'slots'->0->>'local_time',
          'Sun 20 Jan at 09:00', 'a London clinic''s slots are written as en-GB writes them');
SELECT is(api.check_availability((SELECT gb FROM ctx), '2030-01-20', 'cal-a', max_slots => 1)->'slots'->0->>'spoken_time',
          '09:00', '... and said on the 24-hour clock');
SELECT is(api.check_availability((SELECT mx FROM ctx), '2030-01-20', 'cal-a', max_slots => 1)->'slots'->0->>'local_time',
          'dom 20 de ene, 9:00 a.m.', 'a Spanish clinic''s as es-MX writes them');
SELECT is(api.check_availability((SELECT us FROM ctx), '2030-01-20', 'cal-a', max_slots => 1)->'slots'->0->>'local_time',
          'Sun, Jan 20 at 9:00 AM', 'an en-US clinic''s as before');
SELECT is(api.check_availability((SELECT us FROM ctx), '2030-01-20', 'cal-a', max_slots => 1)->'slots'->0->>'spoken_time',
          '9 AM', '... said as before');

-- A hold and its appointment at the London clinic.
CREATE TEMP TABLE gb_hold AS
SELECT api.claim_slot_atomic((SELECT gb FROM ctx), 'cal-a', tests.at((SELECT gb FROM ctx), '2030-01-20 10:00'), 'call-gb',
                             'Ann Lee', '+15557170001') AS j;
SELECT is((SELECT j->>'local_time' FROM gb_hold), 'Sun 20 Jan at 10:00', 'the hold''s local_time is en-GB');
CREATE TEMP TABLE gb_appt AS
SELECT api.confirm_held_slot((SELECT (j->>'hold_id')::uuid FROM gb_hold), (SELECT gb FROM ctx), staff_user => 'desk') AS j;
SELECT is(api.get_appointment((SELECT (j->>'appointment_id')::uuid FROM gb_appt), (SELECT gb FROM ctx))->>'local_time',
          'Sun 20 Jan at 10:00', '... and the appointment''s');
SELECT is(api.get_appointment((SELECT (j->>'appointment_id')::uuid FROM gb_appt), (SELECT gb FROM ctx))->>'spoken_time',
          '10:00', '... spoken on the 24-hour clock');
-- The refused claim's alternatives.
SELECT is(api.claim_slot_atomic((SELECT gb FROM ctx), 'cal-a', tests.at((SELECT gb FROM ctx), '2030-01-20 10:00'))->'alternatives'->0->>'local_time',
          'Sun 20 Jan at 09:30', 'the times a refused claim offers are en-GB too');

-- The dashboard: the clinic's locale.
SELECT is((SELECT e->>'local_start' FROM jsonb_array_elements(
              api.dashboard_schedule((SELECT gb FROM ctx), '2030-01-20', 1)->'days'->0->'providers') AS p,
              jsonb_array_elements(p->'entries') AS e WHERE e->>'kind' = 'appointment'),
          '10:00', 'the London dashboard''s schedule shows 10:00, not 10:00 AM');
CREATE TEMP TABLE gb_live AS
SELECT api.claim_slot_atomic((SELECT gb FROM ctx), 'cal-b', tests.at((SELECT gb FROM ctx), '2030-01-21 14:30'), NULL,
                             'Bo Chan', '+15557170002') AS j;
SELECT is(api.dashboard_live_holds((SELECT gb FROM ctx))->'holds'->0->>'local_time', 'Mon 21 Jan at 14:30',
          '... and its live holds en-GB times');

-- A Spanish caller at the en-US clinic: the results for that call are in the caller's locale (es-US).
SELECT is(api.set_call_language((SELECT us FROM ctx), 'call-us-es', 'es')->>'locale', 'es-US', 'the caller speaks Spanish');
CREATE TEMP TABLE us_hold AS
SELECT api.claim_slot_atomic((SELECT us FROM ctx), 'cal-a', tests.at((SELECT us FROM ctx), '2030-01-20 10:00'), 'call-us-es',
                             'Ana Ruiz', '+15557170003') AS j;
SELECT is((SELECT j->>'local_time' FROM us_hold), 'dom, 20 de ene, 10:00 a.m.', 'the hold of a Spanish call is written in es-US');
SELECT is(api.check_availability((SELECT us FROM ctx), '2030-01-20', 'cal-a', max_slots => 1)->'slots'->0->>'local_time',
          'Sun, Jan 20 at 9:00 AM', 'availability, for no call, stays the clinic''s');

SELECT * FROM finish();
ROLLBACK;
