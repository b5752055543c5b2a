"""Performance metrics of daily simple-return series, with empyrical's conventions.

- 252 trading days a year (``TRADING_DAYS``, defined once in ``engine.data.types``);
  the ``ANNUALISED_METRICS`` over fewer days extrapolate (``short_window_warning``);
  ``risk_free`` is an annual rate, used as ``risk_free / 252``
  per day (as ``StrategyParams`` documents).
- Volatilities use the sample standard deviation (``ddof=1``), as empyrical does.
- ``alpha`` is empyrical's: ``(1 + mean(daily excess return - beta * daily excess
  benchmark return)) ** 252 - 1``; ``beta`` is ``cov / var`` of the daily returns.
- ``information_ratio`` is annualised: ``mean(active) / std(active) * sqrt(252)``, where
  active = portfolio - benchmark (empyrical's ``excess_sharpe`` times ``sqrt(252)``);
  ``tracking_error`` is ``std(active) * sqrt(252)``.
- ``hit_rate`` is the share of days with a strictly positive return.
- ``max_drawdown`` is a negative number (0 when the value never fell, or never fell
  by more than ``DRAWDOWN_RTOL``: a 1e-12 dip of a quote is rounding, and is no
  drawdown for ``drawdown_info`` either; then the Calmar ratio is NaN, not 1e11).
- Zero dispersion (``negligible_dispersion`` of ``engine.dispersion``, the one rule for every
  dispersion in the engine): a standard deviation at most ``DISPERSION_RTOL * max(1, max |x|)``
  (floating-point residue) or at most ``DISPERSION_CV * |mean(x)|`` (below what the data
  can resolve: prices quoted to 4+ decimals of a constant-growth path give returns whose
  spread is rounding noise; a daily mean/std above 100, an annualised Sharpe above
  ~1,590, which no tradeable series has) is 0: the volatility is 0 and every ratio over
  it (Sharpe, information ratio, beta, alpha, correlation) is NaN; so is a Sortino whose
  downside deviation is floating-point residue (1e-17 noise; only the residue part of the
  rule: a real loss of 1.5e-5 beside a gain of 3% is ~1e-3 of the mean and keeps its
  Sortino), and so is the Sortino of returns without dispersion whose excess return is
  not a loss beyond their rounding.
  A series without dispersion against a benchmark that has some has beta 0 (its
  covariance is 0), and alpha from that beta; against a benchmark without dispersion
  its active return has none (tracking error 0, information ratio NaN).
- Anything undefined (too few days, zero dispersion, an all-cash series) is NaN. No
  metric raises on a finite series: results too large for a float are ``inf`` (or NaN
  where empyrical's formula gives NaN), as numpy gives them.
- Missing (NaN) days are not days of the series: a series' own metrics (total return,
  CAGR and its year fraction, volatility, Sharpe, Sortino, drawdown, hit rate) use its
  finite days; the benchmark-relative ones (beta, alpha, information ratio, tracking
  error) use the days where both series are finite. empyrical instead counts NaN days as
  0-return days in the CAGR's year fraction; the backtest warns whenever one of its
  series has missing days (benchmark edges, a universe period with no eligible symbol).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from engine.analytics import nb_metrics as nbm
from engine.analytics.nb_metrics import alpha_mean, moments
from engine.data.types import TRADING_DAYS
from engine.dispersion import DISPERSION_CV, DISPERSION_RTOL, constant_loss, zero_within_rounding

# A single date as the entry points give it: ISO string, date/datetime, Timestamp, datetime64.
DateLike: TypeAlias = str | dt.date | np.datetime64
# Dates of a plain returns array, one per return (what pd.DatetimeIndex accepts).
Dates: TypeAlias = pd.Index | pd.Series | np.ndarray | list[Any] | tuple[Any, ...]

METRIC_NAMES: tuple[str, ...] = (
    "total_return",
    "cagr",
    "annual_volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "beta",
    "alpha",
    "information_ratio",
    "tracking_error",
    "hit_rate",
    "avg_turnover",
)
# The metrics that are fractions of capital or of days (shown as percentages); the others are ratios.
PERCENT_METRICS: frozenset[str] = frozenset(
    {
        "total_return",
        "cagr",
        "annual_volatility",
        "max_drawdown",
        "alpha",
        "tracking_error",
        "hit_rate",
        "avg_turnover",
    }
)

# The metrics that scale the series to a year of TRADING_DAYS days (a power or a
# sqrt(252) of daily figures): over fewer days they extrapolate, and are warned about
# (``short_window_warning``). Total return, max drawdown, beta, hit rate and turnover are not.
ANNUALISED_METRICS: tuple[str, ...] = (
    "cagr",
    "annual_volatility",
    "sharpe",
    "sortino",
    "calmar",
    "alpha",
    "information_ratio",
    "tracking_error",
)
_ANNUALISED_LABELS = (
    "CAGR",
    "annual volatility",
    "Sharpe",
    "Sortino",
    "Calmar",
    "alpha",
    "information ratio",
    "tracking error",
)

DRAWDOWN_RTOL = 1e-10  # a value within this relative distance of the peak is back at it


def _as_array(values: object) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(-1)


def _aligned(returns: object, benchmark: object) -> tuple[np.ndarray, np.ndarray]:
    """Two float arrays of equal length: aligned by index when both are Series, else by position."""
    if isinstance(returns, pd.Series) and isinstance(benchmark, pd.Series):
        benchmark = benchmark.reindex(returns.index)
    r = _as_array(returns)
    b = _as_array(benchmark) if benchmark is not None else np.full(r.shape, np.nan)
    if b.shape != r.shape:
        raise ValueError(f"returns ({r.size}) and benchmark ({b.size}) differ in length")
    return r, b


def _safe_div(num: float, den: float) -> float:
    if not (math.isfinite(num) and math.isfinite(den)) or den == 0.0:
        return math.nan
    # Python's float division is IEEE's, as numpy's: the same bits, an overflow is inf
    # (not an error); only a zero divisor raises, and it is excluded above.
    return float(num) / float(den)


def _std(values: np.ndarray) -> float:
    """Sample std (ddof=1); 0 when it is negligible (``negligible_dispersion``)."""
    with np.errstate(all="ignore"):
        return _dispersion(values)[0]


def _mean(values: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        return _fmean(values) if values.size else math.nan


# ----- the reductions of np.sum / np.mean / np.std, without their Python dispatch --------
# For the other metric functions of this module (compute_metrics reduces in
# nb_metrics): the same ufunc reductions in the same order (np.add.reduce: pairwise
# sums), so every value has the bits of np.mean / np.std (test_metrics_bits.py).


def _fsum(values: np.ndarray) -> float:
    return float(np.add.reduce(values))


def _fmean(values: np.ndarray) -> float:
    """``np.mean`` of a non-empty 1-D float array."""
    return _fsum(values) / values.size


def _fstd(values: np.ndarray, mean: float) -> float:
    """``np.std(values, ddof=1)`` given ``mean = np.mean(values)`` (size >= 2): the mean
    subtracted, squared, summed pairwise, divided by n - 1, square-rooted, as numpy's _var."""
    dev = values - mean
    np.multiply(dev, dev, out=dev)
    return math.sqrt(_fsum(dev) / (values.size - 1))


