-- Configuration that cannot work, found at start instead of by a caller (`voxbook doctor`, the start-up
-- checks of `voxbook serve` and `voxbook worker`, GET /health). The data rules live here; the process's own
-- settings are checked in voxbook/doctor.py, which passes in what the database needs to know of them.

CREATE FUNCTION api.config_problems(sms_provider text, messaging_service boolean, secrets_key_ids text[] DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
DECLARE
    general jsonb;
    carrier jsonb;
BEGIN
    -- PL/pgSQL: no SQL-language function reads a table (db/README.md, Citus).
    SELECT coalesce(jsonb_agg(p), '[]') INTO general
      FROM (
        SELECT jsonb_build_object(
                   'check', 'code_pepper',
                   'message', 'one-time codes are off: this database role has no code pepper',
                   'fix', 'set VOXBOOK_CODE_PEPPER (32+ random characters) and run voxbook db migrate --app-role ROLE')
         WHERE internal.code_pepper() IS NULL
        UNION ALL
        -- Twilio sends from the clinic's number, or through a Messaging Service; with neither, every code and
        -- confirmation of the clinic would fail at the provider after the caller was told it was sent.
        SELECT jsonb_build_object(
                   'check', 'sms_sender', 'org_id', o.id,
                   'message', 'clinic ' || o.id || ' has no sender number: its texts would fail at Twilio',
                   'fix', 'set organizations.sms_from for it, or TWILIO_MESSAGING_SERVICE_SID')
          FROM voxbook.organizations AS o
         WHERE config_problems.sms_provider = 'twilio' AND NOT config_problems.messaging_service
           AND o.sms_from IS NULL
      ) AS f(p);
    -- A clinic on its own carrier account whose token no key of this process opens: it sends nothing and its
    -- callbacks are refused. Compared by key id (voxbook.secrets_box.key_id), never by the key or the token.
    -- Its own statement: carrier_accounts is distributed on Citus, organizations a reference table.
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'check', 'carrier_secrets_key', 'org_id', a.org_id,
               'message', 'clinic ' || a.org_id || ' has its own carrier account, but '
                          || CASE WHEN cardinality(config_problems.secrets_key_ids) = 0
                                  THEN 'VOXBOOK_SECRETS_KEY is not set (or not a Fernet key)'
                                  ELSE 'no key of VOXBOOK_SECRETS_KEY made its token (key id ' || a.key_id || ')' END
                          || ': it sends nothing and its Twilio callbacks are refused',
               'fix', 'put the key with id ' || a.key_id || ' in VOXBOOK_SECRETS_KEY (comma-separated; to move to '
                      || 'a new key, put it first and run voxbook clinic carrier rekey), or set the account again: '
                      || 'voxbook clinic carrier set --org ' || a.org_id)), '[]')
      INTO carrier
      FROM voxbook.carrier_accounts AS a
     WHERE config_problems.secrets_key_ids IS NOT NULL AND NOT a.key_id = ANY (config_problems.secrets_key_ids);
    RETURN jsonb_build_object('problems', (
        SELECT coalesce(jsonb_agg(p ORDER BY p->>'check', p->>'org_id'), '[]')
          FROM jsonb_array_elements(general || carrier) AS e(p)));
END
$$;
COMMENT ON FUNCTION api.config_problems(text, boolean, text[]) IS
$$Configuration that cannot work, as {"problems": [{"check", "message", "fix", "org_id"?}]} (empty: none):
"code_pepper" when this session's role has no code pepper (codes are off); "sms_sender" for each clinic
without a sender number (organizations.sms_from) when sms_provider is 'twilio' and no Messaging Service is
configured (messaging_service false); "carrier_secrets_key" for each clinic with its own carrier account whose
token was encrypted with a key not among secrets_key_ids (the ids of the keys in the process's
VOXBOOK_SECRETS_KEY, voxbook.secrets_box.key_id; '{}' when it is unset; NULL, the default: not checked).
Messages name clinics and key ids only, never a key or a token. Used by `voxbook doctor`, the
start-up checks of `voxbook serve`/`voxbook worker` and GET /health.
Example: SELECT api.config_problems(sms_provider => 'twilio', messaging_service => false, secrets_key_ids => '{3f2a9c0d1e4b}');$$;
