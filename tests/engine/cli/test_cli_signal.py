"""``python -m engine signal``: the printed summary, the CSVs with their manifest header, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine import FileProvider, SignalAnalysisSettings, StrategyParams, analyze_signal, load_market_data
from engine.export import header_lines
from tests.engine.cli._cli import run_cli, write_market_files

_run = run_cli


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_market_files(tmp_path_factory.mktemp("signal-cli-data"), seed=8, n_symbols=12)


def test_signal_prints_the_summary_and_writes_the_csvs(files: tuple[Path, Path], tmp_path: Path) -> None:
    sentiment, prices = files
    argv = ["signal", "--sentiment", str(sentiment), "--prices", str(prices), "--rebalance", "weekly"]
    code, out, err = _run([*argv, "--quantiles", "4", "--out", str(tmp_path)])
    assert code == 0, err
    assert "information coefficient (Spearman, next period): mean" in out
    assert "IC decay: h1" in out and "quantile portfolios" in out
    assert "wrote signal_ic.csv, signal_quantile_returns.csv" in err

    data = load_market_data(FileProvider(sentiment=sentiment, prices=prices), benchmark="QQQ")
    params = StrategyParams(rebalance="weekly")
    analysis = analyze_signal(data, params, settings=SignalAnalysisSettings(quantiles=4))
    ic_text = (tmp_path / "signal_ic.csv").read_text()
    header = [line for line in ic_text.splitlines() if line.startswith("#")]
    assert header[1].startswith("# params: {") and '"rebalance": "weekly"' in header[1]
    assert f"# fingerprint: {data.fingerprint}" in header
    assert "# quantiles: 4" in header
    ic = pd.read_csv(tmp_path / "signal_ic.csv", comment="#")
    assert list(ic.columns) == list(analysis.periods.columns)
    np.testing.assert_allclose(ic["ic"], analysis.periods["ic"], rtol=1e-12)
    assert list(ic["entry_date"]) == list(analysis.periods["entry_date"].dt.strftime("%Y-%m-%d"))
    quantiles = pd.read_csv(tmp_path / "signal_quantile_returns.csv", comment="#")
    assert list(quantiles.columns) == ["entry_date", "q1", "q2", "q3", "q4"]
    np.testing.assert_allclose(quantiles[["q1", "q2", "q3", "q4"]], analysis.quantile_returns, rtol=1e-12)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["signal", "--quantiles", "1"], "quantiles must be a whole number from 2 to 20"),
        (["signal", "--horizons", "x"], "argument --horizons: the value must be a whole number, got 'x'"),
        (["signal", "--rebalance", "daily"], "rebalance must be one of"),
        (["signal", "--top-n", "3"], "unrecognized arguments"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv: list[str], message: str) -> None:
    code, _out, err = _run(argv)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1


def test_header_cells_cannot_become_formulas() -> None:
    text = header_lines({"data_source": "files: a.csv,=HYPERLINK(1),+2,-3.5", "params": {"x": 1}})
    first = text.splitlines()[0]
    assert first.split(",")[1] == "'=HYPERLINK(1)"
    assert first.split(",")[2] == "+2"  # a signed number is data, as in the dashboard downloads
    assert first.split(",")[3] == "-3.5"  # a number stays a number
    assert text.splitlines()[1] == '# params: {"x": 1}'
