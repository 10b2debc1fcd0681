"""Walk-forward analysis: optimise on the past, trade the next window, repeat.

:func:`walk_forward_splits` cuts ``n_bars`` bars into windows; :func:`walk_forward` runs the
caller's optimiser on each training window and scores the chosen parameters on the test
window that follows it, then stitches the out-of-sample equity segments into one curve.

Only the bars of a training window reach ``optimize_on``. ``evaluate_on(params, window)``
may read any bar *before* the end of ``window`` (e.g. to warm up indicators) but must
measure only inside it; the test windows never overlap their training windows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.errors import InvalidInputError

Split = tuple[slice, slice]


def walk_forward_splits(
    n_bars: int,
    train: int,
    test: int,
    *,
    anchored: bool = False,
    step: int | None = None,
    partial: bool = False,
) -> list[Split]:
    """Consecutive ``(train, test)`` windows of bar positions.

    Window ``k`` tests on ``[train + k·step, train + k·step + test)`` and trains on the
    ``train`` bars before it (rolling) or on every bar before it (anchored).

    Parameters
    ----------
    n_bars : int
        Bars in the data.
    train, test : int
        Bars in a (first, for anchored) training window and in a test window.
    anchored : bool, default False
        Grow the training window from bar 0 instead of rolling it.
    step : int, optional
        Bars between window starts (default ``test``: test windows tile the data).
    partial : bool, default False
        Keep a last test window shorter than ``test``.

    Returns
    -------
    list of (slice, slice)
        ``(train_slice, test_slice)`` with ``train_slice.stop == test_slice.start``.
    """
    step = test if step is None else step
    if min(train, test, step) < 1:
        raise InvalidInputError("train, test and step must be at least 1")
    splits = []
    start = train
    while start < n_bars:
        stop = min(start + test, n_bars)
        if stop - start < test and not partial:
            break
        splits.append((slice(0 if anchored else start - train, start), slice(start, stop)))
        start += step
    return splits


@dataclass(frozen=True)
class WalkForwardResult:
    """The windows of a walk-forward run and its out-of-sample equity.

    Attributes
    ----------
    windows : DataFrame of shape (n_windows, 7)
        ``train_start``, ``train_stop``, ``test_start``, ``test_stop`` (bar positions),
        ``params`` (dict), ``in_sample`` and ``out_of_sample`` scores.
    equity : ndarray or Series of shape (n_test_bars,)
        The test segments chained: each is rescaled to start where the previous one ended
        (a Series when every segment is one).
    stopped : bool
        True when the stop flag ended the run early.
    """

    windows: pd.DataFrame
    equity: np.ndarray | pd.Series
    stopped: bool = False

    @property
    def params(self) -> list[dict[str, Any]]:
        return list(self.windows["params"])

    @property
    def efficiency(self) -> float:
        """Walk-forward efficiency: mean out-of-sample over mean in-sample score."""
        mean_in = self.windows["in_sample"].mean()
        return float(self.windows["out_of_sample"].mean() / mean_in) if mean_in else math.nan


def walk_forward(
    evaluate_on: Callable[[dict[str, Any], slice], tuple[float, Sequence[float]]],
    optimize_on: Callable[[slice], dict[str, Any]],
    splits: Sequence[Split],
    *,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> WalkForwardResult:
    """Optimise on each training window, score on its test window, chain the equity.

    Parameters
    ----------
    evaluate_on : callable
        ``evaluate_on(params, window) -> (score, equity_segment)``; the segment holds
        positive equity values of the window's bars, best preceded by the equity at the
        close before the window (see :func:`stitch`); an ndarray or a Series.
    optimize_on : callable
        ``optimize_on(train_window) -> best_params``, e.g. a grid search's ``best_params``.
    splits : sequence of (slice, slice)
        From :func:`walk_forward_splits`; test windows must not overlap each other.
    progress : callable, optional
        ``progress(done_windows, n_windows)`` after each window.
    should_stop : callable, optional
        Checked before each window.

    Returns
    -------
    WalkForwardResult
    """
    _check_splits(splits)
    rows, segments, stopped = [], [], False
    for k, (train, test) in enumerate(splits):
        if should_stop is not None and should_stop():
            stopped = True
            break
        params = optimize_on(train)
        in_sample, _ = evaluate_on(params, train)
        out_of_sample, segment = evaluate_on(params, test)
        rows.append(
            {
                "train_start": train.start,
                "train_stop": train.stop,
                "test_start": test.start,
                "test_stop": test.stop,
                "params": params,
                "in_sample": float(in_sample),
                "out_of_sample": float(out_of_sample),
            }
        )
        segments.append(segment)
        if progress is not None:
            progress(k + 1, len(splits))
    columns = ["train_start", "train_stop", "test_start", "test_stop", "params"]
    windows = pd.DataFrame(rows, columns=[*columns, "in_sample", "out_of_sample"])
    return WalkForwardResult(windows, stitch(segments), stopped)


def stitch(segments: Sequence[np.ndarray | pd.Series]) -> np.ndarray | pd.Series:
    """Chain equity segments: each is rescaled to start at the previous segment's end.

    Give each segment the equity at the close before its window as its first value (its
    opening value) so that no return is lost at the seams. When the segments are Series
    and a segment's first label is the previous segment's last label (the opening value
    is the previous window's last close), that value is dropped after rescaling, so every
    label appears once.

    Parameters
    ----------
    segments : sequence of array_like of shape (n_k,)
        Positive equity values; the first segment keeps its own scale.

    Returns
    -------
    ndarray or Series of shape (sum n_k,) (less the dropped labels)
        A Series (with the segments' labels) when every segment is a Series.
    """
    series = bool(segments) and all(isinstance(s, pd.Series) for s in segments)
    pieces, labels, level, last = [], [], None, None
    for segment in segments:
        values = np.asarray(segment, dtype=float)
        if not len(values):
            continue
        if level is not None:
            values = values * (level / values[0])
        index = segment.index if series else None
        if series and last is not None and index[0] == last:
            values, index = values[1:], index[1:]
        pieces.append(values)
        labels.append(index)
        level = values[-1] if len(values) else level
        last = segment.index[-1] if series else None
    equity = np.concatenate(pieces) if pieces else np.empty(0)
    if series:
        index = labels[0].append(labels[1:]) if labels else pd.Index([])
        return pd.Series(equity, index=index, name="equity")
    return equity


def _check_splits(splits: Sequence[Split]) -> None:
    previous_stop = -1
    for train, test in splits:
        if train.stop > test.start:
            raise InvalidInputError(f"test window {test} overlaps its training window {train}")
        if test.start < previous_stop:
            raise InvalidInputError("test windows overlap; stitching needs step >= test")
        previous_stop = test.stop
