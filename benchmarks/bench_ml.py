"""ML lab benchmarks: feature throughput, the default walk-forward, fold training, scoring.

Run from the repository root:  python benchmarks/bench_ml.py [--workers N] [--skip-train]
Targets on the 2-core reference machine: features ≥ 1,000,000 values/s; the default
walk-forward on the bundled 20 stocks × 1990-2022 (h = 5, train 756, test 63, 60 trees,
canaries included) under 60 s. Also prints the training time per fold and the scoring
latency per date (the fold booster loaded once, as the strategy does), and the measured
out-of-sample figures of that default run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time

import numpy as np
import pandas as pd

from core.config import Settings
from core.marketdata import load_bundled
from core.ml import BUNDLED_UNIVERSE, FeatureSet, MLTrainRequest, compute_features
from core.workstation import Workstation


def features_rate(repeats: int = 3) -> dict:
    close = pd.DataFrame({s: load_bundled(s)["close"] for s in BUNDLED_UNIVERSE}).to_numpy()
    best = np.inf
    for _ in range(repeats):
        began = time.perf_counter()
        panel = compute_features(close, FeatureSet())
        best = min(best, time.perf_counter() - began)
    return {
        "values": int(panel.values.size),
        "seconds": best,
        "values_per_s": panel.values.size / best,
    }


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def default_walk_forward(ws: Workstation, workers: int) -> dict:
    cpu, began = _cpu(), time.perf_counter()
    report = ws.ml.train(MLTrainRequest(workers=workers))
    total = time.perf_counter() - began
    return {"total_s": total, "cpu_s": _cpu() - cpu, "report": report}


def scoring_latency(ws: Workstation, model_id: str, n: int = 200) -> dict:
    scorer = ws.ml.scorer(model_id)
    universe = ws.ml.universe(MLTrainRequest())
    start = universe.dates.searchsorted(scorer.first_date)
    days = np.linspace(start, len(universe.dates) - 1, n).round().astype(int)
    scorer.score(universe.close[: days[0] + 1], universe.dates[days[0]])  # warm (load booster)
    began = time.perf_counter()
    for t in days:
        scorer.score(universe.close[: t + 1], universe.dates[t])
    per_date = (time.perf_counter() - began) / n
    began = time.perf_counter()
    ws.ml.predict(model_id, universe.dates[days[-1]])
    predict = time.perf_counter() - began
    return {"score_per_date_ms": per_date * 1e3, "predict_end_to_end_ms": predict * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    rate = features_rate()
    print(
        f"features: {rate['values']:,} values in {rate['seconds']:.3f} s = "
        f"{rate['values_per_s'] / 1e6:.2f} M values/s (target ≥ 1 M/s)"
    )
    folder = tempfile.mkdtemp()
    ws = Workstation(Settings(database_url=f"sqlite:///{folder}/b.db", models_dir=f"{folder}/m"))
    ws.prepare()
    run = default_walk_forward(ws, args.workers)
    r = run["report"]
    t = r["timings"]
    print(f"load average: {os.getloadavg()[0]:.1f} (2 cores shared)")
    print(
        f"default walk-forward (workers={args.workers}): {run['total_s']:.1f} s total, "
        f"{run['cpu_s']:.1f} s CPU "
        f"(features {t['features_s']:.2f} s, {len(r['folds'])} folds {t['walk_forward_s']:.1f} s, "
        f"{t['fold_mean_s'] * 1e3:.0f} ms per fold, canaries {t.get('canaries_s', 0):.1f} s, "
        f"evaluation {t['evaluate_s']:.1f} s, saving {t['save_s']:.1f} s; "
        f"target < 60 s)"
    )
    latency = scoring_latency(ws, r["model_id"])
    print(
        f"scoring one date (20 symbols): {latency['score_per_date_ms']:.2f} ms; "
        f"ws.ml.predict end to end: {latency['predict_end_to_end_ms']:.0f} ms"
    )
    keys = ("rank_ic", "rank_ic_tstat", "rank_icir", "ic", "ic_tstat", "hit_rate", "n_dates")
    print(json.dumps({k: r[k] for k in keys}, indent=1))
    print("quantiles:", [round(q * 1e4, 2) for q in r["quantile_returns"]], "bps")
    for name in ("top_n", "benchmark", "index"):
        m = r[name]
        print(
            f"{name}: total {m['total_return']:.1%}, CAGR {m['cagr']:.2%}, Sharpe "
            f"{m['sharpe']:.2f}, max DD {m['max_drawdown']:.1%}, turnover {m['turnover']:.0f}"
        )
    print(
        "canaries:",
        {
            k: (v["passed"], v.get("rank_ic_tstat", v.get("max_gap")))
            for k, v in r["canaries"].items()
        },
    )
    ws.close()


if __name__ == "__main__":
    main()
