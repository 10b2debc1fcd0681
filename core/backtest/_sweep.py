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

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InvalidInputError
from core.portfolio import CASH_TOLERANCE
from core.strategies.builtin import ZERO_TOLERANCE, sma_array

SWEEP_COLUMNS = ["fast", "slow", "final_equity", "n_trades", "total_return"]
CROSS_ROWS = 64
"""Parameter pairs whose crossings are found in one array pass (two ``CROSS_ROWS × n_bars``
matrices of moving averages)."""


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
    """Final equity of the SMA crossover for every pair of ``fasts`` × ``slows`` with fast < slow.

    Computed on one instrument's open and close prices.

    Returns one row per pair, sorted by (fast, slow): ``final_equity`` (cash plus the
    position marked at the last close), ``n_trades`` (positions opened, a position still
    open at the end included) and ``total_return`` (final equity / cash − 1).
    """
    o, c = _prices(open, close)
    fast_list = sorted({int(f) for f in fasts})
    slow_list = sorted({int(s) for s in slows})
    if not fast_list or not slow_list or min(fast_list + slow_list) < 1:
        raise InvalidInputError("fasts and slows must be non-empty lists of windows ≥ 1")
    if not cash > 0 or not commission_rate >= 0:
        raise InvalidInputError("cash must be positive and commission_rate ≥ 0")

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


@dataclass(frozen=True)
class SweepPaths:
    """The runs of ``P`` SMA crossover parameter sets, as fills in time order.

    Every crossing that reached the broker is one *event* (rows sorted by pair, then bar),
    with the state after it. Arrays of shape ``(E,)``:

    ``pair``
        Row of the parameter set (0 … P − 1).
    ``bar``
        The fill bar (the bar after the crossing).
    ``cash``, ``qty``
        Cash and signed units held after the event.
    ``pnl_net``
        Net P&L of the trade the event closed (entry and exit commission deducted, as the
        engine's trade tracker books it); NaN when it closed none.
    ``notional``
        Σ quantity × price of the event's fills (0 without a fill); ``n_fills`` (0, 1 or 2:
        a flip closes, then opens).
    """

    close: np.ndarray
    cash0: float
    n_pairs: int
    pair: np.ndarray
    bar: np.ndarray
    cash: np.ndarray
    qty: np.ndarray
    pnl_net: np.ndarray
    notional: np.ndarray
    n_fills: np.ndarray

    def curves(self, rows: slice = slice(None), stop: int | None = None):
        """Equity and units held at every close before ``stop``, for the parameter sets ``rows``.

        Two arrays of shape ``(n_rows, stop)``; cash and units hold from one event to the next,
        equity is cash + units × close.
        """
        first, last, _ = rows.indices(self.n_pairs)
        n = len(self.close) if stop is None else int(stop)
        lo, hi = np.searchsorted(self.pair, [first, last])
        pair, bar = self.pair[lo:hi] - first, self.bar[lo:hi]
        seen = bar < n
        pair, bar = pair[seen], bar[seen]
        count = max(last - first, 0)
        # one segment per pair from bar 0 (the starting state), then one per event
        size = count + len(pair)
        at = np.arange(len(pair)) + pair + 1
        starts = np.searchsorted(pair, np.arange(count)) + np.arange(count)
        seg_cash, seg_qty = np.full(size, self.cash0), np.zeros(size)
        seg_cash[at], seg_qty[at] = self.cash[lo:hi][seen], self.qty[lo:hi][seen]
        begin = np.empty(size, dtype=np.int64)
        begin[starts] = np.arange(count) * n
        begin[at] = pair * n + bar
        lengths = np.diff(np.append(begin, count * n))
        cash = np.repeat(seg_cash, lengths).reshape(count, n)
        qty = np.repeat(seg_qty, lengths).reshape(count, n)
        return cash + qty * self.close[:n], qty


