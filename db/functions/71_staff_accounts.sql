-- Staff accounts and dashboard sign-in (issue 16; tables in migration 0030).
--
-- Passwords never reach the database: the api layer (api/dashboard_auth.py) hashes them with argon2id and
-- verifies them against the hashes api.dashboard_login_accounts hands it; the database keeps the encoded hash.
-- So sign-in is two calls: dashboard_login_accounts (rate limit, the email's accounts and their hashes), then
-- dashboard_login (the attempt's outcome: a failure is counted, a success opens a session).
--
-- One email may have an account in several clinics. The password picks the account: each account of the email
-- is checked; when it matches in more than one clinic, the sign-in page asks which clinic (org_id) and the
-- next attempt is limited to that one.
--
-- Rate limit (internal.sign_in_refusal): within 15 minutes, 5 failures per email (known or not: an unknown
-- email is limited alike, so the limit tells nothing about which emails exist) and 30 per client address (an
-- IPv6 client: its /64, internal.client_address). A success resets neither: the count is of failures in the
-- window, so the limit lifts as they age out.
--
-- Roles: owner (settings and staff accounts) and front_desk (schedule and queues). A clinic always keeps an
-- active owner: demoting or deactivating the last one is refused (VB409), under a lock of the clinic's active
-- owners so that two owners cannot demote each other at once.

-- An email as stored: trimmed and lower-cased; VB400 unless it looks like an address.
CREATE FUNCTION internal.staff_email(email text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    e text := lower(btrim(email));
BEGIN
    IF e IS NULL OR length(e) NOT BETWEEN 3 AND 254 OR e !~ '^[^@[:space:]]+@[^@[:space:]]+$' THEN
        PERFORM internal.fail('VB400', 'email must be an email address (at most 254 characters)',
                              'Pass the person''s work email, e.g. ana@clinic.example.');
    END IF;
    RETURN e;
END
$$;

CREATE FUNCTION internal.staff_role(role text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF role IS NULL OR role NOT IN ('owner', 'front_desk') THEN
        PERFORM internal.fail('VB400', 'role must be owner or front_desk',
                              'owner: settings and staff accounts; front_desk: schedule and queues.');
    END IF;
    RETURN role;
END
$$;

-- One account as the api shows it: never its password hash.
CREATE FUNCTION internal.staff_json(s voxbook.staff_accounts) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('staff_id', s.id, 'email', s.email, 'name', s.name, 'role', s.role,
                              'status', s.status, 'created_at', internal.utc_iso(s.created_at),
                              'last_sign_in_at', internal.utc_iso(s.last_sign_in_at))
$$;

CREATE FUNCTION internal.require_staff(org_id uuid, staff_id uuid) RETURNS voxbook.staff_accounts
    LANGUAGE plpgsql AS $$
DECLARE
    s voxbook.staff_accounts;
BEGIN
    PERFORM internal.require(staff_id, 'staff_id');
    SELECT * INTO s FROM voxbook.staff_accounts AS x
     WHERE x.org_id = require_staff.org_id AND x.id = require_staff.staff_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM internal.fail('VB404', 'unknown staff account', 'Use a staff_id from api.list_staff for this clinic.');
    END IF;
    RETURN s;
END
$$;

-- VB409 when the change would leave the clinic without an active owner. Locks the clinic's active owners: of two
-- owners demoting each other at once, the second waits, then no longer finds the first among them, and is refused.
CREATE FUNCTION internal.keep_an_owner(org_id uuid, losing uuid) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    owners uuid[];
BEGIN
    SELECT coalesce(array_agg(y.id), '{}') INTO owners FROM (
        SELECT x.id FROM voxbook.staff_accounts AS x
         WHERE x.org_id = keep_an_owner.org_id AND x.role = 'owner' AND x.status = 'active'
         ORDER BY x.id FOR UPDATE) AS y;
    IF losing = ANY (owners) AND cardinality(owners) = 1 THEN
        PERFORM internal.fail('VB409', 'a clinic keeps at least one active owner',
                              'Make another person owner first (api.set_staff_role), then change this one.');
    END IF;
END
$$;

-- A new browser session for a staff member: the secret goes in the cookie, its sha256 here.
CREATE FUNCTION internal.open_session(s voxbook.staff_accounts, session_hours int) RETURNS jsonb
    LANGUAGE plpgsql AS $$
DECLARE
    secret text := internal.new_secret('vbs_');
    now_ts timestamptz := now();
    expires timestamptz;
    o voxbook.organizations;
BEGIN
    IF session_hours IS NULL OR session_hours NOT BETWEEN 1 AND 168 THEN
        PERFORM internal.fail('VB400', 'session_hours must be between 1 and 168', 'Leave it out for 12 hours.');
    END IF;
    expires := now_ts + make_interval(hours => session_hours);
    SELECT * INTO o FROM voxbook.organizations AS x WHERE x.id = s.org_id;
    DELETE FROM voxbook.dashboard_sessions AS x WHERE x.org_id = s.org_id AND x.expires_at <= now_ts;
    INSERT INTO voxbook.dashboard_sessions (org_id, staff_id, session_hash, expires_at)
    VALUES (s.org_id, s.id, internal.token_hash(secret), expires);
    UPDATE voxbook.staff_accounts AS x SET last_sign_in_at = now_ts WHERE x.org_id = s.org_id AND x.id = s.id;
    RETURN jsonb_build_object('success', true, 'session', secret, 'org_id', o.id, 'clinic', o.name,
                              'staff_id', s.id, 'name', s.name, 'role', s.role,
                              'expires_at', internal.utc_iso(expires));
END
$$;


-- == Sign-in ====================================================================================

CREATE FUNCTION internal.sign_in_window() RETURNS interval
    LANGUAGE sql IMMUTABLE AS $$ SELECT interval '15 minutes' $$;

-- The rate limit's answer for an email (its sha256) and a client address: NULL when an attempt may be made,
-- else the refusal with the seconds until the oldest failure that counts ages out of the window.
CREATE FUNCTION internal.sign_in_refusal(email_hash bytea, client_address text) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    per_email constant int := 5;
    per_address constant int := 30;
    now_ts timestamptz := internal.clock();
    since timestamptz := now_ts - internal.sign_in_window();
    oldest_email timestamptz;
    oldest_address timestamptz;
    until_ts timestamptz;
BEGIN
    -- The per_email-th newest failure: while it is in the window, there are per_email failures in it.
    SELECT a.at INTO oldest_email FROM voxbook.sign_in_attempts AS a
     WHERE a.email_hash = sign_in_refusal.email_hash AND NOT a.succeeded AND a.at > since
     ORDER BY a.at DESC OFFSET per_email - 1 LIMIT 1;
    SELECT a.at INTO oldest_address FROM voxbook.sign_in_attempts AS a
     WHERE a.client_address = sign_in_refusal.client_address AND NOT a.succeeded AND a.at > since
     ORDER BY a.at DESC OFFSET per_address - 1 LIMIT 1;
    until_ts := greatest(oldest_email, oldest_address) + internal.sign_in_window();
    IF until_ts IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN internal.refusal('too_many_attempts', 'Too many sign-in attempts',
                            jsonb_build_object('retry_after_seconds',
                                               greatest(ceil(extract(epoch FROM until_ts - now_ts))::int, 1)));
END
$$;

CREATE FUNCTION internal.record_sign_in(email_hash bytea, client_address text, succeeded boolean) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    now_ts timestamptz := internal.clock();
BEGIN
    DELETE FROM voxbook.sign_in_attempts AS a WHERE a.at < now_ts - interval '1 day';
    INSERT INTO voxbook.sign_in_attempts (at, email_hash, client_address, succeeded)
    VALUES (now_ts, record_sign_in.email_hash, record_sign_in.client_address, record_sign_in.succeeded);
END
$$;

-- The address the per-address limit counts: an IPv6 client is its /64 (one client usually holds a whole /64 and
-- may send from any address in it), IPv4 (also mapped into IPv6) and anything else as given.
CREATE FUNCTION internal.client_address(client_address text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    given constant text := left(coalesce(nullif(btrim(client_address), ''), 'unknown'), 100);
    ip inet;
BEGIN
    IF given !~ '^[0-9A-Fa-f:.]+$' OR strpos(given, ':') = 0 THEN
        RETURN given;
    END IF;
    BEGIN
        ip := given::inet;
    EXCEPTION WHEN invalid_text_representation THEN
        RETURN given;
    END;
    IF family(ip) <> 6 OR ip << inet '::ffff:0:0/96' THEN
        RETURN given;
    END IF;
    RETURN network(set_masklen(ip, 64))::text;
END
$$;


CREATE FUNCTION api.dashboard_login_accounts(email text, client_address text, org_id uuid DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    e text := lower(btrim(coalesce(email, '')));
    refused jsonb := internal.sign_in_refusal(internal.token_hash(e), internal.client_address(client_address));
    accounts jsonb;
BEGIN
    IF refused IS NOT NULL THEN
        RETURN refused;
    END IF;
    SELECT coalesce(jsonb_agg(jsonb_build_object('org_id', s.org_id, 'staff_id', s.id, 'clinic', o.name,
                                                 'password_hash', s.password_hash) ORDER BY o.name, s.org_id), '[]')
      INTO accounts
      FROM voxbook.staff_accounts AS s
      JOIN voxbook.organizations AS o ON o.id = s.org_id
     WHERE s.email = e AND s.status = 'active'
       AND (dashboard_login_accounts.org_id IS NULL OR s.org_id = dashboard_login_accounts.org_id);
    RETURN jsonb_build_object('success', true, 'accounts', accounts);
END
$$;
COMMENT ON FUNCTION api.dashboard_login_accounts(text, text, uuid) IS
$$First step of a dashboard sign-in (api/dashboard_auth.py): the rate limit, then the active accounts of the
email (optionally of one clinic) with their argon2id hashes, for the api layer to verify the password
against. {"success": true, "accounts": [{"org_id", "staff_id", "clinic", "password_hash"}]} (empty for an
unknown email: verify against a dummy hash all the same) or {"success": false, "code": "too_many_attempts",
"error", "retry_after_seconds"} (5 failures of the email or 30 of the address, an IPv6 one's /64, within 15
minutes). Reads only.
Then call api.dashboard_login with the outcome.
Example: SELECT api.dashboard_login_accounts('ana@clinic.example', '203.0.113.7');$$;


CREATE FUNCTION api.dashboard_login(email text, client_address text, org_id uuid DEFAULT NULL,
                                    staff_id uuid DEFAULT NULL, password_rehash text DEFAULT NULL,
                                    session_hours int DEFAULT 12)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    e text := lower(btrim(coalesce(email, '')));
    email_hash bytea := internal.token_hash(e);
    address text := internal.client_address(client_address);
    refused jsonb := internal.sign_in_refusal(email_hash, address);
    s voxbook.staff_accounts;
BEGIN
    -- Checked again: attempts made in parallel all passed the first step before any was counted.
    IF refused IS NOT NULL THEN
        RETURN refused;
    END IF;
    IF staff_id IS NOT NULL THEN
        SELECT * INTO s FROM voxbook.staff_accounts AS x
         WHERE x.org_id = dashboard_login.org_id AND x.id = dashboard_login.staff_id AND x.email = e
           AND x.status = 'active';
    END IF;
    IF s.id IS NULL THEN
        PERFORM internal.record_sign_in(email_hash, address, false);
        RETURN internal.refusal('invalid_credentials', 'Wrong email or password');
    END IF;
    PERFORM internal.record_sign_in(email_hash, address, true);
    IF password_rehash IS NOT NULL THEN   -- argon2's parameters changed since the hash was made
        UPDATE voxbook.staff_accounts AS x SET password_hash = password_rehash
         WHERE x.org_id = s.org_id AND x.id = s.id;
    END IF;
    RETURN internal.open_session(s, session_hours);
END
$$;
COMMENT ON FUNCTION api.dashboard_login(text, text, uuid, uuid, text, int) IS
$$Second step of a dashboard sign-in: the outcome of the password check the api layer made against
api.dashboard_login_accounts' hashes. Without staff_id (no account matched): the failure is counted and
{"success": false, "code": "invalid_credentials", "error"} returned. With org_id and staff_id of the
account whose hash matched: a session for it (the secret goes in the HttpOnly cookie; only its sha256 is
stored) {"success": true, "session", "org_id", "clinic", "staff_id", "name", "role", "expires_at"};
password_rehash replaces the stored hash (argon2 parameters changed). Refused like the first step while
rate-limited (too_many_attempts, retry_after_seconds). Errors: VB400 session_hours outside 1-168.
Example: SELECT api.dashboard_login('ana@clinic.example', '203.0.113.7');   -- a failed attempt$$;


-- == Invites ====================================================================================

CREATE FUNCTION api.invite_staff(org_id uuid, email text, name text, role text, changed_by text DEFAULT NULL,
                                 valid_hours int DEFAULT 72)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    e text := internal.staff_email(email);
    r text := internal.staff_role(role);
    n text := internal.one_line(name);   -- as the audit shows it: one line, no control or bidi character
    who text := internal.changed_by(changed_by);
    now_ts timestamptz := internal.clock();
    secret text := internal.new_secret('vbi_');
    expires timestamptz;
    s voxbook.staff_accounts;
    before jsonb;
BEGIN
    IF n IS NULL OR length(n) NOT BETWEEN 1 AND 100 THEN
        PERFORM internal.fail('VB400', 'name must be 1 to 100 characters', 'The person''s name, as the audit shows it.');
    END IF;
    IF valid_hours IS NULL OR valid_hours NOT BETWEEN 1 AND 720 THEN
        PERFORM internal.fail('VB400', 'valid_hours must be between 1 and 720', 'Leave it out for 72 hours.');
    END IF;
    expires := now_ts + make_interval(hours => valid_hours);
    SELECT * INTO s FROM voxbook.staff_accounts AS x WHERE x.org_id = o.id AND x.email = e FOR UPDATE;
    IF FOUND AND s.status = 'active' THEN
        PERFORM internal.fail('VB409', 'this email already has an active account in this clinic',
                              'Change its role with api.set_staff_role, or deactivate it first.');
    END IF;
    IF FOUND THEN   -- invited again, or a deactivated account invited back: a new link, the old ones dead
        before := internal.staff_json(s);
        UPDATE voxbook.staff_accounts AS x
           SET name = n, role = r, status = 'invited', password_hash = NULL, updated_at = now_ts
         WHERE x.org_id = s.org_id AND x.id = s.id
        RETURNING x.* INTO s;
        UPDATE voxbook.staff_invites AS x SET expires_at = least(x.expires_at, now_ts)
         WHERE x.org_id = s.org_id AND x.staff_id = s.id AND x.used_at IS NULL;
    ELSE
        INSERT INTO voxbook.staff_accounts AS x (org_id, email, name, role, created_by, created_at, updated_at)
        VALUES (o.id, e, n, r, who, now_ts, now_ts)
        RETURNING x.* INTO s;
    END IF;
    INSERT INTO voxbook.staff_invites (org_id, staff_id, token_hash, created_by, created_at, expires_at)
    VALUES (o.id, s.id, internal.token_hash(secret), who, now_ts, expires);
    -- The link's expiry in the audit: a new link for an invited account is a change too.
    PERFORM internal.audit(o.id, who, 'invite_staff', 'staff_account', s.id::text, before,
                           internal.staff_json(s) || jsonb_build_object('invite_expires_at', internal.utc_iso(expires)));
    RETURN jsonb_build_object('success', true, 'staff_id', s.id, 'org_id', o.id, 'clinic', o.name,
                              'email', s.email, 'name', s.name, 'role', s.role, 'token', secret,
                              'path', '/dashboard/invite?token=' || secret,
                              'expires_at', internal.utc_iso(expires),
                              'expires_local', internal.local_text(expires, o.time_zone, internal.field_locale(o.locale)),
                              'message', 'Send this link to the person now: only its hash is stored, it works once');
END
$$;
COMMENT ON FUNCTION api.invite_staff(uuid, text, text, text, text, int) IS
$$Invites a person to a clinic's dashboard with a role (owner or front_desk) and returns a one-time link,
valid valid_hours (1-720, default 72), shown once (only the token's sha256 is stored):
{"success": true, "staff_id", "org_id", "clinic", "email", "name", "role", "token", "path"
("/dashboard/invite?token=..."), "expires_at", "expires_local" (the clinic's zone and locale), "message"}. Prefix path with the server's public URL. The
person opens it and chooses a password (api.accept_staff_invite). Inviting an invited or deactivated account
again makes a new link and kills the old ones. Audited (entity staff_account) as changed_by.
CLI: voxbook staff invite --org <org> --email --name --role.
Errors: VB404 unknown org; VB400 bad email, name, role or valid_hours; VB409 the email already has an active
account in this clinic.
Example: SELECT api.invite_staff('a0000000-0000-0000-0000-000000000001', 'ana@clinic.example', 'Ana Ruiz',
'front_desk', changed_by => 'Olga Owner');$$;


-- The live invite of a token, or the refusal saying why not.
CREATE FUNCTION internal.find_invite(token text, lock boolean, OUT inv voxbook.staff_invites, OUT refused jsonb)
    LANGUAGE plpgsql AS $$
BEGIN
    SELECT * INTO inv FROM voxbook.staff_invites AS x
     WHERE x.token_hash = internal.token_hash(coalesce(find_invite.token, ''));
    IF lock AND inv.id IS NOT NULL THEN
        -- Locked by its key, read again: Citus locks rows only in a query routed to one clinic by org_id.
        SELECT * INTO inv FROM voxbook.staff_invites AS x
         WHERE x.org_id = inv.org_id AND x.id = inv.id FOR UPDATE;
    END IF;
    IF inv.id IS NULL THEN
        refused := internal.refusal('invalid_invite', 'This invite link is not valid');
    ELSIF inv.used_at IS NOT NULL THEN
        refused := internal.refusal('invite_used', 'This invite link was used already: sign in instead');
    ELSIF inv.expires_at <= internal.clock() THEN
        refused := internal.refusal('invite_expired', 'This invite link has expired: ask the clinic''s owner for a new one');
    END IF;
END
$$;

CREATE FUNCTION api.staff_invite(token text)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    f record := internal.find_invite(token, false);
    s voxbook.staff_accounts;
    o voxbook.organizations;
BEGIN
    IF f.refused IS NOT NULL THEN
        RETURN f.refused;
    END IF;
    SELECT * INTO s FROM voxbook.staff_accounts AS x WHERE x.org_id = (f.inv).org_id AND x.id = (f.inv).staff_id;
    SELECT * INTO o FROM voxbook.organizations AS x WHERE x.id = s.org_id;
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'clinic', o.name, 'staff_id', s.id,
                              'email', s.email, 'name', s.name, 'role', s.role,
                              'expires_at', internal.utc_iso((f.inv).expires_at));
END
$$;
COMMENT ON FUNCTION api.staff_invite(text) IS
$$What an invite link is for, before the person chooses a password: {"success": true, "org_id", "clinic",
"staff_id", "email", "name", "role", "expires_at"} or {"success": false, "code": "invalid_invite" |
"invite_used" | "invite_expired", "error"}. Reads only.$$;


CREATE FUNCTION api.accept_staff_invite(token text, password_hash text, session_hours int DEFAULT 12)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    f record;
    s voxbook.staff_accounts;
    before jsonb;
    now_ts timestamptz := internal.clock();
BEGIN
    IF password_hash IS NULL OR password_hash NOT LIKE '$argon2id$%' OR length(password_hash) > 512 THEN
        -- Never the value in the message: it could be a password pasted by mistake.
        PERFORM internal.fail('VB400', 'password_hash must be an argon2id hash',
                              'Hash the password in the api layer (api/dashboard_auth.py hash_password).');
    END IF;
    f := internal.find_invite(token, true);   -- locked: of two browsers accepting at once, one wins
    IF f.refused IS NOT NULL THEN
        RETURN f.refused;
    END IF;
    UPDATE voxbook.staff_invites AS x SET used_at = now_ts
     WHERE x.org_id = (f.inv).org_id AND x.id = (f.inv).id;
    s := internal.require_staff((f.inv).org_id, (f.inv).staff_id);
    before := internal.staff_json(s);
    UPDATE voxbook.staff_accounts AS x
       SET status = 'active', password_hash = accept_staff_invite.password_hash, updated_at = now_ts
     WHERE x.org_id = s.org_id AND x.id = s.id
    RETURNING x.* INTO s;
    PERFORM internal.audit(s.org_id, s.name, 'accept_staff_invite', 'staff_account', s.id::text, before,
                           internal.staff_json(s));
    RETURN internal.open_session(s, session_hours);
END
$$;
COMMENT ON FUNCTION api.accept_staff_invite(text, text, int) IS
$$Uses an invite link once: the account becomes active with the argon2id hash the api layer made of the
chosen password, and is signed in: {"success": true, "session", "org_id", "clinic", "staff_id", "name",
"role", "expires_at"} or {"success": false, "code": "invalid_invite" | "invite_used" | "invite_expired",
"error"}. Audited in the person's name. Errors: VB400 password_hash not an argon2id hash; session_hours
outside 1-168.$$;


-- == Managing accounts (the owner's page) ==========================================================

CREATE FUNCTION api.list_staff(org_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    now_ts timestamptz := internal.clock();
    loc constant jsonb := internal.field_locale(o.locale);   -- the clinic's way of writing times
    s voxbook.staff_accounts;
    invite_expires timestamptz;
    staff jsonb := '[]';
BEGIN
    -- A loop, not internal.staff_json(row) in the query: on Citus a whole row of a shard has the shard's type.
    FOR s IN SELECT * FROM voxbook.staff_accounts AS x WHERE x.org_id = o.id
              ORDER BY x.status = 'deactivated', x.name, x.id
    LOOP
        SELECT max(x.expires_at) INTO invite_expires FROM voxbook.staff_invites AS x
         WHERE x.org_id = s.org_id AND x.staff_id = s.id AND x.used_at IS NULL AND x.expires_at > now_ts;
        staff := staff || jsonb_build_array(internal.staff_json(s) || jsonb_build_object(
                     'last_sign_in_local', internal.local_text(s.last_sign_in_at, o.time_zone, loc),
                     'invite_expires_at', internal.utc_iso(invite_expires),
                     'invite_expires_local', internal.local_text(invite_expires, o.time_zone, loc)));
    END LOOP;
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'staff', staff);
END
$$;
COMMENT ON FUNCTION api.list_staff(uuid) IS
$$A clinic's staff accounts, active and invited first, by name: {"success": true, "org_id", "staff":
[{"staff_id", "email", "name", "role" (owner | front_desk), "status" (invited | active | deactivated),
"created_at", "last_sign_in_at", "last_sign_in_local", "invite_expires_at" (a live invite link's expiry,
else null), "invite_expires_local"}]}; *_local: in the clinic's zone and locale. No password hashes. Errors: VB404 unknown org.
Example: SELECT api.list_staff('a0000000-0000-0000-0000-000000000001');$$;


CREATE FUNCTION api.set_staff_role(org_id uuid, staff_id uuid, role text, changed_by text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    r text := internal.staff_role(role);
    s voxbook.staff_accounts;
    before jsonb;
    now_ts timestamptz := internal.clock();   -- a value, not a call in the UPDATE (Citus)
BEGIN
    IF r <> 'owner' THEN
        PERFORM internal.keep_an_owner(o.id, staff_id);
    END IF;
    s := internal.require_staff(o.id, staff_id);
    IF s.status = 'deactivated' THEN
        PERFORM internal.fail('VB409', 'this account is deactivated', 'Invite the person again (api.invite_staff).');
    END IF;
    before := internal.staff_json(s);
    UPDATE voxbook.staff_accounts AS x SET role = r, updated_at = now_ts
     WHERE x.org_id = s.org_id AND x.id = s.id AND x.role <> r
    RETURNING x.* INTO s;
    IF FOUND THEN
        PERFORM internal.audit(o.id, changed_by, 'set_staff_role', 'staff_account', s.id::text, before,
                               internal.staff_json(s));
    END IF;
    RETURN jsonb_build_object('success', true, 'staff', internal.staff_json(s));
END
$$;
COMMENT ON FUNCTION api.set_staff_role(uuid, uuid, text, text) IS
$$Changes a staff member's role (owner | front_desk); it applies at their next request. Idempotent.
Returns {"success": true, "staff": {"staff_id", "email", "name", "role", "status", ...}}. Audited.
Errors: VB404 unknown org or staff account (another clinic's is unknown); VB400 bad role; VB409 the last
active owner demoted, or the account deactivated.
Example: SELECT api.set_staff_role('a0000000-0000-0000-0000-000000000001', '<staff_id>', 'owner', 'Olga Owner');$$;


CREATE FUNCTION api.deactivate_staff(org_id uuid, staff_id uuid, changed_by text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    s voxbook.staff_accounts;
    before jsonb;
    sessions int;
    now_ts timestamptz := internal.clock();
BEGIN
    PERFORM internal.keep_an_owner(o.id, staff_id);
    s := internal.require_staff(o.id, staff_id);
    before := internal.staff_json(s);
    UPDATE voxbook.staff_accounts AS x SET status = 'deactivated', password_hash = NULL, updated_at = now_ts
     WHERE x.org_id = s.org_id AND x.id = s.id AND x.status <> 'deactivated'
    RETURNING x.* INTO s;
    IF FOUND THEN
        PERFORM internal.audit(o.id, changed_by, 'deactivate_staff', 'staff_account', s.id::text, before,
                               internal.staff_json(s));
    END IF;
    -- Signed out everywhere at once; a pending invite link dies with the account.
    DELETE FROM voxbook.dashboard_sessions AS x WHERE x.org_id = o.id AND x.staff_id = s.id;
    GET DIAGNOSTICS sessions = ROW_COUNT;
    UPDATE voxbook.staff_invites AS x SET expires_at = least(x.expires_at, now_ts)
     WHERE x.org_id = o.id AND x.staff_id = s.id AND x.used_at IS NULL;
    RETURN jsonb_build_object('success', true, 'staff', internal.staff_json(s), 'sessions_ended', sessions);
END
$$;
COMMENT ON FUNCTION api.deactivate_staff(uuid, uuid, text) IS
$$Deactivates a staff account: its sessions end at once, its password and pending invite links stop
working. Idempotent. {"success": true, "staff": {...}, "sessions_ended"}. Audited. To let the person back,
invite them again. Errors: VB404 unknown org or staff account; VB409 the clinic's last active owner.
Example: SELECT api.deactivate_staff('a0000000-0000-0000-0000-000000000001', '<staff_id>', 'Olga Owner');$$;
