-- The clinic's rules in availability and claims (issue 14): buffers (holds.occupies, holds_no_overlap),
-- service <-> provider (voxbook.service_providers, inactive services and providers), hours exceptions and
-- clinic-wide closures, DST-correct in America/New_York and Europe/London.
-- Set-up as the owner (direct rows in the tables of 0023), the api calls as the API role. Citus (tests/citus
-- runs this file on a coordinator): clinic ids come from the temp table ctx; INSERT ... SELECT FROM ctx.
BEGIN;
SELECT plan(44);

SELECT tests.freeze_time('2030-01-14 12:00:00+00');   -- Monday, 07:00 in New York
CREATE TEMP TABLE ctx AS SELECT tests.create_clinic('Rules Clinic') AS org,
                                tests.create_clinic('London Rules', time_zone => 'Europe/London') AS london;
-- The start times ('HH:MI' local) a check_availability result offers, in order; one calendar or all.
CREATE FUNCTION pg_temp.offered(r jsonb, cal text DEFAULT NULL) RETURNS text[]
    LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(s->>'time' ORDER BY (s->>'time'), s->>'calendar_id'), '{}')
      FROM jsonb_array_elements(r->'slots') AS s WHERE cal IS NULL OR s->>'calendar_id' = cal
$$;
CREATE FUNCTION pg_temp.utc(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;
UPDATE voxbook.services AS s SET buffer_after_minutes = 10 FROM ctx WHERE s.org_id = ctx.org AND s.id = 'cleaning';
UPDATE voxbook.services AS s SET buffer_before_minutes = 15 FROM ctx WHERE s.org_id = ctx.org AND s.id = 'teeth-whitening';
SELECT tests.share_with_api();
GRANT EXECUTE ON FUNCTION pg_temp.offered(jsonb, text), pg_temp.utc(timestamptz) TO voxbook_api;
SET LOCAL ROLE voxbook_api;

-- ---- Buffers: a 60-minute cleaning with 10 minutes after occupies 70 ----
CREATE TEMP TABLE clean AS
    SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 10:00'),
                                 'call-c1', 'Cleo', '+15552020001', service => 'cleaning') AS j;
SELECT is((SELECT j->>'success' FROM clean), 'true', 'a cleaning is claimed at 10:00');
SELECT is((SELECT (j->>'ends_at')::timestamptz - (j->>'starts_at')::timestamptz FROM clean), interval '60 minutes',
          'the appointment itself is its 60 minutes');
RESET ROLE;
SELECT is((SELECT h.occupies FROM voxbook.holds AS h WHERE h.id = (SELECT (j->>'hold_id')::uuid FROM clean)),
          (SELECT tstzrange(tests.at(ctx.org, '2030-01-15 10:00'), tests.at(ctx.org, '2030-01-15 11:10'), '[)') FROM ctx),
          '... and occupies 70: its 10 minutes after included');
SET LOCAL ROLE voxbook_api;
SELECT ok(NOT pg_temp.utc(tests.at((SELECT org FROM ctx), '2030-01-15 11:00'))
              = ANY (pg_temp.offered(api.check_availability((SELECT org FROM ctx), '2030-01-15', 'cal-a', 'consultation'))),
          '11:00 is not offered: it is in the cleaning''s buffer');
SELECT ok(pg_temp.utc(tests.at((SELECT org FROM ctx), '2030-01-15 11:30'))
              = ANY (pg_temp.offered(api.check_availability((SELECT org FROM ctx), '2030-01-15', 'cal-a', 'consultation'))),
          '11:30 is offered: the buffer is over');
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 11:00'),
                                'call-c2', 'Bo', '+15552020002', service => 'consultation')->>'code',
          'slot_taken', 'a claim inside the buffer is refused');
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 09:00'),
                                'call-c3', 'Cy', '+15552020003', service => 'cleaning')->>'code',
          'slot_taken', 'a cleaning whose own buffer runs into the next booking is refused (09:00-10:10 against 10:00)');
SELECT ok(NOT pg_temp.utc(tests.at((SELECT org FROM ctx), '2030-01-15 09:00'))
              = ANY (pg_temp.offered(api.check_availability((SELECT org FROM ctx), '2030-01-15', 'cal-a', 'cleaning'))),
          '... and is not offered either');
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 11:30'),
                                'call-c4', 'Di', '+15552020004', service => 'consultation')->>'success',
          'true', 'right after the buffer is free');
-- a buffer before: whitening keeps 15 minutes before it
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-b', tests.at((SELECT org FROM ctx), '2030-01-15 15:00'),
                                'call-c5', 'Ed', '+15552020005', service => 'consultation')->>'success',
          'true', 'a consultation on cal-b at 15:00');
