"""Member insights: RFM scores, named segments and churn risk, trained from the warehouse.

The facade of the scores and segments: the models work on frames handed in (they read
no database), `store_scores` writes a run, and the queries read the latest one.
"""

from crm.insights.churn import MODEL_VERSION, ChurnEvaluation, NotEnoughData
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

__all__ = [
    "DEFAULT_SEGMENTS",
    "MODEL_VERSION",
    "ChurnEvaluation",
    "MemberNotScored",
    "NotEnoughData",
    "Period",
    "ScoreRun",
    "SegmentRule",
    "UnknownSegment",
    "assign_segments",
    "last_trained_on",
    "list_segments",
    "load_segments",
    "member_scores",
    "quintile_scores",
    "rfm_scores",
    "score_members",
    "segment_members",
    "segment_rules",
    "store_scores",
]
