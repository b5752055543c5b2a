"""A CLI run that started the embedded Ray head stops it at exit; one that joined a head
started by another process leaves it running (reviewer finding: `sweep --executor ray`
exited 0 and left `ray start --head --block`, gcs_server, raylet running)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.execution.cluster import ensure_embedded_cluster, head_alive, read_head, shutdown_embedded_cluster
from engine.execution.config import RayConfig

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]
SWEEP = ["sweep", "--grid", "top_n=3,5", "--executor", "ray"]


@pytest.fixture
def runtime() -> Iterator[Path]:
    """A short runtime dir (Ray's socket paths must stay under 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="splw3-", dir="/tmp")) / "rt"
    yield path
    shutil.rmtree(path.parent, ignore_errors=True)


def _env(runtime: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    env.update(SPL_RUNTIME_DIR=str(runtime), PYTHONPATH=str(REPO))
    return env


def _pid_alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and b"start" in Path(f"/proc/{pid}/cmdline").read_bytes()


def _run_sweep(runtime: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine", *SWEEP],
        env=_env(runtime), cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_a_run_that_started_the_head_stops_it(runtime: Path) -> None:
    config = RayConfig.from_env({"SPL_RUNTIME_DIR": str(runtime)})
    done = _run_sweep(runtime)
    assert done.returncode == 0, done.stderr
    assert read_head(config) is None  # the record is gone: the head was stopped
    leftover = subprocess.run(["pgrep", "-f", str(runtime / "ray")], capture_output=True, text=True)
    assert leftover.stdout.strip() == "", f"Ray processes left running: {leftover.stdout}"


def test_a_run_that_joined_an_existing_head_leaves_it(runtime: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPL_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    config = RayConfig.from_env({"SPL_RUNTIME_DIR": str(runtime)})
    info = ensure_embedded_cluster(config)
    try:
        done = _run_sweep(runtime)
        assert done.returncode == 0, done.stderr
        after = read_head(config)
        assert after is not None and after.pid == info.pid and head_alive(after)
        assert _pid_alive(info.pid)
    finally:
        shutdown_embedded_cluster(config)
