"""The executors: same results, progress and cancel on SerialExecutor and RayExecutor;
get_executor's choice; the embedded cluster's start, sharing, status and signal hygiene.

The embedded cluster of this module lives in its own runtime dir (never /tmp/spl-ray)
and is stopped at the end of the module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import engine
from engine.execution import cluster as _ray
from engine.jobs import SerialExecutor

REPO = Path(__file__).resolve().parents[2]
_AUTH_VARS = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_TOKEN", "SPL_RUNTIME_DIR", "SPL_RAY_DRIVER")


def shared_cluster_dir(config: pytest.Config) -> Path:
    """One embedded cluster per pytest process, shared by the Ray test modules (starting a
    head costs seconds), in a private runtime dir (short path: Ray's socket paths are
    limited); stopped when the session ends."""
    path = os.environ.get("SPL_TEST_RUNTIME_DIR")
    if path is None:
        path = tempfile.mkdtemp(prefix="spl-t", dir="/tmp")
        os.environ["SPL_TEST_RUNTIME_DIR"] = path

        def stop() -> None:
            os.environ["SPL_RUNTIME_DIR"] = path
            try:
                _ray.shutdown_embedded_cluster()
            finally:
                os.environ.pop("SPL_RUNTIME_DIR", None)
                shutil.rmtree(path, ignore_errors=True)

        config.add_cleanup(stop)
    return Path(path)


@pytest.fixture(scope="module")
def runtime_dir(pytestconfig: pytest.Config) -> Iterator[Path]:
    saved = {name: os.environ.get(name) for name in _AUTH_VARS}
    path = shared_cluster_dir(pytestconfig)
    os.environ["SPL_RUNTIME_DIR"] = str(path)
    os.environ["SPL_RAY_DRIVER"] = "inline"  # this process is the driver (tests below opt into "process")
    try:
        yield path
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def ray_executor(runtime_dir: Path) -> _ray.RayExecutor:
    return _ray.RayExecutor()


@pytest.fixture(params=["serial", "ray", "ray-driver-process"])
def executor(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The serial executor; Ray with this process as the driver; Ray through a driver
    child process (what gunicorn workers use)."""
    if request.param == "serial":
        return SerialExecutor()
    if request.param == "ray-driver-process":
        monkeypatch.setenv("SPL_RAY_DRIVER", "process")
    return request.getfixturevalue("ray_executor")


def _scaled(shared: dict[str, Any], item: int) -> float:
    return float(shared["factor"] * item + shared["matrix"].sum())


def _fails_on_three(shared: str, item: int) -> int:
    with open(shared, "a") as log:  # one line per attempt: retries would add lines
        log.write(f"{item}\n")
    if item == 3:
        raise ValueError("item 3 is bad")
    return item


def _is_read_only(shared: np.ndarray, item: int) -> bool:
    # An array taken from Ray's object store is a zero-copy, read-only view.
    return not shared.flags.writeable


# ----- both executors --------------------------------------------------------------------


def test_map_returns_results_in_item_order(executor: Any) -> None:
    shared = {"factor": 3, "matrix": np.ones((4, 5))}
    assert executor.map(_scaled, [5, 1, 4, 2, 3], shared=shared) == [35.0, 23.0, 32.0, 26.0, 29.0]


def test_map_of_no_items_is_empty(executor: Any) -> None:
    assert executor.map(_scaled, [], shared=None) == []


