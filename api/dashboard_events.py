"""Live hot leads for dashboards: one LISTEN connection per server process, fanned out to browsers.

``api.record_call_end`` NOTIFYs ``voxbook_hot_lead`` with ``{"org_id", "alert_id"}`` for each new hot lead.
Every open dashboard stream subscribes here with the clinic of its session; a notification reaches only
the subscribers of the clinic named in it, and the lead they get is read through
``api.dashboard_hot_lead(org_id, alert_id)`` -- scoped to that clinic by the database, too.

NOTIFY is a wake-up, not a log: notifications sent while the listener is disconnected are lost. So after
every reconnect the hub tells each browser to ``resync`` (fetch its list again), and a browser whose
own stream reconnects does the same.

On Citus the NOTIFY fires on the worker node that runs the (delegated) api.record_call_end and never reaches
this listener on the coordinator. There the hub polls instead: every ``poll_seconds`` without a notification
it reads each subscribed clinic's newest leads (api.dashboard_hot_leads) and pushes the ones it has not seen.
A clinic's first poll only notes what exists and tells its browsers to ``resync`` (whatever came between
their page load and that poll is then fetched). On a single PostgreSQL the hub does not poll for leads.

The schedule, the holds and the queues (issue 16) change on the booking path, which must not NOTIFY: a NOTIFY
takes a database-wide lock at commit and would serialise every booking's commit. So for those the hub always
polls, every ``change_seconds``, only the clinics with an open stream, all of them in one call:
``api.dashboard_hub_changes(org_ids)`` gives each one's cheap markers (those of ``api.dashboard_changes``), and a
marker that differs from the clinic's last one is pushed as a ``schedule``, ``holds`` or ``queues`` event (the last
with the queue counts) to that clinic's streams only; the page then fetches its fragment again. A clinic's first
poll (at its first subscriber) only notes its markers. One call per interval, not one per clinic: with 200 clinics
open that is one query every 2 s instead of 100 a second (``change_polls`` counts the calls).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from psycopg.rows import scalar_row
from psycopg_pool import AsyncConnectionPool

from voxbook.api.dashboard_auth import lead_item
from voxbook.db import ApiError, call, listen
from voxbook.migrate import CITUS_INSTALLED_SQL

log = logging.getLogger("voxbook.api.dashboard")

CHANNEL = "voxbook_hot_lead"
LISTENER_APPLICATION_NAME = "voxbook-dashboard-listener"
QUEUE_SIZE = 100
# Citus only (no NOTIFY reaches us there): how often quiet clinics are polled, and how many newest leads one
# poll reads (more new ones than that in one interval: the browsers refetch instead).
POLL_SECONDS = 2.0
POLL_LEADS = 20
# Everywhere: how often the clinics with an open stream are asked what changed (api.dashboard_hub_changes), and
# how many clinics one call takes at most (the function's own limit).
CHANGE_SECONDS = 2.0
CHANGE_BATCH = 1000
CHANGE_TOPICS = ("schedule", "holds", "queues")


@dataclass(frozen=True, slots=True)
class Event:
    kind: str            # "hot_lead" | "resync" | "schedule" | "holds" | "queues"
    data: str = "{}"
    id: str | None = None


@dataclass(eq=False, slots=True)
class Subscriber:
    org_id: str
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE))

    def put(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # A browser that can't keep up loses events, not the server's memory; it refetches instead.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(Event("resync"))


class HotLeadHub:
    """Owns the process's LISTEN connection (started with the first subscriber) and the subscriber sets."""

    def __init__(self, conninfo: str, pool: AsyncConnectionPool, *, max_backoff: float = 10.0,
                 poll_seconds: float = POLL_SECONDS, change_seconds: float = CHANGE_SECONDS) -> None:
        self._conninfo = conninfo
        self._pool = pool
        self._max_backoff = max_backoff
        # The listener's idle interval: its liveness probe everywhere, and the poll on Citus.
        self._poll_seconds = poll_seconds
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._seen: dict[str, set[str]] = {}   # polling: per clinic, the alert ids its browsers have had
        self._task: asyncio.Task[None] | None = None
        self._change_seconds = change_seconds
        self._markers: dict[str, dict[str, Any]] = {}   # per clinic, its last markers (api.dashboard_hub_changes)
        self._watch_task: asyncio.Task[None] | None = None
        self._baselines: set[asyncio.Task[None]] = set()
        self.change_polls = 0                  # calls of api.dashboard_hub_changes (one per interval, any clinics)
        self.connected = False
        self.connections_made = 0
        self.polling = False                   # set at each connection: True on a Citus coordinator

    def subscribe(self, org_id: str) -> Subscriber:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="dashboard-hot-lead-listener")
        if self._watch_task is None or self._watch_task.done():
            self._watch_task = asyncio.create_task(self._watch_changes(), name="dashboard-change-poller")
        sub = Subscriber(str(org_id))
        first = sub.org_id not in self._subscribers
        self._subscribers.setdefault(sub.org_id, set()).add(sub)
        if first and sub.org_id not in self._markers:
            # The clinic's markers now, not at the next poll: a change made between the two would be taken for
            # the starting point and never pushed.
            task = asyncio.create_task(self._check_changes([sub.org_id]), name="dashboard-change-baseline")
            self._baselines.add(task)
            task.add_done_callback(self._baselines.discard)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        subs = self._subscribers.get(sub.org_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscribers[sub.org_id]
                self._seen.pop(sub.org_id, None)
                self._markers.pop(sub.org_id, None)

    @property
    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    async def close(self) -> None:
        for task in (self._task, self._watch_task):
            if task is not None:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down either way
                    pass
        self._task = None
        self._watch_task = None

    async def _run(self) -> None:
        # The one LISTEN loop of the package (voxbook.db.listen): its liveness probe notices a server that
        # vanished without closing the socket, and it reconnects with backoff.
        await listen(self._conninfo, CHANNEL, application_name=LISTENER_APPLICATION_NAME,
                     on_connect=self._on_connect, on_notify=self._dispatch, on_idle=self._poll,
                     idle_seconds=self._poll_seconds,
                     initial_backoff=0.2, max_backoff=self._max_backoff, on_disconnect=self._on_disconnect)

    async def _on_connect(self, n: int) -> None:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=scalar_row)   # the pool's connections may have any row factory
            self.polling = bool(await (await cur.execute(CITUS_INSTALLED_SQL)).fetchone())
        self.connected = True
        self.connections_made = n
        if n > 1:
            # Whatever was notified while we were away is lost: browsers must refetch.
            self._broadcast(Event("resync"))
            log.info("dashboard listener reconnected")

    def _on_disconnect(self, exc: BaseException, retry_in: float) -> None:
        self.connected = False
        log.warning("dashboard listener: %s; reconnecting in %.1f s", type(exc).__name__, retry_in)

    def _broadcast(self, event: Event) -> None:
        for subs in list(self._subscribers.values()):
            for sub in list(subs):
                sub.put(event)

    async def _dispatch(self, payload: str) -> None:
        try:
            note = json.loads(payload)
            org_id, alert_id = str(note["org_id"]), str(note["alert_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("dashboard listener: ignored a malformed %s payload", CHANNEL)
            return
        subs = self._subscribers.get(org_id)
        if not subs:
            return
        if org_id in self._seen:
            self._seen[org_id].add(alert_id)
        try:
            async with self._pool.connection() as conn:
                lead: dict[str, Any] = await call(conn, "dashboard_hot_lead", org_id=org_id, alert_id=alert_id)
        except ApiError:
            return   # the alert is gone (clinic deleted): nothing to show
        except Exception as exc:  # noqa: BLE001 - the lead can't be read now: browsers refetch later
            log.warning("dashboard listener: could not read a hot lead (%s)", type(exc).__name__)
            event = Event("resync")
        else:
            event = _lead_event(alert_id, lead)
        self._send(org_id, event)

    def _send(self, org_id: str, event: Event) -> None:
        for sub in list(self._subscribers.get(org_id, ())):
            sub.put(event)

    async def _poll(self) -> None:
        """Citus: push each subscribed clinic's leads that its browsers have not had (see the module doc)."""
        if not self.polling:
            return
        for org_id in list(self._subscribers):
            try:
                async with self._pool.connection() as conn:
                    data = await call(conn, "dashboard_hot_leads", org_id=org_id, max_leads=POLL_LEADS)
            except ApiError:
                continue   # the clinic is gone
            except Exception as exc:  # noqa: BLE001 - read again at the next poll
                log.warning("dashboard poll: could not read hot leads (%s)", type(exc).__name__)
                continue
            if org_id not in self._subscribers:
                continue   # its last browser left meanwhile
            leads = data["leads"]
            seen = self._seen.get(org_id)
            self._seen[org_id] = {lead["alert_id"] for lead in leads}
            new = [lead for lead in leads if seen is not None and lead["alert_id"] not in seen]
            if seen is None or len(new) == POLL_LEADS:
                self._send(org_id, Event("resync"))   # first poll, or maybe more new leads than one poll reads
                continue
            for lead in reversed(new):   # oldest first, as they came
                self._send(org_id, _lead_event(lead["alert_id"], lead))


    async def _watch_changes(self) -> None:
        """Every change_seconds, the clinics with an open stream, in one call: push the topics whose marker moved."""
        while True:
            await asyncio.sleep(self._change_seconds)
            org_ids = list(self._subscribers)
            for start in range(0, len(org_ids), CHANGE_BATCH):
                await self._check_changes(org_ids[start:start + CHANGE_BATCH])

    async def _check_changes(self, org_ids: list[str]) -> None:
        if not org_ids:
            return
        try:
            async with self._pool.connection() as conn:
                answer: dict[str, Any] = await call(conn, "dashboard_hub_changes",
                                                    org_ids=[UUID(org_id) for org_id in org_ids])
        except Exception as exc:  # noqa: BLE001 - asked again at the next poll
            log.warning("dashboard change poll: %s", type(exc).__name__)
            return
        self.change_polls += 1
        clinics: dict[str, dict[str, Any]] = answer["clinics"]
        for org_id in org_ids:
            now = clinics.get(org_id)
            if now is None or org_id not in self._subscribers:
                continue   # the clinic is gone, or its last browser left meanwhile
            before = self._markers.get(org_id)
            self._markers[org_id] = now
            if before is None:
                continue
            for topic in CHANGE_TOPICS:
                if now.get(topic) != before.get(topic):
                    data = {"counts": now.get("counts")} if topic == "queues" else {}
                    self._send(org_id, Event(topic, json.dumps(data)))


def _lead_event(alert_id: str, lead: dict[str, Any]) -> Event:
    data = json.dumps({"alert_id": alert_id, "call_id": lead.get("call_id"), "html": lead_item(lead)})
    return Event("hot_lead", data, alert_id)
