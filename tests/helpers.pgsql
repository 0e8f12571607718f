-- Test helpers (loaded by tests/conftest.py after migrating; never part of a deployment). Not a test file:
-- it sets up state for them, so it is no BEGIN/ROLLBACK pgTAP file (hence .pgsql, not .sql).
-- In the spirit of supabase's test helpers: a tests schema with fixtures and a frozen clock.
CREATE SCHEMA IF NOT EXISTS tests;

-- Freezes internal.clock() for the rest of the current transaction: the one way test files move the clock
-- (it counts because the test session's login role is a superuser; see internal.clock()).
-- Returns a TAP comment, so `SELECT tests.freeze_time(...);` is a plain line of a pgTAP file (a void
-- result would be a NULL row, which pytest-pgtap cannot read).
CREATE OR REPLACE FUNCTION tests.freeze_time(at timestamptz) RETURNS text
    LANGUAGE sql AS $$ SELECT '# clock frozen at ' || set_config('voxbook.frozen_now', at::text, true) $$;

CREATE OR REPLACE FUNCTION tests.unfreeze_time() RETURNS text
    LANGUAGE sql AS $$ SELECT '# clock running' || set_config('voxbook.frozen_now', '', true) $$;

-- A clinic in America/New_York with two calendars working every day 09:00-12:00 and 13:00-17:00,
-- 30-minute slots, and three services. Returns its id.
CREATE OR REPLACE FUNCTION tests.create_clinic(name text DEFAULT 'Test Clinic', phone text DEFAULT NULL,
                                               time_zone text DEFAULT 'America/New_York',
                                               min_notice_minutes int DEFAULT 0)
    RETURNS uuid
    LANGUAGE plpgsql AS $$
DECLARE
    org uuid;
BEGIN
    INSERT INTO voxbook.organizations (name, phone, time_zone, hot_lead_alert_phone, min_notice_minutes, booking_horizon_days)
    VALUES (name, coalesce(phone, '+1555' || lpad((floor(random() * 10000000))::int::text, 7, '0')), time_zone,
            '+15559990000', min_notice_minutes, 365)
    RETURNING id INTO org;
    INSERT INTO voxbook.calendars (org_id, id, display_name) VALUES (org, 'cal-a', 'Dr. Able'), (org, 'cal-b', 'Dr. Baker');
    INSERT INTO voxbook.working_hours (org_id, calendar_id, iso_dow, starts, ends)
    SELECT org, c, d, s, e FROM unnest(ARRAY['cal-a', 'cal-b']) AS c, generate_series(1, 7) AS d,
           (VALUES ('09:00'::time, '12:00'::time), ('13:00', '17:00')) AS v(s, e);
    INSERT INTO voxbook.services (org_id, id, name, duration_minutes, price_cents, value_tier) VALUES
        (org, 'consultation', 'Consultation', 30, 10000, 'standard'),
        (org, 'cleaning', 'Cleaning', 60, 15000, 'standard'),
        (org, 'teeth-whitening', 'Teeth Whitening', 60, 60000, 'high');
    RETURN org;
END
$$;

-- The instant of a local wall-clock time in the clinic's zone, e.g. tests.at(org, '2030-01-15 10:00').
-- PL/pgSQL like every function that reads a table, so that these run on Citus too (db/README.md).
CREATE OR REPLACE FUNCTION tests.at(org uuid, local_time timestamp) RETURNS timestamptz
    LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
BEGIN
    RETURN (SELECT local_time AT TIME ZONE o.time_zone FROM voxbook.organizations AS o WHERE o.id = org);
END
$$;

-- The plain code of a hold's newest unsent code SMS: what the patient reads on their phone.
CREATE OR REPLACE FUNCTION tests.code_of(hold uuid) RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
BEGIN
    RETURN (SELECT substring(m.body FROM '^([0-9]{4,8}) ') FROM voxbook.sms_outbox AS m
             WHERE m.hold_id = hold AND m.kind = 'otp' AND m.status = 'queued'
             ORDER BY m.created_at DESC LIMIT 1);
END
$$;

-- Changes a clinic's settings as the owner, e.g. tests.set_clinic(org, $$time_zone = 'Europe/London'$$); a TAP
-- comment like tests.freeze_time. Test files use it rather than UPDATE ... WHERE id = (SELECT org FROM ctx):
-- on Citus organizations is a reference table, and a write on it takes no temp table in a subquery (the id
-- arrives here as a value). Exactly one clinic must change.
CREATE OR REPLACE FUNCTION tests.set_clinic(org uuid, assignments text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('UPDATE voxbook.organizations SET %s WHERE id = $1', assignments) USING org;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 1 THEN
        RAISE EXCEPTION 'tests.set_clinic: % clinics with id %', n, org;
    END IF;
    RETURN '# clinic ' || org || ': ' || assignments;
END
$$;

-- Errors are asserted one way: pgTAP's throws_ok(statement, SQLSTATE, message or NULL, description).

-- Flow files set up as the superuser, then act as the API role (SET LOCAL ROLE voxbook_api) as the API and
-- the worker do, and RESET ROLE only around the direct table reads and writes that set up or inspect state.
-- As that role they may still use what stands outside the API: the clock, local times, the code the
-- patient reads on their phone, and the temp tables they set up (tests.share_with_api()).
-- The HINT (or the DETAIL) of the error a statement raises, NULL when it raises none: what a refusal tells
-- the caller, asserted as text. The statement runs as the calling role (SECURITY INVOKER).
CREATE OR REPLACE FUNCTION tests.hint_of(statement text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    h text;
BEGIN
    EXECUTE statement;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    RETURN h;
END
$$;

CREATE OR REPLACE FUNCTION tests.detail_of(statement text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    d text;
BEGIN
    EXECUTE statement;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN d;
END
$$;

GRANT USAGE ON SCHEMA tests TO voxbook_api;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA tests FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tests.freeze_time(timestamptz), tests.unfreeze_time(), tests.at(uuid, timestamp),
                          tests.code_of(uuid), tests.hint_of(text), tests.detail_of(text) TO voxbook_api;

-- Lets the API role read this session's temp tables (setup results such as ctx): call before SET LOCAL ROLE.
CREATE OR REPLACE FUNCTION tests.share_with_api() RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT c.oid FROM pg_class AS c WHERE c.relnamespace = pg_my_temp_schema() AND c.relkind = 'r' LOOP
        EXECUTE format('GRANT SELECT, INSERT ON %s TO voxbook_api', t);
    END LOOP;
    RETURN '# temp tables shared with voxbook_api';
END
$$;
