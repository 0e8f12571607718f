"""The API pool's connection check (api/app.py connection_check): no round trip for a healthy connection,
a real check -- and so a fresh connection -- for one the server ended."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

from voxbook.api.app import connection_check


def _state_change(db, pid: int):
    # Moves whenever the backend runs anything, the pool's empty query included.
    return db.execute("SELECT state_change FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()["state_change"]


def test_a_healthy_connection_is_handed_out_without_a_round_trip(app_database_url, db):
    async def scenario() -> None:
        check = connection_check()
        async with await psycopg.AsyncConnection.connect(app_database_url, autocommit=True) as conn:
            pid = conn.info.backend_pid
            await check(conn)                     # first checkout: asked
            before = _state_change(db, pid)
            time.sleep(0.01)
            await check(conn)
            await check(conn)
            assert _state_change(db, pid) == before   # nothing ran on the backend
            await conn.execute("SELECT 1")
            assert _state_change(db, pid) != before   # (the figure does move when something runs)
    asyncio.run(scenario())


def test_a_connection_the_server_ended_fails_the_check(app_database_url, db):
    async def scenario() -> None:
        check = connection_check()
        async with await psycopg.AsyncConnection.connect(app_database_url, autocommit=True) as conn:
            await check(conn)
            assert db.execute("SELECT pg_terminate_backend(%s) AS ok", [conn.info.backend_pid]).fetchone()["ok"]
            for _ in range(100):   # the backend's FATAL message and end of stream reach the socket
                if db.execute("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = %s",
                              [conn.info.backend_pid]).fetchone()["n"] == 0:
                    break
                time.sleep(0.01)
            with pytest.raises(psycopg.OperationalError):
                await check(conn)   # the pool discards it and hands out another
    asyncio.run(scenario())
