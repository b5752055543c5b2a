"""Plumbing the pages share (no page registers here, and nothing imports the app)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dash import no_update

from engine import EngineError


def csv_download(log: logging.Logger, what: str, filename: str, content: Callable[[], str]) -> Any:
    """A ``dcc.Download`` value: ``content()`` as ``filename`` (``text/csv``); ``no_update``
    when it raises, so a failed download never breaks the page: an ``EngineError`` (the
    stored run cannot be computed again, e.g. every configuration failed) is logged as its
    one sentence, anything else as ``"<what> download failed"`` with the traceback."""
    try:
        return {"content": content(), "filename": filename, "type": "text/csv"}
    except EngineError as exc:  # expected: the engine's sentence, no traceback in the log
        log.warning("%s download not made: %s", what, exc)
        return no_update
    except Exception:  # a failed download must not break the page
        log.exception("%s download failed", what)
        return no_update


def failed_run(message: Any) -> dict[str, Any]:
    """The outputs of a run callback (``results``, ``run_state``, ``search``,
    ``download_disabled``) when the run failed: ``message`` shown, no state, URL kept,
    download disabled."""
    return {"results": message, "run_state": None, "search": no_update, "download_disabled": True}
