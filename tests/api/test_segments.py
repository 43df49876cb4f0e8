"""Member scores trained from a warehouse, stored per run, served as segments: the whole
path from `train_insights` to GET /segments, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from common.db import read_session
from crm.insights import FitFailed, NotEnoughData
from crm.insights.orm import InsightRun, MemberScore
from crm.insights.queries import latest_run
from memberhub.insights_jobs import describe_metrics, train_if_due, train_insights
from tests.integration.insights_world import Warehouse, add_crm_members, btyd_population

API = "/api/v1"
END = date(2026, 11, 30)
MEMBERS = 240


@pytest.fixture
def trained(db, tmp_path):
    ids = add_crm_members(db.session_factory, MEMBERS)
    store = Warehouse(tmp_path / "warehouse.duckdb")
    btyd_population(store, ids, END)
    store.close()
    runtime = replace(db, settings=replace(db.settings, warehouse_path=store.path))
    metrics = train_insights(runtime, END, horizon_days=60, sync=False)
    return runtime, metrics, ids


def counts(runtime):
    with read_session(runtime.session_factory) as session:
        runs = session.scalar(select(func.count()).select_from(InsightRun))
        scores = session.scalar(select(func.count()).select_from(MemberScore))
    return runs, scores


def test_a_run_scores_every_member_and_training_again_replaces_it(trained):
    runtime, metrics, _ = trained
    assert metrics["members"] == MEMBERS
    assert metrics["test_as_of"] == "2026-10-01" and metrics["train_as_of"] == "2026-08-02"
    assert 0 < metrics["roc_auc"] <= 1 and 0 < metrics["baseline_roc_auc"] <= 1
    assert sum(row["members"] for row in metrics["calibration"]) == metrics["test_members"]
    assert sum(metrics["segments"].values()) == MEMBERS
    assert counts(runtime) == (1, MEMBERS)
    value = metrics["lifetime_value"]
    assert 0 < value["customers"] <= MEMBERS
    assert value["purchases"]["model"] in ("bgnbd", "pareto_nbd")
    assert value["check"]["calibration_end"] == "2026-10-01" and value["check"]["actual"] > 0
    with read_session(runtime.session_factory) as session:
        valued = session.scalar(
            select(func.count()).where(MemberScore.expected_value_fen.is_not(None))
        )
        total = session.scalar(select(func.sum(MemberScore.expected_value_fen)))
    assert valued == value["customers"]
    assert abs(total - value["expected_value_fen_total"]) <= valued  # rounding per member

    again = train_insights(runtime, END, horizon_days=60, sync=False)
    assert again["roc_auc"] == metrics["roc_auc"]  # same data, same model, same answer
    assert counts(runtime) == (1, MEMBERS)

    train_insights(runtime, END - timedelta(days=7), horizon_days=60, sync=False)
    assert counts(runtime) == (2, 2 * MEMBERS)
    with read_session(runtime.session_factory) as session:
        # A run trained later for an earlier day (a backfill) is not the latest.
        assert latest_run(session).as_of == END
    assert train_if_due(runtime, END + timedelta(days=3)).startswith("not due")


def test_a_purchase_model_that_cannot_be_fitted_leaves_values_empty_not_the_run(
    trained, monkeypatch
):
    runtime, _, _ = trained

    def no_fit(*args, **kwargs):
        raise FitFailed("BG/NBD did not converge: a ran to the edge")

    monkeypatch.setattr("crm.insights.member_values", no_fit)
    metrics = train_insights(runtime, END, horizon_days=60, sync=False)
    assert metrics["lifetime_value"] == {"not_fitted": "BG/NBD did not converge: a ran to the edge"}
    assert "lifetime value not fitted: BG/NBD" in "\n".join(describe_metrics(metrics))
    with read_session(runtime.session_factory) as session:
        scored = session.scalar(select(func.count()).select_from(MemberScore))
        valued = session.scalar(
            select(func.count()).where(MemberScore.expected_value_fen.is_not(None))
        )
    assert (scored, valued) == (MEMBERS, 0)


def test_training_with_a_sync_syncs_again_once_its_run_is_stored(trained, monkeypatch):
    runtime, _, _ = trained
    runs_at_each_sync = []
    monkeypatch.setattr(
        "memberhub.insights_jobs.warehouse.sync_warehouse",
        lambda engine, path: runs_at_each_sync.append(counts(runtime)[0]),
    )
    train_insights(runtime, END - timedelta(days=14), horizon_days=60, sync=True)
    # Before: the facts it reads; after: the run, for the Members page.
    assert runs_at_each_sync == [1, 2]


def test_too_short_a_history_is_refused_in_words(trained):
    runtime, _, _ = trained
    with pytest.raises(NotEnoughData, match="needs history from"):
        train_insights(runtime, END - timedelta(days=300), horizon_days=90, sync=False)


def test_weekly_retraining_skips_without_a_warehouse(db, tmp_path):
    runtime = replace(db, settings=replace(db.settings, warehouse_path=tmp_path / "none.duckdb"))
    assert train_if_due(runtime, END).startswith("skipped: no warehouse")


def test_segments_list_their_rules_names_and_sizes(trained, client, staff_token, auth):
    response = client.get(f"{API}/segments", headers=auth(staff_token("marketer")))
    assert response.status_code == 200
    body = response.json
    assert body["as_of"] == END.isoformat() and body["model_version"]
    codes = {item["code"]: item for item in body["items"]}
    assert {"champions", "lost", "new", "at_risk", "potential", "regular"} <= set(codes)
    assert codes["champions"]["name"] == "高价值忠诚"
    assert codes["champions"]["rule"] == {"f": [4, 5], "m": [4, 5], "r": [4, 5]}
    assert sum(item["member_count"] for item in body["items"]) == MEMBERS


def biggest_segment(client, headers):
    items = client.get(f"{API}/segments", headers=headers).json["items"]
    best = max(items, key=lambda item: item["member_count"])
    return best["code"], best["member_count"]


def test_members_of_a_segment_page_through_masked_for_marketers(trained, client, staff_token, auth):
    marketer, admin = auth(staff_token("marketer")), auth(staff_token("admin"))
    code, size = biggest_segment(client, marketer)
    seen, cursor = [], None
    while True:
        query = f"?limit=7&cursor={cursor}" if cursor else "?limit=7"
        page = client.get(f"{API}/segments/{code}/members{query}", headers=marketer)
        assert page.status_code == 200, page.json
        seen += page.json["items"]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == size == len({item["member_no"] for item in seen})
    assert all("****" in item["phone"] and item["name"] == "王*" for item in seen)
    whole = client.get(f"{API}/segments/{code}/members?limit=3", headers=admin).json["items"]
    assert whole[0]["name"] == "王小明" and "*" not in whole[0]["phone"]

    risky = client.get(f"{API}/segments/{code}/members?min_churn_risk=0.6&limit=500", headers=admin)
    assert all(item["churn_risk"] >= 0.6 for item in risky.json["items"])


def test_the_csv_export_holds_every_member_masked_by_role(trained, client, staff_token, auth):
    marketer, admin = auth(staff_token("marketer")), auth(staff_token("admin"))
    code, size = biggest_segment(client, marketer)
    for headers, masked in ((marketer, True), (admin, False)):
        response = client.get(f"{API}/segments/{code}/members.csv", headers=headers)
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert f"segment-{code}.csv" in response.headers["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
        assert len(rows) == size
        assert all(("****" in row["phone"]) == masked for row in rows)
        assert all((row["name"] == "王*") == masked for row in rows)


def test_a_members_scores(trained, client, staff_token, auth):
    runtime, _, ids = trained
    marketer = auth(staff_token("marketer"))
    response = client.get(f"{API}/members/{ids[0]:012d}/scores", headers=marketer)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["member_no"] == f"{ids[0]:012d}" and body["as_of"] == END.isoformat()
    assert set(body["rfm"]) == {"r", "f", "m"} and 0 <= body["churn_risk"] <= 1
    assert body["segment"]["code"] and body["segment"]["name_en"]
    # A buyer's lifetime value, as stored by the run (integers, scaled back here).
    with read_session(runtime.session_factory) as session:
        stored = session.execute(
            select(
                MemberScore.expected_value_fen,
                MemberScore.alive_bp,
                MemberScore.expected_purchases_x100,
            ).where(MemberScore.member_id == ids[0])
        ).one()
    if stored.expected_value_fen is None:  # bought nothing in the generated history
        assert body["alive"] is None and body["expected_purchases"] is None
    else:
        assert body["expected_value_fen"] == stored.expected_value_fen >= 0
        assert body["alive"] == stored.alive_bp / 10_000
        assert body["expected_purchases"] == stored.expected_purchases_x100 / 100


def test_unscored_unknown_and_bad_requests_are_problems(trained, db, client, staff_token, auth):
    marketer = auth(staff_token("marketer"))
    [newcomer] = add_crm_members(db.session_factory, 1, start_id=71_000_000)
    response = client.get(f"{API}/members/{newcomer:012d}/scores", headers=marketer)
    assert response.status_code == 404
    assert response.json["type"].endswith("member-not-scored")
    for path in ("/segments/nobody/members", "/segments/nobody/members.csv"):
        response = client.get(API + path, headers=marketer)
        assert response.status_code == 404, path
        assert response.content_type == "application/problem+json"
        assert response.json["type"].endswith("unknown-segment")
    for query, field in (
        ("?limit=0", "limit"),
        ("?min_churn_risk=2", "min_churn_risk"),
        ("?max_churn_risk=nan", "max_churn_risk"),
        ("?cursor=%25%25", "cursor"),
        ("?colour=red", "colour"),
    ):
        response = client.get(f"{API}/segments/lost/members{query}", headers=marketer)
        assert response.status_code == 422, query
        assert response.content_type == "application/problem+json"
        assert response.json["errors"][0]["field"] == field, query


def test_before_any_training_segments_are_empty_not_errors(db, client, staff_token, auth):
    marketer = auth(staff_token("marketer"))
    body = client.get(f"{API}/segments", headers=marketer).json
    assert body["as_of"] is None and all(item["member_count"] == 0 for item in body["items"])
    page = client.get(f"{API}/segments/lost/members", headers=marketer)
    assert page.status_code == 200 and page.json["items"] == []
