"""A fast parameter sweep of the SMA crossover: every (fast, slow) pair in one call.

It gives the same final equity as the vectorized path and the event engine run with
``ExecutionConfig(commission=CommissionModel(rate=commission_rate))`` on an instrument
with multiplier 1 traded in whole units (the defaults: all-in sizing, market orders filled
at the next bar's open, shorting allowed, no margin), because it repeats their arithmetic
operation for operation:

* every moving average is computed once with :func:`sma_array` (the vectorized path's own
  function), and the crossing bars of every pair follow :func:`cross_signs`' rule (a sign
  change of fast − slow against the last non-zero difference, |diff| ≤ 1e-10 × slow
  counting as zero), found with array operations, a whole slow window at a time;
* only crossing bars are simulated, for all pairs at once: step k applies every pair's
  k-th crossing with the broker's, sizer's and ledger's formulas (notional = qty × price,
  commission = notional × rate; units = floor(cash / (price × (1 + rate)) + 1e-9), cut
  while their cost plus commission exceed cash + 1e-9; a fill that would leave cash below
  −1e-6 is rejected). numpy's float64 operations round exactly like Python's, so the
  results are the same bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from core.portfolio._ledger import CASH_TOLERANCE
from core.strategies.builtin._signals import ZERO_TOLERANCE, sma_array

SWEEP_COLUMNS = ["fast", "slow", "final_equity", "n_trades", "total_return"]


def sma_crossover_sweep(
    open: np.ndarray,
    close: np.ndarray,
    fasts: Iterable[int],
    slows: Iterable[int],
    *,
    cash: float,
    commission_rate: float,
    long_short: bool = False,
) -> pd.DataFrame:
    """Final equity of the SMA crossover for every pair of ``fasts`` × ``slows`` with
    fast < slow, on one instrument's open and close prices.

    Returns one row per pair, sorted by (fast, slow): ``final_equity`` (cash plus the
    position marked at the last close), ``n_trades`` (positions opened, a position still
    open at the end included) and ``total_return`` (final equity / cash − 1).
    """
    o, c = _prices(open, close)
    fast_list = sorted({int(f) for f in fasts})
    slow_list = sorted({int(s) for s in slows})
    if not fast_list or not slow_list or min(fast_list + slow_list) < 1:
        raise ValueError("fasts and slows must be non-empty lists of windows ≥ 1")
    if not cash > 0 or not commission_rate >= 0:
        raise ValueError("cash must be positive and commission_rate ≥ 0")

    fast_sma = np.array([sma_array(c, f) for f in fast_list]).reshape(len(fast_list), len(c))
    pair_fast, pair_slow, cross_pair, cross_bar, cross_dir = [], [], [], [], []
    n_pairs = 0
    for s in slow_list:
        k = int(np.searchsorted(fast_list, s))  # the fasts below s
        if k == 0:
            continue
        slow_sma = sma_array(c, s)
        rows, bars, dirs = _crossings(fast_sma[:k], slow_sma)
        pair_fast.extend(fast_list[:k])
        pair_slow.extend([s] * k)
        cross_pair.append(rows + n_pairs)
        cross_bar.append(bars)
        cross_dir.append(dirs)
        n_pairs += k
    if n_pairs == 0:
        return pd.DataFrame(columns=SWEEP_COLUMNS)

    pairs = np.concatenate(cross_pair)
    bars = np.concatenate(cross_bar)
    dirs = np.concatenate(cross_dir)
    keep = bars < len(c) - 1  # a signal on the last bar is never filled
    pairs, bars, dirs = pairs[keep], bars[keep], dirs[keep]
    equity, trades = _simulate(
        pairs, o[bars + 1], dirs, n_pairs, c[-1], float(cash), float(commission_rate), long_short
    )
    frame = pd.DataFrame(
        {
            "fast": np.array(pair_fast, dtype=int),
            "slow": np.array(pair_slow, dtype=int),
            "final_equity": equity,
            "n_trades": trades,
            "total_return": equity / float(cash) - 1.0,
        }
    )
    return frame.sort_values(["fast", "slow"], ignore_index=True)


def _prices(open: np.ndarray, close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    o, c = np.asarray(open, dtype=float), np.asarray(close, dtype=float)
    if o.ndim != 1 or o.shape != c.shape or len(c) < 2:
        raise ValueError("open and close must be 1-D arrays of the same length (≥ 2 bars)")
    if not (np.isfinite(o).all() and np.isfinite(c).all() and (o > 0).all() and (c > 0).all()):
        raise ValueError("prices must be finite and positive (no missing bars)")
    return o, c


def _crossings(fast: np.ndarray, slow: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crossings of each row of ``fast`` (k × n) with ``slow`` (n): row, bar, ±1.

    The same rule as :func:`cross_signs`, row by row: sign of fast − slow with the zero
    tolerance, a cross where a non-zero sign is the opposite of the last non-zero sign.
    """
    diff = fast - slow
    tol = ZERO_TOLERANCE * np.abs(slow)  # NaN before slow exists: both tests False → 0
    sign = (diff > tol).view(np.int8) - (diff < -tol).view(np.int8)
    width = sign.shape[1] - 1
    flat = np.flatnonzero(sign[:, 1:] != sign[:, :-1])  # candidates: the sign changes
    rows, bars = flat // width, flat % width + 1
    now, before = sign[rows, bars], sign[rows, bars - 1]
    # After a run of zeros the last non-zero sign is the one before the run, i.e. before
    # the previous candidate of the same row (the change into the run); none: no sign yet.
    prior = np.zeros_like(now)
    same_row = np.flatnonzero(rows[1:] == rows[:-1]) + 1
    prior[same_row] = sign[rows[same_row], bars[same_row - 1] - 1]
    last = np.where(before != 0, before, prior)
    is_cross = (now != 0) & (last == -now)
    return rows[is_cross], bars[is_cross], now[is_cross]


