"""Dashboard speed and payloads, measured side by side in one run (no pass/fail thresholds).

    python benchmarks/bench_dashboard.py [--repeats 5]

Everything runs in this process through the Flask test client (no sockets, no gunicorn:
it isolates the app's own cost; bench_load.py measures the served app). The app is built
with ``create_app`` on the demo data, a FileSystemCache in a fresh temp dir and the serial
executor (a backtest does not use Ray).

1. Time to first render of the Backtest page: what the browser asks for on a first visit
   (GET /, the JS/CSS it links, /_dash-layout, /_dash-dependencies) and the initial
   callbacks (Pages router for "/", data-source badge, form validation, Run with no click).
   "cold" = first visit after start (the demo data is generated and loaded), "warm" =
   median of later first visits of new sessions.
2. The Run-backtest callback (POST /_dash-update-component with the page's real request
   body, discovered from /_dash-dependencies): uncached (distinct parameters each time)
   vs cached (the same parameters again); and the same split for ``services.backtest``
   alone, which shows how much of a cached callback is spent re-drawing figures.
3. Figure payloads (``fig.to_json()`` bytes) of the Backtest page's figures on that result,
   and the variants: full float precision vs rounded (``figures.ROUND_DIGITS``), Scatter
   vs Scattergl, with vs without the template embedded in the layout, full figure vs a
   ``dash.Patch`` that only replaces the data arrays; and the whole callback response,
   raw and gzip-compressed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import plotly.graph_objects as go
from _procs import DashClient, backtest_run_body
from dash import Patch
from plotly.utils import PlotlyJSONEncoder


def make_app(cache_dir: Path) -> Any:
    from dashapp import create_app

    return create_app(
        {
            "CACHE_DIR": str(cache_dir),
            "CACHE_TYPE": "FileSystemCache",
            "ENGINE_EXECUTOR": "serial",
            "DATA_SOURCE": "demo",
        }
    )


def test_transport(app: Any) -> Callable[[str, str, Any], tuple[int, Any]]:
    client = app.server.test_client()

    def transport(method: str, path: str, body: Any) -> tuple[int, Any]:
        response = client.open(path, method=method, json=body)
        data = response.get_data()
        try:
            return response.status_code, json.loads(data or b"null")
        except ValueError:
            return response.status_code, data.decode(errors="replace")

    return transport


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


# ----------------------------------------------------------------- 1. first render


def first_render(app: Any) -> tuple[float, int]:
    """Seconds and bytes for a new visitor's first render of "/" (see the module docstring)."""
    transport = test_transport(app)
    client_box: dict[str, Any] = {}
    received = 0

    def visit() -> None:
        nonlocal received
        status, index = transport("GET", "/", None)
        assert status == 200
        received += len(index.encode())
        for link in re.findall(r'(?:src|href)="(/(?:_dash-component-suites|assets)/[^"]+)"', index):
            status, body = transport("GET", link, None)
            assert status == 200, link
            received += len(body if isinstance(body, (str, bytes)) else json.dumps(body))
        client = DashClient(transport)
        client_box["client"] = client
        router = client.open_page("/")
        received += len(json.dumps(router))
        badge = client.dependency("source-badge.children")
        received += len(json.dumps(client.fire(badge, "session-source.data", {})))
        validate = client.dependency("backtest-run.disabled")
        received += len(json.dumps(client.fire(validate, "backtest-start.value", {})))
        run = client.dependency("backtest-results.children")
        status, _ = client.post(client.body(run, "backtest-autorun.data", {}))
        assert status in (200, 204), status

    seconds, _ = timed(visit)
    return seconds, received


# ----------------------------------------------------------------- 2. callback cached vs uncached


def callback_times(app: Any, repeats: int) -> dict[str, list[float]]:
    transport = test_transport(app)
    client = DashClient(transport)
    client.open_page("/")
    out: dict[str, list[float]] = {"uncached": [], "cached": []}
    bodies = [backtest_run_body(client, {"backtest-cost_bps": 20 + i}) for i in range(repeats)]
    for key in ("uncached", "cached"):
        for body in bodies:
            seconds, (status, answer) = timed(lambda body=body: client.post(body))
            assert status == 200 and answer["response"]["backtest-run-state"]["data"], str(answer)[:300]
            out[key].append(seconds)
    return out


