"""``regime``: fit a hidden Markov model of regimes to a price series' log returns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.cli._output import CommandError, emit, open_workstation
from core.marketdata import read_bars_file
from core.regimes import RegimeHMM, return_features


def register(commands, shared) -> None:
    parser = commands.add_parser(
        "regime",
        help="hidden Markov regimes (bull, bear, sideways, high volatility) of a price series",
        description="Fit a Gaussian hidden Markov model to daily log returns (Baum-Welch from "
        "several seeded starts) and print the states' means, variances, transition matrix, "
        "expected durations, share of days (Viterbi path) and the current regime (filtered "
        "probabilities at the last bar). The model is fitted on the whole range: a report, "
        "not a look-ahead-free signal.",
        parents=[shared],
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--symbol", help="bundled or imported symbol")
    source.add_argument("--data", type=Path, metavar="FILE", help="CSV or Parquet file of bars")
    parser.add_argument("--states", type=int, choices=[2, 3, 4], default=3, help="default 3")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random starts")
    parser.add_argument("--starts", type=int, default=5, help="Baum-Welch starts (default 5)")
    parser.add_argument("--start", help="first date (YYYY-MM-DD)")
    parser.add_argument("--end", help="last date (YYYY-MM-DD)")
    parser.set_defaults(handler=regime)


def regime(args) -> None:
    name, bars = load_closes(args)
    features = return_features(bars["close"])
    if len(features.values) < 10 * args.states:
        raise CommandError(
            f"{len(features.values)} returns in the chosen range; "
            f"{args.states} states need at least {10 * args.states}"
        )
    model = RegimeHMM(n_states=args.states, n_starts=args.starts, seed=args.seed)
    model.fit(features.values)
    current = model.filtered_probabilities(features.values)[-1]
    payload = {
        "n_states": args.states,
        "n_observations": len(features.values),
        "log_likelihood": model.loglik_,
        "labels": model.labels_,
        "means": model.means_[:, 0].tolist(),
        "variances": model.variances_[:, 0].tolist(),
        "transition_matrix": model.transmat_.tolist(),
        "expected_durations": model.expected_durations_.tolist(),
        "state_shares": model.state_shares(features.values).tolist(),
        "current_regime": model.labels_[int(np.argmax(current))],
        "current_probabilities": current.tolist(),
    }
    emit(args, payload, _text(name, features.index, payload))


def load_closes(args) -> tuple[str, pd.DataFrame]:
    """Bars of ``--symbol`` or ``--data`` between ``--start`` and ``--end`` (inclusive)."""
    if args.data is not None:
        name, bars = args.data.name, read_bars_file(args.data, filename=args.data.name)
    else:
        name = args.symbol.strip().upper()
        ws = open_workstation(args)
        try:
            bars = ws.market.bars(name)
        finally:
            ws.close()
    start = pd.Timestamp(args.start) if args.start else None
    end = pd.Timestamp(args.end) + pd.Timedelta(days=1, microseconds=-1) if args.end else None
    bars = bars.loc[start:end].dropna(subset=["close"])
    if len(bars) < 2:
        raise CommandError(f"fewer than two closes of {name} in the chosen range")
    return name, bars


def _text(name: str, index: pd.Index, payload: dict) -> str:
    head = (
        f"{name}: {payload['n_states']}-state Gaussian HMM on {payload['n_observations']} log "
        f"returns, {index[0]:%Y-%m-%d} to {index[-1]:%Y-%m-%d}; "
        f"log-likelihood {payload['log_likelihood']:.2f}"
    )
    rows = ["state  label            mean/bar   vol/bar   duration   share"]
    for i, label in enumerate(payload["labels"]):
        rows.append(
            f"{i:<6} {label:<16} {payload['means'][i]:>8.4%} {payload['variances'][i] ** 0.5:>9.4%}"
            f" {payload['expected_durations'][i]:>10.1f} {payload['state_shares'][i]:>7.1%}"
        )
    matrix = ["transition matrix (row: from, column: to)"] + [
        "  " + "  ".join(f"{p:.4f}" for p in row) for row in payload["transition_matrix"]
    ]
    probs = ", ".join(
        f"{label} {p:.3f}"
        for label, p in zip(payload["labels"], payload["current_probabilities"], strict=True)
    )
    current = f"current regime: {payload['current_regime']} ({probs})"
    return "\n".join([head, "", *rows, "", *matrix, "", current])
