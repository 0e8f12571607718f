"""What every benchmark shares: the throwaway server, the scale of a run, statistics, results."""

from __future__ import annotations

import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from voxbook.migrate import ensure_login_role, migrate
from voxbook.pgcluster import PgCluster

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
SETUP_SQL = BENCH_DIR / "sql" / "setup.sql"
APP_ROLE = "voxbook_bench_app"
TEMPLATE_DB = "bench_template"


@dataclass(frozen=True)
class Scale:
    """How big and how long each benchmark runs. ``full`` is what the table in README.md comes from."""

    name: str
    rounds: int                  # every figure is a median over this many runs (baseline and subject alternate)
    claims_seconds: float        # one pgbench run
    claims_clients: int
    claims_calendars: int
    hot_rounds: int
    hot_clients: int
    hot_slots: int
    http_seconds: float          # one load run against one endpoint
    http_callers: int
    http_max_requests: int       # per run, whatever the duration: a hard bound on the load
    sms_probes: int              # commit -> fake Twilio latency samples per round
    sms_probe_gap: float         # seconds between probes: one confirmation at a time, never a queue
    sms_messages: int            # queued per throughput round
    avail_appointments: int      # past appointments in the big database
    avail_queries: int           # per measurement of one query shape
    avail_providers: int = 20

    @staticmethod
    def full() -> Scale:
        return Scale(name="full", rounds=5, claims_seconds=6, claims_clients=16, claims_calendars=200,
                     hot_rounds=20, hot_clients=64, hot_slots=10, http_seconds=5, http_callers=32,
                     http_max_requests=40_000, sms_probes=100, sms_probe_gap=0.02, sms_messages=2000,
                     avail_appointments=1_000_000, avail_queries=200)

    @staticmethod
    def quick() -> Scale:
        # Seconds, not minutes: proves every benchmark runs end to end and its checks hold.
        return Scale(name="quick", rounds=1, claims_seconds=1, claims_clients=16, claims_calendars=20,
                     hot_rounds=2, hot_clients=64, hot_slots=10, http_seconds=1, http_callers=32,
                     http_max_requests=2_000, sms_probes=8, sms_probe_gap=0.02, sms_messages=100,
                     avail_appointments=5_000, avail_queries=10)


# -- statistics ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100): always a value that was really observed."""
    if not values:
        return math.nan
    ordered = sorted(values)
    k = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[k - 1]


def median(values: Iterable[float]) -> float:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(vals) if vals else math.nan


def ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


# -- results ------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table: a figure, the baseline it is divided by, and its target."""

    benchmark: str
    metric: str
    value: float
    unit: str
    baseline: str = ""
    baseline_value: float | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None


@dataclass
class BenchResult:
    name: str
    rows: list[Row] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)   # hard correctness checks: must all hold
    raw: dict[str, Any] = field(default_factory=dict)      # per-run figures, for the JSON
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["rows"] = [asdict(r) for r in self.rows]
        return d


def dump_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str, allow_nan=True) + "\n")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- the throwaway server -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_app(factory: str, env: dict[str, str], log_path: Path, what: str) -> tuple[subprocess.Popen, int]:
    """An ASGI app (``module:factory``) under uvicorn with `voxbook serve`'s options (uvloop, httptools, one
    worker, no server header) and the access log off (one stderr line per request would be measured too), on a
    free port; returns once its /health says the database is reachable."""
    import urllib.request
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--workers", "1", "--loop", "uvloop", "--http", "httptools", "--log-level",
           "warning", "--no-access-log", "--no-server-header"]
    proc = subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=log_path.open("wb"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited {proc.returncode}: {log_path.read_text()[-1500:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if json.load(r).get("database") == "ok":
                    return proc, port
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"{what} did not answer /health within 30 s")


class BenchServer:
    """One private PostgreSQL (Unix socket only, fsync ON) for the whole run.

    fsync stays on because every claim, tool call and SMS report is a durable commit in
    production: with fsync off, the commit -- the part a plain INSERT and a claim share -- would
    vanish from both sides of every ratio and flatter the booking logic's share.
    A migrated template database makes each benchmark's fresh database a file copy.
    """

    def __init__(self) -> None:
        self.cluster = PgCluster.temporary(fsync=True)
        self._dbs: list[str] = []

    def start(self) -> None:
        self.cluster.initdb()
        self.cluster.start()
        url = self.cluster.create_database(TEMPLATE_DB)
        migrate(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SETUP_SQL.read_text())
        ensure_login_role(url, APP_ROLE)

    def new_db(self, name: str) -> str:
        with self.cluster.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                         sql.Identifier(TEMPLATE_DB)))
        self._dbs.append(name)
        return self.cluster.url(name)

    def url(self, db: str, app: bool = False) -> str:
        return self.cluster.url(db, user=APP_ROLE if app else "postgres")

    def pg_bin(self, tool: str) -> str:
        return str(self.cluster.bindir / tool)

    def libpq_env(self, db: str) -> dict[str, str]:
        """Environment for libpq tools (pgbench, psql) aimed at ``db`` over the socket."""
        env = dict(os.environ)
        env.update(PGHOST=str(self.cluster.socket_dir), PGPORT=str(self.cluster.port), PGUSER="postgres",
                   PGDATABASE=db)
        env.pop("PGPASSWORD", None)
        return env

    def version(self) -> str:
        with self.cluster.connect() as conn:
            return conn.execute("SHOW server_version").fetchone()[0]

    def settings(self) -> dict[str, str]:
        names = ["fsync", "synchronous_commit", "shared_buffers", "wal_sync_method", "max_connections"]
        with self.cluster.connect() as conn:
            return {n: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(n))).fetchone()[0] for n in names}

    def cleanup(self) -> None:
        self.cluster.cleanup()


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(node: PgCluster) -> float:
    """CPU time of a server so far: the postmaster, its reaped children (backends that ended) and the live
    ones (Citus keeps connections between nodes open)."""
    pid = int((node.data_dir / "postmaster.pid").read_text().split()[0])

    # /proc/<pid>/stat after the name: state=0 ppid=1 ... utime=11 stime=12 cutime=13 cstime=14
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = sum(int(x) for x in fields[11:15])
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:   # a backend: its own times, from the line read once (it may exit meanwhile)
                total += sum(int(x) for x in fields[11:13])
    return total / CLK_TCK


def create_clinic(url: str, calendars: int, phone: str, time_zone: str = "UTC", day_start: str = "08:00",
                  day_end: str = "16:00") -> str:
    """bench.create_clinic, then ANALYZE of the tables it filled: a clinic that has existed for a minute
    has statistics (autovacuum), and without them the planner takes 200 calendars for a handful.
    The still-empty booking tables are left unanalyzed on purpose: statistics saying "0 rows" make
    PostgreSQL cache generic plans that scan every hold of a calendar (see README, hot slot)."""
    with psycopg.connect(url, autocommit=True) as conn:
        org = conn.execute("SELECT bench.create_clinic(%s, %s, %s, %s, %s)",
                           [calendars, phone, time_zone, day_start, day_end]).fetchone()[0]
        conn.execute("ANALYZE voxbook.organizations, voxbook.calendars, voxbook.working_hours, voxbook.services")
    return str(org)


def run(cmd: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    res = subprocess.run(list(cmd), env=env, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"{Path(cmd[0]).name} exited {res.returncode}: {(res.stderr or res.stdout).strip()[-2000:]}")
    return res.stdout
