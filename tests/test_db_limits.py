"""What bounds one statement of the application: the app role's limits (set by `voxbook db migrate
--app-role`, the code path conftest uses for voxbook_app) and the client's retry of deadlocks."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

from voxbook.db import RETRY_ATTEMPTS, call, call_sync
from voxbook.migrate import APP_ROLE_SETTINGS


def normalized(db, name: str, value: str) -> str:
    # How the server shows the value ('5s', '256MB'): set it in a throwaway transaction and read it back.
    with db.transaction(force_rollback=True):
        db.execute("SELECT set_config(%s, %s, true)", [name, value])
        return db.execute("SELECT current_setting(%s) AS v", [name]).fetchone()["v"]


def test_the_app_role_gets_the_limits_and_log_settings(app_database_url, db):
    expected = {name: normalized(db, name, value) for name, value in APP_ROLE_SETTINGS.items()}
    with psycopg.connect(app_database_url) as app:
        got = {name: app.execute("SELECT current_setting(%s)", [name]).fetchone()[0] for name in APP_ROLE_SETTINGS}
    assert got == expected
    # And they are not the server's defaults: each one is there because a login role got it.
    defaults = {r["name"]: r["boot_val"] for r in db.execute(
        "SELECT name, boot_val FROM pg_settings WHERE name = ANY(%s)", [list(APP_ROLE_SETTINGS)])}
    assert all(normalized(db, n, defaults[n]) != expected[n] for n in ("statement_timeout", "temp_file_limit",
                                                                       "log_min_error_statement", "log_min_messages"))


def test_the_app_role_cannot_lift_the_superuser_only_ones(app_database_url):
    with psycopg.connect(app_database_url) as app:
        for name in ("temp_file_limit", "log_min_messages", "log_min_error_statement", "log_statement"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(f"SET {name} = DEFAULT")
            app.rollback()


def test_a_runaway_statement_is_cancelled(app_database_url):
    """statement_timeout: a statement that would run 60 s is stopped (it used to run forever)."""
    with psycopg.connect(app_database_url, autocommit=True) as app:
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled):
            app.execute("SELECT pg_sleep(60)")
        assert time.monotonic() - started < 30


FLAKY = """
CREATE SEQUENCE IF NOT EXISTS tests.flaky_runs;
CREATE OR REPLACE FUNCTION api.zz_test_flaky(fail_times int, sqlstate text) RETURNS jsonb
    LANGUAGE plpgsql AS $$
DECLARE
    run bigint := nextval('tests.flaky_runs');   -- sequences are not rolled back: counts every run
BEGIN
    IF run <= fail_times THEN
        RAISE EXCEPTION 'transient failure' USING ERRCODE = sqlstate;
    END IF;
    RETURN jsonb_build_object('runs', run);
END $$;
"""


@pytest.fixture
def flaky(db):
    """api.zz_test_flaky(fail_times, sqlstate): fails with sqlstate on its first fail_times runs."""
    db.execute(FLAKY)
    db.execute("ALTER SEQUENCE tests.flaky_runs RESTART")
    try:
        yield lambda: db.execute("SELECT last_value AS n, is_called FROM tests.flaky_runs").fetchone()["n"]
    finally:
        db.execute("DROP FUNCTION api.zz_test_flaky(int, text)")
        db.execute("DROP SEQUENCE tests.flaky_runs")


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_deadlocks_and_serialization_failures_are_retried(flaky, database_url, sqlstate):
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert call_sync(conn, "zz_test_flaky", fail_times=RETRY_ATTEMPTS - 1, sqlstate=sqlstate) == {
            "runs": RETRY_ATTEMPTS}


def test_retries_stop_after_a_few_runs(flaky, database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.DeadlockDetected):
            call_sync(conn, "zz_test_flaky", fail_times=100, sqlstate="40P01")
    assert flaky() == RETRY_ATTEMPTS


def test_other_errors_and_statements_inside_a_transaction_are_not_retried(flaky, database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.LockNotAvailable):
            call_sync(conn, "zz_test_flaky", fail_times=100, sqlstate="55P03")
        assert flaky() == 1
        with pytest.raises(psycopg.errors.DeadlockDetected), conn.transaction():
            # the transaction is lost with the statement: only its owner can run it again
            call_sync(conn, "zz_test_flaky", fail_times=100, sqlstate="40P01")
    assert flaky() == 2


def test_the_async_client_retries_too(flaky, database_url):
    async def run():
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            return await call(conn, "zz_test_flaky", fail_times=2, sqlstate="40P01")

    assert asyncio.run(run()) == {"runs": 3}
