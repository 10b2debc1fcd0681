"""The strategy registry.

Built-ins plus any module dropped in ``core/strategies/user/`` (or in the folder named by
``WORKSTATION_STRATEGY_DIR``).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import pkgutil
from functools import cache
from pathlib import Path
from types import ModuleType

from core.errors import ConflictError, NotFoundError
from core.strategies._base import Strategy

PACKAGES = ("core.strategies.builtin", "core.strategies.user")


@cache
def registry() -> dict[str, type[Strategy]]:
    """Strategy name → class, for every strategy found (cached; see ``reload``)."""
    found: dict[str, type[Strategy]] = {}
    for module in _modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Strategy) and cls is not Strategy and cls.name:
                if cls.name in found and found[cls.name] is not cls:
                    raise ConflictError(f"two strategies are named {cls.name!r}")
                found[cls.name] = cls
    return dict(sorted(found.items()))


def reload() -> dict[str, type[Strategy]]:
    registry.cache_clear()
    return registry()


def get_strategy(name: str) -> type[Strategy]:
    strategies = registry()
    if name not in strategies:
        raise NotFoundError(f"unknown strategy {name!r}; available: {', '.join(strategies)}")
    return strategies[name]


def _modules() -> list[ModuleType]:
    modules = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            if not info.name.startswith("_"):
                modules.append(importlib.import_module(f"{package_name}.{info.name}"))
    extra = os.environ.get("WORKSTATION_STRATEGY_DIR")
    if extra:
        modules += [_load_file(path) for path in sorted(Path(extra).glob("[!_]*.py"))]
    return modules


def _load_file(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"user_strategy_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
