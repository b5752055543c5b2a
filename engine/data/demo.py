"""Deterministic synthetic market: the embedded default data set (clearly labelled SYNTHETIC).

Prices come from a factor model on business days: log return of symbol i on day t is
``drift_i + beta_i * market_t + gamma_i * sector_{s(i),t} + idio_{i,t}`` with
Student-t (fat-tailed) idiosyncratic shocks, total annual volatilities drawn in
[16%, 58%]. The benchmark ``QQQ`` follows the market factor. A few symbols list late or
delist mid-sample so that the missing-data paths of the backtest are exercised.

Sentiment covers the last ~2 calendar years (weekends included, as in the seed data):
a latent per-symbol attention process (AR(1) in logs, plus spikes on big price moves)
drives heavy-tailed posts, likes, comments and impressions; about 20% of symbol-days
are missing and ``twitterSentiment`` is NaN in about 15% of rows.

Everything is a pure function of ``(seed, n_symbols, years, end)`` and cached, so the
same arguments always give identical frames (and the same fingerprint).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from engine.data.prices import select_prices
from engine.data.types import COUNT_COLUMNS, SENTIMENT_COLUMNS, TRADING_DAYS, SourceInfo, ValidationReport
from engine.data.validation import sentiment_report
from engine.errors import ParameterError, short_repr

BENCHMARK = "QQQ"
SECTORS: tuple[str, ...] = (
    "Synthetic Tech",
    "Synthetic Health",
    "Synthetic Finance",
    "Synthetic Energy",
    "Synthetic Retail",
    "Synthetic Industrials",
    "Synthetic Media",
    "Synthetic Utilities",
    "Synthetic Materials",
    "Synthetic Telecom",
)
# Made-up symbols: an unusual two-letter head (Z/Q/X/J/V...) plus a two-letter tail.
# Fixed lists (not random) so the symbol set never depends on the seed.
_HEADS = (
    "ZO",
    "QU",
    "XA",
    "ZE",
    "VY",
    "JU",
    "KO",
    "ZA",
    "XI",
    "QA",
    "WY",
    "JO",
    "VU",
    "KY",
    "ZI",
    "XO",
    "QE",
    "VO",
    "JA",
    "KU",
    "ZY",
    "XU",
    "WO",
    "QI",
    "JY",
)
_TAILS = (
    "RK",
    "NX",
    "LT",
    "VR",
    "MZ",
    "PX",
    "DQ",
    "BL",
    "GX",
    "TZ",
    "FK",
    "RQ",
    "NZ",
    "LX",
    "VK",
    "MQ",
    "PZ",
    "DX",
    "BQ",
    "GZ",
    "TK",
    "FX",
    "RZ",
    "NQ",
    "LK",
)
MAX_SYMBOLS = len(_HEADS) * len(_TAILS)  # 625

SENTIMENT_DAYS = 730  # calendar days of sentiment at the end of the sample
MARKET_VOL = 0.18  # annual
SECTOR_VOL = 0.12
MISSING_DAY_SHARE = 0.20  # symbol-days without a sentiment row
SENTIMENT_NAN_SHARE = 0.15  # rows with an empty twitterSentiment, as in the seed file


def demo_symbols(n_symbols: int) -> tuple[str, ...]:
    """The first ``n_symbols`` made-up tickers (sorted)."""
    pairs = sorted(
        itertools.product(range(len(_HEADS)), range(len(_TAILS))), key=lambda p: (p[0] + p[1], p[0])
    )
    return tuple(sorted(_HEADS[h] + _TAILS[t] for h, t in pairs[:n_symbols]))


def demo_sectors(n_symbols: int) -> dict[str, str]:
    """Symbol -> synthetic sector name (round robin over ``SECTORS``)."""
    return {symbol: SECTORS[i % len(SECTORS)] for i, symbol in enumerate(demo_symbols(n_symbols))}


def check_demo_arguments(seed: int, n_symbols: int, years: int, end: str) -> pd.Timestamp:
    """Validate the generator's arguments; return ``end`` as a Timestamp."""
    for name, value, low, high in (
        ("seed", seed, 0, 2**32 - 1),
        ("n_symbols", n_symbols, 2, MAX_SYMBOLS),
        ("years", years, 1, 30),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ParameterError(
                f"demo {name} must be an integer from {low} to {high}, got {short_repr(value)}"
            )
    try:
        stamp = pd.Timestamp(end)
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"demo end must be a date (YYYY-MM-DD), got {short_repr(end)}") from exc
    if pd.isna(stamp):
        raise ParameterError(f"demo end must be a date (YYYY-MM-DD), got {short_repr(end)}")
    return stamp.normalize()


