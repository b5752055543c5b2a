"""Strategy parameters: one frozen, keyword-only dataclass validated at construction.

Every entry point (Python API, CLI, dashboard URL, sweep grid) builds a
``StrategyParams`` through ``StrategyParams.from_mapping`` so that validation and the
error messages live in exactly one place. Defaults are the seed project's strategy.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import math
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal, get_args

from engine.data.symbols import is_ticker, normalise_ticker, share_class_refusal
from engine.errors import ParameterError, number_text, short_repr, whole_number_text

Signal = Literal[
    "engagement_ratio",  # twitterComments / twitterLikes (the seed's signal)
    "sentiment",  # twitterSentiment
    "posts",
    "comments",
    "likes",
    "impressions",
]
SignalTransform = Literal["level", "change"]  # "change": month-over-month (period-over-period) change
Aggregation = Literal["mean", "median"]
Rebalance = Literal["weekly", "monthly", "quarterly"]
Weighting = Literal["equal", "inverse_volatility", "min_variance", "max_sharpe", "hrp"]

SIGNALS: tuple[str, ...] = get_args(Signal)
SIGNAL_TRANSFORMS: tuple[str, ...] = get_args(SignalTransform)
AGGREGATIONS: tuple[str, ...] = get_args(Aggregation)
REBALANCES: tuple[str, ...] = get_args(Rebalance)
WEIGHTINGS: tuple[str, ...] = get_args(Weighting)

# Trading days of one holding period of each rebalance frequency: TRADING_DAYS / 52, / 12, / 4
# (a W-FRI week is 5 trading days, a month 21, a quarter 63, holidays aside).
REBALANCE_TRADING_DAYS: Mapping[str, int] = MappingProxyType({"weekly": 5, "monthly": 21, "quarterly": 63})

MAX_TOP_N = 500
MAX_LAG_DAYS = 60
MAX_LOOKBACK_DAYS = 756
MIN_LOOKBACK_DAYS = 5
MAX_COST_BPS = 1000.0
MAX_THRESHOLD = 1e12


@dataclasses.dataclass(frozen=True, kw_only=True)
class StrategyParams:
    """All knobs of the sentiment strategy and its backtest.

    Conventions (see README "Strategy and accounting"):
    - ``min_likes``/``min_comments`` are strict lower bounds (``likes > min_likes``).
    - Entry (the close at which the new holdings are bought): the close of the first
      trading day on or after the formation period's last calendar day, plus
      ``lag_days`` trading days (0 = that close; a period ending on a weekend or holiday
      is entered at the next trading day's close). See ``engine.backtest.plan.entry_closes``.
    - ``lookback_days`` trading days of returns strictly before entry feed the
      risk-based weightings (ignored by ``equal``).
    - ``cost_bps`` is charged on traded value (one-way turnover) at each rebalance.
    - ``risk_free`` is an annual rate, converted to daily as ``risk_free / TRADING_DAYS`` (252).
    - ``benchmark`` is a ticker, spelled as ``engine.data.symbols.normalise_ticker``
      writes it (``"qqq"`` is stored as ``"QQQ"``); a string that is not a ticker after
      that raises ``ParameterError``.
    """

    signal: Signal = "engagement_ratio"
    signal_transform: SignalTransform = "level"
    min_likes: float = 20.0
    min_comments: float = 10.0
    aggregation: Aggregation = "mean"
    top_n: int = 5
    rebalance: Rebalance = "monthly"
    lag_days: int = 0
    weighting: Weighting = "equal"
    lookback_days: int = 63
    cost_bps: float = 0.0
    benchmark: str = "QQQ"
    start: dt.date | None = None
    end: dt.date | None = None
    risk_free: float = 0.0

    def __post_init__(self) -> None:
        self._check_fields()
        self._check_together()

    def _check_fields(self) -> None:
        """The rules of each field alone (and its stored form): a value that passes them
        in one instance passes them in any other."""
        _check_choice("signal", self.signal, SIGNALS)
        _check_choice("signal_transform", self.signal_transform, SIGNAL_TRANSFORMS)
        _check_choice("aggregation", self.aggregation, AGGREGATIONS)
        _check_choice("rebalance", self.rebalance, REBALANCES)
        _check_choice("weighting", self.weighting, WEIGHTINGS)
        _check_int("top_n", self.top_n, 1, MAX_TOP_N)
        _check_int("lag_days", self.lag_days, 0, MAX_LAG_DAYS)
        _check_int("lookback_days", self.lookback_days, MIN_LOOKBACK_DAYS, MAX_LOOKBACK_DAYS)
        _check_float("min_likes", self.min_likes, 0.0, MAX_THRESHOLD)
        _check_float("min_comments", self.min_comments, 0.0, MAX_THRESHOLD)
        _check_float("cost_bps", self.cost_bps, 0.0, MAX_COST_BPS)
        _check_float("risk_free", self.risk_free, -0.5, 1.0)
        for name in _FLOAT_FIELDS:  # 20 and 20.0 must give the same cache key and manifest
            object.__setattr__(self, name, float(getattr(self, name)))
        typed = self.benchmark  # echoed as given in a refusal, not as normalised ("../x", not "../X")
        for name in _TICKER_FIELDS:  # "qqq" and "QQQ" are one symbol, as the loaders and the CLI read it
            if isinstance(getattr(self, name), str):
                object.__setattr__(self, name, normalise_ticker(getattr(self, name)))
        # The share-class refusal echoes the benchmark as typed too ('brk/b', not 'BRK/B').
        if isinstance(typed, str) and (refusal := share_class_refusal("benchmark", typed)):
            raise ParameterError(refusal)
        if not isinstance(self.benchmark, str) or not is_ticker(self.benchmark):
            raise ParameterError(f"benchmark must be a ticker symbol such as QQQ, got {short_repr(typed)}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, dt.date) or isinstance(value, dt.datetime)):
                raise ParameterError(f"{name} must be a date (YYYY-MM-DD), got {short_repr(value)}")

    def _check_together(self) -> None:
        """The rules between fields."""
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ParameterError(f"start ({self.start}) must be before end ({self.end})")

    # ----- conversion to and from plain data (URLs, CLI, caches, manifests) -----

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict; dates as ISO strings. Inverse of ``from_mapping``."""
        out: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            out[field.name] = value.isoformat() if isinstance(value, dt.date) else value
        return out

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> StrategyParams:
        """Build from untrusted primitives (strings from a URL or CLI are accepted).

        Unknown keys, wrong types and out-of-range values raise ``ParameterError``
        with a message naming the parameter. ``None`` or "" means "use the default".
        """
        known = {f.name: f for f in dataclasses.fields(cls)}
        # Keys come from URLs and JSON bodies: they may be of any type, so sort their reprs
        # (never the keys themselves) and echo them escaped so a message stays one line.
        unknown = sorted(repr(key) for key in values if key not in known)
        if unknown:
            raise ParameterError(f"unknown parameter(s): {', '.join(unknown)}")
        kwargs: dict[str, Any] = {}
        for name, raw in values.items():
            if raw is None or (isinstance(raw, str) and raw.strip() == ""):
                continue
            kwargs[name] = _coerce(name, raw)
        return cls(**kwargs)

    def replace(self, **changes: Any) -> StrategyParams:
        """Copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def replace_stored(self, changes: Mapping[str, Any]) -> StrategyParams:
        """``replace(**changes)`` for values each read from a ``StrategyParams`` (as
        ``engine.research.sweep.check_grid`` types a grid's values): every value already
        passed its field's rules (``_check_fields``, which depend on that field alone) in
        the form the instance stores, so only the rules between fields
        (``_check_together``) run again. The same instance and the same ``ParameterError``
        as ``replace``, without the dataclass machinery (a 256-configuration sweep built its
        configurations in ~1.8 ms with ``replace``, ~0.3 ms with this)."""
        unknown = changes.keys() - _FIELD_NAMES
        if unknown:
            raise TypeError(f"unknown StrategyParams field(s): {', '.join(sorted(map(str, unknown)))}")
        own = self.__dict__
        # Every field is set at construction, so as many entries as fields are the fields
        # (a copy of the dict); anything else cached on an instance is not copied.
        state = dict(own) if len(own) == len(PARAM_NAMES) else {name: own[name] for name in PARAM_NAMES}
        state.update(changes)
        out = object.__new__(type(self))
        object.__setattr__(out, "__dict__", state)
        out._check_together()
        return out


PARAM_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(StrategyParams))
_FIELD_NAMES = frozenset(PARAM_NAMES)
_INT_FIELDS = {"top_n", "lag_days", "lookback_days"}
_FLOAT_FIELDS = {"min_likes", "min_comments", "cost_bps", "risk_free"}
_DATE_FIELDS = {"start", "end"}
_TICKER_FIELDS = ("benchmark",)  # ticker-valued fields, normalised by ``normalise_ticker``


def _coerce(name: str, raw: Any) -> Any:
    if name in _INT_FIELDS:
        return _to_int(name, raw)
    if name in _FLOAT_FIELDS:
        return _to_float(name, raw)
    if name in _DATE_FIELDS:
        return parse_date(name, raw)
    if name == "benchmark":
        if not isinstance(raw, str):
            raise ParameterError(f"benchmark must be a ticker symbol, got {short_repr(raw)}")
        return raw  # normalised by StrategyParams, which echoes it as typed when it refuses it
    if not isinstance(raw, str):
        raise ParameterError(f"{name} must be one of the listed choices, got {short_repr(raw)}")
    return raw.strip()


def _to_int(name: str, raw: Any) -> int:
    if isinstance(raw, bool):
        raise ParameterError(f"{name} must be a whole number, got {short_repr(raw)}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str):
        return whole_number_text(raw, name)
    raise ParameterError(f"{name} must be a whole number, got {short_repr(raw)}")


def _to_float(name: str, raw: Any) -> float:
    if isinstance(raw, bool):
        raise ParameterError(f"{name} must be a number, got {short_repr(raw)}")
    if isinstance(raw, str):
        return number_text(raw, name)
    try:
        value = float(raw)
    except OverflowError:  # an integer beyond float range, e.g. a JSON number of 400 digits
        raise ParameterError(f"{name} is far too large a number") from None
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number, got {short_repr(raw)}") from None
    return value


# A day written YYYY-MM-DD, whether or not the calendar has it (2022-02-30).
_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)


def parse_date(name: str, raw: Any) -> dt.date:
    """THE reading of a typed date (forms, links, the CLI's flags): a ``date``, or text
    ``YYYY-MM-DD`` (a time after it is ignored). ``ParameterError`` in one sentence naming
    ``name``: a day in that form the calendar lacks is "not a calendar date" and says why
    ("start '2022-02-30' is not a calendar date: February 2022 has 28 days"); anything else
    must be "a date in YYYY-MM-DD form"."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        text = raw.strip()[:10]
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
        if match := _ISO_DAY.fullmatch(text):
            why = _why_not_a_day(*(int(part) for part in match.groups()))
            raise ParameterError(f"{name} {short_repr(raw)} is not a calendar date: {why}")
    raise ParameterError(f"{name} must be a date in YYYY-MM-DD form, got {short_repr(raw)}")


def _why_not_a_day(year: int, month: int, day: int) -> str:
    if year < 1:
        return "there is no year 0"
    if not 1 <= month <= 12:
        return f"a year has 12 months, not {month}"
    days = calendar.monthrange(year, month)[1]
    if day < 1:
        return "days of a month count from 1"
    return f"{calendar.month_name[month]} {year} has {days} days"


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ParameterError(f"{name} must be one of {', '.join(choices)}; got {short_repr(value)}")


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ParameterError(f"{name} must be a whole number from {low} to {high}; got {short_repr(value)}")


def _check_float(name: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"{name} must be a number; got {short_repr(value)}")
    # An int is compared as it is: math.isfinite() of one beyond float range (10**400) overflows.
    if (isinstance(value, float) and not math.isfinite(value)) or not low <= value <= high:
        raise ParameterError(f"{name} must be between {low:g} and {high:g}; got {short_repr(value)}")
