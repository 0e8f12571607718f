"""``python -m bench``: run the benchmarks against one throwaway server, print and store the table."""

from __future__ import annotations

import argparse
import importlib
import math
import os
import platform
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import BENCH_DIR, BenchResult, BenchServer, Scale, dump_json, log

README = BENCH_DIR / "README.md"
RESULTS_DIR = BENCH_DIR / "results"
START_MARK = "<!-- bench:results:start -->"
END_MARK = "<!-- bench:results:end -->"


# name -> (module, function); imported only when that benchmark runs.
_BENCHMARKS = {
    "claims": ("bench.claims", "run_claims"),
    "hot_slot": ("bench.claims", "run_hot_slot"),
    "http": ("bench.tool_calls", "run_tool_calls"),
    "sms": ("bench.sms", "run_sms"),
    "availability": ("bench.availability", "run_availability"),
    # its own Citus cluster (coordinator + 2 workers, voxbook.citus_cluster) next to the single node
    "citus": ("bench.citus", "run_citus"),
    # the arbiter alone: candidate constraints under a bare INSERT (bench/README.md, 7)
    "arbiters": ("bench.arbiters", "run_arbiters"),
}


def _benchmark(name: str) -> Callable[[BenchServer, Scale], BenchResult]:
    module, func = _BENCHMARKS[name]
    return getattr(importlib.import_module(module), func)


NAMES = ("claims", "hot_slot", "http", "sms", "availability", "citus", "arbiters")

# CalDAV calendar sync (issue 17, bench/calendar_sync.py): a change in a provider's calendar -> availability, and
# the cost of each connected calendar.
_BENCHMARKS["calendar_sync"] = ("bench.calendar_sync", "run_calendar_sync")
NAMES = (*NAMES, "calendar_sync")

# The soak (issue 18, bench/soak.py): a compressed hour of a busy clinic network -- tool calls, SMS, Twilio
# callbacks, dashboards -- with memory, connections and table sizes sampled and required flat at the end.
_BENCHMARKS["soak"] = ("bench.soak", "run_soak")
NAMES = (*NAMES, "soak")


def _fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return "n/a"
        if unit in ("x", "") and abs(v) < 100:
            return f"{v:.2f}"
        return f"{v:.1f}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def table(results: list[BenchResult]) -> str:
    lines = ["| benchmark | figure | value | baseline (same run) | ratio | target | met |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        for row in r.rows:
            value = f"{_fmt(row.value, row.unit)} {row.unit}".strip()
            base = f"{row.baseline}: {_fmt(row.baseline_value)}" if row.baseline else ""
            met = "" if row.met is None else ("yes" if row.met else "**no**")
            lines.append(f"| {row.benchmark} | {row.metric} | {value} | {base} | {_fmt(row.ratio, 'x')} "
                         f"| {row.target} | {met} |")
    return "\n".join(lines)


def _write_readme(md: str) -> None:
    text = README.read_text()
    if START_MARK not in text or END_MARK not in text:
        raise RuntimeError(f"{README} lacks the {START_MARK} / {END_MARK} markers")
    head, rest = text.split(START_MARK, 1)
    _, tail = rest.split(END_MARK, 1)
    README.write_text(f"{head}{START_MARK}\n{md}\n{END_MARK}{tail}")


def _meta(server: BenchServer, scale: Scale) -> dict[str, Any]:
    return {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "scale": scale.name,
            "rounds": scale.rounds, "host": platform.node(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "postgres": server.version(), "pg_settings": server.settings()}


def run(only: list[str] | None = None, quick: bool = False, results_dir: Path | None = None,
        write_readme: bool | None = None) -> dict[str, Any]:
    scale = Scale.quick() if quick else Scale.full()
    names = [n for n in NAMES if not only or n in only]
    write_readme = (not quick and not only) if write_readme is None else write_readme
    results_dir = results_dir or RESULTS_DIR
    started = time.perf_counter()
    main_thread = threading.current_thread() is threading.main_thread()
    if main_thread:
        # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so the throwaway server is stopped and deleted.
        previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    server = BenchServer()
    results: list[BenchResult] = []
    errors: dict[str, str] = {}
    try:
        log(f"starting a throwaway PostgreSQL (fsync on), scale {scale.name}")
        server.start()
        meta = _meta(server, scale)
        for name in names:
            log(f"--- {name}")
            t0 = time.perf_counter()
            try:
                r = _benchmark(name)(server, scale)
            except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
                if os.environ.get("VOXBOOK_DEBUG"):
                    raise
                errors[name] = f"{type(exc).__name__}: {exc}"
                log(f"{name} failed: {errors[name]}")
                continue
            r.seconds = round(time.perf_counter() - t0, 1)
            results.append(r)
    finally:
        server.cleanup()
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    meta["seconds"] = round(time.perf_counter() - started, 1)
    md = table(results)
    data = {"meta": meta, "results": {r.name: r.as_json() for r in results}, "errors": errors, "table_markdown": md}
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    dump_json(results_dir / f"{stamp}-{scale.name}.json", data)
    dump_json(results_dir / f"latest-{scale.name}.json", data)
    if write_readme and not errors:
        _write_readme(f"Run {meta['started_at']} on {meta['cpus']} CPUs, PostgreSQL {meta['postgres']} "
                      f"(fsync {meta['pg_settings']['fsync']}), {scale.rounds} runs per figure, "
                      f"{meta['seconds']:.0f} s in all.\n\n{md}\n")
    return data


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench",
                                description="run the benchmarks (bench/README.md) on a throwaway PostgreSQL")
    p.add_argument("--quick", action="store_true", help="tiny runs (seconds): checks that every benchmark works")
    p.add_argument("--only", nargs="+", metavar="NAME", choices=list(NAMES),
                   help="run only these: " + " ".join(NAMES))
    p.add_argument("--results-dir", metavar="DIR", help="where the JSON goes (default: bench/results)")
    p.add_argument("--no-readme", action="store_true", help="do not update bench/README.md's latest table")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    only, quick, results_dir = args.only, args.quick, args.results_dir
    write_readme = False if args.no_readme else None
    data = run(only=only, quick=quick, results_dir=Path(results_dir) if results_dir else None,
               write_readme=write_readme)
    print(data["table_markdown"])
    failed_checks = [f"{name}: {k}" for name, r in data["results"].items() for k, v in r["checks"].items()
                     if (k == "overlapping_holds" and v) or (k.startswith("exactly") and v is False)
                     or (k.endswith("_failed_transactions") and v)]
    for name, err in data["errors"].items():
        print(f"bench: {name} failed: {err}", file=sys.stderr)
    for c in failed_checks:
        print(f"bench: correctness check failed: {c}", file=sys.stderr)
    print(f"bench: {data['meta']['seconds']:.0f} s; results in "
          f"{(Path(results_dir) if results_dir else RESULTS_DIR) / ('latest-' + data['meta']['scale'] + '.json')}",
          file=sys.stderr)
    return 1 if data["errors"] or failed_checks else 0


if __name__ == "__main__":
    sys.exit(main())
