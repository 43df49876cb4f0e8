"""`memberhub insights fit-clv` as an analyst runs it: the CDNOW sample reproduces the
published parameters, the formats agree, and every bad input ends in one line."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from memberhub.cli import main
from tests.integration.test_cli import memberhub

pytestmark = pytest.mark.skipif(
    os.environ.get("MEMBERHUB_TEST_DB", "sqlite").startswith("postgres"),
    reason="the command reads files, not the database; exercised once, with SQLite runs",
)

CDNOW = Path(__file__).resolve().parent.parent / "data" / "CDNOW_sample.txt"
PERIODS = ("--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30")

# BG/NBD: Fader, Hardie & Lee (2005); Gamma-Gamma: Fader & Hardie (2013); Pareto/NBD: the
# reference fit of the same sample that the BG/NBD paper compares its model with.
PUBLISHED = {
    "bgnbd": {"r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259, "log_likelihood": -9582.43},
    "gamma_gamma": {"p": 6.2496, "q": 3.7442, "gamma": 15.4435},
    "pareto_nbd": {
        "r": 0.5532,
        "alpha": 10.5763,
        "s": 0.6062,
        "beta": 11.6715,
        "log_likelihood": -9594.98,
    },
}


def fit_clv(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the command in this process through `main`, as the console script does."""
    try:
        main(["insights", "fit-clv", *args])
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def last_json(out: str) -> dict[str, Any]:
    report = json.loads(out.strip().splitlines()[-1])
    assert isinstance(report, dict)
    return report


