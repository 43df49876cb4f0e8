"""Per-member lifetime value: BG/NBD and Gamma-Gamma fitted to daily purchases and
applied to each member's own history."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from crm.insights import FitFailed, NoCustomers, bgnbd, gamma_gamma, member_values, pareto_nbd
from crm.insights.member_value import expected_spend

START = date(2025, 1, 1)
AS_OF = date(2026, 6, 30)


def bgnbd_purchases(members: int, seed: int) -> pd.DataFrame:
    """Daily purchases of a population that follows the models: weekly rate ~ Gamma(0.5,
    4), drop-out after each purchase with p ~ Beta(0.8, 3), spend per purchase Gamma with a
    member-level mean; first purchases in the first half year."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[int, date, int]] = []
    end_days = (AS_OF - START).days
    for member in range(1, members + 1):
        rate = rng.gamma(0.5, 1 / 4) / 7  # per day
        drop = rng.beta(0.8, 3)
        scale = rng.gamma(6, 1 / 4) * 1_000  # this member's spend scale, fen
        day = float(rng.integers(0, 182))
        while day <= end_days:
            rows.append((member, START + timedelta(days=int(day)), int(rng.gamma(4, scale)) + 1))
            if rng.random() < drop:
                break
            day += rng.exponential(1 / rate) if rate > 0 else end_days + 1
    return pd.DataFrame(rows, columns=["member_id", "day", "amount_fen"])


@pytest.fixture(scope="module")
def purchases() -> pd.DataFrame:
    return bgnbd_purchases(3_000, seed=11)


def test_every_buyer_gets_a_value_from_their_own_history(purchases):
    result = member_values(purchases, AS_OF)
    values = result.values.set_index("member_id")
    assert set(values.index) == set(purchases["member_id"])
    assert values["alive"].between(0, 1).all()
    assert (values["expected_purchases"] >= 0).all()

    daily = purchases.groupby(["member_id", "day"])["amount_fen"].sum().reset_index()
    days = daily.groupby("member_id")["day"].count()
    one_timers = days[days == 1].index
    assert (values.loc[one_timers, "alive"] == 1).all()  # no repeat: nothing says gone

    # The value is expected purchases times expected spend, rounded to the fen; a member
    # without repeat purchases is expected to spend the population mean.
    assert result.spend.fit is not None  # spend differs between members here
    assert result.purchases.name == "bgnbd"  # the population follows BG/NBD
    population = gamma_gamma.population_mean_spend(result.spend.fit.params)
    first = values.loc[one_timers]
    assert np.allclose(
        first["expected_value_fen"], np.rint(first["expected_purchases"] * population), atol=0.5
    )


def test_pareto_nbd_stands_in_when_bgnbd_has_no_maximum(purchases, monkeypatch):
    def edge(histories):
        raise FitFailed("BG/NBD: no maximum with parameters within [1e-6, 1e6] (a ran to the edge)")

    monkeypatch.setattr(bgnbd, "fit", edge)
    result = member_values(purchases, AS_OF)
    assert result.purchases.name == "pareto_nbd"
    metrics = result.metrics()["purchases"]
    assert metrics["model"] == "pareto_nbd"
    assert "a ran to the edge" in metrics["passed_over"]["bgnbd"]
    assert {"r", "alpha", "s", "beta"} <= set(metrics)
    assert result.values["alive"].between(0, 1).all()

    monkeypatch.setattr(pareto_nbd, "fit", edge)
    with pytest.raises(FitFailed):
        member_values(purchases, AS_OF)


def test_more_recent_buyers_with_the_same_frequency_are_worth_more():
    rows = [
        # Two members with four purchase days each, one stopped a year ago.
        *[(1, date(2025, 1, 1) + timedelta(days=30 * i), 5_000) for i in range(4)],
        *[(2, date(2026, 3, 1) + timedelta(days=30 * i), 5_000) for i in range(4)],
    ]
    population = bgnbd_purchases(500, seed=3)
    population["member_id"] += 10
    purchases = pd.concat([population, pd.DataFrame(rows, columns=population.columns)])
    values = member_values(purchases, AS_OF).values.set_index("member_id")
    assert values.loc[2, "alive"] > values.loc[1, "alive"]
    assert values.loc[2, "expected_value_fen"] > values.loc[1, "expected_value_fen"]


def test_the_spend_estimate_leans_on_the_members_own_mean():
    params = gamma_gamma.GammaGammaParams(p=6.0, q=4.0, gamma=15.0)
    spend = expected_spend(params, np.array([0.0, 1.0, 20.0]), np.array([np.nan, 100.0, 100.0]))
    assert spend[0] == pytest.approx(gamma_gamma.population_mean_spend(params))
    # More purchases, closer to their own 100.
    assert spend[0] < spend[1] < spend[2] < 100


def test_the_check_predicts_the_later_repeat_purchases(purchases):
    result = member_values(purchases, AS_OF, check_from=AS_OF - timedelta(days=120))
    check = result.check
    assert check is not None and check.actual > 500
    assert check.predicted == pytest.approx(check.actual, rel=0.05)
    metrics = result.metrics()
    assert metrics["check"]["actual"] == check.actual
    assert metrics["expected_value_fen_total"] == int(result.values["expected_value_fen"].sum())


def test_purchases_after_the_day_are_ignored(purchases):
    later = pd.DataFrame([(1, AS_OF + timedelta(days=1), 99_999_999)], columns=purchases.columns)
    before = member_values(purchases, AS_OF).values
    after = member_values(pd.concat([purchases, later]), AS_OF).values
    pd.testing.assert_frame_equal(before, after)


def test_nobody_to_fit_is_said_in_words():
    empty = pd.DataFrame({"member_id": [1], "day": [AS_OF + timedelta(days=1)], "amount_fen": [1]})
    with pytest.raises(NoCustomers):
        member_values(empty, AS_OF)


def test_spend_without_differences_between_members_falls_back_to_the_pooled_mean():
    rng = np.random.default_rng(5)
    purchases = bgnbd_purchases(1_500, seed=5)
    purchases["amount_fen"] = rng.integers(1_000, 50_000, len(purchases))  # one distribution
    result = member_values(purchases, AS_OF)
    assert result.spend.fit is None and "gamma" in (result.spend.fallback_reason or "")
    values = result.values
    expected = np.rint(values["expected_purchases"] * result.spend.pooled_mean)
    assert (values["expected_value_fen"] == expected).all()
    assert result.metrics()["gamma_gamma"]["fallback"]
