"""The convex programs: quadratic ones solved by Clarabel (interior point), min CVaR by HiGHS.

Every program is long-only and fully invested with the caps of a ``Bounds``. Clarabel takes
``min ½xᵀPx + qᵀx`` subject to ``Ax + s = b`` with ``s`` in a product of cones: the zero cone
for equalities, the non-negative cone for ``Ax ≤ b``.
"""

from __future__ import annotations

import clarabel
import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from core.allocation._constraints import Bounds
from core.allocation._spec import AllocationError

_TOL = 1e-10
_SNAP = 1e-9


def min_variance(cov: np.ndarray, bounds: Bounds) -> np.ndarray:
    """``min wᵀΣw`` over the constrained simplex."""
    return _weights_qp(cov, np.zeros(bounds.n_assets), bounds, "min_variance")


def mean_variance_utility(
    mu: np.ndarray, cov: np.ndarray, bounds: Bounds, risk_aversion: float
) -> np.ndarray:
    """``max μᵀw − δ/2 · wᵀΣw`` over the constrained simplex (δ = ``risk_aversion``)."""
    return _weights_qp(risk_aversion * cov, -mu, bounds, "mean_variance")


def efficient_return(mu: np.ndarray, cov: np.ndarray, bounds: Bounds, target: float) -> np.ndarray:
    """``min wᵀΣw`` with ``μᵀw ≥ target`` over the constrained simplex."""
    highest = float(mu @ max_return(mu, bounds))
    if target > highest + 1e-9:
        raise AllocationError(
            f"target return {target:.4f} is above {highest:.4f}, the highest expected return "
            "the constraints allow",
            "target_return",
        )
    extra = (sp.csc_matrix(-mu[None, :]), np.array([-min(target, highest)]))
    return _weights_qp(cov, np.zeros(bounds.n_assets), bounds, "mean_variance", extra)


def max_return(mu: np.ndarray, bounds: Bounds) -> np.ndarray:
    """``max μᵀw`` over the constrained simplex (a linear program)."""
    result = linprog(
        -mu,
        A_ub=bounds.groups if len(bounds.group_names) else None,
        b_ub=bounds.group_caps if len(bounds.group_names) else None,
        A_eq=np.ones((1, bounds.n_assets)),
        b_eq=[1.0],
        bounds=list(zip(np.zeros(bounds.n_assets), bounds.upper, strict=True)),
        method="highs",
    )
    if result.status != 0:
        raise _infeasible("max_return", bounds, result.message)
    return _clean(result.x, bounds.upper)


def max_sharpe(mu: np.ndarray, cov: np.ndarray, bounds: Bounds, risk_free: float) -> np.ndarray:
    """``max (μᵀw − r_f)/σ_p`` by the homogenised QP ``min yᵀΣy`` s.t. ``(μ − r_f)ᵀy = 1``.

    With ``κ = Σy`` the caps become ``y ≤ cap·κ`` and ``G y ≤ g·κ``; then ``w = y/κ``.
    """
    n = bounds.n_assets
    excess = mu - risk_free
    if not np.any(excess > 0):
        raise AllocationError(
            f"max_sharpe needs an asset whose expected return exceeds the risk-free rate "
            f"{risk_free:g}; the highest is {mu.max():.4f}",
            "risk_free_rate",
        )
    P = sp.block_diag([sp.csc_matrix(cov), sp.csc_matrix((1, 1))], format="csc")
    eye = sp.eye(n, format="csc")
    ones = np.ones((1, n))
    A = sp.vstack(
        [
            sp.hstack([sp.csc_matrix(excess[None, :]), sp.csc_matrix((1, 1))]),
            sp.hstack([sp.csc_matrix(ones), sp.csc_matrix([[-1.0]])]),
            sp.hstack([-eye, sp.csc_matrix((n, 1))]),
            sp.hstack([eye, sp.csc_matrix(-bounds.upper[:, None])]),
            sp.hstack([sp.csc_matrix(bounds.groups), sp.csc_matrix(-bounds.group_caps[:, None])]),
        ],
        format="csc",
    )
    b = np.r_[1.0, 0.0, np.zeros(2 * n + len(bounds.group_names))]
    x = _solve(P, np.zeros(n + 1), A, b, 2, "max_sharpe", bounds)
    return _clean(x[:n] / x[n], bounds.upper)


