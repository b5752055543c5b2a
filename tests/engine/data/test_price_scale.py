"""A price's scale changes nothing: closes of 1e-9 moving 2% a day are read as the same
closes 1e9 times larger. Repeated closes were found with an absolute tolerance (1e-10), so
every move of such a price was a "repeat": the NYSE holidays on which it traded were
dropped as filled-forward rows (a token's weekends as "only BTC-USD has a new price"),
and its volatility came out 91% instead of 70%."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import load_prices_file
from engine.dispersion import same_price


def _prices(scale: float) -> bytes:
    """Business days Nov 2021 - Feb 2022, NYSE holidays included, every close moving
    (a market that traded on them: they are trading days at any scale)."""
    days = pd.bdate_range("2021-11-01", "2022-02-28")
    rng = np.random.default_rng(7)
    closes = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, (len(days), 2)), axis=0) * scale
    rows = "".join(f"{d.date()},{float(a)!r},{float(b)!r}\n" for d, (a, b) in zip(days, closes, strict=True))
    return ("date,AAA,QQQ\n" + rows).encode()


def test_a_tiny_price_keeps_its_days_as_the_same_price_scaled_up() -> None:
    """At 1e-10 the holidays' moves (~2e-12) were under the absolute tolerance: Thanksgiving,
    Christmas, New Year, MLK day and Presidents' Day were dropped as filled-forward rows."""
    reference, _ = load_prices_file(_prices(1.0), name="p.csv")
    for scale in (1e-10, 1e-14, 1e-300, 1e12):
        scaled, report = load_prices_file(_prices(scale), name="p.csv")
        assert list(scaled.index) == list(reference.index) and not report.dropped
        np.testing.assert_allclose(
            scaled.pct_change().to_numpy()[1:], reference.pct_change().to_numpy()[1:], rtol=1e-9
        )


@pytest.mark.parametrize("scale", [1e-12, 1e-9, 1.0, 1e6, 1e12])
def test_same_price_is_relative(scale: float) -> None:
    assert same_price(10.1 * scale, 10.100000000000001 * scale)
    assert not same_price(1.05 * scale, 1.0 * scale)
    assert not same_price(np.nan, np.nan) and same_price(np.inf, np.inf)