def _dispersion(values: np.ndarray) -> tuple[float, float, float]:
    """(``_std``: std or 0 when negligible, the raw sample std, the mean); NaNs below two
    values. Call under ``np.errstate(all="ignore")``."""
    n = values.size
    mean = _fmean(values) if n else math.nan
    if n < 2:
        return _dispersion_of(n, mean, math.nan, math.nan)
    raw = _fstd(values, mean)
    scale = float(np.maximum.reduce(np.abs(values))) if math.isfinite(raw) else math.nan
    return _dispersion_of(n, mean, raw, scale)


def _negligible(std: float, mean: float, scale: float) -> bool:
    """``negligible_dispersion`` of three floats, in float arithmetic (same decisions:
    ``np.maximum`` propagates a NaN scale, and so does this)."""
    floor = scale if (scale > 1.0 or scale != scale) else 1.0
    return std <= DISPERSION_RTOL * floor or std <= DISPERSION_CV * abs(mean)


def _power(base: float, exponent: float) -> float:
    """``base ** exponent`` by the C library's ``pow``; inf on overflow and NaN when
    undefined, as numpy gives them. Not ``np.power`` throughout: on AVX-512 machines numpy
    computes it with Intel's SVML, whose last bit can differ from the C library's, so a
    CAGR or an alpha would depend on the CPU it was computed on."""
    try:
        return math.pow(base, exponent)
    except (OverflowError, ValueError):  # inf or NaN, the same bits from any implementation
        with np.errstate(all="ignore"):
            return float(np.power(np.float64(base), np.float64(exponent)))


