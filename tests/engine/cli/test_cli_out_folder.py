"""``--out`` of every command is checked before anything is computed: a path that is a file,
or that cannot be created, is one sentence naming the option (exit 2), not ``error: File
exists (/etc/passwd)`` after a whole sweep has run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.cli._cli import run_cli

COMMANDS = [
    ["backtest"],
    ["signal"],
    ["stocks", "--symbols", "QQQ"],
    ["sweep", "--grid", "top_n=3,5"],
    ["robustness", "--n-boot", "20", "--n-random", "20"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_out_that_is_a_file_is_refused_first(command: list[str], tmp_path: Path) -> None:
    a_file = tmp_path / "results.csv"
    a_file.write_text("x\n")
    code, out, err = run_cli([*command, "--executor", "serial", "--out", str(a_file)])
    assert code == 2
    assert out == ""  # refused before any data was read or any result printed
    assert err.strip().endswith(f"argument --out: {a_file} is a file, not a folder")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", COMMANDS[:1], ids=lambda c: c[0])
def test_out_under_a_file_is_refused_first(command: list[str], tmp_path: Path) -> None:
    a_file = tmp_path / "results.csv"
    a_file.write_text("x\n")
    code, out, err = run_cli([*command, "--executor", "serial", "--out", str(a_file / "run1")])
    assert code == 2 and out == ""
    assert err.strip().endswith(
        f"argument --out: cannot make the folder {a_file / 'run1'}: {a_file} is a file"
    )


def test_a_new_nested_folder_is_still_made(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    code, _, err = run_cli(["stocks", "--symbols", "QQQ", "--out", str(target)])
    assert code == 0, err
    assert sorted(p.name for p in target.iterdir()) == [
        "correlation.csv",
        "normalised_prices.csv",
        "stock_metrics.csv",
    ]


def test_report_that_is_a_folder_is_refused_first(tmp_path: Path) -> None:
    """``--report`` is checked the same way: a folder there failed only after the backtest (and
    the robustness run of --report-robustness) had been computed."""
    code, out, err = run_cli(["backtest", "--executor", "serial", "--report", str(tmp_path)])
    assert code == 2 and out == ""
    assert err.strip().endswith(f"argument --report: {tmp_path} is a folder, not a file")
    a_file = tmp_path / "x.csv"
    a_file.write_text("x\n")
    code, out, err = run_cli(["backtest", "--executor", "serial", "--report", str(a_file / "r.html")])
    assert code == 2 and out == ""
    assert err.strip().endswith(
        f"argument --report: cannot make the folder of {a_file / 'r.html'}: {a_file} is a file"
    )


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc, where no folder can be made")
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_out_that_cannot_be_made_is_refused_first(command: list[str]) -> None:
    # Its nearest existing parent is a folder (/proc), but the system refuses to make it
    # there (even for root): the run stopped only after computing and printing everything,
    # with "error: No such file or directory (/proc/...)" not naming --out.
    code, out, err = run_cli([*command, "--out", "/proc/spl-no-such-folder/out"])
    assert code == 2
    assert out == ""
    assert err.strip() == (
        f"python -m engine {command[0]}: argument --out: cannot make the folder "
        "/proc/spl-no-such-folder/out: No such file or directory"
    )
