"""``sweep --walk-forward --out``: the files hold what the command prints (breaker pass 12, F5).

Before, the out-of-sample summary (stitched walk-forward vs full-history winner vs
benchmark), the stitched out-of-sample daily returns and the PBO's details (probability of
loss, degradation slope, CSCV combinations, configurations compared and identical ones)
were printed but in no file (walk_forward.csv had only ``pbo`` and ``pbo_splits``);
sweep.csv had the DSR's trial counts but not which configurations were counted once
(``return_series``) or clustered together (``trial_cluster``); and its ``params`` line gave
``"top_n": 5`` for a grid of top_n 3, 5, as if the table were for top_n 5."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engine
from engine.cli.main import main
from engine.data.demo import DemoProvider
from engine.data.providers import load_market_data
from tests.support.exports import csv_header

ARGV = [
    "sweep", "--grid", "top_n=3,5", "--grid", "weighting=equal,inverse_volatility", "--executor", "serial",
    "--walk-forward", "--folds", "2", "--pbo-splits", "4",
]  # fmt: skip
GRID = {"top_n": (3, 5), "weighting": ("equal", "inverse_volatility")}


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sw")
    stderr = io.StringIO()
    mp = pytest.MonkeyPatch()
    mp.setattr("sys.stderr", io.StringIO())  # the progress bar's stream
    try:
        code = main([*ARGV, "--out", str(folder)], stdout=io.StringIO(), stderr=stderr)
    finally:
        mp.undo()
    assert code == 0, stderr.getvalue()
    (folder / "stderr.txt").write_text(stderr.getvalue())
    return folder


@pytest.fixture(scope="module")
def expected() -> tuple[engine.SweepResult, engine.SweepValidation]:
    data = load_market_data(DemoProvider(), benchmark="QQQ")
    sweep = engine.run_sweep(data, GRID, executor=engine.SerialExecutor(), keep_returns=True)
    validation = engine.validate_sweep(
        sweep, engine.WalkForwardSettings(n_folds=2), pbo_settings=engine.PBOSettings(n_splits=4)
    )
    return sweep, validation


def test_sweep_csv_has_each_trials_labels_and_marks_the_swept_parameters(out: Path, expected) -> None:
    sweep, _ = expected
    text = (out / "sweep.csv").read_text()
    header = csv_header(text)
    params = json.loads(header["params"])
    assert params["top_n"] == "swept: see grid" and params["weighting"] == "swept: see grid"
    assert params["min_likes"] == engine.StrategyParams().min_likes  # not swept: its value applies
    assert json.loads(header["grid"]) == {"top_n": [3, 5], "weighting": ["equal", "inverse_volatility"]}
    table = pd.read_csv(out / "sweep.csv", comment="#")
    trials = sweep.trials.set_index("row")
    assert table["return_series"].tolist() == trials["return_series"].tolist()
    assert table["trial_cluster"].tolist() == trials["trial_cluster"].tolist()
    # The trial counts of the header are the labels' counts: the DSR's N is reproducible.
    assert table["return_series"].nunique() == int(header["n_distinct_trials"]) == sweep.n_distinct_trials
    assert table["trial_cluster"].nunique() == int(header["n_effective_trials"]) == sweep.n_effective_trials


def test_walk_forward_csv_has_the_out_of_sample_summary_and_the_pbo_details(out: Path, expected) -> None:
    _, validation = expected
    header = csv_header((out / "walk_forward.csv").read_text())
    summary = validation.walk_forward.summary
    for series in ("walk_forward", "full_history_winner", "benchmark"):
        written = json.loads(header[f"oos_{series}"])
        for metric in ("total_return", "cagr", "sharpe", "max_drawdown"):
            assert written[metric] == pytest.approx(summary.at[metric, series], rel=1e-12), (series, metric)
    pbo = validation.pbo
    assert float(header["pbo"]) == pytest.approx(pbo.pbo)
    assert float(header["pbo_probability_of_loss"]) == pytest.approx(pbo.probability_of_loss)
    assert float(header["pbo_degradation_slope"]) == pytest.approx(pbo.degradation_slope)
    assert int(header["pbo_combinations"]) == pbo.n_combinations == 6
    assert int(header["pbo_splits"]) == 4
    assert int(header["pbo_configs"]) == pbo.n_configs and int(header["pbo_identical"]) == pbo.n_identical
    assert json.loads(header["params"])["top_n"] == "swept: see grid"


def test_walk_forward_returns_csv_has_the_stitched_out_of_sample_returns(out: Path, expected) -> None:
    _, validation = expected
    wf = validation.walk_forward
    assert "wrote walk_forward_returns.csv" in (out / "stderr.txt").read_text()
    text = (out / "walk_forward_returns.csv").read_text()
    assert csv_header(text)["content"] == engine.SWEEP_EXPORT_CONTENT["walk_forward_returns"]
    daily = pd.read_csv(out / "walk_forward_returns.csv", comment="#", parse_dates=["date"])
    assert list(daily.columns) == ["date", "walk_forward", "full_history_winner", "benchmark"]
    assert list(daily["date"]) == list(wf.oos_returns.index)
    np.testing.assert_allclose(daily["walk_forward"], wf.oos_returns.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(daily["full_history_winner"], wf.full_history_returns.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(daily["benchmark"], wf.benchmark_returns.to_numpy(), rtol=1e-12)
    # The summary's total return is the file's compounded daily returns.
    total = float(np.prod(1 + daily["walk_forward"]) - 1)
    summary = json.loads(csv_header((out / "walk_forward.csv").read_text())["oos_walk_forward"])
    assert total == pytest.approx(summary["total_return"], rel=1e-9)
