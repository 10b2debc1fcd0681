"""The drawdown controller on a hand-worked equity path, incremental and vectorized."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from core.risk import DrawdownController, drawdown_series

# equity, expected peak, drawdown, level, scale (warning 10 %, critical 20 %, scale 0.5)
PATH = [
    (100.0, 100.0, 0.0, "normal", 1.0),
    (120.0, 120.0, 0.0, "normal", 1.0),
    (109.0, 120.0, 11 / 120, "normal", 1.0),  # 9.17 %
    (108.0, 120.0, 0.10, "warning", 1.0),  # exactly 10 %: warning starts here
    (96.5, 120.0, 23.5 / 120, "warning", 1.0),  # 19.58 %
    (96.0, 120.0, 0.20, "critical", 0.5),  # exactly 20 %
    (90.0, 120.0, 0.25, "critical", 0.5),
    (130.0, 130.0, 0.0, "normal", 1.0),  # a new peak resets
    (104.0, 130.0, 0.20, "critical", 0.5),
]


def test_incremental_controller_on_hand_worked_path():
    controller = DrawdownController(warning=0.10, critical=0.20, critical_scale=0.5)
    for equity, peak, drawdown, level, scale in PATH:
        status = controller.update(equity)
        assert status.peak == peak
        assert status.drawdown == pytest.approx(drawdown, abs=1e-15)
        assert (status.level, status.scale) == (level, scale), equity


def test_vectorized_matches_the_hand_worked_path():
    index = pd.date_range("2024-01-01", periods=len(PATH))
    frame = drawdown_series(pd.Series([p[0] for p in PATH], index=index))
    assert frame.index.equals(index)
    np.testing.assert_allclose(frame["peak"], [p[1] for p in PATH])
    np.testing.assert_allclose(frame["drawdown"], [p[2] for p in PATH], atol=1e-15)
    assert list(frame["level"]) == [p[3] for p in PATH]
    assert list(frame["scale"]) == [p[4] for p in PATH]


@settings(max_examples=50, deadline=None)
@given(hs.lists(hs.floats(1.0, 1e6), min_size=1, max_size=60))
def test_vectorized_equals_incremental(values):
    controller = DrawdownController(0.05, 0.15, 0.25, warning_scale=0.75)
    frame = drawdown_series(values, 0.05, 0.15, 0.25, warning_scale=0.75)
    for row, equity in zip(frame.itertuples(), values, strict=True):
        status = controller.update(equity)
        assert (status.level, status.scale) == (row.level, row.scale)
        assert status.drawdown == row.drawdown and status.peak == row.peak


def test_warning_scale_and_carried_peak():
    controller = DrawdownController(0.1, 0.2, 0.0, warning_scale=0.5, peak=200.0)
    status = controller.update(170.0)  # 15 % below the carried peak
    assert (status.level, status.scale, status.peak) == ("warning", 0.5, 200.0)
    assert controller.update(150.0).scale == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"warning": 0.3, "critical": 0.2}, "warning ≤ critical"),
        ({"critical_scale": 1.5}, "critical_scale"),
        ({"warning": 0.0}, "0 < warning"),
    ],
)
def test_bad_thresholds(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DrawdownController(**kwargs)


def test_non_finite_equity_is_named():
    with pytest.raises(ValueError, match="finite"):
        DrawdownController().update(float("nan"))
    with pytest.raises(ValueError, match="position 2"):
        drawdown_series([1.0, 2.0, float("inf")])
