"""What a multi-leg strategy pays: P&L at expiry and today, breakevens, extremes, net Greeks.

All P&L figures are in the premium's currency for the whole position: per leg
``quantity × multiplier × (value - premium)``, summed. "At expiry" is the front (nearest)
expiry: legs expiring then pay their intrinsic value, later legs (a calendar's far leg) are
valued with BSM over their remaining time. "Today" values every leg with BSM at its full
time to expiry (less ``elapsed`` years). Maximum profit and loss are the highest and lowest
P&L at expiry over spots from 0 to infinity; one that grows without bound is flagged
unlimited and its value is None. A loss is a negative P&L.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from core.derivatives._pricing import bsm, bsm_price
from core.derivatives._strategies import OptionMarket, Strategy
from core.errors import InvalidInputError

_SLOPE_TOL = 1e-9
_GRID = 4001


def _leg_vol(leg, market: OptionMarket) -> float:
    return market.vol if leg.vol is None else leg.vol


def pnl_at_expiry(strategy: Strategy, spots, market: OptionMarket | None = None) -> np.ndarray:
    """P&L at the front expiry for each spot.

    Parameters
    ----------
    strategy : Strategy
        The position.
    spots : array-like of float
        Underlying prices at the front expiry.
    market : OptionMarket, optional
        Values the legs that expire later (needed only when expiries differ).

    Returns
    -------
    ndarray of float, shape like ``spots``
        The whole position's P&L.
    """
    s = np.asarray(spots, dtype=np.float64)
    front = strategy.front_expiry
    total = np.zeros_like(s)
    for leg in strategy.legs:
        if leg.expiry == front:
            value = np.maximum((s - leg.strike) if leg.right == "call" else (leg.strike - s), 0.0)
        else:
            if market is None:
                raise InvalidInputError("market: needed to value legs expiring after the front")
            value = bsm_price(
                leg.right,
                np.maximum(s, 1e-12),
                leg.strike,
                leg.expiry - front,
                market.rate,
                _leg_vol(leg, market),
                market.dividend,
            )
        total += leg.quantity * (value - leg.premium)
    return total * strategy.multiplier


def pnl_today(strategy: Strategy, spots, market: OptionMarket, elapsed: float = 0.0) -> np.ndarray:
    """P&L now (or ``elapsed`` years from now) for each spot, every leg valued with BSM.

    Parameters
    ----------
    strategy : Strategy
        The position.
    spots : array-like of float
        Underlying prices (> 0).
    market : OptionMarket
        Volatility, rate and dividend (the spot is taken from ``spots``).
    elapsed : float, default 0.0
        Years passed since the premiums were paid (a leg past expiry is worth its intrinsic).

    Returns
    -------
    ndarray of float, shape like ``spots``
        The whole position's P&L.
    """
    s = np.asarray(spots, dtype=np.float64)
    total = np.zeros_like(s)
    for leg in strategy.legs:
        value = bsm_price(
            leg.right,
            s,
            leg.strike,
            max(leg.expiry - elapsed, 0.0),
            market.rate,
            _leg_vol(leg, market),
            market.dividend,
        )
        total += leg.quantity * (value - leg.premium)
    return total * strategy.multiplier


def _slope_at_infinity(strategy: Strategy, market: OptionMarket | None) -> float:
    """d(P&L)/dS as S → ∞ at the front expiry: calls only (a later call's delta → e^{-qτ})."""
    front = strategy.front_expiry
    q = market.dividend if market is not None else 0.0
    slope = 0.0
    for leg in strategy.legs:
        if leg.right == "call":
            slope += leg.quantity * (
                1.0 if leg.expiry == front else np.exp(-q * (leg.expiry - front))
            )
    return slope * strategy.multiplier


@dataclass(frozen=True)
class StrategyAnalysis:
    """A strategy's payoff summary.

    Attributes
    ----------
    net_premium : float
        Paid (+, a debit) or received (-, a credit) for the whole position.
    breakevens : tuple of float
        Spots at the front expiry where the P&L is 0, ascending.
    max_profit, max_loss : float or None
        Highest and lowest P&L at expiry (a loss is negative); None when unlimited.
    max_profit_unlimited, max_loss_unlimited : bool
        Whether the P&L grows without bound as the spot rises.
    greeks : dict of str to float
        Net price and Greeks today (:class:`Greeks` fields) for the whole position.
    exact : bool
        True for one expiry (piecewise-linear payoff, solved exactly), False when a later
        leg is model-valued (extremes and breakevens found on a grid up to 5× the top
        strike, refined by Brent's method).
    """

    net_premium: float
    breakevens: tuple[float, ...]
    max_profit: float | None
    max_loss: float | None
    max_profit_unlimited: bool
    max_loss_unlimited: bool
    greeks: dict[str, float]
    exact: bool

    def as_dict(self) -> dict:
        """Plain values for JSON."""
        return {
            "net_premium": self.net_premium,
            "breakevens": list(self.breakevens),
            "max_profit": self.max_profit,
            "max_loss": self.max_loss,
            "max_profit_unlimited": self.max_profit_unlimited,
            "max_loss_unlimited": self.max_loss_unlimited,
            "greeks": dict(self.greeks),
            "exact": self.exact,
        }


def net_greeks(strategy: Strategy, market: OptionMarket) -> dict[str, float]:
    """The position's price and Greeks today: Σ quantity × multiplier × the leg's.

    Parameters
    ----------
    strategy : Strategy
        The position.
    market : OptionMarket
        Spot, volatility, rate and dividend.

    Returns
    -------
    dict of str to float
        The :class:`Greeks` fields, summed over legs (``price`` is the position's value).
    """
    total: dict[str, float] = {}
    for leg in strategy.legs:
        g = bsm(
            leg.right,
            market.spot,
            leg.strike,
            leg.expiry,
            market.rate,
            _leg_vol(leg, market),
            market.dividend,
        )
        for name, value in g.as_dict().items():
            total[name] = total.get(name, 0.0) + leg.quantity * strategy.multiplier * value
    return total


def _piecewise_roots(kinks: np.ndarray, values: np.ndarray, slope: float) -> list[float]:
    roots = [float(k) for k, v in zip(kinks, values, strict=True) if v == 0.0]
    for a, b, fa, fb in zip(kinks[:-1], kinks[1:], values[:-1], values[1:], strict=True):
        if fa * fb < 0.0:
            roots.append(float(a + (b - a) * fa / (fa - fb)))
    if values[-1] * slope < 0.0:
        roots.append(float(kinks[-1] - values[-1] / slope))
    return sorted(set(roots))


def _grid_roots(strategy, market, grid, values) -> list[float]:
    roots = [float(x) for x, v in zip(grid, values, strict=True) if v == 0.0]
    for i in np.flatnonzero(values[:-1] * values[1:] < 0.0):
        f = lambda s: float(pnl_at_expiry(strategy, np.array([s]), market)[0])  # noqa: E731
        roots.append(float(brentq(f, grid[i], grid[i + 1], xtol=1e-12)))
    return sorted(set(roots))


def analyze(strategy: Strategy, market: OptionMarket) -> StrategyAnalysis:
    """Breakevens, maximum profit and loss, and net Greeks of ``strategy``.

    Parameters
    ----------
    strategy : Strategy
        The position.
    market : OptionMarket
        Values later legs at the front expiry and the Greeks today.

    Returns
    -------
    StrategyAnalysis
    """
    slope = _slope_at_infinity(strategy, market)
    if strategy.single_expiry:
        points = np.unique(np.r_[0.0, [leg.strike for leg in strategy.legs]])
        values = pnl_at_expiry(strategy, points, market)
        breakevens = _piecewise_roots(points, values, slope)
    else:
        top = max(leg.strike for leg in strategy.legs)
        points = np.linspace(0.0, 5.0 * top, _GRID)
        values = pnl_at_expiry(strategy, points, market)
        breakevens = _grid_roots(strategy, market, points, values)
    up, down = slope > _SLOPE_TOL, slope < -_SLOPE_TOL
    return StrategyAnalysis(
        net_premium=strategy.net_premium,
        breakevens=tuple(breakevens),
        max_profit=None if up else float(values.max()),
        max_loss=None if down else float(values.min()),
        max_profit_unlimited=up,
        max_loss_unlimited=down,
        greeks=net_greeks(strategy, market),
        exact=strategy.single_expiry,
    )
