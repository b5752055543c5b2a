"""Sweep page end to end in headless chromium on the demo data.

A 4-configuration sweep (top_n x lag_days) runs as a background callback: the progress
bar reaches 100%, the heatmap and the table (an AG Grid) show every configuration, the CSV
holds them all, the walk-forward section shows its folds, curves and PBO, and clicking a
row opens that configuration on the Backtest page. No Content-Security-Policy violation
is logged (AG Grid under the app's strict policy).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.support.apps import demo_app
from tests.support.browser import click, csp_violations, poll, type_text
from tests.support.timing import BROWSER_S

pytestmark = pytest.mark.browser

WAIT_S = BROWSER_S
TOP_N_CELLS = "#sweep-table .ag-pinned-left-cols-container .ag-cell[col-id='top_n']"


def _column_in_display_order(dash_duo, grid: str, column: str) -> list[str]:
    """An AG Grid column's texts in the order shown (rows are positioned, not DOM-ordered)."""
    return dash_duo.driver.execute_script(
        "const rows = [...document.querySelectorAll(arguments[0] + ' .ag-pinned-left-cols-container .ag-row')];"
        "rows.sort((a, b) => Number(a.getAttribute('row-index')) - Number(b.getAttribute('row-index')));"
        "return rows.map(r => { const c = r.querySelector(`.ag-cell[col-id='${arguments[1]}']`);"
        " return c ? c.textContent.trim() : null; });",
        grid,
        column,
    )


@pytest.fixture
def app(tmp_path: Path):
    return demo_app(tmp_path / "cache")


