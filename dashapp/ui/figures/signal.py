"""Signal-analysis charts (the Signal page): IC per period, IC decay, quantile portfolios,
coverage and the signal's distribution. Plain data in (``services.research.signal_to_plain``'s
column dicts), ``go.Figure`` out; a "No data" note instead of an exception."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from .base import BASE_LAYOUT, SERIES_COLORS, SYMBOL_PALETTE, empty_figure, rounded

POSITIVE = "#16a34a"
NEGATIVE = "#dc2626"


def _column(frame: Mapping[str, Sequence[Any]] | None, name: str) -> list[Any]:
    return list((frame or {}).get(name) or [])


def _dates(values: Sequence[Any]) -> list[str]:
    return [str(v)[:10] for v in values]


def _floats(values: Sequence[Any]) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)


def ic_figure(periods: Mapping[str, Sequence[Any]] | None, rolling_window: int | None = None) -> go.Figure:
    """Information coefficient per holding period (bars, green > 0) and its rolling mean."""
    title = "Information coefficient per period (Spearman)"
    dates = _dates(_column(periods, "entry_date"))
    ic = _floats(_column(periods, "ic"))
    if not dates or len(ic) != len(dates) or not np.isfinite(ic).any():
        return empty_figure(title, "No period has an IC (too few symbols?)")
    figure = go.Figure(
        go.Bar(
            x=dates,
            y=rounded(ic),
            name="IC",
            marker_color=_sign_colors(ic),
            hovertemplate="%{x}: IC %{y:.3f}<extra></extra>",
        )
    )
    rolling = _floats(_column(periods, "ic_rolling_mean"))
    if len(rolling) == len(dates) and np.isfinite(rolling).any():
        label = f"Rolling mean ({rolling_window} periods)" if rolling_window else "Rolling mean"
        figure.add_trace(
            go.Scatter(
                x=dates,
                y=rounded(rolling),
                name=label,
                mode="lines",
                line={"color": SERIES_COLORS["portfolio"], "width": 2},
                hovertemplate="%{y:.3f}",
            )
        )
    figure.update_layout(**BASE_LAYOUT, title=title, bargap=0.15)
    figure.update_yaxes(title="IC", tickformat=".2f")
    return figure


def ic_decay_figure(decay: Mapping[str, Sequence[Any]] | None) -> go.Figure:
    """Mean IC at horizons 1..h (the signal against the return h - 1 periods later)."""
    title = "IC decay: mean IC by horizon"
    horizons = _column(decay, "horizon")
    mean_ic = _floats(_column(decay, "mean_ic"))
    if not horizons or len(mean_ic) != len(horizons) or not np.isfinite(mean_ic).any():
        return empty_figure(title)
    t_stat = _floats(_column(decay, "t_stat"))
    if len(t_stat) != len(horizons):
        t_stat = np.full(len(horizons), np.nan)
    return _category_bars(
        title,
        [str(h) for h in horizons],
        mean_ic,
        hovertemplate="horizon %{x}: mean IC %{y:.3f} (t %{customdata:.2f})<extra></extra>",
        customdata=rounded(t_stat),
        x_title="Horizon (periods ahead)",
        y_title="Mean IC",
        y_format=".3f",
    )


def quantile_returns_figure(summary: Mapping[str, Sequence[Any]] | None) -> go.Figure:
    """Mean next-period return per signal quantile (Q = highest signals)."""
    title = "Mean next-period return by signal quantile"
    quantiles = _column(summary, "quantile")
    means = _floats(_column(summary, "mean_return"))
    if not quantiles or len(means) != len(quantiles) or not np.isfinite(means).any():
        return empty_figure(title)
    return _category_bars(
        title,
        [f"Q{q}" for q in quantiles],
        means,
        hovertemplate="%{x}: %{y:.2%}<extra></extra>",
        x_title="Quantile (Q1 lowest signal)",
        y_title="Mean return per period",
        y_format=".1%",
    )


def _sign_colors(values: np.ndarray) -> list[str]:
    """One bar colour per value: positive green, zero, negative or missing red."""
    return [POSITIVE if v > 0 else NEGATIVE for v in np.nan_to_num(values)]


def _category_bars(
    title: str,
    categories: list[str],
    values: np.ndarray,
    *,
    hovertemplate: str,
    x_title: str,
    y_title: str,
    y_format: str,
    customdata: Any = None,
) -> go.Figure:
    """Bars over categories coloured by sign (the IC decay and quantile charts)."""
    figure = go.Figure(
        go.Bar(
            x=categories,
            y=rounded(values),
            marker_color=_sign_colors(values),
            customdata=customdata,
            hovertemplate=hovertemplate,
        )
    )
    figure.update_layout(**{**BASE_LAYOUT, "hovermode": "closest"}, title=title, showlegend=False)
    figure.update_xaxes(type="category", title=x_title)
    figure.update_yaxes(title=y_title, tickformat=y_format)
    return figure


def quantile_cumulative_figure(cumulative: Mapping[str, Sequence[Any]] | None) -> go.Figure:
    """Cumulative return of each quantile portfolio (columns ``q1..qQ``, index ``entry_date``)."""
    title = "Cumulative return of each quantile portfolio"
    dates = _dates(_column(cumulative, "entry_date"))
    names = sorted((k for k in (cumulative or {}) if k.startswith("q")), key=lambda k: int(k[1:] or 0))
    if not dates or not names:
        return empty_figure(title)
    figure = go.Figure()
    for i, name in enumerate(names):
        values = _floats(_column(cumulative, name))
        if len(values) != len(dates):
            continue
        figure.add_trace(
            go.Scatter(
                x=dates,
                y=rounded(values),
                mode="lines",
                name=name.upper(),
                line={"color": SYMBOL_PALETTE[i % len(SYMBOL_PALETTE)]},
                hovertemplate="%{y:.1%}",
            )
        )
    if not figure.data:
        return empty_figure(title)
    figure.update_layout(**BASE_LAYOUT, title=title)
    figure.update_yaxes(title="Cumulative return", tickformat=".0%")
    return figure


def coverage_figure(periods: Mapping[str, Sequence[Any]] | None) -> go.Figure:
    """Symbols with a signal (eligible) and those holdable at the entry (observations), per period."""
    title = "Coverage: symbols per period"
    dates = _dates(_column(periods, "entry_date"))
    if not dates:
        return empty_figure(title)
    figure = go.Figure()
    for name, label, color in (
        ("n_eligible", "Eligible (a signal, a close at the entry)", SERIES_COLORS["benchmark"]),
        ("n_observations", "Observed (holdable at entry)", SERIES_COLORS["portfolio"]),
    ):
        values = _floats(_column(periods, name))
        if len(values) == len(dates):
            figure.add_trace(
                go.Scatter(
                    x=dates, y=rounded(values), name=label, mode="lines+markers", line={"color": color}
                )
            )
    figure.update_layout(**BASE_LAYOUT, title=title)
    figure.update_yaxes(title="Symbols", rangemode="tozero")
    return figure


def signal_histogram_figure(values: Sequence[Any] | None, signal_name: str = "signal") -> go.Figure:
    """Distribution of the signal over every (period, symbol) observation."""
    title = f"Distribution of the signal ({signal_name})"
    finite = [v for v in rounded(_floats(list(values or []))) if v is not None]
    if not finite:
        return empty_figure(title)
    figure = go.Figure(
        go.Histogram(
            x=finite,
            nbinsx=50,
            marker_color=SERIES_COLORS["portfolio"],
            opacity=0.8,
            hovertemplate="%{x}: %{y} observations<extra></extra>",
        )
    )
    figure.update_layout(
        **{**BASE_LAYOUT, "hovermode": "closest"}, title=title, showlegend=False, bargap=0.05
    )
    figure.update_xaxes(title=signal_name)
    figure.update_yaxes(title="Observations")
    return figure
