"""DATA_SOURCE=files honours DATE_FORMAT / DAYFIRST / DECIMAL (docs/data.md): the app reads
them once from the environment into its config and passes them to the provider."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import engine
from dashapp import create_app
from dashapp.config import AppConfig
from dashapp.services.sources import get_market_data

# Day-first dates that are ambiguous without the option (every day <= 12).
SENTIMENT = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
    + "".join(
        f"{day:02d}/{month:02d}/2022,{symbol},{30 + day},{20 + day},{40 + day},{1000 + day},0.5\n"
        for month in (1, 2, 3)
        for day in (3, 4, 5)
        for symbol in ("AAA", "BBB")
    )
)


def _prices() -> str:
    lines = ["date;AAA;BBB;QQQ"]
    day = dt.date(2021, 12, 1)
    i = 0
    while day <= dt.date(2022, 5, 31):
        if day.weekday() < 5:
            i += 1
            lines.append(f"{day:%d/%m/%Y};{100 + i},5;{50 + i},25;{300 + i},75")
        day += dt.timedelta(days=1)
    return "\n".join(lines) + "\n"


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "s.csv").write_text(SENTIMENT)
    (tmp_path / "p.csv").write_text(_prices())
    return tmp_path / "s.csv", tmp_path / "p.csv"


def _app(tmp_path: Path, files: tuple[Path, Path], **extra: str) -> Any:
    return create_app(
        {
            "CACHE_DIR": str(tmp_path / "cache"),
            "ENGINE_EXECUTOR": "serial",
            "DATA_SOURCE": "files",
            "SENTIMENT_PATH": str(files[0]),
            "PRICES_PATH": str(files[1]),
            **extra,
        }
    )


def test_the_config_reads_the_options_from_the_environment() -> None:
    config = AppConfig.load({"DATE_FORMAT": "%d/%m/%Y", "DAYFIRST": "true", "DECIMAL": ","})
    assert (config.DATE_FORMAT, config.DAYFIRST, config.DECIMAL) == ("%d/%m/%Y", "true", ",")


def test_files_source_uses_dayfirst_and_decimal(tmp_path: Path, files: tuple[Path, Path]) -> None:
    app = _app(tmp_path, files, DAYFIRST="true", DECIMAL=",")
    with app.server.app_context():
        data = get_market_data(None)
    assert str(data.sentiment["date"].min().date()) == "2022-01-03"
    assert str(data.sentiment["date"].max().date()) == "2022-03-05"
    assert data.prices.loc["2021-12-01", "AAA"] == pytest.approx(101.5)


def test_files_source_uses_date_format(tmp_path: Path, files: tuple[Path, Path]) -> None:
    app = _app(tmp_path, files, DATE_FORMAT="%d/%m/%Y", DECIMAL=",")
    with app.server.app_context():
        data = get_market_data(None)
    assert str(data.sentiment["date"].max().date()) == "2022-03-05"


def test_without_the_options_the_ambiguous_file_is_refused(tmp_path: Path, files: tuple[Path, Path]) -> None:
    app = _app(tmp_path, files)
    with app.server.app_context(), pytest.raises(engine.DataValidationError, match="dayfirst"):
        get_market_data(None)


def test_the_upload_report_the_data_page_shows_adds_up(tmp_path: Path) -> None:
    from dashapp import services
    from tests.dashapp.test_page_data import GOOD_SENTIMENT, _prices_csv

    app = create_app({"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial"})
    with app.server.app_context():
        saved = services.save_upload(
            GOOD_SENTIMENT.encode(), _prices_csv("2023-06-30").encode(), {"prices": "p.csv"}
        )
    report = saved["info"]["report"]
    rows = sum(d["count"] for d in report["dropped"] if d.get("unit", "rows") == "rows")
    assert report["rows_read"] == report["rows_kept"] + rows
    # prices to 2023-06-30, sentiment to 2022-06-24: the rows after the window (+280 days)
    # are dropped with their reason, not lost
    outside = [d for d in report["dropped"] if d["reason"].startswith("outside the backtest's date window")]
    assert outside and outside[0]["count"] > 0


def test_the_badge_of_a_files_source_says_files_not_real_data(
    tmp_path: Path, files: tuple[Path, Path]
) -> None:
    """The app cannot know that configured files hold real market data: the badge says FILES."""
    from dashapp import services
    from dashapp.ui import components

    app = _app(tmp_path, files, DAYFIRST="true", DECIMAL=",")
    with app.server.app_context():
        text = str(components.source_badge(services.source_info(None)))
    assert "FILES" in text and "s.csv + p.csv" in text
    assert "REAL" not in text and "SYNTHETIC" not in text and "UPLOADED" not in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"DAYFIRST": "maybe"}, "DAYFIRST must be true or false, got 'maybe'"),
        ({"DECIMAL": ";"}, "decimal must be"),
        ({"DATE_FORMAT": "no format"}, "format"),
    ],
)
def test_a_bad_reading_option_fails_create_app(
    tmp_path: Path, files: tuple[Path, Path], extra: dict[str, str], message: str
) -> None:
    """Not on every page later: the app does not start (gunicorn's workers neither)."""
    from dashapp.config import ConfigError

    with pytest.raises(ConfigError, match=message):
        _app(tmp_path, files, **extra)
    with pytest.raises(ConfigError, match=message):  # checked whatever the source
        create_app({"CACHE_DIR": str(tmp_path / "cache"), **extra})


def test_a_missing_file_fails_create_app(tmp_path: Path, files: tuple[Path, Path]) -> None:
    from dashapp.config import ConfigError

    files[1].unlink()
    with pytest.raises(ConfigError, match=r"PRICES_PATH .* is not a readable file"):
        _app(tmp_path, files, DAYFIRST="true")


def test_ready_is_down_when_the_files_went_away(tmp_path: Path, files: tuple[Path, Path]) -> None:
    app = _app(tmp_path, files, DAYFIRST="true", DECIMAL=",")
    client = app.server.test_client()
    assert client.get("/ready").json["checks"]["data"]["status"] == "ok"
    files[0].unlink()
    response = client.get("/ready")
    assert response.status_code == 503 and "data" in response.json["down"]
    assert "SENTIMENT_PATH" in response.json["checks"]["data"]["detail"]
