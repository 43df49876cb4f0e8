"""Maximum likelihood over log-parameters: L-BFGS-B, with Nelder-Mead when it stalls.

Every model parameter is positive, so the optimiser works on their logarithms: no bound is
ever hit at zero, steps are relative, and the same default start (every parameter 1) suits
parameters that differ by orders of magnitude. Objectives are the mean negative
log-likelihood per customer, so tolerances mean the same for 2,000 customers as for a
million.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from threadpoolctl import threadpool_limits

from crm.insights.errors import FitFailed
from crm.insights.summary import FloatArray

# Parameters are searched within [1e-6, 1e6]: wide enough for any purchase data measured in
# weeks, narrow enough that every likelihood stays finite (tests/unit/crm/insights checks).
LOG_BOUND = float(np.log(1e6))
# A maximum is accepted where no parameter's log moves the mean log-likelihood by more
# than this per unit: at 1e-6 the parameters sit within about 1e-5 (relative) of the exact
# maximum for any data set of a few hundred customers or more.
GRADIENT_TOLERANCE = 1e-6

# A maximum must curve down in every direction: the Hessian of the mean negative
# log-likelihood in log-parameters is positive definite. Its least eigenvalue is about 1e-3
# on CDNOW, exactly 0 where a parameter has no effect (a and b when nobody bought twice).
MIN_CURVATURE = 1e-7

# Every fit that converges takes a few hundred evaluations (CDNOW's Pareto/NBD 243, a
# million customers' fewer). Data that do not identify a model send the optimiser towards
# a bound, where Nelder-Mead could crawl for tens of thousands of evaluations, each a
# hypergeometric function per history for Pareto/NBD: minutes before failing anyway.
MAX_EVALUATIONS = 1_500

ValueAndGradient = Callable[[FloatArray], tuple[float, FloatArray]]


@dataclass(frozen=True)
class Objective:
    """The mean negative log-likelihood of log-parameters, with its gradient when the model
    has one in closed form (otherwise it is taken by finite differences)."""

    value: Callable[[FloatArray], float]
    value_and_gradient: ValueAndGradient | None = None

    @classmethod
    def with_gradient(cls, value_and_gradient: ValueAndGradient) -> Objective:
        return cls(lambda x: value_and_gradient(x)[0], value_and_gradient)


@dataclass(frozen=True)
class Optimum:
    """Parameters at the maximum, the mean log-likelihood there and the work it took."""

    params: tuple[float, ...]
    mean_log_likelihood: float
    iterations: int
    evaluations: int


def maximise(
    objective: Objective, start: Sequence[float], *, model: str, names: Sequence[str]
) -> Optimum:
    """See `_maximise`; BLAS runs on one thread meanwhile. The optimiser's own linear
    algebra is on matrices of the parameters' size, where waking a thread pool costs more
    than the work (a CDNOW fit took 16 times longer on a busy machine); the likelihoods'
    numpy arithmetic does not use BLAS."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _maximise(objective, start, model=model, names=names)


def _maximise(
    objective: Objective, start: Sequence[float], *, model: str, names: Sequence[str]
) -> Optimum:
    """Minimise the mean negative log-likelihood over log-parameters from `start` (the
    parameters themselves).

    L-BFGS-B runs first; if it stops without converging (a line search failing on a
    numerical gradient, an iteration limit), Nelder-Mead restarts from where it stopped and
    L-BFGS-B polishes its answer; the three share MAX_EVALUATIONS evaluations of the
    objective. Raises `FitFailed` when none reaches a point where the gradient vanishes and
    the likelihood is finite within them, or when the maximum lies on the edge of
    the search box: then the data do not identify the model (every customer without a
    repeat purchase, say, sends the purchase rate to zero) and its figures would mean
    nothing.
    """
    x0 = np.clip(np.log(np.asarray(start, dtype=np.float64)), -LOG_BOUND, LOG_BOUND)
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(x0)
    iterations = evaluations = 0

    def run_lbfgsb(x: FloatArray) -> optimize.OptimizeResult:
        nonlocal iterations, evaluations
        fun: Callable[[FloatArray], object] = objective.value
        jac: bool | str = "3-point"
        if objective.value_and_gradient is not None:
            fun, jac = objective.value_and_gradient, True
        result = optimize.minimize(
            fun,
            x,
            method="L-BFGS-B",
            jac=jac,
            bounds=bounds,
            options={
                "maxiter": 2_000,
                "maxfun": max(MAX_EVALUATIONS - evaluations, 1),
                "ftol": 1e-15,
                "gtol": GRADIENT_TOLERANCE / 10,
            },
        )
        iterations += int(result.nit)
        evaluations += int(result.nfev)
        return result

    result = run_lbfgsb(x0)
    if not _converged(objective, result.x) and evaluations < MAX_EVALUATIONS:
        simplex = optimize.minimize(
            objective.value,
            result.x,
            method="Nelder-Mead",
            bounds=bounds,
            options={
                "maxiter": 20_000,
                "maxfev": MAX_EVALUATIONS - evaluations,
                "xatol": 1e-10,
                "fatol": 1e-15,
                "adaptive": True,
            },
        )
        iterations += int(simplex.nit)
        evaluations += int(simplex.nfev)
        result = run_lbfgsb(simplex.x) if evaluations < MAX_EVALUATIONS else simplex
    if not _converged(objective, result.x):
        raise FitFailed(
            f"{model}: no maximum found within {evaluations:,} evaluations "
            f"({_one_line(result.message)})"
        )
    at_edge = [name for name, v in zip(names, result.x, strict=True) if abs(v) >= LOG_BOUND - 1e-6]
    if at_edge:
        raise FitFailed(
            f"{model}: no maximum with parameters within [1e-6, 1e6] "
            f"({', '.join(at_edge)} ran to the edge): the data do not identify the model"
        )
    curvature = float(np.linalg.eigvalsh(hessian(objective, result.x)).min())
    if curvature <= MIN_CURVATURE:
        raise FitFailed(
            f"{model}: the likelihood does not curve down in every direction at the "
            f"optimum (least curvature {curvature:.2g}): the data do not identify the model"
        )
    return Optimum(
        params=tuple(float(v) for v in np.exp(result.x)),
        mean_log_likelihood=-objective.value(result.x),
        iterations=iterations,
        evaluations=evaluations,
    )


