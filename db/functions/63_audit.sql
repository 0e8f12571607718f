-- The audit trail of changes people make through the api (issue 14): voxbook.audit_log (0023), one row per
-- change, written in the transaction of the change. Read with api.list_audit (64_clinic_setup.sql).

-- Who made a change: the changed_by argument of the api function (trimmed, at most 200 characters), else the
-- database user that logged in (session_user: inside a SECURITY DEFINER function current_user is its owner).
CREATE FUNCTION internal.changed_by(changed_by text) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT left(coalesce(nullif(btrim(changed_by), ''), session_user::text), 200)
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
