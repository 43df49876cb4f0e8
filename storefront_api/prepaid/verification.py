"""Prepaid-card ledger invariants checked in SQL (`memberhub ledger verify`, tests)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# Both legs of every entry, signed from the account's side.
LEGS = """
    SELECT id AS entry_id, from_account_id AS account_id, -amount_fen AS delta
    FROM storefront_prepaid_entry
    UNION ALL
    SELECT id, to_account_id, amount_fen FROM storefront_prepaid_entry
"""
# A card account's balance is stored on its card; a system account's is its entries' sum.
BALANCES = f"""
    SELECT c.balance_fen AS balance FROM storefront_prepaid_card c
    UNION ALL
    SELECT SUM(l.delta) FROM ({LEGS}) l
    JOIN storefront_prepaid_account a ON a.id = l.account_id
    WHERE a.kind <> 'card'
"""

# Each check returns the rows breaking one invariant (the first column names the row);
# an empty result passes.
CHECKS: tuple[tuple[str, str], ...] = (
    (
        "every entry is of a known kind and moves a positive amount between two accounts",
        "SELECT entry_no, kind, amount_fen FROM storefront_prepaid_entry "
        "WHERE amount_fen <= 0 OR from_account_id = to_account_id "
        "OR kind NOT IN ('issue', 'top_up', 'charge', 'refund')",
    ),
    (
        "refunds, and only refunds, name the entry they give back",
        "SELECT entry_no, kind, refund_of_id FROM storefront_prepaid_entry "
        "WHERE (kind = 'refund' AND refund_of_id IS NULL) "
        "OR (kind <> 'refund' AND refund_of_id IS NOT NULL)",
    ),
    (
        "every entry has its card's account on exactly one side",
        """
        SELECT e.entry_no, e.kind FROM storefront_prepaid_entry e
        JOIN storefront_prepaid_card c ON c.id = e.card_id
        WHERE (e.kind = 'charge' AND e.from_account_id <> c.account_id)
           OR (e.kind <> 'charge' AND e.to_account_id <> c.account_id)
           OR EXISTS (SELECT 1 FROM storefront_prepaid_account a
                      WHERE a.kind = 'card'
                        AND a.id = CASE WHEN e.kind = 'charge' THEN e.to_account_id
                                        ELSE e.from_account_id END)
        """,
    ),
    (
        "all account balances sum to zero",
        f"SELECT 'all accounts', SUM(balance) FROM ({BALANCES}) b "
        "HAVING COALESCE(SUM(balance), 0) <> 0",
    ),
    (
        "each card's balance equals the sum of its account's entries",
        f"""
        SELECT c.card_no, c.balance_fen, COALESCE(SUM(l.delta), 0)
        FROM storefront_prepaid_card c LEFT JOIN ({LEGS}) l ON l.account_id = c.account_id
        GROUP BY c.id, c.card_no, c.balance_fen
        HAVING c.balance_fen <> COALESCE(SUM(l.delta), 0)
        """,
    ),
    (
        "no card balance is negative",
        "SELECT card_no, balance_fen FROM storefront_prepaid_card WHERE balance_fen < 0",
    ),
    (
        "each entry's balance_after is its card's running balance",
        """
        SELECT card_no, entry_no, balance_after, running FROM (
            SELECT c.card_no, e.entry_no, e.balance_after,
                   SUM(CASE WHEN e.to_account_id = c.account_id
                            THEN e.amount_fen ELSE -e.amount_fen END)
                       OVER (PARTITION BY e.card_id ORDER BY e.id
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
            FROM storefront_prepaid_entry e JOIN storefront_prepaid_card c ON c.id = e.card_id
        ) r WHERE balance_after <> running
        """,
    ),
    (
        "refunds give back at most their charge, on its card, from where it went",
        """
        SELECT ch.entry_no, ch.amount_fen, SUM(r.amount_fen)
        FROM storefront_prepaid_entry r
        JOIN storefront_prepaid_entry ch ON ch.id = r.refund_of_id
        GROUP BY ch.id, ch.entry_no, ch.amount_fen, ch.kind
        HAVING SUM(r.amount_fen) > ch.amount_fen OR ch.kind <> 'charge'
            OR MAX(CASE WHEN r.kind <> 'refund' OR r.card_id <> ch.card_id
                          OR r.from_account_id <> ch.to_account_id THEN 1 ELSE 0 END) = 1
        """,
    ),
)


def find_breaches(session: Session) -> list[str]:
    """Run every invariant check; one line per broken invariant, naming an example row."""
    breaches = []
    for invariant, query in CHECKS:
        row = session.execute(text(query)).first()
        if row is not None:
            breaches.append(f"prepaid cards: {invariant}: violated by {tuple(row)!r}")
    return breaches
