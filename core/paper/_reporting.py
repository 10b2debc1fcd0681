"""What a worker reports about its session: the state it commits and the summary ``run`` returns.

The state goes with every write (:class:`~core.paper._types.SessionState`: equity, sleeves, orders,
regime).
"""

from __future__ import annotations

import math
from typing import Any

from core.backtest import RiskGate
from core.paper._book import SessionBook
from core.paper._config import SessionConfig
from core.paper._feeds import Event
from core.paper._journal import Journal
from core.paper._regimes import RegimeTracker
from core.paper._sleeve import Sleeve
from core.paper._types import (
    OpenOrderState,
    RegimeState,
    SessionState,
    SleeveState,
)


class StateReporter:
    """Reads the book, the risk overlay, the regimes and the journal's cursor.

    It writes only into the journal (:meth:`record`). ``n_events``: the feed's length (None: a live
    feed).
    """

    def __init__(
        self,
        config: SessionConfig,
        book: SessionBook,
        risk: RiskGate,
        regimes: RegimeTracker,
        journal: Journal,
        *,
        n_events: int | None,
    ):
        self.config, self.book, self.risk, self.regimes = config, book, risk, regimes
        self.journal, self.cursor, self.n_events = journal, journal.cursor, n_events

    def record(self, event: Event, gross: float) -> None:
        """Queue the event's bars and the portfolio's equity row after it."""
        session_id, cursor, book = self.journal.session_id, self.cursor, self.book
        pending, row, symbols = self.journal.pending, event.row, book.symbols
        for j, c in enumerate(row["close"]):
            if c == c:
                pending.bars.append(
                    {
                        "session_id": session_id,
                        "seq": event.seq,
                        "symbol": symbols[j],
                        "ts": cursor.ts,
                        "open": row["open"][j],
                        "high": row["high"][j],
                        "low": row["low"][j],
                        "close": c,
                        "volume": _finite(row["volume"][j]),
                    }
                )
        pending.equity.append(
            {
                "session_id": session_id,
                "seq": event.seq,
                "ts": cursor.ts,
                "equity": book.equity,
                "cash": book.cash,
                "gross": gross,
                "drawdown": self.risk.status.drawdown,
                "regime": self.regimes.label,
                "strategies": {s.key: s.engine.equity[-1] for s in book.sleeves},
            }
        )

    def state(self) -> SessionState:
        book, cursor, risk, regimes = self.book, self.cursor, self.risk, self.regimes
        marks = book.marks()  # last known closes (a symbol may have no bar this event)
        return SessionState(
            seq=cursor.seq,
            n_events=self.n_events,
            ts=None if cursor.ts is None else cursor.ts.isoformat(),
            equity=book.equity,
            cash=book.cash,
            n_fills=book.n_fills,
            marks=marks,
            day_start_equity=risk.day_start_equity,
            drawdown=risk.status.to_dict(),
            risk=self.config.risk.model_dump(mode="json") if self.config.risk.active else None,
            regime=RegimeState(
                label=regimes.label,
                probabilities=regimes.probabilities(),
                true=regimes.true,
                observed=len(regimes.returns),
                warmup=regimes.warmup if regimes.n_states else None,
            ),
            trading_state=risk.trading_state,
            strategies={s.key: self._sleeve_state(s, marks) for s in book.sleeves},
        )

    def _sleeve_state(self, sleeve: Sleeve, marks: dict[str, float]) -> SleeveState:
        engine, ledger = sleeve.engine, sleeve.engine.ledger
        multipliers = self.book.multipliers
        positions = {s: p.quantity for s, p in ledger.positions.items() if p.quantity}
        exposure = sum(abs(q) * marks.get(s, 0.0) * multipliers[s] for s, q in positions.items())
        equity = engine.equity[-1] if engine.equity else ledger.cash
        start = self.config.cash * sleeve.allocation
        return SleeveState(
            strategy=sleeve.strategy,
            allocation=sleeve.allocation,
            params=engine.strategy.params.model_dump(mode="json"),
            equity=equity,
            cash=ledger.cash,
            pnl=equity - start,
            realized=ledger.realized_pnl(),
            commissions=ledger.commissions,
            n_fills=sleeve.n_fills,
            exposure=exposure,
            positions=positions,
            open_orders=[
                OpenOrderState(
                    id=o.id,
                    symbol=o.symbol,
                    side=o.side.value,
                    quantity=o.quantity,
                    type=o.type.value,
                    limit_price=o.limit_price,
                    stop_price=o.stop_price,
                    status=o.status.value,
                    filled=o.filled,
                    tag=o.tag,
                )
                for o in engine.open_orders
            ],
        )

    def summary(self, name: str, status: str) -> dict[str, Any]:
        return {
            "session": name,
            "status": status,
            "events": self.cursor.next_seq,
            "equity": self.book.equity,
            "cash": self.book.cash,
            "n_fills": self.book.n_fills,
        }


def _finite(value) -> float:
    value = float(value)
    return value if math.isfinite(value) else 0.0