def ending_value(ending: float) -> float:
    """The compounded value ``prod(1 + r)`` of a series, exactly 1.0 when it is 1 up to
    rounding (``zero_within_rounding`` of ``ending - 1``): a path back at its start (3 -> 1
    -> 3 compounds to 0.9999999999999998) has a total return, CAGR and Calmar of 0, not
    "-0.00%". The one owner of that rule for every total return and CAGR (``compute_metrics``,
    ``total_return``, ``cagr``, the PBO's and walk-forward's ``column_metric``, the random
    portfolios)."""
    return 1.0 if zero_within_rounding(ending - 1.0) == 0.0 else ending


def total_return(returns: np.ndarray) -> float:
    """Compounded simple return ``prod(1 + r) - 1`` (finite input; NaN for no day), 0 when
    within rounding of it (``ending_value``)."""
    returns = _as_array(returns)
    with np.errstate(all="ignore"):
        return ending_value(float(np.prod(1.0 + returns))) - 1.0 if returns.size else math.nan


def cagr(returns: np.ndarray) -> float:
    """``ending ** (252 / days) - 1`` (empyrical's annual_return; ``ending_value``); inf when
    it overflows."""
    returns = _as_array(returns)
    if returns.size < 1:
        return math.nan
    with np.errstate(all="ignore"):
        ending = ending_value(float(np.prod(1.0 + returns)))
    if not ending >= 0:
        return math.nan
    return _power(ending, TRADING_DAYS / returns.size) - 1.0


def short_window_warning(n_days: int, window: str = "the evaluated window") -> str | None:
    """The one warning that annualised metrics extrapolate: ``n_days`` (the number of
    return days the metrics are computed over) from 1 to ``TRADING_DAYS - 1`` gives one
    sentence naming the day count and the ``ANNUALISED_METRICS``; 0 (no metric is defined)
    or a year or more gives None. ``window`` names the days in the sentence.

    The GIPS standards forbid annualising returns of periods under a year ("returns for
    periods of less than one year must not be annualized"): a -0.4% week compounds to a
    CAGR of -18%. The figures are still computed (they are empyrical's, and compare
    configurations over the same window); the warning says what they are. Example: 8 days -> "The evaluated window covers 8 trading days, less than a
    year (252): CAGR, ... are annualised extrapolations of it; ...".
    """
    if not 1 <= n_days < TRADING_DAYS:
        return None
    names = ", ".join(_ANNUALISED_LABELS[:-1]) + f" and {_ANNUALISED_LABELS[-1]}"
    return (
        f"{window[:1].upper()}{window[1:]} covers {n_days} trading day{'s' if n_days != 1 else ''}, "
        f"less than a year ({TRADING_DAYS}): {names} are annualised extrapolations of it, not "
        "returns earned over a year (GIPS does not annualise periods under one year); total return "
        "and max drawdown are not annualised."
    )


