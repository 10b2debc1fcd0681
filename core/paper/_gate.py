"""The worker's gate for new orders: the shared risk overlay (:class:`core.backtest.RiskGate`)
on the session's portfolio, with every check logged and every warning or block raised as
an alert."""

from __future__ import annotations

from core.execution import OrderIntent
from core.paper._sleeve import Sleeve
from core.paper._store import utcnow


class RiskGateMixin:
    """Part of :class:`~core.paper._worker.PaperWorker`."""

    # -- risk ------------------------------------------------------------------------------
    def _pre_trade(self, sleeve: Sleeve, order: OrderIntent) -> tuple[OrderIntent, str]:
        """Scale by the drawdown controller, then the pre-trade checks, on the portfolio:
        its positions now, its equity and cash at the last event."""
        gate = self.gate
        order, problem = gate.vet(
            order,
            sleeve.engine,
            ledger=self.ledger,
            equity=self.equity,
            cash=self.cash,
            marks=self._marks(),
            now=self.ts,
        )
        report = gate.report
        if report is None:
            return order, problem
        if self.live:  # every check is logged; the compliance report counts the breaches
            self.pending.audit.append(
                ("pretrade_check", {"strategy": sleeve.key, **report.to_dict()})
            )
        for result in report.results:
            if result.outcome in ("warn", "block"):
                self._alert(
                    result.outcome,
                    result.rule,
                    f"{sleeve.key} {order.symbol}: {result.message}",
                    audit=False,
                )
        return order, problem

    def _marks(self) -> dict[str, float]:
        """The last known close of every instrument (held ones may have no bar now)."""
        return self.sleeves[0].engine.last_marks()

    def _alert(self, level: str, rule: str, message: str, audit: bool = True) -> None:
        if not self.live:
            return
        self.pending.alerts.append(
            {
                "session_id": self.session_id,
                "seq": self.seq,
                "ts": self.ts or utcnow(),
                "level": level,
                "rule": rule,
                "message": message,
            }
        )
        if audit and level in ("warn", "block", "critical"):
            self.pending.audit.append(
                (
                    "limit_breach",
                    {"session": self.session_id, "level": level, "rule": rule, "message": message},
                )
            )
