"""The access matrix, generated from the policy table: every operation × every caller.

Callers: no credentials, the member who owns the objects, another member, a key of each
channel (two counters: the outlet that created the objects and another one), and each
staff role. Objects: real ones of several owners, made through the API (an order taken
online for pickup at outlet A, one delivered to an address, a redemption made in the
app and one at the counter, a bill paid at the counter and one paid by the member ...).

What is expected is computed here from the table's words (who may call, how a channel
key must relate to the object) and the facts the test knows about each object (who
made it where), not from the server's own resolvers. The test then proves:
- an allowed call is not refused (any answer but 401/403: it may still be a 404, 409
  or 422 for business reasons, which is the view's to say);
- a refused call is a 401 (no credentials) or 403 problem and changes nothing in the
  database (the security bookkeeping aside: attempt counters and the audit log).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from common.unit_of_work import transaction
from memberhub.models import metadata
from storefront_api.auth import MemberPrincipal, create_api_key, create_staff_user
from storefront_api.http.context import EXTENSION_KEY
from storefront_api.http.policy import POLICY, Rule, Scope
from storefront_api.http.routing import OPERATIONS, Operation
from storefront_api.mail.domain import check_digit
from tests.api.support import BOOKKEEPING, self_register

SHANGHAI = ZoneInfo("Asia/Shanghai")
OUTLET_A, OUTLET_B = "SH-HP-0001", "SH-HP-0002"
PASSWORD = "matrix-password-1"
_ids = itertools.count(1)


def uid(prefix: str) -> str:
    return f"{prefix}-{next(_ids):06d}"


@dataclass(frozen=True)
class Caller:
    name: str
    kind: str  # none | member | channel | staff
    member: str | None = None  # "A" or "B"
    channel: str | None = None
    institution: str | None = None
    role: str | None = None


CALLERS = (
    Caller("none", "none"),
    Caller("member A (owner)", "member", member="A"),
    Caller("member B", "member", member="B"),
    Caller("web key", "channel", channel="web"),
    Caller("app key", "channel", channel="app"),
    Caller("counter key of A", "channel", channel="counter", institution=OUTLET_A),
    Caller("counter key of B", "channel", channel="counter", institution=OUTLET_B),
    Caller("retail key of A", "channel", channel="retail", institution=OUTLET_A),
    Caller("hotline key", "channel", channel="hotline"),
    Caller("distribution key", "channel", channel="distribution"),
    Caller("partner key", "channel", channel="partner"),
    Caller("marketer", "staff", role="marketer"),
    Caller("finance", "staff", role="finance"),
    Caller("admin", "staff", role="admin"),
)


@dataclass(frozen=True)
class Facts:
    """What the test knows about an object: whose it is, and who made it where.

    `only_for_channel`: the object is named by the caller's own id for it (a refund
    names the purchase by the channel's own external_id), so for any other channel
    the request names nothing of anyone's.
    """

    member: str | None = None
    channel: str | None = None
    institution: str | None = None
    outlet: str | None = None
    only_for_channel: str | None = None


# A past day: clearing it (and reading it back) must not depend on the test's order.
CLEARED_DAY = "2026-01-05"


@dataclass
class Case:
    """One request: where, what, and the facts of the object it names (if any)."""

    label: str
    method: str
    path: str
    body: Callable[[], Any] | None = None
    facts: Facts | None = None
    query: str = ""


@dataclass
class World:
    member_a: str = ""
    member_b: str = ""
    phone_a: str = ""
    spare: list[str] = field(default_factory=list)
    orders: dict[str, str] = field(default_factory=dict)
    redemptions: dict[str, str] = field(default_factory=dict)
    vouchers: dict[str, str] = field(default_factory=dict)
    voucher_use: str = ""
    card_no: str = ""
    card_pin: str = ""
    charge_no: str = ""
    payments: dict[str, str] = field(default_factory=dict)
    subscription_no: str = ""
    exchange_no: str = ""
    tracking_no: str = ""
    bill: dict[str, Any] = field(default_factory=dict)
    campaign: str = ""
    staff_user: str = ""
    key_ids: list[str] = field(default_factory=list)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


def tracking_number() -> str:
    serial = f"{next(_ids) % 10**8:08d}"
    return f"EE{serial}{check_digit(serial)}CN"


def now_text(minutes_ago: int = 5) -> str:
    return (datetime.now(SHANGHAI) - timedelta(minutes=minutes_ago)).isoformat()


def next_month_start() -> str:
    day = datetime.now(SHANGHAI).date()
    return f"{day.year + day.month // 12}-{day.month % 12 + 1:02d}-01"


def ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    return dict(response.json)


@pytest.fixture
def world(app, client, db, auth, staff_token) -> World:
    """Objects of several owners, made the way their channels make them."""
    w = World()
    tokens = app.extensions[EXTENSION_KEY].tokens

    def key(channel: str, institution: str | None = None) -> dict[str, str]:
        with transaction(db.session_factory) as uow:
            return auth(create_api_key(uow, channel, institution))

    keys = {
        "web key": key("web"),
        "app key": key("app"),
        "counter key of A": key("counter", OUTLET_A),
        "counter key of B": key("counter", OUTLET_B),
        "retail key of A": key("retail", OUTLET_A),
        "hotline key": key("hotline"),
        "distribution key": key("distribution"),
        "partner key": key("partner"),
    }
    w.phone_a = "13700000001"
    w.member_a = ok(
        self_register(client, {"phone": w.phone_a, "name": "甲", "password": PASSWORD})
    )["member_no"]
    w.member_b = ok(self_register(client, {"phone": "13700000002", "name": "乙"}))["member_no"]
    for index in range(2):
        body = {"phone": f"1370000001{index}", "name": "备"}
        w.spare.append(
            ok(client.post("/api/v1/members", json=body, headers=keys["web key"]))["member_no"]
        )
    member_a = auth(tokens.issue(MemberPrincipal(w.member_a)))
    w.headers = {
        "none": {},
        "member A (owner)": member_a,
        "member B": auth(tokens.issue(MemberPrincipal(w.member_b))),
        **keys,
        **{name: auth(staff_token(name)) for name in ("marketer", "finance", "admin")},
    }
    counter = keys["counter key of A"]
    # Points for member A, earned at outlet A's counter (also the purchase refunds name).
    ok(
        client.post(
            "/api/v1/accruals",
            json={
                "external_id": "ACC-A",
                "member": {"member_no": w.member_a},
                "institution_code": OUTLET_A,
                "occurred_at": now_text(60),
                "business_type": "goods",
                "lines": [{"sku": "S", "category": "food", "amount_fen": 5_000_000}],
                "total_fen": 5_000_000,
            },
            headers=counter,
        )
    )
    # Orders: online for pickup at outlet A (paid), and by app to an address (paid).
    for name, headers, fulfillment in (
        ("web pickup at A", keys["web key"], {"type": "pickup", "outlet_code": OUTLET_A}),
        ("app delivery", keys["app key"], {"type": "delivery", "address": "上海市黄浦区1号"}),
    ):
        order = ok(
            client.post(
                "/api/v1/orders",
                json={
                    "external_id": uid("ORD"),
                    "member_no": w.member_a,
                    "lines": [{"sku": "MA-PJL-MOONCAKE-01", "quantity": 1}],
                    "fulfillment": fulfillment,
                    "payment": {"method": "online"},
                },
                headers=headers,
            )
        )
        ok(
            client.post(
                f"/api/v1/orders/{order['order_no']}/payments",
                json={
                    "external_id": uid("PAY"),
                    "amount_fen": order["payable_fen"],
                    "method": "online",
                    "transaction_ref": "WX-1",
                },
                headers=headers,
            )
        )
        w.orders[name] = order["order_no"]
    # Redemptions: one the member made in the app, one the counter of A made for them.
    reward = "MATRIX-RW"
    ok(
        client.post(
            "/api/v1/rewards",
            json={
                "code": reward,
                "name": "券",
                "kind": "voucher",
                "points_cost": 10,
                "value_fen": 1000,
                "valid_days": 30,
            },
            headers=w.headers["admin"],
        )
    )
    for name, headers in (("in the app", member_a), ("at counter A", counter)):
        body = {"external_id": uid("RD"), "member_no": w.member_a, "reward_code": reward}
        redeemed = ok(client.post("/api/v1/redemptions", json=body, headers=headers))
        w.redemptions[name] = redeemed["redemption_id"]
        w.vouchers[name] = redeemed["vouchers"][0]["code"]
    # The app's voucher taken off a sale at counter A.
    w.voucher_use = ok(
        client.post(
            "/api/v1/voucher-uses",
            json=voucher_use_body(w, w.vouchers["in the app"]),
            headers=counter,
        )
    )["use_no"]
    # A card registered to member A, sold and charged at counter A.
    card = ok(
        client.post(
            "/api/v1/prepaid-cards",
            json={
                "external_id": uid("CARD"),
                "amount_fen": 100_000,
                "member": {"member_no": w.member_a},
            },
            headers=counter,
        )
    )
    w.card_no, w.card_pin = card["card_no"], card["pin"]
    w.charge_no = ok(
        client.post(
            f"/api/v1/prepaid-cards/{w.card_no}/charges",
            json={"external_id": uid("CH"), "amount_fen": 5_000, "pin": w.card_pin},
            headers=counter,
        )
    )["charge_no"]
    # Bills: one paid at counter A for member A, one member A paid themself.
    for name, headers, account in (
        ("at counter A", counter, "3100123456"),
        ("by the member", member_a, "3100123457"),
    ):
        bill = ok(
            client.post(
                "/api/v1/bills/query",
                json={"biller_code": "SH-GAS", "account_no": account},
                headers=headers,
            ),
            200,
        )
        body = {"external_id": uid("BILL"), "bill_id": bill["bill_id"]}
        body["amount_fen"] = bill["amount_due_fen"]
        if headers is counter:
            body["member"] = {"member_no": w.member_a}
        w.payments[name] = ok(client.post("/api/v1/bill-payments", json=body, headers=headers))[
            "payment_no"
        ]
    w.bill = ok(
        client.post(
            "/api/v1/bills/query",
            json={"biller_code": "SH-GAS", "account_no": "3100123458"},
            headers=counter,
        ),
        200,
    )
    # A subscription sold by the hotline, delivered to an address.
    w.subscription_no = ok(
        client.post(
            "/api/v1/subscriptions",
            json=subscription_body(w.member_a),
            headers=keys["hotline key"],
        )
    )["subscription_no"]
    # Points exchanged into airline miles for member A at the hotline.
    w.exchange_no = ok(
        client.post(
            "/api/v1/partner-exchanges",
            json=exchange_body(w.member_a),
            headers=keys["hotline key"],
        )
    )["exchange_no"]
    w.tracking_no = tracking_number()
    ok(client.post("/api/v1/mailings", json=mailing_body(w, w.tracking_no), headers=counter))
    w.campaign = "MATRIX-CAMPAIGN"
    ok(client.post("/api/v1/campaigns", json=campaign_body(w.campaign), headers=w.headers["admin"]))
    w.staff_user = "matrix-victim"
    with transaction(db.session_factory) as uow:
        create_staff_user(uow, w.staff_user, "marketer")
    with transaction(db.session_factory) as uow:
        w.key_ids = [create_api_key(uow, "web", None).split("_")[1] for _ in range(2)]
    return w


def exchange_body(member_no: str) -> dict[str, Any]:
    return {
        "external_id": uid("PX"),
        "member_no": member_no,
        "partner_code": "MU",
        "points": 1_000,
        "partner_member_no": "MU12345678",
    }


def voucher_use_body(w: World, code: str) -> dict[str, Any]:
    return {
        "external_id": uid("VU"),
        "voucher_code": code,
        "member": {"member_no": w.member_a},
        "institution_code": OUTLET_A,
        "business_type": "goods",
        "spend_fen": 20_000,
    }


def subscription_body(member_no: str) -> dict[str, Any]:
    return {
        "external_id": uid("SUB"),
        "member": {"member_no": member_no},
        "title_code": "JFRB",
        "term": "monthly",
        "start_date": next_month_start(),
        "delivery": {"type": "address", "address": "上海市黄浦区南京东路1号"},
        "payment_method": "cash",
    }


def mailing_body(w: World, tracking_no: str) -> dict[str, Any]:
    return {
        "external_id": uid("MAIL"),
        "tracking_no": tracking_no,
        "member": {"member_no": w.member_a},
        "service": "ems",
        "fee_fen": 2_200,
        "accepted_at": now_text(30),
    }


def campaign_body(code: str) -> dict[str, Any]:
    today = datetime.now(SHANGHAI).date()
    return {
        "code": code,
        "name": "矩阵",
        "starts_on": (today + timedelta(days=30)).isoformat(),
        "ends_on": (today + timedelta(days=60)).isoformat(),
        "budget_points": 1_000,
        "multiplier_bp": 20_000,
    }


def rule_version_body(code: str) -> dict[str, Any]:
    tomorrow = datetime.now(SHANGHAI).date() + timedelta(days=1)
    return {
        "code": code,
        "effective_from": tomorrow.isoformat(),
        "business_type": "goods",
        "points": 2,
        "per_fen": 100,
        "description": "矩阵",
    }


def accrual_body(w: World) -> dict[str, Any]:
    return {
        "external_id": uid("ACC"),
        "member": {"member_no": w.member_a},
        "institution_code": OUTLET_A,
        "occurred_at": now_text(),
        "business_type": "goods",
        "lines": [{"sku": "S", "category": "food", "amount_fen": 100}],
        "total_fen": 100,
    }


def cases(operation: Operation, w: World) -> list[Case]:
    """The requests that exercise `operation`, one per kind of object it may name."""
    a, order = w.member_a, w.orders
    member_a = Facts(member="A")
    institution_a = Facts(institution=OUTLET_A)
    order_facts = {
        "web pickup at A": Facts("A", "web", OUTLET_A, OUTLET_A),
        "app delivery": Facts("A", "app", "SH", None),
    }
    redemption_facts = {
        "in the app": Facts("A", None, None),
        "at counter A": Facts("A", "counter", OUTLET_A),
    }
    payment_facts = {
        "at counter A": Facts("A", "counter", OUTLET_A),
        "by the member": Facts("A", None, None),
    }
    card = Facts("A", "counter", OUTLET_A)
    subscription = Facts("A", "hotline", "SH")
    table: dict[str, list[Case]] = {
        "auth.member_token": [
            Case(
                "",
                "post",
                "/api/v1/auth/member-token",
                lambda: {"phone": w.phone_a, "password": PASSWORD},
            )
        ],
        "auth.staff_token": [
            Case(
                "",
                "post",
                "/api/v1/auth/staff-token",
                lambda: {"username": "matrix-login", "password": STAFF_PASSWORD[0]},
            )
        ],
        "auth.log_out": [Case("", "post", "/api/v1/auth/logout")],
        "verification.request_code": [
            Case("", "post", "/api/v1/verification-codes", lambda: {"phone": fresh_phone()})
        ],
        "verification.request_member_code": [
            Case(
                "",
                "post",
                f"/api/v1/members/{a}/verification-codes",
                lambda: {"identifier": {"type": "wechat_openid", "value": uid("wx") + "-openid"}},
                member_a,
            )
        ],
        "members.register": [
            Case("", "post", "/api/v1/members", lambda: {"phone": fresh_phone(), "name": "新"})
        ],
        "members.lookup": [Case("", "get", "/api/v1/members/lookup", query=f"?phone={w.phone_a}")],
        "members.get_member": [Case("", "get", f"/api/v1/members/{a}", facts=member_a)],
        "members.update": [
            Case("", "patch", f"/api/v1/members/{a}", lambda: {"sms_consent": True}, member_a)
        ],
        "members.link": [
            Case(
                "",
                "post",
                f"/api/v1/members/{a}/identifiers",
                lambda: {"type": "wechat_openid", "value": uid("wx") + "-openid"},
                member_a,
            )
        ],
        "members.merge": [
            Case(
                "",
                "post",
                "/api/v1/members/merge",
                lambda: {"survivor": w.spare[0], "absorbed": w.spare[1]},
            )
        ],
        "members.merges": [Case("", "get", f"/api/v1/members/{a}/merges")],
        "members.unmerge": [
            Case("", "post", "/api/v1/members/merges/MG0000000000000000000000/undo")
        ],
        "members.points": [Case("", "get", f"/api/v1/members/{a}/points", facts=member_a)],
        "members.tier": [Case("", "get", f"/api/v1/members/{a}/tier", facts=member_a)],
        "reference.tiers": [Case("", "get", "/api/v1/tiers")],
        "members.ledger": [Case("", "get", f"/api/v1/members/{a}/ledger", facts=member_a)],
        "members.adjust": [
            Case(
                "",
                "post",
                f"/api/v1/members/{a}/adjustments",
                lambda: {"external_id": uid("ADJ"), "points": 5, "reason": "矩阵"},
            )
        ],
        "activity.member_activity": [
            Case("", "get", f"/api/v1/members/{a}/activity", facts=member_a)
        ],
        "accruals.accrue": [
            Case("", "post", "/api/v1/accruals", lambda: accrual_body(w), institution_a)
        ],
        "accruals.preview": [
            Case("", "post", "/api/v1/accruals/preview", lambda: accrual_body(w), institution_a)
        ],
        "accruals.accrue_batch": [
            Case("", "post", "/api/v1/accruals/batch", lambda: {"items": [accrual_body(w)]})
        ],
        "accruals.refund": [
            Case(
                "",
                "post",
                "/api/v1/refunds",
                lambda: {
                    "external_id": uid("RF"),
                    "original_external_id": "ACC-A",
                    "amount_fen": 100,
                },
                Facts("A", "counter", OUTLET_A, only_for_channel="counter"),
            )
        ],
        "orders.list_products": [Case("", "get", "/api/v1/products")],
        "orders.get_product": [Case("", "get", "/api/v1/products/MA-PJL-MOONCAKE-01")],
        "orders.add_product": [
            Case(
                "",
                "post",
                "/api/v1/products",
                lambda: {
                    "sku": uid("SKU"),
                    "name": "矩阵",
                    "category": "food",
                    "price_fen": 100,
                    "business_type": "goods",
                },
            )
        ],
        "orders.update_product": [
            Case("", "patch", "/api/v1/products/MA-PJL-MOONCAKE-01", lambda: {"stock": 900})
        ],
        "rewards.list_rewards": [Case("", "get", "/api/v1/rewards")],
        "rewards.add_reward": [
            Case(
                "",
                "post",
                "/api/v1/rewards",
                lambda: {
                    "code": uid("RW"),
                    "name": "券",
                    "kind": "voucher",
                    "points_cost": 1,
                    "value_fen": 1000,
                    "valid_days": 30,
                },
            )
        ],
        "rewards.redeem": [
            Case(
                "",
                "post",
                "/api/v1/redemptions",
                lambda: {"external_id": uid("RD"), "member_no": a, "reward_code": "MATRIX-RW"},
                member_a,
            )
        ],
        "rewards.cancel": [
            Case(name, "post", f"/api/v1/redemptions/{no}/cancel", facts=redemption_facts[name])
            for name, no in w.redemptions.items()
        ],
        "orders.place_order": [
            Case(
                "",
                "post",
                "/api/v1/orders",
                lambda: {
                    "external_id": uid("ORD"),
                    "member_no": a,
                    "lines": [{"sku": "MA-PJL-MOONCAKE-01", "quantity": 1}],
                    "fulfillment": {"type": "pickup", "outlet_code": OUTLET_A},
                    "payment": {"method": "online"},
                },
                member_a,
            )
        ],
        "orders.member_orders": [Case("", "get", f"/api/v1/members/{a}/orders", facts=member_a)],
        "orders.verify_pickup": [
            Case(
                "",
                "post",
                "/api/v1/pickups/verify",
                lambda: {"outlet_code": OUTLET_A, "pickup_code": "00000000"},
                institution_a,
            )
        ],
        "reference.institutions": [Case("", "get", "/api/v1/institutions", query="?limit=5")],
        "reference.channels": [Case("", "get", "/api/v1/channels")],
        "reference.categories": [Case("", "get", "/api/v1/categories")],
        "reference.business_types": [Case("", "get", "/api/v1/business-types")],
        "reference.list_campaigns": [Case("", "get", "/api/v1/campaigns")],
        "reference.get_campaign": [Case("", "get", f"/api/v1/campaigns/{w.campaign}")],
        "reference.create_campaign": [
            Case("", "post", "/api/v1/campaigns", lambda: campaign_body(uid("CMP")))
        ],
        "reference.simulate_proposed_campaign": [
            Case("", "post", "/api/v1/campaigns/simulate", lambda: campaign_body(uid("CMP")))
        ],
        "reference.update_campaign": [
            Case("", "patch", f"/api/v1/campaigns/{w.campaign}", lambda: {"holdout_pct": 10})
        ],
        "reference.campaign_lift": [Case("", "get", f"/api/v1/campaigns/{w.campaign}/lift")],
        "reference.earning_rules": [Case("", "get", "/api/v1/earning-rules")],
        "reference.schedule_earning_rule": [
            Case("", "post", "/api/v1/earning-rules", lambda: rule_version_body(uid("RULE")))
        ],
        "reference.pause_campaign": [Case("", "post", f"/api/v1/campaigns/{w.campaign}/pause")],
        "reference.resume_campaign": [Case("", "post", f"/api/v1/campaigns/{w.campaign}/resume")],
        "reference.stop_campaign": [Case("", "post", f"/api/v1/campaigns/{w.campaign}/stop")],
        "reference.simulate_existing_campaign": [
            Case("", "post", f"/api/v1/campaigns/{w.campaign}/simulate", lambda: {})
        ],
        "vouchers.member_vouchers": [
            Case("", "get", f"/api/v1/members/{a}/vouchers", facts=member_a)
        ],
        "vouchers.use_voucher": [
            Case(
                "",
                "post",
                "/api/v1/voucher-uses",
                lambda: voucher_use_body(w, w.vouchers["at counter A"]),
                institution_a,
            )
        ],
        "vouchers.cancel_use": [
            Case(
                "",
                "post",
                f"/api/v1/voucher-uses/{w.voucher_use}/cancel",
                facts=Facts("A", "counter", OUTLET_A),
            )
        ],
        "partners.list_partners": [Case("", "get", "/api/v1/partners")],
        "partners.exchange_out": [
            Case(
                "", "post", "/api/v1/partner-exchanges", lambda: exchange_body(w.member_a), member_a
            )
        ],
        "partners.exchange_in": [
            Case(
                "",
                "post",
                "/api/v1/partner-exchanges/inbound",
                lambda: {
                    "external_id": uid("BANK"),
                    "member_no": w.member_a,
                    "partner_code": "PSBC",
                    "partner_points": 100,
                    "partner_member_no": "62170000",
                },
            )
        ],
        "partners.get_exchange": [
            Case(
                "",
                "get",
                f"/api/v1/partner-exchanges/{w.exchange_no}",
                facts=Facts("A", "hotline", None),
            )
        ],
        "clearing.run_clearing": [
            Case("", "post", "/api/v1/clearing/runs", lambda: {"business_date": CLEARED_DAY})
        ],
        "clearing.get_run": [Case("", "get", f"/api/v1/clearing/runs/{CLEARED_DAY}")],
        "clearing.download_report": [
            Case("", "get", f"/api/v1/clearing/runs/{CLEARED_DAY}/reports/lines")
        ],
        "clearing.download_journal": [Case("", "get", "/api/v1/clearing/journal/2026-01")],
        "clearing.submit_control_total": [
            Case(
                "",
                "post",
                "/api/v1/clearing/control-totals",
                lambda: {
                    "business_date": CLEARED_DAY,
                    "institution_code": OUTLET_A,
                    "sales": 0,
                    "amount_fen": 0,
                },
                institution_a,
            )
        ],
        "segments.list_segments": [Case("", "get", "/api/v1/segments")],
        "segments.segment_members": [Case("", "get", "/api/v1/segments/champions/members")],
        "segments.export_segment": [Case("", "get", "/api/v1/segments/champions/members.csv")],
        "segments.member_scores": [Case("", "get", f"/api/v1/members/{a}/scores")],
        "mail.accept": [
            Case("", "post", "/api/v1/mailings", lambda: mailing_body(w, tracking_number()))
        ],
        "mail.record_event": [
            Case(
                "",
                "post",
                f"/api/v1/mailings/{w.tracking_no}/events",
                lambda: {"status": "in_transit", "location": "上海", "occurred_at": now_text(1)},
            )
        ],
        "mail.track": [Case("", "get", f"/api/v1/mailings/{w.tracking_no}")],
        "bills.list_billers": [Case("", "get", "/api/v1/billers")],
        "bills.query_bill": [
            Case(
                "",
                "post",
                "/api/v1/bills/query",
                lambda: {"biller_code": "SH-GAS", "account_no": "3100123459"},
            )
        ],
        "bills.pay": [
            Case(
                "",
                "post",
                "/api/v1/bill-payments",
                lambda: {
                    "external_id": uid("BILL"),
                    "bill_id": w.bill["bill_id"],
                    "amount_fen": w.bill["amount_due_fen"],
                    "member": {"member_no": a},
                },
                member_a,
            )
        ],
        "subscriptions.press_titles": [Case("", "get", "/api/v1/press-titles")],
        "subscriptions.subscribe": [
            Case("", "post", "/api/v1/subscriptions", lambda: subscription_body(a), member_a)
        ],
        "subscriptions.get_subscription": [
            Case("", "get", f"/api/v1/subscriptions/{w.subscription_no}", facts=subscription)
        ],
        "subscriptions.cancel": [
            Case(
                "",
                "post",
                f"/api/v1/subscriptions/{w.subscription_no}/cancel",
                lambda: {},
                subscription,
            )
        ],
        "prepaid_cards.issue": [
            Case(
                "",
                "post",
                "/api/v1/prepaid-cards",
                lambda: {
                    "external_id": uid("CARD"),
                    "amount_fen": 100,
                    "institution_code": OUTLET_A,
                },
                institution_a,
            )
        ],
        "prepaid_cards.get_card": [
            Case("", "get", f"/api/v1/prepaid-cards/{w.card_no}", facts=card)
        ],
        "prepaid_cards.transactions": [
            Case("", "get", f"/api/v1/prepaid-cards/{w.card_no}/transactions", facts=card)
        ],
        "prepaid_cards.set_status": [
            Case("", "patch", f"/api/v1/prepaid-cards/{w.card_no}", lambda: {"status": "active"})
        ],
        "prepaid_cards.top_up": [
            Case(
                "",
                "post",
                f"/api/v1/prepaid-cards/{w.card_no}/top-ups",
                lambda: {"external_id": uid("TOP"), "amount_fen": 100},
            )
        ],
        "prepaid_cards.charge": [
            Case(
                "",
                "post",
                f"/api/v1/prepaid-cards/{w.card_no}/charges",
                lambda: {"external_id": uid("CH"), "amount_fen": 1, "pin": w.card_pin},
            )
        ],
        "prepaid_cards.refund": [
            Case(
                "",
                "post",
                f"/api/v1/prepaid-cards/{w.card_no}/charges/{w.charge_no}/refunds",
                lambda: {"external_id": uid("PRF"), "amount_fen": 1},
                card,
            )
        ],
        "admin.list_staff": [Case("", "get", "/api/v1/staff")],
        "admin.create_staff": [
            Case(
                "",
                "post",
                "/api/v1/staff",
                lambda: {"username": uid("ops").lower(), "role": "marketer"},
            )
        ],
        "admin.update_staff": [
            Case("", "patch", f"/api/v1/staff/{w.staff_user}", lambda: {"active": True})
        ],
        "admin.reset_password": [Case("", "post", f"/api/v1/staff/{w.staff_user}/password-reset")],
        "admin.list_keys": [Case("", "get", "/api/v1/channel-keys")],
        "admin.create_key": [Case("", "post", "/api/v1/channel-keys", lambda: {"channel": "web"})],
        "admin.rotate_key": [
            Case("", "post", f"/api/v1/channel-keys/{w.key_ids[0]}/rotation", lambda: {})
        ],
        "admin.revoke_key": [Case("", "post", f"/api/v1/channel-keys/{w.key_ids[1]}/revocation")],
        "admin.audit_events": [Case("", "get", "/api/v1/audit-events")],
    }
    order_paths = {
        "orders.get_order": ("get", "", None),
        "orders.pay_order": (
            "post",
            "/payments",
            lambda: {
                "external_id": uid("PAY"),
                "amount_fen": 25_800,
                "method": "online",
                "transaction_ref": "WX-2",
            },
        ),
        "orders.cancel_order": ("post", "/cancel", lambda: {}),
        "orders.return_order": ("post", "/returns", lambda: {}),
        "orders.ship_order": ("post", "/shipments", None),
        "orders.deliver_order": ("post", "/delivery", None),
        "orders.reissue_pickup_code": ("post", "/pickup-code", None),
    }
    for endpoint, (method, suffix, body) in order_paths.items():
        table[endpoint] = [
            Case(name, method, f"/api/v1/orders/{no}{suffix}", body, order_facts[name])
            for name, no in order.items()
        ]
    bill_paths = {
        "bills.show": ("get", "", None),
        "bills.status_check": ("post", "/status-check", None),
        "bills.reverse": ("post", "/reversal", lambda: {"external_id": uid("REV")}),
    }
    for endpoint, (method, suffix, body) in bill_paths.items():
        table[endpoint] = [
            Case(name, method, f"/api/v1/bill-payments/{no}{suffix}", body, payment_facts[name])
            for name, no in w.payments.items()
        ]
    return table[operation.endpoint]


STAFF_PASSWORD: list[str] = []
_phones = itertools.count(13600000000)


def fresh_phone() -> str:
    return str(next(_phones))


def related(scope: Scope, caller: Caller, facts: Facts) -> bool:
    """How the table's words apply to what the test knows of the object."""
    if scope is Scope.ANY:
        return True
    if scope is Scope.CREATOR:
        return facts.channel == caller.channel and caller.institution in (None, facts.institution)
    if scope is Scope.OUTLET:
        return (
            caller.channel == "counter"
            and facts.outlet is not None
            and (facts.outlet == caller.institution)
        )
    if scope is Scope.COURIER:
        return caller.channel == "distribution" and facts.outlet is None
    return caller.institution in (None, facts.institution)


