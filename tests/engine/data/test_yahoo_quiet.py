"""yfinance's own log lines and warnings stay out of the engine's output (breaker pass 13,
F5): offline, ``stocks --prices yahoo`` printed "Failed to get ticker 'AAPL' reason: ...
curl: (6)", "Cookie/crumb fetch failed" and pandas' Pandas4Warning from yfinance's code
before the engine's one sentence. A fake download function (the provider seam, no network)
logs and warns as yfinance does."""

from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path
from typing import Any

import pytest

from engine import DataUnavailableError, YahooProvider
from engine.cli import common
from engine.cli.main import main
from engine.data.yahoo import quiet_yfinance
from tests.engine.data.test_yahoo import END, START, yf_offline_frame

OFFLINE = (
    "Yahoo Finance returned no prices for any of the 2 ticker(s) (offline or rate limited); "
    "try again later, or give a price file instead"
)


class _NoisyOffline:
    """Logs to the 'yfinance' logger and warns from a yfinance module, as yfinance 1.x does
    offline, then returns its empty frame; also warns once from the engine (kept)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, tickers: list[str], **_: Any) -> Any:
        self.calls += 1
        log = logging.getLogger("yfinance")
        log.warning("Cookie/crumb fetch failed (CurlError), continuing without crumb")
        for ticker in tickers:
            log.error(f"Failed to get ticker '{ticker}' reason: curl: (6) Could not resolve host")
        logging.getLogger("yfinance.data").error("a child logger's line")
        warnings.warn_explicit(
            "Pandas4Warning: the 'inplace' keyword in DataFrame.rename is deprecated",
            FutureWarning,
            filename="yfinance/multi.py",
            lineno=220,
            module="yfinance.multi",
        )
        return yf_offline_frame(tickers)


def _no_root_handlers(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """The CLI's logging: no handler anywhere, so a record goes to logging's last resort,
    which writes to sys.stderr (here a StringIO)."""
    stderr = io.StringIO()
    monkeypatch.setattr(logging.root, "handlers", [])
    monkeypatch.setattr("sys.stderr", stderr)
    return stderr


def test_the_provider_says_its_one_sentence_and_nothing_of_yfinance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stderr = _no_root_handlers(monkeypatch)
    noisy = _NoisyOffline()
    yahoo = YahooProvider(sentiment=b"", cache_dir=tmp_path, downloader=noisy, sleep=lambda _: None)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(DataUnavailableError) as caught:
            yahoo.prices(["AAA", "QQQ"], START, END)
    assert noisy.calls > 1  # retried, as before
    assert str(caught.value).startswith(OFFLINE)
    assert stderr.getvalue() == ""
    assert not [r for r in caplog.records if r.name.startswith("yfinance")]
    assert [str(w.message) for w in seen] == []
    assert logging.getLogger("yfinance").level == logging.NOTSET  # restored


def test_the_cli_prints_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YAHOO_CACHE_DIR", str(tmp_path / "yahoo-cache"))
    monkeypatch.setattr(common, "YAHOO_SLEEP", lambda _: None)
    monkeypatch.setattr(common, "YAHOO_DOWNLOADER", _NoisyOffline())
    stderr = _no_root_handlers(monkeypatch)
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        code = main(["stocks", "--symbols", "AAPL,MSFT", "--prices", "yahoo"], stdout=out, stderr=err)
    assert code == 2 and out.getvalue() == ""
    assert err.getvalue().count("\n") == 1 and err.getvalue().startswith(f"error: {OFFLINE}")
    assert "Failed to get ticker" not in stderr.getvalue() + err.getvalue()
    assert "crumb" not in stderr.getvalue()
    assert [str(w.message) for w in seen] == []


def test_only_yfinance_is_silenced_and_everything_is_restored() -> None:
    log = logging.getLogger("yfinance")
    log.setLevel(logging.INFO)
    filters = list(warnings.filters)
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            with quiet_yfinance():
                assert not log.isEnabledFor(logging.ERROR)
                warnings.warn_explicit(
                    "from yfinance", FutureWarning, "yfinance/base.py", 1, module="yfinance.base"
                )
                warnings.warn_explicit("from the engine", UserWarning, "engine/x.py", 1, module="engine.x")
                warnings.warn_explicit("a look-alike", UserWarning, "yfinancex.py", 1, module="yfinancex")
        assert [str(w.message) for w in seen] == ["from the engine", "a look-alike"]
        assert log.level == logging.INFO and warnings.filters == filters
    finally:
        log.setLevel(logging.NOTSET)
