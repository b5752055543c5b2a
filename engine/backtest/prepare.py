"""Market data -> the arrays every backtest run reuses (``PreparedData``), and the
per-prepared-data memo of the repeated work of sweeps and random baselines."""

from __future__ import annotations

import bisect
import dataclasses
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine.backtest import nb_prepare
from engine.backtest.nb_signal import symbol_period_runs
from engine.data.types import COUNT_COLUMNS, MarketData, SourceInfo
from engine.errors import ParameterError
from engine.strategy.params import REBALANCES, SIGNALS
from engine.strategy.signals import SIGNAL_COLUMNS, engagement_ratio, period_keys, row_signal

_V = TypeVar("_V")


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Groups:
    """Contiguous runs of sorted sentiment rows sharing (symbol, period) for one rebalance."""

    starts: np.ndarray  # (G,) first row of each run
    symbol: np.ndarray  # (G,) symbol index of each run
    key: np.ndarray  # (G,) period key of each run
    cell: np.ndarray  # (G,) position of each run in the flattened (period - k0, symbol) matrix
    k0: int  # smallest period key
    n_periods: int  # keys k0 .. k0 + n_periods - 1


@dataclasses.dataclass(frozen=True, kw_only=True)
class PreparedData:
    """Numpy precomputation of a ``MarketData``, shared by every configuration of a sweep.

    Picklable (numpy arrays, tuples, dicts): its sweeps ``ray.put`` it once (``for_tasks``).

    - ``dates``: trading days (``datetime64[D]``, length T).
    - ``symbols``: sorted union of the price columns and the sentiment symbols (S).
    - ``prices``: T x (S+1) adjusted closes, forward-filled, 0.0 before a symbol's
      first price (it is never held there); the extra last column is cash (always 1.0).
    - ``has_close``: T x (S+1) booleans, True where the column has a real close that
      day (the cash column always): the causal holdability test reads it at the entry.
    - ``first_valid`` / ``last_valid``: (S+1) index of each column's first/last real
      price (T / -1 when it has none; the cash column spans all days). Only reports
      (the benchmark's edges) use them; no decision does.
    - ``returns``: T x S daily simple returns of the forward-filled prices (row 0 NaN;
      NaN up to a symbol's first price). Computed from ``prices`` on first read and then
      kept (read-only): a single backtest with equal weights never reads it.
    - ``row_*``: the sentiment rows as arrays, sorted by (symbol, date), so that the rows
      of one (symbol, period) are contiguous for every rebalance frequency:
      ``row_values[signal]`` the per-row signal (0 where undefined), ``row_defined[signal]``
      where it is defined (None: everywhere); ``groups[rebalance]`` where each (symbol, period) run starts.
      These three are read-only mappings computed on first use of a key and memoised on
      the object (``_RowSource``): one backtest sorts and groups only its own signal and
      frequency, not all of them; a sweep touches the keys it needs before ``ray.put``.
    - ``sentiment_first`` / ``sentiment_last``: the first and last day of any sentiment row
      (kept by the thresholds or not; NaT when there is none): where the sentiment data
      begin and end, so a formation period they cut is warned
      (``engine.backtest.plan.partial_formation_warnings``).
    """

    dates: np.ndarray
    symbols: tuple[str, ...]
    prices: np.ndarray
    has_close: np.ndarray
    first_valid: np.ndarray
    last_valid: np.ndarray
    row_likes: np.ndarray
    row_comments: np.ndarray
    row_values: Mapping[str, np.ndarray]
    row_defined: Mapping[str, np.ndarray | None]
    groups: Mapping[str, _Groups]
    source: SourceInfo
    fingerprint: str
    sentiment_first: np.datetime64  # datetime64[D]; NaT without rows
    sentiment_last: np.datetime64
    _returns: list[np.ndarray] = dataclasses.field(default_factory=list, repr=False, compare=False)

    @property
    def returns(self) -> np.ndarray:
        if not self._returns:  # a race computes the same bits twice: benign
            self._returns.append(_daily_returns(self.prices, self.first_valid))
        return self._returns[0]

    @property
    def n_symbols(self) -> int:
        return len(self.symbols)

    def for_tasks(self) -> PreparedData:
        """This data as tasks on other processes receive it (``ray.put`` once): the same
        arrays, with only the row arrays already computed here (the signals and
        rebalance frequencies the job touched first), not the raw count columns and
        the row order they are derived from. About half the bytes of a 1M-row data set.
        A task reading a signal or frequency that was not touched gets a RuntimeError.

        The same object is returned while the set of computed rows is unchanged (it is
        memoised on the row source, keyed by that set; touching another signal or
        frequency makes a new one): the Ray executor puts one object once, so the many
        sweeps of a data set ship its bytes once (``engine.execution.executor``)."""
        computed = _computed_rows(self.row_values)
        source = self.row_values.rows if isinstance(self.row_values, _LazyMap) else None
        key = frozenset(computed)
        if isinstance(source, _RowSource) and source.shipped is not None and source.shipped[0] == key:
            return source.shipped[1]
        rows = _SealedRows(computed)
        shipped = dataclasses.replace(
            self,
            row_values=_LazyMap(SIGNALS, rows.values, rows),
            row_defined=_LazyMap(SIGNALS, rows.defined, rows),
            groups=_LazyMap(REBALANCES, rows.groups, rows),
        )
        if isinstance(source, _RowSource):
            source.shipped = (key, shipped)
        return shipped

    def symbol_index(self, symbol: str) -> int | None:
        # ``symbols`` is sorted: a binary search of the tuple itself (converting it to an
        # array for ``np.searchsorted`` cost ~50 us, paid by every configuration of a sweep).
        i = bisect.bisect_left(self.symbols, symbol)
        return i if i < len(self.symbols) and self.symbols[i] == symbol else None