def weekend_calendar_warning(days: pd.DatetimeIndex, window: str = "the evaluated window") -> str | None:
    """The warning that the annualised metrics assume ``TRADING_DAYS`` return days a year
    while ``days`` (the return days the metrics are computed over) trade on weekends too (a
    market open every day: a crypto universe keeps its weekends, ``trading_days_of``); None
    when no return day is a Saturday or Sunday.

    The metrics stay empyrical's (252 periods a year, comparable with every other run); the
    sentence gives what they mean on this calendar: the window's span in calendar years
    against the ``len(days) / 252`` years CAGR compounds over, and volatility scaled by
    sqrt(252) where a year holds ~365 return days (breaker pass 5, F4: 273 daily returns of
    9 months gave a CAGR of -29.4% and no short-window warning, where -39.6% a year is the
    annual rate of the total)."""
    weekend = int((days.day_of_week >= 5).sum()) if len(days) else 0
    if weekend == 0:
        return None
    span = (days[-1] - days[0]).days + 1
    years = span / 365.25
    short = " (less than a year: the annualised figures extrapolate it)" if span < 365 else ""
    return (
        f"{weekend} of the {len(days)} return days of {window} fall on a Saturday or Sunday: the annualised "
        f"metrics assume {TRADING_DAYS} trading days a year, so CAGR compounds the total over "
        f"{len(days) / TRADING_DAYS:.2f} years where the window spans {years:.2f} calendar years{short}, "
        f"and volatility scales by the square root of {TRADING_DAYS} where a year of this calendar holds "
        f"about {round(len(days) / years) if years > 0 else len(days)} return days."
    )


def max_drawdown(returns: np.ndarray) -> float:
    returns = _as_array(returns)
    if returns.size < 1:
        return math.nan
    with np.errstate(all="ignore"):
        return _max_drawdown(1.0 + returns)


def _max_drawdown(growth: np.ndarray) -> float:
    """``max_drawdown`` from ``1 + returns`` (non-empty)."""
    value = np.concatenate(([1.0], np.cumprod(growth)))
    peak = np.maximum.accumulate(value)
    return _depth(float(np.minimum.reduce((value - peak) / peak)))


def _depth(worst: float) -> float:
    """The worst drop, 0.0 when it is within ``DRAWDOWN_RTOL`` of the peak (the one rule
    of ``drawdown_info`` and ``drawdown_series``); a zero or NaN is kept as numpy gives it."""
    return 0.0 if -DRAWDOWN_RTOL <= worst < 0 else worst


