"""Stress scenarios: what a historical-style crash would do to a portfolio or a return path.

A :class:`StressScenario` is a price shock that unfolds over ``shock_days`` trading days,
with volatility multiplied by ``vol_multiplier`` during the shock and for
``duration_days`` after it. It is applied in two ways:

* :func:`stress_portfolio` — instantly, position by position: each market value moves
  by the shock of its asset class (a linear, delta-one view: options are not repriced);
* :func:`stress_returns` / :func:`stress_equity` — over time, on a historical return
  path (construction in :func:`stress_returns`).

:data:`STRESS_SCENARIOS` holds five presets modelled on S&P 500 episodes (each one's
``description`` gives the numbers); users define their own with the same model.

=============  ======  ==========  ====  =========  ==========================================
name           shock   shock days  vol×  vol days   mirrors
=============  ======  ==========  ====  =========  ==========================================
gfc_2008       -45 %   120         3.0   120        2008-09-19 → 2009-03-09, -46 % in 116 days
covid_2020     -34 %   23          4.0   40         2020-02-19 → 2020-03-23, -34 % in 23 days
flash_crash    -9 %    1           2.0   5          2010-05-06 intraday fall, assumed to stick
correction     -12 %   30          1.5   20         a generic 10-20 % correction (2015, 2018)
stagflation    -25 %   250         1.3   0          2022: -25 % in ~195 days, inflation 9 %
=============  ======  ==========  ====  =========  ==========================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.errors import InvalidInputError


class StressScenario(BaseModel):
    """A market shock and the turbulence around it.

    Parameters
    ----------
    name : str
        Short identifier (``"covid_2020"``).
    description : str
        What the scenario mirrors.
    price_shock : float
        Total price change over the shock, a fraction > -1 (-0.35 = a 35 % fall).
    shock_days : int, default 1
        Trading days over which the shock unfolds, ≥ 1.
    vol_multiplier : float, default 1.0
        Factor on the volatility of returns during the shock and the
        ``duration_days`` after it, > 0.
    duration_days : int, default 0
        Trading days the raised volatility lasts after the shock, ≥ 0.
    asset_class_shocks : dict of str to float, default {}
        Shocks of particular asset classes (``"crypto"``, ``"forex"``, … as in
        :class:`core.instruments.AssetClass`, case-insensitive); they override
        ``price_shock`` for positions of that class.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str = Field(min_length=1, max_length=60)
    description: str = ""
    price_shock: float = Field(gt=-1)
    shock_days: int = Field(default=1, ge=1)
    vol_multiplier: float = Field(default=1.0, gt=0)
    duration_days: int = Field(default=0, ge=0)
    asset_class_shocks: dict[str, float] = Field(default_factory=dict)

    @field_validator("asset_class_shocks")
    @classmethod
    def _check_class_shocks(cls, shocks: dict[str, float]) -> dict[str, float]:
        clean = {}
        for key, shock in shocks.items():
            if not (math.isfinite(shock) and shock > -1):
                raise ValueError(f"the shock of {key!r} must be a finite fraction > -1")
            clean[str(key).strip().lower()] = float(shock)
        return clean

    def shock_for(self, asset_class: str | None) -> float:
        """The price shock of a position of ``asset_class`` (None: the general shock)."""
        if asset_class is None:
            return self.price_shock
        return self.asset_class_shocks.get(str(asset_class).lower(), self.price_shock)

    @property
    def daily_shock(self) -> float:
        """The per-day change ``(1 + price_shock)^(1 / shock_days) - 1``."""
        return (1.0 + self.price_shock) ** (1.0 / self.shock_days) - 1.0


