"""Strategy parameters, the registry, user strategies and indicators (the rebalancer is in
test_rebalancer.py)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from core import strategies
from core.backtest import BacktestEngine, MarketFrame, run_vectorized
from core.errors import ConflictError
from core.instruments import Instrument
from core.marketdata import load_bundled
from core.strategies import (
    ParamSpec,
    Strategy,
    StrategyParams,
    get_strategy,
    param_space,
    parse_overrides,
    registry,
)
from core.strategies._indicators import RSI, SMA, Channel, RateOfChange, RollingZScore
from core.strategies.builtin.mean_reversion import MeanReversionParams
from core.strategies.builtin.rebalancer import RebalancerParams
from core.strategies.builtin.rsi_reversal import RsiReversalParams
from core.strategies.builtin.sma_crossover import SmaCrossoverParams

REPO = Path(__file__).resolve().parents[2]
BUILTINS = [
    "donchian",
    "mean_reversion",
    "momentum",
    "q_weights",
    "rebalancer",
    "regime_adaptive",
    "rl_allocation",
    "rsi_reversal",
    "sma_crossover",
]


@pytest.fixture
def builtin_registry(monkeypatch):
    """The registry with no extra strategy folder; rebuilt again afterwards."""
    monkeypatch.delenv("WORKSTATION_STRATEGY_DIR", raising=False)
    strategies.reload()
    yield
    monkeypatch.undo()
    strategies.reload()


# -- parameter spaces ------------------------------------------------------------------------------
def P(name, kind, default, description, low=None, high=None, step=None):
    return ParamSpec(name, kind, default, description, low, high, step)


SPACES = {
    "donchian": [
        P("entry", "int", 20, "bars in the breakout channel", 2, 400, 1),
        P("exit", "int", 10, "bars in the exit channel", 2, 400, 1),
        P("long_short", "bool", False, "also trade downside breakouts"),
    ],
    "mean_reversion": [
        P("lookback", "int", 20, "bars in the rolling mean and std", 3, 500, 1),
        P("entry_z", "float", 2.0, "|z| that opens a position", 0.1, 5, 0.1),
        P("exit_z", "float", 0.5, "|z| inside which the position closes", 0, 5, 0.1),
        P("long_short", "bool", False, "also sell short above +entry_z"),
    ],
    "momentum": [
        P("lookback", "int", 60, "bars between the two closes compared", 2, 500, 1),
        P("threshold", "float", 0.0, "ROC beyond which a position is taken", 0, 1, 0.005),
        P("long_short", "bool", False, "go short on negative momentum instead of flat"),
    ],
    "q_weights": [
        P("model_id", "text", "", "registry id of a trained Q-table"),
        P(
            "strategies",
            "text",
            "",
            "comma-separated strategies held at equal weights (without a model)",
        ),
        P("online", "bool", False, "update the Q-table from realised returns"),
        P("save_every", "int", 20, "online updates between saved model versions", 1, 10_000, 1),
    ],
    "rebalancer": [
        P("every", "int", 21, "bars between rebalances", 1, 504, 1),
        P("weights", "text", "", "target weights 'SYM:w,SYM:w'; empty = equal weight"),
        ParamSpec(
            "schedule",
            "choice",
            "bars",
            "scheduled rebalances: every `every` bars, monthly, quarterly or none",
            choices=("bars", "monthly", "quarterly", "none"),
        ),
        P(
            "abs_drift",
            "float",
            0.0,
            "rebalance when |weight − target| ≥ this (0 = off)",
            0,
            1,
            0.01,
        ),
        P(
            "rel_drift",
            "float",
            0.0,
            "rebalance when |weight − target| ≥ this × target (0 = off)",
            0,
            10,
            0.05,
        ),
        P("min_interval", "int", 0, "bars required between rebalances", 0, 504, 1),
        P(
            "drawdown_trigger",
            "bool",
            False,
            "rebalance, scaled, when the drawdown level (10 %, 20 %) changes",
        ),
        P(
            "vol_bound",
            "float",
            0.0,
            "rebalance when annualised volatility crosses this (0 = off)",
            0,
            5,
            0.01,
        ),
    ],
    "rsi_reversal": [
        P("period", "int", 14, "bars in Wilder's RSI", 2, 200, 1),
        P("oversold", "float", 30.0, "RSI below which to buy", 1, 50),
        P("overbought", "float", 70.0, "RSI above which to sell short", 50, 99),
        P("exit_level", "float", 50.0, "RSI at which positions close", 1, 99),
        P("long_short", "bool", False, "also sell short when overbought"),
    ],
    "regime_adaptive": [
        P("strategy", "text", "sma_crossover", "single-instrument strategy run in every regime"),
        P(
            "regime_params",
            "text",
            '{"bull": {"fast": 20, "slow": 100}, "bear": {"fast": 5, "slow": 20}}',
            "JSON: regime label → parameter overrides",
        ),
        P("size_scale", "text", '{"bear": 0.5}', "JSON: regime label → position size scale"),
        P("n_states", "int", 2, "hidden states of the regime model", 2, 4, 1),
        P("min_train", "int", 500, "bars before the first fit", 100, 5000, 1),
        P("refit_every", "int", 252, "bars between refits", 20, 2520, 1),
        P("seed", "int", 0, "seed of the model's random starts", 0, 10_000, 1),
    ],
    "rl_allocation": [
        P("model_id", "text", "", "id of a trained PPO model (RL lab, `rl list`)"),
        P("every", "int", 0, "bars between rebalances (0 = the model's own frequency)", 0, 504, 1),
    ],
    "sma_crossover": [
        P("fast", "int", 10, "bars in the fast moving average", 2, 200, 1),
        P("slow", "int", 50, "bars in the slow moving average", 3, 400, 1),
        P("long_short", "bool", False, "go short on a downward cross instead of exiting"),
    ],
}


@pytest.mark.parametrize("name", BUILTINS)
def test_param_space_of_each_builtin(name, builtin_registry):
    cls = get_strategy(name)
    assert param_space(cls.Params) == SPACES[name]
    # the defaults are valid parameters, and every field is described
    defaults = cls.Params()
    assert {s.name: s.default for s in SPACES[name]} == defaults.model_dump()
    assert all(s.description for s in SPACES[name])


@pytest.mark.parametrize(
    ("model", "values", "message"),
    [
        (SmaCrossoverParams, {"fast": 50, "slow": 50}, "fast"),  # fast ≥ slow
        (SmaCrossoverParams, {"fast": 60, "slow": 50}, "fast"),
        (SmaCrossoverParams, {"fast": 1}, "greater than or equal"),  # below the bound
        (SmaCrossoverParams, {"slow": 401}, "less than or equal"),
        (SmaCrossoverParams, {"fats": 5}, "Extra inputs"),  # unknown keys rejected
        (MeanReversionParams, {"entry_z": 1.0, "exit_z": 1.0}, "exit_z"),  # exit_z ≥ entry_z
        (MeanReversionParams, {"entry_z": 1.0, "exit_z": 1.5}, "exit_z"),
        (RsiReversalParams, {"oversold": 40, "exit_level": 35}, "oversold"),
        (RebalancerParams, {"weights": "A:0.7,B:0.4"}, "sum to at most 1"),
        (RebalancerParams, {"weights": "A=0.5"}, "SYM:w"),
    ],
)
def test_invalid_params_are_rejected(model, values, message):
    with pytest.raises(ValidationError, match=message):
        model(**values)


def test_params_are_frozen_and_hashable_by_content():
    a, b = SmaCrossoverParams(fast=5), SmaCrossoverParams(fast=5, slow=50)
    assert a.digest() == b.digest() != SmaCrossoverParams(fast=6).digest()
    with pytest.raises(ValidationError):
        a.fast = 6


def test_strategy_overrides_are_validated():
    cls = get_strategy("sma_crossover")
    assert cls(fast=5).params == SmaCrossoverParams(fast=5)
    assert cls(SmaCrossoverParams(fast=5), slow=20).params == SmaCrossoverParams(fast=5, slow=20)
    with pytest.raises(ValidationError):
        cls(SmaCrossoverParams(fast=5), slow=4)


def test_parse_overrides_types_values():
    params = parse_overrides(SmaCrossoverParams, ["fast=5"])
    assert params.fast == 5 and type(params.fast) is int
    assert params.slow == 50  # the rest keep their defaults
    params = parse_overrides(SmaCrossoverParams, ["fast = 5", "slow=20", "long_short=True"])
    assert (params.fast, params.slow, params.long_short) == (5, 20, True)
    mr = parse_overrides(MeanReversionParams, ["entry_z=2.5", "exit_z=0"])
    assert mr.entry_z == 2.5 and mr.exit_z == 0.0 and type(mr.exit_z) is float
    rb = parse_overrides(RebalancerParams, ["weights=SPX:0.5,IXIC:0.5", "every=5"])
    assert (rb.weights, rb.every) == ("SPX:0.5,IXIC:0.5", 5)
    with pytest.raises(ValueError, match="key=value"):
        parse_overrides(SmaCrossoverParams, ["fast"])
    with pytest.raises(ValidationError):
        parse_overrides(SmaCrossoverParams, ["fast=50"])  # fast ≥ slow


# -- registry and user strategies ------------------------------------------------------------------
def test_registry_lists_the_six_builtins(builtin_registry):
    assert list(registry()) == sorted([*BUILTINS, "ml_selection"])  # + the ML lab's (tests/ml)
    for name, cls in registry().items():
        assert issubclass(cls, Strategy) and cls.name == name and cls.label
        assert issubclass(cls.Params, StrategyParams)
    assert [n for n, c in registry().items() if c.multi_asset] == [
        "ml_selection",
        "rebalancer",
        "rl_allocation",
    ]
    with pytest.raises(KeyError, match="available: donchian"):
        get_strategy("nope")


def docs_example() -> str:
    """The complete user strategy module shown in docs/STRATEGIES.md."""
    text = (REPO / "docs" / "STRATEGIES.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- example: above_average.py -->\s*```python\n(.*?)```", text, re.S)
    assert match, "docs/STRATEGIES.md lost its example module"
    return match.group(1)


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    """A strategy folder named by WORKSTATION_STRATEGY_DIR holding the docs' example."""
    folder = tmp_path / "my_strategies"
    folder.mkdir()
    (folder / "above_average.py").write_text(docs_example(), encoding="utf-8")
    (folder / "_helpers.py").write_text("raise RuntimeError('underscore files are skipped')\n")
    monkeypatch.setenv("WORKSTATION_STRATEGY_DIR", str(folder))
    strategies.reload()
    yield folder
    monkeypatch.undo()
    strategies.reload()