def sma_crossover_paths(
    open: np.ndarray,
    close: np.ndarray,
    fasts: np.ndarray,
    slows: np.ndarray,
    long_short: np.ndarray | bool = False,
    *,
    cash: float,
    commission_rate: float,
    sma: Callable[[int], np.ndarray] | None = None,
) -> SweepPaths:
    """Full runs of the SMA crossover for the parameter sets ``fasts``, ``slows``, ``long_short``.

    Each is an array of shape ``(P,)``, with fast < slow; every fill comes with the state after it
    (:class:`SweepPaths`), from the same arithmetic as :func:`sma_crossover_sweep`.

    ``sma(window)`` gives :func:`sma_array` of ``close`` (e.g. a cached one).
    """
    o, c = _prices(open, close)
    fasts, slows = np.asarray(fasts, dtype=np.int64), np.asarray(slows, dtype=np.int64)
    flags = np.broadcast_to(np.asarray(long_short, dtype=bool), fasts.shape)
    if fasts.ndim != 1 or fasts.shape != slows.shape:
        raise InvalidInputError("fasts and slows must be 1-D arrays of the same length")
    if len(fasts) and (fasts.min() < 1 or (fasts >= slows).any()):
        raise InvalidInputError("every window must be ≥ 1, with fast below slow")
    if not cash > 0 or not commission_rate >= 0:
        raise InvalidInputError("cash must be positive and commission_rate ≥ 0")
    average = sma if sma is not None else (lambda w: sma_array(c, w))
    pairs, bars, dirs = _pair_crossings(fasts, slows, average)
    keep = bars < len(c) - 1  # a signal on the last bar is never filled
    pairs, bars, dirs = pairs[keep], bars[keep], dirs[keep]
    n_pairs = len(fasts)
    steps = _Lockstep(pairs, o[bars + 1], dirs, n_pairs, float(cash), float(commission_rate), flags)
    size = len(pairs)
    cash_at, qty_at, pnl_at = np.empty(size), np.empty(size), np.full(size, np.nan)
    notional_at, fills_at = np.empty(size), np.empty(size, dtype=np.int8)
    entry_units, entry_cost, entry_fee = np.zeros(n_pairs), np.zeros(n_pairs), np.zeros(n_pairs)
    rate = float(commission_rate)
    for k, (m, was_long, closed, closed_qty, opened, units, p) in enumerate(steps.run()):
        here = slice(steps.offset[k], steps.offset[k + 1])
        if closed.any():  # the trade tracker's arithmetic for a whole exit
            with np.errstate(invalid="ignore", divide="ignore"):  # 0 / 0 where none is open
                entry = entry_cost[:m] / entry_units[:m]
            direction = np.where(was_long, 1.0, -1.0)
            pnl = (closed_qty * p - entry * closed_qty) * direction * 1.0
            fee = entry_fee[:m] + closed_qty * p * rate * 1.0
            pnl_at[here] = np.where(closed, pnl - fee, np.nan)
        opened_notional = units * p
        notional_at[here] = np.where(closed, closed_qty * p, 0.0) + np.where(
            opened, opened_notional, 0.0
        )
        fills_at[here] = closed.view(np.int8) + opened.view(np.int8)
        entry_units[:m] = np.where(opened, units, entry_units[:m])
        entry_cost[:m] = np.where(opened, opened_notional, entry_cost[:m])
        entry_fee[:m] = np.where(opened, opened_notional * rate, entry_fee[:m])
        cash_at[here], qty_at[here] = steps.cash[:m], steps.qty[:m]
    where = steps.slot
    return SweepPaths(
        close=c,
        cash0=float(cash),
        n_pairs=n_pairs,
        pair=pairs,
        bar=bars + 1,
        cash=cash_at[where],
        qty=qty_at[where],
        pnl_net=pnl_at[where],
        notional=notional_at[where],
        n_fills=fills_at[where],
    )


def _pair_crossings(fasts, slows, sma) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crossings (pair, bar, ±1) of each pair ``(fasts[i], slows[i])``, sorted by pair then bar.

    A pair repeated (e.g. with and without shorting) is computed once.
    """
    base = int(slows.max(initial=0)) + 1
    unique, inverse = np.unique(fasts * base + slows, return_inverse=True)
    u_fast, u_slow = unique // base, unique % base
    rows, bars, dirs = [], [], []
    for lo in range(0, len(unique), CROSS_ROWS):
        part = slice(lo, lo + CROSS_ROWS)
        fast = np.array([sma(int(f)) for f in u_fast[part]])
        slow = np.array([sma(int(s)) for s in u_slow[part]])
        r, b, d = _crossings(fast, slow)
        rows.append(r + lo)
        bars.append(b)
        dirs.append(d)
    if not rows:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty, empty.astype(np.int8)
    u_pair, u_bar, u_dir = np.concatenate(rows), np.concatenate(bars), np.concatenate(dirs)
    counts = np.bincount(u_pair, minlength=len(unique))
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    reps = counts[inverse]
    pair = np.repeat(np.arange(len(fasts)), reps)
    offset = np.arange(len(pair)) - np.repeat(np.cumsum(reps) - reps, reps)
    source = first[inverse][pair] + offset
    return pair, u_bar[source], u_dir[source]


def _prices(open: np.ndarray, close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    o, c = np.asarray(open, dtype=float), np.asarray(close, dtype=float)
    if o.ndim != 1 or o.shape != c.shape or len(c) < 2:
        raise InvalidInputError("open and close must be 1-D arrays of the same length (≥ 2 bars)")
    if not (np.isfinite(o).all() and np.isfinite(c).all() and (o > 0).all() and (c > 0).all()):
        raise InvalidInputError("prices must be finite and positive (no missing bars)")
    return o, c


def _crossings(fast: np.ndarray, slow: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crossings of each row of ``fast`` (k × n) with ``slow`` (n, or k × n row by row).

    Row, bar, ±1, sorted by row then bar.

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
    Returns the final equity and the positions opened of each pair.
    """
    steps = _Lockstep(pairs, prices, dirs, n_pairs, cash0, rate, long_short)
    for _ in steps.run():
        pass
    equity = steps.cash + np.where(steps.qty != 0, steps.qty * last_close, 0.0)
    return equity[steps.rank], steps.trades[steps.rank]


