"""Forex calculators: pip size, pip value in the account currency, and lot sizing from risk.

A pair ``BASE/QUOTE`` is priced in QUOTE per unit of BASE. One pip is 0.0001 of the quote
currency, 0.01 for yen quotes (``USD/JPY``, ``EUR/JPY``). The pip value of ``units`` of the
base currency is ``units × pip_size`` in the quote currency; in the account currency it is
that times the *conversion*: account-currency units per unit of the quote currency (1 when
the account is in the quote currency; 1/price when the account is in the base currency;
otherwise a rate the caller gives, e.g. GBPUSD for EUR/GBP in a USD account).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from core.errors import InvalidInputError

STANDARD_LOT = 100_000.0
_PAIR = re.compile(r"^\s*([A-Za-z]{3})\s*[/\-_ ]?\s*([A-Za-z]{3})\s*$")
_CODE = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class CurrencyPair:
    """A currency pair: ``base`` priced in ``quote``.

    Attributes
    ----------
    base, quote : str
        Three-letter ISO codes, upper case.
    """

    base: str
    quote: str

    @classmethod
    def parse(cls, text: str) -> CurrencyPair:
        """``"EUR/USD"``, ``"EURUSD"``, ``"eur-usd"`` → ``CurrencyPair("EUR", "USD")``.

        Parameters
        ----------
        text : str
            The pair as written.

        Returns
        -------
        CurrencyPair
        """
        match = _PAIR.match(str(text))
        if not match:
            raise InvalidInputError(f"pair: {text!r} is not BASE/QUOTE (e.g. EUR/USD)", "pair")
        base, quote = match.group(1).upper(), match.group(2).upper()
        if base == quote:
            raise InvalidInputError(f"pair: {text!r} quotes a currency in itself", "pair")
        return cls(base, quote)

    @property
    def pip_size(self) -> float:
        """0.01 for a yen quote, else 0.0001 (in the quote currency)."""
        return 0.01 if self.quote == "JPY" else 0.0001

    def __str__(self) -> str:
        """``BASE/QUOTE``."""
        return f"{self.base}/{self.quote}"


def _currency(code: str, field: str) -> str:
    code = str(code).strip().upper()
    if not _CODE.match(code):
        raise InvalidInputError(f"{field}: {code!r} is not a three-letter currency code", field)
    return code


def conversion_rate(
    pair: CurrencyPair, account: str, conversion: float | None = None, price: float | None = None
) -> float:
    """Account-currency units per unit of the pair's quote currency.

    Parameters
    ----------
    pair : CurrencyPair
        The pair traded.
    account : str
        The account currency.
    conversion : float, optional
        The rate, when the account is neither the quote nor (with ``price``) the base.
    price : float, optional
        The pair's price (quote per base): gives the rate 1/price for a base-currency account.

    Returns
    -------
    float
        1 when the account is the quote currency.
    """
    account = _currency(account, "account")
    if conversion is not None:
        if not (math.isfinite(conversion) and conversion > 0):
            raise InvalidInputError("conversion: must be a positive rate", "conversion")
        if account == pair.quote and conversion != 1.0:
            raise InvalidInputError(
                f"conversion: the account is in {pair.quote}, the quote currency, so it is 1",
                "conversion",
            )
        return float(conversion)
    if account == pair.quote:
        return 1.0
    if account == pair.base and price is not None:
        if not (math.isfinite(price) and price > 0):
            raise InvalidInputError("price: must be a positive price", "price")
        return 1.0 / price
    raise InvalidInputError(
        f"conversion: give {account} per {pair.quote} (the account is not the quote currency)",
        "conversion",
    )


@dataclass(frozen=True)
class PipValue:
    """What one pip is worth.

    Attributes
    ----------
    pair : str
        ``BASE/QUOTE``.
    pip_size : float
        In the quote currency per unit of the base (0.0001, or 0.01 for JPY quotes).
    units : float
        Base-currency units held (100,000 = one standard lot).
    pip_value_quote : float
        ``units × pip_size``, in the quote currency.
    conversion : float
        Account-currency units per unit of the quote currency.
    pip_value : float
        In the account currency.
    account : str
        The account currency.
    """

    pair: str
    pip_size: float
    units: float
    pip_value_quote: float
    conversion: float
    pip_value: float
    account: str

    def as_dict(self) -> dict:
        """The fields by name."""
        return dict(self.__dict__)


def pip_value(
    pair: str | CurrencyPair,
    units: float,
    account: str = "USD",
    conversion: float | None = None,
    price: float | None = None,
) -> PipValue:
    """The value of one pip on ``units`` of a pair, in the account currency.

    Parameters
    ----------
    pair : str or CurrencyPair
        ``"EUR/USD"`` and the like.
    units : float
        Base-currency units (> 0; 100,000 is a standard lot).
    account : str, default "USD"
        The account currency.
    conversion : float, optional
        Account-currency units per unit of the quote currency (see :func:`conversion_rate`).
    price : float, optional
        The pair's price, used when the account is in the base currency.

    Returns
    -------
    PipValue
    """
    p = pair if isinstance(pair, CurrencyPair) else CurrencyPair.parse(pair)
    if not (math.isfinite(units) and units > 0):
        raise InvalidInputError("units: must be greater than 0", "units")
    rate = conversion_rate(p, account, conversion, price)
    in_quote = units * p.pip_size
    return PipValue(
        pair=str(p),
        pip_size=p.pip_size,
        units=float(units),
        pip_value_quote=in_quote,
        conversion=rate,
        pip_value=in_quote * rate,
        account=_currency(account, "account"),
    )


@dataclass(frozen=True)
class PositionSize:
    """A forex position sized so a stop-out loses a set share of equity.

    Attributes
    ----------
    units : float
        Base-currency units, rounded down to ``lot_step`` lots.
    lots : float
        ``units / 100,000``.
    risk_amount : float
        The loss allowed: equity × risk % / 100 (account currency).
    risk_at_stop : float
        What the rounded position loses at the stop (≤ ``risk_amount``).
    pip_value : float
        The rounded position's pip value (account currency).
    """

    units: float
    lots: float
    risk_amount: float
    risk_at_stop: float
    pip_value: float

    def as_dict(self) -> dict:
        """The fields by name."""
        return dict(self.__dict__)


def position_size(
    pair: str | CurrencyPair,
    equity: float,
    risk_pct: float,
    stop_pips: float,
    account: str = "USD",
    conversion: float | None = None,
    price: float | None = None,
    lot_step: float = 0.01,
) -> PositionSize:
    """Units to trade so that hitting a stop ``stop_pips`` away loses ``risk_pct`` % of equity.

    Parameters
    ----------
    pair : str or CurrencyPair
        The pair traded.
    equity : float
        Account equity in the account currency (> 0).
    risk_pct : float
        Percent of equity to risk (1.0 = 1 %), in (0, 100].
    stop_pips : float
        Distance to the stop in pips (> 0).
    account, conversion, price
        As :func:`pip_value`.
    lot_step : float, default 0.01
        Lots are rounded down to this step (0.01 = a micro lot of 1,000 units).

    Returns
    -------
    PositionSize
    """
    p = pair if isinstance(pair, CurrencyPair) else CurrencyPair.parse(pair)
    for name, value in (("equity", equity), ("stop_pips", stop_pips), ("lot_step", lot_step)):
        if not (math.isfinite(value) and value > 0):
            raise InvalidInputError(f"{name}: must be greater than 0", name)
    if not (math.isfinite(risk_pct) and 0 < risk_pct <= 100):
        raise InvalidInputError("risk_pct: must be in (0, 100] percent", "risk_pct")
    rate = conversion_rate(p, account, conversion, price)
    risk = equity * risk_pct / 100.0
    per_unit_at_stop = stop_pips * p.pip_size * rate
    lots = math.floor(risk / per_unit_at_stop / STANDARD_LOT / lot_step + 1e-9) * lot_step
    units = round(lots * STANDARD_LOT, 6)
    return PositionSize(
        units=units,
        lots=round(lots, 10),
        risk_amount=risk,
        risk_at_stop=units * per_unit_at_stop,
        pip_value=units * p.pip_size * rate,
    )