SELECT is(pg_temp.offered(api.check_availability((SELECT org FROM ctx), '2030-01-15', 'cal-b', 'teeth-whitening')) @>
          ARRAY[pg_temp.utc(tests.at((SELECT org FROM ctx), '2030-01-15 15:30'))], false,
          'whitening at 15:30 is not offered: its 15 minutes before overlap the consultation');
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-b', tests.at((SELECT org FROM ctx), '2030-01-15 15:30'),
                                'call-c6', 'Flo', '+15552020006', service => 'teeth-whitening')->>'code',
          'slot_taken', '... nor claimable');
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-b', tests.at((SELECT org FROM ctx), '2030-01-15 16:00'),
                                'call-c6', 'Flo', '+15552020006', service => 'teeth-whitening')->>'success',
          'true', 'whitening at 16:00 is (its buffer starts 15:45)');
RESET ROLE;
-- the database itself: a row overlapping a booking's buffer is refused whatever wrote it
SELECT throws_ok(format($$INSERT INTO voxbook.holds (org_id, calendar_id, starts_at, ends_at, status, expires_at)
                          VALUES (%L, 'cal-a', %L, %L, 'confirmed', now())$$,
                        (SELECT org FROM ctx), (SELECT tests.at(ctx.org, '2030-01-15 11:05') FROM ctx),
                        (SELECT tests.at(ctx.org, '2030-01-15 11:25') FROM ctx)),
                 '23P01', NULL, 'holds_no_overlap refuses a direct insert into a buffer');
-- a row without occupies (made before 0024, or written directly) occupies exactly its time
INSERT INTO voxbook.holds (org_id, calendar_id, starts_at, ends_at, status, expires_at)
SELECT ctx.org, 'cal-a', tests.at(ctx.org, '2030-01-15 14:00'), tests.at(ctx.org, '2030-01-15 14:30'), 'confirmed', now() FROM ctx;
SET LOCAL ROLE voxbook_api;
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 13:00'),
                                'call-c7', 'Gus', '+15552020007', service => 'cleaning')->>'code',
          'slot_taken', 'an old row without occupies still counts, by its time: a cleaning''s buffer may not reach it');
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-15 14:30'),
                                'call-c8', 'Hal', '+15552020008', service => 'consultation')->>'success',
          'true', '... and right after it is free');

-- ---- Service <-> provider ----
RESET ROLE;
INSERT INTO voxbook.service_providers (org_id, service_id, calendar_id) SELECT ctx.org, 'teeth-whitening', 'cal-b' FROM ctx;
SET LOCAL ROLE voxbook_api;
SELECT is((SELECT array_agg(DISTINCT s->>'calendar_id')
             FROM jsonb_array_elements(api.check_availability((SELECT org FROM ctx), '2030-01-16', service => 'teeth-whitening')->'slots') AS s),
          ARRAY['cal-b'], 'a service with providers is offered only with them');
SELECT is((SELECT array_agg(DISTINCT s->>'calendar_id' ORDER BY s->>'calendar_id')
             FROM jsonb_array_elements(api.check_availability((SELECT org FROM ctx), '2030-01-16', service => 'cleaning')->'slots') AS s),
          ARRAY['cal-a', 'cal-b'], 'a service without providers: every active provider, merged');
SELECT throws_ok($$SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-16 10:00'),
                                                'call-p1', 'Ida', '+15552020011', service => 'teeth-whitening')$$,
                 'VB400', 'Dr. Able does not offer Teeth Whitening', 'a claim with a provider who does not offer it is refused');
SELECT throws_ok($$SELECT api.check_availability((SELECT org FROM ctx), '2030-01-16', 'cal-a', 'teeth-whitening')$$,
                 'VB400', 'Dr. Able does not offer Teeth Whitening', '... and so is asking for that provider''s times for it');
-- a refused claim's alternatives: only providers offering the service
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-b', tests.at((SELECT org FROM ctx), '2030-01-16 10:00'),
                                'call-p2', 'Jo', '+15552020012', service => 'teeth-whitening')->>'success', 'true',
          'whitening with cal-b at 10:00');
SELECT is((SELECT array_agg(DISTINCT a->>'calendar_id')
             FROM jsonb_array_elements(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-b', tests.at((SELECT org FROM ctx), '2030-01-16 10:00'),
                                                             'call-p3', 'Kim', '+15552020013', service => 'teeth-whitening')->'alternatives') AS a),
          ARRAY['cal-b'], 'the other times offered after losing a slot are with providers offering the service');