def test_user_strategy_folder_is_discovered(user_dir):
    found = registry()
    assert list(found) == sorted([*BUILTINS, "ml_selection", "above_average"])
    cls = get_strategy("above_average")
    assert cls.label == "Above moving average"
    assert param_space(cls.Params) == [
        P("window", "int", 50, "bars in the moving average", 2, 400, 1)
    ]
    with pytest.raises(ValidationError):
        cls(window=1)


def test_user_strategy_runs_on_both_paths(user_dir):
    # the docs' example goes long above its moving average and flat below
    cls = get_strategy("above_average")
    market = MarketFrame.from_bars({"X": load_bundled("SPX").iloc[:600]})
    instruments = {"X": Instrument(symbol="X")}
    event = BacktestEngine(cls(window=20), market, instruments, cash=1e5).run()
    vector = run_vectorized(cls(window=20), market, instruments, cash=1e5)
    assert len(event.trades.closed) > 5
    assert event.trades.closed == vector.trades.closed
    np.testing.assert_array_equal(event.equity, vector.equity)
    # by hand on six closes, window 2: averages –, 10.5, 11.5, 11.5, 10.5, 10.5
    # above at bar 1 (11 > 10.5) → long; 12 > 11.5 stays; 11 < 11.5 at bar 3 → flat
    # 10 < 10.5 stays flat; 11 > 10.5 at bar 5 → long
    signals = cls(window=2).signals(np.array([10.0, 11, 12, 11, 10, 11]))
    np.testing.assert_array_equal(signals, [np.nan, 1, np.nan, 0, np.nan, 1])


