"""An integer of more than 4,300 digits, passed as a number (not text), is refused in one sentence.

Python will not convert such an int to text: ``repr()``, ``str()`` and an f-string raise
``ValueError: Exceeds the limit (4300 digits) for integer string conversion``. Every check
that echoed the value it refused (``got {value!r}``, ``str(value)[:20]``) raised that in
place of its own message; they echo through ``engine.short_repr`` now, which names such a
number by its size. Each case here raised the ValueError before.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import engine
from dashapp.services import computations, research
from dashapp.ui import forms
from dashapp.views import stocks as stocks_view
from dashapp.views import sweep as sweep_view
from engine.data.reading import ReadOptions
from engine.research.sweep import check_max_configs

from . import assert_user_message

HUGE = 10**5000


def test_short_repr_names_a_huge_integer_by_its_size() -> None:
    assert engine.short_repr(HUGE) == "a whole number of 5,001 digits"
    assert engine.short_repr(-HUGE) == "a whole number of 5,001 digits"
    assert engine.short_repr("x" * 100, 10) == "'xxxxxxxxxx…' (100 characters)"
    assert engine.short_repr(["x"] * 100, 10) == "['x', '..."
    assert engine.short_repr(5) == "5"


@pytest.mark.parametrize("name", engine.PARAM_NAMES)
def test_each_strategy_parameter(name: str) -> None:
    with pytest.raises(engine.ParameterError) as caught:
        engine.StrategyParams.from_mapping({name: HUGE})
    assert_user_message(str(caught.value))


@pytest.mark.parametrize("name", ["min_likes", "min_comments", "cost_bps", "risk_free"])
def test_an_integer_beyond_float_range_built_directly(name: str) -> None:
    # math.isfinite(10**400) raised OverflowError in the range check of the float fields.
    with pytest.raises(engine.ParameterError, match=f"{name} must be between") as caught:
        engine.StrategyParams(**{name: 10**400})
    assert_user_message(str(caught.value))


CASES: dict[str, Callable[[], Any]] = {
    "WalkForwardSettings.n_folds": lambda: engine.WalkForwardSettings(n_folds=HUGE),
    "WalkForwardSettings.scheme": lambda: engine.WalkForwardSettings(scheme=HUGE),  # type: ignore[arg-type]
    "WalkForwardSettings.in_sample_days": lambda: engine.WalkForwardSettings(in_sample_days=-HUGE),
    "WalkForwardSettings.metric": lambda: engine.WalkForwardSettings(metric=HUGE),  # type: ignore[arg-type]
    "WalkForwardSettings.risk_free": lambda: engine.WalkForwardSettings(risk_free=HUGE),
    "walk_forward.rebalance": lambda: engine.walk_forward([[0.0, 0.0]] * 300, rebalance=[HUGE]),  # type: ignore[list-item]
    "SignalAnalysisSettings.quantiles": lambda: engine.SignalAnalysisSettings(quantiles=HUGE),
    "SignalAnalysisSettings.min_symbols": lambda: engine.SignalAnalysisSettings(min_symbols=HUGE),
    "PBOSettings.n_splits": lambda: engine.PBOSettings(n_splits=HUGE),
    "PBOSettings.metric": lambda: engine.PBOSettings(metric=HUGE),  # type: ignore[arg-type]
    "PBOSettings.risk_free": lambda: engine.PBOSettings(risk_free=-HUGE),
    "check_max_configs": lambda: check_max_configs(HUGE),
    "check_grid.max_configs": lambda: engine.check_grid({"top_n": [1]}, max_configs=HUGE),
    "check_grid.value": lambda: engine.check_grid({"top_n": [HUGE]}),
    "check_grid.name": lambda: engine.check_grid({HUGE: [1]}),  # type: ignore[dict-item]
    "parse_grid.spec": lambda: engine.parse_grid([HUGE]),  # type: ignore[list-item]
    "parse_symbols": lambda: engine.parse_symbols([HUGE]),  # type: ignore[list-item]
    "DemoProvider.seed": lambda: engine.DemoProvider(seed=HUGE),
    "YahooProvider.batch_size": lambda: engine.YahooProvider(cache_dir=Path("."), batch_size=HUGE),
    "YahooProvider.base_delay": lambda: engine.YahooProvider(cache_dir=Path("."), base_delay=HUGE),
    "ReadOptions.date_format": lambda: ReadOptions(date_format=HUGE),  # type: ignore[arg-type]
    "ReadOptions.dayfirst": lambda: ReadOptions(dayfirst=HUGE),  # type: ignore[arg-type]
    "ReadOptions.decimal": lambda: ReadOptions(decimal=HUGE),  # type: ignore[arg-type]
    "load_market_data.benchmark": lambda: engine.load_market_data(engine.DemoProvider(), benchmark=HUGE),  # type: ignore[arg-type]
    "forms.split_values": lambda: forms.split_values(HUGE),
    "forms.check_sweepable": lambda: forms.check_sweepable(HUGE),  # type: ignore[arg-type]
    "forms.parse_grid_values": lambda: forms.parse_grid_values("top_n", [HUGE]),
    "forms.parse_params": lambda: forms.parse_params({"lag_days": HUGE}),
    "research.walk_forward_settings": lambda: research.walk_forward_settings({"scheme": HUGE}),
    "research.signal_settings": lambda: research.signal_settings({"quantiles": HUGE}),
    "computations.clean_symbols": lambda: computations.clean_symbols(HUGE),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_setting_and_grid_entry_point(case: str) -> None:
    with pytest.raises(engine.ParameterError) as caught:
        CASES[case]()
    assert_user_message(str(caught.value))


def test_form_checks_flag_the_field() -> None:
    errors = forms.field_errors({"top_n": HUGE, "benchmark": HUGE, "start": HUGE})
    for name in ("top_n", "benchmark", "start"):
        assert errors[name]
        assert_user_message(errors[name])


def test_sweep_link_and_stock_link_texts() -> None:
    shown = sweep_view.walk_forward_query_values({"n_folds": HUGE})["wf_folds"]
    assert len(shown) <= 20  # the link keeps 20 characters of a value; the form flags it
    messages = stocks_view.link_messages({"symbols": [HUGE]})
    assert len(messages) == 1
    assert_user_message(messages[0])