RESET ROLE;
UPDATE voxbook.services AS s SET active = false FROM ctx WHERE s.org_id = ctx.org AND s.id = 'consultation';
SET LOCAL ROLE voxbook_api;
SELECT throws_ok($$SELECT api.check_availability((SELECT org FROM ctx), '2030-01-16', service => 'consultation')$$,
                 'VB400', 'Consultation is not offered', 'an inactive service is never offered');
SELECT throws_ok($$SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-16 11:00'),
                                                'call-p4', 'Lu', '+15552020014', service => 'consultation')$$,
                 'VB400', 'Consultation is not offered', '... nor claimable');
RESET ROLE;
UPDATE voxbook.calendars AS c SET active = false FROM ctx WHERE c.org_id = ctx.org AND c.id = 'cal-b';
SET LOCAL ROLE voxbook_api;
SELECT is(api.check_availability((SELECT org FROM ctx), '2030-01-16', service => 'teeth-whitening')->'slots', '[]'::jsonb,
          'a service whose only provider is inactive has no times');
SELECT is((SELECT array_agg(DISTINCT s->>'calendar_id')
             FROM jsonb_array_elements(api.check_availability((SELECT org FROM ctx), '2030-01-16', service => 'cleaning')->'slots') AS s),
          ARRAY['cal-a'], 'an inactive provider is never offered');
RESET ROLE;
UPDATE voxbook.calendars AS c SET active = true FROM ctx WHERE c.org_id = ctx.org AND c.id = 'cal-b';
UPDATE voxbook.services AS s SET active = true FROM ctx WHERE s.org_id = ctx.org AND s.id = 'consultation';

-- ---- Hours exceptions ----
INSERT INTO voxbook.hours_exceptions (org_id, calendar_id, on_date, starts, ends, reason)
SELECT ctx.org, 'cal-a', date '2030-01-17', time '10:00', time '11:00', 'short day' FROM ctx
UNION ALL SELECT ctx.org, 'cal-a', '2030-01-18', NULL, NULL, 'training' FROM ctx
UNION ALL SELECT ctx.org, 'cal-b', '2030-01-19', '08:00', '10:00', 'Saturday clinic' FROM ctx;
DELETE FROM voxbook.working_hours AS w USING ctx WHERE w.org_id = ctx.org AND w.calendar_id = 'cal-b' AND w.iso_dow = 6;
SET LOCAL ROLE voxbook_api;
SELECT is(pg_temp.offered(api.check_availability((SELECT org FROM ctx), '2030-01-17', 'cal-a')),
          ARRAY[pg_temp.utc(tests.at((SELECT org FROM ctx), '2030-01-17 10:00')), pg_temp.utc(tests.at((SELECT org FROM ctx), '2030-01-17 10:30'))],
          'an exception replaces the weekday''s hours for its date (a short day: 10:00-11:00)');
SELECT throws_ok($$SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-17 09:00'),
                                                'call-h1', 'Max', '+15552020021')$$,
                 'VB400', 'slot is outside Dr. Able''s working hours', 'a claim outside the exception''s hours is refused');
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', tests.at((SELECT org FROM ctx), '2030-01-17 10:30'),
                                'call-h2', 'Ned', '+15552020022')->>'success', 'true', 'one inside them is claimed');
SELECT is(pg_temp.offered(api.check_availability((SELECT org FROM ctx), '2030-01-18', 'cal-a')), '{}'::text[],
          'an exception without hours: not working that day');
SELECT is(cardinality(pg_temp.offered(api.check_availability((SELECT org FROM ctx), '2030-01-18', 'cal-b'))), 14,
          '... the other provider works as usual');
SELECT is(pg_temp.offered(api.check_availability((SELECT org FROM ctx), '2030-01-19', 'cal-b')),
          ARRAY(SELECT pg_temp.utc(tests.at((SELECT org FROM ctx), ('2030-01-19 08:00'::timestamp + n * interval '30 minutes')))
                  FROM generate_series(0, 3) AS n),
          'an exception opens a day without weekly hours (a Saturday clinic, 08:00-10:00)');
SELECT is(pg_temp.offered(api.check_availability((SELECT org FROM ctx), '2030-01-26', 'cal-b')), '{}'::text[],
          '... that date only');

