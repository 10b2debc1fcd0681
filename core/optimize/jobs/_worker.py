"""The worker process: ``python -m core optimize-worker --job ID``, started detached."""

from __future__ import annotations

from pathlib import Path

from core._processes import spawn_core


def start_worker(job_id: str, database_url: str, *, log_dir: Path | str | None = None) -> int:
    """Launch the worker of job ``job_id`` detached.

    Parameters
    ----------
    job_id : str
        The job the worker runs.
    database_url : str
        The database it reads the job from and writes it to (passed in its environment,
        not on its command line, so no password shows in a process list).
    log_dir : path, optional
        Where its standard error goes (``optimize-<job>.log``); none: discarded.

    Returns
    -------
    int
        The worker's process id.
    """
    log = None if log_dir is None else Path(log_dir) / f"optimize-{job_id}.log"
    return spawn_core(["optimize-worker", "--job", job_id], log, database_url=database_url)
