-- Run by `voxbook db migrate` after db/functions/*.sql (which re-created schemas api and internal), in the
-- same transaction, only when the citus extension is present. Every function of schemas voxbook (the
-- migrations' trigger and CHECK functions), internal (the helpers) and api is made known to Citus, which
-- creates it on every node: a delegated function runs on a worker and calls the helpers there.
-- An api function whose org_id parameter has no default is delegated by it: the whole call runs on the node
-- that holds that clinic's shards (colocated with holds), one round trip, its statements local there.
-- A function that may work across clinics (org_id DEFAULT NULL, or no org_id) is not: it runs on the
-- coordinator, which routes its statements; and Citus 13.2.2 crashes the coordinator backend on a delegated
-- call with a NULL distribution argument (voxbook.db.call refuses org_id=None for the same reason).
DO $distribute_functions$
DECLARE
    f record;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure AS sig,
               -- an input argument org_id (the first pronargs names; RETURNS TABLE columns follow them)
               -- that comes before the first argument with a default
               n.nspname = 'api'
               AND coalesce(array_position(p.proargnames[1:p.pronargs], 'org_id')
                            <= p.pronargs - p.pronargdefaults, false) AS delegated
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname IN ('voxbook', 'internal', 'api') AND p.prokind = 'f'
         ORDER BY n.nspname = 'api', p.oid   -- helpers first
    LOOP
        IF f.delegated THEN
            PERFORM create_distributed_function(f.sig, 'org_id', colocate_with => 'voxbook.holds');
        ELSE
            PERFORM create_distributed_function(f.sig);
        END IF;
    END LOOP;
END
$distribute_functions$;
