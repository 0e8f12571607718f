-- The time zones a clinic may use: voxbook.time_zones (migration 0019), which organizations.time_zone refers to.

-- Zone names change with tzdata (a PostgreSQL upgrade): every migrate adds the names this server knows and the
-- table lacks. None is deleted: a clinic may use it, and a name gone from tzdata stays valid in old data.
INSERT INTO voxbook.time_zones (name)
SELECT z.name FROM pg_catalog.pg_timezone_names AS z
 WHERE (z.name ~ '/' OR z.name = 'UTC') AND z.name !~ '^(posix|right)/'
ON CONFLICT DO NOTHING;

-- The listed spelling of a zone a caller gave (matched case-insensitively, surrounding blanks ignored), or
-- VB400 with a HINT: what a function that sets a clinic's zone calls first, so that a bad zone is a clear
-- refusal and never the foreign key's raw 23503. PL/pgSQL: it reads a table (db/README.md, Citus).
CREATE FUNCTION internal.require_time_zone(tz text) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    listed text;
BEGIN
    PERFORM internal.require(tz, 'time_zone');
    SELECT z.name INTO listed FROM voxbook.time_zones AS z WHERE z.name = btrim(tz);
    IF listed IS NULL THEN
        SELECT z.name INTO listed FROM voxbook.time_zones AS z WHERE lower(z.name) = lower(btrim(tz))
         ORDER BY z.name LIMIT 1;
    END IF;
    IF listed IS NULL THEN
        PERFORM internal.fail('VB400', 'unknown time zone',
                              'Give an IANA zone name such as America/New_York or Europe/London (abbreviations such as EST and offsets such as +05 are not zones).');
    END IF;
    RETURN listed;
END
$$;
