"""Unit and property tests for lot arithmetic: FIFO consumption and proportional reversal."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from points_engine.domain.lots import (
    LotBalance,
    Take,
    cumulative_reversal,
    fifo_order,
    plan_consumption,
    split_proportionally,
)

JAN = date(2025, 1, 31)
DEC = date(2025, 12, 31)
NEXT_DEC = date(2026, 12, 31)


def test_fifo_spends_the_lot_that_expires_first() -> None:
    lots = [LotBalance(1, 10, NEXT_DEC), LotBalance(2, 10, DEC), LotBalance(3, 10, JAN)]
    assert [lot.lot_id for lot in fifo_order(lots)] == [3, 2, 1]


def test_fifo_ties_on_expiry_go_by_lot_id() -> None:
    lots = [LotBalance(9, 1, DEC), LotBalance(4, 1, DEC), LotBalance(7, 1, JAN)]
    assert [lot.lot_id for lot in fifo_order(lots)] == [7, 4, 9]


def test_plan_consumption_takes_across_lots_in_fifo_order() -> None:
    lots = [LotBalance(1, 100, NEXT_DEC), LotBalance(2, 30, DEC), LotBalance(3, 50, JAN)]
    takes, short = plan_consumption(lots, 120)
    assert takes == [Take(3, 50), Take(2, 30), Take(1, 40)]
    assert short == 0


def test_plan_consumption_skips_empty_lots_and_stops_when_covered() -> None:
    lots = [LotBalance(1, 0, JAN), LotBalance(2, 25, DEC), LotBalance(3, 40, NEXT_DEC)]
    takes, short = plan_consumption(lots, 25)
    assert takes == [Take(2, 25)]
    assert short == 0


def test_plan_consumption_reports_what_it_could_not_cover() -> None:
    lots = [LotBalance(1, 10, JAN), LotBalance(2, 5, DEC)]
    takes, short = plan_consumption(lots, 40)
    assert takes == [Take(1, 10), Take(2, 5)]
    assert short == 25
    assert plan_consumption([], 7) == ([], 7)


def test_plan_consumption_of_nothing_takes_nothing() -> None:
    assert plan_consumption([LotBalance(1, 10, JAN)], 0) == ([], 0)
    with pytest.raises(ValueError):
        plan_consumption([LotBalance(1, 10, JAN)], -1)


lot_balances = st.lists(
    st.tuples(st.integers(min_value=0, max_value=1_000), st.integers(min_value=0, max_value=800)),
    max_size=12,
).map(
    lambda rows: [
        LotBalance(index + 1, remaining, JAN + timedelta(days=offset))
        for index, (remaining, offset) in enumerate(rows)
    ]
)


@given(lots=lot_balances, points=st.integers(min_value=0, max_value=15_000))
def test_plan_consumption_covers_exactly_what_it_can(lots: list[LotBalance], points: int) -> None:
    takes, short = plan_consumption(lots, points)
    by_id = {lot.lot_id: lot for lot in lots}
    assert sum(t.points for t in takes) + short == points
    assert short == max(points - sum(lot.remaining for lot in lots), 0)
    assert all(0 < t.points <= by_id[t.lot_id].remaining for t in takes)
    assert len({t.lot_id for t in takes}) == len(takes)
    # FIFO: every lot taken before the last one is emptied, in expiry order.
    order = [lot.lot_id for lot in fifo_order(lots) if lot.remaining > 0]
    assert [t.lot_id for t in takes] == order[: len(takes)]
    for take in takes[:-1]:
        assert take.points == by_id[take.lot_id].remaining


# -- reversal -------------------------------------------------------------------------


def test_full_refund_reverses_everything_earned() -> None:
    assert (
        cumulative_reversal(earned=123, total_fen=12_345, refunded_before_fen=0, refund_fen=12_345)
        == 123
    )


def test_partial_refunds_floor_on_the_cumulative_amount() -> None:
    # 10 points on 3 equal thirds: 3, then 3 (floor(20/3) - 3), then the last 4.
    steps = [cumulative_reversal(10, 300, before, 100) for before in (0, 100, 200)]
    assert steps == [3, 3, 4]
    assert sum(steps) == 10


def test_a_tiny_partial_refund_may_reverse_nothing() -> None:
    assert cumulative_reversal(earned=5, total_fen=10_000, refunded_before_fen=0, refund_fen=1) == 0


@pytest.mark.parametrize(
    ("before", "refund"), [(0, 0), (0, -5), (0, 1_001), (600, 401), (1_000, 1)]
)
def test_a_refund_outside_the_refundable_amount_is_refused(before: int, refund: int) -> None:
    with pytest.raises(ValueError):
        cumulative_reversal(
            earned=10, total_fen=1_000, refunded_before_fen=before, refund_fen=refund
        )


@st.composite
def refund_sequences(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    total = draw(st.integers(min_value=1, max_value=5_000_000))
    earned = draw(st.integers(min_value=0, max_value=100_000))
    cuts = draw(
        st.lists(st.integers(min_value=1, max_value=total - 1), max_size=15, unique=True)
        if total > 1
        else st.just([])
    )
    bounds = [0, *sorted(cuts), total]
    return earned, total, [b - a for a, b in pairwise(bounds)]


@given(refund_sequences())
def test_any_sequence_of_partial_refunds_reverses_exactly_what_was_earned(
    case: tuple[int, int, list[int]],
) -> None:
    earned, total, refunds = case
    reversed_so_far = refunded = 0
    for refund in refunds:
        step = cumulative_reversal(earned, total, refunded, refund)
        assert step >= 0
        reversed_so_far += step
        refunded += refund
        # Never more than the refunded share of what was earned, never a point too few.
        assert reversed_so_far * total <= earned * refunded
        assert (reversed_so_far + 1) * total > earned * refunded
        assert reversed_so_far <= earned
    assert refunded == total
    assert reversed_so_far == earned


@given(refund_sequences(), st.data())
def test_partial_refunds_reverse_the_floor_of_the_refunded_share(
    case: tuple[int, int, list[int]], data: st.DataObject
) -> None:
    earned, total, refunds = case
    assume(len(refunds) > 1)
    stop = data.draw(st.integers(min_value=1, max_value=len(refunds) - 1))
    refunded = sum(refunds[:stop])
    reversed_points = sum(
        cumulative_reversal(earned, total, sum(refunds[:i]), refunds[i]) for i in range(stop)
    )
    assert reversed_points == earned * refunded // total
    assert reversed_points <= earned


# -- proportional split ---------------------------------------------------------------


def test_split_follows_the_weights_with_largest_remainder() -> None:
    assert split_proportionally(10, [1, 1, 1]) == [4, 3, 3]
    assert split_proportionally(7, [100, 40]) == [5, 2]
    assert split_proportionally(0, [5, 5]) == [0, 0]
    assert split_proportionally(9, [0, 3]) == [0, 9]


def test_split_over_no_weight_gives_nothing() -> None:
    assert split_proportionally(10, [0, 0]) == [0, 0]
    assert split_proportionally(10, []) == []


weights = st.lists(st.integers(min_value=0, max_value=100_000), min_size=1, max_size=8)


@given(weights=weights, data=st.data())
def test_split_parts_sum_to_the_total_and_stay_within_their_weights(
    weights: list[int], data: st.DataObject
) -> None:
    assume(sum(weights) > 0)
    total = data.draw(st.integers(min_value=0, max_value=sum(weights)))
    parts = split_proportionally(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert 0 <= part <= weight
        # Within one point of the exact share.
        assert abs(part * sum(weights) - total * weight) < sum(weights)


@given(weights=weights, total=st.integers(min_value=0, max_value=10_000_000))
def test_split_of_any_total_sums_to_it(weights: list[int], total: int) -> None:
    assume(sum(weights) > 0)
    parts = split_proportionally(total, weights)
    assert sum(parts) == total
    assert all(part == 0 for part, weight in zip(parts, weights, strict=True) if weight == 0)
