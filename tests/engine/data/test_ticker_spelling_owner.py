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
