"""Small builders shared by the autopilot tests."""

from __future__ import annotations

import pandas as pd

from core.autopilot import RegimeReading


def reading(trend="bull", bucket="low", share=0.6, confidence=1.0, day="2024-01-02"):
    """A regime reading with the given components (other numbers arbitrary)."""
    return RegimeReading(
        day=pd.Timestamp(day),
        label=f"{trend}_{bucket}_vol",
        confidence=confidence,
        volatility={"bucket": bucket, "value": 0.15, "percentile": 0.3},
        trend={"state": trend, "price": 1.0, "sma_fast": 1.0, "sma_slow": 1.0},
        breadth={"above_share": share, "advancers": 10, "decliners": 10, "ad_ratio": 1.0},
        hmm={"label": "bull", "probability": 0.9},
    )
