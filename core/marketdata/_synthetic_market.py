"""The synthetic market: regime-switching jump-diffusion bars and ticks.

It serves assets without history (a new symbol, a demo, a stress scenario) and
intraday feeds (paper trading, a live-looking tape). The model, its units and
its presets live in :mod:`core.marketdata._synthetic_model`.

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

import numpy as np
import pandas as pd

from core.errors import InvalidInputError
from core.marketdata._frames import BAR_COLUMNS
from core.marketdata._synthetic_model import (
    RegimeSwitchingModel,
    _log_increments,
    _RegimeArrays,
)

NS_PER_SECOND = 1_000_000_000
NS_PER_HOUR = 3_600 * NS_PER_SECOND
NS_PER_DAY = 24 * NS_PER_HOUR
TICK_COLUMNS = ("timestamp", "price", "size", "bid", "ask", "regime")
VOLUME_NOISE = 0.3  # log-sd of the multiplicative noise on bar volumes
SIZE_NOISE = 0.8  # log-sd of tick sizes
STREAM_NAMES = ("chain", "arrival", "diffusion", "jump_count", "jump_size", "volume")


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
        raise InvalidInputError(f"interval must be positive, got {interval!r}")
    if step >= NS_PER_DAY:
        return _daily_grid(calendar, start, periods, step)
    return _intraday_grid(calendar, start, periods, step)


def _daily_grid(calendar: _Calendar, start: pd.Timestamp, periods: int, step: int) -> _BarGrid:
    """Every ``step // 1 day``-th trading day, stamped at midnight; bars last whole sessions."""
    if step % NS_PER_DAY:
        raise InvalidInputError("intervals of a day or more must be whole days")
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
        raise InvalidInputError("start must be tz-naive (bars frames are tz-naive)")
    return stamp


# --------------------------------------------------------------------------- randomness


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
        raise InvalidInputError(f"price_tick must be a positive number, got {price_tick!r}")
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
            raise InvalidInputError("periods must be ≥ 0 and substeps ≥ 1")
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
            raise InvalidInputError("chunk must be ≥ 1")
        source = _TickSource(self, _as_start(start), rate, price_tick)
        while True:
            yield source.take(chunk)


class _TickSource:
    """State of a tick feed: clock (ns of trading time), log price, regime chain, streams."""

    def __init__(
        self, market: SyntheticMarket, start: pd.Timestamp, rate: float, tick: float | None
    ):
        if not (math.isfinite(rate) and rate > 0):
            raise InvalidInputError(
                f"rate must be a positive number of ticks per second, got {rate!r}"
            )
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
            raise InvalidInputError("n must be ≥ 0")
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
