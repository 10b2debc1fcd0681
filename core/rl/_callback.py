"""The stable-baselines3 callback of a training run: progress, curve, checkpoints, Cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback


class TrainingCallback(BaseCallback):
    """Progress, learning curve, checkpoints and Cancel for one training run.

    Parameters
    ----------
    total : int
        Timesteps asked for.
    ctx : object, optional
        A task context (``progress``, ``point``, ``should_stop``); None runs unobserved.
    checkpoint_every : int
        Save a checkpoint every this many timesteps (0: never).
    save_checkpoint : callable, optional
        ``(model, timesteps) -> checkpoint id``.
    """

    def __init__(
        self,
        total: int,
        ctx: Any = None,
        *,
        checkpoint_every: int = 0,
        save_checkpoint: Callable[[PPO, int], str] | None = None,
    ):
        super().__init__(verbose=0)
        self.total, self.ctx = total, ctx
        self.checkpoint_every, self.save_checkpoint = checkpoint_every, save_checkpoint
        self._next_checkpoint = checkpoint_every
        self.curve: list[dict[str, float]] = []
        self.checkpoints: list[str] = []
        self.stopped = False

    def _on_step(self) -> bool:
        if self.checkpoint_every and self.num_timesteps >= self._next_checkpoint:
            self._next_checkpoint += self.checkpoint_every
            if self.save_checkpoint is not None and self.num_timesteps < self.total:
                self.checkpoints.append(self.save_checkpoint(self.model, self.num_timesteps))
        if self.ctx is not None and self.ctx.should_stop():
            self.stopped = True
            return False
        return True

    def _on_rollout_end(self) -> None:
        episodes = [e["r"] for e in self.model.ep_info_buffer]
        if not episodes:
            return
        mean = float(np.mean(episodes))
        self.curve.append({"timesteps": float(self.num_timesteps), "mean_reward": mean})
        if self.ctx is not None:
            self.ctx.progress(
                self.num_timesteps,
                self.total,
                unit="timesteps",
                message=f"mean episode reward {mean:+.4f}",
            )
            self.ctx.point(timesteps=float(self.num_timesteps), mean_reward=mean)
