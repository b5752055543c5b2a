"""``python -m engine sweep`` / ``robustness``: files written, columns, progress bar, exit 2 on bad input."""

from __future__ import annotations

import io
import json
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engine
from engine import METRIC_NAMES, DemoProvider, SerialExecutor, load_market_data
from engine.cli.main import main


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_sweep_writes_the_table_named_as_the_grid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    captured = io.StringIO()
    monkeypatch.setattr("sys.stderr", captured)  # the progress bar's stream
    code, out, _ = _run(
        ["sweep", "--grid", "min_likes=10,50", "--grid", "top_n=3,5", "--cost-bps", "5", "--executor", "serial",
         "--out", str(tmp_path)]
    )  # fmt: skip
    assert code == 0, out
    table = pd.read_csv(tmp_path / "sweep.csv", comment="#")
    assert list(table.columns) == [
        "min_likes",
        "top_n",
        *METRIC_NAMES,
        "error",
        "return_series",
        "trial_cluster",
    ]
    assert list(zip(table["min_likes"], table["top_n"], strict=True)) == [
        (10.0, 3),
        (10.0, 5),
        (50.0, 3),
        (50.0, 5),
    ]
    data = load_market_data(DemoProvider(), benchmark="QQQ")
    expected = engine.run_sweep(
        data, {"min_likes": (10.0, 50.0), "top_n": (3, 5)}, base=engine.StrategyParams(cost_bps=5.0),
        executor=SerialExecutor(),
    ).table  # fmt: skip
    np.testing.assert_allclose(table["sharpe"], expected["sharpe"], rtol=1e-12)
    assert table["error"].isna().all()
    assert "4 configurations" in out and "serial executor" in out and "deflated Sharpe ratio" in out
    assert captured.getvalue().rstrip().endswith("4/4")
    # The printed table shows returns as percentages (as the backtest's table does) and says
    # how its numbers are defined; it printed total_return 0.758524 with no unit.
    best = expected.loc[expected["sharpe"].idxmax()]
    assert f"{best['total_return']:.2%}" in out and f"{best['max_drawdown']:.2%}" in out
    assert "daily simple returns; annualised over 252 trading days; risk-free 0.00% a year" in out


def test_sweep_metric_columns_are_named_as_in_metrics_json(tmp_path: Path) -> None:
    assert _run(["backtest", "--out", str(tmp_path / "bt")])[0] == 0
    assert _run(["sweep", "--grid", "top_n=3", "--executor", "serial", "--out", str(tmp_path / "sw")])[0] == 0
    metrics = json.loads((tmp_path / "bt" / "metrics.json").read_text())
    columns = pd.read_csv(tmp_path / "sw" / "sweep.csv", comment="#").columns
    assert [c for c in columns if c in metrics] == list(METRIC_NAMES)


