"""long-prices-ticker-column, a held-back variant: a long file whose symbols are numbers
under a name the reader does not know (CRSP's PERMNO, ``secid``). Read as wide it invented
tickers CLOSE and SECID (the IDs as "prices") and a run said the benchmark had no prices."""

from __future__ import annotations

import pytest

from engine import DataValidationError, load_prices_file

SECID = (
    "date,secid,close\n"
    "2021-11-01,7203,102.24\n2021-11-01,6758,101.27\n2021-11-01,9984,100.08\n"
    "2021-11-02,7203,99.83\n2021-11-02,6758,100.08\n2021-11-02,9984,99.2\n"
    "2021-11-03,7203,100.5\n2021-11-03,6758,101.0\n2021-11-03,9984,99.9\n"
)


def test_numeric_ids_that_repeat_on_every_date_are_the_symbols() -> None:
    prices, report = load_prices_file(SECID.encode(), name="ids.csv")
    assert sorted(prices.columns) == ["6758", "7203", "9984"]
    assert prices.loc["2021-11-02", "7203"] == 99.83 and prices.loc["2021-11-03", "9984"] == 99.9
    assert not report.dropped
    assert any("column 'secid' read as the symbols (7203, 6758, 9984)" in w for w in report.warnings)


@pytest.mark.parametrize("name", ["permno", "PERMNO", "stock_code", "SECID"])
def test_the_same_under_other_names_reads_the_same(name: str) -> None:
    prices, _ = load_prices_file(SECID.replace("secid", name).encode(), name="ids.csv")
    assert sorted(prices.columns) == ["6758", "7203", "9984"]


def test_a_volume_column_is_not_taken_for_the_symbols() -> None:
    text = (
        "date,permno,close,volume\n2022-01-03,10107,10,500\n2022-01-03,14593,20,700\n"
        "2022-01-04,10107,11,510\n2022-01-04,14593,21,720\n2022-01-05,10107,12,520\n2022-01-05,14593,22,730\n"
    )
    prices, report = load_prices_file(text.encode(), name="crsp.csv")
    assert sorted(prices.columns) == ["10107", "14593"] and prices.loc["2022-01-05", "14593"] == 22.0
    assert any("ignored column(s) 'volume'" in w for w in report.warnings)


def test_a_wide_file_of_whole_number_prices_stays_wide() -> None:
    text = "date,AAA,BBB\n2022-01-03,10,20\n2022-01-04,11,20\n2022-01-05,12,21\n"
    prices, _ = load_prices_file(text.encode(), name="w.csv")
    assert list(prices.columns) == ["AAA", "BBB"] and prices.loc["2022-01-05", "BBB"] == 21.0


def test_two_candidate_id_columns_are_refused_not_guessed() -> None:
    rows = [line.split(",") for line in SECID.strip().splitlines()[1:]]
    text = "date,secid,permno,close\n" + "".join(f"{d},{s},{int(s) + 1},{c}\n" for d, s, c in rows)
    with pytest.raises(DataValidationError, match=r"columns 'secid', 'permno' of whole numbers.*'symbol'"):
        load_prices_file(text.encode(), name="two.csv")


def test_one_symbols_file_with_its_number_under_an_unknown_name_is_refused_not_read_wide() -> None:
    text = "date,permno,close\n2022-01-03,10001,10\n2022-01-04,10001,10.5\n2022-01-05,10001,10.6\n"
    with pytest.raises(
        DataValidationError, match=r"one symbol's long price file .*10001.*name that column 'symbol'"
    ):
        load_prices_file(text.encode(), name="one.csv")


def test_ids_written_as_floats_are_the_whole_numbers_the_warning_names() -> None:
    text = "date,secid,close\n2022-01-03,101.0,10\n2022-01-03,102.0,20\n2022-01-04,101.0,10.5\n2022-01-04,102.0,20.5\n"
    prices, report = load_prices_file(text.encode(), name="f.csv")
    assert sorted(prices.columns) == ["101", "102"]
    assert any("read as the symbols (101, 102)" in w for w in report.warnings)


def test_ids_with_leading_zeros_keep_them_in_the_symbols_and_the_warning() -> None:
    rows = [("2022-01-03", 70000, 120000), ("2022-01-04", 70500, 121000), ("2022-01-05", 71000, 122000)]
    text = "date,krx,close\n" + "".join(f"{d},005930,{a}\n{d},000660,{b}\n" for d, a, b in rows)
    prices, report = load_prices_file(text.encode(), name="k.csv")
    assert sorted(prices.columns) == ["000660", "005930"] and prices.loc["2022-01-05", "005930"] == 71000.0
    assert any("read as the symbols (005930, 000660)" in w for w in report.warnings)


def test_a_row_without_its_id_is_a_dropped_row_not_a_wide_file() -> None:
    text = SECID.replace("2021-11-03,9984,99.9", "2021-11-03,,99.9")
    prices, report = load_prices_file(text.encode(), name="ids.csv")
    assert sorted(prices.columns) == ["6758", "7203", "9984"] and report.dropped
