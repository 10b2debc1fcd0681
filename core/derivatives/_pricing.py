"""European option prices and Greeks: Black-Scholes-Merton and Black-76, over numpy arrays.

Units: ``expiry`` in years (the caller's day count, e.g. ACT/365 = days / 365), ``rate`` and
``dividend`` continuously compounded per year, ``vol`` per √year (0.2 = 20 %). Every input is
a scalar or an array; they broadcast together. Scalar inputs give float outputs.

Greeks (all per unit of the underlying, for one option on one unit):

- ``delta`` = ∂V/∂S (Black-76: ∂V/∂F), ``gamma`` = ∂²V/∂S²;
- ``theta_per_year`` = ∂V/∂t = -∂V/∂T (calendar time passing, the underlying fixed),
  ``theta_per_day`` = that / 365, ``theta_per_trading_day`` = that / 252;
- ``vega_per_1`` = ∂V/∂σ (per 1.00 of volatility), ``vega_per_1pct`` = that / 100;
- ``rho_per_1`` = ∂V/∂r (per 1.00 of rate; BSM holds the dividend yield fixed, Black-76 holds
  the forward fixed, so its rho is -T·V), ``rho_per_1pct`` = that / 100.

These are QuantLib's ``AnalyticEuropeanEngine`` conventions (theta per year, vega and rho per
1.00) with the same day count on both sides.

Limits: at ``expiry == 0`` or ``vol == 0`` (σ√T = 0) the price is the discounted forward
intrinsic value ``max(θ(S·e^{-qT} - K·e^{-rT}), 0)`` (at T = 0, the intrinsic value), delta is
the step (half the step exactly at the money), gamma is 0 and theta is the drift term alone;
no warning is raised.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy.special import ndtr

from core.derivatives._inputs import (
    as_float,
    check_non_negative,
    check_positive,
    is_scalar,
    right_sign,
)

DAYS_PER_YEAR = 365.0
TRADING_DAYS_PER_YEAR = 252.0
_INV_SQRT_2PI = 0.3989422804014327  # 1/√(2π)


@dataclass(frozen=True)
class Greeks:
    """An option's price and Greeks (arrays, or floats for scalar inputs).

    Attributes
    ----------
    price : float or ndarray
        Option value per unit of the underlying, in the price's currency.
    delta, gamma : float or ndarray
        ∂V/∂S and ∂²V/∂S² (Black-76: with respect to the forward).
    theta_per_year, theta_per_day, theta_per_trading_day : float or ndarray
        ∂V/∂t per year, per calendar day (/365) and per trading day (/252).
    vega_per_1, vega_per_1pct : float or ndarray
        ∂V/∂σ per 1.00 of volatility and per 1 % (/100).
    rho_per_1, rho_per_1pct : float or ndarray
        ∂V/∂r per 1.00 of rate and per 1 % (/100).
    """

    price: np.ndarray | float
    delta: np.ndarray | float
    gamma: np.ndarray | float
    theta_per_year: np.ndarray | float
    theta_per_day: np.ndarray | float
    theta_per_trading_day: np.ndarray | float
    vega_per_1: np.ndarray | float
    vega_per_1pct: np.ndarray | float
    rho_per_1: np.ndarray | float
    rho_per_1pct: np.ndarray | float

    def as_dict(self) -> dict[str, np.ndarray | float]:
        """The fields by name, in declaration order (the CLI's JSON keys)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _read(right, spot, strike, expiry, rate, vol, dividend, spot_name="spot"):
    theta = right_sign(right)
    s = as_float(spot, spot_name)
    k = as_float(strike, "strike")
    t = as_float(expiry, "expiry")
    r = as_float(rate, "rate")
    v = as_float(vol, "vol")
    q = as_float(dividend, "dividend")
    check_positive(s, spot_name)
    check_positive(k, "strike")
    check_non_negative(t, "expiry")
    check_non_negative(v, "vol")
    return theta, s, k, t, r, v, q


def _discount(rate, expiry):
    """e^{-rT}, skipping the exponential for a scalar zero rate."""
    if np.ndim(rate) == 0 and rate == 0.0:
        return 1.0
    return np.exp(-rate * expiry)


def _d1_d2(s, k, t, r, v, q):
    """d1, d2 and σ√T; d1 = d2 = 0 at the money forward when σ√T = 0 (else ±inf)."""
    sd = v * np.sqrt(t)
    num = np.log(s / k) + (r - q + 0.5 * v * v) * t
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = num / sd
    degenerate = not np.all(sd > 0.0)
    if degenerate:  # 0/0 at the money forward: the σ → 0 limit of d1 is 0
        d1 = np.where((sd == 0.0) & (num == 0.0), 0.0, d1)
    return d1, d1 - sd, sd, degenerate


def _price(theta, s, k, t, r, v, q):
    d1, d2, _, _ = _d1_d2(s, k, t, r, v, q)
    sq = s * _discount(q, t)
    kr = k * _discount(r, t)
    return theta * (sq * ndtr(theta * d1) - kr * ndtr(theta * d2))


def _greeks(theta, s, k, t, r, v, q, *, black76: bool = False) -> Greeks:
    d1, d2, sd, degenerate = _d1_d2(s, k, t, r, v, q)
    dq = _discount(q, t)
    sq = s * dq
    kr = k * _discount(r, t)
    a = theta * sq * ndtr(theta * d1)  # θ·S e^{-qT} N(θd1)
    b = theta * kr * ndtr(theta * d2)  # θ·K e^{-rT} N(θd2)
    price = a - b
    sq_pdf = sq * (_INV_SQRT_2PI * np.exp(-0.5 * d1 * d1))  # S e^{-qT} n(d1)
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = sq_pdf / (s * s * sd)
        decay = sq_pdf * sd / (2.0 * t)  # S e^{-qT} n(d1) σ / (2√T)
    if degenerate:
        gamma = np.where(sd > 0.0, gamma, 0.0)
        decay = np.where(sd > 0.0, decay, 0.0)
    vega = sq_pdf * np.sqrt(t)
    theta_year = q * a - r * b - decay
    rho = -t * price if black76 else t * b
    return _finish(price, a / s, gamma, theta_year, vega, rho)


def _finish(price, delta, gamma, theta_year, vega, rho) -> Greeks:
    return Greeks(
        price=price,
        delta=delta,
        gamma=gamma,
        theta_per_year=theta_year,
        theta_per_day=theta_year / DAYS_PER_YEAR,
        theta_per_trading_day=theta_year / TRADING_DAYS_PER_YEAR,
        vega_per_1=vega,
        vega_per_1pct=vega / 100.0,
        rho_per_1=rho,
        rho_per_1pct=rho / 100.0,
    )


def _to_float(greeks: Greeks) -> Greeks:
    return Greeks(**{name: float(value) for name, value in greeks.as_dict().items()})


def bsm(right, spot, strike, expiry, rate, vol, dividend=0.0) -> Greeks:
    """Black-Scholes-Merton price and Greeks of European options.

    Parameters
    ----------
    right : str, bool or array-like
        ``"call"``/``"put"`` (or an array of them), or booleans meaning *is call*.
    spot : float or ndarray
        Underlying price S (> 0).
    strike : float or ndarray
        Strike K (> 0).
    expiry : float or ndarray
        Time to expiry T in years (≥ 0).
    rate : float or ndarray
        Risk-free rate r, continuously compounded per year.
    vol : float or ndarray
        Volatility σ per √year (≥ 0).
    dividend : float or ndarray, default 0.0
        Continuous dividend yield q per year.

    Returns
    -------
    Greeks
        Price and Greeks, broadcast to the inputs' common shape (floats for scalar inputs).

    Raises
    ------
    InvalidInputError
        A right that is not call/put, spot or strike ≤ 0, a negative expiry or volatility.
    """
    args = _read(right, spot, strike, expiry, rate, vol, dividend)
    out = _greeks(*args)
    return _to_float(out) if is_scalar(right, spot, strike, expiry, rate, vol, dividend) else out


def bsm_price(right, spot, strike, expiry, rate, vol, dividend=0.0):
    """Black-Scholes-Merton price only (the fast path of :func:`bsm`).

    Parameters
    ----------
    right, spot, strike, expiry, rate, vol, dividend
        As :func:`bsm`.

    Returns
    -------
    float or ndarray
        Option value per unit of the underlying.
    """
    args = _read(right, spot, strike, expiry, rate, vol, dividend)
    price = _price(*args)
    scalar = is_scalar(right, spot, strike, expiry, rate, vol, dividend)
    return float(price) if scalar else price


def black76(right, forward, strike, expiry, rate, vol) -> Greeks:
    """Black-76 price and Greeks of European options on a forward or future.

    Parameters
    ----------
    right : str, bool or array-like
        ``"call"``/``"put"`` (or an array of them), or booleans meaning *is call*.
    forward : float or ndarray
        Forward (futures) price F (> 0).
    strike : float or ndarray
        Strike K (> 0).
    expiry : float or ndarray
        Time to expiry T in years (≥ 0).
    rate : float or ndarray
        Discount rate r, continuously compounded per year.
    vol : float or ndarray
        Volatility of the forward σ per √year (≥ 0).

    Returns
    -------
    Greeks
        ``price = e^{-rT}·θ(F·N(θd1) - K·N(θd2))``; delta and gamma are with respect to F,
        theta holds F fixed, rho holds F fixed (= -T·price).
    """
    theta, f, k, t, r, v, _ = _read(right, forward, strike, expiry, rate, vol, 0.0, "forward")
    out = _greeks(theta, f, k, t, r, v, r, black76=True)
    return _to_float(out) if is_scalar(right, forward, strike, expiry, rate, vol) else out


def black76_price(right, forward, strike, expiry, rate, vol):
    """Black-76 price only.

    Parameters
    ----------
    right, forward, strike, expiry, rate, vol
        As :func:`black76`.

    Returns
    -------
    float or ndarray
        Option value per unit of the underlying.
    """
    theta, f, k, t, r, v, _ = _read(right, forward, strike, expiry, rate, vol, 0.0, "forward")
    price = _price(theta, f, k, t, r, v, r)
    return float(price) if is_scalar(right, forward, strike, expiry, rate, vol) else price
