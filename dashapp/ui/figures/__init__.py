"""Pure figure builders: plain data (lists, dicts) in, ``plotly.graph_objects.Figure`` out.

No Dash and no engine calls here, so every chart can be unit-tested without a server.
One module per chart family; the shared conventions (colours, template, rounding, WebGL
for long series, a "No data" note instead of an exception) are in ``base``.
"""

from __future__ import annotations

from .base import (
    COMPACT_TEMPLATE,
    MONTH_NAMES,
    ROUND_DIGITS,
    SERIES_COLORS,
    SERIES_LABELS,
    SYMBOL_PALETTE,
    WEBGL_MIN_POINTS,
    compact_template,
    cumulative_returns,
    empty_figure,
    line_trace,
    returns_frame,
)
from .performance import (
    ROLLING_WINDOW,
    cumulative_returns_figure,
    drawdown_figure,
    monthly_heatmap_figure,
    monthly_returns_table,
    rolling_figure,
    rolling_metrics,
)
from .portfolio import holdings_figure, turnover_figure
from .research import distribution_figure, sweep_heatmap_figure
from .stocks import correlation_figure, normalised_prices_figure, price_frame, return_distribution_figure

__all__ = [
    "COMPACT_TEMPLATE",
    "MONTH_NAMES",
    "ROLLING_WINDOW",
    "ROUND_DIGITS",
    "SERIES_COLORS",
    "SERIES_LABELS",
    "SYMBOL_PALETTE",
    "WEBGL_MIN_POINTS",
    "compact_template",
    "correlation_figure",
    "cumulative_returns",
    "cumulative_returns_figure",
    "distribution_figure",
    "drawdown_figure",
    "empty_figure",
    "holdings_figure",
    "line_trace",
    "monthly_heatmap_figure",
    "monthly_returns_table",
    "normalised_prices_figure",
    "price_frame",
    "return_distribution_figure",
    "returns_frame",
    "rolling_figure",
    "rolling_metrics",
    "sweep_heatmap_figure",
    "turnover_figure",
]