def min_cvar(returns: np.ndarray, bounds: Bounds, beta: float) -> np.ndarray:
    """Rockafellar-Uryasev: ``min α + Σ_t u_t / ((1−β)T)`` s.t. ``u_t ≥ −r_tᵀw − α, u ≥ 0``.

    HiGHS solves the dual linear program, which has one row per asset instead of one per
    scenario (two to three times faster at 20 assets × 1,250 days)::

        max λ − Uᵀm − gᵀν   s.t.  Rᵀq + λ1 − m − Gᵀν ≤ 0,  Σq = 1,  0 ≤ q ≤ 1/((1−β)T),
                                   m ≥ 0,  ν ≥ 0

    and the weights are the multipliers of its asset rows. At the optimum the objective is
    the portfolio's CVaR.

    Parameters
    ----------
    returns : ndarray of shape (n_observations, n_assets)
        Daily scenarios (simple returns).
    """
    n_obs, n = returns.shape
    n_groups = len(bounds.group_names)
    tail = 1.0 / ((1.0 - beta) * n_obs)
    # variables: q (n_obs), λ, m (n_assets), ν (n_groups); linprog minimises
    cost = np.r_[np.zeros(n_obs), -1.0, bounds.upper, bounds.group_caps]
    rows = np.hstack([returns.T, np.ones((n, 1)), -np.eye(n), -bounds.groups.T])
    budget = np.r_[np.ones(n_obs), np.zeros(1 + n + n_groups)][None, :]
    limits = np.zeros((n_obs + 1 + n + n_groups, 2))
    limits[:n_obs, 1] = tail
    limits[n_obs, 0] = -np.inf
    limits[n_obs:, 1] = np.inf
    result = linprog(
        cost, A_ub=rows, b_ub=np.zeros(n), A_eq=budget, b_eq=[1.0], bounds=limits, method="highs"
    )
    if result.status != 0:
        raise _infeasible("min_cvar", bounds, result.message)
    return _clean(-result.ineqlin.marginals, bounds.upper)


def _weights_qp(
    P: np.ndarray,
    q: np.ndarray,
    bounds: Bounds,
    method: str,
    extra: tuple[sp.csc_matrix, np.ndarray] | None = None,
) -> np.ndarray:
    """``min ½wᵀPw + qᵀw`` over the simplex with the caps, groups and an ``extra`` row."""
    n = bounds.n_assets
    eye = sp.eye(n, format="csc")
    rows = [sp.csc_matrix(np.ones((1, n))), -eye, eye, sp.csc_matrix(bounds.groups)]
    rhs = [np.ones(1), np.zeros(n), bounds.upper, bounds.group_caps]
    if extra is not None:
        rows.append(extra[0])
        rhs.append(extra[1])
    A = sp.vstack(rows, format="csc")
    x = _solve(sp.csc_matrix(P), q, A, np.concatenate(rhs), 1, method, bounds)
    return _clean(x, bounds.upper)


def _solve(P, q, A, b, n_equalities: int, method: str, bounds: Bounds) -> np.ndarray:
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = _TOL
    settings.tol_ktratio = 1e-8
    # faer's supernodal LDLᵀ handles the dense covariance block ~1.5x faster than QDLDL at
    # 500 assets; one thread keeps timings steady on a shared machine.
    settings.direct_solve_method = "faer"
    settings.max_threads = 1
    cones = [clarabel.ZeroConeT(n_equalities), clarabel.NonnegativeConeT(A.shape[0] - n_equalities)]
    solution = clarabel.DefaultSolver(sp.triu(P, format="csc"), q, A, b, cones, settings).solve()
    status = str(solution.status)
    if status not in ("Solved", "AlmostSolved"):
        raise _infeasible(method, bounds, status)
    return np.asarray(solution.x)


def _clean(weights: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Snap solver noise onto the bounds (within 1e-9) and renormalise to a sum of one."""
    weights = np.where(weights > _SNAP, weights, 0.0)
    at_cap = weights > upper - _SNAP
    weights[at_cap] = upper[at_cap]
    free = ~at_cap & (weights > 0)
    if free.any():
        weights[free] *= (1.0 - weights[at_cap].sum()) / weights[free].sum()
        return weights
    return weights / weights.sum()


def _infeasible(method: str, bounds: Bounds, detail: str) -> AllocationError:
    caps = ", ".join(
        f"{name} ≤ {cap:g}" for name, cap in zip(bounds.group_names, bounds.group_caps, strict=True)
    )
    return AllocationError(
        f"{method} found no long-only, fully invested portfolio within max weight "
        f"{bounds.upper.max():g}" + (f" and group caps {caps}" if caps else "") + f" ({detail})",
        "group_caps" if caps else "max_weight",
    )
