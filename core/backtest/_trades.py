"""Round-trip trades from a stream of executions.

A trade runs from flat back to flat (a fill that flips the position closes one trade and opens the
next).

A trade still open at the end is listed apart (:meth:`TradeTracker.open_frame`) with
``status="open"``: no exit time, bar or price, its P&L marked at the last close, and only
the commission actually paid (an exit that did not happen is not charged). Closed trades
carry ``status="closed"``; metrics use closed trades only (docs/BACKTESTING.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

TRADE_COLUMNS = [
    "symbol",
    "direction",
    "entry_time",
    "exit_time",
    "entry_bar",
    "exit_bar",
    "qty",
    "entry_price",
    "exit_price",
    "pnl",
    "pnl_net",
    "commission",
    "status",
]


@dataclass
class _Open:
    symbol: str
    direction: int
    entry_bar: int
    qty: float = 0.0  # largest size held
    held: float = 0.0
    entry_cost: float = 0.0  # Σ qty × price of entries
    entry_qty: float = 0.0
    exit_value: float = 0.0
    exit_qty: float = 0.0
    commission: float = 0.0
    multiplier: float = 1.0


@dataclass
class TradeTracker:
    multipliers: dict[str, float]
    closed: list[tuple] = field(default_factory=list)
    _open: dict[str, _Open] = field(default_factory=dict)

    def on_execution(
        self, symbol: str, signed_qty: float, price: float, commission: float, bar: int
    ) -> None:
        trade = self._open.get(symbol)
        if trade is None:
            self._start(symbol, signed_qty, price, commission, bar)
            return
        if (signed_qty > 0) == (trade.direction > 0):
            trade.held += abs(signed_qty)
            trade.qty = max(trade.qty, trade.held)
            trade.entry_cost += abs(signed_qty) * price
            trade.entry_qty += abs(signed_qty)
            trade.commission += commission
            return
        closing = min(abs(signed_qty), trade.held)
        share = closing / abs(signed_qty)
        trade.exit_value += closing * price
        trade.exit_qty += closing
        trade.held -= closing
        trade.commission += commission * share
        if trade.held <= 1e-12:
            self._close(trade, bar)
            rest = abs(signed_qty) - closing
            if rest > 1e-12:
                direction = 1 if signed_qty > 0 else -1
                self._start(symbol, direction * rest, price, commission * (1 - share), bar)

    def _start(self, symbol, signed_qty, price, commission, bar) -> None:
        direction = 1 if signed_qty > 0 else -1
        qty = abs(signed_qty)
        self._open[symbol] = _Open(
            symbol,
            direction,
            bar,
            qty,
            qty,
            qty * price,
            qty,
            commission=commission,
            multiplier=self.multipliers[symbol],
        )

    def _close(self, t: _Open, bar: int) -> None:
        entry = t.entry_cost / t.entry_qty
        exit_ = t.exit_value / t.exit_qty
        pnl = (t.exit_value - entry * t.exit_qty) * t.direction * t.multiplier
        self.closed.append(
            (
                t.symbol,
                t.direction,
                t.entry_bar,
                bar,
                t.qty,
                entry,
                exit_,
                pnl,
                pnl - t.commission,
                t.commission,
            )
        )
        del self._open[t.symbol]

    def frame(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        """The closed trades, oldest first (``status="closed"``)."""
        rows = [
            (
                s,
                "long" if d > 0 else "short",
                index[eb],
                index[xb],
                eb,
                xb,
                q,
                ep,
                xp,
                p,
                pn,
                c,
                "closed",
            )
            for s, d, eb, xb, q, ep, xp, p, pn, c in self.closed
        ]
        return pd.DataFrame(rows, columns=TRADE_COLUMNS)

    def open_frame(self, index: pd.DatetimeIndex, marks: dict[str, float]) -> pd.DataFrame:
        """The trades still open, marked at ``marks`` (each symbol's last close).

        ``pnl`` is what the trade would have made had what it holds been sold (bought back)
        at the mark, partial exits included, with the closed trades' formula; ``pnl_net``
        deducts the commission paid so far, not one for the exit that did not happen.
        Exit time, bar and price are None; ``status`` is ``"open"``.
        """
        rows = []
        for t in self._open.values():
            entry = t.entry_cost / t.entry_qty
            mark = float(marks[t.symbol])
            value, qty = t.exit_value + t.held * mark, t.exit_qty + t.held
            pnl = (value - entry * qty) * t.direction * t.multiplier
            rows.append(
                {
                    "symbol": t.symbol,
                    "direction": "long" if t.direction > 0 else "short",
                    "entry_time": index[t.entry_bar],
                    "exit_time": None,
                    "entry_bar": t.entry_bar,
                    "exit_bar": None,
                    "qty": t.qty,
                    "entry_price": entry,
                    "exit_price": None,
                    "pnl": pnl,
                    "pnl_net": pnl - t.commission,
                    "commission": t.commission,
                    "status": "open",
                }
            )
        frame = pd.DataFrame(rows, columns=TRADE_COLUMNS)
        exits = ["exit_time", "exit_bar", "exit_price"]
        frame[exits] = frame[exits].astype(object).where(frame[exits].notna(), None)
        return frame

    def open_trades(self) -> list[_Open]:
        return list(self._open.values())
