"""``SharedWork``: configurations of a sweep batch that share the signal read one gather
of the widest selection's closes. The numbers must be the same bits as each
configuration run alone, including when a narrower selection falls back to cash where
the wider one holds a symbol (then it gathers its own)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import StrategyParams, prepare
from engine.backtest.base import SharedWork, backtest_metrics_and_returns
from tests.engine._frames import market, price_frame, random_market, sentiment_frame


def _bits(outcome) -> tuple[dict[str, str], bytes, bytes]:
    metrics, day_index, returns = outcome
    return {k: float(v).hex() for k, v in metrics.items()}, day_index.tobytes(), returns.tobytes()


def _alone_and_shared(prepared, batch: list[StrategyParams]) -> tuple[list, list, SharedWork]:
    alone = [_bits(backtest_metrics_and_returns(prepared, p)) for p in batch]
    shared = SharedWork.for_batch(prepared, batch)
    together = [_bits(backtest_metrics_and_returns(prepared, p, shared=shared)) for p in batch]
    return alone, together, shared


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_shared_closes_give_the_same_bits_as_each_configuration_alone(seed: int) -> None:
    prepared = prepare(random_market(seed=seed, n_symbols=40))
    batch = [
        StrategyParams(top_n=n, min_likes=likes, weighting=w, cost_bps=cost)
        for n in (1, 2, 3, 5, 8)
        for likes in (0.0, 30.0)
        for w in ("equal", "inverse_volatility")
        for cost in (0.0, 10.0)
    ]
    alone, together, shared = _alone_and_shared(prepared, batch)
    assert together == alone
    # Sharing happened: one block per signal setting, as wide as its widest gathered top_n.
    assert len(shared.closes) == 2
    assert all(block.shape[1] == 8 for block in shared.closes.values())


def _fallback_market():
    """Twelve symbols; in January S00 has the best signal, S01 the second. S00 has no
    close on Monday 2022-01-31 (the entry): top 1 holds cash in February, top 3 holds
    S01 and S02 in the same first column."""
    symbols = [f"S{i:02d}" for i in range(12)]
    rows = [
        (day.strftime("%Y-%m-%d"), s, 10.0 * (12 - i), 100.0)
        for day in pd.date_range("2022-01-01", "2022-02-28")
        for i, s in enumerate(symbols)
    ]
    days = pd.bdate_range("2022-01-03", "2022-03-31")
    t = np.arange(len(days), dtype=float)
    columns = {s: 100.0 * (1.0 + 0.001 * (i + 1)) ** t for i, s in enumerate(symbols)}
    columns["S00"][days.get_loc(pd.Timestamp("2022-01-31"))] = np.nan
    columns["QQQ"] = 300.0 * 1.0005**t
    return market(sentiment_frame(rows), price_frame([d.strftime("%Y-%m-%d") for d in days], columns))


def test_a_narrow_selection_that_fell_back_to_cash_gathers_its_own_closes() -> None:
    prepared = prepare(_fallback_market())
    batch = [StrategyParams(top_n=n, cost_bps=10.0) for n in (1, 3)]
    alone, together, shared = _alone_and_shared(prepared, batch)
    assert together == alone
    narrow = shared.plan(batch[0])
    weights = np.where(narrow.held_mask, 1.0, 0.0)
    weights[~narrow.held_mask.any(axis=1), 0] = 1.0  # a cash segment holds cash at 1
    assert (narrow.held[:, 0] == prepared.n_symbols).any()  # February in cash ...
    assert shared.gathered(batch[0], narrow, weights) is None  # ... so no shared block
    wide = shared.plan(batch[1])
    assert shared.gathered(batch[1], wide, np.where(wide.held_mask, 1 / 3, 0.0)) is not None
