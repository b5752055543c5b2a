"""Is the web tier responsive while it computes? /health under 8 clients of uncached backtests.

    python benchmarks/bench_responsive.py [--seconds 60] [--clients 8] [--modes old,threads,pool4,new]

For each mode, starts ``python -m gunicorn -c gunicorn.conf.py`` (the production config,
2 workers) on a free loopback port with the demo data, a FileSystemCache in a fresh temp
dir and the serial executor, then for ``--seconds``:

- ``--clients`` threads post the Backtest page's Run callback (the page's real request
  body, discovered from /_dash-dependencies), each with a parameter set never used before
  (``cost_bps`` counts up, ``top_n`` cycles), so the cache never answers;
- one probe thread GETs ``/health`` every 0.25 s with a 2 s timeout.

Prints, per mode: probe p50/p99/max, probes over 1 s, probe time-outs, backtests
completed per second, and errors (a non-200 answer, or a page that shows an error
message instead of results). Modes:

- ``old``: the configuration before the compute pool: ``COMPUTE_PROCESSES=0`` (the
  backtest and its figures run on the serving thread) and ``GUNICORN_THREADS=4``;
- ``threads``: more threads only (``COMPUTE_PROCESSES=0``, ``GUNICORN_THREADS=16``);
- ``pool4``: the compute pool with the old 4 threads per worker;
- ``new``: gunicorn.conf.py as shipped (compute pool of CPUs / workers processes, at
  least 2, per worker at niceness +5; 16 threads per worker);
- ``nice0``, ``pool1``: as shipped but with ``COMPUTE_NICENESS=0`` / ``COMPUTE_PROCESSES=1``.

Percentiles count a probe time-out as 2 s or more (shown as "> 2000").

Every server binds 127.0.0.1 and is stopped at the end; every loop is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import math
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _procs import DashClient, LoadLoop, backtest_run_body, callback_request, http, servers

PROBE_EVERY_S = 0.25
PROBE_TIMEOUT_S = 2.0
SLOW_S = 1.0
MODES: dict[str, dict[str, str]] = {
    "old": {"COMPUTE_PROCESSES": "0", "GUNICORN_THREADS": "4"},
    "threads": {"COMPUTE_PROCESSES": "0", "GUNICORN_THREADS": "16"},
    "pool4": {"GUNICORN_THREADS": "4"},
    "new": {},
    "nice0": {"COMPUTE_NICENESS": "0"},
    "pool1": {"COMPUTE_PROCESSES": "1"},
}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


class Probe:
    """GET /health every ``PROBE_EVERY_S`` until stopped; latencies in seconds, time-outs counted."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.latencies: list[float] = []
        self.timeouts = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=PROBE_TIMEOUT_S + 5)

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                status, _ = http(self.base_url, "GET", "/health", timeout_s=PROBE_TIMEOUT_S)
                elapsed = time.monotonic() - started
                if elapsed > PROBE_TIMEOUT_S:  # the socket time-out is per read; the budget is total
                    self.timeouts += 1
                elif status == 200:
                    self.latencies.append(elapsed)
                else:
                    self.errors.append(f"HTTP {status}")
            except TimeoutError:
                self.timeouts += 1
            except OSError as exc:  # urllib wraps a socket time-out in URLError
                if "timed out" in str(exc):
                    self.timeouts += 1
                else:
                    self.errors.append(f"{type(exc).__name__}: {exc}"[:120])
            next_at += PROBE_EVERY_S
            self._stop.wait(max(0.0, next_at - time.monotonic()))


def compute_processes(group: Any) -> tuple[int, float]:
    """The pool children under the gunicorn workers: how many, and their total RSS in MiB."""
    import psutil

    children = []
    for pid in group.gunicorn_workers():
        with contextlib.suppress(psutil.Error):
            children += psutil.Process(pid).children(recursive=False)
    rss, count = 0, 0
    for child in children:
        with contextlib.suppress(psutil.Error):
            if "spawn_main" in " ".join(child.cmdline()):  # not the resource tracker
                rss += child.memory_info().rss
                count += 1
    return count, rss / 2**20


def ms(value: float) -> str:
    return "> 2000" if math.isinf(value) else f"{value * 1000:.1f}"


