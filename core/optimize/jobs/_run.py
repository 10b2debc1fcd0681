"""One optimisation end to end, headless: the command line and the job runner call this.

Search, then the best parameters' full backtest and the overfitting guard.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from core._kv import PairError, split_pair
from core.analytics import compute_metrics
from core.backtest import BacktestConfig, BacktestService
from core.errors import InvalidInputError
from core.optimize._backtest import BacktestEvaluator
from core.optimize._executor import Executor, make_executor
from core.optimize._methods import BATCHED_METHODS, METHODS, base_signals, search_by_method
from core.optimize._objective import Objective
from core.optimize._overfitting import deflated_sharpe, probability_of_backtest_overfitting
from core.optimize._space import GridTooLarge, SearchSpace
from core.optimize._walkforward import walk_forward, walk_forward_splits
from core.strategies import get_strategy


def parse_range(text: str) -> tuple[str, tuple[float, ...]]:
    """``key=lo:hi[:step]`` → (key, (lo, hi[, step]))."""
    form = "key=lo:hi[:step]"
    key, spec = split_pair(text, option="--range", form=form)
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise PairError(f"--range expects {form}, got {text!r}", "--range")
    try:
        return key, tuple(float(p) for p in parts)
    except ValueError:
        raise PairError(f"--range {key}: lo:hi[:step] must be numbers, got {spec!r}") from None


def run_optimization(
    service: BacktestService,
    config: BacktestConfig,
    *,
    method: str,
    objective: Objective,
    ranges: dict[str, tuple[float, ...]] | None = None,
    fixed: dict[str, Any] | None = None,
    trials: int = 200,
    seed: int = 0,
    storage: str | None = None,
    progress=None,
    should_stop=None,
    workers: int | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Search ``config``'s strategy parameters and report the best with its guards.

    ``ranges`` narrow the searched parameters; ``fixed`` parameters keep one value and are
    not searched. A grid with more points than ``trials`` is refused
    (:class:`~core.optimize.GridTooLarge`).

    Evaluations run on ``executor`` when given, else on a Dask cluster when ``scheduler``
    (its address) is given, else on a local pool of ``workers`` processes (default one per
    CPU; 1 runs in this process). Bayesian search proposes one point at a time and always
    runs here. Without an ``executor`` or a ``scheduler``, a strategy with a batched
    evaluator (the SMA crossover on one instrument with the default execution) is
    evaluated in batches in this process instead, for grid, random and differential
    evolution: one array pass is faster than any pool.
    """
    if method not in METHODS:
        raise InvalidInputError(
            f"unknown method {method!r}; choose one of {', '.join(METHODS)}", field="method"
        )
    cls = get_strategy(config.strategy)
    space = SearchSpace.from_params(cls.Params, overrides=ranges or {}, fixed=fixed)
    if method == "grid":
        _check_grid(space, trials)
    vectorized = len(config.symbols) <= 1 and cls.signals is not base_signals()
    batch = executor is None and not scheduler
    evaluator = BacktestEvaluator.from_service(service, config, vectorized=vectorized, batch=batch)
    common = {"objective": objective, "progress": progress, "should_stop": should_stop}
    pool = executor or make_executor(workers, scheduler)
    where = "serial" if method == "bayes" else pool.describe()
    if evaluator.batched and method in BATCHED_METHODS:
        where = "batched (this process)"
    try:
        result = search_by_method(
            method, space, evaluator, trials, seed, storage, config, common, pool
        )
        pbo = _pbo(evaluator, result, space, pool) if result.best_params else None
    finally:
        if executor is None:
            pool.close()
    report = {
        "method": method,
        "executor": where,
        "objective": objective.describe(),
        "n_trials": result.n_trials,
        "stopped": result.stopped,
        "elapsed_seconds": result.elapsed,
        "best_params": result.best_params,
        "best_score": result.best_score,
    }
    if result.best_params is None:
        return {**report, "metrics": None, "deflated_sharpe": None}
    metrics, equity = evaluator.run(result.best_params)
    report["metrics"] = metrics
    report["deflated_sharpe"] = _dsr(equity, result.trials, evaluator.periods_per_year)
    report["pbo"] = pbo
    if method == "mcmc":
        report.update(_mcmc_report(result))
    if method == "bayes":
        report["optuna_study"] = {"name": result.info.get("study_name"), "stored": bool(storage)}
    report["trials"] = result.trials
    report["history"] = result.history
    return report


