"""The embedded single-host Ray head: start it once per host, find it, stop it.

``RAY_ADDRESS`` unset: the first process on the host that needs Ray takes an ``fcntl``
lock in the runtime dir (``RayConfig.runtime_dir``), starts ``ray start --head --block``
as a detached subprocess (no dashboard, own temp dir and ports, a random token in a 0600
file) and records its address in ``cluster.json``; every other process reads the file and
joins. ``shutdown_embedded_cluster()`` (gunicorn's ``on_exit``) stops it. Also the address
helpers: ``split_address`` and the TCP probe ``tcp_reachable`` (the only sockets here).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from engine.errors import ClusterUnavailableError
from engine.execution.config import RayConfig

HEAD_START_TIMEOUT_S = 60.0
LOCK_TIMEOUT_S = 90.0
ENGINE_PARENT = str(Path(__file__).resolve().parents[2])  # so Ray workers can import engine


def split_address(address: str) -> tuple[str, int]:
    """``"host:port"`` -> ``(host, port)``; ``ClusterUnavailableError`` saying what is wrong."""
    text = address.strip()
    if "://" in text:
        raise ClusterUnavailableError(
            f"RAY_ADDRESS must be host:port of the head (GCS), not a {text.split('://')[0]}:// URL"
        )
    host, sep, port = text.rpartition(":")
    if not sep or not host or not (port.isascii() and port.isdigit()):
        raise ClusterUnavailableError(
            f"RAY_ADDRESS must look like host:port (e.g. 10.0.0.5:6379), got {text!r}"
        )
    return host, int(port)


def tcp_reachable(address: str, timeout_s: float) -> str | None:
    """None when something accepts TCP connections at ``address``, else the reason."""
    host, port = split_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


_HANDED_OUT: set[int] = set()  # ports this process gave out: never given twice


def free_ports(n: int) -> list[int]:
    """``n`` distinct free loopback ports, none handed out before by this process.

    A port is only reserved once its server binds it, so one bind-and-close at a time
    may hand out the same port twice (Ray then refuses to start: "trying to use a port
    number ... that is used by other components"): every socket stays bound until all
    are chosen, and ports given out earlier (to a node that may not have bound them
    yet) are skipped. The one rule for the embedded head and the tests' Ray nodes."""
    with contextlib.ExitStack() as stack:
        ports: list[int] = []
        while len(ports) < n:
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
            if port not in _HANDED_OUT:
                ports.append(port)
                _HANDED_OUT.add(port)
        return ports


@contextlib.contextmanager
def _file_lock(path: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Host-wide mutual exclusion between processes via fcntl.flock."""
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


@dataclasses.dataclass(frozen=True, kw_only=True)
class HeadInfo:
    address: str
    pid: int  # the `ray start --head --block` process; its process group holds the head
    temp_dir: str
    token_path: str


def _head_file(config: RayConfig) -> Path:
    return config.runtime_dir / "cluster.json"


def read_head(config: RayConfig) -> HeadInfo | None:
    """The recorded embedded head (alive or not), None when none is recorded."""
    try:
        return HeadInfo(**json.loads(_head_file(config).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _is_our_head_process(info: HeadInfo) -> bool:
    """The recorded pid is alive and still our `ray start` (pids get reused)."""
    try:
        cmdline = Path(f"/proc/{info.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return "start" in cmdline and info.temp_dir in cmdline


def head_alive(info: HeadInfo, timeout_s: float = 1.0) -> bool:
    return _is_our_head_process(info) and tcp_reachable(info.address, timeout_s) is None


def _embedded_env(config: RayConfig, token_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    env.pop("RAY_AUTH_TOKEN", None)  # it would take precedence over our token file
    env.update(
        RAY_AUTH_MODE="token",
        RAY_AUTH_TOKEN_PATH=str(token_path),
        RAY_USAGE_STATS_ENABLED="0",
        RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S="0",  # nothing to drain: stop at once
        RAY_DISABLE_FAILURE_SIGNAL_HANDLER="1",
        PYTHONPATH=os.pathsep.join(filter(None, [ENGINE_PARENT, env.get("PYTHONPATH")])),
    )
    # Ray runs task workers at nice 15 so that the host's other processes (here: the web
    # app) stay responsive; SPL_RAY_WORKER_NICENESS=0 gives them equal priority.
    if config.worker_niceness is not None:
        env["RAY_worker_niceness"] = str(config.worker_niceness)
    return env


def _start_head(config: RayConfig) -> HeadInfo:
    """Start `ray start --head --block` detached; called with the runtime lock held."""
    root = config.runtime_dir
    token_path = root / "auth_token"
    _write_private(token_path, secrets.token_hex(32))
    temp_dir = root / "ray"
    temp_dir.mkdir(mode=0o700, exist_ok=True)
    port, agent_port = free_ports(2)
    command = [
        sys.executable, "-c", "from ray.scripts.scripts import main; main()",
        "start", "--head", "--block", "--disable-usage-stats",
        "--node-ip-address=127.0.0.1", f"--port={port}",
        "--include-dashboard=false", f"--dashboard-agent-listen-port={agent_port}",
        "--min-worker-port=0", "--max-worker-port=0",  # random worker ports: no clash with other clusters
        f"--temp-dir={temp_dir}", f"--num-cpus={config.num_cpus or os.cpu_count() or 1}",
        f"--object-store-memory={config.object_store_bytes}",
    ]  # fmt: skip
    log_path = root / "head.log"
    with open(log_path, "wb") as log:
        # A new session: a signal to the app's process group does not hit the head, and the
        # head outlives the process that started it (the others still use it).
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=_embedded_env(config, token_path), start_new_session=True, close_fds=True,
        )  # fmt: skip
    info = HeadInfo(
        address=f"127.0.0.1:{port}", pid=process.pid, temp_dir=str(temp_dir), token_path=str(token_path)
    )
    deadline = time.monotonic() + HEAD_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise ClusterUnavailableError(f"the local Ray head failed to start: {tail[0][:200]}")
        if b"Ray runtime started" in log_path.read_bytes():
            _write_private(_head_file(config), json.dumps(dataclasses.asdict(info)))
            return info
        time.sleep(0.2)
    _kill_head(info)
    raise ClusterUnavailableError(
        f"the local Ray head did not start within {HEAD_START_TIMEOUT_S:.0f} s (see {log_path})"
    )


def _kill_head(info: HeadInfo, grace_s: float = 10.0) -> None:
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


def ensure_embedded_cluster(config: RayConfig) -> HeadInfo:
    """This host's embedded head, started if no live one is recorded."""
    root = config.runtime_dir
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        _check_private(root)
        with _file_lock(root / "cluster.lock"):
            info = read_head(config)
            if info is not None and head_alive(info):
                return info
            if info is not None:
                _kill_head(info, grace_s=2.0)
                with contextlib.suppress(FileNotFoundError):
                    _head_file(config).unlink()
            try:
                return _start_head(config)
            except ClusterUnavailableError:
                # Most likely a port taken between choosing and binding it: retry once, new ports.
                return _start_head(config)
    except OSError as exc:
        raise ClusterUnavailableError(
            f"cannot use the Ray runtime dir {root} (SPL_RUNTIME_DIR): {exc.strerror or exc}"
        ) from None


def shutdown_embedded_cluster(config: RayConfig | None = None) -> None:
    """Stop the embedded head of this host (gunicorn ``on_exit``); no-op when none runs."""
    config = config or RayConfig.from_env()
    root = config.runtime_dir
    if not root.is_dir():
        return
    from engine.execution.connection import disconnect

    disconnect()
    with _file_lock(root / "cluster.lock"):
        info = read_head(config)
        if info is None:
            return
        _kill_head(info)
        for path in (_head_file(config), Path(info.token_path)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
