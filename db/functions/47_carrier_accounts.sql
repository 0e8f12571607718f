-- A carrier (Twilio) account per clinic: stored encrypted, read by the SMS worker to send and by the
-- Twilio callbacks to check signatures (voxbook.carrier_accounts, db/migrations/0022_carrier_accounts.sql).
-- The database only ever holds the auth token's Fernet ciphertext, made by the application with
-- VOXBOOK_SECRETS_KEY (voxbook/secrets_box.py): no function here can decrypt it, none takes a plaintext.

CREATE FUNCTION internal.carrier_account_json(a voxbook.carrier_accounts) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN jsonb_build_object('provider', a.provider, 'account_sid', a.account_sid,
                              'auth_token_ciphertext', a.auth_token_ciphertext, 'key_id', a.key_id,
                              'messaging_service_sid', a.messaging_service_sid,
                              'parent_account_sid', a.parent_account_sid, 'updated_at', internal.utc_iso(a.updated_at));
END
$$;


CREATE FUNCTION api.set_carrier_account(org_id uuid, account_sid text, auth_token_ciphertext text, key_id text,
                                        messaging_service_sid text DEFAULT NULL, parent_account_sid text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    o voxbook.organizations := internal.require_org(org_id);
    sid text := btrim(account_sid);
    service text := nullif(btrim(messaging_service_sid), '');
    parent text := nullif(btrim(parent_account_sid), '');
    cipher text := btrim(auth_token_ciphertext);
    a voxbook.carrier_accounts;
    created boolean;
    now_ts timestamptz := now();
BEGIN
    PERFORM internal.require(sid, 'account_sid');
    PERFORM internal.require(cipher, 'auth_token_ciphertext');
    PERFORM internal.require(key_id, 'key_id');
    -- Never the value in a message: a token pasted into the wrong argument would be logged with it.
    IF sid !~ '^AC[0-9a-f]{32}$' THEN
        PERFORM internal.fail('VB400', 'account_sid is not a Twilio account SID',
                              'An account SID is AC followed by 32 lowercase hex digits (Twilio console, Account Info).');
    END IF;
    IF cipher !~ '^gAAAAA[A-Za-z0-9_=-]+$' OR length(cipher) NOT BETWEEN 100 AND 1000 THEN
        PERFORM internal.fail('VB400', 'auth_token_ciphertext is not an encrypted token',
                              'Pass the Fernet ciphertext made with VOXBOOK_SECRETS_KEY, never the token itself: '
                              'voxbook clinic carrier set --org ... --account-sid ... --auth-token-env VAR does it.');
    END IF;
    IF key_id !~ '^[0-9a-f]{8,64}$' THEN
        PERFORM internal.fail('VB400', 'key_id is not a key id',
                              'Pass the id of the key that made the ciphertext (voxbook.secrets_box.key_id: 12 hex digits).');
    END IF;
    IF service IS NOT NULL AND service !~ '^MG[0-9a-f]{32}$' THEN
        PERFORM internal.fail('VB400', 'messaging_service_sid is not a Messaging Service SID',
                              'A Messaging Service SID is MG followed by 32 lowercase hex digits; pass NULL to send from the clinic''s sms_from.');
    END IF;
    IF parent IS NOT NULL AND (parent !~ '^AC[0-9a-f]{32}$' OR parent = sid) THEN
        PERFORM internal.fail('VB400', 'parent_account_sid is not another account SID',
                              'For a subaccount pass its main account''s SID (AC + 32 hex digits); else NULL.');
    END IF;
    created := NOT EXISTS (SELECT 1 FROM voxbook.carrier_accounts AS x WHERE x.org_id = o.id);
    INSERT INTO voxbook.carrier_accounts AS x (org_id, account_sid, auth_token_ciphertext, key_id,
                                               messaging_service_sid, parent_account_sid, created_at, updated_at)
    VALUES (o.id, sid, cipher, set_carrier_account.key_id, service, parent, now_ts, now_ts)
    ON CONFLICT ON CONSTRAINT carrier_accounts_pkey DO UPDATE
       SET account_sid = excluded.account_sid, auth_token_ciphertext = excluded.auth_token_ciphertext,
           key_id = excluded.key_id, messaging_service_sid = excluded.messaging_service_sid,
           parent_account_sid = excluded.parent_account_sid, updated_at = excluded.updated_at
    RETURNING x.* INTO a;
    RETURN jsonb_build_object('success', true, 'org_id', o.id, 'created', created, 'account_sid', a.account_sid,
                              'messaging_service_sid', a.messaging_service_sid,
                              'parent_account_sid', a.parent_account_sid, 'key_id', a.key_id,
                              'updated_at', internal.utc_iso(a.updated_at));
END
$$;
COMMENT ON FUNCTION api.set_carrier_account(uuid, text, text, text, text, text) IS
$$Gives a clinic its own Twilio account (or subaccount), replacing the one it had: its messages are then
sent through it (its Messaging Service when messaging_service_sid is set, else from the clinic's sms_from)
and its Twilio callbacks are checked with its token. The token is passed encrypted only
(auth_token_ciphertext: Fernet, made with VOXBOOK_SECRETS_KEY, which the database never sees; key_id names
the key), so use the CLI: voxbook clinic carrier set --org <clinic> --account-sid AC... --auth-token-env VAR.
The worker and the callbacks pick a change up within a minute. Several clinics may share one account.
Returns {"success": true, "org_id", "created" (false: replaced), "account_sid", "messaging_service_sid",
"parent_account_sid", "key_id", "updated_at"} (never the ciphertext).
Errors: VB404 unknown org; VB400 a missing argument, an account_sid that is not AC + 32 hex digits, a
ciphertext that is not a Fernet token (a plaintext token is refused, not stored), a malformed key_id,
messaging_service_sid (MG + 32 hex) or parent_account_sid.
Example: SELECT api.set_carrier_account('a0000000-0000-0000-0000-000000000001', 'AC0123...', 'gAAAAAB...', '3f2a9c0d1e4b');$$;


CREATE FUNCTION api.clear_carrier_account(org_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    n int;
BEGIN
    PERFORM internal.require_org(org_id);
    DELETE FROM voxbook.carrier_accounts AS x WHERE x.org_id = clear_carrier_account.org_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN jsonb_build_object('success', true, 'org_id', org_id, 'cleared', n > 0);
END
$$;
COMMENT ON FUNCTION api.clear_carrier_account(uuid) IS
$$Removes a clinic's own carrier account: its messages go through the process-wide account again
(TWILIO_ACCOUNT_SID) and its callbacks are checked with that token. Idempotent.
Returns {"success": true, "org_id", "cleared" (false: it had none)}. Errors: VB404 unknown org.
Example: SELECT api.clear_carrier_account('a0000000-0000-0000-0000-000000000001');$$;


CREATE FUNCTION api.get_carrier_account(org_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    a voxbook.carrier_accounts;
BEGIN
    PERFORM internal.require_org(org_id);
    SELECT * INTO a FROM voxbook.carrier_accounts AS x WHERE x.org_id = get_carrier_account.org_id;
    RETURN jsonb_build_object('success', true, 'org_id', org_id,
                              'account', CASE WHEN FOUND THEN internal.carrier_account_json(a) END);
END
$$;
COMMENT ON FUNCTION api.get_carrier_account(uuid) IS
$$A clinic's own carrier account, for the SMS worker (to send) and the Twilio callbacks (to check
signatures): {"success": true, "org_id", "account": null (the clinic uses the process-wide account) or
{"provider": "twilio", "account_sid", "auth_token_ciphertext" (Fernet; decrypted only in the application's
memory with VOXBOOK_SECRETS_KEY), "key_id", "messaging_service_sid", "parent_account_sid", "updated_at"}}.
Errors: VB404 unknown org.
Example: SELECT api.get_carrier_account('a0000000-0000-0000-0000-000000000001');$$;


CREATE FUNCTION api.find_inbound_carrier_accounts(to_number text, account_sid text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    receiver text := btrim(to_number);
    sid text := nullif(btrim(account_sid), '');
    r record;
    a voxbook.carrier_accounts;
    to_clinics jsonb := '[]';
    account_clinics jsonb := '[]';
BEGIN
    IF length(receiver) > 64 OR length(sid) > 64 THEN
        PERFORM internal.fail('VB400', 'to_number or account_sid is too long',
                              'Pass Twilio''s To (E.164) and AccountSid (34 characters).');
    END IF;
    -- Twilio sends To in E.164; anything else (a short code) is no clinic's number.
    IF receiver ~ '^\+[1-9][0-9]{7,14}$' THEN
        -- One clinic table read per clinic by its key: no distributed join (organizations is a reference table).
        FOR r IN SELECT o.id FROM voxbook.organizations AS o WHERE o.phone = receiver OR o.sms_from = receiver
                  ORDER BY o.id LOOP
            SELECT * INTO a FROM voxbook.carrier_accounts AS x WHERE x.org_id = r.id;
            to_clinics := to_clinics || jsonb_build_array(jsonb_build_object(
                'org_id', r.id, 'account', CASE WHEN FOUND THEN internal.carrier_account_json(a) END));
        END LOOP;
    END IF;
    IF jsonb_array_length(to_clinics) = 0 AND sid ~ '^AC[0-9a-f]{32}$' THEN
        -- A number no clinic owns (a Messaging Service's pool): the clinics on the account that received it.
        FOR a IN SELECT * FROM voxbook.carrier_accounts AS x WHERE x.account_sid = sid ORDER BY x.org_id LIMIT 100 LOOP
            account_clinics := account_clinics || jsonb_build_array(jsonb_build_object(
                'org_id', a.org_id, 'phone', (SELECT o.phone FROM voxbook.organizations AS o WHERE o.id = a.org_id),
                'account', internal.carrier_account_json(a)));
        END LOOP;
    END IF;
    RETURN jsonb_build_object('success', true, 'to_clinics', to_clinics, 'account_clinics', account_clinics);
END
$$;
COMMENT ON FUNCTION api.find_inbound_carrier_accounts(text, text) IS
$$Which clinics and carrier accounts an inbound SMS webhook concerns, so that its signature is checked
with the right token before anything changes (api/twilio_routes.py). Across clinics (not delegated).
"to_clinics": the clinics whose phone or sms_from is to_number (E.164), each with its own account or null
(the process-wide one). When none: "account_clinics", the clinics whose own account is account_sid
(Twilio's AccountSid: a Messaging Service number of that account), each with its phone and account.
Accounts as in api.get_carrier_account (the token's ciphertext only).
Returns {"success": true, "to_clinics": [{"org_id", "account"}], "account_clinics": [{"org_id", "phone",
"account"}]}. Errors: VB400 an argument over 64 characters.
Example: SELECT api.find_inbound_carrier_accounts('+15551234567', 'AC0123...');$$;


CREATE FUNCTION api.list_carrier_accounts(key_id_not text DEFAULT NULL, max_rows int DEFAULT 1000)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    ids jsonb;
BEGIN
    IF max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 100000 THEN
        PERFORM internal.fail('VB400', 'max_rows must be between 1 and 100000', 'Pass max_rows => 1000.');
    END IF;
    SELECT coalesce(jsonb_agg(t.org_id ORDER BY t.org_id), '[]') INTO ids
      FROM (SELECT x.org_id FROM voxbook.carrier_accounts AS x
             WHERE key_id_not IS NULL OR x.key_id <> key_id_not
             ORDER BY x.org_id LIMIT max_rows) AS t;
    RETURN jsonb_build_object('success', true, 'org_ids', ids);
END
$$;
COMMENT ON FUNCTION api.list_carrier_accounts(text, int) IS
$$The clinics that have their own carrier account, across clinics (not delegated), for a key rotation: with
key_id_not, only those whose token was encrypted with another key (voxbook clinic carrier rekey re-encrypts
them). Returns {"success": true, "org_ids": [...]} (at most max_rows, by id). Errors: VB400 max_rows outside 1-100000.
Example: SELECT api.list_carrier_accounts(key_id_not => '3f2a9c0d1e4b');$$;
