"""Where a Bayesian search keeps its Optuna study: beside the workstation's database."""

from __future__ import annotations

from sqlalchemy.engine import make_url


def optuna_storage(database_url: str) -> str | None:
    """Where Optuna keeps studies: a SQLite file beside the workstation's own database.

    Optuna manages its schema with its own Alembic version table, which would collide with
    the workstation's in one database; other back-ends keep studies in memory for now.

    Parameters
    ----------
    database_url : str
        The workstation's SQLAlchemy URL.

    Returns
    -------
    str or None
        ``sqlite:///<database>-optuna.db`` for a SQLite file; None (in memory) otherwise.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return f"sqlite:///{url.database.removesuffix('.db')}-optuna.db"
