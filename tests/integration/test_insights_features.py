"""Features as of a day read nothing after it; labels count exactly the horizon after it."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

import warehouse
from tests.integration.insights_world import Warehouse, at, key

T = date(2026, 6, 30)


def reader_of(store: Warehouse) -> Warehouse:
    return store


def history_until(store: Warehouse, last: date) -> None:
    """Member 1 (with a merged duplicate 3) and member 2, with one of every fact on `last`
    or before; events of member 1 at 23:30 on T still belong to T."""
    store.member(1, date(2025, 1, 10))
    store.member(2, date(2026, 3, 1))
    store.member(3, date(2025, 5, 1), survivor_id=1)
    store.purchase(1, date(2025, 12, 1), 30_000, channel="web")
    store.purchase(3, date(2026, 2, 1), 20_000, campaign_ids=[7])
    store.purchase(1, last, 5_000, hour=23, minute=30)
    store.purchase(2, last - timedelta(days=100), 8_000)
    store.add(
        "fact_posting", member_id=1, member_delta=300, date_key=key(last), occurred_at=at(last)
    )
    store.add(
        "fact_lot",
        member_id=1,
        initial=500,
        date_key=key(last - timedelta(days=300)),
        expires_on=last + timedelta(days=30),
    )
    store.add(
        "fact_order",
        member_id=1,
        fulfilment="pickup",
        date_key=key(last - timedelta(days=2)),
        fulfilled_at=at(last, 23, 59),
    )
    store.add(
        "fact_order",
        member_id=2,
        fulfilment="pickup",
        date_key=key(last),
        fulfilled_at=at(last + timedelta(days=1), 0, 30),  # ordered on the day, collected after
    )
    store.add("fact_bill_payment", member_id=2, date_key=key(last))
    store.add("fact_mailing", member_id=1, date_key=key(last))
    store.add("fact_redemption", member_id=1, date_key=key(last))
    store.add("dim_campaign", code="C1", starts_on=last - timedelta(days=10), ends_on=last)
    store.add("dim_campaign_member", campaign_code="C1", member_id=1, in_holdout=False)


def events_after(store: Warehouse, day: date) -> None:
    """One of everything just after the day (from 00:00 the next morning in Shanghai)."""
    after = day + timedelta(days=1)
    store.member(4, after)
    store.purchase(1, after, 99_000, hour=0, minute=0)
    store.purchase(4, after)
    store.add(
        "fact_posting", member_id=1, member_delta=-300, date_key=key(after), occurred_at=at(after)
    )
    store.add("fact_lot", member_id=1, initial=900, date_key=key(after), expires_on=after)
    store.add(
        "fact_order",
        member_id=2,
        fulfilment="pickup",
        date_key=key(after),
        fulfilled_at=at(after, 10),
    )
    store.add("fact_bill_payment", member_id=1, date_key=key(after))
    store.add("fact_mailing", member_id=2, date_key=key(after))
    store.add("fact_redemption", member_id=2, date_key=key(after))
    store.add("dim_campaign", code="C2", starts_on=after, ends_on=after + timedelta(days=9))
    store.add("dim_campaign_member", campaign_code="C2", member_id=2, in_holdout=False)


def test_features_as_of_a_day_ignore_every_event_after_it(tmp_path):
    store = Warehouse(tmp_path / "w.duckdb")
    history_until(store, T)
    before = warehouse.member_features(reader_of(store), T)
    events_after(store, T)
    after = warehouse.member_features(reader_of(store), T)
    pd.testing.assert_frame_equal(before, after)

    one = before.set_index("member_id").loc[1]
    assert list(before["member_id"]) == [1, 2]  # survivors registered by T only
    assert one["recency_days"] == 0  # the 23:30 purchase is T's
    assert one["frequency"] == 3 and one["purchases_ever"] == 3  # the merged record's too
    assert one["monetary_fen"] == 55_000 and one["campaign_purchases"] == 1
    assert one["online_share"] == pytest.approx(1 / 3)
    assert one["points_balance"] == 300 and one["points_expiring"] == 300
    assert one["orders"] == 1 and one["pickups"] == 1
    assert one["mailings"] == 1 and one["redemptions"] == 1 and one["campaigns_offered"] == 1
    two = before.set_index("member_id").loc[2]
    assert two["recency_days"] == 100 and two["bill_payments"] == 1
    assert two["orders"] == 1 and two["pickups"] == 0
    assert two["tenure_days"] == (T - date(2026, 3, 1)).days


def test_labels_count_purchases_in_the_horizon_after_the_day_only(tmp_path):
    store = Warehouse(tmp_path / "w.duckdb")
    store.member(1, date(2026, 1, 1))
    store.member(2, date(2026, 1, 1))
    store.member(3, T + timedelta(days=1))  # not yet a member on T
    store.purchase(1, T)  # on the day: a feature, not a label
    store.purchase(1, T + timedelta(days=31))  # after the horizon
    store.purchase(2, T + timedelta(days=1))
    store.purchase(2, T + timedelta(days=30))
    store.purchase(3, T + timedelta(days=2))
    labels = warehouse.purchases_after(reader_of(store), T, 30)
    assert labels.to_dict("records") == [
        {"member_id": 1, "purchases_after": 0},
        {"member_id": 2, "purchases_after": 2},
    ]
    assert warehouse.purchase_range(reader_of(store)) == (T, T + timedelta(days=31))


def test_an_empty_warehouse_has_no_purchase_range(tmp_path):
    store = Warehouse(tmp_path / "w.duckdb")
    assert warehouse.purchase_range(reader_of(store)) is None
    assert warehouse.member_features(reader_of(store), T).empty
