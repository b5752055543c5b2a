"""StrategyParams: the one validated boundary for API, CLI, URL and sweep-grid values."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from engine import ParameterError, StrategyParams, prepare, run_prepared
from engine.strategy.params import PARAM_NAMES
from tests.engine._frames import random_market


def test_defaults_are_the_seed_strategy() -> None:
    p = StrategyParams()
    assert (p.signal, p.min_likes, p.min_comments, p.aggregation, p.top_n, p.rebalance, p.benchmark) == (
        "engagement_ratio",
        20.0,
        10.0,
        "mean",
        5,
        "monthly",
        "QQQ",
    )
    assert (p.lag_days, p.weighting, p.cost_bps) == (0, "equal", 0.0)


def test_from_mapping_coerces_url_strings() -> None:
    p = StrategyParams.from_mapping(
        {
            "top_n": "7",
            "min_likes": "50",
            "start": "2022-01-03",
            "benchmark": " spy ",
            "weighting": "hrp",
            "end": "",
        }
    )
    assert p.top_n == 7 and p.min_likes == 50.0 and p.start == dt.date(2022, 1, 3)
    assert p.benchmark == "SPY" and p.weighting == "hrp" and p.end is None


def test_to_dict_round_trips_and_is_json_plain() -> None:
    p = StrategyParams(top_n=10, start=dt.date(2022, 1, 1), end=dt.date(2022, 12, 31), cost_bps=5)
    d = p.to_dict()
    assert d["start"] == "2022-01-01" and d["cost_bps"] == 5.0
    assert StrategyParams.from_mapping(d) == p


def test_int_and_float_thresholds_give_the_same_params() -> None:
    """20 and 20.0 must be one cache key and one manifest."""
    assert StrategyParams(min_likes=20) == StrategyParams(min_likes=20.0)
    assert StrategyParams(min_likes=20).to_dict() == StrategyParams().to_dict()


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"top_n": 0}, "top_n must be a whole number from 1 to 500"),
        ({"top_n": 501}, "top_n must be a whole number from 1 to 500"),
        ({"top_n": "2.5"}, "top_n must be a whole number"),
        ({"top_n": True}, "top_n must be a whole number"),
        ({"lag_days": -1}, "lag_days must be a whole number from 0 to 60"),
        ({"lookback_days": 4}, "lookback_days must be a whole number from 5"),
        ({"min_likes": -1}, "min_likes must be between 0"),
        ({"min_comments": "nan"}, "min_comments must be between"),
        ({"cost_bps": "inf"}, "cost_bps must be between"),
        ({"risk_free": 2}, "risk_free must be between"),
        ({"signal": "vibes"}, "signal must be one of engagement_ratio"),
        ({"weighting": ["equal"]}, "weighting must be one of the listed choices"),
        ({"rebalance": "daily"}, "rebalance must be one of weekly, monthly, quarterly"),
        ({"benchmark": "=cmd|' /C calc'!A0"}, "benchmark must be a ticker symbol"),
        ({"benchmark": 5}, "benchmark must be a ticker symbol"),
        ({"start": "2022-13-01"}, "start '2022-13-01' is not a calendar date: a year has 12 months, not 13"),
        ({"start": "2023-01-01", "end": "2022-01-01"}, "must be before end"),
        ({"colour": "red"}, "unknown parameter(s): 'colour'"),
        ({"min_likes": 10**400}, "min_likes is far too large a number"),
        ({"lag_days": "9" * 5000}, "lag_days is far too large a number"),
    ],
)
def test_bad_values_raise_one_clear_line(values: dict, fragment: str) -> None:
    with pytest.raises(ParameterError) as caught:
        StrategyParams.from_mapping(values)
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message


def test_long_bad_values_are_cut_in_the_message() -> None:
    with pytest.raises(ParameterError) as caught:
        StrategyParams.from_mapping({"top_n": "9x" * 1000})
    assert len(str(caught.value)) < 120


def test_params_are_frozen_and_keyword_only() -> None:
    p = StrategyParams()
    with pytest.raises(AttributeError):
        p.top_n = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        StrategyParams("engagement_ratio")  # type: ignore[misc]
    assert p.replace(top_n=3).top_n == 3
    with pytest.raises(ParameterError):
        p.replace(top_n=-3)


def test_benchmark_share_class_with_a_slash_is_told_how_to_write_it() -> None:
    """share-class-dot-dash kind, variant: StrategyParams(benchmark="BRK/B") was refused as
    "benchmark must be a ticker symbol such as QQQ", while load_market_data(benchmark="BRK/B")
    names the dash spelling. Right: the same sentence from both."""
    with pytest.raises(ParameterError) as caught:
        StrategyParams(benchmark="BRK/B")
    assert str(caught.value) == (
        "benchmark 'BRK/B' is a share class written with '/', '_' or a space; write it BRK-B as Yahoo does (or with a dot)"
    )


@pytest.mark.parametrize("typed", ["brk/b", "Brk B", "brk_b"])
def test_a_refused_share_class_benchmark_is_echoed_as_typed(typed: str) -> None:
    """Breaker pass 13, F5: 'brk/b' was echoed 'BRK/B' although a refused benchmark is echoed
    as typed (commit e21ef22); the advice names the dash spelling."""
    for make in (
        lambda: StrategyParams(benchmark=typed),
        lambda: StrategyParams.from_mapping({"benchmark": typed}),
    ):
        with pytest.raises(ParameterError) as caught:
            make()
        assert str(caught.value) == (
            f"benchmark {typed!r} is a share class written with '/', '_' or a space; "
            "write it BRK-B as Yahoo does (or with a dot)"
        )


@pytest.mark.parametrize("spelling", ["qqq", " QqQ ", "QQQ"])
def test_benchmark_is_normalised_like_every_other_symbol(spelling: str) -> None:
    """StrategyParams(benchmark="qqq") was refused ("benchmark must be a ticker symbol such as
    QQQ, got 'qqq'") although from_mapping, the data loader and the CLI upper-case it. Now the
    constructor normalises it with engine.data.symbols.normalise_ticker, the one owner of the
    spelling rule: every spelling is the same parameters, the same manifest and the same run."""
    p = StrategyParams(benchmark=spelling)
    assert p == StrategyParams(benchmark="QQQ") and p.to_dict()["benchmark"] == "QQQ"
    assert p.replace(benchmark=spelling.lower()).benchmark == "QQQ"
    prepared = prepare(random_market(seed=3, n_symbols=8, start="2021-01-01", end="2021-06-30"))
    ours = run_prepared(prepared, StrategyParams(benchmark=spelling, min_likes=0.0, min_comments=0.0))
    upper = run_prepared(prepared, StrategyParams(benchmark="QQQ", min_likes=0.0, min_comments=0.0))
    assert ours.metrics == upper.metrics and ours.warnings == upper.warnings
    assert ours.returns.equals(upper.returns)


def test_normalised_benchmark_still_refuses_what_is_not_a_ticker() -> None:
    with pytest.raises(ParameterError, match="benchmark must be a ticker symbol"):
        StrategyParams(benchmark="q q q")


def _stored_values() -> dict[str, list]:
    """Values of every field as StrategyParams stores them (read back from instances)."""
    raw = {
        "signal": ["sentiment", "likes"],
        "signal_transform": ["change"],
        "min_likes": [0, 5.5],
        "min_comments": [3],
        "aggregation": ["median"],
        "top_n": [1, 40],
        "rebalance": ["weekly", "quarterly"],
        "lag_days": [0, 2],
        "weighting": ["hrp"],
        "lookback_days": [21],
        "cost_bps": [10],
        "benchmark": ["spy", "QQQ"],
        "start": ["2020-01-01", "2021-06-30", None],
        "end": ["2021-01-01", "2021-06-30", None],
        "risk_free": [0.02],
    }
    return {
        name: [getattr(StrategyParams.from_mapping({name: value}), name) for value in values]
        for name, values in raw.items()
    }


def test_replace_stored_is_replace_for_stored_values() -> None:
    """The same instance (equal, same hash, same field types) or the same error as
    ``replace``, for every combination of stored values of the fields (start/end pairs
    in either order: the rule between fields still runs)."""
    import itertools

    values = _stored_values()
    for base in (StrategyParams(), StrategyParams(cost_bps=10.0, start=dt.date(2020, 6, 1))):
        for a, b in itertools.combinations(values, 2):
            for x, y in itertools.product(values[a], values[b]):
                changes = {a: x, b: y}
                try:
                    expected = base.replace(**changes)
                except ParameterError as exc:
                    with pytest.raises(ParameterError) as got:
                        base.replace_stored(changes)
                    assert str(got.value) == str(exc)
                    continue
                fast = base.replace_stored(changes)
                assert fast == expected and hash(fast) == hash(expected)
                assert fast.to_dict() == expected.to_dict()
                assert [type(getattr(fast, n)) for n in values] == [
                    type(getattr(expected, n)) for n in values
                ]
                assert fast.__dict__ == expected.__dict__


def test_replace_stored_refuses_an_unknown_field_and_keeps_the_base() -> None:
    base = StrategyParams(top_n=7)
    with pytest.raises(TypeError, match="unknown StrategyParams field"):
        base.replace_stored({"topn": 3})
    assert base.replace_stored({}) == base and base.top_n == 7
    object.__setattr__(base, "_cached", "not a field")  # something an instance might cache
    derived = base.replace_stored({"top_n": 3})
    assert derived == base.replace(top_n=3) and "_cached" not in derived.__dict__
    assert list(derived.__dict__) == list(PARAM_NAMES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.replace_stored({"top_n": 3}).top_n = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("top_n", "1_0"),
        ("top_n", "\u0667"),
        ("lag_days", "\uff11"),
        ("min_likes", "1_000"),
        ("cost_bps", "\u0661\u0660"),
    ],
)
def test_numbers_typed_as_text_use_the_digits_0_to_9(name: str, text: str) -> None:
    # int('1_0') is 10 and int('\u0667') (Arabic-Indic seven) is 7: a link or form with them
    # ran top 10 or top 7 without a word (breaker pass 11, F10).
    with pytest.raises(ParameterError, match=f"{name} must be a "):
        StrategyParams.from_mapping({name: text})


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [("top_n", " +7 ", 7), ("min_likes", "1e3", 1000.0), ("min_likes", ".5", 0.5), ("cost_bps", "5.", 5.0)],
)
def test_plain_numbers_typed_as_text_still_read(name: str, text: str, value: float) -> None:
    assert getattr(StrategyParams.from_mapping({name: text}), name) == value
