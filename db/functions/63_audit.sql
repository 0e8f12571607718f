-- The audit trail of changes people make through the api (issue 14): voxbook.audit_log (0023), one row per
-- change, written in the transaction of the change. Read with api.list_audit (64_clinic_setup.sql).

-- A person's name as every column that records who did something keeps it (audit_log.changed_by, the queues'
-- done_by, appointments' booked_by/cancelled_by/confirmed_by: 200 characters at most), NULL when blank: the one
-- place that caps it and makes it one line (internal.one_line: no newline, control or bidi character to forge an
-- entry with), so that no caller (the dashboard, /rpc, psql) has to and none is refused for a long one.
-- The dashboard names a person "Name <email>" (api/dashboard_auth.py Staff.audit_name): the trailing <address>,
-- unique in the clinic where the name need not be, is kept whole and the name shortened to fit; an address of
-- more than 196 characters leaves no room for a name and is kept alone, cut to 200.
CREATE FUNCTION internal.audit_name(who text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN length(v) <= 200 THEN v
                WHEN address IS NULL THEN left(v, 200)
                WHEN length(address) <= 196 THEN left(v, 197 - length(address)) || ' <' || address || '>'
                ELSE left(address, 200) END
      FROM (SELECT internal.one_line(who) AS v) AS n,
           LATERAL (SELECT substring(n.v FROM ' <([^<>]*)>$') AS address) AS a
$$;

-- Who made a change: the changed_by argument of the api function (internal.audit_name: trimmed, capped), else the
-- database user that logged in (session_user: inside a SECURITY DEFINER function current_user is its owner).
CREATE FUNCTION internal.changed_by(changed_by text) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT coalesce(internal.audit_name(changed_by), session_user::text)
$$;

-- Records one change: action is the api function's name ('create_clinic', 'block_time', ...), entity what it
-- changed ('clinic', 'provider', 'service', 'hours', 'hours_exception', 'blocked_period', 'appointment'),
-- before/after the entity's jsonb (NULL before = created, NULL after = removed). A change that changes nothing
-- (before = after) is not recorded. Returns the row's id (NULL when nothing was recorded).
CREATE FUNCTION internal.audit(org_id uuid, changed_by text, action text, entity text, entity_id text,
                               before jsonb, after jsonb)
    RETURNS uuid
    LANGUAGE plpgsql AS $$
DECLARE
    new_id uuid;
    now_ts timestamptz := internal.clock();   -- values, not calls in the INSERT (Citus)
    who text := internal.changed_by(changed_by);
BEGIN
    IF before IS NOT DISTINCT FROM after THEN
        RETURN NULL;
    END IF;
    INSERT INTO voxbook.audit_log AS a (org_id, at, changed_by, action, entity, entity_id, before, after)
    VALUES (audit.org_id, now_ts, who, audit.action, audit.entity,
            audit.entity_id, audit.before, audit.after)
    RETURNING a.id INTO new_id;
    RETURN new_id;
END
$$;
