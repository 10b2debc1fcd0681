"""A trained PPO as a weights rule, and the seam through which strategies reach it.

:class:`TrainedPolicy` turns closes up to a bar and the weights held into target weights.
Strategies are built from a name and parameters alone (in backtests, paper workers and the
optimizer alike), so ``rl_allocation`` cannot be handed a registry: the composition root
installs the one policy loader of the process (:func:`install_policy_loader`, done by
``core/workstation.py`` with ``RLService.policy``) and the strategy asks
:func:`load_policy` for its ``model_id``. The loader reads the artifact through the model
registry (hash checked), so a strategy never loads a file itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import InvalidInputError
from core.rl._arith import to_weights
from core.rl._market import observe
from core.rl._ppo import predict
from core.rl._settings import EnvSettings


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
        observation = observe(closes, held, self.settings)
        return to_weights(predict(self.model, observation), self.settings)


PolicyLoader = Callable[[str], TrainedPolicy]
_loader: list[PolicyLoader] = []


def install_policy_loader(loader: PolicyLoader) -> None:
    """Make ``loader`` the process's way from a model id to a :class:`TrainedPolicy`."""
    _loader[:] = [loader]


def load_policy(model_id: str) -> TrainedPolicy:
    """The policy of ``model_id`` through the installed loader.

    Raises
    ------
    InvalidInputError
        When no workstation has installed a loader in this process.
    NotFoundError, ArtifactIntegrityError
        From the registry: an unknown id, a modified or missing artifact.
    """
    if not _loader:
        raise InvalidInputError(
            "rl model: no model registry is open in this process (open the workstation first)",
            field="model_id",
        )
    return _loader[0](model_id)
