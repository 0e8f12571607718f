-- Looking up a clinic's rows by (org_id, id): VB404 for an unknown id and for another clinic's.

CREATE FUNCTION internal.require_org(org_id uuid) RETURNS voxbook.organizations
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    o voxbook.organizations;
BEGIN
    PERFORM internal.require(org_id, 'org_id');
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
    PERFORM internal.require(calendar_id, 'calendar_id');
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
    PERFORM internal.require(hold_id, 'hold_id');
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

-- The active calendar of this clinic, row-locked FOR SHARE, or VB404: the claim path's lock (claims, staff
-- bookings, reschedules onto it). Concurrent claims share it; a staff change to the provider -- api.block_time,
-- which locks the calendar row(s) FOR UPDATE before it checks the appointments in the way, a deactivation --
-- conflicts with it, so a block and a claim of the same time are serialised: whichever comes second sees the
-- first (the claim checks blocks only after taking this lock; block_time checks holds after taking its own).
-- A deactivation committed meanwhile makes this VB404.
CREATE FUNCTION internal.lock_calendar(org_id uuid, calendar_id text) RETURNS voxbook.calendars
    LANGUAGE plpgsql AS $$
DECLARE
    c voxbook.calendars;
BEGIN
    PERFORM internal.require(calendar_id, 'calendar_id');
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
