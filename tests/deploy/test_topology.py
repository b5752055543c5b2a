"""The docker-compose / EC2 topology, proven with plain processes on this machine.

There is no Docker engine here, so this starts the same processes the compose file and
the systemd units run, with the very same commands (read from deploy/bin/ and from
docker-compose.yml, so they cannot drift): a Ray head and a Ray worker node
(``deploy/bin/ray-node.sh``, token authentication on), Redis with a password (the
compose ``redis`` command) and the app (``deploy/bin/app.sh``: joins the cluster as a
zero-CPU node like the compose container, then ``gunicorn -c gunicorn.conf.py`` with two
workers), all on free ports of this host.

Then: /health, a backtest through Dash's callback endpoint equal to
``python -m engine backtest`` on the demo data, a repeated request served from Redis,
a wrong Ray token refused, the gunicorn workers never Ray drivers (a sweep's
background-job process is), the app still answering with Redis stopped, and a sweep still completing on
the head (equal to the in-process sweep) after the worker node is stopped.

Everything started here is stopped and its temporary directory removed, even on failure.
Ray processes are only ever stopped by process group or by our own temp dir, never with
a global ``ray stop`` (other Ray clusters may run on this machine).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

import engine
from tests.support import dash_http, timing
from tests.support.dash_http import DashClient
from tests.support.procs import Topology, free_port, kill_leftovers_under, ray_node_ports

pytestmark = [pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
RAY_NODE = REPO / "deploy" / "bin" / "ray-node.sh"
RAY_HEALTH = REPO / "deploy" / "bin" / "ray-health.sh"
APP = REPO / "deploy" / "bin" / "app.sh"
COMPOSE = REPO / "docker-compose.yml"
STARTUP_LIMIT_S = timing.STARTUP_S
HTTP_TIMEOUT_S = timing.HTTP_S


# ----------------------------------------------------------------- processes


def wait_until(
    what: str, check: Any, limit_s: float = STARTUP_LIMIT_S, every_s: float = 0.5, on_fail: Any = None
) -> Any:
    """Poll ``check()`` until it returns a truthy value; fail with ``what`` and logs after ``limit_s``."""
    deadline = time.monotonic() + limit_s
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every_s)
    details = on_fail() if on_fail else ""
    pytest.fail(f"{what} did not happen within {limit_s:.0f} s (last: {last!r})\n{details}")


# ----------------------------------------------------------------- commands read from the deployment files


def compose_redis_argv(port: int) -> list[str]:
    """The compose ``redis`` service's command, run as-is with a loopback port appended."""
    command = yaml.safe_load(COMPOSE.read_text())["services"]["redis"]["command"]
    assert command[:2] == ["sh", "-c"], command
    script = command[2].replace("$$", "$")  # compose's escape for a literal $
    return ["sh", "-c", script, "redis-server", "--port", str(port), "--bind", "127.0.0.1"]


def ray_query(topo: Topology, body: str, timeout_s: float = timing.SUBPROCESS_S) -> Any:
    """Run a snippet against the cluster's GCS in a fresh interpreter; it prints one JSON value.

    A subprocess, because Ray reads RAY_AUTH_* when it is imported and this pytest
    process may already have imported it with other settings.
    """
    script = textwrap.dedent("""
        import json, sys
        from ray._raylet import GcsClient
        gcs = GcsClient(address=sys.argv[1])
    """) + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-c", script, topo.gcs_address],
        env=topo.env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=topo.root,
    )
    if done.returncode != 0:
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


# The CPU count of every alive node, sorted: [1.0, 1.0] is a head and a worker of one CPU.
ALIVE_NODE_CPUS = """
    from ray.core.generated.gcs_pb2 import GcsNodeInfo
    nodes = gcs.get_all_node_info(timeout=10).values()
    alive = [n for n in nodes if n.state == GcsNodeInfo.GcsNodeState.ALIVE]
    print(json.dumps(sorted(float(n.resources_total.get("CPU", 0.0)) for n in alive)))
"""

LIVE_DRIVER_PIDS = """
    jobs = gcs.get_all_job_info(timeout=10).values()
    print(json.dumps(sorted({int(j.driver_pid) for j in jobs if not j.is_dead})))
"""


