-- Bookable times and the holds that claim them.

-- Every instant at which a clock in zone tz shows local_ts: none in a spring-forward gap, two in a
-- fall-back's repeated hour, else one. (`local_ts AT TIME ZONE tz` picks one of two, the later: the
-- first pass through a repeated hour was never offered, though a claim for it was accepted.) The zone's
-- UTC offsets a day before and a day after cover any one change of offset.
CREATE FUNCTION internal.local_instants(local_ts timestamp, tz text) RETURNS SETOF timestamptz
    LANGUAGE sql STABLE AS $$
    -- The two candidates (by the offset a day before and a day after), each kept when the clock shows
    -- local_ts at it, the second only when it differs from the first: no DISTINCT (its sort was set up again
    -- for every grid point of every calendar: 3 200 of them in a refused claim's alternatives at a clinic of
    -- 200 providers), and an array rather than VALUES (whose expressions are initialised again for every row).
    SELECT x.at
      FROM (SELECT unnest(ARRAY[p.first, CASE WHEN p.second <> p.first THEN p.second END]) AS at
              FROM (SELECT (local_ts - ((b.near AT TIME ZONE tz) - (b.near AT TIME ZONE 'UTC'))) AT TIME ZONE 'UTC' AS first,
                           (local_ts - ((a.near AT TIME ZONE tz) - (a.near AT TIME ZONE 'UTC'))) AT TIME ZONE 'UTC' AS second
                      FROM (SELECT (local_ts - interval '1 day') AT TIME ZONE tz AS near) AS b,
                           (SELECT (local_ts + interval '1 day') AT TIME ZONE tz AS near) AS a) AS p) AS x
     WHERE x.at AT TIME ZONE tz = local_ts
$$;

