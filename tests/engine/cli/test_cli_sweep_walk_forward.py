"""``python -m engine sweep --walk-forward``: folds, winner changes, OOS metrics, PBO, walk_forward.csv."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engine
from engine.cli.main import main
from engine.data.demo import DemoProvider
from engine.data.providers import load_market_data
from tests.engine._frames import random_market

GRID = ["--grid", "top_n=3,5,10", "--grid", "weighting=equal,inverse_volatility"]


def _run(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stderr", io.StringIO())  # the progress bar's stream
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_walk_forward_prints_folds_changes_metrics_and_pbo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = _run(
        ["sweep", *GRID, "--executor", "serial", "--walk-forward", "--folds", "4", "--window", "rolling",
         "--out", str(tmp_path)],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, err
    sweep = engine.run_sweep(
        load_market_data(DemoProvider()),
        {"top_n": [3, 5, 10], "weighting": ["equal", "inverse_volatility"]},
        keep_returns=True,
    )
    expected = engine.validate_sweep(sweep, engine.WalkForwardSettings(n_folds=4, scheme="rolling"))
    wf = expected.walk_forward
    assert "walk-forward: 4 folds, rolling in-sample windows, selection by sharpe" in out
    times = "time" if wf.n_winner_changes == 1 else "times"
    assert f"the in-sample winner changed {wf.n_winner_changes} {times} over 4 folds" in out
    assert f"probability of backtest overfitting: {expected.pbo.pbo:.3f}" in out
    assert f"{wf.summary.loc['sharpe', 'walk_forward']:.3f}" in out
    # total return, CAGR and drawdown as percentages (they were printed as bare fractions)
    assert f"{wf.summary.loc['total_return', 'walk_forward']:.2%}" in out
    assert f"{wf.summary.loc['max_drawdown', 'benchmark']:.2%}" in out
    assert "wrote walk_forward.csv" in err

    text = (tmp_path / "walk_forward.csv").read_text()
    assert "# synthetic: true" in text and "# fingerprint: " in text and '"scheme": "rolling"' in text
    assert f"# n_winner_changes: {wf.n_winner_changes}" in text
    folds = pd.read_csv(tmp_path / "walk_forward.csv", comment="#")
    assert list(folds["winner"]) == list(wf.folds["winner"])
    np.testing.assert_allclose(folds["oos_metric"], wf.folds["oos_metric"], rtol=1e-12)
    assert folds["oos_start"].iloc[0] == str(wf.folds["oos_start"].iloc[0].date())


def test_without_walk_forward_no_validation_is_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _run(
        ["sweep", "--grid", "top_n=3,5", "--executor", "serial", "--out", str(tmp_path)], monkeypatch
    )
    assert code == 0 and "walk-forward" not in out and not (tmp_path / "walk_forward.csv").exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--folds", "0"], "folds must be a whole number from 1 to 50; got 0"),
        (["--pbo-splits", "3"], "--pbo-splits must be an even number"),
        (["--out-of-sample-days", "100000"], ""),
    ],
)
def test_bad_walk_forward_flags_exit_2_with_one_line(
    flags: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _run(
        ["sweep", "--grid", "top_n=3,5", "--executor", "serial", "--walk-forward", *flags], monkeypatch
    )
    assert code == 2 and err.startswith("error: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_bad_window_is_refused_by_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = _run(
        ["sweep", "--grid", "top_n=3,5", "--walk-forward", "--window", "sideways"], monkeypatch
    )
    assert code == 2 and "sideways" in err


def _walk_forward_text(
    columns: dict, summary: pd.DataFrame, *, winner: object, pbo: object, grid: dict
) -> str:
    """``walk_forward_text`` of two folds dated 2022-01-03 with ``columns`` (parameters,
    metrics, winner flags) and ``summary``, the full-history ``winner`` and ``pbo``."""
    from types import SimpleNamespace

    from engine.cli.sweep import walk_forward_text

    day = pd.Timestamp("2022-01-03")
    dates = {name: [day, day] for name in ("is_start", "is_end", "oos_start", "oos_end")}
    walk = SimpleNamespace(
        settings=SimpleNamespace(metric="sharpe", scheme="rolling"),
        folds=pd.DataFrame({"fold": [0, 1], **dates, **columns}),
        n_winner_changes=int(sum(columns["winner_changed"])),
        full_history_winner=winner,
        summary=summary,
        warnings=[],
    )
    return walk_forward_text(SimpleNamespace(walk_forward=walk, pbo=pbo, pbo_note=None), grid)


def test_undefined_and_infinite_values_print_as_n_a() -> None:
    """constant-return-series kind in the CLI's walk-forward text: a fold whose metric is
    undefined (no dispersion) or infinite, an undefined summary Sharpe and PBO statistics
    print as n/a, as the dashboard shows them, never as NaN or inf."""
    from types import SimpleNamespace

    summary = pd.DataFrame(
        {"walk_forward": [0.1, np.nan], "full_history_winner": [0.2, np.inf]},
        index=["total_return", "sharpe"],
    )
    pbo = SimpleNamespace(
        pbo=0.5,
        n_combinations=70,
        n_splits=8,
        n_configs=2,
        n_identical=0,
        probability_of_loss=np.nan,
        degradation_slope=np.nan,
    )
    columns = {
        "top_n": [3, 5],
        "is_metric": [np.nan, 1.25],
        "oos_metric": [np.inf, 0.5],
        "winner_changed": [False, True],
    }
    text = _walk_forward_text(columns, summary, winner=0, pbo=pbo, grid={"top_n": (3, 5)})
    assert "n/a" in text and "1.250" in text and "0.500" in text
    assert not any(token in text.lower() for token in ("nan", "inf"))


def test_folds_and_a_full_history_without_a_winner_say_cash_not_none() -> None:
    """constant-return-series kind: every configuration without a defined in-sample Sharpe.
    The folds were printed with top_n None and "full-history winner (configuration None)"."""
    columns = {
        "winner": pd.Series([None, None], dtype=object),
        "top_n": pd.Series([None, None], dtype=object),
        "is_metric": [np.nan, np.nan],
        "oos_metric": [np.nan, np.nan],
        "winner_changed": [False, False],
    }
    summary = pd.DataFrame({"walk_forward": [0.0], "full_history_winner": [0.0]}, index=["total_return"])
    text = _walk_forward_text(columns, summary, winner=None, pbo=None, grid={"top_n": (1, 2, 3)})
    assert "None" not in text and text.count("none (cash)") == 2
    assert "full-history winner (none: no configuration has a defined metric over all days; cash)" in text


def test_walk_forward_help_states_every_default() -> None:
    """--window, --wf-metric and --in-sample-days did not say their defaults."""
    from engine.cli.main import build_parser

    sweep = build_parser()._subparsers._group_actions[0].choices["sweep"]  # type: ignore[union-attr]
    helps = {a.dest: " ".join((a.help or "").split()) for a in sweep._actions}
    assert "anchored (growing, default)" in helps["window"]
    assert "(default sharpe)" in helps["wf_metric"]
    assert "(default: as many as precede the first out-of-sample fold)" in helps["in_sample_days"]
    assert "(default T // (K + 1)" in helps["out_of_sample_days"]


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--folds", "3"], "--folds applies only with --walk-forward; add --walk-forward or drop it"),
        (
            ["--window", "rolling", "--pbo-splits", "8"],
            "--window, --pbo-splits apply only with --walk-forward; add --walk-forward or drop them",
        ),
    ],
)
def test_walk_forward_flags_without_walk_forward_are_refused_not_ignored(
    flags: list[str], named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: exit 0 and a plain sweep, the folds silently ignored.
    code, out, err = _run(["sweep", *GRID, "--executor", "serial", *flags], monkeypatch)
    assert code == 2
    assert named in err
    assert "configurations" not in out  # refused before the sweep ran


def test_walk_forward_without_its_flags_uses_the_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = _run(["sweep", *GRID, "--executor", "serial", "--walk-forward"], monkeypatch)
    assert code == 0, err
    defaults = engine.WalkForwardSettings()
    assert (
        f"walk-forward: {defaults.n_folds} folds, {defaults.scheme} in-sample windows, selection by sharpe"
        in out
    )


def test_folds_are_sized_on_the_base_rebalance_frequency(monkeypatch: pytest.MonkeyPatch) -> None:
    """Six months of monthly holding periods in 4 folds: ~26 trading days a test fold, more
    than the weekly bound (15) the CLI applied when it did not pass its rebalance
    frequency, fewer than 3 monthly periods (63): refused in one line, exit 2."""
    code, out, err = _run(
        ["sweep", "--grid", "top_n=3,5", "--executor", "serial", "--rebalance", "monthly",
         "--start", "2023-01-01", "--end", "2023-06-30", "--walk-forward", "--folds", "4"],
        monkeypatch,
    )  # fmt: skip
    assert code == 2, (out, err)
    assert err.strip().splitlines()[-1] == (
        "error: each test fold would cover about 26 trading days; walk-forward needs at least "
        "3 monthly holding periods (63 trading days) per fold: use fewer folds or a longer window"
    )
    assert "walk-forward:" not in out


def test_folds_that_cannot_fit_the_data_are_refused_before_the_sweep_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five folds over the last 200 calendar days (~140 trading days: test folds of ~23
    days) cannot hold 3 monthly holding periods (63 trading days) each: refused before any
    configuration is backtested (was: the whole sweep ran, then validate_sweep refused)."""
    ran: list[int] = []
    monkeypatch.setattr(
        "engine.cli.sweep.run_sweep", lambda *a, **k: ran.append(1) or pytest.fail("the sweep ran")
    )
    data = load_market_data(DemoProvider(), benchmark="QQQ")
    last = data.prices.index[-1]
    start = (last - pd.Timedelta(days=200)).date().isoformat()
    code, out, err = _run(
        ["sweep", *GRID, "--executor", "serial", "--start", start, "--walk-forward", "--folds", "5"],
        monkeypatch,
    )
    assert code == 2 and ran == [] and out == ""
    assert err.startswith("error: ") and "walk-forward needs at least 3 monthly holding periods" in err
    assert len(err.strip().splitlines()) == 1


