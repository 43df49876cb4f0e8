"""Reading transaction files: what each format accepts beyond the plain case."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from crm.insights import BadTransactionFile, FileFormat, read_transactions

CDNOW = Path(__file__).resolve().parent.parent / "data" / "CDNOW_sample.txt"


def test_the_cdnow_sample_is_read_whole_with_its_progress_reported() -> None:
    read: list[int] = []
    transactions = read_transactions(CDNOW, FileFormat.CDNOW, read.append)
    assert len(transactions) == 6919
    assert len(transactions.customer_ids) == 2357
    assert transactions.customer_ids[:2] == ("00004", "00021")
    assert sum(read) == CDNOW.stat().st_size
    assert date.fromordinal(int(transactions.day.min())) == date(1997, 1, 1)
    assert date.fromordinal(int(transactions.day.max())) == date(1998, 6, 30)


def test_cdnow_lines_may_have_blank_lines_tabs_and_crlf_between_them(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(b"\r\n 7\t19970101 1 1.5\r\n\r\n8 0002 19970102 2 -3\r\n   \r\n")
    transactions = read_transactions(path, FileFormat.CDNOW)
    assert transactions.customer_ids == ("7", "8")
    assert transactions.amount.tolist() == [1.5, -3.0]


def test_csv_takes_its_columns_by_name_with_a_bom_quotes_and_others_beside(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        '\ufeffstore,amount,date,customer_id\r\n"Shanghai, HP",12.50,1997-01-31,"A 1"\r\n\r\n'
        "Pudong,3,1997-02-01,A 1\n",
        encoding="utf-8",
    )
    transactions = read_transactions(path, FileFormat.CSV)
    assert transactions.customer_ids == ("A 1",)
    assert transactions.amount.tolist() == [12.5, 3.0]
    assert [date.fromordinal(int(d)) for d in transactions.day] == [
        date(1997, 1, 31),
        date(1997, 2, 1),
    ]


def test_a_csv_file_with_an_unclosed_quote_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('customer_id,date,amount\nc1,1997-01-01,1\n"c2,1997-01-02,1\n')
    with pytest.raises(BadTransactionFile, match=r"^line \d+: "):
        read_transactions(path, FileFormat.CSV)
