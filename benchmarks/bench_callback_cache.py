"""Run-backtest callback: uncached vs cached, through the real ``/_dash-update-component`` body.

    python benchmarks/bench_callback_cache.py [--repeats 15]

In-process (Flask test client, no sockets): the app is built on the demo data with a
FileSystemCache in a fresh temp dir and the serial executor. "uncached" posts a distinct
parameter set each time (cost_bps 20, 21, ...), so the backtest runs and its view is built;
"cached" posts one parameter set that ran before, answered from the cache; the two
alternate, so a shared machine's load hits both alike. Prints the median of each, their
ratio and the response size. No thresholds: a measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _procs import DashClient, backtest_run_body
from bench_dashboard import make_app, test_transport


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    cache_dir = Path(tempfile.mkdtemp(prefix="bench-callback-cache-"))
    try:
        app = make_app(cache_dir)
        transport = test_transport(app)
        client = DashClient(transport)
        client.open_page("/")
        warm = backtest_run_body(client, {"backtest-cost_bps": 5})
        client.post(warm)  # loads the demo data once (neither column pays for it) and caches this run
        bodies = [backtest_run_body(client, {"backtest-cost_bps": 20 + i}) for i in range(args.repeats)]
        times: dict[str, list[float]] = {"uncached": [], "cached": []}
        raw = app.server.test_client()
        size = 0

        def post(key: str, body: dict[str, Any]) -> int:
            # Timed: the request and the response bytes (the server's work), not the test
            # client's decoding of the answer.
            start = time.perf_counter()
            response = raw.post("/_dash-update-component", json=body)
            data = response.get_data()
            times[key].append(time.perf_counter() - start)
            answer = json.loads(data)
            assert response.status_code == 200 and answer["response"]["backtest-run-state"]["data"], data[:300]
            return len(data)

        # Interleaved (one uncached, one cached, ...): a shared machine's load hits both alike.
        for body in bodies:
            post("uncached", body)
            size = post("cached", warm)
        uncached, cached = (statistics.median(times[k]) for k in ("uncached", "cached"))
        print(f"run-backtest callback, median of {args.repeats} (demo data, FileSystemCache, serial)")
        print(f"  uncached  {uncached * 1000:8.1f} ms")
        print(f"  cached    {cached * 1000:8.1f} ms")
        print(f"  ratio     {uncached / cached:8.1f}x")
        print(f"  response  {size / 1024:8.1f} KiB")
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
