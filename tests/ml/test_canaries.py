"""The three leak canaries: shuffled labels find nothing, features are causal, a planted
signal is found; and a leaking pipeline would trip the shuffled-label canary."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.marketdata import load_bundled
from core.ml import (
    MLTrainRequest,
    build_dataset,
    causality,
    daily_ic,
    ic_summary,
    planted,
    planted_dataset,
    run_walk_forward,
    shuffled_labels,
    universe_from_frames,
)
from core.ml._pipeline import Dataset

SYMBOLS = ("AAPL", "MSFT", "JPM", "KO", "PG", "XOM", "PFE", "WMT")
REQUEST = MLTrainRequest(
    symbols=SYMBOLS,
    train=252,
    test=63,
    features={"windows": "5,20"},
    model={"n_estimators": 20, "max_depth": 3, "min_child_weight": 5},
)


def _dataset():
    closes = pd.DataFrame({s: load_bundled(s)["close"] for s in SYMBOLS}).loc["2001":"2005"]
    return build_dataset(universe_from_frames(closes), REQUEST)


def test_shuffled_labels_give_no_rank_ic():
    result = shuffled_labels(_dataset(), REQUEST)
    assert result["passed"] and abs(result["rank_ic_tstat"]) < 2
    assert abs(result["rank_ic"]) < 0.05


def test_every_feature_is_causal_on_the_bundled_data():
    result = causality(_dataset(), REQUEST)
    assert result["passed"] and result["max_gap"] == 0.0
    assert result["features_checked"] == 14 and len(result["cuts"]) == 3


def test_a_planted_feature_is_found():
    result = planted(REQUEST)
    assert result["passed"] and result["rank_ic_tstat"] > 2
    assert result["top_feature"] == "planted"
    assert result["rank_ic"] > 0.1


def test_the_shuffled_canary_would_see_test_labels_leaking_into_training():
    """Control: a 'feature' that is the (shuffled) label itself is found by the same code."""
    data = planted_dataset(REQUEST, n_dates=400, n_symbols=20)
    rng = np.random.default_rng(0)
    forward = rng.normal(size=data.forward.shape)
    values = data.features.values.copy()
    values[..., -1] = forward  # the label leaks into a feature
    leaky = Dataset(
        data.universe, type(data.features)(values, data.features.names), forward, forward, 0
    )
    quick = REQUEST.model_copy(update={"train": 150, "test": 50})
    run = run_walk_forward(leaky, quick)
    summary = ic_summary(*daily_ic(run.scores, forward), quick.horizon)
    assert summary["rank_ic_tstat"] > 2
