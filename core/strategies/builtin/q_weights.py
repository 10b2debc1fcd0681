"""Q-learned strategy weights (meta-strategy over K single-instrument strategies).

Rule: the sleeve strategies of a Q-learning model (``model_id``, trained by
:class:`core.qlearning.QLearningService`) run side by side on the one instrument, each only
stating the direction it wants. Every ``rebalance`` bars (the model's) the state at this
close (HMM filtered regime, volatility bucket, recent-return bucket; data up to this close)
picks the policy's weights; the position is ``Σ weight × direction`` of the sizing rule's
position, traded whenever it changes (orders fill at the next open). Without a model,
``strategies`` are held at equal weights (the baseline). With ``online`` the Q-table learns
from each period's realised sleeve returns as it trades; every ``save_every`` updates the
table is saved as a new model version (the trained one is never changed) and
``model_id_`` names the latest.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from core.errors import InvalidInputError
from core.strategies._base import Strategy
from core.strategies._params import StrategyParams


class QWeightsParams(StrategyParams):
    """The Q-table's model id, or strategies at equal weights; online learning."""

    model_id: str = Field("", max_length=64, description="registry id of a trained Q-table")
    strategies: str = Field(
        "", description="comma-separated strategies held at equal weights (without a model)"
    )
    online: bool = Field(False, description="update the Q-table from realised returns")
    save_every: int = Field(
        20, ge=1, le=10_000, description="online updates between saved model versions"
    )

    @field_validator("strategies")
    @classmethod
    def _names(cls, value: str) -> str:
        return ",".join(s.strip() for s in value.split(",") if s.strip())


class QWeights(Strategy):
    """Weights over strategies' sleeves by a learned Q-table policy.

    Attributes
    ----------
    decisions_ : list of (bar, state, weights), one per decision
    model_id_ : str, the model in force (a new version after online saves)
    """

    name = "q_weights"
    label = "Q-learned strategy weights"
    Params = QWeightsParams
    needs_models = True  # the factory passes the runner's model source

    _given = None  # a model handed over by the trainer (its bytes already hash-checked)
    _equal = False
    runner = None

    def use_model(self, model, *, equal: bool = False) -> QWeights:
        """Trade ``model`` (a :class:`core.qlearning.QModel`) instead of loading ``model_id``.

        With ``equal`` its sleeves are held at equal weights (the baseline).
        """
        self._given, self._equal = model, equal
        return self

    def on_start(self, ctx) -> None:
        from core.qlearning import QWeightsRunner

        self.runner = QWeightsRunner.build(
            self.params, self._given, equal=self._equal, store=self.models
        )
        self.runner.start(ctx)
        self.decisions_ = self.runner.decisions
        self.model_id_ = self.params.model_id

    def on_bar(self, ctx) -> None:
        if self.runner is None:
            raise InvalidInputError("q_weights: on_bar before on_start")
        self.runner.on_bar(ctx)
        self.model_id_ = self.runner.model_id or self.params.model_id
