"""Per-customer summaries of transactions: purchases by the day, weeks from the first one,
repeat spend, the holdout, and who counts."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from crm.insights import BadPeriod, NoCustomers, Transactions, summarise

START = date(1997, 1, 1)
CAL_END = date(1997, 9, 30)
HOLDOUT_END = date(1998, 6, 30)


def transactions(*rows: tuple[str, date, float]) -> Transactions:
    ids = tuple(dict.fromkeys(row[0] for row in rows))
    return Transactions(
        customer_ids=ids,
        customer=np.array([ids.index(row[0]) for row in rows], dtype=np.int64),
        day=np.array([row[1].toordinal() for row in rows], dtype=np.int64),
        amount=np.array([row[2] for row in rows], dtype=np.float64),
    )


def test_repeat_purchases_are_distinct_days_after_the_first_in_weeks() -> None:
    summary = summarise(
        transactions(
            ("00004", date(1997, 1, 1), 29.33),
            ("00004", date(1997, 1, 18), 29.73),
            ("00004", date(1997, 8, 2), 14.96),
            ("00004", date(1997, 12, 12), 26.48),
        ),
        CAL_END,
        HOLDOUT_END,
    )
    h = summary.histories
    assert summary.customer_ids == ("00004",)
    assert h.x.tolist() == [2.0]
    assert h.t_x[0] == pytest.approx(213 / 7)  # 30.43 weeks, as in the CDNOW papers
    assert h.T[0] == pytest.approx(272 / 7)  # 38.86 weeks
    assert summary.mean_spend[0] == pytest.approx((29.73 + 14.96) / 2)
    assert summary.holdout_purchases is not None
    assert summary.holdout_purchases.tolist() == [1.0]
    assert summary.holdout_weeks == pytest.approx(39.0)


def test_transactions_of_one_day_are_one_purchase_spending_their_sum() -> None:
    summary = summarise(
        transactions(
            ("a", date(1997, 3, 1), 10.0),
            ("a", date(1997, 3, 1), 5.0),
            ("a", date(1997, 5, 1), 20.0),
            ("a", date(1997, 5, 1), 4.0),
            ("a", date(1997, 5, 1), 1.0),
        ),
        CAL_END,
    )
    assert summary.histories.x.tolist() == [1.0]
    assert summary.mean_spend.tolist() == [25.0]
    assert summary.holdout_purchases is None


def test_order_of_the_lines_does_not_matter() -> None:
    rows = [
        ("b", date(1997, 2, 1), 3.0),
        ("a", date(1997, 6, 1), 8.0),
        ("a", date(1997, 1, 5), 1.0),
        ("b", date(1997, 1, 9), 2.0),
        ("a", date(1997, 10, 9), 2.0),
    ]
    forwards = summarise(transactions(*rows), CAL_END, HOLDOUT_END)
    backwards = summarise(transactions(*reversed(rows)), CAL_END, HOLDOUT_END)
    order = [backwards.customer_ids.index(c) for c in forwards.customer_ids]
    for column in ("x", "t_x", "T"):
        assert getattr(forwards.histories, column).tolist() == [
            getattr(backwards.histories, column)[i] for i in order
        ]


def test_only_customers_who_bought_by_the_calibration_end_are_summarised() -> None:
    summary = summarise(
        transactions(
            ("early", date(1997, 9, 30), 5.0),
            ("late", date(1997, 10, 1), 5.0),
            ("late", date(1997, 11, 1), 5.0),
        ),
        CAL_END,
        HOLDOUT_END,
    )
    assert summary.customer_ids == ("early",)
    assert summary.histories.T.tolist() == [0.0]
    assert summary.holdout_purchases is not None
    assert summary.holdout_purchases.sum() == 0


def test_purchases_after_the_holdout_are_ignored() -> None:
    rows = [("a", START, 1.0)] + [
        ("a", HOLDOUT_END + timedelta(days=d), 1.0) for d in (-1, 0, 1, 30)
    ]
    summary = summarise(transactions(*rows), CAL_END, HOLDOUT_END)
    assert summary.holdout_purchases is not None
    assert summary.holdout_purchases.tolist() == [2.0]


def test_a_customer_without_repeats_has_no_mean_spend() -> None:
    summary = summarise(transactions(("a", START, 12.0)), CAL_END)
    assert np.isnan(summary.mean_spend[0])
    assert summary.histories.t_x.tolist() == [0.0]


@pytest.mark.parametrize("holdout_end", [CAL_END, CAL_END - timedelta(days=1)])
def test_a_holdout_must_end_after_the_calibration(holdout_end: date) -> None:
    with pytest.raises(BadPeriod, match="not after the calibration end"):
        summarise(transactions(("a", START, 1.0)), CAL_END, holdout_end)


def test_nobody_buying_by_the_calibration_end_leaves_nothing_to_fit() -> None:
    with pytest.raises(NoCustomers):
        summarise(transactions(("a", date(1998, 1, 1), 1.0)), CAL_END)
    with pytest.raises(NoCustomers):
        summarise(transactions(), CAL_END)
