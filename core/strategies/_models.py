"""Where a strategy that trades a trained model reads it (and writes new versions).

Strategies are built from their parameters (``build_strategy(name, params, models=...)``) the
same way in a backtest, a paper worker and the autopilot. A strategy that trades a model
(``needs_models = True``: ``ml_selection``, ``rl_allocation``, ``q_weights``) carries the
model's id in its parameters and is given a :class:`StrategyModels` by its runner, which the
composition root (``core/workstation.py``) built once and handed to the backtest service and
the paper workers explicitly; no module-level state is involved. ``read_artifact`` checks
the sha256 before it hands out the bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from core.errors import InvalidInputError


class ModelStore(Protocol):
    """What strategies use of :class:`core.models.ModelRegistry`."""

    def read_artifact(self, model_id: str) -> bytes: ...

    def require(self, model_id: str) -> Any: ...

    def save(
        self,
        *,
        model_id: str,
        kind: str,
        artifact: bytes,
        fmt: str,
        suffix: str,
        universe: Sequence[str] = (),
        spec: Mapping[str, Any] | None = None,
        folds: Sequence[Mapping[str, Any]] = (),
        metrics: Mapping[str, Any] | None = None,
        name: str = "",
    ) -> Any: ...


class Scorers(Protocol):
    """What ``ml_selection`` uses of :class:`core.ml.MLService`: a scorer by model id."""

    def scorer(self, model_id: str) -> Any: ...


class StrategyModels:
    """The model source a runner gives model-trading strategies: registry and ML scorers.

    Parameters
    ----------
    registry : ModelStore
        The model registry (hash-checked artifacts; new versions of an online learner).
    scorers : Scorers, optional
        The ML lab's scorers (``ml_selection``); none: scoring is refused with a message.
    """

    def __init__(self, registry: ModelStore, scorers: Scorers | None = None):
        self.registry, self.scorers = registry, scorers

    def read_artifact(self, model_id: str) -> bytes:
        """The bytes of ``model_id``'s artifact, after its sha256 check."""
        return self.registry.read_artifact(model_id)

    def require(self, model_id: str) -> Any:
        """The registry record of ``model_id`` (NotFoundError when there is none)."""
        return self.registry.require(model_id)

    def save(self, **record: Any) -> Any:
        """Record a new model version (see :meth:`core.models.ModelRegistry.save`)."""
        return self.registry.save(**record)

    def scorer(self, model_id: str) -> Any:
        """The ML lab's scorer of ``model_id``."""
        if self.scorers is None:
            raise InvalidInputError("model: this runner has no ML scorers", field="model_id")
        return self.scorers.scorer(model_id)


def require_models(models: Any, strategy: str) -> Any:
    """``models``, or a refusal naming ``strategy`` when its runner gave none."""
    if models is None:
        raise InvalidInputError(
            f"{strategy}: this runner has no model source (run it from the workstation: "
            "backtest, paper, autopilot)",
            field="model_id",
        )
    return models


__all__ = ["ModelStore", "Scorers", "StrategyModels", "require_models"]
