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


def test_a_constant_signal_prints_no_quantiles_or_spread(tmp_path: Path) -> None:
    """Breaker pass 12, F6: every symbol's engagement ratio is 0.5 every month. The output
    had 'top minus bottom: mean ..., t ...' from quantiles split by the alphabet; now the
    quantiles and the spread are n/a, the note says why, and the CSVs carry the note and
    no quantile columns."""
    from tests.engine._frames import price_frame, sentiment_frame

    days = [d.date().isoformat() for d in pd.bdate_range("2021-03-01", "2021-06-30")]
    rng = np.random.default_rng(12)
    columns = {
        s: 100.0 * np.cumprod(1.0 + rng.normal(0, 0.02, len(days))) for s in ("AAA", "BBB", "CCC", "DDD")
    }
    prices = price_frame(days, {**columns, "QQQ": np.linspace(100.0, 106.0, len(days))})
    rows = [(d, s, 100.0, 200.0) for d in ("2021-03-15", "2021-04-15", "2021-05-14") for s in columns]
    sentiment = sentiment_frame(rows)
    sentiment["date"] = sentiment["date"].dt.strftime("%Y-%m-%d")
    sentiment.to_csv(tmp_path / "s.csv", index=False)
    prices.to_csv(tmp_path / "p.csv", index_label="date", date_format="%Y-%m-%d")
    argv = ["signal", "--sentiment", str(tmp_path / "s.csv"), "--prices", str(tmp_path / "p.csv")]
    code, out, err = _run([*argv, "--quantiles", "2", "--out", str(tmp_path / "out")])
    assert code == 0, err
    assert "quantile portfolios: n/a (2 quantiles requested, none formed; see the warning)" in out
    assert "top minus bottom: n/a" in out and "top minus bottom: mean" not in out
    assert "min 0.5, median 0.5, mean 0.5, max 0.5" in out
    assert "2 quantiles requested, none formed: in each of the 3 period(s)" in err
    ic_text = (tmp_path / "out" / "signal_ic.csv").read_text()
    assert "# quantile_note: 2 quantiles requested, none formed" in ic_text
    ic = pd.read_csv(tmp_path / "out" / "signal_ic.csv", comment="#")
    assert ic["spread"].isna().all()
    quantiles = pd.read_csv(tmp_path / "out" / "signal_quantile_returns.csv", comment="#")
    assert list(quantiles.columns) == ["entry_date"]


def test_an_incomplete_last_period_is_said_on_stderr_and_in_the_csvs(tmp_path: Path) -> None:
    """Breaker pass 12, F8: with the prices ending one day into the last holding period,
    its one-day return was scored as a full period with no word; now the note is printed
    (a warning line) and written in both CSVs' headers, and the period's row says it is
    not complete (no next entry date, no IC)."""
    from tests.engine.research.test_signal_analysis import _prices, _sentiment

    sentiment = _sentiment()
    sentiment["date"] = sentiment["date"].dt.strftime("%Y-%m-%d")
    sentiment.to_csv(tmp_path / "s.csv", index=False)
    _prices().loc[: pd.Timestamp("2021-06-01")].to_csv(
        tmp_path / "p.csv", index_label="date", date_format="%Y-%m-%d"
    )
    argv = ["signal", "--sentiment", str(tmp_path / "s.csv"), "--prices", str(tmp_path / "p.csv")]
    code, out, err = _run([*argv, "--quantiles", "2", "--out", str(tmp_path / "out")])
    assert code == 0, err
    note = "The period bought at the 2021-05-31 close has 1 of its return days in the data (to 2021-06-01"
    assert note in err and err.count(note) == 1
    assert "positive 100% of 2 periods" in out
    for name in ("signal_ic.csv", "signal_quantile_returns.csv"):
        assert f"# horizon_note: {note}" in (tmp_path / "out" / name).read_text()
    ic = pd.read_csv(tmp_path / "out" / "signal_ic.csv", comment="#")
    assert ic["complete"].tolist() == [True, True, False]
    assert ic["next_entry_date"].isna().tolist() == [False, False, True]
    assert ic["ic"].isna().tolist() == [False, False, True]
