"""Strategies: parameters declared once, the same code in backtests and paper trading."""

from core.strategies._base import Context, Strategy
from core.strategies._params import ParamSpec, StrategyParams, param_space, parse_overrides
from core.strategies._registry import get_strategy, registry, reload

__all__ = [
    "Context",
    "ParamSpec",
    "Strategy",
    "StrategyParams",
    "get_strategy",
    "param_space",
    "parse_overrides",
    "registry",
    "reload",
]
