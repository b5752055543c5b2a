"""Does the signal predict the next holding period's return? IC, quantile portfolios, coverage.

Calendar and universe are the backtest's own (``engine.backtest.plan``,
``engine.backtest.base``): the holding periods, their entry closes and the holdability of
each symbol come from the backtest's plan and ``eligible_symbols_by_period``, never from a
second calendar. For holding
period k (bought at the entry close ``e_k``, held until the next entry close ``e_{k+1}``;
the last one until the backtest's last day when that close is after it):

- The *observations* of period k are the symbols eligible for it (a signal from the
  formation period, after thresholds, aggregation, transform) and holdable at ``e_k``
  (as the backtest decides it). Other parameters (top N, weighting, costs, benchmark) do
  not enter.
- The *forward return* of symbol s is ``P_s(e_{k+1}) / P_s(e_k) - 1`` on the backtest's
  forward-filled adjusted closes: a symbol whose prices end inside the period is cash at
  its last close, as the backtest's sleeve is. No costs. A period whose next entry close
  is after the backtest's last day (the last price day or ``end``) is *incomplete*: its
  return days in the data (none for an entry at the last day) are not a holding period, so
  it has no forward return (NaN, as alphalens' ``compute_forward_returns`` leaves a horizon
  that is not complete, dropping the date) and is left out of the IC, the IC decay and the
  quantiles (labels, returns, spread, turnover), counted in ``horizon_note``. A finished period's statistics never change with
  later data; an incomplete one is completed by them.
- Horizon h (IC decay): the signal of period k against the forward return of period
  ``k + h - 1`` of the same observations (horizon 1 is the next holding period). At
  h >= 2 an observation whose symbol is not holdable at ``e_{k+h-1}`` (no close on that
  entry day, the backtest's ``holdable_at``) has no forward return there and is left out
  of that period's IC (as alphalens' NaN forward returns are), not given 0 from its
  carried close; horizon 1 keeps the rule above (observations are holdable at ``e_k``).
- **Information coefficient** (Grinold & Kahn, *Active Portfolio Management*, 2nd ed.,
  ch. 6; alphalens' ``factor_information_coefficient``): Spearman's rank correlation of
  signal and forward return over the period's observations (average ranks for ties);
  NaN with fewer than ``min_symbols`` observations or a constant side. Summary over the
  periods with an IC: mean, standard deviation (``ddof=1``; 0 when negligible by
  ``engine.dispersion.negligible_dispersion``, and then the ratios are NaN), IC information ratio =
  mean / std, t-statistic = mean / std * sqrt(n) (``scipy.stats.ttest_1samp``), share of
  periods with IC > 0. Rolling mean over ``rolling_window`` periods (full windows only).
- **Quantiles** (complete periods only; pandas ``qcut`` of the period's signal values, as
  alphalens' ``quantize_factor``, in exact arithmetic: ``quantile_labels``): with the n values sorted
  ascending at positions ``0..n-1``, a value first at position ``a`` is in quantile
  ``max(1, ceil(a Q / (n - 1)))``; equal values (up to rounding, ``snap_ties``) are never
  split between quantiles (splitting them by the alphabet made a constant signal's spread
  and t-statistic measure the ticker names). Q = the requested number in every period
  (alphalens' fixed ``quantiles``); a period with fewer than Q observations, or whose ties
  leave no Q quantiles each holding a value (``qcut``'s equal edges, which alphalens
  drops, or an empty quantile), is left out of the quantile statistics by its own data
  only (counted in ``quantile_note``), so a period's quantiles never depend on other
  periods (a Q chosen on the whole sample changed finished periods' labels when later
  data were cut). A constant signal forms no quantiles. Quantile Q holds the highest
  signals (what the strategy buys).
- Quantile portfolio return of a period: the equal-weight mean of its members' forward
  returns; cumulative return: compounded over the periods (a left-out period counts 0).
  Spread = top minus bottom quantile return per period; its mean, std (``ddof=1``, 0
  when negligible, as the IC's) and t-statistic mean / std * sqrt(n). Top-quantile turnover (alphalens'
  ``quantile_turnover``): share of the period's top-quantile symbols that were not in the
  previous period's top quantile.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from engine.backtest.base import eligible_symbols_by_period, no_period_warnings
from engine.backtest.plan import _iso, _plan, entry_closes, holdable_at, untraded_warnings
from engine.backtest.prepare import PreparedData, as_prepared
from engine.backtest.result import Manifest
from engine.data.types import MarketData
from engine.dispersion import negligible_dispersion, zero_within_rounding
from engine.errors import ParameterError, short_repr
from engine.strategy.params import StrategyParams
from engine.strategy.signals import period_last_day, snap_ties

_NS = "datetime64[ns]"
MAX_QUANTILES = 20
MAX_HORIZONS = 24
# What each CSV of a signal analysis holds: the ``content`` line of its header
# (engine.export): the CLI's two --out files and the Signal page's one download.
SIGNAL_EXPORT_CONTENT: Mapping[str, str] = MappingProxyType(
    {
        "signal_ic": "signal analysis: one row per holding period (IC, coverage, spread, turnover)",
        "signal_quantile_returns": "signal analysis: mean next-period return of each signal quantile "
        "(q1 lowest) per holding period",
        "signal_analysis": "signal analysis: one row per holding period (IC, coverage, spread, quantile returns)",
    }
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SignalAnalysisSettings:
    """``quantiles``: Q (2..20, default 5); ``horizons``: IC decay horizons 1..h (1..24,
    default 3); ``rolling_window``: periods of the rolling mean IC (2..120, default 6);
    ``min_symbols``: observations a period needs for an IC (3..1000, default 3)."""

    quantiles: int = 5
    horizons: int = 3
    rolling_window: int = 6
    min_symbols: int = 3

    def __post_init__(self) -> None:
        for name, low, high in (
            ("quantiles", 2, MAX_QUANTILES),
            ("horizons", 1, MAX_HORIZONS),
            ("rolling_window", 2, 120),
            ("min_symbols", 3, 1000),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ParameterError(
                    f"{name} must be a whole number from {low} to {high}; got {short_repr(value)}"
                )


@dataclasses.dataclass(frozen=True, kw_only=True)
class SignalAnalysis:
    """Signal analysis of one set of signal settings (see the module docstring).

    - ``periods``: one row per holding period (K rows): ``formation_end``, ``entry_date``
      (close bought at), ``next_entry_date`` (close the period ends at; NaT for an
      incomplete period, whose next entry close is not in the data or after ``end``),
      ``complete`` (the forward return reaches the next entry close), ``n_eligible``
      (symbols with a signal and a close on the entry day, as the backtest's ``periods``),
      ``n_observations`` (those with a forward return, or every one for an incomplete period), ``ic``,
      ``ic_rolling_mean``, ``spread`` (top minus bottom quantile return), ``top_turnover``.
    - ``observations``: one row per (period, symbol): ``entry_date``, ``symbol``,
      ``signal``, ``forward_return``, ``signal_quantile`` (1..Q; 0 when the period is left out).
    - ``ic_summary``: ``mean_ic``, ``ic_std``, ``ic_ir``, ``t_stat``, ``share_positive``, ``n_periods``.
    - ``ic_decay``: one row per horizon 1..h: ``horizon``, the same statistics.
    - ``quantile_returns``: K x Q mean forward return of each quantile (columns 1..Q, index
      ``entry_date``; NaN for a left-out period); ``cumulative_returns``: the same
      compounded (value - 1 after each period).
    - ``quantile_summary``: one row per quantile: ``quantile``, ``mean_return``,
      ``cumulative_return``, ``mean_count`` (symbols per period), ``n_periods``.
    - ``spread_summary``: ``mean``, ``std``, ``t_stat``, ``n_periods``, ``cumulative_return``
      (of the long-top, short-bottom spread compounded per period).
    - ``quantiles`` (formed: the requested number, 0 when no period forms them: too few
      observations or ties in every period, a constant signal for one),
      ``quantiles_requested``, ``quantile_note`` (None when every period formed the Q
      quantiles), ``horizon_note`` (None when every period is complete: the incomplete
      period's return days in the data, and that it is left out), ``top_turnover`` (mean
      over periods).
    - ``signal_summary``: distribution of the signal over all observations: ``count``,
      ``mean``, ``std``, ``min``, ``p05``, ``p25``, ``median``, ``p75``, ``p95``, ``max``.
    - ``warnings``, ``manifest`` (parameters and data fingerprint, for exports).
    """

    params: StrategyParams
    settings: SignalAnalysisSettings
    periods: pd.DataFrame
    observations: pd.DataFrame
    ic_summary: Mapping[str, float]
    ic_decay: pd.DataFrame
    quantile_returns: pd.DataFrame
    cumulative_returns: pd.DataFrame
    quantile_summary: pd.DataFrame
    spread_summary: Mapping[str, float]
    quantiles: int
    quantiles_requested: int
    quantile_note: str | None
    horizon_note: str | None
    top_turnover: float
    signal_summary: Mapping[str, float]
    warnings: tuple[str, ...]
    manifest: Manifest

    def export_extras(self) -> dict[str, Any]:
        """The lines of a CSV export of this analysis after the standard header
        (``engine.export.manifest_header`` of ``manifest``): the settings, the quantiles
        used and requested, and the quantile and horizon notes when there are."""
        extras: dict[str, Any] = {
            "settings": dataclasses.asdict(self.settings),
            "quantiles": self.quantiles,
            "quantiles_requested": self.quantiles_requested,
        }
        if self.quantile_note:
            extras["quantile_note"] = self.quantile_note
        if self.horizon_note:
            extras["horizon_note"] = self.horizon_note
        return extras


# ----- statistics ------------------------------------------------------------------------


def ic_statistics(ic: Any) -> dict[str, float]:
    """Mean, std (ddof=1), IC IR = mean / std, t = mean / std * sqrt(n), share > 0, n of
    the finite values of ``ic``."""
    values = np.asarray(ic, dtype=np.float64)
    values = values[np.isfinite(values)]
    n = values.size
    mean = float(values.mean()) if n else math.nan
    std = _std(values, mean)
    ir = mean / std if n >= 2 and std > 0 else math.nan
    return {
        "mean_ic": mean,
        "ic_std": std,
        "ic_ir": ir,
        "t_stat": ir * math.sqrt(n) if math.isfinite(ir) else math.nan,
        "share_positive": float(np.mean(values > 0)) if n else math.nan,
        "n_periods": float(n),
    }


def _std(values: np.ndarray, mean: float) -> float:
    """Sample std (ddof=1) of finite ``values``; 0 when it is negligible
    (``engine.dispersion.negligible_dispersion``: a spread of 1e-16 around a constant
    0.01 is rounding, not a t-statistic of 2e14); NaN below two values."""
    if values.size < 2:
        return math.nan
    std = float(values.std(ddof=1))
    return 0.0 if negligible_dispersion(std, mean, float(np.max(np.abs(values)))) else std


def _row_ranks(matrix: np.ndarray) -> np.ndarray:
    """Average ranks (1-based) within each row over the finite entries; NaN elsewhere."""
    return pd.DataFrame(matrix).rank(axis=1, method="average", na_option="keep").to_numpy(dtype=np.float64)


def rank_ic(signal: np.ndarray, returns: np.ndarray, min_symbols: int = 3) -> np.ndarray:
    """Spearman correlation per row of two (K x S) matrices over the entries finite in
    both: Pearson correlation of average ranks. NaN with fewer than ``min_symbols``
    entries or a constant side. Values of a row equal up to rounding
    (``engine.strategy.signals.snap_ties``, ``engine.dispersion.TIE_RTOL``) are one value
    (tied ranks): six symbols growing exactly 0.1% a day at different price scales have
    forward returns that differ in the last bits, which ranked gave an IC of noise."""
    both = np.isfinite(signal) & np.isfinite(returns)
    rs = _row_ranks(snap_ties(np.where(both, signal, np.nan)))
    rr = _row_ranks(snap_ties(np.where(both, returns, np.nan)))
    n = both.sum(axis=1)
    out = np.full(signal.shape[0], np.nan)
    count = np.maximum(n, 1)[:, None]
    rs, rr = np.where(both, rs, 0.0), np.where(both, rr, 0.0)
    ds = np.where(both, rs - rs.sum(axis=1, keepdims=True) / count, 0.0)
    dr = np.where(both, rr - rr.sum(axis=1, keepdims=True) / count, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (ds * dr).sum(axis=1)
        var = (ds * ds).sum(axis=1) * (dr * dr).sum(axis=1)
        ok = (n >= min_symbols) & (var > 0)
        out[ok] = cov[ok] / np.sqrt(var[ok])
    return np.clip(out, -1.0, 1.0)


def _constant_side_note(signal: np.ndarray, returns: np.ndarray, min_symbols: int) -> str | None:
    """The warning for periods with enough symbols whose IC is undefined because one side
    is constant across the symbols (equal up to rounding, ``snap_ties``: ``rank_ic``'s
    rule): their forward returns (symbols growing alike) or their signals. None when there
    is none. Without it the IC was n/a with no reason given."""
    both = np.isfinite(signal) & np.isfinite(returns)
    enough = both.sum(axis=1) >= min_symbols

    def flat(values: np.ndarray) -> np.ndarray:
        # every rank of the row equal: one value up to rounding (NaN off the common entries)
        ranks = _row_ranks(snap_ties(np.where(both, values, np.nan)))
        highest = np.nanmax(ranks, axis=1, initial=-np.inf)
        return enough & (highest <= np.nanmin(ranks, axis=1, initial=np.inf))

    flat_returns, flat_signal = flat(returns), flat(signal)
    parts = []
    if flat_returns.any():
        parts.append(f"{int(flat_returns.sum())} period(s) whose forward returns")
    if (flat_signal & ~flat_returns).any():
        parts.append(f"{int((flat_signal & ~flat_returns).sum())} period(s) whose signals")
    if not parts:
        return None
    return (
        f"No information coefficient for {' and '.join(parts)} are equal across the symbols (up to "
        "rounding): a constant side has no rank correlation (n/a, left out of the IC statistics)."
    )


def quantile_labels(signal: np.ndarray, quantiles: int) -> np.ndarray | None:
    """Quantile 1..Q of each of n values (Q = highest): pandas ``qcut`` of the values (as
    alphalens' ``quantize_factor``) in exact arithmetic; None where ``qcut`` cannot form Q
    quantiles that each hold a value: two equal edges (``qcut`` refuses, "Bin edges must be
    unique") or an empty quantile (fewer distinct values than Q, for one).

    With the values sorted ascending at positions ``0..n-1``, edge j of ``qcut`` sits at
    position ``j (n - 1) / Q``; edges j and j + 1 are equal when the values at
    ``floor(j (n - 1) / Q)`` and ``ceil((j + 1) (n - 1) / Q)`` are. A value whose first
    position among the sorted values is ``a`` is in quantile ``max(1, ceil(a Q / (n - 1)))``:
    equal values share a quantile, never split by their symbols' names. Values equal up to
    rounding must be equal already (``snap_ties``; the plan's signal is). Requires
    ``n >= quantiles >= 2``."""
    n = signal.size
    order = np.argsort(signal, kind="stable")
    ordered = signal[order]
    new_value = np.r_[True, ordered[1:] != ordered[:-1]]
    group = np.cumsum(new_value) - 1  # tie group of each sorted position
    j = np.arange(quantiles, dtype=np.int64)
    low = (j * (n - 1)) // quantiles  # floor of edge j's position
    high = -((-(j + 1) * (n - 1)) // quantiles)  # ceil of edge j + 1's position
    if np.any(group[low] == group[high]):
        return None
    first = np.flatnonzero(new_value)[group]  # first position of each position's tie group
    labels = np.empty(n, dtype=np.int64)
    labels[order] = np.maximum(-((-first * quantiles) // (n - 1)), 1)
    if np.bincount(labels, minlength=quantiles + 1)[1:].min() == 0:
        return None
    return labels


# ----- the backtest's calendar -----------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Calendar:
    entry: np.ndarray  # (K,) price-row index of each period's entry close
    end: np.ndarray  # (K,) price-row index of the close the period ends at (the next entry)
    next_entry: np.ndarray  # (K,) price-row index of the next entry close (>= len(dates): not in the data)
    formation_end: np.ndarray  # (K,) datetime64[D]
    signal: np.ndarray  # (K, S) signal, NaN = not eligible
    observed: np.ndarray  # (K, S) eligible and holdable at the entry

    @property
    def complete(self) -> np.ndarray:
        """(K,) True for a period that ends at its next entry close. The last period ends
        at the backtest's last day (the last price day or ``end``) when its next entry close
        is after it: incomplete (an entry at the last day, ``end == entry``, has no return
        day at all). Its forward return is missing (not a shorter one, nor 0), as alphalens'
        ``compute_forward_returns`` leaves a horizon that is not complete."""
        return (self.end == self.next_entry) & (self.end > self.entry)


def _calendar(prepared: PreparedData, params: StrategyParams) -> _Calendar:
    """Periods, entries and holdability exactly as the backtest computes them."""
    plan = _plan(prepared, params)
    members = eligible_symbols_by_period(prepared, params)
    k, n = len(plan.entry), prepared.n_symbols
    if len(members) != k:  # pragma: no cover  (a contract of the backtest module)
        raise RuntimeError("the backtest's plan and eligible symbols disagree on the periods")
    observed = np.zeros((k, n), dtype=bool)
    for i, (_, idx) in enumerate(members):
        observed[i, idx] = True
    signal = np.asarray(plan.signal, dtype=np.float64)
    observed &= np.isfinite(signal)
    # The plan ends each period at min(next entry close, last day); the next entry close is
    # the entry of the next formation period (the rule the plan uses: ``entry_closes``).
    next_entry = entry_closes(
        prepared.dates, np.asarray(plan.formation_key, dtype=np.int64) + 1, params.rebalance, params.lag_days
    )
    return _Calendar(
        entry=np.asarray(plan.entry, dtype=np.int64),
        end=np.asarray(plan.end, dtype=np.int64),
        next_entry=np.asarray(next_entry, dtype=np.int64),
        formation_end=period_last_day(np.asarray(plan.formation_key), params.rebalance),
        signal=signal,
        observed=observed,
    )


def _forward_returns(prepared: PreparedData, cal: _Calendar) -> np.ndarray:
    """(K, S) close at the period's end over close at its entry, minus 1; NaN for an
    incomplete period (``_Calendar.complete``)."""
    n = prepared.n_symbols
    p = prepared.prices[:, :n]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = p[cal.end] / p[cal.entry] - 1.0
    return np.where(np.isfinite(r) & cal.complete[:, None], r, np.nan)


# ----- the analysis ----------------------------------------------------------------------


def analyze_signal(
    data: MarketData | PreparedData,
    params: StrategyParams | None = None,
    *,
    settings: SignalAnalysisSettings | None = None,
) -> SignalAnalysis:
    """Information coefficient, IC decay, quantile portfolios and coverage of the signal
    chosen by ``params`` (signal, transform, thresholds, aggregation, rebalance, lag_days,
    start, end), on the backtest's calendar. ``data``: validated ``MarketData`` or its
    ``prepare``d arrays. Raises ``ParameterError`` for invalid settings."""
    params = params if params is not None else StrategyParams()
    settings = settings if settings is not None else SignalAnalysisSettings()
    if not isinstance(params, StrategyParams):
        raise ParameterError("params must be a StrategyParams")
    if not isinstance(settings, SignalAnalysisSettings):
        raise ParameterError("settings must be a SignalAnalysisSettings")
    prepared = as_prepared(data)
    cal = _calendar(prepared, params)
    forward = _forward_returns(prepared, cal)
    k = len(cal.entry)
    dates = prepared.dates
    entry_dates = pd.DatetimeIndex(dates[cal.entry].astype(_NS), name="entry_date")
    # An incomplete period keeps its observations (its symbols are known) with a missing
    # forward return; the statistics below use finite returns only.
    complete = cal.complete
    observed = cal.observed & (np.isfinite(forward) | ~complete[:, None])
    sig = np.where(observed, cal.signal, np.nan)
    warnings: list[str] = []
    if k == 0:
        warnings.extend(no_period_warnings(untraded_warnings(prepared, params)))

    # Information coefficient, its decay over horizons.
    ic = rank_ic(sig, np.where(observed, forward, np.nan), settings.min_symbols)
    # Horizon h reads period k + h - 1's forward return only for a symbol holdable at that
    # period's entry (a close on the entry day, the backtest's rule): one delisted before it
    # has no return there, not 0 from its carried close. At h = 1 ``observed`` already
    # requires it.
    held_forward = np.where(
        holdable_at(prepared, cal.entry, np.arange(prepared.n_symbols)[None, :]), forward, np.nan
    )
    decay_rows = []
    for h in range(1, settings.horizons + 1):
        ahead = np.full_like(forward, np.nan)
        if h - 1 < k:
            ahead[: k - (h - 1)] = held_forward[h - 1 :]
        ic_h = rank_ic(sig, np.where(observed, ahead, np.nan), settings.min_symbols)
        decay_rows.append({"horizon": h, **ic_statistics(ic_h)})
    ic_decay = pd.DataFrame(decay_rows, columns=["horizon", *ic_statistics([]).keys()])
    ic_decay["n_periods"] = ic_decay["n_periods"].astype(np.int64)
    rolling = pd.Series(ic).rolling(settings.rolling_window, min_periods=settings.rolling_window).mean()
    n_obs = observed.sum(axis=1)

    # Quantile portfolios.
    # Each period by its own observations only (a finished period's quantiles never change
    # with later data): too few for Q, or ties on a quantile edge, leave it out.
    period_labels: dict[int, np.ndarray] = {}
    # An incomplete period is left out before (as alphalens drops a date without a forward
    # return): no labels, and not counted in the quantile note (the horizon note counts it).
    split_ties = np.zeros(k, dtype=bool)
    for i in np.flatnonzero((n_obs >= settings.quantiles) & complete):
        found = quantile_labels(cal.signal[i, observed[i]], settings.quantiles)
        if found is None:
            split_ties[i] = True
        else:
            period_labels[int(i)] = found
    q_used, note, analysed_complete = _quantile_plan(
        n_obs[complete], settings.quantiles, split_ties[complete]
    )
    analysed = np.zeros(k, dtype=bool)
    analysed[complete] = analysed_complete
    labels = np.zeros(forward.shape, dtype=np.int64)
    q_returns = np.full((k, max(q_used, 1)), np.nan)
    q_counts = np.zeros((k, max(q_used, 1)))
    for i in np.flatnonzero(analysed):
        cols = np.flatnonzero(observed[i])
        lab = period_labels[int(i)]
        labels[i, cols] = lab
        sums = np.bincount(lab - 1, weights=forward[i, cols], minlength=q_used)
        counts = np.bincount(lab - 1, minlength=q_used)
        q_counts[i] = counts
        with np.errstate(invalid="ignore", divide="ignore"):
            q_returns[i] = np.where(counts > 0, sums / counts, np.nan)
    if q_used >= 2:
        # Top minus bottom within rounding of 0 is 0 (zero_within_rounding): quantiles of
        # symbols growing alike (c x 1.0001^t) differ by 2.2e-16 of float noise, shown as such.
        spread = zero_within_rounding(q_returns[:, q_used - 1] - q_returns[:, 0])
        turnover = _top_turnover(labels, analysed, q_used)
    else:
        spread = np.full(k, np.nan)
        turnover = np.full(k, np.nan)
    quantile_cols = list(range(1, q_used + 1))
    quantile_returns = pd.DataFrame(q_returns[:, :q_used], index=entry_dates, columns=quantile_cols)
    growth = np.cumprod(1.0 + np.nan_to_num(q_returns[:, :q_used], nan=0.0), axis=0) - 1.0
    cumulative = pd.DataFrame(growth, index=entry_dates, columns=quantile_cols)
    quantile_summary = pd.DataFrame(
        {
            "quantile": np.array(quantile_cols, dtype=np.int64),
            "mean_return": [_nanmean(q_returns[:, j]) for j in range(q_used)],
            "cumulative_return": growth[-1] if k else np.full(q_used, np.nan),
            "mean_count": [
                float(q_counts[analysed, j].mean()) if analysed.any() else math.nan for j in range(q_used)
            ],
            "n_periods": [int(np.isfinite(q_returns[:, j]).sum()) for j in range(q_used)],
        }
    )
    spread_stats = _mean_t(spread)
    finite_spread = spread[np.isfinite(spread)]
    spread_stats["cumulative_return"] = (
        float(np.prod(1.0 + finite_spread) - 1.0) if finite_spread.size else math.nan
    )

    periods = pd.DataFrame(
        {
            "formation_end": cal.formation_end.astype(_NS),
            "entry_date": dates[cal.entry].astype(_NS),
            "next_entry_date": np.where(complete, dates[cal.end], np.datetime64("NaT")).astype(_NS),
            "complete": complete,
            "n_eligible": cal.observed.sum(axis=1).astype(np.int64),  # as the backtest's periods
            "n_observations": n_obs.astype(np.int64),
            "ic": ic,
            "ic_rolling_mean": rolling.to_numpy(dtype=np.float64),
            "spread": spread,
            "top_turnover": turnover,
        }
    )
    kk, ss = np.nonzero(observed)
    observations = pd.DataFrame(
        {
            "entry_date": dates[cal.entry[kk]].astype(_NS),
            "symbol": pd.Index(list(prepared.symbols), dtype="str").take(ss)
            if len(ss)
            else pd.Index([], dtype="str"),
            "signal": cal.signal[kk, ss],
            "forward_return": forward[kk, ss],
            "signal_quantile": labels[kk, ss],
        }
    )
    low = np.flatnonzero((n_obs > 0) & (n_obs < settings.min_symbols))
    if low.size:
        warnings.append(
            f"{low.size} period(s) have fewer than {settings.min_symbols} eligible, holdable symbols; "
            "their information coefficient is undefined."
        )
    constant = _constant_side_note(sig, np.where(observed, forward, np.nan), settings.min_symbols)
    if constant:
        warnings.append(constant)
    if note:
        warnings.append(note)
    horizon_note = _horizon_note(prepared, params, cal)
    if horizon_note:
        warnings.append(horizon_note)
    return SignalAnalysis(
        params=params,
        settings=settings,
        periods=periods,
        observations=observations,
        ic_summary=ic_statistics(ic),
        ic_decay=ic_decay,
        quantile_returns=quantile_returns,
        cumulative_returns=cumulative,
        quantile_summary=quantile_summary,
        spread_summary=spread_stats,
        quantiles=q_used,
        quantiles_requested=settings.quantiles,
        quantile_note=note,
        horizon_note=horizon_note,
        top_turnover=_nanmean(turnover),
        signal_summary=_distribution(cal.signal[observed]),
        warnings=tuple(warnings),
        manifest=Manifest.of(params.to_dict(), prepared),
    )


def _horizon_note(prepared: PreparedData, params: StrategyParams, cal: _Calendar) -> str | None:
    """One sentence per incomplete period (only the last can be: ``_Calendar.complete``):
    its return days in the data, where they stop, and what it is left out of. None when
    every period is complete."""
    dates = prepared.dates
    sentences = []
    for i in np.flatnonzero(~cal.complete):
        entry, end = int(cal.entry[i]), int(cal.end[i])
        which = "the last price day" if not params.end or end == len(dates) - 1 else "the chosen end"
        days = end - entry
        held = (
            f"has {days} of its return days in the data (to {_iso(dates[end])}, {which}; its next entry "
            "close is after it)"
            if days
            else f"has none of its return days in the data (it is bought at {which})"
        )
        sentences.append(
            f"The period bought at the {_iso(dates[entry])} close {held}: its forward return is not a "
            "full holding period, so it is left out of the IC, the IC decay and the quantiles (no "
            "labels, quantile returns, spread or top-quantile turnover)."
        )
    return " ".join(sentences) or None


def _quantile_plan(
    n_obs: np.ndarray, requested: int, split_ties: np.ndarray | None = None
) -> tuple[int, str | None, np.ndarray]:
    """(quantiles formed, note or None, periods analysed): the requested Q in every period;
    a period with fewer than Q observations, or (``split_ties``) whose equal signal values
    span a quantile edge (``quantile_labels`` None), is left out by its own data (never by
    other periods', which later data would change). No period analysed: no quantiles, and
    the note says why (and how many to choose when there are too few symbols)."""
    ties = np.zeros(n_obs.shape, dtype=bool) if split_ties is None else np.asarray(split_ties, dtype=bool)
    enough = n_obs >= requested
    analysed = enough & ~ties
    if n_obs.size == 0:
        return 0, None, analysed
    k = n_obs.size
    n_ties = int((enough & ties).sum())
    few = int((~enough).sum())
    tie_rule = (
        f"the signal's equal values leave no way to form {requested} quantiles without splitting a "
        "tie or leaving a quantile empty (pandas qcut's rule, which alphalens uses: equal values are "
        "never split between quantiles; a signal constant within the period has no quantiles)"
    )
    if not analysed.any():
        most = int(n_obs.max())
        if most == 0:
            return 0, "No period has an eligible, holdable symbol; no quantiles formed.", analysed
        if n_ties:
            rest = f"; the other {few} have fewer than {requested} eligible, holdable symbols" if few else ""
            note = (
                f"{requested} quantiles requested, none formed: in each of the {n_ties} period(s) with "
                f"{requested} or more eligible, holdable symbols {tie_rule}{rest}. No quantile returns, "
                "spread or top-quantile turnover."
            )
        elif most < 2:
            note = (
                f"{requested} quantiles requested, none formed: no period has more than {most} eligible, "
                "holdable symbol and quantiles need at least 2."
            )
        else:
            note = (
                f"{requested} quantiles requested, none formed: no period has {requested} eligible, "
                f"holdable symbols (the most is {most}); choose {most} quantiles or fewer."
            )
        return 0, note, analysed
    if not few and not n_ties:
        return requested, None, analysed
    if not n_ties:
        return (
            requested,
            f"{few} of {k} period(s) have fewer than {requested} eligible, holdable symbols "
            f"(one a quantile) and are left out of the quantile statistics: no quantile returns, spread "
            "or top-quantile turnover for them.",
            analysed,
        )
    reasons = f"in {n_ties} of {k} period(s) {tie_rule}"
    if few:
        reasons = (
            f"{few} of {k} period(s) have fewer than {requested} eligible, holdable symbols (one a "
            f"quantile), and {reasons}"
        )
    return (
        requested,
        f"{few + n_ties} period(s) are left out of the quantile statistics (no quantile returns, spread "
        f"or top-quantile turnover for them): {reasons}.",
        analysed,
    )


def _top_turnover(labels: np.ndarray, analysed: np.ndarray, q: int) -> np.ndarray:
    """Share of each period's top-quantile symbols not in the previous period's top
    quantile (NaN for the first period and after a left-out period)."""
    top = labels == q
    out = np.full(labels.shape[0], np.nan)
    for i in range(1, labels.shape[0]):
        if analysed[i] and analysed[i - 1]:
            current = top[i].sum()
            if current:
                out[i] = float((top[i] & ~top[i - 1]).sum() / current)
    return out


def _nanmean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


def _mean_t(values: np.ndarray) -> dict[str, float]:
    finite = values[np.isfinite(values)]
    n = finite.size
    mean = float(finite.mean()) if n else math.nan
    std = _std(finite, mean)
    t = mean / std * math.sqrt(n) if n >= 2 and std > 0 else math.nan
    return {"mean": mean, "std": std, "t_stat": t, "n_periods": float(n)}


def _distribution(values: np.ndarray) -> dict[str, float]:
    names = ("p05", "p25", "median", "p75", "p95")
    if values.size == 0:
        return {
            "count": 0.0,
            "mean": math.nan,
            "std": math.nan,
            "min": math.nan,
            **dict.fromkeys(names, math.nan),
            "max": math.nan,
        }
    qs = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95])
    return {
        "count": float(values.size),
        "mean": float(values.mean()),
        "std": float(values.std(ddof=1)) if values.size >= 2 else math.nan,
        "min": float(values.min()),
        **{name: float(v) for name, v in zip(names, qs, strict=True)},
        "max": float(values.max()),
    }


__all__ = [
    "SignalAnalysis",
    "SignalAnalysisSettings",
    "analyze_signal",
    "ic_statistics",
    "quantile_labels",
    "rank_ic",
]