STRESS_SCENARIOS: dict[str, StressScenario] = {
    scenario.name: scenario
    for scenario in (
        StressScenario(
            name="gfc_2008",
            description=(
                "2008 financial crisis, the post-Lehman leg: the S&P 500 fell from 1,255 "
                "(2008-09-19) to 677 (2009-03-09), -46 % in about 116 trading days, with "
                "realised volatility near three times normal (VIX closed at 80.9 on "
                "2008-11-20). The whole 2007-10-09 → 2009-03-09 bear market was -57 % over "
                "17 months."
            ),
            price_shock=-0.45,
            shock_days=120,
            vol_multiplier=3.0,
            duration_days=120,
        ),
        StressScenario(
            name="covid_2020",
            description=(
                "COVID-19 crash: the S&P 500 fell from 3,386 (2020-02-19) to 2,237 "
                "(2020-03-23), -34 % in 23 trading days, the fastest bear market on "
                "record (VIX closed at 82.7 on 2020-03-16). Bitcoin roughly halved over "
                "the same weeks, hence the crypto shock."
            ),
            price_shock=-0.34,
            shock_days=23,
            vol_multiplier=4.0,
            duration_days=40,
            asset_class_shocks={"crypto": -0.50},
        ),
        StressScenario(
            name="flash_crash",
            description=(
                "A one-day crash the size of the 2010-05-06 flash crash, when the Dow "
                "Jones fell about 9 % intraday, most of it within minutes. That fall was "
                "mostly recovered the same afternoon; here it is assumed to stick (a "
                "hypothetical between that day and Black Monday, 1987-10-19, -20.5 %)."
            ),
            price_shock=-0.09,
            shock_days=1,
            vol_multiplier=2.0,
            duration_days=5,
        ),
        StressScenario(
            name="correction",
            description=(
                "A generic 10-20 % correction, which the S&P 500 sees every year or two: "
                "milder than Q4 2018 (-19.8 % from 2018-09-20 to 2018-12-24) and close to "
                "2015 (-12.4 % from the 2015-05-21 record to 2015-08-25)."
            ),
            price_shock=-0.12,
            shock_days=30,
            vol_multiplier=1.5,
            duration_days=20,
        ),
        StressScenario(
            name="stagflation",
            description=(
                "A year-long grind under inflation and rising rates, like 2022, when the "
                "S&P 500 fell -25.4 % from 4,797 (2022-01-03) to 3,577 (2022-10-12) in "
                "about 195 trading days while CPI inflation peaked at 9.1 %. 1973-74 was "
                "harsher: -48 % over 21 months."
            ),
            price_shock=-0.25,
            shock_days=250,
            vol_multiplier=1.3,
            duration_days=0,
        ),
    )
}
"""Built-in scenarios by name."""


@dataclass(frozen=True, eq=False)
class StressedPath:
    """A stressed equity curve.

    Attributes
    ----------
    returns : ndarray of shape (n,)
        Stressed simple returns.
    equity : ndarray of shape (n + 1,)
        Equity, starting at the original curve's first value.
    max_drawdown : float
        Lowest ``E_t / max(E_0 … E_t) - 1``, a fraction ≤ 0.
    total_return : float
        ``E_n / E_0 - 1``.
    """

    returns: np.ndarray
    equity: np.ndarray
    max_drawdown: float
    total_return: float


@dataclass(frozen=True, slots=True)
class StressedPosition:
    """One position under a scenario; amounts in the portfolio's currency.

    Attributes
    ----------
    market_value : float
        Before the shock (negative for a short).
    asset_class : str or None
        The class whose shock applied (None: the scenario's default).
    shock : float
        The fractional move applied.
    pnl : float
        ``market_value × shock``.
    value_after : float
        ``market_value + pnl``.
    """

    market_value: float
    asset_class: str | None
    shock: float
    pnl: float
    value_after: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON keys: ``market_value``, ``asset_class``, ``shock``, ``pnl``, ``value_after``."""
        return {
            "market_value": self.market_value,
            "asset_class": self.asset_class,
            "shock": self.shock,
            "pnl": self.pnl,
            "value_after": self.value_after,
        }


@dataclass(frozen=True, slots=True)
class StressResult:
    """A scenario's instant P&L on a portfolio (:func:`stress_portfolio`).

    Attributes
    ----------
    scenario : str
        The scenario's name.
    positions : dict of str to StressedPosition
        By symbol.
    total_pnl, equity_before, equity_after : float
        In the portfolio's currency; cash does not move.
    total_return : float or None
        ``total_pnl / equity_before`` (None when the equity before is not positive).
    """

    scenario: str
    positions: dict[str, StressedPosition]
    total_pnl: float
    equity_before: float
    equity_after: float
    total_return: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON, the keys of before the typed result.

        ``scenario``, ``positions`` (symbol → position keys), ``total_pnl``,
        ``equity_before``, ``equity_after`` and ``return``.
        """
        return {
            "scenario": self.scenario,
            "positions": {s: p.to_dict() for s, p in self.positions.items()},
            "total_pnl": self.total_pnl,
            "equity_before": self.equity_before,
            "equity_after": self.equity_after,
            "return": self.total_return,
        }


