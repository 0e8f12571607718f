-- The helpers of the api functions live in schema internal (granted to nobody, rebuilt on every migrate by
-- 00_api_schema.sql) and run with the rights of the api function that calls them. This file: the clock,
-- errors, refusals and the checks of required values, dates and instants.

-- The one clock of the booking logic. Tests freeze it per transaction with
-- set_config('voxbook.frozen_now', '...', true) (see tests/helpers.pgsql); production never sets it.
-- Any session may set a custom setting, so the frozen time counts only for a session whose login role
-- may move the clock (a superuser or a member of voxbook_clock): the API's roles cannot book in 2020.
-- session_user, not current_user: inside the SECURITY DEFINER api functions current_user is their owner.
CREATE FUNCTION internal.clock() RETURNS timestamptz
    LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN coalesce(current_setting('voxbook.frozen_now', true), '') = '' THEN now()
                WHEN pg_has_role(session_user, 'voxbook_clock', 'MEMBER')
                    THEN current_setting('voxbook.frozen_now', true)::timestamptz
                ELSE now() END
$$;

-- Errors for invalid requests. Their SQLSTATEs are the documented contract (db/README.md):
--   VB400 invalid parameter, VB404 unknown id (also: an id of another clinic), VB409 state conflict.
CREATE FUNCTION internal.fail(code text, message text, hint text, detail text DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    IF detail IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, HINT = hint;
    END IF;
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, HINT = hint, DETAIL = detail;
END
$$;

-- Business outcomes that are not errors (a lost race, a wrong code) share one shape.
CREATE FUNCTION internal.refusal(code text, error text, extra jsonb DEFAULT '{}') RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('success', false, 'code', code, 'error', error) || extra
$$;

CREATE FUNCTION internal.require(value anyelement, what text) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    IF value IS NULL THEN
        PERFORM internal.fail('VB400', what || ' is required', 'Pass ' || what || ' (named parameter).');
    END IF;
END
$$;

-- The one range of dates and instants the api functions accept: from 2000-01-01 to five years after
-- the clock. An infinite date made generate_series endless in api.check_availability (one tool call
-- held a pooled connection and wrote temp files at 250 MB/s); year 0 or 10,000 days out is never a
-- booking, a call or a schedule anybody asks for. Five years covers the longest booking horizon (730 days).
CREATE FUNCTION internal.in_time_range(value timestamptz) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT value >= timestamptz '2000-01-01 00:00:00+00' AND value <= internal.clock() + interval '5 years'
$$;

-- VB400 unless value is in internal.in_time_range; NULL passes when optional, else is "required".
CREATE FUNCTION internal.require_instant(value timestamptz, what text, optional boolean DEFAULT false)
    RETURNS void
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF value IS NULL THEN
        IF NOT optional THEN
            PERFORM internal.require(value, what);
        END IF;
    ELSIF NOT internal.in_time_range(value) THEN
        PERFORM internal.fail('VB400', what || ' is out of range',
                              'Give a real date from 2000 to five years ahead, e.g. 2026-03-02 (a time: 2026-03-02T14:00:00Z).');
    END IF;
END
$$;

-- The same rule for a date, checked as its first instant in UTC (dates past 9999 do not even convert).
CREATE FUNCTION internal.require_date(value date, what text, optional boolean DEFAULT false)
    RETURNS void
    LANGUAGE sql STABLE AS $$
    SELECT internal.require_instant(CASE WHEN value > DATE '9999-12-31' THEN 'infinity'
                                        ELSE value::timestamp AT TIME ZONE 'UTC' END, what, optional)
$$;
