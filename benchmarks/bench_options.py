"""Option pricing benchmarks: prices, price + Greeks and implied vols per second, one core.

Run from the repository root:  python benchmarks/bench_options.py [n] [repeats]
(default n = 1,000,000 options, best of 5). Thread pools are pinned to one thread before numpy
is imported. Inputs: random strikes 50-200 around a spot of 100, expiries 0.05-3 years,
volatilities 5-100 %, mixed calls and puts, r = 3 %, q = 1 %. The implied-vol run inverts the
BSM prices of the same options. The QuantLib reference prices and takes the Greeks of 20,000
options in a Python loop (quotes reset, one AnalyticEuropeanEngine).

Targets (issue 16): ≥ 5,000,000 prices/s, ≥ 1,000,000 price + Greeks/s, ≥ 300,000 IVs/s.
Prints markdown rows.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from core.derivatives import bsm, bsm_price, implied_vol  # noqa: E402


def best_of(fn, repeats: int) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def options(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    is_call = rng.random(n) < 0.5
    spot = np.full(n, 100.0)
    strike = rng.uniform(50.0, 200.0, n)
    expiry = rng.uniform(0.05, 3.0, n)
    vol = rng.uniform(0.05, 1.0, n)
    return is_call, spot, strike, expiry, 0.03, vol, 0.01


def quantlib_rate(n: int) -> float | None:
    try:
        import QuantLib as ql
    except ImportError:
        return None
    is_call, _spot, strike, expiry, rate, vol, div = options(n, seed=1)
    today = ql.Date(15, 1, 2026)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    s_q, r_q, q_q, v_q = (ql.SimpleQuote(x) for x in (100.0, rate, div, 0.2))
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(s_q),
        ql.YieldTermStructureHandle(ql.FlatForward(today, ql.QuoteHandle(q_q), dc)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, ql.QuoteHandle(r_q), dc)),
        ql.BlackVolTermStructureHandle(
            ql.BlackConstantVol(today, ql.NullCalendar(), ql.QuoteHandle(v_q), dc)
        ),
    )
    engine = ql.AnalyticEuropeanEngine(process)
    days = np.maximum(1, np.round(expiry * 365)).astype(int)
    start = time.perf_counter()
    for i in range(n):
        kind = ql.Option.Call if is_call[i] else ql.Option.Put
        option = ql.VanillaOption(
            ql.PlainVanillaPayoff(kind, float(strike[i])),
            ql.EuropeanExercise(today + int(days[i])),
        )
        option.setPricingEngine(engine)
        v_q.setValue(float(vol[i]))
        option.NPV(), option.delta(), option.gamma(), option.theta(), option.vega(), option.rho()
    return n / (time.perf_counter() - start)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    args = options(n)
    prices = bsm_price(*args)
    is_call, spot, strike, expiry, rate, vol, div = args
    rows = [
        ("BSM prices", best_of(lambda: bsm_price(*args), repeats), 5_000_000),
        ("BSM price + Greeks", best_of(lambda: bsm(*args), repeats), 1_000_000),
        (
            "implied vols (BSM)",
            best_of(lambda: implied_vol(is_call, prices, spot, strike, expiry, rate, div), 3),
            300_000,
        ),
    ]
    iv = implied_vol(is_call, prices, spot, strike, expiry, rate, div)
    g = bsm(*args)
    # well posed: a 1e-10 move in σ moves the price by more than 8 ulps
    posed = (g.vega_per_1 * 1e-10 > 8 * np.finfo(float).eps * g.price) & (g.price > 1e-300)
    error = np.max(np.abs(iv.iv - vol)[posed])
    print(f"n = {n:,}; well-posed implied vols {posed.mean():.2%}, max |σ - σ_true| {error:.1e}")
    print("| what | seconds | per second | target |")
    print("|---|---|---|---|")
    for name, seconds, target in rows:
        print(f"| {name} | {seconds:.4f} | {n / seconds:,.0f} | ≥ {target:,} |")
    ql_rate = quantlib_rate(20_000)
    if ql_rate is not None:
        print(f"| QuantLib Python loop, price + Greeks | — | {ql_rate:,.0f} | (reference) |")


if __name__ == "__main__":
    main()
