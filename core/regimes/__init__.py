"""Market regimes: Gaussian hidden Markov models of returns, filtered without look-ahead.

- :func:`return_features` — log returns and optional rolling volatility from closes;
- :class:`RegimeHMM` — Baum–Welch fit (several seeded starts), labelled states,
  transition matrix, expected durations, Viterbi path, filtered probabilities;
- :class:`RegimeFilter` — the forward filter updated one observation at a time;
- :func:`causal_regimes` — walk-forward refits: the regime known at every bar;
- :class:`RegimeParams` — strategy parameters and size scales by regime label.

Decisions at bar ``t`` must use filtered probabilities (data up to ``t``) from a
model fitted before ``t``; the Viterbi path and smoothed probabilities use the
future and are for reports only.
"""

from core.regimes._features import Features, log_returns, return_features
from core.regimes._filter import RegimeFilter
from core.regimes._hmm import RegimeHMM, forward_filter, viterbi_path
from core.regimes._labels import LABELS, RegimeLabel, label_states
from core.regimes._params import RegimeChoice, RegimeParams
from core.regimes._report import RegimeAnalysis, analyze, performance_by_regime
from core.regimes._walkforward import CausalRegimes, causal_regimes

__all__ = [
    "LABELS",
    "CausalRegimes",
    "Features",
    "RegimeAnalysis",
    "RegimeChoice",
    "RegimeFilter",
    "RegimeHMM",
    "RegimeLabel",
    "RegimeParams",
    "analyze",
    "causal_regimes",
    "forward_filter",
    "label_states",
    "log_returns",
    "performance_by_regime",
    "return_features",
    "viterbi_path",
]