def prepare(data: MarketData) -> PreparedData:
    """Turn validated ``MarketData`` into the arrays every backtest run reuses."""
    prices = data.prices
    sentiment = data.sentiment
    # Index.tolist: one conversion, not an element-wise iteration of Arrow strings.
    price_symbols = sorted(set(map(str, prices.columns.tolist())))
    codes, row_names = _symbol_codes(sentiment["symbol"], price_symbols)
    symbols = tuple(sorted(set(price_symbols) | set(row_names)))
    n = len(symbols)
    dates = pd.DatetimeIndex(prices.index).values.astype("datetime64[D]")
    matrix, has_close, first_valid, last_valid = _price_matrix(prices, symbols)

    # Symbol index of each row. The codes already are the index when the sentiment
    # names are the symbols (in order): no remapping pass then.
    position = np.searchsorted(np.asarray(symbols, dtype=object), np.asarray(row_names, dtype=object))
    if np.array_equal(position, np.arange(len(row_names))):
        row_symbol = codes
    else:
        row_symbol = np.take(position.astype(codes.dtype), codes)
    row_days = _day_numbers(sentiment["date"])
    date_sorted = bool(row_days.size) and bool(np.all(row_days[1:] >= row_days[:-1]))
    first_day = last_day = 0
    if row_days.size:
        ends = (row_days[0], row_days[-1]) if date_sorted else (row_days.min(), row_days.max())
        first_day, last_day = int(ends[0]), int(ends[1])
    # Day offsets in the narrowest type that holds them: the period lookups move fewer bytes.
    span = last_day - first_day
    # (Dates of years 1-9999 span under 3.7 million days: int32 always holds the offset.)
    small_day = np.int16 if span < 2**15 else np.int32
    day_offset = np.empty(row_days.size, dtype=small_day)
    np.subtract(row_days, first_day, out=day_offset, casting="unsafe")  # 0 <= offset <= span
    raw_likes = sentiment["twitterLikes"].to_numpy(dtype=np.float64)
    raw_comments = sentiment["twitterComments"].to_numpy(dtype=np.float64)
    order: np.ndarray | None = None  # the (symbol, date) row order, computed when needed
    if date_sorted:  # the MarketData contract: a counting-sort scatter, no order array
        likes, comments = nb_prepare.symbol_major(row_symbol, n, raw_likes, raw_comments)
    else:
        order = _symbol_date_order(row_symbol, row_days, date_sorted)
        likes, comments = _take(raw_likes, order), _take(raw_comments, order)
    likes.flags.writeable = comments.flags.writeable = False
    # The other count columns are gathered (in sorted order) only when a signal reads them.
    other_columns = {
        c: sentiment[c].to_numpy(dtype=np.float64)
        for c in COUNT_COLUMNS
        if c not in ("twitterLikes", "twitterComments")
    }
    rows = _RowSource(
        order=order,
        date_sorted=date_sorted,
        raw=other_columns,
        likes=likes,
        comments=comments,
        row_symbol=row_symbol,
        day_offset=day_offset,
        first_day=first_day,
        span=span,
        n_symbols=n,
    )
    prepared = PreparedData(
        dates=dates,
        symbols=symbols,
        prices=matrix,
        has_close=has_close,
        first_valid=first_valid,
        last_valid=last_valid,
        row_likes=likes,
        row_comments=comments,
        row_values=_LazyMap(SIGNALS, rows.values, rows),
        row_defined=_LazyMap(SIGNALS, rows.defined, rows),
        groups=_LazyMap(REBALANCES, rows.groups, rows),
        source=data.source,
        fingerprint=data.fingerprint,
        sentiment_first=np.datetime64(first_day, "D") if row_days.size else np.datetime64("NaT", "D"),
        sentiment_last=np.datetime64(last_day, "D") if row_days.size else np.datetime64("NaT", "D"),
    )
    _freeze(prepared)
    return prepared


