"""Staff edits racing voice claims (issue 14): a block of time off (one provider's, or the whole clinic closed)
and a claim of the same time, released at the same instant on two connections, 50 rounds each: exactly one of
them wins, never both. And a staff booking against a voice claim of the same time: one appointment or hold.

How: api.block_time takes the provider's calendar lock exclusively (a closure: every provider's;
internal.lock_calendar_change) before it reads the bookings in the way; api.claim_slot_atomic (and
api.book_for_patient through it) takes it shared before it checks blocks (internal.lock_calendar). Whoever comes
second sees the first.
Both sides connect as ``voxbook_app`` (EXECUTE on api functions, nothing else), as the API does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from voxbook.db import ApiError, call_sync

ROUNDS = 50


def duel(url: str, rounds: int, left: Callable[[psycopg.Connection, int], Any],
         right: Callable[[psycopg.Connection, int], Any]) -> list[tuple[Any, Any]]:
    """Each round runs left(conn, round) and right(conn, round) on two open connections released at the same
    instant by a barrier; returns each side's result (or the ApiError it raised) per round."""
    barrier = threading.Barrier(2)

    def side(work: Callable[[psycopg.Connection, int], Any]) -> list[Any]:
        out = []
        with psycopg.connect(url, autocommit=True) as conn:
            for r in range(rounds):
                barrier.wait(timeout=60)
                try:
                    out.append(work(conn, r))
                except ApiError as exc:
                    out.append(exc)
        return out

    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.submit(side, left), pool.submit(side, right)
        return list(zip(a.result(), b.result()))


@pytest.fixture
def clinic(db: psycopg.Connection) -> dict[str, Any]:
    org = db.execute("SELECT tests.create_clinic('Race Rules Clinic') AS org").fetchone()["org"]
    # from 20 days ahead, 09:00 local: in the future whenever the suite runs, inside the booking horizon
    first = db.execute("SELECT tests.at(%s, (current_date + 20) + time '09:00') AS t", [org]).fetchone()["t"]
    return {"org": org, "first": first}


def slot_of(first, r: int):
    """Round r's time: a fresh 30-minute slot each round (14 a day: 09:00-11:30, 13:00-16:30)."""
    day, k = divmod(r, 14)
    minutes = 30 * k if k < 6 else 240 + 30 * (k - 6)
    return first + timedelta(days=day, minutes=minutes)


def won(result: Any) -> bool:
    return isinstance(result, dict) and result.get("success") is True


@pytest.mark.parametrize("scope", ["provider", "clinic"])
def test_block_and_claim_of_the_same_time_never_both_win(app_database_url, db, clinic, scope):
    org, first = clinic["org"], clinic["first"]
    calendar = "cal-a" if scope == "provider" else None

    def block(conn, r):
        slot = slot_of(first, r)
        return call_sync(conn, "block_time", org_id=org, calendar_id=calendar, starts=slot,
                         ends=slot + timedelta(minutes=30), reason="race", changed_by="race test")

    def claim(conn, r):
        return call_sync(conn, "claim_slot_atomic", org_id=org, calendar_id="cal-a", slot_time=slot_of(first, r),
                         call_sid=f"race-{scope}-{r}", patient_name="Racer", patient_phone=f"+1555810{r:04d}")

    results = duel(app_database_url, ROUNDS, block, claim)
    for r, (blocked, claimed) in enumerate(results):
        assert won(blocked) != won(claimed), f"round {r}: block {blocked!r}, claim {claimed!r}"
        if won(claimed):   # the block came second: it saw the hold and was refused, naming it
            assert isinstance(blocked, ApiError) and blocked.sqlstate == "VB409", blocked
        else:              # the claim came second: it saw the block
            assert isinstance(claimed, ApiError) and claimed.sqlstate == "VB400", claimed
            assert claimed.message in ("Dr. Able is not available then", "the clinic is closed then"), claimed.message
    # and the database agrees: no block overlaps a live claim of its calendar
    overlapping = db.execute(
        """SELECT count(*) AS n FROM voxbook.blocked_periods AS b
             JOIN voxbook.holds AS h ON h.org_id = b.org_id AND (b.calendar_id IS NULL OR h.calendar_id = b.calendar_id)
            WHERE b.org_id = %s AND h.status IN ('held', 'confirmed')
              AND b.during && tstzrange(h.starts_at, h.ends_at, '[)')""", [org]).fetchone()["n"]
    assert overlapping == 0
    wins = sum(won(c) for _, c in results)
    print(f"{scope} block vs claim, {ROUNDS} rounds: the claim won {wins}, the block {ROUNDS - wins}")


def test_staff_booking_and_voice_claim_of_the_same_time_one_wins(app_database_url, db, clinic):
    org, first = clinic["org"], clinic["first"]

    def staff(conn, r):
        return call_sync(conn, "book_for_patient", org_id=org, calendar_id="cal-b", slot_time=slot_of(first, r),
                         service="consultation", patient_name="Walk In", patient_phone=f"+1555820{r:04d}",
                         staff_user="front desk")

    def voice(conn, r):
        return call_sync(conn, "claim_slot_atomic", org_id=org, calendar_id="cal-b", slot_time=slot_of(first, r),
                         call_sid=f"race-voice-{r}", patient_name="Caller", patient_phone=f"+1555830{r:04d}",
                         service="consultation")

    results = duel(app_database_url, ROUNDS, staff, voice)
    for r, (booked, claimed) in enumerate(results):
        assert won(booked) != won(claimed), f"round {r}: staff {booked!r}, voice {claimed!r}"
        loser = claimed if won(booked) else booked
        assert loser["code"] == "slot_taken", loser
    live = db.execute(
        "SELECT count(*) AS n FROM voxbook.holds WHERE org_id = %s AND calendar_id = 'cal-b' "
        "AND status IN ('held', 'confirmed')", [org]).fetchone()["n"]
    assert live == ROUNDS   # one claim per time, never two
    staff_wins = sum(won(b) for b, _ in results)
    appointments = db.execute(
        "SELECT count(*) AS n FROM voxbook.appointments WHERE org_id = %s AND booked_by = 'front desk'",
        [org]).fetchone()["n"]
    assert appointments == staff_wins
