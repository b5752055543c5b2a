"""The HTML report (issue 13): one self-contained file with the manifest, metrics, every
Backtest-page chart, periods, holdings, warnings and robustness; every user/data string
escaped; the same file from the page's button and from ``python -m engine backtest --report``.
The browser test opens it offline in headless Chromium and reads the console log."""

from __future__ import annotations

import io
import re
import shutil
import sys
from pathlib import Path

import pytest

import engine
from dashapp import report
from engine.cli import backtest as cli_backtest

from .test_backtest_honesty import WARNINGS, _result
from .test_page_backtest import FakeServices

HOSTILE = "<script>alert(1)</script>"
PARAMS = engine.StrategyParams(top_n=1).to_dict()
ROBUSTNESS = FakeServices().robustness(None, None)


def _hostile_result() -> dict:
    result = _result(PARAMS)
    result["warnings"] = [*WARNINGS, f"{HOSTILE} has no close on 2022-02-01; skipped"]
    result["manifest"]["data_source"] = f"upload {HOSTILE}.csv"
    return result


@pytest.fixture(scope="module")
def html_text() -> str:
    return report.backtest_report_html(_hostile_result(), ROBUSTNESS, notes=["No prices for BAD1."])


def test_report_has_every_figure_the_manifest_and_the_tables(html_text: str) -> None:
    for div_id in (*report.FIGURE_IDS, report.ROBUSTNESS_FIGURE_ID):
        assert f'id="{div_id}"' in html_text
    assert f'id="{report.MANIFEST_ID}"' in html_text
    assert "fp123" in html_text and "Parameter top_n" in html_text
    for table in ("report-metrics", "report-periods", "report-holdings", "report-robustness"):
        assert f'id="{table}"' in html_text
    # The engine's dates: formation end, entry close, drawdown dates.
    assert "2022-01-30" in html_text and "2022-01-31" in html_text
    assert "peak 2021-12-31, trough 2022-01-04, recovery 2022-02-02" in html_text
    for warning in WARNINGS:
        assert warning in html_text
    assert "No prices for BAD1." in html_text
    assert "1.20 [0.40, 2.00] (95% CI)" in html_text
    # Strategy vs benchmark vs universe: every engine metric is a row.
    metrics = html_text.split('id="report-metrics"')[1].split("</table>")[0]
    assert metrics.count("<tr>") == len(engine.METRIC_NAMES) + 1


def test_report_is_self_contained(html_text: str) -> None:
    # plotly.js inline exactly once, no script fetched from anywhere.
    assert not re.search(r"<script[^>]*\bsrc=", html_text)
    assert html_text.count("plotly.js v") >= 1
    assert html_text.count("<script>/**\n* plotly.js v") == 1
    assert not re.search(r"<link[^>]*href=", html_text)


def test_report_escapes_every_user_and_data_string(html_text: str) -> None:
    assert HOSTILE not in html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text  # warnings, manifest, holdings
    holdings = html_text.split('id="report-holdings"')[1].split("</table>")[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 100.0%" in holdings


def test_report_without_robustness_says_so() -> None:
    text = report.backtest_report_html(_result(PARAMS))
    assert "Robustness checks were not run" in text
    assert f'id="{report.ROBUSTNESS_FIGURE_ID}"' not in text


def test_page_report_download(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dashapp import create_app

    create_app({"CACHE_DIR": str(tmp_path / "cache")})
    from dashapp.pages import backtest as page

    class Services(FakeServices):
        def backtest(self, source, params):
            return _hostile_result()

    fake = Services()
    monkeypatch.setattr(page, "services", fake)
    state = {"source": {"kind": "default"}, "params": PARAMS}
    data = page.download_report(1, state, None)
    assert data["filename"] == "backtest_report_fp123.html" and data["type"] == "text/html"
    assert "Robustness checks were not run" in data["content"]
    shown = page.robustness_section(fake.robustness(None, None)).to_plotly_json()
    with_checks = page.download_report(1, state, shown)
    assert 'id="report-robustness"' in with_checks["content"]
    assert page.report(None) is None


def test_cli_writes_the_report(tmp_path: Path) -> None:
    from engine.cli.main import main

    path = tmp_path / "out" / "report.html"
    out, err = io.StringIO(), io.StringIO()
    code = main(["backtest", "--top-n", "3", "--report", str(path)], stdout=out, stderr=err)
    assert code == 0
    text = path.read_text(encoding="utf-8")
    for div_id in report.FIGURE_IDS:
        assert f'id="{div_id}"' in text
    # "wrote ..." is a note: on stderr, not in the results on stdout
    assert "SYNTHETIC" in text and f"wrote the HTML report to {path}" in err.getvalue()
    assert "wrote" not in out.getvalue()


def test_cli_report_without_plotly_is_one_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "dashapp.report", None)  # import fails as if not installed
    result = engine.run_backtest(
        engine.load_market_data(engine.DemoProvider(seed=1)), engine.StrategyParams()
    )
    with pytest.raises(engine.ParameterError, match=r"^--report needs the dashboard's packages"):
        cli_backtest.write_report(result, tmp_path / "r.html")


@pytest.mark.browser
def test_report_opens_offline_in_headless_chromium(html_text: str, tmp_path: Path) -> None:
    if not shutil.which("chromedriver"):
        pytest.skip("chromedriver is not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from tests.conftest import pytest_setup_options

    path = tmp_path / "report.html"
    path.write_text(html_text, encoding="utf-8")
    options = pytest_setup_options()
    options.add_argument("--headless=new")
    # No network at all: every request that is not the file itself fails.
    options.add_argument("--proxy-server=http://127.0.0.1:9")
    options.add_argument("--proxy-bypass-list=<-loopback>")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.get(path.as_uri())
        drawn = driver.execute_script(
            "return Array.from(document.querySelectorAll('.js-plotly-plot')).map(e => e.id)"
        )
        assert set(drawn) == {*report.FIGURE_IDS, report.ROBUSTNESS_FIGURE_ID}
        assert driver.execute_script("return typeof window.Plotly") == "object"
        assert driver.execute_script("return window.__hostile === undefined")
        logs = driver.get_log("browser")
    finally:
        driver.quit()
    errors = [entry for entry in logs if entry.get("level") in ("SEVERE", "ERROR")]
    assert errors == []
