"""Monte Carlo what-if: many possible futures of a return series, and their risk.

Paths are simulated from a vector of historical simple returns ``r`` (or, for
:func:`monte_carlo_trades`, from a run's trade P&Ls) by one of four methods:

``"bootstrap"``
    Every step draws one of the ``n_obs`` returns uniformly with replacement (iid).
``"block_bootstrap"``
    The *circular (moving) block bootstrap* of Politis & Romano (1992): each path is
    made of blocks of ``block_size`` consecutive returns ``r_s, r_{s+1}, …`` whose
    start ``s`` is uniform over all ``n_obs`` positions; the series wraps round at its
    end, so every return is equally likely at every step. Blocks have a fixed length
    (not the geometric lengths of the *stationary* bootstrap); the last block of a
    path is cut at the horizon. Serial dependence within a block is kept.
``"normal"``
    iid normal returns with the sample mean and standard deviation (``ddof=1``).
``"student_t"``
    iid Student-t returns: the degrees of freedom ``ν`` are fitted by maximum
    likelihood (:func:`fit_student_t_dof`), the location is the sample mean and the
    draws are scaled so that their variance is the sample variance,
    ``r = mean + std · T_ν · sqrt((ν - 2) / ν)``.

Parametric returns below -100 % are floored at -1 (equity cannot turn negative); with
daily volatilities this never binds in practice.

Paths are computed time-major, ``(horizon + 1, n_paths)``, so that every step is one
contiguous vector operation; :attr:`MonteCarloResult.equity_paths` is the transposed
(Fortran-ordered, read-only) view of shape ``(n_paths, horizon + 1)``. The same config
(seed included) gives the same paths, and :func:`simulate_returns` gives exactly the
returns that :func:`run_monte_carlo` compounds.

Speed: steps are built in chunks of 32 (bootstrap indices cut from the generator's raw
64-bit output, see :func:`_uniform_indices`); the fan quantiles are found by a few
single-``kth`` partitions per step (``core.whatif._quantiles``), equal to ``np.quantile``,
and run on a helper thread while the next chunk is built. 10,000 bootstrap paths of
252 days with every statistic take about 20-25 ms on the 2-core reference machine
(``benchmarks/bench_montecarlo.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import stats

from core.errors import InvalidInputError
from core.whatif._quantiles import quantile_plan, row_quantiles, tail

Method = Literal["bootstrap", "block_bootstrap", "normal", "student_t"]

FAN_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantile levels of the fan chart, lowest first."""

_RESAMPLING = ("bootstrap", "block_bootstrap")
_MAX_CELLS = 50_000_000  # n_paths × horizon: 400 MB of float64 paths
_CHUNK_STEPS = 32  # steps per chunk: 32 × 10,000 paths × 8 bytes ≈ 2.5 MB, cache-sized
_PARALLEL_CELLS = 200_000  # from this many n_paths × horizon, the fan runs on a thread
_FAST_INDEX_LIMIT = 4_096  # series up to this length draw 16-bit indices (see below)
_MIN_DOF = 2.5  # a Student-t needs ν > 2 for a finite variance to match
_MAX_DOF = 1_000.0  # beyond this a t is a normal for every practical purpose


