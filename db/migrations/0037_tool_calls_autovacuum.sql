-- tool_calls churns like the outbox: every tool call inserts its row and updates it in the same transaction (one
-- dead tuple each), and the retention job (api.purge_tool_calls, run by the SMS worker) deletes the oldest rows
-- in bulk. The table holds the retained window (two days of calls), so with the default thresholds (20 % of the
-- table) autovacuum waits for hours of that churn before it frees the purged space: meanwhile every new row goes
-- to the end of the table and the table grows by each hour's calls before falling back -- bounded, but not flat.
-- Vacuum and analyze after 2 % of it (plus 500 rows) instead, as for holds (0005) and the outbox (0007), so the
-- space each purge frees is reused within the hour. Measured in bench/ (9, the soak).
-- depends: 0003_tool_calls

ALTER TABLE voxbook.tool_calls SET (
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_vacuum_threshold = 500,
    autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_vacuum_insert_threshold = 500,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_analyze_threshold = 500
);
