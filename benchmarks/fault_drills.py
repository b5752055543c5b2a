"""Long fault drills with counts (the bounded pytest versions are in tests/faults/).

    python benchmarks/fault_drills.py [--duration 60] [--only redis,gunicorn,ray]

1. redis:    gunicorn (production config, 2 workers, RedisCache) under 8 client threads
             (Backtest Run callbacks: 4 repeated parameter sets and fresh ones, and /health) for ``--duration``
             seconds; Redis is SIGKILLed at 1/3 and started again on the same port at 1/2.
             Counts requests and failures before, during and after the outage.
2. gunicorn: the same load on FileSystemCache; a worker is SIGKILLed at 1/4, 2/4 and 3/4.
             For each kill: requests in flight, failures that followed, the replacement.
3. ray:      a two-node loopback cluster (head + worker node, 1 CPU each, token auth); a
             driver process runs ``engine.run_sweep`` (RayExecutor) over a 48-configuration
             grid (slow weightings: hrp, min_variance); the worker node is SIGKILLed 1 s after the
             first configuration is done.
             Prints how many configurations completed, failed, or whether the sweep raised.

Everything binds 127.0.0.1, every loop is bounded, everything started is stopped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _procs import (
    REPO,
    DashClient,
    LoadLoop,
    Servers,
    backtest_run_body,
    mixed_requests,
    servers,
    wait_for,
)

APP_ENV = {"DATA_SOURCE": "demo", "ENGINE_EXECUTOR": "serial", "GUNICORN_THREADS": "4"}


def mixed_load(base_url: str, client: DashClient) -> Callable[[], str | None]:
    bodies = [backtest_run_body(client, {"backtest-top_n": n}) for n in (3, 4, 5, 6)]
    return mixed_requests(base_url, client, bodies, timeout_s=60)


def phase_counts(load: LoadLoop, marks: list[tuple[str, float]]) -> str:
    """Failures between consecutive time marks, e.g. before/during/after an outage."""
    parts = []
    bounds = [*marks, ("end", float("inf"))]
    for (name, start), (_, end) in itertools.pairwise(bounds):
        parts.append(f"{name}: {sum(1 for at, _ in load.failures if start <= at < end)} failed")
    return "; ".join(parts)


def drill_redis(duration: int) -> None:
    print("\n## Redis killed and restarted under load (gunicorn 2 workers, RedisCache, 8 client threads)")
    with servers("spl-drill-redis-") as group:
        port = group.start_redis()
        group.start_gunicorn(
            {**APP_ENV, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        )
        client = DashClient.over_http(group.base_url)
        client.open_page("/")
        start = time.monotonic()
        with LoadLoop(mixed_load(group.base_url, client), threads=8, limit_s=duration + 60) as load:
            time.sleep(duration / 3)
            killed_at, done_before = time.monotonic(), load.done
            group.kill("redis")
            group.stop("redis")
            time.sleep(max(duration / 2 - (time.monotonic() - start), 1))
            restarted_at, done_down = time.monotonic(), load.done
            group.start_redis(port)
            time.sleep(max(duration - (time.monotonic() - start), 1))
            load.stop()
        keys = subprocess.run(
            ["redis-cli", "-p", str(port), "dbsize"], capture_output=True, text=True, check=False
        ).stdout.strip()
        print(f"duration {time.monotonic() - start:.0f} s; Redis down for {restarted_at - killed_at:.1f} s")
        print(
            f"requests: {load.ok + len(load.failures)} total, {load.ok} ok, {len(load.failures)} failed "
            f"(before the kill {done_before}, while down {done_down - done_before}, after the restart "
            f"{load.done - done_down})"
        )
        print(
            f"failures by phase: {phase_counts(load, [('before', 0), ('down', killed_at), ('after', restarted_at)])}"
        )
        print(f"keys in Redis at the end (written again after the restart): {keys}")
        if load.failures:
            print(f"failure reasons: {sorted({r for _, r in load.failures})}")


def drill_gunicorn(duration: int) -> None:
    print("\n## gunicorn worker SIGKILLed 3 times under load (2 workers, FileSystemCache, 8 client threads)")
    with servers("spl-drill-gunicorn-") as group:
        group.start_gunicorn({**APP_ENV, "CACHE_TYPE": "FileSystemCache"})
        client = DashClient.over_http(group.base_url)
        client.open_page("/")
        start = time.monotonic()
        rows = []
        with LoadLoop(mixed_load(group.base_url, client), threads=8, limit_s=duration + 60) as load:
            for k in (1, 2, 3):
                time.sleep(max(start + duration * k / 4 - time.monotonic(), 0.5))
                workers = group.gunicorn_workers()
                victim = min(workers)
                failed_before, in_flight = len(load.failures), load.in_flight
                os.kill(victim, signal.SIGKILL)
                killed = time.monotonic()

                def replacement_forked(victim: int = victim) -> bool:
                    now = group.gunicorn_workers()
                    return len(now) == 2 and victim not in now

                replaced = wait_for("a replacement worker", replacement_forked, limit_s=60)
                rows.append((k, victim, in_flight, time.monotonic() - killed, failed_before))
            time.sleep(max(start + duration - time.monotonic(), 1))
            load.stop()
        failures_after = [len([f for f in load.failures]) for _ in rows]
        print(
            f"duration {time.monotonic() - start:.0f} s; requests {load.ok + len(load.failures)} total, "
            f"{load.ok} ok, {len(load.failures)} failed; master alive: {group.alive('app')}"
        )
        bounds = [r[4] for r in rows] + [len(load.failures)]
        for (k, victim, in_flight, replace_s, _), lo, hi in zip(rows, bounds, bounds[1:], strict=False):
            print(
                f"kill {k}: worker {victim}, {in_flight} requests in flight, {hi - lo} failed before the next "
                f"kill/end, replacement worker forked after {replace_s:.1f} s"
            )
        del failures_after, replaced
        if load.failures:
            print(f"failure reasons: {sorted({r for _, r in load.failures})}")
        log = group.root / "app.log"
        errors = (
            [
                line
                for line in log.read_text(errors="replace").splitlines()
                if '" 500 ' in line or "Error" in line or "Traceback" in line
            ]
            if log.exists()
            else []
        )
        for line in errors[:12]:
            print(f"app log: {line[:200]}")


RAY_DRIVER = textwrap.dedent("""
    import json, sys, time
    import engine
    data = engine.load_market_data(engine.provider_from_env({"DATA_SOURCE": "demo"}))
    grid = {"top_n": [3, 4, 5, 6, 8, 10], "lookback_days": [63, 126], "weighting": ["hrp", "min_variance"],
            "rebalance": ["weekly", "monthly"]}
    started = time.monotonic()
    def progress(done, total):
        print(json.dumps({"progress": done, "total": total, "t": round(time.monotonic() - started, 2)}), flush=True)
    try:
        result = engine.run_sweep(data, grid, executor=engine.get_executor("ray"), on_progress=progress)
        print(json.dumps({"n_configs": result.n_configs, "n_failed": result.n_failed, "executor": result.executor,
                          "errors": sorted(set(str(e)[:100] for e in result.table["error"].dropna()))[:3],
                          "elapsed_s": round(time.monotonic() - started, 1)}), flush=True)
    except Exception as exc:
        print(json.dumps({"raised": type(exc).__name__, "message": str(exc)[:300],
                          "elapsed_s": round(time.monotonic() - started, 1)}), flush=True)
