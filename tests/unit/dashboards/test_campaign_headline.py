"""The campaign page's headline from a computed effect: numbers in 元, the verdict in
words in both languages, and words instead of a number without a holdout."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crm.insights import lift
from dashboards.components import grid_rows
from dashboards.pages import campaigns
from warehouse import CampaignHeadline


def _texts(component: Any) -> list[str]:
    found: list[str] = []
    stack = [component.to_plotly_json() if hasattr(component, "to_plotly_json") else component]
    while stack:
        item = stack.pop()
        if hasattr(item, "to_plotly_json"):
            item = item.to_plotly_json()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


def _headline(shift: float, holdout_pct: int = 30) -> CampaignHeadline:
    rng = np.random.default_rng(5)
    before = rng.lognormal(8, 1, size=400)
    gmv = before * rng.lognormal(0, 0.2, size=400)
    held = np.arange(400) % 3 == 0
    gmv[~held] += shift
    effect = lift.campaign_effect(
        held, gmv, before, gmv > 0, before > 0, points_cost=50_000, fen_per_point=1
    )
    day = date(2024, 9, 1)
    return CampaignHeadline("C", holdout_pct, day, day, day, 1, effect, None)


def test_an_interval_that_includes_zero_is_said_in_words() -> None:
    headline = _headline(0.0)
    assert headline.effect is not None and headline.effect.verdict.includes_zero
    assert "includes zero" in campaigns.headline_sentence(headline, "en")
    assert "包含零" in campaigns.headline_sentence(headline, "zh")


def test_a_clear_effect_says_which_way_and_against_the_cost() -> None:
    headline = _headline(5_000.0)
    effect = headline.effect
    assert effect is not None and not effect.verdict.includes_zero
    sentence = campaigns.headline_sentence(headline, "en")
    assert sentence.startswith("The campaign added ")
    assert f"{effect.incremental_gmv_yuan:,.2f}" in sentence
    assert "more than the 500.00 CNY its points cost" in sentence
    assert "增加交易额" in campaigns.headline_sentence(headline, "zh")


def test_the_headline_cards_show_yuan_roi_and_the_interval() -> None:
    headline = _headline(5_000.0)
    effect = headline.effect
    assert effect is not None
    texts = _texts(campaigns.headline_block(headline, "en"))
    assert f"{effect.incremental_gmv_yuan:,.2f}" in texts
    assert "500.00" in texts  # 50,000 points at 1 fen
    assert effect.roi is not None
    assert f"{effect.roi * 100:+,.1f}%" in texts
    low = effect.incremental_gmv_yuan_interval.low
    assert any(t.startswith(f"95% CI {low:,.2f} ~ ") for t in texts)


@pytest.mark.parametrize(
    ("missing", "words"),
    [("no-holdout", "no holdout: no causal estimate"), ("too-few-members", "fewer than two")],
)
def test_without_an_estimate_the_page_says_why_instead_of_a_number(
    missing: Any, words: str
) -> None:
    day = date(2024, 9, 1)
    headline = CampaignHeadline("C", 0, day, day, day, 1, None, missing)
    assert words in campaigns.headline_sentence(headline, "en")
    texts = _texts(campaigns.headline_block(headline, "en"))
    assert "—" in texts and not any("CI" in t for t in texts)


def test_every_money_column_of_the_campaign_table_is_in_yuan() -> None:
    frame = pd.DataFrame(
        {
            "code": ["A"],
            "name": ["甲"],
            "name_en": ["A"],
            "href": ["/x"],
            "starts_on": [date(2024, 1, 1)],
            "ends_on": [date(2024, 1, 31)],
            "participants": [10],
            "points_cost": [100],
            "budget_used": [0.5],
            "gmv_window_fen": [987_654_321],
            "gmv_baseline_fen": [800_000_000],
            "lift_fen": [1234.0],
            "lift_low_fen": [-56.0],
            "lift_high_fen": [2500.0],
        }
    )
    texts = [
        text for row in grid_rows(campaigns.CAMPAIGN_COLUMNS, frame, "zh") for text in row.values()
    ]
    assert "9,876,543.21" in texts and "12.34" in texts and "-0.56" in texts
    assert not any("万元" in t for t in texts)
