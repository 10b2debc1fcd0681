"""The synthetic market: model validation, calendars, OHLC, statistics, ticks and streams."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from core.marketdata import PRESETS, Regime, RegimeSwitchingModel, SyntheticMarket, preset
from core.marketdata._frames import BAR_COLUMNS

SESSION_OPEN = pd.Timedelta(hours=9, minutes=30)
SESSION_CLOSE = pd.Timedelta(hours=16)
# long simulations random-walk over tens of log units: keep the tick far below the price
HEADROOM = {"start_price": 1e12, "price_tick": 1e-12}


def twin_model(drift=0.10, volatility=0.30, **extra) -> RegimeSwitchingModel:
    """Two identical regimes: a single-regime market whatever the chain does."""
    jumps = {k: extra.pop(k) for k in ("jump_intensity", "jump_mean", "jump_std") if k in extra}
    regimes = tuple(
        Regime(name=name, drift=drift, volatility=volatility, mean_duration_days=50, **jumps)
        for name in ("a", "b")
    )
    return RegimeSwitchingModel(regimes=regimes, exit_matrix=None, **extra)


def three_state_model(**extra) -> RegimeSwitchingModel:
    regimes = (
        Regime(name="calm", drift=0.1, volatility=0.1, mean_duration_days=8),
        Regime(name="storm", drift=-0.2, volatility=0.4, mean_duration_days=3),
        Regime(name="drift", drift=0.0, volatility=0.2, mean_duration_days=15),
    )
    exits = ((0.0, 0.8, 0.2), (0.3, 0.0, 0.7), (0.5, 0.5, 0.0))
    return RegimeSwitchingModel(regimes=regimes, exit_matrix=exits, **extra)


def stationary(matrix: np.ndarray) -> np.ndarray:
    """Solve π P = π, Σπ = 1 as a least-squares linear system."""
    n = matrix.shape[0]
    system = np.vstack([matrix.T - np.eye(n), np.ones(n)])
    target = np.concatenate([np.zeros(n), [1.0]])
    return np.linalg.lstsq(system, target, rcond=None)[0]


def assert_bars_frame(bars: pd.DataFrame) -> None:
    assert list(bars.columns) == list(BAR_COLUMNS)
    assert isinstance(bars.index, pd.DatetimeIndex)
    assert bars.index.name == "timestamp" and bars.index.tz is None
    assert bars.index.is_monotonic_increasing and bars.index.is_unique
    assert (bars.dtypes == np.float64).all()


def assert_ohlc_consistent(bars: pd.DataFrame, tick: float) -> None:
    o, h, low, c = (bars[k].to_numpy() for k in ("open", "high", "low", "close"))
    assert (low > 0).all() and (bars["volume"] >= 0).all()
    assert (h >= np.maximum(o, c)).all() and (low <= np.minimum(o, c)).all()
    np.testing.assert_array_equal(o[1:], c[:-1])
    ratio = bars[["open", "high", "low", "close"]].to_numpy() / tick
    np.testing.assert_allclose(ratio, np.rint(ratio), rtol=0, atol=1e-6)


# --------------------------------------------------------------------------- models


def test_default_exit_matrix_is_uniform_over_the_others():
    default = RegimeSwitchingModel(regimes=three_state_model().regimes)
    np.testing.assert_allclose(default.exit_matrix, [[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])


@pytest.mark.parametrize(
    "exits",
    [
        ((0.5, 0.25, 0.25), (0.5, 0.0, 0.5), (0.5, 0.5, 0.0)),  # non-zero diagonal
        ((0.0, 0.6, 0.6), (0.5, 0.0, 0.5), (0.5, 0.5, 0.0)),  # row sum
        ((0.0, 1.0), (1.0, 0.0)),  # wrong size
        ((0.0, 1.5, -0.5), (0.5, 0.0, 0.5), (0.5, 0.5, 0.0)),  # negative
    ],
)
def test_invalid_exit_matrix_is_rejected(exits):
    with pytest.raises(ValidationError):
        RegimeSwitchingModel(regimes=three_state_model().regimes, exit_matrix=exits)


def test_model_validation():
    regime = Regime(name="x", drift=0.0, volatility=0.1, mean_duration_days=5)
    with pytest.raises(ValidationError):
        RegimeSwitchingModel(regimes=(regime,))
    with pytest.raises(ValidationError):
        RegimeSwitchingModel(regimes=(regime, regime))  # duplicate names
    regimes = tuple(regime.model_copy(update={"name": f"r{i}"}) for i in range(7))
    with pytest.raises(ValidationError):
        RegimeSwitchingModel(regimes=regimes)
    with pytest.raises(ValidationError):
        RegimeSwitchingModel(regimes=regimes[:2], initial_regime=2)
    with pytest.raises(ValidationError):
        RegimeSwitchingModel(regimes=regimes[:2], calendar="moon")
    for bad in ({"volatility": 0}, {"mean_duration_days": 0}, {"jump_intensity": -1}):
        with pytest.raises(ValidationError):
            Regime(**{"name": "x", "drift": 0, "volatility": 0.1, "mean_duration_days": 5, **bad})
    with pytest.raises(ValidationError):
        Regime(name="x", drift=0, volatility=0.1, mean_duration_days=5, colour="red")


def test_exit_matrix_accepts_an_array():
    model = RegimeSwitchingModel(
        regimes=three_state_model().regimes, exit_matrix=np.array(three_state_model().exit_matrix)
    )
    assert model.exit_matrix == three_state_model().exit_matrix


@pytest.mark.parametrize("dt_days", [1.0, 5 / 390, 1 / 24, 7.0])
def test_transition_matrix_is_stochastic(dt_days):
    matrix = three_state_model().transition_matrix(dt_days)
    assert matrix.shape == (3, 3) and (matrix >= 0).all()
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_transition_matrix_without_time_is_the_identity():
    np.testing.assert_array_equal(three_state_model().transition_matrix(0.0), np.eye(3))
    with pytest.raises(ValueError):
        three_state_model().transition_matrix(-1.0)


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("dt_days", [1.0, 5 / 390])
def test_expected_duration_does_not_depend_on_the_interval(name, dt_days):
    model = preset(name)
    stay = np.diag(model.transition_matrix(dt_days))
    implied = dt_days / (1.0 - stay)  # expected steps per visit × step length
    expected = np.array([r.mean_duration_days for r in model.regimes])
    # the holding time is the exponential one rounded up to whole steps: d + dt/2 + O(dt²/d)
    assert (np.abs(implied - expected - dt_days / 2) <= dt_days**2 / expected).all()
    assert (np.abs(implied - expected) <= dt_days).all()


# --------------------------------------------------------------------------- presets


def test_presets():
    assert set(PRESETS) == {"equity", "crypto", "forex"}
    equity = preset("equity")
    assert [(r.name, r.drift, r.volatility, r.mean_duration_days) for r in equity.regimes] == [
        ("bull", 0.15, 0.12, 250),
        ("bear", -0.30, 0.30, 60),
        ("sideways", 0.0, 0.15, 120),
    ]
    assert equity.start_price == 100 and equity.calendar == "equity"
    crypto = preset("crypto")
    assert crypto.calendar == "crypto" and crypto.periods_per_year == 365
    assert crypto.start_price == 30_000 and any(r.jump_intensity > 0 for r in crypto.regimes)
    assert min(r.volatility for r in crypto.regimes) >= 0.6
    forex = preset("forex")
    assert forex.calendar == "forex" and forex.start_price == 1.10 and forex.price_tick == 1e-5
    assert all(0.05 <= r.volatility <= 0.10 for r in forex.regimes)


def test_unknown_preset_names_the_available_ones():
    with pytest.raises(KeyError, match="crypto, equity, forex"):
        preset("bonds")


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_bars_and_ticks():
    one, two = SyntheticMarket(preset("equity"), seed=7), SyntheticMarket(preset("equity"), seed=7)
    pd.testing.assert_frame_equal(one.bars("2024-01-02", 300), two.bars("2024-01-02", 300))
    pd.testing.assert_frame_equal(one.bars("2024-01-02", 300), one.bars("2024-01-02", 300))
    pd.testing.assert_frame_equal(one.ticks("2024-01-02", 500), two.ticks("2024-01-02", 500))


def test_different_seed_different_output():
    one, two = SyntheticMarket(preset("equity"), seed=7), SyntheticMarket(preset("equity"), seed=8)
    assert not one.bars("2024-01-02", 50)["close"].equals(two.bars("2024-01-02", 50)["close"])
    assert not one.ticks("2024-01-02", 50)["timestamp"].equals(
        two.ticks("2024-01-02", 50)["timestamp"]
    )


def test_unseeded_market_records_its_seed():
    market = SyntheticMarket(preset("equity"))
    again = SyntheticMarket(preset("equity"), seed=market.seed)
    pd.testing.assert_frame_equal(market.bars("2024-01-02", 20), again.bars("2024-01-02", 20))


def test_longer_request_extends_shorter():
    market = SyntheticMarket(preset("crypto"), seed=3)
    short, regimes_short = market.bars_with_regimes("2024-01-02", 100, "1h")
    long, regimes_long = market.bars_with_regimes("2024-01-02", 250, "1h")
    pd.testing.assert_frame_equal(short, long.iloc[:100])
    np.testing.assert_array_equal(regimes_short, regimes_long[:100])


# --------------------------------------------------------------------------- bars


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("interval", ["1min", "5min", "1h", "1D", "5D"])
def test_bars_are_consistent(name, interval):
    model = preset(name)
    bars, regimes = SyntheticMarket(model, seed=11).bars_with_regimes("2024-03-01", 2_000, interval)
    assert len(bars) == 2_000 and regimes.shape == (2_000,)
    assert_bars_frame(bars)
    assert_ohlc_consistent(bars, model.price_tick)
    assert bars["open"].iloc[0] == model.start_price and regimes[0] == model.initial_regime
    assert set(np.unique(regimes)) <= set(range(len(model.regimes)))


def test_prices_never_round_to_zero():
    crash = twin_model(drift=-40.0, volatility=1.0)
    bars = SyntheticMarket(crash, seed=1).bars("2024-01-02", 200)
    assert bars["close"].iloc[-1] == 0.01
    assert_ohlc_consistent(bars, 0.01)


def test_price_tick_argument():
    bars = SyntheticMarket(preset("equity"), seed=2).bars("2024-01-02", 300, price_tick=0.25)
    assert_ohlc_consistent(bars, 0.25)
    with pytest.raises(ValueError):
        SyntheticMarket(preset("equity"), seed=2).bars("2024-01-02", 3, price_tick=0.0)


def test_empty_request():
    market = SyntheticMarket(preset("equity"), seed=2)
    bars, regimes = market.bars_with_regimes("2024-01-02", 0, "5min")
    assert_bars_frame(bars)
    assert bars.empty and regimes.shape == (0,)
    assert list(market.ticks("2024-01-02", 0).columns) == [
        "timestamp", "price", "size", "bid", "ask", "regime",
    ]  # fmt: skip


@pytest.mark.parametrize("start", ["2024-01-02", "2024-01-06 12:00"])
def test_equity_daily_bars_skip_weekends(start):
    bars = SyntheticMarket(preset("equity"), seed=4).bars(start, 500)
    assert (bars.index.day_of_week < 5).all()
    assert (bars.index == bars.index.normalize()).all()
    assert bars.index[0] >= pd.Timestamp(start).normalize()
    assert len(bars.index) == len(pd.bdate_range(bars.index[0], bars.index[-1]))


def test_equity_intraday_bars_lie_in_the_session():
    bars = SyntheticMarket(preset("equity"), seed=4).bars("2024-01-05 15:52", 2_000, "5min")
    offset = bars.index - bars.index.normalize()
    assert (bars.index.day_of_week < 5).all()
    assert ((offset >= SESSION_OPEN) & (offset < SESSION_CLOSE)).all()
    assert bars.index[0] == pd.Timestamp("2024-01-05 15:55")
    assert bars.index[1] == pd.Timestamp("2024-01-08 09:30")
    assert (bars.groupby(bars.index.date).size().iloc[1:-1] == 78).all()


def test_equity_hourly_bars_end_with_a_short_bar():
    bars = SyntheticMarket(preset("equity"), seed=4).bars("2024-01-08", 14, "1h")
    times = sorted({t.strftime("%H:%M") for t in bars.index})
    assert times == ["09:30", "10:30", "11:30", "12:30", "13:30", "14:30", "15:30"]


def test_crypto_trades_on_weekends_forex_does_not():
    crypto = SyntheticMarket(preset("crypto"), seed=4)
    assert (crypto.bars("2024-01-01", 30).index.day_of_week >= 5).any()
    hourly = crypto.bars("2024-01-01", 24 * 14, "1h")
    assert (hourly.index.day_of_week >= 5).any() and (np.diff(hourly.index.asi8) == 3_600e9).all()
    forex = SyntheticMarket(preset("forex"), seed=4).bars("2024-01-01", 24 * 14, "1h")
    assert (forex.index.day_of_week < 5).all() and (forex.index.hour == 23).any()


@pytest.mark.parametrize("interval", ["36h", "-1D", "0min"])
def test_bad_interval(interval):
    with pytest.raises(ValueError):
        SyntheticMarket(preset("equity"), seed=1).bars("2024-01-02", 5, interval)


def test_tz_aware_start_is_rejected():
    with pytest.raises(ValueError, match="tz-naive"):
        SyntheticMarket(preset("equity"), seed=1).bars(pd.Timestamp("2024-01-02", tz="UTC"), 5)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    name=st.sampled_from(sorted(PRESETS)),
    interval=st.sampled_from(["1min", "7min", "30min", "1h", "4h", "1D", "2D"]),
    start=st.datetimes(min_value=pd.Timestamp("2000-01-01"), max_value=pd.Timestamp("2030-01-01")),
)
def test_bars_property(seed, name, interval, start):
    model = preset(name)
    bars = SyntheticMarket(model, seed=seed).bars(start, 300, interval)
    assert_bars_frame(bars)
    assert_ohlc_consistent(bars, model.price_tick)
    assert bars.index[0] >= pd.Timestamp(start).normalize()
    if model.calendar != "crypto":
        assert (bars.index.day_of_week < 5).all()


# --------------------------------------------------------------------------- statistics


def test_volume_scales_with_base_volume_and_volatility():
    model = twin_model(base_volume=50_000.0)
    bars = SyntheticMarket(model, seed=5).bars("2000-01-03", 20_000)
    assert bars["volume"].mean() == pytest.approx(50_000, rel=0.05)
    bars, regimes = SyntheticMarket(three_state_model(), seed=5).bars_with_regimes(
        "2000-01-03", 20_000
    )
    by_regime = bars["volume"].groupby(regimes).mean()
    assert by_regime[1] > by_regime[2] > by_regime[0]  # storm 0.4 > drift 0.2 > calm 0.1


def test_daily_log_returns_match_the_diffusion():
    # drift = vol²/2: the log price is a driftless walk, 6 standard errors from drift/periods
    drift, vol, periods, n = 0.045, 0.30, 252, 250_000
    model = twin_model(drift, vol, **HEADROOM)
    closes = SyntheticMarket(model, seed=21).bars("1900-01-01", n)["close"].to_numpy()
    assert closes.min() > 1e6 * model.price_tick  # rounding is negligible
    returns = np.diff(np.log(np.concatenate([[model.start_price], closes])))
    expected_mean = drift / periods - vol**2 / (2 * periods)
    expected_std = vol / np.sqrt(periods)
    assert abs(returns.mean() - expected_mean) < 4 * expected_std / np.sqrt(n)
    assert abs(returns.std() - expected_std) < 4 * expected_std / np.sqrt(2 * n)


def test_intraday_log_returns_match_the_diffusion():
    vol, n = 0.30, 200_000
    model = twin_model(0.0, vol, **HEADROOM)
    returns = np.diff(
        np.log(SyntheticMarket(model, seed=22).bars("2020-01-01", n, "5min")["close"])
    )
    expected_std = vol * np.sqrt(5 / 390 / 252)
    assert abs(returns.std() - expected_std) < 4 * expected_std / np.sqrt(2 * n)


def test_jumps_add_their_moments():
    drift, vol, lam, m, s, n = 0.42, 0.2, 20.0, -0.02, 0.05, 200_000  # mean log return 0
    model = twin_model(drift, vol, jump_intensity=lam, jump_mean=m, jump_std=s, **HEADROOM)
    closes = SyntheticMarket(model, seed=23).bars("1900-01-01", n)["close"].to_numpy()
    assert closes.min() > 1e6 * model.price_tick
    returns = np.diff(np.log(closes))
    mean = (drift - vol**2 / 2 + lam * m) / 252
    var = (vol**2 + lam * (m**2 + s**2)) / 252
    assert abs(returns.mean() - mean) < 4 * np.sqrt(var / n)
    fourth = np.mean((returns - returns.mean()) ** 4)
    assert abs(returns.var() - var) < 4 * np.sqrt((fourth - var**2) / n)


@pytest.mark.parametrize("interval", ["1D", "1h"])
def test_time_in_regime_matches_the_stationary_distribution(interval):
    model = three_state_model(calendar="crypto")
    dt_days = pd.Timedelta(interval) / pd.Timedelta("1D")
    n = 400_000 if interval == "1D" else 1_000_000
    _, regimes = SyntheticMarket(model, seed=31).bars_with_regimes("2000-01-01", n, interval)
    expected = stationary(model.transition_matrix(dt_days))
    np.testing.assert_allclose(expected @ model.transition_matrix(dt_days), expected, atol=1e-12)
    batches = np.array([np.bincount(b, minlength=3) / len(b) for b in np.array_split(regimes, 50)])
    shares, error = batches.mean(axis=0), batches.std(axis=0, ddof=1) / np.sqrt(50)
    assert (np.abs(shares - expected) < 5 * error + 1e-3).all(), (shares, expected, error)


def test_visit_lengths_match_mean_durations_on_intraday_bars():
    model = three_state_model()
    _, regimes = SyntheticMarket(model, seed=32).bars_with_regimes("2000-01-03", 300_000, "5min")
    change = np.flatnonzero(np.diff(regimes)) + 1
    lengths, states = np.diff(change), regimes[change[:-1]]  # drop the censored first/last visits
    for index, regime in enumerate(model.regimes):
        days = lengths[states == index] * 5 / 390
        error = days.std(ddof=1) / np.sqrt(len(days))
        assert abs(days.mean() - regime.mean_duration_days) < 5 * error + 5 / 390


# --------------------------------------------------------------------------- ticks


def test_ticks_are_well_formed():
    model = preset("equity")
    ticks = SyntheticMarket(model, seed=41).ticks("2024-01-05 15:00", 50_000)
    assert list(ticks.columns) == ["timestamp", "price", "size", "bid", "ask", "regime"]
    stamps = pd.DatetimeIndex(ticks["timestamp"])
    assert stamps.tz is None and (np.diff(stamps.asi8) > 0).all()
    offset = stamps - stamps.normalize()
    assert ((offset >= SESSION_OPEN) & (offset < SESSION_CLOSE)).all()
    assert (stamps.day_of_week < 5).all() and stamps[0] >= pd.Timestamp("2024-01-05 15:00")
    assert (ticks["bid"] < ticks["price"]).all() and (ticks["price"] < ticks["ask"]).all()
    assert (ticks["bid"] > 0).all() and (ticks["size"] > 0).all()
    ratio = ticks[["price", "bid", "ask"]].to_numpy() / model.price_tick
    np.testing.assert_allclose(ratio, np.rint(ratio), rtol=0, atol=1e-6)
    assert ticks["regime"].between(0, len(model.regimes) - 1).all()


def test_tick_rate_counts_trading_time_only():
    ticks = SyntheticMarket(preset("equity"), seed=42).ticks("2024-01-08 09:30", 200_000, rate=2.0)
    stamps = pd.DatetimeIndex(ticks["timestamp"])
    per_session = stamps.to_series().groupby(stamps.date).size().iloc[:-1]
    assert per_session.mean() == pytest.approx(2.0 * 23_400, rel=0.02)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_stream_chunks_equal_ticks(name):
    market = SyntheticMarket(preset(name), seed=43)
    expected = market.ticks("2024-01-05 12:00", 10_000)
    for chunk in (1_000, 337):
        stream = market.stream_ticks("2024-01-05 12:00", chunk=chunk)
        chunks = [next(stream) for _ in range(-(-10_000 // chunk))]
        assert all(len(c) == chunk for c in chunks)
        pd.testing.assert_frame_equal(pd.concat(chunks).iloc[:10_000], expected)


def test_tick_realised_variance_matches_the_volatility():
    vol, n = 0.8, 200_000
    model = twin_model(0.0, vol, calendar="crypto", periods_per_year=365, price_tick=1e-8)
    ticks = SyntheticMarket(model, seed=44).ticks("2024-01-01", n)
    log_price = np.log(np.concatenate([[model.start_price], ticks["price"].to_numpy()]))
    elapsed = (ticks["timestamp"].iloc[-1] - pd.Timestamp("2024-01-01")) / pd.Timedelta("365D")
    realised = np.sum(np.diff(log_price) ** 2)
    assert realised == pytest.approx(vol**2 * elapsed, rel=4 * np.sqrt(4 / n))


def test_million_ticks_are_fast():
    market = SyntheticMarket(preset("crypto"), seed=45)
    began = time.perf_counter()
    ticks = market.ticks("2024-01-01", 1_000_000)
    assert time.perf_counter() - began < 5.0 and len(ticks) == 1_000_000


def test_bad_tick_arguments():
    market = SyntheticMarket(preset("equity"), seed=1)
    with pytest.raises(ValueError):
        market.ticks("2024-01-02", 10, rate=0.0)
    with pytest.raises(ValueError):
        next(market.stream_ticks("2024-01-02", chunk=0))
