"""Training member insights: warehouse features in, crm.insights models, scores stored.

The composition root is where the two meet: `warehouse` computes features and labels as
of a day (crm may not import it), `crm.insights` fits and scores frames and writes the
run. `memberhub insights train`, `memberhub demo` and, weekly, `jobs run-due` call
`train_insights`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from tqdm import tqdm

import crm.insights
import warehouse
from common.clock import today
from common.db import read_session
from common.unit_of_work import transaction
from memberhub.runtime import Runtime

DEFAULT_HORIZON_DAYS = 90
RETRAIN_DAYS = 7


def train_insights(
    runtime: Runtime,
    as_of: date | None = None,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    sync: bool = True,
    progress: bool = False,
) -> dict[str, Any]:
    """Sync the warehouse (unless `sync=False`), score every member as of `as_of`
    (default: today in Shanghai), store the run and sync again so the warehouse (and the
    Members page) holds it; its metrics. With `sync=False` the caller syncs.

    Lifetime value (BG/NBD and Gamma-Gamma) is fitted on every purchase up to as_of and
    checked by a fit up to as_of - N, whose predicted repeat purchases in the N days after
    are set beside the counted ones.

    The churn model is judged on features as of as_of - 2N (labels up to as_of - N)
    against as_of - N (labels up to as_of), then refitted on the latter. Raises
    warehouse.WarehouseNotReady without a warehouse and crm.insights.NotEnoughData when
    the history is shorter than two horizons or a period has one outcome only.
    """
    day = as_of or today()
    test_as_of = day - timedelta(days=horizon_days)
    train_as_of = test_as_of - timedelta(days=horizon_days)
    # disable=None: a bar on a terminal only, so logs and pipes get the lines alone.
    steps = 8 if sync else 7
    with tqdm(total=steps, desc="insights", unit="step", disable=None if progress else True) as bar:
        if sync:
            bar.set_postfix_str("warehouse sync")
            warehouse.sync_warehouse(runtime.engine, runtime.settings.warehouse_path)
        bar.update()
        reader = warehouse.WarehouseReader(runtime.settings.warehouse_path, threads=1)
        try:
            span = warehouse.purchase_range(reader)
            if span is None:
                raise crm.insights.NotEnoughData("the warehouse holds no purchases yet")
            if span[0] > train_as_of:
                raise crm.insights.NotEnoughData(
                    f"purchases start on {span[0]}: a {horizon_days}-day horizon as of {day} "
                    f"needs history from {train_as_of} (two horizons); pass a later --as-of "
                    "or a shorter --horizon-days"
                )
            periods = []
            for when in (train_as_of, test_as_of):
                bar.set_postfix_str(f"features as of {when}")
                periods.append(
                    crm.insights.Period(
                        when,
                        warehouse.member_features(reader, when),
                        warehouse.purchases_after(reader, when, horizon_days),
                    )
                )
                bar.update()
            bar.set_postfix_str(f"features as of {day}")
            current = warehouse.member_features(reader, day)
            purchases = warehouse.daily_purchases(reader, day)
            bar.update()
        finally:
            reader.close()
        with read_session(runtime.session_factory) as session:
            rules = crm.insights.segment_rules(session)
        bar.set_postfix_str("training")
        run = crm.insights.score_members(
            as_of=day,
            current=current,
            train=periods[0],
            test=periods[1],
            horizon_days=horizon_days,
            rules=rules,
        )
        bar.update()
        bar.set_postfix_str("lifetime value")
        try:
            values = crm.insights.member_values(purchases, day, check_from=test_as_of)
        except (crm.insights.FitFailed, crm.insights.NoCustomers) as error:
            run = run.without_values(str(error))
        else:
            run = run.with_values(values)
        bar.update()
        bar.set_postfix_str("storing scores")
        metrics = run.metrics()
        with transaction(runtime.session_factory) as uow:
            metrics["run_id"] = crm.insights.store_scores(
                uow,
                as_of=day,
                model_version=run.model_version,
                metrics=metrics,
                scores=run.scores.to_dict("records"),
            )
        bar.update()
        if sync:
            bar.set_postfix_str("warehouse sync")
            warehouse.sync_warehouse(runtime.engine, runtime.settings.warehouse_path)
            bar.update()
    return metrics


def train_if_due(runtime: Runtime, day: date) -> str:
    """The weekly retraining of `jobs run-due`: trains when the last run is a week old or
    more. Returns what it did in words; a missing or empty warehouse costs a stat and
    one query, and short history is a skip, not a failure."""
    with read_session(runtime.session_factory) as session:
        last = crm.insights.last_trained_on(session)
    if last is not None and (day - last).days < RETRAIN_DAYS:
        return f"not due (last trained as of {last})"
    if not runtime.settings.warehouse_path.exists():
        return "skipped: no warehouse yet (memberhub warehouse sync)"
    try:
        metrics = train_insights(runtime, day)
    except crm.insights.NotEnoughData as error:
        return f"skipped: {error.detail}"
    return f"trained {metrics['members']} members (churn AUC {metrics['roc_auc']})"


def describe_metrics(metrics: dict[str, Any]) -> Iterator[str]:
    """The metrics for people: AUCs beside the baseline, then the calibration table."""
    yield (
        f"insights as of {metrics['as_of']} ({metrics['model_version']}): "
        f"{metrics['members']} members scored"
    )
    yield (
        f"churn = no purchase in {metrics['horizon_days']} days; trained as of "
        f"{metrics['train_as_of']} ({metrics['train_members']} members, churn rate "
        f"{metrics['train_churn_rate']:.1%}), judged as of {metrics['test_as_of']} "
        f"({metrics['test_members']} members, churn rate {metrics['test_churn_rate']:.1%})"
    )
    yield (
        f"ROC AUC {metrics['roc_auc']:.4f} (recency only: {metrics['baseline_roc_auc']:.4f})  "
        f"PR AUC {metrics['pr_auc']:.4f} (recency only: {metrics['baseline_pr_auc']:.4f})"
    )
    yield "calibration on the later period (deciles of predicted risk):"
    yield "  bin  members  predicted (range)       predicted mean  observed rate"
    for row in metrics["calibration"]:
        yield (
            f"  {row['bin']:>3}  {row['members']:>7}  "
            f"{row['predicted_low']:.3f}-{row['predicted_high']:.3f}         "
            f"{row['predicted_mean']:>14.3f}  {row['observed_rate']:>13.3f}"
        )
    segments = ", ".join(f"{code} {n}" for code, n in metrics["segments"].items())
    yield f"segments: {segments}"
    value = metrics.get("lifetime_value")
    if value and "not_fitted" in value:
        yield f"lifetime value not fitted: {value['not_fitted']}"
    elif value:
        model, spend = value["purchases"], value["gamma_gamma"]
        parameters = ", ".join(
            f"{name} {number:.4g}"
            for name, number in model.items()
            if name not in ("model", "log_likelihood", "passed_over")
        )
        yield (
            f"lifetime value over {value['horizon_weeks']:g} weeks for {value['customers']} "
            f"buyers: {value['expected_value_fen_total'] / 100:,.2f} yuan expected; "
            f"purchases by {model['model']} ({parameters}; passed over: "
            f"{model['passed_over'] or 'none'})"
        )
        if "fallback" in spend:
            pooled = spend["pooled_mean_fen"] / 100
            yield f"spend: pooled mean {pooled:.2f} yuan ({spend['fallback']})"
        else:
            yield (
                "spend by Gamma-Gamma (" + ", ".join(f"{k} {v:.4g}" for k, v in spend.items()) + ")"
            )
        check = value["check"]
        if check:
            yield (
                f"repeat purchases {check['calibration_end']} to {check['holdout_end']}: "
                f"predicted {check['predicted']:,.0f} by {check['model']} from the purchases "
                "before, counted "
                f"{check['actual']:,}"
            )