def test_the_cdnow_sample_reproduces_the_published_values(tmp_path: Path) -> None:
    done = memberhub(
        tmp_path, "insights", "fit-clv", "--transactions", str(CDNOW), "--format", "cdnow",
        *PERIODS,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = last_json(done.stdout)
    assert report["customers"] == 2357
    for model, values in PUBLISHED.items():
        for name, value in values.items():
            assert report[model][name] == pytest.approx(value, rel=0.005), (model, name)
    # Repeat purchases from 1997-10-01 to 1998-06-30: counted, and the sum of the BG/NBD
    # conditional expectations over those 39 weeks.
    assert report["holdout"]["actual"] == 1882
    assert report["holdout"]["predicted"] == pytest.approx(1653, rel=0.01)


def test_four_and_five_column_cdnow_files_and_csv_give_the_same_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = CDNOW.read_text().split()
    rows = [lines[i : i + 5] for i in range(0, len(lines), 5)]
    four = tmp_path / "four.txt"
    four.write_text("".join(f"{r[0]} {r[2]} {r[3]} {r[4]}\n" for r in rows))
    csv_file = tmp_path / "sample.csv"
    csv_file.write_text(
        "customer_id,date,amount,quantity\n"
        + "".join(f"{r[0]},{r[2][:4]}-{r[2][4:6]}-{r[2][6:]},{r[4]},{r[3]}\n" for r in rows)
    )
    reports = []
    for path, file_format in ((CDNOW, "cdnow"), (four, "cdnow"), (csv_file, "csv")):
        code, out, err = fit_clv(
            capsys, "--transactions", str(path), "--format", file_format, *PERIODS
        )
        assert code == 0, err
        reports.append(last_json(out))
    assert reports[0] == reports[1] == reports[2]
    assert reports[0]["customers"] == 2357


def test_without_a_holdout_there_is_no_holdout_figure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = fit_clv(
        capsys, "--transactions", str(CDNOW), "--format", "cdnow",
        "--calibration-end", "1997-09-30",
    )  # fmt: skip
    assert code == 0, err
    assert set(last_json(out)) == {"customers", "bgnbd", "gamma_gamma", "pareto_nbd"}


CDNOW_OK = " 00004 0001 19970101  2   29.33\n 00004 0001 19970118  2   29.73\n"


@pytest.mark.parametrize(
    ("name", "content", "file_format", "periods", "code", "expected"),
    [
        ("cdnow.txt", CDNOW_OK + "00005 19970101 1\n", "cdnow", PERIODS, 1,
         "BadTransactionFile: line 3: 3 columns where cdnow has 4"),
        ("cdnow.txt", CDNOW_OK + "00005 19971301 1 9.99\n", "cdnow", PERIODS, 1,
         "BadTransactionFile: line 3: bad date '19971301' (expected yyyymmdd)"),
        ("cdnow.txt", "00005 1997-01-01 1 9.99\n", "cdnow", PERIODS, 1,
         "BadTransactionFile: line 1: bad date '1997-01-01' (expected yyyymmdd)"),
        ("cdnow.txt", CDNOW_OK + "00005 19970101 1 $9.99\n", "cdnow", PERIODS, 1,
         "BadTransactionFile: line 3: amount '$9.99' is not a number"),
        ("cdnow.txt", "00005 19970101 1 nan\n", "cdnow", PERIODS, 1,
         "BadTransactionFile: line 1: amount 'nan' is not a number"),
        ("cdnow.txt", "00005 19970101 one 9.99\n", "cdnow", PERIODS, 1,
         "BadTransactionFile: line 1: quantity 'one' is not a number"),
        ("sales.csv", "customer_id,date,total\nc1,1997-01-01,5\n", "csv", PERIODS, 1,
         "BadTransactionFile: line 1: the CSV header lacks amount"),
        ("sales.csv", "customer_id,date,amount\nc1,1997-01-01,5\nc1,01/02/1997,5\n", "csv",
         PERIODS, 1, "BadTransactionFile: line 3: bad date '01/02/1997' (expected an ISO"),
        ("sales.csv", "customer_id,date,amount\nc1,1997-01-01\n", "csv", PERIODS, 1,
         "BadTransactionFile: line 2: 2 fields where the header has 3"),
        ("sales.csv", "customer_id,date,amount\n,1997-01-01,5\n", "csv", PERIODS, 1,
         "BadTransactionFile: line 2: empty customer id"),
        ("sales.csv", "", "csv", PERIODS, 1,
         "BadTransactionFile: line 1: empty file, expected a CSV header"),
        ("cdnow.txt", CDNOW_OK, "cdnow",
         ("--calibration-end", "1997-09-30", "--holdout-end", "1997-09-01"), 1,
         "BadPeriod: holdout end 1997-09-01 is not after the calibration end 1997-09-30"),
        ("cdnow.txt", CDNOW_OK, "cdnow",
         ("--calibration-end", "1997-09-30", "--holdout-end", "1997-09-30"), 1,
         "BadPeriod: holdout end 1997-09-30 is not after the calibration end 1997-09-30"),
        ("cdnow.txt", CDNOW_OK, "cdnow", ("--calibration-end", "1996-12-31"), 1,
         "NoCustomers: nobody bought on or before the calibration end 1996-12-31"),
        ("cdnow.txt", "\n\n", "cdnow", PERIODS, 1,
         "NoCustomers: nobody bought on or before the calibration end 1997-09-30"),
        ("cdnow.txt", CDNOW_OK.replace("00004", "00009", 1), "cdnow", PERIODS, 1,
         "FitFailed: BG/NBD: the likelihood does not curve down in every direction"),
        ("cdnow.txt", CDNOW_OK, "cdnow", ("--calibration-end", "30/09/1997"), 2,
         "usage error: Invalid value for '--calibration-end': '30/09/1997' does not match"),
        ("cdnow.txt", CDNOW_OK, "cdnow", ("--calibration-end", "1997-02-30"), 2,
         "usage error: Invalid value for '--calibration-end': '1997-02-30' does not match"),
        ("cdnow.txt", CDNOW_OK, "parquet", PERIODS, 2,
         "usage error: Invalid value for '--format': 'parquet' is not one of"),
    ],
    ids=[
        "cdnow-columns", "cdnow-date", "cdnow-iso-date", "cdnow-amount", "cdnow-nan",
        "cdnow-quantity", "csv-header", "csv-date", "csv-fields", "csv-customer", "csv-empty",
        "holdout-before", "holdout-same-day", "nobody-by-then", "no-lines", "no-repeats",
        "date-format", "no-such-day", "format",
    ],
)  # fmt: skip
def test_bad_input_ends_in_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str,
    file_format: str,
    periods: tuple[str, ...],
    code: int,
    expected: str,
) -> None:
    path = tmp_path / name
    path.write_text(content)
    exit_code, out, err = fit_clv(
        capsys, "--transactions", str(path), "--format", file_format, *periods
    )
    assert exit_code == code, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"memberhub: {expected}"), lines[0]
    assert "{" not in out


@pytest.mark.parametrize("what", ["missing", "directory"])
def test_a_transaction_file_that_is_not_there_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], what: str
) -> None:
    path = tmp_path / "nothing.txt"
    if what == "directory":
        path.mkdir()
    code, _, err = fit_clv(capsys, "--transactions", str(path), "--format", "cdnow", *PERIODS)
    assert code == 2
    assert err.startswith("memberhub: usage error: Invalid value for '--transactions'")
    assert len(err.strip().splitlines()) == 1


def test_a_file_that_is_not_utf8_text_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"customer_id,date,amount\n\xff\xfe,1997-01-01,1\n")
    code, _, err = fit_clv(capsys, "--transactions", str(path), "--format", "csv", *PERIODS)
    assert code == 1
    assert err.startswith("memberhub: BadTransactionFile: binary.csv: not UTF-8 text")