def service_times(app: Any, repeats: int) -> dict[str, list[float]]:
    from dashapp import services

    out: dict[str, list[float]] = {"uncached": [], "cached": []}
    with app.server.app_context():
        params = [{"cost_bps": 40 + i} for i in range(repeats)]
        for key in ("uncached", "cached"):
            for p in params:
                out[key].append(timed(lambda p=p: services.backtest(None, p))[0])
    return out


def section_times(app: Any, repeats: int) -> dict[str, float]:
    """Re-drawing the results section vs reading it back already serialized (the fix to measure)."""
    import plotly.io as pio

    from dashapp import services
    from dashapp.pages import backtest as page

    with app.server.app_context():
        result = services.backtest(None, {})
    rebuild = [timed(lambda: page.results_section(result))[0] for _ in range(repeats)]
    serialized = pio.json.to_json_plotly(page.results_section(result))
    reload = [timed(lambda: json.loads(serialized))[0] for _ in range(repeats)]
    return {"rebuild": statistics.median(rebuild), "reload": statistics.median(reload)}


def response_bytes(app: Any) -> tuple[int, int]:
    transport = test_transport(app)
    client = DashClient(transport)
    client.open_page("/")
    status, answer = client.post(backtest_run_body(client, {"backtest-cost_bps": 20}))
    assert status == 200
    raw = json.dumps(answer, separators=(",", ":")).encode()
    return len(raw), len(gzip.compress(raw, 6))


# ----------------------------------------------------------------- 3. figure payloads


def figure_sizes(app: Any) -> list[tuple[str, str, int]]:
    """(figure, variant, bytes) rows; the largest figure gets every variant."""
    from dashapp import services
    from dashapp.ui import figures

    with app.server.app_context():
        result = services.backtest(None, {})
    returns = result.get("returns")
    builders: dict[str, Callable[[], go.Figure]] = {
        "cumulative": lambda: figures.cumulative_returns_figure(returns),
        "drawdown": lambda: figures.drawdown_figure(returns, result.get("drawdown")),
        "monthly": lambda: figures.monthly_heatmap_figure(returns),
        "turnover": lambda: figures.turnover_figure(result.get("periods")),
        "rolling": lambda: figures.rolling_figure(returns),
        "holdings": lambda: figures.holdings_figure(result.get("holdings")),
    }
    sizes = {name: len(build().to_json()) for name, build in builders.items()}
    rows = [(name, "as shipped", size) for name, size in sizes.items()]
    largest = max(sizes, key=sizes.__getitem__)
    # The largest line chart too, if the largest figure is not one (Scatter vs Scattergl applies to lines).
    line_charts = [n for n in ("rolling", "cumulative", "drawdown")]
    largest_line = max(line_charts, key=sizes.__getitem__)
    for name in dict.fromkeys([largest, largest_line]):
        rows.extend(_variants(name, builders[name], figures))
    return rows


