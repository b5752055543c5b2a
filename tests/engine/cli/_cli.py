"""Helpers shared by the CLI tests: run a command in-process, write a market as CSV files."""

from __future__ import annotations

import io
from pathlib import Path

from engine.cli.main import main
from tests.engine._frames import random_market


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``python -m engine *argv`` run in this process."""
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def write_market_files(folder: Path, *, seed: int, n_symbols: int) -> tuple[Path, Path]:
    """A seeded random market as ``sentiment.csv`` and ``prices.csv`` (ISO dates) in ``folder``."""
    data = random_market(seed=seed, n_symbols=n_symbols)
    sentiment = data.sentiment.copy()
    sentiment["date"] = sentiment["date"].dt.strftime("%Y-%m-%d")
    sentiment.to_csv(folder / "sentiment.csv", index=False)
    data.prices.to_csv(folder / "prices.csv", index_label="date", date_format="%Y-%m-%d")
    return folder / "sentiment.csv", folder / "prices.csv"