def test_small_sweep_progress_heatmap_table_csv_and_open_row(dash_duo, app) -> None:
    import engine

    if not hasattr(engine, "run_sweep"):
        pytest.skip("engine.run_sweep is not in this checkout yet")
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#source-badge", timeout=WAIT_S)
    dash_duo.driver.get(f"{dash_duo.server_url}/sweep")
    dash_duo.wait_for_element("#sweep-run", timeout=WAIT_S)
    type_text(dash_duo, "#sweep-grid-top_n", "3, 5")
    type_text(dash_duo, "#sweep-grid-lag_days", "0, 1")
    # Clear the default multi-select of weightings: only top_n x lag_days are swept.
    dash_duo.driver.execute_script(
        "document.querySelectorAll('#sweep-grid-weighting .dash-dropdown-clear, "
        "#sweep-grid-weighting .Select-clear').forEach(e => e.click());"
    )
    dash_duo.wait_for_text_to_equal("#sweep-grid-size", "4 configurations to run.", timeout=WAIT_S)
    click(dash_duo, "#sweep-run")

    dash_duo.wait_for_text_to_equal("#sweep-progress .progress-bar", "4/4", timeout=WAIT_S)
    assert dash_duo.find_element("#sweep-progress .progress-bar").get_attribute("aria-valuenow") == "100"
    poll(lambda: len(dash_duo.find_elements(TOP_N_CELLS)) == 4)
    heat = poll(
        lambda: dash_duo.driver.execute_script(
            "const g = document.querySelector('#sweep-heatmap .js-plotly-plot');"
            "return g && g.data && g.data.length ? g.data[0] : null;"
        )
    )
    assert heat["type"] == "heatmap" and list(heat["x"]) == ["3", "5"] and list(heat["y"]) == ["0", "1"]
    url = dash_duo.driver.current_url
    query = parse_qs(urlparse(url).query)
    assert query["grid_top_n"] == ["3,5"] and query["grid_lag_days"] == ["0,1"]
    summary = dash_duo.find_element("#sweep-summary").text
    assert "Configurations run 4" in summary and "Failed 0" in summary
    assert "DSR trials" in summary

    # Walk-forward validation from the kept returns: folds table, curves, PBO beside the DSR.
    dash_duo.wait_for_contains_text("#sweep-wf-changes", "over 5 folds", timeout=WAIT_S)
    poll(lambda: len(dash_duo.find_elements("#sweep-wf-table .ag-center-cols-container .ag-row")) == 5)
    curves = poll(
        lambda: dash_duo.driver.execute_script(
            "const g = document.querySelector('#sweep-wf-equity .js-plotly-plot');"
            "return g && g.data && g.data.length ? g.data.map(t => t.name) : null;"
        )
    )
    assert curves[:2] == ["Walk-forward (out of sample)", "Full-history winner"]
    pbo = dash_duo.find_element("#sweep-wf-pbo").text
    assert "Probability of backtest overfitting" in pbo and "Deflated Sharpe" in pbo
    type_text(dash_duo, "#sweep-wf-folds", "3")
    dash_duo.wait_for_contains_text("#sweep-wf-changes", "over 3 folds", timeout=WAIT_S)
    poll(lambda: "wf_folds=3" in dash_duo.driver.current_url)
    click(dash_duo, "#sweep-wf-download-button")
    folder = Path(dash_duo.download_path)  # named by engine.download_filename: kind + fingerprint
    poll(lambda: list(folder.glob("walk_forward_*.csv")))
    wf_text = next(folder.glob("walk_forward_[0-9a-f]*.csv")).read_text()
    assert "# pbo: " in wf_text and len([ln for ln in wf_text.splitlines() if not ln.startswith("#")]) == 4
    assert "# oos_walk_forward: " in wf_text and "# pbo_probability_of_loss: " in wf_text
    click(dash_duo, "#sweep-wf-returns-download-button")  # the curves' daily returns
    poll(lambda: list(folder.glob("walk_forward_returns_*.csv")))
    returns_text = next(folder.glob("walk_forward_returns_*.csv")).read_text()
    body = [ln for ln in returns_text.splitlines() if not ln.startswith("#")]
    assert body[0] == "date,walk_forward,full_history_winner,benchmark" and len(body) > 10
    assert csp_violations(dash_duo) == []
    dash_duo.driver.save_screenshot(str(Path(dash_duo.download_path).parent / "sweep.png"))

    click(dash_duo, "#sweep-download-button")
    poll(lambda: list(folder.glob("sweep_*.csv")))
    csv_path = next(folder.glob("sweep_*.csv"))
    rows = [line.split(",") for line in csv_path.read_text().splitlines() if not line.startswith("#")]
    assert rows[0][:2] == ["top_n", "lag_days"] and sorted((r[0], r[1]) for r in rows[1:]) == [
        ("3", "0"),
        ("3", "1"),
        ("5", "0"),
        ("5", "1"),
    ]

    # The page's URL reproduces the sweep: a fresh load runs it again (from the cache).
    dash_duo.driver.get("about:blank")
    dash_duo.driver.get(f"{dash_duo.server_url}/sweep?{urlparse(url).query}")
    dash_duo.wait_for_contains_text("#sweep-summary", "Configurations run 4", timeout=WAIT_S)
    again = poll(
        lambda: dash_duo.driver.execute_script(
            "const g = document.querySelector('#sweep-heatmap .js-plotly-plot');"
            "return g && g.data && g.data.length ? g.data[0] : null;"
        )
    )
    assert again["z"] == heat["z"]
    poll(lambda: len(dash_duo.find_elements(TOP_N_CELLS)) == 4)

    # Sorting by a header reorders the grid (AG Grid's sort): top_n ascending then descending.
    header = "#sweep-table .ag-header-cell[col-id='top_n'] .ag-header-cell-label"
    click(dash_duo, header)
    poll(lambda: _column_in_display_order(dash_duo, "#sweep-table", "top_n") == ["3", "3", "5", "5"])
    click(dash_duo, header)
    poll(lambda: _column_in_display_order(dash_duo, "#sweep-table", "top_n") == ["5", "5", "3", "3"])

    # A click on a row opens that configuration on the Backtest page, which runs it.
    first = dash_duo.find_element(TOP_N_CELLS)
    top_n = first.text.strip()
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", first
    )
    first.click()
    dash_duo.wait_for_element("#backtest-metric-cards", timeout=WAIT_S)
    assert urlparse(dash_duo.driver.current_url).path == "/"
    assert dash_duo.find_element("#backtest-top_n").get_attribute("value") == top_n


def test_a_links_invalid_grid_choice_is_shown_flagged_and_runs_nothing(dash_duo, app) -> None:
    """Breaker pass 11 (F4) in the browser: ``grid_weighting=best,equal`` showed ``equal``
    only and ran a 2-configuration sweep. Now ``best`` stays selected ("not valid"), the
    engine's sentence shows under the multi-select and in the run's message, and no sweep ran."""
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#source-badge", timeout=WAIT_S)
    dash_duo.driver.get(f"{dash_duo.server_url}/sweep?grid_weighting=best,equal&grid_top_n=3,5")
    dash_duo.wait_for_contains_text("#sweep-message", "got 'best'", timeout=WAIT_S)
    shown = dash_duo.find_element("#sweep-grid-weighting").text  # Dash 3 summarises a multi-select
    assert "best (not valid)" in shown or "2 selected" in shown
    feedback = dash_duo.find_element("#sweep-grid-weighting-feedback")
    poll(lambda: "got 'best'" in feedback.text and feedback.is_displayed())
    assert dash_duo.find_element("#sweep-summary").text == ""
    assert "best" in parse_qs(urlparse(dash_duo.driver.current_url).query)["grid_weighting"][0]
