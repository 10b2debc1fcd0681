"""The worker's order filter: every sleeve's new orders go through the shared risk overlay.

The overlay is :class:`core.backtest.RiskGate` on the session's portfolio; every check is logged and
every warning or block raised as an alert. It sits between each sleeve's strategy and its broker
(:attr:`SimulatedBroker.order_filter`), as nautilus' RiskEngine sits between strategy and execution.
"""

from __future__ import annotations

from core.backtest import RiskGate
from core.execution import OrderIntent
from core.paper._book import SessionBook
from core.paper._journal import Journal


class PaperOrderGate:
    """Scales and vets each intent by the drawdown controller, then the pre-trade checks.

    Both act on the portfolio: its positions now, its equity and cash at the last event.

    ``intent.strategy`` names the sleeve whose engine sizes a target order.
    """

    def __init__(self, risk: RiskGate, book: SessionBook, journal: Journal):
        self.risk, self.book, self.journal = risk, book, journal

    def __call__(self, intent: OrderIntent) -> tuple[OrderIntent, str]:
        book, risk = self.book, self.risk
        intent, problem = risk.vet(
            intent,
            book.by_key[intent.strategy].engine,
            ledger=book.ledger,
            equity=book.equity,
            cash=book.cash,
            marks=book.marks(),
            now=self.journal.cursor.ts,
        )
        report = risk.report
        if report is None:
            return intent, problem
        # every check is logged; the compliance report counts the breaches
        self.journal.audit("pretrade_check", {"strategy": intent.strategy, **report.to_dict()})
        for result in report.results:
            if result.outcome in ("warn", "block"):
                self.journal.alert(
                    result.outcome,
                    result.rule,
                    f"{intent.strategy} {intent.symbol}: {result.message}",
                    audit=False,
                )
        return intent, problem
