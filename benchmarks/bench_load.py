"""Load on the served dashboard: gunicorn (production config) under wrk, 50 connections.

    python benchmarks/bench_load.py [--duration 60] [--connections 50] [--timeout 30]

Starts ``python -m gunicorn -c gunicorn.conf.py`` (gthread, 2 workers x GUNICORN_THREADS,
max_requests recycling, access log on: exactly the production settings) on a free
loopback port with the demo data, a FileSystemCache in a fresh temp dir and the serial
executor (a backtest does not use Ray). Then, one after the other, wrk
(/usr/bin/wrk, 2 threads) for ``--duration`` seconds against:

1. ``GET /health``;
2. the Backtest page's Run callback (POST /_dash-update-component with the page's real
   request body, discovered from /_dash-dependencies), already cached (primed first).

Prints throughput, p50/p95/p99 latency (from wrk's latency histogram, via a Lua ``done``
hook) and error counts (non-2xx responses; connect/read/write/timeout socket errors);
the aim is zero errors. wrk counts a request still unanswered after ``--timeout`` as a
timeout error. Everything binds 127.0.0.1 and is stopped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _procs import DashClient, backtest_run_body, servers

WRK = shutil.which("wrk") or "/usr/bin/wrk"
# wrk's Lua hooks: an optional POST body, and a done() that prints one JSON line of stats.
LUA_DONE = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body)
  if status >= 300 then statuses[status] = (statuses[status] or 0) + 1 end
end
done = function(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do merged[code] = (merged[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(merged) do table.insert(parts, string.format('"%d":%d', code, n)) end
  local e = summary.errors
  io.write(string.format(
    'SPL_STATS {"requests":%d,"duration_us":%d,"bytes":%d,"p50":%d,"p95":%d,"p99":%d,"max":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"codes":{%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ",")))
end
"""


def lua_script(path: Path, body: dict[str, Any] | None) -> Path:
    lines = []
    if body is not None:
        lines += [
            'wrk.method = "POST"',
            'wrk.headers["Content-Type"] = "application/json"',
            f"wrk.body = {json.dumps(json.dumps(body, separators=(',', ':')))}",
        ]
    path.write_text("\n".join(lines) + "\n" + LUA_DONE)
    return path


def run_wrk(url: str, script: Path, *, duration: int, connections: int, timeout: int) -> dict[str, Any]:
    argv = [
        WRK,
        "-t2",
        f"-c{connections}",
        f"-d{duration}s",
        f"--timeout={timeout}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + timeout + 60, check=False)
    match = re.search(r"SPL_STATS (\{.*\})", done.stdout)
    if done.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    stats = json.loads(match.group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    stats["non2xx"] = int(non2xx.group(1)) if non2xx else 0
    stats["argv"] = " ".join([*argv[:-3], "-s", script.name, url])
    return stats


def report(name: str, stats: dict[str, Any]) -> None:
    seconds = stats["duration_us"] / 1e6
    socket_errors = stats["connect"] + stats["read"] + stats["write"] + stats["timeout"]
    print(f"\n## {name}")
    print(f"command            {stats['argv']}")
    print(
        f"requests           {stats['requests']:,d} in {seconds:.1f} s  ->  {stats['requests'] / seconds:,.1f} req/s"
        f"  ({stats['bytes'] / seconds / 1e6:.2f} MB/s)"
    )
    print(
        f"latency            p50 {stats['p50'] / 1000:.1f} ms   p95 {stats['p95'] / 1000:.1f} ms   "
        f"p99 {stats['p99'] / 1000:.1f} ms   max {stats['max'] / 1000:.1f} ms"
    )
    print(
        f"errors             non-2xx {stats['non2xx']}   socket: connect {stats['connect']}, read {stats['read']}, "
        f"write {stats['write']}, timeout {stats['timeout']}   ->  "
        f"{'ZERO errors' if stats['non2xx'] + socket_errors == 0 else 'ERRORS'}"
        + (f"   status codes {stats['codes']}" if stats.get("codes") else "")
    )


def server_side_errors(log: Path) -> None:
    """Non-2xx lines of gunicorn's access log and error lines of its log (what the server saw)."""
    if not log.exists():
        return
    lines = log.read_text(errors="replace").splitlines()
    bad = [line for line in lines if re.search(r'" [3-5]\d\d ', line)]
    noted = [line for line in lines if re.search(r"\[(ERROR|CRITICAL|WARNING)\]|Traceback|Error", line)]
    print(f"\nserver log: {len(bad)} non-2xx access-log lines; {len(noted)} warning/error lines")
    for line in (bad + noted)[:10]:
        print(f"  {line[:220]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load per endpoint (default 60)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent connections (default 50)")
    parser.add_argument(
        "--timeout", type=int, default=30, help="wrk's per-request timeout in seconds (default 30)"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra gunicorn/app environment for experiments, e.g. GUNICORN_MAX_REQUESTS=0",
    )
    parser.add_argument("--only", default="health,callback", help="comma list of endpoints: health, callback")
    args = parser.parse_args(argv)
    extra = dict(item.split("=", 1) for item in args.env)
    only = {name.strip() for name in args.only.split(",")}
    print(
        f"# bench_load  {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}  python benchmarks/bench_load.py "
        f"--duration {args.duration} --connections {args.connections} --timeout {args.timeout}"
        + "".join(f" --env {item}" for item in args.env)
        + (f" --only {args.only}" if only != {"health", "callback"} else "")
    )
    with servers("spl-bench-load-") as group:
        base = group.start_gunicorn(
            {"DATA_SOURCE": "demo", "ENGINE_EXECUTOR": "serial", "CACHE_TYPE": "FileSystemCache", **extra},
            workers=2,
        )
        threads = extra.get("GUNICORN_THREADS", "16")
        print(
            f"# gunicorn -c gunicorn.conf.py{' with ' + ' '.join(args.env) if args.env else ''}: 2 workers x {threads} threads (gthread), demo data, FileSystemCache, "
            f"serial executor; wrk 2 threads; one 2-core host shared with the server and other work"
        )
        client = DashClient.over_http(base)
        client.open_page("/")
        body = backtest_run_body(client)
        for _ in range(6):  # computes once, then every worker loads the data and reads the cache
            status, answer = client.post(body)
            assert status == 200 and answer["response"]["backtest-run-state"]["data"], str(answer)[:300]
        workers_before = group.gunicorn_workers()
        if "health" in only:
            health = run_wrk(
                base + "/health",
                lua_script(group.root / "health.lua", None),
                duration=args.duration,
                connections=args.connections,
                timeout=args.timeout,
            )
            report("GET /health", health)
        if "callback" in only:
            callback = run_wrk(
                base + "/_dash-update-component",
                lua_script(group.root / "backtest.lua", body),
                duration=args.duration,
                connections=args.connections,
                timeout=args.timeout,
            )
            report("POST /_dash-update-component: Run backtest, cached result", callback)
        server_side_errors(group.root / "app.log")
        still_up = group.alive("app")
        recycled = len(workers_before - group.gunicorn_workers())
        print(
            f"\ngunicorn master alive at the end: {still_up}; workers recycled during the run "
            f"(max_requests): {recycled} of the first {len(workers_before)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
