"""engine.cli.robustness: the text of a strategy without dispersion (constant-return-series kind)."""

from __future__ import annotations

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
    assert "strategy Sharpe at percentile n/a, p-value n/a" in text
    assert "(P[true Sharpe > 0]): n/a" in text
    assert "total return at percentile 50.0" in text  # every draw holds MMF: a tie, counted half
