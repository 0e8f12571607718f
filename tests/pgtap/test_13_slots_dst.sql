-- DST edges: for a calendar open 01:00-03:00 local, on the spring-forward and fall-back days of New York,
-- Berlin and Sydney, what api.check_availability offers is exactly what api.claim_slot_atomic accepts.
-- Every instant of the local day, every 15 minutes (so off-grid ones too), is claimed inside a
-- subtransaction that is then undone; the claimable ones must be the offered ones. Run as the API role.
BEGIN;
SELECT plan(18);

SELECT tests.freeze_time('2030-01-01 00:00:00+00');
CREATE TEMP TABLE zones AS
SELECT z.tz, tests.create_clinic('DST ' || z.tz, time_zone => z.tz) AS org
  FROM unnest(ARRAY['America/New_York', 'Europe/Berlin', 'Australia/Sydney']) AS z(tz);
DELETE FROM voxbook.working_hours AS w USING zones AS z WHERE w.org_id = z.org AND w.calendar_id = 'cal-a';
INSERT INTO voxbook.working_hours (org_id, calendar_id, iso_dow, starts, ends)
SELECT z.org, 'cal-a', d, '01:00', '03:00' FROM zones AS z, generate_series(1, 7) AS d;

-- 'claimed' when a claim of cal-a at that instant succeeds, else why not; the claim is always undone.
CREATE FUNCTION pg_temp.claim_outcome(org uuid, at timestamptz, service text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    r jsonb;
BEGIN
    r := api.claim_slot_atomic(org, 'cal-a', at, NULL, 'Dee Esty', NULL, service => service);
    RAISE EXCEPTION USING ERRCODE = 'VBTST', MESSAGE = CASE WHEN (r->>'success')::boolean THEN 'claimed' ELSE r->>'code' END;
EXCEPTION
    WHEN SQLSTATE 'VBTST' THEN RETURN SQLERRM;
    WHEN SQLSTATE 'VB400' THEN RETURN SQLERRM;
END
$$;

SELECT tests.share_with_api();
SET LOCAL ROLE voxbook_api;
CREATE TEMP TABLE cases AS
SELECT z.tz, z.org, c.kind, c.day::date AS day, s.service,
       ARRAY(SELECT (x->>'time')::timestamptz
               FROM jsonb_array_elements(api.check_availability(z.org, c.day::date, 'cal-a', s.service)->'slots') AS x
              ORDER BY 1) AS offered,
       ARRAY(SELECT t FROM generate_series(tests.at(z.org, c.day::timestamp), tests.at(z.org, c.day::timestamp + interval '1 day'),
                                           interval '15 minutes') AS t
              WHERE pg_temp.claim_outcome(z.org, t, s.service) = 'claimed'
              ORDER BY 1) AS claimable
  FROM zones AS z
  JOIN (VALUES ('America/New_York', 'spring-forward', '2030-03-10'), ('America/New_York', 'fall-back', '2030-11-03'),
               ('Europe/Berlin', 'spring-forward', '2030-03-31'), ('Europe/Berlin', 'fall-back', '2030-10-27'),
               ('Australia/Sydney', 'spring-forward', '2030-10-06'), ('Australia/Sydney', 'fall-back', '2030-04-07'))
       AS c(tz, kind, day) ON c.tz = z.tz
 CROSS JOIN (VALUES ('consultation'), ('cleaning')) AS s(service);

-- the rule, both ways, on all 12 days x services
SELECT is(claimable, offered, format('%s %s day (%s), %s: every offered slot is claimable and every claimable time is offered',
                                     tz, kind, day, service))
  FROM cases ORDER BY tz, day, service;

-- the three reported edges, by name
SELECT is((SELECT offered FROM cases WHERE tz = 'America/New_York' AND kind = 'spring-forward' AND service = 'cleaning'),
          ARRAY['2030-03-10 06:00:00+00'::timestamptz],
          'New York spring-forward: a 60-minute 01:30 slot would end at 03:30 and is not offered; 01:00 is (it ends at 03:00)');
SELECT is((SELECT offered FROM cases WHERE tz = 'America/New_York' AND kind = 'spring-forward' AND service = 'consultation'),
          ARRAY['2030-03-10 06:00:00+00', '2030-03-10 06:30:00+00']::timestamptz[],
          'New York spring-forward: 02:00 and 02:30 do not exist and are not offered');
SELECT is((SELECT offered FROM cases WHERE tz = 'America/New_York' AND kind = 'fall-back' AND service = 'consultation'),
          ARRAY['2030-11-03 05:00:00+00', '2030-11-03 05:30:00+00', '2030-11-03 06:00:00+00', '2030-11-03 06:30:00+00',
                '2030-11-03 07:00:00+00', '2030-11-03 07:30:00+00']::timestamptz[],
          'New York fall-back: both passes through 01:00-02:00 are offered (EDT first, then EST), then 02:00 and 02:30');
SELECT ok((SELECT '2030-10-27 00:30:00+00'::timestamptz = ANY (offered) AND '2030-10-27 01:30:00+00'::timestamptz = ANY (offered)
             FROM cases WHERE tz = 'Europe/Berlin' AND kind = 'fall-back' AND service = 'consultation'),
          'Berlin fall-back: 02:30 is offered in both passes (CEST and CET)');
SELECT ok((SELECT '2030-04-06 15:30:00+00'::timestamptz = ANY (offered) AND '2030-04-06 16:30:00+00'::timestamptz = ANY (offered)
             FROM cases WHERE tz = 'Australia/Sydney' AND kind = 'fall-back' AND service = 'consultation'),
          'Sydney fall-back: 02:30 is offered in both passes (AEDT and AEST)');
SELECT is(pg_temp.claim_outcome((SELECT org FROM zones WHERE tz = 'America/New_York'), '2030-03-10 06:30:00+00', 'cleaning'),
          'slot is outside Dr. Able''s working hours', 'the refused 01:30 cleaning is refused for running past closing');

SELECT * FROM finish();
ROLLBACK;
