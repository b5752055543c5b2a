"""``compute_metrics`` calls numpy's reductions without their wrappers: every metric must
keep the bits of the straightforward numpy code it replaced (``_reference_metrics.py``,
the module as it was, using np.mean / np.std / np.prod), on any input."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import compute_metrics
from tests.engine.analytics import _reference_metrics as reference


def _bits(metrics: dict[str, float]) -> dict[str, str]:
    return {k: "nan" if math.isnan(v) else float(v).hex() for k, v in metrics.items()}


@st.composite
def _series(draw) -> tuple[np.ndarray, np.ndarray | None, float, np.ndarray | None]:
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(0, 400))
    kind = draw(st.sampled_from(["normal", "constant", "rounded", "huge", "tiny", "zeros"]))
    rng = np.random.default_rng(seed)
    r = {
        "normal": rng.normal(0.0005, 0.02, n),
        "constant": np.full(n, 0.001),
        "rounded": np.round(np.full(n, 1.0003) ** np.arange(n), 6),
        "huge": rng.normal(0, 1e150, n),
        "tiny": rng.normal(0, 1e-300, n),
        "zeros": np.where(rng.random(n) < 0.5, 0.0, -0.0),
    }[kind]
    if kind == "rounded" and n > 1:
        r = r[1:] / r[:-1] - 1.0
    if draw(st.booleans()) and r.size:
        r = r.copy()
        r[rng.random(r.size) < 0.05] = np.nan
    benchmark = None
    if draw(st.booleans()):
        benchmark = rng.normal(0.0004, 0.015, r.size)
        if draw(st.booleans()) and r.size:
            benchmark[: r.size // 3] = np.nan  # the benchmark starts later
        if draw(st.booleans()):
            benchmark[:] = 0.002  # no dispersion: no beta
    risk_free = draw(st.sampled_from([0.0, -0.0, 0.02, 0.05, -0.01]))
    turnover = rng.random(draw(st.integers(0, 20))) if draw(st.booleans()) else None
    return r, benchmark, risk_free, turnover


@settings(max_examples=400, deadline=None)
@given(case=_series())
def test_metrics_keep_the_bits_of_the_numpy_reference(case) -> None:
    r, benchmark, risk_free, turnover = case
    expected = reference.compute_metrics(r, benchmark, risk_free=risk_free, turnover=turnover)
    actual = compute_metrics(r, benchmark, risk_free=risk_free, turnover=turnover)
    assert _bits(actual) == _bits(expected)
