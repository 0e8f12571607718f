"""A minimal, fast fake of Twilio's Messages API for the SMS benchmark (127.0.0.1 only).

tests/fake_twilio.py scripts failures and checks auth; this one only has to answer fast and tell
*when* each message arrived, so the benchmark measures the worker rather than the fake. It runs on
its own event loop in a thread of the benchmark process, so arrival times and commit times come
from the same clock (time.monotonic).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from email.utils import formatdate
from urllib.parse import parse_qs

_PATH = re.compile(rb"^(GET|POST) (?:/[^ ]*)?/2010-04-01/Accounts/([^/]+)/Messages\.json")


class FastFakeTwilio:
    def __init__(self) -> None:
        self.port = 0
        self.arrivals: dict[str, float] = {}   # recipient -> first arrival (time.monotonic())
        self.count = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-twilio", daemon=True)

    def start(self) -> FastFakeTwilio:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake Twilio did not start")
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        with self._lock:
            self.arrivals.clear()
            self.count = 0
            self.first_at = self.last_at = None

    def stop(self) -> None:
        if self._loop:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        self._server = loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length) if length else b""
                now = time.monotonic()
                m = _PATH.match(head)
                if m and m.group(1) == b"POST":
                    status, payload = 201, self._created(m.group(2).decode(), body, now)
                elif m:   # the worker's reconciliation lookup: nothing here was ever lost
                    status, payload = 200, {"messages": [], "meta": {"page": 0, "page_size": 50, "next_page_uri": None}}
                else:
                    status, payload = 404, {"code": 20404, "message": "not found", "status": 404}
                data = json.dumps(payload).encode()
                writer.write(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                             % (status, len(data), data))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _created(self, account: str, body: bytes, now: float) -> dict:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        to = form.get("To", "")
        with self._lock:
            self.count += 1
            self.arrivals.setdefault(to, now)
            if self.first_at is None:
                self.first_at = now
            self.last_at = now
        sid = "SM" + uuid.uuid4().hex
        date = formatdate(usegmt=True)
        return {"sid": sid, "account_sid": account, "to": to, "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"), "body": form.get("Body", ""),
                "status": "queued", "num_segments": "1", "num_media": "0", "direction": "outbound-api",
                "api_version": "2010-04-01", "price": None, "price_unit": "USD", "error_code": None,
                "error_message": None, "date_created": date, "date_updated": date, "date_sent": None,
                "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json", "subresource_uris": {}}
