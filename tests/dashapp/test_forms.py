"""Strategy form: components, per-field validation as the user types, server-side parsing, sweep grid."""

from __future__ import annotations

import datetime as dt

import pytest

import engine
from dashapp.ui import forms


def _ids(component) -> list[str]:
    found = []

    def walk(node) -> None:
        if isinstance(node, (list, tuple)):
            for child in node:
                walk(child)
            return
        if getattr(node, "id", None):
            found.append(node.id)
        walk(getattr(node, "children", None) or [])

    walk(component)
    return found


def test_form_has_one_input_and_feedback_per_parameter() -> None:
    ids = _ids(forms.strategy_form("backtest", {"top_n": 7}))
    for name in engine.PARAM_NAMES:
        assert f"backtest-{name}" in ids
        assert f"backtest-{name}-feedback" in ids


def test_form_is_prefilled_from_values_and_defaults() -> None:
    form = forms.strategy_form("backtest", {"top_n": 7, "start": "2022-01-03", "bogus": 1})

    def find(node, ident):
        if getattr(node, "id", None) == ident:
            return node
        for child in (
            node.children
            if isinstance(getattr(node, "children", None), list)
            else [getattr(node, "children", None)]
            if getattr(node, "children", None) is not None
            else []
        ):
            hit = find(child, ident)
            if hit is not None:
                return hit
        return None

    assert find(form, "backtest-top_n").value == 7
    assert find(form, "backtest-start").value == "2022-01-03"
    assert find(form, "backtest-end").value == ""
    assert find(form, "backtest-weighting").value == "equal"


def test_field_errors_flag_each_bad_field() -> None:
    values = {**engine.StrategyParams().to_dict(), "top_n": "x", "benchmark": "Q Q", "cost_bps": -1}
    errors = forms.field_errors(values)
    assert set(n for n, m in errors.items() if m) == {"top_n", "benchmark", "cost_bps"}
    assert "top_n" in errors["top_n"] and "whole number" in errors["top_n"]


def test_field_errors_start_after_end_flags_end() -> None:
    errors = forms.field_errors({"start": "2023-01-01", "end": "2022-01-01"})
    assert errors["end"] and not errors["start"]


def test_parse_params_round_trips_form_values() -> None:
    values = dict.fromkeys(forms.FIELD_NAMES)
    assert forms.parse_params(values) == engine.StrategyParams()
    values = {**values, "top_n": "8", "start": "2022-02-01", "min_likes": "12.5"}
    params = forms.parse_params(values)
    assert params.top_n == 8 and params.start == dt.date(2022, 2, 1) and params.min_likes == 12.5
    with pytest.raises(engine.ParameterError, match="lag_days"):
        forms.parse_params({**values, "lag_days": "9999"})


def test_field_flags_have_the_shape_of_the_grouped_outputs() -> None:
    flags = forms.field_flags(forms.field_errors({"top_n": "0"}))
    outputs = forms.field_outputs("backtest")
    assert set(flags) == set(outputs) == {"invalid", "feedback"}
    assert set(flags["invalid"]) == set(outputs["invalid"]) == set(forms.FIELD_NAMES)
    assert flags["invalid"]["top_n"] is True and sum(flags["invalid"].values()) == 1
    assert (
        "top_n" in flags["feedback"]["top_n"] and outputs["invalid"]["top_n"].component_id == "backtest-top_n"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"top_n": "3, 5,5,"}, {"top_n": [3, 5]}),
        ({"weighting": ["equal", "hrp"], "cost_bps": ""}, {"weighting": ["equal", "hrp"]}),
        ({"min_likes": "0, 20.0, 20"}, {"min_likes": [0.0, 20.0]}),
    ],
)
def test_parse_grid(raw, expected) -> None:
    assert forms.parse_grid(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"top_n": "3, x"}, "top_n"),
        ({"top_n": ""}, "at least one"),
        ({"benchmark": "QQQ"}, "cannot be swept"),
        # 100 x 61 = 6,100 configurations: over the engine's limit (engine.MAX_SWEEP_CONFIGS, 5,000)
        ({"top_n": ",".join(map(str, range(1, 101))), "lag_days": ",".join(map(str, range(0, 61)))}, "limit"),
    ],
)
def test_parse_grid_rejects(raw, message) -> None:
    with pytest.raises(engine.ParameterError, match=message):
        forms.parse_grid(raw)


def test_grid_limit_is_the_engines() -> None:
    """One rule: the form accepts exactly the grids ``engine.run_sweep`` accepts."""
    at_limit = {"top_n": list(range(1, 101)), "lag_days": list(range(0, 50))}  # 100 x 50 = 5,000
    assert engine.grid_size(forms.parse_grid(at_limit)) == engine.MAX_SWEEP_CONFIGS == 5000
    with pytest.raises(engine.ParameterError, match="the limit is 5000"):
        forms.parse_grid({**at_limit, "rebalance": ["weekly", "monthly"]})
