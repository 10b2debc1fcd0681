"""A trained PPO as a weights rule, loaded only from hash-checked registry bytes.

:class:`TrainedPolicy` turns closes up to a bar and the weights held into target weights.
:func:`policy_from` loads one from a model registry: ``RLService.policy`` passes its own,
and the ``rl_allocation`` strategy (built from its parameters alone, in backtests and paper
workers alike) passes the model source its runner was given by the composition root
(:class:`core.strategies.StrategyModels`).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from core.errors import InvalidInputError
from core.rl._arith import to_weights
from core.rl._market import observe
from core.rl._settings import EnvSettings

KIND = "ppo"  # the registry kind of a PPO model
CACHE = 8  # loaded policies kept in memory


@dataclass(frozen=True)
class TrainedPolicy:
    """A loaded PPO model with the universe and environment settings it was trained on.

    Attributes
    ----------
    model_id : str
    symbols : tuple of str, the N assets in the model's order
    settings : EnvSettings
    model : stable_baselines3.PPO
    """

    model_id: str
    symbols: tuple[str, ...]
    settings: EnvSettings
    model: Any

    @property
    def history_needed(self) -> int:
        """Closes needed up to the decision bar (lookback + 1)."""
        return self.settings.lookback + 1

    def target(self, closes: np.ndarray, held: np.ndarray) -> np.ndarray:
        """Target weights (N assets, then cash; sum 1) at the last of ``closes``.

        Parameters
        ----------
        closes : ndarray of shape (L, N)
            Closes up to the decision bar, columns in :attr:`symbols` order.
        held : ndarray of shape (N + 1,)
            Weights held at that close.
        """
        from core.rl._ppo import predict

        observation = observe(closes, held, self.settings)
        return to_weights(predict(self.model, observation), self.settings)


class PolicyStore(Protocol):
    """What loading a policy reads of :class:`core.models.ModelRegistry`."""

    def require(self, model_id: str) -> Any: ...
    def read_artifact(self, model_id: str) -> bytes: ...


_cache: OrderedDict[tuple[str, str], TrainedPolicy] = OrderedDict()


def policy_from(store: PolicyStore, model_id: str) -> TrainedPolicy:
    """The PPO of ``model_id``, loaded from the registry's hash-checked bytes.

    Loaded policies are kept (at most :data:`CACHE`) by id and artifact hash: an artifact is
    read and checked on every call, and a changed one is refused before anything loads.

    Raises
    ------
    NotFoundError
        An unknown id.
    ArtifactIntegrityError
        A modified or missing artifact.
    InvalidInputError
        A model of another kind.
    """
    record = store.require(model_id)
    if record.kind != KIND:
        raise InvalidInputError(
            f"model {model_id}: a {record.kind} model, not a PPO", field="model_id"
        )
    artifact = store.read_artifact(model_id)  # ArtifactIntegrityError when modified
    key = (model_id, hashlib.sha256(artifact).hexdigest())
    if key not in _cache:
        from core.rl._ppo import load_model

        settings = EnvSettings.model_validate(record.spec["env"])
        _cache[key] = TrainedPolicy(
            model_id, tuple(record.universe), settings, load_model(artifact)
        )
        while len(_cache) > CACHE:
            _cache.popitem(last=False)
    _cache.move_to_end(key)
    return _cache[key]
