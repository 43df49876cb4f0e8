"""Ledger invariants checked in SQL over the whole book (`memberhub ledger verify`, tests)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

# Each check is a query that returns the rows breaking one invariant; the first
# column identifies the row, the rest say what is wrong. An empty result passes.
LEGS = """
    SELECT id AS posting_id, from_account_id AS account_id, -points AS delta,
           from_balance_after AS balance_after FROM points_engine_posting
    UNION ALL
    SELECT id, to_account_id, points, to_balance_after FROM points_engine_posting
"""

CHECKS: tuple[tuple[str, str], ...] = (
    (
        "every posting moves a positive number of points between two different accounts",
        "SELECT id, points FROM points_engine_posting "
        "WHERE points <= 0 OR from_account_id = to_account_id",
    ),
    (
        "the sum over all accounts is zero",
        f"SELECT 'all accounts', SUM(delta) FROM ({LEGS}) legs HAVING SUM(delta) <> 0",
    ),
    (
        "each tracked account's stored balance equals the sum of its postings",
        f"""
        SELECT a.code, a.balance, COALESCE(SUM(l.delta), 0)
        FROM points_engine_account a LEFT JOIN ({LEGS}) l ON l.account_id = a.id
        WHERE a.kind IN ('member', 'member_pending', 'campaign_budget')
        GROUP BY a.id, a.code, a.balance
        HAVING a.balance <> COALESCE(SUM(l.delta), 0)
        """,
    ),
    (
        "every posting's balance_after equals the running balance of its account",
        f"""
        SELECT account_id, posting_id, balance_after, running FROM (
            SELECT l.account_id, l.posting_id, l.balance_after,
                   SUM(l.delta) OVER (PARTITION BY l.account_id ORDER BY l.posting_id
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
            FROM ({LEGS}) l JOIN points_engine_account a ON a.id = l.account_id
            WHERE a.kind IN ('member', 'member_pending', 'campaign_budget')
        ) r WHERE balance_after IS NULL OR balance_after <> running
        """,
    ),
    (
        "a member's available lots equal the positive part of the balance",
        """
        SELECT a.code, a.balance, COALESCE(SUM(lot.remaining), 0)
        FROM points_engine_account a
        LEFT JOIN points_engine_lot lot ON lot.account_id = a.id AND lot.status = 'available'
        WHERE a.kind = 'member'
        GROUP BY a.id, a.code, a.balance
        HAVING COALESCE(SUM(lot.remaining), 0) <> CASE WHEN a.balance > 0 THEN a.balance ELSE 0 END
        """,
    ),
    (
        "a member's pending lots equal the pending balance",
        """
        SELECT a.code, a.balance, COALESCE(SUM(lot.remaining), 0)
        FROM points_engine_account a
        LEFT JOIN points_engine_lot lot ON lot.account_id = a.id AND lot.status = 'pending'
        WHERE a.kind = 'member_pending'
        GROUP BY a.id, a.code, a.balance
        HAVING a.balance < 0 OR COALESCE(SUM(lot.remaining), 0) <> a.balance
        """,
    ),
    (
        "lots sit in an account of their kind and keep 0 <= remaining <= initial",
        """
        SELECT lot.id, lot.status, a.kind, lot.remaining, lot.initial
        FROM points_engine_lot lot JOIN points_engine_account a ON a.id = lot.account_id
        WHERE lot.remaining < 0 OR lot.remaining > lot.initial
           OR lot.expired < 0 OR lot.expired > lot.initial
           OR (lot.status = 'pending' AND a.kind <> 'member_pending')
           OR (lot.status IN ('available', 'expired') AND a.kind <> 'member')
           OR (lot.status IN ('expired', 'reversed') AND lot.remaining <> 0)
        """,
    ),
    (
        "merged accounts are empty and hold no lots",
        """
        SELECT a.code, a.balance FROM points_engine_account a
        WHERE a.status = 'merged' AND (a.balance <> 0 OR EXISTS (
            SELECT 1 FROM points_engine_lot lot WHERE lot.account_id = a.id))
        """,
    ),
    (
        "campaign budgets never go below zero",
        "SELECT code, balance FROM points_engine_account "
        "WHERE kind = 'campaign_budget' AND balance < 0",
    ),
    (
        "a completed redemption's points equal the lots it consumed",
        """
        SELECT r.redemption_no, r.points_spent, COALESCE(SUM(c.points), 0)
        FROM points_engine_redemption r
        LEFT JOIN points_engine_lot_consumption c ON c.redemption_id = r.id
        GROUP BY r.id, r.redemption_no, r.points_spent
        HAVING r.points_spent <> COALESCE(SUM(c.points), 0)
        """,
    ),
    (
        "refunds never exceed the purchase, reversals never exceed what was earned",
        """
        SELECT accrual_no, total_fen, refunded_fen, points, points_reversed
        FROM points_engine_accrual
        WHERE refunded_fen < 0 OR refunded_fen > total_fen
           OR points_reversed < 0 OR points_reversed > points
        """,
    ),
)


@dataclass(frozen=True)
class Breach:
    invariant: str
    example: tuple[object, ...]

    def __str__(self) -> str:
        return f"{self.invariant}: violated by {self.example!r}"


def find_breaches(session: Session, first_only: bool = False) -> list[Breach]:
    """Run every invariant check; returns one example row per broken invariant."""
    breaches: list[Breach] = []
    for invariant, query in CHECKS:
        row = session.execute(text(query)).first()
        if row is not None:
            breaches.append(Breach(invariant, tuple(row)))
            if first_only:
                break
    return breaches