""")


def drill_ray(_duration: int) -> None:
    print("\n## Ray worker node SIGKILLed during a sweep (head + worker node, 1 CPU each, 48 configurations)")
    with servers("spl-drill-ray-", with_ray_env=True) as group:
        group.start_ray_head()
        group.start_ray_worker()
        wait_for("2 CPUs in the cluster", lambda: _cluster_cpus(group) >= 2, limit_s=90, every_s=2)
        env = {**group.env, "RAY_ADDRESS": group.gcs_address}
        driver = subprocess.Popen(
            [sys.executable, "-c", RAY_DRIVER],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        lines: list[dict[str, Any]] = []
        killed_at_progress = None
        try:
            assert driver.stdout is not None
            deadline = time.monotonic() + 300
            for line in driver.stdout:
                if time.monotonic() > deadline:
                    break
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    continue
                if killed_at_progress is None and "progress" in lines[-1] and lines[-1]["progress"] >= 1:
                    time.sleep(1.0)
                    group.kill("ray-worker")
                    killed_at_progress = lines[-1]["progress"]
            driver.wait(timeout=60)
        finally:
            if driver.poll() is None:
                os.killpg(driver.pid, signal.SIGKILL)
        final = lines[-1] if lines else {}
        print(f"worker node killed after {killed_at_progress} of 48 configurations had reported progress")
        if "n_configs" in final:
            complete = final["n_configs"] - final["n_failed"]
            print(
                f"sweep finished: {complete} of {final['n_configs']} configurations complete, "
                f"{final['n_failed']} failed, executor {final['executor']}, {final['elapsed_s']} s"
                + (f"; errors {final['errors']}" if final["errors"] else "")
            )
        else:
            print(f"sweep did not finish: {final}")


def _cluster_cpus(group: Servers) -> float:
    script = "import ray, json; ray.init(address='auto', logging_level='ERROR'); print(ray.cluster_resources().get('CPU', 0))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**group.env, "RAY_ADDRESS": group.gcs_address},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    try:
        return float(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return 0.0


DRILLS = {"redis": drill_redis, "gunicorn": drill_gunicorn, "ray": drill_ray}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load per drill (default 60)")
    parser.add_argument("--only", default="redis,gunicorn,ray", help="comma list of drills to run")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    print(
        f"# fault_drills  {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}  python benchmarks/fault_drills.py "
        f"--duration {args.duration} --only {','.join(chosen)}"
    )
    for name in chosen:
        DRILLS[name](args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(main())