def _converged(objective: Objective, x: FloatArray) -> bool:
    """Finite, and the gradient vanishes except where a parameter presses on its bound
    (where it may only point outwards)."""
    if objective.value_and_gradient is not None:
        value, grad = objective.value_and_gradient(x)
    else:
        value, grad = objective.value(x), central_differences(objective.value, x)
    if not (np.isfinite(value) and np.all(np.isfinite(grad))):
        return False
    # At a lower bound only a descent outwards (positive gradient of the minimised value)
    # is allowed; at an upper bound only a negative one.
    free = np.where(x <= -LOG_BOUND, np.minimum(grad, 0.0), grad)
    free = np.where(x >= LOG_BOUND, np.maximum(free, 0.0), free)
    return bool(np.max(np.abs(free)) <= GRADIENT_TOLERANCE)


def hessian(objective: Objective, x: FloatArray) -> FloatArray:
    """The Hessian of the objective by central differences: of the gradient where there is
    one in closed form, of the value otherwise (with a step large enough that rounding of
    the value, about 1e-15, stays far below the curvature sought)."""
    n = x.size
    result = np.empty((n, n))
    if objective.value_and_gradient is not None:
        gradient = objective.value_and_gradient
        step = 1e-5
        for i in range(n):
            up, down = x.copy(), x.copy()
            up[i] += step
            down[i] -= step
            result[i] = (gradient(up)[1] - gradient(down)[1]) / (2 * step)
    else:
        value = objective.value
        step = 1e-3
        centre = value(x)
        for i in range(n):
            for j in range(i, n):
                if i == j:
                    up, down = x.copy(), x.copy()
                    up[i] += step
                    down[i] -= step
                    result[i, i] = (value(up) - 2 * centre + value(down)) / step**2
                    continue
                corners = []
                for di, dj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                    point = x.copy()
                    point[i] += di * step
                    point[j] += dj * step
                    corners.append(value(point))
                result[i, j] = (corners[0] - corners[1] - corners[2] + corners[3]) / (4 * step**2)
                result[j, i] = result[i, j]
    return np.asarray((result + result.T) / 2, dtype=np.float64)


def central_differences(
    value: Callable[[FloatArray], float], x: FloatArray, step: float = 1e-6
) -> FloatArray:
    """The gradient by central differences: error about step² (about 1e-12), far below the
    tolerance, where forward differences would leave about `step` itself."""
    grad = np.empty_like(x)
    for i in range(x.size):
        up, down = x.copy(), x.copy()
        up[i] += step
        down[i] -= step
        grad[i] = (value(up) - value(down)) / (2 * step)
    return grad


def _one_line(message: object) -> str:
    return str(message).strip().splitlines()[0] if str(message).strip() else "no message"


def log_add_exp(first: FloatArray, second: FloatArray) -> FloatArray:
    """log(e^first + e^second) for `first` finite and `second` finite or -inf; several times
    faster than `np.logaddexp`, which the likelihoods call on every history."""
    larger = np.maximum(first, second)
    return np.asarray(larger + np.log1p(np.exp(-np.abs(first - second))), dtype=np.float64)
