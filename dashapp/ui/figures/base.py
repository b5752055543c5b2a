"""What every chart shares: colours, the compact template, the layout, empty figures, helpers.

Figure builders (one module per chart family: ``performance``, ``portfolio``,
``research``, ``stocks``) take plain data (lists, dicts) and return
``plotly.graph_objects.Figure``.

No Dash and no engine calls here, so every chart can be unit-tested without a server.
Conventions shared by every chart:

- one colour per series everywhere (strategy blue, benchmark grey, universe amber);
- returns are simple daily returns; cumulative return is ``prod(1 + r) - 1``;
- floats are rounded (``ROUND_DIGITS``) before they go into a figure to keep payloads small;
- long daily series (more than ``WEBGL_MIN_POINTS`` points) use ``Scattergl`` (WebGL) so that
  many thousands of points stay fluid; shorter ones use SVG ``Scatter``, which also draws
  where WebGL is unavailable (remote desktops, GPU-less VMs) and keeps the browser's
  limited number of WebGL contexts for the charts that need them;
- empty or all-NaN input gives a figure with a centred "No data" note, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

ROUND_DIGITS = 6
WEBGL_MIN_POINTS = 2000  # about eight years of trading days per line

SERIES_COLORS: Mapping[str, str] = MappingProxyType(
    {
        "portfolio": "#2563eb",  # strategy
        "benchmark": "#6b7280",
        "universe": "#d97706",  # eligible-universe equal weight
    }
)
SERIES_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "portfolio": "Strategy",
        "benchmark": "Benchmark",
        "universe": "Eligible universe",
    }
)
# Qualitative palette for per-symbol charts (stocks page).
SYMBOL_PALETTE: tuple[str, ...] = (
    "#2563eb",
    "#d97706",
    "#059669",
    "#dc2626",
    "#7c3aed",
    "#0891b2",
    "#db2777",
    "#65a30d",
    "#9333ea",
    "#ea580c",
)
DIVERGING_SCALE = "RdYlGn"
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Trace types and layout parts this app draws: the rest of ``plotly_white`` is left out of the template.
_TEMPLATE_TRACES = ("scatter", "scattergl", "bar", "heatmap", "histogram")
_TEMPLATE_UNUSED_LAYOUT = ("polar", "ternary", "scene", "geo", "mapbox", "colorscale")


def compact_template() -> go.layout.Template:
    """``plotly_white`` restricted to what these charts use.

    The template is embedded in every figure's JSON: the full one is about 7 KB per figure
    (3D scenes, polar axes, maps, 50 trace types); this one is under 2 KB and looks the same.
    """
    full = pio.templates["plotly_white"].to_plotly_json()
    return go.layout.Template(
        data={name: traces for name, traces in full["data"].items() if name in _TEMPLATE_TRACES},
        layout={key: value for key, value in full["layout"].items() if key not in _TEMPLATE_UNUSED_LAYOUT},
    )


COMPACT_TEMPLATE = compact_template()
BASE_LAYOUT: Mapping[str, Any] = MappingProxyType(
    {
        "template": COMPACT_TEMPLATE,
        "margin": {"l": 56, "r": 24, "t": 84, "b": 40},
        "hovermode": "x unified",
        # Title on the top line, legend on the line below it (left), the mode bar top right:
        # none of the three overlap, whatever the chart's width.
        "title_x": 0.0,
        "title_xref": "paper",
        "title_y": 0.985,
        "title_yanchor": "top",
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0},
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
    }
)


# ----------------------------------------------------------------- helpers


def rounded(values: Any) -> list[float | None]:
    """Floats rounded for the payload; NaN/inf become None (a gap in the line)."""
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    out = np.round(array, ROUND_DIGITS)
    return [None if not math.isfinite(v) else float(v) for v in out.tolist()]


def line_trace(n_points: int, **kwargs: Any) -> go.Scatter | go.Scattergl:
    """A line trace: WebGL for long series, SVG otherwise (see the module docstring)."""
    return go.Scattergl(**kwargs) if n_points > WEBGL_MIN_POINTS else go.Scatter(**kwargs)


def empty_figure(title: str = "", message: str = "No data to show") -> go.Figure:
    """A blank chart carrying a centred note: what every builder returns for empty input."""
    figure = go.Figure()
    figure.update_layout(**BASE_LAYOUT, title=title)
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    figure.add_annotation(
        text=message,
        showarrow=False,
        font={"size": 14, "color": "#6b7280"},
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
    )
    return figure


def returns_frame(returns: Mapping[str, Sequence[Any]] | None) -> pd.DataFrame:
    """Column dict ``{date, portfolio, benchmark, universe}`` -> float frame indexed by date.

    Columns absent from the input are simply absent; rows without a date are dropped.
    """
    if not returns or "date" not in returns or len(returns["date"]) == 0:
        return pd.DataFrame(dtype=np.float64)
    dates = pd.to_datetime(pd.Series(list(returns["date"])), errors="coerce", format="ISO8601")
    data = {
        name: pd.to_numeric(pd.Series(list(returns[name]), dtype=object), errors="coerce").astype(np.float64)
        for name in SERIES_COLORS
        if name in returns
    }
    frame = pd.DataFrame(data)
    frame.index = pd.DatetimeIndex(dates, name="date")
    frame = frame[frame.index.notna()].sort_index()
    return frame


def has_data(frame: pd.DataFrame) -> bool:
    return not frame.empty and bool(frame.notna().to_numpy().any())


def iso_dates(index: pd.DatetimeIndex) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in index]


def cumulative_returns(frame: pd.DataFrame) -> pd.DataFrame:
    """Compounded return since the first day over the days each column exists; NaN (a gap,
    not a flat day) where it does not."""
    return (1.0 + frame).cumprod(skipna=True) - 1.0
