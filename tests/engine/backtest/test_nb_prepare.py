"""The compiled steps of ``prepare`` (``engine/backtest/nb_prepare.py``) give exactly what
the pandas/Arrow code they replaced gave: the same symbol codes and names (against
``pyarrow.compute.index_in``), and the same price-matrix bits (against the numpy copy,
test and forward fill). The replaced functions are copied here as the references."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backtest import nb_prepare
from engine.backtest.prepare import _price_matrix, _symbol_codes, _vocabulary_codes

# ----- the replaced implementations (engine/backtest/prepare.py before nb_prepare) ----------


def _old_symbol_codes(symbols: pd.Series, vocabulary: list[str]) -> tuple[np.ndarray, list[str]]:
    array = symbols.array
    if isinstance(symbols.dtype, pd.StringDtype) and symbols.dtype.storage == "pyarrow":
        arrow = pa.array(array)
        if arrow.null_count == 0:
            hit = pc.index_in(arrow, value_set=pa.array(vocabulary, type=arrow.type))
            if hit.null_count == 0:
                return hit.to_numpy(), list(vocabulary)
            unknown = hit.is_null()
            extra_rows = arrow.filter(unknown)
            if isinstance(extra_rows, pa.ChunkedArray):
                extra_rows = extra_rows.combine_chunks()
            extra = extra_rows.dictionary_encode()
            codes = pc.fill_null(hit, 0).to_numpy().copy()
            codes[unknown.to_numpy(zero_copy_only=False)] = extra.indices.to_numpy() + len(vocabulary)
            return codes, [*vocabulary, *(str(u) for u in extra.dictionary.to_pylist())]
    codes, uniques = pd.factorize(array)
    return np.asarray(codes), [str(u) for u in np.asarray(uniques, dtype=object).tolist()]


def _old_forward_fill(raw: np.ndarray, valid: np.ndarray) -> np.ndarray:
    t = raw.shape[0]
    idx = np.where(valid, np.arange(t)[:, None], 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    return np.take_along_axis(raw, idx, axis=0)


def _old_price_matrix(
    prices: pd.DataFrame, symbols: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    t, n = len(prices.index), len(symbols)
    matrix = np.empty((t, n + 1))
    body = matrix[:, :n]
    if prices.columns.tolist() == list(symbols):
        body[...] = prices.to_numpy(dtype=np.float64)
    else:
        body[...] = prices.reindex(columns=list(symbols)).to_numpy(dtype=np.float64)
    matrix[:, n] = 1.0
    valid = body > 0
    valid &= body < np.inf
    has_close = np.empty((t, n + 1), dtype=bool)
    has_close[:, :n] = valid
    has_close[:, n] = True
    first_valid = np.zeros(n + 1, dtype=np.int64)
    last_valid = np.full(n + 1, t - 1, dtype=np.int64)
    gaps = np.flatnonzero(~valid.all(axis=0))
    if gaps.size:
        sub_valid = valid[:, gaps]
        any_valid = sub_valid.any(axis=0)
        first_valid[gaps] = np.where(any_valid, sub_valid.argmax(axis=0), t)
        last_valid[gaps] = np.where(any_valid, t - 1 - sub_valid[::-1].argmax(axis=0), -1)
        inside = sub_valid.sum(axis=0) < last_valid[gaps] - first_valid[gaps] + 1
        edges = gaps[~inside]
        for col, first, last in zip(edges, first_valid[edges], last_valid[edges], strict=True):
            body[:first, col] = 0.0
            if last >= 0:
                body[last + 1 :, col] = body[last, col]
        holes = gaps[inside]
        if holes.size:
            hole_valid = valid[:, holes]
            filled = _old_forward_fill(np.where(hole_valid, body[:, holes], np.nan), hole_valid)
            body[:, holes] = np.where(np.isnan(filled), 0.0, filled)
    return matrix, has_close, first_valid, last_valid


# ----- symbol codes ----------------------------------------------------------------------------

# Short and long (across the 8-byte word), ASCII and multi-byte UTF-8, prefixes of each
# other ("AB", "ABC", "AB\x00"), the empty string.
_NAMES = st.text(alphabet=st.sampled_from(list("AB\x00.-^Zé€𝄞")), min_size=0, max_size=12)


def _assert_same_codes(new: tuple[np.ndarray, list[str]], old: tuple[np.ndarray, list[str]]) -> None:
    assert new[1] == old[1]
    assert new[0].dtype == old[0].dtype
    np.testing.assert_array_equal(new[0], old[0])


@settings(max_examples=300, deadline=None)
@given(
    vocabulary=st.lists(_NAMES, max_size=40, unique=True),
    extra=st.lists(_NAMES, max_size=6),
    data=st.data(),
    order=st.sampled_from(["date-symbol", "shuffled", "symbol"]),
    chunks=st.integers(1, 4),
)
def test_symbol_codes_are_the_old_codes(
    vocabulary: list[str], extra: list[str], data: st.DataObject, order: str, chunks: int
) -> None:
    vocabulary = sorted(vocabulary)
    pool = vocabulary + extra
    if not pool:
        pool = ["A"]
    rows = data.draw(st.lists(st.sampled_from(pool), max_size=200))
    rng = np.random.default_rng(len(rows))
    if order == "date-symbol":  # runs of ascending symbols, as MarketData sorts them
        days = rng.integers(0, 5, len(rows))
        rows = [r for _, r in sorted(zip(days, rows, strict=True))]
    elif order == "symbol":
        rows = sorted(rows)
    else:
        rng.shuffle(rows)
    series = pd.Series(rows, dtype="str")
    if chunks > 1 and len(rows) > 1:  # a long or concatenated column comes in chunks
        cuts = np.linspace(0, len(rows), chunks + 1).astype(int)
        series = pd.concat([series.iloc[a:b] for a, b in itertools.pairwise(cuts)], ignore_index=True)
    _assert_same_codes(_symbol_codes(series, vocabulary), _old_symbol_codes(series, vocabulary))


@settings(max_examples=200, deadline=None)
@given(
    vocabulary=st.lists(_NAMES, max_size=30, unique=True),
    rows=st.lists(_NAMES, max_size=120),
    large=st.booleans(),
    offset=st.integers(0, 9),
    n_chunks=st.integers(1, 3),
)
def test_vocabulary_codes_are_index_in(
    vocabulary: list[str], rows: list[str], large: bool, offset: int, n_chunks: int
) -> None:
    """Arrow ``string`` (int32 offsets) and ``large_string``, sliced arrays (an offset into
    the buffers) and several chunks: -1 exactly where ``index_in`` finds nothing."""
    vocabulary = sorted(vocabulary)
    kind = pa.large_string() if large else pa.string()
    whole = pa.array(["pad"] * offset + rows + vocabulary, type=kind).slice(offset)
    cuts = np.linspace(0, len(whole), n_chunks + 1).astype(int)
    arrow = pa.chunked_array([whole.slice(a, b - a) for a, b in itertools.pairwise(cuts)], type=kind)
    codes, missing = _vocabulary_codes(arrow, vocabulary)
    expected = pc.fill_null(pc.index_in(arrow, value_set=pa.array(vocabulary, type=kind)), -1).to_numpy()
    assert codes.dtype == np.int32
    np.testing.assert_array_equal(codes, expected)
    assert missing == int((expected < 0).sum())


def test_symbol_codes_of_the_other_storages_are_the_old_ones() -> None:
    rows = ["MSFT", "AAPL", "ZZZ_NOT_PRICED", "AAPL", "BRK.B", "ZZZ_NOT_PRICED", "A"]
    vocabulary = ["A", "AAPL", "BRK.B", "MSFT"]
    for series in (
        pd.Series(rows, dtype="str"),
        pd.Series(rows, dtype=object),
        pd.Series(rows, dtype="category"),
        pd.Series([*rows, None], dtype="str"),  # a null: the factorisation path
    ):
        _assert_same_codes(_symbol_codes(series, vocabulary), _old_symbol_codes(series, vocabulary))
    codes, names = _symbol_codes(pd.Series(rows, dtype="str"), vocabulary)
    assert names == [*vocabulary, "ZZZ_NOT_PRICED"]
    assert codes.tolist() == [3, 1, 4, 1, 2, 4, 0]


def test_lookup_reads_unaligned_and_tail_bytes() -> None:
    """A data buffer that does not start on an 8-byte boundary (copied to an aligned one)
    and strings ending in its last bytes (no whole word left: read byte by byte)."""
    blob = b"x" + b"LONGER_THAN_8" + b"AB" + b"ABC" + b"\xc3\xa9"
    data = np.frombuffer(blob, dtype=np.uint8)[1:]
    offsets = np.array([0, 13, 15, 18, 20], dtype=np.int64)
    vocab = ["AB", "ABC", "LONGER_THAN_8", "é"]
    vocab_bytes = "".join(vocab).encode()
    vocab_offsets = np.cumsum([0, *(len(v.encode()) for v in vocab)]).astype(np.int64)
    codes, missing = nb_prepare.lookup_codes(
        offsets, data, vocab_offsets, np.frombuffer(vocab_bytes, dtype=np.uint8)
    )
    assert codes.tolist() == [2, 0, 1, 3]
    assert missing == 0
    codes, missing = nb_prepare.lookup_codes(
        offsets, data, vocab_offsets[:3], np.frombuffer(vocab_bytes, dtype=np.uint8)
    )
    assert codes.tolist() == [-1, 0, 1, -1]
    assert missing == 2


@pytest.mark.parametrize("large", [True, False])
def test_lookup_tells_apart_strings_that_share_their_first_bytes(large: bool) -> None:
    """Equal first 8 bytes, zero-padded ("AB" / "AB\\x00": one hash slot chain) or not
    (differing at byte 8 or later): only the full bytes and the length decide."""
    vocabulary = sorted(["AB", "ABCDEFGHX", "ABCDEFGHXY", "\x00"])
    rows = ["AB\x00", "AB", "ABCDEFGHY", "ABCDEFGHX", "ABCDEFGHXZ", "ABCDEFGHXY", "", "\x00\x00", "\x00"]
    arrow = pa.array(rows, type=pa.large_string() if large else pa.string())
    codes, missing = _vocabulary_codes(arrow, vocabulary)
    code = {name: i for i, name in enumerate(vocabulary)}
    assert codes.tolist() == [
        -1,
        code["AB"],
        -1,
        code["ABCDEFGHX"],
        -1,
        code["ABCDEFGHXY"],
        -1,
        -1,
        code["\x00"],
    ]
    assert missing == 5


@pytest.mark.parametrize("large", [True, False])
def test_long_symbols_sharing_their_first_word(large: bool) -> None:
    """Symbols that share their first 8 bytes (they do not share a hash chain: the later
    bytes are mixed in) and rows of them in any order; the compiled lookup directly, and
    through ``_vocabulary_codes`` (which hands strings this long to ``index_in``)."""
    vocabulary = sorted(f"EXCHANGE:{i:03d}{suffix}" for i in range(300) for suffix in ("", "X"))
    rng = np.random.default_rng(7)
    rows = [vocabulary[i] for i in rng.integers(0, len(vocabulary), 2000)] + ["EXCHANGE:", "EXCHANGE:999"]
    kind = pa.large_string() if large else pa.string()
    arrow = pa.array(rows, type=kind)
    expected = pc.fill_null(pc.index_in(arrow, value_set=pa.array(vocabulary, type=kind)), -1).to_numpy()
    offsets = np.frombuffer(arrow.buffers()[1], dtype=np.int64 if large else np.int32)[: len(arrow) + 1]
    vocab = pa.array(vocabulary, type=pa.large_string())
    codes, missing = nb_prepare.lookup_codes(
        offsets.astype(np.int64),
        np.frombuffer(arrow.buffers()[2], dtype=np.uint8),
        np.frombuffer(vocab.buffers()[1], dtype=np.int64)[: len(vocab) + 1],
        np.frombuffer(vocab.buffers()[2], dtype=np.uint8),
    )
    np.testing.assert_array_equal(codes, expected)
    assert missing == 2
    codes, missing = _vocabulary_codes(arrow, vocabulary)
    np.testing.assert_array_equal(codes, expected)
    assert missing == 2


# ----- price matrix ----------------------------------------------------------------------------

_SPECIAL = [np.nan, 0.0, -0.0, -3.5, np.inf, -np.inf, 5e-324, 1e308]


@st.composite
def _price_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, tuple[str, ...]]:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    t = draw(st.integers(0, 30))
    n = draw(st.integers(1, 25))
    values = rng.lognormal(3.0, 1.0, (t, n))
    for col in range(n):
        kind = draw(st.sampled_from(["clean", "listing", "delisting", "both", "holes", "none", "special"]))
        if t == 0:
            continue
        a, b = sorted(rng.integers(0, t + 1, 2))
        if kind in ("listing", "both"):
            values[:a, col] = np.nan
        if kind in ("delisting", "both"):
            values[b:, col] = np.nan
        if kind == "holes":
            values[rng.random(t) < 0.3, col] = np.nan
        if kind == "none":
            values[:, col] = np.nan
        if kind == "special":
            where = rng.random(t) < 0.4
            values[where, col] = rng.choice(_SPECIAL, int(where.sum()))
    names = [f"S{i:02d}" for i in range(n)]
    frame = pd.DataFrame(values, index=pd.bdate_range("2024-01-01", periods=t), columns=names)
    layout = draw(st.sampled_from(["sorted", "shuffled", "missing", "two blocks", "float32 block"]))
    symbols = tuple(sorted(names))
    if layout == "shuffled":
        frame = frame[list(rng.permutation(names))]
    elif layout == "missing":  # symbols without prices (sentiment names not in the frame)
        symbols = tuple(sorted([*names, "AAA", "S99", "ZZ"]))
        frame = frame[list(rng.permutation(names))]
    elif layout == "two blocks":  # a column added after construction: a second block
        frame["QQQ"] = rng.lognormal(3.0, 1.0, t)
        frame = frame[sorted(frame.columns)]
        symbols = tuple(sorted(frame.columns))
    elif layout == "float32 block":
        frame = frame.astype({names[0]: np.float32})
    return frame, symbols


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")  # 1e308 as float32
@settings(max_examples=300, deadline=None)
@given(case=_price_frames())
def test_price_matrix_has_the_old_bits(case: tuple[pd.DataFrame, tuple[str, ...]]) -> None:
    frame, symbols = case
    new, old = _price_matrix(frame, symbols), _old_price_matrix(frame, symbols)
    for name, a, b in zip(("prices", "has_close", "first_valid", "last_valid"), new, old, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert a.tobytes() == b.tobytes(), name  # bits: -0.0, NaN payloads included


def test_price_matrix_of_a_hand_case() -> None:
    """Listing, a hole, a bad close (0, negative, inf), delisting, no price at all, and a
    symbol missing from the frame; the columns not in symbol order."""
    nan, inf = np.nan, np.inf
    frame = pd.DataFrame(
        {
            "B": [nan, 10.0, 0.0, 12.0, nan],
            "A": [1.0, 2.0, 3.0, 4.0, 5.0],
            "D": [nan, nan, nan, nan, nan],
            "C": [-1.0, 7.0, inf, 8.0, 9.0],
        }
    )
    prices, has_close, first, last = _price_matrix(frame, ("A", "B", "C", "D", "E"))
    expected = np.array(
        [
            [1.0, 0.0, 0.0, 0.0, 0.0, 1.0],
            [2.0, 10.0, 7.0, 0.0, 0.0, 1.0],
            [3.0, 10.0, 7.0, 0.0, 0.0, 1.0],
            [4.0, 12.0, 8.0, 0.0, 0.0, 1.0],
            [5.0, 12.0, 9.0, 0.0, 0.0, 1.0],
        ]
    )
    np.testing.assert_array_equal(prices, expected)
    assert has_close[:, 1].tolist() == [False, True, False, True, False]
    assert has_close[:, 2].tolist() == [False, True, False, True, True]
    assert not has_close[:, 3:5].any() and has_close[:, 5].all()
    assert first.tolist() == [0, 1, 1, 5, 5, 0]
    assert last.tolist() == [4, 3, 4, -1, -1, 4]


def test_price_matrix_keeps_the_old_behaviour_for_odd_column_names() -> None:
    """Non-string names go through ``reindex`` as before (no match: no price); duplicate
    names raise what ``reindex`` raises."""
    frame = pd.DataFrame({1: [1.0, 2.0], 2: [3.0, np.nan]})
    for a, b in zip(_price_matrix(frame, ("1", "2")), _old_price_matrix(frame, ("1", "2")), strict=True):
        assert a.tobytes() == b.tobytes()
    duplicated = pd.DataFrame([[1.0, 2.0, 3.0]], columns=["A", "A", "B"])
    with pytest.raises(ValueError, match="duplicate"):
        _old_price_matrix(duplicated, ("A", "B"))
    with pytest.raises(ValueError, match="duplicate"):
        _price_matrix(duplicated, ("A", "B"))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_rows=st.integers(0, 500),
    n_symbols=st.integers(1, 40),
    per_pass=st.sampled_from([1, 3, 16, 512]),
)
def test_symbol_major_is_a_stable_sort_and_two_gathers(seed, n_rows, n_symbols, per_pass) -> None:
    """Every pass width (one pass, several, one symbol per pass) gives the stable order."""
    rng = np.random.default_rng(seed)
    row_symbol = rng.integers(0, n_symbols, n_rows).astype(np.int32)
    first, second = rng.normal(size=n_rows), rng.normal(size=n_rows)
    order = np.argsort(row_symbol, kind="stable")
    a, b = nb_prepare._scatter_by_symbol(row_symbol, n_symbols, first, second, per_pass)
    assert a.tobytes() == first[order].tobytes()
    assert b.tobytes() == second[order].tobytes()
    a, b = nb_prepare.symbol_major(row_symbol, n_symbols, first, second)
    assert a.tobytes() == first[order].tobytes() and b.tobytes() == second[order].tobytes()
