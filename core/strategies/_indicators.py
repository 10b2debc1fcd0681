"""Incremental indicators.

One ``update`` per bar, O(1) each, the same in backtests and live trading. Each returns NaN until it
has seen enough data.
"""

from __future__ import annotations

import math
from collections import deque

NAN = math.nan


class SMA:
    """Mean of the last ``n`` values (ring buffer with a running sum)."""

    __slots__ = ("_buf", "_i", "_n", "_seen", "_sum")

    def __init__(self, n: int):
        self._n, self._buf, self._i, self._sum, self._seen = n, [0.0] * n, 0, 0.0, 0

    def update(self, x: float) -> float:
        i = self._i
        self._sum += x - self._buf[i]
        self._buf[i] = x
        self._i = i + 1 if i + 1 < self._n else 0
        self._seen += 1
        if self._seen < self._n:
            return NAN
        if self._i == 0:  # once per window: re-sum to stop float drift
            self._sum = math.fsum(self._buf)
        return self._sum / self._n


class RollingZScore:
    """(x − mean) / std(ddof=1) over the last ``n`` values, x included."""

    __slots__ = ("_buf", "_n")

    def __init__(self, n: int):
        self._n, self._buf = n, deque(maxlen=n)

    def update(self, x: float) -> float:
        self._buf.append(x)
        if len(self._buf) < self._n:
            return NAN
        mean = math.fsum(self._buf) / self._n
        var = math.fsum((v - mean) ** 2 for v in self._buf) / (self._n - 1)
        return (x - mean) / math.sqrt(var) if var > 0 else 0.0


class RateOfChange:
    """x_t / x_{t−n} − 1."""

    __slots__ = ("_buf",)

    def __init__(self, n: int):
        self._buf = deque(maxlen=n + 1)

    def update(self, x: float) -> float:
        self._buf.append(x)
        return x / self._buf[0] - 1 if len(self._buf) == self._buf.maxlen else NAN


class Channel:
    """Highest high and lowest low of the ``n`` bars *before* the current one."""

    __slots__ = ("_highs", "_lows", "_n")

    def __init__(self, n: int):
        self._n, self._highs, self._lows = n, deque(maxlen=n), deque(maxlen=n)

    def update(self, high: float, low: float) -> tuple[float, float]:
        ready = len(self._highs) == self._n
        upper = max(self._highs) if ready else NAN
        lower = min(self._lows) if ready else NAN
        self._highs.append(high)
        self._lows.append(low)
        return upper, lower


class RSI:
    """Wilder's relative strength index over ``n`` bars (seeded by a simple average)."""

    __slots__ = ("_gain", "_loss", "_n", "_prev", "_seen")

    def __init__(self, n: int):
        self._n, self._prev, self._gain, self._loss, self._seen = n, NAN, 0.0, 0.0, 0

    def update(self, x: float) -> float:
        prev, self._prev = self._prev, x
        if math.isnan(prev):
            return NAN
        change = x - prev
        gain, loss = max(change, 0.0), max(-change, 0.0)
        self._seen += 1
        n = self._n
        if self._seen <= n:
            self._gain += gain / n
            self._loss += loss / n
            if self._seen < n:
                return NAN
        else:
            self._gain = (self._gain * (n - 1) + gain) / n
            self._loss = (self._loss * (n - 1) + loss) / n
        if self._loss == 0:
            return 100.0 if self._gain > 0 else 50.0
        return 100.0 - 100.0 / (1.0 + self._gain / self._loss)


class RollingVolatility:
    """Standard deviation (ddof=1) of the last ``n`` simple returns."""

    __slots__ = ("_prev", "_z")

    def __init__(self, n: int):
        self._prev, self._z = NAN, deque(maxlen=n)

    def update(self, x: float) -> float:
        prev, self._prev = self._prev, x
        if not math.isnan(prev):
            self._z.append(x / prev - 1)
        n = len(self._z)
        if n < max(2, self._z.maxlen):
            return NAN
        mean = math.fsum(self._z) / n
        return math.sqrt(math.fsum((r - mean) ** 2 for r in self._z) / (n - 1))
