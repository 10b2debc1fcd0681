"""Reinforcement learning for portfolio weights: an honest environment and PPO.

:class:`PortfolioEnv` (gymnasium) trades N assets and cash at the next bar's open with
commission and slippage on the turnover; :class:`RLService` trains stable-baselines3's PPO
on it as a task, compares it out of sample with equal weight, minimum variance, maximum
Sharpe and buy-and-hold, saves it to the model registry and serves its weights
(``ws.rl.weights``). Settings are pydantic models (:class:`EnvSettings`, :class:`PPOParams`,
:class:`PPOTrainRequest`). gymnasium, torch and stable-baselines3 are imported only when an
environment is built or a model trained or loaded, so opening the workstation stays fast.
"""

from core.rl._arith import to_weights, trade_step
from core.rl._evaluate import PolicyRun, buy_and_hold, fixed_targets, run_policy
from core.rl._market import RLMarket, observation_size, observe, read_closes_file
from core.rl._policy import PolicyStore, TrainedPolicy, policy_from
from core.rl._ppo import build_ppo, load_model, model_bytes, seed_everything, train_ppo
from core.rl._report import POLICIES, compare, ppo_decide
from core.rl._service import RLService
from core.rl._settings import DEFAULT_TIMESTEPS, EnvSettings, PPOParams, PPOTrainRequest


def __getattr__(name: str):
    """``PortfolioEnv`` on first use (it imports gymnasium)."""
    if name == "PortfolioEnv":
        from core.rl._env import PortfolioEnv

        return PortfolioEnv
    raise AttributeError(f"module 'core.rl' has no attribute {name!r}")


__all__ = [
    "DEFAULT_TIMESTEPS",
    "POLICIES",
    "EnvSettings",
    "PPOParams",
    "PPOTrainRequest",
    "PolicyRun",
    "PolicyStore",
    "PortfolioEnv",
    "RLMarket",
    "RLService",
    "TrainedPolicy",
    "build_ppo",
    "buy_and_hold",
    "compare",
    "fixed_targets",
    "load_model",
    "model_bytes",
    "observation_size",
    "observe",
    "policy_from",
    "ppo_decide",
    "read_closes_file",
    "run_policy",
    "seed_everything",
    "to_weights",
    "trade_step",
    "train_ppo",
]
