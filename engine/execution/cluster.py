"""Ray: one cluster from laptop to EC2. The ONLY module of the engine that imports ray.

Where tasks run:

- ``RAY_ADDRESS`` set (``host:port`` of a head's GCS): join that cluster ("external").
  Token authentication (``RAY_AUTH_MODE=token`` plus ``RAY_AUTH_TOKEN`` or
  ``RAY_AUTH_TOKEN_PATH``) is read from the environment at run time, never stored.
- Unset: an *embedded* local cluster. The first process on the host that needs it takes
  an ``fcntl`` lock in the runtime dir (``SPL_RUNTIME_DIR``, default ``/tmp/spl-ray``),
  starts ``ray start --head --block`` as a detached subprocess (no dashboard, own temp
  dir and ports, a random token in a 0600 file) and records its address; every other
  process (e.g. the other gunicorn workers) reads the file and joins. ``ray.init`` is
  therefore never called at import time nor before gunicorn forks, and all workers share
  one cluster. ``shutdown_embedded_cluster()`` (gunicorn's ``on_exit``) stops it.

Connecting is lazy (first ``map``), bounded by a timeout (``ClusterUnavailableError``
instead of a hang) and leaves the process's signal handlers as they were, so gunicorn's
SIGTERM graceful shutdown keeps working after a worker has joined Ray.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import math
import os
import pickle
import secrets
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

from engine.errors import Cancelled, ClusterUnavailableError, ParameterError
from engine.jobs import CancelFn, Executor, ProgressFn, SerialExecutor

T = TypeVar("T")
R = TypeVar("R")

ExecutorMode = Literal["auto", "ray", "serial"]
EXECUTOR_MODES: tuple[str, ...] = ("auto", "ray", "serial")

# ``auto`` runs jobs of fewer items than this in-process: a configuration costs ~2 ms,
# while joining Ray costs ~0.5 s once and each task round trip ~1-5 ms.
AUTO_SERIAL_BELOW = 20

DEFAULT_RUNTIME_DIR = "/tmp/spl-ray"
CONNECT_TIMEOUT_S = 10.0  # whole ray.init budget (external and embedded); env SPL_RAY_CONNECT_TIMEOUT_S
PROBE_TIMEOUT_S = 3.0  # TCP reachability check of RAY_ADDRESS before ray.init
STATUS_TIMEOUT_S = 2.0
HEAD_START_TIMEOUT_S = 60.0
LOCK_TIMEOUT_S = 90.0
DEFAULT_OBJECT_STORE_BYTES = 512 * 1024**2  # plenty for a price matrix, polite on a shared host
WAIT_SLICE_S = 0.2  # progress/cancel granularity of the gather loop
TASK_MAX_RETRIES = 3  # re-runs of a task whose worker process died (tasks are pure)

_ENGINE_PARENT = str(Path(__file__).resolve().parents[1])  # so Ray workers can import engine


# ----- the ray module, imported lazily ---------------------------------------------------


def _ray() -> Any:
    """Import ray on first use (never at engine import time)."""
    # Ray's C++ failure handler would print a stack dump on every SIGTERM the app gets.
    os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    return ray


class _DropThreadSigtermWarning(logging.Filter):
    """ray.init from a helper thread says it did not install its SIGTERM handler: intended."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "SIGTERM handler is not set" not in record.getMessage()


# ----- runtime dir, token, lock ----------------------------------------------------------


def runtime_dir() -> Path:
    return Path(os.environ.get("SPL_RUNTIME_DIR") or DEFAULT_RUNTIME_DIR)


