"""The compiled reductions behind ``compute_metrics`` have numpy's bits: the pairwise sum
at every length (the 8-lane blocks and the split tree above 128 numbers), signed zeros,
and the long series a backtest gives (``test_metrics_bits.py`` checks the metrics)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import compute_metrics
from engine.analytics.nb_metrics import PAIRWISE_BLOCK, _sum, pairwise_plan, pairwise_planned
from tests.engine.analytics import _reference_metrics as reference


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.one_of(st.integers(0, 300), st.integers(300, 6000)),
    zeros=st.booleans(),
)
def test_sum_is_np_add_reduce(seed: int, n: int, zeros: bool) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) * 10.0 ** rng.uniform(-8, 8, n)
    if zeros:
        x[rng.random(n) < 0.5] = -0.0
    assert float(_sum(x, n)).hex() == float(np.add.reduce(x)).hex()


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.one_of(st.integers(1, 300), st.integers(300, 6000)),
    zeros=st.booleans(),
)
def test_a_planned_sum_is_np_add_reduce(seed: int, n: int, zeros: bool) -> None:
    """``pairwise_planned`` on ``pairwise_plan(n)`` (the tree walked once, as the turnover
    rows of a simulation share it) gives numpy's bits, signed zeros included."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) * 10.0 ** rng.uniform(-8, 8, n)
    if zeros:
        x[rng.random(n) < 0.5] = -0.0
    plan = pairwise_plan(n)
    assert (
        float(0.0 + pairwise_planned(x, plan, np.empty(plan.shape[0]))).hex() == float(np.add.reduce(x)).hex()
    )


def test_a_plan_lists_the_leaves_of_numpys_split_in_order() -> None:
    """502 numbers (a 500-symbol turnover row) split at 248, then 120 | 128 and 120 | 134,
    and 134 at 64: five leaves of at most ``PAIRWISE_BLOCK``, four additions, in the
    recursion's order (left subtree first, then right, then their sum)."""
    assert pairwise_plan(502).tolist() == [
        [0, 120],
        [120, 128],
        [-1, 0],
        [248, 120],
        [368, 64],
        [432, 70],
        [-1, 0],
        [-1, 0],
        [-1, 0],
    ]
    assert pairwise_plan(PAIRWISE_BLOCK).tolist() == [[0, PAIRWISE_BLOCK]]


def test_all_negative_zeros_sum_to_positive_zero() -> None:
    x = np.full(9, -0.0)
    assert math.copysign(1.0, _sum(x, 9)) == 1.0 == math.copysign(1.0, np.add.reduce(x))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(500, 3000), gaps=st.booleans())
def test_long_series_metrics_keep_the_reference_bits(seed: int, n: int, gaps: bool) -> None:
    """A backtest's length (the bit test above stops at 400 days)."""
    rng = np.random.default_rng(seed)
    r = rng.normal(0.0004, 0.015, n)
    b = rng.normal(0.0003, 0.012, n)
    if gaps:
        r[rng.random(n) < 0.02] = np.nan
        b[: n // 4] = np.nan
    turnover = rng.random(n // 21)

    def bits(m: dict[str, float]) -> dict[str, str]:
        return {k: "nan" if math.isnan(v) else v.hex() for k, v in m.items()}

    for rf in (0.0, 0.03):
        assert bits(compute_metrics(r, b, risk_free=rf, turnover=turnover)) == bits(
            reference.compute_metrics(r, b, risk_free=rf, turnover=turnover)
        )
