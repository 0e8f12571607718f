-- The API role may execute the api functions and nothing else: no table, no internal helper, none of the
-- functions the tables use. PostgreSQL grants EXECUTE to PUBLIC on every new function, hence the REVOKEs
-- (schema voxbook's functions come from migrations, so they are revoked here on every migrate too).
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA api, internal, voxbook FROM PUBLIC;
REVOKE ALL ON SCHEMA api, internal FROM PUBLIC;
GRANT USAGE ON SCHEMA api TO voxbook_api;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO voxbook_api;