def as_prepared(data: MarketData | PreparedData) -> PreparedData:
    """``data`` itself when already prepared, else ``prepare(data)``: the research functions
    take either, so a caller that keeps the prepared arrays of a data set (the dashboard,
    per worker) does not prepare them again. ``ParameterError`` for anything else."""
    if isinstance(data, PreparedData):
        return data
    if not isinstance(data, MarketData):
        raise ParameterError("data must be MarketData (load_market_data) or PreparedData (prepare)")
    return prepare(data)


def _price_matrix(
    prices: pd.DataFrame, symbols: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(prices T x (S+1), has_close T x (S+1), first_valid (S+1), last_valid (S+1)) as
    ``PreparedData`` documents them: one compiled pass over the frame's columns
    (``nb_prepare.fill_prices``) copies, tests and forward-fills them. Price columns
    are placed by name; a symbol without one has no price (0.0, no close)."""
    t, n = len(prices.index), len(symbols)
    matrix = np.empty((t, n + 1))
    has_close = np.empty((t, n + 1), dtype=bool)
    # The cash column: always 1.0, always a close, "listed" on every day.
    matrix[:, n] = 1.0
    has_close[:, n] = True
    first_valid = np.zeros(n + 1, dtype=np.int64)
    last_valid = np.full(n + 1, t - 1, dtype=np.int64)
    columns = prices.columns.tolist()
    if columns == list(symbols):
        values, targets = prices.to_numpy(dtype=np.float64), np.arange(n)
    elif len(set(columns)) == len(columns) and all(isinstance(c, str) for c in columns):
        values = prices.to_numpy(dtype=np.float64)
        targets = np.searchsorted(np.asarray(symbols, dtype=object), np.asarray(columns, dtype=object))
        absent = np.ones(n, dtype=bool)
        absent[targets] = False
        missing = np.flatnonzero(absent)
        matrix[:, missing] = 0.0
        has_close[:, missing] = False
        first_valid[missing] = t
        last_valid[missing] = -1
    else:  # reindex: its own errors (duplicate names) and matching rules
        values, targets = prices.reindex(columns=list(symbols)).to_numpy(dtype=np.float64), np.arange(n)
    # values.T: one row per column, contiguous for the frame's usual (column-major) copy.
    nb_prepare.fill_prices(values.T, targets, matrix, has_close, first_valid, last_valid)
    return matrix, has_close, first_valid, last_valid


def _daily_returns(prices: np.ndarray, first_valid: np.ndarray) -> np.ndarray:
    """T x S daily simple returns of the forward-filled ``prices`` (without the cash
    column): NaN on row 0 and on every day up to a symbol's first price (the same bits
    as dividing the forward-filled closes with NaN before the first price)."""
    t, n = prices.shape[0], prices.shape[1] - 1
    returns = np.full((t, n), np.nan)
    if t > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(prices[1:, :n], prices[:-1, :n], out=returns[1:])
        returns[1:] -= 1.0
        for col in np.flatnonzero(first_valid[:n] > 0):
            returns[: first_valid[col] + 1, col] = np.nan
    returns.flags.writeable = False
    return returns


class _LazyMap(Mapping[str, _V], Generic[_V]):
    """A read-only mapping over fixed ``keys`` whose values ``get(key)`` computes on first
    use (``_RowSource`` memoises them). Picklable when ``get`` is (a bound method)."""

    def __init__(
        self, keys: tuple[str, ...], get: Callable[[str], _V], rows: _RowSource | _SealedRows
    ) -> None:
        self._keys = keys
        self._get = get
        self.rows = rows  # the row source behind ``get`` (``PreparedData.for_tasks`` reads its memo)

    def __getitem__(self, key: str) -> _V:
        if key not in self._keys:
            raise KeyError(key)
        return self._get(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


class _RowSource:
    """The sentiment rows' sorted order and the per-signal / per-rebalance arrays derived
    from it, each computed once on first use and then shared (read-only).

    A race between two threads computing the same key is benign: both compute the same
    bits, and the memo keeps one."""

    def __init__(
        self,
        *,
        order: np.ndarray | None,
        date_sorted: bool,
        raw: dict[str, np.ndarray],
        likes: np.ndarray,
        comments: np.ndarray,
        row_symbol: np.ndarray,
        day_offset: np.ndarray,
        first_day: int,
        span: int,
        n_symbols: int,
    ) -> None:
        self._order = order  # input row of each sorted row (None: not computed yet)
        self.date_sorted = date_sorted  # the input rows are in date order
        self.raw = raw  # count columns other than likes/comments, in the input row order
        self.likes, self.comments = likes, comments  # in sorted order
        # Symbol index and day (first_day + offset, offset <= span) of each input row.
        self.row_symbol, self.day_offset = row_symbol, day_offset
        self.first_day, self.span, self.n_symbols = first_day, span, n_symbols
        for array in (row_symbol, day_offset, *raw.values()):
            array.flags.writeable = False
        self.memo: dict[tuple[str, str], Any] = {}
        # ``PreparedData.for_tasks``'s last answer and the computed row keys it holds.
        self.shipped: tuple[frozenset[tuple[str, str]], PreparedData] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "shipped": None}  # a pickle carries the rows once

    def _column(self, name: str) -> np.ndarray:
        if name == "twitterLikes":
            return self.likes
        if name == "twitterComments":
            return self.comments
        return self._memoised(("column", name), lambda: _take(self.raw[name], self.order()))

    def order(self) -> np.ndarray:
        """The input row of each sorted row (the other count columns are gathered by it,
        when a signal reads one): sorting by the day offsets orders as the dates do."""
        if self._order is None:
            self._order = _symbol_date_order(self.row_symbol, self.day_offset, self.date_sorted)
            self._order.flags.writeable = False
        return self._order

    def _signal(self, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        def compute() -> tuple[np.ndarray, np.ndarray | None]:
            if name == "engagement_ratio":  # row_signal's ratio, zeroed in place where undefined
                ratio, defined = engagement_ratio(self.comments, self.likes)
                if defined.all():
                    return ratio, None
                np.copyto(ratio, 0.0, where=~defined)
                return ratio, defined
            columns = (
                {SIGNAL_COLUMNS[name]: self._column(SIGNAL_COLUMNS[name])} if name in SIGNAL_COLUMNS else {}
            )
            v = row_signal(name, comments=self.comments, likes=self.likes, columns=columns)
            finite = np.isfinite(v)
            if finite.all():
                return v, None  # columns without gaps are shared, not copied
            if v.flags.writeable and not any(
                np.shares_memory(v, c) for c in (self.likes, self.comments, *columns.values())
            ):
                np.copyto(v, 0.0, where=~finite)  # a fresh array: zero it in place
                return v, finite
            return np.where(finite, v, 0.0), finite

        return self._memoised(("signal", name), compute)

    def values(self, name: str) -> np.ndarray:
        return self._signal(name)[0]

    def defined(self, name: str) -> np.ndarray | None:
        return self._signal(name)[1]

    def groups(self, rebalance: str) -> _Groups:
        return self._memoised(("groups", rebalance), lambda: self._groups(rebalance))

    def _groups(self, rebalance: str) -> _Groups:
        """The (symbol, period) runs of the sorted rows, from the number of rows in each
        (symbol, period) cell: rows are sorted by (symbol, date), so the runs are the
        non-empty cells in symbol-major order and start at the running count. One
        compiled counting pass over the input rows (``symbol_period_runs``); no per-row
        array in sorted order."""
        n_sym = self.n_symbols
        if self.day_offset.size == 0:
            return _Groups(
                starts=np.zeros(0, np.int64),
                symbol=np.zeros(0, np.int64),
                key=np.zeros(0, np.int64),
                cell=np.zeros(0, np.int64),
                k0=0,
                n_periods=0,
            )
        calendar = np.arange(self.first_day, self.first_day + self.span + 1).astype("datetime64[D]")
        # period_keys through a lookup table over the (short) date range; the table is
        # non-decreasing and spans the rows' first to last day, so its ends are the
        # rows' smallest and largest keys.
        table = period_keys(calendar, rebalance)
        k0 = int(table[0])
        n_periods = int(table[-1]) - k0 + 1
        starts, symbol, offset, cell = symbol_period_runs(
            self.row_symbol, self.day_offset, table - k0, n_periods, n_sym
        )
        return _Groups(starts=starts, symbol=symbol, key=offset + k0, cell=cell, k0=k0, n_periods=n_periods)

    def _memoised(self, key: tuple[str, str], compute: Callable[[], Any]) -> Any:
        hit = self.memo.get(key)
        if hit is None:
            hit = compute()
            _freeze_value(hit)
            self.memo[key] = hit
        return hit


class _SealedRows:
    """The memoised part of a ``_RowSource`` (``PreparedData.for_tasks``): what was computed
    is served, anything else is an error naming it (picklable: one dict of arrays)."""

    def __init__(self, memo: dict[tuple[str, str], Any]) -> None:
        self.memo = memo

    def _get(self, key: tuple[str, str]) -> Any:
        hit = self.memo.get(key)
        if hit is None:
            raise RuntimeError(
                f"the {key[0]} {key[1]!r} was not prepared before the data was shipped to tasks"
            )
        return hit

    def values(self, name: str) -> np.ndarray:
        return self._get(("signal", name))[0]

    def defined(self, name: str) -> np.ndarray | None:
        return self._get(("signal", name))[1]

    def groups(self, rebalance: str) -> _Groups:
        return self._get(("groups", rebalance))


def _computed_rows(values: Mapping[str, np.ndarray]) -> dict[tuple[str, str], Any]:
    """The signal and group arrays a ``PreparedData``'s row source has computed so far."""
    rows = values.rows if isinstance(values, _LazyMap) else None
    memo = rows.memo if rows is not None else {}
    return {key: value for key, value in memo.items() if key[0] in ("signal", "groups")}


