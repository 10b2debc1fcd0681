"""Built-in strategies. Each module defines one Strategy subclass; the registry finds them."""

from core.strategies.builtin._signals import ZERO_TOLERANCE, cross_signs, sma_array

__all__ = ["ZERO_TOLERANCE", "cross_signs", "sma_array"]