def test_progress_is_monotonic_and_complete(executor: Any) -> None:
    calls: list[tuple[int, int]] = []
    executor.map(
        _scaled,
        list(range(7)),
        shared={"factor": 1, "matrix": np.zeros(1)},
        on_progress=lambda d, t: calls.append((d, t)),
    )
    assert calls[-1] == (7, 7)
    assert all(t == 7 for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_cancel_raises_cancelled(executor: Any) -> None:
    with pytest.raises(engine.Cancelled):
        executor.map(
            _scaled, list(range(5)), shared={"factor": 1, "matrix": np.zeros(1)}, should_cancel=lambda: True
        )


def test_user_error_keeps_its_type_and_is_not_retried(executor: Any, tmp_path: Path) -> None:
    log = tmp_path / "attempts.txt"
    with pytest.raises(ValueError, match="item 3 is bad"):
        executor.map(_fails_on_three, [3], shared=str(log))
    assert log.read_text().splitlines() == ["3"]


def test_executor_names() -> None:
    assert SerialExecutor().name == "serial"
    assert _ray.RayExecutor().name == "ray"
    assert isinstance(_ray.RayExecutor(), engine.Executor)


# ----- Ray specifics ---------------------------------------------------------------------


def test_shared_payload_arrives_by_reference(ray_executor: _ray.RayExecutor) -> None:
    assert ray_executor.map(_is_read_only, [1, 2, 3], shared=np.arange(100_000.0)) == [True, True, True]


def test_embedded_cluster_files_and_token_permissions(
    ray_executor: _ray.RayExecutor, runtime_dir: Path
) -> None:
    ray_executor.map(_scaled, [1], shared={"factor": 1, "matrix": np.zeros(1)})
    info = json.loads((runtime_dir / "cluster.json").read_text())
    assert info["address"].startswith("127.0.0.1:")
    assert Path(info["token_path"]).parent == runtime_dir
    assert (runtime_dir / "auth_token").stat().st_mode & 0o777 == 0o600
    assert _ray._connection is not None and _ray._connection.address == info["address"]


def test_cluster_status_of_running_embedded_cluster(ray_executor: _ray.RayExecutor) -> None:
    ray_executor.map(_scaled, [1], shared={"factor": 1, "matrix": np.zeros(1)})
    status = _ray.cluster_status()
    assert status.mode == "embedded"
    assert status.error is None
    assert status.nodes == 1
    assert status.cpus >= 1
    assert status.object_store_total_bytes == _ray.DEFAULT_OBJECT_STORE_BYTES
    assert 0 <= status.object_store_used_bytes <= status.object_store_total_bytes


def test_processes_on_one_host_share_one_cluster(ray_executor: _ray.RayExecutor, runtime_dir: Path) -> None:
    """Like gunicorn workers: two processes started together join one head, started once."""
    ray_executor.map(_scaled, [1], shared={"factor": 1, "matrix": np.zeros(1)})
    head = json.loads((runtime_dir / "cluster.json").read_text())
    # Each process also checks that joining Ray left its SIGTERM handler in place and that
    # a SIGTERM still reaches it (gunicorn's graceful shutdown depends on its handler).
    script = textwrap.dedent(
        """
        import os, signal
        from engine.execution import cluster as _ray
        received = []
        handler = lambda signum, frame: received.append(signum)
        signal.signal(signal.SIGTERM, handler)
        ray = _ray.connect()
        kept = signal.getsignal(signal.SIGTERM) is handler
        os.kill(os.getpid(), signal.SIGTERM)
        print(_ray._connection.address, ray.get_runtime_context().get_node_id(), kept, received == [signal.SIGTERM])
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("RAY_AUTH_MODE", None)  # a fresh process finds everything in the runtime dir
    env.pop("RAY_AUTH_TOKEN_PATH", None)
    procs = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    lines = [p.communicate(timeout=120)[0].strip().splitlines()[-1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert {line.split()[0] for line in lines} == {head["address"]}
    assert len({line.split()[1] for line in lines}) == 1  # the same (single) node
    assert [line.split()[2:] for line in lines] == [["True", "True"]] * 2
    assert json.loads((runtime_dir / "cluster.json").read_text())["pid"] == head["pid"]


# ----- choosing an executor (nothing connects) -------------------------------------------


@pytest.mark.parametrize(
    ("mode", "n_items", "expected"),
    [
        ("serial", None, "serial"),
        ("serial", 10_000, "serial"),
        ("ray", 1, "ray"),
        ("auto", _ray.AUTO_SERIAL_BELOW - 1, "serial"),
        ("auto", _ray.AUTO_SERIAL_BELOW, "ray"),
        ("auto", None, "ray"),
    ],
)
def test_get_executor_choice(mode: Any, n_items: int | None, expected: str) -> None:
    assert engine.get_executor(mode, n_items=n_items).name == expected


def test_engine_executor_env_sets_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENGINE_EXECUTOR", "serial")
    assert engine.get_executor(n_items=10_000).name == "serial"
    monkeypatch.setenv("ENGINE_EXECUTOR", "ray")
    assert engine.get_executor(n_items=1).name == "ray"


def test_unknown_executor_mode_is_a_parameter_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(engine.ParameterError, match="executor must be one of auto, ray, serial"):
        engine.get_executor("threads")  # type: ignore[arg-type]
    monkeypatch.setenv("ENGINE_EXECUTOR", "gpu")
    with pytest.raises(engine.ParameterError):
        engine.get_executor()


def test_status_does_not_start_a_cluster(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SPL_RUNTIME_DIR", str(tmp_path))
    status = engine.cluster_status()
    assert (status.mode, status.nodes, status.error) == ("not started", 0, None)
    assert not (tmp_path / "cluster.json").exists()


@pytest.mark.parametrize("address", ["ray://10.0.0.5:10001", "no-port", "host:abc"])
def test_malformed_ray_address_is_refused(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    with pytest.raises(engine.ClusterUnavailableError, match="RAY_ADDRESS"):
        _ray._split_address(address)


def test_closed_ray_address_fails_fast_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _ray._disconnect()
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{_ray._free_port()}")
    with pytest.raises(engine.ClusterUnavailableError, match=r"RAY_ADDRESS\) is unreachable"):
        _ray.RayExecutor().map(_scaled, [1], shared={"factor": 1, "matrix": np.zeros(1)})
    status = engine.cluster_status()
    assert status.mode == "external" and status.error is not None and status.nodes == 0


# ----- forked children (Dash background callbacks fork the gunicorn worker) --------------


def _map_in_forked_child(queue: Any, cancel: bool) -> None:
    progress: list[tuple[int, int]] = []
    try:
        result = _ray.RayExecutor().map(
            _scaled,
            [1, 2, 3],
            shared={"factor": 2, "matrix": np.ones(2)},
            on_progress=lambda d, t: progress.append((d, t)),
            should_cancel=(lambda: True) if cancel else None,
        )
        queue.put(("ok", result, progress[-1] if progress else None, _ray.inherited_ray_state()))
    except BaseException as exc:
        queue.put(("error", type(exc).__name__, str(exc), None))


@pytest.mark.parametrize("cancel", [False, True])
def test_a_forked_child_of_a_joined_process_maps_through_a_fresh_driver(
    ray_executor: _ray.RayExecutor, cancel: bool
) -> None:
    import multiprocessing

    ray_executor.map(_scaled, [1], shared={"factor": 1, "matrix": np.zeros(1)})  # this process has joined
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_map_in_forked_child, args=(queue, cancel))
    child.start()
    answer = queue.get(timeout=180)
    child.join(timeout=30)
    if cancel:
        assert answer[:2] == ("error", "Cancelled")
    else:
        assert answer == ("ok", [4.0, 6.0, 8.0], (3, 3), True)


def test_unusable_runtime_dir_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("SPL_RUNTIME_DIR", str(tmp_path / "a-file" / "spl-ray"))
    with pytest.raises(engine.ClusterUnavailableError, match="cannot use the Ray runtime dir"):
        _ray.ensure_embedded_cluster()


def test_a_runtime_dir_open_to_others_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shared = tmp_path / "spl-ray"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)  # e.g. created first by someone else in a shared /tmp
    monkeypatch.setenv("SPL_RUNTIME_DIR", str(shared))
    with pytest.raises(
        engine.ClusterUnavailableError, match="owned by this user and writable by no one else"
    ):
        _ray.ensure_embedded_cluster()
    assert not (shared / "auth_token").exists()


def _sleep_then_return(shared: float, item: int) -> int:
    import time

    time.sleep(shared)
    return item


def test_status_while_the_driver_process_runs_a_job_is_not_an_error(
    ray_executor: _ray.RayExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    monkeypatch.setenv("SPL_RAY_DRIVER", "process")
    ray_executor.map(_scaled, [1], shared={"factor": 1, "matrix": np.zeros(1)})  # the driver process runs
    job = threading.Thread(target=ray_executor.map, args=(_sleep_then_return, [1, 2]), kwargs={"shared": 3.0})
    job.start()
    try:
        import time

        time.sleep(1.0)  # the job holds the driver
        status = engine.cluster_status()
    finally:
        job.join(timeout=60)
    assert (status.mode, status.error) == ("embedded", None)


@pytest.mark.parametrize(
    ("mode", "serial_seconds", "worth_it"),
    [
        ("ray", 0.01, True),  # asked for by name: always runs on Ray, however small the job
        ("ray", 60.0, True),
        ("auto", 0.01, False),  # auto: a tiny job does not repay starting a driver process
        ("auto", 60.0, True),
    ],
)
def test_only_an_auto_chosen_executor_may_run_small_jobs_in_process(
    monkeypatch: pytest.MonkeyPatch, mode: str, serial_seconds: float, worth_it: bool
) -> None:
    monkeypatch.setattr(_ray, "uses_driver_process", lambda: True)
    monkeypatch.setattr(_ray, "driver_process_running", lambda: False)
    executor = _ray.get_executor(mode, n_items=500)
    assert isinstance(executor, _ray.RayExecutor)
    assert _ray.worth_a_fresh_driver(executor, serial_seconds) is worth_it
