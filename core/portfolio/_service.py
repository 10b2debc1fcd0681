"""Portfolio use cases: create, trade, value, snapshot. Each write is one transaction."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.audit import append_event
from core.db import EquitySnapshotRow, PortfolioRow
from core.derivatives import Strategy
from core.instruments import AssetClass
from core.instruments import repository as instruments
from core.marketdata import MarketDataService
from core.portfolio import _repository as repo
from core.portfolio._booking import (
    TradeResult,
    _check_order_id,
    _existing_fill,
    _fill_payload,
    _insert_order_and_fill,
    _result,
    check_name,
    check_new_portfolio,
    event_time,
    naive_utc,
    utcnow,
)
from core.portfolio._cash import book_deposit, book_exchange, check_currency
from core.portfolio._fx import fx_rates
from core.portfolio._ledger import Fill, Ledger, LedgerError, Side
from core.portfolio._option_book import expiry_legs, greeks_report, option_marks, strategy_orders
from core.portfolio._options import OptionMark, VolSurface, record_trade_vol
from core.portfolio._orders import (
    Leg,
    book_legs,
    check_margin,
    existing_legs,
    margin_status,
    roll_order,
)
from core.portfolio._repository import PortfolioConflict, PortfolioInputError
from core.portfolio._valuation import (
    PortfolioSummary,
    curve_stamp,
    equity_frame,
    newest_trades_query,
    positions_frame,
    rebuild_curve,
    trades_frame,
    trades_query,
    valuation,
)

LIST_COLUMNS = ["name", "base_currency", "equity", "cash", "net_pnl", "net_pnl_pct", "n_positions"]


class PortfolioService:
    """Virtual portfolios stored in the database, valued with the market-data service."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        market: MarketDataService,
        *,
        clock: Callable[[], datetime] = utcnow,
    ):
        self._sessions = sessions
        self.market = market
        self.clock = clock  # naive UTC now; tests pass a fixed one

    # -- lifecycle --------------------------------------------------------------------
    def names(self) -> list[str]:
        with self._sessions() as session:
            return list(session.scalars(select(PortfolioRow.name).order_by(PortfolioRow.name)))

    def create(
        self,
        name: str,
        starting_cash: float,
        *,
        base_currency: str = "USD",
        allow_short: bool = False,
        allow_margin: bool = False,
        description: str = "",
        created_at: datetime | None = None,
    ) -> None:
        name, base_currency = check_new_portfolio(name, starting_cash, base_currency, description)
        with self._sessions.begin() as session:
            if repo.exists(session, name):
                raise PortfolioConflict(f"a portfolio named {name!r} already exists", "name")
            session.add(
                PortfolioRow(
                    name=name,
                    base_currency=base_currency,
                    starting_cash=starting_cash,
                    cash=starting_cash,
                    net_deposits=0.0,
                    commissions=0.0,
                    fees=0.0,
                    allow_short=allow_short,
                    allow_margin=allow_margin,
                    description=description,
                    target_weights={},
                    meta={},
                    created_at=naive_utc(created_at) if created_at else self.clock(),
                )
            )
            append_event(
                session, "portfolio_created", {"starting_cash": starting_cash}, portfolio=name
            )

    def rename(self, old: str, new: str) -> None:
        new = check_name(new)
        with self._sessions.begin() as session:
            row = repo.get_row(session, old)
            if new != old and repo.exists(session, new):
                raise PortfolioConflict(f"a portfolio named {new!r} already exists", "name")
            row.name = new
            append_event(session, "portfolio_renamed", {"from": old, "to": new}, portfolio=new)

    def delete(self, name: str) -> None:
        with self._sessions.begin() as session:
            row = repo.get_row(session, name)
            session.delete(row)
            append_event(session, "portfolio_deleted", {}, portfolio=name)

    def set_target_weights(self, name: str, weights: dict[str, float]) -> None:
        if any(not math.isfinite(w) or w < 0 for w in weights.values()) or (
            sum(weights.values()) > 1 + 1e-9
        ):
            raise PortfolioInputError("target weights must be ≥ 0 and sum to at most 1", "weights")
        with self._sessions.begin() as session:
            row = repo.get_row(session, name)
            for symbol in weights:
                repo.instrument_or_error(session, symbol)
            row.target_weights = dict(weights)
            append_event(session, "target_weights_set", weights, portfolio=name)

    # -- money-moving writes -------------------------------------------------------------
    def trade(
        self,
        name: str,
        symbol: str,
        side: Side | str,
        quantity: float,
        price: float | None = None,
        *,
        commission: float = 0.0,
        fees: float = 0.0,
        ts: datetime | None = None,
        strategy: str | None = None,
        client_order_id: str | None = None,
        snapshot: bool = True,
    ) -> TradeResult:
        """Book a filled market order.

        The order, fill, cash, position, snapshot and audit event commit together or not at
        all. A repeated ``client_order_id`` returns the original fill instead of booking it
        twice.
        """
        side, ts = Side(side), None if ts is None else self._event_time(ts)
        client_order_id = _check_order_id(client_order_id or uuid.uuid4().hex)
        with self._sessions.begin() as session:
            row = repo.get_row(session, name)  # the first statement takes the write lock
            ts = self.clock() if ts is None else ts  # now: after any wait for the lock
            duplicate = _existing_fill(session, row, client_order_id)
            if duplicate is not None:
                return _result(duplicate, row.cash, duplicate=True)
            instrument_row, ledger, fill, realized = self._book(
                session, row, symbol, side, quantity, price, commission, fees, ts
            )
            repo.store_ledger(session, row, ledger)
            fill_row = _insert_order_and_fill(
                session, row, instrument_row.id, fill, client_order_id, strategy, realized
            )
            if snapshot:
                self._snapshot(session, row, ledger, ts, {symbol: fill.price})
            append_event(session, "fill", _fill_payload(fill, fill_row.fill_id), portfolio=name)
            return _result(fill_row, ledger.cash, symbol=symbol)

    def order(
        self,
        name: str,
        legs: list[Leg],
        *,
        ts: datetime | None = None,
        strategy: str | None = None,
        client_order_id: str | None = None,
        kind: str = "multi_leg_order",
        extra: dict | None = None,
        define: list | None = None,
    ) -> list[TradeResult]:
        """Book a multi-leg order: every leg or none, one audit event (``kind``).

        ``define`` lists instruments to store first when new (the options of a strategy). A
        repeated ``client_order_id`` returns the legs booked the first time.
        """
        ts = None if ts is None else self._event_time(ts)
        order_id = _check_order_id(client_order_id or uuid.uuid4().hex[:24])
        with self._sessions.begin() as session:
            row = repo.get_row(session, name)  # the first statement takes the write lock
            ts = self.clock() if ts is None else ts
            duplicate = existing_legs(session, row, order_id, len(legs))
            if duplicate is not None:
                return [_result(f, row.cash, duplicate=True) for f in duplicate]
            for instrument in define or []:
                instruments.ensure(session, instrument)
            ledger, results, prices = book_legs(
                session, row, self.market, legs, ts, order_id, strategy, kind, extra
            )
            self._snapshot(session, row, ledger, ts, prices)
            return results

    def roll(
        self,
        name: str,
        from_symbol: str,
        to_symbol: str,
        *,
        from_price: float | None = None,
        to_price: float | None = None,
        commission: float = 0.0,
        fees: float = 0.0,
        ts: datetime | None = None,
        client_order_id: str | None = None,
    ) -> list[TradeResult]:
        """Roll a futures position into the next contract: close one, open the other.

        Both fills commit together with one ``future_roll`` audit event; the costs are split
        between the legs.
        """
        with self._sessions() as session:
            legs, extra = roll_order(session, name, from_symbol, to_symbol, from_price, to_price)
        legs = [replace(leg, commission=commission / 2, fees=fees / 2) for leg in legs]
        return self.order(
            name, legs, ts=ts, client_order_id=client_order_id, kind="future_roll", extra=extra
        )

    def book_strategy(
        self, name: str, strategy: Strategy, underlying: str, *, ts=None, multiplier=100.0
    ) -> list[TradeResult]:
        """Book a ``core.derivatives.Strategy`` as one multi-leg order at its legs' premiums.

        Each leg's option is defined when new (``_option_book.strategy_orders``).
        """
        at = self._event_time(ts)
        defined, legs = strategy_orders(strategy, underlying, at, multiplier)
        extra = {"strategy": strategy.name, "underlying": underlying}
        return self.order(name, legs, ts=at, strategy=strategy.name, extra=extra, define=defined)

    def settle_expiries(self, name: str, *, ts=None) -> list[TradeResult]:
        """Cash-settle every option expired by ``ts`` at its intrinsic value.

        One ``option_expiry`` order (audited once) closes them all at the underlying's close
        on the expiry day; nothing expired: nothing is written.
        """
        at = self._event_time(ts)
        legs, settled = expiry_legs(self.market, self.ledger(name), at)
        if not legs:
            return []
        extra = {"settled": settled}
        return self.order(name, legs, ts=at, strategy="expiry", kind="option_expiry", extra=extra)

    def set_vol_surface(self, name: str, surface: VolSurface | None) -> None:
        """Set (or, with None, clear) the volatility surface of the model marks (audited)."""
        with self._sessions.begin() as session:
            row = repo.get_row(session, name)
            ledger, _ = repo.load_ledger(session, row)
            dumped = None if surface is None else surface.model_dump(mode="json")
            ledger.options = {**ledger.options, "surface": dumped}
            repo.store_ledger(session, row, ledger)
            append_event(session, "vol_surface_set", {"surface": dumped}, portfolio=name)

    def margin(self, name: str, as_of=None) -> dict[str, float | bool]:
        """Futures margin now: initial and maintenance requirements, equity, excess, call."""
        ledger = self.ledger(name)
        marks, fx = self.marks(ledger, as_of), self.fx_rates(ledger, as_of)
        return margin_status(ledger, ledger.equity(marks, fx), fx)

    def has_order(self, name: str, client_order_id: str) -> bool:
        """Whether an order with this client id was booked (a retry returns its fill)."""
        with self._sessions() as session:
            return _existing_fill(session, repo.get_row(session, name), client_order_id) is not None

    def validate_trade(
        self,
        name: str,
        symbol: str,
        side: Side | str,
        quantity: float,
        price: float | None = None,
        *,
        commission: float = 0.0,
        fees: float = 0.0,
        ts: datetime | None = None,
        **_ignored,
    ) -> None:
        """Every check :meth:`trade` makes, raising as it would; nothing is written."""
        with self._sessions() as session:  # never committed
            row = repo.get_row(session, name)
            self._book(
                session,
                row,
                symbol,
                Side(side),
                quantity,
                price,
                commission,
                fees,
                self._event_time(ts),
            )
            session.rollback()

    def _book(self, session, row, symbol, side, quantity, price, commission, fees, ts):
        repo.check_not_back_dated(session, row, ts)
        instrument_row, instrument = repo.instrument_or_error(session, symbol)
        price = self._price_or_last(symbol, price, ts)
        ledger, _ = repo.load_ledger(session, row)
        fill = Fill(symbol, side, float(quantity), float(price), commission, fees, ts)
        realized = ledger.apply_fill(fill, instrument)
        if instrument.asset_class is AssetClass.OPTION:
            spot = self.market.last_price(instrument.underlying, as_of=ts)
            record_trade_vol(ledger, instrument, fill.price, spot, ts)
        return instrument_row, ledger, fill, realized

    def cash_movement(
        self,
        name: str,
        amount: float,
        *,
        note: str = "",
        ts: datetime | None = None,
        currency: str | None = None,
        fx_rate: float | None = None,
    ) -> None:
        """Deposit (amount > 0) or withdraw (amount < 0) cash.

        ``currency`` defaults to the base currency. A foreign amount counts in the net
        deposits at ``fx_rate`` base units per unit (by default the FX close of the day).
        """
        ts = None if ts is None else self._event_time(ts)
        currency = check_currency(currency)
        with self._sessions.begin() as session:
            row = repo.get_row(session, name)  # the first statement takes the write lock
            ts = self.clock() if ts is None else ts  # now: after any wait for the lock
            ledger = book_deposit(
                session, row, self.market, float(amount), ts, currency, fx_rate, note
            )
            self._snapshot(session, row, ledger, ts, {})

    def exchange(
        self,
        name: str,
        sell: str,
        amount: float,
        buy: str,
        *,
        rate: float | None = None,
        note: str = "",
        ts: datetime | None = None,
    ) -> float:
        """Sell ``amount`` of currency ``sell`` for currency ``buy``; returns what was bought.

        ``rate`` is units of ``buy`` per unit of ``sell`` (by default from the FX closes of
        the day). The cash of both currencies, one cash movement row (kind ``exchange``) and
        the audit event commit together.
        """
        sell, buy = check_currency(sell, "sell"), check_currency(buy, "buy")
        ts = None if ts is None else self._event_time(ts)
        with self._sessions.begin() as session:
            row = repo.get_row(session, name)  # the first statement takes the write lock
            ts = self.clock() if ts is None else ts
            ledger, bought = book_exchange(
                session, row, self.market, sell, amount, buy, rate, ts, note
            )
            self._snapshot(session, row, ledger, ts, {})
            return bought

    def snapshot(self, name: str, ts: datetime | None = None) -> float:
        """Record equity marked at the last prices known at ``ts``; returns equity."""
        ts = naive_utc(ts) if ts is not None else None
        with self._sessions.begin() as session:
            row = repo.get_row(session, name)  # the first statement takes the write lock
            ts = self.clock() if ts is None else ts  # now: after any wait for the lock
            ledger, _ = repo.load_ledger(session, row)
            return self._snapshot(session, row, ledger, ts, {})

    def revalue_history(self, name: str, end=None, *, thin: bool = False) -> int:
        """Rebuild daily equity snapshots from the first event to ``end``.

        Replays cash movements and fills against daily closes (with ``thin``, only month ends
        before the last two years: see ``thin_curve``). Returns the number of snapshots.
        """
        with self._sessions.begin() as session:
            return rebuild_curve(session, repo.get_row(session, name), self.market, end, thin)

    # -- reads ------------------------------------------------------------------------------
    def ledger(self, name: str) -> Ledger:
        with self._sessions() as session:
            ledger, _ = repo.load_ledger(session, repo.get_row(session, name))
            return ledger

    def marks(self, ledger: Ledger, as_of=None) -> dict[str, float]:
        """Last prices of the open positions; an option without one is marked by the model."""
        prices = self.market.last_prices([p.symbol for p in ledger.open_positions()], as_of)
        unpriced = [p.symbol for p in ledger.open_positions() if p.symbol not in prices]
        if unpriced:
            for mark in self.option_marks(ledger, as_of, unpriced).values():
                if mark.source == "model":
                    prices[mark.symbol] = mark.price
        return prices

    def option_marks(self, ledger: Ledger, as_of=None, symbols=None) -> dict[str, OptionMark]:
        """How each option position (of ``symbols``, all by default) is marked."""
        at = self.clock() if as_of is None else naive_utc(pd.Timestamp(as_of).to_pydatetime())
        return option_marks(self.market, ledger, at, symbols)

    def greeks(self, name: str, as_of=None) -> dict:
        """Portfolio Greeks: per position and per underlying (``core.portfolio._options``)."""
        ledger = self.ledger(name)
        at = self.clock() if as_of is None else naive_utc(pd.Timestamp(as_of).to_pydatetime())
        return greeks_report(self.market, ledger, at, self.marks(ledger, at))

    def fx_rates(self, ledger: Ledger, as_of=None) -> dict[str, float]:
        """Currency → base-currency units per unit, for the currencies the ledger holds."""
        return fx_rates(self.market, ledger.currencies(), ledger.base_currency, as_of)

    def summary(self, name: str, as_of=None) -> PortfolioSummary:
        """Cash, equity and P&L of a portfolio marked at the last known prices."""
        with self._sessions() as session:
            row = repo.get_row(session, name)
            ledger, _ = repo.load_ledger(session, row)
            info = {
                "name": row.name,
                "base_currency": row.base_currency,
                "created_at": row.created_at,
                "allow_short": row.allow_short,
                "allow_margin": row.allow_margin,
                "description": row.description,
                "target_weights": dict(row.target_weights),
            }
        fx = self.fx_rates(ledger, as_of)
        return PortfolioSummary(**info, **valuation(ledger, self.marks(ledger, as_of), fx))

    def list(self) -> pd.DataFrame:
        rows = [self.summary(name).to_dict() for name in self.names()]
        return pd.DataFrame(rows, columns=LIST_COLUMNS)

    def positions(self, name: str, as_of=None) -> pd.DataFrame:
        """Open positions with marks, value, unrealized P&L and weight in equity."""
        ledger = self.ledger(name)
        return positions_frame(ledger, self.marks(ledger, as_of), self.fx_rates(ledger, as_of))

    def trades(self, name: str) -> pd.DataFrame:
        """Every fill, oldest first, with its notional and realized P&L."""
        with self._sessions() as session:
            row = repo.get_row(session, name)
            records = session.execute(trades_query(row.id)).all()
        return trades_frame(records)

    def equity_curve(self, name: str) -> pd.DataFrame:
        with self._sessions() as session:
            return equity_frame(session, repo.get_row(session, name).id)

    def curve_stamp(self, name: str) -> tuple[int | None, datetime | None, float | None]:
        """What identifies the equity curve now: last audit event, last snapshot's time and equity.

        Indexed reads only (no snapshot loaded), so a reader can keep a curve until it
        changes; all None for a portfolio of no such name (:meth:`equity_curve` says so).
        """
        with self._sessions() as session:
            return curve_stamp(session, name)

    def recent_trades(self, name: str, limit: int) -> pd.DataFrame:
        """The last ``limit`` fills, newest first (the columns of :meth:`trades`)."""
        with self._sessions() as session:
            row = repo.get_row(session, name)
            records = session.execute(newest_trades_query(row.id, limit)).all()
        return trades_frame(records)

    # -- internals ---------------------------------------------------------------------------
    def _event_time(self, ts: datetime | None) -> datetime:
        return event_time(self.clock(), ts)

    def _price_or_last(self, symbol: str, price: float | None, ts: datetime) -> float:
        if price is not None:
            return price
        last = self.market.last_price(symbol, as_of=ts)
        if last is None:
            raise PortfolioInputError(
                f"no price given and no market price known for {symbol}", "price"
            )
        return last

    def _snapshot(
        self, session, row, ledger: Ledger, ts: datetime, fresh: dict[str, float]
    ) -> float:
        marks = {**self.marks(ledger, ts), **fresh}
        fx = self.fx_rates(ledger, ts)
        try:
            cash, value = ledger.cash_value(fx), ledger.positions_value(marks, fx)
        except LedgerError:
            return math.nan  # a currency without FX bars: no snapshot (the summary says which)
        snapshot = {"cash": cash, "positions_value": value, "equity": cash + value}
        session.merge(EquitySnapshotRow(portfolio_id=row.id, ts=ts, **snapshot))
        check_margin(session, row, margin_status(ledger, cash + value, fx), ts)
        return cash + value
