"""Q-learning of strategy weights: a tabular agent that moves capital between strategies.

- :class:`QLearningRequest` / :class:`QLearningSettings` — what a run is given;
- :class:`QLearningService` — train, save (model registry), evaluate out of sample
  (``ws.qlearning``);
- :class:`QModel` — the Q-table with its actions, states and state encoder (JSON artifact);
- :class:`StateEncoder`, :class:`StateTracker`, :func:`fit_encoder` — regime, volatility and
  recent-return state, fitted on the training span, read one close at a time;
- :func:`simplex_grid`, :func:`learn` — the action grid and the epsilon-greedy learner;
- :class:`QWeightsRunner`, :class:`SleeveMixer` — what the ``q_weights`` strategy runs each bar.
"""

from core.qlearning._agent import (
    Experience,
    QModel,
    action_labels,
    epsilon_schedule,
    learn,
    simplex_grid,
)
from core.qlearning._mixer import SleeveMixer, SleeveView
from core.qlearning._request import QLearningRequest, QLearningSettings
from core.qlearning._runner import QWeightsRunner
from core.qlearning._service import QLearningService
from core.qlearning._state import StateEncoder, StateTracker, fit_encoder

__all__ = [
    "Experience",
    "QLearningRequest",
    "QLearningService",
    "QLearningSettings",
    "QModel",
    "QWeightsRunner",
    "SleeveMixer",
    "SleeveView",
    "StateEncoder",
    "StateTracker",
    "action_labels",
    "epsilon_schedule",
    "fit_encoder",
    "learn",
    "simplex_grid",
]
