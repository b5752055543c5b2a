"""The app the page and browser tests run: demo data, serial executor, its own cache folder."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def demo_app(cache_dir: Path) -> Any:
    """``create_app`` on the demo data with the serial executor, caching under ``cache_dir``."""
    from dashapp import create_app  # imported when a test needs it, not at collection

    return create_app({"CACHE_DIR": str(cache_dir), "DATA_SOURCE": "demo", "ENGINE_EXECUTOR": "serial"})


@contextlib.contextmanager
def demo_app_context(cache_dir: Path) -> Iterator[Any]:
    """``demo_app(cache_dir)`` inside its Flask app context (services called directly)."""
    app = demo_app(cache_dir)
    with app.server.app_context():
        yield app
