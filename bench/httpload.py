"""A small HTTP/1.1 load generator: N keep-alive connections, each sending its next request as soon
as the previous answer is in (closed loop), bounded by a duration and a request count.

Hand-written on asyncio streams rather than an HTTP client library because on a 2-core box the load
generator shares the CPUs with the server under test: a few microseconds per request here leave the
server most of a core. Targets 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    requests: int = 0
    ok: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    sample_failures: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def post_request(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
            f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def run_load(port: int, make: Callable[[int], bytes], *, callers: int, seconds: float, max_requests: int,
                   ok: Callable[[int, bytes], bool]) -> LoadResult:
    if not 0 < seconds <= 120 or not 0 < max_requests <= 1_000_000:
        raise ValueError("load runs are bounded: 0 < seconds <= 120 and 0 < max_requests <= 1e6")
    res = LoadResult()
    counter = itertools.count()
    deadline = time.perf_counter() + seconds

    async def caller() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                i = next(counter)
                if i >= max_requests:
                    return
                req = make(i)
                t0 = time.perf_counter()
                writer.write(req)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length) if length else b""
                res.latencies_ms.append((time.perf_counter() - t0) * 1000)
                res.requests += 1
                res.statuses[status] = res.statuses.get(status, 0) + 1
                if ok(status, body):
                    res.ok += 1
                elif len(res.sample_failures) < 3:
                    res.sample_failures.append(f"{status} {body[:300]!r}")
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    res.seconds = time.perf_counter() - t0
    return res
