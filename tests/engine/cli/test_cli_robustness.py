"""engine.cli.robustness: the text of a strategy without dispersion (constant-return-series kind)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

import engine
from engine.cli.robustness import robustness_text
from tests.engine._frames import market, price_frame, sentiment_frame


def test_a_constant_growth_strategy_reads_n_a_not_nan() -> None:
    # MMF = 100 x 1.001^t, the only symbol with a signal: the strategy's daily return is
    # 0.001 up to rounding, so its Sharpe is undefined (NaN), and with it the Sharpe's
    # percentile among the random portfolios, its p-value and the probabilistic Sharpe.
    days = pd.bdate_range("2022-01-03", "2022-06-30")
    mmf = 100.0 * 1.001 ** np.arange(len(days))
    qqq = 300.0 * np.cumprod(1.0 + np.random.default_rng(5).normal(0.0, 0.01, len(days)))
    prices = price_frame([d.strftime("%Y-%m-%d") for d in days], {"MMF": mmf, "QQQ": qqq})
    rows = [(d.strftime("%Y-%m-%d"), "MMF", 20.0, 100.0) for d in pd.date_range("2022-01-01", "2022-05-31")]
    report = engine.robustness_report(
        market(sentiment_frame(rows), prices), engine.StrategyParams(top_n=1), n_boot=20, n_random=10
    )
    assert np.isnan(report.random_portfolios.percentile) and np.isnan(report.probabilistic_sharpe)
    text = robustness_text(report)
    assert "nan" not in text.lower()  # was "percentile nan, p-value nan" and "...: nan"
    assert "(P[true Sharpe > 0]): n/a" in text
    # Every draw holds MMF, the one eligible symbol, as the strategy does: the baseline is
    # void (breaker pass 12, F3), not "total return at percentile 50.0" (all ties).
    assert "random portfolios: percentile n/a, p-value n/a (every period has at most top_n" in text
    assert "total return at percentile" not in text


def _holds_its_benchmark() -> engine.MarketData:
    """MMF = 100 x 1.001^t (full precision), the only symbol with a signal, is also the
    benchmark: the strategy holds exactly its benchmark (breaker pass 9, F5's inputs)."""
    days = pd.bdate_range("2021-06-01", "2022-12-30")
    mmf = 100.0 * 1.001 ** np.arange(len(days))
    cash = np.ones(len(days))
    prices = price_frame([d.strftime("%Y-%m-%d") for d in days], {"MMF": mmf, "CASH": cash})
    rows = [(d.strftime("%Y-%m-%d"), "MMF", 500.0, 1000.0) for d in pd.date_range("2022-01-01", "2022-12-31")]
    rows += [
        (d.strftime("%Y-%m-%d"), "CASH", 400.0, 1000.0) for d in pd.date_range("2022-01-01", "2022-12-31")
    ]
    return market(sentiment_frame(rows), prices)


def test_a_strategy_that_holds_its_benchmark_has_an_excess_return_of_zero() -> None:
    """Breaker pass 9, F5: the strategy's CAGR (from the closes) and the benchmark's (from
    chained daily returns) differ by rounding, so the report printed "annual excess return
    vs bench.: -0.00% [-0.00%, 0.00%]" (estimate -2.8e-16, an interval of residue). A
    difference within 1e-10 of 0 is 0 (README's rule, engine.dispersion.zero_within_rounding):
    0.00% [0.00%, 0.00%], a zero-width interval (the active return is 0 every day)."""
    data = _holds_its_benchmark()
    params = engine.StrategyParams(top_n=1, benchmark="MMF")
    backtest = engine.run_backtest(data, params)
    assert set(backtest.holdings["symbol"]) == {"MMF"}
    assert backtest.metrics["cagr"] != backtest.benchmark_metrics["cagr"]  # the residue is there
    report = engine.robustness_report(data, params, n_boot=200, n_random=10)
    ci = report.excess_return_ci
    assert (ci.estimate, ci.low, ci.high) == (0.0, 0.0, 0.0)
    assert all(math.copysign(1.0, v) == 1.0 for v in (ci.estimate, ci.low, ci.high))  # no -0.0
    assert "annual excess return vs bench.: 0.00% [0.00%, 0.00%] (95% interval)" in robustness_text(report)


def test_a_void_random_baseline_says_why_on_screen_and_in_the_file(tmp_path: Path) -> None:
    """Breaker pass 12, F3: top_n 3 with 3 eligible symbols in every period printed
    "random portfolios (20): strategy Sharpe at percentile 50.0, p-value 1.000" and wrote
    the same numbers to robustness.json, with no note: every draw was the strategy. Now
    n/a on screen, null in the file, and the note in both."""
    from tests.engine.cli._cli import run_cli
    from tests.engine.research.test_robustness import _three_symbols

    data = _three_symbols()
    sentiment = data.sentiment.copy()
    sentiment["date"] = sentiment["date"].dt.strftime("%Y-%m-%d")
    sentiment.to_csv(tmp_path / "s.csv", index=False)
    data.prices.to_csv(tmp_path / "p.csv", index_label="date", date_format="%Y-%m-%d")
    argv = ["robustness", "--sentiment", str(tmp_path / "s.csv"), "--prices", str(tmp_path / "p.csv")]
    argv += ["--top-n", "3", "--n-boot", "50", "--n-random", "20", "--executor", "serial"]
    code, out, err = run_cli([*argv, "--out", str(tmp_path / "out")])
    assert code == 0, err
    assert "random portfolios: percentile n/a, p-value n/a (every period has at most top_n" in out
    assert "percentile 50.0" not in out and "p-value 1.000" not in out
    assert "note: The random-portfolio baseline has one possible selection per period" in err
    saved = json.loads((tmp_path / "out" / "robustness.json").read_text())
    random = saved["random_portfolios"]
    assert random["percentile"] is None and random["p_value"] is None and random["n"] == 0
    assert random["n_periods"] == random["n_fixed_periods"] == 5
    assert random["note"] == saved["notes"][0]
    assert random["note"].startswith("The random-portfolio baseline has one possible selection")
