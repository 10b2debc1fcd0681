"""The autopilot with the ML lab's real model (needs ``core.ml``, i.e. wt-ml merged).

Usage: ``PYTHONPATH=. python benchmarks/smoke_autopilot_ml.py FOLDER START END``: trains the
default walk-forward XGBoost model (``MLTrainRequest(end=END, seed=0)``) into a fresh database
in FOLDER (once), resolves it through :class:`core.autopilot.RegistryModels` (each day uses the
fold tested from it or before, trained on earlier data only), then simulates the autopilot
with it and with ``mock=True`` and prints both beside the baselines.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

from core.autopilot import AutopilotService, RegistryModels
from core.config import Settings
from core.ml import MLTrainRequest
from core.workstation import Workstation

KEYS = ("total_return", "cagr", "volatility", "sharpe", "max_drawdown", "costs", "n_fallbacks")


def main(folder: Path, start: str, end: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        database_url=f"sqlite:///{folder}/smoke.db", models_dir=folder / "models", seed_demo=False
    )
    ws = Workstation(settings)
    ws.prepare()
    if not ws.models.list("xgboost"):
        began = time.perf_counter()
        report = ws.ml.train(MLTrainRequest(end=end, seed=0))
        print("trained", report["model_id"], f"{time.perf_counter() - began:.1f} s")
    models = RegistryModels(ws.models, ml=ws.ml)
    ap = AutopilotService(ws.sessions, ws.market, ws.portfolios, ws.risk, models=models)
    print("on 2015-06-01:", models.resolve(date(2015, 6, 1), ap.config.universe).scorer_note)
    began = time.perf_counter()
    ml = ap.backtest(start, end)
    print(f"ML backtest {time.perf_counter() - began:.1f} s")
    mock = ap.backtest(start, end, mock=True)
    for name, m in (("ML", ml["metrics"]), ("mock", mock["metrics"]), *ml["baselines"].items()):
        print(name, json.dumps({k: round(m[k], 4) for k in KEYS}))
    fallbacks = Counter(f.split(":")[0] for run in ml["runs"] for f in run["fallbacks"])
    print("ML strategies", ml["metrics"]["strategies"], "fallbacks", dict(fallbacks))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], sys.argv[3])
