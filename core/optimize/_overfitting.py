"""How much of a backtest's performance is selection luck: deflated Sharpe ratio and PBO.

Deflated Sharpe ratio — Bailey & López de Prado, "The Deflated Sharpe Ratio: Correcting
for Selection Bias, Backtest Overfitting and Non-Normality", *Journal of Portfolio
Management* 40(5), 2014.

All Sharpe ratios here are *per period* (not annualised): ``SR = mean(r) / std(r)`` of
``T`` period returns; divide an annualised ratio by ``sqrt(periods_per_year)`` first.
``skew`` is ``γ₃`` and ``kurtosis`` is the (non-excess) ``γ₄``, 3 for normal returns.

* Probabilistic Sharpe ratio (Bailey & López de Prado 2012), the probability that the true
  Sharpe ratio exceeds ``SR*`` given the estimate ``SR̂``::

      PSR(SR*) = Φ( (SR̂ - SR*) · sqrt(T - 1) / sqrt(1 - γ₃ · SR̂ + (γ₄ - 1) / 4 · SR̂²) )

  With normal returns (``γ₃ = 0``, ``γ₄ = 3``) the denominator is ``sqrt(1 + SR̂² / 2)``,
  the asymptotic standard error of the Sharpe ratio (Lo 2002), which is ≈ 1 for the small
  per-period ratios of daily data, so ``PSR ≈ Φ(sqrt(T - 1) · (SR̂ - SR*))``.
* Expected maximum Sharpe ratio of ``N`` independent trials whose Sharpe ratios have
  variance ``V`` (and mean 0) — the false-strategy theorem::

      SR₀ = sqrt(V) · ((1 - γ) · Φ⁻¹(1 - 1/N) + γ · Φ⁻¹(1 - 1/(N·e)))

  with ``γ ≈ 0.5772`` the Euler–Mascheroni constant (``SR₀ = 0`` for ``N = 1``).
* ``DSR = PSR(SR₀)``: the probability that the selected strategy's true Sharpe ratio is
  positive once the expected maximum of ``N`` lucky trials has been removed.

Probability of backtest overfitting — Bailey, Borwein, López de Prado & Zhu, "The
Probability of Backtest Overfitting", *Journal of Computational Finance* 20(4), 2017
(SSRN 2013/2015). Combinatorially symmetric cross-validation (CSCV):

1. ``M`` of shape ``(T, N)`` holds the returns of ``N`` trials (strategy configurations)
   over ``T`` periods; cut its rows into ``S`` (even) consecutive blocks of equal size.
2. For each of the ``C(S, S/2)`` ways to pick half the blocks: the picked blocks are the
   in-sample set ``J``, the rest the out-of-sample set ``J̄`` (their order kept).
3. ``n*`` is the trial with the best in-sample performance (Sharpe ratio by default);
   ``ω̄`` its relative rank out of sample, ``rank / (N + 1)`` with ranks ``1…N`` from worst
   to best; the logit is ``λ = ln(ω̄ / (1 - ω̄))``.
4. ``PBO`` is the share of combinations with ``λ ≤ 0``: how often the in-sample winner is
   at best median out of sample.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from core.errors import InvalidInputError

EULER_GAMMA = 0.5772156649015329
"""The Euler–Mascheroni constant γ."""


def probabilistic_sharpe_ratio(
    sharpe: float,
    n_obs: int,
    *,
    benchmark: float = 0.0,
    skew: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """``PSR(SR*)``: probability that the true per-period Sharpe ratio exceeds ``benchmark``.

    Parameters
    ----------
    sharpe : float
        Estimated per-period Sharpe ratio ``SR̂``.
    n_obs : int
        Number of returns ``T`` it was estimated from.
    benchmark : float, default 0
        ``SR*``, per period.
    skew, kurtosis : float
        ``γ₃`` and non-excess ``γ₄`` of the returns (normal: 0 and 3).

    Returns
    -------
    float
        In ``[0, 1]``; NaN for ``T < 2`` or moments that give no positive variance.
    """
    variance = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if n_obs < 2 or not variance > 0:
        return math.nan
    z = (sharpe - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(variance)
    return float(stats.norm.cdf(z))


def expected_max_sharpe(n_trials: int, variance: float = 1.0) -> float:
    """``SR₀``: approximate expected maximum of ``n_trials`` Sharpe ratios of true value 0.

    Parameters
    ----------
    n_trials : int
        ``N`` independent trials.
    variance : float, default 1
        Variance ``V`` of the trials' Sharpe ratios; with 1 this is the expected maximum
        of ``N`` standard normal variables.

    Returns
    -------
    float
    """
    if n_trials < 1:
        raise InvalidInputError("n_trials must be at least 1")
    if n_trials == 1:
        return 0.0
    quantiles = stats.norm.ppf([1.0 - 1.0 / n_trials, 1.0 - 1.0 / (n_trials * math.e)])
    expected = (1.0 - EULER_GAMMA) * quantiles[0] + EULER_GAMMA * quantiles[1]
    return float(math.sqrt(variance) * expected)


def deflated_sharpe_ratio(
    sharpe: float,
    n_obs: int,
    n_trials: int,
    trials_variance: float,
    *,
    skew: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """``DSR = PSR(SR₀)`` with ``SR₀ = expected_max_sharpe(n_trials, trials_variance)``.

    All ratios and the variance are per period.
    """
    benchmark = expected_max_sharpe(n_trials, trials_variance)
    return probabilistic_sharpe_ratio(
        sharpe, n_obs, benchmark=benchmark, skew=skew, kurtosis=kurtosis
    )


@dataclass(frozen=True)
class DeflatedSharpe:
    """The deflated Sharpe ratio of a selected strategy and its inputs (per period)."""

    sharpe: float
    benchmark: float
    dsr: float
    n_obs: int
    n_trials: int
    trials_variance: float
    skew: float
    kurtosis: float


def deflated_sharpe(
    returns: np.ndarray,
    trial_sharpes: np.ndarray,
    *,
    n_trials: int | None = None,
    periods_per_year: float = 1.0,
) -> DeflatedSharpe:
    """The DSR of the selected strategy's ``returns`` among the trials of a search.

    Parameters
    ----------
    returns : array_like of shape (T,)
        Period returns of the selected strategy (NaNs dropped).
    trial_sharpes : array_like of shape (K,)
        Sharpe ratios of all trials (NaNs dropped), for their variance; annualised ones
        with their ``periods_per_year``.
    n_trials : int, optional
        Number of *independent* trials ``N`` (default ``K``); correlated trials count as
        fewer (Bailey & López de Prado suggest clustering them).
    periods_per_year : float, default 1
        Annualisation factor of ``trial_sharpes`` (1: they are per period).

    Returns
    -------
    DeflatedSharpe
        Skewness and kurtosis are the (biased) sample moments of ``returns``.
    """
    r = np.asarray(returns, dtype=float)
    r = r[np.isfinite(r)]
    trials = np.asarray(trial_sharpes, dtype=float)
    trials = trials[np.isfinite(trials)] / math.sqrt(periods_per_year)
    if len(r) < 3 or len(trials) < 2:
        raise InvalidInputError("need at least 3 returns and 2 trial Sharpe ratios")
    sharpe = float(r.mean() / r.std(ddof=1))
    skew, kurtosis = float(stats.skew(r)), float(stats.kurtosis(r, fisher=False))
    variance = float(trials.var(ddof=1))
    n = len(trials) if n_trials is None else int(n_trials)
    benchmark = expected_max_sharpe(n, variance)
    dsr = probabilistic_sharpe_ratio(
        sharpe, len(r), benchmark=benchmark, skew=skew, kurtosis=kurtosis
    )
    return DeflatedSharpe(sharpe, benchmark, dsr, len(r), n, variance, skew, kurtosis)


@dataclass(frozen=True)
class PBOResult:
    """Combinatorially symmetric cross-validation of ``N`` trials.

    Attributes
    ----------
    pbo : float
        Share of combinations whose logit is ``≤ 0``.
    logits : ndarray of shape (n_combinations,)
        ``λ`` of each combination.
    in_sample, out_of_sample : ndarray of shape (n_combinations,)
        Performance of the in-sample winner in and out of sample (for a degradation plot).
    winners : ndarray of int, shape (n_combinations,)
        Column index of the in-sample winner of each combination.
    n_splits : int
        ``S``.
    degradation_slope : float
        Slope of the least-squares line of out-of-sample on in-sample performance
        (negative: a better in-sample winner does worse out of sample).
    prob_oos_loss : float
        Share of combinations whose winner has negative out-of-sample performance.
    """

    pbo: float
    logits: np.ndarray
    in_sample: np.ndarray
    out_of_sample: np.ndarray
    winners: np.ndarray
    n_splits: int
    degradation_slope: float
    prob_oos_loss: float

    @property
    def n_combinations(self) -> int:
        return len(self.logits)


def probability_of_backtest_overfitting(
    returns: np.ndarray | pd.DataFrame,
    n_splits: int = 16,
    metric: Callable[[np.ndarray], np.ndarray] | None = None,
) -> PBOResult:
    """PBO by combinatorially symmetric cross-validation (Bailey et al. 2017).

    Parameters
    ----------
    returns : array_like of shape (T, N)
        Period returns of ``N ≥ 2`` trials over the same ``T`` periods. When ``T`` is not
        a multiple of ``n_splits`` the first ``T mod S`` rows are dropped.
    n_splits : int, default 16
        ``S``, even; there are ``C(S, S/2)`` combinations (12,870 for 16).
    metric : callable, optional
        ``metric(rows) -> performance`` mapping an array of shape ``(t, N)`` to shape
        ``(N,)``; default the Sharpe ratio ``mean / std`` (computed from per-block sums).

    Returns
    -------
    PBOResult
    """
    m = np.asarray(returns, dtype=float)
    if m.ndim != 2 or m.shape[1] < 2:
        raise InvalidInputError("returns must have shape (T, N) with N >= 2 trials")
    if n_splits < 2 or n_splits % 2:
        raise InvalidInputError("n_splits must be even and at least 2")
    size = m.shape[0] // n_splits
    if size < 2:
        raise InvalidInputError(f"need at least {2 * n_splits} rows for {n_splits} splits")
    blocks = m[m.shape[0] - size * n_splits :].reshape(n_splits, size, m.shape[1])
    combos = list(itertools.combinations(range(n_splits), n_splits // 2))
    picked = np.zeros((len(combos), n_splits), dtype=bool)
    for i, combo in enumerate(combos):
        picked[i, list(combo)] = True
    if metric is None:
        perf_in, perf_out = _block_sharpes(blocks, picked)
    else:
        perf_in = np.array([metric(np.concatenate(blocks[p])) for p in picked])
        perf_out = np.array([metric(np.concatenate(blocks[~p])) for p in picked])
    return _cscv(perf_in, perf_out, n_splits)


def _block_sharpes(blocks: np.ndarray, picked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sharpe ratios of every trial on the picked and the other blocks of each combination.

    ``blocks`` has shape ``(S, t, N)`` and ``picked`` shape ``(C, S)``; the results have
    shape ``(C, N)``. Sums and sums of squares per block are centred on the column means
    for accuracy.
    """
    centre = blocks.mean(axis=(0, 1))
    centred = blocks - centre
    sums, squares = centred.sum(axis=1), (centred**2).sum(axis=1)
    n = picked.sum(axis=1, keepdims=True) * blocks.shape[1]

    def sharpe(mask: np.ndarray) -> np.ndarray:
        mean = mask @ sums / n
        variance = (mask @ squares - n * mean**2) / (n - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (mean + centre) / np.sqrt(np.maximum(variance, 0.0))

    weights = picked.astype(float)
    return sharpe(weights), sharpe(1.0 - weights)


def _cscv(perf_in: np.ndarray, perf_out: np.ndarray, n_splits: int) -> PBOResult:
    n_trials = perf_in.shape[1]
    winners = np.argmax(np.nan_to_num(perf_in, nan=-np.inf), axis=1)
    rows = np.arange(len(winners))
    out = np.nan_to_num(perf_out, nan=-np.inf)
    # the winner's average rank out of sample (scipy's rankdata "average", for one entry)
    chosen = out[rows, winners][:, None]
    below, tied = (out < chosen).sum(axis=1), (out == chosen).sum(axis=1)
    omega = (below + (tied + 1) / 2) / (n_trials + 1)
    logits = np.log(omega / (1.0 - omega))
    best_in, best_out = perf_in[rows, winners], perf_out[rows, winners]
    finite = np.isfinite(best_in) & np.isfinite(best_out)
    slope = (
        float(np.polyfit(best_in[finite], best_out[finite], 1)[0])
        if finite.sum() > 1 and np.ptp(best_in[finite]) > 0
        else math.nan
    )
    return PBOResult(
        pbo=float(np.mean(logits <= 0)),
        logits=logits,
        in_sample=best_in,
        out_of_sample=best_out,
        winners=winners,
        n_splits=n_splits,
        degradation_slope=slope,
        prob_oos_loss=float(np.mean(best_out < 0)),
    )
