"""Risk measures as pure functions of returns.

Conventions (also in ``docs/RISK.md``):

* ``returns`` are simple periodic (daily) returns, fractions; statistics use ``ddof=1``;
* VaR and CVaR are **losses reported as positive fractions** of the portfolio's value
  (0.021 = a 2.1 % loss); multiply by the value for currency. A negative figure means the
  quantile is a gain;
* ``level`` is the confidence (0.95, 0.99); the tail holds a fraction ``1 - level``;
* over ``horizon`` days: parametric methods scale the mean by ``h`` and the volatility by
  ``√h``; the historical method uses overlapping ``h``-day compounded returns; Monte Carlo
  sums ``h`` simulated daily returns.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from core.risk._errors import RiskInputError
from core.whatif import fit_student_t_dof

METHODS = ("historical", "normal", "student_t", "monte_carlo")
TRADING_DAYS = 252


def _clean(returns, name: str = "returns") -> np.ndarray:
    values = np.asarray(returns, dtype=float)
    if values.ndim != 1:
        raise RiskInputError(f"{name} must be one-dimensional, got shape {values.shape}")
    values = values[~np.isnan(values)]
    if values.size < 2:
        raise RiskInputError(f"{name} need at least two values, got {values.size}")
    if not np.isfinite(values).all():
        raise RiskInputError(f"{name} contain an infinite value")
    return values


def _check(level: float, horizon: int) -> None:
    if not 0.5 <= level < 1:
        raise RiskInputError(f"confidence level must be in [0.5, 1), got {level}")
    if int(horizon) != horizon or horizon < 1:
        raise RiskInputError(f"horizon must be a whole number of days ≥ 1, got {horizon}")


def empirical_var_cvar(sample, level: float = 0.95) -> tuple[float, float]:
    """VaR and CVaR of an empirical sample of returns.

    With ``m = n (1 - level)`` and ``k = ⌈m⌉``, VaR is minus the ``k``-th smallest return
    (the lower empirical quantile) and CVaR minus the average of the worst ``m``
    observations, the ``k``-th counted with weight ``m - (k - 1)`` (Acerbi & Tasche). With
    20 returns at 95 %, both are minus the single worst return.
    """
    values = np.sort(_clean(sample))
    m = round(values.size * (1 - level), 9)  # 20 × 0.05 is 1.0000000000000009 in floats
    k = max(1, math.ceil(m))
    tail = values[: k - 1].sum() + (m - (k - 1)) * values[k - 1]
    return float(-values[k - 1]), float(-tail / m)


def historical_var_cvar(returns, level: float = 0.95, horizon: int = 1) -> tuple[float, float]:
    """Historical VaR and CVaR; over ``horizon`` days on overlapping compounded returns."""
    _check(level, horizon)
    values = _clean(returns)
    if horizon > 1:
        growth = np.cumprod(np.concatenate([[1.0], 1 + values]))
        if growth.size <= horizon + 1:
            raise RiskInputError(f"{values.size} returns are too few for a {horizon}-day horizon")
        values = growth[horizon:] / growth[:-horizon] - 1
    return empirical_var_cvar(values, level)


def normal_var_cvar(returns, level: float = 0.95, horizon: int = 1) -> tuple[float, float]:
    """Normal VaR ``-(μh - z σ√h)`` and CVaR ``-(μh - σ√h φ(z) / (1 - level))``."""
    _check(level, horizon)
    values = _clean(returns)
    mu, sigma = values.mean() * horizon, values.std(ddof=1) * math.sqrt(horizon)
    z = stats.norm.ppf(level)
    return float(-(mu - z * sigma)), float(-(mu - sigma * stats.norm.pdf(z) / (1 - level)))


def student_t_var_cvar(
    returns, level: float = 0.95, horizon: int = 1, dof: float | None = None
) -> tuple[float, float]:
    """Student-t VaR and CVaR with the sample mean and variance.

    ``dof`` (ν > 2) is fitted by maximum likelihood when not given. The scale
    ``s = σ √((ν - 2) / ν)`` matches the sample variance; with ``q = t_ν⁻¹(1 - level)``,
    VaR = ``-(μh + s√h q)`` and CVaR = ``-(μh - s√h f_ν(q) (ν + q²) / ((ν - 1)(1 - level)))``.
    """
    _check(level, horizon)
    values = _clean(returns)
    nu = fit_student_t_dof(values) if dof is None else float(dof)
    if not nu > 2:
        raise RiskInputError(f"Student-t degrees of freedom must be > 2, got {nu}")
    mu = values.mean() * horizon
    scale = values.std(ddof=1) * math.sqrt((nu - 2) / nu) * math.sqrt(horizon)
    q = stats.t.ppf(1 - level, nu)
    tail = stats.t.pdf(q, nu) * (nu + q * q) / ((nu - 1) * (1 - level))
    return float(-(mu + scale * q)), float(-(mu - scale * tail))


def monte_carlo_var_cvar(
    returns,
    level: float = 0.95,
    horizon: int = 1,
    *,
    weights=None,
    n_sims: int = 100_000,
    seed: int = 0,
) -> tuple[float, float]:
    """VaR and CVaR of ``n_sims`` simulated ``horizon``-day returns (sums of daily draws).

    ``returns`` of shape (n_observations,) are drawn from a normal with their mean and
    standard deviation; of shape (n_observations, n_assets) with ``weights`` of shape
    (n_assets,), from a multivariate normal with the assets' mean vector and covariance,
    then combined with the weights. Reproducible for a given ``seed``.
    """
    _check(level, horizon)
    if n_sims < 100:
        raise RiskInputError(f"n_sims must be at least 100, got {n_sims}")
    rng = np.random.default_rng(seed)
    data = np.asarray(returns, dtype=float)
    if data.ndim == 1:
        values = _clean(data)
        draws = rng.normal(values.mean(), values.std(ddof=1), size=(n_sims, horizon))
        return empirical_var_cvar(draws.sum(axis=1), level)
    w = _weights(weights, data.shape[1])
    data = data[~np.isnan(data).any(axis=1)]
    if data.shape[0] < 2:
        raise RiskInputError("asset returns need at least two complete rows")
    mean, cov = data.mean(axis=0), np.atleast_2d(np.cov(data, rowvar=False, ddof=1))
    draws = rng.multivariate_normal(mean, cov, size=(n_sims, horizon), method="eigh")
    return empirical_var_cvar(draws.sum(axis=1) @ w, level)


def var_cvar(
    returns, level: float = 0.95, horizon: int = 1, method: str = "historical", **options
) -> tuple[float, float]:
    """Dispatch to one of :data:`METHODS`; ``options`` go to that method."""
    functions = {
        "historical": historical_var_cvar,
        "normal": normal_var_cvar,
        "student_t": student_t_var_cvar,
        "monte_carlo": monte_carlo_var_cvar,
    }
    if method not in functions:
        raise RiskInputError(f"VaR method must be one of {', '.join(METHODS)}, got {method!r}")
    return functions[method](returns, level, horizon, **options)


def volatility(returns, periods_per_year: int = TRADING_DAYS) -> float:
    """Annualised volatility: sample standard deviation × √periods_per_year."""
    return float(_clean(returns).std(ddof=1) * math.sqrt(periods_per_year))


def beta_correlation(returns: pd.Series, benchmark: pd.Series) -> tuple[float, float]:
    """Beta ``cov(r, b) / var(b)`` and Pearson correlation, on the dates both have."""
    joined = pd.concat([returns, benchmark], axis=1, join="inner").dropna()
    if len(joined) < 3:
        raise RiskInputError(f"returns and benchmark share {len(joined)} dates; need at least 3")
    r, b = joined.iloc[:, 0].to_numpy(), joined.iloc[:, 1].to_numpy()
    cov = np.cov(r, b, ddof=1)
    if cov[1, 1] == 0:
        raise RiskInputError("the benchmark's returns are constant: beta is undefined")
    corr = cov[0, 1] / math.sqrt(cov[0, 0] * cov[1, 1]) if cov[0, 0] > 0 else math.nan
    return float(cov[0, 1] / cov[1, 1]), float(corr)


def risk_contributions(weights, cov) -> np.ndarray:
    """Euler contributions ``w_i (Σw)_i / σ`` of each position; they sum to ``σ = √(wᵀΣw)``.

    Parameters
    ----------
    weights : array-like of shape (n_assets,)
    cov : array-like of shape (n_assets, n_assets)
        Covariance of the assets' returns (annualise it for annual contributions).
    """
    cov = np.atleast_2d(np.asarray(cov, dtype=float))
    w = _weights(weights, cov.shape[0])
    if cov.shape != (w.size, w.size):
        raise RiskInputError(f"covariance shape {cov.shape} does not match {w.size} weights")
    marginal = cov @ w
    sigma = math.sqrt(max(float(w @ marginal), 0.0))
    if sigma == 0:
        return np.zeros_like(w)
    return w * marginal / sigma


def kelly_continuous(mu: float, sigma: float) -> float:
    """Kelly fraction ``μ / σ²`` of a continuous bet (excess return ``μ``, volatility ``σ``)."""
    if not sigma > 0:
        raise RiskInputError(f"volatility must be > 0, got {sigma}")
    return mu / sigma**2


def kelly_discrete(p: float, b: float) -> float:
    """Kelly fraction ``p - (1 - p) / b`` of a bet won with probability ``p`` paying ``b``:1."""
    if not 0 <= p <= 1:
        raise RiskInputError(f"win probability must be in [0, 1], got {p}")
    if not b > 0:
        raise RiskInputError(f"payoff ratio b must be > 0, got {b}")
    return p - (1 - p) / b


def atr(high, low, close, period: int = 14) -> pd.Series:
    """Wilder's average true range.

    True range ``TR_t = max(H_t - L_t, |H_t - C_{t-1}|, |L_t - C_{t-1}|)`` (``H_0 - L_0`` on
    the first bar); the first ATR, at bar ``period - 1``, is the mean of the first ``period``
    true ranges, then ``ATR_t = (ATR_{t-1} (period - 1) + TR_t) / period``. Earlier bars NaN.
    """
    if period < 1:
        raise RiskInputError(f"ATR period must be ≥ 1, got {period}")
    h, l, c = (pd.Series(x, dtype=float) for x in (high, low, close))
    if not len(h) == len(l) == len(c):
        raise RiskInputError("high, low and close must have the same length")
    prev = c.shift(1)
    tr = pd.concat([h - l, (h - prev).abs(), (l - prev).abs()], axis=1).max(axis=1)
    values = tr.to_numpy()
    out = np.full(values.size, np.nan)
    if values.size >= period:
        out[period - 1] = values[:period].mean()
        for t in range(period, values.size):
            out[t] = (out[t - 1] * (period - 1) + values[t]) / period
    index = high.index if isinstance(high, pd.Series) else None
    return pd.Series(out, index=index, name="atr")


def atr_stop_distance(atr_value: float, multiple: float = 2.0) -> float:
    """Stop distance in price units: ``multiple × ATR``."""
    if not (multiple > 0 and atr_value >= 0):
        raise RiskInputError(f"need multiple > 0 and ATR ≥ 0, got {multiple} and {atr_value}")
    return multiple * atr_value


def volatility_stop_distance(
    price: float, daily_vol: float, multiple: float = 2.0, horizon: int = 1
) -> float:
    """Stop distance in price units: ``price × multiple × σ_daily × √horizon``."""
    if not (price > 0 and daily_vol >= 0 and multiple > 0 and horizon >= 1):
        raise RiskInputError(
            f"need price > 0, daily volatility ≥ 0, multiple > 0, horizon ≥ 1; got {price}, "
            f"{daily_vol}, {multiple}, {horizon}"
        )
    return price * multiple * daily_vol * math.sqrt(horizon)


def _weights(weights, n: int) -> np.ndarray:
    if weights is None:
        raise RiskInputError("weights are needed with asset returns")
    w = np.asarray(weights, dtype=float).ravel()
    if w.size != n:
        raise RiskInputError(f"{w.size} weights for {n} assets")
    if not np.isfinite(w).all():
        raise RiskInputError("weights must be finite")
    return w
