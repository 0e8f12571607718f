-- Run by `voxbook db migrate` after the migrations and before db/functions/*.sql, in the functions'
-- transaction, only when the citus extension is present (a single PostgreSQL is left alone). Idempotent: a
-- table already distributed (or a reference table) is skipped, so it distributes a new database, an existing
-- one with data (in place), and a table a later migration adds (Citus may have made such a table a "Citus
-- local table" because of its foreign key to a reference table: it is distributed here like a plain one).
-- The rule, by columns, so that a new table needs no line here:
--   every voxbook table with org_id    -> distributed by org_id, all colocated with holds (one clinic = one
--                                         shard group)
--   every other voxbook table          -> reference table (copied to every node; every node reads it locally):
--                                         organizations (its UNIQUE (phone) stays enforced), message_templates,
--                                         time_zones, countries, the locale data, ...
--   except sms_inbound                 -> distributed by message_sid (no clinic: Twilio's id is the key)
-- (yoyo's bookkeeping tables live in schema public, which is left alone: the coordinator keeps them.)
-- A migration on a database already distributed may distribute its new table at once with
-- voxbook.distribute_if_citus (0019) and then give it keys to distributed tables; see db/README.md.
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
    probe constant regprocedure := 'voxbook.protect_referenced_by_holds()';   -- a migrations' function that stays
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
    ref_tables regclass[];
    converted regclass[] := '{}';
    anchor constant regclass := 'voxbook.holds';
    inbound constant regclass := 'voxbook.sms_inbound';
BEGIN
    SELECT coalesce(array_agg(c.oid::regclass ORDER BY c.oid::regclass = anchor DESC, c.relname), '{}')
      INTO org_tables
      FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped
     WHERE c.relnamespace = 'voxbook'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       -- Hash-distributed ('h') or a reference table (replication 't') is done; a Citus local table is not.
       AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p
                        WHERE p.logicalrelid = c.oid AND (p.partmethod = 'h' OR p.repmodel = 't'));
    -- Every other table but sms_inbound: a reference table unless it is one (organizations first).
    SELECT coalesce(array_agg(c.oid::regclass ORDER BY c.relname <> 'organizations', c.relname), '{}')
      INTO ref_tables
      FROM pg_class c
     WHERE c.relnamespace = 'voxbook'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND c.oid <> inbound
       AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                        WHERE a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped)
       AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid AND p.repmodel = 't');
    IF cardinality(org_tables) = 0 AND cardinality(ref_tables) = 0
       AND EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = inbound AND partmethod = 'h') THEN
        RETURN;  -- nothing new
    END IF;

    -- Foreign keys to re-create once all are distributed: every one touching a table about to become a
    -- reference table; every one referring to a table about to be distributed; and on the first run
    -- (organizations not yet a reference table) every one of the clinic tables. A later table's own keys to
    -- reference or distributed tables stay: Citus distributes it with them (it cannot drop a key of a Citus
    -- local table with an identity column anyway).
    FOR fk IN
        SELECT con.conrelid::regclass AS tbl, con.conname, pg_get_constraintdef(con.oid) AS def
          FROM pg_constraint con
         WHERE con.contype = 'f' AND con.connamespace = 'voxbook'::regnamespace
           AND (con.confrelid = ANY (org_tables)
                OR con.conrelid = ANY (ref_tables) OR con.confrelid = ANY (ref_tables)
                OR 'voxbook.organizations'::regclass = ANY (ref_tables) AND con.conrelid = ANY (org_tables))
    LOOP
        fks := fks || format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.tbl, fk.conname, fk.def);
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.conname);
    END LOOP;

    FOREACH t IN ARRAY ref_tables LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = t) THEN
            converted := converted || t;   -- a plain table (a Citus local table keeps no copy to truncate)
        END IF;
        PERFORM create_reference_table(t);
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = inbound AND partmethod = 'h') THEN
        IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = inbound) THEN
            converted := converted || inbound;
        END IF;
        PERFORM create_distributed_table(inbound, 'message_sid', colocate_with => 'none');
    END IF;
    FOREACH t IN ARRAY org_tables LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = t) THEN
            converted := converted || t;
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
