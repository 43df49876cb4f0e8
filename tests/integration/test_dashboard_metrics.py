"""Every headline number on every dashboard page equals the same number computed directly
from the operational database (SQLAlchemy on the `db` fixture), for several filters.

The scenario is written through the API, the warehouse is built by `sync_warehouse`, and
each `warehouse.queries` block is compared with its definition applied to the operational
tables: the institution tree is walked through `parent_code`, a purchase's campaign is read
from its breakdown, base and bonus points from its sources, the holdout split from
`points_engine.in_holdout`; nothing is taken from the warehouse.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import points_engine
from common.clock import as_utc, business_date, start_of_day
from common.db import read_session
from common.organisation import Channel, Institution
from crm.adapters.orm import Member
from memberhub.runtime import Runtime
from points_engine.adapters import orm as ledger
from storefront_api.bills.orm import Biller, BillPayment
from storefront_api.mail.orm import Mailing
from storefront_api.orders.orm import Order
from storefront_api.subscriptions.orm import Subscription
from tests.integration import dashboard_scenario
from tests.integration.dashboard_scenario import BONUS_CAMPAIGN, CAMPAIGN, Scenario
from warehouse import WarehouseReader, queries, sync_warehouse
from warehouse.queries import Filters


@pytest.fixture
def synced(
    db: Runtime, client: Any, channel_key: Any, staff_token: Any, auth: Any, tmp_path: Any
) -> Iterator[tuple[Scenario, WarehouseReader]]:
    scenario = dashboard_scenario.build(client, db, channel_key, staff_token, auth)
    path = tmp_path / "warehouse.duckdb"
    sync_warehouse(db.engine, path)
    reader = WarehouseReader(path)
    yield scenario, reader
    reader.close()


# -- the operational side --------------------------------------------------------------------


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


@dataclass
class Purchase:
    id: int
    accrual_no: str
    member_id: int
    channel: str
    institution_code: str
    business_type: str
    day: date
    net_fen: int
    points: int
    campaigns: frozenset[str]
    base_points: int
    bonus: dict[str, int]


class Operational:
    """The dashboards' definitions evaluated on the operational tables."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.parent = dict(session.execute(select(Institution.code, Institution.parent_code)).all())
        self.online = dict(session.execute(select(Channel.code, Channel.online)).all())
        campaigns = session.scalars(select(ledger.Campaign)).all()
        self.campaigns = {c.code: c for c in campaigns}
        campaign_codes = {c.id: c.code for c in campaigns}
        self.purchases = []
        for row in session.scalars(select(ledger.Accrual)).all():
            bonus: dict[str, int] = defaultdict(int)
            base = 0
            for source in row.sources:
                if "campaign_id" in source:
                    bonus[campaign_codes[int(source["campaign_id"])]] += int(source["points"])
                else:
                    base += int(source["points"])
            earned = {
                str(item["rule"]).split(":", 1)[1]
                for item in row.breakdown
                if str(item.get("rule", "")).startswith("campaign:") and int(item["points"]) > 0
            }
            self.purchases.append(
                Purchase(
                    row.id,
                    row.accrual_no,
                    row.member_id,
                    row.channel,
                    row.institution_code,
                    row.business_type,
                    business_date(row.occurred_at),
                    row.total_fen - row.refunded_fen,
                    row.points,
                    frozenset(earned),
                    base,
                    dict(bonus),
                )
            )
        self.by_id = {p.id: p for p in self.purchases}
        self.members = session.scalars(select(Member)).all()

    # -- scopes ------------------------------------------------------------------------------

    def subtree(self, code: str) -> set[str]:
        inside = {code}
        changed = True
        while changed:
            changed = False
            for child, parent in self.parent.items():
                if parent in inside and child not in inside:
                    inside.add(child)
                    changed = True
        return inside

    def child_of(self, code: str, node: str | None) -> str | None:
        """The child of `node` (the company when None) on the path up from `code`."""
        top = node or next(c for c, p in self.parent.items() if p is None)
        path = [code]
        while path[-1] != top:
            up = self.parent.get(path[-1])
            if up is None:
                return None
            path.append(up)
        return code if len(path) == 1 else path[-2]

    def in_scope(
        self, p: Purchase, f: Filters, *, channel: bool = True, dates: bool = True
    ) -> bool:
        if dates and not f.start <= p.day <= f.end:
            return False
        if f.inst and p.institution_code not in self.subtree(f.inst):
            return False
        if channel and f.channel and p.channel != f.channel:
            return False
        return not (f.campaign and f.campaign not in p.campaigns)

    def scoped(self, f: Filters, **options: bool) -> list[Purchase]:
        return [p for p in self.purchases if self.in_scope(p, f, **options)]

    def member_scope(self, f: Filters) -> list[Member]:
        chosen = []
        for m in self.members:
            if m.status == "merged":
                continue
            if f.inst and m.registered_institution not in self.subtree(f.inst):
                continue
            if f.channel and m.registered_channel != f.channel:
                continue
            chosen.append(m)
        return chosen

    def lots(self, f: Filters) -> list[ledger.Lot]:
        chosen = []
        for lot in self.session.scalars(select(ledger.Lot)).all():
            purchase = self.by_id.get(lot.accrual_id) if lot.accrual_id else None
            if f.inst and lot.institution_code not in self.subtree(f.inst):
                continue
            if f.channel and (purchase is None or purchase.channel != f.channel):
                continue
            if f.campaign and (purchase is None or f.campaign not in purchase.campaigns):
                continue
            chosen.append(lot)
        return chosen

    # -- blocks --------------------------------------------------------------------------------

    def headline(self, f: Filters) -> dict[str, int]:
        end = start_of_day(f.end + timedelta(days=1))
        begin = start_of_day(f.start)
        members = self.member_scope(f)
        ids = {m.id for m in members}
        stock = self.session.execute(
            select(
                func.count().filter(Member.created_at < end),
                func.count().filter(Member.created_at >= begin, Member.created_at < end),
            ).where(Member.id.in_(ids) if ids else Member.id.is_(None))
        ).one()
        purchases = self.scoped(f)
        per_member = Counter(p.member_id for p in purchases)
        redeemed = select(func.coalesce(func.sum(ledger.Redemption.points_spent), 0)).where(
            ledger.Redemption.status == "completed",
            ledger.Redemption.created_at >= begin,
            ledger.Redemption.created_at < end,
        )
        if f.channel:
            redeemed = redeemed.where(ledger.Redemption.channel == f.channel)
        if f.inst:
            homes = select(Member.id).where(Member.registered_institution.in_(self.subtree(f.inst)))
            redeemed = redeemed.where(ledger.Redemption.member_id.in_(homes))
        return {
            "members": stock[0],
            "new_members": stock[1],
            "active_members": len(per_member),
            "repeat_buyers": sum(1 for n in per_member.values() if n >= 2),
            "purchases": len(purchases),
            "gmv_fen": sum(p.net_fen for p in purchases),
            "points_issued": sum(p.points for p in purchases),
            "points_redeemed": int(self.session.scalar(redeemed) or 0),
            "points_expired": sum(
                lot.expired for lot in self.lots(f) if f.start <= lot.expires_on <= f.end
            ),
        }

    def by(self, f: Filters, key: str) -> dict[str, tuple[int, int, int, int]]:
        """(purchases, members, gmv, points) per channel / business type."""
        groups: dict[str, list[Purchase]] = defaultdict(list)
        for p in self.scoped(f):
            groups[getattr(p, key)].append(p)
        return {
            k: (
                len(v),
                len({p.member_id for p in v}),
                sum(p.net_fen for p in v),
                sum(p.points for p in v),
            )
            for k, v in groups.items()
        }

    def by_institution(self, f: Filters) -> dict[str, tuple[int, int, int]]:
        groups: dict[str, list[Purchase]] = defaultdict(list)
        for p in self.scoped(f):
            child = self.child_of(p.institution_code, f.inst)
            if child is not None:
                groups[child].append(p)
        return {
            k: (len(v), sum(p.net_fen for p in v), sum(p.points for p in v))
            for k, v in groups.items()
        }

    def pickups(self, f: Filters) -> list[Order]:
        orders = self.session.scalars(
            select(Order).where(
                Order.fulfilment == "pickup",
                Order.created_at >= start_of_day(f.start),
                Order.created_at < start_of_day(f.end + timedelta(days=1)),
            )
        ).all()
        return [
            o
            for o in orders
            if (not f.inst or o.outlet_code in self.subtree(f.inst))
            and (not f.channel or o.channel == f.channel)
        ]

    def pickup_summary(self, f: Filters) -> dict[str, Any]:
        orders = self.pickups(f)
        picked = [o for o in orders if o.fulfilled_at is not None]
        expired = sum(1 for o in orders if o.status == "expired")
        hours = [
            (_utc(o.fulfilled_at) - _utc(o.created_at)).total_seconds() / 3600  # type: ignore[operator]
            for o in picked
        ]
        return {
            "pickup_orders": len(orders),
            "online_pickup_orders": sum(1 for o in orders if self.online[o.channel]),
            "picked_up": len(picked),
            "online_picked_up": sum(1 for o in picked if self.online[o.channel]),
            "expired": expired,
            "awaiting": sum(1 for o in orders if o.status == "ready_for_pickup"),
            "pickup_rate": len(picked) / (len(picked) + expired) if picked or expired else None,
            "median_hours": statistics.median(hours) if hours else None,
        }

    def services(self, f: Filters) -> dict[tuple[str, str], tuple[int, int]]:
        begin, end = start_of_day(f.start), start_of_day(f.end + timedelta(days=1))
        found: dict[tuple[str, str], list[int]] = defaultdict(list)
        inside = self.subtree(f.inst) if f.inst else None
        kinds = dict(self.session.execute(select(Biller.code, Biller.kind)).all())
        for m in self.session.scalars(
            select(Mailing).where(Mailing.accepted_at >= begin, Mailing.accepted_at < end)
        ):
            if (inside is None or m.institution_code in inside) and f.channel in (None, m.channel):
                found[("mailing", m.service)].append(m.fee_fen)
        for b in self.session.scalars(
            select(BillPayment).where(
                BillPayment.status == "paid",
                BillPayment.created_at >= begin,
                BillPayment.created_at < end,
            )
        ):
            if (inside is None or b.institution_code in inside) and f.channel in (None, b.channel):
                found[("bill_payment", kinds[b.biller_code])].append(b.amount_fen)
        for s in self.session.scalars(
            select(Subscription).where(
                Subscription.created_at >= begin, Subscription.created_at < end
            )
        ):
            if (inside is None or s.institution_code in inside) and f.channel in (None, s.channel):
                found[("subscription", s.term)].append(s.total_fen - s.refund_fen)
        return {k: (len(v), sum(v)) for k, v in found.items()}

    def campaign(self, code: str, f: Filters) -> dict[str, Any]:
        c = self.campaigns[code]
        account = self.session.scalar(
            select(ledger.Account.id).where(ledger.Account.code == f"campaign:{code}")
        )
        postings = self.session.execute(
            select(ledger.Posting.type, ledger.Posting.points, ledger.Account.member_id)
            .join(ledger.Account, ledger.Account.id == ledger.Posting.to_account_id)
            .where(ledger.Posting.from_account_id == account, ledger.Posting.type == "accrual")
        ).all()
        returned = self.session.scalar(
            select(func.coalesce(func.sum(ledger.Posting.points), 0)).where(
                ledger.Posting.to_account_id == account, ledger.Posting.type == "reversal"
            )
        )
        targets = set(c.target.get("business_types") or [])
        days = (c.ends_on - c.starts_on).days + 1
        baseline_start = c.starts_on - timedelta(days=days)

        # The campaign filter picks the campaign here; it does not narrow its purchases.
        around = Filters(baseline_start, c.ends_on, f.inst, f.channel)

        def targeted(p: Purchase) -> bool:
            return (not targets or p.business_type in targets) and self.in_scope(p, around)

        relevant = [p for p in self.purchases if targeted(p)]
        window = [p for p in relevant if p.day >= c.starts_on]
        per_member: dict[int, int] = defaultdict(int)
        for p in window:
            per_member[p.member_id] += p.net_fen
        treated, holdout = [], []
        for m in self.members:
            if business_date(m.created_at) > c.ends_on:
                continue
            group = holdout if points_engine.in_holdout(code, m.id, c.holdout_pct) else treated
            group.append(per_member.get(m.id, 0))
        awarded = sum(points for _, points, _ in postings)
        return {
            "points_awarded": awarded,
            "points_returned": int(returned or 0),
            "points_cost": awarded - int(returned or 0),
            "participants": len({member for _, _, member in postings}),
            "gmv_window_fen": sum(p.net_fen for p in window),
            "gmv_baseline_fen": sum(p.net_fen for p in relevant if p.day < c.starts_on),
            "treated_members": len(treated),
            "treated_gmv_fen": sum(treated),
            "holdout_members": len(holdout),
            "holdout_gmv_fen": sum(holdout),
            "lift_fen": (
                statistics.mean(treated) - statistics.mean(holdout)
                if len(treated) > 1 and len(holdout) > 1
                else None
            ),
            "se": (
                math.sqrt(
                    statistics.variance(treated) / len(treated)
                    + statistics.variance(holdout) / len(holdout)
                )
                if len(treated) > 1 and len(holdout) > 1
                else None
            ),
        }

    def new_members(self, f: Filters) -> dict[tuple[date, str | None], int]:
        found: Counter[tuple[date, str | None]] = Counter()
        for m in self.member_scope(f):
            day = business_date(m.created_at)
            if f.start <= day <= f.end:
                found[(day, m.registered_channel)] += 1
        return dict(found)

    def tiers(self, f: Filters) -> dict[str, int]:
        return dict(
            Counter(m.tier for m in self.member_scope(f) if business_date(m.created_at) <= f.end)
        )

    def cohorts(self, f: Filters) -> dict[tuple[date, int], tuple[int, int]]:
        def month(day: date) -> int:
            return day.year * 12 + day.month - 1

        last = month(f.end)
        cohort = {
            m.id: month(business_date(m.created_at))
            for m in self.member_scope(f)
            if last - 11 <= month(business_date(m.created_at)) <= last
        }
        sizes = Counter(cohort.values())
        active: set[tuple[int, int]] = set()
        for p in self.purchases:
            if p.member_id in cohort and p.day <= f.end and month(p.day) >= cohort[p.member_id]:
                active.add((p.member_id, month(p.day)))
        cells: Counter[tuple[int, int]] = Counter(
            (cohort[member], at - cohort[member]) for member, at in active
        )
        result = {}
        for start, size in sizes.items():
            for k in range(0, last - start + 1):
                first = date(start // 12, start % 12 + 1, 1)
                result[(first, k)] = (size, cells.get((start, k), 0))
        return result

    def frequency(self, f: Filters) -> dict[int, int]:
        return dict(Counter(Counter(p.member_id for p in self.scoped(f)).values()))

    def mix(self, f: Filters) -> dict[str, int]:
        where: dict[int, set[bool]] = defaultdict(set)
        for p in self.scoped(f, channel=False):
            where[p.member_id].add(bool(self.online[p.channel]))
        mixes = Counter(
            "both" if len(s) == 2 else ("online_only" if True in s else "offline_only")
            for s in where.values()
        )
        return {k: mixes.get(k, 0) for k in ("online_only", "offline_only", "both")}

    def top(self, f: Filters, n: int) -> list[tuple[str, int, str, str]]:
        gmv: dict[int, int] = defaultdict(int)
        for p in self.scoped(f):
            gmv[p.member_id] += p.net_fen
        best = sorted(gmv.items(), key=lambda item: (-item[1], item[0]))[:n]
        members = {m.id: m for m in self.members}
        return [
            (members[i].member_no, value, members[i].phone, members[i].name) for i, value in best
        ]

    def liability(self, f: Filters, as_of: date) -> dict[str, int]:
        held = [
            lot
            for lot in self.lots(f)
            if lot.status in ("available", "pending") and lot.expires_on >= as_of
        ]
        return {
            "outstanding": sum(lot.remaining for lot in held),
            "available": sum(lot.remaining for lot in held if lot.status == "available"),
            "pending": sum(lot.remaining for lot in held if lot.status == "pending"),
            "expiring_30": sum(
                lot.remaining for lot in held if lot.expires_on < as_of + timedelta(days=30)
            ),
            "expiring_90": sum(
                lot.remaining for lot in held if lot.expires_on < as_of + timedelta(days=90)
            ),
        }

    def liability_by_institution(self, f: Filters, as_of: date) -> dict[str, int]:
        found: dict[str, int] = defaultdict(int)
        for lot in self.lots(f):
            if lot.status in ("available", "pending") and lot.expires_on >= as_of:
                child = self.child_of(lot.institution_code, f.inst)
                if child is not None:
                    found[child] += lot.remaining
        return dict(found)

    def issuance_by_source(self, f: Filters) -> dict[str, int]:
        purchases = self.scoped(f)
        return {
            "issuance": sum(p.base_points for p in purchases),
            "campaign": sum(sum(p.bonus.values()) for p in purchases),
        }

    def issuance_by_campaign(self, f: Filters) -> dict[str, tuple[int, int]]:
        points: dict[str, int] = defaultdict(int)
        members: dict[str, set[int]] = defaultdict(set)
        for p in self.scoped(f):
            for code, earned in p.bonus.items():
                points[code] += earned
                members[code].add(p.member_id)
        return {code: (points[code], len(members[code])) for code in points}

    def redemptions(self, f: Filters) -> dict[str, tuple[int, int, int, int]]:
        query = select(ledger.Redemption).where(
            ledger.Redemption.status == "completed",
            ledger.Redemption.created_at >= start_of_day(f.start),
            ledger.Redemption.created_at < start_of_day(f.end + timedelta(days=1)),
        )
        homes = {m.id: m.registered_institution for m in self.members}
        found: dict[str, list[ledger.Redemption]] = defaultdict(list)
        for r in self.session.scalars(query):
            if f.channel and r.channel != f.channel:
                continue
            if f.inst and homes[r.member_id] not in self.subtree(f.inst):
                continue
            found[r.reward_code].append(r)
        return {
            code: (
                len(rows),
                sum(r.quantity for r in rows),
                sum(r.points_spent for r in rows),
                sum(r.cash_fen for r in rows),
            )
            for code, rows in found.items()
        }


# -- the comparison ---------------------------------------------------------------------------


class Mismatches:
    def __init__(self) -> None:
        self.found: list[str] = []
        self.checked = 0

    def same(self, what: str, dashboard: object, expected: object) -> None:
        self.checked += 1
        if dashboard != expected:
            self.found.append(f"{what}:\n    dashboard {dashboard!r}\n    database  {expected!r}")

    def close(self, what: str, dashboard: float | None, expected: float | None) -> None:
        self.checked += 1
        if (
            dashboard is None
            or expected is None
            or (isinstance(dashboard, float) and math.isnan(dashboard))
        ):
            missing = dashboard is None or (isinstance(dashboard, float) and math.isnan(dashboard))
            if missing != (expected is None):
                self.found.append(f"{what}: dashboard {dashboard!r}, database {expected!r}")
            return
        if not math.isclose(dashboard, expected, rel_tol=1e-9, abs_tol=1e-6):
            self.found.append(f"{what}: dashboard {dashboard!r}, database {expected!r}")


def _rows(
    frame: pd.DataFrame, key: str | list[str], columns: list[str]
) -> dict[Any, tuple[Any, ...]]:
    keys = [key] if isinstance(key, str) else key
    result = {}
    for _, row in frame.iterrows():
        k = tuple(row[c] for c in keys)
        result[k[0] if len(k) == 1 else k] = tuple(int(row[c]) for c in columns)
    return result


def _nonzero(mapping: dict[Any, tuple[int, ...]]) -> dict[Any, tuple[int, ...]]:
    return {k: v for k, v in mapping.items() if any(v)}


def _filter_sets(scenario: Scenario) -> list[Filters]:
    today = scenario.today
    everything = Filters(today - timedelta(days=820), today + timedelta(days=12))
    recent = Filters(today - timedelta(days=59), today)
    return [
        everything,
        recent,
        Filters(everything.start, everything.end, inst="SH-HP", channel="counter"),
        Filters(recent.start, recent.end, inst=scenario.outlets["pd"]),
        Filters(everything.start, everything.end, campaign=CAMPAIGN),
        Filters(everything.start, everything.end, channel="web"),
        Filters(today - timedelta(days=75), today - timedelta(days=46), inst="SH"),
        Filters(today - timedelta(days=200), today - timedelta(days=100), inst="SH-PD"),
    ]


def test_every_headline_number_matches_the_operational_database(
    synced: tuple[Scenario, WarehouseReader], db: Runtime
) -> None:
    scenario, reader = synced
    check = Mismatches()
    with read_session(db.session_factory) as session:
        source = Operational(session)
        assert len(source.purchases) > 60, "the scenario should have plenty of purchases"
        everything = _filter_sets(scenario)[0]
        covered = source.headline(everything)
        assert covered["points_expired"] > 0 and covered["points_redeemed"] > 0
        assert source.campaign(CAMPAIGN, everything)["points_returned"] > 0
        assert source.pickup_summary(everything)["expired"] > 0
        assert any(m.status == "merged" for m in source.members)
        for f in _filter_sets(scenario):
            _compare_page_blocks(check, reader, source, f, scenario.today)
    assert not check.found, f"{len(check.found)} of {check.checked} numbers differ:\n" + "\n".join(
        check.found
    )
    assert check.checked > 300


def _compare_page_blocks(
    check: Mismatches, reader: WarehouseReader, source: Operational, f: Filters, today: date
) -> None:
    label = f"[{f.start}..{f.end} inst={f.inst} channel={f.channel} campaign={f.campaign}]"

    # 总览 Overview and 会员/积分 headline cards: both periods.
    totals = queries.headline_totals(reader, f).set_index("period")
    for period, filters in (("current", f), ("previous", f.previous())):
        expected = source.headline(filters)
        for column, value in expected.items():
            check.same(f"{label} {period} {column}", int(totals.loc[period, column]), value)

    by_channel = queries.sales_by_channel(reader, f)
    check.same(
        f"{label} sales by channel",
        _nonzero(
            _rows(by_channel, "channel", ["purchases", "members", "gmv_fen", "points_issued"])
        ),
        source.by(f, "channel"),
    )
    check.same(
        f"{label} previous GMV by channel",
        {k: v for k, v in _rows(by_channel, "channel", ["previous_gmv_fen"]).items() if v != (0,)},
        {k: (v[2],) for k, v in source.by(f.previous(), "channel").items() if v[2]},
    )
    by_type = queries.sales_by_business_type(reader, f)
    check.same(
        f"{label} GMV by business type",
        _nonzero(_rows(by_type, "business_type", ["purchases", "gmv_fen"])),
        {k: (v[0], v[2]) for k, v in source.by(f, "business_type").items()},
    )
    daily = queries.daily_sales(reader, f)
    current = daily[daily["period"] == "current"]
    check.same(
        f"{label} daily GMV sums to the period",
        int(current["gmv_fen"].sum()),
        source.headline(f)["gmv_fen"],
    )
    check.same(f"{label} daily rows", len(current), f.days)

    # 渠道 Channels.
    check.same(
        f"{label} sales by institution",
        _nonzero(
            _rows(
                queries.sales_by_institution(reader, f),
                "code",
                ["purchases", "gmv_fen", "points_issued"],
            )
        ),
        source.by_institution(f),
    )
    tree = queries.institution_tree(reader, f)
    own: dict[str, int] = defaultdict(int)
    for p in source.scoped(f):
        own[p.institution_code] += p.net_fen
    check.same(
        f"{label} institution tree",
        {code: int(v) for code, v in zip(tree["code"], tree["gmv_fen"], strict=True) if v},
        {code: v for code, v in own.items() if v},
    )
    summary = queries.pickup_summary(reader, f).iloc[0]
    expected_pickups = source.pickup_summary(f)
    for column, value in expected_pickups.items():
        if column in ("pickup_rate", "median_hours"):
            got = summary[column]
            check.close(f"{label} pickup {column}", None if pd.isna(got) else float(got), value)
        else:
            check.same(f"{label} pickup {column}", int(summary[column]), value)
    outlets = queries.pickup_by_outlet(reader, f)
    check.same(
        f"{label} pickups by outlet",
        _rows(outlets, "outlet_code", ["pickup_orders", "picked_up", "expired"]),
        {
            code: (
                sum(1 for o in orders if o.outlet_code == code),
                sum(1 for o in orders if o.outlet_code == code and o.fulfilled_at is not None),
                sum(1 for o in orders if o.outlet_code == code and o.status == "expired"),
            )
            for orders in [source.pickups(f)]
            for code in {o.outlet_code for o in orders}
        },
    )
    check.same(
        f"{label} mailings, bills and subscriptions",
        _rows(queries.service_activity(reader, f), ["service", "kind"], ["count", "amount_fen"]),
        source.services(f),
    )

    # 营销活动 Campaigns (each campaign's own window; institution and channel apply).
    results = queries.campaign_results(reader, f).set_index("code")
    for code in (CAMPAIGN, BONUS_CAMPAIGN):
        c = source.campaigns[code]
        listed = f.campaign == code or (
            not f.campaign and c.starts_on <= f.end and c.ends_on >= f.start
        )
        check.same(f"{label} {code} listed", code in results.index, listed)
        if code not in results.index:
            continue
        row = results.loc[code]
        expected = source.campaign(code, f)
        for column in (
            "points_awarded",
            "points_returned",
            "points_cost",
            "participants",
            "gmv_window_fen",
            "gmv_baseline_fen",
            "treated_members",
            "treated_gmv_fen",
            "holdout_members",
            "holdout_gmv_fen",
        ):
            check.same(f"{label} {code} {column}", int(row[column]), expected[column])
        lift = None if pd.isna(row["lift_fen"]) else float(row["lift_fen"])
        check.close(f"{label} {code} lift", lift, expected["lift_fen"])
        if expected["se"] is not None:
            check.close(
                f"{label} {code} CI high",
                float(row["lift_high_fen"]),
                expected["lift_fen"] + queries.Z_95 * expected["se"],
            )
            check.close(
                f"{label} {code} CI low",
                float(row["lift_low_fen"]),
                expected["lift_fen"] - queries.Z_95 * expected["se"],
            )
        days = queries.campaign_daily(reader, f, code)
        check.same(
            f"{label} {code} daily treated GMV",
            int(days["treated_gmv_fen"].sum()),
            expected["treated_gmv_fen"],
        )
        check.same(
            f"{label} {code} daily holdout GMV",
            int(days["holdout_gmv_fen"].sum()),
            expected["holdout_gmv_fen"],
        )
        check.same(
            f"{label} {code} daily awarded",
            int(days["points_awarded"].sum()),
            expected["points_awarded"],
        )

    # 会员 Members.
    new = queries.new_members_daily(reader, f)
    check.same(
        f"{label} new members per day and channel",
        {
            (pd.Timestamp(d).date(), None if pd.isna(c) else c): int(n)
            for d, c, n in zip(new["day"], new["channel"], new["new_members"], strict=True)
        },
        source.new_members(f),
    )
    check.same(
        f"{label} tiers",
        {
            k: v[0]
            for k, v in _rows(queries.tier_distribution(reader, f), "tier", ["members"]).items()
        },
        source.tiers(f),
    )
    cohorts = queries.cohort_retention(reader, f)
    check.same(
        f"{label} cohort retention",
        {
            (pd.Timestamp(c).date(), int(k)): (int(s), int(a))
            for c, k, s, a in zip(
                cohorts["cohort"],
                cohorts["months_since"],
                cohorts["cohort_size"],
                cohorts["active_members"],
                strict=True,
            )
        },
        source.cohorts(f),
    )
    check.same(
        f"{label} purchase frequency",
        {
            k: v[0]
            for k, v in _rows(
                queries.purchase_frequency(reader, f), "purchases", ["members"]
            ).items()
        },
        source.frequency(f),
    )
    check.same(
        f"{label} channel mix",
        {k: v[0] for k, v in _rows(queries.channel_mix(reader, f), "mix", ["members"]).items()},
        source.mix(f),
    )
    expected_top = source.top(f, 10)
    for reveal in (False, True):
        top = queries.top_members(reader, f, reveal_personal_data=reveal, limit=10)
        check.same(
            f"{label} top members (reveal={reveal})",
            [(r.member_no, int(r.gmv_fen), r.phone, r.name) for r in top.itertuples()],
            [
                (
                    no,
                    gmv,
                    phone if reveal else f"{phone[:3]}****{phone[-4:]}",
                    name if reveal else f"{name[0]}*",
                )
                for no, gmv, phone, name in expected_top
            ],
        )

    # 积分经济 Points economy.
    liability = queries.points_liability(reader, f, today).iloc[0]
    for column, value in source.liability(f, today).items():
        check.same(f"{label} liability {column}", int(liability[column]), value)
    check.same(
        f"{label} liability by institution",
        {
            k: v[0]
            for k, v in _nonzero(
                _rows(queries.liability_by_institution(reader, f, today), "code", ["outstanding"])
            ).items()
        },
        {k: v for k, v in source.liability_by_institution(f, today).items() if v},
    )
    flow = queries.points_flow_daily(reader, f)
    headline = source.headline(f)
    check.same(f"{label} flow issued", int(flow["issued"].sum()), headline["points_issued"])
    check.same(f"{label} flow redeemed", int(flow["redeemed"].sum()), headline["points_redeemed"])
    check.same(f"{label} flow expired", int(flow["expired"].sum()), headline["points_expired"])
    sources = queries.issuance_by_source(reader, f).groupby("source")["points"].sum()
    expected_sources = source.issuance_by_source(f)
    check.same(
        f"{label} issuance by source",
        {k: int(sources.get(k, 0)) for k in ("issuance", "campaign")},
        expected_sources,
    )
    check.same(
        f"{label} issuance by campaign",
        _rows(queries.issuance_by_campaign(reader, f), "campaign_code", ["points", "members"]),
        source.issuance_by_campaign(f),
    )
    check.same(
        f"{label} redemptions by reward",
        _rows(
            queries.redemptions_by_reward(reader, f),
            "reward_code",
            ["redemptions", "quantity", "points_spent", "cash_fen"],
        ),
        source.redemptions(f),
    )
