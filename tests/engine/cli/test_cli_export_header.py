"""Every CSV a CLI command writes (``--out``) starts with the same standard header
(``engine.export.HEADER_KEYS``, one owner): the same key names in the same order and the
same values for the same data; robustness.json names its data under the same keys. Before,
the commands assembled their lines each in its own way (``version`` here, ``command``
there, no export time anywhere)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import engine
from engine.data.demo import DemoProvider
from tests.engine.cli._cli import run_cli
from tests.support.exports import csv_header

DEMO_LABEL = "Demo data (SYNTHETIC, seed 7)"
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def _header(path: Path) -> dict[str, str]:
    """The ``# key: value`` lines of a CSV export, in order."""
    return csv_header(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CSVs of every command that writes CSV, run in this process on the demo data."""
    folder = tmp_path_factory.mktemp("exports")
    runs = [
        ["backtest", "--out", str(folder / "backtest")],
        ["stocks", "--symbols", "JONX,JORK", "--out", str(folder / "stocks")],
        ["signal", "--out", str(folder / "signal")],
        ["sweep", "--grid", "top_n=3,5", "--executor", "serial", "--walk-forward", "--folds", "2",
         "--out", str(folder / "sweep")],
        ["robustness", "--n-boot", "20", "--n-random", "10", "--executor", "serial",
         "--out", str(folder / "robustness")],
    ]  # fmt: skip
    for argv in runs:
        code, _, err = run_cli(argv)
        assert code == 0, err
    return folder


def test_every_cli_csv_starts_with_the_standard_header(out: Path) -> None:
    files = sorted(out.rglob("*.csv"))
    assert [f"{p.parent.name}/{p.name}" for p in files] == [
        "backtest/holdings.csv",
        "backtest/periods.csv",
        "backtest/returns.csv",
        "signal/signal_ic.csv",
        "signal/signal_quantile_returns.csv",
        "stocks/correlation.csv",
        "stocks/normalised_prices.csv",
        "stocks/stock_metrics.csv",
        "sweep/sweep.csv",
        "sweep/walk_forward.csv",
        "sweep/walk_forward_returns.csv",
    ]
    fingerprint = engine.load_market_data(DemoProvider(), benchmark="QQQ").fingerprint
    for path in files:
        header = _header(path)
        name = f"{path.parent.name}/{path.name}"
        assert tuple(header)[: len(engine.HEADER_KEYS)] == engine.HEADER_KEYS, name
        assert header["content"] and json.loads(header["params"]), name
        assert header["data_source"] == DEMO_LABEL and header["synthetic"] == "true", name
        assert header["engine_version"] == engine.__version__, name
        assert STAMP.fullmatch(header["exported_at"]), name
        assert "version" not in header and "data_source_label" not in header, name
        if path.parent.name == "stocks":  # the stocks command reads only the prices it asks for
            prices, _ = DemoProvider().prices(["JONX", "JORK"], None, None)
            assert header["fingerprint"] == engine.fingerprint_frames(prices[["JONX", "JORK"]]), name
        else:
            assert header["fingerprint"] == fingerprint, name
    # The files of one run share one export time.
    for folder in ("backtest", "signal", "stocks", "sweep"):
        assert len({_header(p)["exported_at"] for p in (out / folder).glob("*.csv")}) == 1, folder
    # What each file holds is its own sentence (the engine's one list per export family).
    assert _header(out / "backtest" / "returns.csv")["content"] == engine.BACKTEST_EXPORT_CONTENT["returns"]
    assert _header(out / "sweep" / "sweep.csv")["content"] == engine.SWEEP_EXPORT_CONTENT["sweep"]


def test_robustness_json_names_its_data_under_the_same_keys(out: Path) -> None:
    report = json.loads((out / "robustness" / "robustness.json").read_text())
    fingerprint = engine.load_market_data(DemoProvider(), benchmark="QQQ").fingerprint
    assert set(engine.HEADER_KEYS) <= set(report)
    assert report["data_source"] == DEMO_LABEL and report["synthetic"] is True
    assert report["fingerprint"] == fingerprint and report["engine_version"] == engine.__version__
    assert STAMP.fullmatch(report["exported_at"])
