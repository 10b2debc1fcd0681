"""PPO on :class:`~core.rl.PortfolioEnv` with stable-baselines3: seeded, observed, stoppable.

:func:`train_ppo` seeds Python, numpy and torch, fixes torch to one thread with
deterministic algorithms, and learns through :class:`TrainingCallback`, which reports
timesteps and the mean episode reward to a task context, saves checkpoints, and stops when
the context says so. :func:`model_bytes` and :func:`load_model` are the only ways a model
leaves or enters memory: an SB3 zip as bytes (load only bytes whose hash was checked).
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from core.rl._market import RLMarket
from core.rl._settings import EnvSettings, PPOParams

if TYPE_CHECKING:  # torch and stable-baselines3 load only when a model is trained or loaded
    from stable_baselines3 import PPO


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch; one torch thread, deterministic algorithms."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True, warn_only=True)


@dataclass
class Trained:
    """What :func:`train_ppo` gives back."""

    model: PPO
    timesteps: int
    stopped: bool
    curve: list[dict[str, float]] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)


def build_ppo(
    market: RLMarket,
    settings: EnvSettings,
    params: PPOParams,
    span: tuple[int, int],
    seed: int,
) -> PPO:
    """A fresh PPO on ``params.n_envs`` seeded environments over the bars ``span``."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    from core.rl._env import PortfolioEnv

    seed_everything(seed)

    def make(i: int) -> Callable[[], Monitor]:
        return lambda: Monitor(PortfolioEnv(market, settings, span=span))

    envs = DummyVecEnv([make(i) for i in range(params.n_envs)])
    width = [params.net_width] * params.net_depth
    return PPO(
        "MlpPolicy",
        envs,
        learning_rate=params.learning_rate,
        n_steps=params.n_steps,
        batch_size=params.batch_size,
        n_epochs=params.n_epochs,
        gamma=params.gamma,
        gae_lambda=params.gae_lambda,
        clip_range=params.clip_range,
        ent_coef=params.ent_coef,
        vf_coef=params.vf_coef,
        max_grad_norm=params.max_grad_norm,
        policy_kwargs={
            "net_arch": {"pi": width, "vf": width},
            "log_std_init": params.log_std_init,
            "activation_fn": torch.nn.Tanh,
        },
        seed=seed,
        device="cpu",
        verbose=0,
    )


def train_ppo(
    model: PPO,
    timesteps: int,
    ctx: Any = None,
    *,
    checkpoint_every: int = 0,
    save_checkpoint: Callable[[PPO, int], str] | None = None,
) -> Trained:
    """Learn for ``timesteps`` (or until the context asks to stop)."""
    from core.rl._callback import TrainingCallback

    callback = TrainingCallback(
        timesteps, ctx, checkpoint_every=checkpoint_every, save_checkpoint=save_checkpoint
    )
    model.learn(total_timesteps=timesteps, callback=callback, progress_bar=False)
    if ctx is not None:
        ctx.progress(model.num_timesteps, timesteps, unit="timesteps", message="evaluating")
    return Trained(
        model, int(model.num_timesteps), callback.stopped, callback.curve, callback.checkpoints
    )


def model_bytes(model: PPO) -> bytes:
    """The model as an SB3 zip, in memory."""
    buffer = io.BytesIO()
    model.save(buffer)
    return buffer.getvalue()


def load_model(artifact: bytes) -> PPO:
    """A PPO from SB3 zip bytes the registry has hash-checked (never from a path).

    The learning-rate and clip-range schedules are replaced by constants, so those two
    cloudpickled objects are never unpickled (they are not needed to predict).
    """
    import torch
    from stable_baselines3 import PPO

    torch.set_num_threads(1)
    return PPO.load(
        io.BytesIO(artifact),
        device="cpu",
        custom_objects={"learning_rate": 0.0, "lr_schedule": lambda _: 0.0, "clip_range": 0.2},
    )


def predict(model: PPO, observation: np.ndarray) -> np.ndarray:
    """The deterministic action (the policy's mean) for one observation."""
    action, _ = model.predict(observation, deterministic=True)
    return np.asarray(action, dtype=float)
