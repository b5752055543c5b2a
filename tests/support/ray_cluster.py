"""The embedded Ray cluster the test modules share: one per pytest process, in a private
runtime dir (never /tmp/spl-ray), stopped when the session ends.

``runtime_dir`` (module scope) points ``SPL_RUNTIME_DIR`` at it for the module's tests
and restores the Ray settings of the environment afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import engine

_RAY_VARS = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_TOKEN", "SPL_RUNTIME_DIR", "RAY_ADDRESS")


def shared_cluster_dir(config: pytest.Config) -> Path:
    """The session's runtime dir (short path: Ray's socket paths are limited)."""
    path = os.environ.get("SPL_TEST_RUNTIME_DIR")
    if path is None:
        path = tempfile.mkdtemp(prefix="spl-t", dir="/tmp")
        os.environ["SPL_TEST_RUNTIME_DIR"] = path

        def stop() -> None:
            try:
                engine.shutdown_embedded_cluster(engine.RayConfig(runtime_dir=Path(path)))
            finally:
                shutil.rmtree(path, ignore_errors=True)

        config.add_cleanup(stop)
    return Path(path)


@pytest.fixture(scope="module")
def runtime_dir(pytestconfig: pytest.Config) -> Iterator[Path]:
    saved = {name: os.environ.get(name) for name in _RAY_VARS}
    path = shared_cluster_dir(pytestconfig)
    os.environ.pop("RAY_ADDRESS", None)
    os.environ["SPL_RUNTIME_DIR"] = str(path)
    try:
        yield path
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def counting_puts(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every value ``ray.put`` receives from now on, in order (``ray.put`` still puts)."""
    from engine.execution import connection

    ray = connection.import_ray()
    put, puts = ray.put, []

    def counted(value: Any, **kwargs: Any) -> Any:
        puts.append(value)
        return put(value, **kwargs)

    monkeypatch.setattr(ray, "put", counted)
    return puts
