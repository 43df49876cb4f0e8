"""A campaign's incremental effect against its holdout, from the warehouse: the campaign
page's headline. Same members, groups, days and arithmetic as the API's
`GET /campaigns/{code}/lift` (`crm.campaign_lift`), so both give the same numbers.

The rules, as there: the measured days are the campaign's, up to yesterday; the
pre-period (the CUPED covariate) is as many days just before it. Eligible are the
members registered by the campaign's last day (today, while it runs) who are not merged
into another; each is treated or held out as `dim_campaign_member` says (drawn by
`points_engine.in_holdout` at sync). A member's outcome is their net spend (total less
refunded, every business type, institution and channel) on purchases made under their
own id, 0 when they bought nothing. A campaign targeting segments or score ranges is
measured on the members its target reached as it began: their scores in the latest run
as of its first day (else the latest run), tested by the ledger's own rule
(`points_engine.score_target_of`). The points cost is what the campaign's budget paid
out less what refunds gave back. `crm.insights.lift.campaign_effect` does the rest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import pandas as pd

import points_engine
from crm.insights import lift
from warehouse.calendar import date_key
from warehouse.fact_queries import Reader
from warehouse.member_scores import LATEST

# Why a campaign has no estimate: no members held out at all (nothing causal to say),
# no complete day yet, or a group too small for an interval.
Missing = Literal["no-holdout", "no-complete-day", "too-few-members"]


@dataclass(frozen=True)
class CampaignHeadline:
    """The effect of one campaign, or why there is none (`missing`)."""

    code: str
    holdout_pct: int
    measured_from: date
    measured_to: date
    baseline_from: date
    fen_per_point: int  # what a point costs the programme, as configured
    effect: lift.CampaignEffect | None
    missing: Missing | None


def campaign_headline(
    reader: Reader, code: str, today: date, fen_per_point: int
) -> CampaignHeadline | None:
    """The campaign's effect as of `today` (business day); None for an unknown campaign."""
    found = reader.query(
        "SELECT starts_on, ends_on, holdout_pct, target_json FROM dim_campaign WHERE code = $code",
        {"code": code},
    )
    if found.empty:
        return None
    starts_on = pd.Timestamp(found["starts_on"].iloc[0]).date()
    ends_on = pd.Timestamp(found["ends_on"].iloc[0]).date()
    holdout_pct = int(found["holdout_pct"].iloc[0])
    end = min(ends_on, today - timedelta(days=1))
    days = max((end - starts_on).days + 1, 0)
    before = starts_on - timedelta(days=days)

    def headline(effect: lift.CampaignEffect | None, missing: Missing | None) -> CampaignHeadline:
        return CampaignHeadline(
            code, holdout_pct, starts_on, end, before, fen_per_point, effect, missing
        )

    if holdout_pct == 0:
        return headline(None, "no-holdout")
    if end < starts_on:
        return headline(None, "no-complete-day")
    members = _members(reader, code, starts_on, end, before, min(ends_on, today))
    members = _reached(reader, json.loads(found["target_json"].iloc[0]), members, starts_on)
    try:
        effect = lift.campaign_effect(
            members["in_holdout"].to_numpy(dtype=bool),
            members["gmv_fen"].to_numpy(dtype=float),
            members["gmv_before_fen"].to_numpy(dtype=float),
            (members["purchases"] > 0).to_numpy(dtype=float),
            (members["purchases_before"] > 0).to_numpy(dtype=float),
            points_cost=_points_cost(reader, code),
            fen_per_point=fen_per_point,
        )
    except lift.TooFewMembers:
        return headline(None, "too-few-members")
    return headline(effect, None)


def _members(
    reader: Reader, code: str, start: date, end: date, before: date, registered_by: date
) -> pd.DataFrame:
    """One row per eligible member, by member id: member_id, in_holdout, gmv_fen,
    purchases (in the measured days), gmv_before_fen, purchases_before."""
    sql = """
        WITH eligible AS (
            SELECT m.member_id, cm.in_holdout
            FROM dim_member m
            JOIN dim_campaign_member cm
              ON cm.campaign_code = $code AND cm.member_id = m.member_id
            WHERE m.status <> 'merged' AND m.registered_date_key <= $registered_key
        ),
        spend AS (
            SELECT member_id,
                   sum(net_fen) FILTER (WHERE date_key >= $start_key) AS gmv_fen,
                   count(*) FILTER (WHERE date_key >= $start_key) AS purchases,
                   sum(net_fen) FILTER (WHERE date_key < $start_key) AS gmv_before_fen,
                   count(*) FILTER (WHERE date_key < $start_key) AS purchases_before
            FROM fact_accrual
            WHERE date_key BETWEEN $before_key AND $end_key
            GROUP BY member_id
        )
        SELECT e.member_id, e.in_holdout,
               CAST(COALESCE(s.gmv_fen, 0) AS BIGINT) AS gmv_fen,
               COALESCE(s.purchases, 0) AS purchases,
               CAST(COALESCE(s.gmv_before_fen, 0) AS BIGINT) AS gmv_before_fen,
               COALESCE(s.purchases_before, 0) AS purchases_before
        FROM eligible e LEFT JOIN spend s USING (member_id)
        ORDER BY e.member_id
    """
    return reader.query(
        sql,
        {
            "code": code,
            "registered_key": date_key(registered_by),
            "start_key": date_key(start),
            "end_key": date_key(end),
            "before_key": date_key(before),
        },
    )


def _reached(
    reader: Reader, target: dict[str, Any], members: pd.DataFrame, start: date
) -> pd.DataFrame:
    """The members a score target reached as the campaign began (all of them when the
    target names no scores)."""
    matches = points_engine.score_target_of(target)
    if matches is None:
        return members
    scores = reader.query(
        f"""
        WITH run AS (
            SELECT COALESCE(
                (SELECT run_id FROM dim_insight_run WHERE as_of <= $start
                 ORDER BY as_of DESC, run_id DESC LIMIT 1),
                {LATEST}
            ) AS run_id
        )
        SELECT s.member_id, s.segment_code,
               CAST(round(s.churn_risk * 10000) AS INTEGER) AS churn_risk_bp,
               s.expected_value_fen
        FROM fact_member_score s JOIN run USING (run_id)
        """,
        {"start": start},
    )
    scored = {
        int(row.member_id): points_engine.MemberScore(
            str(row.segment_code),
            int(row.churn_risk_bp),
            None if pd.isna(row.expected_value_fen) else int(row.expected_value_fen),
        )
        for row in scores.itertuples(index=False)
    }
    reached = [bool(matches(scored.get(int(m)))) for m in members["member_id"]]
    return members[reached].reset_index(drop=True)


def _points_cost(reader: Reader, code: str) -> int:
    """Points the campaign's budget paid to members, less what refunds returned to it."""
    frame = reader.query(
        """
        SELECT COALESCE(sum(points) FILTER (WHERE type = 'accrual'), 0)
               - COALESCE(sum(points) FILTER (WHERE type = 'reversal'), 0) AS points_cost
        FROM fact_posting WHERE campaign_code = $code
        """,
        {"code": code},
    )
    return int(frame["points_cost"].iloc[0])