class _Lockstep:
    """Every pair's k-th crossing applied at step k, for all pairs at once.

    ``pairs`` is sorted (pair, then bar); ``prices`` are the fill prices and ``dirs`` the
    crossing directions (±1); ``long_short`` is one flag for every pair or one per pair.
    :meth:`run` yields after each step (the state in ``cash``, ``qty``, ``trades`` in rank
    order: ``rank[pair]`` is a pair's column) with the step's fills. Event ``i`` is applied
    in slot ``slot[i]`` of the step-major layout (step ``k`` fills slots ``offset[k]`` to
    ``offset[k + 1] − 1``).
    """

    def __init__(self, pairs, prices, dirs, n_pairs, cash0, rate, long_short):
        counts = np.bincount(pairs, minlength=n_pairs)
        order = np.argsort(-counts, kind="stable")  # most crossings first: active = a prefix
        self.rank = rank = np.empty(n_pairs, dtype=np.intp)
        rank[order] = np.arange(n_pairs)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        step = np.arange(len(pairs)) - starts[pairs]
        self.depth = depth = int(counts.max()) if n_pairs else 0
        self.active = np.searchsorted(-counts[order], -np.arange(depth))  # > k crossings
        # step-major slots: step k holds ranks 0 … active[k] − 1 from offset[k]
        self.offset = np.concatenate(([0], np.cumsum(self.active))).astype(np.intp)
        self.slot = self.offset[step] + rank[pairs]
        self.price = np.empty(len(pairs))
        self.price[self.slot] = prices
        down = np.where(np.broadcast_to(long_short, (n_pairs,)), -1, 0)[pairs]
        self.target = np.empty(len(pairs), dtype=np.int8)
        self.target[self.slot] = np.where(dirs > 0, 1, down)
        self.cash = np.full(n_pairs, cash0)
        self.qty = np.zeros(n_pairs)
        self.trades = np.zeros(n_pairs, dtype=np.int64)
        self.rate = rate

    def run(self):
        """Yield ``(m, was_long, closed, closed_qty, opened, units, price)`` after each step.

        The first ``m`` ranks were active; masks and quantities have shape ``(m,)``.
        """
        cash, qty, trades, rate = self.cash, self.qty, self.trades, self.rate
        unit = 1 + rate
        for k in range(self.depth):
            m = self.active[k]
            here = slice(self.offset[k], self.offset[k + 1])
            p, target = self.price[here], self.target[here]
            money, held = cash[:m], qty[:m]
            was_long = held > 0
            # close what opposes the target (a buy back that cash cannot pay is rejected,
            # and the order with it)
            closing = (held != 0) & ((target == 0) | (was_long != (target > 0)))
            closed_qty = np.abs(held)
            notional = closed_qty * p
            after = np.where(was_long, money + notional, money - notional) - notional * rate
            closed = closing & ~(after < -CASH_TOLERANCE)
            money = np.where(closed, after, money)
            held = np.where(closed, 0.0, held)
            # then size the new side all-in at the fill price
            opening = (target != 0) & ~(closing & ~closed) & ~(held * target > 0)
            units = _affordable(
                np.floor(np.maximum(money, 0.0) / (p * unit) + 1e-9), p, money, rate
            )
            notional = units * p
            after = np.where(target > 0, money - notional, money + notional) - notional * rate
            opened = opening & (units > 0) & ~(after < -CASH_TOLERANCE)
            cash[:m] = np.where(opened, after, money)
            qty[:m] = np.where(opened, units * target, held)
            trades[:m] += opened
            yield m, was_long, closed, closed_qty, opened, units, p


def _affordable(units: np.ndarray, price: np.ndarray, cash: np.ndarray, rate: float) -> np.ndarray:
    """:func:`core.execution._sizing._affordable` for whole units and a percent commission.

    Cuts the units whose cost plus commission exceed cash (the + 1e-9 of the floor can round one
    unit too many).
    """
    while True:
        notional = units * price
        cost = notional + notional * rate
        over = (units > 0) & (cost > cash + 1e-9)
        if not over.any():
            return units
        cut = np.floor(np.maximum(units - np.maximum((cost - cash) / price, 1.0), 0.0) + 1e-9)
        units = np.where(over, cut, units)
