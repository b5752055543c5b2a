"""A real two-node Ray cluster on loopback (head + worker node, token auth), joined through
RAY_ADDRESS: its status; sweeps survive a killed worker process; unreachable or
wrongly-authenticated clusters fail fast with ClusterUnavailableError; the job processes
of gunicorn workers share the embedded cluster, the workers never join it, survive its
loss and still shut down gracefully on SIGTERM.

Every process is started here with its own temp dir and ports, in its own session, and is
killed by pid / process group at the end (never a global `ray stop`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import engine
from engine import DemoProvider, SerialExecutor, load_market_data
from engine.execution import connection
from tests.support import timing
from tests.support.procs import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
RAY_CLI = [sys.executable, "-c", "from ray.scripts.scripts import main; main()"]


@dataclasses.dataclass
class Cluster:
    address: str
    token: str
    processes: list[subprocess.Popen[bytes]]
    root: Path


def _free_port() -> int:
    return free_port()  # never a port handed out before (the head's port, another node's)


def _wait_for(
    log: Path, text: str, process: subprocess.Popen[bytes], timeout_s: float = timing.STARTUP_S
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text.encode() in log.read_bytes():
            return
        if process.poll() is not None:
            raise RuntimeError(f"{log.name} exited: {log.read_text()[-800:]}")
        time.sleep(0.2)
    raise RuntimeError(f"{log.name}: no {text!r} within {timeout_s} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timing.limit(20))
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # its session only: raylet, workers, agents
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timing.limit(5))


def _node(root: Path, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    common = [
        "--block", "--disable-usage-stats", "--node-ip-address=127.0.0.1", "--num-cpus=1",
        "--object-store-memory=150000000", "--min-worker-port=0", "--max-worker-port=0",
        f"--dashboard-agent-listen-port={_free_port()}", f"--temp-dir={root / 'ray'}",
    ]  # fmt: skip
    log = root / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*RAY_CLI, "start", *args, *common], env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    _wait_for(log, "Ray runtime started", process)
    return process


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="spl-c", dir="/tmp"))
    token = secrets.token_hex(32)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH") and k != "RAY_ADDRESS"}
    env.update(
        RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token, RAY_USAGE_STATS_ENABLED="0",
        RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S="0", PYTHONPATH=str(REPO),
    )  # fmt: skip
    port = _free_port()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(_node(root, "head", ["--head", f"--port={port}", "--include-dashboard=false"], env))
        processes.append(_node(root, "worker", [f"--address=127.0.0.1:{port}"], env))
        yield Cluster(address=f"127.0.0.1:{port}", token=token, processes=processes, root=root)
    finally:
        connection.disconnect()
        for process in reversed(processes):
            _stop(process)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def joined(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    """This process's driver points at the test cluster through the environment only."""
    monkeypatch.setenv("RAY_ADDRESS", cluster.address)
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    monkeypatch.setenv("RAY_AUTH_TOKEN", cluster.token)
    yield cluster


def _dies_once(shared: tuple[Any, Any, str], item: Any) -> Any:
    """Run the sweep's task, except that the first task to start kills its own worker process
    (SIGKILL, mid-task) -- exactly once, whichever it is: no race with the sweep's speed."""
    fn, real_shared, marker = shared
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return fn(real_shared, item)
    with open(marker, "w") as record:
        record.write(str(os.getpid()))
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


@dataclasses.dataclass
class KillsOneWorker:
    """A Ray executor whose first task's worker process dies mid-task."""

    inner: engine.RayExecutor
    marker: str
    name: str = "ray"

    @property
    def parallelism(self) -> int:
        return self.inner.parallelism

    def for_work(self, serial_seconds: float) -> KillsOneWorker:
        return self

    def map(self, fn: Any, items: Any, *, shared: Any = None, **kwargs: Any) -> list[Any]:
        return self.inner.map(_dies_once, items, shared=(fn, shared, self.marker), **kwargs)


