-- Configuration that cannot work, found at start instead of by a caller (`voxbook doctor`, the start-up
-- checks of `voxbook serve` and `voxbook worker`, GET /health). The data rules live here; the process's own
-- settings are checked in voxbook/doctor.py, which passes in what the database needs to know of them.

CREATE FUNCTION api.config_problems(sms_provider text, messaging_service boolean)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, voxbook, public, pg_temp AS $$
BEGIN
    -- PL/pgSQL: no SQL-language function reads a table (db/README.md, Citus).
    RETURN (
    SELECT jsonb_build_object('problems', coalesce(jsonb_agg(p ORDER BY p->>'check', p->>'org_id'), '[]'))
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
      ) AS found(p));
END
$$;
COMMENT ON FUNCTION api.config_problems(text, boolean) IS
$$Configuration that cannot work, as {"problems": [{"check", "message", "fix", "org_id"?}]} (empty: none):
"code_pepper" when this session's role has no code pepper (codes are off); "sms_sender" for each clinic
without a sender number (organizations.sms_from) when sms_provider is 'twilio' and no Messaging Service is
configured (messaging_service false). Messages name clinics by id only. Used by `voxbook doctor`, the
start-up checks of `voxbook serve`/`voxbook worker` and GET /health.
Example: SELECT api.config_problems(sms_provider => 'twilio', messaging_service => false);$$;
