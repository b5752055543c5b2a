"""Sweep page's walk-forward section and ``services.research`` on the demo data (in process)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import numpy as np
import plotly
import pytest
from dash import no_update

import engine
from dashapp.services import research
from tests.support.apps import demo_app_context

GRID = {"top_n": [3, 5, 10], "weighting": ["equal", "inverse_volatility"]}
SETTINGS = {
    "n_folds": 4,
    "scheme": "rolling",
    "in_sample_days": None,
    "out_of_sample_days": None,
    "metric": "sharpe",
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with demo_app_context(tmp_path_factory.mktemp("cache")) as app:
        yield app


@pytest.fixture(scope="module")
def page(app: Any):
    from dashapp.pages import sweep

    return sweep


@pytest.fixture(scope="module")
def stored(app: Any) -> dict[str, Any]:
    result = research.sweep(None, {}, GRID)
    return {**result, "source": {"kind": "default"}}


def _demo_fingerprint() -> str:
    return engine.load_market_data(engine.DemoProvider(), benchmark="QQQ").fingerprint


def _text(component: Any) -> str:
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder)


def test_sweep_keeps_returns_and_reports_the_dsr_trial_counts(stored: dict[str, Any]) -> None:
    assert stored["n_runs"] == 6 and stored["has_returns"] is True
    assert stored["n_trials"] == 6 and 1 <= stored["n_effective_trials"] <= stored["n_distinct_trials"] <= 6
    json.dumps(stored)  # plain data, Store-ready


def test_validation_matches_the_engine_on_the_same_sweep(app: Any, stored: dict[str, Any]) -> None:
    """The service's walk-forward and PBO are the engine's on ``run_sweep(keep_returns=True)``."""
    validation = research.sweep_validation(None, {}, GRID, SETTINGS)
    data = engine.load_market_data(engine.DemoProvider()) if hasattr(engine, "DemoProvider") else None
    if data is None:
        from engine.data.demo import DemoProvider

        data = engine.load_market_data(DemoProvider())
    sweep = engine.run_sweep(data, GRID, keep_returns=True)
    expected = engine.validate_sweep(sweep, engine.WalkForwardSettings(n_folds=4, scheme="rolling"))
    assert validation["folds"]["winner"] == [int(w) for w in expected.walk_forward.folds["winner"]]
    assert validation["n_winner_changes"] == expected.walk_forward.n_winner_changes
    np.testing.assert_allclose(
        validation["series"]["walk_forward"], expected.walk_forward.oos_returns.to_numpy(), rtol=1e-12
    )
    assert validation["pbo"]["pbo"] == pytest.approx(expected.pbo.pbo)
    assert len(validation["dates"]) == len(expected.walk_forward.oos_returns)


def test_show_walk_forward_draws_curves_folds_and_pbo(page, stored: dict[str, Any]) -> None:
    out = page.show_walk_forward(stored, SETTINGS)
    assert out["message"] is None and out["download_disabled"] is False
    names = [trace.name for trace in out["equity"].data]
    assert names == ["Walk-forward (out of sample)", "Full-history winner", "Benchmark"]
    assert len(out["rows"]) == 4 and {"is_start", "oos_end", "winner", "is_metric", "oos_metric"} <= set(
        out["rows"][0]
    )
    assert out["rows"][0]["winner"].startswith("top_n=")
    assert "changed" in out["changes"] and "over 4 folds" in out["changes"]
    assert out["histogram"].data[0].type == "histogram"
    text = _text(out["pbo"])
    assert "Probability of backtest overfitting" in text and "Deflated Sharpe" in text
    assert f"{stored['n_trials']} / {stored['n_distinct_trials']} / {stored['n_effective_trials']}" in text
    assert "Configurations compared" in text and "distinct" in text


def test_pbo_rows_say_how_many_configurations_were_compared() -> None:
    """Identical configurations count once in the PBO; the page says how many were merged."""
    from dashapp.views import sweep as view

    rows = dict(
        view.pbo_rows(
            {"pbo": {"pbo": 0.25, "n_combinations": 70, "n_splits": 8, "n_configs": 5, "n_identical": 3}}
        )
    )
    assert rows["Configurations compared"] == "5 distinct (3 with identical returns counted once)"
    rows = dict(
        view.pbo_rows(
            {"pbo": {"pbo": 0.25, "n_combinations": 70, "n_splits": 8, "n_configs": 6, "n_identical": 0}}
        )
    )
    assert rows["Configurations compared"] == "6 distinct"
    # The label is not repeated in the value ("Probability of backtest overfitting
    # probability of backtest overfitting not computed: 21 days are too few ...").
    note = "probability of backtest overfitting not computed: 21 days are too few for 16 splits"
    assert view.pbo_rows({"pbo": None, "pbo_note": note}) == [
        ("Probability of backtest overfitting", "not computed: 21 days are too few for 16 splits")
    ]
    other = "no returns to compare"
    assert view.pbo_rows({"pbo": None, "pbo_note": other}) == [("Probability of backtest overfitting", other)]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({**SETTINGS, "n_folds": "x"}, "folds must be a whole number; got 'x'"),
        ({**SETTINGS, "scheme": "sideways"}, "scheme"),
        ({**SETTINGS, "metric": "calmar"}, "metric"),
        ({**SETTINGS, "n_folds": 400}, ""),
        ({**SETTINGS, "in_sample_days": -3}, ""),
    ],
)
def test_bad_walk_forward_settings_give_one_sentence(page, stored, settings, message) -> None:
    out = page.show_walk_forward(stored, settings)
    text = _text(out["message"])
    assert "Cannot validate this sweep" in text and message in text and "Traceback" not in text
    assert out["rows"] == [] and out["download_disabled"] is True


def test_nothing_shown_without_a_sweep(page) -> None:
    out = page.show_walk_forward(None, SETTINGS)
    assert out["rows"] == [] and out["message"] is None
    assert page.show_walk_forward({"records": "tampered", "grid": 3}, SETTINGS)["rows"] == []


def test_walk_forward_csv_has_the_manifest_header(page, stored) -> None:
    data = page.download_walk_forward(1, stored, SETTINGS)
    assert data["filename"] == f"walk_forward_{_demo_fingerprint()}.csv"
    content = data["content"]
    assert content.startswith("# content: walk-forward validation")
    assert "# pbo: " in content and '"scheme": "rolling"' in content and "# grid: " in content
    header = [line for line in content.splitlines() if line.startswith("#")]
    assert "# data_source: Demo data (SYNTHETIC, seed 7)" in header and "# synthetic: true" in header
    assert any(line.startswith("# fingerprint: ") and len(line) > len("# fingerprint: ") for line in header)
    lines = [line for line in content.splitlines() if not line.startswith("#")]
    assert lines[0].startswith("fold,is_start,is_end,oos_start,oos_end,winner") and len(lines) == 5
    assert page.download_walk_forward(None, stored, SETTINGS) is no_update


def test_walk_forward_settings_go_in_the_url(page, stored) -> None:
    out = page.draw_heatmap(stored, None, None, "sharpe", {**SETTINGS, "n_folds": 3})
    assert "wf_folds=3" in out["search"] and "wf_scheme=rolling" in out["search"]
    tree = _text(page.layout(wf_folds="7", wf_scheme="rolling", wf_metric="bogus"))
    assert '"id": "sweep-wf-folds"' in tree and '"value": "7"' in tree
    assert '"value": "sharpe"' in tree  # a bad metric in the link falls back to the default


def test_invalid_walk_forward_settings_stay_in_the_url_and_a_reload_repeats_the_error(page, stored) -> None:
    """The URL check of every page (a failed run must keep what was entered): walk-forward
    settings the validation refuses (out-of-sample windows longer than the data) are
    written to the URL as entered, and the page from that URL shows them and, once its
    sweep is back, the same sentence."""
    settings = {**SETTINGS, "n_folds": 4, "out_of_sample_days": 100000}
    failed = page.show_walk_forward(stored, settings)
    assert "Cannot validate this sweep" in _text(failed["message"])
    search = page.draw_heatmap(stored, None, None, "sharpe", settings)["search"]
    query = dict(parse_qsl(search.lstrip("?")))
    assert query["wf_folds"] == "4" and query["wf_oos"] == "100000"
    tree = _text(page.layout(**query))
    assert '"id": "sweep-wf-oos-days"' in tree and '"value": "100000"' in tree
    again = page.show_walk_forward(stored, {**SETTINGS, "n_folds": "4", "out_of_sample_days": "100000"})
    assert _text(again["message"]) == _text(failed["message"])


def test_evicted_returns_rerun_small_grids_only(app: Any, page, stored: dict[str, Any]) -> None:
    """A page reruns a small sweep whose returns the cache lost; a larger grid (a client can
    post any) is never started outside the background job: one sentence instead."""
    from dashapp.state import get_state

    before = research.sweep_validation(None, {}, GRID, SETTINGS)
    get_state().results.clear()
    with pytest.raises(engine.ParameterError, match="no longer in the cache; run the sweep again"):
        research.sweep_validation(None, {}, GRID, SETTINGS, rerun_limit=5)
    out = page.show_walk_forward(stored, SETTINGS)  # 6 configurations <= SYNC_RERUN_LIMIT
    assert out["message"] is None
    after = research.sweep_validation(None, {}, GRID, SETTINGS)
    assert after["folds"]["winner"] == before["folds"]["winner"]
    assert after["pbo"]["pbo"] == pytest.approx(before["pbo"]["pbo"])
    big = {**stored, "grid": {"top_n": list(range(1, 101))}}
    assert "run the sweep again" in _text(page.show_walk_forward(big, SETTINGS)["message"])


def test_no_dash_table_left_in_the_app() -> None:
    """Dash 4 deprecates dash_table.DataTable: every table is an AG Grid now."""
    from pathlib import Path

    import dashapp

    root = Path(dashapp.__file__).parent
    users = [p.name for p in root.rglob("*.py") if "dash_table" in p.read_text()]
    assert users == []


def test_a_link_with_walk_forward_settings_is_not_said_to_ignore_them(page) -> None:
    # The page's own link carries wf_folds, wf_scheme, wf_is, wf_oos and wf_metric; opening
    # it prefilled them but said they were unknown settings, ignored.
    query = {"grid_top_n": "3,5", "wf_folds": "3", "wf_scheme": "rolling", "wf_is": "100", "wf_oos": "50"}
    tree = _text(page.layout(**query, wf_metric="sortino"))
    assert "Ignored" not in tree and "ignored" not in tree
    assert "Ignored unknown setting 'wf_colour' in the link" in _text(page.layout(**query, wf_colour="red"))


def test_folds_are_sized_on_the_base_rebalance_frequency(app: Any) -> None:
    """Six months of a monthly strategy in 4 folds (~26 trading days each): above the weekly
    bound the service applied when it did not pass the base frequency, below 3 monthly
    holding periods: refused in the monthly sentence."""
    base = {"rebalance": "monthly", "start": "2023-01-01", "end": "2023-06-30"}
    research.sweep(None, base, {"top_n": [3, 5]})
    with pytest.raises(
        engine.ParameterError, match=r"3 monthly holding periods \(63 trading days\) per fold"
    ):
        research.sweep_validation(None, base, {"top_n": [3, 5]}, {**SETTINGS, "n_folds": 4}, rerun_limit=5)


def test_a_sweep_over_end_dates_shows_the_cash_padding_warning(app: Any, page) -> None:
    """Breaker pass 8, F2: the Sweep page's walk-forward of a grid sweeping ``end`` says
    that configurations hold cash after their end (the cached returns keep each column's
    own days), and its full-history winner is the table's best on its own days."""
    grid = {"top_n": [3, 5], "end": [None, "2022-06-30"]}
    stored = {**research.sweep(None, {}, grid), "source": {"kind": "default"}}
    validation = research.sweep_validation(None, {}, grid, SETTINGS)
    padding = [w for w in validation["warnings"] if "no return of their own" in w]
    assert len(padding) == 1 and padding[0].startswith(
        "2 of 4 configurations have no return of their own on "
    )
    records = [r for r in stored["records"] if not r.get("error")]
    best = max(range(len(records)), key=lambda i: records[i]["sharpe"])
    assert validation["full_history_winner"] == best
    assert "no return of their own" in _text(page.show_walk_forward(stored, SETTINGS)["summary"])


