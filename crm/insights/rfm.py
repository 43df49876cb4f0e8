"""RFM scores: recency, frequency and monetary value as quintiles (1 worst .. 5 best)."""

from __future__ import annotations

import numpy as np
import pandas as pd

QUINTILES = 5


def quintile_scores(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """Scores 1..5 by rank: the best fifth gets 5, the worst fifth 1.

    Equal values always share a score (their rank is the lowest of the tie), so a large
    tie (everyone who never bought) sits together at the score of its lowest place; a
    better value never scores lower than a worse one. Missing values rank worst.
    """
    if values.empty:
        return pd.Series([], dtype="int64", index=values.index)
    # Missing values go below every real value, whichever direction is better.
    worst = -np.inf if higher_is_better else np.inf
    ordered = values.astype("float64").fillna(worst)
    if not higher_is_better:
        ordered = -ordered
    ranks = ordered.rank(method="min", ascending=True)  # 1 = worst
    scores = 1 + np.floor((ranks - 1) * QUINTILES / len(values))
    return scores.astype("int64")


def rfm_scores(features: pd.DataFrame) -> pd.DataFrame:
    """r, f, m (1..5) for each row of a features frame (recency_days, frequency,
    monetary_fen), same index: recent, frequent and high-spending members score high."""
    return pd.DataFrame(
        {
            "r": quintile_scores(features["recency_days"], higher_is_better=False),
            "f": quintile_scores(features["frequency"]),
            "m": quintile_scores(features["monetary_fen"]),
        },
        index=features.index,
    )