def _simulate(pairs, prices, dirs, n_pairs, last_close, cash0, rate, long_short):
    """Apply every pair's crossings in order, all pairs at once, the ledger's arithmetic.

    ``pairs`` is sorted (pair, then bar); ``prices`` are the fill prices (next opens).
    """
    counts = np.bincount(pairs, minlength=n_pairs)
    order = np.argsort(-counts, kind="stable")  # most crossings first: active = a prefix
    rank = np.empty(n_pairs, dtype=np.intp)
    rank[order] = np.arange(n_pairs)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    step = np.arange(len(pairs)) - starts[pairs]
    depth = int(counts.max()) if n_pairs else 0
    price_at = np.zeros((depth, n_pairs))
    target_at = np.zeros((depth, n_pairs), dtype=np.int8)
    price_at[step, rank[pairs]] = prices
    down = -1 if long_short else 0
    target_at[step, rank[pairs]] = np.where(dirs > 0, 1, down)
    active = np.searchsorted(-counts[order], -np.arange(depth))  # pairs with > k crossings

    cash = np.full(n_pairs, cash0)
    qty = np.zeros(n_pairs)
    trades = np.zeros(n_pairs, dtype=np.int64)
    unit = 1 + rate
    for k in range(depth):
        m = active[k]
        p, target = price_at[k, :m], target_at[k, :m]
        money, held = cash[:m], qty[:m]
        # close what opposes the target (a buy back that cash cannot pay is rejected,
        # and the order with it)
        closing = (held != 0) & ((target == 0) | ((held > 0) != (target > 0)))
        notional = np.abs(held) * p
        after = np.where(held > 0, money + notional, money - notional) - notional * rate
        closed = closing & ~(after < -CASH_TOLERANCE)
        money = np.where(closed, after, money)
        held = np.where(closed, 0.0, held)
        # then size the new side all-in at the fill price
        opening = (target != 0) & ~(closing & ~closed) & ~(held * target > 0)
        units = _affordable(np.floor(np.maximum(money, 0.0) / (p * unit) + 1e-9), p, money, rate)
        notional = units * p
        after = np.where(target > 0, money - notional, money + notional) - notional * rate
        opened = opening & (units > 0) & ~(after < -CASH_TOLERANCE)
        cash[:m] = np.where(opened, after, money)
        qty[:m] = np.where(opened, units * target, held)
        trades[:m] += opened
    equity = cash + np.where(qty != 0, qty * last_close, 0.0)
    return equity[rank], trades[rank]


def _affordable(units: np.ndarray, price: np.ndarray, cash: np.ndarray, rate: float) -> np.ndarray:
    """:func:`core.execution._sizing._affordable` for whole units and a percent commission:
    cut the units whose cost plus commission exceed cash (the + 1e-9 of the floor can
    round one unit too many)."""
    while True:
        notional = units * price
        cost = notional + notional * rate
        over = (units > 0) & (cost > cash + 1e-9)
        if not over.any():
            return units
        cut = np.floor(np.maximum(units - np.maximum((cost - cash) / price, 1.0), 0.0) + 1e-9)
        units = np.where(over, cut, units)
