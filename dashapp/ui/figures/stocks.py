"""Stocks page charts: normalised prices, distributions of daily returns, correlations."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .base import (
    BASE_LAYOUT,
    SYMBOL_PALETTE,
    empty_figure,
    has_data,
    iso_dates,
    line_trace,
    rounded,
)


def price_frame(prices: Mapping[str, Sequence[Any]] | None) -> pd.DataFrame:
    """Column dict ``{date, SYMBOL: [...], ...}`` -> float frame indexed by date."""
    if not prices or "date" not in prices or len(prices["date"]) == 0:
        return pd.DataFrame(dtype=np.float64)
    dates = pd.DatetimeIndex(
        pd.to_datetime(pd.Series(list(prices["date"])), errors="coerce", format="ISO8601"), name="date"
    )
    frame = pd.DataFrame(
        {
            k: pd.to_numeric(pd.Series(list(v), dtype=object), errors="coerce").astype(np.float64)
            for k, v in prices.items()
            if k != "date"
        }
    )
    frame.index = dates
    return frame[frame.index.notna()].sort_index()


def normalised_prices_figure(prices: Mapping[str, Sequence[Any]] | None) -> go.Figure:
    """Each price series divided by its first available close (growth of 1)."""
    frame = price_frame(prices)
    title = "Normalised price (first close = 1)"
    if not has_data(frame):
        return empty_figure(title)
    figure = go.Figure()
    for i, symbol in enumerate(frame.columns):
        series = frame[symbol]
        first = series.dropna()
        if first.empty or first.iloc[0] == 0:
            continue
        figure.add_trace(
            line_trace(
                len(frame),
                x=iso_dates(frame.index),
                y=rounded(series / first.iloc[0]),
                mode="lines",
                name=str(symbol),
                line={"color": SYMBOL_PALETTE[i % len(SYMBOL_PALETTE)], "width": 1.5},
                hovertemplate="%{y:.3f}<extra>" + str(symbol) + "</extra>",
            )
        )
    figure.update_layout(**BASE_LAYOUT, title=title)
    figure.update_yaxes(tickformat=".2f", title="Growth of 1")
    figure.update_xaxes(hoverformat="%a %d %b %Y")
    return figure


def return_distribution_figure(returns: Mapping[str, Sequence[Any]] | None) -> go.Figure:
    """Overlaid histograms of daily simple returns (column dict ``{date, SYMBOL: [...]}``)."""
    frame = price_frame(returns)
    title = "Distribution of daily returns"
    if not has_data(frame):
        return empty_figure(title)
    figure = go.Figure()
    for i, symbol in enumerate(frame.columns):
        values = [v for v in rounded(frame[symbol]) if v is not None]
        if not values:
            continue
        figure.add_trace(
            go.Histogram(
                x=values,
                name=str(symbol),
                opacity=0.55,
                nbinsx=60,
                marker_color=SYMBOL_PALETTE[i % len(SYMBOL_PALETTE)],
                hovertemplate="%{x:.2%}: %{y} days<extra>" + str(symbol) + "</extra>",
            )
        )
    figure.update_layout(**{**BASE_LAYOUT, "hovermode": "closest"}, title=title, barmode="overlay")
    figure.update_xaxes(tickformat=".1%", title="Daily return")
    figure.update_yaxes(title="Days")
    return figure


_LABEL_COLUMNS = ("index", "symbol")


def correlation_figure(correlation: Mapping[str, Sequence[Any]] | None) -> go.Figure:
    """Heatmap of a correlation matrix given as a column dict (``{index: [A, B], A: [...], B: [...]}``)."""
    title = "Correlation of daily returns"
    if not correlation:
        return empty_figure(title, "Pick at least two symbols")
    labels = [str(k) for k in correlation if k not in _LABEL_COLUMNS]
    rows = next((list(map(str, correlation[k])) for k in _LABEL_COLUMNS if k in correlation), labels)
    if len(labels) < 2:
        return empty_figure(title, "Pick at least two symbols")
    matrix = pd.DataFrame(
        {k: pd.to_numeric(pd.Series(list(correlation[k]), dtype=object), errors="coerce") for k in labels},
        dtype=np.float64,
    )
    matrix.index = rows
    matrix = matrix.reindex(index=labels)
    values = matrix.to_numpy(dtype=np.float64)
    text = [["" if not math.isfinite(v) else f"{v:.2f}" for v in row] for row in values]
    figure = go.Figure(
        go.Heatmap(
            z=[rounded(row) for row in values],
            x=labels,
            y=labels,
            zmin=-1,
            zmax=1,
            zmid=0,
            colorscale="RdBu",
            reversescale=True,
            text=text,
            texttemplate="%{text}" if len(labels) <= 15 else None,
            xgap=1,
            ygap=1,
            hovertemplate="%{x} / %{y}: %{z:.2f}<extra></extra>",
        )
    )
    figure.update_layout(**{**BASE_LAYOUT, "hovermode": "closest"}, title=title)
    figure.update_yaxes(autorange="reversed")
    return figure