def _variants(name: str, build: Callable[[], go.Figure], figures: Any) -> list[tuple[str, str, int]]:
    shipped = build()
    rows: list[tuple[str, str, int]] = []
    saved = figures.ROUND_DIGITS
    try:
        figures.ROUND_DIGITS = 17  # np.round(x, 17) keeps every bit of a float64 in [-1e3, 1e3]
        rows.append((name, "full float precision (no rounding)", len(build().to_json())))
    finally:
        figures.ROUND_DIGITS = saved
    rows.append((name, f"rounded to {saved} digits (shipped)", len(shipped.to_json())))
    kinds = {trace.type for trace in shipped.data}
    if kinds & {"scatter", "scattergl"}:
        for kind, cls in (("scatter", go.Scatter), ("scattergl", go.Scattergl)):
            variant = go.Figure(shipped)
            variant.data = []
            for trace in shipped.data:
                plain = trace.to_plotly_json()
                if plain.get("type") in ("scatter", "scattergl"):
                    plain.pop("type")
                    variant.add_trace(cls(**plain))
                else:
                    variant.add_trace(trace)
            label = "Scatter (SVG) traces" if kind == "scatter" else "Scattergl (WebGL) traces"
            shipped_kind = " (shipped)" if kinds & {"scatter", "scattergl"} == {kind} else ""
            rows.append((name, label + shipped_kind, len(variant.to_json())))
    no_template = go.Figure(shipped)
    no_template.layout.template = None
    rows.append((name, "without the embedded template", len(no_template.to_json())))
    patch = Patch()
    for index, trace in enumerate(shipped.data):
        for axis in ("x", "y", "z"):
            values = getattr(trace, axis, None)
            if values is not None:
                patch["data"][index][axis] = list(values)
    rows.append((name, "dash.Patch replacing x/y/z of every trace", _json_len(patch.to_plotly_json())))
    patch_y = Patch()
    for index, trace in enumerate(shipped.data):
        if getattr(trace, "y", None) is not None and getattr(trace, "type", "") != "bar":
            patch_y["data"][index]["y"] = list(trace.y)
    rows.append((name, "dash.Patch replacing y only (same dates)", _json_len(patch_y.to_plotly_json())))
    return rows


def _json_len(value: Any) -> int:
    return len(json.dumps(value, cls=PlotlyJSONEncoder, separators=(",", ":")))


# ----------------------------------------------------------------- report


def ms(seconds: float) -> str:
    return f"{seconds * 1000:9.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per timed case (median reported)")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="spl-bench-dash-", dir="/tmp"))
    try:
        print(
            f"# bench_dashboard  {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}  "
            f"python benchmarks/bench_dashboard.py --repeats {args.repeats}"
        )
        print(
            "# in-process Flask test client; demo data; FileSystemCache; serial executor; 2-core shared host"
        )
        seconds_create, app = timed(lambda: make_app(root / "cache"))
        print(f"create_app                                   {ms(seconds_create)}")

        cold, cold_bytes = first_render(app)
        warm = [first_render(app) for _ in range(args.repeats)]
        warm_s = statistics.median(s for s, _ in warm)
        print(
            "\n## 1. Time to first render of the Backtest page (GET / + JS/CSS + layout + dependencies + "
            "initial callbacks)"
        )
        print(f"first visit after start (cold data)          {ms(cold)}   {cold_bytes / 1e6:.2f} MB received")
        print(
            f"first visit of a new session (warm, median)  {ms(warm_s)}   {warm[0][1] / 1e6:.2f} MB received"
        )

        times = callback_times(app, args.repeats)
        service = service_times(app, args.repeats)
        print(f"\n## 2. Run-backtest callback, median of {args.repeats} (POST /_dash-update-component)")
        unc, cac = statistics.median(times["uncached"]), statistics.median(times["cached"])
        print(f"callback uncached                            {ms(unc)}")
        print(f"callback cached                              {ms(cac)}")
        print(
            f"callback speed-up cached vs uncached         {unc / cac:9.1f} x   (aim >= 50 x: "
            f"{'met' if unc / cac >= 50 else 'NOT met'})"
        )
        s_unc, s_cac = statistics.median(service["uncached"]), statistics.median(service["cached"])
        print(f"services.backtest uncached                   {ms(s_unc)}")
        print(f"services.backtest cached                     {ms(s_cac)}")
        print(f"services.backtest speed-up                   {s_unc / s_cac:9.1f} x")
        section = section_times(app, args.repeats)
        print(
            f"results_section(result) drawn (6 go.Figure)  {ms(section['rebuild'])}   (the cost a cached view avoids)"
        )
        print(f"the same section read back serialized        {ms(section['reload'])}")
        raw, compressed = response_bytes(app)
        print(
            f"callback response                            {raw:9,d} B raw, {compressed:,d} B gzip "
            f"({raw / compressed:.1f} x smaller)"
        )

        print("\n## 3. Figure payloads (fig.to_json() bytes) on the default backtest")
        for name, variant, size in figure_sizes(app):
            print(f"{name:<11} {variant:<46} {size:>9,d} B")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
