"""What `memberhub demo` prints: the history in numbers, logins, keys and curl calls to try."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import crm
from common.clock import SHANGHAI
from common.db import read_session
from memberhub.demo.people import COUNTER_OUTLET, DEMO_PASSWORD, SimMember
from memberhub.demo.post_office import example_account
from memberhub.demo.world import World
from memberhub.reference_data import REWARDS
from storefront_api import bills, catalogue, orders

ORDER_STATUSES = tuple(orders.OrderStatus)
ORDER_METHODS = tuple(orders.PaymentMethod)
# The product of the printed order example: a gift box collected at the demo outlet.
EXAMPLE_SKU = "MA-PJL-MOONCAKE-01"
EXAMPLE_VOUCHER = "VOUCHER-MALL-10"


def lines(
    world: World,
    postings: int,
    campaigns: Sequence[tuple[str, int, int, int]],
    staff: Sequence[tuple[str, str, str]],
    keys: Sequence[tuple[str, str | None, str]],
    demo: SimMember,
    balance: dict[str, Any],
    base_url: str,
) -> list[str]:
    """`campaigns` are (code, holdout %, budget, points awarded)."""
    url = world.runtime.engine.url.render_as_string(hide_password=True)
    c = world.counts
    printed = [
        f"database      {url}",
        (
            f"history       {c.members} members ({c.joined_before} joined before "
            f"{world.start}), {c.visits} visits to {world.end} ({c.responses} drawn by "
            f"campaign offers), {c.accruals} till sales ({c.points_earned} points, "
            f"{c.prehistory_sales} of them from the year before), {c.refunds} refunds, "
            f"{c.redemptions} redemptions ({c.cancellations} cancelled, {c.declined} declined), "
            f"{c.merges} merges ({c.unmerges} undone, {c.unmerged_points_spent} of their points "
            f"used meanwhile), {c.job_runs} job runs ({c.expired_points} points expired in "
            f"{c.expired_lots} lots), {postings} postings; ledger and prepaid cards verified"
        ),
        "campaigns     "
        + (
            "; ".join(
                f"{code} {awarded}/{budget} points, {holdout}% holdout"
                for code, holdout, budget, awarded in campaigns
            )
            or "none in this window"
        ),
        *_commerce_lines(world),
        _club_line(world),
        "staff logins  (username / role / password; POST /api/v1/auth/staff-token)",
    ]
    printed += [f"staff         {u} / {r} / {p}" for u, r, p in staff]
    printed.append("channel keys  (channel / institution / key; Authorization: Bearer <key>)")
    printed += [f"channel key   {ch} / {inst or '-'} / {key}" for ch, inst, key in keys]
    printed.append("demo member   (member_no / phone / password; POST /api/v1/auth/member-token)")
    printed.append(
        f"member        {demo.member_no} / {demo.phone} / {DEMO_PASSWORD}  ({demo.name})"
    )
    printed.append(f"              available {balance['available']}, pending {balance['pending']}")
    return (
        printed + _examples(world, keys, demo, base_url) + _trust_examples(world, staff, base_url)
    )


def _club_line(world: World) -> str:
    with read_session(world.runtime.session_factory) as session:
        club = crm.club.club_summary(session)
    members = ", ".join(f"{tier} {n}" for tier, n in club["members"].items())
    return (
        f"club          自邮一族 {members}; {club['upgrades']} upgrades at once, "
        f"{club['downgrades']} downgrades at reviews, {club['in_grace']} members in grace; "
        f"{world.counts.birthday_bonuses} birthday bonuses ({world.counts.birthday_points} points)"
    )


def _commerce_lines(world: World) -> list[str]:
    c = world.counts
    statuses = Counter(world.orders.values())
    by_status = ", ".join(f"{statuses[s]} {s}" for s in ORDER_STATUSES if statuses[s])
    by_channel = ", ".join(f"{channel} {n}" for channel, n in sorted(c.order_channels.items()))
    by_method = ", ".join(f"{m} {c.order_methods[m]}" for m in ORDER_METHODS if c.order_methods[m])
    return [
        (
            f"orders        {len(world.orders)} orders ({by_status}); "
            f"{c.pickups_expired} pickups expired uncollected, {c.unpaid_expired} never paid, "
            f"{c.orders_refused} refused (stock, purchase limits, points or card balance)"
        ),
        (
            f"order mix     by channel {by_channel}; paid {by_method}; "
            f"{c.philately_orders} philately; {c.deliveries} delivered, "
            f"{c.free_deliveries} of them free (gold and diamond), "
            f"{c.delivery_fees_fen / 100:,.2f} 元 in delivery fees"
        ),
        (
            f"bills         {c.bill_payments} bill payments ({c.bills_reversed} reversed the "
            f"same day, {c.bills_late} answered late and settled), {c.bills_declined} declined"
        ),
        f"mail          {c.mailings} mailings, {c.mail_events} tracking events",
        (
            f"vouchers      {c.vouchers_issued} vouchers and bill credits issued by redemptions, "
            f"{c.vouchers_used} taken off orders and postage, {c.bill_credits} bills paid "
            f"towards by a credit; {c.reward_orders} goods rewards ordered, "
            f"{c.miles_rewards} miles rewards sent to the airline"
        ),
        (
            f"subscriptions {c.subscriptions} subscriptions "
            f"({c.subscriptions_cancelled} cancelled mid-term)"
        ),
        (
            f"cards         {c.cards} prepaid cards issued, {c.card_top_ups} top-ups, "
            f"{c.card_payments} paid at tills"
        ),
    ]


def _examples(
    world: World, keys: Sequence[tuple[str, str | None, str]], demo: SimMember, base_url: str
) -> list[str]:
    """Curl calls to paste, in order; the shell variables carry answers to later calls."""
    api = f"{base_url}/api/v1"
    key = {channel: value for channel, _, value in keys}
    counter = f"-H 'Authorization: Bearer {key['counter']}'"
    app = f"-H 'Authorization: Bearer {key['app']}'"
    member = '-H "Authorization: Bearer $TOKEN"'
    json_header = "-H 'Content-Type: application/json'"
    moment = world.now.astimezone(SHANGHAI).replace(microsecond=0)
    stamp = f"{moment:%Y%m%d}"
    accrual = {
        "external_id": f"POS-{COUNTER_OUTLET}-{stamp}-DEMO01",
        "member": {"phone": demo.phone},
        "institution_code": COUNTER_OUTLET,
        "occurred_at": moment.isoformat(),
        "business_type": "goods",
        "lines": [
            {"sku": "FD-TEA-LONGJING", "category": "food", "quantity": 1, "amount_fen": 29800}
        ],
        "total_fen": 29800,
        "payment_method": "cash",
    }
    login = {"phone": demo.phone, "password": DEMO_PASSWORD}
    redemption = {
        "external_id": f"APP-RD-{stamp}-DEMO01",
        "member_no": demo.member_no,
        "reward_code": EXAMPLE_VOUCHER,
        "quantity": 1,
    }
    order = {
        "external_id": f"APP-OD-{stamp}-DEMO01",
        "member_no": demo.member_no,
        "lines": [{"sku": EXAMPLE_SKU, "quantity": 1}],
        "fulfillment": {"type": "pickup", "outlet_code": COUNTER_OUTLET},
        "payment": {"method": "online", "voucher_code": "$VOUCHER"},
    }
    price = next(p.price_fen for p in catalogue.PRODUCTS if p.sku == EXAMPLE_SKU)
    voucher_fen = next(r.value_fen for r in REWARDS if r.code == EXAMPLE_VOUCHER)
    assert voucher_fen is not None
    payment = {
        "external_id": f"APP-PAY-{stamp}-DEMO01",
        "amount_fen": price - voucher_fen,
        "method": "online",
        "transaction_ref": f"WX{moment:%Y%m%d%H%M%S}DEMO01",
    }
    verify = {"outlet_code": COUNTER_OUTLET, "pickup_code": "$CODE"}
    water = world.billers["water"]
    account = example_account(demo.phone)
    bill_query = {"biller_code": water, "account_no": account}
    bill_payment = {
        "external_id": f"POS-{COUNTER_OUTLET}-{stamp}-BILL01",
        "bill_id": "$BILL",
        "amount_fen": _amount_due(world, "water", account),
        "member": {"phone": demo.phone},
    }
    printed = [
        "try it       (with the server running)",
        "  # 1. a counter sale at the demo outlet earns points",
        f"  curl -s -X POST {api}/accruals {counter} {json_header} -d '{_json(accrual)}'",
        "  # 2. the member logs in",
        f"  TOKEN=$(curl -s -X POST {api}/auth/member-token {json_header} -d '{_json(login)}'"
        f" | {_read('access_token')})",
        "  # 3. balance, pending and expiring points",
        f"  curl -s {api}/members/{demo.member_no}/points {member}",
        "  # 4. spend 1,000 points on a 10 yuan mall voucher; the member's vouchers",
        f"  VOUCHER=$(curl -s -X POST {api}/redemptions {member} {json_header}"
        f" -d '{_json(redemption)}' | {_read_first('vouchers', 'code')})",
        f"  curl -s {api}/members/{demo.member_no}/vouchers {member}",
        "  # 5. the app orders a mooncake gift box to collect at the demo outlet, with the",
        "  #    voucher off the price, and pays the rest online",
        f"  ORDER=$(curl -s -X POST {api}/orders {app} {json_header} -d {_shell_json(order)}"
        f" | {_read('order_no')})",
        f'  CODE=$(curl -s -X POST "{api}/orders/$ORDER/payments" {app} {json_header}'
        f" -d '{_json(payment)}' | {_read('pickup_code')})",
        "  # 6. the counter hands it over on the pickup code; the member's orders and timeline",
        f"  curl -s -X POST {api}/pickups/verify {counter} {json_header} -d {_shell_json(verify)}",
        f"  curl -s {api}/members/{demo.member_no}/orders {member}",
        f"  curl -s {api}/members/{demo.member_no}/activity {member}",
        "  # 7. the member's water bill, looked up and paid at the counter",
        f"  BILL=$(curl -s -X POST {api}/bills/query {counter} {json_header}"
        f" -d '{_json(bill_query)}' | {_read('bill_id')})",
        f"  curl -s -X POST {api}/bill-payments {counter} {json_header}"
        f" -d {_shell_json(bill_payment)}",
    ]
    tracked = demo.owner().mailings or world.mailings
    if tracked:
        printed += [
            "  # 8. anyone with a tracking number follows the item",
            f"  curl -s {api}/mailings/{tracked[0]}",
        ]
    return printed


# A phone the demo's generator never hands out (its numbers start 13x-18x).
NEW_PHONE = "19900000001"


def _trust_examples(
    world: World, staff: Sequence[tuple[str, str, str]], base_url: str
) -> list[str]:
    """Self-registration with the code the sandbox SMS sender writes down, and the audit log."""
    api = f"{base_url}/api/v1"
    json_header = "-H 'Content-Type: application/json'"
    outbox = world.runtime.settings.sms_outbox.resolve()
    admin = next((password for user, role, password in staff if role == "admin"), None)
    printed = [
        f"  # 9. register yourself: the code goes to the phone (the sandbox writes it to {outbox})",
        f"  curl -s -X POST {api}/verification-codes {json_header}"
        f" -d {_json({'phone': NEW_PHONE})!r}",
        f"  OTP=$(tail -1 {outbox} | {_read('code')})",
        f"  curl -s -X POST {api}/members {json_header}"
        + " -d "
        + _shell_json({"phone": NEW_PHONE, "name": "试用会员", "verification_code": "$OTP"}),
    ]
    if admin is not None:
        login = {"username": "admin", "password": admin}
        printed += [
            "  # 10. the admin reads the audit log: staff actions, writes by channel keys, logins",
            f"  ADMIN=$(curl -s -X POST {api}/auth/staff-token {json_header}"
            f" -d {_json(login)!r} | {_read('access_token')})",
            f'  curl -s "{api}/audit-events?limit=5" -H "Authorization: Bearer $ADMIN"',
        ]
    return printed


def _json(body: object) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(", ", ": "))


def _shell_json(body: object) -> str:
    """The body in double quotes, so that the shell fills in the $VARIABLES in it."""
    return '"' + _json(body).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _read(name: str) -> str:
    return f"python3 -c 'import json,sys; print(json.load(sys.stdin)[\"{name}\"])'"


def _read_first(items: str, name: str) -> str:
    return f'python3 -c \'import json,sys; print(json.load(sys.stdin)["{items}"][0]["{name}"])\''


def _amount_due(world: World, kind: str, account_no: str) -> int:
    """What the sandbox bills the account each month (the amount does not depend on the month)."""
    biller = world.biller_for(bills.BillerInfo(world.billers[kind], "", kind, "sandbox"))
    bill = biller.query_bill(account_no)
    return bill.amount_due_fen if bill is not None else 0
