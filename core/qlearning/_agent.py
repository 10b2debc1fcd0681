"""Tabular Q-learning over weight vectors: the action grid, the learning loop and the model.

Actions are the points of the simplex grid with step ``step`` over K sleeves (step 0.25 and
K = 2 gives 5 actions, K = 3 gives 15). A decision at bar ``t`` picks one; its reward is the
weighted sleeves' return over the next ``rebalance`` bars, less the cost of moving the weights
of the sleeves that hold a position, optionally less ``risk_aversion × r²``. Exploration is
epsilon-greedy with a per-episode decay, from one seeded generator: the same inputs give the
same Q-table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from core.errors import InvalidInputError
from core.qlearning._state import StateEncoder

FORMAT = "qlearning-v1"


def simplex_grid(k: int, step: float) -> np.ndarray:
    """Every weight vector over ``k`` sleeves on a grid of ``step``, summing to 1.

    Parameters
    ----------
    k : int
        Number of sleeves (≥ 1).
    step : float
        Grid step; ``1 / step`` must be a whole number.

    Returns
    -------
    ndarray of shape (n_actions, k)
        Rows in lexicographic order, largest first weight first: with k = 2 and step 0.25,
        (1, 0), (0.75, 0.25), …, (0, 1). There are C(n + k − 1, k − 1) rows, n = 1 / step.
    """
    n = round(1 / step)

    def parts(total: int, slots: int):
        if slots == 1:
            yield (total,)
            return
        for first in range(total, -1, -1):
            for rest in parts(total - first, slots - 1):
                yield (first, *rest)

    return np.array(list(parts(n, k)), dtype=float) / n


@dataclass
class Experience:
    """What the learner trains on, one row per decision of one phase.

    ``states[p]`` has one state index per decision of phase ``p`` (decisions every
    ``rebalance`` bars from bar ``p``); ``returns[p]`` the sleeves' returns over the period
    that follows, shape (n_decisions, k); ``exposure[p]`` each sleeve's |exposure| at the
    decision (the share of a weight change that trades).
    """

    states: list[np.ndarray]
    returns: list[np.ndarray]
    exposure: list[np.ndarray]


@dataclass
class QModel:
    """A trained Q-table and what it needs to act: strategies, actions, state encoder.

    Serialised as canonical JSON (:meth:`to_bytes`); :meth:`from_bytes` refuses anything that
    is not such a document.
    """

    strategies: list[str]
    params: list[dict[str, Any]]
    actions: list[list[float]]
    states: list[str]
    q: list[list[float]]
    visits: list[list[int]]
    encoder: StateEncoder
    rebalance: int
    learning_rate: float
    discount: float
    risk_aversion: float
    cost_rate: float
    symbol: str = ""
    parent: str = ""
    updates: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    # -- acting ----------------------------------------------------------------------------
    def best_action(self, state: str) -> int | None:
        """Index of the greedy action in ``state``; None when training never visited it."""
        s = self.states.index(state) if state in self.states else -1
        if s < 0 or not any(self.visits[s]):
            return None
        row = self.q[s]
        return max(range(len(row)), key=row.__getitem__)  # first of equal values

    def weights(self, state: str | None) -> list[float]:
        """The policy's weights in ``state`` (equal weights in an unvisited state)."""
        a = None if state is None else self.best_action(state)
        k = len(self.strategies)
        return [1 / k] * k if a is None else list(self.actions[a])

    def policy(self) -> dict[str, dict[str, float]]:
        """Visited state → strategy → weight (the greedy action)."""
        out = {}
        for state in self.states:
            a = self.best_action(state)
            if a is not None:
                out[state] = dict(zip(self.strategies, self.actions[a], strict=True))
        return out

    def updated(self, state: str, action: int, reward: float, next_state: str | None) -> QModel:
        """A copy with one online Q update (the trained table is never changed)."""
        s = self.states.index(state)
        q = [list(row) for row in self.q]
        visits = [list(row) for row in self.visits]
        n = self.states.index(next_state) if next_state in self.states else None
        future = 0.0 if n is None else max(q[n])
        q[s][action] += self.learning_rate * (reward + self.discount * future - q[s][action])
        visits[s][action] += 1
        return replace(self, q=q, visits=visits, updates=self.updates + 1)

    # -- storage ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["encoder"] = self.encoder.to_dict()
        return {"format": FORMAT, **data}

    def to_bytes(self) -> bytes:
        """Canonical JSON (sorted keys, no NaN): equal models give equal bytes."""
        return json.dumps(self.to_dict(), sort_keys=True, allow_nan=False).encode()

    def digest(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()[:16]

    @classmethod
    def from_bytes(cls, data: bytes) -> QModel:
        """The model in ``data`` (bytes read from the registry after its hash check)."""
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise InvalidInputError("qlearning model: the artifact is not JSON") from None
        if not isinstance(doc, dict) or doc.pop("format", None) != FORMAT:
            raise InvalidInputError(f"qlearning model: the artifact is not {FORMAT}")
        if set(doc) != set(cls.__dataclass_fields__):
            raise InvalidInputError("qlearning model: the artifact's keys are not as written")
        doc["encoder"] = StateEncoder.from_dict(doc["encoder"])
        model = cls(**doc)
        shape = (len(model.states), len(model.actions))
        if np.shape(model.q) != shape or np.shape(model.visits) != shape:
            raise InvalidInputError("qlearning model: the Q-table's shape is not states × actions")
        return model


def learn(
    experience: Experience,
    actions: np.ndarray,
    n_states: int,
    *,
    episodes: int,
    learning_rate: float,
    discount: float,
    epsilon: Callable[[int], float],
    risk_aversion: float,
    cost_rate: float,
    seed: int,
    averaging: bool = False,
    on_episode: Callable[[int, float], bool] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Epsilon-greedy Q-learning over the training decisions.

    Each episode walks the decisions of one phase (drawn from the seeded generator) in time
    order: ``Q[s, a] += lr × (r + γ max Q[s', ·] − Q[s, a])``, with no future after the last
    decision; ``lr`` is ``learning_rate``, or ``1 / n(s, a)`` with ``averaging``.

    Parameters
    ----------
    experience : Experience
    actions : ndarray of shape (n_actions, k)
    n_states : int
    episodes : int
    learning_rate, discount : float
    epsilon : callable, episode number → exploration rate
    risk_aversion, cost_rate : float
        Reward ``r − risk_aversion × r²`` where ``r`` is the weighted return less
        ``cost_rate × Σ |Δw| × |exposure|``.
    seed : int
    averaging : bool, default False
        Step ``1 / n(s, a)`` (the running mean of the targets) instead of ``learning_rate``.
    on_episode : callable, optional
        Called with (episode, mean reward) after each; returning True stops early.

    Returns
    -------
    q : ndarray of shape (n_states, n_actions)
    visits : ndarray of int of shape (n_states, n_actions)
    curve : list of float, the mean reward of each episode
    """
    rng = np.random.default_rng(seed)
    n_actions = len(actions)
    q = np.zeros((n_states, n_actions))
    visits = np.zeros((n_states, n_actions), dtype=np.int64)
    period = [r @ actions.T for r in experience.returns]  # (n_decisions, n_actions) per phase
    curve: list[float] = []
    usable = [p for p, s in enumerate(experience.states) if len(s)]
    if not usable:
        raise InvalidInputError("training span: no decision has a state and a next period")
    for episode in range(episodes):
        eps = epsilon(episode)
        p = usable[int(rng.integers(len(usable)))]
        states, gross, held = experience.states[p], period[p], experience.exposure[p]
        n = len(states)
        explore = rng.random(n) < eps
        random_actions = rng.integers(n_actions, size=n)
        prev = None
        total = 0.0
        for d in range(n):
            s = states[d]
            a = int(random_actions[d]) if explore[d] else int(np.argmax(q[s]))
            r = float(gross[d, a])
            if prev is not None:
                r -= cost_rate * float(np.abs(actions[a] - actions[prev]) @ held[d])
            r -= risk_aversion * r * r
            future = discount * float(q[states[d + 1]].max()) if d + 1 < n else 0.0
            visits[s, a] += 1
            step = 1.0 / visits[s, a] if averaging else learning_rate
            q[s, a] += step * (r + future - q[s, a])
            total += r
            prev = a
        curve.append(total / n)
        if on_episode is not None and on_episode(episode, curve[-1]):
            break
    return q, visits, curve


def epsilon_schedule(start: float, end: float, decay: float) -> Callable[[int], float]:
    """Episode ``e`` → ``max(end, start × decay^e)``."""
    return lambda e: max(end, start * decay**e)


def action_labels(actions: Sequence[Sequence[float]]) -> list[str]:
    """``"0.75/0.25"`` for each action (weights in strategy order)."""
    return ["/".join(f"{w:g}" for w in a) for a in actions]
