"""Run a private Citus cluster: a coordinator and workers, each a ``PgCluster`` on 127.0.0.1.

For the tests that prove voxbook runs distributed (tests/citus/) and for benchmarks. Every node
listens on a free TCP port of 127.0.0.1 (the nodes connect to each other there) and on its own Unix
socket (which ``url()`` uses, as for a single ``PgCluster``). Citus must be installed for the server's
PostgreSQL (scripts/ensure-citus); a node that cannot load it fails to start with the server's reason.

>>> with CitusCluster.temporary(workers=2) as c:
...     url = c.create_database("voxbook_test")   # on every node, with the citus extension, nodes added
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from voxbook.pgcluster import PgCluster, PgClusterError, find_bindir, free_port

# Nodes reach each other here; nothing else should, so not on a public interface.
NODE_HOST = "127.0.0.1"

# Settings of every node. Citus commits a transaction that wrote on several workers with two-phase
# commit, which needs prepared transactions; loopback connections between the nodes need no TLS
# (Citus's default node_conninfo asks for it, and a throwaway cluster has no certificate).
_NODE_SETTINGS = {
    "shared_preload_libraries": "citus",
    "listen_addresses": NODE_HOST,
    "max_prepared_transactions": "200",
    "citus.node_conninfo": "sslmode=disable",
}


def citus_available(bindir: Path | None = None) -> bool:
    """Whether this PostgreSQL has Citus installed (the library and the extension's control file)."""
    pg_config = (bindir or find_bindir()) / "pg_config"
    try:
        libdir = subprocess.run([str(pg_config), "--pkglibdir"], capture_output=True, text=True, check=True)
        sharedir = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    return (Path(libdir.stdout.strip()) / "citus.so").is_file() and (
        Path(sharedir.stdout.strip()) / "extension" / "citus.control"
    ).is_file()


class CitusCluster:
    """A coordinator (``nodes[0]``) and its workers, started and stopped together."""

    def __init__(self, coordinator: PgCluster, workers: list[PgCluster]) -> None:
        self.coordinator = coordinator
        self.workers = workers

    @property
    def nodes(self) -> list[PgCluster]:
        return [self.coordinator, *self.workers]

    @classmethod
    def temporary(cls, *, workers: int = 2, fsync: bool = False, settings: dict[str, str] | None = None,
                  **kwargs) -> CitusCluster:
        """Nodes in fresh temp dirs on free ports; ``cleanup()`` stops and deletes them all."""
        if not citus_available(kwargs.get("bindir")):
            raise PgClusterError("Citus is not installed for this PostgreSQL: run scripts/ensure-citus")
        node_settings = _NODE_SETTINGS | (settings or {})
        nodes: list[PgCluster] = []
        try:
            for _ in range(1 + workers):
                nodes.append(PgCluster.temporary(port=free_port(), fsync=fsync, settings=node_settings, **kwargs))
        except BaseException:
            for n in nodes:
                n.cleanup()
            raise
        return cls(nodes[0], nodes[1:])

    def start(self) -> None:
        """initdb (when needed) and start every node."""
        for node in self.nodes:
            if not node.initialized:
                node.initdb()
            node.start()

    def create_database(self, name: str) -> str:
        """Create ``name`` on every node with the citus extension, register the nodes with the
        coordinator; return the coordinator's superuser URL of it."""
        for node in self.nodes:
            url = node.create_database(name)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION citus")
        with psycopg.connect(self.coordinator.url(name), autocommit=True) as conn:
            # The address the workers use to reach the coordinator (distributed functions, 2PC recovery).
            conn.execute("SELECT citus_set_coordinator_host(%s, %s)", (NODE_HOST, self.coordinator.port))
            for w in self.workers:
                conn.execute("SELECT citus_add_node(%s, %s)", (NODE_HOST, w.port))
        return self.url(name)

    def url(self, dbname: str = "postgres", user: str = "postgres") -> str:
        """URL on the coordinator: the application and the migrations talk only to it."""
        return self.coordinator.url(dbname, user)

    def connect(self, dbname: str = "postgres", **kwargs) -> psycopg.Connection:
        return self.coordinator.connect(dbname, **kwargs)

    def drop_database(self, name: str) -> None:
        """Drop ``name`` everywhere (Citus does not propagate DROP DATABASE)."""
        for node in self.nodes:
            with node.connect(autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def cleanup(self) -> None:
        """Stop every node and delete its directory; goes on past a node that fails to stop."""
        errors: list[BaseException] = []
        for node in self.nodes:
            try:
                node.cleanup()
            except Exception as exc:  # noqa: BLE001 - the other nodes must still go
                errors.append(exc)
        if errors:
            raise errors[0]

    def __enter__(self) -> CitusCluster:
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()
