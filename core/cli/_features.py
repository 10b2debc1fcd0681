"""``features``: rank causal candidate features by mutual information with forward returns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.cli._output import CommandError, emit, table
from core.cli._regime import load_closes
from core.optimize import candidate_features, forward_returns, rank_features

KEYS = [
    "name",
    "mutual_information",
    "normalized_mi",
    "rank",
    "most_redundant_with",
    "redundancy",
    "redundant",
]


def register(commands, shared) -> None:
    parser = commands.add_parser(
        "features",
        help="rank candidate features by mutual information with forward returns",
        description="Compute causal features of the closes (returns over 1/5/20/60 bars, "
        "20-bar volatility and z-score, RSI 14, distance to SMA 50), then rank them by "
        "histogram mutual information (nats, quantile bins) with the forward return over "
        "--horizon bars, and flag features mostly redundant with a better-ranked one.",
        parents=[shared],
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--symbol", help="bundled or imported symbol")
    source.add_argument("--data", type=Path, metavar="FILE", help="CSV or Parquet file of bars")
    parser.add_argument("--horizon", type=int, default=5, help="forward bars (default 5)")
    parser.add_argument("--bins", type=int, default=10, help="quantile bins (default 10)")
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="normalized MI with a better feature that flags redundancy (default 0.5)",
    )
    parser.add_argument("--start", help="first date (YYYY-MM-DD)")
    parser.add_argument("--end", help="last date (YYYY-MM-DD)")
    parser.set_defaults(handler=features)


def features(args) -> None:
    if args.horizon < 1:
        raise CommandError(f"--horizon must be at least 1, got {args.horizon}")
    if args.bins < 2:
        raise CommandError(f"--bins must be at least 2, got {args.bins}")
    name, bars = load_closes(args)
    closes = bars["close"]
    frame = candidate_features(closes).join(forward_returns(closes, args.horizon), how="inner")
    frame = frame.dropna()
    if len(frame) < 2 * args.bins:
        raise CommandError(
            f"{len(frame)} observations with all features and a forward return; "
            f"need at least {2 * args.bins}"
        )
    target = frame.pop(frame.columns[-1])
    ranking = rank_features(frame, target, bins=args.bins, redundancy_threshold=args.threshold)
    rows = ranking.reset_index()[KEYS]
    payload = {
        "horizon": args.horizon,
        "n_observations": len(frame),
        "features": rows,
    }
    head = (
        f"{name}: {len(frame)} observations, forward return over {args.horizon} bars, "
        f"{args.bins} bins (MI in nats)"
    )
    emit(args, payload, f"{head}\n{table(_printable(rows))}")


def _printable(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(most_redundant_with=rows["most_redundant_with"].fillna("-"))
