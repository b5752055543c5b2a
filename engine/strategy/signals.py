"""The sentiment signal: per-row values, calendar periods, per-period aggregation, ranking.

Seed strategy (defaults): ``engagement_ratio = twitterComments / twitterLikes`` per row;
rows are kept when ``twitterLikes > min_likes`` and ``twitterComments > min_comments``
(strict); the kept rows' values are averaged (or their median taken) per symbol per
calendar period; symbols are ranked by that number, highest first; ties are broken by
symbol, alphabetically (A before B). The top N are held during the *next* period.

Everything here works on numpy arrays so that a sweep can evaluate thousands of
parameter sets over one ``PreparedData`` without touching pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.compiled import compiled, read_only
from engine.dispersion import TIE_RTOL, zero_within_rounding
from engine.strategy.params import StrategyParams

# Column of the sentiment frame behind each non-ratio signal.
SIGNAL_COLUMNS: dict[str, str] = {
    "sentiment": "twitterSentiment",
    "posts": "twitterPosts",
    "comments": "twitterComments",
    "likes": "twitterLikes",
    "impressions": "twitterImpressions",
}

_EPOCH_SATURDAY = 2  # 1970-01-03 is a Saturday: W-FRI weeks run Saturday..Friday


# ----- calendar periods -----


def period_keys(days: np.ndarray, rebalance: str) -> np.ndarray:
    """Integer key of the calendar period (W-FRI week, month, quarter) of each day.

    Consecutive periods have consecutive keys, so ``key - 1`` is the previous period.
    """
    d = np.asarray(days, dtype="datetime64[D]")
    if rebalance == "monthly":
        return d.astype("datetime64[M]").astype(np.int64)
    if rebalance == "quarterly":
        return d.astype("datetime64[M]").astype(np.int64) // 3
    if rebalance == "weekly":
        return (d.astype(np.int64) - _EPOCH_SATURDAY) // 7
    raise ValueError(f"unknown rebalance {rebalance!r}")


def period_first_day(keys: np.ndarray, rebalance: str) -> np.ndarray:
    """First calendar day (datetime64[D]) of each period key."""
    k = np.asarray(keys, dtype=np.int64)
    if rebalance == "monthly":
        return k.astype("datetime64[M]").astype("datetime64[D]")
    if rebalance == "quarterly":
        return (k * 3).astype("datetime64[M]").astype("datetime64[D]")
    if rebalance == "weekly":
        return (k * 7 + _EPOCH_SATURDAY).astype("datetime64[D]")
    raise ValueError(f"unknown rebalance {rebalance!r}")


def period_last_day(keys: np.ndarray, rebalance: str) -> np.ndarray:
    """Last calendar day (datetime64[D]) of each period key."""
    return period_first_day(np.asarray(keys, dtype=np.int64) + 1, rebalance) - np.timedelta64(1, "D")


# ----- per-row values and per-period aggregation -----


def row_signal(
    signal: str,
    *,
    comments: np.ndarray,
    likes: np.ndarray,
    columns: dict[str, np.ndarray],
) -> np.ndarray:
    """The per-row value of ``signal`` (NaN where undefined)."""
    if signal == "engagement_ratio":
        ratio, defined = engagement_ratio(comments, likes)
        return np.where(defined, ratio, np.nan)
    return columns[SIGNAL_COLUMNS[signal]]


def engagement_ratio(comments: np.ndarray, likes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(``comments / likes``, a fresh array; where it is defined: finite). ``row_signal``'s
    engagement ratio is it with NaN where undefined; the prepared rows'
    (``engine.backtest.prepare``) zero it in place there, without the NaN copy."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = comments / likes
    return ratio, np.isfinite(ratio)


def aggregate(
    group: np.ndarray,
    values: np.ndarray,
    n_groups: int,
    how: str,
) -> np.ndarray:
    """Mean or median of ``values`` per integer ``group`` in ``[0, n_groups)``; NaN for empty groups.

    Vectorised: the mean by ``bincount``, the median by one lexsort and the two middle
    elements of each group.
    """
    out = np.full(n_groups, np.nan)
    if group.size == 0:
        return out
    counts = np.bincount(group, minlength=n_groups)
    present = counts > 0
    if how == "mean":
        sums = np.bincount(group, weights=values, minlength=n_groups)
        out[present] = sums[present] / counts[present]
        return out
    if how == "median":
        order = np.lexsort((values, group))
        sorted_values = values[order]
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        c = counts[present]
        s = starts[present]
        out[present] = 0.5 * (sorted_values[s + (c - 1) // 2] + sorted_values[s + c // 2])
        return out
    raise ValueError(f"unknown aggregation {how!r}")


def rank_descending(matrix: np.ndarray) -> np.ndarray:
    """Column order per row, best first: highest value, ties by column (symbol) ascending,
    NaN last. Symbols are stored sorted, so column order is alphabetical order.

    (P, S) float -> (P, S) int64. The permutation of a stable ``argsort`` of the keys
    (``-value``, NaN as +inf), computed as ``stable_argsort_rows`` computes it, with the
    keys made inside its kernels (numpy's ``where`` of them cost 0.15 ms per 116 x 501
    ranking, a quarter of the ranking's sort).
    """
    return _sorted_rows(np.asarray(matrix, dtype=np.float64), descending=True)


def stable_argsort_rows(keyed: np.ndarray) -> np.ndarray:
    """``np.argsort(keyed, axis=1, kind="stable")`` of a (P, S) float array without NaN
    (-> (P, S) int64): each row's columns by ascending key, equal keys (``-0.0 == 0.0``)
    by column.

    How, and why it is the same permutation: each key is mapped to an int64 that orders
    as the float does (``_packed_keys``: the IEEE bits, the negative ones flipped), its
    lowest ``b`` bits (``b`` = the bits of the largest column index) are replaced by the
    column, and numpy's sort of those int64 (a vectorised sort, ~2.5x faster here than
    ``argsort``, which has none on this hardware: 0.74 ms against 1.8 ms for 116 x 501)
    orders them. Keys that differ only in their lowest ``b`` bits (a relative
    difference under 2**(b - 52)) then share their high bits and come out by column:
    ``_restore_key_order`` sorts each such run by (key, column) again, so the result is
    the one order with ties by column, as numpy's stable sort gives it.
    """
    return _sorted_rows(keyed, descending=False)


def _sorted_rows(values: np.ndarray, *, descending: bool) -> np.ndarray:
    """``stable_argsort_rows`` of the keys of ``values``: the values themselves, or, when
    ``descending``, ``-value`` with NaN as +inf (``_key``), made inside the kernels."""
    cols = values.shape[1]
    if values.size == 0 or cols < 2:
        keyed = np.where(np.isnan(values), np.inf, -values) if descending else values
        return np.argsort(keyed, axis=1, kind="stable").astype(np.int64, copy=False)
    shift = max(1, int(cols - 1).bit_length())
    keys = read_only(np.ascontiguousarray(values, dtype=np.float64))
    packed = np.sort(_packed_keys(keys, shift, descending), axis=1)
    return _restore_key_order(packed, keys, shift, descending)


@compiled
def _key(value: float, descending: bool) -> float:  # pragma: no cover - compiled
    """The sort key of ``value``: itself, or when ``descending`` ``-value`` and NaN as
    +inf (``np.where(np.isnan(v), np.inf, -v)``, element by element)."""
    if not descending:
        return value
    return np.inf if value != value else -value


@compiled
def _packed_keys(
    values: np.ndarray, shift: int, descending: bool
) -> np.ndarray:  # pragma: no cover - compiled
    """(P, S) int64: the order-preserving int64 of each key (``_key``; ``-0.0`` as
    ``+0.0``) with its lowest ``shift`` bits replaced by the column."""
    rows, cols = values.shape
    out = np.empty((rows, cols), dtype=np.int64)
    low = (np.int64(1) << np.int64(shift)) - np.int64(1)
    bits = values.view(np.int64)
    sign = np.int64(-0x8000000000000000)
    infinity = np.int64(0x7FF0000000000000)
    for r in range(rows):
        for c in range(cols):
            v = values[r, c]
            b = bits[r, c]
            if descending:  # the bits of _key(v): -v flips the sign bit; NaN is +inf
                b = infinity if v != v else b ^ sign
            if v == 0.0:  # -0.0 as +0.0 (and so the key of either)
                b = np.int64(0)
            b ^= (b >> np.int64(63)) & np.int64(0x7FFFFFFFFFFFFFFF)  # negative floats: reversed
            out[r, c] = (b & ~low) | np.int64(c)
    return out


@compiled
def _restore_key_order(
    packed: np.ndarray, values: np.ndarray, shift: int, descending: bool
) -> np.ndarray:  # pragma: no cover - compiled
    """(P, S) int64 columns from the sorted ``packed`` keys, each run of equal high bits
    put in (key, column) order (an insertion sort: such runs are a few columns); the keys
    of ``values`` as ``_packed_keys`` made them (``_key``)."""
    rows, cols = packed.shape
    order = np.empty((rows, cols), dtype=np.int64)
    low = (np.int64(1) << np.int64(shift)) - np.int64(1)
    for r in range(rows):
        for i in range(cols):
            order[r, i] = packed[r, i] & low
        i = 0
        while i < cols:
            j = i + 1
            high = packed[r, i] >> np.int64(shift)
            while j < cols and packed[r, j] >> np.int64(shift) == high:
                j += 1
            for a in range(i + 1, j):  # keys that differ below the column bits: rare
                c = order[r, a]
                key = _key(values[r, c], descending)
                b = a - 1
                while b >= i and _key(values[r, order[r, b]], descending) > key:
                    order[r, b + 1] = order[r, b]
                    b -= 1
                order[r, b + 1] = c
            i = j
    return order


@compiled
def _columns_within_ties(
    values: np.ndarray, order: np.ndarray, descending: bool
) -> None:  # pragma: no cover - compiled
    """In place: each run of equal keys (``_key`` of ``values``) along a sorted row of
    ``order`` gets its columns in ascending order."""
    rows, cols = order.shape
    for r in range(rows):
        i = 0
        while i < cols:
            value = _key(values[r, order[r, i]], descending)
            j = i + 1
            while j < cols and _key(values[r, order[r, j]], descending) == value:
                j += 1
            if j - i > 1:
                order[r, i:j] = np.sort(order[r, i:j])
            i = j


def snap_ties(matrix: np.ndarray) -> np.ndarray:
    """Signals equal up to rounding made equal, per row: along each row's finite values in
    ascending order, a value within ``engine.dispersion.TIE_RTOL`` (relative to
    ``max(1, |anchor|)``) of the first value of its run (the anchor) takes that value's
    bits. (P, S) float -> a new (P, S) float array; NaN and inf are kept.

    A mean of 0.01, 0.01, 0.34 is 0.12000000000000001, of 0.12, 0.12, 0.12 is 0.12: equal
    signals, and the tie goes to the symbol first alphabetically (``rank_descending``),
    not to the one rounding favours. Every consumer (ranking, IC, quantiles) then sees
    one value. The backtest gets the same values and its ranking from one sort
    (``rank_snapping_ties``).
    """
    return rank_snapping_ties(matrix)[0]


def rank_snapping_ties(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(snap_ties(matrix), rank_descending(snap_ties(matrix)))`` from one sort.

    (P, S) float -> ((P, S) float64, (P, S) int64). The stable sort of the keys
    (``-value``, NaN as +inf; ``stable_argsort_rows``) read backwards visits each row's
    finite values in ascending order, which is all the snapping needs; a snapped run keeps
    its place in that order (its values become its smallest, still above the run before
    it), so when a value was snapped only the columns within runs of equal keys are then
    put back in column order (``_columns_within_ties``). A sort per signal setting is what
    the ranking paid already: snapping in a sort of its own added ~2.7 ms per setting
    (120 x 500), a sixth of a W3 sweep.
    """
    snapped = np.array(matrix, dtype=np.float64, order="C", copy=True)
    order = _sorted_rows(snapped, descending=True)
    if _snap_runs(snapped, read_only(order), TIE_RTOL):
        _columns_within_ties(read_only(snapped), order, True)
    return snapped, order


