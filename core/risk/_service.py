"""The risk room's service.

A stored portfolio's state, measures, limits and stress, read through narrow façades.

:class:`RiskService` is given what it reads and nothing more: the portfolios (summary,
positions, trades, equity curve), the market (bars, closes, instruments), the sessions (the
limits and trading state stored in the portfolio's metadata) and a stress use case
(``(name, scenario) → result``, :meth:`core.whatif.WhatIfService.stress`). It never sees the
workstation. The numbers themselves are worked out by the pure functions of
:mod:`core.risk._report`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import AuditEventRow
from core.errors import NotFoundError
from core.portfolio import PortfolioSummary
from core.risk._errors import RiskInputError
from core.risk._limits import RiskLimits, TradingState
from core.risk._pretrade import PortfolioState
from core.risk._report import (
    ADV_DAYS,
    BENCHMARK,
    RiskReport,
    drawdown_report,
    measures_report,
    stress_row,
)
from core.risk._store import (
    limits_saved,
    load_limits,
    load_trading_state,
    save_limits,
    set_trading_state,
    update_limits,
)
from core.risk._usage import limit_usage
from core.whatif import STRESS_SCENARIOS, StressResult, StressScenario


class PortfolioReader(Protocol):
    """What risk reads of the portfolios (``PortfolioService`` fits); it writes nothing."""

    def summary(self, name: str) -> PortfolioSummary: ...

    def positions(self, name: str) -> pd.DataFrame: ...

    def trades(self, name: str) -> pd.DataFrame: ...

    def equity_curve(self, name: str) -> pd.DataFrame: ...

    def greeks(self, name: str) -> dict: ...


class MarketReader(Protocol):
    """What risk reads of the market (``MarketDataService`` fits)."""

    def instruments(self) -> list: ...

    def bars(self, symbol: str) -> pd.DataFrame: ...

    def closes(self, symbols: list[str], *, past_last: bool = True) -> pd.DataFrame: ...


StressCase = Callable[[str, StressScenario], StressResult]
"""The stress use case: portfolio name and scenario → :func:`core.whatif.stress_portfolio`'s
result."""


class RiskService:
    """A stored portfolio's current risk.

    The state the pre-trade checks see and the report the Risk page and ``python -m core risk``
    show.
    """

    def __init__(
        self,
        portfolios: PortfolioReader,
        market: MarketReader,
        sessions: sessionmaker[Session],
        stress: StressCase,
    ):
        self._portfolios = portfolios
        self._market = market
        self._sessions = sessions
        self._stress = stress

    def state(self, name: str, now: datetime | None = None) -> PortfolioState:
        """The :class:`PortfolioState` of a stored portfolio at the last known prices.

        ``day_start_equity`` is the last equity snapshot before ``now``'s UTC date,
        ``day_turnover`` the notional of fills on that date, ``adv`` the mean volume of the
        last 20 bars (absent where the history has no volume).
        """
        now = now or datetime.now(UTC).replace(tzinfo=None)
        summary = self._portfolios.summary(name)
        positions = self._portfolios.positions(name)
        curve = self._portfolios.equity_curve(name)["equity"]
        today = pd.Timestamp(now.date())
        before = curve[curve.index < today]
        trades = self._portfolios.trades(name)
        traded = trades.loc[pd.to_datetime(trades["ts"]) >= today, "notional"].abs().sum()
        with self._sessions() as session:
            trading_state = load_trading_state(session, name)
        instruments = {i.symbol: i for i in self._market.instruments()}
        symbols = list(positions["symbol"])
        return PortfolioState(
            equity=summary.equity,
            cash=summary.cash,
            positions=dict(zip(symbols, positions["quantity"], strict=True)),
            prices=dict(zip(symbols, positions["last_price"], strict=True)),
            multipliers={s: instruments[s].multiplier for s in symbols if s in instruments},
            peak_equity=max(float(curve.max()), summary.equity) if len(curve) else None,
            day_start_equity=float(before.iloc[-1]) if len(before) else None,
            day_turnover=float(traded),
            adv=self._adv(symbols),
            asset_class={s: str(instruments[s].asset_class) for s in symbols if s in instruments},
            now=now,
            trading_state=trading_state,
        )

    def report(
        self,
        name: str,
        *,
        horizon: int = 1,
        lookback: int = 504,
        n_sims: int = 50_000,
        seed: int = 0,
    ) -> RiskReport:
        """Everything the Risk page and ``python -m core risk`` show (see :class:`RiskReport`).

        VaR/CVaR are positive loss fractions of equity (``*_amount`` in currency), volatility
        and contributions annualised (252 days), beta against the bundled S&P 500 index.
        """
        if lookback < 30:
            raise RiskInputError(f"lookback must be at least 30 days, got {lookback}")
        state = self.state(name)
        with self._sessions() as session:
            limits = load_limits(session, name)
        curve = self._portfolios.equity_curve(name)["equity"]
        report: dict[str, Any] = {  # RiskReport's fields
            "portfolio": name,
            "equity": state.equity,
            "cash": state.cash,
            "trading_state": state.trading_state.value,
            "limits": limits.to_dict(),
            "limit_usage": [r.to_dict() for r in limit_usage(state, limits)],
            "drawdown": drawdown_report(curve, state),
            "stress": [stress_row(s, self._stress(name, s)) for s in STRESS_SCENARIOS.values()],
        }
        greeks = self._portfolios.greeks(name)
        if any(r["symbol"] != r["underlying"] for r in greeks.get("positions", [])):
            report["greeks"] = greeks  # options held
        weights = _delta_weights(state, greeks)
        # a history that ended (SPX's in 2018) is not carried on as flat prices: the measures
        # use the dates every held symbol has prices for (``as_of`` says which)
        closes = self._market.closes([*weights, BENCHMARK], past_last=False) if weights else None
        options = (horizon, lookback, n_sims, seed)
        report.update(measures_report(closes, weights, state.equity, *options))
        return RiskReport(**report)

    # -- what the Risk page reads and changes (each in its own transaction) ------------------
    def log_version(self) -> int:
        """Id of the newest audit event (0 when none).

        Trades, limits and trading-state changes all add one, so a cached report keyed by it
        is recomputed after any of them.
        """
        with self._sessions() as session:
            return session.scalar(select(func.max(AuditEventRow.id))) or 0

    def limits(self, name: str) -> RiskLimits:
        """The portfolio's limits: its own once saved, the defaults before."""
        with self._sessions() as session:
            return load_limits(session, name)

    def limits_saved(self, name: str) -> bool:
        """Whether ``name``'s limits are its own (enforced on orders) rather than defaults."""
        with self._sessions() as session:
            return limits_saved(session, name)

    def save_limits(self, name: str, limits: RiskLimits, *, actor: str = "user") -> dict:
        """Store ``limits`` for ``name`` (audited); the changes ``{key: [before, after]}``."""
        with self._sessions.begin() as session:
            return save_limits(session, name, limits, actor=actor)

    def update_limits(
        self, name: str, pairs: list[str], *, actor: str = "user"
    ) -> tuple[RiskLimits, dict]:
        """Change only the limits named in ``pairs`` (``key=value``).

        See :func:`~core.risk._store.update_limits`; the stored limits and the changes.
        """
        with self._sessions.begin() as session:
            return update_limits(session, name, pairs, actor=actor)

    def trading_state(self, name: str) -> TradingState:
        """The portfolio's stored trading state (the kill switch)."""
        with self._sessions() as session:
            return load_trading_state(session, name)

    def set_trading_state(
        self, name: str, state: TradingState | str, *, actor: str = "user", reason: str = ""
    ) -> TradingState:
        """Switch the kill switch (audited with ``reason``).

        Refuses the current state (:class:`~core.risk.RiskConflict`, nothing written); the new
        state.
        """
        with self._sessions.begin() as session:
            return set_trading_state(session, name, state, actor=actor, reason=reason)

    def _adv(self, symbols: list[str]) -> dict[str, float]:
        adv = {}
        for symbol in symbols:
            try:
                bars = self._market.bars(symbol)
            except NotFoundError:
                continue  # no bars (an option marked by the model): no volume known
            volume = bars["volume"].dropna().tail(ADV_DAYS)
            if len(volume):
                adv[symbol] = float(volume.mean())
        return adv


def _delta_weights(state: PortfolioState, greeks: dict) -> dict[str, float]:
    """Weights in equity; an option counts as its dollar delta in its underlying."""
    options = {
        r["symbol"]: r for r in greeks.get("positions", []) if r["symbol"] != r["underlying"]
    }
    weights: dict[str, float] = {}
    for symbol, quantity in state.positions.items():
        if symbol in options:
            row = options[symbol]
            key, value = row["underlying"], row["dollar_delta"]
        else:
            key, value = (
                symbol,
                quantity * state.prices[symbol] * state.multipliers.get(symbol, 1.0),
            )
        if value == value:  # an option without a volatility (NaN) has no known delta
            weights[key] = weights.get(key, 0.0) + value / state.equity
    return weights
