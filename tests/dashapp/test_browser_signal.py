"""Signal page end to end in headless chromium on the demo data.

The page runs on load: IC cards, the IC bar chart with its rolling mean, decay, quantile
charts, coverage and the histogram appear; the SYNTHETIC badge is shown; a changed setting
goes into the URL; bad input is one sentence in the page; the CSV has the manifest header;
the navbar links the page; no Content-Security-Policy violation is logged.
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


@pytest.fixture
def app(tmp_path: Path):
    return demo_app(tmp_path / "cache")


def _traces(dash_duo, graph: str):
    return dash_duo.driver.execute_script(
        "const g = document.querySelector(arguments[0] + ' .js-plotly-plot');"
        "return g && g.data && g.data.length ? g.data.map(t => t.type) : null;",
        graph,
    )


def test_signal_page_runs_on_load_and_downloads(dash_duo, app) -> None:
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#source-badge", timeout=WAIT_S)
    click(dash_duo, "#nav-signal")  # the navbar links the page
    dash_duo.wait_for_contains_text("#signal-cards", "Mean IC", timeout=WAIT_S)
    assert "SYNTHETIC" in dash_duo.find_element("#source-badge").text
    cards = dash_duo.find_element("#signal-cards").text
    assert "IC IR" in cards and "IC t-stat" in cards and "Spread t-stat" in cards and "turnover" in cards
    assert poll(lambda: _traces(dash_duo, "#signal-graph-ic")) == ["bar", "scatter"]
    for name in ("decay", "quantiles", "cumulative", "coverage", "distribution"):
        assert poll(lambda name=name: _traces(dash_duo, f"#signal-graph-{name}"))
    dash_duo.driver.save_screenshot(str(Path(dash_duo.download_path).parent / "signal.png"))

    # A setting goes into the URL, and the page reruns with it.
    type_text(dash_duo, "#signal-quantiles", "3")
    click(dash_duo, "#signal-run")
    poll(lambda: parse_qs(urlparse(dash_duo.driver.current_url).query).get("quantiles") == ["3"])
    assert poll(lambda: (_traces(dash_duo, "#signal-graph-cumulative") or []) == ["scatter"] * 3)

    click(dash_duo, "#signal-download-button")
    folder = Path(dash_duo.download_path)  # named by engine.download_filename: kind + fingerprint
    poll(lambda: list(folder.glob("signal_analysis_*.csv")))
    text = next(folder.glob("signal_analysis_*.csv")).read_text()
    assert "# synthetic: true" in text and "# quantiles: 3" in text
    header = next(line for line in text.splitlines() if not line.startswith("#"))
    assert header.startswith("formation_end,entry_date") and header.endswith("q1,q2,q3")

    # Bad input: the field is flagged and Analyse is disabled.
    type_text(dash_duo, "#signal-quantiles", "99")
    dash_duo.wait_for_contains_text("#signal-form-status", "Fix 1 field", timeout=WAIT_S)
    assert dash_duo.find_element("#signal-run").get_attribute("disabled") is not None
    logs = csp_violations(dash_duo)
    assert logs == []


def test_a_link_reproduces_the_analysis(dash_duo, app) -> None:
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#source-badge", timeout=WAIT_S)
    dash_duo.driver.get(f"{dash_duo.server_url}/signal?lag_days=2&quantiles=4&horizons=5")
    dash_duo.wait_for_contains_text("#signal-cards", "Mean IC", timeout=WAIT_S)
    assert dash_duo.find_element("#signal-lag_days").get_attribute("value") == "2"
    decay = poll(
        lambda: dash_duo.driver.execute_script(
            "const g = document.querySelector('#signal-graph-decay .js-plotly-plot');"
            "return g && g.data && g.data.length ? g.data[0].x : null;"
        )
    )
    assert list(decay) == ["1", "2", "3", "4", "5"]
    assert len(poll(lambda: _traces(dash_duo, "#signal-graph-cumulative"))) == 4
