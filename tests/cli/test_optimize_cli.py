import json

import pytest

from core.backtest import BacktestConfig
from core.cli import main
from core.execution import CommissionModel, ExecutionConfig
from core.workstation import Workstation


@pytest.fixture(autouse=True)
def temp_db(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("WORKSTATION_SEED_DEMO", "0")


def run_json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


GRID = ["--range", "fast=5:15:5", "--range", "slow=30:50:10", "--range", "long_short=0:0"]


def test_grid_best_equals_the_best_of_single_backtests(capsys, tmp_path):
    out = run_json(
        capsys,
        "optimize",
        "--strategy",
        "sma_crossover",
        "--symbol",
        "SPX",
        "--method",
        "grid",
        *GRID,
        "--commission",
        "0.001",
    )
    assert out["n_trials"] == 9
    ws = Workstation.open(f"sqlite:///{tmp_path}/cli.db", seed_demo=False)
    sharpes = {}
    for fast in (5, 10, 15):
        for slow in (30, 40, 50):
            config = BacktestConfig(
                strategy="sma_crossover",
                params={"fast": fast, "slow": slow},
                symbols=("SPX",),
                execution=ExecutionConfig(commission=CommissionModel(rate=0.001)),
            )
            sharpes[(fast, slow)] = ws.backtests.run(config, save=False).metrics["sharpe"]
    best = max(sharpes, key=sharpes.get)
    assert (out["best_params"]["fast"], out["best_params"]["slow"]) == best
    assert out["best_score"] == pytest.approx(sharpes[best], rel=1e-12)
    assert out["metrics"]["sharpe"] == pytest.approx(sharpes[best], rel=1e-12)
    assert 0 <= out["deflated_sharpe"]["dsr"] <= 1


def test_mcmc_reports_acceptance_rhat_and_intervals(capsys):
    out = run_json(
        capsys,
        "optimize",
        "--strategy",
        "sma_crossover",
        "--symbol",
        "SPX",
        "--method",
        "mcmc",
        *GRID,
        "--trials",
        "80",
        "--seed",
        "3",
    )
    assert 0 <= out["acceptance_rate"] <= 1
    assert set(out["rhat"]) >= {"fast", "slow"}
    lo, hi = out["credible_intervals"]["fast"]
    assert 5 <= lo <= hi <= 15


def test_bad_range_is_a_clear_error(capsys):
    assert (
        main(
            [
                "optimize",
                "--strategy",
                "sma_crossover",
                "--symbol",
                "SPX",
                "--range",
                "fast=5",
                "--json",
            ]
        )
        == 1
    )
    assert "key=lo:hi" in json.loads(capsys.readouterr().out)["error"]


def test_walk_forward_windows_use_only_past_data(capsys, tmp_path):
    from core.marketdata import load_bundled

    bars = load_bundled("SPX").iloc[:1800]
    clean, poisoned = tmp_path / "clean.csv", tmp_path / "poisoned.csv"
    bars.to_csv(clean, index_label="date")
    later = bars.copy()
    later.iloc[1300:, :4] *= 3.0  # every price after bar 1300 changes
    later.to_csv(poisoned, index_label="date")
    args = [
        "optimize",
        "--strategy",
        "sma_crossover",
        "--method",
        "grid",
        "--range",
        "fast=5:20:5",
        "--range",
        "slow=40:80:40",
        "--range",
        "long_short=0:0",
        "--walk-forward",
        "600:200",
    ]
    a = run_json(capsys, *args, "--data", str(clean))["windows"]
    b = run_json(capsys, *args, "--data", str(poisoned))["windows"]
    assert [w["test_start"] for w in a] == [600, 800, 1000, 1200, 1400, 1600]
    for wa, wb in zip(a, b, strict=True):
        assert wa["train_stop"] == wa["test_start"]  # tested right after its training window
        if wa["test_stop"] <= 1300:  # windows that end before the change are untouched
            assert wa == wb
    assert a[-1] != b[-1]  # and the change is seen once it is in the past


def test_optimize_reports_the_probability_of_backtest_overfitting(capsys):
    out = run_json(
        capsys,
        "optimize",
        "--strategy",
        "sma_crossover",
        "--symbol",
        "SPX",
        "--method",
        "grid",
        *GRID,
    )
    assert out["pbo"]["n_trials"] == 9 and out["pbo"]["n_splits"] == 16
    assert 0 <= out["pbo"]["pbo"] <= 1


def test_scheduler_option_evaluates_on_a_dask_cluster_with_the_serial_result(capsys):
    distributed = pytest.importorskip("distributed")
    argv = ["optimize", "--strategy", "sma_crossover", "--symbol", "SPX", "--method", "mcmc"]
    argv += [*GRID[:4], "--range", "long_short=0:0", "--trials", "80", "--seed", "2"]
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        on_dask = run_json(capsys, *argv, "--scheduler", cluster.scheduler_address)
    serial = run_json(capsys, *argv, "--workers", "1")
    assert on_dask["executor"].startswith(f"Dask cluster at {cluster.scheduler_address}")
    assert serial["executor"] == "serial"
    for key in ("best_params", "best_score", "n_trials", "acceptance_rate", "credible_intervals"):
        assert on_dask[key] == serial[key]


def test_optimize_allocation_prints_nested_weights_and_portfolio_figures(capsys):
    out = run_json(
        capsys,
        "optimize-allocation",
        "--strategies",
        "sma_crossover,donchian",
        "--symbols",
        "SPX,XOM",
        "--start",
        "2010-01-04",
        "--end",
        "2016-12-30",
        "--trials",
        "8",
        "--workers",
        "1",
    )
    weights = out["weights"]
    assert {s: set(row) for s, row in weights.items()} == {
        "sma_crossover": {"SPX", "XOM"},
        "donchian": {"SPX", "XOM"},
    }
    assert sum(w for row in weights.values() for w in row.values()) == pytest.approx(1.0)
    assert min(w for row in weights.values() for w in row.values()) >= 0
    assert out["sharpe"] == pytest.approx(out["expected_return"] / out["volatility"])
    assert {(s["strategy"], s["symbol"]) for s in out["streams"]} == {
        (a, b) for a in ("sma_crossover", "donchian") for b in ("SPX", "XOM")
    }


def optimize_args(*extra):
    window = ["--start", "2010-01-04", "--end", "2014-12-31", "--method", "grid"]
    return ["optimize", "--strategy", "sma_crossover", "--symbol", "SPX", *window, *extra]


def error_of(capsys, *argv) -> str:
    assert main([*argv, "--json"]) == 1
    return json.loads(capsys.readouterr().out)["error"]


def test_param_fixes_a_parameter_and_removes_it_from_the_grid(capsys):
    ranges = ["--range", "fast=5:20:5", "--range", "slow=30:60:10"]
    both = run_json(capsys, *optimize_args(*ranges))
    fixed = run_json(capsys, *optimize_args(*ranges, "--param", "long_short=false"))
    assert both["n_trials"] == 2 * 16  # 4 fasts × 4 slows, with and without shorting
    assert fixed["n_trials"] == 16  # long_short no longer searched
    assert fixed["best_params"]["long_short"] is False
    assert fixed["executor"] == "batched (this process)"


def test_fixed_params_give_the_scores_of_single_backtests(capsys, tmp_path):
    fixed = ["--param", "fast=12", "--param", "long_short=false"]
    out = run_json(capsys, *optimize_args("--range", "slow=30:50:10", *fixed, "--trials", "3"))
    ws = Workstation.open(f"sqlite:///{tmp_path}/cli.db", seed_demo=False)
    sharpes = {}
    for slow in (30, 40, 50):
        config = BacktestConfig(
            strategy="sma_crossover",
            params={"fast": 12, "slow": slow},
            symbols=("SPX",),
            start="2010-01-04",
            end="2014-12-31",
        )
        sharpes[slow] = ws.backtests.run(config, save=False).metrics["sharpe"]
    best = max(sharpes, key=sharpes.get)
    assert out["n_trials"] == 3
    assert out["best_params"] == {"fast": 12, "slow": best, "long_short": False}
    assert out["best_score"] == pytest.approx(sharpes[best], rel=1e-12)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--range", "fast=5:20:5", "--param", "fast=10"],
            "optimize: fast is given by --param and by --range",
        ),
        (
            ["--param", "fats=10"],
            "optimize: --param fats: sma_crossover has no parameter 'fats'; "
            "its parameters are fast, slow, long_short",
        ),
        (
            ["--param", "fast=1"],
            "optimize: --param fast=1: Input should be greater than or equal to 2",
        ),
        (
            ["--param", "long_short=maybe"],
            "optimize: --param long_short=maybe: Input should be a valid boolean",
        ),
        (["--param", "fast"], "optimize: --param expects KEY=VALUE, got 'fast'"),
    ],
)
def test_bad_fixed_params_are_clear_errors(capsys, extra, message):
    assert error_of(capsys, *optimize_args(*extra)).startswith(message)


def test_a_grid_larger_than_trials_says_which_flag_raises_it(capsys):
    ranges = ["--range", "fast=5:50:1", "--range", "slow=20:200:1"]
    assert error_of(capsys, *optimize_args(*ranges, "--trials", "400")) == (
        "optimize: the grid has 16,652 points, more than --trials 400; "
        "raise --trials to 16652 or narrow a --range"
    )  # 46 fasts × 181 slows × 2 (long_short), infeasible fast ≥ slow included
    fixed = error_of(capsys, *optimize_args(*ranges, "--param", "long_short=true"))
    assert fixed.startswith("optimize: the grid has 8,326 points, more than --trials 200;")
