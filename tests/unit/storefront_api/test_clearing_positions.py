"""Net positions between institutions and the transfers that settle them."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.settlement import roll_up
from storefront_api.clearing import (
    PointsFlow,
    Position,
    net_positions,
    transfer_instructions,
)

COMPANY = "SH"
INSTITUTIONS = st.sampled_from([COMPANY, "SH-PD", "SH-PD-0001", "SH-PD-0002", "SH-HP-0001"])
takings = st.dictionaries(INSTITUTIONS, st.integers(-(10**9), 10**9), max_size=5)
flows = st.lists(
    st.builds(PointsFlow, INSTITUTIONS, INSTITUTIONS, st.integers(-(10**6), 10**6)), max_size=30
)


@given(takings, flows, st.integers(1, 100))
def test_positions_sum_to_zero_and_the_transfers_settle_every_one(
    net: dict[str, int], points: list[PointsFlow], fen_per_point: int
) -> None:
    positions = net_positions(net, points, company=COMPANY, fen_per_point=fen_per_point)
    assert sum(p.net_fen for p in positions) == 0
    assert all(p.net_fen == p.money_fen + p.points_cost_fen for p in positions)
    transfers = transfer_instructions(positions)
    left: dict[str, int] = defaultdict(int)
    for p in positions:
        left[p.institution_code] += p.net_fen
    for t in transfers:
        assert t.amount_fen > 0 and t.payer != t.payee
        left[t.payer] += t.amount_fen
        left[t.payee] -= t.amount_fen
    assert set(left.values()) <= {0}
    moving = sum(1 for p in positions if p.net_fen)
    assert len(transfers) <= max(moving - 1, 0)


def test_outlets_remit_their_takings_and_pay_for_points_spent_elsewhere() -> None:
    positions = net_positions(
        {COMPANY: 5_000, "SH-PD-0001": 12_000, "SH-PD-0002": -300},
        [
            PointsFlow("SH-PD-0001", COMPANY, 400),  # earned at an outlet, spent online
            PointsFlow("SH-PD-0002", "SH-PD-0002", 999),  # spent where earned: nothing owed
            PointsFlow("SH-PD-0001", COMPANY, -100),  # a cancelled redemption
        ],
        company=COMPANY,
        fen_per_point=2,
    )
    assert positions == [
        Position(COMPANY, 11_700, 600, 12_300),
        Position("SH-PD-0001", -12_000, -600, -12_600),
        Position("SH-PD-0002", 300, 0, 300),
    ]
    transfers = transfer_instructions(positions)
    assert [(t.payer, t.payee, t.amount_fen) for t in transfers] == [
        ("SH-PD-0001", COMPANY, 12_300),
        ("SH-PD-0001", "SH-PD-0002", 300),
    ]


def test_positions_that_do_not_balance_are_refused() -> None:
    with pytest.raises(ValueError, match="sum to zero"):
        transfer_instructions([Position("A", 1, 0, 1)])


def test_roll_up_finds_the_level_above_or_stays_put() -> None:
    parent_of = {"SH": None, "SH-PD": "SH", "SH-PD-0001": "SH-PD"}
    kind_of = {"SH": "company", "SH-PD": "district", "SH-PD-0001": "outlet"}
    assert roll_up("SH-PD-0001", parent_of, kind_of, "district") == "SH-PD"
    assert roll_up("SH-PD-0001", parent_of, kind_of, "company") == "SH"
    assert roll_up("SH-PD-0001", parent_of, kind_of, "outlet") == "SH-PD-0001"
    # The company's own lines stay the company's at the district level.
    assert roll_up("SH", parent_of, kind_of, "district") == "SH"
