"""Every command states its numbers' conventions in one wording (``engine.cli.common.conventions``)."""

from __future__ import annotations

import pytest

from engine.cli.common import conventions
from tests.engine.cli._cli import run_cli

CORE = "daily simple returns; annualised over 252 trading days; risk-free 1.50% a year"


def test_conventions_wording() -> None:
    assert conventions(0.015) == CORE
    assert conventions(0.015, "n/a: undefined") == CORE + "; n/a: undefined"
    assert (
        conventions(None)
        == "daily simple returns; annualised over 252 trading days; risk-free the configuration's"
    )


@pytest.mark.parametrize(
    "command",
    [
        ["backtest", "--risk-free", "0.015"],
        ["stocks", "--symbols", "JONX,JORK", "--risk-free", "0.015"],
        ["sweep", "--grid", "top_n=3,5", "--risk-free", "0.015", "--executor", "serial"],
        ["robustness", "--risk-free", "0.015", "--n-boot", "50", "--n-random", "20", "--executor", "serial"],
    ],
    ids=lambda c: c[0],
)
def test_every_command_prints_the_same_conventions(command: list[str]) -> None:
    code, out, err = run_cli(command)
    assert code == 0, err
    assert CORE in out


def test_a_sweep_of_the_risk_free_rate_says_each_configuration_has_its_own() -> None:
    code, out, err = run_cli(["sweep", "--grid", "risk_free=0,0.02", "--executor", "serial"])
    assert code == 0, err
    assert "risk-free the configuration's" in out
