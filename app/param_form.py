"""A strategy's parameter form, generated from its parameters model (one schema, many uses)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.strategies import ParamSpec, param_space


def param_inputs(params_model, key: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """One input per field of ``params_model``; returns the raw values (validate them after)."""
    values = values or {}
    out: dict[str, Any] = {}
    for spec in param_space(params_model):
        out[spec.name] = _input(spec, f"{key}_{spec.name}", values.get(spec.name, spec.default))
    return out


def _input(spec: ParamSpec, key: str, value: Any) -> Any:
    label = spec.name.replace("_", " ")
    if spec.kind == "bool":
        return st.checkbox(label, value=bool(value), help=spec.description, key=key)
    if spec.kind == "choice":
        return st.selectbox(
            label, spec.choices, index=spec.choices.index(value), help=spec.description, key=key
        )
    if spec.kind == "text":
        return st.text_input(label, value=str(value), help=spec.description, key=key)
    if spec.kind == "int":
        return int(
            st.number_input(
                label,
                min_value=_int(spec.low),
                max_value=_int(spec.high),
                value=int(value),
                step=int(spec.step or 1),
                help=spec.description,
                key=key,
            )
        )
    return float(
        st.number_input(
            label,
            min_value=_float(spec.low),
            max_value=_float(spec.high),
            value=float(value),
            step=float(spec.step) if spec.step else None,
            format=_float_format(spec.step),
            help=spec.description,
            key=key,
        )
    )


def _int(x):
    return None if x is None else int(x)


def _float(x):
    return None if x is None else float(x)


def _float_format(step) -> str | None:
    """As many decimals as a fine ``step`` has (0.0001 → ``%.4f``); None keeps Streamlit's
    two (its Python side sends ``%0.2f`` whatever the step, so 0.035 would show as 0.04)."""
    if not step or float(step) >= 0.01:
        return None
    decimals = min(8, max(2, len(f"{float(step):.8f}".rstrip("0").split(".")[1])))
    return f"%.{decimals}f"
