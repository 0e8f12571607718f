-- Recreated on every `voxbook db migrate`, in the same transaction as the files after it, so that a
-- function removed or renamed in these files is gone from the database too (no stale API).
DROP SCHEMA IF EXISTS api CASCADE;
CREATE SCHEMA api;
COMMENT ON SCHEMA api IS
    'The voxbook booking API: every function here is callable from psql and, through role voxbook_api, '
    'by the HTTP layer and the SMS worker. See db/README.md for the flow, jsonb shapes and SQLSTATEs.';