def _freeze_value(value: Any) -> None:
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, tuple):
        for part in value:
            _freeze_value(part)
    elif isinstance(value, _Groups):
        for part in (value.starts, value.symbol, value.key, value.cell):
            part.flags.writeable = False


def _freeze(prepared: PreparedData) -> None:
    """Make every array read-only: results are memoised per PreparedData object (the
    lazily computed row arrays are frozen as they are made)."""
    for field in dataclasses.fields(prepared):
        value = getattr(prepared, field.name)
        if isinstance(value, np.ndarray):
            value.flags.writeable = False


def _symbol_date_order(row_symbol: np.ndarray, row_days: np.ndarray, date_sorted: bool) -> np.ndarray:
    """Row order by (symbol, date) (int64). Rows arrive sorted by (date, symbol) (the
    MarketData contract), so a stable sort on the symbol alone suffices: Arrow's
    ``array_sort_indices`` (documented stable) counting-sorts small integer codes, about
    3x faster than numpy's radix sort of 16-bit codes (2.2 vs 7.4 ms on 1M rows).
    Otherwise (``date_sorted`` False) a full lexsort."""
    if date_sorted:
        return pc.array_sort_indices(pa.array(row_symbol)).to_numpy().view(np.int64)
    return np.lexsort((row_days, row_symbol))


