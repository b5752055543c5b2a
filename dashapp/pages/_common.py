"""Plumbing the pages share (no page registers here, and nothing imports the app)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from dash import no_update

import engine
from dashapp.views.sources import source_notes as notes_of_report
from engine import EngineError


def csv_download(log: logging.Logger, kind: str, build: Callable[[], tuple[str, str | None]]) -> Any:
    """A ``dcc.Download`` value (``text/csv``): the text ``build()`` returns with the data's
    fingerprint, named by the engine's one rule (``engine.download_filename(kind,
    fingerprint)``: ``sweep_06c7c6faf74e8386.csv``); ``no_update`` when it raises, so a
    failed download never breaks the page: an ``EngineError`` (the stored run cannot be
    computed again, e.g. every configuration failed) is logged as its one sentence,
    anything else as ``"<kind> download failed"`` with the traceback."""
    try:
        content, fingerprint = build()
        return {
            "content": content,
            "filename": engine.download_filename(kind, fingerprint),
            "type": "text/csv",
        }
    except EngineError as exc:  # expected: the engine's sentence, no traceback in the log
        log.warning("%s download not made: %s", kind, exc)
        return no_update
    except Exception:  # a failed download must not break the page
        log.exception("%s download failed", kind)
        return no_update


def failed_run(message: Any, search: str) -> dict[str, Any]:
    """The outputs of a run callback (``results``, ``run_state``, ``search``,
    ``download_disabled``) when the run failed: ``message`` shown, no state, the URL set to
    ``search`` (the page's values as entered, ``url_state.entered_query``: a reload asks
    the same again and shows the same error), download disabled."""
    return {"results": message, "run_state": None, "search": search, "download_disabled": True}


def source_notes(
    log: logging.Logger,
    source_info: Callable[[Mapping[str, Any]], Mapping[str, Any]],
    source: Mapping[str, Any],
    *,
    cannot: str = "be held",
) -> list[str]:
    """The notes about the data behind a run (its failed tickers and its dropped input;
    ``views.sources.source_notes``) from the source's validation report, for the Backtest,
    Signal and Stocks pages alike. ``source_info``: the page's ``services.source_info``. A
    report that cannot be had is logged and gives no notes (the run itself succeeded)."""
    try:
        report = source_info(source).get("report") or {}
    except Exception:  # notes are a courtesy; the run itself succeeded
        log.exception("source report unavailable")
        return []
    return notes_of_report(report, cannot=cannot)