def test_two_strategies_with_one_name_are_refused(tmp_path, monkeypatch):
    (tmp_path / "clash.py").write_text(
        "from core.strategies import Strategy\n\n"
        "class Clash(Strategy):\n    name = 'sma_crossover'\n"
    )
    monkeypatch.setenv("WORKSTATION_STRATEGY_DIR", str(tmp_path))
    try:
        with pytest.raises(ConflictError, match="two strategies are named 'sma_crossover'"):
            strategies.reload()
    finally:
        monkeypatch.undo()
        strategies.reload()


def param_table(cls: type[Strategy]) -> str:
    """The markdown table of a strategy's parameters, as docs/STRATEGIES.md shows it."""

    def number(value):
        return "–" if value is None else f"{value:g}"

    lines = [
        "| parameter | type | default | low | high | step | description |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in param_space(cls.Params):
        default = f'"{s.default}"' if s.kind == "text" else str(s.default)
        description = s.description.replace("|", "\\|")  # a pipe would end the cell
        lines.append(
            f"| `{s.name}` | {s.kind} | {default} | {number(s.low)} | {number(s.high)} "
            f"| {number(s.step)} | {description} |"
        )
    return "\n".join(lines)


@pytest.mark.parametrize("name", BUILTINS)
def test_docs_parameter_tables_match_param_space(name, builtin_registry):
    text = (REPO / "docs" / "STRATEGIES.md").read_text(encoding="utf-8")
    table = param_table(get_strategy(name))
    assert f"### `{name}`" in text
    section = text.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]
    assert table in section, f"regenerate the table of {name}:\n{table}"