def compute_metrics(
    returns: object,
    benchmark: object = None,
    *,
    risk_free: float = 0.0,
    turnover: object = None,
) -> dict[str, float]:
    """``METRIC_NAMES`` of daily simple ``returns`` against daily ``benchmark`` returns.

    The series' own metrics use its finite days; the benchmark-relative metrics (beta,
    alpha, information ratio, tracking error) only the days where both are finite.
    Without a benchmark the relative metrics are NaN. Never raises on finite input.
    ``turnover``: per-rebalance one-way turnover; its mean is ``avg_turnover``.

    The array reductions run compiled in one call (``engine.analytics.nb_metrics``, the
    same bits as np.mean / np.std / np.prod); the formulas below are the metrics'.
    """
    r_all, b_all = _aligned(returns, benchmark)
    rf = float(risk_free) / TRADING_DAYS
    root = math.sqrt(TRADING_DAYS)
    # r - (+0.0) has r's bits, so with no risk-free rate the excess is r itself.
    plain = rf == 0.0 and math.copysign(1.0, rf) > 0
    t = _as_array(turnover) if turnover is not None else _NO_TURNOVER
    m = moments(r_all, b_all, t, rf, plain).tolist()
    n, n_both = int(m[nbm.N]), int(m[nbm.B_N])

    out = dict.fromkeys(METRIC_NAMES, math.nan)
    with np.errstate(all="ignore"):
        if n:
            ending = ending_value(m[nbm.ENDING])  # back at its start up to rounding: 1.0
            out["total_return"] = ending - 1.0
            out["cagr"] = _power(ending, TRADING_DAYS / n) - 1.0 if ending >= 0 else math.nan
            # A zero (of either sign) or undefined worst drop: numpy decides its bits.
            worst = m[nbm.DRAWDOWN]
            out["max_drawdown"] = (
                _depth(worst) if worst < 0 else _max_drawdown(1.0 + r_all[np.isfinite(r_all)])
            )
        vol, raw_std, mean = _dispersion_of(n, m[nbm.MEAN], m[nbm.RAW_STD], m[nbm.SCALE])
        out["annual_volatility"] = vol * root
        # std(r - rf) is std(r); its zero is judged on r (an rf near the mean hides nothing).
        mean_excess = mean if plain else m[nbm.MEAN_EXCESS]
        sd_excess = (raw_std if plain else m[nbm.RAW_STD_EXCESS]) if vol > 0 else vol
        out["sharpe"] = _safe_div(mean_excess if n >= 2 else math.nan, sd_excess) * root
        if n >= 2:  # downside deviation: its own dispersion (cash below rf has a Sortino)
            downside = math.sqrt(m[nbm.DOWNSIDE_MEAN])
            # A downside deviation of floating-point residue is zero: no Sortino. Only the
            # residue part of the rule: a real loss may be far below 1e-3 x the mean gain
            # (returns without dispersion are judged by constant_loss below).
            downside = 0.0 if _negligible(downside, 0.0, m[nbm.SCALE]) else downside * root
            if vol == 0.0 and not constant_loss(mean_excess, raw_std, m[nbm.SCALE]):
                downside = 0.0  # a constant gain, or an excess of zero up to rounding: none
            out["sortino"] = _safe_div(mean_excess * TRADING_DAYS, downside)
        mdd = out["max_drawdown"]
        out["calmar"] = _safe_div(out["cagr"], abs(mdd)) if mdd < 0 else math.nan
        if benchmark is not None and n_both >= 2:  # fewer common days: every relative metric is NaN
            out["beta"], out["alpha"] = _beta_alpha_of(m, r_all, b_all, rf, flat=vol == 0.0)
            te, _, mean_active = _dispersion_of(n_both, m[nbm.A_MEAN], m[nbm.A_RAW_STD], m[nbm.A_SCALE])
            if vol == 0.0 and _benchmark_std(m) == 0.0:
                # Two series without dispersion differ by a constant: the active return has
                # none either, whatever its mean (two quotes of one 0.1% a day growth have
                # an active return of their rounding around 0, an IR of noise).
                te = 0.0 if te == te else te
            out["tracking_error"] = te * root
            out["information_ratio"] = _safe_div(mean_active, te) * root
        out["hit_rate"] = int(m[nbm.HITS]) / n if n else math.nan
        if turnover is not None:
            out["avg_turnover"] = m[nbm.TURNOVER_MEAN]
    return {k: float(v) for k, v in out.items()}


_NO_TURNOVER = np.zeros(0)


def _dispersion_of(n: int, mean: float, raw: float, scale: float) -> tuple[float, float, float]:
    """``_dispersion`` from the reductions of its ``n`` values (``nb_metrics``)."""
    if n < 2:
        return math.nan, math.nan, mean if n else math.nan
    if not math.isfinite(raw):
        return math.nan, raw, mean
    return (0.0 if _negligible(raw, mean, scale) else raw), raw, mean


def _benchmark_std(m: list[float]) -> float:
    """The benchmark's std over the common days (0 when negligible, NaN below two)."""
    return _dispersion_of(int(m[nbm.B_N]), m[nbm.B_MEAN], m[nbm.B_RAW_STD], m[nbm.B_SCALE])[0]


def _beta_alpha_of(
    m: list[float], r_all: np.ndarray, b_all: np.ndarray, rf_daily: float, *, flat: bool = False
) -> tuple[float, float]:
    """``_beta_alpha`` from the reductions (at least two common days). ``flat``: the
    returns have no dispersion (``negligible_dispersion``), so their covariance with any
    benchmark is 0 (``|cov| <= std x std``) and beta is 0, not a ratio of rounding residue."""
    b_std = _benchmark_std(m)
    if not b_std > 0:  # a benchmark without dispersion has no beta
        return math.nan, math.nan
    beta = 0.0 if flat else _safe_div(m[nbm.B_COV], m[nbm.B_VAR])
    if not math.isfinite(beta):
        return math.nan, math.nan
    return beta, _power(1.0 + alpha_mean(r_all, b_all, beta, rf_daily), TRADING_DAYS) - 1.0


