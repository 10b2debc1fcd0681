"""Backtest benchmarks (issue 3): the event engine against backtrader, the SMA crossover
sweep against vectorbt, each side by side on the same strategy and data in one run.

Run from the repository root, with the benchmark-only packages installed
(``pip install -r requirements-bench.txt``):

    python benchmarks/bench_backtest.py                  # both comparisons
    python benchmarks/bench_backtest.py --part event --bars 100000 --repeat 5

Prints markdown rows; figures are recorded in docs/BENCHMARKS.md. Each comparison asserts
that both sides give the same results before it reports a speed.

1. Event engine vs backtrader: SMA crossover 10/50, long only, all-in in whole units at
   the next open, commission 0.1 % of notional, on the bundled SPX OHLCV series laid end
   to end (each repetition rescaled to continue from the previous close, on a continuous
   business-day index). Starting cash is 1e10 so that all-in still buys whole units when
   the rescaled index ends near 1.6e9. backtrader follows our conventions exactly:
   bt.indicators.SMA and CrossOver, cheat-on-open so that a sizer sees the fill bar's
   open, a sizer with our all-in arithmetic, ``setcommission(commission=0.001)``. Its data
   comes from plain lists (bt.feeds.PandasData reads each value through ``DataFrame.iloc``
   and is about twice as slow here). Timed: our engine from a MarketFrame (construction
   and run), backtrader from those lists (Cerebro set-up, loading and run); converting
   the DataFrame is left out on both sides. Fills and closed trades must be identical.
2. Sweep vs vectorbt: every pair fast 5–50, slow 20–200, fast < slow (7,830) on SPX
   1999–2018. Ours: ``core.backtest.sma_crossover_sweep`` from prices to final equity.
   vectorbt: ``Portfolio.from_signals`` with the entries/exits of ``cross_signs`` shifted
   one bar, ``price`` = open, ``size=np.inf``, ``size_granularity=1``, ``fees=0.001``;
   its timing covers from_signals + final_value only (building its 2-D signal arrays is
   timed apart, and numba's compilation is done by a warm-up call). Final values must
   agree to 1e-6 relative on every pair and entry counts exactly; a sample of pairs must
   equal the event engine and the vectorized path bit for bit.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

import numpy as np
import pandas as pd

from core.backtest import BacktestEngine, MarketFrame, run_vectorized, sma_crossover_sweep
from core.execution import CommissionModel, ExecutionConfig
from core.instruments import Instrument
from core.marketdata import load_bundled
from core.strategies import get_strategy
from core.strategies.builtin._signals import cross_signs, sma_array

RATE = 0.001
FIELDS = ["open", "high", "low", "close", "volume"]
INSTRUMENTS = {"SPX": Instrument(symbol="SPX")}


def best_of(fn, repeat: int):
    """(fastest wall time, last result) of ``repeat`` calls."""
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


# -- 1. event engine vs backtrader ---------------------------------------------------------
def long_spx(n: int) -> pd.DataFrame:
    """The bundled SPX bars laid end to end until ``n`` bars: each repetition rescaled so
    that its first open is the previous repetition's last close; business-day index."""
    base = load_bundled("SPX")[FIELDS].to_numpy(float)
    parts, last = [], None
    while sum(len(p) for p in parts) < n:
        part = base.copy()
        if last is not None:
            part[:, :4] *= last / part[0, 0]
        parts.append(part)
        last = part[-1, 3]
    index = pd.bdate_range("1800-01-01", periods=n)
    return pd.DataFrame(np.concatenate(parts)[:n], index=index, columns=FIELDS)


def run_ours(market: MarketFrame, cash: float, fast: int, slow: int):
    strategy = get_strategy("sma_crossover")(fast=fast, slow=slow)
    execution = ExecutionConfig(commission=CommissionModel(rate=RATE))
    return BacktestEngine(strategy, market, INSTRUMENTS, cash=cash, execution=execution).run()