def test_walk_forward_refusals_count_the_sweeps_520_days_whatever_the_window(app: Any) -> None:
    """Breaker pass 11, F1: the Sweep page said "more than the 1260 days of the data" for
    out-of-sample windows of 300 days (every price day, the lookback history included) and
    "more than the 520 days" for 200 (the sweep's returns). Both now count the 520 days the
    sweep's returns cover, before the sweep runs again."""
    grid = {"top_n": [3, 5], "weighting": ["equal", "hrp"]}
    for days, need in ((300, 1500), (200, 1000)):
        with pytest.raises(engine.ParameterError) as caught:
            research.sweep_validation(
                None,
                {"cost_bps": 10},
                grid,
                {**SETTINGS, "n_folds": 5, "out_of_sample_days": days},
                rerun_limit=0,
            )
        assert str(caught.value) == (
            f"5 out-of-sample windows of {days} days need {need} days, more than the 520 days of returns; "
            "shorten the windows or use fewer folds"
        )


def test_a_fold_without_a_winner_is_shown_as_cash_not_as_parameters_none() -> None:
    """Every configuration without a defined in-sample metric: the folds table showed
    'top_n=None' as the fold's winner."""
    from dashapp.views.sweep import NO_WINNER, fold_rows

    folds = {
        "fold": [0, 1],
        "winner": [None, 2],
        "top_n": [None, 3],
        "is_metric": [None, 1.5],
        "oos_metric": [None, 0.5],
        "winner_changed": [False, True],
    }
    rows = fold_rows({"folds": folds}, {"top_n": (1, 2, 3)})
    assert [row["winner"] for row in rows] == [NO_WINNER, "top_n=3"]
