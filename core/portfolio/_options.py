"""Options in a portfolio: model marks, volatilities, Greeks and the expiry settlement value.

Marks
-----
An option position is marked at its market price when the market data has one; otherwise by
Black-Scholes-Merton (``core.derivatives.bsm``) on the underlying's last price, with
``years = calendar days to expiry / 365``, the portfolio's option rate (0 unless set) and a
volatility chosen in this order: the user-set surface of the portfolio (a flat volatility or
a smile, :class:`VolSurface`), else the volatility implied by the position's last trade (kept
when the trade is booked), else none (the position is then marked at its cost, as any
position without a price, and its Greeks are NaN).

Greeks (per position and summed per underlying)
-----------------------------------------------
* ``delta_shares``: Δ × quantity × multiplier, in shares of the underlying (a stock held
  counts its quantity);
* ``dollar_delta``: delta_shares × spot;
* ``dollar_gamma_1pct``: Γ × quantity × multiplier × spot² × 0.01, the change of
  ``dollar_delta`` for a 1 % move of the spot;
* ``vega_1pct``: value change for +1 volatility point (vega per 1 % × quantity × multiplier);
* ``theta_day``: value change per calendar day (theta per day × quantity × multiplier).

Money amounts are in the option's currency (the portfolio's for a single-currency one).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date, datetime

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.derivatives import SmileParams, bsm, implied_vol, smile_vol
from core.instruments import AssetClass, Instrument
from core.portfolio._ledger import Ledger

DAYS_PER_YEAR = 365.0
GREEK_KEYS = ("delta_shares", "dollar_delta", "dollar_gamma_1pct", "vega_1pct", "theta_day")


class VolSurface(BaseModel):
    """A user-set volatility for model marks: ``flat`` or a ``smile`` (one of the two).

    Parameters
    ----------
    flat : float or None
        One volatility per √year for every strike and expiry (0.2 = 20 %).
    smile : SmileParams or None
        A quadratic smile in standardized log-moneyness (``core.derivatives.smile_vol``).
    rate : float
        The risk-free rate per year the model marks use.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    flat: float | None = Field(default=None, gt=0, le=5)
    smile: SmileParams | None = None
    rate: float = Field(default=0.0, ge=-0.2, le=1)

    @model_validator(mode="after")
    def _one_shape(self) -> VolSurface:
        if self.flat is not None and self.smile is not None:
            raise ValueError("set a flat volatility or a smile, not both")
        return self

    def vol(self, strike: float, forward: float, years: float) -> float | None:
        """The surface's volatility at ``strike`` (None when it sets none)."""
        if self.smile is not None:
            return float(smile_vol(self.smile, strike, forward, max(years, 1e-8)))
        return self.flat


@dataclass(frozen=True)
class OptionMark:
    """How an option position is marked: price, where it came from, and the model inputs."""

    symbol: str
    price: float
    source: str  # market | model | cost (no volatility known)
    spot: float
    years: float
    vol: float
    vol_source: str  # surface | trade | none
    rate: float


def years_to_expiry(expiry: date, as_of: datetime | date) -> float:
    """Calendar days from ``as_of`` to ``expiry`` over 365 (0 once expired)."""
    day = as_of.date() if isinstance(as_of, datetime) else as_of
    return max((expiry - day).days, 0) / DAYS_PER_YEAR


def intrinsic(instrument: Instrument, spot: float) -> float:
    """Exercise value at ``spot``: max(S − K, 0) for a call, max(K − S, 0) for a put."""
    if str(instrument.option_right) == "call":
        return max(spot - instrument.strike, 0.0)
    return max(instrument.strike - spot, 0.0)


def surface_of(ledger: Ledger) -> VolSurface:
    """The portfolio's surface (``ledger.options["surface"]``), empty when none is set."""
    return VolSurface.model_validate(ledger.options.get("surface") or {})


def record_trade_vol(
    ledger: Ledger, instrument: Instrument, price: float, spot: float | None, ts: datetime
) -> float | None:
    """Keep the volatility implied by a trade of an option (None when it cannot be implied)."""
    if instrument.asset_class is not AssetClass.OPTION or spot is None:
        return None
    years = years_to_expiry(instrument.expiry, ts)
    if years <= 0:
        return None
    rate = surface_of(ledger).rate
    found = implied_vol(str(instrument.option_right), price, spot, instrument.strike, years, rate)
    iv = float(found.iv)
    if not math.isfinite(iv):
        return None
    ledger.options = {**ledger.options, "vols": {**ledger.options.get("vols", {}),
                                                 instrument.symbol: iv}}  # fmt: skip
    return iv


def model_mark(ledger: Ledger, instrument: Instrument, spot: float, as_of: datetime) -> OptionMark:
    """The BSM mark of an option position (see the module docstring for the volatility)."""
    surface = surface_of(ledger)
    years = years_to_expiry(instrument.expiry, as_of)
    forward = spot * math.exp(surface.rate * years)
    vol, source = surface.vol(instrument.strike, forward, years), "surface"
    if vol is None:
        vol, source = ledger.options.get("vols", {}).get(instrument.symbol), "trade"
    if vol is None:
        return OptionMark(instrument.symbol, math.nan, "cost", spot, years, math.nan, "none",
                          surface.rate)  # fmt: skip
    price = bsm(str(instrument.option_right), spot, instrument.strike, years, surface.rate, vol)
    return OptionMark(instrument.symbol, float(price.price), "model", spot, years, vol, source,
                      surface.rate)  # fmt: skip


def position_greeks(
    quantity: float, instrument: Instrument, mark: OptionMark | None, spot: float
) -> dict[str, float]:
    """The Greeks of one position (module docstring); a non-option is delta one."""
    size = quantity * instrument.multiplier
    if instrument.asset_class is not AssetClass.OPTION:
        return {"delta_shares": size, "dollar_delta": size * spot, "dollar_gamma_1pct": 0.0,
                "vega_1pct": 0.0, "theta_day": 0.0}  # fmt: skip
    if mark is None or not math.isfinite(mark.vol):
        return dict.fromkeys(GREEK_KEYS, math.nan)
    g = bsm(str(instrument.option_right), spot, instrument.strike, mark.years, mark.rate, mark.vol)
    return {
        "delta_shares": g.delta * size,
        "dollar_delta": g.delta * size * spot,
        "dollar_gamma_1pct": g.gamma * size * spot * spot * 0.01,
        "vega_1pct": g.vega_per_1pct * size,
        "theta_day": g.theta_per_day * size,
    }


def greeks_table(rows: list[dict]) -> dict:
    """Per-position rows and their sums per underlying, for ``risk --json`` and the page."""
    frame = pd.DataFrame(rows, columns=["symbol", "underlying", "quantity", "spot", *GREEK_KEYS])
    by_underlying = {
        u: {k: float(group[k].sum(min_count=1)) for k in GREEK_KEYS}
        for u, group in frame.groupby("underlying", sort=True)
    }
    totals = {k: float(frame[k].sum(min_count=1)) if len(frame) else 0.0 for k in GREEK_KEYS}
    totals.pop("delta_shares")  # shares of different underlyings do not add up
    return {"positions": rows, "by_underlying": by_underlying, "total": totals}


def mark_record(mark: OptionMark) -> dict:
    """A mark as plain data (JSON-ready)."""
    return asdict(mark)
