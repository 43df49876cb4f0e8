"""A member's one timeline across channels: orders, points, bills, mail, subscriptions, cards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

import points_engine
from common.clock import as_utc
from storefront_api import bills, mail, orders, prepaid, subscriptions
from storefront_api.activity import ActivityEntry

# Newest postings read per request: a timeline page never needs more than a page of them,
# but entries of other kinds interleave, so read generously and cut after merging.
POSTINGS_READ = 1_000

POSTING_TITLES = {
    "accrual": "积分入账 points earned",
    "reversal": "积分冲回 points reversed",
    "redemption": "积分兑换 points redeemed",
    "redemption_cancel": "兑换取消 redemption cancelled",
    "expiry": "积分过期 points expired",
    "release": "待入账转可用 pending points available",
    "merge": "会员合并 accounts merged",
    "adjustment": "人工调整 manual adjustment",
}


def _points(session: Session, member_id: int) -> list[ActivityEntry]:
    entries = []
    for posting in points_engine.queries.ledger_history(session, member_id, None, POSTINGS_READ):
        kind = "redemption" if posting["type"] in ("redemption", "redemption_cancel") else "points"
        entries.append(
            ActivityEntry(
                occurred_at=datetime.fromisoformat(posting["occurred_at"]),
                kind=kind,
                reference=str(posting["reference"]),
                title=POSTING_TITLES.get(posting["type"], posting["type"]),
                status=posting["account"],
                points=int(posting["points"]),
            )
        )
    return entries


def member_timeline(
    session: Session, member_ids: Sequence[int], after: tuple[datetime, int] | None, limit: int
) -> tuple[list[ActivityEntry], tuple[datetime, int] | None]:
    """Everything that happened to the member (and members merged into it), newest first.

    `member_ids[0]` is the member itself (its points accounts hold the merged ones'
    points). Pages are cut by (time, how many entries of that exact time were already
    shown), so entries sharing a timestamp are neither repeated nor skipped.
    """
    entries = _points(session, member_ids[0])
    entries += orders.member_activity(session, member_ids)
    for member_id in member_ids:
        for source in (bills, mail, subscriptions, prepaid):
            entries += source.member_activity(session, member_id)
    entries.sort(key=lambda e: (as_utc(e.occurred_at), e.kind, e.reference, e.title), reverse=True)
    if after is not None:
        moment, shown = after
        same = [e for e in entries if as_utc(e.occurred_at) == moment]
        older = [e for e in entries if as_utc(e.occurred_at) < moment]
        entries = same[shown:] + older
    page, more = entries[:limit], len(entries) > limit
    if not more or not page:
        return page, None
    last = as_utc(page[-1].occurred_at)
    shown_at_last = sum(1 for e in page if as_utc(e.occurred_at) == last)
    if after is not None and after[0] == last:
        shown_at_last += after[1]
    return page, (last, shown_at_last)
