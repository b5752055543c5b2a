"""The dashboard's wordings of breaker pass 11, F8.

- a forged "Use this data" naming a well-formed id no upload has was answered "Your runs
  now use b." and only the later runs failed ("no longer on the server"): now it is
  refused at once, in one sentence, and the session keeps its source;
- an HTML page uploaded as the sentiment or the prices file "is an HTML web page, not a
  CSV file" (before: "x.html has a header but no data rows");
- the Sweep page's walk-forward folds are "folds" in every message, as the engine says
  it (before: "n folds must be a whole number; got 'abc'" here, "n_folds must be ..."
  from the engine)."""

from __future__ import annotations

from typing import Any

import pytest
from dash import no_update

import engine
from tests.dashapp.test_page_data import GOOD_SENTIMENT, _prices_csv, app, data_uri, page, triggered

__all__ = ["app", "page"]  # the fixtures, used by name

HTML = "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><p>date,symbol</p></body></html>\n"


def test_a_forged_use_of_an_unknown_upload_is_refused_at_once(page: Any) -> None:
    forged = {"kind": "upload", "id": "f" * 32, "name": "b"}
    source, message = triggered("data-use-upload.n_clicks", page.choose_source, 1, None, forged)
    assert source is no_update  # the session keeps its data source
    text = str(message)
    assert "the uploaded data set 'b' is no longer on the server; upload it again" in text
    assert "now use" not in text


def test_a_real_upload_is_still_used(page: Any) -> None:
    candidate, *_ = page.validate_upload(data_uri(GOOD_SENTIMENT), data_uri(_prices_csv()), "s.csv", "p.csv")
    source, message = triggered("data-use-upload.n_clicks", page.choose_source, 1, None, candidate)
    assert source == candidate and "Your runs now use s.csv." in str(message)


@pytest.mark.parametrize("which", ["sentiment", "prices"])
def test_an_html_upload_is_not_a_csv_file(page: Any, which: str) -> None:
    files = {"sentiment": (data_uri(GOOD_SENTIMENT), "s.csv"), "prices": (data_uri(_prices_csv()), "p.csv")}
    files[which] = (data_uri(HTML), "x.html")
    candidate, body, disabled, *_ = page.validate_upload(
        files["sentiment"][0], files["prices"][0], files["sentiment"][1], files["prices"][1]
    )
    assert candidate is None and disabled is True
    text = str(body)
    assert "x.html is an HTML web page, not a CSV file; save the data as CSV UTF-8" in text
    assert "no data rows" not in text


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"n_folds": "abc"}, "folds must be a whole number; got 'abc'"),
        ({"n_folds": 0}, "folds must be a whole number from 1 to 50; got 0"),
        ({"in_sample_days": "x"}, "in-sample days must be a whole number; got 'x'"),
        ({"out_of_sample_days": 1}, "out-of-sample days must be a whole number of at least 2 days; got 1"),
    ],
)
def test_walk_forward_fields_are_named_as_the_page_names_them(settings: dict[str, Any], message: str) -> None:
    from dashapp.services import research

    with pytest.raises(engine.ParameterError) as info:
        research.walk_forward_settings(settings)
    assert str(info.value) == message
