"""The 自邮一族 club over HTTP: the tiers anyone may read, and a member's standing."""

from __future__ import annotations

from tests.api.support import problem
from tests.api.test_rewards import counter, fund, new_member  # noqa: F401


def test_anyone_reads_the_tiers_with_what_earns_them(client):
    items = client.get("/api/v1/tiers").json["items"]
    assert [t["code"] for t in items] == ["regular", "silver", "gold", "diamond"]
    silver = items[1]
    assert (silver["min_points_12m"], silver["min_spend_fen_12m"], silver["multiplier_bp"]) == (
        2_000,
        300_000,
        11_000,
    )
    assert (silver["grace_days"], silver["campaign_bonus_qualifies"]) == (90, False)


def test_a_member_moves_up_at_once_and_reads_their_standing(
    client,
    counter,  # noqa: F811
    new_member,  # noqa: F811
    auth,
    channel_key,
):
    member_no, me = new_member("13900004444")
    assert client.get(f"/api/v1/members/{member_no}/tier", headers=me).json["tier"] == "regular"
    fund(client, counter, member_no, 2_500)
    status = client.get(f"/api/v1/members/{member_no}/tier", headers=me)
    assert status.status_code == 200, status.json
    body = status.json
    assert (body["tier"], body["qualifying_points_12m"], body["grace_until"]) == (
        "silver",
        2_500,
        None,
    )
    assert body["next_tier"]["tier"] == "gold" and body["next_tier"]["points_needed"] == 5_500
    assert [(c["from_tier"], c["to_tier"], c["reason"]) for c in body["history"]] == [
        ("regular", "silver", "upgrade")
    ]
    other_no, _ = new_member("13900005555")
    assert problem(client.get(f"/api/v1/members/{other_no}/tier", headers=me), 403)
    assert client.get(f"/api/v1/members/{member_no}/points", headers=me).json["tier"] == "silver"
