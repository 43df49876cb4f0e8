"""bench/insights.py at a small size: every phase runs and the last line is its JSON."""

from __future__ import annotations

import json

from bench import insights


def test_the_benchmark_fits_trains_and_ends_with_one_json_object(capsys):
    insights.main(["--customers", "3000", "--seed", "7"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    figures = json.loads(last)
    assert figures["customers"] == 3000
    train = figures["train"]
    assert train["members"] == 3000 and train["purchase_days"] > 3000
    assert train["purchase_model"] in ("bgnbd", "pareto_nbd")
    assert 0.5 < train["roc_auc"] <= 1 and train["seconds"] > 0
    assert figures["peak_rss_mb"] > 0
