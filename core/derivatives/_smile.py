"""A user-set volatility smile and the option chain it prices.

The smile is a quadratic in standardized log-moneyness k = ln(K/F) / √T:
σ(K) = atm_vol + skew·k + curvature·k², floored at ``min_vol``. A negative skew makes
low strikes dearer (the equity-index shape); curvature lifts both wings. The chain prices a
call and a put at each strike with BSM at the smile's volatility.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from core.derivatives._implied import implied_vol
from core.derivatives._pricing import bsm
from core.derivatives._strategies import OptionMarket


class SmileParams(BaseModel):
    """A volatility smile's shape.

    Parameters
    ----------
    atm_vol : float
        Volatility at the forward (k = 0), per √year.
    skew : float
        dσ/dk at the forward (negative: low strikes dearer).
    curvature : float
        ½·d²σ/dk² (≥ 0 lifts both wings).
    min_vol : float
        The floor σ never goes below.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    atm_vol: float = Field(
        0.2,
        gt=0,
        le=3,
        description="volatility at the forward, per √year",
        json_schema_extra={"step": 0.0001},
    )
    skew: float = Field(
        -0.03, ge=-1, le=1, description="dσ/dk, k = ln(K/F)/√T", json_schema_extra={"step": 0.0001}
    )
    curvature: float = Field(
        0.01, ge=0, le=1, description="σ'' / 2 in k", json_schema_extra={"step": 0.0001}
    )
    min_vol: float = Field(
        0.01, gt=0, le=1, description="floor on the smile", json_schema_extra={"step": 0.0001}
    )


def smile_vol(smile: SmileParams, strike, forward, expiry) -> np.ndarray:
    """The smile's volatility at each strike.

    Parameters
    ----------
    smile : SmileParams
        The shape.
    strike : float or ndarray
        Strikes (> 0).
    forward : float
        The forward F = S·e^{(r-q)T}.
    expiry : float
        Years to expiry (> 0).

    Returns
    -------
    ndarray of float
        σ per √year, ≥ ``smile.min_vol``.
    """
    k = np.log(np.asarray(strike, dtype=np.float64) / forward) / np.sqrt(expiry)
    vol = smile.atm_vol + smile.skew * k + smile.curvature * k * k
    return np.maximum(vol, smile.min_vol)


def option_chain(market: OptionMarket, strikes, expiry: float, smile: SmileParams) -> pd.DataFrame:
    """Calls and puts at ``strikes`` priced with BSM at the smile's volatility.

    Parameters
    ----------
    market : OptionMarket
        Spot, rate and dividend (its flat ``vol`` is not used).
    strikes : array-like of float
        Strikes, ascending.
    expiry : float
        Years to expiry (> 0).
    smile : SmileParams
        The volatility smile.

    Returns
    -------
    DataFrame
        One row per strike: ``strike``, ``vol``, ``call_price``, ``call_delta``,
        ``put_price``, ``put_delta``, ``gamma``, ``vega_per_1pct``, ``call_theta_per_day``,
        ``put_theta_per_day`` and ``call_iv`` (the call price inverted: equals ``vol``).
    """
    k = np.asarray(strikes, dtype=np.float64)
    forward = market.spot * np.exp((market.rate - market.dividend) * expiry)
    vol = smile_vol(smile, k, forward, expiry)
    args = (market.spot, k, expiry, market.rate, vol, market.dividend)
    call, put = bsm("call", *args), bsm("put", *args)
    iv = implied_vol("call", call.price, market.spot, k, expiry, market.rate, market.dividend)
    return pd.DataFrame(
        {
            "strike": k,
            "vol": vol,
            "call_price": call.price,
            "call_delta": call.delta,
            "put_price": put.price,
            "put_delta": put.delta,
            "gamma": call.gamma,
            "vega_per_1pct": call.vega_per_1pct,
            "call_theta_per_day": call.theta_per_day,
            "put_theta_per_day": put.theta_per_day,
            "call_iv": iv.iv,
        }
    )
