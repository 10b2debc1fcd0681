"""What the worker commits about itself: the session's state (equity, sleeves, orders,
regime) and a summary."""

from __future__ import annotations

from typing import Any

from core.paper._sleeve import Sleeve


class ReportingMixin:
    """Part of :class:`~core.paper._worker.PaperWorker`."""

    # -- state -----------------------------------------------------------------------------
    def _commit(self) -> None:
        if not self.pending or not self.live:
            if self.live:
                self.writer.heartbeat()
            return
        self.writer.commit(
            self.pending, self.ledger, events=self.next_seq, last_ts=self.ts, state=self.state()
        )

    def state(self) -> dict[str, Any]:
        marks = self._marks()  # last known closes (a symbol may have no bar this event)
        probs = None
        if self.regime_filter is not None and self.regime_probs is not None:
            probs = dict(zip(self.regime_filter.labels, map(float, self.regime_probs), strict=True))
        return {
            "seq": self.seq,
            "n_events": self.n_events,
            "ts": None if self.ts is None else self.ts.isoformat(),
            "equity": self.equity,
            "cash": self.cash,
            "n_fills": self.n_fills,
            "marks": marks,
            "day_start_equity": self.gate.day_start_equity,
            "drawdown": self.gate.status.to_dict(),
            "risk": self.config.risk.model_dump(mode="json") if self.config.risk.active else None,
            "regime": {
                "label": self.regime,
                "probabilities": probs,
                "true": self.true_regime,
                "observed": len(self.returns),
                "warmup": self.config.regime_warmup if self.config.regime_states else None,
            },
            "trading_state": self.trading_state,
            "strategies": {s.key: self._sleeve_state(s, marks) for s in self.sleeves},
        }

    def _sleeve_state(self, sleeve: Sleeve, marks: dict[str, float]) -> dict[str, Any]:
        engine, ledger = sleeve.engine, sleeve.engine.ledger
        positions = {s: p.quantity for s, p in ledger.positions.items() if p.quantity}
        exposure = sum(
            abs(q) * marks.get(s, 0.0) * self.multipliers[s] for s, q in positions.items()
        )
        equity = engine.equity[-1] if engine.equity else ledger.cash
        start = self.config.cash * sleeve.allocation
        return {
            "strategy": sleeve.strategy,
            "allocation": sleeve.allocation,
            "params": engine.strategy.params.model_dump(mode="json"),
            "equity": equity,
            "cash": ledger.cash,
            "pnl": equity - start,
            "realized": ledger.realized_pnl(),
            "commissions": ledger.commissions,
            "n_fills": sleeve.n_fills,
            "exposure": exposure,
            "positions": positions,
            "open_orders": [
                {
                    "id": o.id,
                    "symbol": o.symbol,
                    "side": o.side.value,
                    "quantity": o.quantity,
                    "type": o.type.value,
                    "limit_price": o.limit_price,
                    "stop_price": o.stop_price,
                    "status": o.status.value,
                    "filled": o.filled,
                    "tag": o.tag,
                }
                for o in engine.broker.active
            ],
        }

    def summary(self) -> dict[str, Any]:
        return {
            "session": self.name,
            "status": self.status,
            "events": self.next_seq,
            "equity": self.equity,
            "cash": self.cash,
            "n_fills": self.n_fills,
        }
