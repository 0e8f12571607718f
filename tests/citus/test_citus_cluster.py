"""The Citus harness itself: two workers registered, and a distributed table really spread over both."""

from __future__ import annotations

import psycopg

from voxbook.citus_cluster import NODE_HOST

ROWS = 200


def test_workers_are_registered(citus_cluster, citus_url):
    with psycopg.connect(citus_url) as conn:
        active = conn.execute(
            "SELECT nodename, nodeport FROM pg_dist_node WHERE isactive AND noderole = 'primary' AND groupid <> 0"
            " ORDER BY nodeport"
        ).fetchall()
    assert active == sorted((NODE_HOST, w.port) for w in citus_cluster.workers)


def test_distributed_table_spans_both_workers(citus_cluster, citus_url):
    with psycopg.connect(citus_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE smoke (org_id uuid NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY,"
                     " note text, PRIMARY KEY (org_id, id))")
        try:
            conn.execute("SELECT create_distributed_table('smoke', 'org_id')")
            conn.execute("INSERT INTO smoke (org_id, note) SELECT gen_random_uuid(), 'row ' || g"
                         " FROM generate_series(1, %s) g", (ROWS,))
            # Through the coordinator: every row, from every shard.
            assert conn.execute("SELECT count(*) FROM smoke").fetchone()[0] == ROWS
            # Placements on both workers, and each worker really holds some of the rows.
            placed = conn.execute(
                "SELECT p.nodeport, count(*) FROM pg_dist_shard s JOIN pg_dist_shard_placement p USING (shardid)"
                " WHERE s.logicalrelid = 'smoke'::regclass GROUP BY p.nodeport ORDER BY p.nodeport"
            ).fetchall()
            assert [port for port, _ in placed] == sorted(w.port for w in citus_cluster.workers)
            per_worker = []
            for w in citus_cluster.workers:
                with psycopg.connect(w.url("voxbook_test")) as wconn:
                    # Citus hides shards from catalog queries of ordinary clients; we want to see them.
                    wconn.execute("SET citus.override_table_visibility = off")
                    shards = [r[0] for r in wconn.execute(
                        "SELECT relname FROM pg_class WHERE relname ~ '^smoke_[0-9]+$' AND relkind = 'r'"
                    )]
                    assert shards, f"no shard of smoke on worker :{w.port}"
                    per_worker.append(sum(
                        wconn.execute(f'SELECT count(*) FROM "{s}"').fetchone()[0] for s in shards
                    ))
            assert sum(per_worker) == ROWS and all(n > 0 for n in per_worker), per_worker
            # A single-clinic statement is routed to one shard and writes there.
            org = conn.execute("SELECT org_id FROM smoke LIMIT 1").fetchone()[0]
            conn.execute("UPDATE smoke SET note = 'changed' WHERE org_id = %s", (org,))
            assert conn.execute("SELECT note FROM smoke WHERE org_id = %s", (org,)).fetchone()[0] == "changed"
        finally:
            conn.execute("DROP TABLE smoke")
