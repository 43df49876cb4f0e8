"""Points-and-cash split and proportional allocation: no fen or point lost or created."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import Invalid
from storefront_api.orders.domain import OrderPolicy, allocate


def test_default_rate_is_one_fen_per_point_and_half_the_order_at_most():
    policy = OrderPolicy()
    split = policy.split_points_cash(25_800, 10_000, "payment.points")
    assert (split.points_used, split.offset_fen, split.cash_fen) == (10_000, 10_000, 15_800)
    assert policy.split_points_cash(25_800, 12_900, "p").cash_fen == 12_900
    with pytest.raises(Invalid) as raised:
        policy.split_points_cash(25_800, 12_901, "payment.points")
    assert raised.value.errors[0].field == "payment.points"


def test_points_that_do_not_buy_whole_fen_are_refused():
    policy = OrderPolicy(points_per_yuan=300)  # 3 points per fen
    assert policy.split_points_cash(10_000, 300, "p").offset_fen == 100
    with pytest.raises(Invalid, match="multiple of 3"):
        policy.split_points_cash(10_000, 301, "p")


def test_zero_points_are_refused():
    with pytest.raises(Invalid):
        OrderPolicy().split_points_cash(100, 0, "p")


@given(
    total=st.integers(1, 10**9),
    points=st.integers(1, 10**9),
    rate=st.sampled_from([1, 4, 20, 50, 100, 200, 250, 1000]),
    share=st.integers(0, 10_000),
)
def test_split_never_loses_or_creates_money(total, points, rate, share):
    policy = OrderPolicy(points_per_yuan=rate, max_points_share_bp=share)
    try:
        split = policy.split_points_cash(total, points, "p")
    except Invalid:
        return
    assert split.offset_fen + split.cash_fen == total
    assert split.offset_fen * rate == split.points_used * 100
    assert split.offset_fen <= total * share // 10_000
    assert split.cash_fen >= 0


@given(
    total=st.integers(0, 10**9),
    weights=st.lists(st.integers(0, 10**7), min_size=1, max_size=20).filter(lambda w: sum(w) > 0),
)
def test_allocate_shares_exactly_and_in_proportion(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == total
    whole = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = total * weight / whole
        assert abs(part - exact) < 1 + 1e-9
        if weight == 0:
            assert part == 0


def test_allocate_ties_go_to_the_earliest_lines():
    assert allocate(1, [1, 1]) == [1, 0]
    assert allocate(10, [1, 1, 1]) == [4, 3, 3]
    assert allocate(5, [0, 0]) == [0, 0]
