"""A fake Twilio Messages API: a real HTTP server on 127.0.0.1, in a thread.

Serves what the worker uses, with Twilio's shapes:
  POST {prefix}/2010-04-01/Accounts/{AccountSid}/Messages.json  -> 201 message JSON (or a scripted error)
  GET  {prefix}/2010-04-01/Accounts/{AccountSid}/Messages.json  -> one page, newest first, To/From filters
HTTP Basic auth (AccountSid:AuthToken) is checked like Twilio does (401, code 20003): the user must be the
account of the URL and the password its token, or its secondary token during a rotation (each POST records
which: ``token`` "primary" or "secondary"). One fake serves several accounts (``add_account``: clinics on
their own accounts), each seeing only its own messages in the list; every message and POST records its
``account``; refused requests are kept in ``auth_failures``. ``prefix`` is an
optional path before /2010-04-01 that tells which client called (TWILIO_API_BASE=http://host:port/w1).

Behaviour per recipient (``script(to, [...])``, consumed one per POST to that number):
  ("error", http_status, code)  refuse without creating (400 + 21211, 429 + 20429, 500 ...)
  ("drop",)                     close the connection without an answer, nothing created
  ("drop_after_create",)        create the message, then close without an answer
  ("error_after_create", http_status, code)  create the message, then answer an error (a 5xx Twilio had
                                processed: the worst ambiguous send)
  ("slow", seconds)             create the message, answer after ``seconds``
``gate`` (a threading.Event) holds every POST until set; ``delay`` slows every answer; ``delay_range``
(low, high) slows each answer by a random time in that range instead.
The list (GET) has Twilio's shape: it does not return the StatusCallback URL; tests read it from
``messages[i]["_params"]`` to count what was created per outbox row.
"""

from __future__ import annotations

import base64
import collections
import email.utils
import json
import random
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlsplit

_PATH = re.compile(r"^(?P<prefix>(?:/[^/]+)*?)/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")


