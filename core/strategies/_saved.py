"""Named strategy configurations.

A strategy with fixed parameters, saved for later use (an optimisation's best point, then paper
trading).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from core.db import StrategyConfigRow
from core.errors import ConflictError, InvalidInputError
from core.strategies._factory import validate_params


class ConfigNameTaken(ConflictError, ValueError):
    """A strategy configuration name already used (also a ``ValueError``, which callers catch)."""


def config_hash(strategy: str, params: dict[str, Any]) -> str:
    """The content hash of a strategy and its (validated) parameters."""
    canonical = json.dumps({"strategy": strategy, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def save_strategy_config(
    sessions: sessionmaker, name: str, strategy: str, params: dict[str, Any]
) -> int:
    """Validate ``params`` with the strategy's model and store them as ``name``; the row id.

    Raises ``InvalidInputError`` for an empty name, ``ConfigNameTaken`` (a ``ConflictError``) for a
    name already used, pydantic's ``ValidationError`` for invalid parameters.
    """
    name = name.strip()
    if not name:
        raise InvalidInputError("give the configuration a name")
    validated = validate_params(strategy, params).model_dump(mode="json")
    with sessions.begin() as session:
        if session.scalar(select(StrategyConfigRow.id).where(StrategyConfigRow.name == name)):
            raise ConfigNameTaken(f"a strategy configuration named {name!r} already exists")
        row = StrategyConfigRow(
            name=name,
            strategy=strategy,
            params=validated,
            config_hash=config_hash(strategy, validated),
            created_at=datetime.now(UTC).replace(tzinfo=None),
        )
        session.add(row)
        session.flush()
        return row.id


def strategy_configs(sessions: sessionmaker) -> list[dict[str, Any]]:
    """Every saved configuration, newest first."""
    with sessions() as session:
        rows = session.scalars(
            select(StrategyConfigRow).order_by(StrategyConfigRow.created_at.desc())
        ).all()
        return [
            {
                "id": r.id,
                "name": r.name,
                "strategy": r.strategy,
                "params": dict(r.params),
                "config_hash": r.config_hash,
                "created_at": r.created_at,
            }
            for r in rows
        ]
