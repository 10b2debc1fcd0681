"""Helpers shared by the built-in strategies' event and vectorized paths."""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

ZERO_TOLERANCE = 1e-10  # |a − b| below this share of b counts as equal


def sma_array(x: np.ndarray, n: int) -> np.ndarray:
    """Mean of the last n values at each bar (NaN before n values exist)."""
    out = np.full(len(x), np.nan)
    if len(x) >= n:
        out[n - 1 :] = sliding_window_view(x, n).mean(axis=1)
    return out


def sign_with_tolerance(diff: float, scale: float) -> int:
    if math.isnan(diff) or abs(diff) <= ZERO_TOLERANCE * abs(scale):
        return 0
    return 1 if diff > 0 else -1


def cross_signs(fast: np.ndarray, slow: np.ndarray) -> np.ndarray:
    """+1 where fast crosses above slow, −1 where it crosses below, else 0.

    A cross is a change of sign of fast − slow against the last non-zero difference;
    nothing can cross before both series exist.
    """
    diff = fast - slow
    sign = np.where(np.abs(diff) <= ZERO_TOLERANCE * np.abs(slow), 0, np.sign(diff))
    sign[np.isnan(diff)] = 0
    nz_idx = np.where(sign != 0, np.arange(len(sign)), -1)
    last_nz = np.maximum.accumulate(nz_idx)
    prev = np.empty_like(last_nz)
    prev[0], prev[1:] = -1, last_nz[:-1]
    prev_sign = np.where(prev >= 0, sign[np.maximum(prev, 0)], 0)
    return np.where((sign != 0) & (prev_sign != 0) & (sign != prev_sign), sign, 0).astype(int)


class Crossover:
    """The event-path twin of :func:`cross_signs`."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last = 0

    def update(self, fast: float, slow: float) -> int:
        diff = fast - slow  # sign_with_tolerance, inlined: this runs on every bar
        if diff != diff or abs(diff) <= ZERO_TOLERANCE * abs(slow):
            return 0
        sign = 1 if diff > 0 else -1
        last, self._last = self._last, sign
        return sign if last != 0 and last != sign else 0


def changes_only(targets: np.ndarray) -> np.ndarray:
    """Keep a target only where it differs from the last one stated (NaN elsewhere)."""
    out = np.full(len(targets), np.nan)
    current = math.nan
    for i, t in enumerate(targets):
        if not math.isnan(t) and t != current:
            out[i] = current = t
    return out
