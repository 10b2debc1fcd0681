"""Walk-forward splits and runs: test windows follow training windows and see no future."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import Field

from core.optimize import SearchSpace, grid_search, stitch, walk_forward, walk_forward_splits
from core.strategies import StrategyParams


def test_rolling_splits_tile_the_data_after_the_first_training_window():
    splits = walk_forward_splits(100, train=40, test=20)

    assert splits == [
        (slice(0, 40), slice(40, 60)),
        (slice(20, 60), slice(60, 80)),
        (slice(40, 80), slice(80, 100)),
    ]


def test_anchored_splits_grow_the_training_window_from_bar_zero():
    splits = walk_forward_splits(100, train=40, test=25, anchored=True, partial=True)

    assert [(t.start, t.stop, s.start, s.stop) for t, s in splits] == [
        (0, 40, 40, 65),
        (0, 65, 65, 90),
        (0, 90, 90, 100),
    ]
    assert len(walk_forward_splits(100, train=40, test=25, anchored=True)) == 2


@pytest.mark.parametrize("anchored", [False, True])
@pytest.mark.parametrize(("n", "train", "test", "step"), [(250, 60, 20, None), (97, 10, 7, 3)])
def test_test_windows_follow_their_training_windows_without_overlap(anchored, n, train, test, step):
    for train_slice, test_slice in walk_forward_splits(
        n, train, test, anchored=anchored, step=step
    ):
        assert train_slice.stop == test_slice.start
        assert test_slice.stop - test_slice.start == test
        assert test_slice.stop <= n
        assert train_slice.stop - train_slice.start >= train
        assert not set(range(n)[train_slice]) & set(range(n)[test_slice])


def test_stitched_equity_continues_each_segment_from_the_previous_end():
    equity = stitch([np.array([100.0, 110.0]), np.array([50.0, 60.0, 45.0]), np.array([2.0, 4.0])])

    np.testing.assert_allclose(equity, [100, 110, 110, 132, 99, 99, 198])


def test_stitching_series_drops_the_repeated_opening_value():
    index = pd.date_range("2024-01-01", periods=5)
    first = pd.Series([100.0, 105.0, 110.0], index=index[:3])
    second = pd.Series([20.0, 22.0, 24.0], index=index[2:])  # opens at the previous close

    equity = stitch([first, second])

    assert list(equity.index) == list(index)
    np.testing.assert_allclose(equity, [100, 105, 110, 121, 132])


# --- a toy strategy: hold for `hold` bars after a close above the `lookback` mean ------------


class ToyParams(StrategyParams):
    lookback: int = Field(5, ge=2, le=30)


SPACE = SearchSpace.from_params(ToyParams, {"lookback": (2, 30, 2)})


def toy_functions(prices: np.ndarray):
    """``evaluate_on`` and ``optimize_on`` of a trend rule on ``prices``, shape (n,)."""

    def equity_of(params, window: slice) -> np.ndarray:
        n = params["lookback"]
        seen = prices[: window.stop]  # past and window bars only
        mean = pd.Series(seen).rolling(n).mean().to_numpy()
        held = np.nan_to_num((seen > mean).astype(float))
        returns = np.diff(seen) / seen[:-1] * held[:-1]
        start = max(window.start - 1, 0)
        growth = np.concatenate([[1.0], np.cumprod(1 + returns[start : window.stop - 1])])
        return 100.0 * growth

    def evaluate_on(params, window):
        equity = equity_of(params, window)
        return float(equity[-1] / equity[0] - 1), equity

    def optimize_on(window):
        return grid_search(SPACE, lambda p: evaluate_on(p, window)[0]).best_params

    return evaluate_on, optimize_on


@pytest.fixture(scope="module")
def prices() -> np.ndarray:
    rng = np.random.default_rng(8)
    return 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, 600)))


def test_walk_forward_scores_each_window_and_stitches_the_test_equity(prices):
    splits = walk_forward_splits(len(prices), train=200, test=100)

    result = walk_forward(*toy_functions(prices), splits)

    assert len(result.windows) == 4
    assert list(result.windows["test_start"]) == [200, 300, 400, 500]
    assert all(2 <= p["lookback"] <= 30 for p in result.params)
    assert len(result.equity) == 4 * 101
    ratio = result.equity[-1] / result.equity[0]
    assert ratio == pytest.approx(np.prod(1 + result.windows["out_of_sample"]))


def test_walk_forward_uses_only_past_data(prices):
    splits = walk_forward_splits(len(prices), train=150, test=75)
    chosen = walk_forward(*toy_functions(prices), splits).params

    for k, (train, _) in enumerate(splits):
        poisoned = prices.copy()
        poisoned[train.stop :] = np.where(np.arange(len(prices) - train.stop) % 2, 1e9, 1e-9)
        again = walk_forward(*toy_functions(poisoned), splits[: k + 1]).params
        assert again == chosen[: k + 1]


def test_the_poisoning_test_catches_a_leak(prices):
    splits = walk_forward_splits(len(prices), train=150, test=75)
    evaluate_on, _ = toy_functions(prices)
    leaky_evaluate, _ = toy_functions(np.where(np.arange(len(prices)) % 2, 1e9, 1e-9) + prices)

    def leaky_optimize(window):
        ahead = slice(window.start, window.stop + 75)  # peeks at the test window
        return grid_search(SPACE, lambda p: leaky_evaluate(p, ahead)[0]).best_params

    clean = walk_forward(evaluate_on, toy_functions(prices)[1], splits).params
    leaky = walk_forward(evaluate_on, leaky_optimize, splits).params
    assert leaky != clean


def test_overlapping_test_windows_cannot_be_stitched(prices):
    splits = walk_forward_splits(len(prices), train=100, test=50, step=25)

    with pytest.raises(ValueError, match="overlap"):
        walk_forward(*toy_functions(prices), splits)


def test_stop_flag_and_progress(prices):
    splits = walk_forward_splits(len(prices), train=200, test=100)
    seen = []

    result = walk_forward(
        *toy_functions(prices),
        splits,
        progress=lambda done, total: seen.append((done, total)),
        should_stop=lambda: len(seen) >= 2,
    )

    assert result.stopped and len(result.windows) == 2 and seen == [(1, 4), (2, 4)]
