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

Training (`--train`, on by default) times what `memberhub insights train` does after
reading the warehouse, at the same scale: RFM, segments and the churn model on its time
split (`crm.insights.score_members`), then each member's lifetime value with the
self-check (`crm.insights.member_values`), on two years of synthetic daily purchases of
N members (each buys at a Gamma-distributed rate until a Beta-distributed dropout after
a purchase). The feature frames are derived from those purchases (recency, frequency,
money, tenure, purchases ever); the features the synthetic world has no notion of
(channel mix, points, orders, mailings...) are drawn at random: what training costs does
not depend on what they mean. Reading the warehouse is not timed here.

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
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import betaln, gammaln

from crm.insights import (
    DEFAULT_SEGMENTS,
    FileFormat,
    Histories,
    Period,
    bgnbd,
    gamma_gamma,
    member_values,
    pareto_nbd,
    read_transactions,
    score_members,
    simulation,
    summarise,
)
from crm.insights.churn import MODEL_FEATURES

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
    parser.add_argument(
        "--no-train", dest="train", action="store_false", help="time the model fits only"
    )
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
    if args.train:
        train(args.customers, rng, figures)
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


TRAIN_AS_OF = date(2026, 12, 6)
TRAIN_DAYS = 730
HORIZON_DAYS = 90


def synthetic_daily_purchases(members: int, rng: np.random.Generator) -> pd.DataFrame:
    """member_id, day, amount_fen: each member's first purchase on a uniform day of the two
    years, then purchases at a daily rate ~ Gamma(0.5, 1/14) until dropping out (p ~
    Beta(0.8, 2.5) after each purchase), one per day at most; spend per purchase
    Gamma(4, the member's scale)."""
    first = rng.integers(0, TRAIN_DAYS, size=members).astype(np.float64)
    rate = rng.gamma(0.5, 1 / 14, size=members)
    drop = rng.beta(0.8, 2.5, size=members)
    scale = rng.gamma(6.0, 1 / 4, size=members) * 2_500
    ids: list[npt.NDArray[np.int64]] = []
    days: list[npt.NDArray[np.int64]] = []
    when, alive = first.copy(), np.ones(members, dtype=bool)
    while alive.any():
        buying = np.flatnonzero(alive)
        ids.append(buying)
        days.append(when[buying].astype(np.int64))
        gone = rng.random(buying.size) < drop[buying]
        when[buying] += rng.exponential(1 / np.maximum(rate[buying], 1e-9))
        alive[buying] = ~gone & (when[buying] < TRAIN_DAYS)
    member_index, day_index = np.concatenate(ids), np.concatenate(days)
    start = np.datetime64(TRAIN_AS_OF - timedelta(days=TRAIN_DAYS - 1), "D")
    frame = pd.DataFrame(
        {
            "member_id": member_index + 1,
            "day": start + day_index.astype("timedelta64[D]"),
            "amount_fen": np.rint(rng.gamma(4.0, scale[member_index])).astype(np.int64) + 1,
        }
    )
    return frame.drop_duplicates(["member_id", "day"]).reset_index(drop=True)


def features_as_of(
    purchases: pd.DataFrame, registered: pd.Series, day: date, rng: np.random.Generator
) -> pd.DataFrame:
    """A features frame as of `day` with the columns the churn model reads."""
    cut = np.datetime64(day, "D")
    seen = purchases[purchases["day"] <= cut]
    age = (cut - seen["day"].to_numpy().astype("datetime64[D]")).astype(np.int64)
    grouped = seen.assign(age=age).groupby("member_id")
    members = registered[registered <= cut].index
    frame = pd.DataFrame(index=members)
    frame["recency_days"] = grouped["age"].min().reindex(members)
    frame["frequency"] = seen[age < 365].groupby("member_id").size().reindex(members).fillna(0)
    frame["frequency_90d"] = seen[age < 90].groupby("member_id").size().reindex(members).fillna(0)
    frame["monetary_fen"] = (
        seen[age < 365].groupby("member_id")["amount_fen"].sum().reindex(members).fillna(0)
    )
    frame["tenure_days"] = (cut - registered.loc[members].to_numpy()).astype(np.int64)
    frame["purchases_ever"] = grouped.size().reindex(members).fillna(0)
    for name in MODEL_FEATURES:
        if name not in frame:
            frame[name] = rng.poisson(2.0, size=len(frame)).astype(np.float64)
    return frame.rename_axis("member_id").reset_index()


def purchases_after(purchases: pd.DataFrame, day: date) -> pd.DataFrame:
    start, end = np.datetime64(day, "D"), np.datetime64(day + timedelta(days=HORIZON_DAYS), "D")
    window = purchases[(purchases["day"] > start) & (purchases["day"] <= end)]
    counts = window.groupby("member_id").size().rename("purchases_after")
    return counts.reset_index()


def train(members: int, rng: np.random.Generator, figures: dict[str, Any]) -> None:
    """Time a training run of member scores and lifetime values over `members`."""
    purchases = synthetic_daily_purchases(members, rng)
    registered = purchases.groupby("member_id")["day"].min()
    test_as_of = TRAIN_AS_OF - timedelta(days=HORIZON_DAYS)
    train_as_of = test_as_of - timedelta(days=HORIZON_DAYS)
    periods = [
        Period(
            day, features_as_of(purchases, registered, day, rng), purchases_after(purchases, day)
        )
        for day in (train_as_of, test_as_of)
    ]
    current = features_as_of(purchases, registered, TRAIN_AS_OF, rng)

    def scores() -> Any:
        return score_members(
            as_of=TRAIN_AS_OF,
            current=current,
            train=periods[0],
            test=periods[1],
            horizon_days=HORIZON_DAYS,
            rules=DEFAULT_SEGMENTS,
        )

    def values() -> Any:
        return member_values(purchases, TRAIN_AS_OF, check_from=test_as_of)

    scored = timed(scores)
    valued = timed(values)
    run = scored.result.with_values(valued.result)
    metrics = run.metrics()
    value = metrics["lifetime_value"]
    figures["train"] = {
        "members": len(current),
        "purchase_days": len(purchases),
        "scores": scored.figures(),
        "lifetime_value": valued.figures(),
        "seconds": round(scored.seconds + valued.seconds, 3),
        "roc_auc": metrics["roc_auc"],
        "baseline_roc_auc": metrics["baseline_roc_auc"],
        "purchase_model": value["purchases"]["model"],
        "check_error": value["check"]["error"] if value["check"] else None,
    }
    say(
        f"train on {len(current):,} members ({len(purchases):,} purchase days): scores "
        f"{scored.seconds:.1f} s ({scored.cpu_seconds:.1f} s CPU), lifetime values "
        f"{valued.seconds:.1f} s ({valued.cpu_seconds:.1f} s CPU); churn ROC AUC "
        f"{metrics['roc_auc']:.3f} vs {metrics['baseline_roc_auc']:.3f} for recency alone"
    )


@dataclass(frozen=True)
class Timed(Generic[T]):
    result: T
    seconds: float
    cpu_seconds: float

    def figures(self) -> dict[str, float]:
        return {"seconds": round(self.seconds, 3), "cpu_seconds": round(self.cpu_seconds, 3)}


def timed(work: Callable[[], T]) -> Timed[T]:
    """Wall and CPU seconds of one run (no tracing: pandas under tracemalloc is several
    times slower, and the process's peak RSS is reported at the end)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    return Timed(result, time.perf_counter() - started, time.process_time() - cpu)


if __name__ == "__main__":
    main()
