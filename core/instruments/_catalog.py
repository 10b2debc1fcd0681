"""Definitions of the bundled symbols and a sensible default for a new one."""

from __future__ import annotations

from datetime import date

from core.derivatives import futures_spec
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


# Illustrative CME-like margins per contract (they change often: set the broker's own on the
# definition). Multiplier, tick and currency come from ``core.derivatives.CONTRACTS``.
FUTURE_MARGINS: dict[str, tuple[float, float]] = {  # root: (initial, maintenance)
    "ES": (13_200.0, 12_000.0),
    "MES": (1_320.0, 1_200.0),
    "NQ": (19_800.0, 18_000.0),
    "MNQ": (1_980.0, 1_800.0),
}


def future_contract(root: str, expiry: date, symbol: str | None = None, **overrides) -> Instrument:
    """A dated contract of a root in ``core.derivatives.CONTRACTS`` (``ESH1`` style symbol).

    Margins from :data:`FUTURE_MARGINS` when known; ``overrides`` replace any field (margins,
    multiplier...). Raises NotFoundError for an unknown root.
    """
    spec = futures_spec(root)
    initial, maintenance = FUTURE_MARGINS.get(root, (None, None))
    fields = {
        "symbol": symbol or f"{root}{'FGHJKMNQUVXZ'[expiry.month - 1]}{expiry.year % 10}",
        "name": f"{spec.name} {expiry:%b %Y}",
        "asset_class": AssetClass.FUTURE,
        "currency": spec.currency,
        "multiplier": spec.multiplier,
        "price_tick": spec.tick_size,
        "underlying": root,
        "expiry": expiry,
        "initial_margin": initial,
        "maintenance_margin": maintenance,
        **overrides,
    }
    return Instrument(**fields)


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
