"""Settings read from the environment (prefix ``WORKSTATION_``) or passed explicitly."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"
BUNDLED_MARKET_DIR = DATA_DIR / "market"


def default_database_url() -> str:
    """The SQLite file under ``data/`` used when no database URL is configured."""
    return f"sqlite:///{DATA_DIR / 'workstation.db'}"


class Settings(BaseSettings):
    """Where the workstation keeps its state.

    ``WORKSTATION_DATABASE_URL`` selects the database (any SQLAlchemy URL; a SQLite
    file under ``data/`` by default, PostgreSQL for teams).
    """

    model_config = SettingsConfigDict(env_prefix="WORKSTATION_", extra="ignore", frozen=True)

    database_url: str = Field(default_factory=default_database_url)
    seed_demo: bool = Field(default=True, description="Create the demo portfolio on first start.")
    allow_network: bool = Field(
        default=False, description="Let the optional yfinance adapter fetch unknown symbols."
    )
    models_dir: Path = Field(
        default=DATA_DIR / "models",
        description="Where trained models' artifacts are written (WORKSTATION_MODELS_DIR).",
    )
    dask_schedulers: list[str] = Field(
        default_factory=list,
        description="Dask scheduler addresses the Optimize page may offer (JSON list in "
        "WORKSTATION_DASK_SCHEDULERS); a scheduler runs pickled code, so only trusted ones.",
    )
