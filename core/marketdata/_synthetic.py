"""A synthetic market: regime-switching jump-diffusion bars and ticks.

It serves assets without history (a new symbol, a demo, a stress scenario) and
intraday feeds (paper trading, a live-looking tape). The log price follows a
geometric Brownian motion with Merton log-normal jumps whose parameters depend
on a hidden regime; the regime is a Markov chain run in *trading time*.

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

Calendars have no holidays; the market is closed on weekends for ``"equity"``
and ``"forex"`` (the forex week is simplified to Monday 00:00 - Friday 24:00)
and never for ``"crypto"``. Nothing happens while the market is closed: the
price does not gap overnight, so a bar opens at the previous close.

Determinism
-----------
Every call is a pure function of the seed and its arguments: ``bars`` and
``ticks`` draw from independent streams spawned from the seed, each quantity
(arrival times, diffusion, jumps, regime chain, volumes) from its own stream, so
a longer request extends a shorter one and a tick stream read in chunks gives
exactly ``ticks``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.marketdata._frames import BAR_COLUMNS

CalendarName = Literal["equity", "forex", "crypto"]

NS_PER_SECOND = 1_000_000_000
NS_PER_HOUR = 3_600 * NS_PER_SECOND
NS_PER_DAY = 24 * NS_PER_HOUR
TICK_COLUMNS = ("timestamp", "price", "size", "bid", "ask", "regime")
VOLUME_NOISE = 0.3  # log-sd of the multiplicative noise on bar volumes
SIZE_NOISE = 0.8  # log-sd of tick sizes
STREAM_NAMES = ("chain", "arrival", "diffusion", "jump_count", "jump_size", "volume")


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
            raise ValueError(f"dt_days must be finite and ≥ 0, got {dt_days!r}")
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
        raise ValueError(f"exit_matrix must be {n}x{n}, got shape {exits.shape}")
    if np.any(exits < 0) or np.any(np.diag(exits) != 0):
        raise ValueError("exit_matrix must be non-negative with a zero diagonal")
    if not np.allclose(exits.sum(axis=1), 1.0, rtol=0, atol=1e-9):
        raise ValueError("each row of exit_matrix must sum to 1")


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
    KeyError
        For an unknown name; the message lists the available presets.
    """
    try:
        return PRESETS[name]
    except KeyError:
        available = ", ".join(sorted(PRESETS))
        raise KeyError(f"unknown preset {name!r}; available: {available}") from None