def test_the_early_check_judges_the_widest_window_and_the_swept_frequencies() -> None:
    """check_walk_forward_fits refuses what validate_sweep would refuse on every day the
    sweep can have returns on in its widest window (a swept start replaces the base's), and
    passes a fit."""
    data = random_market(start="2020-01-01", end="2022-12-30")
    settings = engine.WalkForwardSettings(n_folds=5)
    base = engine.StrategyParams(start=pd.Timestamp("2022-06-01").date())
    with pytest.raises(engine.ParameterError, match="each test fold would cover about"):
        engine.check_walk_forward_fits(data, {"top_n": (3, 5)}, settings, base=base)
    wide = {"start": (pd.Timestamp("2020-01-02").date(), pd.Timestamp("2022-06-01").date())}
    engine.check_walk_forward_fits(data, wide, settings, base=base)  # 2020-2022 holds 5 folds
    with pytest.raises(engine.ParameterError, match="quarterly holding periods"):
        engine.check_walk_forward_fits(
            data, {**wide, "rebalance": ("monthly", "quarterly")}, settings, base=base
        )


def test_walk_forward_refusals_count_the_same_days_whatever_the_window_length(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Breaker pass 11, F1: on the demo data (prices from 2019-03-04, 1,260 days; sentiment
    from 2021-12-30) the sweep's returns cover 520 days, 2022-01-03 to 2023-12-29. With
    out-of-sample windows of 300 days the early check said "more than the 1260 days of the
    data", with 200 days validate_sweep said "more than the 520 days": the user picked 200
    (5 x 200 < 1,260) and was refused with another count. Now both say 520, before the
    sweep runs."""
    ran: list[int] = []
    monkeypatch.setattr(
        "engine.cli.sweep.run_sweep", lambda *a, **k: ran.append(1) or pytest.fail("the sweep ran")
    )
    demo = load_market_data(DemoProvider())
    one = engine.run_backtest(demo, engine.StrategyParams(top_n=3, cost_bps=10.0)).returns
    assert (len(demo.prices.index), len(one)) == (1260, 520)  # the days a run has returns on
    grid = ["--grid", "top_n=3,5", "--grid", "weighting=equal,hrp", "--cost-bps", "10"]
    for days, need in ((300, 1500), (200, 1000)):
        code, out, err = _run(
            ["sweep", *grid, "--executor", "serial", "--walk-forward", "--folds", "5",
             "--out-of-sample-days", str(days)],
            monkeypatch,
        )  # fmt: skip
        assert (code, out, ran) == (2, "", [])
        assert err == (
            f"error: 5 out-of-sample windows of {days} days need {need} days, more than the 520 days "
            "of returns; shorten the windows or use fewer folds\n"
        )
    code, out, err = _run(
        ["sweep", *grid, "--executor", "serial", "--walk-forward", "--folds", "5", "--out-of-sample-days", "104"],
        monkeypatch,
    )  # fmt: skip
    assert (code, out, ran) == (2, "", [])
    assert err == (  # was "need 520 days, more than the 520 days"
        "error: 5 out-of-sample windows of 104 days need 520 days, all 520 days of returns, none left "
        "for the in-sample window; shorten the windows or use fewer folds\n"
    )


def test_walk_forward_of_a_sweep_over_end_dates_warns_of_the_cash_padding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Breaker pass 8, F2: configurations that end early hold cash in the matrix after
    their end; the CLI's notes say so."""
    code, _out, err = _run(
        ["sweep", "--grid", "top_n=3,5", "--grid", "end=2022-06-30,2023-12-29", "--executor", "serial",
         "--walk-forward", "--folds", "3"],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, err
    assert "warning: 2 of 4 configurations have no return of their own on " in err
    assert "(before their start or after their end, as the grid sweeps start or end)" in err
