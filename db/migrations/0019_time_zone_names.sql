-- Time zones by a table of their names, and a helper that distributes a migration's new table at once on Citus.
-- * voxbook.time_zones (name PRIMARY KEY): the IANA zone names PostgreSQL knows (pg_timezone_names: names with
--   a '/', and UTC; not its posix/ and right/ copies, nor abbreviations, offsets or POSIX rules). The CHECK
--   (voxbook.is_time_zone) read pg_timezone_names on every insert or update of a clinic, which parses the
--   whole zone database: 9-20 ms per call. A foreign key is an index lookup. Names come and go with tzdata, so
--   they are data: db/functions/62_time_zones.sql adds the names a newer tzdata brings on every migrate (ON
--   CONFLICT DO NOTHING); nothing deletes a name, least of all one a clinic uses.
-- * Existing clinics first get the listed spelling of their zone (is_time_zone matched case-insensitively:
--   'america/new_york' becomes 'America/New_York'); a zone PostgreSQL no longer knows stops the migration
--   with the clinic's id. Then the CHECK goes and organizations.time_zone refers to time_zones (ON UPDATE
--   CASCADE: a renamed row carries its clinics along). voxbook.is_time_zone is dropped: nothing else uses it.
-- * CALL voxbook.distribute_if_citus(table): on a database already distributed by Citus (voxbook.holds is
--   hash-distributed), distributes a table a migration has just created -- by org_id, colocated with holds, if
--   it has org_id; else as a reference table -- so that the rest of the migration may give it keys to
--   distributed tables and identity columns. Anywhere else (a single PostgreSQL, or a Citus database whose
--   first `voxbook db migrate` has not distributed it yet) it does nothing: db/citus/10_distribute_tables.sql
--   distributes every table after the migrations. See db/README.md "Writing functions that run on Citus too".
--   time_zones is its first user: organizations, a reference table there, may refer only to another one.
-- depends: 0001_core 0018_citus_ready

CREATE PROCEDURE voxbook.distribute_if_citus(tbl regclass)
    LANGUAGE plpgsql AS $$
DECLARE
    distributed boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RETURN;   -- a single PostgreSQL
    END IF;
    -- Dynamic SQL: the Citus catalog exists only with the extension.
    EXECUTE $q$SELECT EXISTS (SELECT 1 FROM pg_dist_partition
                               WHERE logicalrelid = 'voxbook.holds'::regclass AND partmethod = 'h')$q$ INTO distributed;
    IF NOT distributed THEN
        RAISE NOTICE '% is left to db/citus/10_distribute_tables.sql: the database is not distributed yet', tbl;
        RETURN;
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = $1 AND (partmethod = ''h'' OR repmodel = ''t''))'
       INTO distributed USING tbl;
    IF distributed THEN
        RETURN;   -- done already
    END IF;
    -- One connection per node for the rest of the transaction, as db/citus does: DDL on several distributed
    -- tables of one transaction (the table, then keys between it and others).
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                WHERE attrelid = tbl AND attname = 'org_id' AND attnum > 0 AND NOT attisdropped) THEN
        EXECUTE 'SELECT create_distributed_table($1, ''org_id'', colocate_with => ''voxbook.holds'')' USING tbl;
        RAISE NOTICE '% is distributed by org_id', tbl;
        RETURN;
    END IF;
    EXECUTE 'SELECT create_reference_table($1)' USING tbl;
    RAISE NOTICE '% is a reference table', tbl;
END
$$;
-- Migrations only (db/functions/99_grants.sql revokes functions, not procedures, on every migrate).
REVOKE ALL ON PROCEDURE voxbook.distribute_if_citus(regclass) FROM PUBLIC;
COMMENT ON PROCEDURE voxbook.distribute_if_citus(regclass) IS
    'For migrations: on a database Citus already distributes, distribute a table just created (by org_id, '
    'colocated with holds; a table without org_id as a reference table), before keys to other tables are added. '
    'Elsewhere a no-op (db/citus/10_distribute_tables.sql distributes every table after the migrations). '
    'A procedure (CALL voxbook.distribute_if_citus(''voxbook.x'')): a SELECT in a migration prints its result.';

CREATE TABLE voxbook.time_zones (
    name text PRIMARY KEY
);
COMMENT ON TABLE voxbook.time_zones IS
    'The IANA time zone names a clinic may use (organizations.time_zone refers here): PostgreSQL''s '
    'pg_timezone_names with a ''/'' or UTC, without posix/ and right/. New names are added on every migrate '
    '(db/functions/62_time_zones.sql); none is deleted. No org_id: on Citus a reference table.';
INSERT INTO voxbook.time_zones (name)
SELECT z.name FROM pg_catalog.pg_timezone_names AS z
 WHERE (z.name ~ '/' OR z.name = 'UTC') AND z.name !~ '^(posix|right)/'
ON CONFLICT DO NOTHING;
CALL voxbook.distribute_if_citus('voxbook.time_zones');

-- The listed spelling of each clinic's zone, one clinic at a time (on Citus organizations is a reference table).
DO $$
DECLARE
    o record;
    listed text;
BEGIN
    FOR o IN SELECT id, time_zone FROM voxbook.organizations
              WHERE time_zone NOT IN (SELECT name FROM voxbook.time_zones) ORDER BY id LOOP
        SELECT z.name INTO listed FROM voxbook.time_zones AS z WHERE lower(z.name) = lower(o.time_zone)
         ORDER BY z.name LIMIT 1;
        IF listed IS NULL THEN
            RAISE EXCEPTION 'clinic % has the time zone %, which this PostgreSQL does not know', o.id, quote_literal(o.time_zone)
                USING HINT = 'Set organizations.time_zone of that clinic to an IANA name of pg_timezone_names, then migrate again.';
        END IF;
        UPDATE voxbook.organizations SET time_zone = listed WHERE id = o.id;
    END LOOP;
END
$$;

ALTER TABLE voxbook.organizations DROP CONSTRAINT organizations_time_zone_check;
ALTER TABLE voxbook.organizations ADD CONSTRAINT organizations_time_zone_fkey
    FOREIGN KEY (time_zone) REFERENCES voxbook.time_zones (name) ON UPDATE CASCADE;
DROP FUNCTION voxbook.is_time_zone(text);
