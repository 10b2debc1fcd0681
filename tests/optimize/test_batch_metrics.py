"""batch_metrics gives compute_metrics' values row by row (to 1e-12 relative: numpy adds the
rows of a matrix in another order than a vector)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.analytics import METRIC_KEYS, compute_metrics
from core.optimize._batch_metrics import batch_metrics


def assert_close(expected: dict, got: dict, rel: float = 1e-12) -> None:
    assert list(got) == list(METRIC_KEYS)
    for key in METRIC_KEYS:
        a, b = expected[key], got[key]
        if key == "n_trades":
            assert a == b and type(b) is int
        elif math.isnan(a) or math.isinf(a):
            assert (math.isnan(a) and math.isnan(b)) or a == b, key
        else:
            assert b == pytest.approx(a, rel=rel, abs=1e-15), key


def reference(equity, pnls, position, fills, ppy, rf):
    return compute_metrics(
        equity,
        trade_pnls=pnls,
        position=position,
        traded_notional=np.array(fills) if len(fills) else None,
        periods_per_year=ppy,
        risk_free=rf,
    )


def batch(curves, pnls, positions, fills, ppy, rf):
    return batch_metrics(
        np.array(curves),
        trade_pnls=[np.array(p, float) for p in pnls],
        position=np.array(positions),
        traded_notional=np.array([float(np.sum(f)) for f in fills]),
        n_fills=np.array([len(f) for f in fills]),
        periods_per_year=ppy,
        risk_free=rf,
    )


def random_rows(rng, n_rows, n_bars):
    """Equity curves with flat stretches (exact zero returns), trades and fills."""
    curves, pnls, positions, fills = [], [], [], []
    for _ in range(n_rows):
        returns = rng.normal(0.0003, 0.01, n_bars - 1)
        returns[rng.random(n_bars - 1) < rng.random()] = 0.0
        curves.append(1e5 * np.cumprod(np.r_[1.0, 1 + returns]))
        pnls.append(rng.normal(10, 500, rng.integers(0, 12)))
        positions.append(np.where(returns != 0, 1.0, 0.0))
        fills.append(rng.uniform(1e3, 1e5, rng.integers(0, 6)).tolist())
    return curves, pnls, positions, fills


@pytest.mark.parametrize(("n_bars", "rf"), [(5031, 0.0), (700, 0.03), (3, 0.0), (2, 0.01)])
def test_rows_equal_compute_metrics(n_bars, rf):
    rows = random_rows(np.random.default_rng(n_bars), 40, n_bars)
    got = batch(*rows, 252.0, rf)
    for i, metrics in enumerate(got):
        assert_close(reference(*(r[i] for r in rows), 252.0, rf), metrics)


def test_flat_and_constant_growth_curves_have_no_ratio_as_in_compute_metrics():
    flat = np.full(50, 1e5)
    steady = 1e5 * 1.001 ** np.arange(50)
    ties = np.r_[np.full(30, 1e5), 1e5 * 0.99 ** np.arange(1, 21)]  # VaR among equal losses
    curves = [flat, steady, ties]
    none = [[] for _ in curves]
    got = batch(curves, none, [np.zeros(49)] * 3, none, 252.0, 0.0)
    for curve, metrics in zip(curves, got, strict=True):
        assert_close(reference(curve, [], np.zeros(49), [], 252.0, 0.0), metrics)
    assert math.isnan(got[0]["sharpe"]) and math.isnan(got[1]["sharpe"])  # hand: no risk
    assert math.isnan(got[0]["turnover"]) and math.isnan(got[0]["win_rate"])
    assert got[2]["var_99"] == pytest.approx(-0.01, rel=1e-12)  # every loss is −1 %


def test_profit_factor_without_losses_is_infinite():
    curve = 1e5 * np.linspace(1, 1.1, 20)
    (got,) = batch([curve], [[5.0, 7.0, 0.0]], [np.ones(19)], [[1e4]], 252.0, 0.0)
    assert got["profit_factor"] == math.inf
    assert got["win_rate"] == pytest.approx(2 / 3) and got["n_trades"] == 3
    assert got["average_trade"] == pytest.approx(4.0)


def test_non_positive_equity_is_refused():
    with pytest.raises(ValueError, match="positive"):
        batch([[1.0, 0.0, 1.0]], [[]], [np.zeros(2)], [[]], 252.0, 0.0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(-0.2, 0.2), min_size=1, max_size=60), min_size=1, max_size=4
    ).filter(lambda rows: len({len(r) for r in rows}) == 1),
    st.sampled_from([0.0, 0.02]),
)
def test_any_curves_equal_compute_metrics(returns, rf):
    curves = [100.0 * np.cumprod(np.r_[1.0, 1 + np.array(r)]) for r in returns]
    n = len(returns[0])
    positions = [np.array(r) for r in returns]
    none = [[] for _ in curves]
    got = batch(curves, none, positions, none, 12.0, rf)
    for curve, position, metrics in zip(curves, positions, got, strict=True):
        assert_close(reference(curve, [], position, [], 12.0, rf), metrics, rel=1e-9)
    assert len(got) == len(curves) and n >= 1
