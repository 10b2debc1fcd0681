"""``PortfolioEnv``: N assets plus cash, next-open execution, costs on turnover.

One step is one decision at the close of bar ``t``:

1. the action (N + 1 reals) becomes long-only target weights ``w`` (:func:`to_weights`);
2. at the open of ``t + 1`` the held weights ``h`` have drifted with the overnight move
   ``g = O[t+1] / C[t]``: value ``V·(h·g + h_cash)``, drifted weights ``d``;
3. trading to ``w`` costs ``cost_rate × Σ|w − d|`` of that value (assets only);
4. the portfolio then rides ``C[t+k] / O[t+1]`` to the close of ``t + k``
   (``k = rebalance_every``), the next decision bar.

Reward: ``log(V[t+k] / V[t])`` minus an optional penalty, ``λ × max(0, dd[t+k] − dd[t])``
(drawdown from the running peak) or ``λ × r²`` (variance). Episodes start at a random bar of
the training span (from the environment's seeded generator) and last ``episode_steps``.
"""

from __future__ import annotations

import math
from typing import ClassVar

import gymnasium as gym
import numpy as np

from core.errors import InvalidInputError
from core.rl._arith import to_weights, trade_step
from core.rl._market import (
    OBS_CLIP,
    RLMarket,
    feature_matrix,
    observation_size,
    scaled_returns,
)
from core.rl._settings import EnvSettings


class PortfolioEnv(gym.Env):
    """Portfolio weights over N assets and cash (gymnasium API).

    Parameters
    ----------
    market : RLMarket
        Opens and closes of the assets.
    settings : EnvSettings, optional
    span : tuple of int, optional
        First and last bar (inclusive) episodes may use; default all bars.
    extra : ndarray of shape (T, E), optional
        Caller-given values per bar (e.g. ML scores), observed at their bar; they must
        use data up to their bar only.
    """

    metadata: ClassVar[dict] = {"render_modes": []}

    def __init__(
        self,
        market: RLMarket,
        settings: EnvSettings | None = None,
        *,
        span: tuple[int, int] | None = None,
        extra: np.ndarray | None = None,
    ):
        super().__init__()
        self.market = market
        self.settings = s = settings or EnvSettings()
        first, last = span or (0, market.n_bars - 1)
        self._lo = max(first, s.lookback)
        self._last = min(last, market.n_bars - 1)
        self._k = s.rebalance_every
        if self._lo + self._k > self._last:
            raise InvalidInputError(
                f"environment: the span has {self._last - first + 1} bars; it needs more than "
                f"the lookback ({s.lookback}) plus one rebalance ({self._k})",
                field="train_end",
            )
        n = market.n_assets
        self._returns = scaled_returns(market.log_returns)
        features = feature_matrix(market.log_returns, s)
        self._features = np.clip(features, -OBS_CLIP, OBS_CLIP).astype(np.float32)
        self._extra = (
            None
            if extra is None
            else np.clip(np.asarray(extra, dtype=np.float32), -OBS_CLIP, OBS_CLIP)
        )
        n_extra = 0 if self._extra is None else self._extra.shape[1]
        # prices with a cash column of 1: every weight vector moves with them, cash included
        self._close = np.hstack([market.close, np.ones((market.n_bars, 1))])
        self._open = np.hstack([market.open, np.ones((market.n_bars, 1))])
        self._gap = np.ones_like(self._close)
        self._gap[1:] = self._open[1:] / self._close[:-1]
        self._cost = s.cost_rate
        size = observation_size(n, s, n_extra)
        self.observation_space = gym.spaces.Box(-OBS_CLIP, OBS_CLIP, (size,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (n + 1,), np.float32)
        self._obs = np.zeros(size, dtype=np.float32)
        self._wsize = s.window * n
        self._t = self._lo
        self._held = self._cash()
        self._value = self._peak = 1.0
        self._steps = 0

    def _cash(self) -> np.ndarray:
        held = np.zeros(self.market.n_assets + 1)
        held[-1] = 1.0
        return held

    def _observation(self) -> np.ndarray:
        t, w, obs = self._t, self.settings.window, self._obs
        obs[: self._wsize] = self._returns[t - w + 1 : t + 1].ravel()
        at = self._wsize
        nf = self._features.shape[1]
        obs[at : at + nf] = self._features[t]
        at += nf
        if self._extra is not None:
            ne = self._extra.shape[1]
            obs[at : at + ne] = self._extra[t]
            at += ne
        obs[at:] = self._held  # returns and features are clipped already, weights in [0, 1]
        return obs.copy()

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode at a random decision bar of the span (``options["start"]``: given)."""
        super().reset(seed=seed)
        latest = self._last - self._k * self.settings.episode_steps
        if options and "start" in options:
            start = int(options["start"])
        elif latest > self._lo:
            start = int(self.np_random.integers(self._lo, latest + 1))
        else:
            start = self._lo
        self._t = start
        self._held = self._cash()
        self._value = self._peak = 1.0
        self._steps = 0
        return self._observation(), {"bar": start}

    def step(self, action):
        """Decide at the close of the current bar; fill at the next open; ride k bars."""
        target = to_weights(action, self.settings)
        t, end = self._t, min(self._t + self._k, self._last)
        value, self._held, turnover, cost = trade_step(
            self._value,
            self._held,
            target,
            self._gap[t + 1],
            self._close[end] / self._open[t + 1],
            self._cost,
        )
        log_return = math.log(value / self._value)
        reward = log_return - self._penalty(value, log_return)
        self._value, self._t = value, end
        self._steps += 1
        truncated = self._steps >= self.settings.episode_steps or self._t + 1 > self._last
        info = {"value": value, "turnover": turnover, "cost": cost, "bar": end}
        return self._observation(), float(reward), False, bool(truncated), info

    def _penalty(self, value: float, log_return: float) -> float:
        s = self.settings
        if s.risk_penalty == "none" or not s.risk_aversion:
            return 0.0
        if s.risk_penalty == "variance":
            return s.risk_aversion * log_return * log_return
        before = 1.0 - self._value / self._peak
        self._peak = max(self._peak, value)
        return s.risk_aversion * max(0.0, (1.0 - value / self._peak) - before)