@contextlib.contextmanager
def _file_lock(path: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Host-wide mutual exclusion between processes (gunicorn workers) via fcntl.flock."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ClusterUnavailableError(
                        f"timed out waiting for the Ray start lock {path}"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only (0600), atomically."""
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _split_address(address: str) -> tuple[str, int]:
    text = address.strip()
    if "://" in text:
        raise ClusterUnavailableError(
            f"RAY_ADDRESS must be host:port of the head (GCS), not a {text.split('://')[0]}:// URL"
        )
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ClusterUnavailableError(
            f"RAY_ADDRESS must look like host:port (e.g. 10.0.0.5:6379), got {text!r}"
        )
    return host, int(port)


def _tcp_reachable(host: str, port: int, timeout_s: float) -> str | None:
    """None when something accepts TCP connections at host:port, else the reason."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


# ----- the embedded head -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class _HeadInfo:
    address: str
    pid: int  # the `ray start --head --block` process; its process group holds the head
    temp_dir: str
    token_path: str


def _head_file() -> Path:
    return runtime_dir() / "cluster.json"


def _read_head() -> _HeadInfo | None:
    try:
        return _HeadInfo(**json.loads(_head_file().read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _is_our_head_process(info: _HeadInfo) -> bool:
    """The recorded pid is alive and still our `ray start` (pids get reused)."""
    try:
        cmdline = Path(f"/proc/{info.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return "start" in cmdline and info.temp_dir in cmdline


def _head_alive(info: _HeadInfo) -> bool:
    host, port = _split_address(info.address)
    return _is_our_head_process(info) and _tcp_reachable(host, port, 1.0) is None


def _embedded_env(token_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    env.pop("RAY_AUTH_TOKEN", None)  # it would take precedence over our token file
    env.update(
        RAY_AUTH_MODE="token",
        RAY_AUTH_TOKEN_PATH=str(token_path),
        RAY_USAGE_STATS_ENABLED="0",
        RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S="0",  # nothing to drain: stop at once
        RAY_DISABLE_FAILURE_SIGNAL_HANDLER="1",
        PYTHONPATH=os.pathsep.join(filter(None, [_ENGINE_PARENT, env.get("PYTHONPATH")])),
    )
    # Ray runs task workers at nice 15 so that the host's other processes (here: the web
    # app) stay responsive; SPL_RAY_WORKER_NICENESS=0 gives them equal priority.
    niceness = os.environ.get("SPL_RAY_WORKER_NICENESS", "").strip()
    if niceness.isdigit():
        env["RAY_worker_niceness"] = niceness
    return env


def _start_head() -> _HeadInfo:
    """Start `ray start --head --block` detached; called with the runtime lock held."""
    root = runtime_dir()
    token_path = root / "auth_token"
    _write_private(token_path, secrets.token_hex(32))
    temp_dir = root / "ray"
    temp_dir.mkdir(mode=0o700, exist_ok=True)
    port = _free_port()
    cpus = os.environ.get("SPL_RAY_NUM_CPUS") or str(os.cpu_count() or 1)
    store = os.environ.get("SPL_RAY_OBJECT_STORE_BYTES") or str(DEFAULT_OBJECT_STORE_BYTES)
    command = [
        sys.executable, "-c", "from ray.scripts.scripts import main; main()",
        "start", "--head", "--block", "--disable-usage-stats",
        "--node-ip-address=127.0.0.1", f"--port={port}",
        "--include-dashboard=false", f"--dashboard-agent-listen-port={_free_port()}",
        "--min-worker-port=0", "--max-worker-port=0",  # random worker ports: no clash with other clusters
        f"--temp-dir={temp_dir}", f"--num-cpus={cpus}", f"--object-store-memory={store}",
    ]  # fmt: skip
    log_path = root / "head.log"
    with open(log_path, "wb") as log:
        # A new session: Ctrl-C or a signal to the app's process group does not hit the head,
        # and the head outlives the worker that started it (the others still use it).
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=_embedded_env(token_path), start_new_session=True, close_fds=True,
        )  # fmt: skip
    info = _HeadInfo(
        address=f"127.0.0.1:{port}", pid=process.pid, temp_dir=str(temp_dir), token_path=str(token_path)
    )
    deadline = time.monotonic() + HEAD_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise ClusterUnavailableError(f"the local Ray head failed to start: {tail[0][:200]}")
        if b"Ray runtime started" in log_path.read_bytes():
            _write_private(_head_file(), json.dumps(dataclasses.asdict(info)))
            return info
        time.sleep(0.2)
    _kill_head(info)
    raise ClusterUnavailableError(
        f"the local Ray head did not start within {HEAD_START_TIMEOUT_S:.0f} s (see {log_path})"
    )


def _kill_head(info: _HeadInfo, grace_s: float = 10.0) -> None:
    """SIGTERM the `ray start --block` process (it stops its children), then SIGKILL its group."""
    if _is_our_head_process(info):
        with contextlib.suppress(ProcessLookupError):
            os.kill(info.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and _is_our_head_process(info):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(info.pid, os.WNOHANG)  # reap it when this process is its parent
            time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(info.pid, signal.SIGKILL)  # stragglers of that session only (pgid == pid)


def _check_private(root: Path) -> None:
    """The runtime dir holds the cluster's token and address: it must be ours and writable by
    no one else (in a shared /tmp anyone could create /tmp/spl-ray first)."""
    info = root.lstat()
    if root.is_symlink() or info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise ClusterUnavailableError(
            f"the Ray runtime dir {root} must be a directory owned by this user and writable by "
            "no one else (e.g. mode 0700); fix it or set SPL_RUNTIME_DIR"
        )


def ensure_embedded_cluster() -> str:
    """Address of this host's embedded head, starting it if no live one is recorded."""
    root = runtime_dir()
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        _check_private(root)
        with _file_lock(root / "cluster.lock"):
            info = _read_head()
            if info is not None and _head_alive(info):
                return info.address
            if info is not None:
                _kill_head(info, grace_s=2.0)
                with contextlib.suppress(FileNotFoundError):
                    _head_file().unlink()
            try:
                return _start_head().address
            except ClusterUnavailableError:
                # Most likely a port taken between choosing and binding it: retry once, new ports.
                return _start_head().address
    except OSError as exc:
        raise ClusterUnavailableError(
            f"cannot use the Ray runtime dir {root} (SPL_RUNTIME_DIR): {exc.strerror or exc}"
        ) from None


def shutdown_embedded_cluster() -> None:
    """Stop the embedded head this host started (gunicorn ``on_exit``); no-op when none."""
    root = runtime_dir()
    if _host is not None:
        _host.stop()
    if not root.is_dir():
        return
    _disconnect()
    with _file_lock(root / "cluster.lock"):
        info = _read_head()
        if info is None:
            return
        _kill_head(info)
        for path in (_head_file(), Path(info.token_path)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


# ----- connecting this process -----------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Connection:
    mode: Literal["embedded", "external"]
    address: str
    pid: int


_connect_lock = threading.Lock()
_connection: _Connection | None = None

_SIGNALS = tuple(
    getattr(signal, name)
    for name in (
        "SIGTERM",
        "SIGINT",
        "SIGQUIT",
        "SIGHUP",
        "SIGUSR1",
        "SIGUSR2",
        "SIGCHLD",
        "SIGWINCH",
        "SIGTTIN",
        "SIGTTOU",
    )
    if hasattr(signal, name)
)


@contextlib.contextmanager
def _signal_handlers_kept() -> Iterator[None]:
    """Restore the process's Python signal handlers after Ray touched them (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            if handler is not None and signal.getsignal(sig) is not handler:
                signal.signal(sig, handler)


def _configure_auth(mode: str, token_path: str | None) -> None:
    """Point this process's Ray at the right token before ray.init."""
    if mode == "embedded":
        os.environ.pop("RAY_AUTH_TOKEN", None)
        os.environ["RAY_AUTH_MODE"] = "token"
        os.environ["RAY_AUTH_TOKEN_PATH"] = str(token_path)
    ray = _ray()
    # Ray caches its config and the token at first use: reload them from the environment.
    with contextlib.suppress(Exception):
        from ray._raylet import AuthenticationTokenLoader, Config

        Config.initialize("")
        AuthenticationTokenLoader.instance().reset_cache()
    del ray


_pending_init: threading.Thread | None = None  # a timed-out ray.init may still be running


def _init_with_timeout(address: str, timeout_s: float) -> None:
    """ray.init in a helper thread: a hard bound on the wait, and Ray then installs no
    SIGTERM handler of its own (it only does so on the main thread)."""
    global _pending_init
    if _pending_init is not None and _pending_init.is_alive():
        raise ClusterUnavailableError(
            "an earlier attempt to join the Ray cluster has not finished; try again later"
        )
    ray = _ray()
    logging.getLogger("ray._private.worker").addFilter(_DropThreadSigtermWarning())
    # Ray retries the GCS once a second for this many attempts (default 20).
    os.environ["RAY_gcs_server_port_wait_time_s"] = str(max(1, int(timeout_s) - 2))  # noqa: SIM112 (Ray spells it so)
    outcome: dict[str, BaseException] = {}

    def target() -> None:
        try:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING, namespace="spl")
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="spl-ray-init", daemon=True)
    _pending_init = thread
    with _signal_handlers_kept():
        thread.start()
        thread.join(timeout_s)
    if thread.is_alive():
        raise ClusterUnavailableError(f"could not join the Ray cluster at {address} within {timeout_s:.0f} s")
    if "error" in outcome:
        raise ClusterUnavailableError(_connect_message(address, outcome["error"])) from None


def _connect_message(address: str, error: BaseException) -> str:
    """Ray reports a refused token only in its C++ log; the port answered, so say what to check."""
    text = str(error).split("\n")[0][:200]
    return (
        f"could not join the Ray cluster at {address} ({text}); the port answers, so check that "
        "RAY_AUTH_MODE=token and RAY_AUTH_TOKEN (or RAY_AUTH_TOKEN_PATH) hold the cluster's token "
        "and that the cluster runs the same Ray version"
    )


def _default_connect_timeout() -> float:
    raw = os.environ.get("SPL_RAY_CONNECT_TIMEOUT_S", "")
    try:
        value = float(raw)
    except ValueError:
        return CONNECT_TIMEOUT_S
    return value if math.isfinite(value) and value > 0 else CONNECT_TIMEOUT_S


def connect(timeout_s: float | None = None, *, start_embedded: bool = True) -> Any:
    """Join the configured cluster once per process (lazily); returns the ray module.

    ``start_embedded=False`` joins a running embedded head but never starts one."""
    global _connection
    timeout_s = timeout_s if timeout_s is not None else _default_connect_timeout()
    ray = _ray()
    with _connect_lock:
        if inherited_ray_state():
            raise ClusterUnavailableError(
                "this process was forked from one already joined to Ray and cannot join again; "
                "RayExecutor.map runs its job through a fresh driver process instead"
            )
        external = os.environ.get("RAY_ADDRESS", "").strip()
        if _connection is not None and _connection.pid == os.getpid() and ray.is_initialized():
            if _still_wanted(_connection, external):
                return ray
            _shutdown_locked()  # the target changed (RAY_ADDRESS edited, embedded head restarted)
        if external:
            host, port = _split_address(external)
            reason = _tcp_reachable(host, port, PROBE_TIMEOUT_S)
            if reason is not None:
                raise ClusterUnavailableError(
                    f"the Ray cluster at {external} (RAY_ADDRESS) is unreachable: {reason}"
                )
            _configure_auth("external", None)
            _init_with_timeout(external, timeout_s)
            _connection = _Connection(mode="external", address=external, pid=os.getpid())
        else:
            if start_embedded:
                ensure_embedded_cluster()
            info = _read_head()
            if info is None:
                raise ClusterUnavailableError("the local Ray cluster is not running")
            _configure_auth("embedded", info.token_path)
            _init_with_timeout(info.address, timeout_s)
            _connection = _Connection(mode="embedded", address=info.address, pid=os.getpid())
    return ray


def inherited_ray_state() -> bool:
    """True in a process forked from one that had joined Ray (e.g. a Dash background
    callback's process, forked from a gunicorn worker). Ray cannot be re-initialised there:
    its driver state and sockets belong to the parent."""
    ray = sys.modules.get("ray")
    if ray is None:
        return False
    return bool(ray.is_initialized()) and (_connection is None or _connection.pid != os.getpid())


def _still_wanted(connection: _Connection, external: str) -> bool:
    """Is the live connection still the configured cluster (cheap: a file read, a TCP probe)?"""
    if external:
        return connection.mode == "external" and connection.address == external
    info = _read_head()
    return (
        connection.mode == "embedded"
        and info is not None
        and info.address == connection.address
        and _head_alive(info)
    )


def _shutdown_locked() -> None:
    global _connection
    if _connection is not None and _connection.pid == os.getpid():
        with contextlib.suppress(Exception):
            _ray().shutdown()
    _connection = None


def _disconnect() -> None:
    """Leave the cluster (this process only; the cluster keeps running)."""
    with _connect_lock:
        _shutdown_locked()


# ----- the executor ----------------------------------------------------------------------


def _call(fn: Callable[[Any, T], R], shared: Any, item: T) -> R:
    """Body of every task; ``shared`` arrives resolved from the object store (zero copy)."""
    return fn(shared, item)


_remote_call: Any = None
_cluster_cpus: int | None = None


def _remote(ray: Any) -> Any:
    global _remote_call
    if _remote_call is None:
        # retry_exceptions=False: a bug or bad input fails the same way twice; max_retries
        # only re-runs tasks whose worker process died (OOM kill, node loss).
        _remote_call = ray.remote(max_retries=TASK_MAX_RETRIES, retry_exceptions=False)(_call)
    return _remote_call


class RayExecutor:
    """``Executor`` on a Ray cluster: one ``ray.put`` of ``shared`` per map, one task per item."""

    name = "ray"

    def __init__(self, *, connect_timeout_s: float | None = None, may_run_inline: bool = False) -> None:
        self.connect_timeout_s = connect_timeout_s
        # Chosen by ``auto``: a job too small to repay starting a driver may run in-process
        # (``worth_a_fresh_driver``). Asked for by name (``ray``), it always runs on Ray.
        self.may_run_inline = may_run_inline

    @property
    def parallelism(self) -> int:
        """CPUs of the cluster (connects): how many tasks can run at once."""
        global _cluster_cpus
        if uses_driver_process():
            _cluster_cpus = int(_driver_host().request(("parallelism", self.connect_timeout_s)))
            return _cluster_cpus
        ray = connect(self.connect_timeout_s)
        _cluster_cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        return _cluster_cpus

    def map(
        self,
        fn: Callable[[Any, T], R],
        items: Sequence[T],
        *,
        shared: Any = None,
        on_progress: ProgressFn | None = None,
        should_cancel: CancelFn | None = None,
    ) -> list[R]:
        items = list(items)
        if not items:
            return []
        if uses_driver_process():
            message = ("map", self.connect_timeout_s, fn, items, shared)
            return _driver_host().request(message, on_progress=on_progress, should_cancel=should_cancel)
        return self.map_inline(fn, items, shared=shared, on_progress=on_progress, should_cancel=should_cancel)

    def map_inline(
        self,
        fn: Callable[[Any, T], R],
        items: Sequence[T],
        *,
        shared: Any = None,
        on_progress: ProgressFn | None = None,
        should_cancel: CancelFn | None = None,
    ) -> list[R]:
        """``map`` with this process as the Ray driver."""
        items = list(items)
        if not items:
            return []
        ray = connect(self.connect_timeout_s)
        shared_ref = ray.put(shared)  # once: every task gets the reference, not a copy
        remote = _remote(ray)
        refs = [remote.remote(fn, shared_ref, item) for item in items]
        position = {ref: i for i, ref in enumerate(refs)}
        results: list[Any] = [None] * len(refs)
        pending = list(refs)
        try:
            while pending:
                if should_cancel is not None and should_cancel():
                    raise Cancelled(f"cancelled after {len(refs) - len(pending)} of {len(refs)} tasks")
                ready, pending = ray.wait(pending, num_returns=len(pending), timeout=WAIT_SLICE_S)
                for ref in ready:
                    results[position[ref]] = _get(ray, ref)
                if ready and on_progress is not None:
                    on_progress(len(refs) - len(pending), len(refs))
        except BaseException:
            for ref in pending:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=False)
            raise
        return results


def _get(ray: Any, ref: Any) -> Any:
    """The task's value; its own exception (not Ray's wrapper) when user code raised."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, BaseException):
            raise cause from None
        raise
    except ray.exceptions.RayError as exc:
        raise ClusterUnavailableError(f"a Ray task was lost: {str(exc).splitlines()[0][:200]}") from None


# ----- the driver process ----------------------------------------------------------------
#
# A Ray driver dies with its cluster: Ray kills the process when its local raylet goes away,
# when the GCS stays unreachable past its reconnect timeout, or when a new head answers at
# the same address ("WrongClusterID" check failure). Inside a gunicorn worker that would
# take the worker and its in-flight requests down. So under gunicorn (or with
# SPL_RAY_DRIVER=process) the Ray driver is a child process of the worker: jobs, progress,
# cancel requests and answers travel over pipes, and a driver lost with its cluster is
# replaced on the next call. The same path serves processes forked from one that has
# joined Ray in-process (Ray cannot be initialised again there).

_FRAME = struct.Struct("!Q")
DRIVER_MODES = ("inline", "process")


def uses_driver_process() -> bool:
    """True when Ray work must go through a driver child process (see above)."""
    mode = os.environ.get("SPL_RAY_DRIVER", "").strip().lower()
    if mode not in DRIVER_MODES:
        mode = "process" if "gunicorn" in sys.modules else "inline"
    return mode == "process" or inherited_ray_state()


_ENV_PREFIXES = ("RAY_ADDRESS", "RAY_AUTH_", "SPL_RUNTIME_DIR", "SPL_RAY_")


def _cluster_env() -> dict[str, str]:
    """The settings that choose and authenticate the cluster, sent with every request so
    that the driver process follows this process's environment."""
    return {k: v for k, v in os.environ.items() if k.startswith(_ENV_PREFIXES) and k != "SPL_RAY_DRIVER"}


def _apply_cluster_env(env: dict[str, str]) -> None:
    for key in [k for k in os.environ if k.startswith(_ENV_PREFIXES) and k != "SPL_RAY_DRIVER"]:
        if key not in env:
            del os.environ[key]
    os.environ.update(env)


def _send(stream: Any, message: Any) -> None:
    _ray()  # sets Ray's environment defaults before the first import of ray
    from ray import cloudpickle  # functions defined in __main__ or closures travel too

    payload = cloudpickle.dumps(message)
    stream.write(_FRAME.pack(len(payload)) + payload)
    stream.flush()


def _read_exact(stream: Any, size: int) -> bytes:
    chunks, missing = [], size
    while missing:
        chunk = stream.read(missing)
        if not chunk:
            raise ClusterUnavailableError(
                "the Ray driver process stopped (was the Ray cluster lost?); try again"
            )
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _receive(stream: Any) -> Any:
    (size,) = _FRAME.unpack(_read_exact(stream, _FRAME.size))
    return pickle.loads(_read_exact(stream, size))


class _DriverBusy(ClusterUnavailableError):
    """The driver process is serving another request (only status calls give up waiting)."""


class _DriverHost:
    """A child process that is this process's Ray driver; one request at a time."""

    def __init__(self) -> None:
        path = os.pathsep.join(filter(None, [_ENGINE_PARENT, os.environ.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from engine.execution.cluster import _driver_host_main; _driver_host_main()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True, bufsize=0,  # select() sees every frame
            env={**os.environ, "SPL_RAY_DRIVER": "inline", "PYTHONPATH": path},
        )  # fmt: skip
        self.owner = os.getpid()
        self.lock = threading.Lock()
        self.jobs = 0

    def usable(self) -> bool:
        return self.owner == os.getpid() and self.process.poll() is None

    def stop(self) -> None:
        if self.owner != os.getpid():
            return  # a forked child must not stop its parent's driver
        with contextlib.suppress(OSError):
            self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        if self.process.poll() is None:
            self.process.kill()

    def request(
        self,
        message: tuple[Any, ...],
        *,
        on_progress: ProgressFn | None = None,
        should_cancel: CancelFn | None = None,
        lock_timeout_s: float = -1,
        answer_timeout_s: float | None = None,
    ) -> Any:
        import select

        if not self.lock.acquire(timeout=lock_timeout_s):
            raise _DriverBusy("the Ray driver is busy with another job")
        try:
            assert self.process.stdin is not None and self.process.stdout is not None
            self.jobs += 1
            job = self.jobs
            try:
                _send(self.process.stdin, (job, _cluster_env(), *message))
            except OSError:
                raise ClusterUnavailableError("the Ray driver process stopped; try again") from None
            deadline = None if answer_timeout_s is None else time.monotonic() + answer_timeout_s
            cancel_sent = False
            while True:
                if should_cancel is not None and not cancel_sent and should_cancel():
                    _send(self.process.stdin, (job, "cancel"))
                    cancel_sent = True
                if deadline is not None and time.monotonic() > deadline:
                    self.stop()  # its answer would arrive out of turn: start afresh next time
                    raise ClusterUnavailableError(
                        f"no answer from the Ray driver within {answer_timeout_s:g} s"
                    )
                if not select.select([self.process.stdout], [], [], WAIT_SLICE_S)[0]:
                    continue
                kind, *rest = _receive(self.process.stdout)
                if kind == "progress":
                    if on_progress is not None:
                        on_progress(*rest)
                elif kind == "done":
                    return rest[0]
                else:
                    raise rest[0]
        finally:
            self.lock.release()


_host: _DriverHost | None = None
_host_lock = threading.Lock()


def _driver_host(start: bool = True) -> _DriverHost:
    """This process's driver process (started on first use, replaced when it has died)."""
    global _host
    with _host_lock:
        if _host is None or not _host.usable():
            if _host is not None:
                _host.stop()
            if not start:
                raise ClusterUnavailableError("no Ray driver process is running yet")
            _host = _DriverHost()
        return _host


def driver_process_running() -> bool:
    return _host is not None and _host.usable()


def _serve(message: tuple[Any, ...], answers: Any, cancelled: Callable[[], bool]) -> Any:
    kind = message[0]
    if kind == "map":
        _, timeout_s, fn, items, shared = message
        return RayExecutor(connect_timeout_s=timeout_s).map_inline(
            fn,
            items,
            shared=shared,
            on_progress=lambda d, t: _send(answers, ("progress", d, t)),
            should_cancel=cancelled,
        )
    if kind == "parallelism":
        return RayExecutor(connect_timeout_s=message[1]).parallelism
    if kind == "status":
        return _status_inline(message[1])
    raise ValueError(f"unknown driver request {kind!r}")


def _driver_host_main() -> None:
    """Entry point of the driver process: serve requests from stdin until it closes."""
    import queue

    _ray()  # before anything unpickled imports ray
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints must not corrupt the answer stream
    requests: queue.Queue[tuple[Any, ...]] = queue.Queue()
    cancelled_job = [0]

    def read() -> None:
        while True:
            try:
                message = _receive(sys.stdin.buffer)
            except BaseException:
                os._exit(0)
            if message[1:] == ("cancel",):
                cancelled_job[0] = message[0]
            else:
                requests.put(message)

    threading.Thread(target=read, name="spl-driver-reader", daemon=True).start()
    while True:
        job, env, *message = requests.get()
        try:
            _apply_cluster_env(env)
            answer = _serve(tuple(message), answers, lambda job=job: cancelled_job[0] == job)
            _send(answers, ("done", answer))
        except BaseException as exc:
            _send(answers, ("error", exc))


def get_executor(mode: ExecutorMode | None = None, *, n_items: int | None = None) -> Executor:
    """The executor for a job.

    ``mode``: ``serial`` (in-process), ``ray`` (the configured cluster) or ``auto``
    (``None`` means the ``ENGINE_EXECUTOR`` environment variable, default ``auto``).
    ``auto`` runs jobs of fewer than ``AUTO_SERIAL_BELOW`` items (configurations, draws)
    in-process and everything else (or an unknown size) on Ray. Nothing connects here.
    """
    chosen = mode if mode is not None else (os.environ.get("ENGINE_EXECUTOR") or "auto").strip().lower()
    if chosen not in EXECUTOR_MODES:
        raise ParameterError(f"executor must be one of {', '.join(EXECUTOR_MODES)}; got {chosen!r}")
    if chosen == "serial" or (chosen == "auto" and n_items is not None and n_items < AUTO_SERIAL_BELOW):
        return SerialExecutor()
    return RayExecutor(may_run_inline=chosen == "auto")


FRESH_DRIVER_BREAK_EVEN_S = 5.0  # start-up of a fresh driver process and its Ray workers


def worth_a_fresh_driver(executor: Executor, serial_seconds: float) -> bool:
    """False when ``executor`` would first have to start a driver process (a process forked
    from a gunicorn worker, e.g. a Dash background callback) and that start-up costs more
    than running ``serial_seconds`` of work in-process. Only an executor chosen by ``auto``
    may be swapped for in-process work: one asked for by name runs what it is given."""
    if not isinstance(executor, RayExecutor) or not executor.may_run_inline:
        return True
    if not uses_driver_process() or driver_process_running():
        return True
    return serial_seconds > FRESH_DRIVER_BREAK_EVEN_S


def executor_parallelism(executor: Executor) -> int:
    """How many items the executor runs at once (1 for the serial one)."""
    value = getattr(executor, "parallelism", 1)
    return max(1, int(value)) if isinstance(value, (int, float)) and math.isfinite(value) else 1


# ----- status ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClusterStatus:
    """What the Status page shows; ``error`` says why the numbers are missing."""

    mode: Literal["embedded", "external", "not started"]
    address: str | None = None
    nodes: int = 0
    cpus: float = 0.0
    memory_bytes: float = 0.0
    object_store_used_bytes: float = 0.0
    object_store_total_bytes: float = 0.0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _configured_cluster() -> tuple[Literal["embedded", "external"], str] | None:
    """(mode, address) of the cluster to report on; None when no embedded head runs."""
    external = os.environ.get("RAY_ADDRESS", "").strip()
    if external:
        return "external", external
    info = _read_head()
    if info is None or not _head_alive(info):
        return None
    return "embedded", info.address


_last_status: ClusterStatus | None = None


def cluster_status(timeout_s: float = STATUS_TIMEOUT_S) -> ClusterStatus:
    """Cluster size and object-store use; never starts a cluster, returns within ~timeout_s."""
    global _last_status
    target = _configured_cluster()
    if target is None:
        return ClusterStatus(mode="not started")
    mode, address = target
    if not uses_driver_process():
        return _status_inline(timeout_s)
    if not driver_process_running():
        # Starting a driver process may take longer than a status answer may: start it in
        # the background (it never starts a cluster by itself) and wait for it a little.
        first: dict[str, ClusterStatus] = {}

        def warm() -> None:
            with contextlib.suppress(Exception):
                first["status"] = _driver_host().request(("status", timeout_s), lock_timeout_s=0.0)

        thread = threading.Thread(target=warm, name="spl-ray-driver-start", daemon=True)
        thread.start()
        thread.join(timeout_s)
        if "status" in first:
            _last_status = first["status"]
            return first["status"]
        return ClusterStatus(
            mode=mode, address=address, error="connecting to the Ray cluster; refresh in a few seconds"
        )
    try:
        status = _driver_host().request(
            ("status", timeout_s), lock_timeout_s=0.5, answer_timeout_s=timeout_s + 1.5
        )
    except _DriverBusy:
        # The driver is running a job on this cluster, so the cluster answers: report the
        # last figures (or the CPU count the job was sized with) rather than an error.
        if _last_status is not None and _last_status.address == address:
            return _last_status
        return ClusterStatus(mode=mode, address=address, cpus=float(_cluster_cpus or 0))
    except ClusterUnavailableError as exc:
        return ClusterStatus(mode=mode, address=address, error=str(exc))
    _last_status = status
    return status


def _status_inline(timeout_s: float) -> ClusterStatus:
    """The status query with this process as the driver (joins, never starts a cluster)."""
    target = _configured_cluster()
    if target is None:
        return ClusterStatus(mode="not started")
    mode, address = target
    answer: dict[str, Any] = {}

    def query() -> None:
        try:
            ray = connect(timeout_s, start_embedded=False)
            total, free = ray.cluster_resources(), ray.available_resources()
            store = float(total.get("object_store_memory", 0.0))
            answer["status"] = ClusterStatus(
                mode=mode,
                address=address,
                nodes=sum(1 for node in ray.nodes() if node.get("Alive")),
                cpus=float(total.get("CPU", 0.0)),
                memory_bytes=float(total.get("memory", 0.0)),
                object_store_used_bytes=max(0.0, store - float(free.get("object_store_memory", store))),
                object_store_total_bytes=store,
            )
        except Exception as exc:
            answer["error"] = str(exc).split("\n")[0][:300]

    thread = threading.Thread(target=query, name="spl-ray-status", daemon=True)
    thread.start()
    thread.join(timeout_s + 0.5)
    if "status" in answer:
        return answer["status"]
    error = answer.get("error") or f"no answer from the Ray cluster within {timeout_s:g} s"
    return ClusterStatus(mode=mode, address=address, error=error)
