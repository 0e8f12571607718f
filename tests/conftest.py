"""Test harness: one throwaway PostgreSQL cluster per pytest session.

Session start: initdb + start a socket-only server in a temp dir, create ``voxbook_test``
with pgTAP, migrate it through the real CLI, load tests/helpers.pgsql, add the login role
``voxbook_app`` as `voxbook db migrate --app-role` does (``ensure_login_role``: limits, log settings). Any failure there aborts the whole run with the reason
(never a skip: pytest-pgtap's own fixture skips with exit 0 when it cannot connect).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from voxbook.migrate import ensure_login_role
from voxbook.pgcluster import PgCluster

# The fixtures of these modules (client, live_server) are registered for every test file, so a test
# names a fixture in its signature without importing it (an imported fixture needs noqa: F401/F811).
pytest_plugins = ("vapi_helpers", "dashboard_helpers")

REPO_ROOT = Path(__file__).resolve().parent.parent
HELPERS_SQL = REPO_ROOT / "tests" / "helpers.pgsql"
TEST_DB = "voxbook_test"
APP_ROLE = "voxbook_app"
API_ROLE = "voxbook_api"
# The code pepper of the test database (a role setting of the superuser and voxbook_app; see voxbook/migrate.py).
TEST_CODE_PEPPER = "test-pepper-0123456789abcdefghijklmnopqrstuvwxyz"


def pytest_configure(config: pytest.Config) -> None:
    # pytest-pgtap prints --pgtap-uri (default $DATABASE_URL, password included) in the
    # header, yet our pgtap_connection override never uses it.
    if config.pluginmanager.hasplugin("pgtap"):
        config.option.pgtap_uri = "voxbook throwaway cluster (tests/conftest.py)"


def run_cli(*args: str, database_url: str | None, timeout: float = 300,
            extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``voxbook ...`` the way a user would, in a subprocess."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | (extra_env or {})
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "voxbook.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _abort(what: str, detail: object) -> None:
    pytest.exit(f"test harness: {what}:\n{detail}", returncode=pytest.ExitCode.TESTS_FAILED)


def _prepare_test_db(cluster: PgCluster) -> None:
    url = cluster.create_database(TEST_DB)
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            conn.execute("CREATE EXTENSION pgtap")
        except psycopg.errors.FeatureNotSupported as exc:  # raised when the control file is missing
            raise RuntimeError(f"{exc} -- run scripts/ensure-pgtap") from exc
        except psycopg.errors.UndefinedFile as exc:
            raise RuntimeError(f"{exc} -- run scripts/ensure-pgtap") from exc

    res = run_cli("db", "migrate", database_url=url, extra_env={"VOXBOOK_CODE_PEPPER": TEST_CODE_PEPPER})
    if res.returncode != 0:
        raise RuntimeError(f"`voxbook db migrate` exited {res.returncode}:\n{res.stdout}{res.stderr}")

    with psycopg.connect(url) as conn:
        conn.execute(HELPERS_SQL.read_text())  # missing helpers must fail the run, not skip them
        # Roles are cluster-wide; the migrations normally create voxbook_api themselves.
        conn.execute(
            f"""
            DO $$
            BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{API_ROLE}') THEN
                CREATE ROLE {API_ROLE} NOLOGIN;
              END IF;
            END $$
            """
        )
    # The code path of `voxbook db migrate --app-role`: the test role gets exactly what production's gets
    # (membership, statement/lock/idle/temp-file limits, log settings, the code pepper).
    ensure_login_role(url, APP_ROLE, code_pepper=TEST_CODE_PEPPER)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A running, migrated throwaway cluster; stopped and deleted at session end."""
    try:
        cluster = PgCluster.temporary(fsync=False)
    except Exception as exc:  # noqa: BLE001
        _abort("cannot set up PostgreSQL", exc)
    try:
        cluster.initdb()
        cluster.start()
        _prepare_test_db(cluster)
    except Exception as exc:  # noqa: BLE001
        cluster.cleanup()
        _abort("cannot prepare the test database", exc)
    try:
        yield cluster
    finally:
        cluster.cleanup()


@pytest.fixture(scope="session")
def database_url(pg_cluster: PgCluster) -> str:
    """Superuser URL of the migrated ``voxbook_test`` database."""
    return pg_cluster.url(TEST_DB)


@pytest.fixture(scope="session")
def app_database_url(pg_cluster: PgCluster) -> str:
    """URL of the same database as the unprivileged ``voxbook_app`` (member of voxbook_api)."""
    return pg_cluster.url(TEST_DB, user=APP_ROLE)


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection]:
    """Autocommit superuser connection returning dict rows; changes persist, so clean up."""
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


@pytest.fixture(scope="session")
def pgtap_connection(database_url: str) -> Iterator[psycopg.Connection]:
    """Overrides pytest-pgtap's fixture: connection errors must fail, not skip."""
    conn = psycopg.connect(database_url)
    with conn:
        yield conn