def demo_frames(
    seed: int = 7, n_symbols: int = 100, years: int = 5, end: str = "2023-12-29"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sentiment, prices) of the synthetic market; copies of a cached result."""
    sentiment, prices = _cached_frames(seed, n_symbols, years, end)
    return sentiment.copy(), prices.copy()  # copy-on-write: cheap, and protects the cache


@functools.lru_cache(maxsize=8)
def _cached_frames(seed: int, n_symbols: int, years: int, end: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    end_stamp = check_demo_arguments(seed, n_symbols, years, end)
    rng = np.random.default_rng(seed)
    symbols = demo_symbols(n_symbols)
    dates = pd.bdate_range(end=end_stamp, periods=years * TRADING_DAYS, name="date").as_unit("ns")
    log_returns, market = _factor_returns(rng, len(dates), n_symbols)
    listed = _listing_mask(rng, len(dates), n_symbols)
    prices = _prices_frame(rng, dates, symbols, log_returns, market, listed)
    sentiment = _sentiment_frame(rng, dates, symbols, log_returns, listed)
    return sentiment, prices


def _elementwise(fn: Callable[[float], float], x: np.ndarray) -> np.ndarray:
    """``fn`` of each element, shape kept. Why not numpy's ufunc: numpy picks its exp, log
    and tanh by the CPU (its AVX-512 code on machines that have it, the C library's
    elsewhere), and their last bits differ, so the synthetic data set, its fingerprint and
    every number pinned on it would depend on the machine. The C library's functions
    (Python's ``math``) give the same bits on every x86-64 machine with FMA."""
    values = np.asarray(x, dtype=np.float64)
    return np.fromiter(map(fn, values.ravel().tolist()), dtype=np.float64, count=values.size).reshape(
        values.shape
    )


def _exp(x: np.ndarray) -> np.ndarray:
    return _elementwise(math.exp, x)


def _factor_returns(rng: np.random.Generator, n_days: int, n_symbols: int) -> tuple[np.ndarray, np.ndarray]:
    """Daily log returns (days x symbols) and the market factor (days,)."""
    daily = np.sqrt(TRADING_DAYS)
    total_vol = rng.uniform(0.16, 0.58, n_symbols)
    r_squared = rng.uniform(0.25, 0.60, n_symbols)  # share of variance explained by factors
    beta = np.sqrt(0.7 * r_squared) * total_vol / MARKET_VOL
    gamma = np.sqrt(0.3 * r_squared) * total_vol / SECTOR_VOL
    idio_vol = np.sqrt(1.0 - r_squared) * total_vol
    annual_drift = rng.normal(0.07, 0.08, n_symbols)

    market = rng.standard_normal(n_days) * MARKET_VOL / daily
    sector_shocks = rng.standard_normal((n_days, len(SECTORS))) * SECTOR_VOL / daily
    sector_of = np.arange(n_symbols) % len(SECTORS)
    dof = 4.0  # Student-t tails, rescaled to unit variance
    idio = rng.standard_t(dof, (n_days, n_symbols)) / np.sqrt(dof / (dof - 2.0)) * (idio_vol / daily)
    # Ito correction so that annual_drift is the expected simple return, not the log return.
    drift = (annual_drift - 0.5 * total_vol**2) / TRADING_DAYS
    log_returns = drift + market[:, None] * beta + sector_shocks[:, sector_of] * gamma + idio
    return log_returns, market


def _listing_mask(rng: np.random.Generator, n_days: int, n_symbols: int) -> np.ndarray:
    """True where the symbol trades; ~5% list late, ~3% delist (at least one of each)."""
    listed = np.ones((n_days, n_symbols), dtype=bool)
    order = rng.permutation(n_symbols)
    n_late = max(1, round(0.05 * n_symbols))
    n_delisted = max(1, round(0.03 * n_symbols))
    day = np.arange(n_days)[:, None]
    late = order[:n_late]
    listed[:, late] &= day >= rng.integers(n_days // 10, n_days // 2, n_late)
    gone = order[n_late : n_late + n_delisted]
    listed[:, gone] &= day < rng.integers(n_days // 2, n_days - n_days // 10, n_delisted)
    return listed


def _prices_frame(
    rng: np.random.Generator,
    dates: pd.DatetimeIndex,
    symbols: tuple[str, ...],
    log_returns: np.ndarray,
    market: np.ndarray,
    listed: np.ndarray,
) -> pd.DataFrame:
    start_price = _exp(rng.uniform(math.log(5.0), math.log(400.0), len(symbols)))
    closes = start_price * _exp(np.cumsum(log_returns, axis=0))
    closes[~listed] = np.nan
    # The benchmark: a market-factor tracker with a little tracking noise, 1.1 beta like QQQ.
    daily = np.sqrt(TRADING_DAYS)
    bench_log = (0.10 - 0.5 * (1.1 * MARKET_VOL) ** 2) / TRADING_DAYS + 1.1 * market
    bench_log = bench_log + rng.standard_normal(len(market)) * 0.02 / daily
    frame = pd.DataFrame(closes, index=dates, columns=list(symbols))
    frame[BENCHMARK] = 300.0 * _exp(np.cumsum(bench_log))
    frame = frame[sorted(frame.columns)].astype("float64")
    return frame


def _sentiment_frame(
    rng: np.random.Generator,
    dates: pd.DatetimeIndex,
    symbols: tuple[str, ...],
    log_returns: np.ndarray,
    listed: np.ndarray,
) -> pd.DataFrame:
    n_symbols = len(symbols)
    days = pd.date_range(end=dates[-1], periods=SENTIMENT_DAYS, freq="D").astype("datetime64[ns]")
    days = days[days >= dates[0]]  # a short sample: no chatter before the first close
    # Map each calendar day to the last business day at or before it (its latest close).
    position = np.clip(dates.searchsorted(days, side="right") - 1, 0, len(dates) - 1)
    shock = np.abs(log_returns[position]) * np.sqrt(TRADING_DAYS)  # annualised size of the move
    trades = listed[position]

    attention = _attention(rng, len(days), n_symbols) + 0.6 * np.minimum(
        shock, 3.0
    )  # big moves draw attention
    base_posts = rng.lognormal(math.log(150.0), 1.2, n_symbols)  # heavy tail across names
    posts = np.maximum(21.0, np.round(base_posts * _exp(attention + rng.normal(0, 0.35, attention.shape))))
    likes = np.round(posts * rng.lognormal(math.log(18.0), 1.3, attention.shape))
    comments = np.round(likes * rng.lognormal(math.log(0.2), 0.9, attention.shape))
    impressions = np.round(posts * rng.lognormal(math.log(5000.0), 0.7, attention.shape))
    recent = _elementwise(math.tanh, log_returns[position] * 20.0)
    sentiment = np.clip(rng.normal(0.54 + 0.04 * recent, 0.065), 0.0, 1.0)
    sentiment[rng.random(sentiment.shape) < SENTIMENT_NAN_SHARE] = np.nan

    present = trades & (rng.random(attention.shape) >= MISSING_DAY_SHARE)
    day_index, symbol_index = np.nonzero(present)  # row-major: sorted by (date, symbol)
    columns = {
        "date": days[day_index],
        "symbol": np.asarray(symbols, dtype=object)[symbol_index],
        "twitterPosts": posts[present],
        "twitterComments": comments[present],
        "twitterLikes": likes[present],
        "twitterImpressions": impressions[present],
        "twitterSentiment": sentiment[present],
    }
    frame = pd.DataFrame(columns, columns=list(SENTIMENT_COLUMNS))
    frame["symbol"] = frame["symbol"].astype(str)
    return frame.astype({name: "float64" for name in COUNT_COLUMNS})


def _attention(rng: np.random.Generator, n_days: int, n_symbols: int) -> np.ndarray:
    """Latent log-attention: a shared AR(1) buzz plus a per-symbol AR(1), stationary variance."""
    phi = 0.9
    scale = np.sqrt(1.0 - phi**2)
    shocks = rng.standard_normal((n_days, n_symbols + 1)) * scale
    shocks[0] /= scale  # start in the stationary distribution
    path = np.empty_like(shocks)
    path[0] = shocks[0]
    for day in range(1, n_days):  # a recursion over days on a vector, not a pandas loop
        path[day] = phi * path[day - 1] + shocks[day]
    return 0.3 * path[:, :1] + 0.5 * path[:, 1:]


class DemoProvider:
    """The embedded synthetic data set (``DataProvider``); always labelled SYNTHETIC."""

    def __init__(
        self, *, seed: int = 7, n_symbols: int = 100, years: int = 5, end: str = "2023-12-29"
    ) -> None:
        check_demo_arguments(seed, n_symbols, years, end)
        self.seed, self.n_symbols, self.years, self.end = seed, n_symbols, years, end

    @property
    def info(self) -> SourceInfo:
        return SourceInfo(
            kind="demo",
            label=f"Demo data (SYNTHETIC, seed {self.seed})",
            synthetic=True,
            detail=(
                f"{self.n_symbols} made-up symbols in {len(SECTORS)} sectors, {self.years} years of "
                f"factor-model prices to {self.end}, benchmark {BENCHMARK} (synthetic)"
            ),
        )

    @property
    def sectors(self) -> dict[str, str]:
        return demo_sectors(self.n_symbols)

    def sentiment(self) -> tuple[pd.DataFrame, ValidationReport]:
        sentiment, _ = demo_frames(self.seed, self.n_symbols, self.years, self.end)
        return sentiment, sentiment_report(sentiment, rows_read=len(sentiment))

    def prices(
        self, symbols: Sequence[str], start: dt.date | None, end: dt.date | None
    ) -> tuple[pd.DataFrame, ValidationReport]:
        _, prices = demo_frames(self.seed, self.n_symbols, self.years, self.end)
        return select_prices(prices, symbols, start, end)
