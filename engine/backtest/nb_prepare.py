"""Compiled kernels of ``prepare``: the symbol code of each sentiment row (a hash lookup
of Arrow UTF-8 strings in the vocabulary), the price matrix (one call that copies,
tests and forward-fills the closes) and the likes and comments in (symbol, date) order
(a counting-sort scatter). Array-only, no pandas or Arrow objects.

Compiled with ``engine.compiled.compiled`` (disk cache): one compiled signature per
kernel (callers normalise dtypes and read-only flags), no recursion, no fast-math.
``warm_up()`` compiles or loads both kernels.
"""

from __future__ import annotations

import numpy as np

from engine.compiled import compiled, floats, ints, read_only

# Fibonacci hashing (Knuth): the high bits of word x 2^64 / golden ratio pick the slot.
_MIX = np.uint64(0x9E3779B97F4A7C15)


def lookup_codes(
    offsets: np.ndarray,
    data: np.ndarray,
    vocab_offsets: np.ndarray,
    vocab_data: np.ndarray,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """((n,) int32 position of each UTF-8 string in the vocabulary (distinct strings), -1
    where absent; the number of -1s). String i is ``data[offsets[i]:offsets[i + 1]]``
    (Arrow's layout; ``offsets`` has n + 1 entries), vocabulary entry v likewise: equal
    bytes, equal strings. ``out``: a writable (n,) int32 array to fill, else a new one."""
    if out is None:
        out = np.empty(max(len(offsets) - 1, 0), dtype=np.int32)
    elif out.dtype != np.int32 or not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError("lookup_codes writes into a writable C-order int32 array")
    data = _bytes(data)
    missing = _lookup(ints(offsets), data, _words(data), ints(vocab_offsets), _bytes(vocab_data), out)
    return out, int(missing)


def fill_prices(
    source: np.ndarray,
    targets: np.ndarray,
    matrix: np.ndarray,
    has_close: np.ndarray,
    first_valid: np.ndarray,
    last_valid: np.ndarray,
) -> None:
    """Write the closes ``source`` (k x T: one row per price column, any float dtype)
    into the columns ``targets`` (k,) of ``matrix`` (T x C, float64, C order): a real
    close (> 0 and < inf) as it is, any other value as the column's last real close
    before it, 0.0 before the first. ``has_close[:, targets]`` gets the real-close
    test, ``first_valid`` / ``last_valid[targets]`` the first/last day with one (T / -1
    when none). Outputs are filled in place (writable, C order: checked, so that the
    kernel keeps its one compiled signature)."""
    for array, dtype in (
        (matrix, np.float64),
        (has_close, np.bool_),
        (first_valid, np.int64),
        (last_valid, np.int64),
    ):
        if array.dtype != dtype or not array.flags.c_contiguous or not array.flags.writeable:
            raise ValueError(f"fill_prices writes into writable C-order {np.dtype(dtype)} arrays")
    _fill(floats(source), ints(targets), matrix, has_close, first_valid, last_valid)


# Symbols scattered per pass of ``symbol_major``: two output streams per symbol stay
# within the CPU's address-translation cache (all 501 of W2's at once: 3.0 ms; with the
# row order as a third stream, 1,503 pages, 9.4 ms).
SYMBOLS_PER_PASS = 512


def symbol_major(
    row_symbol: np.ndarray, n_symbols: int, first: np.ndarray, second: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``first`` and ``second`` (rows,) reordered stably by ``row_symbol`` (rows,), the
    symbol index in [0, n_symbols) of each row: a counting sort that scatters the two
    columns straight into place (the rows of one symbol keep their order). For rows
    sorted by (date, symbol) this is the (symbol, date) order, the same as a stable
    argsort of the symbols followed by two gathers, at about a third of the cost."""
    return _scatter_by_symbol(
        read_only(np.ascontiguousarray(row_symbol, dtype=np.int32)),
        int(n_symbols),
        floats(first),
        floats(second),
        SYMBOLS_PER_PASS,
    )


@compiled
def _scatter_by_symbol(
    row_symbol: np.ndarray, n_symbols: int, first: np.ndarray, second: np.ndarray, per_pass: int
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """``symbol_major``: count the rows per symbol, then per pass of ``per_pass``
    symbols, walk the rows in order and write each of that pass's rows to its
    symbol's next slot."""
    n = row_symbol.shape[0]
    slot = np.zeros(n_symbols + 1, dtype=np.int64)
    for i in range(n):
        slot[row_symbol[i] + 1] += 1
    for s in range(n_symbols):
        slot[s + 1] += slot[s]
    out_first = np.empty(n)
    out_second = np.empty(n)
    if n_symbols <= per_pass:
        for i in range(n):
            s = row_symbol[i]
            k = slot[s]
            slot[s] = k + 1
            out_first[k] = first[i]
            out_second[k] = second[i]
        return out_first, out_second
    for lo in range(0, n_symbols, per_pass):
        hi = lo + per_pass
        for i in range(n):
            s = row_symbol[i]
            if lo <= s < hi:
                k = slot[s]
                slot[s] = k + 1
                out_first[k] = first[i]
                out_second[k] = second[i]
    return out_first, out_second


def warm_up() -> None:
    """Compile (or load from the cache) the kernels on tiny inputs."""
    symbol_major(np.zeros(2, dtype=np.int32), 1, np.ones(2), np.ones(2))
    offsets = np.array([0, 1, 3], dtype=np.int64)
    lookup_codes(
        offsets, np.frombuffer(b"ABC", dtype=np.uint8), offsets, np.frombuffer(b"ABC", dtype=np.uint8)
    )
    matrix, has_close = np.empty((2, 2)), np.empty((2, 2), dtype=bool)
    first, last = np.empty(2, dtype=np.int64), np.empty(2, dtype=np.int64)
    fill_prices(np.ones((2, 2)), np.arange(2), matrix, has_close, first, last)


def _bytes(array: np.ndarray) -> np.ndarray:
    """Read-only, C order, uint8 (see ``engine.compiled.floats``)."""
    return read_only(np.ascontiguousarray(array, dtype=np.uint8))


def _words(data: np.ndarray) -> np.ndarray:
    """The whole 8-byte words of ``data`` (uint8, C order) as aligned, read-only uint64:
    a view of Arrow's (64-byte aligned) buffers, a copy of an unaligned one."""
    whole = data[: data.size // 8 * 8]
    if whole.ctypes.data % 8:
        whole = whole.copy()
    return read_only(whole.view(np.uint64))


@compiled
def _lookup(
    offsets: np.ndarray,
    data: np.ndarray,
    words: np.ndarray,
    vocab_offsets: np.ndarray,
    vocab_data: np.ndarray,
    out: np.ndarray,
) -> int:  # pragma: no cover - compiled
    """``lookup_codes`` into ``out`` (returns the number of -1s): an open-addressing hash
    table of the vocabulary, keyed by each string's first (up to) 8 bytes as one integer
    (zero-padded: "AB" and "AB\\x00" share a slot chain) with the bytes after them mixed
    in, and verified on its length, that word and the bytes after the first 8. No row depends on the previous one (the
    CPU overlaps rows), so any row order is as fast as the sorted one.

    Written as one function (a call to another compiled function is not inlined and
    costs more than the lookup), with unsigned indices (numba adds a negative-index
    wraparound to every signed one)."""
    n_vocab = vocab_offsets.shape[0] - 1
    bits = 3
    while (1 << bits) < 4 * n_vocab:  # load factor <= 1/4: about one probe per row
        bits += 1
    mask = np.uint64((1 << bits) - 1)
    shift = np.uint64(64 - bits)
    one = np.uint64(1)
    # Slot contents: the entry's first 8 bytes (little-endian, zero-padded), its length
    # (-1: an empty slot) and its position in the vocabulary.
    slot_words = np.zeros(1 << bits, dtype=np.uint64)
    slot_lengths = np.full(1 << bits, -1, dtype=np.int64)
    slot_codes = np.zeros(1 << bits, dtype=np.int32)
    for v in range(n_vocab):
        v_start = vocab_offsets[v]
        length = vocab_offsets[v + 1] - v_start
        word = np.uint64(0)
        for k in range(min(length, 8)):
            word |= np.uint64(vocab_data[v_start + k]) << np.uint64(8 * k)
        key = word
        for k in range(8, length):  # the bytes after the first 8 (as for the rows)
            key = (key ^ np.uint64(vocab_data[v_start + k])) * _MIX
        slot = (key * _MIX) >> shift
        while slot_lengths[slot] >= 0:
            slot = (slot + one) & mask
        slot_words[slot], slot_lengths[slot], slot_codes[slot] = word, length, v
    limit = 8 * words.shape[0]  # a row starting 16 bytes or more before it loads two words
    full = ~np.uint64(0)
    missing = 0
    for i in range(out.shape[0]):
        row = np.uint64(i)
        start, end = offsets[row], offsets[row + one]
        length = end - start
        # The row's first (up to) 8 bytes as a little-endian word, zero-padded (``word``),
        # and its hash key: the word, with any bytes after the first 8 mixed in
        # ("EXCHANGE:AAPL" and "EXCHANGE:MSFT" share their word, not their slot chain).
        if 0 < length <= 8 and start + 16 <= limit:  # the usual case (one predicted branch):
            # two aligned words shifted together, without a branch on the alignment (a
            # shift by 64 is undefined: the high word goes by 1, then by 63 - r).
            q, r = np.uint64(start >> 3), np.uint64(8 * (start & 7))
            word = (words[q] >> r) | ((words[q + one] << one) << (np.uint64(63) - r))
            word &= full >> np.uint64(64 - 8 * length)
            key = word
        else:  # byte by byte: empty, long, or in the buffer's last 16 bytes
            word = np.uint64(0)
            for k in range(min(length, 8)):
                word |= np.uint64(data[start + k]) << np.uint64(8 * k)
            key = word
            for k in range(8, length):
                key = (key ^ np.uint64(data[start + k])) * _MIX
        slot = (key * _MIX) >> shift
        code = -1
        while slot_lengths[slot] >= 0:
            if slot_lengths[slot] == length and slot_words[slot] == word:
                same = True
                if length > 8:  # the bytes after the first 8 (guarded: even an empty loop costs)
                    v_start = vocab_offsets[np.uint64(slot_codes[slot])]
                    for k in range(8, length):
                        if data[start + k] != vocab_data[v_start + k]:
                            same = False
                            break
                if same:
                    code = slot_codes[slot]
                    break
            slot = (slot + one) & mask
        out[row] = code
        if code < 0:  # rare: a branch the CPU predicts costs less than the sum
            missing += 1
    return missing


@compiled
def _fill(
    source: np.ndarray,
    targets: np.ndarray,
    matrix: np.ndarray,
    has_close: np.ndarray,
    first_valid: np.ndarray,
    last_valid: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """``fill_prices`` in three passes, each a simple loop the compiler keeps tight:
    day by day, copy the closes (the transpose: whole output rows written in order);
    day by day, test them into ``has_close`` and count each column's real closes
    (contiguous rows: vectorised); then only for a column with a missing or bad close,
    find the first/last and forward-fill (its source row read in order). Fusing the
    copy and the test into one loop was 2.3x slower. Indices are range variables or
    the targets (numba drops the negative-index wraparound where it proves them >= 0)."""
    k, t = source.shape
    identity = True  # the columns already in place (no reindex): no indirection
    for i in range(k):
        identity &= targets[i] == i
    count = np.zeros(k, dtype=np.int64)
    if identity:
        for d in range(t):
            for i in range(k):
                matrix[d, i] = source[i, d]
        for d in range(t):
            for i in range(k):
                x = matrix[d, i]
                ok = (x > 0.0) & (x < np.inf)
                has_close[d, i] = ok
                count[i] += ok
    else:
        for d in range(t):
            for i in range(k):
                x = source[i, d]
                ok = (x > 0.0) & (x < np.inf)
                matrix[d, targets[i]] = x
                has_close[d, targets[i]] = ok
                count[i] += ok
    for i in range(k):
        col = targets[i]
        if count[i] == t:
            first_valid[col], last_valid[col] = 0, t - 1
            continue
        first, last = t, -1
        carry = 0.0  # before the first real close
        for d in range(t):
            x = source[i, d]
            if x > 0.0 and x < np.inf:
                carry = x
                first = min(first, d)
                last = d
            else:
                matrix[d, col] = carry
        first_valid[col], last_valid[col] = first, last
