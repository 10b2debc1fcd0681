"""The autopilot with the RL lab's real PPO (needs ``core.rl``, i.e. wt-ppo merged).

Usage: ``PYTHONPATH=. python benchmarks/smoke_autopilot_rl.py FOLDER``: trains a tiny PPO (4,096
timesteps, six stocks, training to 2021-12-31), resolves it for 2022-03-01 and books one paper
run whose rules always pick ``ml_top_n``, printing the weights the policy gave.
"""

import sys
import time
from datetime import date
from pathlib import Path

from core.autopilot import AutopilotService, RegistryModels, RulesTable
from core.config import Settings
from core.rl import PPOTrainRequest
from core.workstation import Workstation

folder = Path(sys.argv[1])
folder.mkdir(parents=True, exist_ok=True)
ws = Workstation(
    Settings(
        database_url=f"sqlite:///{folder}/smoke.db", models_dir=folder / "models", seed_demo=False
    )
)
ws.prepare()
t = time.perf_counter()
universe = ("AAPL", "JNJ", "KO", "MSFT", "PG", "XOM")
report = ws.rl.train(
    PPOTrainRequest(
        symbols=universe, train_start="2015-01-02", train_end="2021-12-31", timesteps=4096, seed=0
    )
)
print("trained", report["model_id"], f"{time.perf_counter() - t:.1f} s")
models = RegistryModels(ws.models, rl=ws.rl)
resolved = models.resolve(date(2022, 3, 1), universe)
print("resolved", resolved.ids, resolved.weighter_note)
ap = AutopilotService(ws.sessions, ws.market, ws.portfolios, ws.risk, models=models)
ap.save_rules(RulesTable(rules=(), fallback="ml_top_n", min_hold_days=0))
ws.portfolios.create("smoke", 100_000.0)
r = ap.run("smoke", "paper", "2022-03-01")
print("run", r["status"], r["strategy"], r["proposal"], r["target_weights"], r["n_fills"])
print(
    "direct rl.weights",
    ws.rl.weights(report["model_id"], "2022-03-01", universe).round(4).to_dict(),
)
