"""Stress of spot and volatility together: a portfolio with options revalued on a grid.

Each option is repriced in full by Black-Scholes-Merton at spot × (1 + spot shock) and
volatility + vol shock (absolute: +0.10 is ten volatility points, floored at 0); everything
else moves linearly with its underlying, by its dollar delta × spot shock. Positions are the
rows of ``PortfolioService.greeks(name)["positions"]``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.derivatives import bsm_price
from core.errors import InvalidInputError

DEFAULT_SPOT_SHOCKS = (-0.2, -0.1, -0.05, 0.0, 0.05, 0.1, 0.2)
DEFAULT_VOL_SHOCKS = (-0.1, 0.0, 0.1, 0.2)


def spot_vol_grid(
    positions: list[dict],
    spot_shocks=DEFAULT_SPOT_SHOCKS,
    vol_shocks=DEFAULT_VOL_SHOCKS,
) -> pd.DataFrame:
    """P&L of every (spot shock, vol shock) pair.

    Parameters
    ----------
    positions : list of dict
        Rows with ``dollar_delta`` (linear holdings), and for options ``right``, ``strike``,
        ``years``, ``rate``, ``vol``, ``spot`` and ``size`` (quantity × multiplier).
    spot_shocks : sequence of float
        Relative moves of every underlying (−0.2 = −20 %), each > −1.
    vol_shocks : sequence of float
        Absolute moves of every option's volatility (0.1 = +10 points).

    Returns
    -------
    DataFrame of shape (n_spot_shocks, n_vol_shocks)
        P&L in money; index ``spot_shock``, columns ``vol_shock``.
    """
    ds = np.asarray(spot_shocks, dtype=float)
    dv = np.asarray(vol_shocks, dtype=float)
    if ds.size == 0 or dv.size == 0 or not (np.isfinite(ds).all() and np.isfinite(dv).all()):
        raise InvalidInputError("spot_shocks, vol_shocks: give finite shocks, at least one each")
    if (ds <= -1).any():
        raise InvalidInputError("spot_shocks: a spot cannot fall by 100 % or more")
    pnl = np.zeros((ds.size, dv.size))
    for row in positions:
        if "strike" in row:
            pnl += _option_pnl(row, ds, dv)
        elif math.isfinite(row.get("dollar_delta", math.nan)):
            pnl += row["dollar_delta"] * ds[:, None]
    index = pd.Index(ds, name="spot_shock")
    return pd.DataFrame(pnl, index=index, columns=pd.Index(dv, name="vol_shock"))


def _option_pnl(row: dict, ds: np.ndarray, dv: np.ndarray) -> np.ndarray:
    if not math.isfinite(row.get("vol") or math.nan):
        return np.zeros((ds.size, dv.size))  # no volatility known: not revalued
    spot, vol, t = row["spot"], row["vol"], row["years"]
    now = bsm_price(row["right"], spot, row["strike"], t, row["rate"], vol)
    spots = spot * (1 + ds)[:, None] * np.ones((1, dv.size))
    vols = np.maximum(vol + dv[None, :], 0.0) * np.ones((ds.size, 1))
    shocked = bsm_price(row["right"], spots, row["strike"], t, row["rate"], vols)
    return (np.asarray(shocked) - now) * row["size"]
