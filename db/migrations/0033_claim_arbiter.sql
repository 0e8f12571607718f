-- A cheaper arbiter for claims (issue 18). holds_no_overlap compared calendars by their text id inside the
-- GiST index: btree_gist's text keys (variable length, prefix-compressed, compared by collation) made it the
-- largest single cost of a claim. It now compares hashtextextended(calendar_id, 0), a bigint, which btree_gist
-- handles as cheaply as any fixed-size key (bench/README.md, "Arbiters": measured against a bigint key column,
-- a btree unique index over 5-minute cells, and the old key).
-- * The guarantee is unchanged, whatever the application writes: one calendar always has one hash, so two
--   active claims of one calendar whose occupied times overlap still conflict. Two calendars of one clinic
--   whose ids had the same 64-bit hash would only keep each other's times too (a refusal, never a double
--   booking), at odds of about n^2 / 2^65 for a clinic with n calendars.
-- * No new column: nothing to backfill and nothing for a writer to fill in; the index is rebuilt from the rows
--   as they are (an exclusive lock on holds for the build, seconds for a million holds).
-- * org_id stays first with = (Citus requires the distribution column in an exclusion constraint, with =),
--   and the queries that look for a calendar's holds around a time keep using the index: on org_id and the
--   range alone, or with the same hash (internal.free_slots, the claim).
-- depends: 0024_booking_rules

ALTER TABLE voxbook.holds DROP CONSTRAINT holds_no_overlap;
ALTER TABLE voxbook.holds ADD CONSTRAINT holds_no_overlap EXCLUDE USING gist (
    org_id WITH =, (hashtextextended(calendar_id, 0)) WITH =,
    (coalesce(occupies, tstzrange(starts_at, ends_at, '[)'))) WITH &&
) WHERE (status IN ('held', 'confirmed'));
COMMENT ON TABLE voxbook.holds IS
    'Claims on calendar time. status held = live hold until expires_at; confirmed = an appointment''s time. '
    'holds_no_overlap forbids two active claims whose occupied time (buffers included) overlaps on one calendar '
    '(calendars compared by hashtextextended(calendar_id, 0): a bigint key, 0033).';