def _take(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``values[order]`` by Arrow's ``take`` (zero-copy in and out; about 1.3x faster
    than ``np.take`` on the 1M-row symbol-major gather). Read-only result."""
    if values.size == 0:
        return np.take(values, order)
    return pc.take(pa.array(values), pa.array(order)).to_numpy()


def _symbol_codes(symbols: pd.Series, vocabulary: list[str]) -> tuple[np.ndarray, list[str]]:
    """(code of each row, name of each code; a name may have no row). Factorising the
    underlying array (Arrow strings, categorical, object) skips the Series machinery and
    is about twice as fast.

    Arrow strings without nulls are looked up in ``vocabulary`` (sorted, distinct: the
    price columns), whose positions are then the symbol index: a compiled hash lookup
    over the UTF-8 bytes (``nb_prepare.lookup_codes``; 4.8 ms on 1M rows in any order,
    where Arrow's ``index_in`` takes 10.5 ms and a factorisation 12.5 ms). Rows whose
    symbol is not in it are factorised among themselves (in order of appearance), coded
    after it."""
    array = symbols.array
    if isinstance(symbols.dtype, pd.StringDtype) and symbols.dtype.storage == "pyarrow":
        arrow = pa.array(array)
        if arrow.null_count == 0:
            codes, missing = _vocabulary_codes(arrow, vocabulary)
            if not missing:
                return codes, list(vocabulary)
            unknown = codes < 0
            extra_rows = arrow.filter(pa.array(unknown))
            if isinstance(extra_rows, pa.ChunkedArray):  # a long or concatenated column comes in chunks
                extra_rows = extra_rows.combine_chunks()
            extra = extra_rows.dictionary_encode()
            codes[unknown] = extra.indices.to_numpy() + len(vocabulary)
            return codes, [*vocabulary, *(str(u) for u in extra.dictionary.to_pylist())]
    codes, uniques = pd.factorize(array)
    # One conversion of the (few) uniques, not an element-wise iteration of an Arrow array.
    return np.asarray(codes), [str(u) for u in np.asarray(uniques, dtype=object).tolist()]


# Mean UTF-8 bytes per symbol up to which the compiled lookup beats ``pc.index_in``.
_SHORT_STRING = 8


def _vocabulary_codes(arrow: pa.Array | pa.ChunkedArray, vocabulary: list[str]) -> tuple[np.ndarray, int]:
    """((n,) int32 position of each (non-null) string in ``vocabulary``, -1 where absent;
    the number of -1s): the compiled lookup over each chunk's Arrow buffers (``string`` /
    ``large_string``) when the strings average at most 8 bytes (tickers: 3x faster than
    Arrow's hash lookup); else Arrow's ``index_in`` (another string type, or longer
    strings, which the compiled lookup hashes byte by byte: 1.4x slower at 13 bytes)."""
    chunks = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
    buffers = [_string_buffers(chunk) for chunk in chunks]
    vocab = _string_buffers(pa.array(vocabulary, type=pa.large_string()))
    strings = [b for b in buffers if b is not None]
    n_bytes = sum(int(offsets[-1] - offsets[0]) for offsets, _ in strings)
    if len(strings) < len(buffers) or vocab is None or n_bytes > _SHORT_STRING * len(arrow):
        hit = pc.index_in(arrow, value_set=pa.array(vocabulary, type=arrow.type))
        return pc.fill_null(hit, -1).to_numpy().astype(np.int32), hit.null_count
    codes = np.empty(len(arrow), dtype=np.int32)
    missing = at = 0
    for chunk, (offsets, data) in zip(chunks, strings, strict=True):
        out = codes[at : at + len(chunk)]
        missing += nb_prepare.lookup_codes(offsets, data, vocab[0], vocab[1], out)[1]
        at += len(chunk)
    return codes, missing


def _string_buffers(array: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """(offsets (n + 1,) int64, UTF-8 bytes) of an Arrow ``string`` / ``large_string``
    array, zero-copy for ``large_string`` (a slice keeps its offset); None for any other type."""
    if pa.types.is_large_string(array.type):
        offset_type: type[np.integer] = np.int64
    elif pa.types.is_string(array.type):
        offset_type = np.int32
    else:
        return None
    if len(array) == 0:  # its buffers may be absent
        return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.uint8)
    buffers = array.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offset_type)[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    return offsets.astype(np.int64, copy=False), data


_UNITS_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


def _day_numbers(dates: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 of each row (int64), straight from the datetime64 values."""
    if isinstance(dates.dtype, np.dtype) and dates.dtype.kind == "M":  # naive datetime64 of any unit
        values = dates.to_numpy()
        unit, count = np.datetime_data(values.dtype)
        per_day = _UNITS_PER_DAY.get(unit)
        if per_day is not None and count == 1:
            # Floor division: what the cast to datetime64[D] computes, without its checks.
            return values.view(np.int64) // per_day
    else:  # anything else pandas reads as dates (time zones: UTC days, as before)
        values = pd.DatetimeIndex(dates).values
    return values.astype("datetime64[D]").view(np.int64)


class _Memo:
    """A few recent results per (PreparedData object, key), for the repeated work of
    sweeps and random baselines. Holds the prepared data by weak reference only, so it
    never keeps a large data set alive, and checks identity (ids can be reused)."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.entries: dict[tuple[int, Any], tuple[weakref.ref, Any]] = {}

    def holds(self, prepared: PreparedData, key: Any) -> bool:
        """Whether ``key`` of this very ``prepared`` object is memoised."""
        hit = self.entries.get((id(prepared), key))
        return hit is not None and hit[0]() is prepared

    def get(self, prepared: PreparedData, key: Any, compute: Callable[[], Any]) -> Any:
        full_key = (id(prepared), key)
        if self.holds(prepared, key):
            return self.entries[full_key][1]
        value = compute()
        if len(self.entries) >= self.slots:
            self.entries.pop(next(iter(self.entries)))
        self.entries[full_key] = (weakref.ref(prepared), value)
        return value

    def clear(self) -> None:
        self.entries.clear()
