"""Harness of the Citus tests: one throwaway Citus cluster per pytest session.

A coordinator and two workers on 127.0.0.1 (voxbook/citus_cluster.py), each with the citus extension in
``voxbook_test`` and the workers registered with the coordinator. Citus comes from scripts/ensure-citus
(`make test` runs it). When the cluster cannot start -- Citus missing included -- the whole run stops
with the reason and fails: a Citus target that skips would pass on a machine that proves nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from conftest import APP_ROLE, HELPERS_SQL, TEST_CODE_PEPPER, run_cli
from psycopg.rows import dict_row
from vapi_helpers import ADMIN, serve_process

from voxbook.citus_cluster import CitusCluster
from voxbook.migrate import ensure_login_role

CITUS_DB = "voxbook_test"


def _abort(what: str, detail: object) -> None:
    pytest.exit(f"citus test harness: {what}:\n{detail}", returncode=pytest.ExitCode.TESTS_FAILED)


@pytest.fixture(scope="session")
def citus_cluster() -> Iterator[CitusCluster]:
    """A running coordinator + two workers with ``voxbook_test`` on each; stopped and deleted at session end."""
    try:
        cluster = CitusCluster.temporary(workers=2, fsync=False)
    except Exception as exc:  # noqa: BLE001
        _abort("cannot set up the Citus cluster (run scripts/ensure-citus)", exc)
    try:
        cluster.start()
        cluster.create_database(CITUS_DB)
    except Exception as exc:  # noqa: BLE001
        cluster.cleanup()
        _abort("cannot start the Citus cluster", exc)
    try:
        yield cluster
    finally:
        cluster.cleanup()


@pytest.fixture(scope="session")
def citus_url(citus_cluster: CitusCluster) -> str:
    """Superuser URL of ``voxbook_test`` on the coordinator."""
    return citus_cluster.url(CITUS_DB)


@pytest.fixture(scope="session")
def voxbook_citus(citus_cluster: CitusCluster, citus_url: str) -> str:
    """``voxbook_test`` on the coordinator migrated through the real CLI (which distributes it), with
    pgTAP, tests/helpers.pgsql and the ``voxbook_app`` login role, as tests/conftest.py prepares the single
    node. A failure fails every test that needs it (the harness tests above still run)."""
    with psycopg.connect(citus_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgtap")   # Citus creates it on the workers too
    res = run_cli("db", "migrate", database_url=citus_url, extra_env={"VOXBOOK_CODE_PEPPER": TEST_CODE_PEPPER})
    assert res.returncode == 0, f"`voxbook db migrate` on the coordinator exited {res.returncode}:\n{res.stdout}{res.stderr}"
    with psycopg.connect(citus_url) as conn:
        conn.execute(HELPERS_SQL.read_text())
    ensure_login_role(citus_url, APP_ROLE, code_pepper=TEST_CODE_PEPPER)
    return citus_url


@pytest.fixture(scope="session")
def citus_app_url(citus_cluster: CitusCluster, voxbook_citus: str) -> str:
    """The coordinator as ``voxbook_app``: what the API and the worker use."""
    return citus_cluster.url(CITUS_DB, user=APP_ROLE)


@pytest.fixture
def cdb(voxbook_citus: str) -> Iterator[psycopg.Connection]:
    """Autocommit superuser connection to the coordinator, dict rows (the ``db`` of the single-node tests)."""
    with psycopg.connect(voxbook_citus, autocommit=True, row_factory=dict_row) as conn:
        yield conn


@pytest.fixture(scope="module")
def citus_server(citus_app_url: str) -> Iterator[str]:
    """`voxbook serve` (uvicorn) against the coordinator as voxbook_app; its base URL."""
    with serve_process(citus_app_url, " against the coordinator", ADMIN_TOKEN=ADMIN) as base:
        yield base
