-- Who may execute what, per audience (PostgREST's convention: a role per audience, EXECUTE only on what is
-- granted to it), in this one place. Schema api is rebuilt on every migrate (00_api_schema.sql), so these
-- grants are too: nothing granted by hand survives a migrate.
--
-- voxbook_api: the server's own processes (the API, the workers, the CLI log in as a member of it) may execute
-- every api function and nothing else: no table, no internal helper, none of the functions the tables use.
-- PostgreSQL grants EXECUTE to PUBLIC on every new function, hence the REVOKEs (schema voxbook's functions come
-- from migrations, so they are revoked here on every migrate too).
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA api, internal, voxbook FROM PUBLIC;
REVOKE ALL ON SCHEMA api, internal FROM PUBLIC;
GRANT USAGE ON SCHEMA api TO voxbook_api;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO voxbook_api;

-- voxbook_rpc (migration 0038): what /rpc serves to the holder of the admin token (api/rpc_routes.py offers a
-- function only when has_function_privilege('voxbook_rpc', ...)). Every api function but the process-only ones
-- below: they hand out what a person's password protects (argon2 hashes to check a sign-in against, a session
-- opened once the API has checked the password, an invitation turned into an account) or a stored credential's
-- ciphertext for a worker to decrypt. A leaked ADMIN_TOKEN must not yield them.
--
-- Included by default, excluded by name: /rpc is documented as "the api functions, as PostgREST serves them",
-- and nearly every new function is one an admin script may call, so an allow-list would be a second list of
-- over a hundred names to keep in step, whose forgotten entries nobody notices. Process-only functions are few and
-- rare, written by someone handling a secret; two checks keep this list honest: this block fails the migrate
-- when a name here is no api function (a rename would otherwise expose the new name silently), and
-- tests/test_rpc_postgrest.py fails when a function whose COMMENT speaks of a password hash or a ciphertext is
-- granted here.
DO $grants$
DECLARE
    process_only constant text[] := ARRAY[
        'dashboard_login_accounts', 'dashboard_login', 'accept_staff_invite',        -- password hashes, sessions
        'get_calendar_connection', 'claim_calendar_syncs', 'claim_calendar_sync',    -- CalDAV credentials
        'get_carrier_account', 'find_inbound_carrier_accounts', 'list_carrier_accounts',    -- carrier tokens
        'dashboard_hub_changes'];   -- the hub's batch over up to 1000 clinics: a process's call, not a page's
    stale text;
    f regprocedure;
BEGIN
    SELECT string_agg(name, ', ') INTO stale
      FROM unnest(process_only) AS name
     WHERE NOT EXISTS (SELECT 1 FROM pg_proc WHERE pronamespace = 'api'::regnamespace AND proname = name);
    IF stale IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '42883',
            MESSAGE = 'db/functions/99_grants.sql keeps from /rpc functions that do not exist: ' || stale,
            HINT = 'A process-only function was renamed or dropped: put its new name in the list (or remove it).';
    END IF;
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc AS p
              WHERE p.pronamespace = 'api'::regnamespace AND p.proname <> ALL (process_only)
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO voxbook_rpc', f);
    END LOOP;
END
$grants$;