def stress_portfolio(
    positions: Mapping[str, tuple[float, str | None]], cash: float, scenario: StressScenario
) -> StressResult:
    """The instant P&L of a scenario on a portfolio.

    Each position's market value moves by :meth:`StressScenario.shock_for` its asset
    class: ``pnl = market_value × shock`` (a short, with a negative market value, gains
    in a fall). Cash does not move.

    Parameters
    ----------
    positions : mapping of str to (float, str or None)
        Symbol → (market value in money, asset class or None).
    cash : float
        Cash in money.
    scenario : StressScenario
        The shock.

    Returns
    -------
    StressResult
        Per position and in total; :meth:`StressResult.to_dict` gives the JSON keys
        ``scenario``, ``positions``, ``total_pnl``, ``equity_before``, ``equity_after`` and
        ``return``.
    """
    rows = {}
    for symbol, (market_value, asset_class) in positions.items():
        value = float(market_value)
        if not math.isfinite(value):
            raise InvalidInputError(f"{symbol}: market value must be finite, got {market_value!r}")
        shock = scenario.shock_for(asset_class)
        pnl = value * shock
        kind = None if asset_class is None else str(asset_class)
        rows[symbol] = StressedPosition(value, kind, shock, pnl, value + pnl)
    total = math.fsum(row.pnl for row in rows.values())
    before = float(cash) + math.fsum(row.market_value for row in rows.values())
    return StressResult(
        scenario=scenario.name,
        positions=rows,
        total_pnl=total,
        equity_before=before,
        equity_after=before + total,
        total_return=total / before if before > 0 else None,
    )


def stress_returns(returns: np.ndarray, scenario: StressScenario, seed: int = 0) -> np.ndarray:
    """A historical return path with the scenario played at its start.

    With ``m`` the mean of the history, ``k = vol_multiplier``, ``n = shock_days`` and
    ``d = (1 + price_shock)^(1/n) - 1``, the stressed return of day ``t`` is

    * ``t < n`` (the shock): ``(1 + m + k (r_t - m)) (1 + d) - 1``;
    * ``n ≤ t < n + duration_days`` (the aftermath): ``m + k (r_t - m)``;
    * later days: ``r_t`` unchanged,

    floored at -1. Volatility is scaled around the mean (the drift is kept), and the
    shock is compounded onto each day, so the shock window grows by exactly
    ``(1 + price_shock)`` times what the history did over it (exactly
    ``1 + price_shock`` when its returns are zero).

    Parameters
    ----------
    returns : ndarray of shape (n_obs,)
        Historical simple returns (finite, ≥ -1, at least 1).
    scenario : StressScenario
        The shock.
    seed : int, default 0
        Only used when the history is shorter than ``shock_days + duration_days``:
        it is then extended to that length by iid draws from itself.

    Returns
    -------
    ndarray of shape (max(n_obs, shock_days + duration_days),)
        Stressed simple returns.
    """
    history = np.asarray(returns, dtype=float)
    if history.ndim != 1 or len(history) < 1:
        raise InvalidInputError("returns must be a non-empty 1-D array")
    if not np.isfinite(history).all() or (history < -1).any():
        raise InvalidInputError("returns must be finite simple returns ≥ -1")
    window = scenario.shock_days + scenario.duration_days
    if len(history) < window:
        extra = np.random.default_rng(seed).choice(history, window - len(history))
        history = np.concatenate([history, extra])
    mean = history.mean()
    stressed = history.copy()
    if scenario.vol_multiplier != 1:
        stressed[:window] = mean + scenario.vol_multiplier * (history[:window] - mean)
    shock = slice(0, scenario.shock_days)
    stressed[shock] = (1.0 + stressed[shock]) * (1.0 + scenario.daily_shock) - 1.0
    return np.maximum(stressed, -1.0, out=stressed)


def stress_equity(equity: np.ndarray, scenario: StressScenario, seed: int = 0) -> StressedPath:
    """Stress an equity curve: :func:`stress_returns` of its returns, compounded.

    Parameters
    ----------
    equity : ndarray of shape (n + 1,)
        Equity values, positive and finite, at least 2.
    scenario : StressScenario
        The shock.
    seed : int, default 0
        See :func:`stress_returns`.

    Returns
    -------
    StressedPath
        The stressed curve from ``equity[0]``, its max drawdown and total return.
    """
    curve = np.asarray(equity, dtype=float)
    if curve.ndim != 1 or len(curve) < 2 or not (np.isfinite(curve).all() and (curve > 0).all()):
        raise InvalidInputError("equity must be a 1-D array of at least 2 positive finite values")
    returns = stress_returns(curve[1:] / curve[:-1] - 1.0, scenario, seed)
    stressed = curve[0] * np.concatenate([[1.0], np.cumprod(1.0 + returns)])
    peaks = np.maximum.accumulate(stressed)
    return StressedPath(
        returns=returns,
        equity=stressed,
        max_drawdown=float((stressed / peaks - 1.0).min()),
        total_return=float(stressed[-1] / stressed[0] - 1.0),
    )
