"""Settlement rules that finance's clearing and the warehouse's Clearing page both apply:
the level of the institution tree a code rolls up to, the transfers that settle net
positions, and a channel's control total checked against the sales cleared.

Plain values only, so that `storefront_api.clearing` (operational database) and
`warehouse.clearing` (DuckDB) reach the same answer from their own rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

LEVELS = ("company", "district", "outlet")
# A clearing line: what it is about, then what it sums.
LINE_KEYS = ("institution_code", "channel", "business_type", "original_date")
LINE_AMOUNTS = (
    "sales",
    "gross_fen",
    "refunds",
    "refunds_fen",
    "net_fen",
    "points_issued",
    "points_reversed",
    "points_redeemed",
    "points_expired",
    "points_adjusted",
)


def tree_level(kind: str) -> str:
    """The level of the tree an institution of `kind` sits at: stores and kiosks are at
    the outlets' level."""
    return "outlet" if kind in ("store", "kiosk") else kind


def roll_up(
    code: str, parent_of: Mapping[str, str | None], level_of: Mapping[str, str], level: str
) -> str:
    """The institution at `level` that `code` belongs to (itself included), following the
    tree upwards; `code` itself when it sits above that level or is not in the tree."""
    current: str | None = code
    for _hop in range(16):
        if current is None:
            break
        if level_of.get(current) == level:
            return current
        current = parent_of.get(current)
    return code


@dataclass(frozen=True)
class Position:
    institution_code: str
    money_fen: int  # + receives remittances, - remits its takings
    points_cost_fen: int  # + gave rewards for others' points, - owes for its own
    net_fen: int


@dataclass(frozen=True)
class Transfer:
    payer: str
    payee: str
    amount_fen: int


def transfer_instructions(positions: Iterable[Position]) -> list[Transfer]:
    """Who pays whom so that every position is settled: the largest payer pays the largest
    payee first, which needs at most one transfer fewer than there are non-zero positions.
    Raises ValueError when the positions do not sum to zero."""
    positions = list(positions)
    payers = sorted(
        ((p.institution_code, -p.net_fen) for p in positions if p.net_fen < 0),
        key=lambda item: (-item[1], item[0]),
    )
    payees = sorted(
        ((p.institution_code, p.net_fen) for p in positions if p.net_fen > 0),
        key=lambda item: (-item[1], item[0]),
    )
    if sum(amount for _, amount in payers) != sum(amount for _, amount in payees):
        raise ValueError("positions do not sum to zero")
    transfers: list[Transfer] = []
    owes = [amount for _, amount in payers]
    due = [amount for _, amount in payees]
    i = j = 0
    while i < len(payers) and j < len(payees):
        amount = min(owes[i], due[j])
        transfers.append(Transfer(payers[i][0], payees[j][0], amount))
        owes[i] -= amount
        due[j] -= amount
        if owes[i] == 0:
            i += 1
        if due[j] == 0:
            j += 1
    return transfers


@dataclass(frozen=True)
class ReportedTotal:
    """What a channel said it sold at one institution on one day."""

    sales: int
    amount_fen: int
    transaction_ids: Sequence[str] | None  # None: it sent no ids


@dataclass(frozen=True)
class Mismatch:
    channel: str
    institution_code: str
    reported_sales: int | None  # None: the channel sent no control total
    reported_fen: int | None
    cleared_sales: int
    cleared_fen: int
    missing: tuple[str, ...]  # the channel's ids the platform never received
    extra: tuple[str, ...]  # ids the platform has and the channel did not report


def check_control_totals(
    reported: Mapping[tuple[str, str], ReportedTotal],
    cleared: Mapping[tuple[str, str], Sequence[tuple[str, int]]],
) -> list[Mismatch]:
    """Per (channel, institution): a reported total that disagrees with the sales cleared
    (`(external id, fen)` each), naming missing and extra ids when the channel sent them;
    and the pairs with sales but no reported total (reported fields None)."""
    found: list[Mismatch] = []
    for pair in sorted(set(reported) | set(cleared)):
        sales = cleared.get(pair, ())
        count, amount = len(sales), sum(fen for _, fen in sales)
        total = reported.get(pair)
        if total is None:
            found.append(Mismatch(*pair, None, None, count, amount, (), ()))
            continue
        missing: tuple[str, ...] = ()
        extra: tuple[str, ...] = ()
        if total.transaction_ids is not None:
            theirs = set(total.transaction_ids)
            mine = {external_id for external_id, _ in sales}
            missing, extra = tuple(sorted(theirs - mine)), tuple(sorted(mine - theirs))
        if (total.sales, total.amount_fen) != (count, amount) or missing or extra:
            found.append(
                Mismatch(*pair, total.sales, total.amount_fen, count, amount, missing, extra)
            )
    return found