-- The one definition of a bookable start: api.check_availability offers these (minus taken times) and
-- internal.assert_bookable accepts nothing else, so what is offered is exactly what a claim accepts.
-- A start is on the wall-clock grid of a working interval of its local day (every slot_minutes from
-- the interval's start: 9:00 stays 9:00 across DST), at every instant the clinic's clock shows that
-- time (none in a spring-forward gap, both passes through a fall-back's repeated hour); the appointment,
-- `span` of real time, ends by the instant the interval closes (so a 60-minute 01:30 slot on a
-- spring-forward day, which ends at 03:30, does not fit hours ending at 03:00; a closing time that is
-- ambiguous or skipped is read as PostgreSQL reads it, the later instant); the start is at least
-- min_notice_minutes ahead and within booking_horizon_days; and the time is clear of blocked periods (the
-- provider's, and the clinic's closures: calendar_id NULL). A day's working intervals are its hours exceptions
-- (voxbook.hours_exceptions) when it has any, else its weekday's working_hours; DST as above either way.
-- Holds are not looked at: the exclusion constraint decides those, atomically (buffers included: occupies).
-- Several calendars of the clinic at once (cal_ids, with each one's slot_minutes and span at the same
-- position): two queries for all of them, where one call per calendar cost two queries each (a refused claim's
-- alternatives at a clinic of 200 providers: ~400 query executions, ~90 ms of CPU, bench/README.md).
-- at_instant: check just this instant (first_day must then be its local date): the claim's hot path.
-- PL/pgSQL, not SQL, as every function that reads a table (db/README.md, Citus: inside a delegated call on a
-- Citus worker the SQL version silently returned no rows). Scalars and arrays of scalars only as arguments:
-- no calendar row crosses into a query (on a shard it would have the shard's row type).
CREATE FUNCTION internal.slot_starts(o voxbook.organizations, cal_ids text[], slot_minutes int[], spans interval[],
                                     first_day date, last_day date, at_instant timestamptz DEFAULT NULL)
    RETURNS TABLE (cal_id text, starts_at timestamptz, ends_at timestamptz)
    LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    -- A value, not the clock inside the query: on Citus the query may run on a worker, where a clock frozen
    -- by the session (tests) is not set; the value read here is the caller's.
    now_ts timestamptz := internal.clock();
    cals text[];
    days date[];
    opens time[];
    closes time[];
BEGIN
    -- The working intervals of each calendar and day (internal.day_hours says the same for one day): its hours
    -- exceptions when it has any (one without times: not working), else its weekday's hours. A query of its own,
    -- into arrays: folded into the query below as a lateral UNION, it made that query ~20 ms to plan, paid by
    -- every session's first few calls (64 cold callers at once: a 2-3 s p99 in bench/ hot_slot).
    SELECT array_agg(x.calendar_id), array_agg(x.on_date), array_agg(x.starts), array_agg(x.ends)
      INTO cals, days, opens, closes
      FROM unnest(cal_ids) AS k(cal)
     CROSS JOIN LATERAL (
            SELECT e.calendar_id, e.on_date, e.starts, e.ends FROM voxbook.hours_exceptions AS e
             WHERE e.org_id = o.id AND e.calendar_id = k.cal AND e.on_date BETWEEN first_day AND last_day
               AND e.starts IS NOT NULL
            UNION ALL
            -- Joined calendar by calendar (working_hours' only index is its GiST exclusion constraint, which
            -- takes no "= ANY"): one index probe per calendar, not every row of the clinic's week.
            SELECT w.calendar_id, d.day::date, w.starts, w.ends
              FROM generate_series(first_day::timestamp, last_day::timestamp, interval '1 day') AS d(day)
              JOIN voxbook.working_hours AS w
                ON w.org_id = o.id AND w.calendar_id = k.cal AND w.iso_dow = extract(isodow FROM d.day)
             WHERE NOT EXISTS (SELECT 1 FROM voxbook.hours_exceptions AS e
                                WHERE e.org_id = o.id AND e.calendar_id = k.cal
                                  AND e.on_date = d.day::date)) AS x;
    RETURN QUERY
    SELECT w.cal, i.at, i.at + k.span
      FROM unnest(cals, days, opens, closes) AS w(cal, on_date, starts, ends)
      JOIN unnest(cal_ids, slot_minutes, spans) AS k(cal, slot, span) ON k.cal = w.cal
     CROSS JOIN LATERAL (SELECT w.on_date::timestamp AS day) AS d
     CROSS JOIN LATERAL generate_series(d.day + w.starts, d.day + w.ends,
                                        make_interval(mins => k.slot)) AS g(local_ts)
     CROSS JOIN LATERAL internal.local_instants(g.local_ts, o.time_zone) AS i(at)
     WHERE g.local_ts < d.day + w.ends
       AND (at_instant IS NULL OR g.local_ts = at_instant AT TIME ZONE o.time_zone)
       AND (at_instant IS NULL OR i.at = at_instant)
       AND i.at + k.span <= (d.day + w.ends) AT TIME ZONE o.time_zone
       AND i.at >= now_ts + make_interval(mins => o.min_notice_minutes)
       AND i.at <= now_ts + make_interval(days => o.booking_horizon_days)
       AND NOT EXISTS (SELECT 1 FROM voxbook.blocked_periods AS b
                        WHERE b.org_id = o.id AND (b.calendar_id = w.cal OR b.calendar_id IS NULL)
                          AND b.during && tstzrange(i.at, i.at + k.span, '[)'));
END
$$;

-- Generic plans for internal.slot_starts on a single node: with PostgreSQL's default its main query
-- (local_instants inlined) was planned anew on every call -- its custom plans looked cheaper than a generic one
-- -- about half the CPU of a claim (auto_explain and CPU per claim, bench/README.md); the plan's shape never
-- depends on the values. Not on Citus: there a query with parameters must be planned with their values (a
-- generic plan of a query over distributed tables is refused), and each call is planned as before.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        ALTER FUNCTION internal.slot_starts(voxbook.organizations, text[], int[], interval[], date, date, timestamptz)
            SET plan_cache_mode = force_generic_plan;
    END IF;
END
$$;

-- A provider's working intervals on one local date: that date's hours exceptions when it has any (none with
-- times: not working), else its weekday's working_hours. The words of a refusal (internal.assert_bookable)
-- may use it; internal.slot_starts applies the same rule to its range of dates in one query.
CREATE FUNCTION internal.day_hours(org_id uuid, calendar_id text, on_date date)
    RETURNS TABLE (starts time, ends time)
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM voxbook.hours_exceptions AS e
                WHERE e.org_id = day_hours.org_id AND e.calendar_id = day_hours.calendar_id
                  AND e.on_date = day_hours.on_date) THEN
        RETURN QUERY SELECT e.starts, e.ends FROM voxbook.hours_exceptions AS e
                      WHERE e.org_id = day_hours.org_id AND e.calendar_id = day_hours.calendar_id
                        AND e.on_date = day_hours.on_date AND e.starts IS NOT NULL
                      ORDER BY e.starts;
    ELSE
        RETURN QUERY SELECT w.starts, w.ends FROM voxbook.working_hours AS w
                      WHERE w.org_id = day_hours.org_id AND w.calendar_id = day_hours.calendar_id
                        AND w.iso_dow = extract(isodow FROM day_hours.on_date)
                      ORDER BY w.starts;
    END IF;
END
$$;

-- The time a booking of [starts_at, ends_at) occupies on its calendar: its service's buffers before and after
-- included (voxbook.holds.occupies; holds_no_overlap is on it). Values only, so it runs per row anywhere.
CREATE FUNCTION internal.occupied(starts_at timestamptz, ends_at timestamptz, before_minutes int, after_minutes int)
    RETURNS tstzrange
    LANGUAGE sql STABLE AS $$
    SELECT tstzrange(starts_at - make_interval(mins => coalesce(before_minutes, 0)),
                     ends_at + make_interval(mins => coalesce(after_minutes, 0)), '[)')
$$;

-- Raises VB400 unless starts_at is a bookable start (internal.slot_starts) for [starts_at, ends_at),
-- with the reason: in the past, too soon, too far ahead, outside working hours (also: running past
-- their end), off the slot grid, or blocked.
CREATE FUNCTION internal.assert_bookable(o voxbook.organizations, c voxbook.calendars,
                                         starts_at timestamptz, ends_at timestamptz)
    RETURNS void
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    now_ts    timestamptz := internal.clock();
    local_s   timestamp := starts_at AT TIME ZONE o.time_zone;
    interval_start time;
    hint      text := 'Offer a time returned by api.check_availability.';
BEGIN
    IF EXISTS (SELECT 1 FROM internal.slot_starts(o, ARRAY[c.id], ARRAY[c.slot_minutes], ARRAY[ends_at - starts_at],
                                                  local_s::date, local_s::date, at_instant => starts_at)) THEN
        RETURN;
    END IF;
    -- Refused. The decision is made above; what follows only finds the words for it.
    IF starts_at < now_ts THEN
        PERFORM internal.fail('VB400', 'slot is in the past', hint);
    END IF;
    IF starts_at < now_ts + make_interval(mins => o.min_notice_minutes) THEN
        PERFORM internal.fail('VB400', format('slot is too soon: bookings need %s minutes notice', o.min_notice_minutes), hint);
    END IF;
    IF starts_at > now_ts + make_interval(days => o.booking_horizon_days) THEN
        PERFORM internal.fail('VB400', format('slot is too far ahead: bookings open %s days in advance', o.booking_horizon_days), hint);
    END IF;
    SELECT x.starts INTO interval_start FROM internal.day_hours(o.id, c.id, local_s::date) AS x
     WHERE local_s::time >= x.starts AND local_s::time < x.ends;
    IF interval_start IS NOT NULL
       AND (extract(epoch FROM local_s::time - interval_start)::bigint % (c.slot_minutes * 60)) <> 0 THEN
        PERFORM internal.fail('VB400', format('slot is not on the %s-minute grid of %s', c.slot_minutes, c.display_name), hint);
    END IF;
    IF interval_start IS NOT NULL
       AND EXISTS (SELECT 1 FROM voxbook.blocked_periods AS b
                    WHERE b.org_id = o.id AND b.calendar_id IS NULL
                      AND b.during && tstzrange(starts_at, ends_at, '[)')) THEN
        PERFORM internal.fail('VB400', 'the clinic is closed then', hint);
    END IF;
    IF interval_start IS NOT NULL
       AND EXISTS (SELECT 1 FROM voxbook.blocked_periods AS b
                    WHERE b.org_id = o.id AND b.calendar_id = c.id
                      AND b.during && tstzrange(starts_at, ends_at, '[)')) THEN
        PERFORM internal.fail('VB400', format('%s is not available then', c.display_name), hint);
    END IF;
    PERFORM internal.fail('VB400', format('slot is outside %s''s working hours', c.display_name), hint);
END
$$;

-- Expired holds still sit in holds_no_overlap until their status flips. A claim or a reschedule that
-- finds its time blocked flips the expired holds of this calendar whose occupied time overlaps `during` (the
-- time the new claim occupies, buffers included; correctness never
-- waits for api.expire_stale_holds), locking them in id order first so that two callers flipping the same
-- holds cannot deadlock. Returns how many were flipped.
CREATE FUNCTION internal.flip_expired_holds(org_id uuid, calendar_id text, during tstzrange) RETURNS int
    LANGUAGE plpgsql AS $$
DECLARE
    now_ts timestamptz := internal.clock();
    n int;
BEGIN
    UPDATE voxbook.holds AS x SET status = 'expired', release_reason = 'expired', updated_at = now_ts
     WHERE (x.org_id, x.id) IN (
            SELECT y.org_id, y.id FROM voxbook.holds AS y
             WHERE y.org_id = flip_expired_holds.org_id AND y.calendar_id = flip_expired_holds.calendar_id
               AND hashtextextended(y.calendar_id, 0) = hashtextextended(flip_expired_holds.calendar_id, 0)
               AND y.status = 'held' AND y.expires_at <= now_ts
               AND coalesce(y.occupies, tstzrange(y.starts_at, y.ends_at, '[)')) && during
             ORDER BY y.id FOR UPDATE)
       AND x.status = 'held';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- PL/pgSQL rather than SQL: its expression plan is cached per session, and it takes the clinic and
-- calendar rows the caller already holds instead of reading them again (claims are the hot path).
CREATE FUNCTION internal.hold_json(h voxbook.holds, o voxbook.organizations, c voxbook.calendars,
                                   message text)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    -- The caller's locale when the call said one (h.locale), else the clinic's (17_locales.sql). en-US
    -- without the call of internal.field_locale (which answers the same): a PL/pgSQL call costs ~30-50 k
    -- instructions per transaction, and most claims are at en-US clinics from callers who named no language.
    loc constant jsonb := CASE WHEN h.locale IS NULL AND o.locale = 'en-US' THEN internal.default_locale_formats()
                               ELSE internal.field_locale(o.locale, h.locale) END;
    lt constant timestamp := h.starts_at AT TIME ZONE o.time_zone;   -- converted once (17_locales.sql)
BEGIN
    RETURN jsonb_build_object(
        'success', true,
        'hold_id', h.id,
        'expires_at', internal.utc_iso(h.expires_at),
        'message', message,
        'status', h.status,
        'calendar_id', h.calendar_id,
        'provider', c.display_name,
        'starts_at', internal.utc_iso(h.starts_at),
        'ends_at', internal.utc_iso(h.ends_at),
        'local_time', internal.local_text_of(lt, loc),
        'spoken_time', internal.spoken_time_of(lt, loc));
END
$$;
