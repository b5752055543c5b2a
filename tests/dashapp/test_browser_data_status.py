"""Browser test (headless chromium via dash_duo) of the Data and Status pages, under the real CSP.

Run: ``python -m pytest --headless tests/dashapp/test_browser_data_status.py``.
"""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path
from typing import Any

import pytest

import engine
from dashapp import create_app
from tests.dashapp.test_page_data import GOOD_SENTIMENT, _prices_csv

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CSP_WORDS = ("Content Security Policy", "Content-Security-Policy", "Refused to")


@dataclasses.dataclass(frozen=True, kw_only=True)
class FakeCluster:
    """Stands in for engine.cluster_status(): this test must not start a Ray cluster."""

    mode: str = "embedded"
    address: str = "local"
    nodes: int = 1
    cpus: float = 2.0
    memory_bytes: int = 4 * 2**30
    object_store_bytes: int = 2**30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def upload(dash_duo: Any, upload_id: str, path: Path) -> None:
    dash_duo.find_element(f"#{upload_id} input[type=file]").send_keys(str(path))


def click(dash_duo: Any, selector: str) -> None:
    """Click like a user; if a transient overlay (a loading spinner) covers it, click through JS."""
    from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException

    element = dash_duo.wait_for_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    try:
        element.click()
    except (ElementClickInterceptedException, StaleElementReferenceException):
        dash_duo.driver.execute_script("arguments[0].click();", dash_duo.wait_for_element(selector))


def csp_violations(dash_duo: Any) -> list[Any]:
    return [entry for entry in dash_duo.get_logs() or [] if any(w in str(entry) for w in CSP_WORDS)]


def test_upload_then_status(dash_duo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "cluster_status", lambda **_: FakeCluster(), raising=False)
    bad = tmp_path / "broken.csv"
    bad.write_text("this,is,not\nsentiment,data,at all\n")
    good = tmp_path / "good_sentiment.csv"
    good.write_text(GOOD_SENTIMENT)
    prices = tmp_path / "closes.csv"
    prices.write_text(_prices_csv())
    # cluster_status is faked; the operator allowed clearing the cache (off by default)
    app = create_app(
        {"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "ray", "SPL_ALLOW_CACHE_CLEAR": True}
    )

    dash_duo.start_server(app, port=free_port())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/data")
    dash_duo.wait_for_contains_text("#source-badge", "SYNTHETIC", timeout=30)
    dash_duo.wait_for_contains_text("#data-active", "Demo data", timeout=30)

    # A malformed file: an error in the page, the session keeps the demo data.
    upload(dash_duo, "data-upload-sentiment", bad)
    dash_duo.wait_for_contains_text("#data-validation", "cannot be used", timeout=30)
    assert "broken.csv" in dash_duo.find_element("#data-upload-sentiment-name").text
    assert dash_duo.find_element("#data-use-upload").get_attribute("disabled") is not None

    # A good sentiment file with its prices: a report, then it becomes the session's source.
    upload(dash_duo, "data-upload-prices", prices)
    upload(dash_duo, "data-upload-sentiment", good)
    dash_duo.wait_for_contains_text("#data-validation", "is valid", timeout=30)
    assert (
        "Dropped" in dash_duo.find_element("#data-validation").text
        or "No rows dropped" in dash_duo.find_element("#data-validation").text
    )
    click(dash_duo, "#data-use-upload:not([disabled])")
    dash_duo.wait_for_contains_text("#source-badge", "good_sentiment.csv", timeout=30)
    assert "SYNTHETIC" not in dash_duo.find_element("#source-badge").text
    dash_duo.wait_for_contains_text("#data-active", "UPLOADED", timeout=30)

    # Status page (client-side navigation keeps the session): cluster, source, clearing the cache.
    click(dash_duo, "#nav-status")
    dash_duo.wait_for_contains_text("#status-cluster", "embedded", timeout=30)
    assert "4.0 GiB" in dash_duo.find_element("#status-cluster").text
    dash_duo.wait_for_contains_text("#status-source", "good_sentiment.csv", timeout=30)
    dash_duo.wait_for_contains_text("#status-cache", "FileSystemCache", timeout=30)
    click(dash_duo, "#status-clear")
    dash_duo.wait_for_contains_text("#status-message", "Cache cleared", timeout=30)

    # Back to the default source from the Data page.
    click(dash_duo, "#nav-data")
    dash_duo.wait_for_contains_text(
        "#data-active", "UPLOADED", timeout=30
    )  # filled on client-side navigation
    click(dash_duo, "#data-use-default")
    dash_duo.wait_for_contains_text("#source-badge", "SYNTHETIC", timeout=30)
    dash_duo.wait_for_contains_text("#data-active", "Demo data", timeout=30)

    assert csp_violations(dash_duo) == []


def test_status_by_default_has_no_clear_button_and_no_internals(
    dash_duo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default deployment: no "Clear cache" button; no cache directory or cluster address."""
    monkeypatch.setattr(
        engine,
        "cluster_status",
        lambda **_: FakeCluster(mode="external", address="ray://head:10001"),
        raising=False,
    )
    app = create_app({"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "ray"})
    dash_duo.start_server(app, port=free_port())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/status")
    dash_duo.wait_for_contains_text("#status-cache", "FileSystemCache", timeout=30)
    dash_duo.wait_for_contains_text("#status-cluster", "external", timeout=30)
    assert dash_duo.find_elements("#status-clear") == []
    page = dash_duo.find_element("body").text
    assert "Clear cache" not in page and "Refresh" in page
    assert str(tmp_path) not in page and "head" not in page and "10001" not in page
    assert csp_violations(dash_duo) == []


def test_plotly_charts_render_under_the_csp(dash_duo: Any) -> None:
    """The policy has no 'unsafe-eval': plotly's formatting, hover and text templates must not need it."""
    import dash
    import numpy as np
    import plotly.graph_objects as go
    from dash import dcc, html

    from dashapp.security import install_security

    rng = np.random.default_rng(5)
    line = go.Figure(go.Scatter(y=np.cumsum(rng.normal(0, 0.01, 250)), name="portfolio"))
    line.update_layout(yaxis_tickformat=".1%", hovermode="x unified")
    heatmap = go.Figure(go.Heatmap(z=rng.random((6, 6)), texttemplate="%{z:.2f}"))
    app = dash.Dash(__name__)
    app.layout = html.Div([dcc.Graph(id="line", figure=line), dcc.Graph(id="heat", figure=heatmap)])
    install_security(app, max_upload_bytes=2**20)

    dash_duo.start_server(app, port=free_port())
    dash_duo.wait_for_element("#line .main-svg", timeout=30)
    dash_duo.wait_for_element("#heat .main-svg", timeout=30)
    dash_duo.wait_for_contains_text("#heat", "0.", timeout=30)  # the text template ran
    assert (
        "frame-ancestors"
        in __import__("urllib.request")
        .request.urlopen(dash_duo.server_url)
        .headers["Content-Security-Policy"]
    )
    assert csp_violations(dash_duo) == []