def run_mode(mode: str, *, seconds: float, clients: int, offset: int) -> dict[str, Any]:
    env = {"DATA_SOURCE": "demo", "ENGINE_EXECUTOR": "serial", "CACHE_TYPE": "FileSystemCache", **MODES[mode]}
    with servers(f"spl-bench-responsive-{mode}-") as group:
        base = group.start_gunicorn(env, workers=2)
        client = DashClient.over_http(base)
        client.open_page("/")
        counter = itertools.count(offset)
        lock = threading.Lock()

        def fresh_body() -> dict[str, Any]:
            with lock:
                n = next(counter)
            return backtest_run_body(
                client, {"backtest-cost_bps": round(n * 0.01, 2), "backtest-top_n": 3 + n % 8}
            )

        # Warm-up (not measured): every worker and compute process loads the demo data.
        warm = LoadLoop(
            lambda: callback_request(base, fresh_body())(), threads=4, max_requests=8, limit_s=180
        )
        with warm:
            deadline = time.monotonic() + 180
            while warm.done < 8 and time.monotonic() < deadline:
                time.sleep(0.2)
        load = LoadLoop(
            lambda: callback_request(base, fresh_body(), timeout_s=120)(),
            threads=clients,
            limit_s=seconds,
        )
        time.sleep(1.0)
        started = time.monotonic()
        with Probe(base) as probe, load:
            while time.monotonic() - started < seconds and time.monotonic() < started + seconds:
                time.sleep(0.2)
        # LoadLoop's stop waits for the requests in flight; count only those that ended in the window.
        elapsed = time.monotonic() - started
        alive = group.alive("app")
        n_compute, rss_mib = compute_processes(group)
    lat = probe.latencies
    probes = len(lat) + probe.timeouts + len(probe.errors)
    censored = lat + [math.inf] * probe.timeouts  # a time-out took at least PROBE_TIMEOUT_S
    return {
        "mode": mode,
        "env": MODES[mode],
        "probes": probes,
        "p50": percentile(censored, 50) if censored else math.nan,
        "p99": percentile(censored, 99) if censored else math.nan,
        "max": max(censored) if censored else math.nan,
        "compute_rss_mib": rss_mib,
        "compute_procs": n_compute,
        "over_1s": sum(1 for x in lat if x > SLOW_S),
        "timeouts": probe.timeouts,
        "probe_errors": probe.errors,
        "backtests": load.ok,
        "errors": len(load.failures),
        "failures": sorted({reason for _, reason in load.failures})[:5],
        "seconds": elapsed,
        "alive": alive,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of load per mode (default 60)")
    parser.add_argument("--clients", type=int, default=8, help="client threads posting backtests (default 8)")
    parser.add_argument(
        "--modes",
        default="old,threads,pool4,new",
        help=f"comma list of: {', '.join(MODES)} (default: old,threads,pool4,new)",
    )
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown or not 1 <= args.clients <= 64 or not 1 <= args.seconds <= 600:
        parser.error(f"--modes takes {','.join(MODES)}; --clients 1..64; --seconds 1..600")
    print(
        f"# bench_responsive  {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}  python benchmarks/bench_responsive.py "
        f"--seconds {args.seconds:g} --clients {args.clients} --modes {','.join(modes)}"
    )
    print(
        f"# gunicorn -c gunicorn.conf.py, 2 workers, demo data, FileSystemCache, serial executor; "
        f"{args.clients} clients posting uncached backtests; /health every {PROBE_EVERY_S} s "
        f"(timeout {PROBE_TIMEOUT_S:g} s); {os.cpu_count()} CPUs shared with other work"
    )
    results = [
        run_mode(
            mode, seconds=args.seconds, clients=args.clients, offset=1000 * (i + 1) + int(time.time()) % 997
        )
        for i, mode in enumerate(modes)
    ]
    print()
    shipped_procs = str(max(2, (os.cpu_count() or 1) // 2))  # gunicorn.conf.py: CPUs / workers, >= 2
    print(f"{'':34}" + "".join(f"{r['mode']:>14}" for r in results))
    rows = [
        ("COMPUTE_PROCESSES per worker", lambda r: r["env"].get("COMPUTE_PROCESSES", shipped_procs)),
        ("GUNICORN_THREADS per worker", lambda r: r["env"].get("GUNICORN_THREADS", "16")),
        ("COMPUTE_NICENESS", lambda r: r["env"].get("COMPUTE_NICENESS", "5")),
        ("/health probes", lambda r: f"{r['probes']}"),
        ("/health p50 (ms)", lambda r: ms(r["p50"])),
        ("/health p99 (ms)", lambda r: ms(r["p99"])),
        ("/health max (ms)", lambda r: ms(r["max"])),
        (f"probes over {SLOW_S:g} s", lambda r: f"{r['over_1s']}"),
        (f"probe time-outs ({PROBE_TIMEOUT_S:g} s)", lambda r: f"{r['timeouts']}"),
        ("uncached backtests served", lambda r: f"{r['backtests']}"),
        ("backtests/s", lambda r: f"{r['backtests'] / r['seconds']:.2f}"),
        ("backtest errors", lambda r: f"{r['errors']}"),
        ("compute processes (all workers)", lambda r: f"{r['compute_procs']}"),
        ("their RSS (MiB)", lambda r: f"{r['compute_rss_mib']:.0f}"),
    ]
    for name, cell in rows:
        print(f"{name:34}" + "".join(f"{cell(r):>14}" for r in results))
    for r in results:
        if r["failures"] or r["probe_errors"] or not r["alive"]:
            print(
                f"\n{r['mode']}: failures {r['failures']} probe errors {r['probe_errors'][:3]} "
                f"gunicorn alive {r['alive']}"
            )
    for r in results:
        ok = r["p99"] < 0.1 and r["over_1s"] == 0 and r["timeouts"] == 0 and r["errors"] == 0
        print(f"aim (p99 < 100 ms, none over 1 s, no errors) {r['mode']}: {'MET' if ok else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
