"""The executors: same results, progress and cancel on SerialExecutor and RayExecutor;
get_executor's choice; RayConfig; the embedded cluster's start, sharing and status; the
readiness probe; the web worker that never joins Ray while the job processes it forks do.

The embedded cluster of these tests lives in its own runtime dir (never /tmp/spl-ray,
tests/support/ray_cluster.py) and is stopped when the session ends.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import engine
from engine import SerialExecutor
from engine.execution import cluster, connection
from engine.execution import executor as ray_executor_module
from tests.support import timing
from tests.support.ray_cluster import counting_puts, runtime_dir  # noqa: F401  (the shared test cluster)

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def ray_executor(runtime_dir: Path) -> engine.RayExecutor:  # noqa: F811
    return engine.RayExecutor()


@pytest.fixture(params=["serial", "ray"])
def executor(request: pytest.FixtureRequest) -> Any:
    """The serial executor, and Ray with this process as the driver."""
    if request.param == "serial":
        return SerialExecutor()
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
    assert engine.RayExecutor().name == "ray"
    assert isinstance(engine.RayExecutor(), engine.Executor)
    assert SerialExecutor().parallelism == 1 and SerialExecutor().for_work(1e9).name == "serial"


# ----- Ray specifics ---------------------------------------------------------------------


def test_shared_payload_arrives_by_reference(ray_executor: engine.RayExecutor) -> None:
    assert ray_executor.map(_is_read_only, [1, 2, 3], shared=np.arange(100_000.0)) == [True, True, True]


class _CountingRemote:
    """Stands in for the executor's remote function: counts submissions, still submits."""

    def __init__(self, real: Any) -> None:
        self.real, self.submitted = real, 0

    def remote(self, *args: Any) -> Any:
        self.submitted += 1
        return self.real.remote(*args)


def _counting_remote(monkeypatch: pytest.MonkeyPatch) -> _CountingRemote:
    ray = connection.import_ray()
    counting = _CountingRemote(ray_executor_module._remote(ray))
    monkeypatch.setattr(ray_executor_module, "_remote_call", counting)
    return counting


