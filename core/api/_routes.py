"""The API's GET routes, each answering one response model from the services.

Every route but ``/health`` needs the token (the router's dependency). ``portfolio`` is
optional: the demo portfolio when it exists, else the first by name.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from core.api import _models as m
from core.api import _reads as reads
from core.api import _reads_ops as ops

PortfolioParam = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=100,
        description="Portfolio name (default: the demo portfolio, else the first by name)",
    ),
]
ID_MAX = 2**63 - 1  # a database id is a signed 64-bit integer: a larger one is a 422, not a 500
DateParam = Annotated[date | None, Query(description="A date, YYYY-MM-DD (UTC)")]
RISK_SIMS = 20_000  # Monte Carlo paths of the risk route's VaR (the Risk page uses 50,000)
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": m.ErrorResponse, "description": "Missing or wrong token"},
    404: {"model": m.ErrorResponse, "description": "Unknown portfolio, symbol or session"},
    422: {"model": m.ErrorResponse, "description": "A bad parameter"},
}


def build_router(ws, curves, *, demo_name: str | None, dependencies: list) -> APIRouter:
    """The token-protected routes over the read-only workstation ``ws``."""
    router = APIRouter(dependencies=dependencies, responses=ERRORS)

    def name_of(portfolio: str | None) -> str:
        if portfolio is None:
            return reads.default_portfolio(ws.portfolios, demo_name)
        return portfolio

    _portfolio_routes(router, ws, curves, name_of)
    _activity_routes(router, ws, name_of)
    _audit_and_paper_routes(router, ws)
    return router


def _portfolio_routes(router: APIRouter, ws, curves, name_of) -> None:
    @router.get("/portfolio/summary", response_model=m.Summary, tags=["portfolio"])
    def portfolio_summary(portfolio: PortfolioParam = None) -> dict:
        """Total value, cash, P&L today and in total, Sharpe and maximum drawdown."""
        return reads.summary(ws.portfolios, curves, name_of(portfolio))

    @router.get("/portfolio/positions", response_model=m.Positions, tags=["portfolio"])
    def portfolio_positions(portfolio: PortfolioParam = None) -> dict:
        """Open positions marked at the last known closes."""
        return reads.positions(ws.portfolios, name_of(portfolio))

    @router.get("/portfolio/positions/{symbol}", response_model=m.PositionOut, tags=["portfolio"])
    def portfolio_position(
        symbol: Annotated[str, Path(min_length=1, max_length=32)],
        portfolio: PortfolioParam = None,
    ) -> dict:
        """One open position (404 when the portfolio holds none of the symbol)."""
        return reads.position(ws.portfolios, name_of(portfolio), symbol)

    @router.get("/portfolio/risk", response_model=m.Risk, tags=["portfolio"])
    def portfolio_risk(portfolio: PortfolioParam = None) -> dict:
        """Volatility, VaR and CVaR (four methods, 95 % and 99 %), Sharpe, limits used."""
        return reads.risk(ws.risk, curves, name_of(portfolio), RISK_SIMS)

    @router.get("/portfolio/performance", response_model=m.Performance, tags=["portfolio"])
    def portfolio_performance(portfolio: PortfolioParam = None) -> dict:
        """Metrics of the daily equity curve and the fills' totals."""
        return reads.performance(ws.portfolios, curves, name_of(portfolio))

    @router.get("/portfolio/chart", response_model=m.Chart, tags=["portfolio"])
    def portfolio_chart(
        portfolio: PortfolioParam = None,
        points: Annotated[int, Query(ge=2, le=10_000, description="At most this many")] = 1000,
    ) -> dict:
        """The equity curve, downsampled to at most ``points`` points."""
        return reads.chart(curves, name_of(portfolio), points)


def _activity_routes(router: APIRouter, ws, name_of) -> None:
    @router.get("/trades/recent", response_model=m.Trades, tags=["trades"])
    def trades_recent(
        portfolio: PortfolioParam = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    ) -> dict:
        """The latest fills, newest first."""
        return reads.recent_trades(ws.portfolios, name_of(portfolio), limit)

    @router.get(
        "/strategies/performance", response_model=m.StrategyPerformance, tags=["strategies"]
    )
    def strategies_performance(portfolio: PortfolioParam = None) -> dict:
        """Realized results by strategy, and the paper sleeves trading the portfolio."""
        return ops.strategies(ws.portfolios, ws.paper, name_of(portfolio))

    @router.get("/alerts/active", response_model=m.Alerts, tags=["alerts"])
    def alerts_active(portfolio: PortfolioParam = None) -> dict:
        """Risk limits warned or breached, and live paper sessions' alerts."""
        return ops.alerts(ws.risk, ws.paper, name_of(portfolio))

    @router.get("/market/regime", response_model=m.Regime, tags=["market"])
    def market_regime(
        symbol: Annotated[str, Query(min_length=1, max_length=32)] = "SP500",
        states: Annotated[int, Query(ge=2, le=4)] = 3,
    ) -> dict:
        """The market regime of a symbol (hidden Markov model of daily log returns)."""
        return ops.regime(ws.market, symbol, states)

    @router.get("/rebalancing/status", response_model=m.RebalanceStatus, tags=["rebalancing"])
    def rebalancing_status(portfolio: PortfolioParam = None) -> dict:
        """Whether a rebalance is due by the default policy, its orders, past rebalances."""
        return ops.rebalance(ws.rebalance, ws.portfolios, name_of(portfolio))


def _audit_and_paper_routes(router: APIRouter, ws) -> None:
    @router.get("/compliance/status", response_model=m.Compliance, tags=["compliance"])
    def compliance_status(start: DateParam = None, end: DateParam = None) -> dict:
        """The compliance report (default: the last 30 days) with the chain's check."""
        return ops.compliance(ws.audit, start, end)

    @router.get("/compliance/audit-trail", response_model=m.AuditPage, tags=["compliance"])
    def compliance_audit_trail(
        start: DateParam = None,
        end: DateParam = None,
        portfolio: Annotated[str | None, Query(max_length=100)] = None,
        kind: Annotated[str | None, Query(max_length=32)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        before: Annotated[
            int | None, Query(ge=1, le=ID_MAX, description="next_before of a page")
        ] = None,
    ) -> dict:
        """The audit trail, newest first, a page at a time."""
        return ops.audit_page(
            ws.audit,
            start=start,
            end=end,
            portfolio=portfolio,
            kind=kind,
            limit=limit,
            before=before,
        )

    @router.get("/paper/sessions", response_model=m.PaperSessions, tags=["paper"])
    def paper_sessions() -> dict:
        """Every paper session, newest first."""
        return ops.paper_sessions(ws.paper)

    @router.get("/paper/sessions/{name}", response_model=m.PaperSession, tags=["paper"])
    def paper_session(name: Annotated[str, Path(min_length=1, max_length=100)]) -> dict:
        """One paper session's state."""
        return ops.paper_session(ws.paper, name)
