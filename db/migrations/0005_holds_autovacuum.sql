-- Holds churn: every claim inserts, every expiry, release and confirmation updates. With the default
-- thresholds (20 % of the table) autovacuum and analyze come late on a busy calendar, dead index
-- entries pile up in holds_no_overlap and plans go stale; measured in bench/ (hot slot).
-- depends: 0001_core

ALTER TABLE voxbook.holds SET (
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_vacuum_threshold = 200,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_analyze_threshold = 200
);
