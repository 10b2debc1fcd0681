"""Regime benchmarks: the HMM fit, the batch forward filter and the per-tick update.

Run from the repository root:  python benchmarks/bench_regimes.py [repeats]
Prints markdown rows (best of ``repeats``, default 3, after a warm-up run). Targets on
the 2-core reference machine: a 3-state fit on 5,000 daily returns with 5 random
starts under 2 s; one incremental filter update under 50 µs.
"""

from __future__ import annotations

import statistics
import sys
import time

from core.marketdata import load_bundled
from core.regimes import RegimeFilter, RegimeHMM, causal_regimes, return_features


def best_of(fn, repeats: int) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def update_latencies(model: RegimeHMM, values: list[float], rounds: int) -> list[float]:
    """Seconds per ``update`` call, one observation at a time, ``rounds`` passes."""
    live = RegimeFilter(model)
    clock = time.perf_counter
    out = []
    for _ in range(rounds):
        live.reset()
        for x in values:
            start = clock()
            live.update(x)
            out.append(clock() - start)
    return out


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    X = return_features(load_bundled("SPX")).values[-5_000:]
    model = RegimeHMM(n_states=3, n_starts=5, seed=0)
    rows = [
        ("3-state HMM fit, 5,000 daily returns, 5 starts", best_of(lambda: model.fit(X), repeats)),
        (
            "filtered probabilities (batch forward), 5,000 returns",
            best_of(lambda: model.filtered_probabilities(X), repeats),
        ),
        ("Viterbi path, 5,000 returns", best_of(lambda: model.viterbi(X), repeats)),
        (
            "walk-forward regimes, 5,000 returns, yearly expanding refits from 1,000",
            best_of(
                lambda: causal_regimes(X, n_states=3, refit_every=252, min_train=1_000),
                max(1, repeats // 3),
            ),
        ),
    ]
    latencies = update_latencies(model, X[:, 0].tolist(), rounds=20)
    print(f"| what | best of {repeats} |\n| --- | --- |")
    for what, seconds in rows:
        figure = f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1e3:.1f} ms"
        print(f"| {what} | {figure} |")
    mean = statistics.fmean(latencies)
    p99 = statistics.quantiles(latencies, n=100)[98]
    print(
        f"| RegimeFilter.update, 3 states, one observation ({len(latencies):,} calls) "
        f"| mean {mean * 1e6:.1f} µs, p99 {p99 * 1e6:.1f} µs |"
    )


if __name__ == "__main__":
    main()
