"""A session's book: its strategies' sleeves and the portfolio they trade together.

Each sleeve runs on its own engine; the fills of every sleeve are booked on the shared ledger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.backtest import RiskGate
from core.errors import NotFoundError
from core.execution import Execution
from core.instruments import Instrument
from core.paper._journal import Journal
from core.paper._records import FillRecord
from core.paper._sleeve import Sleeve
from core.paper._tracking import OrderTracker
from core.portfolio import Fill, Ledger


class SessionBook:
    """The portfolio's ledger and totals (equity and cash at the last event, fills).

    Parameters
    ----------
    ledger : Ledger
        The session's portfolio (all sleeves' positions).
    sleeves : sequence of Sleeve
    instruments : dict of symbol → Instrument
    idle_cash : float
        The cash no sleeve trades.
    journal, tracker
        Where booked fills are queued (live only) and how their orders are named.
    risk : RiskGate
        Told of each fill (the day's turnover).
    """

    def __init__(
        self,
        ledger: Ledger,
        sleeves: Sequence[Sleeve],
        instruments: Mapping[str, Instrument],
        *,
        idle_cash: float,
        journal: Journal,
        tracker: OrderTracker,
        risk: RiskGate,
    ):
        self.ledger, self.sleeves, self.instruments = ledger, list(sleeves), instruments
        self.by_key = {s.key: s for s in self.sleeves}
        self.symbols = self.sleeves[0].engine.market.symbols
        self.multipliers = {s: i.multiplier for s, i in instruments.items()}
        self.idle_cash = idle_cash
        self.journal, self.tracker, self.risk = journal, tracker, risk
        self.equity = self.cash = ledger.cash
        self.n_fills = 0

    def sleeve(self, key: str | None) -> Sleeve:
        """The sleeve ``key`` (None: the first); KeyError names the keys there are."""
        if key is None:
            return self.sleeves[0]
        if key not in self.by_key:
            raise NotFoundError(
                f"no strategy {key!r} in this session; have {sorted(self.by_key)}", field="strategy"
            )
        return self.by_key[key]

    def marks(self) -> dict[str, float]:
        """The last known close of every instrument (held ones may have no bar now)."""
        return self.sleeves[0].engine.last_marks()

    def book_new_fills(self, sleeve: Sleeve) -> None:
        """Book the executions of ``sleeve`` since the last call on the portfolio."""
        executions = sleeve.engine.executions
        if len(executions) > sleeve.booked:
            for x in executions[sleeve.booked :]:
                self.book(sleeve, x)
            sleeve.booked = len(executions)

    def book(self, sleeve: Sleeve, x: Execution) -> None:
        instrument = self.instruments[x.symbol]
        realized = self.ledger.apply_fill(
            Fill(x.symbol, x.side, x.quantity, x.price, x.commission), instrument
        )
        self.n_fills += 1
        sleeve.n_fills += 1
        self.risk.on_fill(x.quantity, x.price, x.symbol)
        cursor = self.journal.cursor
        if cursor.live:
            self.journal.pending.fills.append(
                FillRecord(
                    f"P{self.journal.session_id}-{self.n_fills}",
                    self.tracker.key(sleeve, x.order_id),
                    sleeve.key,
                    x.symbol,
                    x.side.value,
                    x.quantity,
                    x.price,
                    x.commission,
                    realized,
                    cursor.ts,
                    cursor.seq,
                )
            )
