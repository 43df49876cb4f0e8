"""Lifetime-value fits at a million members: seconds, peak memory and recovered parameters.

Run from the repository root: `.venv/bin/python -m bench.insights [--customers N]
[--seed S]`. It draws N synthetic customers (default 1,000,000) from known parameters, as
tests/unit/crm/insights/test_recovery.py does (two years of daily-recorded purchases after
first purchases spread over a quarter), and times each fit from the default start:
BG/NBD, Gamma-Gamma on the repeat buyers' mean spend, and Pareto/NBD on histories of its
own process. It also fits the CDNOW sample of tests/data.

Two references. The same-run baseline is one plain numpy evaluation of the BG/NBD
log-likelihood over every customer (gammaln, betaln and logaddexp on a million rows, no
grouping): a fit costs `bgnbd_fit_over_one_plain_evaluation` of those. The outside
reference is the archived `lifetimes` library, which fits BG/NBD on the 23,570 CDNOW
customers in about 0.35 s on this machine: 14.8 µs a customer, against which
`bgnbd_speedup_per_customer_vs_lifetimes` compares this fit.

Peak memory is tracemalloc's peak during a second run of each fit (what the fit
allocates, numpy's arrays included, beyond its input; the timed run is not traced) and
the process's peak RSS at the end. The last line
printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt
from scipy.special import betaln, gammaln

from crm.insights import (
    FileFormat,
    Histories,
    bgnbd,
    gamma_gamma,
    pareto_nbd,
    read_transactions,
    simulation,
    summarise,
)

ROOT = Path(__file__).resolve().parent.parent
CDNOW = ROOT / "tests" / "data" / "CDNOW_sample.txt"
LIFETIMES_SECONDS, LIFETIMES_CUSTOMERS = 0.35, 23_570
PURCHASES = bgnbd.BgNbdParams(r=0.5, alpha=2.0, a=0.8, b=2.5)
LIFETIMES = pareto_nbd.ParetoNbdParams(r=0.5, alpha=2.0, s=0.6, beta=11.7)
SPEND = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, gamma=15.44)

T = TypeVar("T")


def say(line: str) -> None:
    print(line, flush=True)


@dataclass(frozen=True)
class Measured(Generic[T]):
    result: T
    seconds: float
    cpu_seconds: float
    peak_bytes: int

    def figures(self) -> dict[str, float]:
        return {
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "peak_mb": round(self.peak_bytes / 2**20, 1),
        }


def measured(work: Callable[[], T]) -> Measured[T]:
    """The result, wall and CPU seconds of `work()`, then the tracemalloc peak of a second
    run (tracing slows allocation, so the timed run is untraced). CPU seconds say more than
    wall seconds when other work shares the cores."""
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    tracemalloc.start()
    try:
        work()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Measured(result, seconds, cpu, peak)


def plain_bgnbd_log_likelihood(params: bgnbd.BgNbdParams, h: Histories) -> float:
    """FHL 2005 equation (6) in log space, one row per customer: the baseline."""
    r, alpha, a, b = params.as_tuple()
    x, t_x, age = h.x, h.t_x, h.T
    alive = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + age)
    with np.errstate(invalid="ignore"):
        dead = np.where(
            x > 0,
            betaln(a + 1, np.maximum(b + x - 1, 1e-300)) - betaln(a, b)
            - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )  # fmt: skip
    ll = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + np.logaddexp(alive, dead)
    return float(ll.sum())


def relative_errors(fitted: tuple[float, ...], true: tuple[float, ...]) -> list[float]:
    return [round(f / t - 1, 5) for f, t in zip(fitted, true, strict=True)]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.insights", description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    rng = np.random.default_rng(args.seed)
    cohort = simulation.Cohort(args.customers, cohort_days=91, min_age_days=728)
    figures: dict[str, Any] = {"customers": args.customers}
    x = purchases_and_baseline(cohort, rng, figures)
    spend(x, rng, figures)
    lifetimes(cohort, rng, figures)
    figures["max_relative_error"] = max(
        abs(e) for model in ("bgnbd", "gamma_gamma", "pareto_nbd")
        for e in figures[model]["relative_errors"]
    )  # fmt: skip
    summary = summarise(
        read_transactions(CDNOW, FileFormat.CDNOW), date(1997, 9, 30), date(1998, 6, 30)
    )
    started = time.perf_counter()
    bgnbd.fit(summary.histories)
    seconds = time.perf_counter() - started
    figures["cdnow_bgnbd_seconds"] = round(seconds, 4)
    say(f"CDNOW sample ({summary.customers:,} customers): BG/NBD in {seconds * 1e3:.0f} ms")
    # ru_maxrss is in kilobytes on Linux.
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(figures))


def purchases_and_baseline(
    cohort: simulation.Cohort, rng: np.random.Generator, figures: dict[str, Any]
) -> npt.NDArray[np.float64]:
    """BG/NBD against the plain evaluation and the lifetimes figure; returns each
    customer's repeat purchases for the spend draw."""
    n = cohort.customers
    started = time.perf_counter()
    histories = simulation.draw_bgnbd(PURCHASES, cohort, rng)
    seconds = time.perf_counter() - started
    distinct = histories.grouped().x.size
    say(f"drew {n:,} BG/NBD customers in {seconds:.2f} s ({distinct:,} distinct histories)")
    figures["distinct_bgnbd_histories"] = distinct

    runs = []
    for _ in range(3):
        started = time.perf_counter()
        plain_bgnbd_log_likelihood(PURCHASES, histories)
        runs.append(time.perf_counter() - started)
    baseline = statistics.median(runs)
    say(f"baseline: one plain numpy BG/NBD log-likelihood over {n:,} customers {baseline:.3f} s")
    figures["baseline_plain_evaluation_seconds"] = round(baseline, 4)

    run = measured(lambda: bgnbd.fit(histories))
    fit, seconds = run.result, run.seconds
    per_customer = seconds / n
    lifetimes_per_customer = LIFETIMES_SECONDS / LIFETIMES_CUSTOMERS
    figures["bgnbd"] = {
        **run.figures(),
        "iterations": fit.iterations,
        "relative_errors": relative_errors(fit.params.as_tuple(), PURCHASES.as_tuple()),
        "microseconds_per_customer": round(per_customer * 1e6, 3),
    }
    figures["bgnbd_fit_over_one_plain_evaluation"] = round(seconds / baseline, 2)
    figures["bgnbd_speedup_per_customer_vs_lifetimes"] = round(
        lifetimes_per_customer / per_customer, 1
    )
    say(
        f"BG/NBD: {seconds:.2f} s ({run.cpu_seconds:.2f} s CPU), "
        f"peak {run.peak_bytes / 2**20:.0f} MB, {fit.iterations} iterations, "
        f"errors {figures['bgnbd']['relative_errors']}; {seconds / baseline:.1f} plain "
        f"evaluations; {lifetimes_per_customer / per_customer:.1f}x lifetimes per customer"
    )
    return histories.x


