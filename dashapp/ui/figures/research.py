"""Research charts: a distribution against an observed value (robustness) and the sweep heatmap."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .base import (
    BASE_LAYOUT,
    ROUND_DIGITS,
    SERIES_COLORS,
    empty_figure,
    rounded,
)


def distribution_figure(
    values: Sequence[float] | None,
    observed: float | None,
    *,
    title: str,
    value_format: str = ".2f",
    observed_label: str = "Strategy",
) -> go.Figure:
    """Histogram of a simulated statistic (e.g. random-portfolio Sharpe) with the observed value."""
    finite = [v for v in rounded(values if values is not None else []) if v is not None]
    if not finite:
        return empty_figure(title)
    figure = go.Figure(
        go.Histogram(
            x=finite,
            nbinsx=40,
            name="Random portfolios",
            marker_color=SERIES_COLORS["benchmark"],
            opacity=0.75,
            hovertemplate="%{x:" + value_format + "}: %{y} portfolios<extra></extra>",
        )
    )
    if observed is not None and math.isfinite(observed):
        figure.add_vline(
            x=round(float(observed), ROUND_DIGITS),
            line_color=SERIES_COLORS["portfolio"],
            line_width=3,
            annotation_position="top",
            annotation_text=f"{observed_label} {observed:{value_format}}",
        )
    figure.update_layout(
        **{**BASE_LAYOUT, "hovermode": "closest"}, title=title, showlegend=False, bargap=0.05
    )
    figure.update_xaxes(tickformat=value_format)
    figure.update_yaxes(title="Count")
    return figure


# ----------------------------------------------------------------- sweep page


def sweep_heatmap_figure(
    records: Sequence[Mapping[str, Any]] | None,
    x_param: str,
    y_param: str,
    metric: str,
    *,
    percent: bool = False,
) -> go.Figure:
    """Metric over two swept parameters; cells average over the other swept parameters.

    Failed configurations (metric missing/NaN) are left out of the average.
    """
    title = f"{metric} by {x_param} and {y_param}"
    frame = pd.DataFrame(list(records or []))
    if frame.empty or not {x_param, y_param, metric} <= set(frame.columns):
        return empty_figure(title, "Pick two swept parameters and a metric")
    frame = frame.assign(_value=pd.to_numeric(frame[metric], errors="coerce"))
    if x_param == y_param:
        table = frame.groupby(x_param, sort=True)["_value"].mean().to_frame(metric).T
    else:
        table = frame.pivot_table(
            index=y_param, columns=x_param, values="_value", aggfunc="mean", dropna=False
        )
    if table.empty or not np.isfinite(table.to_numpy(dtype=np.float64)).any():
        return empty_figure(title, "No finite values for this metric")
    values = table.to_numpy(dtype=np.float64)
    fmt = ".1%" if percent else ".2f"
    text = [["" if not math.isfinite(v) else f"{v:{fmt}}" for v in row] for row in values]
    figure = go.Figure(
        go.Heatmap(
            z=[rounded(row) for row in values],
            x=[str(c) for c in table.columns],
            y=[str(i) for i in table.index],
            text=text,
            texttemplate="%{text}",
            colorscale="Viridis",
            xgap=2,
            ygap=2,
            colorbar={"title": metric, "tickformat": ".0%" if percent else ".2f"},
            hovertemplate=f"{x_param}=%{{x}}<br>{y_param}=%{{y}}<br>{metric}=%{{z:{fmt}}}<extra></extra>",
        )
    )
    figure.update_layout(**{**BASE_LAYOUT, "hovermode": "closest"}, title=title)
    figure.update_xaxes(type="category", title=x_param)
    figure.update_yaxes(type="category", title=y_param if x_param != y_param else "")
    return figure


# ----------------------------------------------------------------- walk-forward validation

WALK_FORWARD_LABELS: Mapping[str, str] = {
    "walk_forward": "Walk-forward (out of sample)",
    "full_history_winner": "Full-history winner",
    "benchmark": "Benchmark",
}
WALK_FORWARD_COLORS: Mapping[str, str] = {
    "walk_forward": SERIES_COLORS["portfolio"],
    "full_history_winner": "#f59e0b",
    "benchmark": SERIES_COLORS["benchmark"],
}


def walk_forward_figure(dates: Sequence[str] | None, series: Mapping[str, Sequence[Any]] | None) -> go.Figure:
    """Growth of 1 over the out-of-sample days: the stitched walk-forward returns, the
    full-history winner and the benchmark (daily simple returns compounded; a missing
    day counts 0)."""
    title = "Out-of-sample equity: walk-forward vs the full-history winner"
    dates = list(dates or [])
    if not dates or not series:
        return empty_figure(title, "Run a sweep")
    figure = go.Figure()
    for name, values in series.items():
        array = np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
        if len(array) != len(dates):
            continue
        growth = np.cumprod(1.0 + np.nan_to_num(array, nan=0.0))
        figure.add_trace(
            go.Scatter(
                x=dates,
                y=rounded(growth),
                mode="lines",
                name=WALK_FORWARD_LABELS.get(name, name),
                line={"color": WALK_FORWARD_COLORS.get(name), "dash": "dot" if name == "benchmark" else None},
                hovertemplate="%{y:.3f}",
            )
        )
    if not figure.data:
        return empty_figure(title)
    figure.update_layout(**BASE_LAYOUT, title=title)
    figure.update_yaxes(title="Growth of 1", tickformat=".2f")
    return figure


def pbo_logits_figure(logits: Sequence[Any] | None, pbo: float | None) -> go.Figure:
    """Histogram of the CSCV logits λ (Bailey et al. 2015); PBO is the share at or below 0."""
    title = "Probability of backtest overfitting: logits of the in-sample best's OOS rank"
    finite = [v for v in rounded([np.nan if v is None else v for v in (logits or [])]) if v is not None]
    if not finite:
        return empty_figure(title, "No logits (PBO not computed)")
    figure = go.Figure(
        go.Histogram(
            x=finite,
            nbinsx=40,
            marker_color=SERIES_COLORS["portfolio"],
            opacity=0.8,
            hovertemplate="λ %{x:.2f}: %{y} combinations<extra></extra>",
        )
    )
    label = "λ = 0" if pbo is None or not math.isfinite(pbo) else f"λ = 0 · PBO {pbo:.2f}"
    figure.add_vline(
        x=0, line_color="#b91c1c", line_width=2, annotation_text=label, annotation_position="top"
    )
    figure.update_layout(
        **{**BASE_LAYOUT, "hovermode": "closest"}, title=title, showlegend=False, bargap=0.05
    )
    figure.update_xaxes(title="logit λ = ln(ω / (1 - ω))")
    figure.update_yaxes(title="Combinations")
    return figure
