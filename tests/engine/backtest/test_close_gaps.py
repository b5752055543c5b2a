"""The warnings about a held symbol that stops trading inside a segment: the vectorised
search finds exactly what a loop over the segments finds, in the same order."""

from __future__ import annotations

import numpy as np
import pytest

from engine import MarketData, StrategyParams, prepare
from engine.backtest.plan import _close_gaps, _plan
from tests.engine._frames import random_market


def _loop_gaps(prepared, plan) -> list[tuple[int, int, int]]:
    out = []
    for k in range(len(plan.entry)):
        mask = plan.held_mask[k]
        if not mask.any():
            continue
        cols = plan.held[k, mask]
        e, f = int(plan.entry[k]), int(plan.end[k])
        gap = prepared.has_close[e:f, cols] & ~prepared.has_close[e + 1 : f + 1, cols]
        out.extend((k, e + int(d) + 1, int(cols[j])) for d, j in zip(*np.nonzero(gap), strict=True))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_close_gaps_match_a_loop_over_segments(seed: int) -> None:
    base = random_market(seed=seed, n_symbols=25)
    rng = np.random.default_rng(seed)
    prices = base.prices.copy()
    holes = rng.random(prices.shape) < 0.03  # missing closes anywhere, some on entry days
    prices = prices.mask(holes)
    data = MarketData.build(sentiment=base.sentiment, prices=prices, source=base.source)
    prepared = prepare(data)
    for params in (StrategyParams(top_n=5), StrategyParams(top_n=3, rebalance="weekly", lag_days=1)):
        plan = _plan(prepared, params)
        expected = _loop_gaps(prepared, plan)
        assert expected  # the holes do fall inside holdings
        assert _close_gaps(prepared, plan) == expected