def test_many_items_go_a_window_at_a_time_in_order(
    ray_executor: engine.RayExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = _counting_remote(monkeypatch)
    seen: list[int] = []
    items = list(range(23))
    out = ray_executor.map(
        _scaled, items, shared={"factor": 2, "matrix": np.zeros(1)}, on_progress=lambda d, _n: seen.append(d)
    )
    assert out == [2.0 * i for i in items]
    assert counting.submitted == len(items)
    assert seen == sorted(seen) and seen[-1] == len(items)


def test_cancel_never_calls_ray_cancel_and_leaves_at_most_a_window(
    ray_executor: engine.RayExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ray.cancel of a task whose reply is arriving crashed the driver (Ray 2.60, a CHECK in
    TaskManager::CompletePendingTask; seen once in make test-busy): a cancel now leaves the
    tasks in flight to finish, and no more than a window of them was ever submitted."""
    ray = connection.import_ray()
    counting = _counting_remote(monkeypatch)

    def no_cancel(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("ray.cancel must not be called")

    monkeypatch.setattr(ray, "cancel", no_cancel)
    with pytest.raises(engine.Cancelled):
        ray_executor.map(
            _scaled, list(range(40)), shared={"factor": 1, "matrix": np.zeros(1)}, should_cancel=lambda: True
        )
    window = ray_executor_module.IN_FLIGHT_PER_CPU * ray_executor.parallelism
    assert 0 < counting.submitted == min(window, 40) < 40


def test_embedded_cluster_files_and_token_permissions(
    ray_executor: engine.RayExecutor,
    runtime_dir: Path,  # noqa: F811
) -> None:
    ray_executor.map(_scaled, [1], shared={"factor": 1, "matrix": np.zeros(1)})
    info = json.loads((runtime_dir / "cluster.json").read_text())
    assert info["address"].startswith("127.0.0.1:")
    assert Path(info["token_path"]).parent == runtime_dir
    assert (runtime_dir / "auth_token").stat().st_mode & 0o777 == 0o600
    assert connection._connection is not None and connection._connection.address == info["address"]
    assert ray_executor.parallelism >= 1


def test_cluster_status_of_running_embedded_cluster(ray_executor: engine.RayExecutor) -> None:
    ray_executor.map(_scaled, [1], shared={"factor": 1, "matrix": np.zeros(1)})
    status = engine.cluster_status(timing.limit(10))
    assert status.mode == "embedded"
    assert status.error is None
    assert status.nodes == 1
    assert status.cpus >= 1
    assert status.object_store_total_bytes == engine.RayConfig().object_store_bytes
    assert 0 <= status.object_store_used_bytes <= status.object_store_total_bytes


def _fresh_process(script: str, env_changes: dict[str, str] | None = None) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), **(env_changes or {})}
    env.pop("RAY_AUTH_MODE", None)  # a fresh process finds everything in the runtime dir
    env.pop("RAY_AUTH_TOKEN_PATH", None)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=env, capture_output=True, text=True, timeout=timing.SUBPROCESS_S, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()


def test_readiness_probe_of_a_fresh_process_needs_no_ray(ray_executor: engine.RayExecutor) -> None:
    """What /ready does in a fresh gunicorn worker: a TCP probe of the recorded head. It
    neither imports ray nor starts or joins anything, so it cannot wait on a driver."""
    ray_executor.map(_scaled, [1], shared={"factor": 1, "matrix": np.zeros(1)})  # the head runs
    head = ray_executor.config.runtime_dir / "cluster.json"
    (line,) = _fresh_process(
        """
        import sys, time
        import engine
        started = time.perf_counter()
        status = engine.probe_cluster()
        took = time.perf_counter() - started
        print(status.mode, status.address, status.error, "ray" in sys.modules, f"{took:.4f}")
        """
    )
    mode, address, error, ray_imported, took = line.split()
    assert (mode, address, error, ray_imported) == (
        "embedded", json.loads(head.read_text())["address"], "None", "False",
    )  # fmt: skip
    print(f"\nprobe_cluster() in a fresh process answered in {float(took) * 1000:.1f} ms")


def test_processes_on_one_host_share_one_cluster(
    ray_executor: engine.RayExecutor,
    runtime_dir: Path,  # noqa: F811
) -> None:
    """Like background-job processes of several gunicorn workers: they join one head, started once."""
    ray_executor.map(_scaled, [1], shared={"factor": 1, "matrix": np.zeros(1)})
    head = json.loads((runtime_dir / "cluster.json").read_text())
    # Each process also checks that joining Ray left its SIGTERM handler in place and that
    # a SIGTERM still reaches it.
    script = """
        import os, signal
        from engine import RayConfig
        from engine.execution import connection
        received = []
        handler = lambda signum, frame: received.append(signum)
        signal.signal(signal.SIGTERM, handler)
        ray = connection.connect(RayConfig.from_env())
        kept = signal.getsignal(signal.SIGTERM) is handler
        os.kill(os.getpid(), signal.SIGTERM)
        print(connection._connection.address, ray.get_runtime_context().get_node_id(), kept, received == [signal.SIGTERM])
        """
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("RAY_AUTH_MODE", None)
    env.pop("RAY_AUTH_TOKEN_PATH", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script)], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    lines = [p.communicate(timeout=timing.SUBPROCESS_S)[0].strip().splitlines()[-1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert {line.split()[0] for line in lines} == {head["address"]}
    assert len({line.split()[1] for line in lines}) == 1  # the same (single) node
    assert [line.split()[2:] for line in lines] == [["True", "True"]] * 2
    assert json.loads((runtime_dir / "cluster.json").read_text())["pid"] == head["pid"]


def test_the_web_worker_never_joins_and_its_forked_job_process_does(ray_executor: engine.RayExecutor) -> None:
    """gunicorn.conf.py marks each worker (SPL_WEB_WORKER_PID); a Dash background job is a
    process forked from it, which is the Ray driver of its job."""
    ray_executor.map(_scaled, [1], shared={"factor": 1, "matrix": np.zeros(1)})  # the head runs
    lines = _fresh_process(
        """
        import multiprocessing, os, sys
        os.environ["SPL_WEB_WORKER_PID"] = str(os.getpid())  # what gunicorn.conf.py's post_fork does
        import engine

        def job(queue):
            result = engine.get_executor("ray").map(pow, [1, 2, 3], shared=2)
            queue.put(result)

        try:
            engine.get_executor("ray").map(pow, [1], shared=2)
            print("JOINED")
        except engine.ClusterUnavailableError as exc:
            print("REFUSED", str(exc).split(";")[0])
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=job, args=(queue,))
        child.start()
        print("CHILD", queue.get(timeout=600))
        child.join()
        print("PARENT-HAS-RAY", "ray" in sys.modules and sys.modules["ray"].is_initialized())
        """
    )
    assert lines == [
        "REFUSED the web worker never joins the Ray cluster",
        "CHILD [2, 4, 8]",
        "PARENT-HAS-RAY False",
    ]


# ----- configuration and choosing an executor (nothing connects) -------------------------


def test_ray_config_from_env() -> None:
    config = engine.RayConfig.from_env(
        {
            "RAY_ADDRESS": " 10.0.0.5:6379 ",
            "ENGINE_EXECUTOR": "Serial",
            "SPL_RUNTIME_DIR": "/tmp/x",
            "SPL_RAY_CONNECT_TIMEOUT_S": "4",
            "SPL_RAY_NUM_CPUS": "3",
            "SPL_WEB_WORKER_PID": "77",
        }
    )
    assert (config.address, config.mode, config.executor, config.runtime_dir) == (
        "10.0.0.5:6379", "external", "serial", Path("/tmp/x"),
    )  # fmt: skip
    assert (config.connect_timeout_s, config.num_cpus, config.web_worker_pid) == (4.0, 3, 77)
    default = engine.RayConfig.from_env({})
    assert (default.address, default.mode, default.executor, default.web_worker_pid) == (
        None, "embedded", "auto", None,
    )  # fmt: skip
    assert default.connect_timeout_s == 10.0 and default.may_drive_here()
    with pytest.raises(engine.ParameterError, match="executor must be one of"):
        engine.RayConfig.from_env({"ENGINE_EXECUTOR": "gpu"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SPL_RAY_NUM_CPUS", "two", "SPL_RAY_NUM_CPUS must be a whole number, got 'two'"),
        ("SPL_RAY_NUM_CPUS", "0", "SPL_RAY_NUM_CPUS must be a whole number from 1 to 65,536, got 0"),
        ("SPL_RAY_NUM_CPUS", "1_0", "SPL_RAY_NUM_CPUS must be a whole number, got '1_0'"),
        (
            "SPL_RAY_OBJECT_STORE_BYTES",
            "512MB",
            "SPL_RAY_OBJECT_STORE_BYTES must be a whole number, got '512MB'",
        ),
        (
            "SPL_RAY_OBJECT_STORE_BYTES",
            "1024",
            "SPL_RAY_OBJECT_STORE_BYTES must be a whole number from 78,643,200",
        ),
        (
            "SPL_RAY_WORKER_NICENESS",
            "20",
            "SPL_RAY_WORKER_NICENESS must be a whole number from 0 to 19, got 20",
        ),
        (
            "SPL_RAY_WORKER_NICENESS",
            "-1",
            "SPL_RAY_WORKER_NICENESS must be a whole number from 0 to 19, got -1",
        ),
        ("SPL_RAY_CONNECT_TIMEOUT_S", "ten", "SPL_RAY_CONNECT_TIMEOUT_S must be a number, got 'ten'"),
        (
            "SPL_RAY_CONNECT_TIMEOUT_S",
            "0",
            "SPL_RAY_CONNECT_TIMEOUT_S must be a positive number of seconds, got '0'",
        ),
        (
            "SPL_RAY_CONNECT_TIMEOUT_S",
            "inf",
            "SPL_RAY_CONNECT_TIMEOUT_S must be a positive number of seconds",
        ),
    ],
)
def test_a_malformed_ray_setting_is_refused_not_run_on_the_default(
    name: str, value: str, message: str
) -> None:
    # Before: each of these was read as unset, so the head ran with all CPUs, 512 MiB or
    # niceness 15 while the operator had asked for something else.
    with pytest.raises(engine.ParameterError) as caught:
        engine.RayConfig.from_env({name: value})
    assert message in str(caught.value)


def test_ray_settings_in_range_and_empty_ones_are_read() -> None:
    config = engine.RayConfig.from_env(
        {"SPL_RAY_NUM_CPUS": " 2 ", "SPL_RAY_OBJECT_STORE_BYTES": "", "SPL_RAY_WORKER_NICENESS": "0"}
    )
    assert (config.num_cpus, config.object_store_bytes, config.worker_niceness) == (2, 512 * 1024**2, 0)
    assert engine.RayConfig.from_env({"SPL_RAY_CONNECT_TIMEOUT_S": "2.5"}).connect_timeout_s == 2.5


@pytest.mark.parametrize(
    ("mode", "n_items", "expected"),
    [
        ("serial", None, "serial"),
        ("serial", 10_000, "serial"),
        ("ray", 1, "ray"),
        ("auto", ray_executor_module.AUTO_SERIAL_BELOW - 1, "serial"),
        ("auto", ray_executor_module.AUTO_SERIAL_BELOW, "ray"),
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
    config = engine.RayConfig(executor="serial")
    assert engine.get_executor(n_items=10_000, config=config).name == "serial"


def test_unknown_executor_mode_is_a_parameter_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(engine.ParameterError, match="executor must be one of auto, ray, serial"):
        engine.get_executor("threads")  # type: ignore[arg-type]
    monkeypatch.setenv("ENGINE_EXECUTOR", "gpu")
    with pytest.raises(engine.ParameterError):
        engine.get_executor()


@pytest.mark.parametrize(
    ("mode", "serial_seconds", "runs_on"),
    [
        ("ray", 0.01, "ray"),  # asked for by name: always runs on Ray, however small the job
        ("ray", 60.0, "ray"),
        ("auto", 0.01, "serial"),  # auto: a tiny job does not repay joining Ray from this process
        ("auto", 60.0, "ray"),
    ],
)
def test_only_an_auto_chosen_executor_may_run_small_jobs_in_process(
    monkeypatch: pytest.MonkeyPatch, mode: str, serial_seconds: float, runs_on: str
) -> None:
    monkeypatch.setattr(ray_executor_module, "connected_here", lambda: False)
    executor = engine.get_executor(mode, n_items=500)  # type: ignore[arg-type]
    assert isinstance(executor, engine.RayExecutor)
    assert executor.for_work(serial_seconds).name == runs_on


def test_status_does_not_start_a_cluster(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("SPL_RUNTIME_DIR", str(tmp_path))
    for status in (engine.cluster_status(), engine.probe_cluster()):
        assert (status.mode, status.nodes, status.error) == ("not started", 0, None)
    assert not (tmp_path / "cluster.json").exists()


@pytest.mark.parametrize("address", ["ray://10.0.0.5:10001", "no-port", "host:abc"])
def test_malformed_ray_address_is_refused(address: str) -> None:
    with pytest.raises(engine.ClusterUnavailableError, match="RAY_ADDRESS"):
        cluster.split_address(address)


def test_closed_ray_address_fails_fast_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    connection.disconnect()
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{cluster.free_ports(1)[0]}")
    with pytest.raises(engine.ClusterUnavailableError, match=r"RAY_ADDRESS\) is unreachable"):
        engine.RayExecutor().map(_scaled, [1], shared={"factor": 1, "matrix": np.zeros(1)})
    for status in (engine.cluster_status(), engine.probe_cluster()):
        assert status.mode == "external" and status.error is not None and status.nodes == 0


def test_unusable_runtime_dir_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    config = engine.RayConfig(runtime_dir=tmp_path / "a-file" / "spl-ray")
    with pytest.raises(engine.ClusterUnavailableError, match="cannot use the Ray runtime dir"):
        cluster.ensure_embedded_cluster(config)


def test_a_runtime_dir_open_to_others_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "spl-ray"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)  # e.g. created first by someone else in a shared /tmp
    with pytest.raises(
        engine.ClusterUnavailableError, match="owned by this user and writable by no one else"
    ):
        cluster.ensure_embedded_cluster(engine.RayConfig(runtime_dir=shared))
    assert not (shared / "auth_token").exists()


class _FakeWaitRay:
    """``ray.wait`` over refs that are ready when named in ``finished`` (no cluster)."""

    def __init__(self, finished: set[str]) -> None:
        self.finished = finished
        self.calls: list[tuple[int, float | None]] = []

    def wait(
        self, refs: list[str], *, num_returns: int, timeout: float | None
    ) -> tuple[list[str], list[str]]:
        self.calls.append((num_returns, timeout))
        done = [ref for ref in refs if ref in self.finished][:num_returns]
        return done, [ref for ref in refs if ref not in done]


def test_results_are_collected_as_soon_as_one_task_finishes() -> None:
    """The gather loop wakes at the first finished task (not when all are done or the
    slice ends) and takes every other finished one with it, without waiting again."""
    fake = _FakeWaitRay(finished={"b", "d"})
    ready, pending = ray_executor_module._ready(fake, ["a", "b", "c", "d"])
    assert (ready, pending) == (["b", "d"], ["a", "c"])
    assert fake.calls == [(1, ray_executor_module.WAIT_SLICE_S), (3, 0)]


def test_a_slice_without_a_finished_task_returns_nothing() -> None:
    fake = _FakeWaitRay(finished=set())
    assert ray_executor_module._ready(fake, ["a", "b"]) == ([], ["a", "b"])
    assert fake.calls == [(1, ray_executor_module.WAIT_SLICE_S)]


def test_the_last_task_is_collected_with_a_single_wait() -> None:
    fake = _FakeWaitRay(finished={"a"})
    assert ray_executor_module._ready(fake, ["a"]) == (["a"], [])
    assert fake.calls == [(1, ray_executor_module.WAIT_SLICE_S)]


# ----- the shared payload is put once per object and connection ------------------------


@dataclasses.dataclass(frozen=True)
class _Payload:
    """A weakly referenceable frozen ``shared`` object (as a ``PreparedData`` is)."""

    factor: int = 2
    matrix: Any = dataclasses.field(default_factory=lambda: np.ones(3))


class _FakePutRay:
    """``ray.put`` recording the ``id`` of each value put (not the value: the tests drop
    theirs), and a runtime context whose job id a test changes."""

    def __init__(self) -> None:
        self.puts: list[int] = []
        self.job = "01000000"

    def put(self, value: Any) -> tuple[str, int]:
        self.puts.append(id(value))
        return ("ref", len(self.puts))

    def get_runtime_context(self) -> Any:
        job = self.job

        class Context:
            def get_job_id(self) -> str:
                return job

            def get_node_id(self) -> str:
                return "node-a"

        return Context()


def test_the_same_shared_object_is_put_once() -> None:
    fake, refs = _FakePutRay(), ray_executor_module._SharedRefs()
    payload = _Payload()
    first = refs.ref(fake, payload)
    assert refs.ref(fake, payload) == first
    assert fake.puts == [id(payload)]


def test_another_shared_object_is_put_again() -> None:
    fake, refs = _FakePutRay(), ray_executor_module._SharedRefs()
    one, two = _Payload(), _Payload()
    assert refs.ref(fake, one) == ("ref", 1)
    assert refs.ref(fake, two) == ("ref", 2)
    assert refs.ref(fake, one) == ("ref", 1)
    assert len(fake.puts) == 2 and len(refs) == 2


def test_a_collected_shared_object_leaves_no_reference_behind() -> None:
    import gc

    fake, refs = _FakePutRay(), ray_executor_module._SharedRefs()
    payload = _Payload()
    refs.ref(fake, payload)
    assert len(refs) == 1
    del payload
    gc.collect()
    assert len(refs) == 0
    refs.ref(fake, _Payload())  # a new object, possibly at the same id, is put
    assert len(fake.puts) == 2


def test_a_new_connection_puts_the_same_object_again() -> None:
    fake, refs = _FakePutRay(), ray_executor_module._SharedRefs()
    payload = _Payload()
    refs.ref(fake, payload)
    fake.job = "02000000"  # a reconnect: the old job's references are invalid
    assert refs.ref(fake, payload) == ("ref", 2)
    assert refs.ref(fake, payload) == ("ref", 2)
    assert fake.puts == [id(payload), id(payload)]


@pytest.mark.parametrize("shared", [None, (1, 2), [1, 2], {"a": 1}, 7], ids=repr)
def test_a_shared_object_without_weak_references_is_put_every_time(shared: Any) -> None:
    fake, refs = _FakePutRay(), ray_executor_module._SharedRefs()
    refs.ref(fake, shared)
    refs.ref(fake, shared)
    assert len(fake.puts) == 2 and len(refs) == 0


class _Mutable:
    """A plain (weakly referenceable, mutable) object."""


@pytest.mark.parametrize("shared", [np.ones(3), _Mutable()], ids=["array", "plain object"])
def test_a_mutable_shared_object_is_put_every_time(shared: Any) -> None:
    """Its caller may change it in place between two maps: a kept reference would
    silently hand the tasks the old value (SerialExecutor sees the new one)."""
    fake, refs = _FakePutRay(), ray_executor_module._SharedRefs()
    assert refs.ref(fake, shared) != refs.ref(fake, shared)
    assert len(fake.puts) == 2 and len(refs) == 0


def test_an_array_changed_between_two_maps_gives_the_new_values_on_ray(
    ray_executor: engine.RayExecutor,
) -> None:
    matrix = np.ones(3)
    assert ray_executor.map(_sum_plus, [0, 1], shared=matrix) == [3.0, 4.0]
    matrix[:] = 5.0  # in place: the same object, new values
    assert (
        ray_executor.map(_sum_plus, [0, 1], shared=matrix)
        == SerialExecutor().map(_sum_plus, [0, 1], shared=matrix)
        == [15.0, 16.0]
    )


def _sum_plus(shared: np.ndarray, item: int) -> float:
    return float(shared.sum()) + item


def test_a_payload_is_put_again_after_a_reconnect_on_ray(
    ray_executor: engine.RayExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the embedded cluster: the same object is put once per connection; after
    leaving and joining again (a new Ray job) it is put again, with the same results."""
    payload = _Payload(factor=2, matrix=np.ones(3))
    puts = counting_puts(monkeypatch)
    first = ray_executor.map(_scaled_attributes, [1, 2], shared=payload)
    assert ray_executor.map(_scaled_attributes, [3], shared=payload) == [9.0]
    assert len(puts) == 1
    connection.disconnect()
    assert ray_executor.map(_scaled_attributes, [1, 2], shared=payload) == first == [5.0, 7.0]
    assert len(puts) == 2


def _scaled_attributes(shared: Any, item: int) -> float:
    return float(shared.factor * item + shared.matrix.sum())


# ----- the cluster's CPU count is asked once per connection and time to live ------------


class _FakeResourcesRay(_FakePutRay):
    """``cluster_resources`` counting its calls, with a CPU count a test changes."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0
        self.cpus = 2.0

    def cluster_resources(self) -> dict[str, float]:
        self.asked += 1
        return {"CPU": self.cpus}


def test_the_cpu_count_is_asked_once_per_connection_within_its_time_to_live(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr(ray_executor_module.time, "monotonic", lambda: clock[0])
    fake, cpus = _FakeResourcesRay(), ray_executor_module._ClusterCpus()
    assert (cpus.count(fake), cpus.count(fake)) == (2, 2)
    assert fake.asked == 1  # a sweep's chunk size and its map's window: one GCS round trip
    fake.cpus = 8.0
    clock[0] += ray_executor_module.CPU_COUNT_TTL_S - 0.01
    assert cpus.count(fake) == 2 and fake.asked == 1
    clock[0] += 0.02  # past the time to live: a grown cluster is seen
    assert cpus.count(fake) == 8 and fake.asked == 2
    fake.job = "02000000"  # a reconnect asks again at once
    fake.cpus = 4.0
    assert cpus.count(fake) == 4 and fake.asked == 3


def test_a_cluster_without_cpus_counts_as_one() -> None:
    fake, cpus = _FakeResourcesRay(), ray_executor_module._ClusterCpus()
    fake.cpus = 0.0
    assert cpus.count(fake) == 1