def test_status_of_the_external_cluster(joined: Cluster) -> None:
    """Read from the head's GCS by a short-lived process: this process does not join."""
    connection.disconnect()
    assert engine.probe_cluster() == engine.ClusterStatus(mode="external", address=joined.address)
    status = engine.cluster_status(timing.limit(10))
    assert (status.mode, status.address, status.error) == ("external", joined.address, None)
    assert status.nodes == 2 and status.cpus == 2.0
    assert not connection.connected_here()


def test_status_with_a_wrong_token_names_the_token(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    """Readiness only probes TCP (ok: the head is up); the Status page's query is refused."""
    monkeypatch.setenv("RAY_ADDRESS", cluster.address)
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    monkeypatch.setenv("RAY_AUTH_TOKEN", "not-the-token")
    assert engine.probe_cluster().error is None
    status = engine.cluster_status(timing.limit(10))
    assert status.mode == "external" and status.nodes == 0
    assert status.error is not None and "token" in status.error.lower(), status.error


def test_sweep_survives_a_killed_worker_and_matches_serial(joined: Cluster, tmp_path: Path) -> None:
    data = load_market_data(DemoProvider(), benchmark="QQQ")
    grid = {"top_n": (3, 5, 8, 12), "min_likes": (0.0, 10.0, 20.0, 40.0, 80.0), "weighting": ("hrp", "min_variance"),
            "rebalance": ("weekly", "monthly")}  # fmt: skip
    marker = tmp_path / "killed"
    executor = KillsOneWorker(engine.RayExecutor(), str(marker))
    on_ray = engine.run_sweep(data, grid, executor=executor)
    killed = int(marker.read_text())
    assert killed > 0 and not Path(f"/proc/{killed}").exists()  # a worker process died mid-task ...
    assert (
        on_ray.executor == "ray" and on_ray.n_failed == 0 and len(on_ray.table) == 80
    )  # ... and was retried
    serial = engine.run_sweep(data, grid, executor=SerialExecutor())
    pd.testing.assert_frame_equal(on_ray.table, serial.table)


def test_unreachable_address_raises_cluster_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    connection.disconnect()
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{_free_port()}")
    with pytest.raises(engine.ClusterUnavailableError, match="unreachable"):
        engine.run_sweep(
            load_market_data(DemoProvider(n_symbols=20, years=1)), {"top_n": tuple(range(1, 30))},
            executor=engine.RayExecutor(),
        )  # fmt: skip


def _connect_in_subprocess(env_changes: dict[str, str]) -> str:
    """Connect from a fresh process (a failed ray.init must not linger in this one)."""
    script = textwrap.dedent(
        """
        import os
        from engine import RayConfig
        from engine.execution import connection
        try:
            connection.connect(RayConfig.from_env())
            print("CONNECTED")
        except Exception as exc:
            print(type(exc).__name__, exc)
        os._exit(0)
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    env.update(PYTHONPATH=str(REPO), SPL_RAY_CONNECT_TIMEOUT_S="4", **env_changes)
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=timing.SUBPROCESS_S,
        check=False,
    )
    return done.stdout.strip().splitlines()[-1]


def test_a_silent_port_times_out_instead_of_hanging() -> None:
    with socket.socket() as server:  # accepts TCP connections, never speaks gRPC
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        line = _connect_in_subprocess({"RAY_ADDRESS": f"127.0.0.1:{server.getsockname()[1]}"})
    assert line.startswith("ClusterUnavailableError"), line


def test_a_wrong_token_is_refused_with_a_token_hint(cluster: Cluster) -> None:
    line = _connect_in_subprocess(
        {"RAY_ADDRESS": cluster.address, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "not-the-token"}
    )
    assert line.startswith("ClusterUnavailableError") and "token" in line, line
    assert (
        _connect_in_subprocess(
            {"RAY_ADDRESS": cluster.address, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": cluster.token}
        )
        == "CONNECTED"
    )


# ----- gunicorn: workers share the embedded cluster and still stop gracefully -------------

APP = """
import multiprocessing, os, sys, time
import engine
from engine.execution import cluster


def _twice(shared, item):
    return 2 * item


def _job(queue):
    # A Dash background job: a process forked from the worker, the Ray driver of its job.
    queue.put((os.getpid(), engine.get_executor("ray").map(_twice, [21])))


def app(environ, start_response):
    queue = multiprocessing.get_context("fork").Queue()
    child = multiprocessing.get_context("fork").Process(target=_job, args=(queue,))
    child.start()
    job_pid, doubled = queue.get(timeout=600)
    child.join()
    if environ["PATH_INFO"] == "/slow":
        time.sleep(3)  # SIGTERM arrives meanwhile: a graceful worker finishes this answer
    in_process = "ray" in sys.modules and sys.modules["ray"].is_initialized()
    address = cluster.read_head(engine.RayConfig.from_env()).address
    body = f"{os.getpid()} {address} {doubled} {in_process} {job_pid != os.getpid()}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""

CONF = """
import os

workers = 2
worker_class = "sync"
graceful_timeout = 20
timeout = 120

def post_fork(server, worker):
    os.environ["SPL_WEB_WORKER_PID"] = str(os.getpid())

def on_exit(server):
    from engine.execution.cluster import shutdown_embedded_cluster
    shutdown_embedded_cluster()
"""


def _running(pid: int) -> bool:
    """Alive and not a zombie (a container's PID 1 may never reap the orphaned head)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timing.SUBPROCESS_S)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_gunicorn_workers_share_one_cluster_and_stop_gracefully(tmp_path: Path) -> None:
    runtime = Path(tempfile.mkdtemp(prefix="spl-g", dir="/tmp"))
    (tmp_path / "spl_app.py").write_text(APP)
    (tmp_path / "gconf.py").write_text(CONF)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH") and k != "RAY_ADDRESS"}
    env.update(SPL_RUNTIME_DIR=str(runtime), PYTHONPATH=f"{REPO}{os.pathsep}{tmp_path}")
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(tmp_path / "gconf.py"), "-b", f"127.0.0.1:{port}",
             "spl_app:app"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path,
        )  # fmt: skip
    try:
        _wait_for(log, "Booting worker", server)
        answers = set()
        deadline = time.monotonic() + timing.limit(120)
        while len({a.split()[0] for a in answers}) < 2 and time.monotonic() < deadline:
            status, body = _get(port, "/")
            assert status == 200
            answers.add(body)
        pids = {a.split()[0] for a in answers}
        assert len(pids) == 2, answers  # both workers' jobs ran Ray tasks ...
        head = json.loads((runtime / "cluster.json").read_text())
        # ... on one head, from their forked job processes (no Ray driver inside a web worker)
        assert {a.split(" ", 1)[1] for a in answers} == {f"{head['address']} [42] False True"}

        # The cluster dies under the workers: they survive it (same pids) and the next
        # requests run on a new head.
        os.killpg(head["pid"], signal.SIGKILL)
        deadline = time.monotonic() + timing.limit(120)
        after: set[str] = set()
        while len({a.split()[0] for a in after}) < 2 and time.monotonic() < deadline:
            status, body = _get(port, "/")
            if status == 200:
                after.add(body)
        assert {a.split()[0] for a in after} == pids, (answers, after)
        head_pid = json.loads((runtime / "cluster.json").read_text())["pid"]
        assert head_pid != head["pid"]

        slow: dict[str, Any] = {}
        request = threading.Thread(target=lambda: slow.update(answer=_get(port, "/slow")))
        request.start()
        time.sleep(timing.limit(1.0))  # the request is being served (its job takes longer)
        server.send_signal(signal.SIGTERM)
        request.join(timeout=timing.SUBPROCESS_S)
        assert slow.get("answer", (0, ""))[0] == 200  # finished, not cut off
        assert server.wait(timeout=timing.limit(60)) == 0
        assert not (runtime / "cluster.json").exists()  # on_exit stopped the head
        assert not _running(head_pid)
        text = log.read_text()
        assert "Traceback" not in text and "SIGTERM received" not in text, text[-2000:]
    finally:
        _stop(server)
        if (runtime / "cluster.json").exists():
            with contextlib.suppress(Exception):
                os.killpg(json.loads((runtime / "cluster.json").read_text())["pid"], signal.SIGKILL)
        shutil.rmtree(runtime, ignore_errors=True)
