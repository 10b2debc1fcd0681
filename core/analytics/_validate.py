"""Input checks shared by the metric functions (arrays, equity curves, rates, levels)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.errors import InvalidInputError

ArrayLike = np.ndarray | pd.Series | Sequence[float]

# A deviation no larger than this many float epsilons of the values' scale is rounding
# noise (e.g. the returns of a curve that grows at a constant rate), not risk.
_NOISE_EPS = 16 * np.finfo(float).eps


def _vector(values: ArrayLike, name: str) -> np.ndarray:
    """``values`` as a 1-D float64 array of finite numbers (may be empty)."""
    if isinstance(values, pd.Series | pd.Index):
        array = values.to_numpy(dtype=float, na_value=np.nan)
    else:
        array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise InvalidInputError(f"{name} must be 1-D, got an array of shape {array.shape}")
    finite = np.isfinite(array)
    if not finite.all():
        pos = int(np.argmin(finite))
        raise InvalidInputError(f"{name} must be finite; element {pos} is {array[pos]}")
    return array


def _equity(equity: ArrayLike) -> np.ndarray:
    """A validated equity curve: 1-D, finite, positive, at least two values."""
    array = _vector(equity, "equity")
    if len(array) < 2:
        raise InvalidInputError(f"equity needs at least 2 values, got {len(array)}")
    if (array <= 0).any():
        pos = int(np.argmax(array <= 0))
        raise InvalidInputError(f"equity must be positive; element {pos} is {array[pos]}")
    return array


def _periods(periods_per_year: float) -> float:
    value = float(periods_per_year)
    if not (math.isfinite(value) and value > 0):
        raise InvalidInputError(
            f"periods_per_year must be a positive number, got {periods_per_year!r}"
        )
    return value


def _rate(value: float, name: str) -> float:
    rate = float(value)
    if not math.isfinite(rate):
        raise InvalidInputError(f"{name} must be a finite number, got {value!r}")
    return rate


def _level(level: float) -> float:
    value = float(level)
    if not 0 < value < 1:
        raise InvalidInputError(f"level must lie strictly between 0 and 1, got {level!r}")
    return value


def _is_noise(deviation: float, values: np.ndarray) -> bool:
    """True when a deviation of returns is zero up to float rounding of ``1 + r``."""
    return deviation <= _NOISE_EPS * (1.0 + float(np.abs(values).max(initial=0.0)))


def _like(result: np.ndarray, source: ArrayLike, index) -> np.ndarray | pd.Series:
    if isinstance(source, pd.Series):
        return pd.Series(result, index=index, name=source.name)
    return result