def backtrader_classes():
    import backtrader as bt

    class ListFeed(bt.feed.DataBase):
        """Bars from a list of (datetime number, o, h, l, c, v, open interest) rows."""

        params = (("rows", None),)

        def start(self):
            super().start()
            self._rows = iter(self.p.rows)

        def _load(self):
            row = next(self._rows, None)
            if row is None:
                return False
            lines = self.lines
            (
                lines.datetime[0],
                lines.open[0],
                lines.high[0],
                lines.low[0],
                lines.close[0],
                lines.volume[0],
                lines.openinterest[0],
            ) = row
            return True

    class AllIn(bt.Sizer):
        """core.execution.Sizing(method="all_in") for whole units at the fill price (the
        open of the bar the order executes on: the sizer runs in next_open)."""

        params = (("rate", RATE),)

        def _getsizing(self, comminfo, cash, data, isbuy):
            price, rate = data.open[0], self.p.rate
            units = _floor_unit(max(cash, 0.0) / (price * 1.0 * (1 + rate)))
            while units > 0 and units * price + units * price * 1.0 * rate > cash + 1e-9:
                over = units * price + units * price * 1.0 * rate - cash
                units = _floor_unit(max(units - max(over / price, 1.0), 0.0))
            return int(units)

    class SmaCross(bt.Strategy):
        params = (("fast", 10), ("slow", 50))

        def __init__(self):
            fast = bt.indicators.SMA(self.data.close, period=self.p.fast)
            slow = bt.indicators.SMA(self.data.close, period=self.p.slow)
            self.cross = bt.indicators.CrossOver(fast, slow)
            self.signal = 0
            self.fills = []  # (bar, signed size, price)

        def next(self):  # at bar t's close
            self.signal = self.cross[0]

        def next_open(self):  # bar t + 1, before its open is matched
            signal, self.signal = self.signal, 0
            if signal > 0 and not self.position:
                self.buy()
            elif signal < 0 and self.position:
                self.close()

        def notify_order(self, order):
            if order.status == order.Completed:
                # the execution bit's price (order.executed.price is an average that can
                # be one ulp off the fill price)
                bit = order.executed.exbits[-1]
                self.fills.append((len(self) - 1, float(bit.size), bit.price))
            elif order.status in (order.Margin, order.Rejected, order.Canceled):
                raise AssertionError(f"backtrader order {order.getstatusname()}")

    return bt, ListFeed, AllIn, SmaCross


def _floor_unit(quantity: float) -> float:  # core.execution.floor_to_step of sizing, step 1
    return max(math.floor(quantity + 1e-9), 0) * 1.0


def feed_rows(bars: pd.DataFrame) -> list[tuple]:
    import backtrader as bt

    stamps = [bt.date2num(d) for d in bars.index.to_pydatetime()]
    columns = [bars[f].to_numpy(float).tolist() for f in FIELDS]
    return list(zip(stamps, *columns, [0.0] * len(bars), strict=True))


def run_backtrader(rows: list[tuple], cash: float, fast: int, slow: int):
    bt, ListFeed, AllIn, SmaCross = backtrader_classes()
    cerebro = bt.Cerebro(stdstats=False, cheat_on_open=True)
    cerebro.broker.set_coo(True)
    cerebro.broker.setcash(cash)
    cerebro.broker.setcommission(commission=RATE)
    cerebro.addsizer(AllIn, rate=RATE)
    cerebro.adddata(ListFeed(rows=rows))
    cerebro.addstrategy(SmaCross, fast=fast, slow=slow)
    return cerebro.run()[0]


def round_trips(fills: list[tuple]) -> list[tuple]:
    """Closed long trades (entry bar, exit bar, qty, entry price, exit price)."""
    trips = []
    for (bar_in, qty_in, price_in), (bar_out, qty_out, price_out) in zip(
        fills[::2], fills[1::2], strict=False
    ):
        assert qty_in > 0 and qty_out == -qty_in, "fills should alternate buy / sell all"
        trips.append((bar_in, bar_out, qty_in, price_in, price_out))
    return trips


def bench_event(n: int, repeat: int, bt_repeat: int) -> list[tuple[str, str]]:
    import backtrader as bt

    bars, cash, fast, slow = long_spx(n), 1e10, 10, 50
    # timed: each engine from its own in-memory bars to the end of the run
    market, rows = MarketFrame.from_bars({"SPX": bars}), feed_rows(bars)
    ours_s, ours = best_of(lambda: run_ours(market, cash, fast, slow), repeat)
    bt_s, theirs = best_of(lambda: run_backtrader(rows, cash, fast, slow), bt_repeat)

    our_fills = [
        (x.bar, x.quantity if x.side == "buy" else -x.quantity, x.price)
        for x in ours.broker.executions
    ]
    assert our_fills == theirs.fills, "fills differ from backtrader's"
    trips = round_trips(theirs.fills)
    assert round_trips(our_fills) == trips, "trades differ from backtrader's"
    # our trade table says the same (its prices are Σ qty × price / Σ qty)
    ours_table = [(t[2], t[3], t[4], t[5], t[6]) for t in ours.trades.closed]
    assert [t[:3] for t in ours_table] == [t[:3] for t in trips]
    assert np.allclose([t[3:] for t in ours_table], [t[3:] for t in trips], rtol=1e-12, atol=0)
    assert len(trips) > n // 100

    value = theirs.broker.getvalue()
    gap = abs(ours.equity[-1] / value - 1)
    ratio = bt_s / ours_s
    label = f"SMA 10/50, {n:,} daily bars (bundled SPX laid end to end)"
    return [
        (f"event engine: {label}", f"{n / ours_s:,.0f} bars/s ({ours_s:.2f} s)"),
        (
            f"backtrader {bt.__version__}: same strategy and data",
            f"{n / bt_s:,.0f} bars/s ({bt_s:.2f} s)",
        ),
        (
            "event engine ÷ backtrader (target ≥ 10×)",
            f"**{ratio:.1f}×**; {len(our_fills):,} fills and {len(trips):,} closed trades "
            f"identical (bars, prices, quantities); final equity within {gap:.0e}",
        ),
    ]