-- ---- Clinic-wide closures (calendar_id NULL) ----
RESET ROLE;
INSERT INTO voxbook.blocked_periods (org_id, calendar_id, during, reason)
SELECT ctx.org, NULL, tstzrange(tests.at(ctx.org, '2030-01-21 00:00'), tests.at(ctx.org, '2030-01-22 00:00'), '[)'), 'holiday' FROM ctx;
SET LOCAL ROLE voxbook_api;
SELECT is(api.check_availability((SELECT org FROM ctx), '2030-01-21')->'slots', '[]'::jsonb,
          'a clinic-wide closure: nothing is offered with any provider');
SELECT throws_ok($$SELECT api.claim_slot_atomic((SELECT org FROM ctx), 'cal-b', tests.at((SELECT org FROM ctx), '2030-01-21 10:00'),
                                                'call-x1', 'Oz', '+15552020031')$$,
                 'VB400', 'the clinic is closed then', 'nor claimed');
SELECT is(cardinality(pg_temp.offered(api.check_availability((SELECT org FROM ctx), '2030-01-22'))), 28,
          'the next day is open again');

-- ---- DST: exceptions are local wall-clock times like weekly hours ----
RESET ROLE;
INSERT INTO voxbook.hours_exceptions (org_id, calendar_id, on_date, starts, ends)
SELECT ctx.org, 'cal-a', date '2030-03-10', time '01:00', time '04:00' FROM ctx       -- New York springs forward at 02:00
UNION ALL SELECT ctx.org, 'cal-a', '2030-11-03', '01:00', '02:00' FROM ctx   -- and falls back at 02:00
UNION ALL SELECT ctx.london, 'cal-a', '2030-03-31', '00:30', '02:30' FROM ctx  -- London springs forward at 01:00
UNION ALL SELECT ctx.london, 'cal-a', '2030-10-27', '00:30', '02:30' FROM ctx; -- and falls back at 02:00
INSERT INTO voxbook.blocked_periods (org_id, calendar_id, during, reason)
SELECT ctx.london, NULL, tstzrange(tests.at(ctx.london, '2030-10-28 00:00'), tests.at(ctx.london, '2030-10-29 00:00'), '[)'), 'closed' FROM ctx;
SET LOCAL ROLE voxbook_api;
SELECT is(pg_temp.offered(api.check_availability((SELECT org FROM ctx), '2030-03-10', 'cal-a')),
          ARRAY['2030-03-10T06:00:00Z', '2030-03-10T06:30:00Z', '2030-03-10T07:00:00Z', '2030-03-10T07:30:00Z'],
          'New York, spring forward: 01:00, 01:30, then 03:00, 03:30 EDT (02:xx does not exist)');
SELECT is(pg_temp.offered(api.check_availability((SELECT org FROM ctx), '2030-11-03', 'cal-a')),
          ARRAY['2030-11-03T05:00:00Z', '2030-11-03T05:30:00Z', '2030-11-03T06:00:00Z', '2030-11-03T06:30:00Z'],
          'New York, fall back: both passes through 01:00 and 01:30');
SELECT is(api.claim_slot_atomic((SELECT org FROM ctx), 'cal-a', '2030-11-03T06:30:00Z', 'call-d1', 'Pia', '+15552020041')->>'success',
          'true', '... and the second 01:30 is claimable');
SELECT is(pg_temp.offered(api.check_availability((SELECT london FROM ctx), '2030-03-31', 'cal-a')),
          ARRAY['2030-03-31T00:30:00Z', '2030-03-31T01:00:00Z'],
          'London, spring forward: 00:30 GMT, then 02:00 BST (01:xx does not exist)');
SELECT throws_ok($$SELECT api.claim_slot_atomic((SELECT london FROM ctx), 'cal-a', '2030-03-31T01:30:00Z', 'call-d2', 'Quin', '+447700900123')$$,
                 'VB400', NULL, 'London: 02:30 BST would end after the exception''s 02:30 close: refused');
SELECT is(pg_temp.offered(api.check_availability((SELECT london FROM ctx), '2030-10-27', 'cal-a')),
          ARRAY['2030-10-26T23:30:00Z', '2030-10-27T00:00:00Z', '2030-10-27T00:30:00Z', '2030-10-27T01:00:00Z',
                '2030-10-27T01:30:00Z', '2030-10-27T02:00:00Z'],
          'London, fall back: 00:30 BST, 01:00 and 01:30 twice (BST, then GMT), 02:00 GMT, ending by 02:30 GMT');
SELECT is(api.check_availability((SELECT london FROM ctx), '2030-10-28')->'slots', '[]'::jsonb,
          'London: a closure of a local day after the change covers that whole day');
SELECT is(cardinality(pg_temp.offered(api.check_availability((SELECT london FROM ctx), '2030-10-29'))), 28,
          '... and only that day');

SELECT * FROM finish();
ROLLBACK;