def _check_grid(space: SearchSpace, trials: int) -> None:
    size = space.size
    if size is not None and size > max(trials, 1):
        raise GridTooLarge(
            size,
            max(trials, 1),
            f"the grid has {size:,} points, more than the {max(trials, 1):,} trials allowed; "
            "allow more trials or narrow a range",
        )


def run_walk_forward(
    service: BacktestService,
    config: BacktestConfig,
    *,
    method: str,
    objective: Objective,
    train: int,
    test: int,
    anchored: bool = False,
    ranges: dict[str, tuple[float, ...]] | None = None,
    fixed: dict[str, Any] | None = None,
    trials: int = 100,
    seed: int = 0,
    progress=None,
    should_stop=None,
    workers: int | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Optimise on each training window and score the winner on the next test window.

    Stitches the out-of-sample equity; in-sample and out-of-sample metrics side by side (evaluations
    run where :func:`run_optimization` runs them).

    For comparison, ``in_sample_equity`` is the equity over the same test span (from the
    close before it, as the stitched curve) of the parameters optimised on all the bars:
    what hindsight would have earned (``in_sample_params``).
    """
    cls = get_strategy(config.strategy)
    space = SearchSpace.from_params(cls.Params, overrides=ranges or {}, fixed=fixed)
    if method == "grid":
        _check_grid(space, trials)
    vectorized = len(config.symbols) <= 1 and cls.signals is not base_signals()
    evaluator = BacktestEvaluator.from_service(service, config, vectorized=vectorized)
    splits = walk_forward_splits(evaluator.market.n_bars, train, test, anchored=anchored)
    if not splits:
        raise InvalidInputError(
            f"{evaluator.market.n_bars} bars are too few for train={train}, test={test}"
        )

    pool = executor or make_executor(workers, scheduler)

    def optimize_on(window: slice) -> dict[str, Any]:
        found = search_by_method(
            method,
            space,
            evaluator.on(window),
            trials,
            seed,
            None,
            config,
            {"objective": objective},
            pool,
        )
        return found.best_params or space.to_params(space.default())

    try:
        result = walk_forward(
            lambda params, window: evaluator.evaluate_on(params, window, objective),
            optimize_on,
            splits,
            progress=progress,
            should_stop=should_stop,
        )
        whole = in_sample = None
        if len(result.windows) and not result.stopped:
            whole = optimize_on(slice(0, evaluator.market.n_bars))
            span = slice(splits[0][1].start, int(result.windows["test_stop"].iloc[-1]))
            in_sample = evaluator.on(span).run(whole)[1]
    finally:
        if executor is None:
            pool.close()
    equity = np.asarray(result.equity, float)
    oos = compute_metrics(equity, periods_per_year=evaluator.periods_per_year)
    dates = getattr(result.equity, "index", None)
    return {
        "method": method,
        "objective": objective.describe(),
        "train": train,
        "test": test,
        "anchored": anchored,
        "n_windows": len(result.windows),
        "stopped": result.stopped,
        "windows": result.windows,
        "efficiency": result.efficiency,
        "out_of_sample_metrics": oos,
        "in_sample_mean_score": float(result.windows["in_sample"].mean()),
        "out_of_sample_mean_score": float(result.windows["out_of_sample"].mean()),
        "equity": equity.tolist(),
        "dates": None if dates is None else [d.isoformat() for d in dates],
        "in_sample_params": whole,
        "in_sample_equity": None if in_sample is None else in_sample.tolist(),
    }


def _dsr(equity, trials_table, periods_per_year: float) -> dict[str, Any] | None:
    returns = np.diff(np.asarray(equity, float)) / np.asarray(equity, float)[:-1]
    sharpes = trials_table["sharpe"].to_numpy(float) if "sharpe" in trials_table else np.array([])
    sharpes = sharpes[np.isfinite(sharpes)]
    if len(returns) < 3 or len(sharpes) < 2:
        return None
    guard = deflated_sharpe(returns, sharpes, periods_per_year=periods_per_year)
    return {
        "dsr": guard.dsr,
        "sharpe": guard.sharpe,
        "benchmark": guard.benchmark,
        "n_trials": guard.n_trials,
    }


PBO_TRIALS = 50


def _pbo(evaluator, result, space, pool) -> dict[str, Any] | None:
    """Probability of backtest overfitting (CSCV, 16 splits) over the best trials' returns.

    Their equity curves are the ones the search kept (``result.curves``); a curve it did
    not keep is run again, in one batch with a batched evaluator, else on the executor.
    """
    trials_table = result.trials
    feasible = trials_table[np.isfinite(trials_table["score"].to_numpy(float))]
    top = feasible.sort_values("score", ascending=False).head(PBO_TRIALS)
    if len(top) < 2:
        return None
    names = [d.name for d in space.dimensions]
    points = top[names].to_numpy(float) if names else np.empty((len(top), 0))
    keys = [tuple(float(v) for v in x) for x in points]
    missing = [i for i, key in enumerate(keys) if key not in result.curves]
    params = [space.to_params(points[i]) for i in missing]
    if not params:
        rerun = []
    elif evaluator.batched:
        rerun = evaluator.equity_batch(params)
    else:
        rerun = pool(_EquityOf(evaluator), params)
    curves = dict(zip(missing, rerun, strict=True))
    columns = [
        np.asarray(curves[i] if i in curves else result.curves[k], float)
        for i, k in enumerate(keys)
    ]
    columns = [c[1:] / c[:-1] - 1 for c in columns]
    result = probability_of_backtest_overfitting(np.column_stack(columns), n_splits=16)
    return {"pbo": result.pbo, "n_trials": len(columns), "n_splits": 16}


class _EquityOf:
    """``params -> equity curve`` of an evaluator (picklable, for an executor)."""

    def __init__(self, evaluator: BacktestEvaluator):
        self.evaluator = evaluator

    def __call__(self, params: dict[str, Any]) -> np.ndarray:
        return self.evaluator.run(params)[1].to_numpy(float)


TRACE_POINTS = 500
"""At most this many states per chain are kept for the trace plot."""
HISTOGRAM_BINS = 30


def _mcmc_report(result) -> dict[str, Any]:
    return {
        "acceptance_rate": float(np.mean(result.acceptance)),
        "acceptance_by_chain": [float(a) for a in result.acceptance],
        "rhat": {k: (None if not math.isfinite(v) else v) for k, v in result.rhat.items()},
        "credible_intervals": {k: list(v) for k, v in result.credible_intervals.items()},
        "credible_level": result.level,
        "posterior_summary": result.summary.reset_index().to_dict("records"),
        "burn_in": result.burn_in,
        "trace": mcmc_trace(result),
        "histograms": mcmc_histograms(result),
    }


def mcmc_trace(result, points: int = TRACE_POINTS) -> dict[str, Any]:
    """Every k-th state of every chain, burn-in included.

    ``iterations`` and, per parameter, one list per chain.
    """
    n_iter = result.chains.shape[1]
    every = max(1, math.ceil(n_iter / points))
    return {
        "iterations": list(range(0, n_iter, every)),
        "chains": {
            name: [chain[::every, j].tolist() for chain in result.chains]
            for j, name in enumerate(result.names)
        },
    }


def mcmc_histograms(result, bins: int = HISTOGRAM_BINS) -> dict[str, Any]:
    """Posterior histograms of the kept draws, per parameter and chain, on common edges.

    One bin per value for a stepped parameter with at most ``bins`` values in the draws.
    """
    samples = result.samples
    out = {}
    for j, (name, dim) in enumerate(zip(result.names, result.dimensions, strict=True)):
        draws = samples[:, :, j]
        if not draws.size:
            continue
        low, high = float(draws.min()), float(draws.max())
        if dim.discrete and (high - low) / dim.step < bins:
            half = dim.step / 2
            edges = np.arange(low - half, high + dim.step, dim.step)
        else:
            edges = np.linspace(low, high if high > low else low + 1.0, bins + 1)
        counts = [np.histogram(chain, bins=edges)[0].tolist() for chain in draws]
        out[name] = {"edges": edges.tolist(), "counts": counts}
    return out
