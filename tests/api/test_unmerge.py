"""Undoing a merge over HTTP: admin only, from the merge's number, answered in full;
an unknown, repeated or blocked undo is a problem that changes nothing."""

from __future__ import annotations

import pytest

from common.codes import STAFF_ROLES
from tests.api.support import problem, row_counts, self_register


@pytest.fixture
def merged(client, staff_token, auth):
    """(survivor, absorbed, merge_no) of a fresh merge."""
    survivor = self_register(client, {"phone": "13900000011", "name": "王五"}).json["member_no"]
    absorbed = self_register(client, {"phone": "13900000012", "name": "王五"}).json["member_no"]
    response = client.post(
        "/api/v1/members/merge",
        json={"survivor": survivor, "absorbed": absorbed},
        headers=auth(staff_token("admin")),
    )
    assert response.status_code == 200
    return survivor, absorbed, response.json["merge_no"]


def test_an_admin_finds_the_merge_and_undoes_it(client, staff_token, auth, merged):
    survivor, absorbed, merge_no = merged
    admin = auth(staff_token("admin"))
    listed = client.get(f"/api/v1/members/{absorbed}/merges", headers=admin)
    assert listed.status_code == 200
    assert [(m["merge_no"], m["survivor"], m["undone_at"]) for m in listed.json["merges"]] == [
        (merge_no, survivor, None)
    ]

    response = client.post(f"/api/v1/members/merges/{merge_no}/undo", headers=admin)

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    assert (body["restored"]["member_no"], body["restored"]["status"]) == (absorbed, "active")
    assert body["survivor"]["member_no"] == survivor
    assert body["identifiers_returned"] >= 1
    assert body["spent_by_survivor"] == {"points": 0, "redemptions": []}
    assert body["balance"] == {"available": 0, "pending": 0, "negative_debt": None}
    profile = client.get(f"/api/v1/members/{absorbed}", headers=admin).json
    assert profile["status"] == "active" and "merged_into" not in profile
    again = client.get(f"/api/v1/members/{survivor}/merges", headers=admin).json["merges"]
    assert again[0]["undone_by"] == "staff:admin-api-test"


def test_an_unknown_or_repeated_undo_is_a_problem_and_writes_nothing(
    client, db, staff_token, auth, merged
):
    _, _, merge_no = merged
    admin = auth(staff_token("admin"))
    before = row_counts(db)
    problem(client.post("/api/v1/members/merges/MG0000000000/undo", headers=admin), 404)
    assert row_counts(db) == before
    assert client.post(f"/api/v1/members/merges/{merge_no}/undo", headers=admin).status_code == 200
    after_undo = row_counts(db)
    problem(client.post(f"/api/v1/members/merges/{merge_no}/undo", headers=admin), 409)
    assert row_counts(db) == after_undo


@pytest.mark.parametrize("role", sorted(set(STAFF_ROLES) - {"admin"}))
def test_only_an_admin_may_undo_a_merge(client, db, staff_token, auth, merged, role):
    _, absorbed, merge_no = merged
    before = row_counts(db)
    problem(
        client.post(f"/api/v1/members/merges/{merge_no}/undo", headers=auth(staff_token(role))),
        403,
    )
    problem(client.post(f"/api/v1/members/merges/{merge_no}/undo"), 401)
    problem(client.get(f"/api/v1/members/{absorbed}/merges", headers=auth(staff_token(role))), 403)
    assert row_counts(db) == before
