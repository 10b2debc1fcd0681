"""Features and labels on a panel of closes: arrays of shape (n_dates, n_symbols).

Every feature at bar t reads bars t − w … t of its own symbol (a trailing window), then the
cross-sectional rank on date t reads the other symbols' values on date t only: nothing after t
is read, which :func:`causality_gaps` checks by recomputing on data cut at t. Windows holding a
missing close give NaN (XGBoost treats it as missing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from core.ml._spec import FeatureSet, LabelSpec

_EPS = 1e-12


@dataclass(frozen=True)
class FeaturePanel:
    """Feature values of shape (n_dates, n_symbols, n_features) and their names."""

    values: np.ndarray
    names: tuple[str, ...]


def feature_names(features: FeatureSet, has_volume: bool) -> tuple[str, ...]:
    """The names :func:`compute_features` gives, in order."""
    raw = [name for name, _ in _raw_specs(features, has_volume)]
    mode = features.cross_section
    if mode == "raw":
        return tuple(raw)
    ranked = [f"cs_{n}" for n in raw]
    return tuple(ranked if mode == "rank" else raw + ranked)


def compute_features(
    close: np.ndarray,
    features: FeatureSet,
    volume: np.ndarray | None = None,
    *,
    last_only: bool = False,
) -> FeaturePanel:
    """Every feature of ``features`` on the panel.

    Parameters
    ----------
    close : ndarray of shape (n_dates, n_symbols)
        Closes (NaN: no bar).
    features : FeatureSet
        Which families and windows.
    volume : ndarray of shape (n_dates, n_symbols), optional
        Volumes; volume features are computed only when given and ``features.volume``.
    last_only : bool, default False
        Only the last date (shape (1, n_symbols, n_features)): what scoring a date needs.

    Returns
    -------
    FeaturePanel
        Values of shape (n_dates, n_symbols, n_features), float32.
    """
    close = np.asarray(close, dtype=float)
    has_volume = volume is not None and features.volume
    vol = np.asarray(volume, dtype=float) if has_volume else None
    raw = [fn(close, vol) for _, fn in _raw_specs(features, has_volume)]
    if last_only:
        raw = [x[-1:] for x in raw]
        close = close[-1:]
    names = feature_names(features, has_volume)
    if not raw:
        return FeaturePanel(np.empty((*close.shape, 0), dtype=np.float32), names)
    stacked = np.stack(raw, axis=-1)  # (n_dates, n_symbols, n_raw)
    mode = features.cross_section
    if mode == "raw":
        return FeaturePanel(stacked.astype(np.float32), names)
    ranked = cross_rank(stacked)  # every feature at once: ranks along the symbols axis
    if mode == "both":
        ranked = np.concatenate([stacked, ranked], axis=-1)
    return FeaturePanel(ranked.astype(np.float32), names)


def forward_returns(close: np.ndarray, horizon: int) -> np.ndarray:
    """``close[t+1+h] / close[t+1] − 1`` per date and symbol (NaN where not known).

    Parameters
    ----------
    close : ndarray of shape (n_dates, n_symbols)
    horizon : int
        h, in bars.

    Returns
    -------
    ndarray of shape (n_dates, n_symbols)
        The last h + 1 dates are NaN (their return ends after the data).
    """
    close = np.asarray(close, dtype=float)
    out = np.full(close.shape, np.nan)
    n = len(close)
    if n > horizon + 1:
        out[: n - 1 - horizon] = close[1 + horizon :] / close[1 : n - horizon] - 1
    return out


def make_label(close: np.ndarray, label: LabelSpec) -> tuple[np.ndarray, np.ndarray]:
    """The training target and the raw forward return, both (n_dates, n_symbols)."""
    raw = forward_returns(close, label.horizon)
    return (cross_rank(raw) if label.cross_section == "rank" else raw), raw


def cross_rank(x: np.ndarray) -> np.ndarray:
    """Rank across symbols per date (axis 1), ties averaged, scaled to [−0.5, 0.5]; NaN kept.

    ``x`` has shape (n_dates, n_symbols) or (n_dates, n_symbols, n_features). One symbol
    with a value on a date ranks 0.
    """
    a = np.ascontiguousarray(np.moveaxis(np.asarray(x, dtype=float), 1, -1))  # (..., n_symbols)
    missing = np.isnan(a)
    filled = np.where(missing, np.inf, a)  # missing values sort last
    order = np.argsort(filled, axis=-1, kind="stable")
    ranked = np.take_along_axis(filled, order, -1)
    n = a.shape[-1]
    idx = np.broadcast_to(np.arange(n), a.shape)
    starts = np.ones(a.shape, dtype=bool)
    starts[..., 1:] = ranked[..., 1:] != ranked[..., :-1]
    ends = np.ones(a.shape, dtype=bool)
    ends[..., :-1] = starts[..., 1:]
    first = np.maximum.accumulate(np.where(starts, idx, 0), axis=-1)
    last = np.flip(np.minimum.accumulate(np.flip(np.where(ends, idx, n - 1), -1), axis=-1), -1)
    ranks = np.empty(a.shape)
    np.put_along_axis(ranks, order, (first + last) / 2, -1)  # 0-based average ranks
    count = (~missing).sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(count > 1, ranks / (count - 1) - 0.5, 0.0)
    return np.moveaxis(np.where(missing, np.nan, scaled), -1, 1)


def causality_gaps(
    close: np.ndarray,
    features: FeatureSet,
    cuts: list[int],
    volume: np.ndarray | None = None,
    full: FeaturePanel | None = None,
) -> dict[str, float]:
    """Largest |value on data cut at t − value on all data| at each cut t, per feature.

    Parameters
    ----------
    close, volume : ndarray of shape (n_dates, n_symbols)
    features : FeatureSet
    cuts : list of int
        Bars t; the data is cut after t (bars 0 … t kept).
    full : FeaturePanel, optional
        The features on all data (computed when not given).

    Returns
    -------
    dict
        Feature name → the largest gap (0.0 for a causal feature; NaN agreement counts as 0).
    """
    full = full or compute_features(close, features, volume)
    gaps = dict.fromkeys(full.names, 0.0)
    for t in cuts:
        cut = compute_features(
            close[: t + 1], features, None if volume is None else volume[: t + 1]
        )
        a, b = cut.values[t], full.values[t]
        same_nan = np.isnan(a) & np.isnan(b)
        diff = np.where(same_nan, 0.0, np.abs(a - b))
        diff = np.where(np.isnan(diff), np.inf, diff)  # NaN on one side only: a leak
        for j, name in enumerate(full.names):
            gaps[name] = max(gaps[name], float(diff[:, j].max(initial=0.0)))
    return gaps


# -- the raw families --------------------------------------------------------------------------
def _raw_specs(features: FeatureSet, has_volume: bool) -> list[tuple[str, object]]:
    specs: list[tuple[str, object]] = []
    for w in features.window_list:
        if features.returns:
            specs.append((f"ret_{w}", lambda c, v, w=w: _ret(c, w)))
        if features.volatility:
            specs.append((f"vol_{w}", lambda c, v, w=w: _vol(c, w)))
        if features.moving_average:
            specs.append((f"ma_{w}", lambda c, v, w=w: _window(c, w, np.mean) / c))
        if features.max_min:
            specs.append((f"max_{w}", lambda c, v, w=w: _window(c, w, np.max) / c))
            specs.append((f"min_{w}", lambda c, v, w=w: _window(c, w, np.min) / c))
        if features.rank:
            specs.append((f"rank_{w}", lambda c, v, w=w: _rank(c, w)))
        if features.rsi:
            specs.append((f"rsi_{w}", lambda c, v, w=w: _rsi(c, w)))
        if has_volume:
            specs.append((f"vma_{w}", lambda c, v, w=w: _window(v, w, np.mean) / (v + _EPS)))
            specs.append((f"vstd_{w}", lambda c, v, w=w: _window(v, w, _std) / (v + _EPS)))
            specs.append((f"corr_{w}", lambda c, v, w=w: _corr(c, np.log1p(v), w)))
    return specs


def _views(x: np.ndarray, w: int) -> np.ndarray | None:
    """Trailing windows: shape (n_dates − w + 1, n_symbols, w); None when too short."""
    return sliding_window_view(x, w, axis=0) if len(x) >= w else None


def _pad(values: np.ndarray | None, shape: tuple[int, ...], w: int) -> np.ndarray:
    out = np.full(shape, np.nan)
    if values is not None:
        out[w - 1 :] = values
    return out


def _window(x: np.ndarray, w: int, fn) -> np.ndarray:
    views = _views(x, w)
    return _pad(None if views is None else fn(views, axis=-1), x.shape, w)


def _std(views: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.std(views, axis=axis, ddof=1)


def _returns(c: np.ndarray) -> np.ndarray:
    r = np.full(c.shape, np.nan)
    r[1:] = c[1:] / c[:-1] - 1
    return r


def _ret(c: np.ndarray, w: int) -> np.ndarray:
    out = np.full(c.shape, np.nan)
    if len(c) > w:
        out[w:] = c[w:] / c[:-w] - 1
    return out


def _vol(c: np.ndarray, w: int) -> np.ndarray:
    return _window(_returns(c), w, _std)


def _rank(c: np.ndarray, w: int) -> np.ndarray:
    views = _views(c, w)
    if views is None:
        return np.full(c.shape, np.nan)
    last = views[..., -1:]
    share = np.mean(views <= last, axis=-1)
    share = np.where(np.isnan(views).any(axis=-1), np.nan, share)
    return _pad(share, c.shape, w)


def _rsi(c: np.ndarray, w: int) -> np.ndarray:
    change = np.full(c.shape, np.nan)
    change[1:] = np.diff(c, axis=0)
    gains = _window(np.maximum(change, 0.0) + 0 * change, w, np.sum)
    losses = _window(np.maximum(-change, 0.0) + 0 * change, w, np.sum)
    total = gains + losses
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 100.0 * gains / total, np.where(np.isnan(total), np.nan, 50.0))


def _corr(a: np.ndarray, b: np.ndarray, w: int) -> np.ndarray:
    va, vb = _views(a, w), _views(b, w)
    if va is None:
        return np.full(a.shape, np.nan)
    da = va - va.mean(axis=-1, keepdims=True)
    db = vb - vb.mean(axis=-1, keepdims=True)
    num = (da * db).sum(axis=-1)
    den = np.sqrt((da * da).sum(axis=-1) * (db * db).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > _EPS, num / den, 0.0)
    r = np.where(np.isnan(num) | np.isnan(den), np.nan, r)
    return _pad(r, a.shape, w)
