"""The Sweep page's CSV downloads hold what the page shows, and what the CLI's ``sweep --out``
files hold (one writer: ``engine.sweep_export`` / ``engine.walk_forward_exports``; breaker
pass 12, F5).

Before, the walk-forward download had the folds with only ``pbo`` and ``pbo_splits``: the
out-of-sample summary table, the PBO's probability of loss, degradation slope, CSCV
combinations and configurations compared, and the stitched out-of-sample returns drawn on
the page were in no download; the sweep download had no DSR trial labels; both gave a
swept parameter's base value in ``params``."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dashapp.services import research
from engine.cli.main import main
from tests.support.apps import demo_app_context
from tests.support.exports import csv_header

GRID = {"top_n": [3, 5], "weighting": ["equal", "inverse_volatility"]}
SETTINGS = {
    "n_folds": 2,
    "scheme": "anchored",
    "in_sample_days": None,
    "out_of_sample_days": None,
    "metric": "sharpe",
}
# Lines that differ by design between a CLI file and a download of the same sweep.
OWN_LINES = {"exported_at", "link", "executor"}


class Downloads(dict):
    """The page's downloads of one sweep by kind (each built when first asked for) and its
    validation (``validation``)."""

    def __init__(self, stored: dict[str, Any]) -> None:
        super().__init__(validation=research.sweep_validation(None, {}, GRID, SETTINGS))
        self.stored = stored

    def __missing__(self, kind: str) -> str:
        from dashapp.pages import sweep

        if kind == "sweep":
            data = sweep.download_sweep(1, self.stored)
        else:
            data = getattr(sweep, f"download_{kind}")(1, self.stored, SETTINGS)
        self[kind] = data["content"]
        return self[kind]


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Downloads]:
    with demo_app_context(tmp_path_factory.mktemp("cache")):
        yield Downloads({**research.sweep(None, {}, GRID), "source": {"kind": "default"}})


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sw")
    argv = ["sweep", "--grid", "top_n=3,5", "--grid", "weighting=equal,inverse_volatility",
            "--executor", "serial", "--walk-forward", "--folds", "2", "--out", str(folder)]  # fmt: skip
    mp = pytest.MonkeyPatch()
    mp.setattr("sys.stderr", io.StringIO())  # the progress bar's stream
    try:
        assert main(argv, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    finally:
        mp.undo()
    return folder


def _table(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), comment="#")


def test_sweep_download_has_the_trial_labels_and_marks_the_swept_parameters(
    downloads: dict[str, Any],
) -> None:
    header = csv_header(downloads["sweep"])
    params = json.loads(header["params"])
    assert params["top_n"] == params["weighting"] == "swept: see grid" and params["min_likes"] == 20.0
    table = _table(downloads["sweep"])
    assert list(table.columns[-3:]) == ["error", "return_series", "trial_cluster"]
    assert table["return_series"].nunique() == int(header["n_distinct_trials"])
    assert table["trial_cluster"].nunique() == int(header["n_effective_trials"])


def test_walk_forward_download_has_the_summary_and_pbo_the_page_shows(downloads: dict[str, Any]) -> None:
    from dashapp.views import sweep as view

    validation = downloads["validation"]
    header = csv_header(downloads["walk_forward"])
    summary = validation["summary"]
    index = summary["index"]
    for series in ("walk_forward", "full_history_winner", "benchmark"):
        written = json.loads(header[f"oos_{series}"])
        for metric in view.SUMMARY_METRICS:  # the page's out-of-sample table
            assert written[metric] == pytest.approx(summary[series][index.index(metric)], rel=1e-12)
    pbo = validation["pbo"]
    assert float(header["pbo_probability_of_loss"]) == pytest.approx(pbo["probability_of_loss"])
    assert float(header["pbo_degradation_slope"]) == pytest.approx(pbo["degradation_slope"])
    assert int(header["pbo_combinations"]) == pbo["n_combinations"]
    assert (
        int(header["pbo_configs"]) == pbo["n_configs"] and int(header["pbo_identical"]) == pbo["n_identical"]
    )
    assert json.loads(header["params"])["top_n"] == "swept: see grid"


def test_walk_forward_returns_download_has_the_curves_the_page_draws(downloads: dict[str, Any]) -> None:
    validation = downloads["validation"]
    daily = _table(downloads["walk_forward_returns"])
    assert list(daily.columns) == ["date", "walk_forward", "full_history_winner", "benchmark"]
    assert daily["date"].tolist() == validation["dates"]
    for series, values in validation["series"].items():
        assert daily[series].tolist() == pytest.approx(values, rel=1e-12), series


@pytest.mark.parametrize("kind", ["sweep", "walk_forward", "walk_forward_returns"])
def test_a_download_holds_the_cli_files_lines_and_table(
    downloads: dict[str, Any], cli_files: Path, kind: str
) -> None:
    """One writer: the same sweep's download and CLI file differ only in the export time,
    the page's link and the executor."""
    cli_text = (cli_files / f"{kind}.csv").read_text()
    page, cli = csv_header(downloads[kind]), csv_header(cli_text)
    assert [k for k in cli if k not in OWN_LINES] == [k for k in page if k not in OWN_LINES]
    for key in cli:
        if key not in OWN_LINES:
            assert page[key] == cli[key], key
    pd.testing.assert_frame_equal(_table(downloads[kind]), _table(cli_text))
