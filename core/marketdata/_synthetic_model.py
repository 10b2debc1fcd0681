"""The synthetic market's model: regimes, the regime-switching model and presets.

The log price follows a geometric Brownian motion with Merton log-normal jumps
whose parameters depend on a hidden regime; the regime is a Markov chain run in
*trading time* (simulated by :mod:`core.marketdata._synthetic_market`).

Units
-----
Trading time is counted in trading days: one day is one full session of the
calendar (6.5 h for ``"equity"``, 24 h for ``"forex"`` and ``"crypto"``), and
``periods_per_year`` trading days make a year. Within regime ``i``, over ``dt``
years,

    log(S_t+dt / S_t) = (drift - volatility² / 2)·dt + volatility·√dt·Z + J,

with ``Z ~ N(0, 1)`` and ``J`` a sum of ``Poisson(jump_intensity·dt)`` jumps, each
``N(jump_mean, jump_std²)`` (jumps are not compensated: they add
``jump_intensity·jump_mean`` to the yearly mean log return). ``drift`` is thus
the continuously compounded growth rate of the expected price,
``E[S_t] = S_0·exp(drift·t)`` without jumps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.errors import InvalidInputError, NotFoundError

CalendarName = Literal["equity", "forex", "crypto"]


# --------------------------------------------------------------------------- models


class Regime(BaseModel):
    """One state of the market.

    Parameters
    ----------
    name : str
        Label, unique within a model (``"bull"``, ``"bear"``, ...).
    drift : float
        Annualised continuously compounded drift ``μ`` (1/year): the mean log
        return per year is ``μ - volatility²/2`` (plus the jumps' mean).
    volatility : float
        Annualised volatility ``σ`` of the log price (1/√year), > 0.
    mean_duration_days : float
        Expected time spent in the regime per visit, in trading days, > 0.
    jump_intensity : float
        Expected number of jumps per year, ≥ 0 (0: no jumps).
    jump_mean, jump_std : float
        Mean and standard deviation of one log jump.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str = Field(min_length=1, max_length=40)
    drift: float
    volatility: float = Field(gt=0)
    mean_duration_days: float = Field(gt=0)
    jump_intensity: float = Field(default=0.0, ge=0)
    jump_mean: float = 0.0
    jump_std: float = Field(default=0.0, ge=0)


class RegimeSwitchingModel(BaseModel):
    """Regimes, the chain linking them, and the market's conventions.

    Parameters
    ----------
    regimes : tuple of Regime
        Two to six regimes with distinct names.
    exit_matrix : tuple of tuple of float, shape (n, n)
        Row ``i``: where the chain goes when it leaves regime ``i``. Zero
        diagonal, non-negative, rows sum to 1. Default: uniform over the others.
    initial_regime : int
        Index of the regime at the start of every simulation.
    start_price : float
        Price at the start (currency units), > 0.
    periods_per_year : float
        Trading days per year (252 for equities and forex, 365 for crypto).
    calendar : {"equity", "forex", "crypto"}
        Trading hours: weekdays 09:30-16:00, weekdays 24 h, every day 24 h.
    base_volume : float
        Expected traded quantity per trading day at the reference volatility
        (the mean of the regimes' volatilities), ≥ 0.
    spread_bps : float
        Quoted bid-ask spread of the ticks in basis points of the price, ≥ 0
        (never less than one price tick on each side).
    price_tick : float
        Default price increment prices are rounded to, > 0.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    regimes: tuple[Regime, ...] = Field(min_length=2, max_length=6)
    exit_matrix: tuple[tuple[float, ...], ...]
    initial_regime: int = Field(default=0, ge=0)
    start_price: float = Field(default=100.0, gt=0)
    periods_per_year: float = Field(default=252.0, gt=0)
    calendar: CalendarName = "equity"
    base_volume: float = Field(default=1_000_000.0, ge=0)
    spread_bps: float = Field(default=2.0, ge=0)
    price_tick: float = Field(default=0.01, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _default_exit_matrix(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("exit_matrix"), np.ndarray):
            data = {**data, "exit_matrix": data["exit_matrix"].tolist()}
        if isinstance(data, dict) and data.get("exit_matrix") is None:
            regimes = data.get("regimes")
            if isinstance(regimes, list | tuple) and len(regimes) >= 2:
                data = {**data, "exit_matrix": uniform_exit_matrix(len(regimes))}
        return data

    @model_validator(mode="after")
    def _check(self) -> RegimeSwitchingModel:
        n = len(self.regimes)
        if len({r.name for r in self.regimes}) != n:
            raise ValueError("regime names must be unique")
        if self.initial_regime >= n:
            raise ValueError(f"initial_regime {self.initial_regime} is not below {n}")
        _check_exit_matrix(np.asarray(self.exit_matrix, dtype=float), n)
        return self

    def transition_matrix(self, dt_days: float) -> np.ndarray:
        """Markov matrix of the regime chain over one step of ``dt_days``.

        ``P = diag(p) + diag(1 - p)·E`` with ``E`` the exit matrix and
        ``p_i = exp(-dt_days / mean_duration_days_i)``. The number of steps spent
        in regime ``i`` per visit is geometric, ``P(more than k steps) =
        exp(-k·dt_days/d_i)``: it is the exponential holding time of mean ``d_i``
        rounded up to whole steps, so the expected duration ``dt_days/(1 - p_i)
        = d_i + dt_days/2 + O(dt_days²/d_i)`` trading days does not depend on the
        bar interval beyond that half step.

        Parameters
        ----------
        dt_days : float
            Step length in trading days, ≥ 0 (1 for daily bars, 5/390 for 5-minute
            equity bars).

        Returns
        -------
        ndarray, shape (n_regimes, n_regimes)
            Row-stochastic matrix; row = current regime, column = next regime.
        """
        if not math.isfinite(dt_days) or dt_days < 0:
            raise InvalidInputError(f"dt_days must be finite and ≥ 0, got {dt_days!r}")
        stay = np.exp(-dt_days / self._durations())
        exits = np.asarray(self.exit_matrix, dtype=float)
        return np.diag(stay) + (1.0 - stay)[:, None] * exits

    def _durations(self) -> np.ndarray:
        return np.array([r.mean_duration_days for r in self.regimes])


def uniform_exit_matrix(n: int) -> tuple[tuple[float, ...], ...]:
    """Exit matrix leaving each of ``n`` regimes for any other with equal odds."""
    return tuple(tuple(0.0 if i == j else 1.0 / (n - 1) for j in range(n)) for i in range(n))


def _check_exit_matrix(exits: np.ndarray, n: int) -> None:
    if exits.shape != (n, n):
        raise InvalidInputError(f"exit_matrix must be {n}x{n}, got shape {exits.shape}")
    if np.any(exits < 0) or np.any(np.diag(exits) != 0):
        raise InvalidInputError("exit_matrix must be non-negative with a zero diagonal")
    if not np.allclose(exits.sum(axis=1), 1.0, rtol=0, atol=1e-9):
        raise InvalidInputError("each row of exit_matrix must sum to 1")


# --------------------------------------------------------------------------- presets


def _equity_preset() -> RegimeSwitchingModel:
    regimes = (
        Regime(name="bull", drift=0.15, volatility=0.12, mean_duration_days=250),
        Regime(name="bear", drift=-0.30, volatility=0.30, mean_duration_days=60),
        Regime(name="sideways", drift=0.0, volatility=0.15, mean_duration_days=120),
    )
    exits = ((0.0, 0.4, 0.6), (0.5, 0.0, 0.5), (0.6, 0.4, 0.0))
    return RegimeSwitchingModel(regimes=regimes, exit_matrix=exits, start_price=100.0)


def _crypto_preset() -> RegimeSwitchingModel:
    regimes = (
        Regime(
            name="bull",
            drift=0.80,
            volatility=0.60,
            mean_duration_days=120,
            jump_intensity=6,
            jump_mean=0.01,
            jump_std=0.05,
        ),
        Regime(
            name="bear",
            drift=-0.90,
            volatility=1.20,
            mean_duration_days=60,
            jump_intensity=12,
            jump_mean=-0.03,
            jump_std=0.08,
        ),
        Regime(
            name="sideways",
            drift=0.0,
            volatility=0.70,
            mean_duration_days=90,
            jump_intensity=4,
            jump_mean=0.0,
            jump_std=0.04,
        ),
    )
    return RegimeSwitchingModel(
        regimes=regimes,
        exit_matrix=None,
        start_price=30_000.0,
        periods_per_year=365,
        calendar="crypto",
        base_volume=20_000.0,
        spread_bps=1.0,
    )


def _forex_preset() -> RegimeSwitchingModel:
    regimes = (
        Regime(name="euro_up", drift=0.03, volatility=0.06, mean_duration_days=90),
        Regime(name="euro_down", drift=-0.03, volatility=0.07, mean_duration_days=90),
        Regime(name="volatile", drift=0.0, volatility=0.10, mean_duration_days=30),
    )
    return RegimeSwitchingModel(
        regimes=regimes,
        exit_matrix=None,
        start_price=1.10,
        calendar="forex",
        base_volume=1e9,
        spread_bps=0.5,
        price_tick=0.00001,
    )


PRESETS: dict[str, RegimeSwitchingModel] = {
    "equity": _equity_preset(),
    "crypto": _crypto_preset(),
    "forex": _forex_preset(),
}


def preset(name: str) -> RegimeSwitchingModel:
    """The preset model called ``name`` (``"equity"``, ``"crypto"`` or ``"forex"``).

    Raises
    ------
    NotFoundError
        For an unknown name (a ``KeyError`` too); the message lists the available presets.
    """
    try:
        return PRESETS[name]
    except KeyError:
        available = ", ".join(sorted(PRESETS))
        raise NotFoundError(f"unknown preset {name!r}; available: {available}") from None


# --------------------------------------------------------------------------- dynamics


@dataclass(frozen=True)
class _RegimeArrays:
    """Per-regime parameters as arrays of shape (n_regimes,), indexable by a regime path."""

    drift: np.ndarray
    volatility: np.ndarray
    duration: np.ndarray
    jump_intensity: np.ndarray
    jump_mean: np.ndarray
    jump_std: np.ndarray
    cum_exits: np.ndarray

    @classmethod
    def of(cls, model: RegimeSwitchingModel) -> _RegimeArrays:
        def field(name: str) -> np.ndarray:
            return np.array([getattr(r, name) for r in model.regimes], dtype=float)

        cum_exits = np.cumsum(np.asarray(model.exit_matrix, dtype=float), axis=1)
        cum_exits[:, -1] = 1.0
        names = (
            "drift",
            "volatility",
            "mean_duration_days",
            "jump_intensity",
            "jump_mean",
            "jump_std",
        )
        return cls(*(field(name) for name in names), cum_exits)


def _log_increments(
    params: _RegimeArrays,
    regime: np.ndarray,
    dt_years: np.ndarray,
    rngs: dict[str, np.random.Generator],
) -> np.ndarray:
    """Log-price increments over steps of ``dt_years`` (arrays broadcast to one shape)."""
    regime, dt_years = np.broadcast_arrays(regime, dt_years)
    sigma = params.volatility[regime]
    mean = (params.drift[regime] - 0.5 * sigma**2) * dt_years
    noise = rngs["diffusion"].standard_normal(dt_years.shape)
    increments = mean + sigma * np.sqrt(dt_years) * noise
    if params.jump_intensity.any():
        increments += _jumps(params, regime, dt_years, rngs)
    return increments


def _jumps(
    params: _RegimeArrays,
    regime: np.ndarray,
    dt_years: np.ndarray,
    rngs: dict[str, np.random.Generator],
) -> np.ndarray:
    """Sum of the log jumps within each step (same shape as ``dt_years``)."""
    counts = rngs["jump_count"].poisson(params.jump_intensity[regime] * dt_years)
    total = np.zeros(dt_years.shape)
    hit = np.nonzero(counts)
    k, r = counts[hit], regime[hit]
    noise = rngs["jump_size"].standard_normal(k.shape[0])
    total[hit] = k * params.jump_mean[r] + np.sqrt(k) * params.jump_std[r] * noise
    return total
