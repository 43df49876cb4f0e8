"""Member prices, a club benefit: the catalogue holds a lower price per tier; a member pays
the lowest of the list price and the prices of their tier and the tiers below it."""

from __future__ import annotations

from sqlalchemy import update

from crm.adapters.orm import Member
from tests.api.support import each_is_problem, problem, row_counts
from tests.api.test_orders import API, order_body, pay

PRODUCT = {
    "sku": "CLUB-KETTLE",
    "name": "电热水壶",
    "category": "home",
    "price_fen": 19900,
    "business_type": "goods",
    "member_prices": {"gold": 15900, "silver": 17900},
}


def _member(client, web, db, phone: str, tier: str) -> str:
    created = client.post(f"{API}/members", json={"phone": phone, "name": "会员"}, headers=web)
    assert created.status_code == 201, created.json
    member_no = created.json["member_no"]
    with db.session_factory() as session, session.begin():
        session.execute(update(Member).where(Member.member_no == member_no).values(tier=tier))
    return str(member_no)


def test_each_tier_pays_its_member_price_and_higher_tiers_the_best_below_them(
    client, staff_token, auth, channel_key, db
):
    admin, web = auth(staff_token("admin")), auth(channel_key("web"))
    created = client.post(f"{API}/products", json=PRODUCT, headers=admin)
    assert created.status_code == 201, created.json
    # Listed lowest tier first, whatever order they were sent in.
    assert list(created.json["member_prices"].items()) == [("silver", 17900), ("gold", 15900)]
    assert client.get(f"{API}/products/CLUB-KETTLE").json["member_prices"] == {
        "silver": 17900,
        "gold": 15900,
    }

    expected = {"regular": 19900, "silver": 17900, "gold": 15900, "diamond": 15900}
    for index, (tier, price) in enumerate(expected.items()):
        member_no = _member(client, web, db, f"1390000{index:04d}", tier)
        order = client.post(
            f"{API}/orders", json=order_body(member_no, sku="CLUB-KETTLE", quantity=2), headers=web
        )
        assert order.status_code == 201, order.json
        assert order.json["total_fen"] == 2 * price, (tier, order.json)
        assert order.json["lines"][0]["unit_price_fen"] == price
        paid = pay(client, web, order.json)
        assert paid.status_code == 201, paid.json

    # A change replaces the member prices; {} removes them.
    changed = client.patch(
        f"{API}/products/CLUB-KETTLE", json={"member_prices": {"diamond": 9900}}, headers=admin
    )
    assert changed.json["member_prices"] == {"diamond": 9900}
    cleared = client.patch(f"{API}/products/CLUB-KETTLE", json={"member_prices": {}}, headers=admin)
    assert cleared.json["member_prices"] == {}


def test_bad_member_prices_name_the_tier_and_change_nothing(client, staff_token, auth, db):
    admin = auth(staff_token("admin"))
    before = row_counts(db)
    each_is_problem(
        [
            ({**PRODUCT, "member_prices": {"platinum": 100}}, "member_prices.platinum"),
            ({**PRODUCT, "member_prices": {"gold": 19900}}, "member_prices.gold"),
            ({**PRODUCT, "member_prices": {"gold": 0}}, "member_prices.gold"),
            ({**PRODUCT, "member_prices": {"gold": "cheap"}}, "member_prices.gold"),
            ({**PRODUCT, "member_prices": ["gold"]}, "member_prices"),
        ],
        lambda case: client.post(f"{API}/products", json=case, headers=admin),
    )
    assert row_counts(db) == before
    assert client.post(f"{API}/products", json=PRODUCT, headers=admin).status_code == 201
    # Lowering the list price to a member price would leave that price pointless.
    problem(
        client.patch(f"{API}/products/CLUB-KETTLE", json={"price_fen": 16900}, headers=admin),
        422,
        "member_prices.silver",
    )
    assert client.get(f"{API}/products/CLUB-KETTLE").json["price_fen"] == 19900
    marketer = auth(staff_token("marketer"))
    assert (
        client.patch(
            f"{API}/products/CLUB-KETTLE", json={"member_prices": {"gold": 1}}, headers=marketer
        ).status_code
        == 403
    )
