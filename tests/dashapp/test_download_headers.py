"""Every CSV download of the dashboard (the pages' download callbacks, on the demo data)
starts with the standard header of every export (``engine.HEADER_KEYS``: the same keys in
the same order as the CLI's files, the same values for the same data) and is named by the
engine's one rule (``engine.download_filename``: kind + data fingerprint). Before, each
view assembled its own lines: ``engine_version`` on the Backtest and Stocks pages,
``version`` plus ``data_source_label`` on the Signal page, no export time anywhere, and
the Stocks, Signal, Sweep and walk-forward downloads had fixed names."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

import engine
from dashapp.services import research
from tests.support.apps import demo_app_context
from tests.support.exports import csv_header

DEMO_LABEL = "Demo data (SYNTHETIC, seed 7)"
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
SOURCE = {"kind": "default"}
WF_SETTINGS = {
    "n_folds": 2,
    "scheme": "anchored",
    "in_sample_days": None,
    "out_of_sample_days": None,
    "metric": "sharpe",
}


def _header(content: str) -> dict[str, str]:
    return csv_header(content)


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """Every CSV download's ``dcc.Download`` value, by page and kind."""
    with demo_app_context(tmp_path_factory.mktemp("cache")):
        from dashapp.pages import backtest, signal, stocks, sweep

        out = {
            f"backtest_{kind}": backtest.download(kind, {"source": SOURCE, "params": {}})
            for kind in backtest.DOWNLOADS
        }
        out["stock_metrics"] = stocks.download_metrics(
            1, {"source": SOURCE, "symbols": ["JONX", "JORK"], "start": None, "end": None}
        )
        out["signal_analysis"] = signal.download_signal(
            1,
            {
                "source": SOURCE,
                "params": {},
                "settings": {"quantiles": 5, "horizons": 3, "rolling_window": 6},
            },
        )
        stored = {**research.sweep(None, {}, {"top_n": [3, 5]}), "source": SOURCE}
        out["sweep"] = sweep.download_sweep(1, stored)
        out["walk_forward"] = sweep.download_walk_forward(1, stored, WF_SETTINGS)
        out["walk_forward_returns"] = sweep.download_walk_forward_returns(1, stored, WF_SETTINGS)
        yield out


def test_every_download_starts_with_the_standard_header(downloads: dict[str, dict[str, Any]]) -> None:
    fingerprint = engine.load_market_data(engine.DemoProvider(), benchmark="QQQ").fingerprint
    assert sorted(downloads) == [
        "backtest_holdings",
        "backtest_metrics",
        "backtest_periods",
        "backtest_returns",
        "signal_analysis",
        "stock_metrics",
        "sweep",
        "walk_forward",
        "walk_forward_returns",
    ]
    for kind, data in downloads.items():
        assert isinstance(data, dict) and data["type"] == "text/csv", kind
        assert data["filename"] == f"{kind}_{fingerprint}.csv" == engine.download_filename(kind, fingerprint)
        header = _header(data["content"])
        assert tuple(header)[: len(engine.HEADER_KEYS)] == engine.HEADER_KEYS, kind
        assert header["content"] and isinstance(json.loads(header["params"]), dict), kind
        assert header["data_source"] == DEMO_LABEL and header["synthetic"] == "true", kind
        assert header["fingerprint"] == fingerprint, kind
        assert header["engine_version"] == engine.__version__, kind
        assert STAMP.fullmatch(header["exported_at"]), kind
        assert header["link"].startswith("/"), kind
        assert not {"version", "data_source_label", "base_params", "symbols"} & set(header), kind
        assert len(pd.read_csv(io.StringIO(data["content"]), comment="#")) > 0, kind


def test_the_same_export_has_the_same_lines_in_the_cli_and_the_dashboard(
    downloads: dict[str, dict[str, Any]],
) -> None:
    """The extras of one export family have the CLI's names too (sweep.csv, walk_forward.csv)."""
    sweep = _header(downloads["sweep"]["content"])
    assert json.loads(sweep["grid"]) == {"top_n": [3, 5]}
    assert {"deflated_sharpe", "n_trials", "n_distinct_trials", "n_effective_trials"} <= set(sweep)
    folds = _header(downloads["walk_forward"]["content"])
    assert json.loads(folds["walk_forward"])["n_folds"] == 2
    assert {"grid", "n_winner_changes", "full_history_winner", "pbo", "pbo_splits"} <= set(folds)
    signal = _header(downloads["signal_analysis"]["content"])
    assert signal["quantiles"] == "5" and json.loads(signal["settings"])["rolling_window"] == 6
    stocks = json.loads(_header(downloads["stock_metrics"]["content"])["params"])
    assert stocks == {"symbols": ["JONX", "JORK"], "start": None, "end": None, "risk_free": 0.0}