@compiled
def _snap_runs(values: np.ndarray, order: np.ndarray, rtol: float) -> bool:  # pragma: no cover - compiled
    """In place: along each row's ``order`` read backwards (ascending values; ``order``
    sorts ``-values`` ascending), finite values within ``rtol x max(1, |anchor|)`` of their
    run's first value (the anchor) take the anchor's value; a non-finite value ends a run.
    True when a value changed."""
    rows, cols = order.shape
    changed = False
    for r in range(rows):
        anchor = np.nan
        for i in range(cols - 1, -1, -1):
            c = order[r, i]
            v = values[r, c]
            if not np.isfinite(v):
                anchor = np.nan
                continue
            if anchor == anchor and v - anchor <= rtol * max(1.0, abs(anchor)):
                if v != anchor:
                    values[r, c] = anchor
                    changed = True
            else:
                anchor = v
    return changed


def top_n_descending(matrix: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` columns of ``rank_descending(matrix)`` without sorting whole rows.

    A partition finds each row's n-th best value; everything strictly better is in, and
    ties at that value are filled by column order; only the n chosen are then sorted
    (stably, so ties stay in column order). Requires ``n <= matrix.shape[1]``.
    """
    rows, cols = matrix.shape
    if n >= cols:
        return rank_descending(matrix)
    keyed = np.where(np.isnan(matrix), np.inf, -matrix)
    kth = np.partition(keyed, n - 1, axis=1)[:, n - 1 : n]
    better = keyed < kth
    tied = keyed == kth
    room = n - better.sum(axis=1, keepdims=True)
    chosen = better | (tied & (np.cumsum(tied, axis=1) <= room))
    columns = np.nonzero(chosen)[1].reshape(rows, n)  # ascending column order per row
    order = np.argsort(np.take_along_axis(keyed, columns, axis=1), axis=1, kind="stable")
    return np.take_along_axis(columns, order, axis=1)


# ----- a pandas view, for people and tests -----


def signal_table(sentiment: pd.DataFrame, params: StrategyParams | None = None) -> pd.DataFrame:
    """Aggregated signal per (formation period, symbol), ranked within the period.

    Columns: ``formation_start`` (first calendar day of the period), ``symbol``,
    ``signal``, ``rank`` (1 = best; ties by symbol ascending), ``likes``, ``comments``
    (sums over the kept rows). Only symbols with a defined signal appear. This is a
    readable equivalent of what the backtest computes from ``PreparedData``.
    """
    params = params or StrategyParams()
    frame = sentiment
    keep = (frame["twitterLikes"].to_numpy(float) > params.min_likes) & (
        frame["twitterComments"].to_numpy(float) > params.min_comments
    )
    frame = frame.loc[keep]
    comments = frame["twitterComments"].to_numpy(float)
    likes = frame["twitterLikes"].to_numpy(float)
    cols = {c: frame[c].to_numpy(float) for c in SIGNAL_COLUMNS.values()}
    values = row_signal(params.signal, comments=comments, likes=likes, columns=cols)
    days = pd.DatetimeIndex(frame["date"]).values.astype("datetime64[D]")
    work = pd.DataFrame(
        {
            "key": period_keys(days, params.rebalance),
            "symbol": frame["symbol"].astype(str).to_numpy(),
            "value": values,
            "likes": likes,
            "comments": comments,
        }
    )
    work = work[np.isfinite(work["value"])]
    grouped = work.groupby(["key", "symbol"], sort=True)
    table = grouped.agg(
        signal=("value", params.aggregation), likes=("likes", "sum"), comments=("comments", "sum")
    )
    table = table.reset_index()
    if params.signal_transform == "change":
        previous = table[["key", "symbol", "signal"]].assign(key=table["key"] + 1)
        table = table.merge(previous, on=["key", "symbol"], how="inner", suffixes=("", "_prev"))
        table["signal"] = table["signal"] - table["signal_prev"]
        table = table.drop(columns="signal_prev")
    # Signals equal up to rounding are one value, as the backtest ranks them (snap_ties).
    table["signal"] = table.groupby("key")["signal"].transform(
        lambda v: snap_ties(v.to_numpy(dtype=np.float64)[None, :])[0]
    )
    table = table.sort_values(["key", "signal", "symbol"], ascending=[True, False, True], kind="stable")
    table["rank"] = table.groupby("key").cumcount() + 1
    if params.signal_transform == "change":
        table["signal"] = shown_change(table["signal"].to_numpy(dtype=np.float64))
    table["formation_start"] = pd.to_datetime(period_first_day(table["key"].to_numpy(), params.rebalance))
    return table[["formation_start", "symbol", "signal", "rank", "likes", "comments"]].reset_index(drop=True)


def shown_change(values: np.ndarray) -> np.ndarray:
    """A ``change`` signal as shown and exported: values tied with 0 under the engine's tie
    rule (``engine.dispersion.zero_within_rounding``: within 1e-10) are 0. A mean unchanged from one period
    to the next (31 x 0.15, then 28 x 0.15) differs by rounding (-5.55e-17), which was
    shown in the holdings and their CSV; the ranking already treats it as a tie."""
    return np.asarray(zero_within_rounding(values))
