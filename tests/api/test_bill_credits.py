"""Bill-credit rewards over HTTP: a credit pays towards the member's next bill of its kind
(or the one they choose); the member pays the rest and earns points on that; a declined
or reversed payment gives the credit back."""

from __future__ import annotations

import pytest

from tests.api.support import problem, row_counts
from tests.api.test_bills import (  # noqa: F401
    ACCOUNT,
    CARD,
    DECLINING,
    billers,
    counter,
    looked_up,
    member,
    pay,
    reversal,
)
from tests.api.test_rewards import fund


@pytest.fixture
def credits(client, counter, member):  # noqa: F811
    """Redeem bill credits for the member at the counter: `credits("BILL-GAS-20")` → code."""
    fund(client, counter, member, 10_000)
    count = iter(range(1, 100))

    def redeem(reward):
        body = {"external_id": f"RD-BC-{next(count)}", "member_no": member, "reward_code": reward}
        response = client.post("/api/v1/redemptions", json=body, headers=counter)
        assert response.status_code == 201, response.json
        [credit] = response.json["vouchers"]
        assert credit["applies_to"] == "bill_payment"
        return credit["code"]

    return redeem


def wallet(client, counter, member):  # noqa: F811
    items = client.get(f"/api/v1/members/{member}/vouchers", headers=counter).json["items"]
    return {item["code"][-4:]: item["status"] for item in items}


def test_a_credit_pays_towards_the_next_bill_of_its_kind(client, counter, member, credits):  # noqa: F811
    water = credits("BILL-WATER-10")
    gas = credits("BILL-GAS-20")
    bill = looked_up(client, counter)
    paid = pay(client, counter, bill, member={"card_no": CARD})
    assert paid.status_code == 201, paid.json
    receipt = paid.json
    assert receipt["amount_fen"] == bill["amount_due_fen"]  # the biller gets all of it
    assert receipt["credit_fen"] == 2_000
    assert receipt["collected_fen"] == bill["amount_due_fen"] - 2_000
    # A point per 2 yuan paid, with the tier's bonus (the points bought these credits
    # moved the member up a tier at once).
    tier = client.get(f"/api/v1/members/{member}/tier", headers=counter).json["tier"]
    tiers = {t["code"]: t for t in client.get("/api/v1/tiers").json["items"]}
    base = receipt["collected_fen"] // 200
    assert receipt["points"] == base + base * (tiers[tier]["multiplier_bp"] - 10_000) // 10_000
    assert wallet(client, counter, member) == {gas[-4:]: "used", water[-4:]: "issued"}
    shown = client.get(f"/api/v1/bill-payments/{receipt['payment_no']}", headers=counter)
    assert shown.json["credit_fen"] == 2_000


def test_a_chosen_credit_is_the_one_applied_and_a_wrong_one_is_refused(
    db,
    client,
    counter,  # noqa: F811
    member,  # noqa: F811
    credits,
):
    water = credits("BILL-WATER-10")
    bill = looked_up(client, counter)
    before = row_counts(db)
    for body_changes, field in (
        ({"member": {"card_no": CARD}, "bill_credit_code": water}, "bill_credit_code"),
        ({"bill_credit_code": water}, "bill_credit_code"),  # no member named
        ({"member": {"card_no": CARD}, "bill_credit_code": "no-such"}, "bill_credit_code"),
    ):
        body = {
            "external_id": "CTR-BC-BAD",
            "bill_id": bill["bill_id"],
            "amount_fen": bill["amount_due_fen"],
            **body_changes,
        }
        response = client.post("/api/v1/bill-payments", json=body, headers=counter)
        assert problem(response, 422)["errors"][0]["field"] == field, response.json
    assert row_counts(db) == before
    first, second = credits("BILL-GAS-20"), credits("BILL-GAS-20")
    body = {
        "external_id": "CTR-BC-CHOSEN",
        "bill_id": bill["bill_id"],
        "amount_fen": bill["amount_due_fen"],
        "member": {"card_no": CARD},
        "bill_credit_code": second.replace("-", ""),
    }
    paid = client.post("/api/v1/bill-payments", json=body, headers=counter)
    assert paid.status_code == 201 and paid.json["credit_fen"] == 2_000, paid.json
    statuses = wallet(client, counter, member)
    assert (statuses[first[-4:]], statuses[second[-4:]]) == ("issued", "used")


def test_a_declined_or_reversed_payment_gives_the_credit_back(
    client,
    counter,  # noqa: F811
    member,  # noqa: F811
    credits,
):
    gas = credits("BILL-GAS-20")
    declined = pay(client, counter, looked_up(client, counter, DECLINING), member={"card_no": CARD})
    assert problem(declined, 422)["type"].endswith("/biller-declined")
    assert wallet(client, counter, member)[gas[-4:]] == "issued"
    paid = pay(
        client,
        counter,
        looked_up(client, counter, ACCOUNT),
        external_id="CTR-BC-2",
        member={"card_no": CARD},
    ).json
    assert paid["credit_fen"] == 2_000
    assert wallet(client, counter, member)[gas[-4:]] == "used"
    reversed_ = reversal(client, counter, paid["payment_no"])
    assert reversed_.status_code == 200, reversed_.json
    assert reversed_.json["points_reversed"] == paid["points"]
    assert wallet(client, counter, member)[gas[-4:]] == "issued"
