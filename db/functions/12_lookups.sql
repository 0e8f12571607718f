-- Looking up a clinic's rows by (org_id, id): VB404 for an unknown id and for another clinic's.

CREATE FUNCTION internal.require_org(org_id uuid) RETURNS voxbook.organizations
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    o voxbook.organizations;
BEGIN
    -- The helper only on its failure path: a PL/pgSQL call costs ~30-50 k instructions in every transaction
    -- before it does anything (claims are the hot path, bench/README.md issue 18).
    IF org_id IS NULL THEN
        PERFORM internal.require(org_id, 'org_id');
    END IF;
    SELECT * INTO o FROM voxbook.organizations AS x WHERE x.id = require_org.org_id;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown organization', 'Check org_id; api.find_organization(phone) looks a clinic up by its number.');
    END IF;
    RETURN o;
END
$$;

CREATE FUNCTION internal.require_calendar(org_id uuid, calendar_id text) RETURNS voxbook.calendars
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    c voxbook.calendars;
BEGIN
    IF calendar_id IS NULL THEN   -- as in internal.require_org: the helper only when it fails
        PERFORM internal.require(calendar_id, 'calendar_id');
    END IF;
    SELECT * INTO c FROM voxbook.calendars AS x
     WHERE x.org_id = require_calendar.org_id AND x.id = require_calendar.calendar_id AND x.active;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown calendar',
                              'Calendar ids are per clinic, e.g. cal-smith; api.check_availability lists them with their slots.');
    END IF;
    RETURN c;
END
$$;

-- The hold of this clinic, row-locked (the caller is about to change it), or VB404: another clinic's
-- hold id is as unknown as a made-up one.
CREATE FUNCTION internal.lock_hold(org_id uuid, hold_id uuid) RETURNS voxbook.holds
    LANGUAGE plpgsql AS $$
DECLARE
    h voxbook.holds;
BEGIN
    IF hold_id IS NULL THEN   -- as in internal.require_org: the helper only when it fails
        PERFORM internal.require(hold_id, 'hold_id');
    END IF;
    SELECT * INTO h FROM voxbook.holds AS x
     WHERE x.org_id = lock_hold.org_id AND x.id = lock_hold.hold_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown hold', 'Use the hold_id returned by api.claim_slot_atomic for this clinic.');
    END IF;
    RETURN h;
END
$$;

-- A service by id ('teeth-whitening') or by name, case-insensitively ('Teeth Whitening'); NULL for NULL.
CREATE FUNCTION internal.find_service(org_id uuid, service text) RETURNS voxbook.services
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    s voxbook.services;
BEGIN
    IF service IS NULL OR btrim(service) = '' THEN
        RETURN NULL;
    END IF;
    SELECT * INTO s FROM voxbook.services AS x
     WHERE x.org_id = find_service.org_id
       AND (x.id = lower(btrim(service)) OR lower(x.name) = lower(btrim(service))
            OR x.id = regexp_replace(lower(btrim(service)), '[^a-z0-9]+', '-', 'g'))
     ORDER BY x.id = lower(btrim(service)) DESC
     LIMIT 1;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown service',
                              'Use a service id or name of this clinic (see api.get_organization).', left(service, 100));
    END IF;
    RETURN s;
END
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- The calendar lock: of a claim and a change to what is bookable on the same calendar, whichever comes second
-- sees the first (db/README.md "Guarantees"; tests/pgtap/test_12_calendar_lock.sql, tests/test_calendar_lock.py).
-- Every function below takes one side of it, before it reads what the other side writes:
-- * shared, internal.lock_calendar (claims share it): api.claim_slot_atomic -- and through it api.book_for_patient,
--   api.run_tool_call's reserve, the waitlist's offers -- and api.reschedule_appointment (the calendar it moves
--   onto). Taken before the time is checked (hours, exceptions, blocks, the calendar's own row).
-- * exclusive, internal.lock_calendar_change: whatever makes a calendar's time unbookable or changes the
--   calendars row a claim reads, taken before it reads the holds (or rewrites the row):
--   internal.setup_calendar(..., lock => true) (64_clinic_setup.sql) for api.deactivate_provider,
--   api.set_working_hours, api.set_hours_exception, api.block_time of one provider; api.connect_calendar,
--   api.disconnect_calendar and api.apply_calendar_import (49_calendar_sync.sql: imported busy time);
--   internal.lock_clinic_calendars (every calendar of the clinic, in id order: a clinic-wide closure);
--   api.upsert_provider (slot length, default duration, active).
-- * none: what only frees time (api.unblock_time; removing busy time happens under the lock anyway), and what
--   a claim reads unlocked, as before this lock existed: the clinic's settings (api.update_clinic: notice,
--   horizon) and services (api.upsert_service: durations, buffers, providers) apply to claims that start after
--   they commit.
-- How: on a single PostgreSQL, a transaction-scoped advisory lock keyed on (org_id, calendar_id), which writes
-- nothing, so a refused claim assigns no transaction id, writes no WAL and does not wait for a WAL flush of its
-- own at commit (hot slot: 54 losers each queued for an fsync that recorded a FOR SHARE; bench/README.md,
-- issue 18). Two calendars whose keys collide only wait for each other. On Citus the row lock stays (FOR SHARE
-- / FOR UPDATE of the calendars row): an advisory lock holds only on the node where it is taken, and a
-- delegated call runs on the clinic's worker while others may not. The DO block below picks the single-node
-- bodies when migrate runs without the citus extension: no test per call. The exclusive side also locks the row
-- in both versions (writers are rare; it orders writers among themselves as before): FOR UPDATE on Citus, FOR NO
-- KEY UPDATE on a single node, after the advisory lock (see there why).

