"""The Derivatives page's inputs, declared once: the form, validation and defaults read them.

Rates, dividend yields and volatilities are fractions per year (0.03 = 3 %); expiries are in
calendar days, turned into years by ACT/365.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.derivatives._implied import ImpliedVol, implied_vol
from core.derivatives._pricing import DAYS_PER_YEAR, Greeks, black76, bsm


class PricerParams(BaseModel):
    """One European option to price.

    Parameters
    ----------
    right : {"call", "put"}
        The option type.
    model : {"bsm", "black76"}
        Black-Scholes-Merton, or Black-76 (``spot`` is then the futures price and the
        dividend yield is not used).
    spot, strike : float
        Underlying (Black-76: futures) price and strike (> 0).
    expiry_days : float
        Calendar days to expiry (ACT/365).
    rate, dividend : float
        Per year, continuously compounded.
    vol : float
        Volatility per √year.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    right: Literal["call", "put"] = "call"
    model: Literal["bsm", "black76"] = Field("bsm", description="black76: spot is the future")
    spot: float = Field(100.0, gt=0, description="underlying (Black-76: futures) price")
    strike: float = Field(100.0, gt=0, description="strike price")
    expiry_days: float = Field(91.0, ge=0, le=3650, description="calendar days (ACT/365)")
    rate: float = Field(
        0.03,
        ge=-0.2,
        le=1,
        description="risk-free rate per year (0.03 = 3 %)",
        json_schema_extra={"step": 0.0001},
    )
    vol: float = Field(
        0.2,
        ge=0,
        le=5,
        description="volatility per √year (0.2 = 20 %)",
        json_schema_extra={"step": 0.0001},
    )
    dividend: float = Field(
        0.0,
        ge=-0.2,
        le=1,
        description="dividend yield per year",
        json_schema_extra={"step": 0.0001},
    )

    @property
    def expiry(self) -> float:
        """Years to expiry: days / 365."""
        return self.expiry_days / DAYS_PER_YEAR

    def greeks(self, *, spot=None, vol=None, expiry=None) -> Greeks:
        """Price and Greeks by the chosen model, optionally over arrays of spot, vol or expiry.

        Parameters
        ----------
        spot, vol, expiry : float or ndarray, optional
            Replace the option's own (expiry in years).

        Returns
        -------
        Greeks
        """
        s = self.spot if spot is None else spot
        v = self.vol if vol is None else vol
        t = self.expiry if expiry is None else expiry
        if self.model == "black76":
            return black76(self.right, s, self.strike, t, self.rate, v)
        return bsm(self.right, s, self.strike, t, self.rate, v, self.dividend)

    def implied(self, price: float) -> ImpliedVol:
        """The volatility at which the chosen model gives ``price`` (NaN with the reason)."""
        return implied_vol(
            self.right,
            price,
            self.spot,
            self.strike,
            self.expiry,
            self.rate,
            self.dividend,
            black76=self.model == "black76",
        )


class SizerParams(BaseModel):
    """A forex position sized from risk.

    Parameters
    ----------
    equity : float
        Account equity in the account currency.
    risk_pct : float
        Percent of equity to risk (1.0 = 1 %).
    stop_pips : float
        Stop distance in pips.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    equity: float = Field(10_000.0, gt=0, description="account equity")
    risk_pct: float = Field(1.0, gt=0, le=100, description="percent of equity (1 = 1 %)")
    stop_pips: float = Field(50.0, gt=0, description="stop distance in pips")


class MarginParams(BaseModel):
    """A futures position and the margins the broker asks.

    Parameters
    ----------
    contracts : float
        + long, - short.
    entry, price : float
        Entry and current prices.
    deposit : float
        Cash posted.
    initial_margin, maintenance_margin : float
        Per contract, as the broker sets them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    contracts: float = Field(1.0, description="+ long, - short")
    entry: float = Field(5000.0, gt=0, description="entry price")
    price: float = Field(5010.0, gt=0, description="current or exit price")
    deposit: float = Field(15_000.0, ge=0, description="cash posted")
    initial_margin: float = Field(12_000.0, ge=0, description="per contract (your broker's)")
    maintenance_margin: float = Field(11_000.0, ge=0, description="per contract")
