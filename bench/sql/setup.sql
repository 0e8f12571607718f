-- Bench-only objects, loaded as the database owner into each benchmark database after
-- `voxbook db migrate`. Never part of a deployment; nothing here is granted to voxbook_api.
CREATE SCHEMA IF NOT EXISTS bench;

-- A clinic whose every calendar works every day from day_start to day_end (local time) on a
-- 30-minute grid. Booking rules are relaxed (no notice, two-year horizon) so that a generator can
-- pick any grid slot from tomorrow on without knowing more than the grid.
CREATE OR REPLACE FUNCTION bench.create_clinic(n_calendars int, phone text, time_zone text DEFAULT 'UTC',
                                               day_start time DEFAULT '08:00', day_end time DEFAULT '16:00',
                                               name text DEFAULT 'Bench Clinic')
    RETURNS uuid
    LANGUAGE plpgsql AS $$
DECLARE
    org uuid;
BEGIN
    INSERT INTO voxbook.organizations (name, phone, time_zone, sms_from, min_notice_minutes, booking_horizon_days)
    VALUES (name, phone, time_zone, '+15550009999', 0, 730)
    RETURNING id INTO org;
    INSERT INTO voxbook.calendars (org_id, id, display_name)
    SELECT org, format('c%s', i), format('Dr. Bench %s', i) FROM generate_series(1, n_calendars) AS i;
    INSERT INTO voxbook.working_hours (org_id, calendar_id, iso_dow, starts, ends)
    SELECT org, format('c%s', i), d, day_start, day_end
      FROM generate_series(1, n_calendars) AS i, generate_series(1, 7) AS d;
    INSERT INTO voxbook.services (org_id, id, name, duration_minutes, price_cents, value_tier)
    VALUES (org, 'consultation', 'Consultation', 30, 10000, 'standard');
    RETURN org;
END
$$;

-- Baseline 1: the cheapest durable write a claim could be, one row into a table with a primary key
-- and the same columns a hold needs. Whatever a claim costs beyond this is booking logic.
CREATE TABLE IF NOT EXISTS bench.plain_holds (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL,
    calendar_id   text NOT NULL,
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    vapi_call_id  text,
    patient_name  text,
    patient_phone text,
    status        text NOT NULL DEFAULT 'held',
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Baseline 3: the same guarantee with no logic -- a bare INSERT ... ON CONFLICT DO NOTHING of the same values
-- into a table shaped like voxbook.holds (its columns, defaults and checks) with nothing but a primary key and
-- a copy of holds_no_overlap, whatever that arbiter is today (copied from the catalogue, so it follows every
-- migration). Between it and baseline 1 is the price of the guarantee; between it and the claim, ours.
CREATE TABLE IF NOT EXISTS bench.floor_holds (LIKE voxbook.holds INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'bench.floor_holds'::regclass AND contype = 'x') THEN
        EXECUTE 'ALTER TABLE bench.floor_holds ADD PRIMARY KEY (org_id, id), ADD CONSTRAINT floor_holds_no_overlap '
                || pg_get_constraintdef((SELECT c.oid FROM pg_constraint AS c
                                          WHERE c.conrelid = 'voxbook.holds'::regclass AND c.conname = 'holds_no_overlap'));
    END IF;
END
$$;

-- Baseline 2: the seed's design (shared/seed/atomic-appointment-booking.md), as it describes it:
-- appointment_holds with a partial unique index on the start instant, and a claim that takes
-- pg_advisory_xact_lock(hashtext(calendar_id || slot_time)), checks for an active hold, then inserts.
CREATE TABLE IF NOT EXISTS bench.seed_holds (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         uuid NOT NULL,
    calendar_id    text NOT NULL,
    slot_time      timestamptz NOT NULL,
    call_sid       text,
    patient_name   text,
    patient_phone  text,
    status         text NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'confirmed', 'expired')),
    otp_code       text,
    otp_attempts   int DEFAULT 0,
    otp_sent_at    timestamptz,
    expires_at     timestamptz NOT NULL,
    appointment_id uuid,
    created_at     timestamptz DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS seed_holds_one_active ON bench.seed_holds (org_id, calendar_id, slot_time)
    WHERE status IN ('held', 'confirmed');

CREATE OR REPLACE FUNCTION bench.seed_claim_slot_atomic(org_id uuid, calendar_id text, slot_time timestamptz,
                                                        call_sid text, patient_name text, patient_phone text,
                                                        hold_minutes int DEFAULT 10)
    RETURNS jsonb
    LANGUAGE plpgsql AS $$
DECLARE
    h bench.seed_holds;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(calendar_id || slot_time::text));
    IF EXISTS (SELECT 1 FROM bench.seed_holds AS x
                WHERE x.org_id = seed_claim_slot_atomic.org_id AND x.calendar_id = seed_claim_slot_atomic.calendar_id
                  AND x.slot_time = seed_claim_slot_atomic.slot_time AND x.status IN ('held', 'confirmed')
                  AND (x.status = 'confirmed' OR x.expires_at > now())) THEN
        RETURN jsonb_build_object('success', false, 'error', 'Slot already held');
    END IF;
    INSERT INTO bench.seed_holds AS x (org_id, calendar_id, slot_time, call_sid, patient_name, patient_phone, expires_at)
    VALUES (org_id, calendar_id, slot_time, call_sid, patient_name, patient_phone,
            now() + make_interval(mins => hold_minutes))
    RETURNING x.* INTO h;
    RETURN jsonb_build_object('success', true, 'hold_id', h.id, 'expires_at', h.expires_at,
                              'message', format('Slot reserved for %s minutes', hold_minutes));
END
$$;

-- The hard correctness check of every benchmark that claims: no two active claims overlap on one
-- calendar, in our holds table, the guarantee's floor (baseline 3) and the seed design's. Returns the number of
-- offending rows.
CREATE OR REPLACE FUNCTION bench.overlapping_holds() RETURNS bigint
    LANGUAGE sql STABLE AS $$
    -- Sorted by start, a claim overlaps an earlier one iff it starts before the latest earlier end:
    -- O(n log n), where a self-join on the range would be quadratic per calendar.
    SELECT (SELECT count(*) FROM (
               SELECT h.starts_at, max(h.ends_at) OVER (PARTITION BY h.tbl, h.org_id, h.calendar_id ORDER BY h.starts_at, h.id
                                                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
                 FROM (SELECT 'holds' AS tbl, org_id, calendar_id, starts_at, ends_at, id, status FROM voxbook.holds
                       UNION ALL
                       SELECT 'floor', org_id, calendar_id, starts_at, ends_at, id, status FROM bench.floor_holds) AS h
                WHERE h.status IN ('held', 'confirmed')) AS o
            WHERE o.prev_end > o.starts_at)
         + (SELECT count(*) FROM (SELECT 1 FROM bench.seed_holds WHERE status IN ('held', 'confirmed')
                                   GROUP BY org_id, calendar_id, slot_time HAVING count(*) > 1) AS d)
$$;
