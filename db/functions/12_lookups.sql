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
                              'Use a service id or name of this clinic (see api.get_organization).', service);
    END IF;
    RETURN s;
END
$$;