class MonteCarloConfig(BaseModel):
    """What to simulate and how; immutable, its content identifies a run.

    Parameters
    ----------
    method : {"bootstrap", "block_bootstrap", "normal", "student_t"}
        How returns are drawn (see the module docstring).
    n_paths : int, default 10,000
        Number of simulated paths.
    horizon : int, default 252
        Number of periods per path (for :func:`monte_carlo_trades`: ignored, the
        number of trades is given there).
    block_size : int, default 20
        Consecutive returns per block (``"block_bootstrap"`` only).
    seed : int, default 0
        Seed of the random generator: equal configs give equal paths.
    initial_equity : float, default 1.0
        Equity at step 0 (money units for :func:`monte_carlo_trades`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    method: Method = "bootstrap"
    n_paths: int = Field(default=10_000, ge=1)
    horizon: int = Field(default=252, ge=1)
    block_size: int = Field(default=20, ge=1)
    seed: int = Field(default=0, ge=0)
    initial_equity: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _check_size(self) -> MonteCarloConfig:
        if self.n_paths * self.horizon > _MAX_CELLS:
            raise ValueError(
                f"n_paths × horizon = {self.n_paths * self.horizon:,} exceeds {_MAX_CELLS:,}"
            )
        return self


@dataclass(frozen=True, eq=False)
class MonteCarloResult:
    """Simulated equity paths and their statistics.

    Attributes
    ----------
    method : str
        The config's method.
    initial_equity : float
        Equity at step 0 of every path.
    equity_paths : ndarray of shape (n_paths, horizon + 1)
        Equity per path and step (read-only, Fortran-ordered).
    fan : ndarray of shape (horizon + 1, 5)
        Per step, the :data:`FAN_LEVELS` quantiles (5, 25, 50, 75, 95 %) of the equity
        over the paths (numpy's linear interpolation).
    final_equity : ndarray of shape (n_paths,)
        Equity at the horizon.
    horizon_returns : ndarray of shape (n_paths,)
        ``final_equity / initial_equity - 1``.
    max_drawdowns : ndarray of shape (n_paths,)
        Per path, the lowest ``E_t / max(E_0 … E_t) - 1``: a fraction ≤ 0 whose running
        peak starts at the initial equity (a path that only falls from the start has
        ``min(E) / E_0 - 1``).
    probability_of_profit : float
        Share of paths ending strictly above the initial equity.
    var_95, cvar_95, var_99, cvar_99 : float
        Historical value at risk and conditional VaR of the horizon return over the
        paths, as returns (negative = loss): VaR is the ``1 - level`` quantile (linear
        interpolation), CVaR the mean of the horizon returns ≤ VaR.
    mean_return, median_return : float
        Mean and median horizon return.
    """

    method: str
    initial_equity: float
    equity_paths: np.ndarray
    fan: np.ndarray
    final_equity: np.ndarray
    horizon_returns: np.ndarray
    max_drawdowns: np.ndarray
    probability_of_profit: float
    var_95: float
    cvar_95: float
    var_99: float
    cvar_99: float
    mean_return: float
    median_return: float
    fan_levels: tuple[float, ...] = field(default=FAN_LEVELS)

    @property
    def n_paths(self) -> int:
        return self.equity_paths.shape[0]

    @property
    def horizon(self) -> int:
        return self.equity_paths.shape[1] - 1

    def summary(self, fan_steps: Sequence[int] | None = None) -> dict:
        """The scalar statistics and the fan at a few steps, as plain JSON types.

        Parameters
        ----------
        fan_steps : sequence of int, optional
            Steps at which to report the fan; default the start, the quarters and the
            horizon.

        Returns
        -------
        dict
            Scalars (floats and ints) plus ``"fan"``: a list of
            ``{"step": t, "p05": …, "p25": …, "p50": …, "p75": …, "p95": …}``.
        """
        if fan_steps is None:
            fan_steps = sorted({round(self.horizon * k / 4) for k in range(5)})
        drawdowns = self.max_drawdowns
        keys = [f"p{round(level * 100):02d}" for level in self.fan_levels]
        return {
            "method": self.method,
            "n_paths": self.n_paths,
            "horizon": self.horizon,
            "initial_equity": self.initial_equity,
            "mean_return": self.mean_return,
            "median_return": self.median_return,
            "probability_of_profit": self.probability_of_profit,
            "var_95": self.var_95,
            "cvar_95": self.cvar_95,
            "var_99": self.var_99,
            "cvar_99": self.cvar_99,
            "final_equity_mean": float(self.final_equity.mean()),
            "final_equity_median": float(np.median(self.final_equity)),
            "max_drawdown_mean": float(drawdowns.mean()),
            "max_drawdown_median": float(np.median(drawdowns)),
            "max_drawdown_p05": float(np.quantile(drawdowns, 0.05)),
            "fan": [
                {"step": int(step), **dict(zip(keys, map(float, self.fan[step]), strict=True))}
                for step in fan_steps
            ],
        }


# --------------------------------------------------------------------------- public API


def simulate_returns(returns: np.ndarray, config: MonteCarloConfig) -> np.ndarray:
    """Simulated simple returns, one row per path.

    Parameters
    ----------
    returns : ndarray of shape (n_obs,)
        Historical simple period returns (finite, ≥ -1, at least 2).
    config : MonteCarloConfig
        Method, size and seed.

    Returns
    -------
    ndarray of shape (n_paths, horizon)
        Simple returns (a Fortran-ordered array); row ``i`` compounds to path ``i`` of
        :func:`run_monte_carlo` with the same config.
    """
    chunks = _growth_chunks(_returns(returns), config)
    return (np.concatenate(list(chunks)) - 1.0).T


def run_monte_carlo(returns: np.ndarray, config: MonteCarloConfig) -> MonteCarloResult:
    """Compound simulated returns into equity paths and summarise their risk.

    Parameters
    ----------
    returns : ndarray of shape (n_obs,)
        Historical simple period returns (finite, ≥ -1, at least 2).
    config : MonteCarloConfig
        Method, size, seed and initial equity.

    Returns
    -------
    MonteCarloResult
        Paths start at ``config.initial_equity``:
        ``E_t = E_0 · (1 + r_1) ⋯ (1 + r_t)``.
    """
    chunks = _growth_chunks(_returns(returns), config)
    return _simulate(chunks, config, config.horizon, np.multiply)


def monte_carlo_trades(
    trade_pnls: np.ndarray, n_trades: int | None, config: MonteCarloConfig
) -> MonteCarloResult:
    """Resample a run's trade P&Ls into equity paths (money units).

    Parameters
    ----------
    trade_pnls : ndarray of shape (n_obs,)
        Net P&L of each closed trade, in money (finite, at least 1).
    n_trades : int or None
        Trades per path; None means as many as the run had.
    config : MonteCarloConfig
        ``method`` must be ``"bootstrap"`` (iid) or ``"block_bootstrap"`` (keeps
        streaks); ``initial_equity`` is the starting capital in money; ``horizon``
        is ignored.

    Returns
    -------
    MonteCarloResult
        ``E_t = initial_equity + pnl_1 + … + pnl_t``; equity may go negative (there
        is no stop at ruin), so returns and drawdowns can fall below -100 %.
    """
    pnls = np.asarray(trade_pnls, dtype=float)
    if pnls.ndim != 1 or len(pnls) < 1 or not np.isfinite(pnls).all():
        raise InvalidInputError("trade_pnls must be a non-empty 1-D array of finite numbers")
    if config.method not in _RESAMPLING:
        raise InvalidInputError(f"trades are resampled, not fitted: method {config.method!r}")
    horizon = len(pnls) if n_trades is None else int(n_trades)
    if horizon < 1 or horizon * config.n_paths > _MAX_CELLS:
        raise InvalidInputError(f"n_trades must be ≥ 1 and n_paths × n_trades ≤ {_MAX_CELLS:,}")
    rng = np.random.default_rng(config.seed)
    chunks = _resampled_chunks(pnls, horizon, config, rng)
    return _simulate(chunks, config, horizon, np.add)


def fit_student_t_dof(returns: np.ndarray) -> float:
    """Degrees of freedom of a Student-t fitted to returns by maximum likelihood.

    ``scipy.stats.t.fit`` (location and scale free) on the standardised returns —
    the MLE of ``ν`` does not depend on location and scale — clipped to
    [2.5, 1000]: at least 2.5 so that the variance exists and can be matched.

    Parameters
    ----------
    returns : ndarray of shape (n_obs,)
        Simple returns, not all equal.

    Returns
    -------
    float
        ``ν``.
    """
    values = _returns(returns)
    std = values.std(ddof=1)
    if std == 0:
        raise InvalidInputError("cannot fit a Student-t to constant returns")
    dof, _, _ = stats.t.fit((values - values.mean()) / std)
    return float(np.clip(dof, _MIN_DOF, _MAX_DOF))


# --------------------------------------------------------------------------- draws


def _returns(returns: np.ndarray) -> np.ndarray:
    values = np.asarray(returns, dtype=float)
    if values.ndim != 1 or len(values) < 2:
        raise InvalidInputError(
            f"returns must be 1-D with at least 2 values, got shape {values.shape}"
        )
    if not np.isfinite(values).all() or (values < -1).any():
        raise InvalidInputError("returns must be finite simple returns ≥ -1")
    return values


def _spans(horizon: int) -> Iterator[tuple[int, int]]:
    """The fixed chunking of the steps: it fixes the order of the random draws."""
    for start in range(0, horizon, _CHUNK_STEPS):
        yield start, min(horizon, start + _CHUNK_STEPS)


def _growth_chunks(returns: np.ndarray, config: MonteCarloConfig) -> Iterator[np.ndarray]:
    """Growth factors ``1 + r``, time-major chunks of shape (≤ 32, n_paths)."""
    rng = np.random.default_rng(config.seed)
    if config.method in _RESAMPLING:
        yield from _resampled_chunks(1.0 + returns, config.horizon, config, rng)
        return
    mean, std = float(returns.mean()), float(returns.std(ddof=1))
    dof = fit_student_t_dof(returns) if config.method == "student_t" and std > 0 else math.inf
    for start, stop in _spans(config.horizon):
        shape = (stop - start, config.n_paths)
        if dof == math.inf:
            growth = rng.standard_normal(shape)
        else:
            growth = rng.standard_t(dof, shape)
            growth *= math.sqrt((dof - 2.0) / dof)
        growth *= std
        growth += 1.0 + mean
        yield np.maximum(growth, 0.0, out=growth)


def _resampled_chunks(
    table: np.ndarray, horizon: int, config: MonteCarloConfig, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """``table`` resampled by the config's bootstrap, time-major chunks."""
    n_obs, n_paths = len(table), config.n_paths
    if config.method == "bootstrap":
        for start, stop in _spans(horizon):
            yield table.take(_uniform_indices(rng, n_obs, (stop - start, n_paths)))
        return
    size = config.block_size
    starts = rng.integers(0, n_obs, (-(-horizon // size), n_paths))
    for start, stop in _spans(horizon):
        step = np.arange(start, stop)
        index = starts[step // size] + (step % size)[:, None]
        yield table.take(index % n_obs)


def _uniform_indices(rng: np.random.Generator, n: int, shape: tuple[int, int]) -> np.ndarray:
    """Independent uniform integers in ``[0, n)``, exactly; an intp array of ``shape``.

    Up to n = 4,096 four values are cut from each 64-bit output of the bit generator
    (about 1.6 times as fast as ``Generator.integers``): a 16-bit ``u`` below the largest multiple
    of ``n`` that fits gives ``u mod n``, exactly uniform; the rare others (under
    n / 65,536 of them) are drawn again with ``Generator.integers``.
    """
    if n > _FAST_INDEX_LIMIT:
        return rng.integers(0, n, shape)
    size = shape[0] * shape[1]
    bits = rng.bit_generator.random_raw(-(-size // 4)).view(np.uint16)[:size].reshape(shape)
    divisor = np.uint16(n)
    index = (bits - (bits // divisor) * divisor).astype(np.intp)
    accepted = 65536 - 65536 % n
    if accepted < 65536:
        rejected = np.flatnonzero(bits >= accepted)
        index.flat[rejected] = rng.integers(0, n, len(rejected))
    return index


# --------------------------------------------------------------------------- paths


def _simulate(
    chunks: Iterator[np.ndarray], config: MonteCarloConfig, horizon: int, combine: Callable
) -> MonteCarloResult:
    """Build the paths chunk by chunk (cache-sized) and their statistics."""
    n_paths, initial = config.n_paths, config.initial_equity
    equity = np.empty((horizon + 1, n_paths))
    equity[0] = initial
    peak = equity[0].copy()
    trough = np.ones(n_paths)  # per path, the lowest E_t / running peak so far
    scratch = np.empty((min(_CHUNK_STEPS, horizon), n_paths))
    fan = _Fan(equity, parallel=n_paths * horizon >= _PARALLEL_CELLS)
    for (start, stop), steps in zip(_spans(horizon), chunks, strict=True):
        for t, step in enumerate(steps, start=start):
            combine(equity[t], step, out=equity[t + 1])
        fan.add(start + 1, stop + 1)
        _update_troughs(equity[start + 1 : stop + 1], peak, trough, scratch[: stop - start])
    quantiles = fan.collect()
    equity.flags.writeable = False
    return _result(config.method, initial, equity, quantiles, trough - 1.0)


class _Fan:
    """The fan quantiles of the equity, chunk of steps by chunk of steps.

    With ``parallel``, chunks go to a helper thread while the caller builds the next
    ones (numpy's partition releases the GIL); when the helper falls behind, and for
    whatever it has not started at the end, the caller computes chunks itself. Either
    way the numbers are the same.
    """

    def __init__(self, equity: np.ndarray, parallel: bool) -> None:
        self.equity = equity
        self.plan = quantile_plan(equity.shape[1], FAN_LEVELS)
        self.fan = np.empty((len(equity), len(FAN_LEVELS)))
        self.fan[0] = equity[0, 0]
        self.parallel = parallel
        rows = (min(_CHUNK_STEPS, len(equity) - 1), equity.shape[1])
        self.own_scratch = np.empty(rows)
        self.helper_scratch = np.empty(rows) if parallel else None
        self.pending: list[tuple[int, int, Future]] = []

    def add(self, start: int, stop: int) -> None:
        """Take (or schedule) the quantiles of ``equity[start:stop]``."""
        backlog = sum(not task.done() for _, _, task in self.pending)
        if self.parallel and backlog < 2:
            scratch = self.helper_scratch[: stop - start]
            task = _fan_pool().submit(self._quantiles, start, stop, scratch)
            self.pending.append((start, stop, task))
        else:
            self._quantiles(start, stop, self.own_scratch[: stop - start])

    def collect(self) -> np.ndarray:
        """The fan, shape (horizon + 1, levels), once every chunk is done."""
        for start, stop, task in self.pending:
            if task.cancel():  # not started: faster here than waiting
                self._quantiles(start, stop, self.own_scratch[: stop - start])
            else:
                task.result()
        return self.fan

    def _quantiles(self, start: int, stop: int, scratch: np.ndarray) -> None:
        self.fan[start:stop] = row_quantiles(self.equity[start:stop], self.plan, scratch)


@lru_cache(maxsize=1)
def _fan_pool() -> ThreadPoolExecutor:
    # One worker: its tasks run in order, so they can share a scratch buffer.
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="whatif-fan")


def _update_troughs(
    block: np.ndarray, peak: np.ndarray, trough: np.ndarray, scratch: np.ndarray
) -> None:
    """Carry the running peak and the lowest equity/peak ratio over ``block``'s steps."""
    running = peak
    for row, peaks in zip(block, scratch, strict=True):
        np.maximum(running, row, out=peaks)
        running = peaks
    peak[:] = running
    np.divide(block, scratch, out=scratch)
    np.minimum(trough, scratch.min(axis=0), out=trough)


def _result(
    method: str, initial: float, equity: np.ndarray, fan: np.ndarray, drawdowns: np.ndarray
) -> MonteCarloResult:
    final = equity[-1].copy()
    horizon_returns = final / initial - 1.0
    ordered = np.sort(horizon_returns)
    var_95, cvar_95 = tail(ordered, 0.95)
    var_99, cvar_99 = tail(ordered, 0.99)
    for array in (fan, final, horizon_returns, drawdowns):
        array.flags.writeable = False
    return MonteCarloResult(
        method=method,
        initial_equity=float(initial),
        equity_paths=equity.T,
        fan=fan,
        final_equity=final,
        horizon_returns=horizon_returns,
        max_drawdowns=drawdowns,
        probability_of_profit=float(np.count_nonzero(final > initial) / len(final)),
        var_95=var_95,
        cvar_95=cvar_95,
        var_99=var_99,
        cvar_99=cvar_99,
        mean_return=float(horizon_returns.mean()),
        median_return=float(np.median(ordered)),
    )