-- The key of a calendar's advisory lock (single node): 64 bits of hash, prefixed as voxbook's other key
-- (voxbook/migrate.py) so no other user of advisory locks in the database is likely to meet it.
CREATE FUNCTION internal.calendar_lock_key(org_id uuid, calendar_id text) RETURNS bigint
    LANGUAGE sql IMMUTABLE AS $$ SELECT hashtextextended('voxbook:calendar:' || org_id::text || '/' || calendar_id, 0) $$;

-- The active calendar of this clinic under the shared calendar lock, or VB404: the claim side. A deactivation
-- committed meanwhile makes this VB404. (The Citus body; the single-node one is in the DO block below.)
CREATE FUNCTION internal.lock_calendar(org_id uuid, calendar_id text) RETURNS voxbook.calendars
    LANGUAGE plpgsql AS $$
DECLARE
    c voxbook.calendars;
BEGIN
    IF calendar_id IS NULL THEN   -- the call alone costs a claim ~17 k instructions (bench/README.md)
        PERFORM internal.require(calendar_id, 'calendar_id');
    END IF;
    SELECT * INTO c FROM voxbook.calendars AS x
     WHERE x.org_id = lock_calendar.org_id AND x.id = lock_calendar.calendar_id AND x.active
       FOR SHARE;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown calendar',
                              'Calendar ids are per clinic, e.g. cal-smith; api.check_availability lists them with their slots.');
    END IF;
    RETURN c;
END
$$;

-- The calendar of this clinic (active or not) under the exclusive calendar lock, its row locked FOR UPDATE;
-- a row of NULLs when there is none (the caller says VB404 in its own words, or creates it). The change side.
-- (The Citus body; the single-node one is in the DO block below.)
CREATE FUNCTION internal.lock_calendar_change(org_id uuid, calendar_id text) RETURNS voxbook.calendars
    LANGUAGE plpgsql AS $$
DECLARE
    c voxbook.calendars;
BEGIN
    SELECT * INTO c FROM voxbook.calendars AS x
     WHERE x.org_id = lock_calendar_change.org_id AND x.id = lock_calendar_change.calendar_id FOR UPDATE;
    RETURN c;
END
$$;

DO $do$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        -- The advisory lock first, in a statement of its own: the row is then read by a later statement, whose
        -- snapshot (READ COMMITTED) includes whatever a change that held the lock committed.
        CREATE OR REPLACE FUNCTION internal.lock_calendar(org_id uuid, calendar_id text) RETURNS voxbook.calendars
            LANGUAGE plpgsql AS $$
        BEGIN
            -- (a NULL calendar_id takes no lock: the function is strict, and internal.require_calendar refuses it)
            PERFORM pg_advisory_xact_lock_shared(internal.calendar_lock_key(org_id, calendar_id));
            RETURN internal.require_calendar(org_id, calendar_id);   -- the active row, or VB404: read after the lock
        END
        $$;

        CREATE OR REPLACE FUNCTION internal.lock_calendar_change(org_id uuid, calendar_id text) RETURNS voxbook.calendars
            LANGUAGE plpgsql AS $$
        DECLARE
            c voxbook.calendars;
        BEGIN
            PERFORM pg_advisory_xact_lock(internal.calendar_lock_key(org_id, calendar_id));
            -- FOR NO KEY UPDATE, not FOR UPDATE: a transaction holding a foreign key's key share of this row (clinic
            -- apply's one transaction: api.upsert_service wrote service_providers, then asks for this lock) would
            -- otherwise hold the row while waiting for the advisory lock we hold (tests/test_review_calendar_lock.py).
            -- Writers still exclude each other: FOR NO KEY UPDATE conflicts with itself.
            SELECT * INTO c FROM voxbook.calendars AS x
             WHERE x.org_id = lock_calendar_change.org_id AND x.id = lock_calendar_change.calendar_id FOR NO KEY UPDATE;
            RETURN c;
        END
        $$;
    END IF;
END
$do$;

-- Whether provider c offers service s (voxbook.service_providers, 0023): no service (the calendar's default
-- length) always; an inactive service never; a service without rows there by every active provider; else
-- by the providers listed.
CREATE FUNCTION internal.offers(c voxbook.calendars, s voxbook.services) RETURNS boolean
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF s.id IS NULL THEN
        RETURN true;
    END IF;
    IF NOT s.active THEN
        RETURN false;
    END IF;
    RETURN NOT EXISTS (SELECT 1 FROM voxbook.service_providers AS p
                        WHERE p.org_id = s.org_id AND p.service_id = s.id)
        OR EXISTS (SELECT 1 FROM voxbook.service_providers AS p
                    WHERE p.org_id = s.org_id AND p.service_id = s.id AND p.calendar_id = c.id);
END
$$;

-- VB400 unless the service is active (c NULL: only that) and provider c offers it.
CREATE FUNCTION internal.require_offered(c voxbook.calendars, s voxbook.services) RETURNS void
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF s.id IS NOT NULL AND NOT s.active THEN
        PERFORM internal.fail('VB400', format('%s is not offered', s.name),
                              'The service is inactive; api.get_clinic lists the services offered.');
    END IF;
    IF c.id IS NOT NULL AND NOT internal.offers(c, s) THEN
        PERFORM internal.fail('VB400', format('%s does not offer %s', c.display_name, s.name),
                              'Use a calendar_id that api.check_availability lists for this service.');
    END IF;
END
$$;