class FakeTwilio:
    def __init__(self, account_sid: str = "AC" + "f" * 32, auth_token: str = "fake-auth-token"):
        self.account_sid = account_sid       # the main account (the process-wide one of the tests)
        self.accounts: dict[str, str] = {account_sid: auth_token}   # account SID -> its (primary) auth token
        self.secondary_tokens: dict[str, str] = {}                  # account SID -> a secondary token
        self.lock = threading.Lock()
        self.messages: list[dict] = []       # created messages (Twilio JSON + "_params", "_prefix")
        self.posts: list[dict] = []          # every POST received: {"prefix", "params", "outcome", "account"}
        self.gets: list[dict] = []           # every list request: {"prefix", "query", "account"}
        self.auth_failures: list[dict] = []  # requests refused with 401: {"method", "account"}
        self.in_flight: collections.Counter[str] = collections.Counter()   # POSTs being handled, by prefix
        self._scripts: dict[str, collections.deque] = {}
        self.gate = threading.Event()
        self.gate.set()
        self.delay = 0.0
        self.delay_range: tuple[float, float] | None = None
        self._server: ThreadingHTTPServer | None = None

    # -- control ---------------------------------------------------------------------------

    @property
    def auth_token(self) -> str:
        return self.accounts[self.account_sid]

    @auth_token.setter
    def auth_token(self, token: str) -> None:
        self.accounts[self.account_sid] = token

    def add_account(self, account_sid: str, auth_token: str, secondary: str | None = None) -> None:
        """Another account, or new tokens for one (any token not given is refused from now on). Twilio's
        rotation: add a secondary token, move clients to it, promote it (``add_account(sid, new)``)."""
        with self.lock:
            self.accounts[account_sid] = auth_token
            if secondary:
                self.secondary_tokens[account_sid] = secondary
            else:
                self.secondary_tokens.pop(account_sid, None)

    def messages_for(self, account_sid: str) -> list[dict]:
        with self.lock:
            return [m for m in self.messages if m["account_sid"] == account_sid]

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-twilio").start()
        return self

    def stop(self) -> None:
        self.gate.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, to: str, actions: list[tuple]) -> None:
        with self.lock:
            self._scripts.setdefault(to, collections.deque()).extend(actions)

    def created_for(self, message_ids) -> collections.Counter[str]:
        """How many messages were created per outbox message id (read from our StatusCallback URL)."""
        wanted = {str(m) for m in message_ids}
        with self.lock:
            ids = [_message_id_of(m["_params"]) for m in self.messages]
        return collections.Counter(i for i in ids if i in wanted)

    def posts_for(self, to: str) -> list[dict]:
        with self.lock:
            return [p for p in self.posts if p["params"].get("To") == to]

    def wait_for(self, predicate, timeout: float = 30.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"fake twilio: timed out waiting for {what}")
            time.sleep(0.02)

    # -- behaviour ---------------------------------------------------------------------------

    def _next_action(self, to: str) -> tuple:
        with self.lock:
            q = self._scripts.get(to)
            return q.popleft() if q else ("ok",)

    def _create(self, params: dict[str, str], prefix: str, account_sid: str | None = None) -> dict:
        now = email.utils.format_datetime(datetime.now(timezone.utc), usegmt=False)
        sid = "SM" + uuid.uuid4().hex
        service = params.get("MessagingServiceSid")
        account = account_sid or self.account_sid
        msg = {
            "account_sid": account,
            "api_version": "2010-04-01",
            "body": params.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": params.get("From"),
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": "0" if service else "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{account}/Messages/{sid}/Media.json"},
            "to": params.get("To"),
            "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        }
        with self.lock:
            self.messages.append({**msg, "_params": dict(params), "_prefix": prefix})
        return msg


def _message_id_of(params: dict[str, str]) -> str | None:
    cb = params.get("StatusCallback")
    if not cb:
        return None
    return dict(parse_qsl(urlsplit(cb).query)).get("message_id")


class _Handler(BaseHTTPRequestHandler):
    owner: FakeTwilio
    protocol_version = "HTTP/1.0"   # one request per connection: "drop" really drops

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send_json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass   # the client gave up (timeout) or was killed

    def _error(self, status: int, code: int, message: str) -> None:
        self._send_json(status, {"code": code, "message": message,
                                 "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status})

    def _route(self) -> tuple[str, str, str] | None:
        """(prefix, account SID, "primary" | "secondary" token) of an authenticated request; None once
        answered 404 or 401."""
        fake = self.owner
        m = _PATH.match(urlsplit(self.path).path)
        if not m:
            self._error(404, 20404, "The requested resource was not found")
            return None
        with fake.lock:
            tokens = {"primary": fake.accounts.get(m["sid"]), "secondary": fake.secondary_tokens.get(m["sid"])}
        for which, token in tokens.items():
            expected = "Basic " + base64.b64encode(f"{m['sid']}:{token}".encode()).decode()
            if token is not None and self.headers.get("Authorization") == expected:
                return m["prefix"] or "", m["sid"], which
        with fake.lock:
            fake.auth_failures.append({"method": self.command, "account": m["sid"]})
        self._error(401, 20003, "Authenticate")
        return None

    def do_GET(self) -> None:
        fake = self.owner
        routed = self._route()
        if routed is None:
            return
        prefix, account, _ = routed
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        with fake.lock:
            fake.gets.append({"prefix": prefix, "query": query, "account": account})
            found = [{k: v for k, v in m.items() if not k.startswith("_")} for m in reversed(fake.messages)
                     if m["account_sid"] == account
                     and ("To" not in query or m["to"] == query["To"])
                     and ("From" not in query or m["from"] == query["From"])]
        size = int(query.get("PageSize", 50))
        uri = f"/2010-04-01/Accounts/{account}/Messages.json"
        self._send_json(200, {"messages": found[:size], "end": max(len(found[:size]) - 1, 0),
                              "first_page_uri": uri, "next_page_uri": None, "page": 0, "page_size": size,
                              "previous_page_uri": None, "start": 0, "uri": uri})

    def do_POST(self) -> None:
        fake = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        routed = self._route()
        if routed is None:
            return
        prefix, account, which = routed
        params = dict(parse_qsl(raw, keep_blank_values=True))
        record = {"prefix": prefix, "params": params, "outcome": None, "account": account, "token": which}
        with fake.lock:
            fake.posts.append(record)
            fake.in_flight[prefix] += 1
        try:
            fake.gate.wait()
            if not params.get("To") or not params.get("Body"):
                record["outcome"] = "error 400"
                return self._error(400, 21604, "A 'To' phone number is required.")
            action = fake._next_action(params["To"])
            record["outcome"] = action[0]
            if action[0] == "error":
                return self._error(action[1], action[2], f"Scripted error {action[2]}")
            if action[0] == "drop":
                return   # no answer: the server closes the connection
            msg = fake._create(params, prefix, account)
            if action[0] == "drop_after_create":
                return
            if action[0] == "error_after_create":
                return self._error(action[1], action[2], f"Scripted error {action[2]} after creating")
            time.sleep(action[1] if action[0] == "slow"
                       else random.uniform(*fake.delay_range) if fake.delay_range else fake.delay)
            self._send_json(201, msg)
        finally:
            with fake.lock:
                fake.in_flight[prefix] -= 1
