"""Stocks page end to end in headless chromium on the demo data (a shared link, charts, CSV)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.support.timing import BROWSER_S

pytestmark = pytest.mark.browser

WAIT_S = BROWSER_S


@pytest.fixture
def app(tmp_path: Path):
    from dashapp import create_app

    return create_app(
        {"CACHE_DIR": str(tmp_path / "cache"), "DATA_SOURCE": "demo", "ENGINE_EXECUTOR": "serial"}
    )


def _plotted(dash_duo, graph_id: str) -> list[str] | None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        names = dash_duo.driver.execute_script(
            "const g = document.querySelector(arguments[0] + ' .js-plotly-plot');"
            "return g && g.data ? g.data.map(t => t.name || t.type) : null;",
            f"#{graph_id}",
        )
        if names:
            return names
        time.sleep(0.1)
    return None


def test_link_with_symbols_shows_charts_and_downloads_metrics(dash_duo, app) -> None:
    import engine

    symbols = sorted(engine.DemoProvider(n_symbols=6).sectors)[:3]
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#source-badge", timeout=WAIT_S)
    dash_duo.driver.get(f"{dash_duo.server_url}/stocks?symbols={','.join(symbols)}&start=2022-03-01")
    dash_duo.wait_for_element("#stocks-metrics-table", timeout=WAIT_S)

    table_rows = [row.text for row in dash_duo.find_elements("#stocks-metrics-table tbody tr")]
    assert [row.split()[0] for row in table_rows] == symbols
    assert _plotted(dash_duo, "stocks-graph-prices") == symbols
    assert _plotted(dash_duo, "stocks-graph-returns") == symbols
    assert _plotted(dash_duo, "stocks-graph-correlation") == ["heatmap"]

    button = dash_duo.find_element("#stocks-download-button")
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", button
    )
    button.click()
    folder = Path(dash_duo.download_path)
    deadline = time.monotonic() + WAIT_S
    while not list(folder.glob("stock_metrics_*.csv")) and time.monotonic() < deadline:
        time.sleep(0.2)
    text = next(folder.glob("stock_metrics_*.csv")).read_text()  # kind + fingerprint (engine)
    params = next(line for line in text.splitlines() if line.startswith("# params: "))
    assert json.loads(params[len("# params: ") :])["symbols"] == symbols and '"start": "2022-03-01"' in params
    rows = [line.split(",") for line in text.splitlines() if not line.startswith("#")]
    assert rows[0] == ["symbol", "total_return", "annual_volatility", "sharpe", "max_drawdown"]
    assert [r[0] for r in rows[1:]] == symbols
    # The table shows the CSV's Sharpe ratio rounded to 2 decimals.
    assert f"{float(rows[1][3]):.2f}" in table_rows[0]
