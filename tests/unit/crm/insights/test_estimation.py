"""The optimiser's evaluation budget: a likelihood without a maximum fails in bounded work."""

from __future__ import annotations

import numpy as np
import pytest

from crm.insights import FitFailed
from crm.insights.estimation import MAX_EVALUATIONS, Objective, maximise


def test_an_objective_with_no_maximum_fails_within_the_budget_of_evaluations():
    calls = 0
    rng = np.random.default_rng(1)

    def noisy(x):
        # Noise far above the gradient tolerance: no point ever passes as a maximum, and
        # Nelder-Mead's simplex never settles.
        nonlocal calls
        calls += 1
        return float((x**2).sum() + rng.normal() * 1e-3)

    with pytest.raises(FitFailed, match="no maximum found within"):
        maximise(Objective(noisy), (1.0, 1.0), model="noisy", names=("u", "v"))
    # The gradient checks and the last L-BFGS-B step may go a little past the budget.
    assert calls <= MAX_EVALUATIONS + 100


def test_a_plain_maximum_is_found_in_a_few_evaluations():
    def bowl(x):
        return float(((x - np.log([2.0, 3.0])) ** 2).sum())

    optimum = maximise(Objective(bowl), (1.0, 1.0), model="bowl", names=("u", "v"))
    assert optimum.params == pytest.approx((2.0, 3.0), rel=1e-5)
    assert optimum.evaluations < 200