# -- indicators ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def prices() -> np.ndarray:
    rng = np.random.default_rng(5)
    return 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 300)))


def feed(indicator, values):
    return np.array([indicator.update(float(v)) for v in values])


@pytest.mark.parametrize("n", [2, 5, 20])
def test_sma_against_numpy(prices, n):
    got = feed(SMA(n), prices)
    expected = np.convolve(prices, np.ones(n) / n, mode="valid")
    assert np.isnan(got[: n - 1]).all()
    np.testing.assert_allclose(got[n - 1 :], expected, rtol=1e-12)


@pytest.mark.parametrize("n", [3, 20])
def test_rolling_zscore_against_numpy(prices, n):
    got = feed(RollingZScore(n), prices)
    for t in range(n - 1, len(prices)):
        window = prices[t - n + 1 : t + 1]
        z = (prices[t] - window.mean()) / window.std(ddof=1)
        assert got[t] == pytest.approx(z, rel=1e-9, abs=1e-12)
    assert np.isnan(got[: n - 1]).all()
    # a flat window has no deviation: z = 0
    assert feed(RollingZScore(3), [5.0, 5.0, 5.0])[-1] == 0.0


@pytest.mark.parametrize("n", [1, 10])
def test_rate_of_change_against_numpy(prices, n):
    got = feed(RateOfChange(n), prices)
    assert np.isnan(got[:n]).all()
    np.testing.assert_allclose(got[n:], prices[n:] / prices[:-n] - 1, rtol=1e-12)


def test_channel_excludes_the_current_bar(prices):
    n = 10
    highs, lows = prices * 1.01, prices * 0.99
    channel = Channel(n)
    got = np.array([channel.update(h, lo) for h, lo in zip(highs, lows, strict=True)])
    assert np.isnan(got[:n]).all()
    for t in range(n, len(prices)):
        assert got[t, 0] == highs[t - n : t].max()
        assert got[t, 1] == lows[t - n : t].min()


def wilder_rsi(x: np.ndarray, n: int) -> np.ndarray:
    """Wilder's RSI: simple averages of the first n gains/losses, then smoothing 1/n."""
    change = np.diff(x)
    gain, loss = np.clip(change, 0, None), np.clip(-change, 0, None)
    out = np.full(len(x), np.nan)
    avg_gain, avg_loss = gain[:n].mean(), loss[:n].mean()
    for t in range(n, len(x)):
        if t > n:
            avg_gain = (avg_gain * (n - 1) + gain[t - 1]) / n
            avg_loss = (avg_loss * (n - 1) + loss[t - 1]) / n
        out[t] = 100 - 100 / (1 + avg_gain / avg_loss)
    return out


@pytest.mark.parametrize("n", [2, 14])
def test_rsi_wilder_against_numpy(prices, n):
    np.testing.assert_allclose(feed(RSI(n), prices), wilder_rsi(prices, n), rtol=1e-10)


def test_rsi_by_hand():
    # RSI(2) on 1, 2, 3, 2: changes +1, +1, −1
    # bar 2: avg gain (1 + 1) / 2 = 1, avg loss 0 → 100
    # bar 3: gain (1 × 1 + 0) / 2 = 0.5, loss (0 × 1 + 1) / 2 = 0.5 → RS 1 → 50
    got = feed(RSI(2), [1.0, 2.0, 3.0, 2.0])
    assert math.isnan(got[0]) and math.isnan(got[1])
    assert list(got[2:]) == [100.0, 50.0]
    assert feed(RSI(2), [4.0, 4.0, 4.0])[-1] == 50.0  # no movement: neutral
