"""Transaction files (CDNOW's whitespace columns or a CSV) and their per-customer summaries.

A transaction is (customer id, day, amount). Purchases are counted by the day: several
transactions of one customer on one day are one purchase, whose spend is their sum. The
calibration period of a customer runs from their first purchase to the calibration end
(inclusive); the holdout period from the day after it to the holdout end (inclusive).
Times are in weeks: a day is 1/7.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt

from crm.insights.errors import BadPeriod, BadTransactionFile, NoCustomers
from crm.insights.summary import FloatArray, Histories

IntArray = npt.NDArray[np.int64]
DAYS_PER_WEEK = 7.0
CSV_COLUMNS = ("customer_id", "date", "amount")

Progress = Callable[[int], None]
"""Called with the number of bytes read since the last call."""


class FileFormat(StrEnum):
    CDNOW = "cdnow"
    CSV = "csv"


@dataclass(frozen=True)
class Transactions:
    """Columns of one file: `customer` indexes `customer_ids`; `day` is a date ordinal."""

    customer_ids: tuple[str, ...]
    customer: IntArray
    day: IntArray
    amount: FloatArray

    def __len__(self) -> int:
        return int(self.day.size)


@dataclass(frozen=True)
class CalibrationSummary:
    """Per customer who bought on or before the calibration end, in `customer_ids` order.

    `histories` is (x, t_x, T) in weeks, x being the purchase days after the first;
    `mean_spend` is the mean spend of those repeat purchase days (NaN without one);
    `holdout_purchases` counts purchase days in the holdout period (None without one).
    """

    customer_ids: tuple[str, ...]
    histories: Histories
    mean_spend: FloatArray
    holdout_purchases: FloatArray | None
    holdout_weeks: float | None

    @property
    def customers(self) -> int:
        return len(self.customer_ids)


def read_transactions(
    path: Path, file_format: FileFormat, progress: Progress | None = None
) -> Transactions:
    """Read a whole file; raises `BadTransactionFile` naming the first line that is not of
    the format, and `OSError` when the file cannot be read.

    `cdnow`: whitespace-separated `customer yyyymmdd quantity dollars`, or with a second id
    column (`customer sample_id yyyymmdd quantity dollars`, as in CDNOW_sample.txt), whose
    first id is the customer. `csv`: a header naming at least `customer_id`, `date`
    (ISO 8601, e.g. 1997-01-31) and `amount`; other columns are ignored. Blank lines are
    skipped; amounts must be finite numbers (negative ones are allowed: returns).
    """
    builder = _Builder()
    with path.open("rb") as raw:
        counted = io.BufferedReader(_Counting(raw, progress), buffer_size=1 << 20)
        text = io.TextIOWrapper(counted, encoding="utf-8-sig", newline="")
        try:
            if file_format is FileFormat.CDNOW:
                _read_cdnow(text, builder)
            else:
                _read_csv(text, builder)
        except UnicodeDecodeError as error:
            raise BadTransactionFile(f"{path.name}: not UTF-8 text ({error.reason})") from error
    return builder.build()


def summarise(
    transactions: Transactions, calibration_end: date, holdout_end: date | None = None
) -> CalibrationSummary:
    """Frequency, recency, age, repeat spend and holdout purchases of each customer whose
    first purchase is on or before `calibration_end`.

    Raises `BadPeriod` when the holdout does not end after the calibration and
    `NoCustomers` when nobody bought by the calibration end.
    """
    if holdout_end is not None and holdout_end <= calibration_end:
        raise BadPeriod(
            f"holdout end {holdout_end} is not after the calibration end {calibration_end}"
        )
    cal_end = calibration_end.toordinal()
    last_day = (holdout_end or calibration_end).toordinal()
    keep = transactions.day <= last_day
    customer = transactions.customer[keep]
    day = transactions.day[keep]
    amount = transactions.amount[keep]

    # One row per (customer, day): a purchase, spending the day's total.
    order = np.lexsort((day, customer))
    customer, day, amount = customer[order], day[order], amount[order]
    new_purchase = np.ones(customer.size, dtype=bool)
    new_purchase[1:] = (np.diff(customer) != 0) | (np.diff(day) != 0)
    starts = np.flatnonzero(new_purchase)
    customer, day = customer[starts], day[starts]
    spend = np.add.reduceat(amount, starts) if starts.size else amount[:0]

    # First purchase of each customer (purchases are sorted by customer, then day).
    first_of_customer = np.ones(customer.size, dtype=bool)
    first_of_customer[1:] = np.diff(customer) != 0
    first_index = np.flatnonzero(first_of_customer)
    count_per_customer = np.diff(np.append(first_index, customer.size))
    first_day = np.repeat(day[first_index], count_per_customer)
    cohort = first_day <= cal_end
    if not bool(cohort.any()):
        raise NoCustomers(f"nobody bought on or before the calibration end {calibration_end}")

    customer, day, spend, first_day = (
        customer[cohort],
        day[cohort],
        spend[cohort],
        first_day[cohort],
    )
    ids, slot = np.unique(customer, return_inverse=True)
    n = ids.size
    calibration = day <= cal_end
    repeat = calibration & (day > first_day)
    x = np.bincount(slot, weights=repeat, minlength=n).astype(np.float64)
    last = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last, slot[calibration], day[calibration])
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, slot, first_day)
    repeat_spend = np.bincount(slot, weights=np.where(repeat, spend, 0.0), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_spend = np.where(x > 0, repeat_spend / np.maximum(x, 1), np.nan)

    holdout: FloatArray | None = None
    holdout_weeks: float | None = None
    if holdout_end is not None:
        holdout = np.bincount(slot, weights=~calibration, minlength=n).astype(np.float64)
        holdout_weeks = (holdout_end.toordinal() - cal_end) / DAYS_PER_WEEK
    histories = Histories.of(x, (last - first) / DAYS_PER_WEEK, (cal_end - first) / DAYS_PER_WEEK)
    names = transactions.customer_ids
    return CalibrationSummary(
        customer_ids=tuple(names[int(i)] for i in ids),
        histories=histories,
        mean_spend=mean_spend,
        holdout_purchases=holdout,
        holdout_weeks=holdout_weeks,
    )


class _Builder:
    """Collects columns, numbering customers in order of first appearance; dates repeat a
    lot in a transaction file, so each distinct text is parsed once."""

    def __init__(self) -> None:
        self.slots: dict[str, int] = {}
        self.customer: list[int] = []
        self.day: list[int] = []
        self.amount: list[float] = []
        self.days: dict[str, int] = {}

    def add(self, line: int, customer: str, day_text: str, amount_text: str, iso: bool) -> None:
        if not customer:
            raise BadTransactionFile(f"line {line}: empty customer id")
        day = self.days.get(day_text)
        if day is None:
            day = _parse_day(line, day_text, iso)
            self.days[day_text] = day
        try:
            amount = float(amount_text)
        except ValueError:
            amount = math.nan
        if not math.isfinite(amount):
            raise BadTransactionFile(f"line {line}: amount {amount_text!r} is not a number")
        slot = self.slots.setdefault(customer, len(self.slots))
        self.customer.append(slot)
        self.day.append(day)
        self.amount.append(amount)

    def build(self) -> Transactions:
        return Transactions(
            customer_ids=tuple(self.slots),
            customer=np.asarray(self.customer, dtype=np.int64),
            day=np.asarray(self.day, dtype=np.int64),
            amount=np.asarray(self.amount, dtype=np.float64),
        )


def _parse_day(line: int, text: str, iso: bool) -> int:
    try:
        if iso:
            return date.fromisoformat(text).toordinal()
        if len(text) != 8 or not text.isdigit():
            raise ValueError(text)
        return date(int(text[:4]), int(text[4:6]), int(text[6:])).toordinal()
    except ValueError:
        expected = "an ISO date such as 1997-01-31" if iso else "yyyymmdd"
        raise BadTransactionFile(f"line {line}: bad date {text!r} (expected {expected})") from None


def _read_cdnow(text: io.TextIOWrapper, builder: _Builder) -> None:
    for number, line in enumerate(text, start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) == 5:
            customer, _, day, quantity, dollars = fields
        elif len(fields) == 4:
            customer, day, quantity, dollars = fields
        else:
            raise BadTransactionFile(
                f"line {number}: {len(fields)} columns where cdnow has 4 "
                "(customer yyyymmdd quantity dollars) or 5 (with a second id after the first)"
            )
        try:
            float(quantity)
        except ValueError:
            raise BadTransactionFile(
                f"line {number}: quantity {quantity!r} is not a number"
            ) from None
        builder.add(number, customer, day, dollars, iso=False)


def _read_csv(text: io.TextIOWrapper, builder: _Builder) -> None:
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        raise BadTransactionFile("line 1: empty file, expected a CSV header") from None
    except csv.Error as error:
        raise BadTransactionFile(f"line 1: {error}") from error
    names = [name.strip() for name in header]
    missing = [column for column in CSV_COLUMNS if column not in names]
    if missing:
        raise BadTransactionFile(
            f"line 1: the CSV header lacks {', '.join(missing)} (it needs {', '.join(CSV_COLUMNS)})"
        )
    customer_at, day_at, amount_at = (names.index(column) for column in CSV_COLUMNS)
    width = len(names)
    rows = _csv_rows(reader)
    for row in rows:
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != width:
            raise BadTransactionFile(
                f"line {reader.line_num}: {len(row)} fields where the header has {width}"
            )
        builder.add(
            reader.line_num,
            row[customer_at].strip(),
            row[day_at].strip(),
            row[amount_at].strip(),
            iso=True,
        )


def _csv_rows(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            line = getattr(reader, "line_num", 0)
            raise BadTransactionFile(f"line {line}: {error}") from error
        yield row


class _Counting(io.RawIOBase):
    """A binary file that reports how many bytes were read, for a progress bar."""

    def __init__(self, raw: io.BufferedReader, progress: Progress | None) -> None:
        self._raw = raw
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = self._raw.readinto(buffer)
        if self._progress is not None and count:
            self._progress(count)
        return count
