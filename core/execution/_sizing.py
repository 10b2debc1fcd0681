"""Position sizing: how many units a strategy's "go long/short" becomes at the fill."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.instruments import Instrument


class Sizing(BaseModel):
    """Sizing rule.

    * ``fixed``: ``quantity`` units.
    * ``percent``: ``percent`` of equity at the fill price.
    * ``all_in``: floor(cash / (price × (1 + commission rate))) — every unit the cash buys.
    * ``vol_target``: units so that the position's annualised volatility is ``vol_target``
      of equity (volatility of simple returns over the recent bars), capped at all-in.
    * ``kelly``: the Kelly fraction μ/σ² of recent returns, times ``kelly_fraction`` and
      capped at ``kelly_cap`` of equity (never negative).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["fixed", "percent", "all_in", "vol_target", "kelly"] = "all_in"
    quantity: float = Field(default=100.0, gt=0)
    percent: float = Field(default=0.1, gt=0, le=10)
    vol_target: float = Field(default=0.15, gt=0)
    kelly_fraction: float = Field(default=0.5, gt=0, le=1)
    kelly_cap: float = Field(default=1.0, gt=0, le=10)

    def units(
        self,
        price: float,
        cash: float,
        equity: float,
        instrument: Instrument,
        *,
        commission_rate: float = 0.0,
        volatility: float = math.nan,
        mean_return: float = math.nan,
        periods_per_year: float = 252,
        commission: Callable[[float], float] | None = None,
    ) -> float:
        """Units to trade at ``price`` (≥ 0, on the instrument's quantity step).

        ``commission(q)`` gives the commission of a fill of q units; when given, the
        rules bounded by cash (all-in, vol target) also leave room for a fixed, per-share
        or minimum commission.
        """
        unit_cost = price * instrument.multiplier * (1 + commission_rate)
        affordable = max(cash, 0.0) / unit_cost
        if self.method == "fixed":
            raw = self.quantity
        elif self.method == "percent":
            raw = self.percent * equity / unit_cost
        elif self.method == "all_in":
            raw = affordable
        elif self.method == "vol_target":
            annual = volatility * math.sqrt(periods_per_year)
            raw = self.vol_target * equity / (annual * unit_cost) if annual > 0 else 0.0
            raw = min(raw, affordable)
        else:
            kelly = mean_return / volatility**2 if volatility > 0 else 0.0
            share = min(max(kelly * self.kelly_fraction, 0.0), self.kelly_cap)
            raw = share * equity / unit_cost if math.isfinite(share) else 0.0
        units = floor_to_step(max(raw, 0.0), instrument.quantity_step)  # never below 0
        if commission is not None and self.method in ("all_in", "vol_target"):
            units = _affordable(units, price * instrument.multiplier, cash, commission, instrument)
        return units


def _affordable(units: float, unit_price: float, cash: float, commission, instrument) -> float:
    """The largest quantity ≤ ``units`` whose cost plus commission fits in ``cash``."""
    step = instrument.quantity_step
    while units > 0 and units * unit_price + commission(units) > cash + 1e-9:
        over = units * unit_price + commission(units) - cash
        units = floor_to_step(max(units - max(over / unit_price, step), 0.0), step)
    return units


def floor_to_step(quantity: float, step: float) -> float:
    """``quantity`` rounded toward zero to a whole number of ``step``.

    The one rounding rule of order quantities (sizing, target weights, rebalancing, scaled
    orders, the participation cap). A quotient within 1e-9 below a whole number counts as
    that number, so float noise does not lose a step (0.3 / 0.1 is 2.9999999999999996).

    Parameters
    ----------
    quantity : float
        Units, of either sign.
    step : float
        The instrument's quantity step (> 0): 1 for shares, 0.01 for a hundredth.

    Returns
    -------
    float
        ``sign(quantity) × floor(|quantity| / step + 1e-9) × step``: 2.7 → 2 with step 1,
        −2.7 → −2.
    """
    sign = 1 if quantity >= 0 else -1
    return sign * math.floor(abs(quantity) / step + 1e-9) * step