def test_failed_configurations_are_listed(tmp_path: Path) -> None:
    code, out, err = _run(
        ["sweep", "--grid", "benchmark=QQQ,ZZZZ", "--executor", "serial", "--out", str(tmp_path)]
    )
    assert code == 0
    table = pd.read_csv(tmp_path / "sweep.csv", comment="#")
    assert table["error"].notna().tolist() == [False, True]
    assert "1 failed" in out and "failed: benchmark ZZZZ has no prices" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sweep"], "--grid"),
        (["sweep", "--grid", "top_n=0"], "top_n must be a whole number from 1 to 500"),
        (["sweep", "--grid", "colour=red"], "unknown sweep parameter"),
        (["sweep", "--grid", "top_n"], "must look like name=v1,v2"),
        (["sweep", "--grid", "top_n=3", "--top-n", "5"], "both swept"),
        (["sweep", "--grid", "top_n=3", "--executor", "threads"], "invalid choice"),
        (["sweep", "--grid", "top_n=3", "--max-configs", "0"], "--max-configs"),
        (["sweep", "--grid", "top_n=1,2,3", "--max-configs", "2"], "3 configurations; the limit is 2"),
        (["sweep", "--grid", "top_n=3", "--sentiment", "/nonexistent/s.csv"], "no such file"),
        (["robustness", "--n-boot", "0"], "--n-boot"),
        (["robustness", "--block-length", "0.5"], "--block-length"),
        (["robustness", "--top-n", "x"], "top_n must be a whole number"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv: list[str], message: str) -> None:
    code, _out, err = _run(argv)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_max_configs_lowers_the_limit_but_never_raises_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Breaker pass 11, F2: docs/security.md says at most 5,000 configurations per sweep
    "from the dashboard and the CLI alike", but ``--max-configs 99999`` replaced the limit
    and a 5,001-configuration grid ran (rc 0). Now it is refused in one sentence before any
    data is loaded or configuration run; 5,000 and lower still apply."""
    ran: list[int] = []
    monkeypatch.setattr("engine.cli.sweep.run_sweep", lambda *a, **k: ran.append(1) or pytest.fail("ran"))
    grid = "min_likes=" + ",".join(str(i) for i in range(5001))
    code, out, err = _run(["sweep", "--grid", grid, "--max-configs", "99999", "--executor", "serial"])
    assert (code, out, ran) == (2, "", [])
    assert err == (
        "error: --max-configs must be a whole number from 1 to 5000 (it can lower the limit of 5000 "
        "configurations per sweep, not raise it); got 99999\n"
    )
    code, _out, err = _run(["sweep", "--grid", "top_n=1,2,3", "--max-configs", "5001"])
    assert code == 2 and "got 5001" in err and ran == []
    monkeypatch.undo()
    code, _out, err = _run(["sweep", "--grid", grid, "--executor", "serial"])  # the default limit
    assert code == 2 and err == "error: the grid has 5001 configurations; the limit is 5000\n"


def test_robustness_prints_and_writes_json(tmp_path: Path) -> None:
    code, out, err = _run(
        ["robustness", "--top-n", "4", "--n-boot", "200", "--n-random", "40", "--seed", "2", "--executor", "serial",
         "--out", str(tmp_path)]
    )  # fmt: skip
    assert code == 0
    report = json.loads((tmp_path / "robustness.json").read_text())
    assert report["params"]["top_n"] == 4 and report["n_boot"] == 200 and report["seed"] == 2
    # the data it ran on, on screen and in the file (neither said the demo data is SYNTHETIC)
    assert out.startswith("Demo data (SYNTHETIC, seed 7): ")
    assert "annualised over 252 trading days; risk-free 0.00% a year" in out
    assert report["data_source"] == "Demo data (SYNTHETIC, seed 7)" and report["synthetic"] is True
    assert len(report["fingerprint"]) == 16
    assert report["random_portfolios"]["n"] == 40 and len(report["random_portfolios"]["sharpes"]) == 40
    assert report["sharpe_ci"]["low"] <= report["sharpe_ci"]["estimate"] <= report["sharpe_ci"]["high"]
    assert "Sharpe ratio:" in out and "random portfolios (40)" in out and "wrote robustness.json" in err


def test_sweep_csv_starts_with_the_manifest_and_the_trial_counts(tmp_path: Path) -> None:
    code = main(["sweep", "--grid", "top_n=2,3", "--executor", "serial", "--out", str(tmp_path)])
    assert code == 0
    lines = (tmp_path / "sweep.csv").read_text().splitlines()
    header = {line[2:].split(":", 1)[0] for line in lines if line.startswith("# ")}
    assert {
        "params",
        "data_source",
        "fingerprint",
        "n_trials",
        "n_distinct_trials",
        "n_effective_trials",
    } <= header
    assert lines[len(header)].startswith("top_n,")


def test_sweep_says_why_there_is_no_best(tmp_path: Path) -> None:
    """Every configuration ran, none has a Sharpe ratio (flat prices: zero volatility); the
    summary stopped at '0 failed' without a word about the missing best and DSR."""
    days = pd.bdate_range("2021-11-01", "2022-03-31")
    prices = tmp_path / "prices.csv"
    prices.write_text(
        "date,AAA,BBB,QQQ\n" + "".join(f"{d.date()},100,50,{300 + i}\n" for i, d in enumerate(days))
    )
    sentiment = tmp_path / "sentiment.csv"
    sentiment.write_text(
        "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
        + "".join(f"2022-0{m}-10,AAA,10,60,200,1000,\n2022-0{m}-10,BBB,10,30,200,1000,\n" for m in (1, 2))
    )
    code, out, err = _run(
        [
            "sweep",
            "--sentiment",
            str(sentiment),
            "--prices",
            str(prices),
            "--grid",
            "top_n=1,2",
            "--executor",
            "serial",
        ]
    )
    assert code == 0, err
    assert "2 configurations on sentiment.csv + prices.csv" in out and "0 failed" in out
    assert "no best configuration and no deflated Sharpe ratio: none of the 2 configuration(s)" in out


def test_the_best_configurations_are_listed_by_the_rule_that_picks_the_best() -> None:
    """Sharpe ratios equal up to rounding are one value and the first row of a tie comes
    first (engine.dispersion.first_best, the sweep's best): the listing's first row is the
    sweep's best. A plain sort put a row 7e-15 above the best first (row 2 before row 0),
    and exact ties in any order (lookback_days 63 before 21 under equal weights)."""
    from engine.cli.sweep import best_rows, sweep_text

    table = pd.DataFrame(
        {
            "lookback_days": [21, 63, 126, 252, 21, 63, 5],
            "sharpe": [0.2522577244880066, 0.2522577244879997, 0.25225772448800844, 0.1, 1.75, 1.75, np.nan],
            "error": [None, None, None, None, None, None, None],
        }
    )
    ranked = best_rows(table, 6)
    assert ranked["lookback_days"].tolist() == [21, 63, 21, 63, 126, 252]
    assert best_rows(table.iloc[[3, 6]], 5)["lookback_days"].tolist() == [252, 5]
    # as printed: the top three of the rows that tie at 0.2523 (the best is row 0)
    tied = table.iloc[:3].assign(total_return=0.1, max_drawdown=-0.1)
    result = types.SimpleNamespace(
        n_configs=3,
        executor="serial",
        elapsed_s=0.1,
        n_failed=0,
        best=0,
        table=tied,
        deflated_sharpe=None,
        n_trials=3,
        n_distinct_trials=1,
        n_effective_trials=1,
    )
    text = sweep_text(result, {"lookback_days": (21, 63, 126)}, data_label="hand-made")
    listed = text.split("best configurations by Sharpe:\n")[1].splitlines()[1:4]
    assert [int(line.split()[0]) for line in listed] == [21, 63, 126]


def test_a_sweep_shorter_than_a_year_warns_on_stderr() -> None:
    code, out, err = _run(
        [
            "sweep",
            "--grid",
            "top_n=3,5",
            "--executor",
            "serial",
            "--start",
            "2023-06-01",
            "--end",
            "2023-09-29",
        ]
    )
    assert code == 0, err
    assert "warning: The longest configuration's evaluated window covers" in err
    assert "annualised extrapolations" not in out  # a note: stderr, beside the table on stdout
