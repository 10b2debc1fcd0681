"""The autopilot: regime → meta-strategy → ML + RL portfolio → risk approval → execution.

- :func:`regime_series`, :class:`RegimeReading` — volatility, trend, breadth and HMM, causal;
- :class:`RulesTable`, :func:`select` — the editable rules with hysteresis;
- :func:`generate`, :class:`Scorer`, :class:`Weighter`, :class:`Models` — the generators and
  the model protocols they use (fallback to plain rules with the reason kept);
- :func:`approve`, :func:`check_orders` — risk approval of the whole rebalance, then each order;
- :func:`decide` — one pass of the loop on data cut at ``as_of``;
- :class:`Executor` (:class:`DryRunExecutor`, :class:`PaperExecutor`);
- :class:`AutopilotService` — runs, the log, the regimes and the rules in the database;
- :func:`simulate` — the loop day by day over history (``autopilot backtest``);
- :class:`ScheduleWorker` — the cron worker (``autopilot schedule``).
"""

from core.autopilot._approval import HEADROOM, Account, Approval, approve, check_orders
from core.autopilot._backtest import (
    BacktestRequest,
    Simulation,
    backtest_request,
    index_performance,
    rebalance_days,
    simulate,
)
from core.autopilot._config import STOCKS, AutopilotConfig
from core.autopilot._execution import DryRunExecutor, Executor, PaperExecutor, order_id
from core.autopilot._generators import (
    GENERATORS,
    MockModels,
    ModelResolver,
    Models,
    Proposal,
    Scorer,
    Weighter,
    generate,
    momentum,
)
from core.autopilot._loop import Decision, MarketCut, decide, load_cut, stale_reason
from core.autopilot._models import (
    RegistryModels,
    ServiceScorer,
    ServiceTrainer,
    ServiceWeighter,
    Trainer,
    train_end,
)
from core.autopilot._regime import (
    RegimeReading,
    breadth,
    realized_volatility,
    regime_series,
    trend_state,
    volatility_bucket,
    volatility_percentile,
)
from core.autopilot._rules import (
    DEFAULT_RULES,
    Condition,
    Held,
    Rule,
    RulesTable,
    Selection,
    select,
)
from core.autopilot._scheduler import (
    ScheduleStore,
    ScheduleWorker,
    cron_trigger,
    missed_slots,
)
from core.autopilot._service import MODES, AutopilotService

__all__ = [
    "DEFAULT_RULES",
    "GENERATORS",
    "HEADROOM",
    "MODES",
    "STOCKS",
    "Account",
    "Approval",
    "AutopilotConfig",
    "AutopilotService",
    "BacktestRequest",
    "Condition",
    "Decision",
    "DryRunExecutor",
    "Executor",
    "Held",
    "MarketCut",
    "MockModels",
    "ModelResolver",
    "Models",
    "PaperExecutor",
    "Proposal",
    "RegimeReading",
    "RegistryModels",
    "Rule",
    "RulesTable",
    "ScheduleStore",
    "ScheduleWorker",
    "Scorer",
    "Selection",
    "ServiceScorer",
    "ServiceTrainer",
    "ServiceWeighter",
    "Simulation",
    "Trainer",
    "Weighter",
    "approve",
    "backtest_request",
    "breadth",
    "check_orders",
    "cron_trigger",
    "decide",
    "generate",
    "index_performance",
    "load_cut",
    "missed_slots",
    "momentum",
    "order_id",
    "realized_volatility",
    "rebalance_days",
    "regime_series",
    "select",
    "simulate",
    "stale_reason",
    "train_end",
    "trend_state",
    "volatility_bucket",
    "volatility_percentile",
]
