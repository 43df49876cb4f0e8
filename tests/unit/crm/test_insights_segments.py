"""RFM quintiles and segment rules: pure functions on frames."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import Invalid
from crm.insights import DEFAULT_SEGMENTS, SegmentRule, assign_segments, quintile_scores
from crm.insights.rfm import rfm_scores
from crm.insights.segments import parse_conditions

values = st.lists(st.one_of(st.none(), st.integers(0, 50)), min_size=1, max_size=200)


@given(values, st.booleans())
def test_quintiles_are_1_to_5_monotone_and_ties_share_a_score(raw, higher_is_better):
    series = pd.Series(raw, dtype="float64")
    scores = quintile_scores(series, higher_is_better=higher_is_better)
    assert scores.between(1, 5).all()
    key = series.fillna(-np.inf if higher_is_better else np.inf)
    if not higher_is_better:
        key = -key
    for i in range(len(series)):
        for j in range(len(series)):
            if key[i] == key[j]:
                assert scores[i] == scores[j]
            elif key[i] > key[j]:
                assert scores[i] >= scores[j]


@given(st.lists(st.integers(), min_size=5, max_size=300, unique=True))
def test_distinct_values_split_into_fifths(raw):
    scores = quintile_scores(pd.Series(raw))
    counts = scores.value_counts()
    assert set(counts.index) == {1, 2, 3, 4, 5}
    assert counts.max() - counts.min() <= 1


def test_missing_recency_is_the_worst_and_short_recency_the_best():
    features = pd.DataFrame(
        {
            "recency_days": [None, 1, 400, 30, 90],
            "frequency": [0, 12, 1, 4, 2],
            "monetary_fen": [0, 90_000, 1_000, 20_000, 5_000],
        }
    )
    rfm = rfm_scores(features)
    assert rfm["r"].tolist() == [1, 5, 2, 4, 3]
    assert rfm["f"].tolist() == [1, 5, 2, 4, 3]
    assert rfm["m"].tolist() == [1, 5, 2, 4, 3]
    assert quintile_scores(pd.Series([], dtype="float64")).empty


def frame(**columns):
    base = {"r": 3, "f": 2, "m": 3, "tenure_days": 400, "recency_days": 30, "frequency": 3}
    base.update(columns)
    return pd.DataFrame({name: [value] for name, value in base.items()})


@pytest.mark.parametrize(
    ("row", "segment"),
    [
        ({"tenure_days": 20, "recency_days": None}, "new"),
        ({"recency_days": None}, "lost"),
        ({"recency_days": 200, "r": 5, "f": 5, "m": 5}, "lost"),
        ({"r": 5, "f": 4, "m": 4}, "champions"),
        ({"r": 2, "f": 5}, "at_risk"),
        ({"r": 5, "f": 1}, "potential"),
        ({}, "regular"),
    ],
)
def test_default_rules_in_priority_order(row, segment):
    assert assign_segments(frame(**row), DEFAULT_SEGMENTS).tolist() == [segment]


@given(
    st.lists(
        st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(0, 900)),
        min_size=1,
        max_size=50,
    )
)
def test_every_member_lands_in_exactly_one_known_segment(rows):
    data = pd.DataFrame(rows, columns=["r", "f", "m", "tenure_days"])
    data["recency_days"] = data["tenure_days"] // 3
    data["frequency"] = data["f"]
    codes = assign_segments(data, DEFAULT_SEGMENTS)
    assert len(codes) == len(data)
    assert set(codes) <= {rule.code for rule in DEFAULT_SEGMENTS}


def test_rules_round_trip_through_their_json_and_bad_rules_name_the_field():
    for rule in DEFAULT_SEGMENTS:
        assert parse_conditions(rule.as_json()) == dict(rule.conditions)
    for text, field in [
        ('{"x": [1, 2]}', "rule.x"),
        ('{"r": [3, 1]}', "rule.r"),
        ('{"r": [1]}', "rule.r"),
        ('{"r": ["1", 2]}', "rule.r"),
        ("[1]", "rule"),
        ("{", "rule"),
    ]:
        with pytest.raises(Invalid) as caught:
            parse_conditions(text)
        assert caught.value.errors[0].field == field
    with pytest.raises(Invalid):
        assign_segments(frame(), [])


def test_a_custom_rule_set_is_applied_as_data():
    rules = [
        SegmentRule("vip", "贵宾", "VIP", 1, parse_conditions(json.dumps({"m": [5, None]}))),
        SegmentRule("rest", "其他", "Rest", 2, {}),
    ]
    assert assign_segments(frame(m=5), rules).tolist() == ["vip"]
    assert assign_segments(frame(m=4), rules).tolist() == ["rest"]
