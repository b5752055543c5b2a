"""Fuzzing the parameter boundary (``StrategyParams.from_mapping``), the URL reader
(``dashapp.ui.url_state``) and the CLI (``engine.cli.main.main``).

Contract under test: any JSON-ish mapping either builds valid parameters or raises
``engine.ParameterError`` with one clean line; any query string yields only valid
parameters and never raises; any argv exits 0 or 2, and on 2 writes exactly one line to
stderr, never a traceback.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from dashapp.ui import url_state
from engine import PARAM_NAMES, StrategyParams
from engine.cli.main import main

from . import assert_user_message, texts

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HOSTILE_SCALARS = (
    None,
    True,
    False,
    0,
    -1,
    10**400,
    -(10**400),
    1e308,
    -1e308,
    math.nan,
    math.inf,
    -math.inf,
    "",
    " ",
    "nan",
    "inf",
    "1e400",
    "9" * 5000,
    "=cmd|' /C calc'!A0",
    "+1",
    "@SUM(1)",
    "9999-12-31",
    "1677-09-21",
    "2262-04-12",
    "0001-01-01",
    "2021-02-30",
    "\x00",
    "QQQ\n",
    "../x",
)
# Every hostile scalar, huge integers included, and an int of more than 4,300 digits, which
# has no str() (kept out of HOSTILE_SCALARS: the query and argv values are their str()).
FLOAT_SAFE = (*HOSTILE_SCALARS, 10**5000)
json_scalars = st.one_of(
    st.sampled_from(HOSTILE_SCALARS),  # not FLOAT_SAFE: hypothesis repr()s its strategies
    st.none(),
    st.booleans(),
    st.integers(-(10**300), 10**300),
    st.floats(allow_nan=True, allow_infinity=True),
    texts(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(texts(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _build(values: dict[Any, Any]) -> StrategyParams | None:
    try:
        return StrategyParams.from_mapping(values)
    except engine.ParameterError as exc:
        assert_user_message(str(exc), formulas_quoted=False)
        return None


# ----- StrategyParams.from_mapping ------------------------------------------------------------------


@FAST
@given(values=st.dictionaries(st.sampled_from(PARAM_NAMES), json_values, max_size=6))
def test_from_mapping_with_json_values_builds_valid_params_or_one_line(values: dict[str, Any]) -> None:
    params = _build(values)
    if params is not None:  # whatever was accepted round-trips and stays inside the ranges
        assert StrategyParams.from_mapping(params.to_dict()) == params
        assert 1 <= params.top_n <= 500 and math.isfinite(params.min_likes) and math.isfinite(params.cost_bps)


# Every pair, not a sample of them: a sample missed ('lag_days', '9' * 5000) for weeks.
@pytest.mark.parametrize("value", FLOAT_SAFE, ids=lambda v: engine.short_repr(v, 12))
@pytest.mark.parametrize("name", sorted(PARAM_NAMES))
def test_each_hostile_value_in_each_field(name: str, value: Any) -> None:
    _build({name: value})


@pytest.mark.parametrize("name", ["top_n", "lag_days", "lookback_days"])
def test_huge_integers_in_integer_fields_are_a_range_error(name: str) -> None:
    with pytest.raises(engine.ParameterError, match=f"{name} must be a whole number") as caught:
        StrategyParams.from_mapping({name: 10**400})
    assert_user_message(str(caught.value))


@pytest.mark.parametrize("name", ["min_likes", "min_comments", "cost_bps", "risk_free"])
def test_integer_too_large_for_a_float_is_a_parameter_error(name: str) -> None:
    with pytest.raises(engine.ParameterError) as caught:
        StrategyParams.from_mapping({name: 10**400})
    assert_user_message(str(caught.value))


def test_unknown_keys_of_mixed_types_are_a_parameter_error() -> None:
    with pytest.raises(engine.ParameterError):
        StrategyParams.from_mapping({1: 0, "a": 0})


def test_unknown_key_is_echoed_repr_escaped() -> None:
    with pytest.raises(engine.ParameterError) as caught:
        StrategyParams.from_mapping({"top_n\nInjected: line": 1})
    assert_user_message(str(caught.value))


def test_nan_and_infinities_are_refused_in_every_float_field() -> None:
    for name in ("min_likes", "min_comments", "cost_bps", "risk_free"):
        for value in (math.nan, math.inf, -math.inf, "nan", "1e400", "-inf"):
            with pytest.raises(engine.ParameterError, match=name):
                StrategyParams.from_mapping({name: value})


@pytest.mark.parametrize("formula", ["=cmd|' /C calc'!A0", "+1", "@SUM(1)", "-1+1"])
def test_formula_benchmark_is_refused_and_echoed_quoted(formula: str) -> None:
    with pytest.raises(engine.ParameterError) as caught:
        StrategyParams.from_mapping({"benchmark": formula})
    assert_user_message(str(caught.value))
    assert repr(formula) in str(caught.value)  # as typed, not upper-cased (breaker pass 11, F8)


# ----- url_state --------------------------------------------------------------------------------


query_keys = st.one_of(
    st.sampled_from(PARAM_NAMES), st.sampled_from(("symbols", "grid_top_n", "_x", "x")), texts(max_size=8)
)
query_values = st.one_of(st.sampled_from([str(v) for v in HOSTILE_SCALARS]), texts(max_size=30))


@FAST
@given(pairs=st.lists(st.tuples(query_keys, query_values), max_size=8), raw=texts(max_size=80))
def test_query_to_params_never_raises_and_keeps_only_valid_values(
    pairs: list[tuple[str, str]], raw: str
) -> None:
    from urllib.parse import urlencode

    for query in (urlencode(pairs), raw, "?" + raw, dict(pairs)):
        params, messages = url_state.read_query(query)
        assert set(params) <= set(PARAM_NAMES)
        StrategyParams.from_mapping(params)  # what is kept is valid as a whole
        assert url_state.query_to_params(query) == params
        for message in messages:
            assert_user_message(message, formulas_quoted=False)


# ----- CLI --------------------------------------------------------------------------------------

FLAGS = (
    "--benchmark",
    "--top-n",
    "--min-likes",
    "--min-comments",
    "--start",
    "--end",
    "--weighting",
    "--signal",
    "--signal-transform",
    "--aggregation",
    "--rebalance",
    "--lag-days",
    "--lookback-days",
    "--cost-bps",
    "--risk-free",
    "--symbols",
    "--prices",
    "--sentiment",
    "--help",
)
flag_values = st.one_of(
    st.sampled_from([str(v) for v in HOSTILE_SCALARS if v is not None and "\x00" not in str(v)]),
    texts(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
)


@st.composite
def argvs(draw: st.DrawFn) -> list[str]:
    argv = [draw(st.sampled_from(("backtest", "stocks", "bogus", "", "-x")))]
    for _ in range(draw(st.integers(0, 4))):
        argv.append(draw(st.sampled_from(FLAGS)))
        if draw(st.booleans()):
            argv.append(draw(flag_values))
    # Never let argparse's prefix matching reach --out (files) or a sweep (minutes of work).
    return [a for a in argv if not a.startswith("--o") and a not in ("sweep", "robustness")]


def _run_cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)  # anything written lands in a scratch directory
        try:
            code = main(argv, stdout=io.StringIO(), stderr=err)
        finally:
            os.chdir(cwd)
    return code, err.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argv=argvs())
def test_cli_with_arbitrary_argv_exits_0_or_2_with_one_line(argv: list[str]) -> None:
    code, err = _run_cli(argv)
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        assert_user_message(err, formulas_quoted=False)


@pytest.mark.parametrize(
    "argv",
    [
        ["backtest", "--start", "9999-01-01"],
        ["backtest", "--end", "1677-01-01"],
        ["backtest", "--start", "2262-04-12", "--end", "9999-12-31"],
        ["stocks", "--symbols", "=cmd|' /C calc'!A0"],
        ["stocks", "--symbols", "JONX", "--start", "9999-01-01"],
        ["backtest", "--min-likes", "1" + "0" * 400],
        ["backtest", "--top-n", "9" * 5000],
        ["backtest", "--sentiment", "/dev/null"],
        ["backtest", "--sentiment", "/proc/self/mem"],
    ],
)
def test_cli_extreme_values(argv: list[str]) -> None:
    code, err = _run_cli(argv)
    assert code in (0, 2)
    if code == 2:
        assert_user_message(err)


@pytest.mark.parametrize(
    "argv",
    [
        ["backtest", "stray\nInjected line"],
        ["backtest", "--sentiment", "no\nsuch file"],
    ],
)
def test_cli_error_echoes_arguments_escaped(argv: list[str]) -> None:
    code, err = _run_cli(argv)
    assert code == 2
    assert_user_message(err, formulas_quoted=False)


def test_cli_undecodable_parquet_is_one_line(tmp_path: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "prices.parquet"
    pq.write_table(pa.table({"date": ["2021-01-01", "2021-01-04"], "AAPL": pa.array([b"1", b"\xff"])}), path)
    code, err = _run_cli(["stocks", "--symbols", "AAPL", "--prices", str(path)])
    assert code == 2
    assert_user_message(err)


def test_cli_negative_seed_is_one_line() -> None:
    code, err = _run_cli(["robustness", "--seed", "-1", "--n-boot", "1", "--n-random", "1"])
    assert code == 2
    assert_user_message(err)


@pytest.mark.parametrize(
    "argv",
    [
        ["sweep", "--grid", "top_n"],
        ["sweep", "--grid", "=1"],
        ["sweep", "--grid", "top_n="],
        ["sweep", "--grid", "bogus=1,2"],
        ["sweep", "--grid", "top_n=1e400"],
        ["sweep", "--grid", "min_likes=" + "9" * 400],
        ["sweep", "--grid", "weighting=a\nb"],
        ["sweep", "--grid", "top_n=1,2", "--grid", "top_n=3"],
        ["sweep", "--grid", "top_n=1", "--max-configs", "-1"],
        ["sweep", "--grid", "benchmark==cmd|' /C calc'!A0"],
        ["robustness", "--n-boot", "-1"],
        ["robustness", "--n-boot", "10" * 50],
        ["robustness", "--block-length", "0"],
    ],
)
def test_sweep_and_robustness_bad_arguments_are_one_line(argv: list[str]) -> None:
    code, err = _run_cli(argv)
    assert code == 2, err
    assert_user_message(err, formulas_quoted=False)


# argparse's type=int took '1_0' as 10 and '\u0663' (Arabic-Indic 3) or '\uff15' (full-width 5)
# as 3 and 5, and type=float '\uff11\uff10' as 10: the counts ran with a number nobody typed. They read
# digits 0-9 only now, as every number typed as text (whole_number_text, number_text).
COUNT_FLAGS = [
    ["robustness", "--n-boot"],
    ["robustness", "--n-random"],
    ["robustness", "--seed"],
    ["signal", "--quantiles"],
    ["signal", "--horizons"],
    ["signal", "--rolling-window"],
    ["sweep", "--grid", "top_n=1", "--max-configs"],
    ["sweep", "--grid", "top_n=1,2", "--walk-forward", "--folds"],
    ["sweep", "--grid", "top_n=1,2", "--walk-forward", "--in-sample-days"],
    ["sweep", "--grid", "top_n=1,2", "--walk-forward", "--out-of-sample-days"],
    ["sweep", "--grid", "top_n=1,2", "--walk-forward", "--pbo-splits"],
]


@pytest.mark.parametrize(
    "value", ["1_0", "\u0663", "\uff15"], ids=["underscore", "arabic-indic", "full-width"]
)
@pytest.mark.parametrize("argv", COUNT_FLAGS, ids=lambda argv: argv[-1])
def test_count_flags_read_digits_0_to_9_only(argv: list[str], value: str) -> None:
    code, err = _run_cli([*argv, value])
    assert code == 2, err
    assert f"argument {argv[-1]}: the value must be a whole number, got {value!r}" in err
    assert_user_message(err)


@pytest.mark.parametrize("value", ["1_0", "\uff11\uff10"])
def test_block_length_reads_digits_0_to_9_only(value: str) -> None:
    code, err = _run_cli(["robustness", "--block-length", value])
    assert code == 2, err
    assert f"argument --block-length: the value must be a number, got {value!r}" in err


def test_count_flags_still_read_a_sign_and_spaces() -> None:
    code, err = _run_cli(
        ["robustness", "--n-boot", " +2 ", "--n-random", "2", "--seed", "+0", "--executor", "serial"]
    )
    assert code == 0, err
