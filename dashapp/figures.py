"""Pure figure builders: plain data (lists, dicts) in, ``plotly.graph_objects.Figure`` out.

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
from plotly.subplots import make_subplots

TRADING_DAYS = 252
ROLLING_WINDOW = 63  # about one quarter of trading days
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
_LAYOUT: Mapping[str, Any] = MappingProxyType(
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


def _rounded(values: Any) -> list[float | None]:
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
    figure.update_layout(**_LAYOUT, title=title)
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


def _has_data(frame: pd.DataFrame) -> bool:
    return not frame.empty and bool(frame.notna().to_numpy().any())


def _iso(index: pd.DatetimeIndex) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in index]


def cumulative_returns(frame: pd.DataFrame) -> pd.DataFrame:
    """Compounded return since the first day; a missing day counts as a flat day."""
    return (1.0 + frame.fillna(0.0)).cumprod() - 1.0


def drawdowns(frame: pd.DataFrame) -> pd.DataFrame:
    """Fall from the running peak of the value ``prod(1 + r)`` (0 at a peak, negative below)."""
    wealth = (1.0 + frame.fillna(0.0)).cumprod()
    peak = np.maximum(wealth.cummax(), 1.0)  # the starting value 1 counts as a peak
    return wealth / peak - 1.0


# ----------------------------------------------------------------- backtest page


def cumulative_returns_figure(returns: Mapping[str, Sequence[Any]] | None) -> go.Figure:
    """Strategy vs benchmark vs eligible universe, cumulative return in %."""
    frame = returns_frame(returns)
    title = "Cumulative return"
    if not _has_data(frame):
        return empty_figure(title)
    cumulative = cumulative_returns(frame)
    figure = go.Figure()
    for name in cumulative.columns:
        figure.add_trace(
            line_trace(
                len(cumulative),
                x=_iso(cumulative.index),
                y=_rounded(cumulative[name]),
                mode="lines",
                name=SERIES_LABELS[name],
                line={"color": SERIES_COLORS[name], "width": 2 if name == "portfolio" else 1.5},
                hovertemplate="%{y:.2%}<extra>" + SERIES_LABELS[name] + "</extra>",
            )
        )
    figure.update_layout(**_LAYOUT, title=title)
    figure.update_yaxes(tickformat=".0%", title="Cumulative return", zeroline=True, zerolinecolor="#9ca3af")
    figure.update_xaxes(hoverformat="%a %d %b %Y")
    return figure


def drawdown_figure(
    returns: Mapping[str, Sequence[Any]] | None, drawdown: Mapping[str, str | None] | None = None
) -> go.Figure:
    """Drawdown from the running peak of strategy and benchmark; the max drawdown is marked."""
    frame = returns_frame(returns)
    title = "Drawdown"
    if not _has_data(frame):
        return empty_figure(title)
    under = drawdowns(frame[[c for c in ("portfolio", "benchmark") if c in frame.columns]])
    figure = go.Figure()
    for name in under.columns:
        is_strategy = name == "portfolio"
        figure.add_trace(
            line_trace(
                len(under),
                x=_iso(under.index),
                y=_rounded(under[name]),
                mode="lines",
                name=SERIES_LABELS[name],
                line={"color": SERIES_COLORS[name], "width": 1.5},
                fill="tozeroy" if is_strategy else None,
                fillcolor="rgba(37, 99, 235, 0.15)" if is_strategy else None,
                hovertemplate="%{y:.2%}<extra>" + SERIES_LABELS[name] + "</extra>",
            )
        )
    peak, trough = (drawdown or {}).get("peak"), (drawdown or {}).get("trough")
    if peak and trough:
        figure.add_vrect(
            x0=peak,
            x1=trough,
            fillcolor="#dc2626",
            opacity=0.08,
            line_width=0,
            annotation_text="max drawdown",
            annotation_position="top left",
        )
    figure.update_layout(**_LAYOUT, title=title)
    figure.update_yaxes(tickformat=".0%", title="Below previous peak")
    figure.update_xaxes(hoverformat="%a %d %b %Y")
    return figure


def monthly_returns_table(
    returns: Mapping[str, Sequence[Any]] | None, column: str = "portfolio"
) -> pd.DataFrame:
    """Year x month table (columns 1..12) of compounded monthly returns; NaN where no day."""
    frame = returns_frame(returns)
    if column not in frame.columns or not frame[column].notna().any():
        return pd.DataFrame(columns=range(1, 13), dtype=np.float64)
    series = frame[column].dropna()
    grouped = (1.0 + series).groupby([series.index.year, series.index.month]).prod() - 1.0
    table = grouped.unstack()
    return table.reindex(columns=range(1, 13))


def monthly_heatmap_figure(
    returns: Mapping[str, Sequence[Any]] | None, column: str = "portfolio"
) -> go.Figure:
    """Calendar heatmap of monthly strategy returns (rows: years, columns: months)."""
    table = monthly_returns_table(returns, column)
    title = "Monthly returns"
    if table.empty:
        return empty_figure(title)
    values = table.to_numpy(dtype=np.float64)
    limit = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 0.0
    limit = limit or 0.01
    text = [["" if not math.isfinite(v) else f"{v:.1%}" for v in row] for row in values]
    figure = go.Figure(
        go.Heatmap(
            z=[_rounded(row) for row in values],
            x=list(MONTH_NAMES),
            y=[str(y) for y in table.index],
            text=text,
            texttemplate="%{text}",
            colorscale=DIVERGING_SCALE,
            zmid=0.0,
            zmin=-limit,
            zmax=limit,
            colorbar={"tickformat": ".0%", "title": "Return"},
            xgap=2,
            ygap=2,
            hovertemplate="%{x} %{y}: %{z:.2%}<extra></extra>",
        )
    )
    figure.update_layout(**{**_LAYOUT, "hovermode": "closest"}, title=title)
    figure.update_yaxes(type="category", autorange="reversed")
    return figure


def rolling_metrics(
    frame: pd.DataFrame, window: int = ROLLING_WINDOW, risk_free: float = 0.0
) -> dict[str, pd.DataFrame]:
    """Rolling annualised Sharpe ratio and volatility (sample std, 252-day annualisation)."""
    excess = frame - risk_free / TRADING_DAYS
    mean = excess.rolling(window, min_periods=window).mean()
    std = frame.rolling(window, min_periods=window).std(ddof=1)
    sharpe = (mean / std.where(std > 0)) * math.sqrt(TRADING_DAYS)
    return {"sharpe": sharpe, "volatility": std * math.sqrt(TRADING_DAYS)}


def rolling_figure(
    returns: Mapping[str, Sequence[Any]] | None, window: int = ROLLING_WINDOW, risk_free: float = 0.0
) -> go.Figure:
    """Two stacked panels sharing the date axis: rolling Sharpe (top) and rolling volatility."""
    frame = returns_frame(returns)
    title = f"Rolling {window}-day Sharpe ratio and volatility"
    columns = [c for c in ("portfolio", "benchmark") if c in frame.columns]
    if not _has_data(frame) or len(frame) < window or not columns:
        return empty_figure(title, f"Needs at least {window} trading days")
    rolling = rolling_metrics(frame[columns], window, risk_free)
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=("Sharpe ratio", "Annualised volatility"),
    )
    dates = _iso(frame.index)
    for row, (key, fmt) in enumerate((("sharpe", ".2f"), ("volatility", ".1%")), start=1):
        for name in columns:
            figure.add_trace(
                line_trace(
                    len(dates),
                    x=dates,
                    y=_rounded(rolling[key][name]),
                    mode="lines",
                    name=SERIES_LABELS[name],
                    legendgroup=name,
                    showlegend=row == 1,
                    line={"color": SERIES_COLORS[name], "width": 1.5},
                    hovertemplate="%{y:" + fmt + "}<extra>" + SERIES_LABELS[name] + "</extra>",
                ),
                row=row,
                col=1,
            )
    figure.update_layout(**_LAYOUT, title=title, height=460)
    figure.update_yaxes(tickformat=".1f", row=1, col=1)
    figure.update_yaxes(tickformat=".0%", row=2, col=1)
    figure.update_xaxes(hoverformat="%a %d %b %Y")
    return figure


def holdings_figure(holdings: Mapping[str, Sequence[Any]] | None) -> go.Figure:
    """Timeline of picks: one bar per (period, symbol); the hover explains why it was picked."""
    title = "Holdings timeline"
    if not holdings or not holdings.get("symbol"):
        return empty_figure(title, "No holdings (no symbol passed the filters)")
    frame = pd.DataFrame({k: list(v) for k, v in holdings.items()})
    start = pd.to_datetime(frame["period_start"], errors="coerce", format="ISO8601")
    end = pd.to_datetime(frame["period_end"], errors="coerce", format="ISO8601")
    frame = frame[start.notna() & end.notna()]
    if frame.empty:
        return empty_figure(title, "No holdings (no symbol passed the filters)")
    start, end = start[frame.index], end[frame.index]
    # A bar spans the holding period inclusive of its last day (+1 day so one-day periods show).
    duration_ms = ((end - start).dt.days + 1) * 86_400_000
    missing = pd.Series(np.nan, index=frame.index)
    numbers = {
        k: pd.to_numeric(frame[k], errors="coerce") if k in frame else missing
        for k in ("weight", "signal", "rank", "likes", "comments")
    }
    # zip, not np.column_stack: a string column would turn every number into text.
    customdata = [
        list(row)
        for row in zip(
            [d.strftime("%d %b %Y") for d in start],
            [d.strftime("%d %b %Y") for d in end],
            _rounded(numbers["weight"]),
            _rounded(numbers["signal"]),
            _rounded(numbers["rank"]),
            _rounded(numbers["likes"]),
            _rounded(numbers["comments"]),
        )
    ]
    symbols = sorted(frame["symbol"].astype(str).unique())
    figure = go.Figure(
        go.Bar(
            base=[d.strftime("%Y-%m-%d") for d in start],
            x=duration_ms.tolist(),
            y=frame["symbol"].astype(str).tolist(),
            orientation="h",
            customdata=customdata,
            name="Held",
            marker={
                "color": _rounded(numbers["weight"]),
                "colorscale": [[0, "#93c5fd"], [1, "#1e3a8a"]],
                "cmin": 0,
                "cmax": max(float(numbers["weight"].max(skipna=True) or 0.0), 0.01),
                "colorbar": {"title": "Weight", "tickformat": ".0%"},
                "line": {"width": 0},
            },
            hovertemplate=(
                "<b>%{y}</b> held %{customdata[0]} to %{customdata[1]}<br>"
                "weight %{customdata[2]:.1%} · rank %{customdata[4]:.0f}<br>"
                "signal %{customdata[3]:.4g}<br>"
                "likes %{customdata[5]:,.0f} · comments %{customdata[6]:,.0f}<extra></extra>"
            ),
        )
    )
    figure.update_layout(
        **{**_LAYOUT, "hovermode": "closest"},
        title=title,
        bargap=0.25,
        height=max(320, 16 * len(symbols) + 120),
        showlegend=False,
    )
    figure.update_xaxes(type="date")
    figure.update_yaxes(type="category", categoryorder="array", categoryarray=symbols[::-1], title="")
    return figure


def turnover_figure(periods: Mapping[str, Sequence[Any]] | None) -> go.Figure:
    """One bar per rebalance: the one-way traded fraction of the portfolio."""
    title = "Turnover per rebalance"
    if not periods or not periods.get("period_start"):
        return empty_figure(title)
    turnover = _rounded(
        pd.to_numeric(pd.Series(list(periods.get("turnover", [])), dtype=object), errors="coerce")
    )
    cost = _rounded(
        pd.to_numeric(
            pd.Series(list(periods.get("cost", [None] * len(turnover))), dtype=object), errors="coerce"
        )
    )
    selected = list(periods.get("n_selected", [None] * len(turnover)))
    figure = go.Figure(
        go.Bar(
            x=list(periods["period_start"]),
            y=turnover,
            name="Turnover",
            marker_color=SERIES_COLORS["portfolio"],
            customdata=[list(row) for row in zip(cost, selected)],
            hovertemplate="%{x|%d %b %Y}<br>turnover %{y:.1%}<br>cost %{customdata[0]:.3%}<br>"
            "%{customdata[1]} held<extra></extra>",
        )
    )
    figure.update_layout(**{**_LAYOUT, "hovermode": "closest"}, title=title, showlegend=False)
    figure.update_yaxes(tickformat=".0%", title="One-way turnover")
    return figure


def distribution_figure(
    values: Sequence[float] | None,
    observed: float | None,
    *,
    title: str,
    value_format: str = ".2f",
    observed_label: str = "Strategy",
) -> go.Figure:
    """Histogram of a simulated statistic (e.g. random-portfolio Sharpe) with the observed value."""
    finite = [v for v in _rounded(values if values is not None else []) if v is not None]
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
    figure.update_layout(**{**_LAYOUT, "hovermode": "closest"}, title=title, showlegend=False, bargap=0.05)
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
            z=[_rounded(row) for row in values],
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
    figure.update_layout(**{**_LAYOUT, "hovermode": "closest"}, title=title)
    figure.update_xaxes(type="category", title=x_param)
    figure.update_yaxes(type="category", title=y_param if x_param != y_param else "")
    return figure


# ----------------------------------------------------------------- stocks page


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
    if not _has_data(frame):
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
                x=_iso(frame.index),
                y=_rounded(series / first.iloc[0]),
                mode="lines",
                name=str(symbol),
                line={"color": SYMBOL_PALETTE[i % len(SYMBOL_PALETTE)], "width": 1.5},
                hovertemplate="%{y:.3f}<extra>" + str(symbol) + "</extra>",
            )
        )
    figure.update_layout(**_LAYOUT, title=title)
    figure.update_yaxes(tickformat=".2f", title="Growth of 1")
    figure.update_xaxes(hoverformat="%a %d %b %Y")
    return figure


def return_distribution_figure(returns: Mapping[str, Sequence[Any]] | None) -> go.Figure:
    """Overlaid histograms of daily simple returns (column dict ``{date, SYMBOL: [...]}``)."""
    frame = price_frame(returns)
    title = "Distribution of daily returns"
    if not _has_data(frame):
        return empty_figure(title)
    figure = go.Figure()
    for i, symbol in enumerate(frame.columns):
        values = [v for v in _rounded(frame[symbol]) if v is not None]
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
    figure.update_layout(**{**_LAYOUT, "hovermode": "closest"}, title=title, barmode="overlay")
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
            z=[_rounded(row) for row in values],
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
    figure.update_layout(**{**_LAYOUT, "hovermode": "closest"}, title=title)
    figure.update_yaxes(autorange="reversed")
    return figure
