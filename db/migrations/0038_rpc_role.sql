-- The audience of /rpc (api/rpc_routes.py): what the admin token may call over HTTP. PostgREST's convention,
-- one role per audience that may execute only what it is granted: db/functions/99_grants.sql grants it EXECUTE
-- on the api functions less those for the server's own processes (password hashes, sessions without a
-- password, stored credentials' ciphertext), and /rpc offers a function only when this role may execute it.
-- NOLOGIN and nobody is a member: it is a set of rights that /rpc checks against (has_function_privilege), not
-- a role anyone runs as. Roles are cluster-wide: created once, as 0001_core does for voxbook_api.
-- depends: 0001_core

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'voxbook_rpc') THEN
        CREATE ROLE voxbook_rpc NOLOGIN;
        COMMENT ON ROLE voxbook_rpc IS
            'What /rpc (the admin token) may call: EXECUTE on the api functions less the process-only ones '
            '(db/functions/99_grants.sql). Nobody logs in as it or is a member of it.';
    END IF;
END
$$;
