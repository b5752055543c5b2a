"""Backtest page end to end in headless chromium on the demo data.

Run with ``python -m pytest --headless tests/dashapp/test_browser_backtest.py``.
One run through the form (charts, cards, CSV download, URL), then the shared URL
reproduces the same metrics; a second test checks the form flags a bad field.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.support.browser import click
from tests.support.timing import BROWSER_S

pytestmark = pytest.mark.browser

WAIT_S = BROWSER_S


@pytest.fixture
def app(tmp_path: Path):
    from dashapp import create_app

    return create_app(
        {"CACHE_DIR": str(tmp_path / "cache"), "DATA_SOURCE": "demo", "ENGINE_EXECUTOR": "serial"}
    )


def _trace_names(dash_duo, graph_id: str) -> list[str] | None:
    """Names of the traces plotly drew in a dcc.Graph (polls: plotly renders asynchronously)."""
    deadline = time.monotonic() + WAIT_S
    names = None
    while names is None and time.monotonic() < deadline:
        names = dash_duo.driver.execute_script(
            "const g = document.querySelector(arguments[0] + ' .js-plotly-plot');"
            "return g && g.data ? g.data.map(t => t.name || t.type) : null;",
            f"#{graph_id}",
        )
        time.sleep(0.1)
    return names


def _card_texts(dash_duo) -> list[str]:
    return [e.text for e in dash_duo.find_elements("#backtest-metric-cards .spl-metric-card")]


def _wait_for_file(folder: Path, pattern: str) -> Path:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(pattern) if not p.name.endswith(".crdownload")]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {pattern} downloaded into {folder}")


def test_run_charts_download_and_shared_url(dash_duo, app) -> None:
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#backtest-run", timeout=WAIT_S)
    top_n = dash_duo.find_element("#backtest-top_n")
    dash_duo.clear_input(top_n)
    top_n.send_keys("4")
    click(dash_duo, "#backtest-run")
    dash_duo.wait_for_element("#backtest-metric-cards", timeout=WAIT_S)

    assert _trace_names(dash_duo, "backtest-graph-cumulative") == [
        "Strategy",
        "Benchmark",
        "Eligible universe",
    ]
    for graph in ("drawdown", "monthly", "turnover", "rolling", "holdings"):
        dash_duo.wait_for_element(f"#backtest-graph-{graph} .js-plotly-plot", timeout=WAIT_S)
    dash_duo.driver.save_screenshot("/tmp/backtest_page.png")
    cards = _card_texts(dash_duo)
    assert len(cards) == 8 and cards[0].startswith("Total return")
    assert "%" in cards[0] and "QQQ" in cards[0]
    assert "SYNTHETIC" in dash_duo.find_element("#backtest-run-summary").text

    # The run is in the URL.
    url = dash_duo.driver.current_url
    assert parse_qs(urlparse(url).query)["top_n"] == ["4"]

    # The metrics CSV: manifest header, then the same Sharpe ratio as the card (2 decimals).
    click(dash_duo, "#backtest-download-metrics-button")
    path = _wait_for_file(Path(dash_duo.download_path), "backtest_metrics_*.csv")
    text = path.read_text()
    assert "# data_source: Demo data" in text and "# fingerprint: " in text and '"top_n": 4' in text
    rows = {line.split(",")[0]: line.split(",") for line in text.splitlines() if not line.startswith("#")}
    assert rows["metric"] == ["metric", "strategy", "benchmark", "universe"]
    sharpe_card = next(c for c in cards if c.startswith("Sharpe ratio"))
    assert f"{float(rows['sharpe'][1]):.2f}" in sharpe_card

    # Robustness runs as a background job and reports bootstrap intervals and a histogram.
    click(dash_duo, "#backtest-robustness-run")
    dash_duo.wait_for_contains_text("#backtest-robustness", "(95% CI)", timeout=WAIT_S)
    assert _trace_names(dash_duo, "backtest-graph-robustness") == ["Random portfolios"]

    # Opening the shared link in a fresh page load prefills the form and shows the same run.
    # (under its alias path /backtest, which must keep the query string).
    dash_duo.driver.get("about:blank")
    dash_duo.driver.get(f"{dash_duo.server_url}/backtest?{urlparse(url).query}")
    dash_duo.wait_for_element("#backtest-metric-cards", timeout=WAIT_S)
    assert dash_duo.find_element("#backtest-top_n").get_attribute("value") == "4"
    assert _card_texts(dash_duo) == cards
    assert dash_duo.get_logs() in ([], None)


def test_invalid_field_is_flagged_and_run_disabled(dash_duo, app) -> None:
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#backtest-run", timeout=WAIT_S)
    field = dash_duo.find_element("#backtest-lag_days")
    dash_duo.clear_input(field)
    field.send_keys("abc")
    dash_duo.wait_for_contains_text("#backtest-lag_days-feedback", "whole number", timeout=WAIT_S)
    assert "is-invalid" in dash_duo.find_element("#backtest-lag_days").get_attribute("class")
    assert dash_duo.find_element("#backtest-run").get_attribute("disabled") is not None
    dash_duo.clear_input(field)
    field.send_keys("1")
    dash_duo.wait_for_text_to_equal("#backtest-form-status", "", timeout=WAIT_S)
    assert dash_duo.find_element("#backtest-run").get_attribute("disabled") is None


def test_entry_dates_warnings_and_report_download(dash_duo, app) -> None:
    """The engine's entry dates and warnings on the page, and the HTML report downloaded.

    ``top_n=50`` on the demo data selects symbols without a close on some entry day: the
    engine skips them and says so (issue 9); the periods table shows each period's
    formation end and entry close as the engine decided them."""
    import engine

    expected = engine.run_backtest(
        engine.load_market_data(engine.DemoProvider(seed=7)), engine.StrategyParams(top_n=50)
    )
    first = expected.periods.iloc[0]
    dash_duo.start_server(app)
    dash_duo.driver.get(f"{dash_duo.server_url}/?top_n=50")
    dash_duo.wait_for_element("#backtest-metric-cards", timeout=WAIT_S)
    dash_duo.wait_for_contains_text("#backtest-warnings", "has no close on the entry day", timeout=WAIT_S)
    warnings = dash_duo.find_elements("#backtest-warnings li")
    assert len(warnings) == len(expected.warnings)
    click(dash_duo, "#backtest-periods summary")
    dash_duo.wait_for_contains_text("#backtest-periods", "Bought at the close of", timeout=WAIT_S)
    row = dash_duo.find_elements("#backtest-periods tbody tr")[0].text
    assert first["formation_end"].date().isoformat() in row
    assert first["entry_date"].date().isoformat() in row
    assert len(dash_duo.find_elements("#backtest-periods tbody tr")) == len(expected.periods)
    assert _trace_names(dash_duo, "backtest-graph-drawdown")[:2] == ["Strategy", "Benchmark"]

    click(dash_duo, "#backtest-report-button")
    path = _wait_for_file(Path(dash_duo.download_path), "backtest_report_*.html")
    text = path.read_text(encoding="utf-8")
    assert 'id="report-manifest"' in text and 'id="report-figure-holdings"' in text
    assert "has no close on the entry day" in text
    assert dash_duo.get_logs() in ([], None)


def test_a_failed_run_keeps_what_was_entered_in_the_url(dash_duo, app) -> None:
    """Found by a tester: a run that failed left the URL as it was (here empty), so a reload
    showed the defaults and no error, and the link did not say what was asked. Now the URL
    carries the entered values; a reload shows the same inputs and the same error."""
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#backtest-run", timeout=WAIT_S)
    for field, value in (("#backtest-top_n", "4"), ("#backtest-benchmark", "ZZZZ")):
        element = dash_duo.find_element(field)
        dash_duo.clear_input(element)
        element.send_keys(value)
    dash_duo.wait_for_text_to_equal("#backtest-form-status", "", timeout=WAIT_S)
    click(dash_duo, "#backtest-run")
    dash_duo.wait_for_contains_text("#backtest-results", "Cannot run this backtest", timeout=WAIT_S)
    error = dash_duo.find_element("#backtest-results").text
    assert "ZZZZ" in error

    deadline = time.monotonic() + WAIT_S
    while "benchmark=ZZZZ" not in dash_duo.driver.current_url and time.monotonic() < deadline:
        time.sleep(0.1)
    query = parse_qs(urlparse(dash_duo.driver.current_url).query)
    assert query["benchmark"] == ["ZZZZ"] and query["top_n"] == ["4"]

    # A reload of that URL: the same inputs, run at once, the same one-sentence error.
    url = dash_duo.driver.current_url
    dash_duo.driver.get("about:blank")
    dash_duo.driver.get(url)
    dash_duo.wait_for_contains_text("#backtest-results", "Cannot run this backtest", timeout=WAIT_S)
    assert dash_duo.find_element("#backtest-results").text == error
    assert dash_duo.find_element("#backtest-benchmark").get_attribute("value") == "ZZZZ"
    assert dash_duo.find_element("#backtest-top_n").get_attribute("value") == "4"
    assert dash_duo.driver.current_url == url

    # A link with a value the form refuses: shown as entered and flagged, the run's error
    # shown, and the URL still carries it (it was dropped to the default before).
    dash_duo.driver.get(f"{dash_duo.server_url}/?top_n=0&lag_days=2")
    dash_duo.wait_for_contains_text("#backtest-results", "top_n must be a whole number", timeout=WAIT_S)
    assert dash_duo.find_element("#backtest-top_n").get_attribute("value") == "0"
    dash_duo.wait_for_contains_text("#backtest-top_n-feedback", "whole number", timeout=WAIT_S)
    query = parse_qs(urlparse(dash_duo.driver.current_url).query)
    assert query["top_n"] == ["0"] and query["lag_days"] == ["2"]
    assert dash_duo.get_logs() in ([], None)
