"""A tiny walk-forward model trained once per test on a temporary workstation."""

from __future__ import annotations

import pytest

SYMBOLS = ("AAPL", "MSFT", "JPM", "KO", "PG", "XOM")
TINY = {
    "symbols": list(SYMBOLS),
    "start": "2000-01-01",
    "end": "2003-06-30",
    "canaries": False,
    "horizon": 5,
    "train": 252,
    "test": 126,
    "top": 2,
    "features": {"windows": "5,20"},
    "model": {"n_estimators": 10, "max_depth": 2, "min_child_weight": 5},
}


@pytest.fixture
def tiny_request() -> dict:
    return {**TINY, "model": dict(TINY["model"]), "features": dict(TINY["features"])}


@pytest.fixture
def tiny_model(ws, tiny_request) -> dict:
    """The report of a tiny training saved in ``ws``'s registry (about a second)."""
    return ws.ml.train(tiny_request)
