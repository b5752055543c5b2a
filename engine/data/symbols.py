"""The ticker rule: which strings the engine accepts as an exchange symbol.

One owner for every entry point (file readers, providers, strategy parameters, the stock
pages): a ticker as exchanges print it, upper-case letters/digits (1 to 10), optionally one
share-class suffix after ``.`` or ``-`` (``BRK.B``, ``BF-B``), or a leading caret for
indices (``^GSPC``). Anything else (formulas, paths, URLs, lower case) is refused.
"""

from __future__ import annotations

import re

TICKER_RE = re.compile(r"^\^?[A-Z0-9]{1,10}([.\-][A-Z0-9]{1,4})?$")


def normalise_ticker(text: str) -> str:
    """THE spelling normalisation of a symbol typed by a person, for every entry point
    (strategy parameters, file readers, providers, CLI, stock pages): surrounding
    whitespace removed, letters upper-cased (``" qqq " -> "QQQ"``, ``"brk.b" -> "BRK.B"``),
    and a cashtag is its ticker (``"$qqq" -> "QQQ"``: Twitter/StockTwits data writes symbols
    so, and the files are read so; a ``--benchmark '$QQQ'`` was refused). str -> str; it never
    refuses: ``is_ticker`` then decides whether the result is a ticker."""
    return re.sub(CASHTAG, "", text.strip().upper())


# The '$' of a cashtag ($AAPL, $BRK.B): before a letter, never a currency amount ($1.5).
CASHTAG = r"^\$(?=[A-Z])"


def is_ticker(text: str) -> bool:
    """True when ``text`` is shaped like an exchange ticker (upper case), per ``TICKER_RE``."""
    return bool(TICKER_RE.match(text))


def with_spelling_hint(symbol: str, hint: str | None) -> str:
    """``symbol`` named with the spelling the data has for it, the one wording of the
    spelling hint everywhere (loader warnings, CLI, dashboard): ``with_spelling_hint("BRK.B",
    "BRK-B") == "BRK.B (did you mean BRK-B?)"``; ``symbol`` unchanged when ``hint`` is None
    or empty. A hint that is a share class the price data writes with a refused mark (its
    column or rows were dropped: ``is_spaced_share_class``) says so and how to write it there:
    ``"BRK.B (did you mean BRK/B? the price data writes this share class with '/', which is
    refused: write it BRK.B there)"``. The hints themselves are ``ValidationReport.spelling_hints``."""
    if not hint:
        return symbol
    if spaced_share_class_dash(hint) is not None:
        return (
            f"{symbol} (did you mean {hint}? the price data writes this share class with "
            f"{_mark_name(hint)}, which is refused: write it {symbol} there)"
        )
    return f"{symbol} (did you mean {hint}?)"


# BRK/B, BRK B, BRK_B: a share class with a mark the ticker rule does not accept (it names
# a path, splits a word, or is a programmer's separator). One class letter: not APPLE INC, PX_LAST.
SPACED_SHARE_CLASS = r"[A-Z0-9]{1,10}(\s*[/ ]\s*|_)[A-Z]"


def is_spaced_share_class(symbol: str) -> bool:
    """True for a share class spelled with a mark the ticker rule refuses (BRK/B, BRK B, BRK_B)."""
    return re.fullmatch(SPACED_SHARE_CLASS, normalise_ticker(symbol)) is not None


def spaced_share_class_dash(text: str) -> str | None:
    """The Yahoo (dash) spelling of a share class written with '/', '_' or a space
    (``"BRK/B"``, ``"brk b"``, ``"BRK_B"`` -> ``"BRK-B"``); None when ``text`` is a ticker or
    not such a share class."""
    cleaned = normalise_ticker(text)
    if is_ticker(cleaned) or not is_spaced_share_class(cleaned):
        return None
    return re.sub(r"\s*[/ _]\s*", "-", cleaned)


def _mark_name(text: str) -> str:
    """The refused mark of a spaced share class, as the sentences name it: "'/'", "'_'", "a space"."""
    cleaned = normalise_ticker(text)
    return next((f"{mark!r}" for mark in "/_" if mark in cleaned), "a space")


def share_class_refusal(what: str, text: str) -> str | None:
    """The one sentence refusing a symbol parameter written as a share class with '/', '_'
    or a space (``what`` names the parameter: "benchmark", "symbol"; ``text`` is echoed as
    typed): ``benchmark 'brk/b' is a share class written with '/', '_' or a space; write it
    BRK-B as Yahoo does (or with a dot)``. None when ``text`` is a ticker or not such a share class."""
    dash = spaced_share_class_dash(text)
    if dash is None:
        return None
    return f"{what} {text!r} is a share class written with '/', '_' or a space; write it {dash} as Yahoo does (or with a dot)"


# A ticker written with its exchange: Google Sheets' GOOGLEFINANCE and TradingView's
# ``NASDAQ:AAPL``, Bloomberg's ``AAPL US Equity`` (ticker, exchange code, market sector;
# ``SPX Index`` without a code). Not a ticker: such a symbol is refused, never stripped
# silently, and the refusal names the ticker alone (``exchange_advice``).
_EXCHANGE_PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,9}\s*:\s*(\S+)$")
_BLOOMBERG_KEY = re.compile(r"^(\S+)(?:\s+[A-Z0-9]{2})?\s+(?:EQUITY|INDEX|CURNCY|COMDTY)$")
# pandas' name for a column with an empty header cell (``Unnamed: 4``; ``Unnamed: 0_level_0``
# in a header of two lines): no exchange, no ticker (breaker pass 9, F7).
_PANDAS_UNNAMED = re.compile(r"^UNNAMED:\s*\d+(_LEVEL_\d+)?$")


def ticker_with_exchange(text: str) -> str | None:
    """The ticker of a symbol written with its exchange (``"NASDAQ:AAA" -> "AAA"``,
    ``"AAA US Equity" -> "AAA"``); None for any other text, a ticker included."""
    cleaned = normalise_ticker(text)
    if is_ticker(cleaned) or _PANDAS_UNNAMED.match(cleaned):
        return None
    for pattern in (_EXCHANGE_PREFIX, _BLOOMBERG_KEY):
        found = pattern.match(cleaned)
        if found is not None and is_ticker(found.group(1)):
            return found.group(1)
    return None


def exchange_advice(text: str) -> str:
    """The one advice for a symbol written with its exchange: ``write each ticker alone,
    without its exchange (AAA, not 'NASDAQ:AAA')``; "" when ``text`` is not one."""
    ticker = ticker_with_exchange(text)
    return f"write each ticker alone, without its exchange ({ticker}, not {text!r})" if ticker else ""