# --------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class _Calendar:
    """Trading hours: which days trade, and when the session opens and how long it lasts."""

    weekmask: str
    open_ns: int
    length_ns: int

    @classmethod
    def named(cls, name: str) -> _Calendar:
        if name == "equity":  # 09:30 - 16:00
            return cls(
                "1111100", 9 * NS_PER_HOUR + NS_PER_HOUR // 2, 6 * NS_PER_HOUR + NS_PER_HOUR // 2
            )
        return cls("1111100" if name == "forex" else "1111111", 0, NS_PER_DAY)

    def trading_days(self, day0: np.datetime64, index: np.ndarray) -> np.ndarray:
        """The ``index``-th trading days counted from trading day ``day0``, datetime64[D]."""
        return np.busday_offset(day0, index, roll="forward", weekmask=self.weekmask)

    def first_day(self, day: np.datetime64) -> np.datetime64:
        """The first trading day on or after ``day``."""
        return np.busday_offset(day, 0, roll="forward", weekmask=self.weekmask)

    def locate(self, start: pd.Timestamp) -> tuple[np.datetime64, int]:
        """First trading day at or after ``start`` and the session time elapsed there (ns)."""
        day = np.datetime64(start.normalize().date(), "D")
        elapsed = (start - start.normalize()).value - self.open_ns
        if np.is_busday(day, weekmask=self.weekmask) and elapsed < self.length_ns:
            return day, max(0, elapsed)
        return self.first_day(day + np.timedelta64(1, "D")), 0

    def wall_time(self, day0: np.datetime64, session_ns: np.ndarray) -> np.ndarray:
        """Wall-clock datetime64[ns] of trading times ``session_ns`` (ns since ``day0``'s open)."""
        days = self.trading_days(day0, session_ns // self.length_ns)
        offset = self.open_ns + session_ns % self.length_ns
        return days.astype("datetime64[ns]") + offset.astype("timedelta64[ns]")


@dataclass(frozen=True)
class _BarGrid:
    """Bars' start times (datetime64[ns], shape (n,)), trading time there and length (days)."""

    timestamps: np.ndarray
    tau_days: np.ndarray
    dt_days: np.ndarray


def _bar_grid(calendar: _Calendar, start: pd.Timestamp, periods: int, interval: str) -> _BarGrid:
    step = pd.Timedelta(interval).value
    if step <= 0:
        raise ValueError(f"interval must be positive, got {interval!r}")
    if step >= NS_PER_DAY:
        return _daily_grid(calendar, start, periods, step)
    return _intraday_grid(calendar, start, periods, step)


def _daily_grid(calendar: _Calendar, start: pd.Timestamp, periods: int, step: int) -> _BarGrid:
    """Every ``step // 1 day``-th trading day, stamped at midnight; bars last whole sessions."""
    if step % NS_PER_DAY:
        raise ValueError("intervals of a day or more must be whole days")
    days = step // NS_PER_DAY
    index = np.arange(periods, dtype=np.int64) * days
    day0 = calendar.first_day(np.datetime64(start.normalize().date(), "D"))
    stamps = calendar.trading_days(day0, index).astype("datetime64[ns]")
    return _BarGrid(stamps, index.astype(float), np.full(periods, float(days)))


def _intraday_grid(calendar: _Calendar, start: pd.Timestamp, periods: int, step: int) -> _BarGrid:
    """Bars at ``open + k·step`` in each session from ``start`` on (the last may be short)."""
    per_day = -(-calendar.length_ns // step)
    day0, elapsed = calendar.locate(start)
    first = -(-elapsed // step)
    if first >= per_day:
        day0, first = calendar.first_day(day0 + np.timedelta64(1, "D")), 0
    slot = first + np.arange(periods, dtype=np.int64)
    session_ns = (slot // per_day) * calendar.length_ns + (slot % per_day) * step
    length = np.minimum(step, calendar.length_ns - (slot % per_day) * step)
    tau = (session_ns - session_ns[:1]) / calendar.length_ns
    return _BarGrid(calendar.wall_time(day0, session_ns), tau, length / calendar.length_ns)


def _as_start(start: object) -> pd.Timestamp:
    stamp = pd.Timestamp(start)
    if stamp.tz is not None:
        raise ValueError("start must be tz-naive (bars frames are tz-naive)")
    return stamp


# --------------------------------------------------------------------------- randomness


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


def _streams(seed: int, purpose: int) -> dict[str, np.random.Generator]:
    """Independent generators, one per quantity, for ``purpose`` (0: bars, 1: ticks)."""
    children = np.random.SeedSequence(seed, spawn_key=(purpose,)).spawn(len(STREAM_NAMES))
    generators = (np.random.default_rng(child) for child in children)
    return dict(zip(STREAM_NAMES, generators, strict=True))


class _RegimeChain:
    """The regime chain in trading time, advanced over increasing step times chunk by chunk.

    On entering a regime at step time ``t`` an exponential holding time ``T`` of
    the regime's mean duration is drawn; the chain stays while the step time is
    below ``t + T`` and leaves (through the exit matrix) at the first step at or
    beyond it. By memorylessness each step of length ``dt`` is a step of
    ``RegimeSwitchingModel.transition_matrix(dt)``, for any (even random) step
    lengths, and the Python loop runs once per regime change, not per step.
    """

    def __init__(self, params: _RegimeArrays, initial: int, rng: np.random.Generator):
        self._params, self._rng = params, rng
        self.regime = initial
        self._leave_at = rng.exponential(params.duration[initial])

    def path(self, tau_days: np.ndarray) -> np.ndarray:
        """Regime index (int64, shape (n,)) at each increasing step time ``tau_days``."""
        out = np.empty(tau_days.shape[0], dtype=np.int64)
        pos = 0
        while pos < out.shape[0]:
            end = pos + int(np.searchsorted(tau_days[pos:], self._leave_at, side="left"))
            out[pos:end] = self.regime
            if end < out.shape[0]:
                self._switch(tau_days[end])
                out[end] = self.regime
            pos = end + 1
        return out

    def _switch(self, now: float) -> None:
        row = self._params.cum_exits[self.regime]
        self.regime = int(np.searchsorted(row, self._rng.random(), side="right"))
        self._leave_at = now + self._rng.exponential(self._params.duration[self.regime])


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


# --------------------------------------------------------------------------- prices


def _tick_decimals(tick: float) -> int:
    exponent = Decimal(repr(tick)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def _to_ticks(log_price: np.ndarray, tick: float) -> np.ndarray:
    """Prices ``exp(log_price)`` as whole numbers of ticks, at least one (float64: no overflow)."""
    return np.maximum(1.0, np.rint(np.exp(log_price) / tick))


def _from_ticks(ticks: np.ndarray, tick: float) -> np.ndarray:
    return np.round(ticks * tick, _tick_decimals(tick))


def _check_tick(price_tick: float) -> float:
    if not (math.isfinite(price_tick) and price_tick > 0):
        raise ValueError(f"price_tick must be a positive number, got {price_tick!r}")
    return float(price_tick)


def _ohlc(open_log: np.ndarray, path_log: np.ndarray, tick: float) -> dict[str, np.ndarray]:
    """OHLC (float64, shape (n,)) of bars from their open and sub-path, shape (n, substeps)."""
    high = np.maximum(open_log, path_log.max(axis=1))
    low = np.minimum(open_log, path_log.min(axis=1))
    columns = {"open": open_log, "high": high, "low": low, "close": path_log[:, -1]}
    return {name: _from_ticks(_to_ticks(v, tick), tick) for name, v in columns.items()}


def _bar_volume(
    increments: np.ndarray,
    dt_days: np.ndarray,
    model: RegimeSwitchingModel,
    reference_vol: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Volume per bar, shape (n,): base volume × bar length × realised/reference vol × noise."""
    dt_years = dt_days / model.periods_per_year
    realised = np.sqrt(np.sum(increments**2, axis=1) / dt_years)
    noise = rng.lognormal(-0.5 * VOLUME_NOISE**2, VOLUME_NOISE, dt_days.shape[0])
    return model.base_volume * dt_days * (realised / reference_vol) * noise


# --------------------------------------------------------------------------- market


class SyntheticMarket:
    """Bars and ticks drawn from a :class:`RegimeSwitchingModel`.

    Parameters
    ----------
    model : RegimeSwitchingModel
        The market's dynamics and conventions.
    seed : int, optional
        Seed of every draw; ``None`` picks fresh entropy, kept in ``seed`` so the
        run can be reproduced.
    """

    def __init__(self, model: RegimeSwitchingModel, seed: int | None = None):
        self.model = model
        self.seed = int(np.random.SeedSequence().entropy if seed is None else seed)
        self._params = _RegimeArrays.of(model)
        self._calendar = _Calendar.named(model.calendar)

    def bars(
        self,
        start: object,
        periods: int,
        interval: str = "1D",
        *,
        price_tick: float | None = None,
        substeps: int = 12,
    ) -> pd.DataFrame:
        """Bars frame of ``periods`` bars; see :meth:`bars_with_regimes` for the arguments."""
        bars, _ = self.bars_with_regimes(
            start, periods, interval, price_tick=price_tick, substeps=substeps
        )
        return bars

    def bars_with_regimes(
        self,
        start: object,
        periods: int,
        interval: str = "1D",
        *,
        price_tick: float | None = None,
        substeps: int = 12,
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Bars following the calendar, and the regime of each bar.

        Parameters
        ----------
        start : str, datetime or Timestamp
            Tz-naive. Daily bars start on the first trading day on or after its
            date; intraday bars at the first bar of the session grid at or after it.
        periods : int
            Number of bars, ≥ 0.
        interval : str
            Pandas timedelta: ``"1min"``, ``"5min"``, ``"1h"`` (intraday: bars at
            ``open + k·interval`` within each session, the session's last bar
            possibly shorter) or whole days ``"1D"``, ``"5D"`` (every k-th trading
            day, stamped at midnight).
        price_tick : float, optional
            Prices are rounded to multiples of it, never below one tick; default
            the model's ``price_tick``.
        substeps : int
            Simulated sub-steps per bar, from which high and low are taken, ≥ 1.

        Returns
        -------
        bars : DataFrame, shape (periods, 5)
            Bars frame indexed by bar start ``timestamp`` (datetime64[ns]); float64
            ``open, high, low, close`` (each bar opens at the previous close, the
            first at ``start_price``) and ``volume`` ≥ 0.
        regimes : ndarray of int64, shape (periods,)
            Index into ``model.regimes`` of each bar's regime.
        """
        if periods < 0 or substeps < 1:
            raise ValueError("periods must be ≥ 0 and substeps ≥ 1")
        tick = _check_tick(self.model.price_tick if price_tick is None else price_tick)
        grid = _bar_grid(self._calendar, _as_start(start), int(periods), interval)
        rngs = _streams(self.seed, 0)
        chain = _RegimeChain(self._params, self.model.initial_regime, rngs["chain"])
        regimes = chain.path(grid.tau_days)
        dt_sub = grid.dt_days[:, None] / (self.model.periods_per_year * substeps)
        dt_sub = np.broadcast_to(dt_sub, (grid.dt_days.shape[0], substeps))
        increments = _log_increments(self._params, regimes[:, None], dt_sub, rngs)
        return self._bars_frame(grid, increments, tick, rngs["volume"]), regimes

    def _bars_frame(
        self, grid: _BarGrid, increments: np.ndarray, tick: float, rng: np.random.Generator
    ) -> pd.DataFrame:
        start_log = math.log(self.model.start_price)
        path = start_log + np.cumsum(increments.ravel()).reshape(increments.shape)
        open_log = np.concatenate(([start_log], path[:-1, -1]))
        if len(path):
            columns = _ohlc(open_log, path, tick)
        else:
            columns = {c: np.empty(0) for c in BAR_COLUMNS[:4]}
        reference = float(self._params.volatility.mean())
        columns["volume"] = _bar_volume(increments, grid.dt_days, self.model, reference, rng)
        index = pd.DatetimeIndex(grid.timestamps, name="timestamp")
        data = {c: np.asarray(columns[c], dtype=float) for c in BAR_COLUMNS}
        return pd.DataFrame(data, index=index)

    def ticks(
        self, start: object, n: int, *, rate: float = 1.0, price_tick: float | None = None
    ) -> pd.DataFrame:
        """The first ``n`` ticks from ``start``: trades with the quote around them.

        Parameters
        ----------
        start : str, datetime or Timestamp
            Tz-naive; ticks follow from the first trading moment at or after it.
        n : int
            Number of ticks, ≥ 0.
        rate : float
            Expected ticks per second of trading time (exponential inter-arrival
            times of mean ``1/rate`` s, counted only while the market is open).
        price_tick : float, optional
            Price increment; default the model's ``price_tick``.

        Returns
        -------
        DataFrame, shape (n, 6), RangeIndex
            ``timestamp`` (datetime64[ns], strictly increasing, inside trading
            hours), ``price`` (float64, on the tick, > 0), ``size`` (float64 ≥ 0,
            mean ≈ base_volume / ticks per day, larger in volatile regimes),
            ``bid``, ``ask`` (float64 on the tick, spread ``spread_bps`` of the price
            but at least one tick each side: bid < price < ask unless the price is a
            single tick, where bid = price), ``regime`` (int64).
        """
        return _TickSource(self, _as_start(start), rate, price_tick).take(int(n))

    def stream_ticks(
        self,
        start: object,
        chunk: int = 1000,
        *,
        rate: float = 1.0,
        price_tick: float | None = None,
    ) -> Iterator[pd.DataFrame]:
        """Endless tick feed in frames of ``chunk`` rows, continuing :meth:`ticks`.

        The concatenated chunks equal ``ticks(start, n)`` for the same seed and
        arguments, index included (chunk ``k`` carries rows ``k·chunk ...``).
        """
        if chunk < 1:
            raise ValueError("chunk must be ≥ 1")
        source = _TickSource(self, _as_start(start), rate, price_tick)
        while True:
            yield source.take(chunk)


class _TickSource:
    """State of a tick feed: clock (ns of trading time), log price, regime chain, streams."""

    def __init__(
        self, market: SyntheticMarket, start: pd.Timestamp, rate: float, tick: float | None
    ):
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a positive number of ticks per second, got {rate!r}")
        self._market, self._model = market, market.model
        self._tick = _check_tick(self._model.price_tick if tick is None else tick)
        self._mean_gap_ns = NS_PER_SECOND / rate
        self._rngs = _streams(market.seed, 1)
        self._day0, self._offset_ns = market._calendar.locate(start)
        self._chain = _RegimeChain(market._params, self._model.initial_regime, self._rngs["chain"])
        self._clock_ns, self._log_price, self._count = 0, math.log(self._model.start_price), 0

    def take(self, n: int) -> pd.DataFrame:
        """The next ``n`` ticks as a frame indexed ``count ... count + n - 1``."""
        if n < 0:
            raise ValueError("n must be ≥ 0")
        gaps_ns = self._gaps(n)
        clock_ns = self._clock_ns + np.cumsum(gaps_ns)
        length_ns = self._market._calendar.length_ns
        regimes = self._chain.path(clock_ns / length_ns)
        log_price = self._advance_price(regimes, gaps_ns / length_ns / self._model.periods_per_year)
        self._clock_ns += int(gaps_ns.sum())
        frame = self._frame(clock_ns, log_price, regimes)
        self._count += n
        return frame

    def _gaps(self, n: int) -> np.ndarray:
        """Trading time (int64 ns, ≥ 1) from each of the next ``n`` ticks' predecessor to it."""
        gaps = np.rint(self._rngs["arrival"].exponential(self._mean_gap_ns, n))
        return np.maximum(gaps, 1).astype(np.int64)

    def _advance_price(self, regimes: np.ndarray, gaps_years: np.ndarray) -> np.ndarray:
        increments = _log_increments(self._market._params, regimes, gaps_years, self._rngs)
        log_price = np.cumsum(np.concatenate(([self._log_price], increments)))[1:]
        if log_price.shape[0]:
            self._log_price = float(log_price[-1])
        return log_price

    def _frame(
        self, clock_ns: np.ndarray, log_price: np.ndarray, regimes: np.ndarray
    ) -> pd.DataFrame:
        wall = self._market._calendar.wall_time(self._day0, self._offset_ns + clock_ns)
        price = _to_ticks(log_price, self._tick)
        half = np.maximum(1.0, np.rint(price * self._model.spread_bps / 20_000))
        columns = {
            "timestamp": wall,
            "price": _from_ticks(price, self._tick),
            "size": self._sizes(regimes),
            "bid": _from_ticks(np.maximum(price - half, 1.0), self._tick),
            "ask": _from_ticks(price + half, self._tick),
            "regime": regimes,
        }
        index = pd.RangeIndex(self._count, self._count + clock_ns.shape[0])
        return pd.DataFrame(columns, index=index)

    def _sizes(self, regimes: np.ndarray) -> np.ndarray:
        """Trade sizes (float64 ≥ 0): daily base volume spread over the expected ticks per day."""
        params = self._market._params
        per_day = self._market._calendar.length_ns / self._mean_gap_ns
        vol_ratio = params.volatility[regimes] / params.volatility.mean()
        scale = self._model.base_volume / per_day * vol_ratio
        noise = self._rngs["volume"].lognormal(-0.5 * SIZE_NOISE**2, SIZE_NOISE, regimes.shape[0])
        return scale * noise