def expected(rule: Rule, caller: Caller, facts: Facts | None) -> bool:
    if caller.kind == "none":
        return rule.anonymous
    if caller.kind == "staff":
        return caller.role in rule.staff
    if caller.kind == "member":
        if not rule.member:
            return False
        return rule.target is None or facts is None or facts.member == caller.member
    if caller.channel not in rule.channels:
        return False
    if rule.target is None or facts is None or Scope.ANY in rule.scope:
        return True
    if facts.only_for_channel is not None and facts.only_for_channel != caller.channel:
        return True  # the request names no object of anyone's for this caller
    return any(related(scope, caller, facts) for scope in rule.scope)


def database_digest(db: Any) -> str:
    """Every row of every table but the security bookkeeping, hashed."""
    digest = hashlib.sha256()
    with db.engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name in BOOKKEEPING:
                continue
            rows = connection.execute(select(table).order_by(*table.primary_key.columns))
            for row in rows:
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def test_every_rule_is_a_registered_operation_and_every_operation_has_one():
    endpoints = {operation.endpoint for operation in OPERATIONS}
    assert set(POLICY) == endpoints


def test_the_access_matrix_is_exactly_the_policy(client, db, world, auth, app, staff_token):
    with transaction(db.session_factory) as uow:
        STAFF_PASSWORD[:] = [create_staff_user(uow, "matrix-login", "marketer")]
    tokens = app.extensions[EXTENSION_KEY].tokens
    results: list[str] = []
    failures: list[str] = []
    for operation in sorted(OPERATIONS, key=lambda op: op.endpoint == "auth.log_out"):
        for case in cases(operation, world):
            for caller in CALLERS:
                headers = world.headers[caller.name]
                if operation.endpoint == "auth.log_out" and caller.kind == "staff":
                    headers = auth(staff_token(caller.role))  # a session of its own to end
                if operation.endpoint == "auth.log_out" and caller.kind == "member":
                    headers = auth(tokens.issue(MemberPrincipal(world.member_a)))
                allowed = expected(operation.rule, caller, case.facts)
                before = None if allowed else database_digest(db)
                body = case.body() if case.body is not None else None
                response = client.open(
                    case.path + case.query,
                    method=case.method.upper(),
                    json=body,
                    headers=headers,
                )
                where = f"{operation.endpoint} {case.label} as {caller.name}"
                status = response.status_code
                results.append(f"{where}: {'allowed' if allowed else 'refused'} -> {status}")
                if status >= 500:
                    failures.append(f"{where}: {status} {response.get_data(as_text=True)[:200]}")
                elif allowed and status in (401, 403):
                    failures.append(
                        f"{where}: refused ({status}) but the policy allows it: "
                        f"{response.get_data(as_text=True)[:200]}"
                    )
                elif not allowed:
                    wanted = 401 if caller.kind == "none" else 403
                    if status != wanted:
                        failures.append(f"{where}: {status}, expected {wanted}")
                    elif response.content_type != "application/problem+json":
                        failures.append(f"{where}: refusal is not problem+json")
                    elif database_digest(db) != before:
                        failures.append(f"{where}: refused but the database changed")
    print(f"\naccess matrix: {len(results)} calls")
    assert len(results) >= 14 * len(OPERATIONS)
    assert not failures, "\n".join(failures)