def spend(x: npt.NDArray[np.float64], rng: np.random.Generator, figures: dict[str, Any]) -> None:
    drawn = simulation.draw_spend(SPEND, x, rng)
    run = measured(lambda: gamma_gamma.fit(drawn))
    fit = run.result
    figures["gamma_gamma"] = {
        "customers": drawn.customers,
        **run.figures(),
        "iterations": fit.iterations,
        "relative_errors": relative_errors(fit.params.as_tuple(), SPEND.as_tuple()),
    }
    say(
        f"Gamma-Gamma ({drawn.customers:,} repeat buyers): {run.seconds:.2f} s "
        f"({run.cpu_seconds:.2f} s CPU), peak {run.peak_bytes / 2**20:.0f} MB, "
        f"errors {figures['gamma_gamma']['relative_errors']}"
    )


def lifetimes(cohort: simulation.Cohort, rng: np.random.Generator, figures: dict[str, Any]) -> None:
    histories = simulation.draw_pareto_nbd(LIFETIMES, cohort, rng)
    run = measured(lambda: pareto_nbd.fit(histories))
    fit = run.result
    figures["pareto_nbd"] = {
        **run.figures(),
        "iterations": fit.iterations,
        "relative_errors": relative_errors(fit.params.as_tuple(), LIFETIMES.as_tuple()),
        "distinct_histories": histories.grouped().x.size,
    }
    say(
        f"Pareto/NBD: {run.seconds:.2f} s ({run.cpu_seconds:.2f} s CPU), "
        f"peak {run.peak_bytes / 2**20:.0f} MB, errors {figures['pareto_nbd']['relative_errors']}"
    )


if __name__ == "__main__":
    main()
