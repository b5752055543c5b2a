"""engine.export: an undefined or overflowing metric is an empty CSV cell (constant-return-series kind)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from engine import METRIC_NAMES, compute_metrics, frame_to_csv
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