def redis_client(topo: Topology) -> Any:
    import redis

    return redis.Redis(
        host="127.0.0.1",
        port=topo.redis_port,
        password=topo.redis_password,
        socket_timeout=2,
        socket_connect_timeout=2,
    )


# ----------------------------------------------------------------- HTTP and Dash callbacks


def http(topo: Topology, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    return dash_http.http(topo.base_url, method, path, body, timeout_s=HTTP_TIMEOUT_S)


def dash_client(topo: Topology) -> DashClient:
    """The shared browser-like client (tests/support/dash_http.py) on this topology's app."""
    return DashClient.over_http(topo.base_url, timeout_s=HTTP_TIMEOUT_S)


def backtest_metrics(
    client: DashClient, overrides: Mapping[str, Any] | None = None
) -> dict[str, float | None]:
    """Run the backtest page's Run button, then its "metrics CSV" download; strategy column by metric."""
    run = client.dependency("backtest-results.children")
    values = {"backtest-run.n_clicks": 1, **{f"{k}.value": v for k, v in (overrides or {}).items()}}
    response = client.fire(run, "backtest-run.n_clicks", values)
    state = response["backtest-run-state"]["data"]
    assert state, f"the backtest failed: {json.dumps(response['backtest-results'])[:800]}"
    download = client.dependency("backtest-download-metrics.data")
    csv_text = client.fire(
        download,
        "backtest-download-metrics-button.n_clicks",
        {"backtest-download-metrics-button.n_clicks": 1, "backtest-run-state.data": state},
    )["backtest-download-metrics"]["data"]["content"]
    rows = csv.DictReader(line for line in io.StringIO(csv_text) if not line.startswith("#"))
    # The metrics CSV also carries the drawdown's peak/trough/recovery dates: numbers only here.
    return {
        row["metric"]: (float(row["strategy"]) if row["strategy"] else None)
        for row in rows
        if row["metric"] in engine.METRIC_NAMES
    }


def cli_metrics(topo: Topology, *args: str) -> dict[str, Any]:
    out = topo.root / f"cli-{secrets.token_hex(4)}"
    env = {k: v for k, v in topo.env.items() if k != "RAY_ADDRESS"}
    subprocess.run(
        [sys.executable, "-m", "engine", "backtest", "--out", str(out), *args],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=timing.limit(300),
    )
    return json.loads((out / "metrics.json").read_text())


def assert_same_metrics(dashboard: Mapping[str, float | None], reference: Mapping[str, Any]) -> None:
    compared = 0
    for name, value in dashboard.items():
        expected = reference.get(name)
        if isinstance(expected, (int, float)) and not isinstance(expected, bool) and math.isfinite(expected):
            assert value == pytest.approx(expected, rel=1e-9, abs=1e-12), name
            compared += 1
        else:
            assert value is None or not math.isfinite(value), name
    assert compared >= 8, f"only {compared} metrics compared"


def run_sweep(client: DashClient, top_n: str, topo: Topology) -> dict[str, Any]:
    """The Sweep page's Run button (a background job) over ``top_n`` x the default weightings."""
    run = client.dependency("sweep-result.data")
    response = client.fire_background(
        run,
        "sweep-run.n_clicks",
        {"sweep-run.n_clicks": 1, "sweep-grid-top_n.value": top_n},
        limit_s=timing.JOB_S,
        details=lambda: topo.log_tail("app"),
    )
    result = response["sweep-result"]["data"]
    assert result, f"the sweep failed: {json.dumps(response)[:800]}"
    return result


# ----------------------------------------------------------------- laptop mode: `make run`


def _parent_pid(pid: int) -> int:
    """The parent of ``pid`` (0 when it is gone), from /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rpartition(")")[2].split()[1])  # fields after "(comm)": state, ppid, ...


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def test_make_run_starts_an_embedded_ray_head_and_stops_it_on_exit() -> None:
    """`make run`: no RAY_ADDRESS, so the first Ray job starts one local head for the whole
    server; gunicorn's on_exit hook (gunicorn.conf.py) stops it when the server stops.
    The sweep's progress is polled through either worker: they share gunicorn's SECRET_KEY."""
    assert "$(PYTHON) -m gunicorn -c gunicorn.conf.py" in (REPO / "Makefile").read_text()
    root = Path(tempfile.mkdtemp(prefix="spl-emb-", dir="/tmp"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "CACHE_", "SPL_", "PYTEST_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        SPL_BIND=f"127.0.0.1:{port}",
        SPL_RUNTIME_DIR=str(root / "run"),
        CACHE_DIR=str(root / "cache"),
        ENGINE_EXECUTOR="ray",
        SPL_RAY_NUM_CPUS="1",
        WEB_CONCURRENCY="2",
        RAY_USAGE_STATS_ENABLED="0",
    )
    topo = Topology(root=root, env=env, base_url=f"http://127.0.0.1:{port}")
    try:
        server = topo.start("app", [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], env)

        def healthy() -> bool:
            with contextlib.suppress(OSError):
                return http(topo, "GET", "/health")[0] == 200
            return False

        wait_until("gunicorn answering /health", healthy, on_fail=lambda: topo.log_tail("app"))
        client = dash_client(topo)
        client.open_page("/sweep")
        result = run_sweep(client, "2, 4", topo)
        assert result["executor"] == "ray" and result["n_failed"] == 0 and result["n_runs"] == 4
        head = json.loads((root / "run" / "cluster.json").read_text())  # recorded by whoever started it
        assert head["address"].startswith("127.0.0.1:")

        os.kill(server.proc.pid, signal.SIGTERM)  # what Ctrl-C / systemd / docker stop do
        assert server.proc.wait(timeout=timing.limit(60)) == 0
        assert not (root / "run" / "cluster.json").exists()
        wait_until(
            "the embedded Ray head to exit", lambda: not _pid_alive(head["pid"]), limit_s=timing.limit(30)
        )
    finally:
        topo.stop("app", 10.0)
        kill_leftovers_under(root)
        shutil.rmtree(root, ignore_errors=True)


# ----------------------------------------------------------------- the topology


@pytest.fixture(scope="module")
def topo() -> Iterator[Topology]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (bash .ci/install-system.sh installs it)")
    root = Path(tempfile.mkdtemp(prefix="spl-topo-", dir="/tmp"))  # short: Ray's socket paths are limited
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "CACHE_", "SPL_", "PYTEST_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHON=sys.executable,
        RAY_AUTH_MODE="token",
        RAY_AUTH_TOKEN=secrets.token_hex(32),
        RAY_USAGE_STATS_ENABLED="0",
        RAY_TEMP_DIR=str(root / "ray"),
        RAY_OBJECT_STORE_MEMORY=str(100 * 1024 * 1024),
    )
    topology = Topology(root=root, env=env)
    try:
        _start_ray(topology)
        _start_redis(topology)
        _start_app(topology)
        yield topology
    finally:
        # Ray nodes stop within a second of SIGTERM; only `ray start --block` may linger.
        for name, grace_s in (("app", 15.0), ("redis", 5.0), ("ray-worker", 5.0), ("ray-head", 5.0)):
            topology.stop(name, grace_s)
        kill_leftovers_under(root)
        shutil.rmtree(root, ignore_errors=True)


def _start_ray(topo: Topology) -> None:
    gcs_port = free_port()
    topo.gcs_address = f"127.0.0.1:{gcs_port}"
    head_env = {**topo.env, "SPL_ROLE": "head", "RAY_PORT": str(gcs_port), "RAY_NUM_CPUS": "1"}
    topo.start("ray-head", [str(RAY_NODE), *ray_node_ports()], head_env)
    # The compose health check of the head, as compose runs it.
    wait_until(
        "the Ray head's health check passing",
        lambda: (
            topo.alive("ray-head")
            and subprocess.run(
                [str(RAY_HEALTH)], env=head_env, capture_output=True, timeout=timing.limit(60)
            ).returncode
            == 0
        ),
        on_fail=lambda: topo.log_tail("ray-head"),
    )
    worker_env = {**topo.env, "SPL_ROLE": "worker", "RAY_HEAD_ADDRESS": topo.gcs_address, "RAY_NUM_CPUS": "1"}
    topo.start("ray-worker", [str(RAY_NODE), *ray_node_ports()], worker_env)
    wait_until(
        "two alive Ray nodes",
        lambda: ray_query(topo, ALIVE_NODE_CPUS) == [1.0, 1.0],
        on_fail=lambda: topo.log_tail("ray-worker"),
    )


def _start_redis(topo: Topology) -> None:
    topo.redis_port = free_port()
    topo.redis_password = secrets.token_hex(16)
    topo.start(
        "redis",
        compose_redis_argv(topo.redis_port),
        {**topo.env, "REDISCLI_AUTH": topo.redis_password, "REDIS_MAXMEMORY": "64mb"},
    )

    def ping() -> bool:
        try:
            return bool(redis_client(topo).ping())
        except Exception:
            return False

    wait_until("redis answering PING with its password", ping, on_fail=lambda: topo.log_tail("redis"))


def _start_app(topo: Topology) -> None:
    port = free_port()
    topo.base_url = f"http://127.0.0.1:{port}"
    app_env = {
        **topo.env,
        "SPL_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "2",
        "RAY_ADDRESS": topo.gcs_address,
        # As in the compose app container: join the cluster as a zero-CPU node, then gunicorn.
        "SPL_JOIN_RAY": "1",
        "ENGINE_EXECUTOR": "ray",
        "DATA_SOURCE": "demo",
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": f"redis://:{topo.redis_password}@127.0.0.1:{topo.redis_port}/0",
        "CACHE_DIR": str(topo.root / "cache"),
        "SPL_RUNTIME_DIR": str(topo.root / "run"),
        "SECRET_KEY": secrets.token_hex(32),
    }
    topo.start("app", [str(APP)], app_env)

    def healthy() -> bool:
        if not topo.alive("app"):
            pytest.fail(f"gunicorn exited during start-up:\n{topo.log_tail('app')}")
        try:
            return http(topo, "GET", "/health") == (200, {"status": "ok"})
        except OSError:
            return False

    wait_until("gunicorn answering /health", healthy, on_fail=lambda: topo.log_tail("app"))


def gunicorn_worker_pids(topo: Topology) -> set[int]:
    import psutil

    master = psutil.Process(topo.started["app"].proc.pid)
    return {child.pid for child in master.children(recursive=False)}


# ----------------------------------------------------------------- the proofs (in order; the last ones break things)


def test_health_and_the_cluster_nodes(topo: Topology) -> None:
    assert http(topo, "GET", "/health") == (200, {"status": "ok"})
    # head, worker, and the app's own zero-CPU node (deploy/bin/app.sh with SPL_JOIN_RAY=1)
    assert ray_query(topo, ALIVE_NODE_CPUS) == [0.0, 1.0, 1.0]
    assert len(gunicorn_worker_pids(topo)) == 2


def test_ray_rejects_a_client_without_the_token(topo: Topology) -> None:
    wrong = {**topo.env, "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    done = subprocess.run(
        ["ray", "health-check", f"--address={topo.gcs_address}"],
        env=wrong,
        capture_output=True,
        text=True,
        timeout=timing.limit(120),
    )
    assert done.returncode != 0
    assert "auth" in (done.stdout + done.stderr).lower()


def test_backtest_through_the_callback_endpoint_matches_the_cli(topo: Topology) -> None:
    client = dash_client(topo)
    client.open_page("/")
    assert_same_metrics(backtest_metrics(client), cli_metrics(topo))


def test_repeated_backtest_is_a_redis_cache_hit(topo: Topology) -> None:
    client = dash_client(topo)
    client.open_page("/")
    overrides = {"backtest-top_n": 4}
    first = backtest_metrics(client, overrides)
    stats = redis_client(topo).info("stats")
    keys = list(redis_client(topo).scan_iter(match="spl:results:*"))
    assert keys, "no result was stored in Redis"
    second = backtest_metrics(client, overrides)
    hits_after = redis_client(topo).info("stats")["keyspace_hits"]
    assert second == first
    assert hits_after > stats["keyspace_hits"]
    assert_same_metrics(second, cli_metrics(topo, "--top-n", "4"))


ALL_DRIVER_PIDS = """
    jobs = gcs.get_all_job_info(timeout=10).values()
    print(json.dumps(sorted({int(j.driver_pid) for j in jobs})))
"""


def test_web_workers_never_drive_ray_and_their_jobs_do(topo: Topology) -> None:
    """The design of docs/ray.md: readiness probes the head without joining it, so no
    gunicorn worker ever becomes a Ray driver; a sweep's background-job process does."""
    workers = gunicorn_worker_pids(topo)
    for _ in range(4):  # separate connections reach both workers
        status, ready = http(topo, "GET", "/ready")
        assert status == 200 and ready["checks"]["ray"]["status"] == "ok", ready
    before = set(ray_query(topo, ALL_DRIVER_PIDS) or [])
    client = dash_client(topo)
    client.open_page("/sweep")
    page = run_sweep(client, "2, 3", topo)
    assert page["executor"] == "ray" and page["n_runs"] == 4
    after = set(ray_query(topo, ALL_DRIVER_PIDS) or [])
    assert after - before, "the sweep did not run through a Ray driver of its own"
    assert not (after & workers), (
        f"a gunicorn worker joined Ray: drivers {sorted(after)}, workers {sorted(workers)}"
    )
    assert gunicorn_worker_pids(topo) == workers


def test_app_keeps_answering_when_redis_stops(topo: Topology) -> None:
    topo.stop("redis")
    assert http(topo, "GET", "/health") == (200, {"status": "ok"})
    client = dash_client(topo)
    client.open_page("/")
    # A parameter set never computed before: a miss that must be computed, not an error.
    assert_same_metrics(backtest_metrics(client, {"backtest-top_n": 3}), cli_metrics(topo, "--top-n", "3"))
    status, ready = http(topo, "GET", "/ready")
    assert status == 503 and "cache" in ready["down"]


def cli_sweep(topo: Topology, executor: str, *, on_cluster: bool) -> list[dict[str, str]]:
    """``python -m engine sweep`` over top_n x weighting; rows of its sweep.csv."""
    out = topo.root / f"sweep-{executor}-{secrets.token_hex(4)}"
    env = dict(topo.env, RAY_ADDRESS=topo.gcs_address) if on_cluster else topo.env
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "sweep",
            "--grid",
            "top_n=2,4,6,8",
            "--grid",
            "weighting=equal,inverse_volatility",
            "--executor",
            executor,
            "--out",
            str(out),
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timing.limit(300),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out / "sweep.csv", newline="") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


