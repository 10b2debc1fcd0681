"""A stored portfolio's current risk: the state the checks see, measures, limits, stress.

Measures use the current holdings held fixed over the last ``lookback`` daily returns of
their closes ("historical simulation on today's positions"): the portfolio's return on day
``t`` is ``Σ w_i r_{i,t}`` with ``w_i`` = market value / equity (cash earns nothing).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core.risk._drawdown import DrawdownController, drawdown_series
from core.risk._errors import RiskError
from core.risk._measures import (
    TRADING_DAYS,
    beta_correlation,
    risk_contributions,
    var_cvar,
    volatility,
)
from core.risk._pretrade import PortfolioState
from core.risk._store import load_limits, load_trading_state
from core.risk._usage import limit_usage
from core.whatif import STRESS_SCENARIOS

if TYPE_CHECKING:
    from core.workstation import Workstation

BENCHMARK = "SP500"
LEVELS = (0.95, 0.99)
VAR_METHODS = ("historical", "normal", "student_t", "monte_carlo")
ADV_DAYS = 20


def portfolio_state(ws: Workstation, name: str, now: datetime | None = None) -> PortfolioState:
    """The :class:`PortfolioState` of a stored portfolio at the last known prices.

    ``day_start_equity`` is the last equity snapshot before ``now``'s UTC date,
    ``day_turnover`` the notional of fills on that date, ``adv`` the mean volume of the last
    20 bars (absent where the history has no volume).
    """
    now = now or datetime.now(UTC).replace(tzinfo=None)
    summary = ws.portfolios.summary(name)
    positions = ws.portfolios.positions(name)
    curve = ws.portfolios.equity_curve(name)["equity"]
    today = pd.Timestamp(now.date())
    before = curve[curve.index < today]
    trades = ws.portfolios.trades(name)
    traded = trades.loc[pd.to_datetime(trades["ts"]) >= today, "notional"].abs().sum()
    with ws.sessions() as session:
        trading_state = load_trading_state(session, name)
    instruments = {i.symbol: i for i in ws.market.instruments()}
    symbols = list(positions["symbol"])
    return PortfolioState(
        equity=summary["equity"],
        cash=summary["cash"],
        positions=dict(zip(symbols, positions["quantity"], strict=True)),
        prices=dict(zip(symbols, positions["last_price"], strict=True)),
        multipliers={s: instruments[s].multiplier for s in symbols if s in instruments},
        peak_equity=max(float(curve.max()), summary["equity"]) if len(curve) else None,
        day_start_equity=float(before.iloc[-1]) if len(before) else None,
        day_turnover=float(traded),
        adv=_adv(ws, symbols),
        asset_class={s: str(instruments[s].asset_class) for s in symbols if s in instruments},
        now=now,
        trading_state=trading_state,
    )


def _adv(ws: Workstation, symbols: list[str]) -> dict[str, float]:
    adv = {}
    for symbol in symbols:
        volume = ws.market.bars(symbol)["volume"].dropna().tail(ADV_DAYS)
        if len(volume):
            adv[symbol] = float(volume.mean())
    return adv


def portfolio_risk(
    ws: Workstation,
    name: str,
    *,
    horizon: int = 1,
    lookback: int = 504,
    n_sims: int = 50_000,
    seed: int = 0,
) -> dict[str, Any]:
    """Everything the Risk page and ``python -m core risk`` show, JSON-ready.

    VaR/CVaR are positive loss fractions of equity (``*_amount`` in currency), volatility
    and contributions annualised (252 days), beta against the bundled S&P 500 index.
    """
    if lookback < 30:
        raise RiskError(f"lookback must be at least 30 days, got {lookback}")
    state = portfolio_state(ws, name)
    with ws.sessions() as session:
        limits = load_limits(session, name)
    report: dict[str, Any] = {
        "portfolio": name,
        "equity": state.equity,
        "cash": state.cash,
        "trading_state": state.trading_state.value,
        "limits": limits.to_dict(),
        "limit_usage": [r.to_dict() for r in limit_usage(state, limits)],
        "drawdown": _drawdown(ws, name, state),
        "stress": [_stress(ws, name, s) for s in STRESS_SCENARIOS.values()],
    }
    weights = {
        s: q * state.prices[s] * state.multipliers.get(s, 1.0) / state.equity
        for s, q in state.positions.items()
    }
    report.update(_measures(ws, weights, state.equity, horizon, lookback, n_sims, seed))
    return report


def _measures(ws, weights, equity, horizon, lookback, n_sims, seed) -> dict[str, Any]:
    empty = {
        "as_of": None,
        "n_observations": 0,
        "horizon_days": horizon,
        "var": [],
        "volatility": 0.0,
        "beta": None,
        "correlation": None,
        "benchmark": BENCHMARK,
        "contributions": [],
    }
    if not weights:
        return empty
    symbols = list(weights)
    closes = ws.market.closes([*symbols, BENCHMARK])
    assets = closes[symbols].dropna().pct_change().dropna().tail(lookback)
    if len(assets) < 30:
        raise RiskError(f"only {len(assets)} days of common price history for {symbols}")
    w = np.array([weights[s] for s in symbols])
    returns = pd.Series(assets.to_numpy() @ w, index=assets.index)
    rows = []
    for method in VAR_METHODS:
        options = {"weights": w, "n_sims": n_sims, "seed": seed} if method == "monte_carlo" else {}
        data = assets.to_numpy() if method == "monte_carlo" else returns
        for level in LEVELS:
            var, cvar = var_cvar(data, level, horizon, method, **options)
            rows.append(
                {
                    "method": method,
                    "level": level,
                    "var": var,
                    "cvar": cvar,
                    "var_amount": var * equity,
                    "cvar_amount": cvar * equity,
                }
            )
    benchmark = closes[BENCHMARK].pct_change().reindex(returns.index)
    beta, corr = beta_correlation(returns, benchmark)
    cov = assets.cov(ddof=1).to_numpy() * TRADING_DAYS
    contributions = risk_contributions(w, cov)
    sigma = contributions.sum()
    table = [
        {
            "symbol": s,
            "weight": float(w[i]),
            "volatility": math.sqrt(cov[i, i]),
            "contribution": float(contributions[i]),
            "share": float(contributions[i] / sigma) if sigma else 0.0,
        }
        for i, s in enumerate(symbols)
    ]
    historical = {r["level"]: r for r in rows if r["method"] == "historical"}
    return {
        **empty,
        "as_of": assets.index[-1],
        "n_observations": len(assets),
        "var": rows,
        "var_95": historical[0.95]["var"],
        "cvar_95": historical[0.95]["cvar"],
        "var_99": historical[0.99]["var"],
        "cvar_99": historical[0.99]["cvar"],
        "volatility": volatility(returns),
        "beta": beta,
        "correlation": corr,
        "contributions": table,
    }


def _drawdown(ws, name: str, state: PortfolioState) -> dict[str, Any]:
    controller = DrawdownController()
    curve = ws.portfolios.equity_curve(name)["equity"]
    worst = float(drawdown_series(curve)["drawdown"].max()) if len(curve) else 0.0
    status = DrawdownController(peak=state.peak_equity).update(state.equity)
    return {
        **status.to_dict(),
        "warning": controller.warning,
        "critical": controller.critical,
        "critical_scale": controller.critical_scale,
        "max_drawdown": worst,
    }


def _stress(ws, name: str, scenario) -> dict[str, Any]:
    result = ws.stress_portfolio(name, scenario)
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "pnl": result["total_pnl"],
        "return": result["return"],
        "equity_after": result["equity_after"],
    }
