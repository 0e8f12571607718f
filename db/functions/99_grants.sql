-- The API role may execute the api functions and nothing else: no table, no internal function.
-- PostgreSQL grants EXECUTE to PUBLIC on every new function, hence the REVOKE.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
REVOKE ALL ON SCHEMA api FROM PUBLIC;
GRANT USAGE ON SCHEMA api TO voxbook_api;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO voxbook_api;
