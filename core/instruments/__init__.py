"""Tradable instruments: what a symbol is and how its quantities and prices step."""

from core.instruments import _repository as repository
from core.instruments._catalog import (
    FUTURE_MARGINS,
    bundled_instruments,
    default_instrument,
    future_contract,
    fx_pair,
)
from core.instruments._model import AssetClass, Instrument, OptionRight, is_on_step

__all__ = [
    "FUTURE_MARGINS",
    "AssetClass",
    "Instrument",
    "OptionRight",
    "bundled_instruments",
    "default_instrument",
    "future_contract",
    "fx_pair",
    "is_on_step",
    "repository",
]
