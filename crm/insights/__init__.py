"""Member analytics: lifetime value (BG/NBD, Pareto/NBD, Gamma-Gamma) and campaign lift
over files and arrays; RFM scores, named segments and churn risk trained from the
warehouse.

The models take arrays and frames handed in and read no database (an import contract
says so); `store`, `queries` and `orm` write and read the scores of a run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from crm.insights import bgnbd, gamma_gamma, lift, pareto_nbd, simulation
    from crm.insights.churn import MODEL_VERSION, ChurnEvaluation, NotEnoughData
    from crm.insights.errors import BadPeriod, BadTransactionFile, FitFailed, NoCustomers
    from crm.insights.lifetime_value import ClvReport, Holdout, fit_clv
    from crm.insights.member_value import MemberValues, ValueCheck, member_values
    from crm.insights.queries import (
        MemberNotScored,
        UnknownSegment,
        last_trained_on,
        list_segments,
        member_scores,
        segment_members,
    )
    from crm.insights.rfm import quintile_scores, rfm_scores
    from crm.insights.scores import Period, ScoreRun, score_members
    from crm.insights.segments import DEFAULT_SEGMENTS, SegmentRule, assign_segments
    from crm.insights.store import load_segments, segment_rules, store_scores
    from crm.insights.summary import Histories
    from crm.insights.transactions import (
        CalibrationSummary,
        FileFormat,
        Transactions,
        read_transactions,
        summarise,
    )

__getattr__ = lazy_exports(
    __name__,
    {
        "BadPeriod": "errors",
        "BadTransactionFile": "errors",
        "CalibrationSummary": "transactions",
        "ChurnEvaluation": "churn",
        "ClvReport": "lifetime_value",
        "DEFAULT_SEGMENTS": "segments",
        "FileFormat": "transactions",
        "FitFailed": "errors",
        "Histories": "summary",
        "Holdout": "lifetime_value",
        "MODEL_VERSION": "churn",
        "MemberNotScored": "queries",
        "MemberValues": "member_value",
        "NoCustomers": "errors",
        "NotEnoughData": "churn",
        "Period": "scores",
        "ScoreRun": "scores",
        "SegmentRule": "segments",
        "Transactions": "transactions",
        "UnknownSegment": "queries",
        "ValueCheck": "member_value",
        "assign_segments": "segments",
        "bgnbd": None,
        "fit_clv": "lifetime_value",
        "gamma_gamma": None,
        "last_trained_on": "queries",
        "lift": None,
        "list_segments": "queries",
        "load_segments": "store",
        "member_scores": "queries",
        "member_values": "member_value",
        "pareto_nbd": None,
        "quintile_scores": "rfm",
        "read_transactions": "transactions",
        "rfm_scores": "rfm",
        "score_members": "scores",
        "segment_members": "queries",
        "segment_rules": "store",
        "simulation": None,
        "store_scores": "store",
        "summarise": "transactions",
    },
)

__all__ = [
    "DEFAULT_SEGMENTS",
    "MODEL_VERSION",
    "BadPeriod",
    "BadTransactionFile",
    "CalibrationSummary",
    "ChurnEvaluation",
    "ClvReport",
    "FileFormat",
    "FitFailed",
    "Histories",
    "Holdout",
    "MemberNotScored",
    "MemberValues",
    "NoCustomers",
    "NotEnoughData",
    "Period",
    "ScoreRun",
    "SegmentRule",
    "Transactions",
    "UnknownSegment",
    "ValueCheck",
    "assign_segments",
    "bgnbd",
    "fit_clv",
    "gamma_gamma",
    "last_trained_on",
    "lift",
    "list_segments",
    "load_segments",
    "member_scores",
    "member_values",
    "pareto_nbd",
    "quintile_scores",
    "read_transactions",
    "rfm_scores",
    "score_members",
    "segment_members",
    "segment_rules",
    "simulation",
    "store_scores",
    "summarise",
]
