-- Run by `voxbook db migrate` after the migrations and before db/functions/*.sql, in the functions'
-- transaction, only when the citus extension is present (a single PostgreSQL is left alone). Idempotent: a
-- table already distributed (or a reference table) is skipped, so it distributes a new database, an existing
-- one with data (in place), and a table a later migration adds (Citus may have made such a table a "Citus
-- local table" because of its foreign key to organizations: it is distributed here like a plain one).
--   organizations           -> reference table (copied to every node: every function reads its clinic's row
--                              locally; its UNIQUE (phone) stays enforced)
--   every table with org_id -> distributed by org_id, all colocated with holds (one clinic = one shard group)
--   sms_inbound             -> distributed by message_sid (no clinic: Twilio's id is the key)
-- Foreign keys are dropped and re-created around the conversion: Citus refuses a distributed table that refers
-- to a still-local table, and turns a local table that refers to a reference table into a "Citus local table".
-- The two guards of calendars/services against deleting what holds refer to (0009) stay: they read
-- only the clinic's own holds, which are on the same node (colocated), so they are safe on a shard.
SET LOCAL citus.enable_unsafe_triggers = on;
-- One transaction with DDL on several distributed tables (foreign keys between them): one connection per node.
SET LOCAL citus.multi_shard_modify_mode = sequential;
-- Roles: one created before the citus extension (a database distributed in place, or a role another database
-- of the cluster made first) exists on the coordinator only, and the grants to it would fail on the workers.
-- A GRANT on a distributed function makes Citus create the grantee on every node as a distributed role
-- (password and settings included; later ALTER ROLEs follow), so each such role gets one and loses it again.
-- The roles: the migrations' (voxbook_api, voxbook_clock) and the login roles in voxbook_api.
DO $roles$
DECLARE
    r regrole;
    probe constant regprocedure := 'voxbook.is_time_zone(text)';
BEGIN
    FOR r IN
        SELECT a.oid::regrole FROM pg_authid a
         WHERE (a.rolname IN ('voxbook_api', 'voxbook_clock')
                OR EXISTS (SELECT 1 FROM pg_auth_members m
                            WHERE m.member = a.oid AND m.roleid = 'voxbook_api'::regrole))
           AND NOT EXISTS (SELECT 1 FROM pg_dist_object d
                            WHERE d.classid = 'pg_authid'::regclass AND d.objid = a.oid)
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_dist_object d WHERE d.classid = 'pg_proc'::regclass AND d.objid = probe) THEN
            PERFORM create_distributed_function(probe);
        END IF;
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', probe, r);
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM %s', probe, r);
    END LOOP;
END
$roles$;
DO $distribute$
DECLARE
    fk record;
    fks text[] := '{}';
    t regclass;
    org_tables regclass[];
    converted regclass[] := '{}';
    anchor constant regclass := 'voxbook.holds';
BEGIN
    SELECT coalesce(array_agg(c.oid::regclass ORDER BY c.oid::regclass = anchor DESC, c.relname), '{}')
      INTO org_tables
      FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped
     WHERE c.relnamespace = 'voxbook'::regnamespace AND c.relkind IN ('r', 'p')
       -- Hash-distributed ('h') or a reference table (replication 't') is done; a Citus local table is not.
       AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p
                        WHERE p.logicalrelid = c.oid AND (p.partmethod = 'h' OR p.repmodel = 't'));
    IF cardinality(org_tables) = 0
       AND EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'voxbook.organizations'::regclass)
       AND EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'voxbook.sms_inbound'::regclass)
       AND EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'voxbook.message_templates'::regclass) THEN
        RETURN;  -- nothing new
    END IF;

    -- Foreign keys to re-create once all are distributed: on the first run every one touching a table about
    -- to change; later (organizations already a reference table) only those referring to a table about to be
    -- distributed. A later table's own keys to organizations or to distributed tables stay: Citus distributes
    -- it with them (it cannot drop a key of a Citus local table with an identity column anyway).
    FOR fk IN
        SELECT con.conrelid::regclass AS tbl, con.conname, pg_get_constraintdef(con.oid) AS def
          FROM pg_constraint con
         WHERE con.contype = 'f' AND con.connamespace = 'voxbook'::regnamespace
           AND (con.confrelid = ANY (org_tables)
                OR NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'voxbook.organizations'::regclass)
                   AND (con.conrelid = ANY (org_tables) OR con.confrelid = 'voxbook.organizations'::regclass))
    LOOP
        fks := fks || format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.tbl, fk.conname, fk.def);
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.conname);
    END LOOP;

    IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'voxbook.organizations'::regclass) THEN
        PERFORM create_reference_table('voxbook.organizations');
        converted := converted || 'voxbook.organizations'::regclass;
    END IF;
    -- The message catalogue has no org_id: every node renders texts, so every node has all of it.
    IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'voxbook.message_templates'::regclass) THEN
        PERFORM create_reference_table('voxbook.message_templates');
        converted := converted || 'voxbook.message_templates'::regclass;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'voxbook.sms_inbound'::regclass) THEN
        PERFORM create_distributed_table('voxbook.sms_inbound', 'message_sid', colocate_with => 'none');
        converted := converted || 'voxbook.sms_inbound'::regclass;
    END IF;
    FOREACH t IN ARRAY org_tables LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = t) THEN
            converted := converted || t;   -- a plain table (a Citus local table keeps no copy to truncate)
        END IF;
        PERFORM create_distributed_table(t, 'org_id',
            colocate_with => CASE WHEN t = anchor THEN 'default' ELSE anchor::text END);
    END LOOP;
    FOREACH t IN ARRAY converted LOOP
        -- The rows now live in the shards; the coordinator's own copy (kept by Citus) goes.
        PERFORM truncate_local_data_after_distributing_table(t);
    END LOOP;
    FOR i IN 1 .. cardinality(fks) LOOP
        EXECUTE fks[i];
    END LOOP;
END
$distribute$;
