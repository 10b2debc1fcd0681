"""Where a strategy that trades a trained model reads it (and writes new versions).

Strategies are built from their parameters alone (``build_strategy(name, params)``), the same
way in a backtest and in a paper worker, so a strategy's parameters carry a ``model_id`` and
the strategy asks :func:`model_store` for the model. The composition root
(``core/workstation.py``) installs the workstation's model registry with
:func:`install_model_store`; every process that builds a workstation (the app, the CLI, paper
and task workers) therefore reads the same registry, whose ``read_artifact`` checks the sha256
before it hands out the bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from core.errors import InvalidInputError


class ModelStore(Protocol):
    """What strategies use of :class:`core.models.ModelRegistry`."""

    def read_artifact(self, model_id: str) -> bytes: ...

    def save(
        self,
        *,
        model_id: str,
        kind: str,
        artifact: bytes,
        fmt: str,
        suffix: str,
        universe: Sequence[str] = (),
        spec: Mapping[str, Any] = {},
        folds: Sequence[Mapping[str, Any]] = (),
        metrics: Mapping[str, Any] = {},
        name: str = "",
    ) -> Any: ...


_installed: list[ModelStore] = []


def install_model_store(store: ModelStore) -> None:
    """Make ``store`` the registry strategies read models from (the composition root calls it).

    Parameters
    ----------
    store : ModelStore
        Normally the workstation's :class:`core.models.ModelRegistry`.
    """
    _installed[:] = [store]


def model_store() -> ModelStore:
    """The installed model registry.

    Returns
    -------
    ModelStore

    Raises
    ------
    InvalidInputError
        ``model: no model registry is open`` when no workstation installed one.
    """
    if not _installed:
        raise InvalidInputError("model: no model registry is open (open the workstation first)")
    return _installed[0]


__all__ = ["ModelStore", "install_model_store", "model_store"]
