"""engine.export: an undefined or overflowing metric is an empty CSV cell (constant-return-series kind)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from engine import (
    HEADER_KEYS,
    METRIC_NAMES,
    __version__,
    compute_metrics,
    download_filename,
    export_header,
    frame_to_csv,
    manifest_header,
)
from engine.cli.common import fmt


def _metrics_of_a_millionfold_day() -> dict[str, float]:
    # Prices 1, 1,000,000, 1,000,000: returns +999,999 then 0. The CAGR 1e6 ** (252 / 2) - 1
    # is too large for a float (inf, as numpy and empyrical give it); the Sortino has no
    # downside (NaN).
    m = compute_metrics(np.array([999_999.0, 0.0]))
    assert m["cagr"] == math.inf and math.isnan(m["sortino"])
    return m


def test_a_metric_that_is_not_finite_is_an_empty_cell() -> None:
    m = _metrics_of_a_millionfold_day()
    table = pd.DataFrame({"metric": list(METRIC_NAMES), "strategy": [m[n] for n in METRIC_NAMES]})
    rows = dict(line.split(",", 1) for line in frame_to_csv(table, header={}).splitlines()[1:])
    assert rows["cagr"] == "" and rows["sortino"] == ""  # was "inf" (the dashboard's export: empty)
    assert rows["total_return"] == "999999.0"


def test_mixed_cells_infinite_floats_are_empty_and_text_stays_inert() -> None:
    frame = pd.DataFrame({"value": [math.inf, "=1+1", -math.inf, 0.5], "n": [1, 2, 3, 4]})
    lines = frame_to_csv(frame, header={"run": "x"}).splitlines()
    assert lines == ["# run: x", "value,n", ",1", "'=1+1,2", ",3", "0.5,4"]


def test_cli_shows_an_infinite_metric_as_n_a() -> None:
    m = _metrics_of_a_millionfold_day()
    assert fmt(m["cagr"], percent=True) == "n/a"  # was "inf%"
    assert fmt(-math.inf, percent=False) == "n/a"
    assert fmt(0.1234, percent=True) == "12.34%"


def test_plain_records_write_midnight_stamps_as_dates() -> None:
    """Plain records (dashboard stores) hold dates as ISO stamps; the CSV has dates, as the
    CLI's files do. A column with any other text, or a stamp with a time, is left as is."""
    from engine import records_to_csv

    text = records_to_csv(
        [
            {"start": "2022-01-03T00:00:00", "label": "2022-01-03T00:00:00", "at": "2022-01-03T10:30:00"},
            {"start": None, "label": "not a date", "at": "2022-01-04T00:00:00"},
        ],
        header={},
    )
    assert text.splitlines() == [
        "start,label,at",
        "2022-01-03,2022-01-03T00:00:00,2022-01-03T10:30:00",
        ",not a date,2022-01-04T00:00:00",
    ]


NOON = dt.datetime(2026, 12, 1, 12, 0, 5, tzinfo=dt.UTC)


def test_export_header_has_the_standard_keys_in_order_then_the_extras() -> None:
    header = export_header(
        "what it holds", params={"top_n": 5}, data_source="prices.csv", synthetic=False,
        fingerprint="abc123", extras={"grid": {"top_n": [3, 5]}}, now=NOON,
    )  # fmt: skip
    assert tuple(header) == (*HEADER_KEYS, "grid")
    assert header["engine_version"] == __version__ and header["exported_at"] == "2026-12-01T12:00:05Z"
    lines = frame_to_csv(pd.DataFrame({"a": [1]}), header=header).splitlines()
    assert lines[:7] == [
        "# content: what it holds",
        '# params: {"top_n": 5}',
        "# data_source: prices.csv",
        "# synthetic: false",
        "# fingerprint: abc123",
        f"# engine_version: {__version__}",
        "# exported_at: 2026-12-01T12:00:05Z",
    ]


def test_synthetic_data_is_labelled_in_every_header() -> None:
    plain = export_header("x", params={}, data_source="generated", synthetic=True, fingerprint="f", now=NOON)
    assert plain["data_source"] == "generated (SYNTHETIC)" and plain["synthetic"] is True
    demo = export_header(
        "x", params={}, data_source="Demo data (SYNTHETIC, seed 7)", synthetic="true", fingerprint="f"
    )
    assert demo["data_source"] == "Demo data (SYNTHETIC, seed 7)" and demo["synthetic"] is True
    # A stored manifest (plain data) keeps the version of the engine that made the run.
    made = manifest_header(
        "x", {"params": {}, "data_source": "d", "synthetic": False, "fingerprint": "f", "version": "0.0.9"}
    )
    assert made["engine_version"] == "0.0.9" and made["synthetic"] is False


def test_export_header_refuses_a_missing_fingerprint_and_a_reused_key() -> None:
    with pytest.raises(ValueError, match="fingerprint"):
        export_header("x", params={}, data_source="d", synthetic=False, fingerprint="")
    with pytest.raises(ValueError, match="version"):
        export_header(
            "x", params={}, data_source="d", synthetic=False, fingerprint="f", extras={"engine_version": 1}
        )


def test_header_values_stay_inert() -> None:
    header = export_header(
        "x", params={"s": "=cmd"}, data_source="a,=HYPERLINK(1)", synthetic=False, fingerprint="f"
    )
    text = frame_to_csv(pd.DataFrame({"a": [1]}), header=header)
    assert "# data_source: a,'=HYPERLINK(1)" in text.splitlines()


def test_download_names_are_kind_and_fingerprint_in_safe_characters() -> None:
    assert download_filename("sweep", "06c7c6faf74e8386") == "sweep_06c7c6faf74e8386.csv"
    assert download_filename("backtest_report", "abc", "html") == "backtest_report_abc.html"
    assert download_filename("../../etc", 'a b"c') == "etc_a_b_c.csv"
    assert download_filename("sweep", None) == "sweep_nodata.csv"