def test_sweeps_complete_on_the_head_after_the_worker_node_stops(topo: Topology) -> None:
    topo.stop("ray-worker", grace_s=5.0)
    wait_until(
        "the worker node to leave",
        lambda: ray_query(topo, ALIVE_NODE_CPUS) == [0.0, 1.0],
        limit_s=timing.limit(120),
        every_s=1.0,
    )
    reference = cli_sweep(topo, "serial", on_cluster=False)
    assert len(reference) == 8 and not any(row.get("error") for row in reference)
    # From the command line on the cluster (a driver on this host) ...
    assert cli_sweep(topo, "ray", on_cluster=True) == reference, "Ray and in-process sweeps must agree"
    # ... and from the Sweep page, a Dash background job forked from a gunicorn worker.
    client = dash_client(topo)
    client.open_page("/sweep")
    page = run_sweep(client, "2, 4, 6, 8", topo)
    assert page["executor"] == "ray" and page["n_failed"] == 0 and page["n_runs"] == 8
    expected = {(row["top_n"], row["weighting"]): float(row["sharpe"]) for row in reference}
    got = {(str(r["top_n"]), r["weighting"]): r["sharpe"] for r in page["records"]}
    assert got == pytest.approx(expected, rel=1e-9)
    # The web tier is unaffected: it still answers and still reaches the (smaller) cluster.
    assert http(topo, "GET", "/health") == (200, {"status": "ok"})
    _, ready = http(topo, "GET", "/ready")
    assert ready["checks"]["ray"]["status"] == "ok", ready
    assert ready["checks"]["ray"]["detail"]["mode"] == "external"
    # The Status page's cluster panel (nodes and CPUs from the GCS, no driver): the head
    # and the app's zero-CPU node are left, with the head's one CPU.
    client.open_page("/status")
    panel = str(
        client.fire(
            client.dependency("status-cluster.children"),
            "status-refresh.n_clicks",
            {"status-refresh.n_clicks": 1},
        )
    )
    assert "unavailable" not in panel.lower() and "external" in panel, panel[:500]
