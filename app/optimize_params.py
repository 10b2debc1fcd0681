"""Optimize page: the search-space inputs of a strategy's parameters, derived from its params
model — a range (low, high, step) per bounded parameter, or one value when it is fixed."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.strategies import ParamSpec, param_space


def default_range(spec: ParamSpec) -> tuple[float, float, float]:
    """A starting range around the default: half to twice it, about five values."""
    low, high = float(spec.low), float(spec.high)
    default = float(spec.default)
    lo, hi = max(low, default * 0.5), min(high, default * 2)
    if not lo < hi:
        lo, hi = low, high
    raw = (hi - lo) / 4
    if spec.kind == "int":
        step = max(int(spec.step or 1), round(raw))
        return int(lo), int(hi), int(step)
    base = spec.step or raw
    step = max(base, round(raw / base) * base) if base else raw
    return lo, hi, round(step, 10)


def _ranged(spec: ParamSpec) -> bool:
    """True for a parameter the form gives a range slider (a bounded number)."""
    return spec.kind in ("int", "float") and spec.low is not None and spec.high is not None


def fix_inputs(params_model, key: str) -> set[str]:
    """A "fix" checkbox per ranged parameter; the names checked.

    The checkboxes sit outside the form, so that checking one swaps its range for a value
    at once.

    Parameters
    ----------
    params_model : type of StrategyParams
        The strategy's parameters model.
    key : str
        Prefix of the widget keys (``<key>_<name>_fix``).

    Returns
    -------
    set of str
        The parameters to fix rather than search.
    """
    specs = [s for s in param_space(params_model) if _ranged(s)]
    if not specs:
        return set()
    st.caption("Fix a parameter to keep one value instead of searching it.")
    columns = st.columns(len(specs))
    return {
        spec.name
        for spec, column in zip(specs, columns, strict=True)
        if column.checkbox(
            f"fix {spec.name.replace('_', ' ')}",
            key=f"{key}_{spec.name}_fix",
            help=f"keep {spec.name} at one value (the CLI's --param {spec.name}=VALUE)",
        )
    }


def range_inputs(
    params_model, key: str, pinned: set[str] = frozenset()
) -> tuple[dict[str, tuple[float, ...]], dict[str, Any]]:
    """A range slider and a step per numeric parameter, "search both" for a bool.

    A parameter in ``pinned`` gets a value input instead of a range.

    Parameters
    ----------
    params_model : type of StrategyParams
        The strategy's parameters model.
    key : str
        Prefix of the widget keys.
    pinned : set of str, optional
        Parameters to fix (see :func:`fix_inputs`): each gets a value input, not a range.

    Returns
    -------
    ranges : dict of str to tuple of float
        ``(lo, hi[, step])`` per searched parameter.
    fixed : dict of str to Any
        The value of each fixed parameter.
    """
    ranges: dict[str, tuple[float, ...]] = {}
    fixed: dict[str, Any] = {}
    for spec in param_space(params_model):
        label = spec.name.replace("_", " ")
        if spec.kind == "bool":
            both = st.checkbox(
                f"{label}: search both", value=True, key=f"{key}_{spec.name}", help=spec.description
            )
            value = float(bool(spec.default))
            ranges[spec.name] = (0.0, 1.0) if both else (value, value)
            continue
        if spec.kind in ("choice", "text"):
            st.caption(f"{label}: {'all choices searched' if spec.kind == 'choice' else 'fixed'}")
            continue
        if not _ranged(spec):
            st.caption(f"{label}: fixed at {spec.default} (no declared bounds)")
            ranges[spec.name] = (float(spec.default), float(spec.default))
            continue
        if spec.name in pinned:
            fixed[spec.name] = _fixed_input(spec, label, key)
            continue
        ranges[spec.name] = _range_input(spec, label, key)
    return ranges, fixed


def _fixed_input(spec: ParamSpec, label: str, key: str) -> float | int:
    """The one value of a fixed parameter, within its declared bounds."""
    if spec.kind == "int":
        return int(
            st.number_input(
                f"{label} (fixed)",
                min_value=int(spec.low),
                max_value=int(spec.high),
                value=int(spec.default),
                step=int(spec.step or 1),
                key=f"{key}_{spec.name}_value",
                help=spec.description,
            )
        )
    return float(
        st.number_input(
            f"{label} (fixed)",
            min_value=float(spec.low),
            max_value=float(spec.high),
            value=float(spec.default),
            step=float(spec.step or (spec.high - spec.low) / 100),
            key=f"{key}_{spec.name}_value",
            help=spec.description,
        )
    )


def _range_input(spec: ParamSpec, label: str, key: str) -> tuple[float, float, float]:
    """A range slider and a step for a searched parameter."""
    lo, hi, step = default_range(spec)
    c1, c2 = st.columns([3, 1])
    if spec.kind == "int":
        chosen = c1.slider(
            label,
            min_value=int(spec.low),
            max_value=int(spec.high),
            value=(int(lo), int(hi)),
            step=int(spec.step or 1),
            key=f"{key}_{spec.name}",
            help=spec.description,
        )
        size = c2.number_input(
            "step", min_value=1, value=int(step), step=1, key=f"{key}_{spec.name}_step"
        )
    else:
        fine = float(spec.step or (spec.high - spec.low) / 100)
        chosen = c1.slider(
            label,
            min_value=float(spec.low),
            max_value=float(spec.high),
            value=(float(lo), float(hi)),
            step=fine,
            key=f"{key}_{spec.name}",
            help=spec.description,
        )
        size = c2.number_input(
            "step", min_value=fine, value=float(step), step=fine, key=f"{key}_{spec.name}_step"
        )
    return (float(chosen[0]), float(chosen[1]), float(size))
