"""One owner of the ticker spelling rule (trim, upper case): engine.data.symbols.normalise_ticker.
The data layer's readers and providers had their own ``.strip().upper()`` copies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import engine.data
from engine.data.validation import clean_symbols

DATA = Path(engine.data.__file__).parent


def test_no_module_of_the_data_layer_spells_tickers_itself() -> None:
    copies = [
        f"{path.name}:{n}"
        for path in sorted(DATA.glob("*.py"))
        if path.name != "symbols.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if ".strip().upper()" in line or ".str.strip().str.upper()" in line
    ]
    assert copies == []


def test_clean_symbols_spells_as_normalise_ticker() -> None:
    cells = pd.Series([" aapl ", "$brk.b", None, "Qqq", " aapl "])
    assert clean_symbols(cells).tolist() == ["AAPL", "BRK.B", "", "QQQ", "AAPL"]


def test_a_cashtag_typed_as_a_parameter_is_its_ticker() -> None:
    # The files read '$QQQ' as QQQ; --benchmark '$QQQ' and stocks --symbols '$AAA' were
    # refused as not a ticker (breaker pass 9, F8). One rule: normalise_ticker.
    from engine import StrategyParams
    from engine.data.symbols import normalise_ticker

    assert normalise_ticker(" $qqq ") == "QQQ" and normalise_ticker("$1.5") == "$1.5"
    assert StrategyParams(benchmark="$QQQ").benchmark == "QQQ"
    assert StrategyParams.from_mapping({"benchmark": "$qqq"}).benchmark == "QQQ"


def test_the_stocks_analysis_reads_a_cashtag_as_its_ticker() -> None:
    import numpy as np

    from engine import analyze_stocks

    days = pd.bdate_range("2022-01-03", periods=30)
    closes = pd.DataFrame({"AAA": np.linspace(10, 12, 30), "BBB": np.linspace(20, 19, 30)}, index=days)
    assert list(analyze_stocks(closes, ["$aaa", "BBB"]).metrics["symbol"]) == ["AAA", "BBB"]
