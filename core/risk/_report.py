"""A stored portfolio's risk report, worked out from data: measures, drawdown, stress rows.

Measures use the current holdings held fixed over the last ``lookback`` daily returns of
their closes ("historical simulation on today's positions"): the portfolio's return on day
``t`` is ``Σ w_i r_{i,t}`` with ``w_i`` = market value / equity (cash earns nothing).

The functions here are pure; :class:`core.risk.RiskService` gathers their inputs from the
portfolios and the market. :func:`portfolio_state` and :func:`portfolio_risk` are the
module-level doors of old: they take anything that has a ``risk`` service (the workstation)
and delegate to it, without importing it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from core.risk._drawdown import DrawdownController, drawdown_series
from core.risk._errors import RiskInputError
from core.risk._measures import (
    TRADING_DAYS,
    beta_correlation,
    risk_contributions,
    var_cvar,
    volatility,
)
from core.risk._pretrade import PortfolioState

if TYPE_CHECKING:
    from core.whatif import StressResult, StressScenario

BENCHMARK = "SP500"
LEVELS = (0.95, 0.99)
VAR_METHODS = ("historical", "normal", "student_t", "monte_carlo")
ADV_DAYS = 20


@dataclass(frozen=True)
class RiskReport:
    """Everything the Risk page and ``python -m core risk`` show about a portfolio.

    VaR/CVaR are positive loss fractions of equity over ``horizon_days`` (``*_amount`` in
    money in the ``var`` rows); volatility and contributions are annualised (252 days); beta
    and correlation are against ``benchmark``. With nothing held the measures are empty (no
    ``var`` rows, ``n_observations`` 0, ``var_95`` … ``cvar_99`` None and left out of
    :meth:`to_dict`).

    Attributes
    ----------
    portfolio, trading_state : str
        The portfolio and its kill-switch state.
    equity, cash : float
        In the portfolio's currency.
    limits : dict
        The limits in force (:meth:`RiskLimits.to_dict`).
    limit_usage : list of dict
        One row per rule (:meth:`RuleResult.to_dict`).
    drawdown : dict
        The controller's status, thresholds and the worst drawdown.
    stress : list of dict
        One row per preset scenario: ``scenario``, ``description``, ``pnl``, ``return``,
        ``equity_after``.
    as_of : Timestamp or None
        The last day of the returns measured.
    n_observations, horizon_days : int
        Daily returns measured; the VaR horizon.
    var : list of dict
        By method and level: ``method``, ``level``, ``var``, ``cvar``, ``var_amount``,
        ``cvar_amount``.
    volatility : float
    beta, correlation : float or None
    benchmark : str
    contributions : list of dict
        Per symbol: ``weight``, ``volatility``, ``contribution``, ``share``.
    var_95, cvar_95, var_99, cvar_99 : float or None
        The historical measures at 95 % and 99 %.
    greeks : dict or None
        Portfolio Greeks (issue 16): ``positions`` (per position), ``by_underlying`` (sums
        per underlying) and ``total``, with the keys ``delta_shares`` (shares of the
        underlying), ``dollar_delta``, ``dollar_gamma_1pct`` (change of dollar delta for a
        1 % spot move), ``vega_1pct`` (per volatility point) and ``theta_day`` (per calendar
        day). Only when options are held (None and left out of :meth:`to_dict` otherwise). An
        option enters the VaR and the contributions as its dollar delta in the underlying.
    """

    portfolio: str
    equity: float
    cash: float
    trading_state: str
    limits: dict[str, Any]
    limit_usage: list[dict[str, Any]]
    drawdown: dict[str, Any]
    stress: list[dict[str, Any]]
    as_of: pd.Timestamp | None
    n_observations: int
    horizon_days: int
    var: list[dict[str, Any]]
    volatility: float
    beta: float | None
    correlation: float | None
    benchmark: str
    contributions: list[dict[str, Any]]
    var_95: float | None = None
    cvar_95: float | None = None
    var_99: float | None = None
    cvar_99: float | None = None
    greeks: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON keys of ``python -m core risk``, in order.

        ``var_95`` … only when something is held, ``greeks`` last and only with options.
        """
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for key in (*HISTORICAL_KEYS, "greeks"):
            if data[key] is None:
                del data[key]
        return data


HISTORICAL_KEYS = ("var_95", "cvar_95", "var_99", "cvar_99")


class _Risk(Protocol):
    def state(self, name: str, now: datetime | None = None) -> PortfolioState: ...

    def report(self, name: str, **options: Any) -> RiskReport: ...


class HasRisk(Protocol):
    """Anything that carries a :class:`~core.risk.RiskService` as ``risk`` (the workstation)."""

    @property
    def risk(self) -> _Risk: ...


def portfolio_state(owner: HasRisk, name: str, now: datetime | None = None) -> PortfolioState:
    """``owner.risk.state(name, now)``; see :meth:`core.risk.RiskService.state`."""
    return owner.risk.state(name, now)


def portfolio_risk(
    owner: HasRisk,
    name: str,
    *,
    horizon: int = 1,
    lookback: int = 504,
    n_sims: int = 50_000,
    seed: int = 0,
) -> RiskReport:
    """``owner.risk.report(name, ...)``; see :meth:`core.risk.RiskService.report`."""
    return owner.risk.report(name, horizon=horizon, lookback=lookback, n_sims=n_sims, seed=seed)


def measures_report(
    closes: pd.DataFrame | None,
    weights: dict[str, float],
    equity: float,
    horizon: int,
    lookback: int,
    n_sims: int,
    seed: int,
) -> dict[str, Any]:
    """VaR/CVaR by method and level, volatility, beta, correlation and risk contributions.

    closes : daily closes of the held symbols and :data:`BENCHMARK` (None when nothing is held)
    weights : symbol → market value / equity
    """
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
    assets = closes[symbols].dropna().pct_change().dropna().tail(lookback)
    if len(assets) < 30:
        raise RiskInputError(f"only {len(assets)} days of common price history for {symbols}")
    w = np.array([weights[s] for s in symbols])
    returns = pd.Series(assets.to_numpy() @ w, index=assets.index)
    rows = _var_rows(assets, returns, w, equity, horizon, n_sims, seed)
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


def _var_rows(assets, returns, w, equity, horizon, n_sims, seed) -> list[dict[str, Any]]:
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
    return rows


def drawdown_report(curve: pd.Series, state: PortfolioState) -> dict[str, Any]:
    """The drawdown controller's status now, its thresholds, and the worst drawdown.

    The worst drawdown is that of ``curve`` (the equity snapshots).
    """
    controller = DrawdownController()
    worst = float(drawdown_series(curve)["drawdown"].max()) if len(curve) else 0.0
    status = DrawdownController(peak=state.peak_equity).update(state.equity)
    return {
        **status.to_dict(),
        "warning": controller.warning,
        "critical": controller.critical,
        "critical_scale": controller.critical_scale,
        "max_drawdown": worst,
    }


def stress_row(scenario: StressScenario, result: StressResult) -> dict[str, Any]:
    """One line of the report's stress table from :func:`core.whatif.stress_portfolio`'s result."""
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "pnl": result.total_pnl,
        "return": result.total_return,
        "equity_after": result.equity_after,
    }
