"""A small but complete history for the dashboard tests, written through the HTTP API.

Members join over two years from five channels; they buy across every channel and
business type (some refunds), two campaigns with holdout groups run in the past, points
are redeemed (one redemption cancelled), old points expire, one member is merged into
another, pickup orders are collected or left to expire, and bills, mailings and
subscriptions are paid. Only timestamps the API cannot take (registration, order, bill,
mailing and subscription times) are moved back with SQL afterwards, so every period
filter has something to find.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select, update

from common.clock import SHANGHAI, today, utcnow
from common.db import read_session
from common.organisation import Institution
from crm.adapters.orm import Member
from memberhub.operations import run_due_jobs
from memberhub.runtime import Runtime
from storefront_api.bills.orm import BillPayment
from storefront_api.mail.domain import check_digit
from storefront_api.mail.orm import Mailing
from storefront_api.orders.orm import Order
from storefront_api.subscriptions.orm import Subscription

API = "/api/v1"
MEMBERS = 24
CAMPAIGN = "DASH-MOON"
BONUS_CAMPAIGN = "DASH-BILLS"
STAFF_PASSWORD_ROLE = "finance"


@dataclass
class Scenario:
    today: date
    members: list[str] = field(default_factory=list)
    outlets: dict[str, str] = field(default_factory=dict)
    keys: dict[str, dict[str, str]] = field(default_factory=dict)


def _moment(day: date, hour: int = 10) -> datetime:
    # Never in the future: the API refuses event times after now, and `day` may be today.
    latest = utcnow().astimezone(SHANGHAI) - timedelta(seconds=1)
    return min(datetime.combine(day, time(hour, 15), SHANGHAI), latest)


def _ok(response: Any) -> dict[str, Any]:
    assert 200 <= response.status_code < 300, response.get_data(as_text=True)[:600]
    return dict(response.json)


def build(
    client: FlaskClient,
    runtime: Runtime,
    channel_key: Any,
    staff_token: Any,
    auth: Any,
    seed: int = 7,
) -> Scenario:
    rng = random.Random(seed)
    ids = itertools.count(1)
    now = today()
    scenario = Scenario(today=now)
    with read_session(runtime.session_factory) as session:
        outlets = list(
            session.scalars(
                select(Institution.code)
                .where(Institution.kind == "outlet")
                .order_by(Institution.code)
            )
        )
        store = session.scalar(
            select(Institution.code).where(Institution.kind == "store").order_by(Institution.code)
        )
    hp = "SH-HP-0001"
    pd_outlet = next(code for code in outlets if code.startswith("SH-PD-"))
    scenario.outlets = {"hp": hp, "pd": pd_outlet, "store": store or hp}
    keys = {
        "web": auth(channel_key("web")),
        "app": auth(channel_key("app")),
        "hotline": auth(channel_key("hotline")),
        "counter_hp": auth(channel_key("counter", hp)),
        "counter_pd": auth(channel_key("counter", pd_outlet)),
        "retail": auth(channel_key("retail", store)),
    }
    scenario.keys = keys
    admin = auth(staff_token("admin"))

    # Campaigns first: a purchase earns a campaign's points only if it exists by then.
    _ok(
        client.post(
            f"{API}/campaigns",
            json={
                "code": CAMPAIGN,
                "name": "测试中秋双倍",
                "name_en": "Test Mid-Autumn double points",
                "starts_on": (now - timedelta(days=75)).isoformat(),
                "ends_on": (now - timedelta(days=46)).isoformat(),
                "budget_points": 60_000,
                "multiplier_bp": 20_000,
                "holdout_pct": 30,
                "business_types": ["goods"],
            },
            headers=admin,
        )
    )
    _ok(
        client.post(
            f"{API}/campaigns",
            json={
                "code": BONUS_CAMPAIGN,
                "name": "测试缴费有礼",
                "name_en": "Test bill bonus",
                "starts_on": (now - timedelta(days=20)).isoformat(),
                "ends_on": (now - timedelta(days=6)).isoformat(),
                "budget_points": 90,
                "bonus_points": 30,
                "holdout_pct": 20,
                "business_types": ["bill_payment"],
            },
            headers=admin,
        )
    )

    registrations = ("web", "app", "counter_hp", "counter_pd", "retail")
    joined: dict[str, date] = {}
    for number in range(MEMBERS):
        key = registrations[number % len(registrations)]
        body = _ok(
            client.post(
                f"{API}/members",
                json={"phone": f"139{number:08d}", "name": f"测试{chr(0x4E00 + number)}员"},
                headers=keys[key],
            )
        )
        scenario.members.append(body["member_no"])
        joined[body["member_no"]] = now - timedelta(days=800 - 33 * number)
    with runtime.engine.begin() as connection:
        for member_no, day in joined.items():
            connection.execute(
                update(Member)
                .where(Member.member_no == member_no)
                .values(created_at=_moment(day, 9))
            )

    purchase_keys = (
        ("counter_hp", hp),
        ("counter_pd", pd_outlet),
        ("retail", store),
        ("web", "SH"),
        ("app", "SH"),
        ("hotline", "SH-PD"),
    )
    business_types = ("goods", "goods", "goods", "bill_payment", "mailing", "philately", "service")
    purchases: list[tuple[str, str, str]] = []
    for member_no in scenario.members:
        first = joined[member_no]
        span = (now - first).days
        for _ in range(rng.randint(0, 9)):
            day = first + timedelta(days=rng.randint(0, span))
            key, institution = rng.choice(purchase_keys)
            business_type = rng.choice(business_types)
            amount = rng.randint(5, 900) * 100 + rng.choice((0, 50, 99))
            external_id = f"DASH-{next(ids)}"
            _ok(
                client.post(
                    f"{API}/accruals",
                    json={
                        "external_id": external_id,
                        "member": {"member_no": member_no},
                        "institution_code": institution,
                        "occurred_at": _moment(day, rng.randint(8, 20)).isoformat(),
                        "business_type": business_type,
                        "lines": [
                            {
                                "sku": f"SKU-{rng.randint(1, 30)}",
                                "category": rng.choice(("food", "home", "stamps", "farm")),
                                "quantity": 1,
                                "amount_fen": amount,
                            }
                        ],
                        "total_fen": amount,
                        "payment_method": "cash",
                    },
                    headers=keys[key],
                )
            )
            purchases.append((external_id, key, str(amount)))

    # Purchases in the campaign's window, refunded in full: their bonus goes back to the
    # budget (one of five members is all but certain to be outside the holdout).
    for member_no in scenario.members[:5]:
        external_id = f"DASH-CAMPAIGN-{member_no}"
        _ok(
            client.post(
                f"{API}/accruals",
                json={
                    "external_id": external_id,
                    "member": {"member_no": member_no},
                    "institution_code": hp,
                    "occurred_at": _moment(now - timedelta(days=60)).isoformat(),
                    "business_type": "goods",
                    "lines": [
                        {"sku": "SKU-MOON", "category": "food", "quantity": 1, "amount_fen": 18800}
                    ],
                    "total_fen": 18800,
                    "payment_method": "cash",
                },
                headers=keys["counter_hp"],
            )
        )
        _ok(
            client.post(
                f"{API}/refunds",
                json={
                    "external_id": f"RF-{external_id}",
                    "original_external_id": external_id,
                    "amount_fen": 18800,
                },
                headers=keys["counter_hp"],
            )
        )

    # Purchases on each edge of the campaign's window and of its baseline, at the first
    # and last quarter-hour of the Shanghai day (the UTC day differs at 00:15), so a
    # window or baseline shifted by one day, or cut on UTC days, changes a number.
    starts_on, ends_on = now - timedelta(days=75), now - timedelta(days=46)
    baseline_starts_on = starts_on - (ends_on - starts_on) - timedelta(days=1)
    edges = (
        baseline_starts_on - timedelta(days=1),
        baseline_starts_on,
        starts_on - timedelta(days=1),
        starts_on,
        ends_on,
        ends_on + timedelta(days=1),
    )
    for number, (day, hour) in enumerate(itertools.product(edges, (0, 23))):
        member_no = scenario.members[5 + number % 4]
        amount = 10_000 + 1_000 * number + 7  # distinct, so any one moved shows
        _ok(
            client.post(
                f"{API}/accruals",
                json={
                    "external_id": f"DASH-EDGE-{number}",
                    "member": {"member_no": member_no},
                    "institution_code": hp,
                    "occurred_at": _moment(day, hour).isoformat(),
                    "business_type": "goods",
                    "lines": [
                        {"sku": "SKU-EDGE", "category": "food", "quantity": 1, "amount_fen": amount}
                    ],
                    "total_fen": amount,
                    "payment_method": "cash",
                },
                headers=keys["counter_hp"],
            )
        )

    # Some refunds, full and partial, by the channel that took the purchase.
    for external_id, key, amount in rng.sample(purchases, k=min(8, len(purchases))):
        refund = int(amount) if rng.random() < 0.4 else int(amount) // 3
        _ok(
            client.post(
                f"{API}/refunds",
                json={
                    "external_id": f"RF-{external_id}",
                    "original_external_id": external_id,
                    "amount_fen": refund,
                },
                headers=keys[key],
            )
        )

    # Pickup orders online, collected at the HP outlet or left to expire.
    codes: list[str] = []
    for number, member_no in enumerate(scenario.members[:8]):
        channel = "web" if number % 2 else "app"
        order = _ok(
            client.post(
                f"{API}/orders",
                json={
                    "external_id": f"DASH-ORDER-{number}",
                    "member_no": member_no,
                    "lines": [{"sku": "MA-PJL-MOONCAKE-01", "quantity": 1}],
                    "fulfillment": {"type": "pickup", "outlet_code": hp},
                    "payment": {"method": "online"},
                },
                headers=keys[channel],
            )
        )
        paid = _ok(
            client.post(
                f"{API}/orders/{order['order_no']}/payments",
                json={
                    "external_id": f"DASH-PAY-{number}",
                    "amount_fen": order["payable_fen"],
                    "method": "online",
                    "transaction_ref": f"WX-{number}",
                },
                headers=keys[channel],
            )
        )
        codes.append(paid["pickup_code"])
    for code in codes[:5]:
        _ok(
            client.post(
                f"{API}/pickups/verify",
                json={"outlet_code": hp, "pickup_code": code},
                headers=keys["counter_hp"],
            )
        )

    # Bills and mail at the counters, a subscription on the hotline.
    for number, member_no in enumerate(scenario.members[:6]):
        counter = "counter_hp" if number % 2 else "counter_pd"
        bill = _ok(
            client.post(
                f"{API}/bills/query",
                json={"biller_code": "SH-WATER-CTWS", "account_no": f"3100{number + 1:04d}1234"},
                headers=keys[counter],
            )
        )
        _ok(
            client.post(
                f"{API}/bill-payments",
                json={
                    "external_id": f"DASH-BILL-{number}",
                    "bill_id": bill["bill_id"],
                    "amount_fen": bill["amount_due_fen"],
                    "member": {"member_no": member_no},
                },
                headers=keys[counter],
            )
        )
        serial = f"{40_000_000 + number:08d}"
        _ok(
            client.post(
                f"{API}/mailings",
                json={
                    "external_id": f"DASH-MAIL-{number}",
                    "tracking_no": f"EE{serial}{check_digit(serial)}CN",
                    "member": {"member_no": member_no},
                    "service": ("letter", "registered", "parcel", "ems")[number % 4],
                    "fee_fen": 1200 + 300 * number,
                    "accepted_at": _moment(now, 8).isoformat(),
                },
                headers=keys[counter],
            )
        )
    _ok(
        client.post(
            f"{API}/subscriptions",
            json={
                "external_id": "DASH-SUB-1",
                "member": {"member_no": scenario.members[3]},
                "title_code": "JFRB",
                "term": "quarterly",
                "start_date": date(now.year + now.month // 12, now.month % 12 + 1, 1).isoformat(),
                "delivery": {"type": "outlet", "outlet_code": hp},
                "payment_method": "cash",
            },
            headers=keys["hotline"],
        )
    )

    # Members with points redeem some; one redemption is cancelled.
    redeemed = []
    for number, member_no in enumerate(scenario.members):
        balance = _ok(client.get(f"{API}/members/{member_no}/points", headers=keys["web"]))
        if balance["available"] >= 1000 and number % 3 != 2:
            body = _ok(
                client.post(
                    f"{API}/redemptions",
                    json={
                        "external_id": f"DASH-RD-{number}",
                        "member_no": member_no,
                        "reward_code": "VOUCHER-MALL-10",
                        "quantity": 1,
                    },
                    headers=keys["web"],
                )
            )
            redeemed.append(body["redemption_id"])
    if redeemed:
        _ok(client.post(f"{API}/redemptions/{redeemed[0]}/cancel", json={}, headers=keys["web"]))

    _ok(
        client.post(
            f"{API}/members/merge",
            json={"survivor": scenario.members[1], "absorbed": scenario.members[-1]},
            headers=admin,
        )
    )

    # Old lots expire and pending points are released; a later run expires the
    # pickup orders nobody collected.
    run_due_jobs(runtime, now)
    run_due_jobs(runtime, now + timedelta(days=10))

    _spread_commerce_over_time(runtime, now, rng)
    return scenario


def _spread_commerce_over_time(runtime: Runtime, now: date, rng: random.Random) -> None:
    """Move orders, bills, mailings and subscriptions back over the last weeks; the API
    stamps them with the time of the call."""
    with runtime.engine.begin() as connection:
        for table, columns in (
            (Order, ("created_at", "paid_at", "fulfilled_at")),
            (BillPayment, ("created_at", "paid_at")),
            (Mailing, ("accepted_at", "created_at")),
            (Subscription, ("created_at",)),
        ):
            rows = connection.execute(select(table.id, *(getattr(table, c) for c in columns)))
            for row in rows.all():
                back = timedelta(days=rng.randint(0, 50), hours=rng.randint(0, 5))
                values = {
                    column: (value - back)
                    for column, value in zip(columns, row[1:], strict=True)
                    if value is not None
                }
                connection.execute(update(table).where(table.id == row.id).values(**values))


INSIGHT_DAYS = (date(2026, 1, 31), date(2026, 2, 28))


def train_insights(runtime: Runtime) -> list[dict[str, Any]]:
    """Two insights runs over every member, as `memberhub insights train` stores them,
    with scores chosen so each segment, risk level and value bucket has members; returns
    the latest run's scores (by member id)."""
    import crm.insights
    from common.unit_of_work import transaction

    segments = ("champions", "potential", "at_risk", "lost", "regular", "new")
    with read_session(runtime.session_factory) as session:
        ids = list(session.scalars(select(Member.id).order_by(Member.id)))
    latest: list[dict[str, Any]] = []
    for run, as_of in enumerate(INSIGHT_DAYS):
        scores = [
            {
                "member_id": member_id,
                "r": 1 + (i + run) % 5,
                "f": 1 + i % 5,
                "m": 1 + (2 * i) % 5,
                "segment_code": segments[(i + run) % len(segments)],
                "churn_risk": ((i * 37 + run * 11) % 100) / 100,
                "alive": None if i % 7 == 6 else 1 - ((i * 37) % 100) / 100,
                "expected_purchases": None if i % 7 == 6 else 1 + i % 4,
                "expected_value_fen": None if i % 7 == 6 else (i + 1) * 7_919 * (run + 1),
            }
            for i, member_id in enumerate(ids)
        ]
        with transaction(runtime.session_factory) as uow:
            crm.insights.store_scores(
                uow, as_of=as_of, model_version="dashboard-test", metrics={}, scores=scores
            )
        latest = scores
    return latest
