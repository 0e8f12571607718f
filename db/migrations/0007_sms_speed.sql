-- The outbox churns: every message is one insert and two non-HOT updates (queued -> sending -> sent), so
-- each leaves two dead tuples and dead entries in sms_outbox_claimable that every claim walks through
-- until VACUUM. With the default thresholds (20 % of the table) that waits for a fifth of all history;
-- vacuum and analyze this table after 2 % of it (plus 500 rows) instead. Measured in bench/ (SMS dispatch).
-- depends: 0002_sms_delivery

ALTER TABLE voxbook.sms_outbox SET (
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_vacuum_threshold = 500,
    autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_vacuum_insert_threshold = 500,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_analyze_threshold = 500
);
