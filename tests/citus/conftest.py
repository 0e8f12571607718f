"""Harness of the Citus tests: one throwaway Citus cluster per pytest session.

A coordinator and two workers on 127.0.0.1 (voxbook/citus_cluster.py), each with the citus extension in
``voxbook_test`` and the workers registered with the coordinator. Citus comes from scripts/ensure-citus
(`make test` runs it). When the cluster cannot start -- Citus missing included -- the whole run stops
with the reason and fails: a Citus target that skips would pass on a machine that proves nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from voxbook.citus_cluster import CitusCluster

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