# -- 2. sweep vs vectorbt ------------------------------------------------------------------
def vectorbt_signals(close: np.ndarray, pairs: list[tuple[int, int]]):
    """Entries / exits (bars × pairs) from cross_signs, shifted to the fill bar."""
    sma = {w: sma_array(close, w) for w in {w for pair in pairs for w in pair}}
    entries = np.zeros((len(close), len(pairs)), dtype=bool)
    exits = np.zeros_like(entries)
    for k, (fast, slow) in enumerate(pairs):
        cross = cross_signs(sma[fast], sma[slow])
        entries[1:, k] = cross[:-1] > 0
        exits[1:, k] = cross[:-1] < 0
    return entries, exits


def run_vectorbt(open_: pd.Series, close: pd.Series, entries, exits, cash: float):
    import vectorbt as vbt

    portfolio = vbt.Portfolio.from_signals(
        close,  # Series in: a little faster here than 2-D arrays
        entries,
        exits,
        price=open_,
        size=np.inf,
        size_granularity=1,
        fees=RATE,
        init_cash=cash,
    )
    records = portfolio.orders.values
    buys = np.bincount(records["col"][records["side"] == 0], minlength=entries.shape[1])
    return np.asarray(portfolio.final_value(), dtype=float), buys


def bench_sweep(repeat: int, vbt_repeat: int, sample: int) -> list[tuple[str, str]]:
    import vectorbt as vbt

    bars = load_bundled("SPX")
    open_, close = bars["open"].to_numpy(float), bars["close"].to_numpy(float)
    open_series, close_series = bars["open"].astype(float), bars["close"].astype(float)
    cash, fasts, slows = 100_000.0, range(5, 51), range(20, 201)

    def ours():
        return sma_crossover_sweep(open_, close, fasts, slows, cash=cash, commission_rate=RATE)

    ours_s, table = best_of(ours, repeat)
    pairs = list(zip(table["fast"], table["slow"], strict=True))
    start = time.perf_counter()
    entries, exits = vectorbt_signals(close, pairs)
    signals_s = time.perf_counter() - start
    head = slice(0, 300)  # warm-up: numba compiles vectorbt's loops on the first call
    run_vectorbt(open_series[head], close_series[head], entries[head, :4], exits[head, :4], cash)
    vbt_s, (final, buys) = best_of(
        lambda: run_vectorbt(open_series, close_series, entries, exits, cash), vbt_repeat
    )

    ours_final = table["final_equity"].to_numpy()
    worst = float(np.max(np.abs(final / ours_final - 1)))
    assert worst <= 1e-6, f"vectorbt's final values differ by up to {worst:.1e}"
    assert np.array_equal(buys, table["n_trades"].to_numpy()), "entry counts differ"

    market = MarketFrame.from_bars({"SPX": bars})
    execution = ExecutionConfig(commission=CommissionModel(rate=RATE))
    cls = get_strategy("sma_crossover")
    for row in table.sample(sample, random_state=0).itertuples():
        strategy = cls(fast=row.fast, slow=row.slow)
        event = BacktestEngine(strategy, market, INSTRUMENTS, cash=cash, execution=execution)
        vector = run_vectorized(
            cls(fast=row.fast, slow=row.slow), market, INSTRUMENTS, cash=cash, execution=execution
        )
        assert row.final_equity == event.run().equity[-1] == vector.equity[-1], row

    n, ratio = len(table), vbt_s / ours_s
    return [
        (
            f"SMA sweep: {n:,} pairs (fast 5–50 < slow 20–200), SPX 1999–2018 "
            f"({len(close):,} bars), `sma_crossover_sweep`",
            f"{n / ours_s:,.0f} pairs/s ({ours_s:.2f} s)",
        ),
        (
            f"vectorbt {vbt.__version__}: `Portfolio.from_signals` + `final_value`, same grid",
            f"{n / vbt_s:,.0f} pairs/s ({vbt_s:.2f} s; its signal arrays built apart in "
            f"{signals_s:.2f} s)",
        ),
        (
            "sweep ÷ vectorbt (target ≥ 2×)",
            f"**{ratio:.1f}×**; final values within {worst:.0e} relative on all {n:,} pairs, "
            f"entry counts equal; {sample} pairs equal to the event engine and the "
            "vectorized path bit for bit",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["event", "sweep", "both"], default="both")
    parser.add_argument("--bars", type=int, default=100_000, help="bars for the event engine")
    parser.add_argument("--repeat", type=int, default=5, help="runs of ours (best is kept)")
    parser.add_argument("--other-repeat", type=int, default=2, help="runs of backtrader/vbt")
    parser.add_argument("--sample", type=int, default=5, help="pairs checked on the engines")
    args = parser.parse_args()

    rows: list[tuple[str, str]] = []
    if args.part in ("event", "both"):
        rows += bench_event(args.bars, args.repeat, args.other_repeat)
    if args.part in ("sweep", "both"):
        rows += bench_sweep(args.repeat, args.other_repeat, args.sample)
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"{os.cpu_count()} cores; best of {args.repeat} (ours) / {args.other_repeat} (others)\n"
    )
    print("| what | figure |\n| --- | --- |")
    for what, figure in rows:
        print(f"| {what} | {figure} |")


if __name__ == "__main__":
    main()