def drawdown_info(
    returns: pd.Series | np.ndarray, dates: Dates | None = None, *, start: DateLike | None = None
) -> dict[str, str | None]:
    """ISO dates of the maximum drawdown of daily simple ``returns``: ``peak`` (last day
    at the high before it), ``trough`` (the first of the deepest days, depths equal within
    ``DRAWDOWN_RTOL`` being one depth), ``recovery`` (first day back at the peak value,
    within a relative ``DRAWDOWN_RTOL`` so that rounding of the compounded value does not
    delay it; None if never). All None when the series never falls (beyond that
    tolerance). ``dates`` is needed only when ``returns`` is not a Series.

    ``start``: the date of the starting value (a backtest's first entry close, from its
    periods table); a drawdown from the very start has its peak there. Without it such a
    peak is reported as the first date of the series (the old convention).
    NaN returns count as 0 (the value is carried).
    """
    none: dict[str, str | None] = {"peak": None, "trough": None, "recovery": None}
    if isinstance(returns, pd.Series):
        index = pd.DatetimeIndex(returns.index)
        r = _as_array(returns)
    else:
        if dates is None:
            return none
        r = _as_array(returns)
        index = pd.DatetimeIndex(dates)
    if r.size == 0:
        return none
    r = np.where(np.isfinite(r), r, 0.0)
    with np.errstate(all="ignore"):
        value = np.concatenate(([1.0], np.cumprod(1.0 + r)))
        peak_value = np.maximum.accumulate(value)
        dd = (value - peak_value) / peak_value
    dd = np.where(np.isfinite(dd), dd, 0.0)
    deepest = float(dd.min())
    if deepest >= -DRAWDOWN_RTOL:
        return none
    # Troughs equal up to rounding (a, b, a, b: the second b is one ulp deeper) are one
    # depth: the first of them is the trough, as with exact arithmetic (argmin's first).
    trough = int(np.flatnonzero(dd - deepest <= DRAWDOWN_RTOL * abs(1.0 + deepest))[0])
    high = peak_value[trough]
    at_high = value >= high * (1.0 - DRAWDOWN_RTOL)
    peak = int(np.flatnonzero(at_high[: trough + 1])[-1])
    after = np.flatnonzero(at_high[trough:])
    first = pd.Timestamp(start).date().isoformat() if start is not None else index[0].date().isoformat()

    # value index i corresponds to the close after returns[i-1]; index 0 is the start.
    def iso(i: int) -> str:
        return first if i == 0 else index[i - 1].date().isoformat()

    return {
        "peak": iso(peak),
        "trough": iso(trough),
        "recovery": iso(trough + int(after[0])) if after.size else None,
    }


def drawdown_series(returns: pd.Series, *, start: DateLike | None = None) -> pd.Series:
    """Drawdown (value / running peak - 1, <= 0) of daily simple ``returns`` indexed by
    date; with ``start`` (the first entry close) the starting value 0.0 is included at
    that date, so a chart shows the drawdown from the entry. Values within
    ``DRAWDOWN_RTOL`` of the peak are exactly 0 (as ``drawdown_info`` judges recovery)."""
    r = np.where(np.isfinite(_as_array(returns)), _as_array(returns), 0.0)
    with np.errstate(all="ignore"):
        value = np.concatenate(([1.0], np.cumprod(1.0 + r)))
        peak = np.maximum.accumulate(value)
        dd = value / peak - 1.0
    dd = np.where(dd >= -DRAWDOWN_RTOL, 0.0, dd)
    index = pd.DatetimeIndex(returns.index)
    if start is None:
        return pd.Series(dd[1:], index=index, name="drawdown")
    full = index.insert(0, pd.Timestamp(start))
    return pd.Series(dd, index=pd.DatetimeIndex(full, name=index.name), name="drawdown")


def metrics_table(rows: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """Metrics of several series side by side (one column per series), rows in METRIC_NAMES order."""
    return pd.DataFrame(
        {name: [values.get(m, math.nan) for m in METRIC_NAMES] for name, values in rows.items()},
        index=list(METRIC_NAMES),
    )
