"""Strategies: parameters declared once, the same code in backtests and paper trading."""

from core.strategies._base import Context, Strategy
from core.strategies._factory import (
    InvalidParams,
    ModelSource,
    build_strategy,
    validate_field,
    validate_params,
)
from core.strategies._indicators import RSI
from core.strategies._models import ModelStore, StrategyModels, require_models
from core.strategies._params import ParamSpec, StrategyParams, param_space, parse_overrides
from core.strategies._registry import get_strategy, registry, reload
from core.strategies._saved import config_hash, save_strategy_config, strategy_configs

__all__ = [
    "RSI",
    "Context",
    "InvalidParams",
    "ModelSource",
    "ModelStore",
    "ParamSpec",
    "Strategy",
    "StrategyModels",
    "StrategyParams",
    "build_strategy",
    "config_hash",
    "get_strategy",
    "param_space",
    "parse_overrides",
    "registry",
    "reload",
    "require_models",
    "save_strategy_config",
    "strategy_configs",
    "validate_field",
    "validate_params",
]
