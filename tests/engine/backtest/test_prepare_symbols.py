"""Symbol codes from the sentiment's symbol column, whatever its storage: Arrow strings
in one chunk or several (a long CSV or a pd.concat gives several), object, categorical;
with symbols that have no prices among them. Every storage gives the same backtest."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from engine import MarketData, SourceInfo, StrategyParams, run_backtest
from engine.data.demo import demo_frames

SOURCE = SourceInfo(kind="demo", label="symbol storage test", synthetic=True)


def _digest(result) -> str:
    parts = [
        result.returns.to_numpy().tobytes(),
        result.holdings.to_csv().encode(),
        repr(result.warnings).encode(),
    ]
    return hashlib.sha256(b"".join(parts)).hexdigest()


def _frames(drop_prices: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    sentiment, prices = demo_frames(seed=2, n_symbols=20, years=2)
    if drop_prices:  # three sentiment symbols without prices (failed tickers)
        prices = prices.drop(columns=list(prices.columns[1:4]))
    return sentiment, prices


def _with_symbols(sentiment: pd.DataFrame, storage: str) -> pd.DataFrame:
    out = sentiment.copy()
    if storage == "chunked":
        half = len(out) // 2
        out = pd.concat([out.iloc[:half], out.iloc[half:]], ignore_index=True)
        chunks = pa.array(out["symbol"].array)
        assert isinstance(chunks, pa.ChunkedArray) and chunks.num_chunks > 1  # the case under test
    elif storage == "object":
        out["symbol"] = out["symbol"].astype(object)
    elif storage == "category":
        out["symbol"] = out["symbol"].astype("category")
    return out


@pytest.mark.parametrize("drop_prices", [False, True])
def test_every_symbol_storage_gives_the_same_backtest(drop_prices: bool) -> None:
    sentiment, prices = _frames(drop_prices)
    digests = {}
    for storage in ("plain", "chunked", "object", "category"):
        data = MarketData.build(sentiment=_with_symbols(sentiment, storage), prices=prices, source=SOURCE)
        digests[storage] = _digest(run_backtest(data, StrategyParams(top_n=5)))
    assert len(set(digests.values())) == 1, digests
    assert np.isfinite(run_backtest(data, StrategyParams(top_n=5)).returns["portfolio"]).any()
