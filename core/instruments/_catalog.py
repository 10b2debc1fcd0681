"""Definitions of the bundled symbols and a sensible default for a new one."""

from __future__ import annotations

from datetime import date

from core.instruments._model import AssetClass, Instrument

STOCK_NAMES = {
    "AAPL": "Apple",
    "AMD": "Advanced Micro Devices",
    "BAC": "Bank of America",
    "BBY": "Best Buy",
    "CVX": "Chevron",
    "GE": "General Electric",
    "HD": "Home Depot",
    "JNJ": "Johnson & Johnson",
    "JPM": "JPMorgan Chase",
    "KO": "Coca-Cola",
    "LLY": "Eli Lilly",
    "MRK": "Merck",
    "MSFT": "Microsoft",
    "PEP": "PepsiCo",
    "PFE": "Pfizer",
    "PG": "Procter & Gamble",
    "RRC": "Range Resources",
    "UNH": "UnitedHealth",
    "WMT": "Walmart",
    "XOM": "Exxon Mobil",
}

INDEX_NAMES = {
    "SP500": "S&P 500 index (close)",
    "SPX": "S&P 500 index (OHLCV)",
    "IXIC": "NASDAQ Composite (OHLCV)",
}


# the bundled FX closes are SYNTHETIC (scripts/generate_synthetic_fx.py), and say so
FX_NAMES = {
    "EURUSD": "EUR/USD (SYNTHETIC data)",
    "USDJPY": "USD/JPY (SYNTHETIC data)",
    "GBPUSD": "GBP/USD (SYNTHETIC data)",
    "EURGBP": "EUR/GBP (SYNTHETIC data)",
}


def fx_pair(symbol: str, name: str = "") -> Instrument:
    """A currency pair ``BASEQUOTE`` (EURUSD): quoted in the quote currency, 1 unit steps.

    The pip is 0.0001, or 0.01 when the quote currency is JPY; prices step by a tenth of it.
    """
    quote = symbol[3:6]
    pip = 0.01 if quote == "JPY" else 0.0001
    return Instrument(
        symbol=symbol,
        name=name,
        asset_class=AssetClass.FOREX,
        currency=quote,
        pip_size=pip,
        price_tick=pip / 10,
    )


# Contract specifications of common index futures. The margins are illustrative CME-like
# figures per contract (they change often): set the broker's own on the definition.
FUTURE_SPECS: dict[str, dict] = {
    "ES": {"name": "E-mini S&P 500", "multiplier": 50.0, "price_tick": 0.25,
           "initial_margin": 13_200.0, "maintenance_margin": 12_000.0},
    "MES": {"name": "Micro E-mini S&P 500", "multiplier": 5.0, "price_tick": 0.25,
            "initial_margin": 1_320.0, "maintenance_margin": 1_200.0},
    "NQ": {"name": "E-mini Nasdaq-100", "multiplier": 20.0, "price_tick": 0.25,
           "initial_margin": 19_800.0, "maintenance_margin": 18_000.0},
    "MNQ": {"name": "Micro E-mini Nasdaq-100", "multiplier": 2.0, "price_tick": 0.25,
            "initial_margin": 1_980.0, "maintenance_margin": 1_800.0},
}  # fmt: skip


def future_contract(root: str, expiry: date, symbol: str | None = None, **overrides) -> Instrument:
    """A dated contract of a root in :data:`FUTURE_SPECS` (``ESH6`` style symbol by default).

    ``overrides`` replace spec fields (margins, multiplier...). Raises KeyError for an unknown
    root.
    """
    spec = {**FUTURE_SPECS[root], **overrides}
    name = f"{spec.pop('name')} {expiry:%b %Y}"
    code = "FGHJKMNQUVXZ"[expiry.month - 1]
    return Instrument(
        symbol=symbol or f"{root}{code}{expiry.year % 10}",
        name=name,
        asset_class=AssetClass.FUTURE,
        underlying=root,
        expiry=expiry,
        **spec,
    )


def bundled_instruments() -> list[Instrument]:
    """Instruments for every symbol shipped in ``data/market``."""
    stocks = [Instrument(symbol=s, name=n) for s, n in STOCK_NAMES.items()]
    indices = [
        Instrument(symbol=s, name=n, asset_class=AssetClass.INDEX) for s, n in INDEX_NAMES.items()
    ]
    return stocks + indices + [fx_pair(s, n) for s, n in FX_NAMES.items()]


def default_instrument(
    symbol: str, asset_class: AssetClass = AssetClass.STOCK, **extra
) -> Instrument:
    """A definition with the usual conventions of an asset class."""
    presets: dict[AssetClass, dict] = {
        AssetClass.CRYPTO: {"quantity_step": 1e-8, "price_tick": 0.01},
        AssetClass.FOREX: {"quantity_step": 1.0, "price_tick": 0.00001, "pip_size": 0.0001},
        AssetClass.FUTURE: {"multiplier": 50.0, "price_tick": 0.25},
        AssetClass.OPTION: {"multiplier": 100.0},
    }
    fields = {**presets.get(asset_class, {}), **extra}
    return Instrument(symbol=symbol, asset_class=asset_class, **fields)
