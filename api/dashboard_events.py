"""Live hot leads for dashboards: one LISTEN connection per server process, fanned out to browsers.

``api.record_call_end`` NOTIFYs ``voxbook_hot_lead`` with ``{"org_id", "alert_id"}`` for each new hot lead.
Every open dashboard stream subscribes here with the clinic of its session; a notification reaches only
the subscribers of the clinic named in it, and the lead they get is read through
``api.dashboard_hot_lead(org_id, alert_id)`` -- scoped to that clinic by the database, too.

NOTIFY is a wake-up, not a log: notifications sent while the listener is disconnected are lost. So after
every reconnect the hub tells each browser to ``resync`` (fetch its list again), and a browser whose
own stream reconnects does the same.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import AsyncConnectionPool

from voxbook.api.dashboard_html import lead_item
from voxbook.db import ApiError, call, listen

log = logging.getLogger("voxbook.api.dashboard")

CHANNEL = "voxbook_hot_lead"
LISTENER_APPLICATION_NAME = "voxbook-dashboard-listener"
QUEUE_SIZE = 100


@dataclass(frozen=True, slots=True)
class Event:
    kind: str            # "hot_lead" | "resync"
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
                 liveness_seconds: float = 15.0) -> None:
        self._conninfo = conninfo
        self._pool = pool
        self._max_backoff = max_backoff
        self._liveness = liveness_seconds
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._task: asyncio.Task[None] | None = None
        self.connected = False
        self.connections_made = 0

    def subscribe(self, org_id: str) -> Subscriber:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="dashboard-hot-lead-listener")
        sub = Subscriber(str(org_id))
        self._subscribers.setdefault(sub.org_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        subs = self._subscribers.get(sub.org_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscribers[sub.org_id]

    @property
    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down either way
                pass
            self._task = None

    async def _run(self) -> None:
        # The one LISTEN loop of the package (voxbook.db.listen): its liveness probe notices a server that
        # vanished without closing the socket, and it reconnects with backoff.
        await listen(self._conninfo, CHANNEL, application_name=LISTENER_APPLICATION_NAME,
                     on_connect=self._on_connect, on_notify=self._dispatch, idle_seconds=self._liveness,
                     initial_backoff=0.2, max_backoff=self._max_backoff, on_disconnect=self._on_disconnect)

    async def _on_connect(self, n: int) -> None:
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
        try:
            async with self._pool.connection() as conn:
                lead: dict[str, Any] = await call(conn, "dashboard_hot_lead", org_id=org_id, alert_id=alert_id)
        except ApiError:
            return   # the alert is gone (clinic deleted): nothing to show
        except Exception as exc:  # noqa: BLE001 - the lead can't be read now: browsers refetch later
            log.warning("dashboard listener: could not read a hot lead (%s)", type(exc).__name__)
            event = Event("resync")
        else:
            data = json.dumps({"alert_id": alert_id, "call_id": lead.get("call_id"), "html": lead_item(lead)})
            event = Event("hot_lead", data, alert_id)
        for sub in list(self._subscribers.get(org_id, ())):
            sub.put(event)
