"""Convergence diagnostics of Markov chains: the potential scale reduction factor R-hat.

Two versions, both on *split* chains (each chain cut into a first and a second half, so a
chain that drifts shows up as two chains that disagree):

:func:`split_rhat`
    The split-R-hat of Gelman et al., *Bayesian Data Analysis*, 3rd ed. (2013), §11.4:
    with ``M`` half-chains of ``n`` draws, ``W`` the mean within-chain variance and
    ``B = n · var(chain means)``, ``var⁺ = (n - 1) / n · W + B / n`` and
    ``R̂ = sqrt(var⁺ / W)``.
:func:`rank_normalized_split_rhat`
    The rank-normalised split-R-hat of Vehtari, Gelman, Simpson, Carpenter & Bürkner,
    "Rank-normalization, folding, and localization: an improved R-hat for assessing
    convergence of MCMC", *Bayesian Analysis* 16(2), 2021: the split-R-hat of the
    rank-normalised draws ``z = Φ⁻¹((r - 3/8) / (S + 1/4))`` (``r`` the pooled rank,
    average ranks for ties, ``S`` all draws) — the *bulk* R-hat — and of the
    rank-normalised folded draws ``|θ - median θ|`` — the *tail* R-hat; ``R̂`` is the
    larger. It is robust to heavy tails and to chains that agree in location but not in
    scale. Vehtari et al. recommend using draws only when ``R̂ < 1.01``; 1.05 is a looser,
    older rule.

Both take ``draws`` of shape ``(n_chains, n_draws)``. Conventions for degenerate input:
every draw equal gives ``R̂ = 1`` (nothing left to mix); zero within-chain variance with
disagreeing chains gives ``inf``; fewer than 4 draws per chain gives NaN.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from core.errors import InvalidInputError


def split_chains(draws: np.ndarray) -> np.ndarray:
    """Cut each chain in two halves (dropping the middle draw of an odd length).

    Parameters
    ----------
    draws : array_like of shape (n_chains, n_draws)

    Returns
    -------
    ndarray of shape (2 * n_chains, n_draws // 2)
    """
    draws = _as_chains(draws)
    half = draws.shape[1] // 2
    return np.concatenate([draws[:, :half], draws[:, -half:]]) if half else draws[:, :0]


def split_rhat(draws: np.ndarray) -> float:
    """Split-R-hat of Gelman et al. (BDA3, 2013) of one scalar quantity.

    Parameters
    ----------
    draws : array_like of shape (n_chains, n_draws)

    Returns
    -------
    float
        ``sqrt(var⁺ / W)`` on the split chains (see the module docstring).
    """
    return _rhat(split_chains(draws))


def rank_normalized_split_rhat(draws: np.ndarray) -> float:
    """Rank-normalised split-R-hat of Vehtari et al. (2021): max of bulk and tail R-hat.

    Parameters
    ----------
    draws : array_like of shape (n_chains, n_draws)

    Returns
    -------
    float
    """
    draws = _as_chains(draws)
    if draws.shape[1] < 4:
        return math.nan
    bulk = split_rhat(_rank_normalize(draws))
    tail = split_rhat(_rank_normalize(np.abs(draws - np.median(draws))))
    return max(bulk, tail)


def _rhat(chains: np.ndarray) -> float:
    n = chains.shape[1]
    if n < 2:
        return math.nan
    if np.all(chains == chains.flat[0]):
        return 1.0
    within = float(np.mean(np.var(chains, axis=1, ddof=1)))
    between = n * float(np.var(np.mean(chains, axis=1), ddof=1))
    if within == 0.0:
        return math.inf
    pooled = (n - 1) / n * within + between / n
    return math.sqrt(pooled / within)


def _rank_normalize(draws: np.ndarray) -> np.ndarray:
    if np.all(draws == draws.flat[0]):
        return np.zeros_like(draws)
    ranks = stats.rankdata(draws, method="average").reshape(draws.shape)
    return stats.norm.ppf((ranks - 0.375) / (draws.size + 0.25))


def _as_chains(draws) -> np.ndarray:
    draws = np.asarray(draws, dtype=float)
    if draws.ndim != 2:
        raise InvalidInputError("draws must have shape (n_chains, n_draws)")
    return draws
